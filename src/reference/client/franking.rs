//! Franking on the client (protocol-06 §5.4.1, §5.9): the sender puts the
//! franking tag in the PrivateMessage AAD; a receiver verifies the hub's
//! frank and keeps it with the message, so it can report the message later.
//!
//! A message whose frank does not verify is still shown (MLS authenticated
//! it), but its frank is not kept: it cannot be reported (the draft does
//! not say more). Content without a salt (not MIMI content) is not franked.

use super::*;
use crate::protocol::{AbuseReport, AbusiveMessage, Frank, FrankingAgentData};
use crate::reference::franking::{self, FrankError};

/// What a client knows about one received message's frank.
#[derive(Debug, Clone)]
pub(crate) struct FrankRecord {
    pub sender: String,
    pub accepted_timestamp: u64,
    /// The verified frank, or why there is none.
    pub frank: Result<Frank, String>,
    pub content: Vec<u8>,
}

/// The AAD for sending `content`: a SafeAAD `frank_aad` with its tag, or
/// nothing for content without a salt.
pub(super) fn aad_for(content: &[u8]) -> Vec<u8> {
    match crate::content::id::salt_of(content) {
        Ok(salt) => franking::frank_aad(&franking::franking_tag(&salt, content)),
        Err(_) => Vec::new(),
    }
}

/// Checks a received frank (§5.4.1 "Receiver verification").
fn verify(
    group: &MlsGroup,
    room: &str,
    sender_client: &str,
    aad: &[u8],
    content: &[u8],
    frank: Option<&Frank>,
    accepted_timestamp: u64,
) -> Result<Frank, FrankError> {
    let tag = franking::tag_from_aad(aad)?;
    let frank = frank.ok_or(FrankError::ServerFrankMismatch)?;
    let f = franking::content_fields(content)?;
    if franking::franking_tag(&f.salt, content) != tag {
        return Err(FrankError::TagMismatch);
    }
    let sender = ids::user_of_client(sender_client).unwrap_or_default();
    if f.sender_uri != sender {
        return Err(FrankError::UriMismatch {
            what: "sender",
            found: f.sender_uri,
            expected: sender,
        });
    }
    if f.room_uri != room {
        return Err(FrankError::UriMismatch {
            what: "room",
            found: f.room_uri,
            expected: room.to_owned(),
        });
    }
    let agent = policy::room_model(group)
        .ok()
        .and_then(|s| s.franking_agent)
        .and_then(|a| protocol::decode::<FrankingAgentData>(&a).ok())
        .ok_or(FrankError::NoAgent)?;
    let hub = ids::domain_of(room, 'r').unwrap_or_default();
    let agent_name = agent
        .credential
        .parse()
        .ok()
        .and_then(|c| BasicCredential::try_from(c).ok())
        .map(|b| b.identity().to_vec());
    if agent_name.as_deref() != Some(ids::provider_uri(hub).as_bytes()) {
        return Err(FrankError::NoAgent);
    }
    franking::verify_integrity(
        frank,
        u16::from(CIPHERSUITE),
        franking::context(&sender, room, accepted_timestamp),
        agent.franking_signature_key.as_slice(),
    )?;
    Ok(frank.clone())
}

impl Client {
    /// Verifies and keeps the frank of a received message that has a
    /// message ID.
    pub(super) fn keep_frank(
        &mut self,
        room: &str,
        sender_client: &str,
        aad: &[u8],
        content: &[u8],
        frank: Option<&Frank>,
        accepted_timestamp: u64,
    ) {
        let Some(sender) = ids::user_of_client(sender_client) else {
            return;
        };
        let Ok(id) =
            crate::content::message_id(crate::content::IdFormula::Draft08, &sender, room, content)
        else {
            return;
        };
        let Some(group) = self.groups.get(room) else {
            return;
        };
        let checked = verify(
            group,
            room,
            sender_client,
            aad,
            content,
            frank,
            accepted_timestamp,
        )
        .map_err(|e| e.to_string());
        self.franks.entry(room.to_owned()).or_default().insert(
            id.to_hex(),
            FrankRecord {
                sender,
                accepted_timestamp,
                frank: checked,
                content: content.to_vec(),
            },
        );
    }

    /// The franks this client kept for `room`, by message ID (hex).
    pub(crate) fn franks(&self, room: &str) -> BTreeMap<String, FrankRecord> {
        self.franks.get(room).cloned().unwrap_or_default()
    }

    /// The abuse report about `message_ids` of `room`, from this client's
    /// verified franks; the first ID without one is the error.
    pub(crate) fn abuse_report(
        &self,
        room: &str,
        message_ids: &[String],
        alleged_abuser: &str,
        reason_code: u8,
        note: &str,
    ) -> Result<AbuseReport, String> {
        let kept = self.franks.get(room);
        let mut messages = Vec::new();
        for id in message_ids {
            let r = kept
                .and_then(|k| k.get(&id.to_ascii_lowercase()))
                .ok_or_else(|| format!("{} received no message {id} in {room}", self.uri))?;
            let frank = r
                .frank
                .as_ref()
                .map_err(|e| format!("message {id} has no valid frank: {e}"))?;
            messages.push(AbusiveMessage {
                message_content: VLBytes::new(r.content.clone()),
                frank: frank.clone(),
                accepted_timestamp: r.accepted_timestamp,
            });
        }
        Ok(AbuseReport {
            reporting_user: VLBytes::new(self.user.as_bytes().to_vec()),
            alleged_abuser_uri: VLBytes::new(alleged_abuser.as_bytes().to_vec()),
            reason_code,
            note: VLBytes::new(note.as_bytes().to_vec()),
            messages,
            abuse_extensions: Vec::new(),
        })
    }

    /// A report the hub must refuse, for the adversary: of the messages of
    /// `user` this client kept a verified frank for, each server frank
    /// altered by one bit (`naming_another` false); or of the messages of
    /// everyone else, naming `user` as their sender (`naming_another`).
    pub(crate) fn forged_abuse_report(
        &self,
        room: &str,
        user: &str,
        naming_another: bool,
    ) -> Result<AbuseReport, String> {
        let ids: Vec<String> = self
            .franks
            .get(room)
            .into_iter()
            .flatten()
            .filter(|(_, r)| r.frank.is_ok() && (r.sender == user) != naming_another)
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return Err(format!(
                "{} kept no verified frank to forge a report from in {room}",
                self.uri
            ));
        }
        let mut report = self.abuse_report(room, &ids, user, 0, "")?;
        if !naming_another {
            for m in &mut report.messages {
                m.frank.server_frank[31] ^= 1;
            }
        }
        Ok(report)
    }
}
