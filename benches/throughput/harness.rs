//! Harness steps: generated suites run through `run::execute` with the
//! default targets (two builtin reference providers), one case at a time.
//! A case's duration minus the `setup` case's, divided by its extra steps,
//! is what one step costs through the whole harness path (interpolation,
//! control call, capture, inbox, checks, transcript).

use anyhow::{Context, bail};
use mimi_interop::plan;
use mimi_interop::reference::Launcher;
use mimi_interop::report::model::{Filters, Verdict};
use mimi_interop::run::{self, event::NoEvents};
use std::fmt::Write as _;
use std::time::Duration;

const HEAD: &str = r#"version: 1
feature: bench-steps
title: Benchmark of per-step cost
set: minimum
requirement:
  document: draft-ralston-mimi-messaging-requirements-00
  section: Minimum Feature Set
  item: 3
  level: MUST
tests:
"#;

const SETUP: &str = r#"    actors: { alice: a, bob: b }
    steps:
      - create_room: { as: alice, capture: room }
      - add_participant: { as: alice, room: "${room}", user: bob }
      - expect_state: { room: "${room}", members: [alice, bob] }
"#;

/// Tests `warmup` (room with alice and bob; the first case also opens every
/// connection), `state-1`/`state-2` (setup + `k`/`2k` `expect_state` steps)
/// and `messages-1`/`messages-2` (setup + `k`/`2k` pairs of `send` by alice
/// and `expect_message` by bob). The difference of a pair of cases is the
/// cost of `k` steps, with setup and case start-up cancelled out.
fn suite_yaml(k: usize) -> String {
    let mut y = String::from(HEAD);
    y.push_str("  - name: warmup\n");
    y.push_str(SETUP);
    for (name, n) in [("state-1", k), ("state-2", 2 * k)] {
        let _ = writeln!(y, "  - name: {name}");
        y.push_str(SETUP);
        for _ in 0..n {
            y.push_str("      - expect_state: { room: \"${room}\", members: [alice, bob] }\n");
        }
    }
    for (name, n) in [("messages-1", k), ("messages-2", 2 * k)] {
        let _ = writeln!(y, "  - name: {name}");
        y.push_str(SETUP);
        for i in 0..n {
            let _ = writeln!(
                y,
                "      - send: {{ as: alice, room: \"${{room}}\", content: {{ text: \"bench message {i}\" }}, capture: m{i} }}"
            );
            let _ = writeln!(
                y,
                "      - expect_message: {{ as: bob, room: \"${{room}}\", from: alice, message_id: \"${{m{i}}}\", content: {{ text: \"bench message {i}\" }} }}"
            );
        }
    }
    y
}

const CASES: [&str; 5] = ["warmup", "state-1", "state-2", "messages-1", "messages-2"];

/// Durations of the cases of [`CASES`], in that order, from one run.
async fn run_once(
    path: &std::path::Path,
    reports: &std::path::Path,
) -> anyhow::Result<[Duration; 5]> {
    let suite = mimi_interop::suite::load_file(path)?;
    let filters = Filters {
        cells: vec!["ref-a→ref-b".to_owned()],
        ..Filters::default()
    };
    let plan = plan::build(plan::targets::defaults(), vec![suite], &filters)?;
    let opts = run::RunOptions {
        jobs: 1,
        ..run::RunOptions::new(reports)
    };
    let launcher = Launcher::new()?;
    let report = run::execute(&plan, &opts, &launcher, &NoEvents).await;
    let cases: Vec<_> = report.cells.iter().flat_map(|c| &c.cases).collect();
    let mut out = [Duration::ZERO; 5];
    for (slot, name) in out.iter_mut().zip(CASES) {
        let Some(c) = cases.iter().find(|c| c.test == name) else {
            bail!("the run has no case {name}");
        };
        if c.verdict != Verdict::Pass {
            bail!(
                "case {name} ended {:?}: {}",
                c.verdict,
                c.reason.as_deref().unwrap_or("")
            );
        }
        *slot = Duration::from_millis(c.duration_ms);
    }
    Ok(out)
}

pub async fn bench(k: usize, repeats: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let path = dir.path().join("bench-steps.yaml");
    std::fs::write(&path, suite_yaml(k)).context("writing the generated suite")?;
    let mut runs = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        runs.push(run_once(&path, dir.path()).await.context("harness run")?);
    }
    // Per-step costs of each repeat; the median of each is reported.
    let per = |a: Duration, b: Duration| b.saturating_sub(a) / k as u32;
    let mut state: Vec<Duration> = runs.iter().map(|r| per(r[1], r[2])).collect();
    let mut messages: Vec<Duration> = runs.iter().map(|r| per(r[3], r[4])).collect();
    let mut warmup: Vec<Duration> = runs.iter().map(|r| r[0]).collect();
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let ms = crate::stats::ms;
    println!("## 4. harness steps through run::execute (ref-a→ref-b, jobs 1, median of repeats)");
    println!(
        "{k} vs {} steps per case; case durations have 1 ms resolution",
        2 * k
    );
    println!(
        "  first case (3 steps, cold)      {:>10}",
        ms(median(&mut warmup))
    );
    println!(
        "  expect_state step               {:>10} per step",
        ms(median(&mut state))
    );
    println!(
        "  send + expect_message pair      {:>10} per pair",
        ms(median(&mut messages))
    );
    Ok(())
}
