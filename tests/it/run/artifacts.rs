//! Per-case artifacts: every case that ran has its folder with its control
//! transcript (each call with its status and timings) and wire transcript;
//! a `command` target's log lines land in the case whose window they fell
//! in; every case carries the command that reruns it.

use super::*;
use crate::fake_target::log::ProcessLog;

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test]
async fn every_case_that_ran_has_its_control_and_wire_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        fail: Some(("add_participant", 500)),
        ..Quirks::default()
    })
    .await;
    // `chat` adds bob on a (passes), `broken` adds alice on b (500).
    let broken = r#"- name: broken
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: bob, capture: room}
    - add_participant: {as: bob, room: "${room}", user: "${alice}"}
- name: not-here
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
"#;
    let tests = format!("{}{broken}", chat_test("chat"));
    let mut plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    plan.cases[2].skip = Some("not in this cell".into());
    let opts = options(dir.path());
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::TargetError, "{:#?}", all[1]);
    assert_eq!(all[2].verdict, Verdict::Skipped);

    for case in &all[..2] {
        let folder = format!("cases/a__b/feat/{}", case.test);
        assert_eq!(case.artifacts_dir(), Some(folder.as_str()));
        assert_eq!(
            case.wire.as_deref(),
            Some(format!("{folder}/wire.jsonl").as_str())
        );
        assert!(
            opts.artifacts_dir
                .join(case.wire.as_ref().unwrap())
                .is_file()
        );
        // Url targets: the harness has no logs of theirs.
        assert!(case.logs.is_empty(), "{:?}", case.logs);
    }
    // Nothing ran, nothing kept; the rerun command is there all the same.
    assert_eq!(all[2].control, None);
    assert_eq!(all[2].wire, None);
    assert!(!opts.artifacts_dir.join("cases/a__b/feat/not-here").exists());
    for case in &all {
        assert_eq!(
            case.reproduce.as_deref(),
            Some(
                format!(
                    "mimi-interop run --suites suites --cell a,b --test feat/{}",
                    case.test
                )
                .as_str()
            )
        );
    }

    let chat = lines(&opts.artifacts_dir.join(all[0].control.as_ref().unwrap()));
    let calls: Vec<(&str, &str, u64)> = chat
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap(),
                l["path"].as_str().unwrap(),
                l["status"].as_u64().unwrap(),
            )
        })
        .collect();
    // Each actor's user on its own side, then the steps' calls in order.
    assert_eq!(calls[0], ("a", "/v1/create_user", 200), "{calls:?}");
    assert_eq!(calls[1], ("b", "/v1/create_user", 200), "{calls:?}");
    assert_eq!(calls[2], ("a", "/v1/create_room", 200), "{calls:?}");
    for want in [
        ("a", "/v1/add_participant", 200),
        ("a", "/v1/room_state", 200),
        ("b", "/v1/room_state", 200),
        ("a", "/v1/send", 200),
        // The long-poll for bob's message.
        ("b", "/v1/events", 200),
    ] {
        assert!(calls.contains(&want), "{want:?} not in {calls:?}");
    }
    let prefix = report.run_id.rsplit('-').next().unwrap();
    assert_eq!(
        chat[0]["request"]["name"],
        format!("alice-{prefix}-0"),
        "{}",
        chat[0]
    );
    assert!(
        chat[0]["answer"]["user"]
            .as_str()
            .unwrap()
            .contains("alice")
    );
    let mut last_start = 0.0;
    for (i, l) in chat.iter().enumerate() {
        assert_eq!(l["seq"], i as u64 + 1, "{l}");
        let start = l["start_ms"].as_f64().unwrap();
        let took = l["duration_ms"].as_f64().unwrap();
        assert!(start >= last_start && took >= 0.0, "{l}");
        assert!(
            start + took <= all[0].duration_ms as f64 + 1.0,
            "a call outlasts its case: {l}"
        );
        last_start = start;
        assert_eq!(l["method"], "POST");
        assert!(l.get("error").is_none(), "{l}");
    }

    // The failing call: its status, the target's error body, and why.
    let broken = lines(&opts.artifacts_dir.join(all[1].control.as_ref().unwrap()));
    // Its last calls release the case's users and rooms on both targets.
    assert_eq!(broken.last().unwrap()["path"], "/v1/release");
    let last = broken
        .iter()
        .rev()
        .find(|l| l["path"] != "/v1/release")
        .unwrap();
    assert_eq!(last["target"], "b");
    assert_eq!(last["path"], "/v1/add_participant");
    assert_eq!(last["status"], 500);
    assert_eq!(
        last["answer"]["error"]["message"],
        "add_participant failed on purpose"
    );
    assert!(
        last["error"].as_str().unwrap().contains("HTTP 500"),
        "{last}"
    );
}

#[tokio::test]
async fn a_command_target_s_lines_land_in_the_case_that_was_running() {
    let dir = tempfile::tempdir().unwrap();
    let log = ProcessLog::new(dir.path());
    let world = Arc::new(World::default());
    let a = fake_target::spawn(
        world.clone(),
        "a.example",
        Quirks {
            log: Some(log.clone()),
            ..Quirks::default()
        },
    )
    .await;
    let b = fake_target::spawn(world.clone(), "b.example", Quirks::default()).await;
    let logged = TargetSpec {
        name: "logged".into(),
        kind: TargetKind::Command(CommandTarget {
            argv: vec!["sh".into(), "-c".into(), log.script()],
            env: Default::default(),
            control: Some(a.url.clone()),
            start_timeout: Some("5s".into()),
        }),
    };
    let tests = format!(
        "{}{}{}",
        chat_test("one"),
        chat_test("two"),
        chat_test("three")
    );
    let plan = plan(
        vec![logged, url_target("b", &b.url)],
        vec![suite("MUST", &tests)],
        &[(0, 1)],
    );
    let mut opts = options(dir.path());
    // One case at a time: each window holds its own case's lines only.
    opts.jobs = 1;
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let whole =
        std::fs::read_to_string(opts.artifacts_dir.join("targets/logged.stderr.log")).unwrap();
    // The harness's own start-up calls came before any case.
    assert!(whole.starts_with("reset "), "{whole}");
    let prefix = report.run_id.rsplit('-').next().unwrap();
    for (i, case) in cases(&report).into_iter().enumerate() {
        assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
        let folder = format!("cases/logged__b/feat/{}", case.test);
        assert_eq!(
            case.logs,
            [
                format!("{folder}/logged.stdout.log"),
                format!("{folder}/logged.stderr.log")
            ]
        );
        let stdout = std::fs::read_to_string(opts.artifacts_dir.join(&case.logs[0])).unwrap();
        assert_eq!(stdout, "");
        let got = std::fs::read_to_string(opts.artifacts_dir.join(&case.logs[1])).unwrap();
        // Exactly the lines of the whole log that name this case's users
        // and rooms, in order.
        let marker = format!("-{prefix}-{i}");
        let want: String = whole
            .lines()
            .filter(|l| l.contains(&marker))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(want.contains("create_user "), "{want}");
        assert_eq!(got, want, "case {i}");
    }
}
