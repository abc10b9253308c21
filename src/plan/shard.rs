//! `--shard I/N`: one of N disjoint shares of a plan, so N CI jobs on N
//! machines run the whole matrix between them and `merge` joins their
//! reports. A case belongs to a shard by a hash of its cell's target names,
//! feature and test: the same case lands in the same shard on every machine
//! and in every run, whatever else the plan holds.

use super::model::Plan;
use sha2::{Digest, Sha256};

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a `--shard` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard `{value}`: {reason}")]
pub struct ParseShardError {
    value: String,
    reason: &'static str,
}

impl std::str::FromStr for Shard {
    type Err = ParseShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseShardError {
            value: s.to_owned(),
            reason,
        };
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| err("write I/N, e.g. 2/4"))?;
        let index: u32 = i.trim().parse().map_err(|_| err("I is not a number"))?;
        let count: u32 = n.trim().parse().map_err(|_| err("N is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(err("I must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the case `test` of `feature` in cell `a→b` is in this shard.
    pub fn holds(&self, a: &str, b: &str, feature: &str, test: &str) -> bool {
        let digest = Sha256::digest(format!("{a}→{b} {feature}/{test}").as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(head) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// Keeps only this shard's cases and records the shard in the plan's
/// filters (reports show it; `merge` unions it). Cells stay even when they
/// keep no case, so every shard starts the same targets and reports the
/// same cells.
pub fn apply(plan: &mut Plan, shard: Shard) {
    let Plan {
        targets,
        suites,
        cells,
        cases,
        filters,
    } = plan;
    cases.retain(|c| {
        let cell = &cells[c.cell];
        let suite = &suites[c.suite].suite;
        shard.holds(
            &targets[cell.a].name,
            &targets[cell.b].name,
            &suite.feature,
            &suite.tests[c.test].name,
        )
    });
    filters.shards.push(shard.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n_and_rejects_the_rest() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_case_is_in_exactly_one_shard() {
        let n = 5;
        for t in 0..200 {
            let test = format!("t{t}");
            let owners = (1..=n)
                .filter(|&i| Shard { index: i, count: n }.holds("a", "b", "f", &test))
                .count();
            assert_eq!(owners, 1, "{test}");
        }
    }
}
