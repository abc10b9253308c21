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
    EditByAnyone,
    DeletedMessageShown,
    OrdinaryUserDeletesOthers,
    BanAsKick,
    DmOpenRoom,
    OrdinaryUserCanKick,
    DropsInReplyTo,
    DropsTopicId,
    UnlikeIgnored,
    MetadataTopicIgnored,
    ProfileCustomClaim,
    CallLinkAsText,
    RoomUriIsGroupId,
    AssetHashOfPlaintext,
    NoReadReceipts,
    IgnoresConsent,
}

impl Quirk {
    pub const ALL: [Quirk; 25] = [
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
        Quirk::EditByAnyone,
        Quirk::DeletedMessageShown,
        Quirk::OrdinaryUserDeletesOthers,
        Quirk::BanAsKick,
        Quirk::DmOpenRoom,
        Quirk::OrdinaryUserCanKick,
        Quirk::DropsInReplyTo,
        Quirk::DropsTopicId,
        Quirk::UnlikeIgnored,
        Quirk::MetadataTopicIgnored,
        Quirk::ProfileCustomClaim,
        Quirk::CallLinkAsText,
        Quirk::RoomUriIsGroupId,
        Quirk::AssetHashOfPlaintext,
        Quirk::NoReadReceipts,
    ];

    /// Quirks of behaviour outside the requirements' 22 features (consent
    /// belongs to "Moderation and Personal Safety"): no suite can catch
    /// them, so the mutation proof leaves them out and integration tests
    /// (`tests/it/consent.rs`) prove them instead.
    pub const BEYOND_SUITES: [Quirk; 1] = [Quirk::IgnoresConsent];

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
            Quirk::EditByAnyone => "edit-by-anyone",
            Quirk::DeletedMessageShown => "deleted-message-shown",
            Quirk::OrdinaryUserDeletesOthers => "ordinary-user-deletes-others",
            Quirk::BanAsKick => "ban-as-kick",
            Quirk::DmOpenRoom => "dm-open-room",
            Quirk::OrdinaryUserCanKick => "ordinary-user-can-kick",
            Quirk::DropsInReplyTo => "drops-in-reply-to",
            Quirk::DropsTopicId => "drops-topic-id",
            Quirk::UnlikeIgnored => "unlike-ignored",
            Quirk::MetadataTopicIgnored => "metadata-topic-ignored",
            Quirk::ProfileCustomClaim => "profile-custom-claim",
            Quirk::CallLinkAsText => "call-link-as-text",
            Quirk::RoomUriIsGroupId => "room-uri-is-group-id",
            Quirk::AssetHashOfPlaintext => "asset-hash-of-plaintext",
            Quirk::NoReadReceipts => "no-read-receipts",
            Quirk::IgnoresConsent => "ignores-consent",
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
            Quirk::LocalRoster | Quirk::KickNotCommitted | Quirk::BanAsKick => "membership",
            Quirk::EditByAnyone => "edits",
            Quirk::DeletedMessageShown | Quirk::OrdinaryUserDeletesOthers => "redaction",
            Quirk::DmOpenRoom => "direct-messages",
            Quirk::OrdinaryUserCanKick => "roles",
            Quirk::DropsInReplyTo => "replies",
            Quirk::DropsTopicId => "threads",
            Quirk::UnlikeIgnored => "reactions",
            Quirk::MetadataTopicIgnored => "room-metadata",
            Quirk::ProfileCustomClaim => "profiles",
            Quirk::CallLinkAsText => "voip-1to1",
            Quirk::RoomUriIsGroupId => "text",
            Quirk::AssetHashOfPlaintext => "media",
            Quirk::NoReadReceipts => "read-receipts",
            // Not one of `suite::coverage::FEATURES` (see BEYOND_SUITES).
            Quirk::IgnoresConsent => "consent",
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
            Quirk::EditByAnyone => {
                "clients apply an edit from any user, not only from the message's sender"
            }
            Quirk::DeletedMessageShown => {
                "clients ignore deletes: a deleted message stays in the timeline"
            }
            Quirk::OrdinaryUserDeletesOthers => {
                "any user may delete another's message: `send` does not refuse it and clients apply it whatever the sender's role"
            }
            Quirk::BanAsKick => {
                "`ban` commits a plain removal: the banned role is never recorded, so the user can be added back"
            }
            Quirk::DmOpenRoom => {
                "`create_room` of kind `dm` makes an ordinary group room (no fixed membership) and adds the other user"
            }
            Quirk::OrdinaryUserCanKick => {
                "an ordinary user may remove participants of any role, as an admin could: its clients commit the removal and its hub accepts it"
            }
            Quirk::DropsInReplyTo => {
                "replies are sent without `inReplyTo` (the reply's text arrives as a plain message)"
            }
            Quirk::DropsTopicId => {
                "messages are sent without their `topicId` (threads are flattened)"
            }
            Quirk::UnlikeIgnored => "clients ignore unlikes: a reaction taken back still counts",
            Quirk::MetadataTopicIgnored => {
                "`set_room_metadata` drops the topic (name and avatar still change)"
            }
            Quirk::ProfileCustomClaim => {
                "identifier queries answer the display name under a custom claim `displayName` instead of the OIDC standard claim `name`"
            }
            Quirk::CallLinkAsText => {
                "a call link (disposition `session`) is sent with disposition `render`, as ordinary content"
            }
            Quirk::RoomUriIsGroupId => {
                "the content's roomUri extension names the MLS group ID (`mimi://<domain>/g/<name>`) instead of the room URI"
            }
            Quirk::AssetHashOfPlaintext => {
                "an uploaded attachment's ExternalPart hash is computed over the plaintext instead of the stored ciphertext"
            }
            Quirk::NoReadReceipts => {
                "`mark_read` answers success with the report it would have sent but never sends it"
            }
            Quirk::IgnoresConsent => {
                "the provider hands out KeyPackages of a consent-requiring user without consent"
            }
        }
    }

    /// The quirk called `name`, or an error listing the known ones.
    pub fn parse(name: &str) -> Result<Self, UnknownQuirkError> {
        Self::ALL
            .into_iter()
            .chain(Self::BEYOND_SUITES)
            .find(|q| q.name() == name)
            .ok_or_else(|| UnknownQuirkError {
                name: name.to_owned(),
                known: Self::ALL
                    .into_iter()
                    .chain(Self::BEYOND_SUITES)
                    .map(Quirk::name)
                    .collect::<Vec<_>>()
                    .join(", "),
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

/// How a client applies relations (content-08 §5.5–§5.7, §9.3) to its
/// timeline. The default is the drafts' rules; each flag is a quirk's
/// departure from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relations {
    /// Edits from users other than the sender are applied.
    pub edits_from_anyone: bool,
    /// Deletes of messages are not applied.
    pub deletes_ignored: bool,
    /// Deletes of others' messages are applied whatever the sender's role.
    pub deletes_from_anyone: bool,
    /// Unlikes (deletes of reactions) are not applied.
    pub unlikes_ignored: bool,
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

    /// text-as-plain, unicode-nfc, drops-in-reply-to, drops-topic-id,
    /// call-link-as-text: the intent the content is built from.
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
        if self.has(Quirk::DropsInReplyTo) {
            map.remove("reply_to");
        }
        if self.has(Quirk::DropsTopicId) {
            map.remove("topic");
            map.remove("topic_hex");
        }
        if self.has(Quirk::CallLinkAsText)
            && map.get("disposition").and_then(Value::as_str) == Some("session")
        {
            map.insert("disposition".into(), "render".into());
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

    /// no-read-receipts: whether `mark_read` really sends its report.
    pub(crate) fn sends_read_receipts(&self) -> bool {
        !self.has(Quirk::NoReadReceipts)
    }

    /// new-device-not-joined: whether a new device joins its user's rooms.
    pub(crate) fn joins_new_device(&self) -> bool {
        !self.has(Quirk::NewDeviceNotJoined)
    }

    /// room-uri-is-group-id: the roomUri extension content is built with.
    pub(crate) fn content_room_uri(&self, room: &str) -> String {
        match ids::group_id_of_room(room) {
            Some(group) if self.has(Quirk::RoomUriIsGroupId) => group,
            _ => room.to_owned(),
        }
    }

    /// asset-hash-of-plaintext: the contentHash an uploaded attachment's
    /// ExternalPart carries (sealed over the stored ciphertext).
    pub(crate) fn asset_part(
        &self,
        mut part: crate::content::ExternalPart,
        plaintext: &[u8],
    ) -> crate::content::ExternalPart {
        if self.has(Quirk::AssetHashOfPlaintext) {
            part.content_hash = crate::content::attachment::sha256(plaintext);
        }
        part
    }

    /// edit-by-anyone, deleted-message-shown, ordinary-user-deletes-others,
    /// unlike-ignored: the rules clients apply relations by.
    pub(crate) fn relations(&self) -> Relations {
        Relations {
            edits_from_anyone: self.has(Quirk::EditByAnyone),
            deletes_ignored: self.has(Quirk::DeletedMessageShown),
            deletes_from_anyone: self.has(Quirk::OrdinaryUserDeletesOthers),
            unlikes_ignored: self.has(Quirk::UnlikeIgnored),
        }
    }

    /// ordinary-user-deletes-others: whether `send` holds a delete of
    /// another's message to the sender's role.
    pub(crate) fn checks_deletes(&self) -> bool {
        !self.has(Quirk::OrdinaryUserDeletesOthers)
    }

    /// ban-as-kick: whether `ban` records the ban (or only removes).
    pub(crate) fn records_bans(&self) -> bool {
        !self.has(Quirk::BanAsKick)
    }

    /// dm-open-room: whether a `dm` gets fixed membership.
    pub(crate) fn fixed_dms(&self) -> bool {
        !self.has(Quirk::DmOpenRoom)
    }

    /// ordinary-user-can-kick: whether removals are held to the remover's
    /// role (by the clients before committing and by the hub).
    pub(crate) fn checks_kicks(&self) -> bool {
        !self.has(Quirk::OrdinaryUserCanKick)
    }

    /// metadata-topic-ignored: the topic `set_room_metadata` applies.
    pub(crate) fn metadata_topic<'a>(&self, topic: Option<&'a str>) -> Option<&'a str> {
        topic.filter(|_| !self.has(Quirk::MetadataTopicIgnored))
    }

    /// profile-custom-claim: the claim name identifier queries answer the
    /// display name under.
    pub(crate) fn name_claim<'a>(&self, standard: &'a str) -> &'a str {
        if self.has(Quirk::ProfileCustomClaim) {
            "displayName"
        } else {
            standard
        }
    }

    /// ignores-consent: whether KeyPackages go out without consent.
    pub(crate) fn ignores_consent(&self) -> bool {
        self.has(Quirk::IgnoresConsent)
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
    fn ignores_consent_is_parsed_but_beyond_the_suites() {
        let q = Quirks::parse_names(&["ignores-consent".into()]).unwrap();
        assert!(q.ignores_consent());
        assert!(!Quirks::default().ignores_consent());
        assert!(!Quirk::ALL.contains(&Quirk::IgnoresConsent));
        assert!(crate::suite::coverage::feature(Quirk::IgnoresConsent.breaks()).is_none());
        assert!(
            Quirk::parse("nope")
                .unwrap_err()
                .to_string()
                .ends_with("ignores-consent")
        );
    }

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
    fn asset_hash_of_plaintext_hashes_the_plaintext() {
        let base = crate::content::ExternalPart::default();
        let (sealed, stored) =
            crate::content::attachment::seal(b"pixels", base, [1; 16], [2; 12]).unwrap();
        let honest = Quirks::default().asset_part(sealed.clone(), b"pixels");
        assert_eq!(honest, sealed);
        assert!(crate::content::attachment::open(&honest, &stored).is_ok());
        let q = Quirks::new([Quirk::AssetHashOfPlaintext]);
        let bad = q.asset_part(sealed, b"pixels");
        assert_eq!(
            bad.content_hash,
            crate::content::attachment::sha256(b"pixels")
        );
        assert!(matches!(
            crate::content::attachment::open(&bad, &stored),
            Err(crate::content::attachment::AttachmentError::HashMismatch { .. })
        ));
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

    #[test]
    fn reply_thread_and_call_quirks_rewrite_the_intent() {
        let reply = serde_json::json!({"text": "Pizza?", "reply_to": "00"});
        let q = Quirks::new([Quirk::DropsInReplyTo]);
        assert_eq!(q.intent(&reply), serde_json::json!({"text": "Pizza?"}));
        // A reaction's `to` is not a reply: it stays.
        let like = serde_json::json!({"reaction": "👍", "to": "00"});
        assert_eq!(q.intent(&like), like);
        let q = Quirks::new([Quirk::DropsTopicId]);
        assert_eq!(
            q.intent(&serde_json::json!({"text": "t", "topic": "pens"})),
            serde_json::json!({"text": "t"})
        );
        let q = Quirks::new([Quirk::CallLinkAsText]);
        let call = serde_json::json!({"url": "https://x/j", "disposition": "session"});
        assert_eq!(q.intent(&call)["disposition"], "render");
        let img = serde_json::json!({"url": "https://x/i", "disposition": "inline"});
        assert_eq!(q.intent(&img), img);
        assert_eq!(Quirks::default().intent(&call), call);
    }

    #[test]
    fn room_uri_is_group_id_names_the_group_in_content() {
        let room = "mimi://a.example/r/club";
        assert_eq!(Quirks::default().content_room_uri(room), room);
        assert_eq!(
            Quirks::new([Quirk::RoomUriIsGroupId]).content_room_uri(room),
            "mimi://a.example/g/club"
        );
    }

    #[test]
    fn policy_and_profile_quirks_switch_their_rule_off() {
        let clean = Quirks::default();
        assert!(clean.checks_deletes() && clean.records_bans() && clean.fixed_dms());
        assert!(clean.checks_kicks());
        assert_eq!(clean.metadata_topic(Some("t")), Some("t"));
        assert_eq!(clean.name_claim("name"), "name");
        assert_eq!(clean.relations(), Relations::default());
        assert!(!Quirks::new([Quirk::OrdinaryUserDeletesOthers]).checks_deletes());
        assert!(!Quirks::new([Quirk::BanAsKick]).records_bans());
        assert!(!Quirks::new([Quirk::DmOpenRoom]).fixed_dms());
        assert!(!Quirks::new([Quirk::OrdinaryUserCanKick]).checks_kicks());
        let q = Quirks::new([Quirk::MetadataTopicIgnored]);
        assert_eq!(q.metadata_topic(Some("t")), None);
        let q = Quirks::new([Quirk::ProfileCustomClaim]);
        assert_eq!(q.name_claim("name"), "displayName");
        // Each relation quirk sets its own flag (the timeline's test shows
        // what each flag does to the view).
        let flags = |q: Quirk| Quirks::new([q]).relations();
        assert!(flags(Quirk::EditByAnyone).edits_from_anyone);
        assert!(flags(Quirk::DeletedMessageShown).deletes_ignored);
        assert!(flags(Quirk::OrdinaryUserDeletesOthers).deletes_from_anyone);
        assert!(flags(Quirk::UnlikeIgnored).unlikes_ignored);
    }

    #[test]
    fn no_read_receipts_keeps_mark_read_from_sending() {
        assert!(Quirks::default().sends_read_receipts());
        let q = Quirks::new([Quirk::NoReadReceipts]);
        assert!(!q.sends_read_receipts());
        // The other hooks are untouched.
        assert!(q.commits_kick());
        assert!(q.joins_new_device());
        assert_eq!(Quirk::parse("no-read-receipts"), Ok(Quirk::NoReadReceipts));
        assert_eq!(Quirk::NoReadReceipts.breaks(), "read-receipts");
    }
}
