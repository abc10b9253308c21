//! Honest verdicts: conformance claims per target, declared features, the
//! harness's own operations, verdicts by level, and reasons that name the
//! bug and the culprit.

use super::*;
use crate::fake_target::{self, Quirks, World};
use mimi_interop::report::terminal;
use mimi_interop::suite::model::FeatureSet;

/// One fake named `name` as the only target: every case runs in `name→name`.
async fn lone_fake(name: &str, quirks: Quirks) -> Vec<TargetSpec> {
    let world = Arc::new(World::default());
    let t = fake_target::spawn(world, &format!("{name}.example"), quirks).await;
    vec![url_target(name, &t.url)]
}

#[tokio::test]
async fn a_target_that_declines_everything_is_not_conformant() {
    let dir = tempfile::tempdir().unwrap();
    let targets = lone_fake(
        "lazy",
        Quirks {
            unsupported_everything: true,
            ..Quirks::default()
        },
    )
    .await;
    let plan = plan(targets, vec![suite("MUST", &chat_test("chat"))], &[(0, 0)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("MUST feature unsupported: step 0 (create_room): target lazy"),
        "{reason}"
    );
    assert_eq!(case.blame.as_deref(), Some("lazy"));
    assert_eq!(exit::for_report(&report), exit::FAILED);
    let claim = &report.claims[0];
    assert!(!claim.conformant, "{claim:#?}");
    assert_eq!(claim.minimum.failing, ["feat/chat in lazy→lazy: fail"]);
    let summary = terminal::summary(&report, false);
    assert!(
        summary.contains("lazy: not conformant: minimum feature set"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_501_from_room_state_is_a_target_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        fail: Some(("room_state", 501)),
        ..Quirks::default()
    })
    .await;
    let plan = plan(targets, vec![suite("MUST", &chat_test("chat"))], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::TargetError, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("step 2 (expect_state): target b: room_state")
            && reason.contains("the control API requires room_state"),
        "{reason}"
    );
    assert_eq!(case.blame.as_deref(), Some("b"));
    // Blamed on b alone: a's claim stands, b's does not.
    let conformant: Vec<(&str, bool)> = report
        .claims
        .iter()
        .map(|c| (c.target.as_str(), c.conformant))
        .collect();
    assert_eq!(conformant, [("a", true), ("b", false)]);
    assert_eq!(exit::for_report(&report), exit::TARGET_OR_HARNESS);
}

/// alice (side a) sends; bob (side b) must get it.
fn delivery_test(name: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - send: {{as: alice, room: "${{room}}", raw: "{raw}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", from: alice, message_id: "${{m1}}", timeout: 500ms}}
"#,
        raw = raw_original()
    )
}

#[tokio::test]
async fn a_missing_should_behaviour_is_non_strict_and_fails_only_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    // The fake on side a (target b here) never delivers its first message.
    let (_world, targets) = two_fakes(Quirks {
        drop_send: Some(1),
        ..Quirks::default()
    })
    .await;
    let plan = plan(
        targets,
        vec![suite("SHOULD", &delivery_test("delivered"))],
        &[(1, 0)],
    );
    let mut opts = options(dir.path());
    opts.strict = true;
    let mut report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::NonStrict, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("step 3 (expect_message): timed out waiting for a message in"),
        "{reason}"
    );
    assert!(report.strict);
    assert_eq!(exit::for_report(&report), exit::FAILED);
    report.strict = false;
    assert_eq!(exit::for_report(&report), exit::CONFORMANT);
    assert!(report.claims.iter().all(|c| c.conformant), "{report:#?}");
    assert_eq!(report.claims[0].minimum.non_strict, ["feat"]);
}

#[tokio::test]
async fn a_missing_must_behaviour_stays_a_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        drop_send: Some(1),
        ..Quirks::default()
    })
    .await;
    let plan = plan(
        targets,
        vec![suite("MUST", &delivery_test("delivered"))],
        &[(1, 0)],
    );
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Timeout, "{case:#?}");
    // Nothing tells which side lost it: it counts against both.
    assert_eq!(case.blame, None);
    assert!(report.claims.iter().all(|c| !c.conformant));
    assert_eq!(exit::for_report(&report), exit::FAILED);
}

#[tokio::test]
async fn undeclared_features_are_planned_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = two_fakes(Quirks {
        features: Some(vec![]),
        ..Quirks::default()
    })
    .await;
    let must = suite("MUST", &chat_test("chat"));
    let mut should = suite("SHOULD", &chat_test("chat"));
    should.suite.feature = "feat-should".into();
    let plan = plan(targets, vec![must, should], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert_eq!(
        all[0].reason.as_deref(),
        Some(
            "MUST feature unsupported: target b does not declare feature feat in /v1/info features; not run"
        )
    );
    assert_eq!(all[0].blame.as_deref(), Some("b"));
    assert_eq!(all[1].verdict, Verdict::Unsupported, "{:#?}", all[1]);
    assert_eq!(
        all[1].reason.as_deref(),
        Some("target b does not declare feature feat-should in /v1/info features; not run")
    );
    assert!(all.iter().all(|c| c.steps_run == 0));
    assert!(world.user_names.lock().unwrap().is_empty(), "nothing ran");
    let conformant: Vec<(&str, bool)> = report
        .claims
        .iter()
        .map(|c| (c.target.as_str(), c.conformant))
        .collect();
    assert_eq!(conformant, [("a", true), ("b", false)]);
    assert_eq!(report.targets[1].features.as_deref(), Some(&[][..]));
    assert_eq!(exit::for_report(&report), exit::FAILED);
}

#[tokio::test]
async fn a_declared_should_feature_answering_501_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        fail: Some(("send", 501)),
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: says-hi
  actors: {bob: b}
  steps:
    - create_room: {as: bob, capture: room}
    - send: {as: bob, room: "${room}", content: {text: hi}}
"#;
    let mut should = suite("SHOULD", test);
    should.suite.feature = "feat-should".into();
    should.suite.set = FeatureSet::Maximum;
    let plan = plan(targets, vec![should], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert!(
        case.reason
            .as_deref()
            .unwrap()
            .starts_with("declared but unsupported: step 1 (send): target b: send"),
        "{case:#?}"
    );
    assert_eq!(
        report.claims[1].maximum.failing,
        ["feat-should/says-hi in a→b: fail"]
    );
    assert!(report.claims[1].reasons[0].starts_with("maximum feature set"));
}

#[tokio::test]
async fn expect_message_lists_what_arrived_and_why_it_did_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    // bob waits for a message from carol; alice's arrives instead.
    let test = format!(
        r#"- name: wrong-sender
  actors: {{alice: a, bob: b, carol: a}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - send: {{as: alice, room: "${{room}}", raw: "{raw}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", from: carol, timeout: 500ms}}
"#,
        raw = raw_original()
    );
    let plan = plan(targets.clone(), vec![suite("MUST", &test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Timeout, "{case:#?}");
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_yaml_snapshot!("expect_message_lists_what_arrived", stable(case, &report, &targets));
    });
}

#[tokio::test]
async fn expect_state_reports_the_last_mismatch_with_target_field_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    // The room's name is never set: both targets agree on the wrong value.
    let test = r#"- name: unnamed
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - expect_state: {room: "${room}", members: [alice, bob], name: "Lunch", timeout: 500ms}
"#;
    let plan = plan(targets.clone(), vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(!reason.contains("no answer within"), "{reason}");
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_yaml_snapshot!("expect_state_reports_the_last_mismatch", stable(case, &report, &targets));
    });
}

#[tokio::test]
async fn disagreeing_targets_are_both_named_and_neither_blamed_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        wrong_authenticator: true,
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: diverged
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: "${bob}"}
    - expect_state: {room: "${room}", members: [alice, bob], timeout: 500ms}
"#;
    let plan = plan(targets.clone(), vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    // Two targets disagree and no pin says which is right: both named,
    // neither blamed alone.
    assert!(
        reason.contains("(target a)") && reason.contains("(target b)"),
        "{reason}"
    );
    assert_eq!(case.blame, None);
}

#[tokio::test]
async fn a_wrong_wire_format_is_blamed_on_the_sending_target() {
    let dir = tempfile::tempdir().unwrap();
    // b's clients send PublicMessages; alice's target a only reports it.
    let (_world, targets) = two_fakes(Quirks {
        public_wire_format: true,
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: private
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send: {as: bob, room: "${room}", content: {text: "secret"}, capture: m1}
    - expect_message: {as: alice, room: "${room}", message_id: "${m1}", wire_format: private}
"#;
    let plan = plan(targets.clone(), vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let conformant: Vec<(&str, bool)> = report
        .claims
        .iter()
        .map(|c| (c.target.as_str(), c.conformant))
        .collect();
    assert_eq!(conformant, [("a", true), ("b", false)]);
    // The content names the run's users, so its bytes and ID change per run.
    let mut view = stable(case, &report, &targets);
    view["failed_step"]["response"] = serde_json::json!("[the message event]");
    let view: serde_json::Value = serde_json::from_str(&without_ids(&view.to_string())).unwrap();
    insta::with_settings!({snapshot_path => "../snapshots"}, {
        insta::assert_yaml_snapshot!("wire_format_blamed_on_sender", view);
    });
}

/// `text` with every message ID (`01` and 62 more hex digits) as `[id]`.
fn without_ids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let id = chars.len() - i >= 64
            && chars[i] == '0'
            && chars[i + 1] == '1'
            && chars[i..i + 64].iter().all(|c| c.is_ascii_hexdigit());
        if id {
            out.push_str("[id]");
            i += 64;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
