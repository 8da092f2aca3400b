//! The Dockerfile rules' fixes on the shapes where an edit is easy to get wrong: CRLF line
//! endings, the `# escape=` directive, parser directives, line continuations, heredocs,
//! `ONBUILD` triggers, indentation, lower-case files. Each case is the text after every fix of
//! one rule (in rounds), or the text unchanged where no exact edit exists.

use crate::fix::Applicability::{Safe, Unsafe};
use crate::rules::dockerfile::test_util::fixed;

#[track_caller]
fn check(rule: &str, text: &str, want: &str) {
    assert_eq!(fixed(rule, text).0, want, "{rule} on {text:?}");
}

#[test]
fn pipefail_shell_keeps_line_endings_indentation_and_directives() {
    const R: &str = "pipe-without-pipefail";
    check(
        R,
        "FROM debian:12\r\nRUN a | b\r\nRUN c | d\r\n",
        "FROM debian:12\r\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\r\nRUN a | b\r\nRUN c | d\r\n",
    );
    check(
        R,
        "# escape=`\nFROM alpine:3.20\n  RUN a `\n    | b\n",
        "# escape=`\nFROM alpine:3.20\n  SHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\n  RUN a `\n    | b\n",
    );
    check(
        R,
        "from debian:12 as base\nrun a | b\nfrom base\nrun c | d\n",
        "from debian:12 as base\nshell [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nrun a | b\nfrom base\nrun c | d\n",
    );
    check(
        R,
        "FROM debian:12\nRUN <<EOF\na | b\nEOF\n",
        "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN <<EOF\na | b\nEOF\n",
    );
    assert_eq!(fixed(R, "FROM debian:12\nRUN a | b\n").1, [Unsafe]);
    // no exact fix: a new shell, a #! script, an ONBUILD trigger, a SHELL in force
    for text in [
        "FROM debian:12\nRUN bash -c 'a | b'\n",
        "FROM debian:12\nRUN <<EOF\n#!/bin/bash\na | b\nEOF\n",
        "FROM debian:12\nONBUILD RUN a | b\n",
        "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nRUN a | b\n",
    ] {
        check(R, text, text);
    }
}

#[test]
fn add_becomes_copy_in_the_keyword_case() {
    const R: &str = "add-instead-of-copy";
    check(
        R,
        "from alpine:3.20\nadd --chown=1:1 app.py /srv/\nONBUILD ADD conf/ /etc/app/\n",
        "from alpine:3.20\ncopy --chown=1:1 app.py /srv/\nONBUILD COPY conf/ /etc/app/\n",
    );
    assert_eq!(fixed(R, "FROM a:1\nADD conf/ . /etc/\n").1, [Safe]);
    assert_eq!(fixed(R, "FROM a:1\nADD conf/ app.bin /etc/\n").1, [Unsafe]);
    // a flag COPY does not take
    let text = "FROM a:1\nADD --unpack=false app.py /srv/\n";
    check(R, text, text);
}

#[test]
fn maintainer_and_legacy_forms_only_when_exact() {
    check(
        "maintainer-deprecated",
        "# syntax=docker/dockerfile:1\r\nFROM a:1\r\nmaintainer Jo <jo@example.com>  \r\n",
        "# syntax=docker/dockerfile:1\r\nFROM a:1\r\nlabel org.opencontainers.image.authors=\"Jo <jo@example.com>\"  \r\n",
    );
    for text in [
        "FROM a:1\nMAINTAINER Jo \\\n  Doe\n",
        "FROM a:1\nMAINTAINER \"Jo\"\n",
        "FROM a:1\nMAINTAINER $AUTHOR\n",
    ] {
        check("maintainer-deprecated", text, text);
    }
    check(
        "legacy-key-value-format",
        "FROM a:1\nENV PATH\t/x:$PATH\nLABEL version \"1.0\"\n",
        "FROM a:1\nENV PATH=/x:$PATH\nLABEL version=\"1.0\"\n",
    );
    for text in ["FROM a:1\nENV A hello world\n", "FROM a:1\nENV A \\\n  b\n"] {
        check("legacy-key-value-format", text, text);
    }
}

#[test]
fn casing_fixes() {
    check(
        "stage-name-casing",
        "FROM a:1 AS Build\nFROM b:1\nCOPY --from=Build /x /x\nONBUILD COPY --from=Build /y /y\nFROM Build\n",
        "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /x /x\nONBUILD COPY --from=build /y /y\nFROM build\n",
    );
    check(
        "from-as-casing",
        "FROM a:1 as one\nfrom b:1 AS two\n",
        "FROM a:1 AS one\nfrom b:1 as two\n",
    );
    check(
        "consistent-instruction-casing",
        "FROM a:1\nrun x\nRUN y\nCopy . .\n",
        "FROM a:1\nRUN x\nRUN y\nCOPY . .\n",
    );
    check(
        "expose-proto-casing",
        "FROM a:1\nEXPOSE 80/TCP \"53/UDP\" 8080\n",
        "FROM a:1\nEXPOSE 80/tcp \"53/udp\" 8080\n",
    );
}

#[test]
fn cmd_exec_form_only_for_plain_words() {
    const R: &str = "json-args-recommended";
    check(
        R,
        "FROM a:1\nCMD  node server.js --port=8080  \n",
        "FROM a:1\nCMD  [\"node\", \"server.js\", \"--port=8080\"]  \n",
    );
    assert_eq!(fixed(R, "FROM a:1\nCMD x\n").1, [Unsafe]);
    for text in [
        "FROM a:1\nCMD node $APP\n",
        "FROM a:1\nCMD cd /srv && ./run\n",
        "FROM a:1\nCMD exec node x\n",
        "FROM a:1\nCMD node \\\n  x\n",
        "FROM a:1\nENTRYPOINT node x\n",
        "FROM a:1\nCMD A=1 node\n",
    ] {
        check(R, text, text);
    }
}

#[test]
fn deletions_keep_the_rest() {
    check(
        "multiple-instructions-disallowed",
        "FROM a:1\r\n# the old one\r\nCMD a \\\r\n  b\r\nCMD c\r\nCMD d\r\n",
        "FROM a:1\r\n# the old one\r\nCMD d\r\n",
    );
    check(
        "no-empty-continuation",
        "FROM a:1\nRUN a \\\n  # note\n\n \t\n  && b\nRUN c \\\r\n\r\n  d\r\n",
        "FROM a:1\nRUN a \\\n  # note\n  && b\nRUN c \\\r\n  d\r\n",
    );
    check(
        "no-empty-continuation",
        "# escape=`\nFROM a:1\nRUN a `\n\n  b\n",
        "# escape=`\nFROM a:1\nRUN a `\n  b\n",
    );
    check(
        "redundant-target-platform",
        "FROM --platform=${TARGETPLATFORM} \\\n  a:1 AS x\n",
        "FROM \\\n  a:1 AS x\n",
    );
}

#[test]
fn empty_continuation_with_comment_and_blank_lines() {
    check(
        "no-empty-continuation",
        "FROM a:1\nRUN a && \\\n    \n#   c\n    \n    b\n",
        "FROM a:1\nRUN a && \\\n#   c\n    b\n",
    );
}

#[test]
fn ports_and_run_flags() {
    check(
        "expose-invalid-format",
        "FROM a:1\nEXPOSE 8080:80/udp 127.0.0.1:53:53 443\n",
        "FROM a:1\nEXPOSE 80/udp 53 443\n",
    );
    let text = "FROM a:1\nEXPOSE \"8080:80\"\n";
    check("expose-invalid-format", text, text);
    check(
        "insecure-run-mode",
        "FROM a:1\nRUN --network=host --security=insecure \\\n  make\nONBUILD RUN --network=host x\n",
        "FROM a:1\nRUN \\\n  make\nONBUILD RUN x\n",
    );
    assert_eq!(
        fixed("insecure-run-mode", "FROM a:1\nRUN --network=host x\n").1,
        [Unsafe]
    );
}

#[test]
fn one_pipefail_shell_per_stage_family() {
    // b builds on a (offered), c on b (covered through b, which has no RUN), d is apart
    check(
        "pipe-without-pipefail",
        "FROM debian:12 AS a\nRUN x | y\nFROM a AS b\nENV K=v\nFROM b AS c\nRUN x | y\nFROM alpine:3 AS d\nRUN x | y\n",
        "FROM debian:12 AS a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN x | y\nFROM a AS b\nENV K=v\nFROM b AS c\nRUN x | y\nFROM alpine:3 AS d\nSHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\nRUN x | y\n",
    );
    // the parent's RUN needs none: the child is offered its own, built on a bash-less alpine
    check(
        "pipe-without-pipefail",
        "FROM alpine:3 AS a\nRUN x\nFROM a\nRUN x | y\n",
        "FROM alpine:3 AS a\nRUN x\nFROM a\nSHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\nRUN x | y\n",
    );
}
