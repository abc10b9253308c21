//! Integration tests: `diff` between two runs. The old run is the report
//! fixture; the new one is the same run with a few cases changed by hand, so
//! each list of the diff has a known content.

use mimi_interop::report::diff::{DiffError, diff, render_markdown, render_text};
use mimi_interop::report::json;
use mimi_interop::report::model::{RunReport, Verdict};
use std::process::Command;

const SAMPLE: &str = include_str!("../../fixtures/reports/sample.json");

fn sample() -> RunReport {
    json::parse(SAMPLE).expect("the sample report parses")
}

fn case_mut<'a>(
    r: &'a mut RunReport,
    a: &str,
    b: &str,
    test: &str,
) -> &'a mut mimi_interop::report::model::CaseReport {
    r.cells
        .iter_mut()
        .find(|c| c.a == a && c.b == b)
        .and_then(|c| c.cases.iter_mut().find(|k| k.test == test))
        .unwrap_or_else(|| panic!("{a}→{b} {test} is in the sample"))
}

/// The sample with: one pass turned fail (regression), one fail turned pass
/// (fix), a timeout whose reason changed, a skipped case now passing (a
/// change, not a fix), one case removed and one added.
fn changed() -> RunReport {
    let mut new = sample();
    new.run_id = "20261203T120000Z-bbbbbb".into();
    let regressed = case_mut(&mut new, "ref", "ref", "kick");
    regressed.verdict = Verdict::Fail;
    regressed.reason = Some("bob still listed after the kick".into());
    let fixed = case_mut(&mut new, "ref", "acme", "markdown-body");
    fixed.verdict = Verdict::Pass;
    fixed.reason = None;
    fixed.failed_step = None;
    case_mut(&mut new, "ref", "acme", "kick").reason =
        Some("no membership event within 9 s".into());
    let unskipped = case_mut(&mut new, "acme", "ref", "kick");
    unskipped.verdict = Verdict::Pass;
    unskipped.reason = None;
    let cell = new
        .cells
        .iter_mut()
        .find(|c| c.a == "acme" && c.b == "acme")
        .expect("acme→acme");
    let mut added = cell.cases[0].clone();
    added.test = "emoji-only".into();
    cell.cases.push(added);
    cell.cases.retain(|k| k.test != "invite-and-join");
    new
}

#[test]
fn a_run_compared_with_itself_has_no_change() {
    let d = diff(&sample(), &sample()).expect("same suites");
    assert!(!d.has_regressions());
    assert!(d.fixes.is_empty() && d.changed.is_empty());
    assert!(d.added.is_empty() && d.removed.is_empty());
    assert_eq!(d.unchanged, 21);
}

/// Flaky sits between the verdicts that never failed and those that always
/// do: pass→flaky is a regression, fail→flaky a fix.
#[test]
fn flaky_is_worse_than_pass_and_better_than_fail() {
    let mut new = sample();
    case_mut(&mut new, "ref", "ref", "kick").verdict = Verdict::Flaky;
    case_mut(&mut new, "ref", "acme", "markdown-body").verdict = Verdict::Flaky;
    let d = diff(&sample(), &new).expect("same suites");
    let names = |list: &[mimi_interop::report::diff::Change]| -> Vec<String> {
        list.iter().map(|c| c.case.to_string()).collect()
    };
    assert_eq!(names(&d.regressions), ["ref→ref membership/kick"]);
    assert_eq!(names(&d.fixes), ["ref→acme rich-text/markdown-body"]);
}

#[test]
fn each_kind_of_change_lands_in_its_list() {
    let d = diff(&sample(), &changed()).expect("same suites");
    let names = |list: &[mimi_interop::report::diff::Change]| -> Vec<String> {
        list.iter().map(|c| c.case.to_string()).collect()
    };
    assert_eq!(names(&d.regressions), ["ref→ref membership/kick"]);
    assert_eq!(names(&d.fixes), ["ref→acme rich-text/markdown-body"]);
    assert_eq!(
        names(&d.changed),
        ["ref→acme membership/kick", "acme→ref membership/kick"]
    );
    assert_eq!(d.added.len(), 1);
    assert_eq!(
        d.added[0].case.to_string(),
        "acme→acme rich-text/emoji-only"
    );
    assert_eq!(d.removed.len(), 1);
    assert_eq!(
        d.removed[0].case.to_string(),
        "acme→acme membership/invite-and-join"
    );
    assert_eq!(d.unchanged, 21 - 5);
    assert!(d.has_regressions());
}

#[test]
fn a_changed_suite_file_is_refused() {
    let mut new = sample();
    new.suites[1].sha256 = "0".repeat(64);
    match diff(&sample(), &new) {
        Err(DiffError::SuiteChanged { feature, .. }) => assert_eq!(feature, "membership"),
        other => panic!("expected SuiteChanged, got {other:?}"),
    }
}

#[test]
fn snapshot_diff_text_and_markdown() {
    let d = diff(&sample(), &changed()).expect("same suites");
    insta::assert_snapshot!("diff_text", render_text(&d));
    insta::assert_snapshot!("diff_markdown", render_markdown(&d));
}

fn write(dir: &std::path::Path, name: &str, report: &RunReport) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json::render(report)).expect("write report");
    path
}

#[test]
fn cli_exit_codes_regression_none_and_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = write(dir.path(), "old.json", &sample());
    let new = write(dir.path(), "new.json", &changed());
    let bin = env!("CARGO_BIN_EXE_mimi-interop");

    let out = Command::new(bin)
        .args(["diff"])
        .arg(&old)
        .arg(&new)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "a regression exits 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("regressions:\n  ref→ref membership/kick: pass → fail"),
        "{text}"
    );

    let mut fixed = sample();
    let case = case_mut(&mut fixed, "ref", "acme", "markdown-body");
    case.verdict = Verdict::Pass;
    case.reason = None;
    let fixed = write(dir.path(), "fixed.json", &fixed);
    let out = Command::new(bin)
        .args(["diff", "--markdown"])
        .arg(&old)
        .arg(&fixed)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "only fixes exit 0");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("## Changes since run"));

    let other = SAMPLE.replacen("\"format_version\": 1", "\"format_version\": 99", 1);
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other).expect("write");
    let out = Command::new(bin)
        .args(["diff"])
        .arg(&old)
        .arg(&other_path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "another format version exits 2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("format version 99"));

    let mut changed_suite = sample();
    changed_suite.suites[0].sha256 = "f".repeat(64);
    let cs = write(dir.path(), "cs.json", &changed_suite);
    let out = Command::new(bin)
        .args(["diff"])
        .arg(&old)
        .arg(&cs)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "another suite exits 2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("suite rich-text differs"));
}
