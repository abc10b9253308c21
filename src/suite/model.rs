//! Suite format v1: the typed form of one `suites/**/*.yaml` file.
//!
//! Loading is strict: every struct denies unknown keys, every action is an
//! enum variant. `docs/suite-format.md` describes the format; the JSON Schema
//! (`mimi-interop schema`) is generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use crate::control::api::RoomKind;

/// The only suite format version this harness reads.
pub const SUITE_FORMAT_VERSION: u32 = 1;

/// One feature of the MIMI requirements and the tests that check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Must be 1.
    pub version: u32,
    /// Feature id, e.g. `text`; unique across suites.
    pub feature: String,
    pub title: String,
    /// Which list of the requirements draft the feature is in.
    pub set: FeatureSet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The requirement this feature realizes.
    pub requirement: Requirement,
    /// Sections of the MIMI drafts whose mechanisms the tests exercise.
    #[serde(default)]
    pub specs: Vec<SpecRef>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub tests: Vec<Test>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSet {
    Minimum,
    Maximum,
    /// Not a feature of the requirements draft: the protocol drafts' rules a
    /// provider must enforce, tested by the harness's adversary provider
    /// (side b) against each target (side a) (`docs/protocol-suites.md`).
    Protocol,
}

impl FeatureSet {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureSet::Minimum => "minimum",
            FeatureSet::Maximum => "maximum",
            FeatureSet::Protocol => "protocol",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// e.g. `draft-ralston-mimi-messaging-requirements-00`.
    pub document: String,
    /// e.g. `2` or `Minimum Feature Set`.
    pub section: String,
    /// 1-based position in that section's list.
    pub item: u32,
    pub level: Level,
}

/// RFC 2119 level: a violated MUST is `fail`, a violated SHOULD or MAY is
/// `non-strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecRef {
    /// e.g. `draft-ietf-mimi-protocol-06`.
    pub document: String,
    /// e.g. `5.4`.
    pub section: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One test: actors on the cell's two sides and the steps between them.
// The schema says what the loader checks: steps, or a `no_mechanism` reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "required": ["actors", "steps"] },
    { "required": ["no_mechanism"] }
]))]
pub struct Test {
    /// Unique within the suite; `[a-z0-9-]+`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Overrides the suite requirement's level for this test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The draft sections whose rule the test checks; required in protocol
    /// suites, where `mimi-interop coverage` lists each test by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cites: Vec<SpecRef>,
    /// Deadline for the whole case, e.g. `30s`; the run default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Set when the MIMI drafts define no mechanism for what the test would
    /// check: the reason names the missing mechanism and the drafts searched.
    /// Such a test has no actors and no steps, runs nothing, and every case
    /// of it is `unsupported` with this reason, never a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_mechanism: Option<String>,
    /// Actor name → the side its user lives on. Each actor becomes a fresh
    /// user on that side's target; `${name}` is its user URI. Required
    /// (non-empty) unless `no_mechanism` is set.
    #[serde(default)]
    pub actors: BTreeMap<String, Actor>,
    /// Required (non-empty) unless `no_mechanism` is set.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// An actor: `alice: a`, or the long form with options.
// Deserialized by hand (`suite::de`, not `untagged`) so errors inside the
// long form keep their message and position.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Actor {
    Side(Side),
    Full(ActorSpec),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorSpec {
    pub side: Side,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Devices the user starts with (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    /// Others need the user's consent before adding it to a room
    /// (protocol-06 §5.7); default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent_required: bool,
}

impl Actor {
    pub fn side(&self) -> Side {
        match self {
            Actor::Side(s) => *s,
            Actor::Full(spec) => spec.side,
        }
    }
}

/// Side of the cell: `a` is the cell's first target, `b` its second.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    A,
    B,
}

/// How a step's control call must end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx (the default).
    #[default]
    Ok,
    /// 403 or 409: the target refused, as the spec requires for this step.
    Refused,
}

/// One step: a control-API action, or an expectation the harness checks.
/// Written as a one-key map: `- send: { as: alice, room: "${room}", ... }`.
/// Strings may use `${var}` for actors and earlier captures.
// Deserialized by hand (`suite::de`): serde_yaml reads externally tagged
// enums only from YAML tags (`!send`), not from one-key maps.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    CreateRoom(CreateRoom),
    AddParticipant(Membership),
    RemoveParticipant(Membership),
    Ban(Membership),
    Unban(Membership),
    Leave(Leave),
    SetRole(SetRole),
    SetRoomMetadata(SetRoomMetadata),
    AddClient(AddClient),
    RemoveClient(RemoveClient),
    Send(Send),
    SendBurst(SendBurst),
    /// Child steps (`send` or `send_burst`) run at the same time.
    Concurrently(Vec<Step>),
    ExpectMessage(ExpectMessage),
    ExpectMessages(ExpectMessages),
    ExpectNoMessage(ExpectNoMessage),
    ExpectState(ExpectState),
    ExpectTimeline(ExpectTimeline),
    ExpectProfile(ExpectProfile),
    ExpectDownload(ExpectDownload),
    MarkRead(MarkRead),
    /// The harness cuts the MIMI link between the two sides.
    Partition(Link),
    /// The harness restores the MIMI link between the two sides.
    Heal(Link),
    /// The relay drops the next matching request (no answer).
    DropRequest(RequestFault),
    /// The relay answers the next matching request 503 with `Retry-After`.
    Unavailable(RequestFault),
    /// The relay delivers the next matching request twice.
    DuplicateRequest(RequestFault),
    /// The relay holds the next matching request for a while.
    DelayRequest(RequestFault),
    /// The adversary sends the target a request it must refuse.
    Forge(Forge),
}

impl Step {
    /// The action name as written in YAML.
    pub fn action(&self) -> &'static str {
        match self {
            Step::CreateRoom(_) => "create_room",
            Step::AddParticipant(_) => "add_participant",
            Step::RemoveParticipant(_) => "remove_participant",
            Step::Ban(_) => "ban",
            Step::Unban(_) => "unban",
            Step::Leave(_) => "leave",
            Step::SetRole(_) => "set_role",
            Step::SetRoomMetadata(_) => "set_room_metadata",
            Step::AddClient(_) => "add_client",
            Step::RemoveClient(_) => "remove_client",
            Step::Send(_) => "send",
            Step::SendBurst(_) => "send_burst",
            Step::Concurrently(_) => "concurrently",
            Step::ExpectMessage(_) => "expect_message",
            Step::ExpectMessages(_) => "expect_messages",
            Step::ExpectNoMessage(_) => "expect_no_message",
            Step::ExpectState(_) => "expect_state",
            Step::ExpectTimeline(_) => "expect_timeline",
            Step::ExpectProfile(_) => "expect_profile",
            Step::ExpectDownload(_) => "expect_download",
            Step::MarkRead(_) => "mark_read",
            Step::Partition(_) => "partition",
            Step::Heal(_) => "heal",
            Step::DropRequest(_) => "drop_request",
            Step::Unavailable(_) => "unavailable",
            Step::DuplicateRequest(_) => "duplicate_request",
            Step::DelayRequest(_) => "delay_request",
            Step::Forge(_) => "forge",
        }
    }
}

/// `create_room`: `as` creates a room on its own provider (the hub).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    #[serde(rename = "as")]
    pub actor: String,
    #[serde(default = "group")]
    pub kind: RoomKind,
    /// For `dm`: the other user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// The room's status notification policy (room-policy-03 §6.1); the
    /// target's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_policy: Option<crate::control::api::StatusPolicy>,
    /// For `group`: the room's `max_users` (room-policy-03 §5), the most
    /// non-banned users its participant list may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,
    /// Variable that receives the room URI.
    pub capture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

fn group() -> RoomKind {
    RoomKind::Group
}

/// `add_participant`, `remove_participant`, `ban`, `unban`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Leave {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    pub user: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoomMetadata {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `add_client`: a new device for `user`; it joins the user's rooms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddClient {
    pub user: String,
    /// Variable that receives the new client's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `remove_client`: one device of `user` is unlinked and leaves the user's
/// rooms; the user stays on its other devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveClient {
    pub user: String,
    /// The device (a captured client URI).
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `send`: exactly one of `content` (the readable JSON form, built into MIMI
/// content by the target), `raw` (base64 CBOR, sent as is) or `crafted`
/// (built and broken by the harness, sent as is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Send {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// Sending client (a captured client URI); the actor's first when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Content the harness builds with its own codec and breaks as asked,
    /// sent as raw bytes: for tests of receiver rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crafted: Option<Crafted>,
    /// Variable that receives the message ID (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `send.crafted`: the harness builds `intent` (readable JSON form; the
/// sending user, the room and a fresh salt unless the intent sets `sender`,
/// `room` or `salt`), applies `expired_ago` and `breaks`, and the target
/// sends the bytes as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Crafted {
    /// The readable intent; every string inside is a template.
    pub intent: serde_json::Value,
    /// An absolute expiry this long before the harness's clock (a message
    /// already expired), e.g. `1m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_ago: Option<String>,
    /// Named defects applied after building, in any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<crate::content::craft::Breakage>,
}

/// `mark_read`: `as` marks messages read; its client sends one `read`
/// status report (draft-mahy-mimi-message-status-01) naming them, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// Reporting client (a captured client URI); the actor's first when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The message IDs (hex, usually captured) the report marks `read`.
    pub message_ids: Vec<String>,
    /// Variable that receives the report's own message ID (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_message`: `as` receives, in `room`, the next message matching the
/// filters. The harness decodes the bytes itself and recomputes the ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectMessage {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// Sending actor (user URI); its clients are accepted as senders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The message ID the received bytes must hash to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Partial match on the decoded content (readable JSON form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    /// Every one of the actor's clients must receive it (default: one).
    #[serde(default)]
    pub all_clients: bool,
    /// The MLS wire format the message must have arrived in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_format: Option<WireFormat>,
    /// Variable that receives the received message's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// The MLS wire format of a received application message (RFC 9420 §6):
/// `private` is a PrivateMessage (encrypted), `public` a PublicMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WireFormat {
    Private,
    Public,
}

impl WireFormat {
    /// As the control API's `wire_format` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            WireFormat::Private => "private",
            WireFormat::Public => "public",
        }
    }
}

/// Most messages one `send_burst` sends.
pub const MAX_BURST: u32 = 1000;

/// `send_burst`: `as` sends `count` messages in `room`, one `send` after the
/// other (each answer awaited, so the order is defined), and captures their
/// IDs as a list that only `expect_messages` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBurst {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// How many messages: 1 to 1000.
    pub count: u32,
    /// Readable content of every message; `${i}` is its 1-based index.
    /// Default: `{ text: "burst message ${i}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    /// List variable that receives the message IDs, in sending order.
    pub capture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_messages`: `as` receives every message of a burst exactly once,
/// in the burst's order (unless `ordered: false`), each judged like
/// `expect_message` judges one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectMessages {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// Sending actor; its clients are accepted as senders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The name of a `send_burst` capture (a bare name, not `${...}`).
    pub ids: String,
    /// The messages must arrive in the burst's order (default `true`).
    #[serde(default = "yes")]
    pub ordered: bool,
    /// Every one of the actor's clients must receive the whole burst
    /// (default: the actor's first client).
    #[serde(default)]
    pub all_clients: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_format: Option<WireFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

fn yes() -> bool {
    true
}

/// `expect_no_message`: no message from `from` with this ID, nor a second
/// copy of any message, reached `as` before the marker message `until` did.
/// Absence is judged against an event that did arrive, never a sleep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectNoMessage {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// The message ID that must not arrive; without it only second copies
    /// are looked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// No message in `room` whose decoded content partially matches this
    /// (readable JSON form) may arrive either, e.g. no status report:
    /// `{content_type: application/mimi-message-status}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    /// A message ID (sent later) whose arrival closes the window.
    pub until: String,
    /// The room the `until` marker is sent in, when not `room`: a user
    /// removed from `room` can only see a marker in another room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_state`: the oracle. Every client of every listed actor reports the
/// same epoch, epoch authenticator, participants and roles; optional fields
/// pin what that common state must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectState {
    pub room: String,
    /// Actors whose clients are asked; all must agree.
    pub members: Vec<String>,
    /// Exact participant list: user → role name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<BTreeMap<String, String>>,
    /// Actors that must not be members and whose clients must not be in the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Clients (captured URIs) that must not be in the MLS group, e.g. a
    /// removed device of a user who stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent_clients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The room avatar URL every member must see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_timeline`: the effect of messages, not their bytes. Every client
/// of `as` reports the room's timeline (control API `timeline`): the visible
/// messages after edits, deletes, reactions and expiry are applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectTimeline {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    /// The exact list of visible messages, oldest first; each entry is a
    /// partial match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<TimelineEntry>>,
    /// Message IDs that must not be visible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_profile`: `as` looks up `user`'s profile (control API
/// `profile`), which `user`'s provider answers, and it must show the
/// display name and avatar given; fields left out are not checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectProfile {
    #[serde(rename = "as")]
    pub actor: String,
    /// The actor whose profile is asked for.
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `expect_download`: `as` downloads the attachment (the first ExternalPart)
/// of message `message_id` in `room` (control API `download`): its client
/// fetches the stored bytes through its provider (and the room's hub),
/// checks size and hash, decrypts, and the plaintext must be exactly `data`
/// (base64) or `text` (UTF-8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectDownload {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    pub message_id: String,
    /// The media type the target reports; not checked when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Standard base64 of the expected plaintext. Not a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The expected plaintext as UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// `partition` / `heal`: the harness cuts (restores) the MIMI link between
/// the cell's two targets, both directions, in its relay, which carries all
/// MIMI traffic between them. In a cell of one target there is no link: the
/// step is `unsupported`. A test with a `partition` step runs with no other
/// case on its targets, before the concurrent cases, and whatever it cut is healed when it ends,
/// whatever its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The two sides the link joins: `[a, b]`.
    pub sides: Vec<Side>,
}

/// `drop_request`, `unavailable`, `duplicate_request`, `delay_request`: the
/// harness's relay, which carries every MIMI request between the cell's two
/// targets, does something to the next request of this case that the
/// other side's provider sends to `to`'s provider (on `endpoint`, when
/// given). `drop_request` forwards nothing and gives the sender no answer;
/// `unavailable` answers 503 with `Retry-After` without forwarding;
/// `duplicate_request` forwards the same bytes twice, one after the other,
/// and gives the sender the answer to the second copy; `delay_request`
/// holds the request for `by`, then forwards it. The fault applies once;
/// one that never fired is disarmed when the case ends. Needs two targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestFault {
    /// The side whose provider receives the request.
    pub to: Side,
    /// The MIMI endpoint (draft-ietf-mimi-protocol-06 §5 names: `notify`,
    /// `submitMessage`, `update`, `keyMaterial`, `groupInfo`, …); any
    /// request when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `unavailable` only: the `Retry-After` to answer, in whole seconds
    /// (`1s` when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// `delay_request` only, required: how long to hold the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `forge` (protocol suites only): `as`, a user of the harness's adversary
/// provider (side b), sends the hub of `room` (the target, side a) a request
/// the drafts require the hub to refuse. The step passes when the target's
/// answer, as the relay saw it, is a refusal: an HTTP 4xx or a MIMI refusal
/// code (a refused TLS handshake for the certificate forgeries). A 2xx that
/// takes the request, a 5xx, or no answer fails it. What the request left
/// unchanged is checked by the steps after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forge {
    #[serde(rename = "as")]
    pub actor: String,
    pub room: String,
    pub forgery: crate::control::api::Forgery,
    /// The user the forgery names (an actor or a URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `commit_role` only: the role to give (default `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The malformed-body forgeries only: `update`, `submit_message`,
    /// `notify` or `group_info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<crate::control::api::ForgeEndpoint>,
    /// The forgeries that send a message (`message_stamped_*`): a
    /// variable for its ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// The endpoint names a [`RequestFault`] may name: the paths of
/// draft-ietf-mimi-protocol-06 §5 (the segment after `/v1/`).
pub const FAULT_ENDPOINTS: &[&str] = &[
    "keyMaterial",
    "update",
    "notify",
    "submitMessage",
    "groupInfo",
    "requestConsent",
    "updateConsent",
    "identifierQuery",
    "reportAbuse",
    "proxyDownload",
];

/// One expected visible message; fields left out are not checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    /// The message ID (of its first version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The sending actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Partial match on the current content (readable JSON form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<bool>,
    /// The exact reaction counts: reaction text → number of users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<BTreeMap<String, u32>>,
    /// The exact status map: reporting actor → the latest status it reported
    /// (`delivered`, `read`, …, or an unknown code as a decimal string);
    /// `{}` for none. The viewing user's own reports are never listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, String>>,
    /// The thread the client files the message under (the timeline's
    /// `topic`); `null` for none.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub topic: Option<Option<String>>,
}

/// A field that, when present, may be `null`: `Some(None)` then, and
/// `None` only when the field is left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A suite file as loaded: its path, its bytes' hash and its typed form.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSuite {
    /// The path as given to the loader (relative paths stay relative).
    pub path: PathBuf,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub suite: Suite,
}
