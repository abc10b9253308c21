//! Control API v1: the request and response types shared by the harness's
//! client ([`super::client`]) and the reference provider's server.
//!
//! Every operation is `POST {control_url}/v1/<operation>` with a JSON body,
//! except `GET /v1/info`. Errors carry [`ErrorBody`]. `docs/control-api.md`
//! is the normative description; keep the two in step.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version segment every path starts with.
pub const VERSION: &str = "v1";

/// `GET /v1/info`: who the target is and what it can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoResponse {
    /// Always `"1"` for this version of the control API.
    pub control_api: String,
    /// Product name, e.g. `"mimi-interop reference provider"`.
    pub implementation: String,
    pub version: String,
    /// The provider domain, e.g. `a.example`.
    pub domain: String,
    /// Base URL of the provider's MIMI protocol endpoints (HTTPS, mutual TLS).
    pub mimi_url: String,
    /// PEM of the CA that issued the provider's certificate: peers trust it.
    pub ca_pem: String,
    /// Draft name → revision, e.g. `"draft-ietf-mimi-protocol" → "06"`.
    pub drafts: BTreeMap<String, String>,
    /// Feature ids (suite `feature:` values) the target implements.
    pub features: Vec<String>,
}

/// `POST /v1/peers`: for this run, where every other provider is and which CA
/// to trust for it. Replaces the previous wiring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeersRequest {
    pub peers: Vec<Peer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    pub domain: String,
    pub mimi_url: String,
    pub ca_pem: String,
}

/// `POST /v1/release`: the case that used these users and rooms is over, so
/// the target may forget them (devices, MLS state, KeyPackages, events, and
/// what it holds of the rooms as hub or follower). Optional: it keeps a long
/// run's memory flat in the number of cases, and never affects a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// User URIs of this target, as `create_user` answered them.
    #[serde(default)]
    pub users: Vec<String>,
    /// Room URIs, as `create_room` answered them; the target forgets what
    /// it holds of each, whichever provider hosts it.
    #[serde(default)]
    pub rooms: Vec<String>,
}

/// `POST /v1/users`: create a user with `clients` devices (default 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Local part; unique per run. The target forms `mimi://<domain>/u/<name>`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Avatar as a URL (`https:` or `data:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default = "one")]
    pub clients: u32,
    /// Whether others need this user's explicit consent (§5.7) before they
    /// can claim its KeyPackages, i.e. add it to a room.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent_required: bool,
}

fn one() -> u32 {
    1
}

/// `POST /v1/profile`: `user` (a local user, the asker) asks for `target`'s
/// profile, which the target's provider answers over MIMI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    pub user: String,
    /// A user URI, of either provider.
    pub target: String,
}

/// The profile `target` shows to others; absent fields were not set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileResponse {
    /// The target's user URI.
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// `POST /v1/download`: one of `user`'s clients fetches and decrypts the
/// attachment (the first ExternalPart) of message `message_id` in `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadRequest {
    pub user: String,
    pub room: String,
    /// Hex of the 32-byte MIMI message ID.
    pub message_id: String,
    /// Which of the user's clients downloads; the first member when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// The decrypted attachment, after its size, hash and tag were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadResponse {
    /// The ExternalPart's media type.
    pub content_type: String,
    /// Base64 (standard alphabet, padded) of the plaintext.
    pub data: String,
    /// Length of the plaintext in bytes.
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserResponse {
    /// `mimi://<domain>/u/<name>`.
    pub user: String,
    /// `mimi://<domain>/d/<client>`, one per device.
    pub clients: Vec<String>,
}

/// `POST /v1/add_client`: a new device for an existing user. It joins the
/// user's rooms (by external commit, in MIMI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddClientRequest {
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddClientResponse {
    pub client: String,
}

/// `POST /v1/remove_client`: one device of a user is unlinked. It leaves
/// every room the user is in (its own Remove proposal, room-policy-03
/// §8.1.2 canRemoveOwnClient, committed by another member); the user stays
/// a participant on its other devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveClientRequest {
    pub user: String,
    /// One of `user`'s clients, not its last.
    pub client: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// Open membership.
    Group,
    /// Fixed membership, exactly two users.
    Dm,
}

/// `POST /v1/create_room`: the creator's provider becomes the room's hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// The creating user's URI.
    pub actor: String,
    /// Local part of the room id; unique per run.
    pub name: String,
    pub kind: RoomKind,
    /// For `dm`: the other user, added as part of creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// The room's status notification policy (room-policy-03 §6.1); the
    /// target's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_policy: Option<StatusPolicy>,
    /// For `group`: the most non-banned users the participant list may hold
    /// (room-policy-03 §5 `max_users`, at least 1); no limit when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,
}

/// room-policy-03 §6.1 `StatusNotificationPolicy`: whether members send
/// delivery notifications and read receipts (draft-mahy-mimi-message-status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPolicy {
    #[serde(default = "optional")]
    pub delivery_notifications: Optionality,
    #[serde(default = "optional")]
    pub read_receipts: Optionality,
}

fn optional() -> Optionality {
    Optionality::Optional
}

/// room-policy-03 §6.1 `Optionality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Optionality {
    /// Each client decides by its local preference.
    Optional,
    Required,
    Forbidden,
}

/// `POST /v1/mark_read`: `actor` marks messages read; its client sends one
/// `application/mimi-message-status` report with status `read` for each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    pub room: String,
    pub actor: String,
    /// Hex message IDs, in report order.
    pub message_ids: Vec<String>,
    /// Which of the actor's clients reports; the first one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomResponse {
    /// `mimi://<hub domain>/r/<name>`.
    pub room: String,
}

/// Membership operations: `add_participant`, `remove_participant` (kick),
/// `ban`, `unban`. `actor` acts on `user` in `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipRequest {
    pub room: String,
    pub actor: String,
    pub user: String,
}

/// `POST /v1/request_consent` and `/v1/cancel_consent`: `actor` (the
/// requester) asks `target` for consent to add it, to `room` or any room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequestRequest {
    pub actor: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// `POST /v1/grant_consent` and `/v1/revoke_consent`: `actor` (the target)
/// allows or forbids `requester` to add it, to `room` or any room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentUpdateRequest {
    pub actor: String,
    pub requester: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// `POST /v1/leave`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveRequest {
    pub room: String,
    pub actor: String,
}

/// `POST /v1/set_role`. Role names: `admin`, `moderator`, `user`, `banned`
/// (the policy draft's example role set); targets may accept more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    pub room: String,
    pub actor: String,
    pub user: String,
    pub role: String,
}

/// `POST /v1/set_room_metadata`: fields left out stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoomMetadataRequest {
    pub room: String,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// Answer to every room-changing operation: the room's MLS epoch after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomChangeResponse {
    pub epoch: u64,
}

/// `POST /v1/send`: `actor` sends to `room` from one of its clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub room: String,
    pub actor: String,
    /// Which of the actor's clients sends; the first one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub content: SendContent,
}

/// What to send: an intent the target turns into MIMI content itself, or
/// exact MIMI content bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SendContent {
    /// The readable JSON form of MIMI content (see `docs/suite-format.md`).
    Intent(serde_json::Value),
    /// Base64 (standard alphabet, padded) of `application/mimi-content` CBOR.
    Raw(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendResponse {
    /// Hex of the 32-byte MIMI message ID.
    pub message_id: String,
    /// Base64 of the exact MIMI content bytes that were encrypted.
    pub content: String,
}

/// `POST /v1/events`: a long-poll. Returns as soon as at least one event past
/// `cursor` exists for any of the user's clients, or after `wait_ms` with an
/// empty list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    pub user: String,
    /// Events with `seq` greater than this are returned; 0 for all.
    #[serde(default)]
    pub cursor: u64,
    #[serde(default)]
    pub wait_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsResponse {
    pub events: Vec<Event>,
    /// Pass back as `cursor` to continue after these events.
    pub cursor: u64,
}

/// Something one of the user's clients observed.
// No `deny_unknown_fields`: serde cannot combine it with `flatten` (every
// field of `kind` would be rejected as unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Event {
    /// Strictly increasing per user.
    pub seq: u64,
    pub client: String,
    pub room: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A decrypted application message.
    Message {
        /// Sender's client URI as the MLS credential names it.
        sender: String,
        /// Base64 of the decrypted MIMI content bytes, untouched.
        content: String,
        /// The hub's accepted_timestamp, milliseconds since the Unix epoch.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accepted_timestamp: Option<u64>,
        /// `private` or `public`: the MLS wire format the message came in.
        wire_format: String,
    },
    /// The client became a member of the room.
    Joined { epoch: u64 },
    /// The client was removed from the room (kicked, banned or left).
    Removed { epoch: u64 },
    /// The room moved to a new epoch (membership, roles or metadata changed).
    EpochChanged { epoch: u64 },
    /// `requester` asks this user for consent (`room` is the room it is
    /// for, empty for any room; `client` is empty: consent is per user).
    ConsentRequested { requester: String },
    /// `requester` withdrew its consent request.
    ConsentCancelled { requester: String },
    /// `target` granted this user consent to add it.
    ConsentGranted { target: String },
    /// `target` revoked (or preemptively denied) that consent.
    ConsentRevoked { target: String },
}

/// `POST /v1/room_state`: the room as each of `user`'s clients sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomStateRequest {
    pub room: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomStateResponse {
    pub clients: Vec<ClientRoomState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRoomState {
    pub client: String,
    pub epoch: u64,
    /// Hex of the MLS epoch authenticator (RFC 9420 §8.7).
    pub epoch_authenticator: String,
    /// Users in the participant list with their role names, sorted by user.
    pub participants: Vec<Participant>,
    /// Client URIs in the MLS group, sorted.
    pub members: Vec<String>,
    #[serde(default)]
    pub metadata: RoomMetadata,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub user: String,
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// Body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `not_found`, `refused`,
    /// `unsupported`, `peer_error`, `internal`.
    pub code: String,
    /// One line a person can act on.
    pub message: String,
}

/// An empty JSON object, for operations with nothing to say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /v1/timeline`: the room's messages as each of `user`'s clients
/// shows them, after replies, reactions, edits, deletes and expiry are
/// applied (draft-ietf-mimi-content-08 §4.1, §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineRequest {
    pub room: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineResponse {
    pub clients: Vec<ClientTimeline>,
}

/// One client's view of the room's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTimeline {
    pub client: String,
    /// The visible messages, oldest first: by the hub's accepted timestamp,
    /// ties by the lower message ID.
    pub messages: Vec<TimelineMessage>,
}

/// One visible message. Reactions, edits, deletes and unlikes are not
/// messages of their own here: they change the message they refer to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineMessage {
    /// Hex of the message ID of the first version of the message.
    pub message_id: String,
    /// The sending user's URI.
    pub sender: String,
    /// The current content in the readable JSON form (`docs/content.md`):
    /// the original message with the latest edit's body.
    pub body: serde_json::Value,
    /// Whether an edit by the sender replaced the body.
    #[serde(default)]
    pub edited: bool,
    /// Hex ID of the message this one replies to (`inReplyTo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Reaction text → how many users currently react with it.
    #[serde(default)]
    pub reactions: BTreeMap<String, u32>,
    /// The topic (`topicId`) as UTF-8 text, or hex when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The hub's accepted timestamp, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_timestamp: Option<u64>,
    /// Reporting user URI → the latest status that user reported for this
    /// message (`delivered`, `read`, …; an unknown code as its number).
    /// The client's own user's reports are not listed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, serde_json::Value>,
}

/// `POST /v1/report_abuse`: `actor` reports messages of `room` it received
/// from `alleged_abuser` to the room's hub, with their franks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportAbuseRequest {
    pub actor: String,
    pub room: String,
    /// Hex message IDs of messages the actor's clients received.
    pub message_ids: Vec<String>,
    /// `AbuseType` (only `reserved(0)` is defined); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub alleged_abuser: String,
}

/// `POST /v1/abuse_reports` (test observation, on the hub's provider): the
/// abuse reports the hub accepted for `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbuseReportsRequest {
    pub room: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbuseReportsResponse {
    pub reports: Vec<AcceptedAbuseReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedAbuseReport {
    pub reporting_user: String,
    pub alleged_abuser: String,
    pub reason: u8,
    pub note: String,
    /// Accepted timestamps of the reported messages, in report order.
    pub accepted_timestamps: Vec<u64>,
}

/// `POST /v1/message_franks` (test observation): the franks `user`'s
/// clients kept for messages they received in `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageFranksRequest {
    pub room: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageFranksResponse {
    pub clients: Vec<ClientFranks>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFranks {
    pub client: String,
    /// By message ID.
    pub messages: Vec<MessageFrank>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageFrank {
    /// Hex message ID.
    pub message_id: String,
    /// The sending user's URI.
    pub sender: String,
    pub accepted_timestamp: u64,
    /// Whether the hub's frank verified (signature, tag, sender and room).
    pub verified: bool,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// `POST /v1/forge`: not part of the control API a target implements. The
/// harness sends it to its own adversary provider (a reference provider):
/// `actor`, a user of the adversary, sends the hub of `room` a request the
/// drafts require the hub to refuse. `docs/protocol-suites.md` lists what
/// each forgery sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgeRequest {
    pub forgery: Forgery,
    pub actor: String,
    pub room: String,
    /// The user a forgery names (removed, banned, added, promoted,
    /// impersonated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// For `commit_role`: the role to give (default `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// For the malformed-body forgeries: the endpoint the body goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<ForgeEndpoint>,
}

/// What the adversary sent, and what it made of the answer. The harness
/// judges by the answer it sees on the wire, not by `answer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgeResponse {
    pub sent: String,
    pub answer: String,
    /// A forgery that sends a message (`message_stamped_*`): its ID, for
    /// the step's `capture`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// That message's content, base64: the harness's invariants leave it
    /// alone, as they do content a test crafted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl ForgeResponse {
    /// What was sent and what the adversary saw; no message.
    pub fn new(sent: impl Into<String>, answer: impl Into<String>) -> Self {
        Self {
            sent: sent.into(),
            answer: answer.into(),
            ..Self::default()
        }
    }
}

/// A request built to be refused (`docs/protocol-suites.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Forgery {
    /// A commit removing `user`, by a member without the capability.
    CommitRemove,
    /// A commit removing every client of `user` and leaving the
    /// participant list as it is (a kick), by a member without canKick.
    CommitKick,
    /// A commit banning `user`, by a member without the capability.
    CommitBan,
    /// A commit giving `user` the banned role that leaves `user`'s clients
    /// in the MLS group (a ban removes them), asked of no policy.
    CommitBanKeepClients,
    /// A commit removing `user` from the participant list that leaves
    /// `user`'s clients in the MLS group (a removal removes them), asked of
    /// no policy.
    CommitRemoveKeepClients,
    /// Remove proposals (not a commit) of every client of `user`, by a
    /// member who may not remove them: a hub that keeps them lets the next
    /// committer carry them out.
    ProposeRemove,
    /// A Remove proposal of `user`'s first client as an external proposal
    /// in the hub's name (sender `external`, index 0: the hub's entry in
    /// `external_senders`), signed with the actor's own client key.
    ProposeAsHub,
    /// A commit giving `user` (default: the actor) `role` (default admin).
    CommitRole,
    /// A commit adding `user`, asked of no policy (e.g. a third user in a
    /// DM, whose membership is fixed).
    CommitAdd,
    /// A commit adding the clients of `user` (KeyPackages claimed through
    /// the hub) without adding `user` to the participant list: MLS members
    /// the participant list does not back.
    CommitAddClients,
    /// A self-update commit by the actor carrying, in place of the new
    /// epoch's GroupInfo, the GroupInfo of the epoch it ends, signed by the
    /// actor as the right one would be. The one forgery a hub may take
    /// (protocol-06 §5.6 lets it keep or rebuild the GroupInfo): it is
    /// judged by the external joins after it.
    CommitStaleGroupInfo,
    /// A Remove proposal by the actor of another of its own devices (a
    /// device removal the hub accepts and holds), then a self-update commit
    /// by the actor that leaves the held proposal out. The first request is
    /// setup and must be accepted; the commit must be refused.
    CommitWithoutHeldProposal,
    /// The actor's provider's last `/update` for the room, sent again.
    ReplayCommit,
    /// The actor's provider's last `/submitMessage` for the room, again.
    ReplayMessage,
    /// That `/submitMessage` with `sendingUri` set to `user`, whom the
    /// sending provider does not host.
    MessageAs,
    /// The last `/notify` the adversary got for the room, sent to the
    /// room's hub: a notify from a provider that is not the hub.
    NotifyToHub,
    /// The last `/notify` the adversary's hub sent the target for a room the
    /// adversary hosts, sent again by the harness as a third provider it
    /// announced to the target (a peer, but not the room's hub).
    NotifyFromThirdParty,
    /// A `/groupInfo` request by `actor`, who is not in the room.
    GroupInfoNonMember,
    /// A new device of `user` (a user of another provider, in the room)
    /// made by the adversary: its `/groupInfo` request, then its external
    /// commit, sent by a provider that does not host the client.
    JoinAs,
    /// A new device of `user`, a user of the adversary who is not a
    /// participant, joins by external commit, with the GroupInfo the actor
    /// (a participant) asked for.
    JoinUnlisted,
    /// The actor adds `user`, who requires consent and gave none, to a room
    /// the adversary hosts: its hub asks `user`'s provider for KeyPackages
    /// (`/keyMaterial`), which must answer noConsent and hand out none.
    ClaimWithoutConsent,
    /// A `/reportAbuse` of the messages of `user` the actor received, each
    /// server frank altered by one bit.
    ReportForgedFrank,
    /// A `/reportAbuse` of messages the actor received from others, naming
    /// `user` as their sender.
    ReportNamingAnother,
    /// A `/proxyDownload` of a URL on a host that serves no asset of any
    /// provider in the room (an open proxy would fetch it).
    ProxyDownloadForeign,
    /// That `/submitMessage` for `user`, with `From:` naming `user`'s
    /// domain, over the adversary's own certificate: impersonating the
    /// provider of `user`.
    FromMismatch,
    /// The last body sent to `endpoint` without its last octet.
    Truncated,
    /// The last body sent to `endpoint` with one octet after its end.
    TrailingBytes,
    /// An empty body to `endpoint`.
    Empty,
    /// 64 octets 0xff to `endpoint`.
    Garbage,
    /// 1 MiB + 1 octets to `endpoint`.
    Oversized,
    /// The last `/submitMessage` with protocol 2 (only `mls10(1)` exists).
    UnknownProtocol,
    /// In a room the adversary hosts, a message of the actor that the
    /// adversary's hub stamps an hour after its clock (content-08 §8.1: a
    /// receiver discards a timestamp minutes in the future).
    MessageStampedAhead,
    /// The same, stamped a day before the adversary's clock, so before
    /// the room was created (content-08 §8.1).
    MessageStampedBeforeTheRoom,
    /// Sent by the harness itself: a request over TLS with a client
    /// certificate from a CA the target was never told to trust.
    UntrustedCertificate,
    /// Sent by the harness itself: a request over TLS without a client
    /// certificate.
    NoCertificate,
}

impl Forgery {
    /// The name as written in suites.
    pub fn name(self) -> &'static str {
        match self {
            Self::CommitRemove => "commit_remove",
            Self::CommitKick => "commit_kick",
            Self::ProposeRemove => "propose_remove",
            Self::ProposeAsHub => "propose_as_hub",
            Self::CommitBan => "commit_ban",
            Self::CommitBanKeepClients => "commit_ban_keep_clients",
            Self::CommitRemoveKeepClients => "commit_remove_keep_clients",
            Self::CommitRole => "commit_role",
            Self::CommitAdd => "commit_add",
            Self::CommitAddClients => "commit_add_clients",
            Self::CommitStaleGroupInfo => "commit_stale_group_info",
            Self::CommitWithoutHeldProposal => "commit_without_held_proposal",
            Self::ReplayCommit => "replay_commit",
            Self::ReplayMessage => "replay_message",
            Self::MessageAs => "message_as",
            Self::NotifyToHub => "notify_to_hub",
            Self::NotifyFromThirdParty => "notify_from_third_party",
            Self::GroupInfoNonMember => "group_info_non_member",
            Self::JoinAs => "join_as",
            Self::JoinUnlisted => "join_unlisted",
            Self::ClaimWithoutConsent => "claim_without_consent",
            Self::ReportForgedFrank => "report_forged_frank",
            Self::ReportNamingAnother => "report_naming_another",
            Self::ProxyDownloadForeign => "proxy_download_foreign",
            Self::FromMismatch => "from_mismatch",
            Self::Truncated => "truncated",
            Self::TrailingBytes => "trailing_bytes",
            Self::Empty => "empty",
            Self::Garbage => "garbage",
            Self::Oversized => "oversized",
            Self::UnknownProtocol => "unknown_protocol",
            Self::UntrustedCertificate => "untrusted_certificate",
            Self::NoCertificate => "no_certificate",
            Self::MessageStampedAhead => "message_stamped_ahead",
            Self::MessageStampedBeforeTheRoom => "message_stamped_before_the_room",
        }
    }

    /// The MIMI endpoint the forged request goes to (`endpoint` for the
    /// malformed bodies).
    pub fn endpoint(self, endpoint: Option<ForgeEndpoint>) -> Option<ForgeEndpoint> {
        Some(match self {
            Self::CommitRemove
            | Self::CommitKick
            | Self::ProposeRemove
            | Self::ProposeAsHub
            | Self::CommitBan
            | Self::CommitBanKeepClients
            | Self::CommitRemoveKeepClients
            | Self::CommitRole
            | Self::CommitAdd
            | Self::CommitAddClients
            | Self::CommitStaleGroupInfo
            | Self::CommitWithoutHeldProposal
            | Self::ReplayCommit
            | Self::JoinUnlisted => ForgeEndpoint::Update,
            Self::ReplayMessage
            | Self::MessageAs
            | Self::FromMismatch
            | Self::UnknownProtocol
            | Self::UntrustedCertificate
            | Self::NoCertificate => ForgeEndpoint::SubmitMessage,
            Self::NotifyToHub
            | Self::NotifyFromThirdParty
            | Self::MessageStampedAhead
            | Self::MessageStampedBeforeTheRoom => ForgeEndpoint::Notify,
            Self::GroupInfoNonMember | Self::JoinAs => ForgeEndpoint::GroupInfo,
            Self::ProxyDownloadForeign => ForgeEndpoint::ProxyDownload,
            Self::ReportForgedFrank | Self::ReportNamingAnother => ForgeEndpoint::ReportAbuse,
            Self::ClaimWithoutConsent => ForgeEndpoint::KeyMaterial,
            Self::Truncated
            | Self::TrailingBytes
            | Self::Empty
            | Self::Garbage
            | Self::Oversized => {
                return endpoint;
            }
        })
    }

    /// Sent by the harness over its own TLS connection, not by the
    /// adversary provider through the relay: the certificate forgeries, the
    /// third party's notify, and a malformed notify (the adversary, as a
    /// room's hub, notifies the target as a follower).
    pub fn by_harness(self, endpoint: Option<ForgeEndpoint>) -> bool {
        matches!(
            self,
            Self::UntrustedCertificate | Self::NoCertificate | Self::NotifyFromThirdParty
        ) || (self.malformed() && endpoint == Some(ForgeEndpoint::Notify))
    }

    /// A forgery the hub may take as well as refuse: what it does with it
    /// is judged by the steps after (`commit_stale_group_info`, and the
    /// hub's forged stamps, which a follower has no reason to refuse).
    pub fn may_be_taken(self) -> bool {
        matches!(self, Self::CommitStaleGroupInfo) || self.by_the_hub()
    }

    /// Made by the adversary as the hub of a room it hosts, for a follower
    /// (the others go to another provider's hub). The notify carrying it
    /// is well formed, so the follower may take it; its clients are judged.
    pub fn by_the_hub(self) -> bool {
        matches!(
            self,
            Self::MessageStampedAhead | Self::MessageStampedBeforeTheRoom
        )
    }

    /// How many of the forgery's first requests to its endpoint are setup
    /// the drafts allow, which the target must accept before the forged
    /// request follows.
    pub fn setup_requests(self) -> usize {
        match self {
            Self::CommitWithoutHeldProposal => 1,
            _ => 0,
        }
    }

    /// A body broken on purpose, sent to `endpoint`.
    pub fn malformed(self) -> bool {
        matches!(
            self,
            Self::Truncated | Self::TrailingBytes | Self::Empty | Self::Garbage | Self::Oversized
        )
    }
}

/// A MIMI endpoint a forged request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForgeEndpoint {
    Update,
    SubmitMessage,
    Notify,
    GroupInfo,
    ProxyDownload,
    KeyMaterial,
    ReportAbuse,
}

impl ForgeEndpoint {
    /// The directory's name (protocol-06 §5.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::Update => "update",
            Self::SubmitMessage => "submitMessage",
            Self::Notify => "notify",
            Self::GroupInfo => "groupInfo",
            Self::ProxyDownload => "proxyDownload",
            Self::KeyMaterial => "keyMaterial",
            Self::ReportAbuse => "reportAbuse",
        }
    }
}
