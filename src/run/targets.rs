//! Target lifecycle for one run: start (builtin, url, command), ask who it is,
//! reset it, wire the peers, and stop it at the end, error paths included.
//!
//! A target that cannot be brought up is not a run failure: its
//! [`TargetInfo::error`] is set and its cases become `target-error`.

use super::RunOptions;
use super::launch::{BuiltinLauncher, RunningBuiltin};
use super::relay::record::Recorder;
use super::relay::{Relay, RelayTarget};
use crate::control::api::{InfoResponse, Peer, PeersRequest};
use crate::control::{CallError, ControlClient};
use crate::plan::model::{CommandTarget, TargetKind, TargetSpec};
use crate::report::model::TargetInfo;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// A target as the run sees it once startup is over.
pub(crate) struct LiveTarget {
    pub name: String,
    /// Set when the target came up; `None` when [`TargetInfo::error`] is set.
    pub client: Option<ControlClient>,
    pub info: TargetInfo,
    /// What `/v1/info` said, when it answered.
    pub details: Option<InfoResponse>,
    /// Whether finished cases are released on this target; cleared once it
    /// answers `release` with 501 or 404 (the operation is optional).
    pub releases: std::sync::atomic::AtomicBool,
    handle: Handle,
}

/// What must be stopped at the end of the run.
enum Handle {
    None,
    Builtin(Box<dyn RunningBuiltin>),
    Command(Box<Child>),
}

impl LiveTarget {
    /// The reason this target cannot be used, when it cannot.
    pub fn error(&self) -> Option<&str> {
        self.info.error.as_deref()
    }

    fn fail(&mut self, reason: String) {
        self.info.error = Some(reason);
        self.client = None;
    }

    /// Stops whatever the run started for this target and waits for it.
    pub async fn stop(&mut self) {
        match std::mem::replace(&mut self.handle, Handle::None) {
            Handle::None => {}
            Handle::Builtin(running) => running.stop().await,
            Handle::Command(mut child) => stop_group(&mut child, STOP_GRACE).await,
        }
    }
}

/// How long a spawned target may take to exit after SIGTERM before its
/// process group gets SIGKILL.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(5);

/// Stops a spawned target and everything it started: SIGTERM to its process
/// group (it leads one, see [`start_command`]), then SIGKILL to whatever of
/// the group is left after `grace`.
async fn stop_group(child: &mut Child, grace: Duration) {
    let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) else {
        // Already reaped; its group may still hold processes it started.
        return;
    };
    signal_group(pid, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    // The child is awaited; the rest of its group cannot be (they are not
    // our children), so their exit is polled with a short capped backoff.
    let _ = tokio::time::timeout_at(deadline, child.wait()).await;
    let mut backoff = Duration::from_millis(5);
    while group_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(backoff.min(deadline.saturating_duration_since(Instant::now()))).await;
        backoff = (backoff * 2).min(Duration::from_millis(100));
    }
    signal_group(pid, libc::SIGKILL);
    let _ = child.wait().await;
}

/// Sends `sig` to process group `pgid`; a group already gone is fine.
fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours;
    // a negative pid addresses the process group the harness created.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// Whether any process of group `pgid` still exists (zombies included).
fn group_alive(pgid: i32) -> bool {
    // SAFETY: as in `signal_group`; signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// Starts one target and asks `/v1/info` and `reset`. Never fails: trouble
/// lands in the returned target's `info.error`.
pub(crate) async fn start(
    spec: &TargetSpec,
    opts: &RunOptions,
    http: &reqwest::Client,
    launcher: &dyn BuiltinLauncher,
) -> LiveTarget {
    let mut target = LiveTarget {
        name: spec.name.clone(),
        client: None,
        info: TargetInfo {
            quirks: match &spec.kind {
                TargetKind::Builtin(b) => b.quirks.clone(),
                _ => Vec::new(),
            },
            ..TargetInfo::unstarted(&spec.name, spec.kind.as_str())
        },
        details: None,
        releases: std::sync::atomic::AtomicBool::new(true),
        handle: Handle::None,
    };
    // A spawned target's first `/v1/info` is part of its start-up and gets
    // what is left of its `start_timeout`; other targets get a step's.
    let mut info_timeout = opts.step_timeout;
    let mut within_start = false;
    let url = match &spec.kind {
        TargetKind::Url(url) => Ok(url.clone()),
        TargetKind::Builtin(b) => {
            match tokio::time::timeout(opts.start_timeout, launcher.launch(&spec.name, b)).await {
                Ok(Ok(running)) => {
                    let url = running.control_url();
                    target.handle = Handle::Builtin(running);
                    Ok(url)
                }
                Ok(Err(e)) => Err(format!("builtin provider did not start: {e}")),
                Err(_) => Err(format!(
                    "builtin provider did not start within {:?}",
                    opts.start_timeout
                )),
            }
        }
        TargetKind::Command(cmd) => {
            start_command(&mut target, cmd, opts, http)
                .await
                .map(|(url, deadline)| {
                    info_timeout = deadline.saturating_duration_since(Instant::now());
                    within_start = true;
                    url
                })
        }
    };
    match url {
        Ok(url) => connect(target, &url, info_timeout, within_start, opts, http).await,
        Err(reason) => {
            target.fail(reason);
            target
        }
    }
}

/// The name the harness's adversary provider has in reports and transcripts.
pub(crate) const ADVERSARY: &str = "adversary";
/// Its domain: `.invalid` (RFC 2606), so it can never be a real provider's.
pub(crate) const ADVERSARY_DOMAIN: &str = "adversary.mimi-interop.invalid";
/// A second peer domain the harness announces to every target when the
/// adversary runs: a provider that hosts no room and is no target, as which
/// the harness itself sends requests (a `notify` from a peer that is not
/// the room's hub). It has no server: its URL is the adversary's listener,
/// whose certificate does not name it, so a request to it fails at TLS.
pub(crate) const THIRD_PARTY_DOMAIN: &str = "third-party.mimi-interop.invalid";

/// Starts the run's adversary provider (protocol suites): a reference
/// provider the harness drives against each target. Never fails: trouble
/// lands in its `info.error`.
pub(crate) async fn start_adversary(
    opts: &RunOptions,
    http: &reqwest::Client,
    launcher: &dyn BuiltinLauncher,
) -> LiveTarget {
    let mut target = LiveTarget {
        name: ADVERSARY.to_owned(),
        client: None,
        info: TargetInfo::unstarted(ADVERSARY, "adversary"),
        details: None,
        releases: std::sync::atomic::AtomicBool::new(true),
        handle: Handle::None,
    };
    let launched = tokio::time::timeout(
        opts.start_timeout,
        launcher.launch_adversary(ADVERSARY_DOMAIN),
    )
    .await;
    match launched {
        Ok(Ok(running)) => {
            let url = running.control_url();
            target.handle = Handle::Builtin(running);
            connect(target, &url, opts.step_timeout, false, opts, http).await
        }
        Ok(Err(e)) => {
            target.fail(format!("the adversary provider did not start: {e}"));
            target
        }
        Err(_) => {
            target.fail(format!(
                "the adversary provider did not start within {:?}",
                opts.start_timeout
            ));
            target
        }
    }
}

/// Asks a started target `/v1/info` and `reset`; sets its client when both
/// answered.
async fn connect(
    mut target: LiveTarget,
    url: &str,
    info_timeout: Duration,
    within_start: bool,
    opts: &RunOptions,
    http: &reqwest::Client,
) -> LiveTarget {
    let client = ControlClient::new(http.clone(), url);
    match client.info(info_timeout).await {
        Ok(info) => {
            target.info.implementation = Some(info.implementation.clone());
            target.info.version = Some(info.version.clone());
            target.info.domain = Some(info.domain.clone());
            target.info.drafts = info.drafts.clone();
            target.info.features = Some(info.features.clone());
            target.details = Some(info);
        }
        Err(CallError::Timeout { url, .. }) if within_start => {
            target.fail(format!(
                "control API {url} did not answer within the start timeout"
            ));
            return target;
        }
        Err(e) => {
            target.fail(required_failed("GET /v1/info", "info", &e));
            return target;
        }
    }
    if let Err(e) = client.reset(opts.step_timeout).await {
        target.fail(required_failed("POST /v1/reset", "reset", &e));
        return target;
    }
    target.client = Some(client);
    target
}

/// Why a target is unusable after one of the calls the harness needs of
/// every target failed; a 501 there is not `unsupported` but a broken
/// control API.
fn required_failed(request: &str, op: &str, e: &CallError) -> String {
    match e {
        CallError::Unsupported { .. } => {
            format!("{request} failed: {e}; the control API requires {op} of every target")
        }
        _ => format!("{request} failed: {e}"),
    }
}

/// Starts the relay and tells every usable target that each of its peers
/// is at the peer's relay listener, vouched for by the relay's CA
/// (`relay/`): all MIMI traffic between targets goes through the harness.
/// Returns the relay, which lives as long as the run needs it; when it
/// cannot start, every target fails with the reason.
pub(crate) async fn wire_peers(
    targets: &mut [LiveTarget],
    adversary: Option<usize>,
    timeout: Duration,
    recorder: std::sync::Arc<Recorder>,
) -> Option<Relay> {
    let known: Vec<Option<RelayTarget>> = targets
        .iter()
        .map(|t| {
            if t.error().is_some() {
                return None;
            }
            t.details.as_ref().map(|d| RelayTarget {
                name: t.name.clone(),
                domain: d.domain.clone(),
                mimi_url: d.mimi_url.clone(),
                ca_pem: d.ca_pem.clone(),
            })
        })
        .collect();
    let relay = match Relay::start(&known, recorder).await {
        Ok(r) => r,
        Err(e) => {
            for t in targets.iter_mut().filter(|t| t.error().is_none()) {
                t.fail(format!("the harness's relay did not start: {e}"));
            }
            return None;
        }
    };
    let third_party = adversary.and_then(|a| relay.url_for(a)).map(|url| Peer {
        domain: THIRD_PARTY_DOMAIN.to_owned(),
        mimi_url: url.to_owned(),
        ca_pem: relay.ca_pem().to_owned(),
    });
    let calls = targets.iter().enumerate().map(|(i, t)| {
        let mut peers: Vec<Peer> = known
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(j, p)| {
                let p = p.as_ref()?;
                Some(Peer {
                    domain: p.domain.clone(),
                    mimi_url: relay.url_for(j)?.to_owned(),
                    ca_pem: relay.ca_pem().to_owned(),
                })
            })
            .collect();
        if Some(i) != adversary {
            peers.extend(third_party.clone());
        }
        let req = PeersRequest { peers };
        let client = t.client.clone();
        async move {
            match client {
                Some(c) => c.peers(&req, timeout).await.err(),
                None => None,
            }
        }
    });
    let results = futures_util::future::join_all(calls).await;
    for (target, err) in targets.iter_mut().zip(results) {
        if let Some(e) = err {
            target.fail(required_failed("POST /v1/peers", "peers", &e));
        }
    }
    Some(relay)
}

/// Spawns a `command` target, logging its output under the run's artifacts,
/// and returns its control URL once it is ready, with the deadline its
/// `start_timeout` sets.
async fn start_command(
    target: &mut LiveTarget,
    cmd: &CommandTarget,
    opts: &RunOptions,
    http: &reqwest::Client,
) -> Result<(String, Instant), String> {
    let Some((program, args)) = cmd.argv.split_first() else {
        return Err("command target has an empty argv".to_owned());
    };
    let start_timeout = match &cmd.start_timeout {
        Some(t) => super::vars::parse_duration(t)?,
        None => opts.start_timeout,
    };
    let dir = opts.artifacts_dir.join("targets");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out_rel = format!("targets/{}.stdout.log", target.name);
    let err_rel = format!("targets/{}.stderr.log", target.name);
    let out_path = opts.artifacts_dir.join(&out_rel);
    let err_file = create_log(&opts.artifacts_dir.join(&err_rel))?;
    target.info.artifacts = vec![out_rel, err_rel];

    let mut command = Command::new(program);
    command
        .args(args)
        .envs(&cmd.env)
        .stdin(Stdio::null())
        .stderr(err_file)
        // Its own process group, so that stopping it reaches whatever it
        // started (a wrapper script's service), and a Ctrl-C at the
        // terminal reaches the harness only, which then stops it in order.
        .process_group(0)
        .kill_on_drop(true);
    if cmd.control.is_some() {
        command.stdout(create_log(&out_path)?);
    } else {
        command.stdout(Stdio::piped());
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot spawn {program:?}: {e}"))?;
    let stdout = child.stdout.take();
    target.handle = Handle::Command(Box::new(child));
    let Handle::Command(child) = &mut target.handle else {
        unreachable!("handle was just set to Command");
    };
    let deadline = Instant::now() + start_timeout;
    let url = match (&cmd.control, stdout) {
        (Some(url), _) => wait_ready(url, child, http, deadline, start_timeout).await,
        (None, Some(stdout)) => {
            let log = tokio::fs::File::create(&out_path)
                .await
                .map_err(|e| format!("cannot create {}: {e}", out_path.display()))?;
            read_control_line(stdout, log, child, deadline, start_timeout).await
        }
        (None, None) => Err("stdout of the spawned target was not captured".to_owned()),
    }?;
    Ok((url, deadline))
}

fn create_log(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Polls `GET /v1/info` until it answers. There is no event to await from a
/// process that is still binding its port, so this retries on *connection
/// refused* only, with a short capped backoff, and never past the deadline.
async fn wait_ready(
    url: &str,
    child: &mut Child,
    http: &reqwest::Client,
    deadline: Instant,
    start_timeout: Duration,
) -> Result<String, String> {
    let client = ControlClient::new(http.clone(), url);
    let mut backoff = Duration::from_millis(10);
    let mut refused = None;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status} before becoming ready"));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(match refused {
                // Nothing listened: a wrong port, or a service still starting.
                Some(reason) => format!(
                    "control API {url} refused connections for {start_timeout:?} (last: {reason})"
                ),
                None => format!("control API {url} did not answer within {start_timeout:?}"),
            });
        }
        match client.info(left).await {
            Ok(_) => return Ok(url.to_owned()),
            Err(CallError::Unreachable { reason, .. }) => {
                refused = Some(reason);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.min(left)) => {}
                    status = child.wait() => {
                        return Err(match status {
                            Ok(s) => format!("exited with {s} before becoming ready"),
                            Err(e) => format!("cannot wait for the process: {e}"),
                        });
                    }
                }
                backoff = (backoff * 2).min(Duration::from_millis(200));
            }
            Err(CallError::Timeout { .. }) => {
                return Err(format!(
                    "control API {url} accepted but did not answer within {start_timeout:?}"
                ));
            }
            // It answered: readiness is settled, the info call proper judges it.
            Err(_) => return Ok(url.to_owned()),
        }
    }
}

/// Reads stdout lines (copying them to the log) until `control: <url>`;
/// after that a task keeps copying the rest so the process never blocks.
async fn read_control_line(
    stdout: tokio::process::ChildStdout,
    mut log: tokio::fs::File,
    child: &mut Child,
    deadline: Instant,
    start_timeout: Duration,
) -> Result<String, String> {
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout_at(deadline, async {
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => {
                        let _ = log.write_all(line.as_bytes()).await;
                        let _ = log.write_all(b"\n").await;
                        if let Some(url) = line.trim().strip_prefix("control:") {
                            return Ok(url.trim().to_owned());
                        }
                    }
                    Ok(None) => return Err("closed stdout without printing `control: <url>`".to_owned()),
                    Err(e) => return Err(format!("cannot read stdout: {e}")),
                },
                status = child.wait() => {
                    return Err(match status {
                        Ok(s) => format!("exited with {s} without printing `control: <url>`"),
                        Err(e) => format!("cannot wait for the process: {e}"),
                    });
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "did not print `control: <url>` within {start_timeout:?}"
        ))
    })?;
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if log.write_all(line.as_bytes()).await.is_err() || log.write_all(b"\n").await.is_err()
            {
                break;
            }
        }
        let _ = log.flush().await;
    });
    Ok(found)
}
