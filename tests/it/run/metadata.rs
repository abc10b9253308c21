//! `expect_state`'s metadata pins against fakes: the avatar pin catches a
//! wrong avatar, and a pinned name survives a refused change.

use super::*;
use crate::fake_target::Quirks;

fn metadata_test(name: &str, pins: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b, carol: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: bob}}
    - set_room_metadata: {{as: alice, room: "${{room}}", name: Club, avatar: "https://a.example/club.png"}}
    - set_room_metadata: {{as: carol, room: "${{room}}", name: Mine, expect: refused}}
    - expect_state: {{room: "${{room}}", members: [alice, bob], {pins}}}
"#
    )
}

#[tokio::test]
async fn the_avatar_pin_passes_when_right_and_fails_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let tests = format!(
        "{}{}",
        metadata_test(
            "right",
            r#"name: Club, avatar: "https://a.example/club.png""#
        ),
        metadata_test(
            "wrong",
            r#"name: Club, avatar: "https://a.example/other.png""#
        )
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let mut opts = options(dir.path());
    opts.step_timeout = Duration::from_secs(1);
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    let reason = all[1].reason.as_deref().unwrap();
    assert!(
        reason.contains(r#"avatar is Some("https://a.example/club.png"), expected Some("https://a.example/other.png")"#),
        "{reason}"
    );
    assert_eq!(all[1].failed_step.as_ref().unwrap().index, 4);
}
