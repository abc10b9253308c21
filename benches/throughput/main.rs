//! `cargo bench --bench throughput`: how fast the reference provider and the
//! harness's control path are, measured in one process on one machine.
//!
//! Four sections; 1, 2 and 4 are repeated `BENCH_REPEATS` times (default 5),
//! 3 times `BENCH_MESSAGES` calls of each kind once:
//! 1. raw openmls: one MLS group of two members, `create_message` +
//!    `process_message` of a ~200-byte MIMI content, no network;
//! 2. end to end: two reference providers (mutual TLS on loopback) driven
//!    through their control APIs exactly as the harness drives a target;
//! 3. control round trips: `info` and `room_state` against one provider;
//! 4. harness steps: generated suites run through `run::execute`, per step.
//!
//! Knobs (environment): `BENCH_MESSAGES` (default 1000), `BENCH_STEPS`
//! (default 200), `BENCH_SENDERS` (default 4), `BENCH_REPEATS` (default 5).
//! See `docs/performance.md`.

mod e2e;
mod harness;
mod raw;
mod stats;

use anyhow::{Context, bail};
use std::time::Duration;

/// Seconds the benchmark waits for any single answer before giving up.
pub const T: Duration = Duration::from_secs(30);

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => {
            let n: usize = v
                .trim()
                .parse()
                .with_context(|| format!("{name}={v:?} is not a count"))?;
            if n == 0 {
                bail!("{name} must be at least 1");
            }
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}

/// A real MIMI content vector (draft-ietf-mimi-content "original" message).
fn content_vector() -> anyhow::Result<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/content/original.cbor"
    );
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    // An array of 7 whose first item is the 16-byte salt: `e2e` rewrites the
    // salt so every message is distinct and can be matched on arrival.
    if bytes.len() < 18 || bytes[0] != 0x87 || bytes[1] != 0x50 {
        bail!("{path} does not start with [salt(16 bytes), ...]");
    }
    Ok(bytes)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let messages = env_usize("BENCH_MESSAGES", 1000)?;
    let steps = env_usize("BENCH_STEPS", 200)?;
    let senders = env_usize("BENCH_SENDERS", 4)?;
    let repeats = env_usize("BENCH_REPEATS", 5)?;
    let content = content_vector()?;
    println!(
        "throughput bench: {messages} messages of {} bytes, {steps} steps, {senders} concurrent senders, {repeats} repeats",
        content.len()
    );
    // Context for reading the numbers: how busy the machine was.
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("{cores} cores, load average {}", load.join(" "));
    println!(
        "(best and median of the repeats; latencies are over all messages of the median repeat)\n"
    );

    raw::bench(messages, repeats, &content)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async {
        e2e::bench(messages, senders, repeats, &content).await?;
        harness::bench(steps, repeats).await
    })
}
