//! `--retries` and `--repeat`: a case run more than once, and its runs
//! folded into one verdict (`docs/report-format.md`, Retries and repeats).
//!
//! Retries rerun a case that ended `fail`, `timeout` or `target-error`:
//! what a target's bad moment looks like. Not retried: `pass`; `unsupported`
//! and `skipped`, which nothing in a rerun would change; `harness-error`,
//! the harness's own fault, which a retry must not hide; and `non-strict`:
//! it does not count against a target, so a retry that passed would turn a
//! result that keeps the claim into `flaky`, which breaks it: more retries
//! must never make a target look worse. A case that fails and then passes
//! is `flaky`, never `pass`: retries tell flaky from failing, they do not
//! let either through the gate.
//!
//! Repeat runs every case N times, whatever its verdict, and calls any
//! difference between the runs `flaky`: a stability mode, where instability
//! is the finding. The two are exclusive (`main.rs` rejects both at once):
//! retries of repeated runs would hide the differences repeat looks for.

use super::event::{EventSink, RunEvent};
use super::interrupt::Interrupt;
use crate::report::model::{AttemptReport, CaseReport, Verdict};
use tokio::time::Instant;

/// How many times a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reruns {
    /// Once.
    #[default]
    Once,
    /// Up to this many more times while it ends `fail`, `timeout` or
    /// `target-error` (`--retries N`).
    Retries(u32),
    /// This many times in all (`--repeat N`).
    Repeat(u32),
}

impl Reruns {
    /// The most runs a case gets.
    pub fn most(self) -> u32 {
        match self {
            Reruns::Once => 1,
            Reruns::Retries(n) => n.saturating_add(1),
            Reruns::Repeat(n) => n.max(1),
        }
    }
}

/// One run of a case.
pub(crate) struct Run {
    pub report: CaseReport,
    /// The cell's name as the events give it, once the case was announced
    /// (`CaseStarted`); `None` for a case that never got that far.
    pub cell: Option<String>,
    /// Whether the test's steps ran. A case that did not run (skipped, no
    /// mechanism, undeclared feature, unusable target) would end the same
    /// way every time, so it is never run again.
    pub ran: bool,
}

impl Run {
    /// A run the harness itself ended (a panic, a signal): it counts as run,
    /// so a repeat goes on, and its verdict stops retries.
    pub fn harness(report: CaseReport) -> Self {
        Run {
            report,
            cell: None,
            ran: true,
        }
    }
}

/// Runs one case as often as `reruns` says, `once(attempt)` being one run
/// (attempt from 0), and folds the runs into its report. No run starts once
/// `interrupt` fired (before the first: `not_started`), nor a rerun once the
/// run's deadline passed (it would only end `timeout`). Reruns are
/// announced (`CaseRerun`), the case's end once (`CaseFinished`).
pub(crate) async fn run_case<F, Fut>(
    reruns: Reruns,
    interrupt: &Interrupt,
    run_deadline: Option<Instant>,
    events: &dyn EventSink,
    mut once: F,
    not_started: impl FnOnce(&str) -> CaseReport,
) -> CaseReport
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Run>,
{
    let mut runs: Vec<Run> = Vec::new();
    while again(reruns, &runs) {
        if let Some(sig) = interrupt.fired() {
            if runs.is_empty() {
                return not_started(sig);
            }
            break;
        }
        if let Some(last) = runs.last() {
            if run_deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            events.event(RunEvent::CaseRerun {
                cell: runs
                    .iter()
                    .rev()
                    .find_map(|r| r.cell.clone())
                    .unwrap_or_default(),
                case: Box::new(last.report.clone()),
                attempt: runs.len() as u32 + 1,
                of: reruns.most(),
            });
        }
        runs.push(once(runs.len()).await);
    }
    let cell = runs.iter().rev().find_map(|r| r.cell.clone());
    let mut reports = runs.into_iter().map(|r| r.report);
    let Some(first) = reports.next() else {
        // `again` always allows a first run; only a signal comes first.
        return not_started(interrupt.fired().unwrap_or("a signal"));
    };
    let report = fold(reruns, first, reports.collect());
    if let Some(cell) = cell {
        events.event(RunEvent::CaseFinished {
            cell,
            case: Box::new(report.clone()),
        });
    }
    report
}

/// Whether a retry may turn this verdict around (the module's doc says why
/// the others are not retried).
pub(crate) fn retryable(verdict: Verdict) -> bool {
    match verdict {
        Verdict::Fail | Verdict::Timeout | Verdict::TargetError => true,
        Verdict::Pass
        | Verdict::Flaky
        | Verdict::NonStrict
        | Verdict::Unsupported
        | Verdict::Skipped
        | Verdict::HarnessError => false,
    }
}

/// Whether the case runs (again) after `runs`: always a first time, then
/// while there is room, the last run ran its steps, and the mode wants it.
pub(crate) fn again(reruns: Reruns, runs: &[Run]) -> bool {
    let Some(last) = runs.last() else {
        return true;
    };
    let room = (runs.len() as u64) < u64::from(reruns.most());
    room && last.ran
        && match reruns {
            Reruns::Once => false,
            Reruns::Retries(_) => retryable(last.report.verdict),
            Reruns::Repeat(_) => true,
        }
}

/// The case's report from its runs, `first` and then `more`: a single run's
/// report is left as it is; several are recorded in
/// [`CaseReport::attempts`] and the case's fields come from the run that
/// decided the verdict.
pub(crate) fn fold(reruns: Reruns, first: CaseReport, more: Vec<CaseReport>) -> CaseReport {
    if more.is_empty() {
        return first;
    }
    let mut runs = more;
    runs.insert(0, first);
    let attempts: Vec<AttemptReport> = runs
        .iter()
        .map(|r| AttemptReport {
            verdict: r.verdict,
            reason: r.reason.clone(),
            duration_ms: r.duration_ms,
            wire: r.wire.clone(),
        })
        .collect();
    let total_ms = runs.iter().map(|r| r.duration_ms).sum();
    let verdicts: Vec<&str> = attempts.iter().map(|a| a.verdict.as_str()).collect();
    let verdicts = verdicts.join(", ");
    let mut report = match reruns {
        Reruns::Repeat(_) => fold_repeat(runs, &verdicts),
        Reruns::Once | Reruns::Retries(_) => fold_retries(reruns.most(), runs, &verdicts),
    };
    report.duration_ms = total_ms;
    report.attempts = attempts;
    report
}

/// Runs stop at the first that is not retryable: when that one did not go
/// wrong, the case is `flaky`, decided by its first run (which failed);
/// otherwise the last run's verdict stands, saying every run failed.
/// `runs` holds at least two.
fn fold_retries(most: u32, mut runs: Vec<CaseReport>, verdicts: &str) -> CaseReport {
    let n = runs.len();
    let last = runs.remove(n - 1);
    let settled = match last.verdict {
        Verdict::Pass | Verdict::NonStrict | Verdict::Unsupported | Verdict::Flaky => false,
        Verdict::Fail
        | Verdict::Timeout
        | Verdict::TargetError
        | Verdict::HarnessError
        | Verdict::Skipped => true,
    };
    if settled {
        let mut report = last;
        let why = report.reason.take().unwrap_or_default();
        report.reason = Some(format!("{why} ({n} attempts: {verdicts})"));
        return report;
    }
    let outcome = match last.verdict {
        Verdict::Pass => "passed".to_owned(),
        other => other.as_str().to_owned(),
    };
    let mut first = runs.swap_remove(0);
    first.reason = Some(format!(
        "{outcome} on attempt {n} of {most}; attempt 1: {}: {}",
        first.verdict,
        first.reason.as_deref().unwrap_or("(no reason given)")
    ));
    first.verdict = Verdict::Flaky;
    first
}

/// All runs alike: the verdict stands (the last run's report). A harness
/// error in any run: that, since the run told nothing. Otherwise `flaky`,
/// decided by the first run that did not pass. `runs` holds at least two.
fn fold_repeat(mut runs: Vec<CaseReport>, verdicts: &str) -> CaseReport {
    let n = runs.len();
    let first = runs[0].verdict;
    if runs.iter().all(|r| r.verdict == first) {
        return runs.swap_remove(n - 1);
    }
    if let Some(at) = runs.iter().position(|r| r.verdict == Verdict::HarnessError) {
        let mut report = runs.swap_remove(at);
        let why = report.reason.take().unwrap_or_default();
        report.reason = Some(format!("{why} (runs: {verdicts})"));
        return report;
    }
    let at = runs
        .iter()
        .position(|r| r.verdict != Verdict::Pass)
        .unwrap_or(0);
    let mut report = runs.swap_remove(at);
    report.reason = Some(format!(
        "verdicts differ over {n} runs: {verdicts}; run {}: {}: {}",
        at + 1,
        report.verdict,
        report.reason.as_deref().unwrap_or("(no reason given)")
    ));
    report.verdict = Verdict::Flaky;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(verdict: Verdict, reason: &str, ms: u64) -> CaseReport {
        CaseReport {
            feature: "f".into(),
            test: "t".into(),
            level: "MUST".into(),
            verdict,
            reason: (verdict != Verdict::Pass).then(|| reason.to_owned()),
            duration_ms: ms,
            steps_run: 1,
            failed_step: None,
            blame: Some(format!("blamed for {reason}")),
            expectation: None,
            wire: Some(format!("wire/{reason}.jsonl")),
            control: None,
            logs: Vec::new(),
            reproduce: None,
            attempts: Vec::new(),
        }
    }

    fn run(verdict: Verdict, ran: bool) -> Run {
        Run {
            report: case(verdict, "x", 1),
            cell: None,
            ran,
        }
    }

    #[test]
    fn retries_go_on_only_after_a_retryable_verdict_that_ran() {
        let retries = Reruns::Retries(2);
        assert!(again(retries, &[run(Verdict::Fail, true)]));
        assert!(again(retries, &[run(Verdict::Timeout, true)]));
        assert!(again(retries, &[run(Verdict::TargetError, true)]));
        for v in [
            Verdict::Pass,
            Verdict::NonStrict,
            Verdict::Unsupported,
            Verdict::Skipped,
            Verdict::HarnessError,
        ] {
            assert!(!again(retries, &[run(v, true)]), "{v}");
        }
        // An unusable target is target-error without running: no retry.
        assert!(!again(retries, &[run(Verdict::TargetError, false)]));
        let three = [
            run(Verdict::Fail, true),
            run(Verdict::Fail, true),
            run(Verdict::Fail, true),
        ];
        assert!(!again(retries, &three));
        assert!(!again(Reruns::Once, &three[..1]));
    }

    #[test]
    fn repeat_runs_every_case_that_ran_n_times() {
        let repeat = Reruns::Repeat(3);
        assert!(again(repeat, &[run(Verdict::Pass, true)]));
        assert!(again(
            repeat,
            &[run(Verdict::Pass, true), run(Verdict::Fail, true)]
        ));
        assert!(!again(
            repeat,
            &[
                run(Verdict::Pass, true),
                run(Verdict::Pass, true),
                run(Verdict::Pass, true)
            ]
        ));
        assert!(!again(repeat, &[run(Verdict::Skipped, false)]));
    }

    #[test]
    fn a_pass_after_a_failure_is_flaky_and_names_the_first_failure() {
        let r = fold(
            Reruns::Retries(2),
            case(Verdict::Fail, "step 3 (send): boom", 10),
            vec![case(Verdict::Pass, "", 5)],
        );
        assert_eq!(r.verdict, Verdict::Flaky);
        assert_eq!(
            r.reason.as_deref(),
            Some("passed on attempt 2 of 3; attempt 1: fail: step 3 (send): boom")
        );
        assert_eq!(r.duration_ms, 15);
        assert_eq!(r.wire.as_deref(), Some("wire/step 3 (send): boom.jsonl"));
        let verdicts: Vec<Verdict> = r.attempts.iter().map(|a| a.verdict).collect();
        assert_eq!(verdicts, [Verdict::Fail, Verdict::Pass]);
        assert_eq!(r.attempts[1].duration_ms, 5);
    }

    #[test]
    fn every_attempt_failing_keeps_the_last_verdict_and_counts_them() {
        let r = fold(
            Reruns::Retries(1),
            case(Verdict::Fail, "a", 1),
            vec![case(Verdict::Timeout, "b", 1)],
        );
        assert_eq!(r.verdict, Verdict::Timeout);
        assert_eq!(r.reason.as_deref(), Some("b (2 attempts: fail, timeout)"));
        assert_eq!(r.attempts.len(), 2);
    }

    #[test]
    fn one_run_is_left_as_it_is() {
        let r = fold(Reruns::Retries(3), case(Verdict::Fail, "a", 1), Vec::new());
        assert_eq!(r, case(Verdict::Fail, "a", 1));
    }

    #[test]
    fn repeat_calls_any_difference_flaky_and_agreement_that_verdict() {
        let r = fold(
            Reruns::Repeat(3),
            case(Verdict::Pass, "", 1),
            vec![case(Verdict::Fail, "no", 1), case(Verdict::Pass, "", 1)],
        );
        assert_eq!(r.verdict, Verdict::Flaky);
        assert_eq!(
            r.reason.as_deref(),
            Some("verdicts differ over 3 runs: pass, fail, pass; run 2: fail: no")
        );
        assert_eq!(r.attempts.len(), 3);

        let same = fold(
            Reruns::Repeat(2),
            case(Verdict::Fail, "a", 1),
            vec![case(Verdict::Fail, "b", 1)],
        );
        assert_eq!(same.verdict, Verdict::Fail);
        assert_eq!(same.reason.as_deref(), Some("b"));
        assert_eq!(same.attempts.len(), 2);

        let broken = fold(
            Reruns::Repeat(2),
            case(Verdict::Pass, "", 1),
            vec![case(Verdict::HarnessError, "bug", 1)],
        );
        assert_eq!(broken.verdict, Verdict::HarnessError);
        assert_eq!(
            broken.reason.as_deref(),
            Some("bug (runs: pass, harness-error)")
        );
    }
}
