//! The relay in a run: two reference providers talk only through it, each
//! case's transcript holds its exchanges, the request-fault steps act on
//! the wire and the reference copes as the drafts require, and a target
//! that ignores its peer wiring is a `target-error`.

use super::*;
use crate::fake_target::Quirks;

/// The lines of a case's wire transcript.
fn transcript(opts: &RunOptions, case: &CaseReport) -> Vec<serde_json::Value> {
    let rel = case
        .wire
        .as_deref()
        .expect("the case has a wire transcript");
    std::fs::read_to_string(opts.artifacts_dir.join(rel))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn endpoint(line: &serde_json::Value) -> &str {
    let path = line["path"].as_str().unwrap();
    path.split('/').nth(2).unwrap_or_default()
}

fn from_to(line: &serde_json::Value) -> (&str, &str) {
    (
        line["from"]["target"].as_str().unwrap(),
        line["to"]["target"].as_str().unwrap(),
    )
}

/// alice (a, the hub) and bob (b) with `steps` after bob joined.
fn two_way(name: &str, steps: &str) -> String {
    format!(
        "- name: {name}\n  timeout: 30s\n  actors: {{alice: a, bob: b}}\n  steps:\n\
         \x20   - create_room: {{as: alice, capture: room}}\n\
         \x20   - add_participant: {{as: alice, room: \"${{room}}\", user: bob}}\n\
         \x20   - expect_state: {{room: \"${{room}}\", members: [alice, bob]}}\n{steps}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reference_providers_talk_through_the_relay_and_each_case_has_its_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let chat = two_way(
        "chat",
        "    - send: {as: bob, room: \"${room}\", content: {text: up}, capture: m1}\n\
         \x20   - expect_message: {as: alice, room: \"${room}\", message_id: \"${m1}\"}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: down}, capture: m2}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m2}\"}\n",
    );
    let duplicate = two_way(
        "duplicate",
        "    - duplicate_request: {to: b, endpoint: notify}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: twice}, capture: m1}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: marker}, capture: end}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m1}\"}\n\
         \x20   - expect_no_message: {as: bob, room: \"${room}\", until: \"${end}\"}\n",
    );
    let unavailable = two_way(
        "unavailable",
        "    - unavailable: {to: b, endpoint: notify, retry_after: 1s}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: later}, capture: m1}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m1}\"}\n",
    );
    // The second message keeps the case open until the retry is recorded:
    // the hub's queue to a follower is ordered, so m2 leaves only after the
    // relay has passed m1's 201 back (Bob can see m1 before that answer
    // crosses the relay, and an exchange that ends after its case goes to
    // the run's transcript).
    let dropped = two_way(
        "dropped",
        "    - drop_request: {to: b, endpoint: notify}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: lost once}, capture: m1}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m1}\"}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: after the retry}, capture: m2}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m2}\"}\n",
    );
    let delayed = two_way(
        "delayed",
        "    - delay_request: {to: a, endpoint: submitMessage, by: 300ms}\n\
         \x20   - send: {as: bob, room: \"${room}\", content: {text: slow}, capture: m1}\n\
         \x20   - expect_message: {as: alice, room: \"${room}\", message_id: \"${m1}\"}\n",
    );
    let tests = format!("{chat}{duplicate}{unavailable}{dropped}{delayed}");
    // A feature the reference provider declares, so the cases run.
    let mut sync = suite("MUST", &tests);
    sync.suite.feature = "reliable-sync".into();
    let plan = plan(
        vec![builtin("x", &[]), builtin("y", &[])],
        vec![sync],
        &[(0, 1)],
    );
    let launcher = mimi_interop::reference::Launcher::new().unwrap();
    let opts = options(dir.path());
    let report = execute(&plan, &opts, &launcher, &NoEvents).await;
    let all = cases(&report);
    for case in &all {
        assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
        assert_eq!(
            case.wire.as_deref(),
            Some(format!("cases/x__y/reliable-sync/{}/wire.jsonl", case.test).as_str())
        );
    }

    // Both directions, every line of this case names this case's room.
    let chat = transcript(&opts, all[0]);
    let seen: Vec<(&str, (&str, &str))> = chat.iter().map(|l| (endpoint(l), from_to(l))).collect();
    for want in [
        ("keyMaterial", ("x", "y")),
        ("notify", ("x", "y")),
        ("submitMessage", ("y", "x")),
    ] {
        assert!(seen.contains(&want), "{want:?} not in {seen:?}");
    }
    let prefix = report.run_id.rsplit('-').next().unwrap();
    for l in &chat {
        assert!(
            l["path"]
                .as_str()
                .unwrap()
                .contains(&format!("-{prefix}-0")),
            "{l}"
        );
        assert!(
            l["summary"].as_str().unwrap().starts_with("x → y: ")
                || l["summary"].as_str().unwrap().starts_with("y → x: ")
        );
        assert!(!l["from"]["domain"].as_str().unwrap().is_empty());
    }
    // Between two reference providers every exchange decodes, with nothing
    // for the protocol codec to remark on.
    for case in &all {
        // Exchanges the relay answered itself (faults) reached no receiver.
        for l in transcript(&opts, case)
            .into_iter()
            .filter(|l| l.get("status").is_some())
        {
            let summary = l["summary"].as_str().unwrap();
            assert!(summary.contains(" · "), "not decoded: {summary}");
            assert!(!summary.contains("undecodable"), "{summary}");
            assert!(l.get("findings").is_none(), "{l}");
        }
    }

    // The duplicate: the same bytes twice, both accepted with 201 (§5.5).
    let dup = transcript(&opts, all[1]);
    let copies: Vec<_> = dup
        .iter()
        .filter(|l| {
            l["fault"]
                .as_str()
                .is_some_and(|f| f.starts_with("delivered twice"))
        })
        .collect();
    assert_eq!(copies.len(), 2, "{dup:#?}");
    assert_eq!(copies[0]["request_b64"], copies[1]["request_b64"]);
    assert_eq!(
        (copies[0]["status"].as_u64(), copies[1]["status"].as_u64()),
        (Some(201), Some(201))
    );

    // 503 with Retry-After 1: the hub sends the same bytes again, not sooner.
    let un = transcript(&opts, all[2]);
    let refused = un
        .iter()
        .position(|l| l["relay_status"] == 503)
        .expect("a 503");
    let retry = un[refused + 1..]
        .iter()
        .find(|l| endpoint(l) == "notify" && l["request_b64"] == un[refused]["request_b64"])
        .expect("the hub retried the refused notify");
    assert_eq!(retry["status"], 201);
    let at = |l: &serde_json::Value| humantime::parse_rfc3339(l["time"].as_str().unwrap()).unwrap();
    let waited = at(retry).duration_since(at(&un[refused])).unwrap();
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );

    // Dropped: no answer, then the same bytes again, accepted.
    let dr = transcript(&opts, all[3]);
    let lost = dr
        .iter()
        .position(|l| l["fault"] == "dropped")
        .expect("a drop");
    assert!(dr[lost].get("status").is_none());
    assert!(
        dr[lost + 1..]
            .iter()
            .any(|l| l["request_b64"] == dr[lost]["request_b64"] && l["status"] == 201)
    );

    // Delayed: held, then forwarded.
    let de = transcript(&opts, all[4]);
    let held = de
        .iter()
        .find(|l| l["fault"] == "delayed 300ms")
        .expect("a delay");
    assert!(held["duration_ms"].as_f64().unwrap() >= 300.0, "{held}");
    assert_eq!(held["status"], 200);

    // Exchanges of no case (e.g. directory fetches outside a case) go here.
    assert!(opts.artifacts_dir.join("wire/run.jsonl").exists());
}

#[tokio::test]
async fn a_target_that_ignores_its_peer_wiring_is_a_target_error() {
    let dir = tempfile::tempdir().unwrap();
    let world = std::sync::Arc::new(fake_target::World::default());
    let a = fake_target::spawn(
        world.clone(),
        "a.example",
        Quirks {
            no_mimi: true,
            ..Quirks::default()
        },
    )
    .await;
    let b = fake_target::spawn(world.clone(), "b.example", Quirks::default()).await;
    let targets = vec![url_target("a", &a.url), url_target("b", &b.url)];
    let tests = format!(
        "{}{}",
        chat_test("ignored"),
        // bob is never added: no traffic is needed, so the timeout stays one.
        "- name: alone\n  actors: {alice: a, bob: b}\n  steps:\n\
         \x20   - create_room: {as: alice, capture: room}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: hi}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\", timeout: 300ms}\n"
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let mut opts = options(dir.path());
    opts.step_timeout = Duration::from_secs(1);
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::TargetError, "{:#?}", all[0]);
    let reason = all[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("target a ignored its peer wiring: no MIMI traffic between a and b reached the harness's relay"),
        "{reason}"
    );
    assert_eq!(
        all[0].failed_step.as_ref().unwrap().action,
        "expect_message"
    );
    assert_eq!(all[1].verdict, Verdict::Timeout, "{:#?}", all[1]);
    // No exchange ever named the room between the two: bob's provider has
    // no member the hub must serve, so the wire blames no one.
    assert_eq!(all[1].blame, None, "{:#?}", all[1]);
}

#[tokio::test]
async fn fakes_that_use_their_wiring_are_seen_by_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let plan = plan(targets, vec![suite("MUST", &chat_test("chat"))], &[(0, 1)]);
    let opts = options(dir.path());
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    let lines = transcript(&opts, case);
    assert!(
        lines
            .iter()
            .any(|l| from_to(l) == ("a", "b") && endpoint(l) == "notify" && l["status"] == 201),
        "{lines:#?}"
    );
}

/// The one case of `steps` (after bob joined alice's room) between a
/// builtin hub with `quirk` and a clean builtin follower.
async fn quirky_hub(quirk: &str, steps: &str) -> CaseReport {
    let mut sync = suite("MUST", &two_way("lost", steps));
    sync.suite.feature = "reliable-sync".into();
    builtin_pair_case(builtin("quirky", &[quirk]), builtin("clean", &[]), sync).await
}

/// A hub that holds a message back from the follower for good
/// (`reorder-fanout` waits for a successor that never comes): the wait
/// times out, and the wire's count of what the hub fanned out blames the
/// hub alone, so the follower is not charged with the loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_hub_never_fanned_out_is_blamed_on_the_hub() {
    let case = quirky_hub(
        "reorder-fanout",
        "    - send: {as: alice, room: \"${room}\", content: {text: one}, capture: m1}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m1}\", timeout: 3s}\n",
    )
    .await;
    assert_eq!(case.verdict, Verdict::Timeout, "{case:#?}");
    assert_eq!(case.blame.as_deref(), Some("quirky"), "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains(
            "on the wire: the hub quirky fanned out 0 application message(s) of the room to clean"
        ) && reason.contains("the hub skipped clean (protocol-06 §5.5"),
        "{reason}"
    );
}

/// A hub that drops every tenth message to a follower: the ordered burst
/// shows a gap at its receiver, and once the hub's fan-out has had until
/// the deadline to catch up, the wire's count (11 sent, 10 fanned out)
/// blames the hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_a_burst_the_hub_skipped_is_blamed_on_the_hub() {
    let case = quirky_hub(
        "drop-every-tenth",
        "    - send_burst: {as: alice, room: \"${room}\", count: 11, capture: burst}\n\
         \x20   - expect_messages: {as: bob, room: \"${room}\", ids: burst, timeout: 3s}\n",
    )
    .await;
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    assert_eq!(case.blame.as_deref(), Some("quirky"), "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("message 11 of 11")
            && reason.contains(
                "the hub quirky fanned out 10 application message(s) of the room to clean since the awaited message was sent, though 11 had been sent"
            ),
        "{reason}"
    );
}
