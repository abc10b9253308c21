//! What every renderer shares: verdict ranking, the feature × cell matrix,
//! the counts phrase and the plain-text form of a step transcript. Keeping it
//! in one place keeps the renderers agreeing with each other.

use super::model::{
    CaseReport, CellReport, RunReport, Standing, StepTranscript, SuiteInfo, Verdict,
};
use std::collections::BTreeMap;

/// How bad a verdict is, higher is worse. Follows the exit code (`src/exit.rs`):
/// trouble with a target or the harness outranks failures, because it means
/// some cases told nothing at all.
pub(crate) fn severity(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Pass => 0,
        Verdict::Skipped => 1,
        Verdict::Unsupported => 2,
        Verdict::NonStrict => 3,
        // Below the steady failures: it did pass at least once.
        Verdict::Flaky => 4,
        Verdict::Timeout => 5,
        Verdict::Fail => 6,
        Verdict::TargetError => 7,
        Verdict::HarnessError => 8,
    }
}

/// Emoji used by the Markdown and HTML matrices.
pub(crate) fn icon(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Flaky => "❄️",
        Verdict::NonStrict => "⚠️",
        Verdict::Unsupported => "➖",
        Verdict::Skipped => "⏭️",
        Verdict::TargetError => "💥",
        Verdict::HarnessError => "🐞",
        Verdict::Timeout => "⏱️",
    }
}

/// Word used in count phrases: `3 passed`, `1 failed`, then the verdict's
/// own name (`1 non-strict`, `2 target-error`) so counts grep like verdicts.
pub(crate) fn count_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "passed",
        Verdict::Fail => "failed",
        Verdict::Flaky
        | Verdict::NonStrict
        | Verdict::Unsupported
        | Verdict::Skipped
        | Verdict::TargetError
        | Verdict::HarnessError
        | Verdict::Timeout => verdict.as_str(),
    }
}

/// `N passed, N failed` always, then every other non-zero count in
/// [`Verdict::ALL`] order.
pub(crate) fn counts_phrase(counts: &BTreeMap<Verdict, usize>) -> String {
    let get = |v: Verdict| counts.get(&v).copied().unwrap_or(0);
    let mut parts = vec![
        format!("{} {}", get(Verdict::Pass), count_word(Verdict::Pass)),
        format!("{} {}", get(Verdict::Fail), count_word(Verdict::Fail)),
    ];
    for verdict in Verdict::ALL {
        match verdict {
            Verdict::Pass | Verdict::Fail => continue,
            Verdict::Flaky
            | Verdict::NonStrict
            | Verdict::Unsupported
            | Verdict::Skipped
            | Verdict::TargetError
            | Verdict::HarnessError
            | Verdict::Timeout => {}
        }
        let n = get(verdict);
        if n > 0 {
            parts.push(format!("{n} {}", count_word(verdict)));
        }
    }
    parts.join(", ")
}

/// Counts per verdict over some cases.
pub(crate) fn count<'a>(
    cases: impl IntoIterator<Item = &'a CaseReport>,
) -> BTreeMap<Verdict, usize> {
    let mut counts = BTreeMap::new();
    for case in cases {
        *counts.entry(case.verdict).or_insert(0) += 1;
    }
    counts
}

/// `1.234 s`: durations in every human-facing report.
pub(crate) fn seconds(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// The transcript as indented plain text, used by JUnit, Markdown, HTML and
/// the terminal alike.
pub(crate) fn transcript_text(step: &StepTranscript) -> String {
    let mut out = format!("step {}: {}", step.index, step.action);
    if let Some(target) = &step.target {
        out.push_str(&format!(" (target {target})"));
    }
    out.push('\n');
    for (label, value) in [
        ("request", &step.request),
        ("response", &step.response),
        ("expected", &step.expected),
    ] {
        if let Some(value) = value {
            out.push_str(label);
            out.push_str(":\n");
            for line in value.lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The filters as one line, `none` when the run was unfiltered.
pub(crate) fn filters_text(report: &RunReport) -> String {
    let f = &report.filters;
    let parts: Vec<String> = [
        ("features", &f.features),
        ("tests", &f.tests),
        ("tags", &f.tags),
        ("targets", &f.targets),
        ("cells", &f.cells),
        ("shards", &f.shards),
    ]
    .into_iter()
    .filter(|(_, list)| !list.is_empty())
    .map(|(name, list)| format!("{name}: {}", list.join(", ")))
    .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join("; ")
    }
}

/// `retries 2` or `repeat 3` when the run reran cases; `None` otherwise.
pub(crate) fn reruns_text(report: &RunReport) -> Option<String> {
    match (report.retries, report.repeat) {
        (Some(n), _) => Some(format!("retries {n}")),
        (None, Some(n)) => Some(format!("repeat {n}")),
        (None, None) => None,
    }
}

/// `runs: fail, pass`: the verdict of each run of a case that ran more than
/// once; `None` for a case that ran once.
pub(crate) fn attempts_text(case: &CaseReport) -> Option<String> {
    if case.attempts.is_empty() {
        return None;
    }
    let verdicts: Vec<&str> = case.attempts.iter().map(|a| a.verdict.as_str()).collect();
    Some(format!("runs: {}", verdicts.join(", ")))
}

/// All cases of one feature in one cell.
pub(crate) struct Tally<'a> {
    pub cases: Vec<&'a CaseReport>,
}

impl Tally<'_> {
    /// The worst verdict among the cases; `None` when the feature did not run
    /// in this cell.
    pub fn worst(&self) -> Option<Verdict> {
        self.cases
            .iter()
            .map(|c| c.verdict)
            .max_by_key(|v| severity(*v))
    }

    pub fn passed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .count()
    }

    pub fn total(&self) -> usize {
        self.cases.len()
    }
}

pub(crate) struct FeatureRow<'a> {
    pub feature: &'a str,
    /// The suite the feature came from, when the report lists it.
    pub suite: Option<&'a SuiteInfo>,
    /// One per entry in [`Matrix::cells`], same order.
    pub tallies: Vec<Tally<'a>>,
}

impl FeatureRow<'_> {
    pub fn worst(&self) -> Verdict {
        self.tallies
            .iter()
            .filter_map(Tally::worst)
            .max_by_key(|v| severity(*v))
            .unwrap_or(Verdict::Pass)
    }
}

/// Features (rows) × cells (columns).
pub(crate) struct Matrix<'a> {
    pub cells: Vec<&'a CellReport>,
    pub rows: Vec<FeatureRow<'a>>,
}

impl<'a> Matrix<'a> {
    /// Rows follow the report's suite order (then features only seen in
    /// cases, in order of appearance), the minimum feature set first; within
    /// a set, rows holding any non-pass result come first, worst first, so
    /// the matrix leads with what needs attention.
    pub fn build(report: &'a RunReport) -> Self {
        let mut features: Vec<&'a str> = Vec::new();
        for suite in &report.suites {
            if !features.contains(&suite.feature.as_str()) {
                features.push(&suite.feature);
            }
        }
        for case in report.cells.iter().flat_map(|c| &c.cases) {
            if !features.contains(&case.feature.as_str()) {
                features.push(&case.feature);
            }
        }
        let cells: Vec<&CellReport> = report.cells.iter().collect();
        let mut rows: Vec<FeatureRow<'a>> = features
            .into_iter()
            .map(|feature| FeatureRow {
                feature,
                suite: report.suites.iter().find(|s| s.feature == feature),
                tallies: cells
                    .iter()
                    .map(|cell| Tally {
                        cases: cell.cases.iter().filter(|c| c.feature == feature).collect(),
                    })
                    .collect(),
            })
            .collect();
        // The minimum (MUST) set first, then the maximum set, then anything
        // else; within each, rows needing attention first. Stable: equal
        // keys keep suite order.
        rows.sort_by_key(|row| {
            (
                set_rank(row.suite),
                std::cmp::Reverse(severity(row.worst())),
            )
        });
        Matrix { cells, rows }
    }
}

/// Where a feature's set sorts in the matrices: `minimum` before `maximum`
/// before any other set or a feature without a suite.
fn set_rank(suite: Option<&SuiteInfo>) -> u8 {
    match suite.map(|s| s.set.as_str()) {
        Some("minimum") => 0,
        Some("maximum") => 1,
        _ => 2,
    }
}

/// Every non-pass case with its cell, worst verdict first, then in report
/// order (stable).
pub(crate) fn non_pass(report: &RunReport) -> Vec<(&CellReport, &CaseReport)> {
    let mut out: Vec<(&CellReport, &CaseReport)> = report
        .cells
        .iter()
        .flat_map(|cell| cell.cases.iter().map(move |case| (cell, case)))
        .filter(|(_, case)| case.verdict != Verdict::Pass)
        .collect();
    out.sort_by_key(|(_, case)| std::cmp::Reverse(severity(case.verdict)));
    out
}

/// Cuts `text` to at most `max` bytes on a char boundary, saying how much was
/// left out, so one huge response cannot blow a CI summary's size limit.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} more bytes; see report.json)",
        &text[..end],
        text.len() - end
    )
    .into()
}

/// What `--expectations` says of a case, one phrase; `None` when no entry
/// matched it.
pub(crate) fn expectation_note(case: &CaseReport) -> Option<String> {
    let e = case.expectation.as_ref()?;
    let link = e
        .link
        .as_deref()
        .map(|l| format!(", {l}"))
        .unwrap_or_default();
    Some(match e.standing {
        Standing::Expected => format!("expected {}: {}{link}", e.outcome.as_str(), e.reason),
        Standing::Fixed => format!(
            "fixed: expected {} ({}{link}), now passes: remove the expectation",
            e.outcome.as_str(),
            e.reason
        ),
        Standing::Unexpected => format!(
            "unexpected: expected {} ({}{link})",
            e.outcome.as_str(),
            e.reason
        ),
    })
}

/// Cases an expectation said would not pass and that passed, with their cell.
pub(crate) fn fixed(report: &RunReport) -> Vec<(&CellReport, &CaseReport)> {
    report
        .cells
        .iter()
        .flat_map(|cell| cell.cases.iter().map(move |case| (cell, case)))
        .filter(|(_, c)| {
            c.expectation
                .as_ref()
                .is_some_and(|e| e.standing == Standing::Fixed)
        })
        .collect()
}

/// [`readings_table`]'s answer: the column heads, then per point its cell
/// per target (that target's values, each `value (count)`).
pub(crate) struct ReadingsTable<'a> {
    pub targets: Vec<&'a str>,
    pub rows: Vec<(&'a str, Vec<Vec<String>>)>,
}

/// The readings as a table: the targets that have any (columns), then one
/// row per point with each target's values as `value (count)`, most
/// frequent first. `None` when no target has readings.
pub(crate) fn readings_table(report: &RunReport) -> Option<ReadingsTable<'_>> {
    if report.readings.is_empty() {
        return None;
    }
    let targets: Vec<&str> = report.readings.iter().map(|t| t.target.as_str()).collect();
    let mut points: Vec<&str> = report
        .readings
        .iter()
        .flat_map(|t| t.readings.iter().map(|r| r.point.as_str()))
        .collect();
    points.sort_unstable();
    points.dedup();
    let rows = points
        .into_iter()
        .map(|point| {
            let cells = report
                .readings
                .iter()
                .map(|t| {
                    t.readings
                        .iter()
                        .find(|r| r.point == point)
                        .map(|r| {
                            r.values
                                .iter()
                                .map(|v| format!("{} ({})", v.value, v.count))
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect();
            (point, cells)
        })
        .collect();
    Some(ReadingsTable { targets, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_is_a_total_order_over_all_verdicts() {
        let mut ranks: Vec<u8> = Verdict::ALL.iter().map(|v| severity(*v)).collect();
        ranks.sort_unstable();
        ranks.dedup();
        assert_eq!(ranks.len(), Verdict::ALL.len());
    }

    #[test]
    fn counts_phrase_always_leads_with_passed_and_failed() {
        let mut counts = BTreeMap::new();
        counts.insert(Verdict::Unsupported, 2);
        counts.insert(Verdict::Pass, 12);
        assert_eq!(counts_phrase(&counts), "12 passed, 0 failed, 2 unsupported");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let text = "ééééé";
        let cut = truncate(text, 3);
        assert!(cut.starts_with("é\n…"), "{cut}");
        assert_eq!(truncate("short", 10), "short");
    }
}
