//! `/notify` bodies (§5.5).

use super::*;
use openmls::prelude::tls_codec::{Deserialize, Error as TlsError, Serialize, Size};
use std::io::{Read, Write};

/// `FanoutMessage` (§5.5), the tail selected on what the message is.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutMessage {
    pub timestamp: u64,
    pub message: MlsMessage,
    pub tail: FanoutTail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FanoutTail {
    Application { frank: Option<Frank> },
    Welcome { ratchet_tree: RatchetTreeOption },
    Proposal { more_proposals: Vec<MlsMessage> },
    Commit { external_proposals: Vec<MlsMessage> },
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
impl Deserialize for FanoutMessage {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let timestamp = u64::tls_deserialize(r)?;
        let message = MlsMessage::tls_deserialize(r)?;
        let tail = match message_kind(&message)? {
            MessageKind::Private => FanoutTail::Application {
                frank: Option::tls_deserialize(r)?,
            },
            MessageKind::Welcome => FanoutTail::Welcome {
                ratchet_tree: RatchetTreeOption::tls_deserialize(r)?,
            },
            MessageKind::Proposal => FanoutTail::Proposal {
                more_proposals: Vec::tls_deserialize(r)?,
            },
            MessageKind::Commit => FanoutTail::Commit {
                external_proposals: Vec::tls_deserialize(r)?,
            },
            MessageKind::Other => return Err(bad("fan-out of an unexpected MLSMessage")),
        };
        Ok(Self {
            timestamp,
            message,
            tail,
        })
    }
}

/// A notify body: one or more concatenated FanoutMessages.
pub fn decode_fanout_batch(mut body: &[u8]) -> Result<Vec<FanoutMessage>, TlsError> {
    let mut out = Vec::new();
    while !body.is_empty() {
        out.push(FanoutMessage::tls_deserialize(&mut body)?);
    }
    if out.is_empty() {
        return Err(bad("empty notify body"));
    }
    Ok(out)
}
