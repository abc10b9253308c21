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
    /// a year away), or when its ID is one this client already has.
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
mod tests {
    use super::*;
    use crate::content::{BuildContext, IdFormula, build_content, encode, message_id};
    use serde_json::{Value, json};

    const ROOM: &str = "mimi://a.example/r/room";
    const ALICE: &str = "mimi://a.example/u/alice";
    const BOB: &str = "mimi://b.example/u/bob";
    const CAROL: &str = "mimi://b.example/u/carol";

    /// Test timeline: builds content from intents, IDs as the draft says.
    #[derive(Default)]
    struct T {
        tl: Timeline,
        n: u8,
        /// Users whose role has canDeleteOtherMessage.
        moderators: Vec<&'static str>,
        /// The relation rules (quirks) the view applies.
        rules: Relations,
    }

    impl T {
        fn send(&mut self, who: &str, intent: Value) -> String {
            self.send_at(who, intent, 1_000)
        }
        fn send_at(&mut self, who: &str, intent: Value, received: u64) -> String {
            let moderator = self.moderators.contains(&who);
            self.n += 1;
            let ctx = BuildContext {
                sender_uri: who.into(),
                room_uri: ROOM.into(),
                timestamp_ms: 1_000_000,
                salt: [self.n; 16],
            };
            let c = build_content(&intent, &ctx).unwrap();
            let bytes = encode(&c);
            let id = message_id(IdFormula::Draft08, who, ROOM, &bytes)
                .unwrap()
                .to_hex();
            self.tl.add(
                id.clone(),
                who.into(),
                c,
                u64::from(self.n),
                received,
                moderator,
            );
            id
        }
        fn view(&self) -> Vec<TimelineMessage> {
            self.tl.view(2_000, self.rules)
        }
    }

    fn texts(v: &[TimelineMessage]) -> Vec<String> {
        v.iter()
            .map(|m| {
                m.body["text"]
                    .as_str()
                    .or(m.body["markdown"].as_str())
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn messages_show_in_hub_order_with_replies_and_topics() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "hi", "topic": "lunch"}));
        let m2 = t.send(BOB, json!({"text": "hello", "reply_to": m1}));
        let v = t.view();
        assert_eq!(texts(&v), ["hi", "hello"]);
        assert_eq!(v[0].topic.as_deref(), Some("lunch"));
        assert_eq!(v[1].reply_to.as_deref(), Some(m1.as_str()));
        assert_eq!(v[1].message_id, m2);
        assert_eq!(v[1].sender, BOB);
        assert!(!v[0].edited);
    }

    #[test]
    fn reactions_are_counted_per_user_and_unlike_removes_one() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "pizza?"}));
        let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(CAROL, json!({"reaction": "👍", "to": m1}));
        // Bob again with the same text: still one user.
        t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(
            CAROL,
            json!({"to": m1, "disposition": "reaction", "semantics": "processAll", "parts": [{"reaction": "❤"}, {"reaction": "🥳"}]}),
        );
        let v = t.view();
        assert_eq!(v.len(), 1, "reactions are no messages of their own");
        assert_eq!(
            v[0].reactions,
            BTreeMap::from([("👍".into(), 2), ("❤".into(), 1), ("🥳".into(), 1)])
        );
        // Carol cannot unlike Bob's reaction.
        t.send(CAROL, json!({"unlike": r1, "to": m1}));
        assert_eq!(t.view()[0].reactions["👍"], 2);
        t.send(BOB, json!({"unlike": r1, "to": m1}));
        // Bob's second 👍 still stands.
        assert_eq!(t.view()[0].reactions["👍"], 2);
    }

    #[test]
    fn unlike_of_the_only_reaction_leaves_no_count() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "x"}));
        let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(BOB, json!({"unlike": r1, "to": m1}));
        assert!(t.view()[0].reactions.is_empty());
    }

    #[test]
    fn only_the_sender_edits_and_the_latest_edit_wins() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "borow a pen?"}));
        t.send(BOB, json!({"edit": m1, "text": "give me your car"}));
        let v = t.view();
        assert_eq!(texts(&v), ["borow a pen?"]);
        assert!(!v[0].edited, "a non-sender's edit is not applied");
        let e1 = t.send(ALICE, json!({"edit": m1, "text": "borrow a pen?"}));
        t.send(ALICE, json!({"edit": e1, "markdown": "borrow a *pen*?"}));
        let v = t.view();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].message_id, m1);
        assert!(v[0].edited);
        assert_eq!(v[0].body["markdown"], "borrow a *pen*?");
        assert!(v[0].body.get("edit").is_none(), "{}", v[0].body);
    }

    #[test]
    fn an_edit_keeps_the_original_fields_other_than_the_body() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "a"}));
        let m2 = t.send(ALICE, json!({"text": "b", "reply_to": m1, "topic": "t"}));
        t.send(ALICE, json!({"edit": m2, "text": "c", "topic": "other"}));
        let v = t.view();
        assert_eq!(v[1].body["text"], "c");
        assert_eq!(v[1].body["reply_to"], json!(m1));
        assert_eq!(v[1].topic.as_deref(), Some("t"));
    }

    #[test]
    fn only_the_sender_deletes() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "one"}));
        let m2 = t.send(BOB, json!({"text": "two"}));
        t.send(BOB, json!({"delete": m1}));
        assert_eq!(texts(&t.view()), ["one", "two"]);
        t.send(ALICE, json!({"delete": m1}));
        let v = t.view();
        assert_eq!(texts(&v), ["two"]);
        assert_eq!(v[0].message_id, m2);
    }

    #[test]
    fn a_relation_before_its_target_still_applies_and_copies_are_ignored() {
        let mut t = T::default();
        let mut early = T::default();
        let m1 = t.send(ALICE, json!({"text": "one"}));
        let d = t.send(ALICE, json!({"delete": m1}));
        // Feed the delete first, then the original, then the delete again.
        let recs = t.tl.records.clone();
        for r in [&recs[1], &recs[0], &recs[1]] {
            early.tl.add(
                r.id.clone(),
                r.sender.clone(),
                r.content.clone(),
                1,
                1,
                false,
            );
        }
        assert!(early.view().is_empty());
        assert_eq!(early.tl.records.len(), 2, "{d}");
    }

    #[test]
    fn expired_messages_are_gone() {
        let mut t = T::default();
        t.send_at(ALICE, json!({"text": "stays"}), 1_000);
        t.send_at(
            ALICE,
            json!({"text": "10s", "expires": {"relative": 10}}),
            1_000,
        );
        t.send_at(ALICE, json!({"text": "at 5s", "expires": {"at": 5}}), 1_000);
        assert_eq!(
            texts(&t.tl.view(4_999, Relations::default())),
            ["stays", "10s", "at 5s"]
        );
        assert_eq!(
            texts(&t.tl.view(5_000, Relations::default())),
            ["stays", "10s"]
        );
        assert_eq!(texts(&t.tl.view(11_000, Relations::default())), ["stays"]);
    }

    #[test]
    fn reactions_to_deleted_messages_are_not_shown_and_a_loop_is_harmless() {
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "x"}));
        t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(ALICE, json!({"delete": m1}));
        assert!(t.view().is_empty());
    }

    #[test]
    fn a_moderator_deletes_another_users_message_but_cannot_edit_it() {
        let mut t = T {
            moderators: vec![CAROL],
            ..T::default()
        };
        let m1 = t.send(ALICE, json!({"text": "spam"}));
        let m2 = t.send(BOB, json!({"text": "fine"}));
        // Bob has no canDeleteOtherMessage: ignored.
        t.send(BOB, json!({"delete": m1}));
        assert_eq!(texts(&t.view()), ["spam", "fine"]);
        // The policy allows deletes only, not edits.
        t.send(CAROL, json!({"edit": m1, "text": "[removed]"}));
        let v = t.view();
        assert_eq!(texts(&v), ["spam", "fine"]);
        assert!(!v[0].edited);
        let d = t.send(CAROL, json!({"delete": m1}));
        let v = t.view();
        assert_eq!(texts(&v), ["fine"]);
        assert_eq!(v[0].message_id, m2);
        assert!(v.iter().all(|m| m.message_id != d));
    }

    #[test]
    fn a_moderator_delete_of_an_edited_message_removes_it_and_is_final() {
        let mut t = T {
            moderators: vec![CAROL],
            ..T::default()
        };
        let m1 = t.send(ALICE, json!({"text": "draft"}));
        let e1 = t.send(ALICE, json!({"edit": m1, "text": "rude"}));
        // Naming the edit reaches the same root message.
        t.send(CAROL, json!({"delete": e1}));
        assert!(t.view().is_empty());
        // The sender's later edit does not bring it back.
        t.send(ALICE, json!({"edit": m1, "text": "back again"}));
        assert!(t.view().is_empty());
    }

    #[test]
    fn the_authority_is_the_one_at_receipt() {
        // A delete recorded while the sender had no such role stays ignored
        // even if the same user is a moderator for later messages.
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "a"}));
        t.send(CAROL, json!({"delete": m1}));
        assert_eq!(texts(&t.view()), ["a"]);
        t.moderators.push(CAROL);
        let m2 = t.send(ALICE, json!({"text": "b"}));
        t.send(CAROL, json!({"delete": m2}));
        assert_eq!(texts(&t.view()), ["a"]);
        assert_eq!(t.tl.sender_of(&m2), Some(ALICE));
    }

    #[test]
    fn a_moderator_cannot_take_back_another_users_reaction() {
        let mut t = T {
            moderators: vec![ALICE],
            ..T::default()
        };
        let m1 = t.send(ALICE, json!({"text": "vote"}));
        let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(ALICE, json!({"unlike": r1, "to": m1}));
        assert_eq!(t.view()[0].reactions["👍"], 1);
        assert_eq!(t.tl.sender_of(&r1), None);
    }

    /// Each relation quirk breaks exactly the rule its documentation names.
    #[test]
    fn relation_quirks_change_what_the_timeline_shows() {
        let run = |rules: Relations| {
            let mut t = T {
                rules,
                ..T::default()
            };
            let m1 = t.send(ALICE, json!({"text": "pen?"}));
            let m2 = t.send(ALICE, json!({"text": "gone"}));
            t.send(BOB, json!({"edit": m1, "text": "Ferrari?"}));
            t.send(ALICE, json!({"delete": m2}));
            let m3 = t.send(CAROL, json!({"text": "carol's"}));
            t.send(BOB, json!({"delete": m3}));
            let r = t.send(CAROL, json!({"reaction": "👍", "to": m1}));
            t.send(CAROL, json!({"unlike": r}));
            let v = t.view();
            let likes = v[0].reactions.get("👍").copied().unwrap_or(0);
            (texts(&v), likes)
        };
        let clean = run(Relations::default());
        assert_eq!(clean, (vec!["pen?".to_owned(), "carol's".to_owned()], 0));
        let edits = run(Relations {
            edits_from_anyone: true,
            ..Relations::default()
        });
        assert_eq!(edits.0, ["Ferrari?", "carol's"]);
        let shown = run(Relations {
            deletes_ignored: true,
            ..Relations::default()
        });
        assert_eq!(shown.0, ["pen?", "gone", "carol's"]);
        let anyone = run(Relations {
            deletes_from_anyone: true,
            ..Relations::default()
        });
        assert_eq!(anyone.0, ["pen?"]);
        let unlikes = run(Relations {
            unlikes_ignored: true,
            ..Relations::default()
        });
        assert_eq!(unlikes, (clean.0.clone(), 1));
    }

    #[test]
    fn reports_are_no_messages_and_set_the_latest_status_per_user() {
        use crate::content::{MessageId, MessageStatus};
        let mut t = T::default();
        let m1 = t.send(ALICE, json!({"text": "one"}));
        let m2 = t.send(ALICE, json!({"text": "two"}));
        let entry = |id: &str, status| PerMessageStatus {
            message_id: MessageId::from_hex(id).unwrap(),
            status,
        };
        let content = t.tl.records[0].content.clone();
        let unknown = "ab".repeat(32);
        let mut report = |id: &str, who: &str, entries| {
            t.tl.add_report(id.into(), who.into(), content.clone(), 9, entries)
        };
        report("r1", BOB, vec![entry(&m1, MessageStatus::DELIVERED)]);
        report(
            "r2",
            BOB,
            vec![
                entry(&m1, MessageStatus::READ),
                entry(&m2, MessageStatus(42)),
                entry(&unknown, MessageStatus::READ),
            ],
        );
        report("r3", CAROL, vec![entry(&m2, MessageStatus::DELIVERED)]);
        report("r4", ALICE, vec![entry(&m2, MessageStatus::READ)]);
        assert_eq!(texts(&t.view()), ["one", "two"]);
        let s = t.tl.statuses(ALICE, Relations::default());
        assert_eq!(s[&m1], BTreeMap::from([(BOB.into(), json!("read"))]));
        assert_eq!(
            s[&m2],
            BTreeMap::from([(BOB.into(), json!(42)), (CAROL.into(), json!("delivered"))])
        );
        assert!(!s.contains_key(&unknown));
        // Alice's own report shows for Bob.
        assert_eq!(
            t.tl.statuses(BOB, Relations::default())[&m2][ALICE],
            json!("read")
        );
    }
}
