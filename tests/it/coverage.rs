//! `mimi-interop coverage` and `docs/coverage.md`: the requirement table in
//! the document is the command's output for the shipped suites.

use mimi_interop::suite::{self, coverage};
use std::path::Path;

/// The region of `docs/coverage.md` this test keeps current.
const REGION: &str = "requirements";

/// Regenerate with `UPDATE_COVERAGE=1 cargo test coverage`.
#[test]
fn coverage_doc_table_is_current() {
    let suites = suite::load_dir(Path::new("suites")).expect("shipped suites load");
    let fresh = coverage::markdown(&suites);
    let path = Path::new("docs/coverage.md");
    let doc = std::fs::read_to_string(path).expect("docs/coverage.md exists");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        let updated = coverage::splice(&doc, REGION, &fresh).expect("markers");
        std::fs::write(path, updated).unwrap();
    }
    let doc = std::fs::read_to_string(path).unwrap();
    let on_disk = coverage::region(&doc, REGION).expect("markers");
    assert!(
        on_disk == fresh,
        "docs/coverage.md is stale: run `UPDATE_COVERAGE=1 cargo test coverage`"
    );
}

/// A shipped suite is named after the requirement it covers, so `--feature`,
/// reports and the coverage table speak of one feature by one id.
#[test]
fn shipped_suites_use_their_requirements_ids() {
    let suites = suite::load_dir(Path::new("suites")).expect("shipped suites load");
    let mut protocol = 0;
    for s in &suites {
        // Protocol suites test rules of the protocol drafts, not features
        // of the list: each cites its sections instead, test by test.
        if s.suite.set == mimi_interop::suite::model::FeatureSet::Protocol {
            protocol += s.suite.tests.len();
            assert!(
                s.suite.feature.starts_with("protocol-"),
                "{}",
                s.path.display()
            );
            assert!(
                s.suite.tests.iter().all(|t| !t.cites.is_empty()),
                "{}",
                s.path.display()
            );
            continue;
        }
        let f = coverage::feature_of(s)
            .unwrap_or_else(|| panic!("{} names no listed requirement", s.path.display()));
        assert_eq!(s.suite.feature, f.id, "{}", s.path.display());
    }
    assert!(protocol >= 25, "{protocol} protocol tests");
}

/// The binary prints exactly the library's table.
#[test]
fn coverage_command_prints_the_table() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mimi-interop"))
        .args(["coverage", "--suites", "suites"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let suites = suite::load_dir(Path::new("suites")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        coverage::markdown(&suites)
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_mimi-interop"))
        .args(["coverage", "--suites", "no/such/dir"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(mimi_interop::exit::BAD_INPUT));
}

/// `serve --quirk` refuses a name the registry does not know, listing the
/// known ones, before starting anything.
#[test]
fn serve_rejects_an_unknown_quirk() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mimi-interop"))
        .args(["serve", "--quirk", "skip-epoch-check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(mimi_interop::exit::BAD_INPUT));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown quirk `skip-epoch-check`; known quirks: message-id-draft07"),
        "{err}"
    );
}

/// `docs/targets.md` lists every quirk of the registry, generated.
/// Regenerate with `UPDATE_QUIRKS=1 cargo test quirk_table`.
#[test]
fn quirk_table_in_targets_doc_is_current() {
    let fresh = mimi_interop::reference::quirks::Quirk::markdown_table();
    let path = Path::new("docs/targets.md");
    let doc = std::fs::read_to_string(path).expect("docs/targets.md exists");
    if std::env::var_os("UPDATE_QUIRKS").is_some() {
        let updated = coverage::splice(&doc, "quirks", &fresh).expect("markers");
        std::fs::write(path, updated).unwrap();
    }
    let doc = std::fs::read_to_string(path).unwrap();
    let on_disk = coverage::region(&doc, "quirks").expect("markers");
    assert!(
        on_disk == fresh,
        "docs/targets.md (quirks) is stale: run `UPDATE_QUIRKS=1 cargo test quirk_table`"
    );
    // Every quirk a targets file may name has its row.
    let names = mimi_interop::reference::quirks::Quirk::names();
    assert_eq!(fresh.lines().count(), 2 + names.len(), "{fresh}");
    for name in names {
        assert!(fresh.contains(&format!("| `{name}` |")), "{name} missing");
    }
}
