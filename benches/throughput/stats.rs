//! Small summaries of repeated measurements.

use std::time::Duration;

/// Mean, median and 99th percentile of a set of durations.
pub struct Spread {
    pub mean: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

pub fn spread(samples: &[Duration]) -> Spread {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let at = |q: f64| {
        let i = ((s.len() as f64 - 1.0) * q).round() as usize;
        s.get(i).copied().unwrap_or_default()
    };
    let total: Duration = s.iter().sum();
    Spread {
        mean: total / (s.len().max(1) as u32),
        p50: at(0.5),
        p99: at(0.99),
    }
}

/// Best and median rate (per second) of repeats that each did `n` things.
pub fn rates(n: usize, elapsed: &[Duration]) -> (f64, f64) {
    let mut r: Vec<f64> = elapsed.iter().map(|d| n as f64 / d.as_secs_f64()).collect();
    r.sort_by(|a, b| a.total_cmp(b));
    let best = r.last().copied().unwrap_or(0.0);
    let median = r.get(r.len() / 2).copied().unwrap_or(0.0);
    (best, median)
}

/// Index of the repeat with the median elapsed time.
pub fn median_index(elapsed: &[Duration]) -> usize {
    let mut idx: Vec<usize> = (0..elapsed.len()).collect();
    idx.sort_by_key(|&i| elapsed[i]);
    idx[idx.len() / 2]
}

pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
