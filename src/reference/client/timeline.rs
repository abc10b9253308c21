//! A client's view of one room's messages after the content draft's message
//! relations are applied (draft-ietf-mimi-content-08 §4.1, §5.2–§5.8, §5.11,
//! §9.3): replies, reactions and unlikes, edits, deletes, expiry, topics.
//!
//! The timeline keeps every valid message it was given, in arrival (hub)
//! order, and computes the view on demand, so a relation that arrives before
//! the message it refers to still applies once that message is there.

use crate::content::{self, Disposition, MimiContent, PartBody, PartSemantics, PerMessageStatus};
use crate::control::api::TimelineMessage;
use crate::reference::quirks::Relations;
use crate::reference::room::Operation;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// content-08 §8.1's "a few minutes": how far a hub's timestamp may lie
/// ahead of this client's clock, or before its join.
const TIMESTAMP_SLACK_MS: u64 = 5 * 60 * 1000;

/// One message as received (or sent) by this client.
#[derive(Debug, Clone)]
struct Record {
    id: String,
    /// The authenticated sending user's URI.
    sender: String,
    content: MimiContent,
    accepted_ms: u64,
    /// When this client got it, for relative expiry (reading = receiving).
    received_ms: u64,
    /// Whether the sender's role, when this client got the message, had
    /// canDeleteOtherMessage (room-policy-03 §10.2): the explicit policy
    /// that lets its deletes apply to other users' messages (content-08 §9.3).
    deletes_others: bool,
    /// For a status report (draft-mahy-mimi-message-status-01): the entries
    /// the room's policy admitted at receipt. A report is no message of its
    /// own; it sets the status its sender reports for other messages.
    report: Option<Vec<PerMessageStatus>>,
}

/// The messages of one room as one client holds them.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    records: Vec<Record>,
    seen: BTreeSet<String>,
    /// QUIRK duplicate-ids-shown: a second copy of an ID is kept too.
    keep_duplicates: bool,
}

impl Timeline {
    /// Adds a message with ID `id` (hex) from `sender` (user URI).
    /// `deletes_others` is the room policy's answer, at receipt, to whether
    /// the sender may delete other users' messages. A second copy of an ID
    /// is ignored.
    pub fn add(
        &mut self,
        id: String,
        sender: String,
        content: MimiContent,
        accepted_ms: u64,
        received_ms: u64,
        deletes_others: bool,
    ) {
        self.add_record(Record {
            id,
            sender,
            content,
            accepted_ms,
            received_ms,
            deletes_others,
            report: None,
        });
    }

    /// Adds a status report with the entries the room's policy admitted;
    /// like [`Timeline::add`], a second copy is ignored.
    pub fn add_report(
        &mut self,
        id: String,
        sender: String,
        content: MimiContent,
        accepted_ms: u64,
        admitted: Vec<PerMessageStatus>,
    ) {
        self.add_record(Record {
            id,
            sender,
            content,
            accepted_ms,
            received_ms: accepted_ms,
            deletes_others: false,
            report: Some(admitted),
        });
    }

    /// Whether the message `id` (hex) is already here.
    pub fn has(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    fn add_record(&mut self, r: Record) {
        if self.seen.insert(r.id.clone()) || self.keep_duplicates {
            self.records.push(r);
        }
    }

    /// Message ID (hex) → reporting user → the latest status that user
    /// reported, in arrival order; `me`'s own reports and reports about
    /// messages this client does not have are left out.
    pub fn statuses(
        &self,
        me: &str,
        rules: Relations,
    ) -> HashMap<String, BTreeMap<String, serde_json::Value>> {
        let mut out: HashMap<String, BTreeMap<String, serde_json::Value>> = HashMap::new();
        for r in &self.records {
            let Some(entries) = &r.report else { continue };
            if r.sender == me {
                continue;
            }
            for e in entries {
                let id = e.message_id.to_hex();
                if !self.seen.contains(&id) {
                    continue;
                }
                let status = e
                    .status
                    .name()
                    .map_or(serde_json::json!(e.status.0), |n| serde_json::json!(n));
                let per = out.entry(id).or_default();
                // QUIRK first-status-wins.
                if !(rules.first_status_wins && per.contains_key(&r.sender)) {
                    per.insert(r.sender.clone(), status);
                }
            }
        }
        out
    }

    /// The sender of the message `id` (hex), if this client has it and it
    /// is not a reaction (whose removal canDeleteOtherMessage does not cover).
    pub fn sender_of(&self, id: &str) -> Option<&str> {
        self.records
            .iter()
            .find(|r| r.id == id && !is_reaction(r))
            .map(|r| r.sender.as_str())
    }

    /// The content of message `id` (hex) as received.
    pub fn content_of(&self, id: &str) -> Option<&MimiContent> {
        self.records.iter().find(|r| r.id == id).map(|r| &r.content)
    }

    /// The visible messages at `now_ms`, oldest first, with relations
    /// applied by `rules` (the drafts' rules unless a quirk is on).
    pub fn view(&self, now_ms: u64, rules: Relations) -> Vec<TimelineMessage> {
        let by_id: HashMap<&str, &Record> =
            self.records.iter().map(|r| (r.id.as_str(), r)).collect();
        // Root ID → its latest valid replacement, in arrival order. The
        // original sender may edit or delete; another user only deletes a
        // message (not a reaction), and only with canDeleteOtherMessage
        // (§9.3's explicit policy). A delete
        // is final: nothing replaces a deleted message afterwards.
        let mut latest: HashMap<&str, &Record> = HashMap::new();
        for r in self.records.iter().filter(|r| r.report.is_none()) {
            let Some(target) = &r.content.replaces else {
                continue;
            };
            // QUIRK edit-chains-ignored.
            let Some(root) = by_id
                .get(target.to_hex().as_str())
                .filter(|t| !rules.edit_chains_ignored || t.content.replaces.is_none())
                .and_then(|t| root_of(&by_id, &t.id))
            else {
                continue;
            };
            if latest.get(root).is_some_and(|l| is_delete(l)) {
                continue;
            }
            let original = by_id[root];
            let delete = is_delete(r);
            let reaction = is_reaction(original);
            // QUIRK deleted-message-shown, unlike-ignored.
            if delete && (rules.deletes_ignored && !reaction || rules.unlikes_ignored && reaction) {
                continue;
            }
            // QUIRK ordinary-user-deletes-others, edit-by-anyone.
            let moderated = (r.deletes_others || rules.deletes_from_anyone) && delete && !reaction;
            let foreign_edit = rules.edits_from_anyone && !delete;
            if original.sender == r.sender || moderated || foreign_edit {
                latest.insert(root, r);
            }
        }
        let current = |root: &Record| -> Option<MimiContent> {
            let mut c = root.content.clone();
            if let Some(rep) = latest.get(root.id.as_str()) {
                c.nested_part = rep.content.nested_part.clone();
            }
            // QUIRK expiry-ignored.
            let gone = !rules.expiry_ignored && expired(root, now_ms);
            if matches!(c.nested_part.body, PartBody::Null) || gone {
                return None;
            }
            Some(c)
        };
        // Reactions: target ID → reaction text → distinct reacting users.
        let mut reactions: HashMap<String, BTreeMap<String, BTreeSet<&str>>> = HashMap::new();
        let mut shown = Vec::new();
        for r in self
            .records
            .iter()
            .filter(|r| r.content.replaces.is_none() && r.report.is_none())
        {
            let Some(c) = current(r) else { continue };
            // QUIRK unknown-disposition-hidden.
            if rules.unknown_disposition_hidden && c.nested_part.disposition.name().is_none() {
                continue;
            }
            if r.content.nested_part.disposition.effective() == Disposition::REACTION {
                if let Some(target) = &r.content.in_reply_to {
                    let per = reactions.entry(target.to_hex()).or_default();
                    // QUIRK reaction-counted-per-message.
                    let who = if rules.reactions_per_message {
                        &r.id
                    } else {
                        &r.sender
                    };
                    for text in reaction_texts(&c) {
                        per.entry(text).or_default().insert(who);
                    }
                }
                continue;
            }
            shown.push((r, c));
        }
        let mut out: Vec<TimelineMessage> = shown
            .into_iter()
            .map(|(r, c)| TimelineMessage {
                message_id: r.id.clone(),
                sender: r.sender.clone(),
                edited: latest.contains_key(r.id.as_str()),
                reply_to: r.content.in_reply_to.map(|m| m.to_hex()),
                reactions: reactions
                    .get(&r.id)
                    .map(|m| {
                        m.iter()
                            .map(|(k, users)| (k.clone(), users.len() as u32))
                            .collect()
                    })
                    .unwrap_or_default(),
                topic: topic(&r.content.topic_id),
                accepted_timestamp: Some(r.accepted_ms),
                body: content::to_readable(&c),
                status: BTreeMap::new(),
            })
            .collect();
        out.sort_by(|a, b| {
            (a.accepted_timestamp, &a.message_id).cmp(&(b.accepted_timestamp, &b.message_id))
        });
        out
    }
}

/// A delete: a replacement whose body is a null part (§5.6).
fn is_delete(r: &Record) -> bool {
    matches!(r.content.nested_part.body, PartBody::Null)
}

/// A reaction (§5.3); taking back another's needs canDeleteOtherReaction,
/// which this timeline does not grant.
fn is_reaction(r: &Record) -> bool {
    r.content.nested_part.disposition.effective() == Disposition::REACTION
}

/// The first version a chain of replacements leads back to; `None` when a
/// link is missing or the chain loops.
fn root_of<'a>(by_id: &HashMap<&'a str, &'a Record>, id: &str) -> Option<&'a str> {
    let mut r = *by_id.get(id)?;
    for _ in 0..=by_id.len() {
        match &r.content.replaces {
            None => return Some(&r.id),
            Some(prev) => r = by_id.get(prev.to_hex().as_str())?,
        }
    }
    None
}

/// Whether the message is past its expiry (§4.1): an absolute time, or a
/// number of seconds after it was read, which for this client is when it
/// arrived.
fn expired(r: &Record, now_ms: u64) -> bool {
    match r.content.expires {
        None => false,
        Some(e) if e.relative => now_ms >= r.received_ms + u64::from(e.time) * 1000,
        Some(e) => now_ms >= u64::from(e.time) * 1000,
    }
}

/// The reaction texts of a reaction's body: one single part, or the parts
/// of a `processAll` MultiPart (§5.3, the multiple reactions example); of
/// alternatives (`chooseOne`, `singleUnit`) the first.
fn reaction_texts(c: &MimiContent) -> Vec<String> {
    fn single(body: &PartBody) -> Option<String> {
        match body {
            PartBody::Single { content, .. } => String::from_utf8(content.clone()).ok(),
            _ => None,
        }
    }
    match &c.nested_part.body {
        PartBody::Multi {
            semantics: PartSemantics::ProcessAll,
            parts,
        } => parts.iter().filter_map(|p| single(&p.body)).collect(),
        PartBody::Multi { parts, .. } => parts
            .first()
            .and_then(|p| single(&p.body))
            .into_iter()
            .collect(),
        body => single(body).into_iter().collect(),
    }
}

fn topic(id: &[u8]) -> Option<String> {
    if id.is_empty() {
        return None;
    }
    Some(String::from_utf8(id.to_vec()).unwrap_or_else(|_| hex::encode(id)))
}

/// The hooks the client calls: the decrypt path and `send` feed the room's
/// timeline; the control API reads it.
impl super::Client {
    /// Records decrypted (or sent) MIMI content from client `sender_client`.
    /// Content is not shown when it does not decode, when its senderUri or
    /// roomUri extension names another user than the MLS credential or
    /// another room (protocol-06 §5.4.1.2 binds both to the message), when
    /// it breaks a §8.1 rule that needs receiver state (an expiry more than
    /// a year away, a hub timestamp minutes in the future or from before
    /// the room), or when its ID is one this client already has.
    pub(crate) fn record_content(
        &mut self,
        room: &str,
        sender_client: &str,
        bytes: &[u8],
        accepted_ms: u64,
    ) {
        let Some(sender) = super::ids::user_of_client(sender_client) else {
            return;
        };
        // QUIRK hub-timestamps-trusted.
        if self.ep.quirks().checks_timestamps() && !self.plausible(room, accepted_ms) {
            return;
        }
        let Ok(decoded) = content::decode(bytes) else {
            // QUIRK invalid-content-placeholder.
            if self.ep.quirks().shows_invalid_content() {
                self.record_placeholder(room, sender, bytes, accepted_ms);
            }
            return;
        };
        let ext = &decoded.content.extensions;
        let foreign = ext.sender_uri().is_some_and(|s| s != sender)
            || ext.room_uri().is_some_and(|r| r != room);
        // QUIRK content-uris-unchecked.
        if foreign && self.ep.quirks().checks_content_uris() {
            return;
        }
        let Ok(id) = content::message_id(content::IdFormula::Draft08, &sender, room, bytes) else {
            return;
        };
        let now = crate::reference::server::now_ms();
        let cx = content::ReceiveContext {
            now_ms: now,
            message_id: id,
            seen: &Default::default(),
        };
        // QUIRK expiry-ignored: the expiry is not validated either.
        let mut checked = decoded.content.clone();
        if self.ep.quirks().relations().expiry_ignored {
            checked.expires = None;
        }
        if content::receive_checks(&checked, &cx).is_err() {
            return;
        }
        // QUIRK duplicate-ids-shown.
        let drop_duplicates = self.ep.quirks().drops_duplicate_ids();
        if drop_duplicates
            && self
                .timelines
                .get(room)
                .is_some_and(|t| t.has(&id.to_hex()))
        {
            return;
        }
        self.timelines
            .entry(room.to_owned())
            .or_default()
            .keep_duplicates = !drop_duplicates;
        if let Some(admitted) = self.admitted_report(room, &decoded.content) {
            self.timelines
                .entry(room.to_owned())
                .or_default()
                .add_report(id.to_hex(), sender, decoded.content, accepted_ms, admitted);
            return;
        }
        let deletes_others = self.may(room, &sender, &Operation::Delete { own: false });
        self.note_received(room, &sender, id);
        self.timelines.entry(room.to_owned()).or_default().add(
            id.to_hex(),
            sender,
            decoded.content,
            accepted_ms,
            now,
            deletes_others,
        );
    }

    /// Whether a hub could honestly have accepted a message of `room` at
    /// `accepted_ms` (content-08 §8.1 discards timestamps more than a few
    /// minutes in the future or from before the room was created). This
    /// client cannot read a message accepted before it joined, so its join
    /// stands for the room's creation (docs/deviations.md); both bounds
    /// allow [`TIMESTAMP_SLACK_MS`] for clocks that disagree.
    fn plausible(&self, room: &str, accepted_ms: u64) -> bool {
        let now = crate::reference::server::now_ms();
        accepted_ms <= now.saturating_add(TIMESTAMP_SLACK_MS)
            && self
                .joined
                .get(room)
                .is_none_or(|joined| accepted_ms.saturating_add(TIMESTAMP_SLACK_MS) >= *joined)
    }

    /// invalid-content-placeholder: content that must be discarded shown
    /// as a text message, under the hash of its bytes.
    fn record_placeholder(&mut self, room: &str, sender: String, bytes: &[u8], accepted_ms: u64) {
        let ctx = content::BuildContext {
            sender_uri: sender.clone(),
            room_uri: room.to_owned(),
            timestamp_ms: accepted_ms,
            salt: [1; 16],
        };
        let Ok(c) = content::build_content(
            &serde_json::json!({ "text": "This message cannot be displayed" }),
            &ctx,
        ) else {
            return;
        };
        let id = hex::encode(content::attachment::sha256(bytes));
        let now = crate::reference::server::now_ms();
        self.timelines.entry(room.to_owned()).or_default().add(
            id,
            sender,
            c,
            accepted_ms,
            now,
            false,
        );
    }

    /// Whether the room's current policy, as this client's group holds it,
    /// lets `user` do `op`.
    fn may(&self, room: &str, user: &str, op: &Operation) -> bool {
        self.groups
            .get(room)
            .and_then(|g| super::policy::room_model(g).ok())
            .is_some_and(|m| m.authorize(user, op).is_ok())
    }

    /// Refuses content this client's user must not send under the room's
    /// policy (room-policy-03 §10.2): a message needs canSendMessage, a
    /// reply also canReplyToMessage, a reaction canReactToMessage, an edit
    /// or delete of one's own message canEditOwnMessage or
    /// canDeleteOwnMessage, a delete of another user's message
    /// canDeleteOtherMessage, and a status report the room's policy must
    /// allow. An edit of another's message, or a delete whose target this
    /// client does not have, is let through: receivers decide (see
    /// `Timeline::view`).
    pub fn authorize_content(&self, room: &str, bytes: &[u8]) -> Result<(), super::ClientError> {
        let Ok(decoded) = content::decode(bytes) else {
            return Ok(());
        };
        let c = &decoded.content;
        if let Some(report) = super::receipts::report_of(c) {
            return self.authorize_report(room, &report);
        }
        let owner = |target: &content::MessageId| {
            self.timelines
                .get(room)
                .and_then(|t| t.sender_of(&target.to_hex()))
                .map(|owner| owner == self.user)
        };
        let reaction = c.nested_part.disposition.effective() == Disposition::REACTION;
        let op = match (&c.replaces, &c.nested_part.body) {
            (Some(target), PartBody::Null) => match owner(target) {
                Some(own) => Operation::Delete { own },
                None => return Ok(()),
            },
            (Some(target), _) => match owner(target) {
                Some(true) => Operation::Edit { own: true },
                _ => return Ok(()),
            },
            (None, _) if reaction => Operation::React,
            (None, _) if c.in_reply_to.is_some() => Operation::Reply,
            (None, _) => Operation::Send,
        };
        self.room_model(room)?
            .authorize(&self.user, &op)
            .map_err(super::ClientError::Policy)
    }

    /// The room's visible messages as this client shows them now; `None`
    /// when the client is not in the room.
    pub fn timeline(&self, room: &str) -> Option<crate::control::api::ClientTimeline> {
        if !self.is_member(room) {
            return None;
        }
        let messages = self
            .timelines
            .get(room)
            .map(|t| {
                let rules = self.ep.quirks().relations();
                let mut statuses = t.statuses(&self.user, rules);
                let mut view = t.view(crate::reference::server::now_ms(), rules);
                for m in &mut view {
                    m.status = statuses.remove(&m.message_id).unwrap_or_default();
                }
                view
            })
            .unwrap_or_default();
        Some(crate::control::api::ClientTimeline {
            client: self.uri.clone(),
            messages,
        })
    }
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
