//! The control API as an OpenAPI 3.1 document, generated from the types in
//! [`super::api`] so it cannot drift from what the harness sends and
//! accepts. Checked in as `docs/control-api.openapi.json` (a test keeps it
//! current) for vendors who generate adapter stubs.
//!
//! Schemas describe the deserializing side: requests as the reference
//! provider accepts them, answers as the harness accepts them. That is the
//! contract an adapter must meet.

use super::api::*;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// One operation: its name (the path is `/v1/<name>`), a one-line summary,
/// and its request and answer schemas (`None` for `GET /v1/info`'s request).
struct Operation {
    name: &'static str,
    summary: &'static str,
    request: Option<fn(&mut SchemaGenerator) -> schemars::Schema>,
    response: fn(&mut SchemaGenerator) -> schemars::Schema,
}

fn schema<T: schemars::JsonSchema>(g: &mut SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

macro_rules! op {
    ($name:literal, $summary:literal, $req:ty => $res:ty) => {
        Operation {
            name: $name,
            summary: $summary,
            request: Some(schema::<$req>),
            response: schema::<$res>,
        }
    };
}

/// Every operation of control API v1, in the order `docs/control-api.md`
/// describes them.
fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "info",
            summary: "Who the target is and which features it declares",
            request: None,
            response: schema::<InfoResponse>,
        },
        op!("reset", "Drop every user, room and KeyPackage the harness created", Empty => Empty),
        op!("peers", "Where every other target's MIMI endpoints are, and which CA to trust", PeersRequest => Empty),
        op!("create_user", "A user with one or more clients", CreateUserRequest => CreateUserResponse),
        op!("add_client", "A new device for an existing user; it joins the user's rooms", AddClientRequest => AddClientResponse),
        op!("remove_client", "Unlink one of a user's devices; it leaves the user's rooms", RemoveClientRequest => Empty),
        op!("create_room", "A room hosted by the actor's provider", CreateRoomRequest => CreateRoomResponse),
        op!("add_participant", "Add a user to a room", MembershipRequest => RoomChangeResponse),
        op!("remove_participant", "Kick a user: all its clients leave", MembershipRequest => RoomChangeResponse),
        op!("ban", "Give a user the banned role and remove it", MembershipRequest => RoomChangeResponse),
        op!("unban", "Remove a user's banned entry", MembershipRequest => RoomChangeResponse),
        op!("leave", "The actor leaves on all of its clients", LeaveRequest => RoomChangeResponse),
        op!("set_role", "Change a user's role", SetRoleRequest => RoomChangeResponse),
        op!("set_room_metadata", "Change the room's name, topic or avatar", SetRoomMetadataRequest => RoomChangeResponse),
        op!("send", "Send MIMI content, from an intent or exact bytes", SendRequest => SendResponse),
        op!("mark_read", "Send a read status report for messages", MarkReadRequest => SendResponse),
        op!("events", "Long-poll for what the user's clients observed", EventsRequest => EventsResponse),
        op!("room_state", "The room as each of the user's clients sees it", RoomStateRequest => RoomStateResponse),
        op!("timeline", "The room's visible messages per client", TimelineRequest => TimelineResponse),
        op!("profile", "Another user's profile, asked over MIMI", ProfileRequest => ProfileResponse),
        op!("download", "Fetch and decrypt a message's attachment", DownloadRequest => DownloadResponse),
        op!("request_consent", "Ask a user for consent to add it", ConsentRequestRequest => Empty),
        op!("cancel_consent", "Withdraw a consent request", ConsentRequestRequest => Empty),
        op!("grant_consent", "Allow a requester to add the actor", ConsentUpdateRequest => Empty),
        op!("revoke_consent", "Withdraw a granted consent", ConsentUpdateRequest => Empty),
        op!("report_abuse", "Report received messages to the room's hub", ReportAbuseRequest => Empty),
        op!("abuse_reports", "The abuse reports the hub accepted (test observation)", AbuseReportsRequest => AbuseReportsResponse),
        op!("message_franks", "The franks a user's clients kept (test observation)", MessageFranksRequest => MessageFranksResponse),
        op!("release", "Forget the users and rooms of a finished case (optional)", ReleaseRequest => Empty),
    ]
}

/// Operations for features MIMI has no mechanism for: any body, always 501.
const NO_MECHANISM: [&str; 4] = ["typing", "presence", "share_history", "port_history"];

/// The whole document, as `docs/control-api.openapi.json` holds it.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let error = generator.subschema_for::<ErrorBody>();
    let error_response = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": error.clone()}}
        })
    };
    let errors = json!({
        "400": error_response("bad_request: malformed request"),
        "403": error_response("refused: the room's policy forbids it"),
        "404": error_response("not_found: unknown user, room or client"),
        "409": error_response("conflict: the state does not allow it"),
        "501": error_response("unsupported: the target lacks this capability"),
        "502": error_response("peer_error: the other provider answered badly"),
        "500": error_response("internal: anything else"),
    });

    let mut paths = Map::new();
    for op in operations() {
        let ok = json!({
            "description": "success",
            "content": {"application/json": {"schema": (op.response)(&mut generator)}}
        });
        let mut responses = errors.as_object().cloned().unwrap_or_default();
        responses.insert("200".into(), ok);
        let mut operation = json!({
            "operationId": op.name,
            "summary": op.summary,
            "responses": responses,
        });
        let method = match op.request {
            Some(request) => {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": request(&mut generator)}}
                });
                "post"
            }
            None => "get",
        };
        paths.insert(
            format!("/{VERSION}/{}", op.name),
            json!({ method: operation }),
        );
    }
    for name in NO_MECHANISM {
        paths.insert(
            format!("/{VERSION}/{name}"),
            json!({"post": {
                "operationId": name,
                "summary": "A feature MIMI has no mechanism for: always unsupported",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"501": error_response("unsupported: no MIMI mechanism")},
            }}),
        );
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mimi-interop control API",
            "version": VERSION,
            "description": "How mimi-interop drives a MIMI messaging service under test. \
                            Normative text: docs/control-api.md.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": generator.take_definitions(true)},
    })
}
