//! `expect_timeline` against fakes: the effect of edits, deletes and
//! reactions as the receiver's target shows it. A wrong body, a missing
//! reaction count and a message that should be gone are each caught.

use super::*;
use crate::fake_target::Quirks;

/// alice (a) sends m1 and m2, edits m1, deletes m2; bob (b) reacts to m1;
/// then `expect` (one step, YAML) runs.
fn timeline_test(name: &str, expect: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: bob}}
    - send: {{as: alice, room: "${{room}}", content: {{text: "borow a pen?"}}, capture: m1}}
    - send: {{as: alice, room: "${{room}}", content: {{text: "oops"}}, capture: m2}}
    - send: {{as: alice, room: "${{room}}", content: {{edit: "${{m1}}", text: "borrow a pen?"}}}}
    - send: {{as: alice, room: "${{room}}", content: {{delete: "${{m2}}"}}}}
    - send: {{as: bob, room: "${{room}}", content: {{reaction: "👍", to: "${{m1}}"}}}}
    - {expect}
"#
    )
}

const RIGHT: &str = r#"expect_timeline: {as: bob, room: "${room}", messages: [{id: "${m1}", from: alice, content: {text: "borrow a pen?"}, edited: true, reactions: {"👍": 1}}], absent: ["${m2}"], timeout: 2s}"#;

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
async fn the_timeline_shows_edits_deletes_and_reactions_applied() {
    let all = run_with(Quirks::default(), &timeline_test("right", RIGHT)).await;
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
}

#[tokio::test]
async fn a_wrong_body_a_missing_reaction_and_a_message_that_should_be_gone_fail() {
    let tests = [
        timeline_test(
            "wrong-body",
            r#"expect_timeline: {as: bob, room: "${room}", messages: [{id: "${m1}", content: {text: "borow a pen?"}}], timeout: 300ms}"#,
        ),
        timeline_test(
            "missing-reaction",
            r#"expect_timeline: {as: bob, room: "${room}", messages: [{id: "${m1}", reactions: {"👍": 1, "❤": 1}}], timeout: 300ms}"#,
        ),
        timeline_test(
            "not-gone",
            r#"expect_timeline: {as: bob, room: "${room}", messages: [{id: "${m2}"}], timeout: 300ms}"#,
        ),
    ]
    .concat();
    let t0 = std::time::Instant::now();
    let all = run_with(Quirks::default(), &tests).await;
    for c in &all {
        assert_eq!(c.verdict, Verdict::Fail, "{c:#?}");
        assert_eq!(c.failed_step.as_ref().unwrap().action, "expect_timeline");
    }
    assert!(
        reason(&all[0]).contains("$.text: expected"),
        "{}",
        reason(&all[0])
    );
    assert!(
        reason(&all[1]).contains("reactions are {\"👍\": 1}"),
        "{}",
        reason(&all[1])
    );
    assert!(reason(&all[2]).contains("ID is"), "{}", reason(&all[2]));
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_target_that_does_not_apply_relations_is_caught() {
    let tests = [
        timeline_test("raw", RIGHT),
        timeline_test(
            "raw-absent",
            r#"expect_timeline: {as: bob, room: "${room}", absent: ["${m2}"], timeout: 300ms}"#,
        ),
    ]
    .concat();
    let all = run_with(
        Quirks {
            raw_timeline: true,
            ..Quirks::default()
        },
        &tests,
    )
    .await;
    assert_eq!(all[0].verdict, Verdict::Fail, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).contains("shows 5 message(s), expected 1"),
        "{}",
        reason(&all[0])
    );
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        reason(&all[1]).contains("still shows message"),
        "{}",
        reason(&all[1])
    );
}

#[tokio::test]
async fn a_target_without_timeline_is_a_target_error() {
    let all = run_with(
        Quirks {
            fail: Some(("timeline", 501)),
            ..Quirks::default()
        },
        &timeline_test("no-timeline", RIGHT),
    )
    .await;
    // The harness reads timelines to judge cases: every target must answer.
    assert_eq!(all[0].verdict, Verdict::TargetError, "{:#?}", all[0]);
    assert!(
        reason(&all[0]).contains("the control API requires timeline"),
        "{}",
        reason(&all[0])
    );
    assert_eq!(all[0].blame.as_deref(), Some("b"));
}
