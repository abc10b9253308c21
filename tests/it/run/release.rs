//! The runner releases every finished case's users and rooms on the targets
//! that hold them (control `release`), and a target that does not implement
//! it is asked once and keeps its verdicts.

use super::*;
use crate::fake_target::Quirks;

const CHAT: &str = r#"- name: chat
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: "${room}", user: bob}
    - send: {as: alice, room: "${room}", content: {text: hi}, capture: m}
    - expect_message: {as: bob, room: "${room}", from: alice, message_id: "${m}"}
- name: two-rooms
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: one}
    - create_room: {as: bob, capture: two}
    - add_participant: {as: bob, room: "${two}", user: alice}
"#;

/// The `<run>-<case>` part every name of one case shares.
fn case_tag(uri: &str) -> String {
    let name = uri.rsplit('/').next().unwrap();
    let name = name.strip_prefix("room-").unwrap_or(name);
    let parts: Vec<&str> = name.split('-').collect();
    // user: <actor>-<run>-<case>; room: <run>-<case>-<n>
    if uri.contains("/r/") {
        parts[..parts.len() - 1].join("-")
    } else {
        parts[1..].join("-")
    }
}

#[tokio::test]
async fn every_case_releases_its_users_and_rooms_where_they_live() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = two_fakes(Quirks::default()).await;
    let plan = plan(targets, vec![suite("MUST", CHAT)], &[(0, 1), (0, 0)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    for c in cases(&report) {
        assert_eq!(c.verdict, Verdict::Pass, "{c:#?}");
    }
    let releases = world.releases.lock().unwrap().clone();
    // a→b: one release on each side per case; a→a: one per case.
    assert_eq!(releases.len(), 2 * 2 + 2, "{releases:#?}");
    let created = world.user_names.lock().unwrap().clone();
    let mut released_users = Vec::new();
    for (domain, req) in &releases {
        let tags: std::collections::BTreeSet<String> = req
            .users
            .iter()
            .chain(&req.rooms)
            .map(|u| case_tag(u))
            .collect();
        assert_eq!(tags.len(), 1, "one release names one case: {req:?}");
        assert!(!req.rooms.is_empty(), "{req:?}");
        for u in &req.users {
            assert!(
                u.starts_with(&format!("mimi://{domain}/u/")),
                "{u} released on {domain}"
            );
            released_users.push(u.rsplit('/').next().unwrap().to_owned());
        }
    }
    released_users.sort();
    let mut created = created;
    created.sort();
    assert_eq!(released_users, created, "every user released once");
    // The case with two rooms releases both, on both sides.
    let both: Vec<_> = releases
        .iter()
        .filter(|(_, r)| r.rooms.len() == 2)
        .collect();
    assert_eq!(both.len(), 3, "{releases:#?}");
}

#[tokio::test]
async fn a_target_without_release_is_asked_once_and_keeps_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (world, targets) = two_fakes(Quirks {
        fail: Some(("release", 501)),
        ..Quirks::default()
    })
    .await;
    let plan = plan(targets, vec![suite("MUST", CHAT)], &[(0, 1)]);
    let mut opts = options(dir.path());
    opts.jobs = 1;
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    for c in cases(&report) {
        assert_eq!(c.verdict, Verdict::Pass, "{c:#?}");
    }
    let calls = world.release_calls.lock().unwrap().clone();
    assert_eq!(calls.get("b.example"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("a.example"), Some(&2), "{calls:?}");
}
