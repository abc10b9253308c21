//! `matrix.md`: the compatibility matrix as GitHub-flavoured Markdown, sized
//! and ordered for a CI job summary: result line first, then features × cells
//! (rows needing attention first), then each non-pass case with its reason,
//! the failing step's transcript (collapsed), where its artifacts are and the
//! command that reruns it, and the passed cases last.

use super::common::{
    Matrix, counts_phrase, expectation_note, filters_text, fixed, icon, non_pass, reruns_text,
    seconds, transcript_text, truncate,
};
use super::model::{RunReport, Verdict};
use crate::exit;
use std::fmt::Write as _;

/// `: a, b` for a non-empty list of features, nothing for an empty one.
fn listed(features: &[String]) -> String {
    if features.is_empty() {
        String::new()
    } else {
        format!(": {}", esc(&features.join(", ")))
    }
}

/// Longest transcript shown per case; GitHub caps a job summary at 1 MiB.
const MAX_TRANSCRIPT: usize = 4000;

pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let matrix = Matrix::build(report);
    let code = exit::for_report(report);
    let total: usize = report.cells.iter().map(|c| c.cases.len()).sum();
    let verdict = if code == exit::CONFORMANT {
        "conformant".to_owned()
    } else {
        format!("not conformant (exit {code})")
    };
    let _ = writeln!(
        out,
        "## {} compatibility matrix\n",
        esc(&report.harness.name)
    );
    let _ = writeln!(
        out,
        "**Result: {verdict}**: {} in {total} cases over {} cells.\n",
        counts_phrase(&report.counts()),
        report.cells.len()
    );
    let _ = writeln!(
        out,
        "Run {} · {} {} · started {} · {} · filters: {}{}\n",
        esc(&report.run_id),
        esc(&report.harness.name),
        esc(&report.harness.version),
        esc(&report.started_at),
        seconds(report.duration_ms),
        esc(&filters_text(report)),
        reruns_text(report)
            .map(|r| format!(" · {r}"))
            .unwrap_or_default()
    );

    // The matrix.
    out.push_str("| feature | level |");
    for cell in &matrix.cells {
        let _ = write!(out, " {} |", esc(&cell.name()));
    }
    out.push_str("\n|---|---|");
    for _ in &matrix.cells {
        out.push_str("---|");
    }
    out.push('\n');
    for row in &matrix.rows {
        let level = row
            .suite
            .map(|s| s.requirement.level.as_str())
            .unwrap_or("");
        let _ = write!(out, "| {} | {} |", esc(row.feature), esc(level));
        for tally in &row.tallies {
            match tally.worst() {
                Some(worst) => {
                    let _ = write!(
                        out,
                        " {} {}/{} |",
                        icon(worst),
                        tally.passed(),
                        tally.total()
                    );
                }
                None => out.push_str(" · |"),
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str("Legend:");
    for verdict in Verdict::ALL {
        let _ = write!(out, " {} {}", icon(verdict), verdict);
        out.push(if verdict == Verdict::Timeout {
            '.'
        } else {
            ','
        });
    }
    out.push_str(
        " A cell shows its worst verdict and cases passed / cases run; · means not run.\n\n",
    );

    // Targets: what was tested, for reproduction.
    out.push_str("### Targets\n\n| target | kind | implementation | version | drafts | status |\n|---|---|---|---|---|---|\n");
    for target in &report.targets {
        let drafts: Vec<String> = target
            .drafts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let status = match &target.error {
            Some(error) => format!("💥 {}", esc(error)),
            None => "ok".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {status} |",
            esc(&target.name),
            esc(&target.kind),
            esc(target.implementation.as_deref().unwrap_or("?")),
            esc(target.version.as_deref().unwrap_or("?")),
            esc(&drafts.join(", ")),
        );
    }
    out.push('\n');

    // Conformance claims, one per target.
    out.push_str(&claims(report));
    out.push('\n');

    out.push_str(&expectations(report));

    // Non-pass cases, worst first.
    let failing = non_pass(report);
    let _ = writeln!(out, "### Non-pass results ({})\n", failing.len());
    if failing.is_empty() {
        out.push_str("None.\n\n");
    }
    for (cell, case) in &failing {
        let head = format!(
            "{} <b>{}</b> · {} · {}/{}: {}",
            icon(case.verdict),
            case.verdict,
            esc(&cell.name()),
            esc(&case.feature),
            esc(&case.test),
            esc(case.reason.as_deref().unwrap_or("(no reason given)")),
        ) + &case
            .blame
            .as_deref()
            .filter(|_| case.verdict.counts_against())
            .map(|b| format!(" · blamed on {}", esc(b)))
            .unwrap_or_default()
            + &expectation_note(case)
                .map(|n| format!(" · <i>{}</i>", esc(&n)))
                .unwrap_or_default();
        let wire = where_to_look(case, report.strict);
        match &case.failed_step {
            Some(step) => {
                let text = transcript_text(step);
                let text = truncate(&text, MAX_TRANSCRIPT);
                let fence = fence_for(&text);
                let _ = writeln!(
                    out,
                    "<details><summary>{head}</summary>\n\n{fence}text\n{}{fence}\n\n{wire}</details>\n",
                    ensure_newline(&text)
                );
            }
            None => {
                let _ = writeln!(out, "- {head}\n");
                for paragraph in wire.split_inclusive("\n\n") {
                    let _ = write!(out, "  {paragraph}");
                }
            }
        }
    }

    out.push_str(&readings(report));

    // Passed cases, collapsed.
    let passed: Vec<_> = report
        .cells
        .iter()
        .flat_map(|cell| cell.cases.iter().map(move |case| (cell, case)))
        .filter(|(_, case)| case.verdict == Verdict::Pass)
        .collect();
    let _ = writeln!(
        out,
        "<details><summary>Passed cases ({})</summary>\n",
        passed.len()
    );
    for (cell, case) in passed {
        let _ = writeln!(
            out,
            "- {} · {}/{} ({} ms)",
            esc(&cell.name()),
            esc(&case.feature),
            esc(&case.test),
            case.duration_ms
        );
    }
    out.push_str("\n</details>\n");
    out
}

/// Escapes text for a table cell, list item or `<summary>`: HTML specials and
/// Markdown punctuation become numeric character references (valid in both),
/// line breaks become spaces so a row stays one row.
/// How each target read the drafts where they leave a choice (the relay's
/// observations; `docs/report-format.md`, Readings). Empty without any.
fn readings(report: &RunReport) -> String {
    let Some(super::common::ReadingsTable { targets, rows }) =
        super::common::readings_table(report)
    else {
        return String::new();
    };
    let mut out = String::from(
        "### Readings\n\nHow each target read the drafts where they leave a choice, as the relay saw it (exchanges in parentheses). Not a verdict.\n\n| point |",
    );
    for t in &targets {
        let _ = write!(out, " {} |", esc(t));
    }
    out.push_str("\n|---|");
    for _ in &targets {
        out.push_str("---|");
    }
    out.push('\n');
    for (point, cells) in rows {
        let _ = write!(out, "| {} |", esc(point));
        for values in cells {
            let shown: Vec<String> = values.iter().map(|v| esc(v)).collect();
            let _ = write!(out, " {} |", shown.join("; "));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// With `--expectations`: the file, how many cases were as expected, and
/// the fixed and stale entries to remove. Empty without expectations.
pub(crate) fn expectations(report: &RunReport) -> String {
    let Some(e) = &report.expectations else {
        return String::new();
    };
    let mut out = String::new();
    let expected = report
        .cells
        .iter()
        .flat_map(|c| &c.cases)
        .filter(|c| {
            c.expectation
                .as_ref()
                .is_some_and(|x| x.standing == super::model::Standing::Expected)
        })
        .count();
    let fixed = fixed(report);
    let _ = writeln!(
        out,
        "### Expectations\n\n`{}`: {expected} cases as expected, {} fixed{}, {} stale entries.\n",
        e.file.replace('`', "'"),
        fixed.len(),
        if e.allow_fixed { " (allowed)" } else { "" },
        e.stale.len()
    );
    for (cell, case) in fixed {
        let _ = writeln!(
            out,
            "- ✅ fixed · {} · {}/{}: {}",
            esc(&cell.name()),
            esc(&case.feature),
            esc(&case.test),
            esc(&expectation_note(case).unwrap_or_default())
        );
    }
    for stale in &e.stale {
        let _ = writeln!(
            out,
            "- 🗑️ stale: `{}` matched no case: remove it",
            stale.replace('`', "'")
        );
    }
    out.push('\n');
    out
}

/// The conformance claims table, one row per target, then each
/// non-conformant target's failing cases (collapsed). The pull-request
/// summary shows it too.
pub(crate) fn claims(report: &RunReport) -> String {
    let mut out = String::new();
    out.push_str(
        "### Conformance claims\n\n| target | claim | minimum set | maximum set | non-strict |\n|---|---|---|---|---|\n",
    );
    for claim in &report.claims {
        let head = if claim.conformant {
            "✅ conformant".to_owned()
        } else {
            format!("❌ not conformant: {}", esc(&claim.reasons.join("; ")))
        };
        let non_strict = claim.non_strict();
        let _ = writeln!(
            out,
            "| {} | {head} | {}/{} supported | {}/{} supported{} | {} |",
            esc(&claim.target),
            claim.minimum.supported.len(),
            claim.minimum.features,
            claim.maximum.supported.len(),
            claim.maximum.features,
            listed(&claim.maximum.supported),
            esc(&non_strict.join(", ")),
        );
    }
    for claim in report.claims.iter().filter(|c| !c.conformant) {
        let failing = claim.failing();
        let _ = writeln!(
            out,
            "\n<details><summary>{}: {} failing</summary>\n",
            esc(&claim.target),
            failing.len()
        );
        for f in failing {
            let _ = writeln!(out, "- {}", esc(f));
        }
        out.push_str("\n</details>\n");
    }
    out
}

pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' | '#' | '~' | '!' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A backtick fence longer than any backtick run in `text`, so the code block
/// cannot be closed early by its content.
/// A non-pass case's artifacts (relative to the run's folder) and, when it
/// fails the run, its rerun command; one paragraph each.
fn where_to_look(case: &super::model::CaseReport, strict: bool) -> String {
    let mut out = String::new();
    if let Some(w) = &case.wire {
        let _ = write!(out, "Wire transcript: {}\n\n", code(w));
    }
    if let Some(c) = &case.control {
        let _ = write!(out, "Control transcript: {}", code(c));
        if !case.logs.is_empty() {
            let logs: Vec<String> = case.logs.iter().map(|l| code(l)).collect();
            let _ = write!(out, " · target logs: {}", logs.join(", "));
        }
        out.push_str("\n\n");
    }
    if let Some(cmd) = case
        .reproduce
        .as_ref()
        .filter(|_| !case.verdict.is_conformant(strict))
    {
        let _ = write!(out, "Rerun: {}\n\n", code(cmd));
    }
    out
}

/// `text` as an inline code span, whatever backticks it holds.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if longest > 0 { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("a b"), "`a b`");
        assert_eq!(code("it's `x`"), "`` it's `x` ``");
    }

    #[test]
    fn fence_outgrows_backticks_in_content() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }

    #[test]
    fn esc_neutralises_tables_and_html() {
        assert_eq!(esc("a|b<i>\nc"), "a&#124;b&lt;i&gt; c");
    }
}
