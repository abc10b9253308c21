//! Conformance claims: what the cases of a report say about each target.
//!
//! A case in cell (x, y) counts for the target it is blamed on
//! ([`CaseReport::blame`]); without blame, for both x and y. Against a target
//! count `fail`, `flaky`, `timeout` and `target-error`
//! ([`Verdict::counts_against`]: a case that only sometimes works cannot be
//! claimed, and the reasons say how many of the failing cases were flaky);
//! `unsupported` never does (a target's own 501 is already `fail`), nor
//! `skipped` or `harness-error` (the harness's fault). A target is conformant
//! when it was usable and nothing counts against it; the minimum feature set
//! is named first in the reasons because it is the one every provider MUST
//! meet. The protocol suites (`set: protocol`) count the same way, in a set
//! of their own: a rule of the drafts broken is a reason against the claim.

use super::model::{CaseReport, RunReport, SetClaim, TargetClaim, Verdict};
use std::collections::{BTreeMap, BTreeSet};

impl RunReport {
    /// Recomputes [`RunReport::claims`] from the targets, suites and cases.
    pub fn recompute_claims(&mut self) {
        self.claims = self
            .targets
            .iter()
            .map(|t| claim(self, &t.name, t.error.as_deref()))
            .collect();
    }

    /// Whether every target's claim is conformant.
    pub fn claims_conformant(&self) -> bool {
        self.claims.iter().all(|c| c.conformant)
    }
}

/// Per feature: (any pass or non-strict, any non-strict, any failing).
type Tally = BTreeMap<String, (bool, bool, bool)>;

fn claim(report: &RunReport, target: &str, error: Option<&str>) -> TargetClaim {
    let set_of = |feature: &str| {
        report
            .suites
            .iter()
            .find(|s| s.feature == feature)
            .map(|s| s.set.as_str())
            .unwrap_or("maximum")
    };
    // 0: minimum, 1: maximum, 2: protocol rules.
    let index = |set: &str| match set {
        "minimum" => 0,
        "protocol" => 2,
        _ => 1,
    };
    let mut sets: [SetClaim; 3] = Default::default();
    let mut tallies: [Tally; 3] = Default::default();
    let mut features: [BTreeSet<&str>; 3] = Default::default();
    let mut flaky = [0usize; 3];
    for s in &report.suites {
        features[index(&s.set)].insert(&s.feature);
    }
    for cell in &report.cells {
        if cell.a != target && cell.b != target {
            continue;
        }
        for case in cell.cases.iter().filter(|c| counts_for(c, target)) {
            let which = index(set_of(&case.feature));
            features[which].insert(&case.feature);
            let entry = tallies[which].entry(case.feature.clone()).or_default();
            match case.verdict {
                Verdict::Pass => entry.0 = true,
                Verdict::NonStrict => {
                    entry.0 = true;
                    entry.1 = true;
                }
                Verdict::Fail | Verdict::Flaky | Verdict::Timeout | Verdict::TargetError => {
                    entry.2 = true;
                    if case.verdict == Verdict::Flaky {
                        flaky[which] += 1;
                    }
                    sets[which].failing.push(format!(
                        "{}/{} in {}: {}",
                        case.feature,
                        case.test,
                        cell.name(),
                        case.verdict
                    ));
                }
                Verdict::Unsupported | Verdict::Skipped | Verdict::HarnessError => {}
            }
        }
    }
    for (set, (tally, names)) in sets.iter_mut().zip(tallies.iter().zip(&features)) {
        set.features = names.len();
        for (feature, &(ok, non_strict, failing)) in tally {
            if ok && !failing {
                set.supported.push(feature.clone());
                if non_strict {
                    set.non_strict.push(feature.clone());
                }
            }
        }
    }
    let mut reasons = Vec::new();
    if let Some(e) = error {
        reasons.push(format!("target could not be used: {e}"));
    }
    let [minimum, maximum, protocol] = sets;
    // `3 failing (1 flaky)`: flaky told apart from steady failure even here.
    for ((label, set), flaky) in [
        ("minimum feature set", &minimum),
        ("maximum feature set", &maximum),
        ("protocol rules", &protocol),
    ]
    .into_iter()
    .zip(flaky)
    {
        match (set.failing.len(), flaky) {
            (0, _) => {}
            (n, 0) => reasons.push(format!("{label}: {n} failing")),
            (n, f) => reasons.push(format!("{label}: {n} failing ({f} flaky)")),
        }
    }
    TargetClaim {
        target: target.to_owned(),
        conformant: reasons.is_empty(),
        reasons,
        minimum,
        maximum,
        protocol,
    }
}

/// Whether a case in one of `target`'s cells counts for it.
fn counts_for(case: &CaseReport, target: &str) -> bool {
    case.blame.as_deref().is_none_or(|b| b == target)
}

impl TargetClaim {
    /// Features of both sets where a SHOULD was missed, minimum set first.
    pub fn non_strict(&self) -> Vec<&str> {
        let (min, max) = (&self.minimum.non_strict, &self.maximum.non_strict);
        min.iter()
            .chain(max)
            .chain(&self.protocol.non_strict)
            .map(String::as_str)
            .collect()
    }

    /// Every case counted against the target, minimum set first.
    pub fn failing(&self) -> Vec<&str> {
        let (min, max) = (&self.minimum.failing, &self.maximum.failing);
        min.iter()
            .chain(max)
            .chain(&self.protocol.failing)
            .map(String::as_str)
            .collect()
    }

    /// One line: `conformant; minimum 8/8 features, maximum 9/14 (non-strict: x)`
    /// or `not conformant: minimum feature set: 3 failing; …`.
    pub fn summary(&self) -> String {
        let head = if self.conformant {
            "conformant".to_owned()
        } else {
            format!("not conformant: {}", self.reasons.join("; "))
        };
        let mut line = format!(
            "{head} · minimum {}/{} features supported, maximum {}/{}",
            self.minimum.supported.len(),
            self.minimum.features,
            self.maximum.supported.len(),
            self.maximum.features
        );
        if self.protocol.features > 0 {
            line.push_str(&format!(
                ", protocol {}/{} rule suites kept",
                self.protocol.supported.len(),
                self.protocol.features
            ));
        }
        let non_strict = self.non_strict();
        if !non_strict.is_empty() {
            line.push_str(&format!(" · non-strict: {}", non_strict.join(", ")));
        }
        line
    }
}
