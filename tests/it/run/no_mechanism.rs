//! Tests that declare `no_mechanism`: the runner reports them `unsupported`
//! with the declared reason, in every cell, without touching the targets,
//! and never as a pass.

use super::*;
use crate::fake_target::Quirks;

const REASON: &str = "no wire format for typing notifications in draft-ietf-mimi-content-08 or draft-ietf-mimi-protocol-06";

#[tokio::test]
async fn a_no_mechanism_test_is_unsupported_with_its_reason_in_every_cell() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = two_fakes(Quirks::default()).await;
    let tests = format!(
        "- name: typing\n  no_mechanism: \"{REASON}\"\n{}",
        chat_test("chat")
    );
    let plan = plan(targets, vec![suite("SHOULD", &tests)], &[(0, 1), (1, 0)]);
    let events = Recorder::default();
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &events).await;
    let all = cases(&report);
    assert_eq!(all.len(), 4, "{report:#?}");
    for case in all.iter().filter(|c| c.test == "typing") {
        assert_eq!(case.verdict, Verdict::Unsupported, "{case:#?}");
        assert_eq!(
            case.reason.as_deref(),
            Some(format!("no MIMI mechanism: {REASON}").as_str())
        );
        assert_eq!(case.steps_run, 0);
        assert!(case.failed_step.is_none());
    }
    // The ordinary test next to it still runs and passes: the declaration
    // is per test, not per suite.
    for case in all.iter().filter(|c| c.test == "chat") {
        assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    }
    // Only the two chat cases created users (alice and bob each).
    assert_eq!(world.user_names.lock().unwrap().len(), 4);
    assert_eq!(exit::for_report(&report), exit::CONFORMANT);
    let log = events.0.lock().unwrap();
    assert!(log.iter().any(|l| l == "case-finished typing"), "{log:?}");
}
