//! Integration tests: the runner against fake control-API targets
//! ([`crate::fake_target`]): verdicts, deadlines, broken targets, the oracle.

use crate::fake_target::{self, ORIGINAL, Quirks, World};
use base64::Engine;
use mimi_interop::exit;
use mimi_interop::plan::model::*;
use mimi_interop::report::model::{CaseReport, Filters, RunReport, Verdict};
use mimi_interop::run::event::{EventSink, NoEvents, RunEvent};
use mimi_interop::run::launch::{BoxFuture, BuiltinLauncher, RunningBuiltin};
use mimi_interop::run::{RunOptions, execute};
use mimi_interop::suite::model::Suite;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod artifacts;
mod burst;
mod expect;
mod metadata;
mod no_mechanism;
mod partition;
mod profile;
mod relay;
mod release;
mod retries;
mod shadow;
mod startup;
mod timeline;
mod verdicts;
mod wire;

/// Builtins are not part of these tests: asking for one is a test bug.
struct NoBuiltins;

impl BuiltinLauncher for NoBuiltins {
    fn launch<'a>(
        &'a self,
        name: &'a str,
        _: &'a BuiltinTarget,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>> {
        Box::pin(async move { Err(format!("no builtin {name} in this test")) })
    }
    fn launch_adversary<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>> {
        Box::pin(async move { Err(format!("no adversary {domain} in this test")) })
    }
}

fn url_target(name: &str, url: &str) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Url(url.into()),
    }
}

/// A suite with the given level and tests (YAML of the `tests:` list).
fn suite(level: &str, tests: &str) -> LoadedSuite {
    let yaml = format!(
        "version: 1\nfeature: feat\ntitle: Feature\nset: minimum\n\
         requirement: {{document: draft-ralston-mimi-messaging-requirements-00, section: '2', item: 1, level: {level}}}\n\
         tests:\n{tests}"
    );
    // Through JSON: serde_norway wants `!tag` for enums, suites use one-key maps.
    let value: serde_json::Value =
        serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let suite: Suite = serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    LoadedSuite {
        path: "suites/feat.yaml".into(),
        sha256: "00".repeat(32),
        suite,
    }
}

/// Every test of every suite in every listed cell.
fn plan(targets: Vec<TargetSpec>, suites: Vec<LoadedSuite>, cells: &[(usize, usize)]) -> Plan {
    let cells: Vec<Cell> = cells.iter().map(|&(a, b)| Cell { a, b }).collect();
    let mut cases = Vec::new();
    for (ci, _) in cells.iter().enumerate() {
        for (si, s) in suites.iter().enumerate() {
            for ti in 0..s.suite.tests.len() {
                cases.push(PlannedCase {
                    cell: ci,
                    suite: si,
                    test: ti,
                    skip: None,
                });
            }
        }
    }
    Plan {
        targets,
        suites,
        cells,
        cases,
        filters: Filters::default(),
    }
}

fn options(dir: &std::path::Path) -> RunOptions {
    let mut o = RunOptions::new(dir);
    o.step_timeout = Duration::from_secs(3);
    o.case_timeout = Duration::from_secs(10);
    o
}

/// A builtin reference provider with `quirks`.
fn builtin(name: &str, quirks: &[&str]) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Builtin(BuiltinTarget {
            domain: None,
            quirks: quirks.iter().map(|q| (*q).to_owned()).collect(),
        }),
    }
}

/// The one case of `suite`'s single test between builtins `a` and `b`,
/// with deadlines a loaded machine meets (10 s a step, 30 s the case).
async fn builtin_pair_case(a: TargetSpec, b: TargetSpec, suite: LoadedSuite) -> CaseReport {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(vec![a, b], vec![suite], &[(0, 1)]);
    let launcher = mimi_interop::reference::Launcher::new().unwrap();
    let mut opts = options(dir.path());
    opts.step_timeout = Duration::from_secs(10);
    opts.case_timeout = Duration::from_secs(30);
    let report = execute(&plan, &opts, &launcher, &NoEvents).await;
    only_case(&report).clone()
}

/// Two fakes (`a.example`, `b.example`) sharing one world.
async fn two_fakes(quirks_b: Quirks) -> (Arc<World>, Vec<TargetSpec>) {
    let world = Arc::new(World::default());
    let a = fake_target::spawn(world.clone(), "a.example", Quirks::default()).await;
    let b = fake_target::spawn(world.clone(), "b.example", quirks_b).await;
    (
        world,
        vec![url_target("a", &a.url), url_target("b", &b.url)],
    )
}

fn cases(report: &RunReport) -> Vec<&CaseReport> {
    report.cells.iter().flat_map(|c| &c.cases).collect()
}

fn only_case(report: &RunReport) -> &CaseReport {
    let all = cases(report);
    assert_eq!(all.len(), 1, "{report:#?}");
    all[0]
}

/// A case report without what changes from run to run (ports, the run's
/// random name prefix, durations), for snapshots.
fn stable(case: &CaseReport, report: &RunReport, targets: &[TargetSpec]) -> serde_json::Value {
    let mut text = serde_json::to_string(case).unwrap();
    for t in targets {
        if let TargetKind::Url(url) = &t.kind {
            text = text.replace(url.as_str(), &format!("http://[{}]", t.name));
        }
    }
    let prefix = report.run_id.rsplit('-').next().unwrap();
    text = text.replace(prefix, "[run]");
    // Targets stamp accepted timestamps from the clock.
    let key = "accepted_timestamp\\\":";
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = rest[i + key.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("[ms]");
    }
    out.push_str(rest);
    text = out;
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["duration_ms"] = serde_json::json!("[ms]");
    value
}

fn raw_original() -> String {
    base64::engine::general_purpose::STANDARD.encode(ORIGINAL)
}

/// alice (a) creates a room, adds bob (b), sends the vector; bob gets it.
fn chat_test(name: &str) -> String {
    format!(
        r#"- name: {name}
  actors: {{alice: a, bob: b}}
  steps:
    - create_room: {{as: alice, capture: room}}
    - add_participant: {{as: alice, room: "${{room}}", user: "${{bob}}"}}
    - expect_state:
        room: "${{room}}"
        members: [alice, bob]
        participants: {{alice: admin, bob: user}}
    - send: {{as: alice, room: "${{room}}", raw: "{raw}", capture: m1}}
    - expect_message: {{as: bob, room: "${{room}}", from: "${{alice}}", message_id: "${{m1}}", capture: got}}
"#,
        raw = raw_original()
    )
}

#[tokio::test]
async fn a_conformant_pair_passes_and_the_report_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let plan = plan(targets, vec![suite("MUST", &chat_test("chat"))], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    assert_eq!(case.steps_run, 5);
    assert_eq!(exit::for_report(&report), exit::CONFORMANT);
    assert_eq!(report.cells[0].name(), "a→b");
    assert_eq!(report.targets[0].domain.as_deref(), Some("a.example"));
    assert_eq!(report.targets[1].implementation.as_deref(), Some("fake"));
    assert_eq!(report.suites[0].sha256, "00".repeat(32));
    assert!(report.run_id.len() == 23, "{}", report.run_id);
    assert!(report.started_at.ends_with('Z') && report.finished_at.ends_with('Z'));
}

/// Collects events to check what the runner announces.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl EventSink for Recorder {
    fn event(&self, event: RunEvent) {
        let line = match event {
            RunEvent::Started { cases } => format!("started {cases}"),
            RunEvent::TargetFailed { target, .. } => format!("target-failed {target}"),
            RunEvent::CaseStarted { test, .. } => format!("case-started {test}"),
            RunEvent::CaseRerun { case, attempt, .. } => {
                format!("case-rerun {} {attempt}", case.test)
            }
            RunEvent::CaseFinished { case, .. } => format!("case-finished {}", case.test),
            RunEvent::Finished => "finished".into(),
        };
        self.0.lock().unwrap().push(line);
    }
}

#[tokio::test]
async fn cases_run_concurrently_with_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    // Each delivery takes 400 ms: eight cases one after another need 3.2 s.
    let (world, targets) = two_fakes(Quirks::default()).await;
    let slow = fake_target::spawn(
        world.clone(),
        "a.example",
        Quirks {
            delivery_delay: Some(Duration::from_millis(400)),
            ..Quirks::default()
        },
    )
    .await;
    let targets = vec![url_target("a", &slow.url), targets[1].clone()];
    let tests: String = (0..8).map(|i| chat_test(&format!("chat-{i}"))).collect();
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let mut opts = options(dir.path());
    opts.jobs = 8;
    let events = Recorder::default();
    let t0 = Instant::now();
    let report = execute(&plan, &opts, &NoBuiltins, &events).await;
    let took = t0.elapsed();
    for case in cases(&report) {
        assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
    }
    assert!(took < Duration::from_millis(2400), "took {took:?}");
    assert!(
        world.polls_max.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "long-polls never overlapped"
    );
    let mut names = world.user_names.lock().unwrap().clone();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "user names collided");
    let log = events.0.lock().unwrap();
    assert_eq!(log.first().map(String::as_str), Some("started 8"));
    assert_eq!(log.last().map(String::as_str), Some("finished"));
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("case-finished"))
            .count(),
        8
    );
}

#[tokio::test]
async fn an_unreachable_target_is_a_target_error_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, mut targets) = two_fakes(Quirks::default()).await;
    targets.push(url_target("gone", &fake_target::unreachable_url().await));
    let plan = plan(
        targets,
        vec![suite("MUST", &chat_test("chat"))],
        &[(0, 1), (0, 2)],
    );
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let gone = &report.targets[2];
    let why = gone.error.as_deref().expect("target error recorded");
    assert!(why.contains("cannot connect"), "{why}");
    assert_eq!(report.cells[0].cases[0].verdict, Verdict::Pass);
    let case = &report.cells[1].cases[0];
    assert_eq!(case.verdict, Verdict::TargetError);
    assert!(
        case.reason.as_deref().unwrap().contains("target gone"),
        "{case:?}"
    );
    assert_eq!(exit::for_report(&report), exit::TARGET_OR_HARNESS);
}

#[tokio::test]
async fn a_500_names_the_target_the_step_and_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        fail: Some(("add_participant", 500)),
        ..Quirks::default()
    })
    .await;
    // bob's side (b) adds: the failing call goes to target b.
    let test = r#"- name: b-adds
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: bob, capture: room}
    - add_participant: {as: bob, room: "${room}", user: "${alice}"}
"#;
    let plan = plan(targets.clone(), vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::TargetError);
    insta::assert_yaml_snapshot!(stable(case, &report, &targets));
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("target b") && reason.contains("add_participant") && reason.contains("500"),
        "{reason}"
    );
    let step = case.failed_step.as_ref().unwrap();
    assert_eq!((step.index, step.action.as_str()), (1, "add_participant"));
    assert_eq!(step.target.as_deref(), Some("b"));
    assert!(
        step.request
            .as_deref()
            .unwrap()
            .contains("/v1/add_participant")
    );
    assert!(
        step.response
            .as_deref()
            .unwrap()
            .contains("failed on purpose")
    );
    assert_eq!(case.steps_run, 1);
}

#[tokio::test]
async fn garbage_json_is_a_target_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        garbage: Some("create_room"),
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: garbage
  actors: {bob: b}
  steps:
    - create_room: {as: bob, capture: room}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::TargetError, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("malformed") && reason.contains("surprise"),
        "{reason}"
    );
}

#[tokio::test]
async fn hanging_targets_cost_one_deadline_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, mut targets) = two_fakes(Quirks {
        hang: Some("send"),
        ..Quirks::default()
    })
    .await;
    targets.push(url_target("mute", &fake_target::spawn_hanging().await));
    // b hangs on send (mid-case); mute never answers at all.
    let tests = format!(
        "{}{}",
        chat_test("chat"),
        r#"- name: b-sends
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: bob, capture: room}
    - send: {as: bob, room: "${room}", content: {text: hi}, timeout: 1s}
"#
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1), (0, 2)]);
    let mut opts = options(dir.path());
    opts.step_timeout = Duration::from_secs(1);
    let t0 = Instant::now();
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    assert!(
        t0.elapsed() < Duration::from_secs(6),
        "took {:?}",
        t0.elapsed()
    );
    let ab = &report.cells[0].cases;
    assert_eq!(ab[0].verdict, Verdict::Pass, "{:#?}", ab[0]);
    assert_eq!(ab[1].verdict, Verdict::Timeout, "{:#?}", ab[1]);
    let step = ab[1].failed_step.as_ref().unwrap();
    assert_eq!((step.index, step.action.as_str()), (1, "send"));
    assert!(ab[1].reason.as_deref().unwrap().contains("target b"));
    let mute = report.targets[2].error.as_deref().unwrap();
    assert!(mute.contains("/v1/info"), "{mute}");
    for case in &report.cells[1].cases {
        assert_eq!(case.verdict, Verdict::TargetError);
    }
}

/// A 501 to an operation of a feature both sides declared is not
/// `unsupported` (which never counts against a target) but `fail`.
#[tokio::test]
async fn a_501_in_a_declared_must_feature_is_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        fail: Some(("set_role", 501)),
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: roles
  actors: {bob: b, carol: b}
  steps:
    - create_room: {as: bob, capture: room}
    - add_participant: {as: bob, room: "${room}", user: "${carol}"}
    - set_role: {as: bob, room: "${room}", user: "${carol}", role: moderator}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("MUST feature unsupported: step 2 (set_role): target b: set_role"),
        "{reason}"
    );
    assert_eq!(case.blame.as_deref(), Some("b"));
    assert_eq!(exit::for_report(&report), exit::FAILED);
}

#[tokio::test]
async fn the_run_deadline_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks {
        hang: Some("create_room"),
        ..Quirks::default()
    })
    .await;
    let test = r#"- name: stuck
  actors: {bob: b}
  steps:
    - create_room: {as: bob, capture: room, timeout: 60s}
"#;
    let plan = plan(targets, vec![suite("MUST", test)], &[(0, 1)]);
    let mut opts = options(dir.path());
    opts.case_timeout = Duration::from_secs(60);
    opts.run_timeout = Some(Duration::from_millis(500));
    let t0 = Instant::now();
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Timeout, "{case:#?}");
    let reason = case.reason.as_deref().unwrap();
    assert!(
        reason.contains("run deadline") && reason.contains("create_room"),
        "{reason}"
    );
    assert_eq!(exit::for_report(&report), exit::FAILED);
}

#[tokio::test]
async fn command_targets_announce_their_url_and_log_to_the_artifacts_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let TargetKind::Url(b_url) = &targets[1].kind else {
        unreachable!()
    };
    // A stand-in process: says where "its" control API is and stays up.
    let spawned = TargetSpec {
        name: "spawned".into(),
        kind: TargetKind::Command(CommandTarget {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!("echo starting; echo \"control: {b_url}\"; echo oops >&2; exec sleep 30"),
            ],
            env: Default::default(),
            control: None,
            start_timeout: Some("5s".into()),
        }),
    };
    let dead = TargetSpec {
        name: "dead".into(),
        kind: TargetKind::Command(CommandTarget {
            argv: vec!["sh".into(), "-c".into(), "exit 7".into()],
            env: Default::default(),
            control: Some(fake_target::unreachable_url().await),
            start_timeout: Some("5s".into()),
        }),
    };
    // Another stand-in whose control URL is known up front.
    let quiet = TargetSpec {
        name: "quiet".into(),
        kind: TargetKind::Command(CommandTarget {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "echo $$ > {}/quiet.pid; exec sleep 30",
                    dir.path().display()
                ),
            ],
            env: Default::default(),
            control: Some(b_url.clone()),
            start_timeout: None,
        }),
    };
    let plan = plan(
        vec![targets[0].clone(), spawned, dead, quiet],
        vec![suite("MUST", &chat_test("chat"))],
        &[(0, 1), (0, 2), (0, 3)],
    );
    let opts = options(dir.path());
    let t0 = Instant::now();
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert_eq!(
        report.cells[0].cases[0].verdict,
        Verdict::Pass,
        "{report:#?}"
    );
    let t = &report.targets[1];
    assert_eq!(t.kind, "command");
    assert_eq!(
        t.artifacts,
        vec!["targets/spawned.stdout.log", "targets/spawned.stderr.log"]
    );
    let out = std::fs::read_to_string(opts.artifacts_dir.join(&t.artifacts[0])).unwrap();
    assert!(out.contains("control: http://127.0.0.1"), "{out:?}");
    let err = std::fs::read_to_string(opts.artifacts_dir.join(&t.artifacts[1])).unwrap();
    assert_eq!(err, "oops\n");
    let dead = report.targets[2].error.as_deref().unwrap();
    assert!(dead.contains("exited with exit status: 7"), "{dead}");
    assert_eq!(report.cells[1].cases[0].verdict, Verdict::TargetError);
    assert_eq!(
        report.cells[2].cases[0].verdict,
        Verdict::Pass,
        "{report:#?}"
    );
    // Stopped (killed and reaped) when the run ended.
    let pid = std::fs::read_to_string(dir.path().join("quiet.pid")).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    assert!(
        !std::path::Path::new(&proc_dir).exists(),
        "{proc_dir} still runs"
    );
}

/// The project's own suites, run against two well-behaved fakes: every case
/// must pass, which checks the runner and the suites against each other.
#[tokio::test]
async fn the_shipped_suites_pass_against_conformant_fakes() {
    let dir = tempfile::tempdir().unwrap();
    let suites_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let suites = mimi_interop::suite::load_dir(&suites_dir).expect("shipped suites load");
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let mut plan = mimi_interop::plan::build(targets, suites, &Filters::default()).unwrap();
    // The fakes carry content through their shared world, not over MIMI:
    // cutting or breaking their MIMI link in the relay cannot hold a message
    // back, so tests that do are left to the reference providers
    // (`run::wire`, `run::partition`, the mutation proof).
    let breaks_network = |t: &mimi_interop::suite::model::Test| {
        t.steps.iter().any(|s| {
            matches!(
                s.action(),
                "partition"
                    | "drop_request"
                    | "unavailable"
                    | "duplicate_request"
                    | "delay_request"
            )
        })
    };
    let suites_ref = plan.suites.clone();
    // The protocol suites' adversary sends MIMI requests, which the fakes
    // do not serve: the reference provider runs them (`adversary`, the
    // default run, the mutation proof).
    plan.cases.retain(|c| {
        let s = &suites_ref[c.suite].suite;
        s.set != mimi_interop::suite::model::FeatureSet::Protocol
            && !breaks_network(&s.tests[c.test])
    });
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    // Tests that declare `no_mechanism` must be `unsupported` with their
    // reason; every other case must pass.
    let declared = |feature: &str, test: &str| {
        plan.suites
            .iter()
            .filter(|s| s.suite.feature == feature)
            .flat_map(|s| &s.suite.tests)
            .find(|t| t.name == test)
            .and_then(|t| t.no_mechanism.clone())
    };
    let bad: Vec<String> = report
        .cells
        .iter()
        .flat_map(|c| c.cases.iter().map(move |k| (c.name(), k)))
        .filter(|(_, k)| match declared(&k.feature, &k.test) {
            Some(why) => {
                k.verdict != Verdict::Unsupported
                    || k.reason.as_deref()
                        != Some(format!("no MIMI mechanism: {}", why.trim()).as_str())
            }
            None => k.verdict != Verdict::Pass,
        })
        .map(|(cell, k)| {
            format!(
                "{cell} {}/{}: {} {:?}",
                k.feature, k.test, k.verdict, k.reason
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(cases(&report).len() >= 4 * 5, "{}", cases(&report).len());
}

#[tokio::test]
async fn harness_trouble_is_told_apart_and_skips_keep_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (_world, mut targets) = two_fakes(Quirks::default()).await;
    targets.push(url_target("gone", &fake_target::unreachable_url().await));
    // `${nowhere}` was never captured (loading would reject it; planning
    // by hand does not): the harness, not the target, is at fault.
    let tests = r#"- name: dangling
  actors: {alice: a}
  steps:
    - create_room: {as: alice, capture: room}
    - send: {as: alice, room: "${nowhere}", content: {text: hi}}
- name: filtered
  actors: {alice: a}
  steps:
    - create_room: {as: alice, capture: room}
"#;
    let mut plan = plan(targets, vec![suite("MUST", tests)], &[(0, 1), (2, 0)]);
    plan.cases[1].skip = Some("--test dangling".into());
    plan.cases[3].skip = Some("--test dangling".into());
    let events = Recorder::default();
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &events).await;
    let all = cases(&report);
    assert_eq!(all[0].verdict, Verdict::HarnessError, "{:#?}", all[0]);
    assert!(all[0].reason.as_deref().unwrap().contains("nowhere"));
    assert_eq!(all[0].failed_step.as_ref().unwrap().index, 1);
    assert_eq!(all[1].verdict, Verdict::Skipped);
    assert_eq!(all[1].reason.as_deref(), Some("--test dangling"));
    assert_eq!(all[2].verdict, Verdict::TargetError);
    // A skipped case stays skipped even when its target is down.
    assert_eq!(all[3].verdict, Verdict::Skipped);
    assert_eq!(exit::for_report(&report), exit::TARGET_OR_HARNESS);
    let log = events.0.lock().unwrap();
    assert_eq!(log[0], "target-failed gone");
    assert_eq!(log[1], "started 2");
    assert!(!log.iter().any(|l| l.contains("filtered")), "{log:?}");
}
