//! Generated docs are up to date: the README's rule table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

#[test]
fn readme_rule_table_is_current() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let begin = "<!-- begin rules -->\n";
    let end = "<!-- end rules -->";
    let start = readme
        .find(begin)
        .expect("README lacks the begin-rules marker")
        + begin.len();
    let stop = readme.find(end).expect("README lacks the end-rules marker");
    let want = sandlint::commands::rules::markdown_table();
    if readme[start..stop] == want {
        return;
    }
    if std::env::var("SANDLINT_UPDATE_README").is_ok_and(|v| v == "1") {
        let updated = format!("{}{want}{}", &readme[..start], &readme[stop..]);
        std::fs::write("README.md", updated).unwrap();
        return;
    }
    panic!(
        "README rule table is stale; regenerate it with\n    SANDLINT_UPDATE_README=1 cargo test --test generated\nExpected:\n{want}"
    );
}
