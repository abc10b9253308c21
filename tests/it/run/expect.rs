//! The runner's expectations against fakes: `expect: refused`, message
//! content and IDs judged by the harness, absence, duplicates, the oracle.

use super::*;
use crate::fake_target::{self, Quirks, World};

/// bob (a plain user) tries to ban alice (the admin), then alice bans bob.
fn ban_test(name: &str, who_bans: &str, victim: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - ban: {{as: {who_bans}, room: "${{room}}", user: "${{{victim}}}", expect: refused}}
"#
    )
}

#[tokio::test]
async fn expect_refused_passes_on_403_and_fails_on_2xx_by_level() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let must = suite(
        "MUST",
        &format!(
            "{}{}",
            ban_test("user-cannot-ban", "bob", "alice"),
            ban_test("admin-ban-refused", "alice", "bob")
        ),
    );
    let mut should = suite(
        "SHOULD",
        &ban_test("admin-ban-refused-should", "alice", "bob"),
    );
    should.suite.feature = "feat-should".into();
    let plan = plan(targets, vec![must, should], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        all[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("must be refused")
    );
    assert_eq!(
        all[1].failed_step.as_ref().unwrap().expected.as_deref(),
        Some("403 or 409")
    );
    assert_eq!(all[2].verdict, Verdict::NonStrict, "{:#?}", all[2]);
    assert_eq!(all[2].level, "SHOULD");
    assert_eq!(exit::for_report(&report), exit::FAILED);
}

#[tokio::test]
async fn oracle_disagreement_fails_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        wrong_authenticator: true,
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: forked
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - expect_state: {room: "${room}", members: [alice, bob], timeout: 700ms}
"#;
    let plan = plan(targets.clone(), vec![suite("MUST", test)], &[(0, 1)]);
    let t0 = Instant::now();
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_yaml_snapshot!(stable(case, &report, &targets));
    });
    let reason = case.reason.as_deref().unwrap();
    assert!(reason.contains("epoch_authenticator differs"), "{reason}");
    assert!(
        reason.contains("mimi://a.example/d/") && reason.contains("mimi://b.example/d/"),
        "{reason}"
    );
    assert!(!reason.contains("epoch differs"), "{reason}");
    let step = case.failed_step.as_ref().unwrap();
    assert_eq!(step.action, "expect_state");
    assert!(step.request.as_deref().unwrap().contains("/v1/room_state"));
    assert!(t0.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn oracle_pins_participants_and_absent_actors() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let test = r#"- name: removed
  actors: {alice: a, bob: b, carol: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - add_participant: {as: alice, room: "${room}", user: "${carol}"}
    - remove_participant: {as: alice, room: "${room}", user: "${carol}"}
    - expect_state: {room: "${room}", members: [alice, bob], participants: {alice: admin, bob: user}, absent: [carol]}
- name: wrong-pin
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - expect_state: {room: "${room}", members: [alice], participants: {alice: admin, bob: moderator}, timeout: 300ms}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    let reason = all[1].reason.as_deref().unwrap();
    assert!(
        reason.contains("has role user, expected moderator"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_message_that_never_comes_is_a_timeout_naming_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    // bob is never added, so he never gets alice's message.
    let test = format!(
        r#"- name: lost
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - send: {{as: alice, room: "${{room}}", raw: "{}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", message_id: "${{m1}}", timeout: 400ms}}
"#,
        raw_original()
    );
    let plan = plan(targets, vec![suite("MUST", &test)], &[(0, 1)]);
    let t0 = Instant::now();
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Timeout, "{case:#?}");
    assert_eq!(case.failed_step.as_ref().unwrap().action, "expect_message");
    assert!(
        case.reason
            .as_deref()
            .unwrap()
            .contains("bob (target b) received no matching message")
    );
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

fn raw_reply() -> String {
    base64::engine::general_purpose::STANDARD.encode(fake_target::REPLY)
}

#[tokio::test]
async fn wrong_content_fails_with_the_path_of_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let test = r#"- name: says-hi
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - send: {as: alice, room: "${room}", content: {markdown: "Hi everyone, we just shipped release 2.0. __Good  work__!"}, capture: m1}
    - expect_message: {as: bob, room: "${room}", from: alice, message_id: "${m1}", content: {disposition: render, markdown: "Bye everyone"}}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("$.markdown") && reason.contains("Bye everyone"),
        "{reason}"
    );
    let step = case.failed_step.as_ref().unwrap();
    assert_eq!((step.index, step.action.as_str()), (3, "expect_message"));
    assert!(step.response.as_deref().unwrap().contains("Hi everyone"));
}

#[tokio::test]
async fn an_intent_the_target_did_not_honour_fails_at_send() {
    let dir = tempfile::tempdir().unwrap();
    let world = Arc::new(World::default());
    let lazy = Quirks {
        ignore_intent: true,
        ..Quirks::default()
    };
    let a = fake_target::spawn(world.clone(), "a.example", lazy).await;
    let targets = vec![url_target("a", &a.url), url_target("a2", &a.url)];
    let test = r#"- name: plain
  actors: {alice: a}
  steps:
    - create_room: {as: alice, capture: room}
    - send: {as: alice, room: "${room}", content: {text: "hello"}}
"#;
    let plan = plan(targets, vec![suite("SHOULD", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::NonStrict, "{case:#?}");
    assert!(
        case.reason.as_deref().unwrap().contains("$.text"),
        "{case:?}"
    );
}

#[tokio::test]
async fn a_claimed_message_id_is_recomputed_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        wrong_message_id: true,
        ..Quirks::default()
    })
    .await;
    let test = format!(
        r#"- name: lies
  actors: {{bob: b}}
  steps:
    - create_room: {{as: bob, capture: room}}
    - send: {{as: bob, room: "${{room}}", raw: "{}"}}
"#,
        raw_original()
    );
    let plan = plan(targets, vec![suite("MUST", &test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert!(
        case.reason
            .as_deref()
            .unwrap()
            .contains("send answered message_id")
    );
}

/// bob is in `room` but not in `other`; m1 goes to `other`, m2 to `room`.
fn absence_test(name: &str, forbidden_room: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - create_room: {{as: alice, capture: other}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - send: {{as: alice, room: "${{{forbidden_room}}}", raw: "{m1}", capture: m1}}
    - send: {{as: alice, room: "${{room}}", raw: "{m2}", capture: m2}}
    - expect_no_message: {{as: bob, room: "${{room}}", message_id: "${{m1}}", until: "${{m2}}"}}
    - expect_message: {{as: bob, room: "${{room}}", message_id: "${{m2}}"}}
"#,
        m1 = raw_original(),
        m2 = raw_reply()
    )
}

#[tokio::test]
async fn absence_is_judged_against_a_marker_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let tests = format!(
        "{}{}",
        absence_test("stays-out", "other"),
        absence_test("leaks-in", "room")
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        all[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("must not arrive")
    );
}

#[tokio::test]
async fn a_message_delivered_twice_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let world = Arc::new(World::default());
    let a = fake_target::spawn(
        world.clone(),
        "a.example",
        Quirks {
            duplicate_delivery: true,
            ..Quirks::default()
        },
    )
    .await;
    let b = fake_target::spawn(world.clone(), "b.example", Quirks::default()).await;
    let targets = vec![url_target("a", &a.url), url_target("b", &b.url)];
    // m0 arrives twice: once consumed by expect_message, once in the window.
    let test = format!(
        r#"- name: twice
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - create_room: {{as: alice, capture: other}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - send: {{as: alice, room: "${{other}}", raw: "{m}", capture: m1}}
    - send: {{as: alice, room: "${{room}}", raw: "{m}", capture: m0}}
    - expect_message: {{as: bob, room: "${{room}}", message_id: "${{m0}}"}}
    - send: {{as: alice, room: "${{room}}", raw: "{marker}", capture: m2}}
    - expect_no_message: {{as: bob, room: "${{room}}", message_id: "${{m1}}", until: "${{m2}}"}}
"#,
        m = raw_original(),
        marker = raw_reply()
    );
    let plan = plan(targets, vec![suite("MUST", &test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert!(
        case.reason.as_deref().unwrap().contains("twice"),
        "{case:?}"
    );
}

#[tokio::test]
async fn all_clients_means_every_device_including_added_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let test = format!(
        r#"- name: devices
  actors:
    alice: a
    bob: {{side: b, display_name: Bob, clients: 2}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - add_client: {{user: bob, capture: phone}}
    - expect_state: {{room: "${{room}}", members: [alice, bob]}}
    - send: {{as: alice, room: "${{room}}", raw: "{}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", message_id: "${{m1}}", all_clients: true}}
    - send: {{as: bob, client: "${{phone}}", room: "${{room}}", raw: "{}", capture: m2}}
    - expect_message: {{as: alice, room: "${{room}}", from: bob, message_id: "${{m2}}"}}
"#,
        raw_original(),
        raw_reply()
    );
    let plan = plan(targets, vec![suite("MUST", &test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    assert_eq!(case.steps_run, 8);
}

#[tokio::test]
async fn invalid_content_fails_only_the_expectation_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    // A two-item array: the salt is there (so it has an ID), the rest is not
    // MIMI content.
    let mut bad = vec![0x82, 0x50];
    bad.extend_from_slice(&[7u8; 16]);
    bad.push(0x01);
    let bad = base64::engine::general_purpose::STANDARD.encode(bad);
    let steps = |expect: &str| {
        format!(
            r#"  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: bob}}
    - send: {{as: alice, room: "${{room}}", raw: "{bad}", capture: bad}}
    - send: {{as: alice, room: "${{room}}", raw: "{good}", capture: good}}
    - {expect}
"#,
            good = raw_original()
        )
    };
    let tests = format!(
        "- name: waits-for-the-good-one\n{}- name: takes-the-first\n{}",
        steps(r#"expect_message: {as: bob, room: "${room}", message_id: "${good}"}"#),
        steps(r#"expect_message: {as: bob, room: "${room}", from: alice}"#),
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    let reason = all[1].reason.as_deref().unwrap();
    assert!(reason.contains("invalid MIMI content"), "{reason}");
}

/// The draft's own `original.cbor` names its example sender and room in
/// the senderUri and roomUri extensions; sent by the fake's alice in the
/// fake's room, those are not who sent it nor where, and receivers must
/// check both (protocol-06 §5.4.1): the harness fails the message.
#[tokio::test]
async fn content_naming_another_sender_or_room_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let foreign = base64::engine::general_purpose::STANDARD.encode(fake_target::ORIGINAL_WITH_URIS);
    let tests = format!(
        r#"- name: foreign-uris
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: bob}}
    - send: {{as: alice, room: "${{room}}", raw: "{foreign}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", message_id: "${{m1}}"}}
"#
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    let reason = all[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("senderUri extension is mimi://example.com/u/alice-smith"),
        "{reason}"
    );
}
