//! Request-level faults a suite step asks the relay for: each applies once,
//! to the next matching request of its case.

use std::time::Duration;

/// What the relay does to the request a fault matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Not forwarded: the sender's request fails without an answer (the
    /// connection is closed, or the HTTP/2 stream reset).
    Drop,
    /// Not forwarded: the relay answers 503 with `Retry-After`.
    Unavailable { retry_after: Duration },
    /// Forwarded twice, byte for byte, one after the other; the sender gets
    /// the answer to the second copy.
    Duplicate,
    /// Held this long, then forwarded.
    Delay(Duration),
}

impl FaultKind {
    /// How transcripts name the fault.
    pub fn describe(&self) -> String {
        match self {
            FaultKind::Drop => "dropped".to_owned(),
            FaultKind::Unavailable { retry_after } => {
                format!("answered 503, Retry-After {}", retry_after.as_secs())
            }
            FaultKind::Duplicate => "delivered twice".to_owned(),
            FaultKind::Delay(d) => format!("delayed {d:?}"),
        }
    }
}

/// One pending fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The case whose requests it may hit (plan case index).
    pub case: usize,
    /// Sending and receiving target (indexes).
    pub from: usize,
    pub to: usize,
    /// The endpoint (`notify`, `submitMessage`, …); `None` for any.
    pub endpoint: Option<String>,
    pub kind: FaultKind,
}

impl Fault {
    pub(super) fn matches(
        &self,
        case: Option<usize>,
        from: usize,
        to: usize,
        endpoint: &str,
    ) -> bool {
        case == Some(self.case)
            && from == self.from
            && to == self.to
            && self.endpoint.as_deref().is_none_or(|e| e == endpoint)
    }
}
