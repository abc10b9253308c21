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
