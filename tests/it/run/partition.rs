//! `partition` and `heal` through the relay: a case that cuts runs alone
//! and gives the link back whatever its verdict; a cell with one target has
//! no link to cut (`unsupported`). The relay's own cut and heal are tested
//! in `relay.rs`.

use super::*;
use crate::fake_target::Quirks;
use mimi_interop::run::relay::SAME_TARGET;

/// A test of alice (a) and bob (b) with these steps.
fn partition_test(name: &str, timeout: &str, steps: &str) -> String {
    format!(
        "- name: {name}\n  timeout: {timeout}\n  actors: {{alice: a, bob: b}}\n  steps:\n{steps}"
    )
}

#[tokio::test]
async fn a_partition_in_a_cell_of_one_target_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let tests = partition_test(
        "cut",
        "10s",
        "    - create_room: {as: alice, capture: room}\n    - partition: {sides: [a, b]}\n",
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(1, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Unsupported, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(reason.contains(SAME_TARGET), "{reason}");
    assert_eq!(case.failed_step.as_ref().unwrap().action, "partition");
}

/// The fakes now serve MIMI on loopback: the relay cuts their link too.
#[tokio::test]
async fn a_partition_between_fakes_cuts_and_heals_in_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let tests = partition_test(
        "cut",
        "10s",
        "    - create_room: {as: alice, capture: room}\n    - partition: {sides: [a, b]}\n    - heal: {sides: [b, a]}\n",
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
}

/// Two reference providers: a case cuts their link and runs out of time
/// without healing; the next case (also one that cuts, so it runs alone
/// after it) needs the link from its first step. Cases that cut run
/// before the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_cuts_runs_alone_and_leaves_the_link_healed_whatever_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let stuck = partition_test(
        "stuck",
        "3s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - partition: {sides: [a, b]}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: cut}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n",
    );
    let after = partition_test(
        "after",
        "20s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: hi}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n\
         \x20   - partition: {sides: [b, a]}\n\
         \x20   - heal: {sides: [a, b]}\n",
    );
    let together = partition_test(
        "together",
        "20s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: hi}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n",
    );
    let tests = format!("{stuck}{after}{together}");
    // A feature the reference provider declares, so the cases run.
    let mut sync = suite("MUST", &tests);
    sync.suite.feature = "reliable-sync".into();
    let plan = plan(
        vec![builtin("x", &[]), builtin("y", &[])],
        vec![sync],
        &[(0, 1)],
    );
    let events = Recorder::default();
    let launcher = mimi_interop::reference::Launcher::new().unwrap();
    let report = execute(&plan, &options(dir.path()), &launcher, &events).await;
    let all = cases(&report);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].test, "stuck");
    assert_eq!(all[0].verdict, Verdict::Timeout, "{:#?}", all[0]);
    assert_eq!(all[1].test, "after");
    assert_eq!(all[1].verdict, Verdict::Pass, "{:#?}", all[1]);
    assert_eq!(all[2].verdict, Verdict::Pass, "{:#?}", all[2]);
    // Order: the cutting cases one by one, then the concurrent ones.
    let log = events.0.lock().unwrap();
    let cases: Vec<&String> = log.iter().filter(|l| l.starts_with("case-")).collect();
    assert_eq!(
        cases,
        [
            "case-started stuck",
            "case-finished stuck",
            "case-started after",
            "case-finished after",
            "case-started together",
            "case-finished together",
        ]
    );
}
