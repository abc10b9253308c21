//! What each quirk changes: the hooks the `QUIRK <name>` call sites use,
//! and the state the quirks remember.

use super::{Quirk, UnknownQuirkError};
use crate::content::IdFormula;
use crate::control::api::{ClientRoomState, EventKind};
use crate::protocol::{FanoutMessage, FanoutTail};
use crate::reference::client::ClientEvent;
use crate::reference::ids;
use crate::reference::server::{Server, lock};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use tokio::sync::oneshot;

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
    /// Reactions count per reaction message, not per user.
    pub reactions_per_message: bool,
    /// Expiry is not applied.
    pub expiry_ignored: bool,
    /// Messages with an unknown disposition are hidden.
    pub unknown_disposition_hidden: bool,
    /// Replacements that name an edit (not the first version) are ignored.
    pub edit_chains_ignored: bool,
    /// A user's first status for a message stands.
    pub first_status_wins: bool,
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

    /// wrong-epoch-report, epoch-ahead, members-off-by-one, local-roster:
    /// what `room_state` answers.
    pub(crate) fn room_states(&self, domain: &str, states: &mut [ClientRoomState]) {
        for s in states {
            if self.has(Quirk::WrongEpochReport) {
                s.epoch = s.epoch.saturating_sub(1);
            }
            if self.has(Quirk::EpochAhead) {
                s.epoch += 1;
            }
            if self.has(Quirk::MembersOffByOne) {
                s.members.pop();
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

    /// drop-when-unreachable: whether a notify that could not be delivered
    /// to a follower is retried.
    pub(crate) fn retries_notify(&self) -> bool {
        !self.has(Quirk::DropWhenUnreachable)
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
            reactions_per_message: self.has(Quirk::ReactionCountedPerMessage),
            expiry_ignored: self.has(Quirk::ExpiryIgnored),
            unknown_disposition_hidden: self.has(Quirk::UnknownDispositionHidden),
            edit_chains_ignored: self.has(Quirk::EditChainsIgnored),
            first_status_wins: self.has(Quirk::FirstStatusWins),
        }
    }

    /// content-uris-unchecked: whether clients hold the senderUri and
    /// roomUri extensions to the MLS sender and the room.
    pub(crate) fn checks_content_uris(&self) -> bool {
        !self.has(Quirk::ContentUrisUnchecked)
    }

    /// invalid-content-placeholder: whether content that must be discarded
    /// is shown as a placeholder.
    pub(crate) fn shows_invalid_content(&self) -> bool {
        self.has(Quirk::InvalidContentPlaceholder)
    }

    /// hub-timestamps-trusted: whether clients discard a message whose
    /// accepted timestamp no honest hub gives (content-08 §8.1).
    pub(crate) fn checks_timestamps(&self) -> bool {
        !self.has(Quirk::HubTimestampsTrusted)
    }

    /// duplicate-ids-shown: whether clients drop a message whose ID they
    /// already have.
    pub(crate) fn drops_duplicate_ids(&self) -> bool {
        !self.has(Quirk::DuplicateIdsShown)
    }

    /// forbidden-status-shown: whether clients hold received reports to
    /// the room's status notification policy.
    pub(crate) fn admits_statuses_by_policy(&self) -> bool {
        !self.has(Quirk::ForbiddenStatusShown)
    }

    /// leave-one-device: whether `leave` removes all the user's devices.
    pub(crate) fn leaves_with_all_devices(&self) -> bool {
        !self.has(Quirk::LeaveOneDevice)
    }

    /// zero-salt: the salt content is built with (`fresh` when honest).
    pub(crate) fn salt(&self, fresh: [u8; 16]) -> [u8; 16] {
        if self.has(Quirk::ZeroSalt) {
            [0; 16]
        } else {
            fresh
        }
    }

    /// timestamps-in-seconds: the accepted timestamp the hub gives out for
    /// its clock reading `ms`.
    pub(crate) fn accepted_timestamp(&self, ms: u64) -> u64 {
        if self.has(Quirk::TimestampsInSeconds) {
            ms / 1000
        } else {
            ms
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

    /// ban-only-members: whether `ban` takes a user outside the
    /// participant list (a ban before joining, from role 0).
    pub(crate) fn bans_outsiders(&self) -> bool {
        !self.has(Quirk::BanOnlyMembers)
    }

    /// max-users-dropped: the `max_users` a group room is created with
    /// (`None`: the request's limit is lost).
    pub(crate) fn max_users(&self, requested: u32) -> Option<u32> {
        (!self.has(Quirk::MaxUsersDropped)).then_some(requested)
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

    /// hub-skips-policy: whether the hub holds commits to the room policy.
    pub(crate) fn hub_checks_policy(&self) -> bool {
        !self.has(Quirk::HubSkipsPolicy)
    }

    /// hub-accepts-non-members: whether the hub checks that a message's
    /// sender is an active participant.
    pub(crate) fn hub_checks_senders(&self) -> bool {
        !self.has(Quirk::HubAcceptsNonMembers)
    }

    /// hub-fans-out-refused: whether a message the hub refuses for its
    /// sender is fanned out all the same.
    pub(crate) fn fans_out_refused(&self) -> bool {
        self.has(Quirk::HubFansOutRefused)
    }

    /// hub-keeps-foreign-removals: whether the hub refuses Remove proposals
    /// of clients that are not the sender's own user's.
    pub(crate) fn hub_checks_proposed_removals(&self) -> bool {
        !self.has(Quirk::HubKeepsForeignRemovals)
    }

    /// hub-drops-held-proposals: whether the hub refuses a commit that
    /// leaves out proposals it holds.
    pub(crate) fn hub_checks_held_proposals(&self) -> bool {
        !self.has(Quirk::HubDropsHeldProposals)
    }

    /// device-removal-is-a-leave: whether the hub tells a device removal
    /// (some of a user's clients) from a leave (all of them).
    pub(crate) fn hub_tells_device_removals(&self) -> bool {
        !self.has(Quirk::DeviceRemovalIsALeave)
    }

    /// hub-keeps-stale-group-info: whether the hub refuses a commit whose
    /// GroupInfo is not for the epoch the commit makes.
    pub(crate) fn hub_checks_group_info_epoch(&self) -> bool {
        !self.has(Quirk::HubKeepsStaleGroupInfo)
    }

    /// hub-takes-any-report: whether the hub checks each reported message
    /// against its frank.
    pub(crate) fn checks_reports(&self) -> bool {
        !self.has(Quirk::HubTakesAnyReport)
    }

    /// follower-swallows-bad-notify: whether a notify body that does not
    /// decode is refused (400) rather than taken and dropped.
    pub(crate) fn refuses_bad_notify(&self) -> bool {
        !self.has(Quirk::FollowerSwallowsBadNotify)
    }

    /// follower-fans-out: whether a follower sends its own accepted
    /// messages on to the room's hub in a notify of its own.
    pub(crate) fn follower_fans_out(&self) -> bool {
        self.has(Quirk::FollowerFansOut)
    }

    /// follower-takes-any-notify: whether a follower checks that a notify
    /// comes from the room's hub (a hub always refuses notifies for its
    /// own rooms unless notify-from-anyone).
    pub(crate) fn follower_checks_notify_source(&self) -> bool {
        !self.has(Quirk::FollowerTakesAnyNotify)
    }

    /// hub-unlisted-clients: whether the hub checks that every member
    /// client belongs to an active participant.
    pub(crate) fn hub_checks_clients(&self) -> bool {
        !self.has(Quirk::HubUnlistedClients)
    }

    /// welcome-to-every-provider: whether the hub sends a Welcome to every
    /// provider the commit goes to, not only to those its KeyPackages name.
    pub(crate) fn welcome_to_every_provider(&self) -> bool {
        self.has(Quirk::WelcomeToEveryProvider)
    }

    /// hub-trusts-sending-uri: whether the hub checks that the sending
    /// provider hosts the message's sender.
    pub(crate) fn hub_checks_origin(&self) -> bool {
        !self.has(Quirk::HubTrustsSendingUri)
    }

    /// hub-trusts-foreign-clients: whether the hub checks that a
    /// committer or GroupInfo requester is a client of the sending provider.
    pub(crate) fn hub_checks_client_origin(&self) -> bool {
        !self.has(Quirk::HubTrustsForeignClients)
    }

    /// hub-open-joins: whether the hub holds an external commit's client to
    /// a user already in the room and in the participant list.
    pub(crate) fn hub_checks_joiners(&self) -> bool {
        !self.has(Quirk::HubOpenJoins)
    }

    /// from-unchecked: whether `From` must name a domain of the certificate.
    pub(crate) fn checks_from(&self) -> bool {
        !self.has(Quirk::FromUnchecked)
    }

    /// notify-from-anyone: whether `/notify` must come from the room's hub.
    pub(crate) fn notify_only_from_hub(&self) -> bool {
        !self.has(Quirk::NotifyFromAnyone)
    }

    /// retry-restamps: whether a notify sent again gets new timestamps.
    pub(crate) fn restamps_retries(&self) -> bool {
        self.has(Quirk::RetryRestamps)
    }

    /// group-info-to-anyone: whether GroupInfo goes to participants only.
    pub(crate) fn group_info_to_participants(&self) -> bool {
        !self.has(Quirk::GroupInfoToAnyone)
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
            members: vec!["mimi://a.example/d/alice/1".into()],
            metadata: Default::default(),
        };
        let mut s = vec![state.clone()];
        Quirks::default().room_states("a.example", &mut s);
        assert_eq!(s[0], state);
        Quirks::new([Quirk::WrongEpochReport]).room_states("a.example", &mut s);
        assert_eq!(s[0].epoch, 2);
        Quirks::new([Quirk::EpochAhead]).room_states("a.example", &mut s);
        assert_eq!(s[0].epoch, 3);
        Quirks::new([Quirk::MembersOffByOne]).room_states("a.example", &mut s);
        assert!(s[0].members.is_empty());
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
        assert!(clean.bans_outsiders());
        assert!(!Quirks::new([Quirk::BanOnlyMembers]).bans_outsiders());
        assert!(!Quirks::new([Quirk::DmOpenRoom]).fixed_dms());
        assert_eq!(clean.max_users(2), Some(2));
        assert_eq!(Quirks::new([Quirk::MaxUsersDropped]).max_users(2), None);
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
        assert!(flags(Quirk::ReactionCountedPerMessage).reactions_per_message);
        assert!(flags(Quirk::ExpiryIgnored).expiry_ignored);
        assert!(flags(Quirk::UnknownDispositionHidden).unknown_disposition_hidden);
        assert!(flags(Quirk::EditChainsIgnored).edit_chains_ignored);
        assert!(flags(Quirk::FirstStatusWins).first_status_wins);
        assert!(!Quirks::default().shows_invalid_content());
        assert!(Quirks::new([Quirk::InvalidContentPlaceholder]).shows_invalid_content());
    }

    #[test]
    fn receiver_and_sender_quirks_switch_their_rule_off() {
        let clean = Quirks::default();
        assert!(clean.checks_content_uris() && clean.drops_duplicate_ids());
        assert!(clean.admits_statuses_by_policy() && clean.leaves_with_all_devices());
        assert_eq!(clean.salt([3; 16]), [3; 16]);
        assert_eq!(clean.accepted_timestamp(1_234_567), 1_234_567);
        assert!(!Quirks::new([Quirk::ContentUrisUnchecked]).checks_content_uris());
        assert!(!Quirks::new([Quirk::DuplicateIdsShown]).drops_duplicate_ids());
        assert!(clean.checks_timestamps());
        assert!(!Quirks::new([Quirk::HubTimestampsTrusted]).checks_timestamps());
        assert!(!Quirks::new([Quirk::ForbiddenStatusShown]).admits_statuses_by_policy());
        assert!(!Quirks::new([Quirk::LeaveOneDevice]).leaves_with_all_devices());
        assert_eq!(Quirks::new([Quirk::ZeroSalt]).salt([3; 16]), [0; 16]);
        assert_eq!(
            Quirks::new([Quirk::TimestampsInSeconds]).accepted_timestamp(1_234_567),
            1_234
        );
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

    #[test]
    fn drop_when_unreachable_stops_notify_retries() {
        assert!(Quirks::default().retries_notify());
        let q = Quirks::new([Quirk::DropWhenUnreachable]);
        assert!(!q.retries_notify());
        // Nothing else changes: delivery itself is untouched.
        assert_eq!(bodies(&q, "r", 3), vec![vec![1], vec![2], vec![3]]);
    }
}
