//! `/notify` bodies (§5.5).

use super::*;
use openmls::prelude::tls_codec::{Error as TlsError, Serialize, Size};
use std::io::Write;

/// `FanoutMessage` (§5.5), the tail selected on what the message is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FanoutMessage {
    pub timestamp: u64,
    pub message: MlsMessage,
    #[serde(flatten)]
    pub tail: FanoutTail,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "tail",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum FanoutTail {
    Application {
        #[serde(default)]
        frank: Option<Frank>,
    },
    Welcome {
        #[serde(rename = "ratchetTreeOption")]
        ratchet_tree: RatchetTreeOption,
    },
    Proposal {
        more_proposals: Vec<MlsMessage>,
    },
    Commit {
        external_proposals: Vec<MlsMessage>,
    },
}

impl Size for FanoutMessage {
    fn tls_serialized_len(&self) -> usize {
        8 + self.message.tls_serialized_len()
            + match &self.tail {
                FanoutTail::Application { frank } => frank.tls_serialized_len(),
                FanoutTail::Welcome { ratchet_tree } => ratchet_tree.tls_serialized_len(),
                FanoutTail::Proposal { more_proposals: v }
                | FanoutTail::Commit {
                    external_proposals: v,
                } => v.tls_serialized_len(),
            }
    }
}
impl Serialize for FanoutMessage {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let mut n = self.timestamp.tls_serialize(w)? + self.message.tls_serialize(w)?;
        n += match &self.tail {
            FanoutTail::Application { frank } => frank.tls_serialize(w)?,
            FanoutTail::Welcome { ratchet_tree } => ratchet_tree.tls_serialize(w)?,
            FanoutTail::Proposal { more_proposals: v }
            | FanoutTail::Commit {
                external_proposals: v,
            } => v.tls_serialize(w)?,
        };
        Ok(n)
    }
}
impl Decode for FanoutMessage {
    const NAME: &'static str = "FanoutMessage";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let timestamp = r.field("timestamp", |r| r.u64())?;
        let at = r.position();
        let (message, kind) = r.field("message", read_mls_message)?;
        let tail = match kind {
            MessageKind::Private => FanoutTail::Application {
                frank: r.field("frank", |r| r.optional(Frank::decode))?,
            },
            MessageKind::Welcome => FanoutTail::Welcome {
                ratchet_tree: r.field("ratchetTreeOption", RatchetTreeOption::decode)?,
            },
            MessageKind::Proposal => FanoutTail::Proposal {
                more_proposals: r.field("moreProposals", |r| {
                    r.vector(|r| Ok(read_mls_message(r)?.0))
                })?,
            },
            MessageKind::Commit => FanoutTail::Commit {
                external_proposals: r.field("externalProposals", |r| {
                    r.vector(|r| Ok(read_mls_message(r)?.0))
                })?,
            },
            MessageKind::Other => {
                return Err(r.field_error(
                    "message",
                    at,
                    DecodeErrorKind::Invalid(
                        "not an application PrivateMessage, a proposal or commit, or a Welcome"
                            .into(),
                    ),
                ));
            }
        };
        Ok(Self {
            timestamp,
            message,
            tail,
        })
    }
}

/// A notify body (§5.5): one or more concatenated FanoutMessages. Errors
/// name the message by index, e.g. `notify[1].frank`.
pub fn decode_fanout_batch(body: &[u8]) -> Result<Vec<FanoutMessage>, DecodeError> {
    let mut r = Reader::new(body, "notify");
    if body.is_empty() {
        return Err(r.invalid("empty notify body (at least one FanoutMessage)"));
    }
    let mut out = Vec::new();
    while r.remaining() > 0 {
        let i = out.len();
        out.push(r.index(i, FanoutMessage::decode)?);
    }
    Ok(out)
}
