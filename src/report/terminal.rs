//! Terminal output: live progress while a run works ([`Progress`]) and the
//! final [`summary`]. Colour and the progress bar only when stdout is a
//! terminal and `NO_COLOR` is unset; otherwise plain lines, fit for CI logs.

use super::common::{
    count, counts_phrase, expectation_note, fixed, non_pass, reruns_text, seconds,
};
use super::model::{CaseReport, RunReport, Verdict};
use crate::exit;
use crate::run::event::{EventSink, RunEvent};
use colored::Color;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// Whether stdout should get colour and a progress bar: it is a terminal and
/// `NO_COLOR` (<https://no-color.org>) is unset or empty.
pub fn stdout_is_fancy() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Drives a progress bar (terminal) or prints plain lines (anything else);
/// either way one line per non-pass case as it finishes.
pub struct Progress {
    inner: Mutex<Inner>,
}

enum Inner {
    Bar(ProgressBar),
    Plain {
        out: Box<dyn Write + Send>,
        done: usize,
        total: usize,
    },
}

impl Progress {
    /// Bar and colour on a terminal without `NO_COLOR`, plain lines on stdout
    /// otherwise.
    pub fn new() -> Self {
        if stdout_is_fancy() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} {elapsed} {wide_msg}")
                    .expect("the template is a valid constant")
                    .progress_chars("=> "),
            );
            Progress {
                inner: Mutex::new(Inner::Bar(bar)),
            }
        } else {
            Self::plain(Box::new(std::io::stdout()))
        }
    }

    /// Plain lines, no colour, to `out` (a log file, or a buffer in tests).
    pub fn plain(out: Box<dyn Write + Send>) -> Self {
        Progress {
            inner: Mutex::new(Inner::Plain {
                out,
                done: 0,
                total: 0,
            }),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl EventSink for Progress {
    fn event(&self, event: RunEvent) {
        // A panic elsewhere while holding the lock must not silence progress.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *inner {
            Inner::Bar(bar) => match event {
                RunEvent::Started { cases } => bar.set_length(cases as u64),
                RunEvent::TargetFailed { target, reason } => bar.println(format!(
                    "{} target {target}: {reason}",
                    paint("TARGET FAILED", Color::Magenta, true)
                )),
                RunEvent::CaseStarted {
                    cell,
                    feature,
                    test,
                } => bar.set_message(format!("{cell} {feature}/{test}")),
                RunEvent::CaseRerun {
                    cell,
                    case,
                    attempt,
                    of,
                } => {
                    if case.verdict != Verdict::Pass {
                        bar.println(rerun_line(&cell, &case, attempt, of, true));
                    }
                }
                RunEvent::CaseFinished { cell, case } => {
                    bar.inc(1);
                    if case.verdict != Verdict::Pass {
                        bar.println(case_line(&cell, &case, true));
                    }
                }
                RunEvent::Finished => bar.finish_and_clear(),
            },
            Inner::Plain { out, done, total } => {
                // Progress output is best effort: a closed stdout must not
                // stop the run, so write errors are ignored.
                let _ = match event {
                    RunEvent::Started { cases } => {
                        *total = cases;
                        writeln!(out, "running {cases} cases")
                    }
                    RunEvent::TargetFailed { target, reason } => {
                        writeln!(out, "TARGET FAILED target {target}: {reason}")
                    }
                    RunEvent::CaseStarted { .. } => Ok(()),
                    RunEvent::CaseRerun {
                        cell,
                        case,
                        attempt,
                        of,
                    } => {
                        if case.verdict == Verdict::Pass {
                            Ok(())
                        } else {
                            writeln!(out, "{}", rerun_line(&cell, &case, attempt, of, false))
                        }
                    }
                    RunEvent::CaseFinished { cell, case } => {
                        *done += 1;
                        if case.verdict == Verdict::Pass {
                            Ok(())
                        } else {
                            writeln!(out, "[{done}/{total}] {}", case_line(&cell, &case, false))
                        }
                    }
                    RunEvent::Finished => writeln!(out, "finished {done}/{total} cases"),
                };
                let _ = out.flush();
            }
        }
    }
}

/// `FAIL          a→b feature/test: reason`
fn case_line(cell: &str, case: &CaseReport, color: bool) -> String {
    let note = expectation_note(case)
        .map(|n| format!(" [{n}]"))
        .unwrap_or_default();
    format!(
        "{} {cell} {}/{}: {}{note}",
        label(case.verdict, color),
        case.feature,
        case.test,
        case.reason.as_deref().unwrap_or("(no reason given)")
    )
}

/// `RERUN         a→b feature/test: run 2 of 3 after fail: reason`: a run
/// that did not pass and is not the case's last.
fn rerun_line(cell: &str, case: &CaseReport, attempt: u32, of: u32, color: bool) -> String {
    format!(
        "{} {cell} {}/{}: run {attempt} of {of} after {}: {}",
        paint(&format!("{:<13}", "RERUN"), Color::Cyan, color),
        case.feature,
        case.test,
        case.verdict,
        case.reason.as_deref().unwrap_or("(no reason given)")
    )
}

/// The verdict upper-cased and padded to a common width, coloured on request.
fn label(verdict: Verdict, color: bool) -> String {
    let text = format!("{:<13}", verdict.as_str().to_uppercase());
    paint(&text, verdict_color(verdict), color)
}

fn verdict_color(verdict: Verdict) -> Color {
    match verdict {
        Verdict::Pass => Color::Green,
        Verdict::Fail | Verdict::Timeout => Color::Red,
        Verdict::Flaky => Color::BrightRed,
        Verdict::NonStrict => Color::Yellow,
        Verdict::Unsupported | Verdict::Skipped => Color::Blue,
        Verdict::TargetError | Verdict::HarnessError => Color::Magenta,
    }
}

/// ANSI colour from `colored`'s codes, decided by the caller rather than by
/// `colored`'s process-wide switch, so `summary(.., false)` is always plain.
fn paint(text: &str, color: Color, enabled: bool) -> String {
    if enabled {
        format!("\x1b[{}m{text}\x1b[0m", color.to_fg_str())
    } else {
        text.to_owned()
    }
}

/// The final summary: run line, unusable targets, one line per cell, every
/// non-pass case with its reason (and, for those that fail the run, its
/// artifacts folder and rerun command), each target's conformance claim, the
/// result, and last the totals line
/// `mimi-interop: N passed, N failed[, other non-zero counts]`.
pub fn summary(report: &RunReport, color: bool) -> String {
    let mut out = format!(
        "{} {} · run {} · {}{}\n",
        report.harness.name,
        report.harness.version,
        report.run_id,
        seconds(report.duration_ms),
        reruns_text(report)
            .map(|r| format!(" · {r}"))
            .unwrap_or_default()
    );
    for target in &report.targets {
        if let Some(error) = &target.error {
            out.push_str(&format!(
                "{} target {}: {error}\n",
                paint("TARGET FAILED", Color::Magenta, color),
                target.name
            ));
        }
    }
    for cell in &report.cells {
        out.push_str(&format!(
            "  {}: {}\n",
            cell.name(),
            counts_phrase(&count(&cell.cases))
        ));
    }
    let failing = non_pass(report);
    if !failing.is_empty() {
        out.push_str(&format!("non-pass cases ({}):\n", failing.len()));
        for (cell, case) in failing {
            out.push_str("  ");
            out.push_str(&case_line(&cell.name(), case, color));
            out.push('\n');
            if let Some(step) = &case.failed_step {
                let on = step
                    .target
                    .as_deref()
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default();
                let blame = case
                    .blame
                    .as_deref()
                    .filter(|_| case.verdict.counts_against())
                    .map(|b| format!(", blamed on {b}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "                at step {} ({}{on}){blame}\n",
                    step.index, step.action
                ));
            }
            // Where to look and how to rerun, for what makes the run fail.
            if !case.verdict.is_conformant(report.strict) {
                if let Some(dir) = case.artifacts_dir() {
                    out.push_str(&format!("                artifacts: {dir}/\n"));
                }
                if let Some(cmd) = &case.reproduce {
                    out.push_str(&format!("                rerun: {cmd}\n"));
                }
            }
        }
    }
    if !report.claims.is_empty() {
        out.push_str("claims:\n");
        for claim in &report.claims {
            let line = format!("  {}: {}", claim.target, claim.summary());
            let line = if claim.conformant {
                line
            } else {
                paint(&line, Color::Red, color)
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    if let Some(e) = &report.expectations {
        let fixed = fixed(report);
        for (cell, case) in &fixed {
            out.push_str(&format!(
                "  FIXED         {} {}/{}: {}\n",
                cell.name(),
                case.feature,
                case.test,
                expectation_note(case).unwrap_or_default()
            ));
        }
        for stale in &e.stale {
            out.push_str(&format!(
                "  STALE         expectation {stale} in {} matched no case: remove it\n",
                e.file
            ));
        }
    }
    let code = exit::for_report(report);
    let result = if code == exit::CONFORMANT {
        paint("conformant", Color::Green, color)
    } else {
        paint(&format!("not conformant (exit {code})"), Color::Red, color)
    };
    out.push_str(&format!("result: {result}\n"));
    out.push_str(&format!(
        "{}: {}\n",
        report.harness.name,
        counts_phrase(&report.counts())
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::CaseReport;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("test buffer").write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn case(test: &str, verdict: Verdict, reason: Option<&str>) -> CaseReport {
        CaseReport {
            feature: "send".into(),
            test: test.into(),
            level: "MUST".into(),
            verdict,
            reason: reason.map(Into::into),
            duration_ms: 5,
            steps_run: 1,
            failed_step: None,
            blame: None,
            expectation: None,
            wire: None,
            attempts: Vec::new(),
            control: None,
            logs: Vec::new(),
            reproduce: None,
        }
    }

    #[test]
    fn plain_progress_prints_only_non_pass_cases() {
        fn assert_sink<T: EventSink>() {}
        assert_sink::<Progress>();

        let buffer = Buffer::default();
        let progress = Progress::plain(Box::new(buffer.clone()));
        progress.event(RunEvent::Started { cases: 2 });
        progress.event(RunEvent::CaseStarted {
            cell: "x→y".into(),
            feature: "send".into(),
            test: "ok".into(),
        });
        progress.event(RunEvent::CaseFinished {
            cell: "x→y".into(),
            case: Box::new(case("ok", Verdict::Pass, None)),
        });
        progress.event(RunEvent::CaseFinished {
            cell: "x→y".into(),
            case: Box::new(case("bad", Verdict::Fail, Some("no event arrived"))),
        });
        progress.event(RunEvent::Finished);
        let text =
            String::from_utf8(buffer.0.lock().expect("test buffer").clone()).expect("utf-8 output");
        assert_eq!(
            text,
            "running 2 cases\n[2/2] FAIL          x→y send/bad: no event arrived\nfinished 2/2 cases\n"
        );
    }

    #[test]
    fn plain_progress_says_when_a_case_runs_again_and_counts_it_once() {
        let buffer = Buffer::default();
        let progress = Progress::plain(Box::new(buffer.clone()));
        progress.event(RunEvent::Started { cases: 1 });
        progress.event(RunEvent::CaseRerun {
            cell: "x→y".into(),
            case: Box::new(case("bad", Verdict::Fail, Some("403"))),
            attempt: 2,
            of: 3,
        });
        progress.event(RunEvent::CaseFinished {
            cell: "x→y".into(),
            case: Box::new(case(
                "bad",
                Verdict::Flaky,
                Some("passed on attempt 2 of 3"),
            )),
        });
        progress.event(RunEvent::Finished);
        let text =
            String::from_utf8(buffer.0.lock().expect("test buffer").clone()).expect("utf-8 output");
        assert_eq!(
            text,
            "running 1 cases\n\
             RERUN         x→y send/bad: run 2 of 3 after fail: 403\n\
             [1/1] FLAKY         x→y send/bad: passed on attempt 2 of 3\n\
             finished 1/1 cases\n"
        );
    }

    #[test]
    fn paint_only_colours_when_asked() {
        assert_eq!(paint("x", Color::Red, false), "x");
        assert_eq!(paint("x", Color::Red, true), "\x1b[31mx\x1b[0m");
    }
}
