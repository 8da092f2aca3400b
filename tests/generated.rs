//! Generated docs are up to date: the README's rule table, hadolint migration table and the
//! table of what `sandlint run --compose` does with each service key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "integration tests"
)]

/// One test for both tables: with `SANDLINT_UPDATE_README=1` each rewrites the README, and two
/// tests would race on the file.
#[test]
fn readme_rule_table_is_current() {
    check_readme_section("rules", &sandlint::commands::rules::markdown_table());
    check_readme_section("hadolint", &sandlint::commands::rules::hadolint_table());
    #[cfg(feature = "sandbox")]
    check_readme_section(
        "run-keys",
        &sandlint::sandbox::service_keys::markdown_table(),
    );
}

/// The README text between `<!-- begin NAME -->` and `<!-- end NAME -->` is `want`; with
/// `SANDLINT_UPDATE_README=1` it is rewritten instead.
fn check_readme_section(name: &str, want: &str) {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let begin = format!("<!-- begin {name} -->\n");
    let end = format!("<!-- end {name} -->");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("README lacks the `{begin}` marker"))
        + begin.len();
    let stop = readme
        .find(&end)
        .unwrap_or_else(|| panic!("README lacks the `{end}` marker"));
    if readme[start..stop] == *want {
        return;
    }
    if std::env::var("SANDLINT_UPDATE_README").is_ok_and(|v| v == "1") {
        let updated = format!("{}{want}{}", &readme[..start], &readme[stop..]);
        std::fs::write("README.md", updated).unwrap();
        return;
    }
    panic!(
        "README {name} table is stale; regenerate it with\n    SANDLINT_UPDATE_README=1 cargo test --test generated\nExpected:\n{want}"
    );
}
