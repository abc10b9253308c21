//! The expectations file (`--expectations FILE`, `docs/ci.md`): outcomes a
//! vendor knows about, each with a reason, so CI gates on unexpected results
//! only. Loaded as strictly as suites, with file:line:column errors.
//!
//! ```yaml
//! expectations:
//!   - test: membership/kick-*        # glob over `feature/test`
//!     target: mine                   # optional: cells with `mine` on either side
//!     cell: mine→ref                 # optional: one cell, `a→b`, `a->b` or `a,b`
//!     outcome: fail                  # fail | flaky | unsupported | non-strict
//!     reason: kick is not committed yet
//!     link: https://tracker.example/123   # optional
//! ```

use super::parse_cell;
use crate::report::model::{CaseExpectation, ExpectationsInfo, ExpectedOutcome, RunReport};
use crate::suite::diag::{Diagnostic, render_all};
use crate::suite::locate::{Part, Seg, path};
use crate::suite::{parse_strict, place};
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Why an expectations file could not be loaded: every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_all(.diagnostics))]
pub struct LoadExpectationsError {
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    expectations: Vec<Expectation>,
}

/// One entry of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Glob over `feature/test`.
    pub test: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    pub outcome: ExpectedOutcome,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A loaded file, its globs compiled.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// As given on the command line, for reports.
    pub file: String,
    entries: Vec<(Expectation, GlobMatcher)>,
}

impl Expectations {
    pub fn entries(&self) -> impl Iterator<Item = &Expectation> {
        self.entries.iter().map(|(e, _)| e)
    }

    /// The index of the first entry matching the case `feature/test` in cell
    /// `a→b`: file order decides, like a known-failures list read top down.
    pub fn find(&self, a: &str, b: &str, feature: &str, test: &str) -> Option<usize> {
        let name = format!("{feature}/{test}");
        self.entries.iter().position(|(e, glob)| {
            glob.is_match(&name)
                && e.target.as_deref().is_none_or(|t| t == a || t == b)
                && e.cell
                    .as_deref()
                    .and_then(parse_cell)
                    .is_none_or(|(ca, cb)| ca == a && cb == b)
        })
    }

    /// Marks every case the file matches with its expectation and
    /// standing, and records the file and its stale entries in the report.
    /// Verdicts are never changed: an expected failure is still a failure,
    /// and the claims still say so; only the exit code looks past it.
    pub fn apply(&self, report: &mut RunReport, allow_fixed: bool) {
        let mut used = vec![false; self.entries.len()];
        for cell in &mut report.cells {
            for case in &mut cell.cases {
                let Some(i) = self.find(&cell.a, &cell.b, &case.feature, &case.test) else {
                    continue;
                };
                used[i] = true;
                let e = &self.entries[i].0;
                case.expectation = Some(CaseExpectation {
                    outcome: e.outcome,
                    reason: e.reason.clone(),
                    link: e.link.clone(),
                    standing: e.outcome.standing(case.verdict),
                });
            }
        }
        let stale = self
            .entries()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(e, _)| {
                let mut text = e.test.clone();
                if let Some(t) = &e.target {
                    text.push_str(&format!(" (target {t})"));
                }
                if let Some(c) = &e.cell {
                    text.push_str(&format!(" (cell {c})"));
                }
                text
            })
            .collect();
        report.expectations = Some(ExpectationsInfo {
            file: self.file.clone(),
            allow_fixed,
            stale,
        });
    }
}

/// Loads and checks an expectations file. `targets` are the run's target
/// names: an entry naming another target is a typo that would silently
/// match nothing, so it is an error.
pub fn load(path: &Path, targets: &[&str]) -> Result<Expectations, LoadExpectationsError> {
    let file = path.display().to_string();
    let fail = |diagnostics| LoadExpectationsError { diagnostics };
    let source = std::fs::read_to_string(path).map_err(|e| {
        fail(vec![Diagnostic::whole_file(
            &file,
            format!("cannot read expectations file: {e}"),
        )])
    })?;
    parse(&file, &source, targets).map_err(fail)
}

/// [`load`] on text already read; `file` names it in errors.
pub fn parse(file: &str, source: &str, targets: &[&str]) -> Result<Expectations, Vec<Diagnostic>> {
    let parsed: ExpectationsFile = parse_strict(
        file,
        source,
        "an expectations file starts with `expectations:`",
    )?;
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for (i, e) in parsed.expectations.into_iter().enumerate() {
        let at = |key: &str| -> Vec<Seg> { path!["expectations", i, key] };
        let mut bad = |key: &str, msg: String| {
            problems.push(place(file, source, &at(key), Part::Value, None, msg));
        };
        if e.reason.trim().is_empty() {
            bad("reason", "an expectation needs a reason".into());
        }
        if let Some(t) = &e.target
            && !targets.contains(&t.as_str())
        {
            bad(
                "target",
                format!(
                    "`{t}` is not a target of this run (known: {})",
                    targets.join(", ")
                ),
            );
        }
        if let Some(c) = &e.cell {
            match parse_cell(c) {
                None => bad("cell", format!("`{c}`: write `a→b`, `a->b` or `a,b`")),
                Some((a, b)) => {
                    for side in [a, b] {
                        if !targets.contains(&side) {
                            bad("cell", format!("`{side}` is not a target of this run"));
                        }
                    }
                }
            }
        }
        if let Some(link) = &e.link
            && !(link.starts_with("https://") || link.starts_with("http://"))
        {
            bad("link", "a link is an http(s) URL".into());
        }
        match Glob::new(&e.test) {
            Ok(g) => entries.push((e, g.compile_matcher())),
            Err(err) => bad("test", format!("not a valid glob: {err}")),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Expectations {
        file: file.to_owned(),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{Standing, Verdict};

    const TARGETS: [&str; 2] = ["mine", "ref"];

    #[test]
    fn first_matching_entry_wins_and_filters_combine() {
        let src = "expectations:
  - test: membership/kick
    cell: mine,ref
    outcome: fail
    reason: one cell only
  - test: membership/*
    target: mine
    outcome: flaky
    reason: anything with mine
";
        let e = parse("x.yaml", src, &TARGETS).expect("loads");
        assert_eq!(e.find("mine", "ref", "membership", "kick"), Some(0));
        assert_eq!(e.find("ref", "mine", "membership", "kick"), Some(1));
        assert_eq!(e.find("ref", "ref", "membership", "kick"), None);
        assert_eq!(e.find("mine", "mine", "text", "hello"), None);
    }

    #[test]
    fn standing_per_outcome() {
        use ExpectedOutcome::*;
        assert_eq!(Fail.standing(Verdict::Timeout), Standing::Expected);
        assert_eq!(Fail.standing(Verdict::Pass), Standing::Fixed);
        assert_eq!(Fail.standing(Verdict::NonStrict), Standing::Unexpected);
        assert_eq!(Flaky.standing(Verdict::Pass), Standing::Expected);
        assert_eq!(Flaky.standing(Verdict::HarnessError), Standing::Unexpected);
        // A flaky verdict is what `flaky` expects, and not what `fail` does:
        // a known failure that now passes sometimes is news.
        assert_eq!(Flaky.standing(Verdict::Flaky), Standing::Expected);
        assert_eq!(Fail.standing(Verdict::Flaky), Standing::Unexpected);
        assert_eq!(NonStrict.standing(Verdict::Flaky), Standing::Unexpected);
        assert_eq!(Unsupported.standing(Verdict::Pass), Standing::Fixed);
        assert_eq!(NonStrict.standing(Verdict::Fail), Standing::Unexpected);
    }

    #[test]
    fn problems_are_positioned() {
        let src = "expectations:
  - test: text/*
    target: theirs
    outcome: fail
    reason: \"\"
";
        let errs = parse("x.yaml", src, &TARGETS).expect_err("two problems");
        let text = render_all(&errs);
        assert!(text.contains("x.yaml:3:"), "{text}");
        assert!(text.contains("`theirs` is not a target"), "{text}");
        assert!(text.contains("x.yaml:5:"), "{text}");
        let unknown = "expectations:\n  - test: a\n    outcome: broken\n    reason: r\n";
        let text = render_all(&parse("y.yaml", unknown, &TARGETS).expect_err("bad outcome"));
        assert!(text.contains("y.yaml:3:"), "{text}");
    }
}
