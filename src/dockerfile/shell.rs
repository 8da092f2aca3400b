//! Shell word-splitting for `RUN` commands (filled in by the rules work).
