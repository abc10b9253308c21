//! §8.1 "General handling" rules that need receiver state: duplicate IDs,
//! the one-year expiry window, and references to unknown messages (which
//! must be accepted, since they may predate the receiver joining).

use std::collections::HashSet;

use super::model::{MessageId, MimiContent};
use super::{DecodeError, Finding, FindingKind, Rule};

/// One year, the draft's bound on how far `expires` may point.
pub const YEAR_SECS: u64 = 365 * 24 * 60 * 60;

/// What the receiver knows when a message arrives.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveContext<'a> {
    /// Receive time, milliseconds since the epoch.
    pub now_ms: u64,
    /// The ID of the arriving message (draft-08 formula).
    pub message_id: MessageId,
    /// IDs already received (a repeat must be discarded).
    pub seen: &'a HashSet<MessageId>,
}

/// Applies the stateful receiver rules: `Err` means discard; findings are
/// informational (e.g. a reply to a message this receiver never saw).
pub fn receive_checks(
    c: &MimiContent,
    cx: &ReceiveContext<'_>,
) -> Result<Vec<Finding>, DecodeError> {
    let fatal = |path: &str, message: String| DecodeError::Invalid {
        path: path.to_string(),
        rule: Rule::Receiver,
        message,
    };
    if cx.seen.contains(&cx.message_id) {
        return Err(fatal(
            "$",
            format!("duplicate message ID {}", cx.message_id),
        ));
    }
    if let Some(e) = c.expires {
        let now = cx.now_ms / 1000;
        let t = u64::from(e.time);
        if e.relative && t > YEAR_SECS {
            return Err(fatal(
                "expires.time",
                format!("relative expiry of {t} s is more than a year"),
            ));
        }
        if !e.relative && t > now + YEAR_SECS {
            return Err(fatal(
                "expires.time",
                format!("absolute expiry {t} is more than a year after now ({now})"),
            ));
        }
        if !e.relative && t + YEAR_SECS < now {
            return Err(fatal(
                "expires.time",
                format!("absolute expiry {t} is more than a year before now ({now})"),
            ));
        }
    }
    let mut findings = Vec::new();
    for (path, id) in [("replaces", c.replaces), ("inReplyTo", c.in_reply_to)] {
        if let Some(id) = id
            && !cx.seen.contains(&id)
        {
            findings.push(Finding {
                path: path.into(),
                kind: FindingKind::Info,
                message: format!(
                    "refers to unknown message {id}; accepted (it may predate this receiver)"
                ),
            });
        }
    }
    Ok(findings)
}
