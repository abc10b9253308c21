//! Integration tests: report. One fixed report (`fixtures/reports/sample.json`:
//! every verdict, two targets, four cells, transcripts, Unicode and HTML/
//! Markdown specials in reasons) rendered by every renderer and snapshotted.

use mimi_interop::report::model::{RunReport, Verdict};
use mimi_interop::report::{self, MergeError, REPORT_FILES, json, junit, markdown, terminal};
use std::collections::BTreeSet;

const SAMPLE: &str = include_str!("../../fixtures/reports/sample.json");

fn sample() -> RunReport {
    json::parse(SAMPLE).expect("the sample report parses")
}

#[test]
fn sample_covers_every_verdict_two_targets_and_four_cells() {
    let report = sample();
    let seen: BTreeSet<Verdict> = report
        .cells
        .iter()
        .flat_map(|c| &c.cases)
        .map(|c| c.verdict)
        .collect();
    assert_eq!(seen, Verdict::ALL.into_iter().collect());
    assert_eq!(report.targets.len(), 2);
    assert_eq!(report.cells.len(), 4);
}

#[test]
fn json_render_of_the_sample_is_the_sample_byte_for_byte() {
    assert_eq!(json::render(&sample()), SAMPLE);
}

#[test]
fn json_round_trips() {
    let report = sample();
    let again = json::parse(&json::render(&report)).expect("rendered report parses");
    assert_eq!(again, report);
}

#[test]
fn json_parse_rejects_other_format_versions_and_unknown_fields() {
    let newer = SAMPLE.replacen("\"format_version\": 1", "\"format_version\": 2", 1);
    match json::parse(&newer) {
        Err(json::ParseReportError::UnsupportedVersion {
            found: 2,
            supported: 1,
        }) => {}
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let unknown = SAMPLE.replacen(
        "\"duration_ms\": 3375",
        "\"duration_ms\": 3375, \"extra\": 1",
        1,
    );
    assert!(matches!(
        json::parse(&unknown),
        Err(json::ParseReportError::Json(_))
    ));
    assert!(matches!(
        json::parse("[]"),
        Err(json::ParseReportError::Json(_))
    ));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("report_json", json::render(&sample()));
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!(
        "report_junit",
        junit::render(&sample()).expect("junit renders")
    );
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!("report_markdown", markdown::render(&sample()));
}

#[test]
fn snapshot_html() {
    insta::assert_snapshot!("report_html", report::html::render(&sample()));
}

#[test]
fn snapshot_terminal_summary_without_color() {
    insta::assert_snapshot!(
        "report_terminal_summary",
        terminal::summary(&sample(), false)
    );
}

#[test]
fn junit_maps_verdicts_to_failure_error_and_skipped() {
    let xml = junit::render(&sample()).expect("junit renders");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("our junit parses back");
    let names: Vec<&str> = parsed.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ref→ref", "ref→acme", "acme→ref", "acme→acme"]);
    // ref→acme: fail + timeout are failures, unsupported is skipped, non-strict passes.
    let ref_acme = &parsed.test_suites[1];
    assert_eq!(
        (
            ref_acme.tests,
            ref_acme.failures,
            ref_acme.errors,
            ref_acme.skipped
        ),
        (6, 2, 0, 1)
    );
    // acme→ref: target-error and harness-error are errors, skipped is skipped.
    let acme_ref = &parsed.test_suites[2];
    assert_eq!(
        (
            acme_ref.tests,
            acme_ref.failures,
            acme_ref.errors,
            acme_ref.skipped
        ),
        (6, 0, 2, 1)
    );
    let case = &ref_acme.test_cases[1];
    assert_eq!(case.name.as_str(), "rich-text/markdown-body");
    assert_eq!(
        case.classname.as_ref().map(|c| c.as_str()),
        Some("rich-text")
    );
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess {
            message,
            description,
            ..
        } => {
            let message = message.as_ref().expect("reason as message");
            assert!(message.as_str().contains("<b>hé</b> & «ok»"), "{message:?}");
            let description = description.as_ref().expect("transcript as text");
            assert!(
                description
                    .as_str()
                    .contains("step 3: expect-message (target acme)")
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Flaky is a failure (it gates the run) that keeps its failed runs as
/// `<flakyFailure>`; JUnit has nothing for the run that passed.
#[test]
fn junit_shows_flaky_as_a_failure_with_its_flaky_runs() {
    let xml = junit::render(&sample()).expect("junit renders");
    assert!(xml.contains("<flakyFailure"), "{xml}");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("our junit parses back");
    let acme_acme = &parsed.test_suites[3];
    assert_eq!((acme_acme.tests, acme_acme.failures), (3, 2));
    let case = &acme_acme.test_cases[2];
    assert_eq!(case.name.as_str(), "membership/kick");
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Failure,
            ty,
            reruns,
            ..
        } => {
            assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("flaky"));
            assert_eq!(reruns.kind, quick_junit::FlakyOrRerun::Flaky);
            let types: Vec<_> = reruns
                .runs
                .iter()
                .map(|r| r.ty.as_ref().map(|t| t.as_str().to_owned()))
                .collect();
            assert_eq!(types, [Some("fail".to_owned())]);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn html_is_self_contained_and_escapes_everything() {
    let html = report::html::render(&sample());
    for forbidden in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(!html.contains(forbidden), "html contains {forbidden:?}");
    }
    // The only links: to the run's own case artifacts, relative.
    for (i, _) in html.match_indices("href=") {
        assert!(
            html[i..].starts_with("href=\"cases/"),
            "{}",
            &html[i..i + 40]
        );
    }
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("body &quot;&lt;b&gt;hé&lt;/b&gt; &amp; «ok»&quot;"));
    assert!(html.contains("Zoë 👩‍💻"));
    // Every non-pass case has its reason in the page.
    for case in sample().cells.iter().flat_map(|c| &c.cases) {
        if let Some(reason) = &case.reason {
            assert!(
                html.contains(&report::html::escape(reason)),
                "missing reason {reason:?}"
            );
        }
    }
}

#[test]
fn markdown_leads_with_attention_rows_and_keeps_table_intact() {
    let md = markdown::render(&sample());
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    // Header, then the four features; every row has 2 + 4 cells.
    for row in &rows[..5] {
        assert_eq!(row.matches(" |").count(), 6, "{row}");
    }
    // The minimum set first, worst first within it (rich-text holds the
    // target-error); reactions, of the maximum set, comes after all of them
    // although it holds the harness-error.
    assert!(rows[1].starts_with("| rich-text |"), "{}", rows[1]);
    assert!(rows[2].starts_with("| membership |"), "{}", rows[2]);
    assert!(rows[4].starts_with("| reactions |"), "{}", rows[4]);
    assert!(md.contains("### Non-pass results (9)"));
    // The target-error response holds a ``` run: its fence must be longer.
    assert!(md.contains("````text\n"));
    // Reasons in summaries and tables carry no live HTML; transcripts sit in
    // fenced code blocks, where the raw `<script>` of a response is inert.
    for line in md.lines().filter(|l| {
        l.starts_with("<details><summary>") || l.starts_with("| ") || l.starts_with("- ")
    }) {
        let stripped = ["<details>", "<summary>", "</summary>", "<b>", "</b>"]
            .iter()
            .fold(line.to_owned(), |acc, tag| acc.replace(tag, ""));
        assert!(!stripped.contains('<'), "live HTML in {line}");
    }
}

#[test]
fn terminal_summary_ends_with_prefixed_totals_and_colours_only_on_request() {
    let report = sample();
    let plain = terminal::summary(&report, false);
    assert_eq!(
        plain.lines().last(),
        Some(
            "mimi-interop: 12 passed, 2 failed, 1 flaky, 1 non-strict, 1 unsupported, \
             1 skipped, 1 target-error, 1 harness-error, 1 timeout"
        )
    );
    assert!(!plain.contains('\x1b'));
    assert!(terminal::summary(&report, true).contains("\x1b[31m"));
}

#[test]
fn write_all_writes_every_file_to_run_dir_and_latest_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = sample();
    let written = report::write_all(&report, dir.path()).expect("reports written");
    assert_eq!(written.run_dir, dir.path().join(&report.run_id));
    assert_eq!(written.latest_dir, dir.path().join("latest"));
    assert_eq!(written.json, written.run_dir.join("report.json"));
    for sub in [&written.run_dir, &written.latest_dir] {
        let mut names: Vec<String> = std::fs::read_dir(sub)
            .expect("report dir readable")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        let mut expected: Vec<String> = REPORT_FILES.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected, "in {}", sub.display());
        let text = std::fs::read_to_string(sub.join("report.json")).expect("report.json");
        assert_eq!(json::parse(&text).expect("written json parses"), report);
        let html = std::fs::read_to_string(sub.join("matrix.html")).expect("matrix.html");
        assert_eq!(html, report::html::render(&report));
    }

    // A second run replaces latest/ and keeps the first run's directory.
    let mut second = report.clone();
    second.run_id = "20261126T150000Z-0000beef".into();
    second.cells.truncate(1);
    second.recompute_claims();
    report::write_all(&second, dir.path()).expect("second run written");
    let latest = std::fs::read_to_string(dir.path().join("latest/report.json")).expect("latest");
    assert_eq!(json::parse(&latest).expect("latest parses"), second);
    assert!(dir.path().join(&report.run_id).join("matrix.md").exists());
    let top: BTreeSet<String> = std::fs::read_dir(dir.path())
        .expect("reports dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        top,
        [
            report.run_id.clone(),
            second.run_id.clone(),
            "latest".to_owned()
        ]
        .into()
    );
}

#[test]
fn latest_mirrors_the_run_s_artifacts_and_drops_the_previous_run_s() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = sample();
    let run_dir = dir.path().join(&report.run_id);
    let files = [
        "cases/ref__acme/rich-text/markdown-body/control.jsonl",
        "cases/ref__acme/rich-text/markdown-body/acme.stderr.log",
        "wire/run.jsonl",
        "targets/acme.stderr.log",
    ];
    for (i, rel) in files.iter().enumerate() {
        let path = run_dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("line {i}\n")).unwrap();
    }
    let written = report::write_all(&report, dir.path()).expect("reports written");
    for (i, rel) in files.iter().enumerate() {
        let copy = std::fs::read_to_string(written.latest_dir.join(rel)).unwrap();
        assert_eq!(copy, format!("line {i}\n"), "{rel}");
    }
    // A merged report has no artifacts of its own: latest/ keeps none of
    // the previous run's, whose paths its report.json no longer names.
    let mut merged = report.clone();
    merged.run_id = "20261126T150000Z-merged-0000beef".into();
    report::write_all(&merged, dir.path()).expect("second run written");
    for name in report::ARTIFACT_DIRS {
        assert!(!written.latest_dir.join(name).exists(), "{name}");
    }
    assert!(
        run_dir.join(files[0]).is_file(),
        "the run's own folder keeps them"
    );
}

#[test]
fn html_lists_a_case_s_exchanges_from_its_wire_transcript() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = sample();
    let wire = dir
        .path()
        .join(&report.run_id)
        .join("cases/ref__acme/rich-text/markdown-body/wire.jsonl");
    std::fs::create_dir_all(wire.parent().unwrap()).unwrap();
    std::fs::write(
        &wire,
        "{\"seq\":1,\"summary\":\"ref → acme: POST /v1/notify/r <b> → 201 (9 B / 0 B)\"}\nnot json\n",
    )
    .unwrap();
    let written = report::write_all(&report, dir.path()).expect("reports written");
    let html = std::fs::read_to_string(written.html).unwrap();
    assert!(html.contains(
        "<details class=\"wire\"><summary>wire: 2 exchanges</summary><ol class=\"wire\">\
         <li><code>ref → acme: POST /v1/notify/r &lt;b&gt; → 201 (9 B / 0 B)</code></li>\
         <li><code>(unreadable line)</code></li></ol>\
         <small><a href=\"cases/ref__acme/rich-text/markdown-body/wire.jsonl\">cases/ref__acme/rich-text/markdown-body/wire.jsonl</a></small></details>"
    ), "{html}");
    // A transcript that is not there is linked, not listed.
    assert!(
        html.contains(
            "<br><small>wire: <a href=\"cases/ref__ref/rich-text/plain-text/wire.jsonl\">"
        )
    );
    // A path that leaves the run's folder is never read.
    let mut evil = report.clone();
    evil.cells[0].cases[0].wire = Some("../../etc/passwd".into());
    let html = report::html::render_with_wire(&evil, &|_| Some(vec!["x".into()]));
    assert!(html.contains("wire: 1 exchange<"));
    report::write_all(&evil, dir.path()).expect("written");
}

#[test]
fn write_all_refuses_a_run_id_that_escapes_the_reports_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut report = sample();
    report.run_id = "../elsewhere".into();
    assert!(matches!(
        report::write_all(&report, dir.path()),
        Err(report::WriteReportError::BadRunId(_))
    ));
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// Two shards: the first two cells plus half of the third; the rest.
fn shards() -> (RunReport, RunReport) {
    let full = sample();
    let mut one = full.clone();
    let mut two = full.clone();
    one.run_id = "20261126T143000Z-aaaa0001".into();
    one.finished_at = "2026-11-26T14:30:02Z".into();
    two.run_id = "20261126T143001Z-aaaa0002".into();
    two.started_at = "2026-11-26T14:30:01Z".into();
    two.targets[1].version = None; // shard two never learned it
    one.cells.truncate(3);
    one.cells[2].cases.truncate(3);
    two.cells.drain(..2);
    two.cells[0].cases.drain(..3);
    // As each shard's run would have written them.
    one.recompute_claims();
    two.recompute_claims();
    (one, two)
}

#[test]
fn merge_joins_shards_back_into_the_full_matrix() {
    let full = sample();
    let (one, two) = shards();
    let merged = report::merge(vec![one.clone(), two.clone()]).expect("shards merge");
    assert_eq!(merged.cells, full.cells);
    assert_eq!(merged.suites, full.suites);
    assert_eq!(merged.targets, full.targets);
    // Readings add up: each shard carries the sample's, so counts double.
    let counts = |r: &RunReport| -> Vec<(String, String, String, u64)> {
        r.readings
            .iter()
            .flat_map(|t| {
                t.readings.iter().flat_map(move |p| {
                    p.values
                        .iter()
                        .map(move |v| (t.target.clone(), p.point.clone(), v.value.clone(), v.count))
                })
            })
            .collect()
    };
    let doubled: Vec<_> = counts(&full)
        .into_iter()
        .map(|(t, p, v, n)| (t, p, v, 2 * n))
        .collect();
    assert!(!doubled.is_empty());
    assert_eq!(counts(&merged), doubled);
    // Each shard's claims saw part of the cases; the merged ones see all.
    assert_ne!(one.claims, full.claims);
    assert_eq!(merged.claims, full.claims);
    assert_eq!(merged.started_at, one.started_at);
    assert_eq!(merged.finished_at, two.finished_at);
    assert_eq!(merged.duration_ms, 3375);
    assert!(
        merged.run_id.starts_with("20261126T143000Z-merged-"),
        "{}",
        merged.run_id
    );
    // Same inputs in another order: same id.
    let again = report::merge(vec![two, one]).expect("shards merge");
    assert_eq!(again.run_id, merged.run_id);
    assert_eq!(again.started_at, merged.started_at);
}

#[test]
fn merge_refuses_conflicts_duplicates_and_nothing() {
    assert!(matches!(report::merge(vec![]), Err(MergeError::Empty)));

    let (one, mut two) = shards();
    two.suites[0].sha256 = "0".repeat(64);
    assert!(matches!(
        report::merge(vec![one.clone(), two]),
        Err(MergeError::SuiteConflict { feature, .. }) if feature == "rich-text"
    ));

    let (one, mut two) = shards();
    two.targets[1].implementation = Some("Other Chat".into());
    assert!(matches!(
        report::merge(vec![one.clone(), two]),
        Err(MergeError::TargetConflict {
            field: "implementation",
            ..
        })
    ));

    let (one, _) = shards();
    assert!(matches!(
        report::merge(vec![one.clone(), one.clone()]),
        Err(MergeError::DuplicateCase { .. })
    ));

    let (one, mut two) = shards();
    two.harness.version = "9.9.9".into();
    assert!(matches!(
        report::merge(vec![one, two]),
        Err(MergeError::Harness { .. })
    ));
}

#[test]
fn terminal_summary_names_unusable_targets() {
    let mut report = sample();
    report.targets[1].error = Some("connection refused (127.0.0.1:7001)".into());
    let text = terminal::summary(&report, false);
    assert!(
        text.contains("TARGET FAILED target acme: connection refused (127.0.0.1:7001)\n"),
        "{text}"
    );
    assert!(text.contains("result: not conformant (exit 3)\n"));
}

#[test]
fn snapshot_summary() {
    let text = report::summary::render(&sample(), "reports/20261126T143000Z-5e1f2a9c");
    assert!(text.contains("### Conformance claims"));
    insta::assert_snapshot!("report_summary", text);
}
