//! The pull-request summary: a short Markdown page for a CI job summary or
//! a PR comment. The result and counts first, the conformance claim of each
//! target, then the results that need a look, then where the full reports
//! are. `matrix.md` is the long form.

use super::common::{counts_phrase, expectation_note, icon, non_pass, seconds};
use super::markdown::{claims, esc, expectations};
use super::model::RunReport;
use super::model::Standing;
use crate::exit;
use std::fmt::Write as _;

/// At most this many results are listed; the rest are counted.
const MAX_ROWS: usize = 30;

/// `reports` is where the full reports were written, as the reader should
/// find them (a path or an artifact name).
pub fn render(report: &RunReport, reports: &str) -> String {
    let mut out = String::new();
    let code = exit::for_report(report);
    let result = if code == exit::CONFORMANT {
        "✅ conformant".to_owned()
    } else {
        format!("❌ not conformant (exit {code})")
    };
    let total: usize = report.cells.iter().map(|c| c.cases.len()).sum();
    let _ = writeln!(out, "### {}: {result}\n", esc(&report.harness.name));
    let _ = writeln!(
        out,
        "{} in {total} cases over {} cells, {}.\n",
        counts_phrase(&report.counts()),
        report.cells.len(),
        seconds(report.duration_ms)
    );

    out.push_str(&claims(report));
    out.push('\n');

    out.push_str(&expectations(report));

    // Unexpected results first: what the vendor did not list.
    let mut listed = non_pass(report);
    listed.sort_by_key(|(_, c)| {
        c.expectation
            .as_ref()
            .is_some_and(|e| e.standing == Standing::Expected)
    });
    if listed.is_empty() {
        out.push_str("Every case passed.\n\n");
    } else {
        let _ = writeln!(
            out,
            "| | verdict | cell | case | reason |\n|---|---|---|---|---|"
        );
        for (cell, case) in listed.iter().take(MAX_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} |",
                icon(case.verdict),
                case.verdict,
                esc(&cell.name()),
                esc(&case.feature),
                esc(&case.test),
                esc(case.reason.as_deref().unwrap_or(""))
                    + &expectation_note(case)
                        .map(|n| format!(" · <i>{}</i>", esc(&n)))
                        .unwrap_or_default(),
            );
        }
        if listed.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                "\n…and {} more in `matrix.md`.",
                listed.len() - MAX_ROWS
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Full reports: `{}` (`matrix.html`, `matrix.md`, `junit.xml`, `report.json`); run `{}`.",
        reports.replace('`', "'"),
        esc(&report.run_id)
    );
    out
}
