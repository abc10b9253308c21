//! Planning: targets × suites → cells × cases, with filters.
//!
//! Every ordered pair of targets (x, y), x == y included, is a cell; every
//! test of every suite is a case in every cell. `--target` and `--cell`
//! shrink the matrix: cells they leave out are not in the plan, and targets
//! in no remaining cell are dropped (so they are never started).
//! `--feature`, `--test` and `--tag` leave the cases they do not select out
//! of the plan, so a filtered run reports only what it ran. A case that is
//! selected but cannot run in its cell (a test that cuts the link, in a
//! cell with one target) stays, with `skip: Some(reason)`: reported
//! `skipped`.
//! Protocol suites (`set: protocol`) are planned in the cells (x, x) only:
//! their side b is the harness's adversary, not a target, so they run once
//! per target and the matrix shows them in the target's own column.
//! Within one filter the values are alternatives (OR); different filters
//! must all hold (AND). A filter value that matches nothing is an error, so
//! a typo never silently selects nothing.

pub mod expectations;
pub mod model;
pub mod shard;
pub mod targets;

use crate::report::model::Filters;
use crate::suite::model::Level;
use globset::{Glob, GlobMatcher};
use model::{Cell, LoadedSuite, Plan, PlannedCase, TargetSpec};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Why a plan could not be built from the targets, suites and filters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no targets to run against")]
    NoTargets,
    #[error("duplicate target name `{0}`")]
    DuplicateTarget(String),
    #[error("duplicate feature id `{feature}`: in {first} and {second}")]
    DuplicateFeature {
        feature: String,
        first: String,
        second: String,
    },
    #[error("--feature `{name}` is not a loaded feature (known: {known})")]
    UnknownFeature { name: String, known: String },
    #[error("--target `{name}` is not a target (known: {known})")]
    UnknownTarget { name: String, known: String },
    #[error("--cell `{cell}`: {reason}")]
    InvalidCell { cell: String, reason: String },
    #[error("--test `{glob}` is not a valid glob: {reason}")]
    InvalidGlob { glob: String, reason: String },
    #[error("--test `{0}` matches no test (globs match `feature/test` or `test`)")]
    NoMatchingTest(String),
    #[error("--tag `{0}` is on no test")]
    UnknownTag(String),
    #[error("the --target and --cell filters together select no cell")]
    NoCells,
}

/// Builds the plan: cells (ordered pairs, `a`-major), then one case per
/// cell × selected suite × test in load order.
pub fn build(
    targets: Vec<TargetSpec>,
    suites: Vec<LoadedSuite>,
    filters: &Filters,
) -> Result<Plan, PlanError> {
    if targets.is_empty() {
        return Err(PlanError::NoTargets);
    }
    for (i, t) in targets.iter().enumerate() {
        if targets[..i].iter().any(|o| o.name == t.name) {
            return Err(PlanError::DuplicateTarget(t.name.clone()));
        }
    }
    for (i, s) in suites.iter().enumerate() {
        if let Some(first) = suites[..i]
            .iter()
            .find(|o| o.suite.feature == s.suite.feature)
        {
            return Err(PlanError::DuplicateFeature {
                feature: s.suite.feature.clone(),
                first: first.path.display().to_string(),
                second: s.path.display().to_string(),
            });
        }
    }

    let pairs = select_cells(&targets, filters)?;
    // Keep only targets some selected cell uses, in their original order.
    let used: BTreeSet<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let remap = |i: usize| used.iter().position(|&u| u == i).expect("used target");
    let cells: Vec<Cell> = pairs
        .iter()
        .map(|&(a, b)| Cell {
            a: remap(a),
            b: remap(b),
        })
        .collect();
    let targets: Vec<TargetSpec> = targets
        .into_iter()
        .enumerate()
        .filter(|(i, _)| used.contains(i))
        .map(|(_, t)| t)
        .collect();

    let selector = CaseSelector::new(&suites, filters)?;
    let mut cases = Vec::new();
    for (cell, pair) in cells.iter().enumerate() {
        for (si, s) in suites.iter().enumerate() {
            // Protocol suites run once per target, against the harness's
            // adversary: in the target's own cell (x, x) only.
            if s.suite.set == crate::suite::model::FeatureSet::Protocol && pair.a != pair.b {
                continue;
            }
            for ti in (0..s.suite.tests.len()).filter(|&ti| selector.selects(s, ti)) {
                cases.push(PlannedCase {
                    cell,
                    suite: si,
                    test: ti,
                    skip: one_provider_reason(pair, &s.suite.tests[ti]),
                });
            }
        }
    }
    Ok(Plan {
        targets,
        suites,
        cells,
        cases,
        filters: filters.clone(),
    })
}

/// The (a, b) index pairs the target and cell filters keep.
fn select_cells(
    targets: &[TargetSpec],
    filters: &Filters,
) -> Result<Vec<(usize, usize)>, PlanError> {
    let known = || {
        targets
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let index = |name: &str| targets.iter().position(|t| t.name == name);
    let mut allowed = BTreeSet::new();
    for name in &filters.targets {
        match index(name) {
            Some(i) => {
                allowed.insert(i);
            }
            None => {
                return Err(PlanError::UnknownTarget {
                    name: name.clone(),
                    known: known(),
                });
            }
        }
    }
    let mut wanted = BTreeSet::new();
    for cell in &filters.cells {
        let (a, b) = parse_cell(cell).ok_or_else(|| PlanError::InvalidCell {
            cell: cell.clone(),
            reason: "write `a→b`, `a->b` or `a,b`".into(),
        })?;
        let find = |n: &str| {
            index(n).ok_or_else(|| PlanError::InvalidCell {
                cell: cell.clone(),
                reason: format!("`{n}` is not a target (known: {})", known()),
            })
        };
        wanted.insert((find(a)?, find(b)?));
    }
    let n = targets.len();
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (0..n).map(move |b| (a, b)))
        .filter(|(a, b)| allowed.is_empty() || (allowed.contains(a) && allowed.contains(b)))
        .filter(|p| wanted.is_empty() || wanted.contains(p))
        .collect();
    if pairs.is_empty() {
        return Err(PlanError::NoCells);
    }
    Ok(pairs)
}

/// `a→b`, `a->b` or `a,b` as (a, b).
pub fn parse_cell(s: &str) -> Option<(&str, &str)> {
    let (a, b) = s
        .split_once('→')
        .or_else(|| s.split_once("->"))
        .or_else(|| s.split_once(','))?;
    let (a, b) = (a.trim(), b.trim());
    (!a.is_empty() && !b.is_empty()).then_some((a, b))
}

/// The feature, test-glob and tag filters, compiled.
struct CaseSelector<'f> {
    filters: &'f Filters,
    globs: Vec<GlobMatcher>,
}

impl<'f> CaseSelector<'f> {
    fn new(suites: &[LoadedSuite], filters: &'f Filters) -> Result<Self, PlanError> {
        for name in &filters.features {
            if !suites.iter().any(|s| &s.suite.feature == name) {
                return Err(PlanError::UnknownFeature {
                    name: name.clone(),
                    known: suites
                        .iter()
                        .map(|s| s.suite.feature.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let mut globs = Vec::new();
        for g in &filters.tests {
            let m = Glob::new(g)
                .map_err(|e| PlanError::InvalidGlob {
                    glob: g.clone(),
                    reason: e.kind().to_string(),
                })?
                .compile_matcher();
            let hits = suites.iter().any(|s| {
                s.suite
                    .tests
                    .iter()
                    .any(|t| matches_test(&m, &s.suite.feature, &t.name))
            });
            if !hits {
                return Err(PlanError::NoMatchingTest(g.clone()));
            }
            globs.push(m);
        }
        for tag in &filters.tags {
            let used = suites
                .iter()
                .any(|s| (0..s.suite.tests.len()).any(|t| case_tags(s, t).contains(tag.as_str())));
            if !used {
                return Err(PlanError::UnknownTag(tag.clone()));
            }
        }
        Ok(CaseSelector { filters, globs })
    }

    /// Whether the feature, test and tag filters all select the test.
    fn selects(&self, s: &LoadedSuite, test: usize) -> bool {
        let f = self.filters;
        let feature = &s.suite.feature;
        let name = &s.suite.tests[test].name;
        let feature_ok = f.features.is_empty() || f.features.contains(feature);
        let test_ok =
            self.globs.is_empty() || self.globs.iter().any(|m| matches_test(m, feature, name));
        let tag_ok = f.tags.is_empty() || {
            let tags = case_tags(s, test);
            f.tags.iter().any(|t| tags.contains(t.as_str()))
        };
        feature_ok && test_ok && tag_ok
    }
}

fn matches_test(m: &GlobMatcher, feature: &str, test: &str) -> bool {
    m.is_match(format!("{feature}/{test}")) || m.is_match(test)
}

/// A case's tags: the suite's, the test's, and the feature set's name
/// (`minimum` or `maximum`).
pub fn case_tags(s: &LoadedSuite, test: usize) -> BTreeSet<&str> {
    let mut tags: BTreeSet<&str> = s.suite.tags.iter().map(String::as_str).collect();
    if let Some(t) = s.suite.tests.get(test) {
        tags.extend(t.tags.iter().map(String::as_str));
    }
    tags.insert(s.suite.set.as_str());
    tags
}

impl Plan {
    /// `a→b` for a cell.
    pub fn cell_name(&self, cell: &Cell) -> String {
        format!(
            "{}→{}",
            self.targets[cell.a].name, self.targets[cell.b].name
        )
    }

    /// The suite and test a case runs.
    pub fn case_test(&self, case: &PlannedCase) -> (&LoadedSuite, &crate::suite::model::Test) {
        let s = &self.suites[case.suite];
        (s, &s.suite.tests[case.test])
    }

    /// `feature/test`, the name a case is shown and filtered by.
    pub fn case_id(&self, case: &PlannedCase) -> String {
        let (s, t) = self.case_test(case);
        format!("{}/{}", s.suite.feature, t.name)
    }

    /// The level that decides fail vs non-strict: the test's, else the suite
    /// requirement's.
    pub fn case_level(&self, case: &PlannedCase) -> Level {
        let (s, t) = self.case_test(case);
        t.level.unwrap_or(s.suite.requirement.level)
    }
}

/// The `list` command's text: targets, then each cell with its selected
/// cases; one that cannot run in its cell is marked `skipped` with the reason.
pub fn render_list(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "targets:");
    for t in &plan.targets {
        let detail = match &t.kind {
            model::TargetKind::Builtin(b) => {
                let mut d = format!(
                    "builtin, domain {}",
                    b.domain
                        .clone()
                        .unwrap_or_else(|| format!("{}.example", t.name))
                );
                if !b.quirks.is_empty() {
                    let _ = write!(d, ", quirks {}", b.quirks.join(", "));
                }
                d
            }
            model::TargetKind::Url(u) => format!("url {u}"),
            model::TargetKind::Command(c) => format!("command {}", c.argv.join(" ")),
        };
        let _ = writeln!(out, "  {} ({detail})", t.name);
    }
    let width = plan
        .cases
        .iter()
        .map(|c| {
            let (s, t) = plan.case_test(c);
            s.suite.feature.chars().count() + 1 + t.name.chars().count()
        })
        .max()
        .unwrap_or(0);
    for (ci, cell) in plan.cells.iter().enumerate() {
        let _ = writeln!(out, "\ncell {}", plan.cell_name(cell));
        for case in plan.cases.iter().filter(|c| c.cell == ci) {
            let id = plan.case_id(case);
            match &case.skip {
                None => {
                    let _ = writeln!(out, "  {id:<width$}  {}", plan.case_level(case).as_str());
                }
                Some(reason) => {
                    let _ = writeln!(out, "  {id:<width$}  skipped: {reason}");
                }
            }
        }
    }
    let skipped = plan.cases.iter().filter(|c| c.skip.is_some()).count();
    let _ = write!(
        out,
        "\n{} cell{}, {} cases: {} to run, {} skipped\n",
        plan.cells.len(),
        if plan.cells.len() == 1 { "" } else { "s" },
        plan.cases.len(),
        plan.cases.len() - skipped,
        skipped
    );
    out
}

/// The skip reason of a test that cuts a link, in a cell with one target.
pub const NEEDS_TWO_PROVIDERS: &str = "needs two providers: it cuts the MIMI link between the cell's targets, and a target has no link to itself";

/// The skip reason of a test with a request-fault step, in a cell with one
/// target.
pub const NEEDS_TWO_FOR_FAULTS: &str = "needs two providers: it breaks a request between the cell's targets in the harness's relay, and a target sends none to itself";

/// Why a test cannot run in `cell`: one that cuts the MIMI link between
/// the cell's two providers, or breaks a request on it, needs two (a
/// target has no link to itself).
fn one_provider_reason(cell: &Cell, test: &crate::suite::model::Test) -> Option<String> {
    use crate::suite::model::Step;
    if cell.a != cell.b {
        return None;
    }
    let cuts = test.steps.iter().any(|s| matches!(s, Step::Partition(_)));
    let faults = test.steps.iter().any(|s| {
        matches!(
            s,
            Step::DropRequest(_)
                | Step::Unavailable(_)
                | Step::DuplicateRequest(_)
                | Step::DelayRequest(_)
        )
    });
    if cuts {
        Some(NEEDS_TWO_PROVIDERS.to_owned())
    } else if faults {
        Some(NEEDS_TWO_FOR_FAULTS.to_owned())
    } else {
        None
    }
}
