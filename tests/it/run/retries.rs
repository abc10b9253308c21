//! `--retries` and `--repeat` against fakes that fail some of the time: a
//! case that fails and then passes is `flaky` (never `pass`), one that always
//! fails stays `fail` with its attempts recorded, runs that disagree under
//! repeat are `flaky`, and a case that cuts a link is retried alone and
//! gives the link back between its runs.

use super::*;
use crate::fake_target::{Quirks, World};
use mimi_interop::run::Reruns;

/// bob (side b) creates a room: one `create_room` call to b per run.
const MAKE_ROOM: &str = "- name: make-room
  actors: {bob: b}
  steps:
    - create_room: {as: bob, capture: room}
";

/// Two fakes; b answers `status` to its `create_room` calls `fails` picks.
async fn fakes_failing(status: u16, fails: fn(usize) -> bool) -> (Arc<World>, Vec<TargetSpec>) {
    two_fakes(Quirks {
        fail_calls: Some(("create_room", status, fails)),
        ..Quirks::default()
    })
    .await
}

fn with(dir: &std::path::Path, reruns: Reruns) -> RunOptions {
    let mut opts = options(dir);
    opts.reruns = reruns;
    opts
}

/// Runs `make-room` once in a→b against fakes whose `create_room` answers
/// `status` on the calls `fails` picks, with `reruns`.
async fn run_make_room(status: u16, fails: fn(usize) -> bool, reruns: Reruns) -> RunReport {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = fakes_failing(status, fails).await;
    let plan = plan(targets, vec![suite("MUST", MAKE_ROOM)], &[(0, 1)]);
    execute(&plan, &with(dir.path(), reruns), &NoBuiltins, &NoEvents).await
}

fn runs(case: &CaseReport) -> Vec<Verdict> {
    case.attempts.iter().map(|a| a.verdict).collect()
}

fn first_call(n: usize) -> bool {
    n == 1
}

fn odd_call(n: usize) -> bool {
    n % 2 == 1
}

fn every_call(_: usize) -> bool {
    true
}

#[tokio::test]
async fn without_retries_a_case_that_fails_once_is_fail() {
    let report = run_make_room(403, first_call, Reruns::Once).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert!(case.attempts.is_empty(), "{case:#?}");
    assert_eq!(report.retries, None);
}

#[tokio::test]
async fn with_a_retry_a_case_that_fails_once_is_flaky_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = fakes_failing(403, first_call).await;
    let plan = plan(targets, vec![suite("MUST", MAKE_ROOM)], &[(0, 1)]);
    let opts = with(dir.path(), Reruns::Retries(2));
    let events = Recorder::default();
    let report = execute(&plan, &opts, &NoBuiltins, &events).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Flaky, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("passed on attempt 2 of 3; attempt 1: fail: step 0 (create_room): "),
        "{reason}"
    );
    assert_eq!(runs(case), [Verdict::Fail, Verdict::Pass]);
    // The case's transcript is the failing run's; each run has its own.
    assert_eq!(case.failed_step.as_ref().unwrap().action, "create_room");
    let wires: Vec<&str> = case
        .attempts
        .iter()
        .map(|a| a.wire.as_deref().unwrap())
        .collect();
    assert_eq!(
        wires,
        [
            "cases/a__b/feat/make-room/wire.jsonl",
            "cases/a__b/feat/make-room.attempt-2/wire.jsonl"
        ]
    );
    assert_eq!(case.wire.as_deref(), Some(wires[0]));
    for wire in wires {
        assert!(opts.artifacts_dir.join(wire).is_file(), "{wire}");
    }
    // Each run had fresh users.
    let names = world.user_names.lock().unwrap().clone();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_ne!(names[0], names[1]);
    // Flaky gates and breaks the claim, and is told apart from failing.
    assert_eq!(report.retries, Some(2));
    assert_eq!(exit::for_report(&report), exit::FAILED);
    assert!(!report.claims[1].conformant);
    assert_eq!(
        report.claims[1].reasons,
        ["minimum feature set: 1 failing (1 flaky)"]
    );
    assert_eq!(report.counts().get(&Verdict::Flaky), Some(&1));
    // The case is announced once, after a rerun.
    let log = events.0.lock().unwrap();
    let lines: Vec<&String> = log.iter().filter(|l| l.starts_with("case-")).collect();
    assert_eq!(
        lines,
        [
            "case-started make-room",
            "case-rerun make-room 2",
            "case-started make-room",
            "case-finished make-room",
        ]
    );
}

#[tokio::test]
async fn a_target_error_that_clears_on_retry_is_flaky() {
    let report = run_make_room(500, first_call, Reruns::Retries(1)).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Flaky, "{case:#?}");
    assert_eq!(runs(case), [Verdict::TargetError, Verdict::Pass]);
    assert!(
        case.reason
            .as_deref()
            .unwrap()
            .contains("attempt 1: target-error: "),
        "{case:#?}"
    );
}

#[tokio::test]
async fn a_case_that_always_fails_stays_fail_with_every_attempt_recorded() {
    let report = run_make_room(403, every_call, Reruns::Retries(2)).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert_eq!(runs(case), [Verdict::Fail; 3]);
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.ends_with(" (3 attempts: fail, fail, fail)"),
        "{reason}"
    );
    assert_eq!(
        case.duration_ms,
        case.attempts.iter().map(|a| a.duration_ms).sum::<u64>()
    );
    assert_eq!(report.claims[1].reasons, ["minimum feature set: 1 failing"]);
}

/// A SHOULD missed is `non-strict`: not retried, since a pass after it
/// would make the case `flaky` and break a claim it keeps.
#[tokio::test]
async fn non_strict_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = fakes_failing(403, first_call).await;
    let plan = plan(targets, vec![suite("SHOULD", MAKE_ROOM)], &[(0, 1)]);
    let report = execute(
        &plan,
        &with(dir.path(), Reruns::Retries(2)),
        &NoBuiltins,
        &NoEvents,
    )
    .await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::NonStrict, "{case:#?}");
    assert!(case.attempts.is_empty(), "{case:#?}");
}

#[tokio::test]
async fn repeat_calls_a_target_whose_answer_alternates_flaky() {
    let report = run_make_room(403, odd_call, Reruns::Repeat(3)).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Flaky, "{case:#?}");
    assert_eq!(runs(case), [Verdict::Fail, Verdict::Pass, Verdict::Fail]);
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("verdicts differ over 3 runs: fail, pass, fail; run 1: fail: "),
        "{reason}"
    );
    assert_eq!(report.repeat, Some(3));
}

#[tokio::test]
async fn repeat_keeps_a_steady_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let plan = plan(targets, vec![suite("MUST", MAKE_ROOM)], &[(0, 1)]);
    let report = execute(
        &plan,
        &with(dir.path(), Reruns::Repeat(2)),
        &NoBuiltins,
        &NoEvents,
    )
    .await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    assert_eq!(runs(case), [Verdict::Pass, Verdict::Pass]);
    assert_eq!(exit::for_report(&report), exit::CONFORMANT);
}

/// A case that cuts the link fails while the link is cut; its retry runs
/// before any other case starts and finds the link back: the notify the
/// fake sends before the retry's own cut goes through.
#[tokio::test]
async fn a_case_that_cuts_is_retried_alone_with_its_link_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = fakes_failing(403, first_call).await;
    let cut = "- name: cut
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: \"${room}\", user: \"${bob}\"}
    - partition: {sides: [a, b]}
    - create_room: {as: bob, capture: other}
    - heal: {sides: [a, b]}
";
    let tests = format!("{}{cut}", chat_test("together"));
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let opts = with(dir.path(), Reruns::Retries(1));
    let events = Recorder::default();
    let report = execute(&plan, &opts, &NoBuiltins, &events).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Flaky, "{:#?}", all[1]);
    assert_eq!(runs(all[1]), [Verdict::Fail, Verdict::Pass]);
    let log = events.0.lock().unwrap();
    let lines: Vec<&String> = log.iter().filter(|l| l.starts_with("case-")).collect();
    assert_eq!(
        lines,
        [
            "case-started cut",
            "case-rerun cut 2",
            "case-started cut",
            "case-finished cut",
            "case-started together",
            "case-finished together",
        ]
    );
    let retry = std::fs::read_to_string(
        opts.artifacts_dir
            .join(all[1].attempts[1].wire.as_deref().unwrap()),
    )
    .unwrap();
    let exchanges: Vec<serde_json::Value> = retry
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        exchanges
            .iter()
            .any(|e| e["path"].as_str().unwrap_or("").contains("/notify/")),
        "{retry}"
    );
    assert!(
        exchanges.iter().all(|e| e.get("error").is_none()),
        "{retry}"
    );
}

/// A vendor who lists the case as flaky stops gating on it; one who listed
/// it as a known failure hears that it now passes sometimes.
#[tokio::test]
async fn an_expected_flaky_case_does_not_gate_and_an_expected_failure_that_flakes_does() {
    let report = run_make_room(403, first_call, Reruns::Retries(1)).await;
    assert_eq!(only_case(&report).verdict, Verdict::Flaky);
    let judged = |outcome: &str| {
        let src = format!(
            "expectations:\n  - test: feat/make-room\n    outcome: {outcome}\n    reason: known\n"
        );
        let e = mimi_interop::plan::expectations::parse("known.yaml", &src, &["a", "b"])
            .expect("loads");
        let mut report = report.clone();
        e.apply(&mut report, false);
        exit::for_report(&report)
    };
    assert_eq!(judged("flaky"), exit::CONFORMANT);
    assert_eq!(judged("fail"), exit::FAILED);
}
