//! Mutation proof: every quirk of the reference provider is caught by the
//! shipped suites, and `docs/coverage.md` says by which tests.
//!
//! One run through the library (`plan` + `run::execute` with the reference
//! `Launcher`) of every suite in the cell clean→clean-b (two clean
//! providers), which must pass everything; then, for each quirk, a run with
//! two builtin targets, `clean` and `quirky`, in the cells quirky→clean and
//! clean→quirky, which must hold at least one case that found the quirk.
//! [`RUNS_AT_ONCE`] runs go at a time.
//! `MUTATION_DEBUG=1` prints the reason of every case that caught a quirk.

use futures_util::StreamExt;
use mimi_interop::plan::model::*;
use mimi_interop::reference::Launcher;
use mimi_interop::reference::quirks::Quirk;
use mimi_interop::report::model::{Filters, RunReport, Verdict};
use mimi_interop::run::event::NoEvents;
use mimi_interop::run::{RunOptions, execute};
use mimi_interop::suite::model::FeatureSet;
use mimi_interop::suite::{self, coverage};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// How many of the runs (clean, then one per quirk) go at the same time.
const RUNS_AT_ONCE: usize = 3;

/// The region of `docs/coverage.md` this test keeps current.
const REGION: &str = "quirks";

fn builtin(name: &str, quirks: Vec<String>) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Builtin(BuiltinTarget {
            domain: None,
            quirks,
        }),
    }
}

/// The suite whose bursts only quirks of its own requirement need: the
/// others skip it, which keeps the run light enough for its deadlines.
const HEAVY: &str = "reliable-sync";

/// Without a quirk clean→clean-b; with one quirky→clean and clean→quirky.
/// Every test of every suite (but [`HEAVY`] and the protocol suites only for
/// quirks that break them).
fn plan(quirk: Option<Quirk>, suites: Vec<LoadedSuite>) -> Plan {
    let mut targets = vec![builtin("clean", Vec::new())];
    let cells = match quirk {
        // Two clean providers, so tests that cut the link between them run.
        None => {
            targets.push(builtin("clean-b", Vec::new()));
            vec![Cell { a: 0, b: 1 }]
        }
        Some(q) => {
            targets.push(builtin("quirky", vec![q.name().to_owned()]));
            vec![Cell { a: 1, b: 0 }, Cell { a: 0, b: 1 }]
        }
    };
    let mut cases = Vec::new();
    for cell in 0..cells.len() {
        for (si, s) in suites.iter().enumerate() {
            for ti in 0..s.suite.tests.len() {
                cases.push(PlannedCase {
                    cell,
                    suite: si,
                    test: ti,
                    skip: quirk.and_then(|q| {
                        if s.suite.feature == HEAVY && q.breaks() != HEAVY {
                            Some(format!("{HEAVY} runs only for quirks that break it"))
                        } else if s.suite.set == FeatureSet::Protocol
                            && !q.breaks().starts_with("protocol-")
                        {
                            Some("the protocol suites run only for quirks of their rules".into())
                        } else {
                            None
                        }
                    }),
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

async fn run(quirk: Option<Quirk>, suites: Vec<LoadedSuite>, dir: &Path) -> RunReport {
    run_plan(quirk, plan(quirk, suites), dir, true).await
}

/// Runs `plan`; `crowded` is the normal mode (many cases at once under a
/// run deadline), otherwise one case at a time without a run deadline.
async fn run_plan(quirk: Option<Quirk>, plan: Plan, dir: &Path, crowded: bool) -> RunReport {
    let mut opts = RunOptions::new(dir);
    // A normal run's step deadline. The run deadline is a backstop for
    // steps whose suite sets a longer timeout of its own; every case of a
    // clean cell ends in a few seconds.
    opts.step_timeout = Duration::from_secs(10);
    opts.case_timeout = Duration::from_secs(40);
    opts.run_timeout = Some(Duration::from_secs(45));
    // Every case at once, so cases waiting out a deadline do not hold up
    // the others; bursts at the default, so one follower's notify queue is
    // not swamped.
    opts.jobs = if quirk.is_none_or(|q| q.breaks() == HEAVY) {
        mimi_interop::run::DEFAULT_JOBS
    } else {
        64
    };
    if !crowded {
        opts.jobs = 1;
        opts.run_timeout = None;
    }
    let launcher = Launcher::new().expect("run CA");
    execute(&plan, &opts, &launcher, &NoEvents).await
}

/// Whether a verdict may come from a slow machine rather than the target:
/// a deadline passed (`timeout`), or a call that did not get through in
/// time (`target-error`). `fail` and `non-strict` are observed violations
/// and never are.
fn may_be_load(v: Verdict) -> bool {
    matches!(v, Verdict::Timeout | Verdict::TargetError)
}

/// Indices (in plan order, which is report order) of the cases of
/// `report` whose verdict may come from load.
fn starved(report: &RunReport) -> Vec<usize> {
    report
        .cells
        .iter()
        .flat_map(|c| &c.cases)
        .enumerate()
        .filter(|(_, c)| may_be_load(c.verdict))
        .map(|(i, _)| i)
        .collect()
}

/// Runs the cases at `indices` of the plan alone (one at a time, no run
/// deadline, fresh providers) and puts their verdicts into `report`.
async fn rerun_alone(
    quirk: Option<Quirk>,
    suites: &[LoadedSuite],
    report: &mut RunReport,
    indices: &[usize],
    dir: &Path,
) {
    let mut full = plan(quirk, suites.to_vec());
    for (i, case) in full.cases.iter_mut().enumerate() {
        if !indices.contains(&i) && case.skip.is_none() {
            case.skip = Some("not re-run".into());
        }
    }
    let alone = run_plan(quirk, full, dir, false).await;
    let fresh: Vec<_> = alone.cells.into_iter().flat_map(|c| c.cases).collect();
    for (i, case) in report
        .cells
        .iter_mut()
        .flat_map(|c| &mut c.cases)
        .enumerate()
    {
        if indices.contains(&i) {
            *case = fresh[i].clone();
        }
    }
}

/// The clean run with every case that may have been starved by load run
/// again alone: on a quiet machine there is none; a real failure of a
/// clean provider comes back the same.
async fn settle_clean(suites: &[LoadedSuite], mut report: RunReport, dir: &Path) -> RunReport {
    let again = starved(&report);
    if !again.is_empty() {
        eprintln!("mutation: clean: re-running {} case(s) alone", again.len());
        rerun_alone(None, suites, &mut report, &again, dir).await;
    }
    report
}

/// A quirk's run that caught it only by cases that could not finish (no
/// `fail` or `non-strict`): such a catch may be the machine's load, not the
/// quirk. Its unfinished cases are run again alone, one by one, until one
/// still does not pass; if none, the quirk counts as not caught.
async fn settle_quirk(
    quirk: Quirk,
    suites: &[LoadedSuite],
    mut report: RunReport,
    dir: &Path,
) -> RunReport {
    let violated = report
        .cells
        .iter()
        .flat_map(|c| &c.cases)
        .any(|c| matches!(c.verdict, Verdict::Fail | Verdict::NonStrict));
    if violated {
        return report;
    }
    for i in starved(&report) {
        eprintln!("mutation: {quirk}: only unfinished cases caught it; re-running case {i} alone");
        rerun_alone(Some(quirk), suites, &mut report, &[i], dir).await;
        let case = report.cells.iter().flat_map(|c| &c.cases).nth(i);
        if case.is_some_and(|c| !matches!(c.verdict, Verdict::Pass | Verdict::Skipped)) {
            break;
        }
    }
    report
}

/// What one quirk's run showed.
struct Caught {
    quirk: Quirk,
    /// (`feature/test`, verdict) → sides the quirky target was on when the
    /// case ended in a violation (`fail` or `non-strict`).
    failed: Vec<(String, Verdict, Vec<&'static str>)>,
    /// Cases of the quirky cells that are not conformant (any reason).
    cases: usize,
}

/// Every case of the clean→clean-b run passes (or is `unsupported` for want
/// of a MIMI mechanism).
fn clean_problems(report: &RunReport) -> Vec<String> {
    report
        .cells
        .iter()
        .flat_map(|cell| &cell.cases)
        .filter(|case| !(case.verdict == Verdict::Pass || no_mechanism(case)))
        .map(|case| {
            format!(
                "clean→clean-b {}/{} is {}: {}",
                case.feature,
                case.test,
                case.verdict,
                case.reason.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

fn judge(quirk: Quirk, report: &RunReport) -> Result<Caught, String> {
    let mut problems = Vec::new();
    let mut caught = Caught {
        quirk,
        failed: Vec::new(),
        cases: 0,
    };
    for cell in &report.cells {
        let side = match (cell.a.as_str(), cell.b.as_str()) {
            ("quirky", "clean") => "a",
            ("clean", "quirky") => "b",
            other => return Err(format!("{quirk}: unexpected cell {other:?}")),
        };
        for case in &cell.cases {
            let name = format!("{}/{}", case.feature, case.test);
            let why = case.reason.as_deref().unwrap_or_default();
            if case.verdict == Verdict::HarnessError {
                problems.push(format!(
                    "{quirk}: {} {name}: harness error: {why}",
                    cell.name()
                ));
            }
            // A quirk is caught by a case that found a violation: of a MUST
            // (`fail`, or a case that could not finish) or of a SHOULD
            // (`non-strict`, the verdict of most maximum-set features). No
            // reruns here, so no `flaky`; were there, a run did find one.
            let found = match case.verdict {
                Verdict::Pass | Verdict::Skipped | Verdict::Unsupported => false,
                Verdict::Fail
                | Verdict::Flaky
                | Verdict::NonStrict
                | Verdict::TargetError
                | Verdict::HarnessError
                | Verdict::Timeout => true,
            };
            if !found {
                continue;
            }
            caught.cases += 1;
            if std::env::var_os("MUTATION_DEBUG").is_some() {
                eprintln!(
                    "DEBUG {quirk} {} {name}: {} {why}",
                    cell.name(),
                    case.verdict
                );
            }
            if !matches!(case.verdict, Verdict::Fail | Verdict::NonStrict) {
                continue;
            }
            match caught
                .failed
                .iter_mut()
                .find(|(t, v, _)| *t == name && *v == case.verdict)
            {
                Some((_, _, sides)) => sides.push(side),
                None => caught.failed.push((name, case.verdict, vec![side])),
            }
        }
    }
    caught.failed.sort();
    if caught.cases == 0 {
        problems.push(format!("{quirk} ({}) is caught by no test", quirk.doc()));
    }
    if problems.is_empty() {
        Ok(caught)
    } else {
        Err(problems.join("\n"))
    }
}

/// The generated table of `docs/coverage.md`.
fn markdown(all: &[Caught]) -> String {
    let mut out = String::new();
    out.push_str(
        "| quirk | breaks | what it does | tests that found it (side of the quirky provider) |\n",
    );
    out.push_str("|---|---|---|---|\n");
    for c in all {
        // A requirement of the list, or a protocol suite's rule.
        let breaks = match coverage::feature(c.quirk.breaks()) {
            Some(f) => format!("{} `{}`", f.label(), f.id),
            None => format!("Protocol `{}`", c.quirk.breaks()),
        };
        let tests: Vec<String> = c
            .failed
            .iter()
            .map(|(t, verdict, sides)| match verdict {
                Verdict::NonStrict => format!("`{t}` (non-strict: {})", sides.join(", ")),
                _ => format!("`{t}` ({})", sides.join(", ")),
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {breaks} | {} | {} |",
            c.quirk.name(),
            c.quirk.doc(),
            if tests.is_empty() {
                "none; found only by cases that could not finish (timeouts, target errors)"
                    .to_owned()
            } else {
                tests.join(", ")
            }
        );
    }
    out
}

/// Regenerate the table with `UPDATE_COVERAGE=1 cargo test coverage`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quirk_coverage() {
    let suites = suite::load_dir(Path::new("suites")).expect("shipped suites load");
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Option<Quirk>> = std::iter::once(None)
        .chain(Quirk::ALL.iter().copied().map(Some))
        .collect();
    let runs = runs.into_iter();
    // A few runs at a time: all at once would starve each other's cases
    // into timeouts on a small machine, and a timeout proves less than a
    // failed check.
    let crowded: Vec<RunReport> = futures_util::stream::iter(runs.clone())
        .map(|q| run(q, suites.clone(), dir.path()))
        .buffered(RUNS_AT_ONCE)
        .collect()
        .await;
    // On a loaded machine cases time out that pass alone: those are re-run
    // one at a time, after the crowd, so a slow machine is told apart from
    // a broken provider or a missed quirk. Observed violations (`fail`,
    // `non-strict`) are never re-run: they stand as they are.
    let mut reports = Vec::with_capacity(crowded.len());
    for (q, report) in runs.zip(crowded) {
        reports.push(match q {
            None => settle_clean(&suites, report, dir.path()).await,
            Some(q) => settle_quirk(q, &suites, report, dir.path()).await,
        });
    }
    let clean = reports.remove(0);
    let mut all = Vec::new();
    let mut problems = clean_problems(&clean);
    for (q, report) in Quirk::ALL.iter().zip(&reports) {
        match judge(*q, report) {
            Ok(c) => all.push(c),
            Err(p) => problems.push(p),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let fresh = markdown(&all);
    let path = Path::new("docs/coverage.md");
    let doc = std::fs::read_to_string(path).expect("docs/coverage.md exists");
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(
            path,
            coverage::splice(&doc, REGION, &fresh).expect("markers"),
        )
        .unwrap();
    }
    let doc = std::fs::read_to_string(path).unwrap();
    let on_disk = coverage::region(&doc, REGION).expect("markers");
    // Which tests end in `fail` rather than `timeout` depends on timing (a
    // loaded machine turns some failures into timeouts), so the last column
    // records one regeneration and is not compared; the quirks are.
    assert!(
        without_last_column(on_disk) == without_last_column(&fresh),
        "docs/coverage.md (quirks) is stale: run `UPDATE_COVERAGE=1 cargo test coverage`\n{fresh}"
    );
}

/// One quirk against the suite of the feature it breaks only, in both
/// cells: a focused proof that this suite catches it, cheap enough to run
/// alone (`cargo test --test it mutation::focused_<quirk>`); the full
/// proof is [`quirk_coverage`]. Returns the tests that found it.
async fn focused(quirk: Quirk) -> Vec<String> {
    let mut suites = suite::load_dir(Path::new("suites")).expect("shipped suites load");
    suites.retain(|s| s.suite.feature == quirk.breaks());
    let dir = tempfile::tempdir().unwrap();
    let report = run(Some(quirk), suites, dir.path()).await;
    let caught = judge(quirk, &report).unwrap_or_else(|e| panic!("{e}"));
    let found: Vec<String> = caught.failed.iter().map(|(t, _, _)| t.clone()).collect();
    assert!(
        !found.is_empty(),
        "{quirk}: only cases that could not finish found it"
    );
    found
}

/// Quirks of the receiver rules the crafted-content tests check, of the
/// run-wide invariants, of the multi-device variants and of the rules the
/// protocol suites' adversary tests, each with a test it must fail.
macro_rules! focused {
    ($($name:ident: $quirk:ident => $test:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let found = focused(Quirk::$quirk).await;
            assert!(found.iter().any(|t| t == $test), "{} not among {found:?}", $test);
        }
    )*};
}

focused! {
    focused_content_uris_unchecked: ContentUrisUnchecked => "text/sender-uri-of-another-user-is-not-shown";
    focused_duplicate_ids_shown: DuplicateIdsShown => "text/duplicate-message-id-is-shown-once";
    focused_invalid_content_placeholder: InvalidContentPlaceholder => "text/malformed-content-is-not-shown";
    focused_unknown_disposition_hidden: UnknownDispositionHidden => "text/unknown-disposition-and-content-type-are-shown";
    focused_zero_salt: ZeroSalt => "text/hub-to-follower";
    focused_reaction_counted_per_message: ReactionCountedPerMessage => "reactions/same-reaction-twice-counts-once";
    focused_expiry_ignored: ExpiryIgnored => "redaction/expired-messages-are-not-shown";
    focused_forbidden_status_shown: ForbiddenStatusShown => "read-receipts/forbidden-statuses-in-a-report-are-ignored";
    focused_first_status_wins: FirstStatusWins => "read-receipts/statuses-of-several-messages-upgrade";
    focused_edit_chains_ignored: EditChainsIgnored => "edits/edit-of-an-edit";
    focused_leave_one_device: LeaveOneDevice => "membership/leave-with-several-devices";
    focused_timestamps_in_seconds: TimestampsInSeconds => "reliable-sync/burst-hub-to-follower";
    focused_hub_skips_policy: HubSkipsPolicy => "protocol-hub-authorization/ordinary-user-cannot-promote-itself";
    focused_hub_accepts_non_members: HubAcceptsNonMembers => "protocol-hub-authorization/removed-user-cannot-send";
    focused_hub_fans_out_refused: HubFansOutRefused => "protocol-hub-authorization/banned-user-cannot-send";
    focused_hub_trusts_sending_uri: HubTrustsSendingUri => "protocol-provider-authentication/sender-must-be-hosted-by-the-sending-provider";
    focused_from_unchecked: FromUnchecked => "protocol-provider-authentication/from-must-match-the-certificate";
    focused_notify_from_anyone: NotifyFromAnyone => "protocol-provider-authentication/only-the-hub-notifies";
    focused_group_info_to_anyone: GroupInfoToAnyone => "protocol-room-access/group-info-only-for-participants";
    focused_retry_restamps: RetryRestamps => "reliable-sync/follower-asks-to-retry-later";
    focused_follower_fans_out: FollowerFansOut => "reliable-sync/burst-follower-to-hub";
    focused_hub_trusts_foreign_clients: HubTrustsForeignClients => "protocol-provider-authentication/no-device-for-another-providers-user";
    focused_hub_open_joins: HubOpenJoins => "protocol-room-access/no-external-join-for-a-non-participant";
    focused_follower_takes_any_notify: FollowerTakesAnyNotify => "protocol-provider-authentication/a-follower-takes-notify-only-from-the-hub";
    focused_ignores_consent: IgnoresConsent => "protocol-room-access/no-key-packages-without-consent";
    focused_welcome_to_every_provider: WelcomeToEveryProvider => "membership/leave-with-several-devices";
    focused_hub_unlisted_clients: HubUnlistedClients => "protocol-hub-authorization/clients-need-a-participant-entry";
    focused_hub_unlisted_clients_on_a_ban: HubUnlistedClients => "protocol-hub-authorization/a-ban-removes-the-clients";
    focused_follower_swallows_bad_notify: FollowerSwallowsBadNotify => "protocol-malformed-bodies/notify-trailing-bytes-to-a-follower";
    focused_hub_takes_any_report: HubTakesAnyReport => "protocol-hub-authorization/abuse-report-naming-another-user";
    focused_hub_keeps_foreign_removals: HubKeepsForeignRemovals => "protocol-hub-authorization/ordinary-user-cannot-propose-removing-a-moderator";
    focused_hub_keeps_stale_group_info: HubKeepsStaleGroupInfo => "protocol-room-access/group-info-stays-current";
    focused_device_removal_is_a_leave: DeviceRemovalIsALeave => "direct-messages/a-device-leaves-a-dm";
    focused_hub_drops_held_proposals: HubDropsHeldProposals => "protocol-hub-authorization/a-commit-must-carry-the-held-proposals";
    focused_hub_timestamps_trusted: HubTimestampsTrusted => "protocol-hub-timestamps/a-timestamp-from-the-future-is-not-shown";
}

/// A test of a feature MIMI has no mechanism for: `unsupported` by design.
fn no_mechanism(case: &mimi_interop::report::model::CaseReport) -> bool {
    case.verdict == Verdict::Unsupported
        && case
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("no MIMI mechanism: "))
}

fn without_last_column(table: &str) -> Vec<String> {
    table
        .lines()
        .map(|line| match line.trim_end_matches('|').rsplit_once(" | ") {
            Some((head, _)) => head.to_owned(),
            None => line.to_owned(),
        })
        .collect()
}

/// A builtin target with a quirk name the registry does not know does not
/// start; its error lists the known quirks, and its cases are target errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_quirk_fails_the_target_listing_known_ones() {
    let suites = suite::load_dir(Path::new("suites")).expect("shipped suites load");
    let mut plan = plan(Some(Quirk::ReorderFanout), suites);
    plan.targets[1] = builtin("quirky", vec!["skip-epoch-check".into()]);
    plan.cells = vec![Cell { a: 1, b: 1 }];
    plan.cases.retain(|c| c.cell == 0);
    plan.cases.truncate(1);
    plan.targets.truncate(2);
    let dir = tempfile::tempdir().unwrap();
    let launcher = Launcher::new().expect("run CA");
    let opts = RunOptions::new(dir.path());
    let report = execute(&plan, &opts, &launcher, &NoEvents).await;
    let quirky = &report.targets[1];
    let error = quirky.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("unknown quirk `skip-epoch-check`")
            && error.contains("known quirks: message-id-draft07, text-as-plain"),
        "{error}"
    );
    let verdicts: Vec<Verdict> = report
        .cells
        .iter()
        .flat_map(|c| &c.cases)
        .map(|c| c.verdict)
        .collect();
    assert_eq!(verdicts, vec![Verdict::TargetError]);
}
