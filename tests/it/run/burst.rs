//! Bursts against fakes: `send_burst`, `expect_messages`, `concurrently`
//! and `wire_format`. Each misbehaviour the suites must catch (a dropped, a
//! duplicated, a reordered message, a PublicMessage) is shown caught here.

use super::*;
use crate::fake_target::Quirks;

/// bob (side b, the fake with the quirks) sends `count` messages; alice
/// expects them with the extra fields of `expect` (e.g. `, ordered: false`).
fn burst_test(name: &str, count: u32, expect: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: bob}}
    - send_burst: {{as: bob, room: "${{room}}", count: {count}, content: {{text: "number ${{i}}"}}, capture: burst}}
    - expect_messages: {{as: alice, room: "${{room}}", from: bob, ids: burst{expect}}}
"#
    )
}

/// Runs the tests against two fakes, b with `quirks`; one verdict per test.
async fn run_with(quirks: Quirks, tests: &str) -> Vec<CaseReport> {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(quirks).await;
    let plan = plan(targets, vec![suite("MUST", tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    cases(&report).into_iter().cloned().collect()
}

fn reason(case: &CaseReport) -> &str {
    case.reason.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn a_burst_arrives_complete_and_in_order_on_every_device() {
    let test = r#"- name: devices
  actors:
    alice: a
    bob: {side: b, clients: 2}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send_burst: {as: alice, room: "${room}", count: 40, capture: burst}
    - send: {as: alice, room: "${room}", content: {text: "done"}, capture: marker}
    - expect_messages: {as: bob, room: "${room}", from: alice, ids: burst, all_clients: true, wire_format: private}
    - expect_no_message: {as: bob, room: "${room}", until: "${marker}"}
    - expect_message: {as: bob, room: "${room}", message_id: "${marker}", all_clients: true}
"#;
    let all = run_with(Quirks::default(), test).await;
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[0].steps_run, 7);
}

#[tokio::test]
async fn a_dropped_message_is_caught_in_order_and_out_of_order() {
    let quirks = Quirks {
        drop_send: Some(5),
        ..Quirks::default()
    };
    let tests = format!(
        "{}{}",
        burst_test("ordered", 10, ""),
        burst_test("unordered", 10, ", ordered: false, timeout: 600ms")
    );
    let all = run_with(quirks, &tests).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).contains("message 6 of 10")
            && reason(&all[0]).contains("when message 5 was due"),
        "{}",
        reason(&all[0])
    );
    let step = all[0].failed_step.as_ref().unwrap();
    assert_eq!((step.index, step.action.as_str()), (3, "expect_messages"));
    assert!(
        step.response
            .as_deref()
            .unwrap()
            .contains("\"type\":\"message\"")
    );
    // Unordered, the gap shows at the deadline: a violation, not a timeout.
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        reason(&all[1]).contains("received 9 of 10; missing 5 ("),
        "{}",
        reason(&all[1])
    );
}

#[tokio::test]
async fn a_duplicated_message_is_caught() {
    let quirks = Quirks {
        duplicate_send: Some(3),
        ..Quirks::default()
    };
    let tests = format!(
        "{}{}",
        burst_test("ordered", 10, ""),
        burst_test("unordered", 10, ", ordered: false")
    );
    let all = run_with(quirks, &tests).await;
    for case in &all {
        assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
        assert!(
            reason(case).contains("message 3 of 10") && reason(case).contains("arrived twice"),
            "{}",
            reason(case)
        );
    }
}

#[tokio::test]
async fn a_duplicate_of_the_last_message_is_caught_before_the_marker() {
    let quirks = Quirks {
        duplicate_send: Some(10),
        ..Quirks::default()
    };
    let test = r#"- name: last-twice
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send_burst: {as: bob, room: "${room}", count: 10, capture: burst}
    - send: {as: bob, room: "${room}", content: {text: "done"}, capture: marker}
    - expect_messages: {as: alice, room: "${room}", from: bob, ids: burst}
    - expect_no_message: {as: alice, room: "${room}", until: "${marker}"}
"#;
    let all = run_with(quirks, test).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert_eq!(
        all[0].failed_step.as_ref().unwrap().action,
        "expect_no_message"
    );
    assert!(reason(&all[0]).contains("twice"), "{}", reason(&all[0]));
}

#[tokio::test]
async fn a_reordered_burst_is_caught_only_when_order_is_required() {
    let quirks = Quirks {
        swap_send: Some(4),
        ..Quirks::default()
    };
    let tests = format!(
        "{}{}",
        burst_test("ordered", 10, ", ordered: true"),
        burst_test("unordered", 10, ", ordered: false")
    );
    let all = run_with(quirks, &tests).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).contains("message 5 of 10")
            && reason(&all[0]).contains("when message 4 was due")
            && reason(&all[0]).contains("missing or out of order"),
        "{}",
        reason(&all[0])
    );
    assert_eq!(all[1].verdict, Verdict::Pass, "{:#?}", all[1]);
}

#[tokio::test]
async fn a_public_wire_format_is_caught() {
    let quirks = Quirks {
        public_wire_format: true,
        ..Quirks::default()
    };
    // What bob (side b, the quirky fake) sends arrives as a PublicMessage.
    let tests = r#"- name: one-private
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send: {as: bob, room: "${room}", content: {text: "secret"}, capture: m1}
    - expect_message: {as: alice, room: "${room}", message_id: "${m1}", wire_format: private}
- name: burst-private
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send_burst: {as: bob, room: "${room}", count: 3, capture: burst}
    - expect_messages: {as: alice, room: "${room}", ids: burst, wire_format: private}
- name: public-is-what-it-says
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send: {as: bob, room: "${room}", content: {text: "open"}, capture: m1}
    - expect_message: {as: alice, room: "${room}", message_id: "${m1}", wire_format: public}
"#;
    let all = run_with(quirks, tests).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    // Seen on alice's target a, chosen by bob's target b: b is to blame.
    assert_eq!(all[0].blame.as_deref(), Some("b"), "{:#?}", all[0]);
    assert_eq!(all[1].blame.as_deref(), Some("b"), "{:#?}", all[1]);
    assert!(
        reason(&all[0]).contains("as a public message")
            && reason(&all[0]).contains("PrivateMessage"),
        "{}",
        reason(&all[0])
    );
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        reason(&all[1]).contains("message 1 of 3") && reason(&all[1]).contains("public"),
        "{}",
        reason(&all[1])
    );
    assert_eq!(all[2].verdict, Verdict::Pass, "{:#?}", all[2]);
}

#[tokio::test]
async fn concurrent_bursts_interleave_and_both_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = two_fakes(Quirks::default()).await;
    let test = r#"- name: both
  actors: {alice: a, bob: b, carol: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - add_participant: {as: alice, room: "${room}", user: carol}
    - concurrently:
        - send_burst: {as: alice, room: "${room}", count: 30, content: {text: "a${i}"}, capture: from_a}
        - send_burst: {as: bob, room: "${room}", count: 30, content: {text: "b${i}"}, capture: from_b}
        - send: {as: carol, room: "${room}", content: {text: "me too"}, capture: c1}
    - expect_messages: {as: bob, room: "${room}", from: alice, ids: from_a}
    - expect_messages: {as: alice, room: "${room}", from: bob, ids: from_b}
    - expect_messages: {as: carol, room: "${room}", from: alice, ids: from_a}
    - expect_messages: {as: carol, room: "${room}", from: bob, ids: from_b}
    - expect_message: {as: alice, room: "${room}", from: carol, message_id: "${c1}"}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    // The two bursts really overlapped: each began before the other ended
    // (run one after the other, all of one would precede all of the
    // other). How finely they interleave is up to the fakes' answer times:
    // a first answer from a fresh connection can take as long as a whole
    // burst on a warm one.
    let log = world.send_log();
    assert_eq!(log.len(), 61);
    let first = |who: &str| log.iter().position(|s| s.contains(who));
    let last = |who: &str| log.iter().rposition(|s| s.contains(who));
    let (a0, a1) = (first("/u/alice-"), last("/u/alice-"));
    let (b0, b1) = (first("/u/bob-"), last("/u/bob-"));
    assert!(
        b0 < a1 && a0 < b1,
        "the bursts ran one after the other: {log:?}"
    );
}

#[tokio::test]
async fn a_failing_child_fails_the_concurrently_block() {
    // carol is not in the room: her burst is refused while alice's runs.
    let test = r#"- name: refused
  actors: {alice: a, carol: b}
  steps:
    - create_room: {as: alice, capture: room}
    - concurrently:
        - send_burst: {as: alice, room: "${room}", count: 5, capture: from_a}
        - send_burst: {as: carol, room: "${room}", count: 5, capture: from_c}
"#;
    let all = run_with(Quirks::default(), test).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert!(
        reason(&all[0])
            .starts_with("step 1 (concurrently): concurrently[1] (send_burst): message 1 of 5:"),
        "{}",
        reason(&all[0])
    );
    let step = all[0].failed_step.as_ref().unwrap();
    assert_eq!((step.index, step.action.as_str()), (1, "concurrently"));
    assert!(step.request.as_deref().unwrap().contains("/v1/send"));
}

#[tokio::test]
async fn a_burst_whose_content_the_target_ignores_fails_at_the_first_message() {
    let quirks = Quirks {
        ignore_intent: true,
        ..Quirks::default()
    };
    let all = run_with(quirks, &burst_test("lazy", 5, "")).await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).contains("): message 1 of 5:") && reason(&all[0]).contains("$.text"),
        "{}",
        reason(&all[0])
    );
}

#[tokio::test]
async fn a_child_that_hangs_ends_at_its_own_deadline() {
    let quirks = Quirks {
        hang: Some("send"),
        ..Quirks::default()
    };
    let test = r#"- name: hangs
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - concurrently:
        - send_burst: {as: alice, room: "${room}", count: 5, capture: from_a}
        - send: {as: bob, room: "${room}", content: {text: "stuck"}, timeout: 400ms}
"#;
    let t0 = Instant::now();
    let all = run_with(quirks, test).await;
    assert_eq!(all[0].verdict, Verdict::Timeout, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).starts_with("step 2 (concurrently): concurrently[1] (send):"),
        "{}",
        reason(&all[0])
    );
    // The run's step timeout is 3 s; the child's own 400 ms applied.
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}
