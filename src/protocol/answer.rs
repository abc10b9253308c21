//! What a provider's answer to one request means: did it take the request,
//! refuse it, or fail? The harness's adversary steps judge a forged request
//! by this reading of the target's answer as the relay saw it, not by what
//! the sender says.
//!
//! The drafts refuse in two ways: an HTTP error status, or a 2xx whose MIMI
//! body carries a refusal code (`notAllowed`, `wrongEpoch`, `epochTooOld`,
//! `invalidProposal`, a GroupInfo failure status, a KeyMaterial user status
//! other than success or partialSuccess, or no KeyPackage at all). A 5xx is
//! neither: the provider failed on the request, which the drafts never ask
//! for.

use super::exchange::Endpoint;
use super::{
    ClientKeyMaterialBody, GroupInfoResponse, KeyMaterialResponse, SubmitMessageResponse,
    UpdateOutcome, UpdateRoomResponse, decode, user_code,
};

/// The reading of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The provider took the request; what it answered.
    Taken(String),
    /// The provider refused it; how.
    Refused(String),
    /// The provider failed (5xx, or a 2xx body that does not decode).
    Failed(String),
}

/// Reads `status` and `body`, the answer of `endpoint`.
pub fn read_answer(endpoint: Endpoint, status: u16, body: &[u8]) -> Answer {
    match status {
        400..=499 => return Answer::Refused(format!("HTTP {status}{}", excerpt(body))),
        500..=599 => return Answer::Failed(format!("HTTP {status}{}", excerpt(body))),
        200..=299 => {}
        _ => return Answer::Failed(format!("HTTP {status}: not a final answer")),
    }
    let garbage = |e: super::DecodeError| {
        Answer::Failed(format!(
            "HTTP {status} with an undecodable {}: {e}",
            endpoint.name()
        ))
    };
    match endpoint {
        Endpoint::Update => match decode::<UpdateRoomResponse>(body) {
            Err(e) => garbage(e),
            Ok(r) => match r.outcome {
                UpdateOutcome::Success { .. } => Answer::Taken("update: success".into()),
                UpdateOutcome::WrongEpoch { current_epoch } => {
                    Answer::Refused(format!("update: wrongEpoch (hub at {current_epoch})"))
                }
                UpdateOutcome::NotAllowed => Answer::Refused(format!(
                    "update: notAllowed{}",
                    described(&r.error_description)
                )),
                UpdateOutcome::InvalidProposal { invalid_proposals } => Answer::Refused(format!(
                    "update: invalidProposal ({} proposals)",
                    invalid_proposals.len()
                )),
            },
        },
        Endpoint::SubmitMessage => match decode::<SubmitMessageResponse>(body) {
            Err(e) => garbage(e),
            Ok(SubmitMessageResponse::Accepted { .. }) => {
                Answer::Taken("submitMessage: accepted".into())
            }
            Ok(SubmitMessageResponse::NotAllowed) => {
                Answer::Refused("submitMessage: notAllowed".into())
            }
            Ok(SubmitMessageResponse::EpochTooOld { current_epoch }) => Answer::Refused(format!(
                "submitMessage: epochTooOld (hub at {current_epoch})"
            )),
        },
        Endpoint::GroupInfo => match decode::<GroupInfoResponse>(body) {
            Err(e) => garbage(e),
            Ok(GroupInfoResponse::Success { .. }) => Answer::Taken("groupInfo: success".into()),
            Ok(GroupInfoResponse::Failure { status, .. }) => {
                Answer::Refused(format!("groupInfo: status {status}"))
            }
        },
        Endpoint::KeyMaterial => match decode::<KeyMaterialResponse>(body) {
            Err(e) => garbage(e),
            Ok(r) => {
                let packages = r
                    .clients
                    .iter()
                    .filter(|c| matches!(c.body, ClientKeyMaterialBody::Success(_)))
                    .count();
                let ok = r.user_status == user_code::SUCCESS
                    || r.user_status == user_code::PARTIAL_SUCCESS;
                if ok && packages > 0 {
                    Answer::Taken(format!("keyMaterial: {packages} KeyPackage(s) handed out"))
                } else {
                    Answer::Refused(format!(
                        "keyMaterial: user status {}, {packages} KeyPackage(s)",
                        r.user_status
                    ))
                }
            }
        },
        other => Answer::Taken(format!("{}: HTTP {status}", other.name())),
    }
}

fn described(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// The start of an error body, as text, for reasons.
fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(160)]);
    format!(": {}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encode;

    #[test]
    fn statuses_decide_before_bodies() {
        let r = read_answer(Endpoint::Notify, 403, b"not the hub");
        assert_eq!(r, Answer::Refused("HTTP 403: not the hub".into()));
        assert!(matches!(
            read_answer(Endpoint::Update, 500, b""),
            Answer::Failed(_)
        ));
        assert!(matches!(
            read_answer(Endpoint::Notify, 201, b""),
            Answer::Taken(_)
        ));
        assert!(matches!(
            read_answer(Endpoint::Notify, 101, b""),
            Answer::Failed(_)
        ));
    }

    #[test]
    fn refusal_codes_in_2xx_bodies_are_refusals() {
        let body = encode(&SubmitMessageResponse::NotAllowed);
        assert!(matches!(
            read_answer(Endpoint::SubmitMessage, 200, &body),
            Answer::Refused(_)
        ));
        let body = encode(&SubmitMessageResponse::Accepted {
            accepted_timestamp: 1,
            frank: None,
        });
        assert!(matches!(
            read_answer(Endpoint::SubmitMessage, 200, &body),
            Answer::Taken(_)
        ));
        let body = encode(&UpdateRoomResponse {
            error_description: "canBan".into(),
            outcome: UpdateOutcome::NotAllowed,
        });
        assert_eq!(
            read_answer(Endpoint::Update, 200, &body),
            Answer::Refused("update: notAllowed (canBan)".into())
        );
        // A 2xx that does not decode is the provider's failure.
        assert!(matches!(
            read_answer(Endpoint::Update, 200, b"\xff"),
            Answer::Failed(_)
        ));
    }
}
