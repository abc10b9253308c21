//! The binary stopped by a signal mid-run, and the end of a normal run: a
//! `command` target started through a wrapper script is stopped with its
//! whole process group, and an interrupted run still writes its (partial)
//! report and exits 130.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-interop");
/// Generous bounds for a loaded machine; nothing here waits them out when
/// things work.
const BOUND: Duration = Duration::from_secs(120);

const SUITE_HEAD: &str = "version: 1\nfeature: text\ntitle: Hang\nset: minimum\n\
    requirement: {document: draft-ralston-mimi-messaging-requirements-00, section: '2', item: 3, level: MUST}\n";

/// A suite whose tests wait for a message nobody sends.
fn hanging_suite() -> String {
    let test = |name: &str| {
        format!(
            "  - name: {name}\n    actors: {{alice: a, bob: b}}\n    steps:\n\
             \x20     - create_room: {{ as: alice, capture: room }}\n\
             \x20     - add_participant: {{ as: alice, room: \"${{room}}\", user: bob }}\n\
             \x20     - expect_message: {{ as: bob, room: \"${{room}}\", from: alice, content: {{ text: never sent }} }}\n"
        )
    };
    format!("{SUITE_HEAD}tests:\n{}{}", test("waits"), test("waits-too"))
}

/// A suite that passes quickly.
fn quick_suite() -> String {
    format!(
        "{SUITE_HEAD}tests:\n  - name: room\n    actors: {{alice: a, bob: b}}\n    steps:\n\
         \x20     - create_room: {{ as: alice, capture: room }}\n"
    )
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// A wrapper script that records its process group and starts the
    /// reference provider behind a `tee` (two processes it leaves running
    /// if only it is killed), plus a targets file with it and a builtin.
    fn new(suite: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("suite.yaml"), suite).unwrap();
        std::fs::write(
            p.join("wrapper.sh"),
            "echo $$ > \"$PGID_FILE\"\n\"$MIMI_BIN\" serve --domain w.example | tee \"$CONTROL_FILE\" &\nwait\n",
        )
        .unwrap();
        let targets = format!(
            "targets:\n  - name: wrapped\n    command:\n      argv: [sh, {wrapper}]\n      env: {{MIMI_BIN: {bin}, PGID_FILE: {pgid}, CONTROL_FILE: {control}}}\n      start_timeout: 60s\n  - name: ref\n    builtin: {{}}\n",
            wrapper = p.join("wrapper.sh").display(),
            bin = BIN,
            pgid = p.join("pgid").display(),
            control = p.join("control").display(),
        );
        std::fs::write(p.join("targets.yaml"), targets).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn spawn(&self) -> Child {
        Command::new(BIN)
            .args(["run", "--jobs", "1", "--cell", "wrapped,ref"])
            .args(["--step-timeout", "300s", "--case-timeout", "600s"])
            .arg("--suites")
            .arg(self.path("suite.yaml"))
            .arg("--targets")
            .arg(self.path("targets.yaml"))
            .arg("--reports")
            .arg(self.path("reports"))
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    }

    /// The wrapper's process group.
    fn pgid(&self) -> i32 {
        std::fs::read_to_string(self.path("pgid"))
            .expect("the wrapper ran")
            .trim()
            .parse()
            .unwrap()
    }

    fn report(&self) -> serde_json::Value {
        let body = std::fs::read_to_string(self.path("reports/latest/report.json"))
            .expect("report.json written");
        serde_json::from_str(&body).expect("report.json is JSON")
    }
}

/// Processes of group `pgid` that are still running (zombies, which an
/// init that never reaps may keep around, do not count).
fn group_members(pgid: i32) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            out.push(stat);
        }
    }
    out
}

/// Reads lines of `child`'s stdout on a thread; returns what was read once
/// `stop` matches a line (or the output ends).
fn read_until(child: &mut Child, stop: &'static str) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut signalled = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if !signalled && line.contains(stop) {
                signalled = true;
                let _ = tx.send(seen.clone());
            }
        }
        let _ = tx.send(seen);
    });
    rx
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < BOUND, "the harness did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The control URL the wrapped provider printed.
fn control_url(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("the wrapped provider started");
    text.lines()
        .find_map(|l| l.strip_prefix("control:"))
        .expect("a control line")
        .trim()
        .to_owned()
}

#[test]
fn sigint_mid_run_stops_the_target_group_and_writes_a_partial_report() {
    let setup = Setup::new(&hanging_suite());
    let mut child = setup.spawn();
    let lines = read_until(&mut child, "running");
    let seen = lines.recv_timeout(BOUND).expect("the run starts");
    assert!(seen.contains("running 2 cases"), "{seen}");
    // The first case is under way once its alice exists on the wrapped
    // provider (`<actor>-<run prefix>-<case index>`); it then waits 300 s.
    let run_id = std::fs::read_dir(setup.path("reports"))
        .unwrap()
        .flatten()
        .next()
        .expect("the run's directory")
        .file_name()
        .into_string()
        .unwrap();
    let prefix = run_id.rsplit('-').next().unwrap().to_owned();
    let url = format!("{}/v1/room_state", control_url(&setup.path("control")));
    let body = format!(
        r#"{{"user": "mimi://w.example/u/alice-{prefix}-0", "room": "mimi://w.example/r/none"}}"#
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        // 404 names the user once it exists: "… has no client in …".
        let text = rt.block_on(async {
            http.post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("the wrapped provider answers")
                .text()
                .await
                .unwrap()
        });
        if !text.contains("no local user") {
            break;
        }
        assert!(start.elapsed() < BOUND, "the first case never started");
        std::thread::sleep(Duration::from_millis(20));
    }

    // SAFETY: kill(2) with plain integers.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");

    let report = setup.report();
    assert_eq!(report["interrupted"], "SIGINT", "{report:#}");
    let cases = report["cells"][0]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{report:#}");
    assert_eq!(cases[0]["verdict"], "harness-error", "{report:#}");
    assert_eq!(cases[0]["reason"], "interrupted by SIGINT", "{report:#}");
    assert_eq!(cases[1]["verdict"], "skipped", "{report:#}");
    assert_eq!(
        cases[1]["reason"], "not started: the run was interrupted by SIGINT",
        "{report:#}"
    );
    let left = group_members(setup.pgid());
    assert!(left.is_empty(), "still running: {left:?}");
}

#[test]
fn a_normal_run_stops_everything_a_wrapper_script_started() {
    let setup = Setup::new(&quick_suite());
    let mut child = setup.spawn();
    let _lines = read_until(&mut child, "reports:");
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0));
    assert!(setup.report().get("interrupted").is_none());
    let left = group_members(setup.pgid());
    assert!(left.is_empty(), "still running: {left:?}");
}
