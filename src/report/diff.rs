//! `mimi-interop diff OLD NEW`: what changed between two runs, regressions
//! first, so a vendor sees at a glance what a change broke and what it fixed.
//!
//! Cases are matched by cell (`a→b`), feature and test. A verdict change is a
//! **regression** when the new verdict is worse by [`grade`], a **fix** when
//! it is better; `skipped` has no grade (it says nothing about the target), so
//! moving to or from it is a plain change. Cases with the same non-pass
//! verdict but another reason are listed too: the same failure for a
//! different cause is news.

use super::model::{CaseReport, RunReport, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Why two reports cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("the reports have different format versions: {old} and {new}")]
    FormatVersion { old: u32, new: u32 },
    /// A feature present in both runs whose suite file differs: its tests may
    /// mean something else now, so their verdicts do not compare.
    #[error(
        "suite {feature} differs between the runs (sha256 {old} in the old run, {new} in the new): \
         compare runs of the same suites"
    )]
    SuiteChanged {
        feature: String,
        old: String,
        new: String,
    },
}

/// One case, as the diff names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseKey {
    pub cell: String,
    pub feature: String,
    pub test: String,
}

impl std::fmt::Display for CaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.cell, self.feature, self.test)
    }
}

/// A case present in both runs whose verdict or reason changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub case: CaseKey,
    pub old: Verdict,
    pub new: Verdict,
    pub old_reason: Option<String>,
    pub new_reason: Option<String>,
}

/// A case present in one run only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lone {
    pub case: CaseKey,
    pub verdict: Verdict,
    pub reason: Option<String>,
}

/// Everything that differs, each list in report order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunDiff {
    pub old_run: String,
    pub new_run: String,
    pub regressions: Vec<Change>,
    pub fixes: Vec<Change>,
    /// Same verdict, different reason; or a move to or from `skipped`.
    pub changed: Vec<Change>,
    pub added: Vec<Lone>,
    pub removed: Vec<Lone>,
    /// Cases whose verdict and reason are the same in both runs.
    pub unchanged: usize,
}

impl RunDiff {
    pub fn has_regressions(&self) -> bool {
        !self.regressions.is_empty()
    }
}

/// How good a verdict is for the target, lower is better; `None` for
/// `skipped`, which judges nothing. Unsupported is worse than non-strict: a
/// capability lost is more than a SHOULD missed. Flaky sits between: worse
/// than anything that never failed (pass→flaky is a regression), better
/// than failing every time (fail→flaky is a fix, if a partial one).
fn grade(verdict: Verdict) -> Option<u8> {
    match verdict {
        Verdict::Pass => Some(0),
        Verdict::NonStrict => Some(1),
        Verdict::Unsupported => Some(2),
        Verdict::Flaky => Some(3),
        Verdict::Fail | Verdict::Timeout | Verdict::TargetError | Verdict::HarnessError => Some(4),
        Verdict::Skipped => None,
    }
}

/// Compares two runs of the same suites.
pub fn diff(old: &RunReport, new: &RunReport) -> Result<RunDiff, DiffError> {
    if old.format_version != new.format_version {
        return Err(DiffError::FormatVersion {
            old: old.format_version,
            new: new.format_version,
        });
    }
    for suite in &new.suites {
        if let Some(before) = old.suites.iter().find(|s| s.feature == suite.feature)
            && before.sha256 != suite.sha256
        {
            return Err(DiffError::SuiteChanged {
                feature: suite.feature.clone(),
                old: before.sha256.clone(),
                new: suite.sha256.clone(),
            });
        }
    }

    type Key<'a> = (String, &'a str, &'a str);
    let mut before: BTreeMap<Key<'_>, (usize, &CaseReport)> = BTreeMap::new();
    for (i, (cell, case)) in cases(old).enumerate() {
        before.insert((cell, &case.feature, &case.test), (i, case));
    }

    let mut out = RunDiff {
        old_run: old.run_id.clone(),
        new_run: new.run_id.clone(),
        ..RunDiff::default()
    };
    for (cell, case) in cases(new) {
        let key = CaseKey {
            cell: cell.clone(),
            feature: case.feature.clone(),
            test: case.test.clone(),
        };
        let Some((_, prev)) = before.remove(&(cell, &case.feature, &case.test)) else {
            out.added.push(Lone {
                case: key,
                verdict: case.verdict,
                reason: case.reason.clone(),
            });
            continue;
        };
        let change = Change {
            case: key,
            old: prev.verdict,
            new: case.verdict,
            old_reason: prev.reason.clone(),
            new_reason: case.reason.clone(),
        };
        match (grade(prev.verdict), grade(case.verdict)) {
            (Some(o), Some(n)) if n > o => out.regressions.push(change),
            (Some(o), Some(n)) if n < o => out.fixes.push(change),
            _ if prev.verdict != case.verdict || prev.reason != case.reason => {
                out.changed.push(change)
            }
            _ => out.unchanged += 1,
        }
    }
    let mut gone: Vec<_> = before.into_iter().collect();
    gone.sort_by_key(|(_, (i, _))| *i);
    for ((cell, _, _), (_, case)) in gone {
        out.removed.push(Lone {
            case: CaseKey {
                cell,
                feature: case.feature.clone(),
                test: case.test.clone(),
            },
            verdict: case.verdict,
            reason: case.reason.clone(),
        });
    }
    Ok(out)
}

fn cases(report: &RunReport) -> impl Iterator<Item = (String, &CaseReport)> {
    report
        .cells
        .iter()
        .flat_map(|cell| cell.cases.iter().map(move |case| (cell.name(), case)))
}

fn headline(d: &RunDiff) -> String {
    format!(
        "{} regressions, {} fixes, {} changed, {} added, {} removed, {} unchanged",
        d.regressions.len(),
        d.fixes.len(),
        d.changed.len(),
        d.added.len(),
        d.removed.len(),
        d.unchanged
    )
}

fn reason_text(reason: &Option<String>) -> &str {
    reason.as_deref().unwrap_or("-")
}

/// Plain text for the terminal.
pub fn render_text(d: &RunDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "diff {} → {}", d.old_run, d.new_run);
    let _ = writeln!(out, "{}", headline(d));
    for (title, list) in [
        ("regressions", &d.regressions),
        ("fixes", &d.fixes),
        ("changed", &d.changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for c in list {
            let _ = writeln!(out, "  {}: {} → {}", c.case, c.old, c.new);
            if c.old_reason != c.new_reason {
                let _ = writeln!(out, "      was: {}", reason_text(&c.old_reason));
                let _ = writeln!(out, "      now: {}", reason_text(&c.new_reason));
            }
        }
    }
    for (title, list) in [("added", &d.added), ("removed", &d.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for l in list {
            let _ = writeln!(out, "  {}: {}", l.case, l.verdict);
        }
    }
    out
}

/// GitHub-flavoured Markdown, for a pull request comment or job summary.
pub fn render_markdown(d: &RunDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Changes since run `{}`\n\nRun `{}`: **{}**.\n",
        d.old_run,
        d.new_run,
        headline(d)
    );
    for (title, list) in [
        ("Regressions", &d.regressions),
        ("Fixes", &d.fixes),
        ("Changed", &d.changed),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "### {title}\n\n| cell | case | was | now | reason now |\n|---|---|---|---|---|"
        );
        for c in list {
            let _ = writeln!(
                out,
                "| {} | {}/{} | {} | {} | {} |",
                md(&c.case.cell),
                md(&c.case.feature),
                md(&c.case.test),
                c.old,
                c.new,
                md(reason_text(&c.new_reason))
            );
        }
        out.push('\n');
    }
    for (title, list) in [("Added", &d.added), ("Removed", &d.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "### {title}\n\n| cell | case | verdict |\n|---|---|---|"
        );
        for l in list {
            let _ = writeln!(
                out,
                "| {} | {}/{} | {} |",
                md(&l.case.cell),
                md(&l.case.feature),
                md(&l.case.test),
                l.verdict
            );
        }
        out.push('\n');
    }
    out
}

/// Table cells cannot hold `|` or line breaks.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
