//! Integration tests: the control API's OpenAPI document. It is generated
//! from `src/control/api.rs`; these tests keep the checked-in copy current,
//! and hold the reference provider's control server to it: every documented
//! path exists there, and its answers (successes and errors) validate
//! against the document's schemas.

use crate::reference::{T, pair};
use mimi_interop::control::openapi;
use serde_json::{Value, json};
use std::path::Path;

const FILE: &str = "docs/control-api.openapi.json";

/// Regenerate with `UPDATE_OPENAPI=1 cargo test openapi`.
#[test]
fn openapi_file_is_current() {
    let fresh = serde_json::to_string_pretty(&openapi::document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(FILE, &fresh).expect("write the OpenAPI document");
    }
    let on_disk = std::fs::read_to_string(Path::new(FILE)).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "{FILE} is stale: run `UPDATE_OPENAPI=1 cargo test openapi`"
    );
}

/// A validator for one component schema of the document.
fn validator(component: &str) -> jsonschema::Validator {
    let mut root = openapi::document();
    root["$ref"] = json!(format!("#/components/schemas/{component}"));
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{component}: {e}"))
}

/// The answer's status and JSON body.
async fn post(http: &reqwest::Client, base: &str, op: &str, body: &Value) -> (u16, Value) {
    let res = http
        .post(format!("{base}/v1/{op}"))
        .json(body)
        .timeout(T)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"));
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn check(component: &str, op: &str, body: &Value) {
    let v = validator(component);
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{op} answered outside the {component} schema: {errors:?}\n{body:#}"
    );
}

/// The success schema the document names for `op`.
fn success_component(doc: &Value, op: &str) -> String {
    let path = format!("/v1/{op}");
    let method = if op == "info" { "get" } else { "post" };
    let reference = doc["paths"][&path][method]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} has a 200 schema reference"));
    reference.rsplit('/').next().unwrap().to_owned()
}

#[test]
fn every_documented_operation_is_served_and_errors_carry_the_error_body() {
    let doc = openapi::document();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let p = pair().await;
        let base = p.a.control_url().to_owned();
        let http = reqwest::Client::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let op = path.trim_start_matches("/v1/");
            if item.get("get").is_some() {
                continue;
            }
            // An empty object is a bad request for every operation that
            // takes fields; `reset` takes none. None may be an unknown path.
            let (status, body) = post(&http, &base, op, &json!({"unexpected": 1})).await;
            assert_ne!(status, 404, "{path} is documented but not served");
            assert!(status >= 400, "{path} accepted an unknown field");
            check("ErrorBody", op, &body);
        }
    });
}

#[test]
fn reference_answers_validate_against_the_document() {
    let doc = openapi::document();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let p = pair().await;
        let (a, b) = (p.a.control_url().to_owned(), p.b.control_url().to_owned());
        let http = reqwest::Client::new();
        let ok = |op: &'static str, status: u16, body: Value| {
            assert_eq!(status, 200, "{op}: {body}");
            check(&success_component(&doc, op), op, &body);
            body
        };

        let info: Value = http
            .get(format!("{a}/v1/info"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        check(&success_component(&doc, "info"), "info", &info);

        let (s, alice) = post(
            &http,
            &a,
            "create_user",
            &json!({"name": "oa-alice", "clients": 2}),
        )
        .await;
        let alice = ok("create_user", s, alice)["user"].clone();
        let (s, bob) = post(&http, &b, "create_user", &json!({"name": "oa-bob"})).await;
        let bob = ok("create_user", s, bob)["user"].clone();
        let (s, body) = post(&http, &a, "create_user", &json!({"name": "oa-alice"})).await;
        assert_eq!(s, 409, "{body}");
        check("ErrorBody", "create_user", &body);

        let (s, room) = post(
            &http,
            &a,
            "create_room",
            &json!({"actor": alice, "name": "oa-room", "kind": "group"}),
        )
        .await;
        let room = ok("create_room", s, room)["room"].clone();
        let (s, body) = post(
            &http,
            &a,
            "add_participant",
            &json!({"room": room, "actor": alice, "user": bob}),
        )
        .await;
        ok("add_participant", s, body);
        let (s, body) = post(
            &http,
            &b,
            "send",
            &json!({"room": room, "actor": bob, "content": {"intent": {"text": "hello"}}}),
        )
        .await;
        let sent = ok("send", s, body);
        let (s, body) = post(
            &http,
            &a,
            "events",
            &json!({"user": alice, "cursor": 0, "wait_ms": 5000}),
        )
        .await;
        ok("events", s, body);
        let (s, body) = post(
            &http,
            &a,
            "room_state",
            &json!({"room": room, "user": alice}),
        )
        .await;
        ok("room_state", s, body);
        let (s, body) = post(&http, &b, "timeline", &json!({"room": room, "user": bob})).await;
        ok("timeline", s, body);
        let (s, body) = post(
            &http,
            &a,
            "set_room_metadata",
            &json!({"room": room, "actor": alice, "name": "Clubhouse"}),
        )
        .await;
        ok("set_room_metadata", s, body);
        let (s, body) = post(
            &http,
            &a,
            "set_role",
            &json!({"room": room, "actor": alice, "user": bob, "role": "moderator"}),
        )
        .await;
        ok("set_role", s, body);
        let (s, body) = post(
            &http,
            &a,
            "mark_read",
            &json!({"room": room, "actor": alice, "message_ids": [sent["message_id"]]}),
        )
        .await;
        ok("mark_read", s, body);
        let (s, body) = post(&http, &a, "profile", &json!({"user": alice, "target": bob})).await;
        ok("profile", s, body);
        let (s, body) = post(&http, &a, "typing", &json!({})).await;
        assert_eq!(s, 501, "{body}");
        check("ErrorBody", "typing", &body);
        let (s, body) = post(&http, &b, "leave", &json!({"room": room, "actor": bob})).await;
        ok("leave", s, body);
    });
}
