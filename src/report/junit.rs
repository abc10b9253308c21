//! `junit.xml` for CI systems: one testsuite per cell (`a→b`), one testcase
//! per case (`feature/test`, classname = feature).
//!
//! Mapping: fail and timeout are `<failure>`, target and harness errors are
//! `<error>`, unsupported and skipped are `<skipped>`; non-strict is a
//! success (the run stays conformant) whose system-out says what SHOULD was
//! missed. The reason is the message; the step transcript is the element text.
//!
//! A case that ran more than once (`--retries`, `--repeat`) keeps its runs:
//! `flaky` is a `<failure type="flaky">` (it gates the run, so it must not
//! show green) with a `<flakyFailure>`/`<flakyError>` per run that did not
//! pass; any other non-pass verdict gets a `<rerunFailure>`/`<rerunError>`
//! per earlier run, the Surefire convention for reruns.
//! Every test case carries its artifacts and rerun command as properties;
//! the system-out of a case that fails the run repeats them, where CI
//! viewers show them.

use super::common::{expectation_note, transcript_text};
use super::model::{AttemptReport, CaseReport, RunReport, Verdict};
use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};
use std::time::Duration;

/// Why the JUnit report could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("could not serialize the JUnit report")]
pub struct RenderJunitError(#[from] quick_junit::SerializeError);

pub fn render(report: &RunReport) -> Result<String, RenderJunitError> {
    let strict = report.strict;
    let mut junit = Report::new(report.harness.name.as_str());
    junit.set_time(Duration::from_millis(report.duration_ms));
    for cell in &report.cells {
        let mut suite = TestSuite::new(cell.name());
        suite.set_time(Duration::from_millis(
            cell.cases.iter().map(|c| c.duration_ms).sum(),
        ));
        suite.add_properties([
            Property::new("run_id", report.run_id.as_str()),
            Property::new("started_at", report.started_at.as_str()),
            Property::new("a", cell.a.as_str()),
            Property::new("b", cell.b.as_str()),
        ]);
        for (side, name) in [("a", &cell.a), ("b", &cell.b)] {
            if let Some(target) = report.targets.iter().find(|t| &t.name == name) {
                let implementation = match (&target.implementation, &target.version) {
                    (Some(i), Some(v)) => format!("{i} {v}"),
                    (Some(i), None) => i.clone(),
                    (None, Some(v)) => v.clone(),
                    (None, None) => "unknown".to_owned(),
                };
                suite.add_property(Property::new(
                    format!("{side}.implementation"),
                    implementation,
                ));
            }
            if let Some(claim) = report.claims.iter().find(|c| &c.target == name) {
                suite.add_property(Property::new(format!("{side}.claim"), claim.summary()));
            }
        }
        suite.add_test_cases(cell.cases.iter().map(|c| test_case(c, strict)));
        junit.add_test_suite(suite);
    }
    Ok(junit.to_string()?)
}

fn test_case(case: &CaseReport, strict: bool) -> TestCase {
    let reason = case.reason.as_deref().unwrap_or("");
    let transcript = case.failed_step.as_ref().map(transcript_text);
    let non_success = |kind| {
        let mut status = TestCaseStatus::non_success(kind);
        status.set_type(case.verdict.as_str()).set_message(reason);
        if let Some(t) = &transcript {
            status.set_description(t.as_str());
        }
        status
    };
    let mut system_out = None;
    let status = match case.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::NonStrict => {
            let mut out = format!("non-strict (SHOULD not met): {reason}\n");
            if let Some(t) = &transcript {
                out.push_str(t);
            }
            system_out = Some(out);
            TestCaseStatus::success()
        }
        Verdict::Flaky => {
            let mut status = non_success(NonSuccessKind::Failure);
            status
                .set_rerun_kind(FlakyOrRerun::Flaky)
                .add_reruns(case.attempts.iter().filter_map(rerun));
            status
        }
        Verdict::Fail | Verdict::Timeout => {
            let mut status = non_success(NonSuccessKind::Failure);
            status.add_reruns(earlier(case).filter_map(rerun));
            status
        }
        Verdict::TargetError | Verdict::HarnessError => {
            let mut status = non_success(NonSuccessKind::Error);
            status.add_reruns(earlier(case).filter_map(rerun));
            status
        }
        Verdict::Unsupported | Verdict::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_type(case.verdict.as_str()).set_message(reason);
            if let Some(t) = &transcript {
                status.set_description(t.as_str());
            }
            status
        }
    };
    let mut test_case = TestCase::new(format!("{}/{}", case.feature, case.test), status);
    test_case
        .set_classname(case.feature.as_str())
        .set_time(Duration::from_millis(case.duration_ms));
    if !case.verdict.is_conformant(strict) {
        system_out
            .get_or_insert_with(String::new)
            .push_str(&where_to_look(case));
    }
    if let Some(out) = system_out.filter(|o| !o.is_empty()) {
        test_case.set_system_out(out);
    }
    if let Some(note) = expectation_note(case) {
        test_case.add_property(Property::new("expectation", note));
    }
    // The case's artifacts, relative to the run's folder.
    if let Some(wire) = &case.wire {
        test_case.add_property(Property::new("wire", wire.as_str()));
    }
    if let Some(control) = &case.control {
        test_case.add_property(Property::new("control", control.as_str()));
    }
    for log in &case.logs {
        test_case.add_property(Property::new("log", log.as_str()));
    }
    if let Some(cmd) = &case.reproduce {
        test_case.add_property(Property::new("reproduce", cmd.as_str()));
    }
    test_case
}

/// The runs before the last, which decided a verdict that is not `flaky`.
fn earlier(case: &CaseReport) -> impl Iterator<Item = &AttemptReport> {
    let n = case.attempts.len().saturating_sub(1);
    case.attempts.iter().take(n)
}

/// A run that did not pass as a JUnit rerun; `None` for one that passed
/// (JUnit has no element for it) or said nothing about the target.
fn rerun(attempt: &AttemptReport) -> Option<TestRerun> {
    let kind = match attempt.verdict {
        Verdict::Fail | Verdict::Timeout | Verdict::Flaky => NonSuccessKind::Failure,
        Verdict::TargetError | Verdict::HarnessError => NonSuccessKind::Error,
        Verdict::Pass | Verdict::NonStrict | Verdict::Unsupported | Verdict::Skipped => {
            return None;
        }
    };
    let mut rerun = TestRerun::new(kind);
    rerun
        .set_type(attempt.verdict.as_str())
        .set_message(attempt.reason.as_deref().unwrap_or(""))
        .set_time(Duration::from_millis(attempt.duration_ms));
    Some(rerun)
}

/// `artifacts: <folder>` and `rerun: <command>` lines, for what the case has.
fn where_to_look(case: &CaseReport) -> String {
    let mut out = String::new();
    if let Some(dir) = case.artifacts_dir() {
        out.push_str(&format!("artifacts: {dir}/ (in the run's report folder)\n"));
    }
    if let Some(cmd) = &case.reproduce {
        out.push_str(&format!("rerun: {cmd}\n"));
    }
    out
}
