//! `matrix.html`: the compatibility matrix as one self-contained page (inline
//! CSS, no scripts, no external assets) that can be published as is. Each
//! feature × cell shows its worst verdict in colour and expands (`<details>`)
//! to list its cases; non-pass cases show their reason and the failing step's
//! transcript; each case that ran links its artifacts (wire and control
//! transcripts, target logs; relative to the run's folder, the page's only
//! links) and, when `write_all` could read it, lists its exchanges
//! collapsed; every case shows the command that reruns it.

use super::common::{
    Matrix, attempts_text, counts_phrase, expectation_note, filters_text, icon, reruns_text,
    seconds, transcript_text,
};
use super::model::{RunReport, Verdict};
use crate::exit;
use std::fmt::Write as _;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1f23}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #c8ccd0;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#f3f4f6}
td.v{min-width:7em}
summary{cursor:pointer;white-space:nowrap}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.5em;max-width:60em;overflow:auto;white-space:pre-wrap}
ul.cases{margin:.3em 0;padding-left:1.2em}
ol.wire{margin:.2em 0;padding-left:2em;font-size:.85em}
.pass{background:#d4f7d4}.fail{background:#ffc9c9}.flaky{background:#c8ecf7}.non-strict{background:#ffe8a3}
.unsupported{background:#e6e6e6}.skipped{background:#eef0f3}.target-error{background:#f5b3ff}
.harness-error{background:#c9d7ff}.timeout{background:#ffd3a8}.none{background:#fff;color:#888}
.meta td,.meta th{font-size:.9em}
";

/// Exchanges listed per case at most; the transcript file has them all.
const MAX_WIRE_LINES: usize = 200;

/// The one-line summaries of a case's wire transcript, given its path
/// relative to the run's folder; `None` when it cannot be read.
pub type WireLoader<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// The matrix, with each case's wire transcript linked but not listed.
pub fn render(report: &RunReport) -> String {
    render_with_wire(report, &|_| None)
}

/// The matrix, with each case's exchanges listed from its wire transcript
/// (through `wire`) in a collapsible list.
pub fn render_with_wire(report: &RunReport, wire: WireLoader<'_>) -> String {
    let matrix = Matrix::build(report);
    let code = exit::for_report(report);
    let result = if code == exit::CONFORMANT {
        "conformant".to_owned()
    } else {
        format!("not conformant (exit {code})")
    };
    let title = format!("{} compatibility matrix", report.harness.name);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<p><strong>Result: {}</strong>: {}.</p>",
        escape(&result),
        escape(&counts_phrase(&report.counts()))
    );

    // Matrix.
    out.push_str("<table class=\"matrix\">\n<tr><th>feature</th><th>level</th>");
    for cell in &matrix.cells {
        let _ = write!(out, "<th>{}</th>", escape(&cell.name()));
    }
    out.push_str("</tr>\n");
    for row in &matrix.rows {
        let (title, level) = match row.suite {
            Some(s) => (s.title.as_str(), s.requirement.level.as_str()),
            None => ("", ""),
        };
        let _ = write!(
            out,
            "<tr><th title=\"{}\">{}</th><td>{}</td>",
            escape(title),
            escape(row.feature),
            escape(level)
        );
        for tally in &row.tallies {
            let Some(worst) = tally.worst() else {
                out.push_str("<td class=\"v none\">not run</td>");
                continue;
            };
            let _ = write!(
                out,
                "<td class=\"v {}\"><details><summary>{} {} {}/{}</summary><ul class=\"cases\">",
                worst.as_str(),
                icon(worst),
                worst.as_str(),
                tally.passed(),
                tally.total()
            );
            for case in &tally.cases {
                let _ = write!(
                    out,
                    "<li>{} {}: {} <small>({} ms)</small>",
                    icon(case.verdict),
                    escape(&case.test),
                    case.verdict.as_str(),
                    case.duration_ms
                );
                if let Some(runs) = attempts_text(case) {
                    let _ = write!(out, " <small>[{}]</small>", escape(&runs));
                }
                match case.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail
                    | Verdict::Flaky
                    | Verdict::NonStrict
                    | Verdict::Unsupported
                    | Verdict::Skipped
                    | Verdict::TargetError
                    | Verdict::HarnessError
                    | Verdict::Timeout => {
                        let reason = case.reason.as_deref().unwrap_or("(no reason given)");
                        let _ = write!(out, "<br>{}", escape(reason));
                        if let Some(note) = expectation_note(case) {
                            let _ = write!(out, " <small>[{}]</small>", escape(&note));
                        }
                        if let Some(b) = case
                            .blame
                            .as_ref()
                            .filter(|_| case.verdict.counts_against())
                        {
                            let _ = write!(out, " <small>(blamed on {})</small>", escape(b));
                        }
                        if let Some(step) = &case.failed_step {
                            let _ = write!(out, "<pre>{}</pre>", escape(&transcript_text(step)));
                        }
                    }
                }
                if let Some(path) = &case.wire {
                    wire_details(&mut out, path, wire(path));
                }
                case_artifacts(&mut out, case);
                out.push_str("</li>");
            }
            out.push_str("</ul></details></td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p>Legend:");
    for verdict in Verdict::ALL {
        let _ = write!(
            out,
            " <span class=\"{0}\">{1} {0}</span>",
            verdict.as_str(),
            icon(verdict)
        );
    }
    out.push_str(". A cell shows its worst verdict and cases passed / cases run; click it for the cases.</p>\n");

    // Conformance claims, one per target.
    out.push_str("<h2>Conformance claims</h2>\n<table class=\"meta\">\n<tr><th>target</th><th>claim</th><th>minimum set</th><th>maximum set</th><th>non-strict</th></tr>\n");
    for claim in &report.claims {
        let (class, head) = if claim.conformant {
            ("pass", "conformant".to_owned())
        } else {
            (
                "fail",
                format!("not conformant: {}", claim.reasons.join("; ")),
            )
        };
        let failing = claim.failing();
        let detail = if failing.is_empty() {
            String::new()
        } else {
            format!(
                "<details><summary>{} failing</summary><ul class=\"cases\"><li>{}</li></ul></details>",
                failing.len(),
                failing
                    .iter()
                    .map(|f| escape(f))
                    .collect::<Vec<_>>()
                    .join("</li><li>")
            )
        };
        let non_strict = claim.non_strict();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{class}\">{}{detail}</td><td>{}/{} supported</td><td>{}/{} supported{}</td><td>{}</td></tr>",
            escape(&claim.target),
            escape(&head),
            claim.minimum.supported.len(),
            claim.minimum.features,
            claim.maximum.supported.len(),
            claim.maximum.features,
            if claim.maximum.supported.is_empty() {
                String::new()
            } else {
                format!(": {}", escape(&claim.maximum.supported.join(", ")))
            },
            escape(&non_strict.join(", ")),
        );
    }
    out.push_str("</table>\n");

    // How each target read the drafts where they leave a choice.
    if let Some(super::common::ReadingsTable { targets, rows }) =
        super::common::readings_table(report)
    {
        out.push_str("<h2>Readings</h2>\n<p>How each target read the drafts where they leave a choice, as the relay saw it (exchanges in parentheses). Not a verdict.</p>\n<table class=\"meta\">\n<tr><th>point</th>");
        for t in &targets {
            let _ = write!(out, "<th>{}</th>", escape(t));
        }
        out.push_str("</tr>\n");
        for (point, cells) in rows {
            let _ = write!(out, "<tr><th>{}</th>", escape(point));
            for values in cells {
                let shown: Vec<String> = values.iter().map(|v| escape(v)).collect();
                let _ = write!(out, "<td>{}</td>", shown.join("<br>"));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }

    // Run metadata, for reproduction.
    out.push_str("<h2>Run</h2>\n<table class=\"meta\">\n");
    let filters = filters_text(report);
    for (key, value) in [
        ("run id", report.run_id.clone()),
        (
            "harness",
            format!("{} {}", report.harness.name, report.harness.version),
        ),
        ("started", report.started_at.clone()),
        ("finished", report.finished_at.clone()),
        ("duration", seconds(report.duration_ms)),
        ("filters", filters),
        (
            "reruns",
            reruns_text(report).unwrap_or_else(|| "none".into()),
        ),
    ] {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", key, escape(&value));
    }
    out.push_str("</table>\n<h2>Targets</h2>\n<table class=\"meta\">\n<tr><th>target</th><th>kind</th><th>implementation</th><th>version</th><th>domain</th><th>drafts</th><th>quirks</th><th>status</th></tr>\n");
    for t in &report.targets {
        let drafts: Vec<String> = t.drafts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.name),
            escape(&t.kind),
            escape(t.implementation.as_deref().unwrap_or("?")),
            escape(t.version.as_deref().unwrap_or("?")),
            escape(t.domain.as_deref().unwrap_or("")),
            escape(&drafts.join(", ")),
            escape(&t.quirks.join(", ")),
            escape(t.error.as_deref().unwrap_or("ok")),
        );
    }
    out.push_str("</table>\n<h2>Suites</h2>\n<table class=\"meta\">\n<tr><th>feature</th><th>title</th><th>set</th><th>requirement</th><th>file</th><th>sha256</th></tr>\n");
    for s in &report.suites {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} §{} item {} ({})</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&s.feature),
            escape(&s.title),
            escape(&s.set),
            escape(&s.requirement.document),
            escape(&s.requirement.section),
            s.requirement.item,
            escape(&s.requirement.level),
            escape(&s.path),
            escape(&s.sha256),
        );
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

/// Links to a case's control transcript and target logs (or says there are
/// none), and the command that reruns it.
fn case_artifacts(out: &mut String, case: &super::model::CaseReport) {
    let link = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        format!("<a href=\"{}\">{}</a>", escape(path), escape(name))
    };
    if let Some(control) = &case.control {
        let logs = if case.logs.is_empty() {
            "none (only <code>command</code> targets' output is kept)".to_owned()
        } else {
            case.logs
                .iter()
                .map(|l| link(l))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = write!(
            out,
            "<br><small>control: {} · target logs: {logs}</small>",
            link(control)
        );
    }
    if let Some(cmd) = &case.reproduce {
        let _ = write!(
            out,
            "<br><small>rerun: <code>{}</code></small>",
            escape(cmd)
        );
    }
}

/// A case's exchanges as a collapsed list, and the link to its transcript.
fn wire_details(out: &mut String, path: &str, lines: Option<Vec<String>>) {
    let link = format!("<a href=\"{0}\">{0}</a>", escape(path));
    let Some(lines) = lines else {
        let _ = write!(out, "<br><small>wire: {link}</small>");
        return;
    };
    let _ = write!(
        out,
        "<details class=\"wire\"><summary>wire: {} exchange{}</summary><ol class=\"wire\">",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    for line in lines.iter().take(MAX_WIRE_LINES) {
        let _ = write!(out, "<li><code>{}</code></li>", escape(line));
    }
    out.push_str("</ol>");
    if lines.len() > MAX_WIRE_LINES {
        let _ = write!(
            out,
            "<small>… {} more</small><br>",
            lines.len() - MAX_WIRE_LINES
        );
    }
    let _ = write!(out, "<small>{link}</small></details>");
}

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn esc_covers_element_and_attribute_specials() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
