//! The harness judges MIMI content bytes itself: decode them with our own
//! codec, recompute the message ID (draft-ietf-mimi-content-08 §3.3, sender
//! = the sending *user's* URI, as in the draft's examples), and compare the
//! readable form with what the suite expects.

use crate::control::api::SendResponse;
use serde_json::Value;

/// What one received message turned out to be.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Lower-case hex of the recomputed message ID, when the bytes allow it.
    pub message_id: Option<String>,
    /// The readable form, or why the bytes are not valid MIMI content.
    pub content: Result<Value, String>,
}

/// Judges the base64 `content` of a message event.
pub(crate) fn received(content_b64: &str, sender_user: &str, room: &str) -> Received {
    let _ = (content_b64, sender_user, room);
    Received {
        message_id: None,
        content: Err("content codec not merged into the runner yet".to_owned()),
    }
}

/// Checks a `send` answer: valid content, the claimed ID is the recomputed
/// one, and an intent's fields are all there.
pub(crate) fn judge_sent(
    resp: &SendResponse,
    sender_user: &str,
    room: &str,
    intent: Option<&Value>,
) -> Result<(), String> {
    let _ = (resp, sender_user, room, intent);
    Err("content codec not merged into the runner yet".to_owned())
}

/// Partial match of the expected readable content against the decoded one;
/// the error names the first differing path.
pub(crate) fn check_content(expected: &Value, actual: &Value) -> Result<(), String> {
    let _ = (expected, actual);
    Err("content codec not merged into the runner yet".to_owned())
}
