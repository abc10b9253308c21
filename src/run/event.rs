//! What the runner tells the outside world while it works. Reporters (the
//! terminal progress bar) consume these; the runner never renders.

use crate::report::model::CaseReport;

#[derive(Debug, Clone)]
pub enum RunEvent {
    /// Targets are up and wired; `cases` cases will run.
    Started {
        cases: usize,
    },
    /// A target could not be started or reached; its cells will be `target-error`.
    TargetFailed {
        target: String,
        reason: String,
    },
    CaseStarted {
        cell: String,
        feature: String,
        test: String,
    },
    /// A case runs again (`--retries`, `--repeat`); `case` is the run just
    /// ended, `attempt` the number (from 1) of the run about to start, of
    /// at most `of`. The case's `CaseFinished` comes once, after its last run.
    CaseRerun {
        cell: String,
        case: Box<CaseReport>,
        attempt: u32,
        of: u32,
    },
    CaseFinished {
        cell: String,
        /// Boxed: a case report is much larger than the other events.
        case: Box<CaseReport>,
    },
    Finished,
}

/// Receives [`RunEvent`]s; must not block (the runner calls it inline).
pub trait EventSink: Send + Sync {
    fn event(&self, event: RunEvent);
}

/// Discards every event.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&self, _: RunEvent) {}
}
