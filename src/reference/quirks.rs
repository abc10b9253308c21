//! Quirks: deliberate, realistic deviations the reference provider can
//! switch on, to prove the suites catch broken providers (`docs/coverage.md`,
//! `tests/it/mutation.rs`).
//!
//! Each quirk changes behaviour at one place in `src/reference/`, marked with
//! a `QUIRK <name>` comment that calls into [`Quirks`]; everything a quirk
//! decides lives here. A provider without quirks takes none of these paths.

use super::client::ClientEvent;
use super::ids;
use super::server::{Server, lock};
use super::wire::{FanoutMessage, FanoutTail};
use crate::content::IdFormula;
use crate::control::api::{ClientRoomState, EventKind};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// One deliberate deviation. [`Quirk::ALL`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quirk {
    MessageIdDraft07,
    TextAsPlain,
    UnicodeNfc,
    DuplicateMessageEvent,
    ReorderFanout,
    DropEveryTenth,
    WrongEpochReport,
    LocalRoster,
    KickNotCommitted,
    NewDeviceNotJoined,
    DropWhenUnreachable,
}

impl Quirk {
    pub const ALL: [Quirk; 11] = [
        Quirk::MessageIdDraft07,
        Quirk::TextAsPlain,
        Quirk::UnicodeNfc,
        Quirk::DuplicateMessageEvent,
        Quirk::ReorderFanout,
        Quirk::DropEveryTenth,
        Quirk::WrongEpochReport,
        Quirk::LocalRoster,
        Quirk::KickNotCommitted,
        Quirk::NewDeviceNotJoined,
        Quirk::DropWhenUnreachable,
    ];

    /// The name in targets files and on `serve --quirk`.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::MessageIdDraft07 => "message-id-draft07",
            Quirk::TextAsPlain => "text-as-plain",
            Quirk::UnicodeNfc => "unicode-nfc",
            Quirk::DuplicateMessageEvent => "duplicate-message-event",
            Quirk::ReorderFanout => "reorder-fanout",
            Quirk::DropEveryTenth => "drop-every-tenth",
            Quirk::WrongEpochReport => "wrong-epoch-report",
            Quirk::LocalRoster => "local-roster",
            Quirk::KickNotCommitted => "kick-not-committed",
            Quirk::NewDeviceNotJoined => "new-device-not-joined",
            Quirk::DropWhenUnreachable => "drop-when-unreachable",
        }
    }

    /// The id (in `suite::coverage::FEATURES`) of the requirement it breaks.
    pub fn breaks(self) -> &'static str {
        match self {
            Quirk::MessageIdDraft07 | Quirk::TextAsPlain | Quirk::UnicodeNfc => "text",
            Quirk::DuplicateMessageEvent | Quirk::ReorderFanout | Quirk::DropEveryTenth => {
                "reliable-sync"
            }
            Quirk::WrongEpochReport | Quirk::NewDeviceNotJoined => "encryption",
            Quirk::LocalRoster | Quirk::KickNotCommitted => "membership",
            Quirk::DropWhenUnreachable => "reliable-sync",
        }
    }

    /// What it does, in one line.
    pub fn doc(self) -> &'static str {
        match self {
            Quirk::MessageIdDraft07 => {
                "`send` answers the message ID computed with the draft-07 formula instead of draft-08's"
            }
            Quirk::TextAsPlain => {
                "a Markdown body is sent as text/plain (the Markdown source flattened to plain text)"
            }
            Quirk::UnicodeNfc => {
                "text and Markdown bodies are normalized to Unicode NFC before sending"
            }
            Quirk::DuplicateMessageEvent => {
                "the client reports every received message twice (a redelivery it does not deduplicate)"
            }
            Quirk::ReorderFanout => {
                "the hub sends each odd-numbered message of a room to a follower after the next one; the last odd one waits for a successor"
            }
            Quirk::DropEveryTenth => {
                "the hub drops every tenth message of a room it would send to a follower provider"
            }
            Quirk::WrongEpochReport => {
                "`room_state` reports the MLS epoch one lower than the group's (an off-by-one epoch counter)"
            }
            Quirk::LocalRoster => {
                "`room_state` lists only participants of the provider's own domain (remote users forgotten)"
            }
            Quirk::KickNotCommitted => {
                "`remove_participant` answers success but never commits the removal"
            }
            Quirk::NewDeviceNotJoined => {
                "a user's new device (`add_client`) does not join the rooms the user is in"
            }
            Quirk::DropWhenUnreachable => {
                "the hub drops a notify it could not deliver to a follower on the first attempt instead of retrying it"
            }
        }
    }

    /// The quirk called `name`, or an error listing the known ones.
    pub fn parse(name: &str) -> Result<Self, UnknownQuirkError> {
        Self::ALL
            .into_iter()
            .find(|q| q.name() == name)
            .ok_or_else(|| UnknownQuirkError {
                name: name.to_owned(),
                known: Self::ALL.map(Quirk::name).join(", "),
            })
    }
}

impl std::fmt::Display for Quirk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A quirk name that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quirk `{name}`; known quirks: {known}")]
pub struct UnknownQuirkError {
    pub name: String,
    pub known: String,
}

/// The quirks one provider runs with, and what they remember.
#[derive(Debug, Default)]
pub struct Quirks {
    on: BTreeSet<Quirk>,
    /// reorder-fanout: per (room, follower domain), the body held back.
    held: Mutex<HashMap<(String, String), Vec<u8>>>,
    /// drop-every-tenth: per (room, follower domain), messages so far.
    counted: Mutex<HashMap<(String, String), u64>>,
}

impl Quirks {
    pub fn new(on: impl IntoIterator<Item = Quirk>) -> Self {
        Self {
            on: on.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Parses names (a builtin target's `quirks:`); the first unknown one fails.
    pub fn parse_names(names: &[String]) -> Result<Self, UnknownQuirkError> {
        let on = names
            .iter()
            .map(|n| Quirk::parse(n))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(on))
    }

    pub fn has(&self, q: Quirk) -> bool {
        self.on.contains(&q)
    }

    /// Forgets what the quirks remember (control `reset`).
    pub(crate) fn clear(&self) {
        lock(&self.held).clear();
        lock(&self.counted).clear();
    }

    /// The switched-on quirks, in registry order.
    pub fn active(&self) -> Vec<Quirk> {
        self.on.iter().copied().collect()
    }

    /// reorder-fanout, drop-every-tenth: the bodies to queue now for a
    /// follower, in order, instead of the one application fan-out `body`.
    pub(crate) fn follower_bodies(&self, room: &str, domain: &str, body: Vec<u8>) -> Vec<Vec<u8>> {
        let key = (room.to_owned(), domain.to_owned());
        if self.has(Quirk::DropEveryTenth) {
            let mut counted = lock(&self.counted);
            let n = counted.entry(key.clone()).or_insert(0);
            *n += 1;
            if n.is_multiple_of(10) {
                return Vec::new();
            }
        }
        if self.has(Quirk::ReorderFanout) {
            let mut held = lock(&self.held);
            return match held.remove(&key) {
                Some(earlier) => vec![body, earlier],
                None => {
                    held.insert(key, body);
                    Vec::new()
                }
            };
        }
        vec![body]
    }

    /// message-id-draft07: the formula `send` answers its message ID with.
    pub(crate) fn id_formula(&self) -> IdFormula {
        if self.has(Quirk::MessageIdDraft07) {
            IdFormula::Draft07
        } else {
            IdFormula::Draft08
        }
    }

    /// text-as-plain, unicode-nfc: the intent the content is built from.
    pub(crate) fn intent(&self, intent: &Value) -> Value {
        let mut v = intent.clone();
        let Some(map) = v.as_object_mut() else {
            return v;
        };
        if self.has(Quirk::TextAsPlain)
            && !map.contains_key("text")
            && let Some(md) = map.remove("markdown")
        {
            map.insert("text".into(), md);
        }
        if self.has(Quirk::UnicodeNfc) {
            let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc();
            for key in ["text", "markdown"] {
                if let Some(Value::String(s)) = map.get_mut(key) {
                    *s = nfc.normalize(s).into_owned();
                }
            }
        }
        v
    }

    /// duplicate-message-event: every message event twice.
    pub(crate) fn client_events(&self, events: &mut Vec<ClientEvent>) {
        if !self.has(Quirk::DuplicateMessageEvent) {
            return;
        }
        let mut out = Vec::with_capacity(events.len() * 2);
        for e in events.drain(..) {
            if matches!(e.kind, EventKind::Message { .. }) {
                out.push(e.clone());
            }
            out.push(e);
        }
        *events = out;
    }

    /// wrong-epoch-report, local-roster: what `room_state` answers.
    pub(crate) fn room_states(&self, domain: &str, states: &mut [ClientRoomState]) {
        for s in states {
            if self.has(Quirk::WrongEpochReport) {
                s.epoch = s.epoch.saturating_sub(1);
            }
            if self.has(Quirk::LocalRoster) {
                s.participants
                    .retain(|p| ids::domain_of(&p.user, 'u') == Some(domain));
            }
        }
    }

    /// kick-not-committed: whether `remove_participant` really removes.
    pub(crate) fn commits_kick(&self) -> bool {
        !self.has(Quirk::KickNotCommitted)
    }

    /// new-device-not-joined: whether a new device joins its user's rooms.
    pub(crate) fn joins_new_device(&self) -> bool {
        !self.has(Quirk::NewDeviceNotJoined)
    }

    /// drop-when-unreachable: whether a notify that could not be delivered
    /// to a follower is retried.
    pub(crate) fn retries_notify(&self) -> bool {
        !self.has(Quirk::DropWhenUnreachable)
    }
}

impl Server {
    /// Queues one fan-out for follower `domain`, through the fan-out quirks
    /// for application messages. The receipt is done at once when the quirk
    /// sent nothing now (receipts of application messages are not awaited).
    pub(crate) fn notify_follower(
        &self,
        domain: &str,
        room: &str,
        msg: &FanoutMessage,
        body: Vec<u8>,
    ) -> oneshot::Receiver<()> {
        let bodies = match msg.tail {
            FanoutTail::Application { .. } => self.quirks.follower_bodies(room, domain, body),
            _ => vec![body],
        };
        let mut receipt = None;
        for b in bodies {
            receipt = Some(self.peers.enqueue_notify(domain, room, b));
        }
        receipt.unwrap_or_else(|| oneshot::channel().1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::api::Participant;

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_known() {
        for q in Quirk::ALL {
            assert_eq!(Quirk::parse(q.name()), Ok(q));
            assert!(crate::suite::coverage::feature(q.breaks()).is_some(), "{q}");
            assert!(!q.doc().is_empty());
        }
        let e = Quirk::parse("skip-epoch-check").unwrap_err();
        assert_eq!(e.name, "skip-epoch-check");
        assert!(
            e.to_string()
                .contains("known quirks: message-id-draft07, text-as-plain"),
            "{e}"
        );
        assert!(Quirks::parse_names(&["reorder-fanout".into(), "nope".into()]).is_err());
        let q = Quirks::parse_names(&["reorder-fanout".into()]).unwrap();
        assert_eq!(q.active(), vec![Quirk::ReorderFanout]);
    }

    fn bodies(q: &Quirks, room: &str, n: u8) -> Vec<Vec<u8>> {
        (1..=n)
            .flat_map(|i| q.follower_bodies(room, "b.example", vec![i]))
            .collect()
    }

    #[test]
    fn without_quirks_fanout_and_content_are_untouched() {
        let q = Quirks::default();
        assert_eq!(
            bodies(&q, "r", 12),
            (1..=12).map(|i| vec![i]).collect::<Vec<_>>()
        );
        let intent = serde_json::json!({"markdown": "**e\u{301}**"});
        assert_eq!(q.intent(&intent), intent);
        assert_eq!(q.id_formula(), IdFormula::Draft08);
        assert!(q.commits_kick() && q.joins_new_device());
        assert!(q.retries_notify());
    }

    #[test]
    fn drop_when_unreachable_stops_notify_retries() {
        let q = Quirks::new([Quirk::DropWhenUnreachable]);
        assert!(!q.retries_notify());
        // Nothing else changes: delivery itself is untouched.
        assert_eq!(bodies(&q, "r", 3), vec![vec![1], vec![2], vec![3]]);
        assert!(q.commits_kick() && q.joins_new_device());
    }

    #[test]
    fn reorder_fanout_swaps_pairs_per_room_and_holds_the_last_odd_one() {
        let q = Quirks::new([Quirk::ReorderFanout]);
        let got = bodies(&q, "r", 5);
        assert_eq!(got, vec![vec![2], vec![1], vec![4], vec![3]]);
        // Another room has its own pairs.
        assert_eq!(bodies(&q, "s", 2), vec![vec![2], vec![1]]);
        // Message 5 of room r comes out after the next one.
        assert_eq!(
            q.follower_bodies("r", "b.example", vec![6]),
            vec![vec![6], vec![5]]
        );
    }

    #[test]
    fn drop_every_tenth_drops_messages_10_and_20_of_a_room() {
        let q = Quirks::new([Quirk::DropEveryTenth]);
        let got = bodies(&q, "r", 25);
        let want: Vec<Vec<u8>> = (1..=25u8)
            .filter(|i| i % 10 != 0)
            .map(|i| vec![i])
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            q.follower_bodies("other", "b.example", vec![1]),
            vec![vec![1]]
        );
    }

    #[test]
    fn content_quirks_rewrite_the_intent() {
        let plain = Quirks::new([Quirk::TextAsPlain]);
        assert_eq!(
            plain.intent(&serde_json::json!({"markdown": "**Bold**"})),
            serde_json::json!({"text": "**Bold**"})
        );
        let nfc = Quirks::new([Quirk::UnicodeNfc]);
        assert_eq!(
            nfc.intent(&serde_json::json!({"text": "e\u{301}"})),
            serde_json::json!({"text": "\u{e9}"})
        );
        let ids = Quirks::new([Quirk::MessageIdDraft07]);
        assert_eq!(ids.id_formula(), IdFormula::Draft07);
    }

    #[test]
    fn duplicate_message_event_doubles_only_messages() {
        let q = Quirks::new([Quirk::DuplicateMessageEvent]);
        let ev = |kind| ClientEvent {
            client: "c".into(),
            room: "r".into(),
            kind,
        };
        let mut events = vec![
            ev(EventKind::EpochChanged { epoch: 2 }),
            ev(EventKind::Message {
                sender: "s".into(),
                content: "AA==".into(),
                accepted_timestamp: None,
                wire_format: "private".into(),
            }),
        ];
        q.client_events(&mut events);
        assert_eq!(events.len(), 3);
        assert!(matches!(events[0].kind, EventKind::EpochChanged { .. }));
        assert!(matches!(events[1].kind, EventKind::Message { .. }));
        assert!(matches!(events[2].kind, EventKind::Message { .. }));
    }

    #[test]
    fn room_state_quirks_change_the_answer() {
        let state = ClientRoomState {
            client: "mimi://a.example/d/alice-1".into(),
            epoch: 3,
            epoch_authenticator: "00".into(),
            participants: vec![
                Participant {
                    user: "mimi://a.example/u/alice".into(),
                    role: "admin".into(),
                },
                Participant {
                    user: "mimi://b.example/u/bob".into(),
                    role: "user".into(),
                },
            ],
            members: vec![],
            metadata: Default::default(),
        };
        let mut s = vec![state.clone()];
        Quirks::default().room_states("a.example", &mut s);
        assert_eq!(s[0], state);
        Quirks::new([Quirk::WrongEpochReport]).room_states("a.example", &mut s);
        assert_eq!(s[0].epoch, 2);
        Quirks::new([Quirk::LocalRoster]).room_states("a.example", &mut s);
        assert_eq!(s[0].participants.len(), 1);
        assert_eq!(s[0].participants[0].user, "mimi://a.example/u/alice");
    }
}
