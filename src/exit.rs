//! Process exit codes: the one place they are defined (README lists them).

use crate::report::model::{RunReport, Standing, Verdict};

/// Every target's claim conformant: no case `fail`, `flaky`, `timeout` or an
/// error (nor `non-strict` under `--strict`).
pub const CONFORMANT: i32 = 0;
/// A case failed, was flaky or timed out, a target's claim is not conformant, or
/// (`--strict`) a SHOULD was missed.
pub const FAILED: i32 = 1;
/// Bad usage, or a suites or targets file that does not load.
pub const BAD_INPUT: i32 = 2;
/// A target could not be reached or misbehaved, or the harness failed.
pub const TARGET_OR_HARNESS: i32 = 3;

/// The run was stopped by SIGINT (128 + 2, as shells report it).
pub const INTERRUPTED_SIGINT: i32 = 130;
/// The run was stopped by SIGTERM (128 + 15).
pub const INTERRUPTED_SIGTERM: i32 = 143;

/// The exit code of a run a signal stopped (`RunReport::interrupted`).
pub fn for_signal(name: &str) -> i32 {
    match name {
        "SIGTERM" => INTERRUPTED_SIGTERM,
        _ => INTERRUPTED_SIGINT,
    }
}

/// The exit code a finished run ends with: trouble with a target or the
/// harness outranks failures, since it means some cases told nothing.
///
/// With `--expectations`, only unexpected outcomes count: a case whose
/// verdict is the expected one is passed over, and one expected not to pass
/// that passed ("fixed") fails the run unless `--allow-fixed`. The claims
/// still say what the cases say; the gate looks past what the vendor listed.
pub fn for_report(report: &RunReport) -> i32 {
    let mut code = CONFORMANT;
    let allow_fixed = report.expectations.as_ref().is_some_and(|e| e.allow_fixed);
    for case in report.cells.iter().flat_map(|c| &c.cases) {
        match case.expectation.as_ref().map(|e| e.standing) {
            Some(Standing::Expected) => continue,
            Some(Standing::Fixed) if !allow_fixed => code = FAILED,
            Some(Standing::Fixed | Standing::Unexpected) | None => {}
        }
        match case.verdict {
            Verdict::TargetError | Verdict::HarnessError => return TARGET_OR_HARNESS,
            // Flaky is not a pass: retries tell it from a steady failure,
            // they do not let it through the gate.
            Verdict::Fail | Verdict::Flaky | Verdict::Timeout => code = FAILED,
            Verdict::NonStrict if report.strict => code = FAILED,
            Verdict::Pass | Verdict::NonStrict | Verdict::Unsupported | Verdict::Skipped => {}
        }
    }
    if report.targets.iter().any(|t| t.error.is_some()) {
        return TARGET_OR_HARNESS;
    }
    // A claim fails only through cases, which the loop above judged; with
    // expectations, those it passed over must not fail the run here.
    if report.expectations.is_none() && !report.claims_conformant() {
        code = FAILED;
    }
    code
}
