//! Start-up of `command` targets: `start_timeout` bounds the whole
//! readiness wait, and a control API that refuses connections is told apart
//! from one that accepts and stays silent.

use super::*;

fn command_target(name: &str, script: &str, control: Option<String>) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Command(CommandTarget {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: Default::default(),
            control,
            start_timeout: Some("1s".into()),
        }),
    }
}

/// Runs one cell of `target` with itself; returns its start-up error and
/// how long the run took.
async fn start_error(target: TargetSpec) -> (String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    // Far above `start_timeout` (1 s): whichever bounds the wait shows.
    opts.step_timeout = Duration::from_secs(60);
    let plan = plan(
        vec![target],
        vec![suite(
            "MUST",
            "  - name: t\n    actors: {alice: a}\n    steps:\n      - create_room: {as: alice, capture: room}\n",
        )],
        &[(0, 0)],
    );
    let t0 = Instant::now();
    let report = execute(&plan, &opts, &NoBuiltins, &NoEvents).await;
    let error = report.targets[0].error.clone().expect("the target failed");
    (error, t0.elapsed())
}

#[tokio::test]
async fn a_silent_control_api_is_given_up_after_start_timeout() {
    // Accepts connections (the kernel does) but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let target = command_target(
        "silent",
        &format!("echo control: {url}; exec sleep 600"),
        None,
    );
    let (error, took) = start_error(target).await;
    assert!(error.contains("did not answer"), "{error}");
    assert!(
        took < Duration::from_secs(30),
        "waited {took:?} for a 1 s start_timeout"
    );
    drop(silent);
}

#[tokio::test]
async fn a_control_api_that_refuses_is_reported_as_refusing() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = command_target(
        "closed",
        "exec sleep 600",
        Some(format!("http://127.0.0.1:{port}")),
    );
    let (error, _) = start_error(target).await;
    assert!(error.contains("refused connections for 1s"), "{error}");
}
