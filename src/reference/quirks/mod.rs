//! Quirks: deliberate, realistic deviations the reference provider can
//! switch on, to prove the suites catch broken providers (`docs/coverage.md`,
//! `tests/it/mutation.rs`).
//!
//! Each quirk changes behaviour at one place in `src/reference/`, marked with
//! a `QUIRK <name>` comment that calls into [`Quirks`]; everything a quirk
//! decides lives here. A provider without quirks takes none of these paths.

mod hooks;

pub use hooks::{Quirks, Relations};

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
    EpochAhead,
    MembersOffByOne,
    LocalRoster,
    KickNotCommitted,
    NewDeviceNotJoined,
    EditByAnyone,
    DeletedMessageShown,
    OrdinaryUserDeletesOthers,
    BanAsKick,
    BanOnlyMembers,
    DmOpenRoom,
    MaxUsersDropped,
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
    DropWhenUnreachable,
    ContentUrisUnchecked,
    DuplicateIdsShown,
    ReactionCountedPerMessage,
    ExpiryIgnored,
    UnknownDispositionHidden,
    ForbiddenStatusShown,
    LeaveOneDevice,
    ZeroSalt,
    TimestampsInSeconds,
    InvalidContentPlaceholder,
    FirstStatusWins,
    EditChainsIgnored,
    IgnoresConsent,
    HubSkipsPolicy,
    HubAcceptsNonMembers,
    HubTrustsSendingUri,
    FromUnchecked,
    NotifyFromAnyone,
    GroupInfoToAnyone,
    RetryRestamps,
    HubTrustsForeignClients,
    HubOpenJoins,
    HubFansOutRefused,
    WelcomeToEveryProvider,
    HubUnlistedClients,
    FollowerTakesAnyNotify,
    HubKeepsForeignRemovals,
    HubKeepsStaleGroupInfo,
    DeviceRemovalIsALeave,
    HubDropsHeldProposals,
    FollowerSwallowsBadNotify,
    HubTakesAnyReport,
    FollowerFansOut,
    HubTimestampsTrusted,
}

impl Quirk {
    pub const ALL: [Quirk; 64] = [
        Quirk::MessageIdDraft07,
        Quirk::TextAsPlain,
        Quirk::UnicodeNfc,
        Quirk::DuplicateMessageEvent,
        Quirk::ReorderFanout,
        Quirk::DropEveryTenth,
        Quirk::WrongEpochReport,
        Quirk::EpochAhead,
        Quirk::MembersOffByOne,
        Quirk::LocalRoster,
        Quirk::KickNotCommitted,
        Quirk::NewDeviceNotJoined,
        Quirk::EditByAnyone,
        Quirk::DeletedMessageShown,
        Quirk::OrdinaryUserDeletesOthers,
        Quirk::BanAsKick,
        Quirk::BanOnlyMembers,
        Quirk::DmOpenRoom,
        Quirk::MaxUsersDropped,
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
        Quirk::DropWhenUnreachable,
        Quirk::ContentUrisUnchecked,
        Quirk::DuplicateIdsShown,
        Quirk::ReactionCountedPerMessage,
        Quirk::ExpiryIgnored,
        Quirk::UnknownDispositionHidden,
        Quirk::ForbiddenStatusShown,
        Quirk::LeaveOneDevice,
        Quirk::ZeroSalt,
        Quirk::TimestampsInSeconds,
        Quirk::InvalidContentPlaceholder,
        Quirk::FirstStatusWins,
        Quirk::EditChainsIgnored,
        Quirk::HubSkipsPolicy,
        Quirk::HubAcceptsNonMembers,
        Quirk::HubTrustsSendingUri,
        Quirk::FromUnchecked,
        Quirk::NotifyFromAnyone,
        Quirk::GroupInfoToAnyone,
        Quirk::RetryRestamps,
        Quirk::HubTrustsForeignClients,
        Quirk::HubOpenJoins,
        Quirk::HubFansOutRefused,
        Quirk::WelcomeToEveryProvider,
        Quirk::HubUnlistedClients,
        Quirk::FollowerTakesAnyNotify,
        Quirk::HubKeepsForeignRemovals,
        Quirk::HubKeepsStaleGroupInfo,
        Quirk::DeviceRemovalIsALeave,
        Quirk::HubDropsHeldProposals,
        Quirk::FollowerSwallowsBadNotify,
        Quirk::HubTakesAnyReport,
        Quirk::IgnoresConsent,
        Quirk::FollowerFansOut,
        Quirk::HubTimestampsTrusted,
    ];

    /// Quirks no shipped suite can catch (integration tests prove them
    /// instead); none at the moment.
    pub const BEYOND_SUITES: [Quirk; 0] = [];

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
            Quirk::EpochAhead => "epoch-ahead",
            Quirk::MembersOffByOne => "members-off-by-one",
            Quirk::LocalRoster => "local-roster",
            Quirk::KickNotCommitted => "kick-not-committed",
            Quirk::NewDeviceNotJoined => "new-device-not-joined",
            Quirk::EditByAnyone => "edit-by-anyone",
            Quirk::DeletedMessageShown => "deleted-message-shown",
            Quirk::OrdinaryUserDeletesOthers => "ordinary-user-deletes-others",
            Quirk::BanAsKick => "ban-as-kick",
            Quirk::BanOnlyMembers => "ban-only-members",
            Quirk::DmOpenRoom => "dm-open-room",
            Quirk::MaxUsersDropped => "max-users-dropped",
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
            Quirk::DropWhenUnreachable => "drop-when-unreachable",
            Quirk::ContentUrisUnchecked => "content-uris-unchecked",
            Quirk::DuplicateIdsShown => "duplicate-ids-shown",
            Quirk::ReactionCountedPerMessage => "reaction-counted-per-message",
            Quirk::ExpiryIgnored => "expiry-ignored",
            Quirk::UnknownDispositionHidden => "unknown-disposition-hidden",
            Quirk::ForbiddenStatusShown => "forbidden-status-shown",
            Quirk::LeaveOneDevice => "leave-one-device",
            Quirk::ZeroSalt => "zero-salt",
            Quirk::TimestampsInSeconds => "timestamps-in-seconds",
            Quirk::InvalidContentPlaceholder => "invalid-content-placeholder",
            Quirk::FirstStatusWins => "first-status-wins",
            Quirk::EditChainsIgnored => "edit-chains-ignored",
            Quirk::IgnoresConsent => "ignores-consent",
            Quirk::HubSkipsPolicy => "hub-skips-policy",
            Quirk::HubAcceptsNonMembers => "hub-accepts-non-members",
            Quirk::HubTrustsSendingUri => "hub-trusts-sending-uri",
            Quirk::FromUnchecked => "from-unchecked",
            Quirk::NotifyFromAnyone => "notify-from-anyone",
            Quirk::GroupInfoToAnyone => "group-info-to-anyone",
            Quirk::RetryRestamps => "retry-restamps",
            Quirk::HubTrustsForeignClients => "hub-trusts-foreign-clients",
            Quirk::HubOpenJoins => "hub-open-joins",
            Quirk::HubFansOutRefused => "hub-fans-out-refused",
            Quirk::WelcomeToEveryProvider => "welcome-to-every-provider",
            Quirk::HubUnlistedClients => "hub-unlisted-clients",
            Quirk::FollowerTakesAnyNotify => "follower-takes-any-notify",
            Quirk::HubKeepsForeignRemovals => "hub-keeps-foreign-removals",
            Quirk::HubKeepsStaleGroupInfo => "hub-keeps-stale-group-info",
            Quirk::DeviceRemovalIsALeave => "device-removal-is-a-leave",
            Quirk::HubDropsHeldProposals => "hub-drops-held-proposals",
            Quirk::FollowerSwallowsBadNotify => "follower-swallows-bad-notify",
            Quirk::HubTakesAnyReport => "hub-takes-any-report",
            Quirk::FollowerFansOut => "follower-fans-out",
            Quirk::HubTimestampsTrusted => "hub-timestamps-trusted",
        }
    }

    /// The id (in `suite::coverage::FEATURES`) of the requirement it breaks,
    /// or the feature id of the protocol suite (`protocol-…`) whose rule.
    pub fn breaks(self) -> &'static str {
        match self {
            Quirk::MessageIdDraft07 | Quirk::TextAsPlain | Quirk::UnicodeNfc => "text",
            Quirk::DuplicateMessageEvent
            | Quirk::ReorderFanout
            | Quirk::DropEveryTenth
            | Quirk::DropWhenUnreachable => "reliable-sync",
            Quirk::WrongEpochReport
            | Quirk::EpochAhead
            | Quirk::MembersOffByOne
            | Quirk::NewDeviceNotJoined => "encryption",
            Quirk::LocalRoster
            | Quirk::KickNotCommitted
            | Quirk::BanAsKick
            | Quirk::BanOnlyMembers
            | Quirk::MaxUsersDropped => "membership",
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
            Quirk::ContentUrisUnchecked => "text",
            Quirk::DuplicateIdsShown => "text",
            Quirk::ReactionCountedPerMessage => "reactions",
            Quirk::ExpiryIgnored => "redaction",
            Quirk::UnknownDispositionHidden => "text",
            Quirk::ForbiddenStatusShown => "read-receipts",
            Quirk::LeaveOneDevice => "membership",
            Quirk::ZeroSalt => "text",
            Quirk::TimestampsInSeconds => "reliable-sync",
            Quirk::InvalidContentPlaceholder => "text",
            Quirk::FirstStatusWins => "read-receipts",
            Quirk::EditChainsIgnored => "edits",
            Quirk::IgnoresConsent => "protocol-room-access",
            // Rules of the protocol drafts: the protocol suites' features.
            Quirk::HubSkipsPolicy => "protocol-hub-authorization",
            Quirk::HubAcceptsNonMembers => "protocol-hub-authorization",
            Quirk::HubTrustsSendingUri => "protocol-provider-authentication",
            Quirk::FromUnchecked => "protocol-provider-authentication",
            Quirk::NotifyFromAnyone => "protocol-provider-authentication",
            Quirk::GroupInfoToAnyone => "protocol-room-access",
            Quirk::RetryRestamps => "reliable-sync",
            Quirk::HubTrustsForeignClients => "protocol-provider-authentication",
            Quirk::HubOpenJoins => "protocol-room-access",
            Quirk::HubFansOutRefused => "protocol-hub-authorization",
            Quirk::WelcomeToEveryProvider => "membership",
            Quirk::HubUnlistedClients => "protocol-hub-authorization",
            Quirk::FollowerTakesAnyNotify => "protocol-provider-authentication",
            Quirk::HubKeepsForeignRemovals => "protocol-hub-authorization",
            Quirk::HubKeepsStaleGroupInfo => "protocol-room-access",
            Quirk::DeviceRemovalIsALeave => "direct-messages",
            Quirk::HubDropsHeldProposals => "protocol-hub-authorization",
            Quirk::FollowerSwallowsBadNotify => "protocol-malformed-bodies",
            Quirk::HubTakesAnyReport => "protocol-hub-authorization",
            Quirk::FollowerFansOut => "reliable-sync",
            Quirk::HubTimestampsTrusted => "protocol-hub-timestamps",
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
            Quirk::EpochAhead => {
                "`room_state` reports the epoch the group's next commit would create, one higher than its own (the pending epoch for the current one)"
            }
            Quirk::MembersOffByOne => {
                "`room_state` leaves the last of the group's clients out of `members` (an off-by-one loop over the leaves)"
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
            Quirk::BanOnlyMembers => {
                "`ban` of a user outside the participant list is refused as \"not a participant\" (a ban before joining is never recorded)"
            }
            Quirk::DmOpenRoom => {
                "`create_room` of kind `dm` makes an ordinary group room (no fixed membership) and adds the other user"
            }
            Quirk::MaxUsersDropped => {
                "`create_room` takes `max_users` but makes the room without it: its participant list has no limit"
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
            Quirk::DropWhenUnreachable => {
                "the hub drops a notify it could not deliver to a follower on the first attempt instead of retrying it"
            }
            Quirk::NoReadReceipts => {
                "`mark_read` answers success with the report it would have sent but never sends it"
            }
            Quirk::ContentUrisUnchecked => {
                "clients show content whose senderUri or roomUri extension names another user or room than the MLS sender and the room it came in"
            }
            Quirk::DuplicateIdsShown => {
                "clients show a second message with an ID they already have (no duplicate check on receipt)"
            }
            Quirk::ReactionCountedPerMessage => {
                "clients count reaction messages, not users: the same reaction twice from one user counts twice"
            }
            Quirk::ExpiryIgnored => {
                "clients ignore `expires`: a message past its expiry stays in the timeline"
            }
            Quirk::UnknownDispositionHidden => {
                "clients hide a message whose disposition they do not know instead of rendering it"
            }
            Quirk::ForbiddenStatusShown => {
                "clients apply every status a received report gives, even one the room's status notification policy forbids"
            }
            Quirk::LeaveOneDevice => {
                "`leave` removes only the leaving device; the user's other devices stay in the group"
            }
            Quirk::ZeroSalt => "`send` builds content with an all-zero salt",
            Quirk::TimestampsInSeconds => {
                "the hub stamps messages with seconds since the epoch instead of milliseconds"
            }
            Quirk::InvalidContentPlaceholder => {
                "clients show content they must discard (not CBOR, not UTF-8, over the draft's limits) as a placeholder message instead of dropping it"
            }
            Quirk::FirstStatusWins => {
                "clients keep the first status a user reported for a message: a later `read` does not replace `delivered`"
            }
            Quirk::EditChainsIgnored => {
                "clients apply only edits and deletes that name the first version, not those that name a later edit"
            }
            Quirk::IgnoresConsent => {
                "the provider hands out KeyPackages of a consent-requiring user without consent"
            }
            Quirk::HubSkipsPolicy => {
                "the hub merges any commit a member sends without holding it to the room's policy (roles, capabilities, bans); the provider's own clients still check before they commit"
            }
            Quirk::HubAcceptsNonMembers => {
                "the hub fans out messages from users who are no longer (or never were) active participants: removed and banned users' messages go through"
            }
            Quirk::HubTrustsSendingUri => {
                "the hub takes a submitMessage whose sendingUri names a user the sending provider does not host"
            }
            Quirk::FromUnchecked => {
                "the provider takes the `From` header's domain as the request's source without checking that the client certificate authenticates it"
            }
            Quirk::NotifyFromAnyone => {
                "the provider takes `/notify` for a room from any peer, not only from the room's hub"
            }
            Quirk::GroupInfoToAnyone => {
                "the hub hands the room's GroupInfo and tree to any requester, participant or not"
            }
            Quirk::HubFansOutRefused => {
                "the hub answers notAllowed to a message from a removed or banned user, as it must, but fans the message out anyway (validation and fan-out run apart)"
            }
            Quirk::RetryRestamps => {
                "the hub re-stamps a notify it sends again after a failed delivery (new accepted timestamps, so new bytes the follower cannot tell from a new message)"
            }
            Quirk::HubUnlistedClients => {
                "the hub holds participant-list changes to the room's policy but not the MLS membership to the list: a member can add clients of a user who is not a participant, or ban a user and leave the user's clients in the group"
            }
            Quirk::HubKeepsForeignRemovals => {
                "the hub holds commits to the room's policy but keeps any Remove proposal a member sends, of anyone's clients, for the next committer to carry out"
            }
            Quirk::HubKeepsStaleGroupInfo => {
                "the hub checks the signature of the GroupInfo a commit brings but not its epoch: it keeps a GroupInfo of an earlier epoch and hands it to joining devices"
            }
            Quirk::DeviceRemovalIsALeave => {
                "the hub takes any Remove proposal of a client's own user for a leave and holds it to the leave rule: a device unlinking itself from a DM (fixed membership) is refused"
            }
            Quirk::HubDropsHeldProposals => {
                "the hub holds the proposals it accepts but takes a commit that leaves them out (the held proposals are then lost: a leaving user's devices stay)"
            }
            Quirk::FollowerSwallowsBadNotify => {
                "the follower answers 201 to a notify body it cannot decode and drops it (accept, log and move on)"
            }
            Quirk::FollowerFansOut => {
                "after the hub accepts a message from one of its clients, the follower also sends it to the room's other providers in a `/notify` of its own, as if it were the hub (the hub among them)"
            }
            Quirk::HubTimestampsTrusted => {
                "clients show a message whatever the hub's accepted timestamp says: one stamped an hour ahead of their clock, or a day before the room existed"
            }
            Quirk::HubTakesAnyReport => {
                "the hub accepts an abuse report from a provider of the room without checking its messages against their franks (content, sender, server frank, signature)"
            }
            Quirk::FollowerTakesAnyNotify => {
                "the provider refuses `/notify` for a room it hosts from anyone else, but as a follower takes it from any authenticated peer, not only from the room's hub"
            }
            Quirk::WelcomeToEveryProvider => {
                "the hub sends a commit's Welcome to every provider with a member in the room, not only to the providers whose KeyPackages it was made for (the others learn who joined)"
            }
            Quirk::HubTrustsForeignClients => {
                "the hub takes GroupInfo requests and commits for clients the sending provider does not host (a provider can join another's user's device)"
            }
            Quirk::HubOpenJoins => {
                "the hub takes an external commit from a client of any user, not only of a user already in the room (a room without open join)"
            }
        }
    }

    /// Every quirk's name, those beyond the suites included: what a targets
    /// file may switch on.
    pub fn names() -> Vec<&'static str> {
        Self::ALL
            .into_iter()
            .chain(Self::BEYOND_SUITES)
            .map(Quirk::name)
            .collect()
    }

    /// The quirk table of `docs/targets.md`, generated so it cannot go
    /// stale: name, the feature it breaks, what it does.
    pub fn markdown_table() -> String {
        let mut out = String::from("| quirk | breaks | what it does |\n|---|---|---|\n");
        for q in Self::ALL.into_iter().chain(Self::BEYOND_SUITES) {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                q.name(),
                q.breaks(),
                q.doc().replace('|', "\\|")
            ));
        }
        out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_consent_is_parsed() {
        let q = Quirks::parse_names(&["ignores-consent".into()]).unwrap();
        assert!(q.ignores_consent());
        assert!(!Quirks::default().ignores_consent());
        assert!(Quirk::ALL.contains(&Quirk::IgnoresConsent));
    }

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_known() {
        for q in Quirk::ALL {
            assert_eq!(Quirk::parse(q.name()), Ok(q));
            assert!(
                crate::suite::coverage::feature(q.breaks()).is_some()
                    || q.breaks().starts_with("protocol-"),
                "{q}"
            );
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
}
