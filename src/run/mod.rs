//! Running planned cases against targets through the control API.
//!
//! [`execute`] starts the targets (`targets.rs`: builtin through the
//! [`BuiltinLauncher`], `url`, or a spawned `command`), asks each for
//! `/v1/info`, resets it and wires the peers, every one through the relay
//! (`relay/`: the harness is the MIMI network, and records every exchange
//! into per-case wire transcripts); then runs the cases
//! concurrently (`case.rs`; each leaves a folder of artifacts,
//! `artifacts.rs`, and a rerun command, `repro.rs`), stops the targets
//! (error paths included) and
//! returns one complete [`RunReport`]. It never fails as a whole: a target
//! that cannot be brought up gets
//! [`TargetInfo::error`](crate::report::model::TargetInfo::error) and its
//! cases `target-error`; a deadline becomes `timeout`; a harness bug (even a
//! panic) costs one case (`harness-error`); the run goes on.
//!
//! Each case gets fresh users (`<actor>-<run prefix>-<case number>`) and
//! rooms, so concurrent cases never collide on a target. Waiting is always a
//! long-poll of `/v1/events` (`inbox.rs`), never a sleep. The harness judges
//! content bytes itself (`judge.rs`: our codec, message IDs recomputed) and
//! asks every member's client for the room state (`oracle.rs`).
//!
//! How a step's outcome becomes a verdict (`outcome.rs`):
//!
//! | what happened | verdict |
//! |---|---|
//! | 2xx when `ok` was expected, 403/409 when `refused` was | step passes |
//! | 2xx when `refused` was expected; 403/409/404 when `ok` was; wrong content, ID or room state | `fail` (MUST) / `non-strict` (SHOULD, MAY) |
//! | 501 to an operation of the test (`declared.rs`) | `fail`: "MUST feature unsupported" / "declared but unsupported" |
//! | 501 to an operation the harness needs (`outcome::REQUIRED_OPS`) | `target-error` |
//! | a side does not declare the feature in `/v1/info` (nothing is run) | `fail` (MUST feature) / `unsupported` (SHOULD, MAY) |
//! | connection refused, other status, malformed JSON, long-poll not honoured | `target-error` |
//! | no answer to a control call by the step / case / run deadline | `timeout` |
//! | no awaited message or marker by the deadline | `timeout` (MUST) / `non-strict` (SHOULD, MAY) |
//! | an undefined `${var}`, a bad duration, a panic | `harness-error` |
//! | the test declares `no_mechanism` (nothing is run) | `unsupported` |
//!
//! Every non-pass verdict carries a one-line reason starting with the step
//! (`step N (action): `) and naming the target, the step's transcript
//! (request, answer, expectation), and the target to blame when the step
//! knows it ([`CaseReport::blame`]); the report's claims are built from them.

mod artifacts;
mod attempts;
mod case;
mod declared;
mod download;
pub mod event;
mod expect;
mod expect_many;
mod forge;
mod inbox;
mod interrupt;
mod invariants;
mod judge;
pub mod launch;
mod lost;
mod oracle;
mod outcome;
mod partition;
mod profile;
mod readings;
mod receipts;
pub mod relay;
pub mod repro;
mod send;
mod targets;
mod timeline;
mod vars;
mod wire_judge;

use crate::plan::model::{Cell, Plan, PlannedCase};
use crate::report::model::{
    CaseReport, CellReport, HarnessInfo, REPORT_FORMAT_VERSION, RequirementRef, RunReport,
    SuiteInfo, Verdict,
};
use crate::suite::model::{FeatureSet, Level, Suite};
pub use attempts::Reruns;
use event::{EventSink, RunEvent};
use futures_util::{FutureExt, StreamExt};
pub use interrupt::Interrupt;
use launch::BuiltinLauncher;
pub use outcome::REQUIRED_OPS;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Cases in flight at once by default. Cases spend nearly all their time
/// waiting on targets (HTTP round trips, long-polls for MIMI traffic between
/// providers), so many more than the CPU count keep the targets busy without
/// the harness doing any real work; 16 stays well below what a small target
/// handles.
pub const DEFAULT_JOBS: usize = 16;

/// How a run is carried out; [`RunOptions::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `YYYYMMDDTHHMMSSZ-<6 hex>`; see [`new_run_id`].
    pub run_id: String,
    /// Cases in flight at once (at least 1).
    pub jobs: usize,
    /// Deadline of a step without its own `timeout:`.
    pub step_timeout: Duration,
    /// Deadline of a case without its own `timeout:`.
    pub case_timeout: Duration,
    /// Deadline of the whole run; cases still running then end `timeout`,
    /// cases not started yet too.
    pub run_timeout: Option<Duration>,
    /// How long a builtin or `command` target may take to become ready
    /// (a `command` target's own `start_timeout` wins).
    pub start_timeout: Duration,
    /// The run's directory, `reports/<run-id>`: spawned targets' logs go
    /// to `targets/<name>.{stdout,stderr}.log` under it, each case's
    /// artifacts to `cases/<a>__<b>/<feature>/<test>/`.
    pub artifacts_dir: PathBuf,
    /// How the run was started, for each case's rerun command.
    pub reproduce: repro::Reproduce,
    /// `--strict`: a `non-strict` case makes the run not conformant.
    pub strict: bool,
    /// Tells the run to stop early (a signal): no case starts after it, the
    /// ones in flight end `harness-error`, and the report says it is partial.
    pub interrupt: Interrupt,
    /// `--retries` / `--repeat`: how many times a case may run (`attempts.rs`).
    pub reruns: Reruns,
}

impl RunOptions {
    /// Defaults, with a fresh run id and `artifacts_dir = <reports_dir>/<run id>`.
    pub fn new(reports_dir: &Path) -> Self {
        let run_id = new_run_id();
        Self {
            artifacts_dir: reports_dir.join(&run_id),
            run_id,
            jobs: DEFAULT_JOBS,
            step_timeout: Duration::from_secs(10),
            case_timeout: Duration::from_secs(60),
            run_timeout: None,
            start_timeout: Duration::from_secs(20),
            strict: false,
            interrupt: Interrupt::never(),
            reruns: Reruns::Once,
            reproduce: repro::Reproduce::default(),
        }
    }
}

/// `YYYYMMDDTHHMMSSZ-<6 hex>`: sorts by time, and two runs started in the
/// same second still differ.
pub fn new_run_id() -> String {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let random: [u8; 3] = rand::random();
    format!("{stamp}-{}", hex::encode(random))
}

/// The random part of a run id, used to make user and room names unique.
fn run_prefix(run_id: &str) -> String {
    let tail = run_id.rsplit('-').next().unwrap_or(run_id);
    let clean: String = tail
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if clean.is_empty() {
        "run".to_owned()
    } else {
        clean
    }
}

/// Runs `plan` and returns its complete report. Builtin targets are started
/// through `launcher`; progress goes to `events`.
pub async fn execute(
    plan: &Plan,
    opts: &RunOptions,
    launcher: &dyn BuiltinLauncher,
    events: &dyn EventSink,
) -> RunReport {
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let run_deadline = opts.run_timeout.map(|d| t0 + d);

    // Control APIs are reached directly: a proxy from the environment would
    // put a third party between the harness and the target's verdicts.
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(h) => h,
        Err(e) => {
            return finish(
                plan,
                opts,
                started_at,
                t0,
                Vec::new(),
                plan.cases
                    .iter()
                    .map(|c| harness_case(plan, c, format!("cannot build the HTTP client: {e}")))
                    .collect(),
                events,
            );
        }
    };

    let needs_adversary = plan.cases.iter().any(|c| {
        c.skip.is_none() && lookup_suite(plan, c).is_some_and(|s| s.set == FeatureSet::Protocol)
    });
    let (mut live, adversary) = futures_util::future::join(
        futures_util::future::join_all(
            plan.targets
                .iter()
                .map(|t| targets::start(t, opts, &http, launcher)),
        ),
        async {
            if needs_adversary {
                Some(targets::start_adversary(opts, &http, launcher).await)
            } else {
                None
            }
        },
    )
    .await;
    // The adversary comes last, so plan indexes still name the targets.
    let adversary_index = adversary.map(|a| {
        live.push(a);
        live.len() - 1
    });
    let prefix = run_prefix(&opts.run_id);
    let recorder = std::sync::Arc::new(relay::record::Recorder::new(
        &prefix,
        Some(&opts.artifacts_dir.join(RUN_WIRE)),
    ));
    let relay = targets::wire_peers(
        &mut live,
        adversary_index,
        opts.step_timeout,
        recorder.clone(),
    )
    .await;
    for t in &live[..plan.targets.len()] {
        if let Some(reason) = t.error() {
            events.event(RunEvent::TargetFailed {
                target: t.name.clone(),
                reason: reason.to_owned(),
            });
        }
    }
    let to_run = plan.cases.iter().filter(|c| c.skip.is_none()).count();
    events.event(RunEvent::Started { cases: to_run });

    let live_ref = &live;
    let relay_ref = relay.as_ref();
    let prefix_ref = &prefix;
    let jobs = opts.jobs.max(1);
    // One case, run as often as `opts.reruns` says (`attempts.rs`); each run
    // gets fresh users and rooms: `key` is the plan index for the first run
    // and unique for each later one.
    let one = |i: usize| async move {
        let planned = &plan.cases[i];
        let once = |attempt: usize| async move {
            let case = run_planned(
                plan,
                planned,
                (attempt * plan.cases.len() + i, attempt),
                live_ref,
                adversary_index,
                relay_ref,
                prefix_ref,
                opts,
                run_deadline,
                events,
            );
            // A bug in the harness must cost one case, not the run; a signal
            // ends the case where it stands.
            let caught = tokio::select! {
                r = AssertUnwindSafe(case).catch_unwind() => r,
                sig = opts.interrupt.wait() => Ok(attempts::Run::harness(
                    harness_case(plan, planned, format!("interrupted by {sig}")),
                )),
            };
            caught.unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                attempts::Run::harness(harness_case(
                    plan,
                    planned,
                    format!("the harness panicked: {msg}"),
                ))
            })
        };
        let report = attempts::run_case(
            opts.reruns,
            &opts.interrupt,
            run_deadline,
            events,
            once,
            |sig| not_started(plan, planned, sig),
        )
        .await;
        (i, report)
    };
    // A case that cuts a link would break the cases running beside it on
    // the same targets: those run first, in rounds of cases that share no
    // target, then the others concurrently. (First, so cases of a
    // misbehaving target that wait out their deadlines cannot push them past
    // the run's.)
    let (alone, mut together): (Vec<_>, Vec<_>) = plan
        .cases
        .iter()
        .enumerate()
        .partition(|(_, c)| partitions(plan, c));
    interleave_cells(&mut together);
    let mut results = Vec::with_capacity(plan.cases.len());
    for round in disjoint_rounds(&plan.cells, alone) {
        results.extend(futures_util::future::join_all(round.into_iter().map(one)).await);
    }
    let concurrent: Vec<(usize, CaseReport)> =
        futures_util::stream::iter(together.into_iter().map(|(i, _)| one(i)))
            .buffer_unordered(jobs)
            .collect()
            .await;
    results.extend(concurrent);
    results.sort_by_key(|(i, _)| *i);

    drop(relay);
    futures_util::future::join_all(live.iter_mut().map(|t| t.stop())).await;
    // The adversary is the harness's own, not a target of the report.
    let infos = live
        .into_iter()
        .take(plan.targets.len())
        .map(|t| t.info)
        .collect();
    let mut report = finish(
        plan,
        opts,
        started_at,
        t0,
        infos,
        results.into_iter().map(|(_, r)| r).collect(),
        events,
    );
    report.interrupted = opts.interrupt.fired().map(str::to_owned);
    let names: Vec<String> = plan.targets.iter().map(|t| t.name.clone()).collect();
    report.readings = recorder.readings(&names);
    report
}

/// A case a signal kept from starting.
fn not_started(plan: &Plan, planned: &PlannedCase, sig: &str) -> CaseReport {
    let mut report = harness_case(plan, planned, String::new());
    report.verdict = Verdict::Skipped;
    report.reason = Some(format!("not started: the run was interrupted by {sig}"));
    report
}

/// One run of a case. `key` names the run: its users and rooms carry it, and
/// the relay files its exchanges and faults by it (the plan index for the
/// first run, so a run without reruns is named as it always was); `attempt`
/// is the run's number from 0.
#[allow(clippy::too_many_arguments)]
async fn run_planned(
    plan: &Plan,
    planned: &PlannedCase,
    (key, attempt): (usize, usize),
    live: &[targets::LiveTarget],
    adversary: Option<usize>,
    relay: Option<&relay::Relay>,
    prefix: &str,
    opts: &RunOptions,
    run_deadline: Option<Instant>,
    events: &dyn EventSink,
) -> attempts::Run {
    let not_run = |report, cell| attempts::Run {
        report,
        cell,
        ran: false,
    };
    let Some((suite, test)) = lookup(plan, planned) else {
        return not_run(
            harness_case(
                plan,
                planned,
                "the plan names a missing suite or test".into(),
            ),
            None,
        );
    };
    let level = test.level.unwrap_or(suite.requirement.level);
    let mut report = CaseReport {
        feature: suite.feature.clone(),
        test: test.name.clone(),
        level: level.as_str().to_owned(),
        verdict: Verdict::Skipped,
        reason: None,
        duration_ms: 0,
        steps_run: 0,
        failed_step: None,
        blame: None,
        expectation: None,
        wire: None,
        attempts: Vec::new(),
        control: None,
        logs: Vec::new(),
        reproduce: None,
    };
    if let Some(why) = &planned.skip {
        report.reason = Some(why.clone());
        return not_run(report, None);
    }
    // A protocol suite's side b is the adversary, whatever the cell says.
    let protocol = suite.set == FeatureSet::Protocol;
    let cell = plan
        .cells
        .get(planned.cell)
        .map(|c| match (protocol, adversary) {
            (true, Some(adv)) => Cell { a: c.a, b: adv },
            _ => *c,
        });
    if protocol && adversary.is_none() {
        report.verdict = Verdict::HarnessError;
        report.reason = Some("the harness's adversary provider was not started".into());
        return not_run(report, None);
    }
    let pair = cell.and_then(|c| Some((live.get(c.a)?, live.get(c.b)?)));
    let (Some(cell), Some((ta, tb))) = (cell, pair) else {
        report.verdict = Verdict::HarnessError;
        report.reason = Some("the plan names a missing cell or target".into());
        return not_run(report, None);
    };
    let cell_name = format!("{}→{}", ta.name, tb.name);
    events.event(RunEvent::CaseStarted {
        cell: cell_name.clone(),
        feature: report.feature.clone(),
        test: report.test.clone(),
    });
    let t0 = Instant::now();
    if let Some(why) = &test.no_mechanism {
        // Nothing to run: the drafts define no mechanism, so the honest
        // verdict is `unsupported`, whatever the targets could do.
        report.verdict = Verdict::Unsupported;
        report.reason = Some(format!("no MIMI mechanism: {}", why.trim()));
        return not_run(report, Some(cell_name));
    }
    let feature_level = suite.requirement.level;
    // Targets declare features of the requirements draft; the protocol
    // suites test rules every provider must keep, declared or not.
    let undeclared = if protocol {
        None
    } else {
        declared::undeclared(&suite.feature, feature_level, [ta, tb])
    };
    if let Some(u) = undeclared {
        report.verdict = u.verdict;
        report.reason = Some(u.reason);
        report.blame = u.blame;
        return not_run(report, Some(cell_name));
    }
    let mut files = artifacts::CaseFiles::default();
    let mut ran = false;
    let result = match (&ta.client, &tb.client, relay) {
        (Some(ca), Some(cb), Some(relay)) => {
            let case_timeout = match &test.timeout {
                Some(t) => vars::parse_duration(t),
                None => Ok(opts.case_timeout),
            };
            match case_timeout {
                Err(e) => Err((Verdict::HarnessError, e)),
                Ok(case_timeout) => {
                    let mut deadline = t0 + case_timeout;
                    let mut deadline_label = format!("case deadline ({case_timeout:?})");
                    if let Some(rd) = run_deadline
                        && rd < deadline
                    {
                        deadline = rd;
                        deadline_label = "run deadline".to_owned();
                    }
                    if run_deadline.is_some_and(|rd| rd <= t0) {
                        Err((
                            Verdict::Timeout,
                            "the run deadline passed before this case started".to_owned(),
                        ))
                    } else {
                        ran = true;
                        let case_wire = relay.recorder().open_case(key);
                        let cell_names = plan
                            .cells
                            .get(planned.cell)
                            .map_or((ta.name.as_str(), tb.name.as_str()), |c| {
                                (&plan.targets[c.a].name, &plan.targets[c.b].name)
                            });
                        // A rerun's artifacts go beside the first run's.
                        let test_dir = match attempt {
                            0 => report.test.clone(),
                            n => format!("{}.attempt-{}", report.test, n + 1),
                        };
                        let mut kept = artifacts::CaseArtifacts::open(
                            &opts.artifacts_dir,
                            cell_names,
                            &report.feature,
                            &test_dir,
                            [&ta.info, &tb.info],
                        );
                        let (ca, cb) = (kept.client(&ta.name, ca), kept.client(&tb.name, cb));
                        let env = case::CaseEnv {
                            test,
                            level,
                            a: case::SideConn {
                                name: &ta.name,
                                client: &ca,
                                releases: &ta.releases,
                            },
                            b: case::SideConn {
                                name: &tb.name,
                                client: &cb,
                                releases: &tb.releases,
                            },
                            step_timeout: opts.step_timeout,
                            unique: format!("{prefix}-{key}"),
                            deadline_label,
                            relay,
                            cell: (cell.a, cell.b),
                            case: key,
                            wire: case_wire,
                        };
                        let mut result = case::run(&env, deadline).await;
                        kept.case_ended();
                        relay.clear_faults(key);
                        let exchanges = relay.recorder().close_case(key);
                        // A case that passed still has to have kept the
                        // protocol's rules on the wire.
                        if matches!(result.verdict, Verdict::Pass | Verdict::NonStrict)
                            && let Some(v) =
                                wire_judge::judge(&exchanges, protocol.then_some(cell.b))
                        {
                            result.verdict = match v.level {
                                Level::Must => Verdict::Fail,
                                Level::Should | Level::May => Verdict::NonStrict,
                            };
                            result.reason = Some(v.reason);
                            result.blame = Some(v.blame);
                        }
                        files = kept.write(exchanges).await;
                        Ok(result)
                    }
                }
            }
        }
        _ if protocol && tb.error().is_some() => Err((
            Verdict::HarnessError,
            format!(
                "the harness's adversary provider is unusable: {}",
                tb.error().unwrap_or("no control client")
            ),
        )),
        _ => {
            let bad = if ta.error().is_some() { ta } else { tb };
            report.blame = Some(bad.name.clone());
            Err((
                Verdict::TargetError,
                format!(
                    "target {} is unusable: {}",
                    bad.name,
                    bad.error().unwrap_or("no control client")
                ),
            ))
        }
    };
    match result {
        Ok(r) => {
            let (verdict, reason) =
                declared::declined(r.verdict, r.reason, r.declined, feature_level);
            report.verdict = verdict;
            report.reason = reason;
            report.steps_run = r.steps_run;
            report.failed_step = r.failed_step;
            report.blame = r.blame;
            // What goes wrong on the adversary's side is the harness's
            // fault, never a verdict on the target.
            if protocol
                && report.blame.as_deref() == Some(targets::ADVERSARY)
                && report.verdict.counts_against()
            {
                report.verdict = Verdict::HarnessError;
                report.reason = report
                    .reason
                    .take()
                    .map(|r| format!("the harness's adversary failed: {r}"));
                report.blame = None;
            }
        }
        Err((verdict, reason)) => {
            report.verdict = verdict;
            report.reason = Some(reason);
        }
    }
    report.wire = files.wire;
    report.control = files.control;
    report.logs = files.logs;
    report.duration_ms = t0.elapsed().as_millis() as u64;
    attempts::Run {
        report,
        cell: Some(cell_name),
        ran,
    }
}

/// The run-level wire transcript, under the run's folder: exchanges that
/// belong to no case (`docs/report-format.md`).
pub const RUN_WIRE: &str = "wire/run.jsonl";

/// Groups link-cutting cases into rounds, in plan order, such that no two
/// cases of a round share a target: a round runs at once, rounds one after
/// the other.
fn disjoint_rounds(cells: &[Cell], cases: Vec<(usize, &PlannedCase)>) -> Vec<Vec<usize>> {
    let mut rest = cases;
    let mut rounds = Vec::new();
    while !rest.is_empty() {
        let mut busy = std::collections::HashSet::new();
        let mut round = Vec::new();
        rest.retain(|(i, c)| {
            let cell = &cells[c.cell];
            if busy.contains(&cell.a) || busy.contains(&cell.b) {
                return true;
            }
            busy.extend([cell.a, cell.b]);
            round.push(*i);
            false
        });
        rounds.push(round);
    }
    rounds
}

/// Orders cases round-robin over their cells (the first case of every
/// cell, then the second, …), keeping each cell's own order. The plan lists
/// cell after cell, so the cases in flight at once would all load the same
/// two targets while the others idle; spread out, a run with many targets
/// keeps them all busy. Reports keep the plan's order.
fn interleave_cells(cases: &mut Vec<(usize, &PlannedCase)>) {
    let mut seen = std::collections::HashMap::<usize, usize>::new();
    let mut ranked: Vec<(usize, (usize, &PlannedCase))> = cases
        .drain(..)
        .map(|case| {
            let n = seen.entry(case.1.cell).or_insert(0);
            *n += 1;
            (*n, case)
        })
        .collect();
    // Stable: within a rank, plan order.
    ranked.sort_by_key(|(rank, _)| *rank);
    cases.extend(ranked.into_iter().map(|(_, case)| case));
}

/// Whether the case's test cuts a link (a `partition` step), so it must
/// run with no other case on its targets.
fn partitions(plan: &Plan, planned: &PlannedCase) -> bool {
    fn cuts(step: &crate::suite::model::Step) -> bool {
        use crate::suite::model::Step;
        match step {
            Step::Partition(_) => true,
            Step::Concurrently(steps) => steps.iter().any(cuts),
            _ => false,
        }
    }
    planned.skip.is_none() && lookup(plan, planned).is_some_and(|(_, t)| t.steps.iter().any(cuts))
}

fn lookup_suite<'p>(plan: &'p Plan, planned: &PlannedCase) -> Option<&'p Suite> {
    Some(&plan.suites.get(planned.suite)?.suite)
}

fn lookup<'p>(
    plan: &'p Plan,
    planned: &PlannedCase,
) -> Option<(
    &'p crate::suite::model::Suite,
    &'p crate::suite::model::Test,
)> {
    let suite = &plan.suites.get(planned.suite)?.suite;
    Some((suite, suite.tests.get(planned.test)?))
}

/// A case the harness could not run at all.
fn harness_case(plan: &Plan, planned: &PlannedCase, reason: String) -> CaseReport {
    let (feature, test, level) = match lookup(plan, planned) {
        Some((s, t)) => (
            s.feature.clone(),
            t.name.clone(),
            t.level.unwrap_or(s.requirement.level).as_str().to_owned(),
        ),
        None => ("?".into(), "?".into(), "MUST".into()),
    };
    CaseReport {
        feature,
        test,
        level,
        verdict: Verdict::HarnessError,
        reason: Some(reason),
        duration_ms: 0,
        steps_run: 0,
        failed_step: None,
        blame: None,
        expectation: None,
        wire: None,
        attempts: Vec::new(),
        control: None,
        logs: Vec::new(),
        reproduce: None,
    }
}

/// Assembles the report: cases (given in plan order) grouped by cell.
fn finish(
    plan: &Plan,
    opts: &RunOptions,
    started_at: SystemTime,
    t0: Instant,
    targets: Vec<crate::report::model::TargetInfo>,
    cases: Vec<CaseReport>,
    events: &dyn EventSink,
) -> RunReport {
    let targets = if targets.is_empty() {
        plan.targets
            .iter()
            .map(|t| crate::report::model::TargetInfo::unstarted(&t.name, t.kind.as_str()))
            .collect()
    } else {
        targets
    };
    let mut cells: Vec<CellReport> = plan
        .cells
        .iter()
        .map(|c| CellReport {
            a: plan.targets[c.a].name.clone(),
            b: plan.targets[c.b].name.clone(),
            cases: Vec::new(),
        })
        .collect();
    for (planned, mut case) in plan.cases.iter().zip(cases) {
        if let Some(cell) = cells.get_mut(planned.cell) {
            case.reproduce =
                Some(
                    opts.reproduce
                        .command(&cell.a, &cell.b, &case.feature, &case.test),
                );
            cell.cases.push(case);
        }
    }
    let suites = plan
        .suites
        .iter()
        .map(|l| SuiteInfo {
            feature: l.suite.feature.clone(),
            title: l.suite.title.clone(),
            set: l.suite.set.as_str().to_owned(),
            path: l.path.display().to_string(),
            sha256: l.sha256.clone(),
            requirement: RequirementRef {
                document: l.suite.requirement.document.clone(),
                section: l.suite.requirement.section.clone(),
                item: l.suite.requirement.item,
                level: l.suite.requirement.level.as_str().to_owned(),
            },
        })
        .collect();
    events.event(RunEvent::Finished);
    let finished_at = SystemTime::now();
    let mut report = RunReport {
        format_version: REPORT_FORMAT_VERSION,
        run_id: opts.run_id.clone(),
        harness: HarnessInfo {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        started_at: humantime::format_rfc3339_millis(started_at).to_string(),
        finished_at: humantime::format_rfc3339_millis(finished_at).to_string(),
        duration_ms: t0.elapsed().as_millis() as u64,
        filters: plan.filters.clone(),
        suites,
        targets,
        cells,
        strict: opts.strict,
        retries: match opts.reruns {
            Reruns::Retries(n) if n > 0 => Some(n),
            Reruns::Once | Reruns::Retries(_) | Reruns::Repeat(_) => None,
        },
        repeat: match opts.reruns {
            Reruns::Repeat(n) if n > 1 => Some(n),
            Reruns::Once | Reruns::Retries(_) | Reruns::Repeat(_) => None,
        },
        claims: Vec::new(),
        interrupted: None,
        expectations: None,
        readings: Vec::new(),
    };
    report.recompute_claims();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(cell: usize) -> PlannedCase {
        PlannedCase {
            cell,
            suite: 0,
            test: 0,
            skip: None,
        }
    }

    #[test]
    fn concurrent_cases_alternate_between_cells_in_plan_order() {
        let cases = [case(0), case(0), case(0), case(1), case(2), case(2)];
        let mut order: Vec<_> = cases.iter().enumerate().collect();
        interleave_cells(&mut order);
        let got: Vec<usize> = order.iter().map(|(i, _)| *i).collect();
        assert_eq!(got, [0, 3, 4, 1, 5, 2]);
    }

    #[test]
    fn link_cutting_cases_share_a_round_only_on_disjoint_targets() {
        // Cells: (0,1), (2,3), (1,2), (0,0), (3,3).
        let cells = [(0, 1), (2, 3), (1, 2), (0, 0), (3, 3)].map(|(a, b)| Cell { a, b });
        let cases = [case(0), case(1), case(2), case(3), case(4), case(0)];
        let rounds = disjoint_rounds(&cells, cases.iter().enumerate().collect());
        assert_eq!(rounds, [vec![0, 1], vec![2, 3, 4], vec![5]]);
    }

    #[test]
    fn run_id_has_the_documented_shape() {
        let id = new_run_id();
        let (stamp, random) = id.split_once('-').unwrap();
        assert_eq!(stamp.len(), 16, "{id}");
        assert!(stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T', "{id}");
        assert_eq!(random.len(), 6);
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(run_prefix(&id), random);
    }
}
