//! Integration tests: the `mimi-interop` binary end to end.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-interop");

fn mimi(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn report_json(dir: &Path) -> serde_json::Value {
    let body =
        std::fs::read_to_string(dir.join("latest/report.json")).expect("report.json written");
    serde_json::from_str(&body).expect("report.json is JSON")
}

#[test]
fn validate_accepts_the_shipped_suites() {
    let out = mimi(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid"));
}

#[test]
fn list_plans_four_cells_for_the_default_pair_and_runs_nothing() {
    let out = mimi(&["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for cell in ["ref-a→ref-a", "ref-a→ref-b", "ref-b→ref-a", "ref-b→ref-b"] {
        assert!(stdout.contains(cell), "{cell} missing from:\n{stdout}");
    }
}

#[test]
fn a_bad_suite_is_exit_2_with_file_line_column() {
    let out = mimi(&[
        "validate",
        "--suites",
        "fixtures/suites/bad/unknown-key.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(".yaml:"),
        "no file:line:column in:\n{stderr}"
    );
}

#[test]
fn bad_usage_is_exit_2() {
    let out = mimi(&["run", "--jobs", "many"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Retrying repeated runs would hide the differences repeat looks for; a
/// repeat of 0 runs nothing. Both are refused before anything runs.
#[test]
fn retries_and_repeat_are_exclusive_and_repeat_is_at_least_1() {
    for args in [
        &["run", "--retries", "1", "--repeat", "2"][..],
        &["run", "--repeat", "0"][..],
    ] {
        let out = mimi(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stdout).is_empty(), "{args:?} ran");
    }
}

#[test]
fn default_run_passes_every_case_in_all_four_cells_and_writes_reports() {
    let reports = tempfile::tempdir().unwrap();
    let out = mimi(&["run", "--reports", reports.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for file in ["report.json", "junit.xml", "matrix.md", "matrix.html"] {
        assert!(
            reports.path().join("latest").join(file).is_file(),
            "{file} missing"
        );
    }
    let report = report_json(reports.path());
    let cells = report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for cell in cells {
        let cases = cell["cases"].as_array().unwrap();
        assert!(!cases.is_empty());
        let same_target = cell["a"] == cell["b"];
        for case in cases {
            // A test that declares no MIMI mechanism is `unsupported`, with
            // that reason; one that cuts a link is skipped in a cell with
            // one target on both sides; everything else passes.
            let reason = case["reason"].as_str().unwrap_or_default();
            let want = if reason.starts_with("no MIMI mechanism: ") {
                "unsupported"
            } else if same_target
                && (reason == mimi_interop::plan::NEEDS_TWO_PROVIDERS
                    || reason == mimi_interop::plan::NEEDS_TWO_FOR_FAULTS)
            {
                "skipped"
            } else {
                "pass"
            };
            assert_eq!(case["verdict"], want, "{case}");
            // Every case that passed has its wire and control transcripts
            // in the run's folder, and in latest/.
            if want == "pass" {
                let run = reports.path().join(report["run_id"].as_str().unwrap());
                for key in ["wire", "control"] {
                    let file = case[key].as_str().expect("a transcript");
                    assert!(run.join(file).is_file(), "{file} missing");
                    assert!(reports.path().join("latest").join(file).is_file());
                }
            }
        }
    }
    // Both reference providers read the drafts one way, seen on the wire:
    // canonical paths, the room URI without its scheme, a frank on every
    // fanned-out message that carries one.
    let readings = report["readings"].as_array().expect("readings");
    let targets: Vec<&str> = readings
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["ref-a", "ref-b"], "the adversary has none");
    for t in readings {
        let point = |name: &str| -> Vec<String> {
            t["readings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["point"] == name)
                .map(|r| {
                    r["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v["value"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let paths = point("request path");
        assert!(
            paths.contains(&"/v1/submitMessage/{…}".to_owned()),
            "{paths:?}"
        );
        assert!(
            paths.iter().all(|p| !p.starts_with("/v1/submit/")),
            "{paths:?}"
        );
        assert_eq!(
            point("room in a path"),
            ["the URI without its scheme (host/r/name)"]
        );
        assert_eq!(point("From header"), ["mimi@<its domain>"]);
    }
}

#[test]
fn an_unreachable_target_is_exit_3_with_a_complete_report() {
    let reports = tempfile::tempdir().unwrap();
    // Bind then drop a listener: nothing listens on that port afterwards.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let targets = reports.path().join("targets.yaml");
    std::fs::write(
        &targets,
        format!("targets:\n  - name: gone\n    url: http://127.0.0.1:{port}\n  - name: ref\n    builtin: {{}}\n"),
    )
    .unwrap();
    let out = mimi(&[
        "run",
        "--targets",
        targets.to_str().unwrap(),
        "--reports",
        reports.path().to_str().unwrap(),
        "--feature",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let report = report_json(reports.path());
    let gone = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "gone")
        .unwrap()
        .clone();
    assert!(
        gone["error"].as_str().unwrap().contains("127.0.0.1"),
        "{gone}"
    );
    let mut verdicts = std::collections::BTreeMap::new();
    for cell in report["cells"].as_array().unwrap() {
        let touches_gone = cell["a"] == "gone" || cell["b"] == "gone";
        for case in cell["cases"].as_array().unwrap() {
            let verdict = case["verdict"].as_str().unwrap().to_owned();
            if touches_gone && verdict != "skipped" {
                assert_eq!(verdict, "target-error", "{case}");
            }
            *verdicts.entry((touches_gone, verdict)).or_insert(0) += 1;
        }
    }
    // Every selected case of a cell with the dead target is an error; ref→ref still ran and passed.
    assert!(
        verdicts.contains_key(&(true, "target-error".to_owned())),
        "{verdicts:?}"
    );
    assert!(
        verdicts.contains_key(&(false, "pass".to_owned())),
        "{verdicts:?}"
    );
}

#[test]
fn reference_providers_spawned_through_a_targets_file_interoperate() {
    let reports = tempfile::tempdir().unwrap();
    let targets = reports.path().join("targets.yaml");
    let spawned = |name: &str| {
        format!(
            "  - name: {name}\n    command:\n      argv: [\"{BIN}\", serve, --domain, {name}.example, --listen, \"127.0.0.1:0\", --control-listen, \"127.0.0.1:0\"]\n      start_timeout: 20s\n"
        )
    };
    std::fs::write(
        &targets,
        format!("targets:\n{}{}", spawned("proc-a"), spawned("proc-b")),
    )
    .unwrap();
    let out = mimi(&[
        "run",
        "--targets",
        targets.to_str().unwrap(),
        "--reports",
        reports.path().to_str().unwrap(),
        "--cell",
        "proc-a,proc-b",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = report_json(reports.path());
    let implementations: Vec<_> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["implementation"].clone())
        .collect();
    assert!(
        implementations.iter().all(|i| i.is_string()),
        "{implementations:?}"
    );
}

#[test]
fn merge_joins_two_sharded_runs_into_one_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let shard = |name: &str, cell: &str| {
        let reports = dir.path().join(name);
        let out = mimi(&[
            "run",
            "--feature",
            "text",
            "--cell",
            cell,
            "--reports",
            reports.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        reports.join("latest/report.json")
    };
    let one = shard("one", "ref-a,ref-b");
    let two = shard("two", "ref-b,ref-a");
    let merged = dir.path().join("merged");
    let out = mimi(&[
        "merge",
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        "--reports",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = report_json(&merged);
    let cells: Vec<String> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}→{}", c["a"].as_str().unwrap(), c["b"].as_str().unwrap()))
        .collect();
    assert_eq!(cells.len(), 2, "{cells:?}");
    assert!(cells.contains(&"ref-a→ref-b".to_owned()) && cells.contains(&"ref-b→ref-a".to_owned()));

    // The same shard twice is a duplicate, not a bigger matrix.
    let out = mimi(&[
        "merge",
        one.to_str().unwrap(),
        one.to_str().unwrap(),
        "--reports",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
}

#[test]
fn shards_merge_into_the_matrix_of_one_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, shard: Option<&str>| {
        let reports = dir.path().join(name);
        let mut args = vec![
            "run",
            "--feature",
            "text",
            "--cell",
            "ref-a,ref-b",
            "--reports",
            reports.to_str().unwrap(),
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let out = mimi(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        reports.join("latest/report.json")
    };
    run("whole", None);
    let parts: Vec<_> = (1..=3)
        .map(|i| run(&format!("shard-{i}"), Some(&format!("{i}/3"))))
        .collect();
    let merged = dir.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--reports", merged.to_str().unwrap()]);
    let out = mimi(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // (cell, feature, test, verdict) of every case, in a canonical order.
    let matrix = |report: &serde_json::Value| {
        let mut rows: Vec<String> =
            report["cells"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| {
                    let cell = format!("{}→{}", c["a"], c["b"]);
                    c["cases"].as_array().unwrap().iter().map(move |k| {
                        format!("{cell} {}/{} {}", k["feature"], k["test"], k["verdict"])
                    })
                })
                .collect();
        rows.sort();
        rows
    };
    let one = report_json(&dir.path().join("whole"));
    let joined = report_json(&merged);
    assert_eq!(matrix(&joined), matrix(&one));
    assert_eq!(
        joined["filters"]["shards"],
        serde_json::json!(["1/3", "2/3", "3/3"])
    );
}

/// A known failure listed in an expectations file does not gate; one that
/// now passes does (unless `--allow-fixed`); an entry matching nothing is
/// reported stale; a bad file is exit 2 with its position.
#[test]
fn expectations_gate_on_unexpected_results_only() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.yaml");
    std::fs::write(
        &targets,
        "targets:\n  - name: quirky\n    builtin: {quirks: [unicode-nfc]}\n  - name: clean\n    builtin: {}\n",
    )
    .unwrap();
    let known = dir.path().join("known.yaml");
    std::fs::write(
        &known,
        "expectations:
  - test: text/unicode
    cell: quirky,clean
    outcome: fail
    reason: bodies are normalized to NFC
    link: https://tracker.example/1
  - test: roles/*
    outcome: fail
    reason: nothing of roles runs here
",
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--targets",
            targets.to_str().unwrap(),
            "--cell",
            "quirky,clean",
            "--test",
            "text/unicode",
            "--test",
            "text/hub-to-follower",
            "--reports",
            reports.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        mimi(&args)
    };

    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "without expectations the failure gates"
    );

    let out = run(&["--expectations", known.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("[expected fail: bodies are normalized to NFC"),
        "{stdout}"
    );
    assert!(
        stdout.contains("STALE         expectation roles/*"),
        "{stdout}"
    );
    let report = report_json(&reports);
    assert_eq!(
        report["expectations"]["stale"],
        serde_json::json!(["roles/*"])
    );
    let claims = report["claims"].as_array().unwrap();
    assert!(
        claims
            .iter()
            .any(|c| c["target"] == "quirky" && c["conformant"] == false),
        "an expected failure still counts in the claim: {claims:?}"
    );

    // An expectation on a case that passes: fixed, and it gates.
    let fixed = dir.path().join("fixed.yaml");
    std::fs::write(
        &fixed,
        "expectations:
  - test: text/unicode
    outcome: fail
    reason: bodies are normalized to NFC
  - test: text/hub-to-follower
    target: quirky
    outcome: fail
    reason: was broken once
",
    )
    .unwrap();
    let out = run(&["--expectations", fixed.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FIXED         quirky→clean text/hub-to-follower"),
        "{stdout}"
    );
    let out = run(&["--expectations", fixed.to_str().unwrap(), "--allow-fixed"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "expectations:\n  - test: text/*\n    outcome: fail\n    reason: r\n    target: nobody\n",
    )
    .unwrap();
    let out = run(&["--expectations", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.yaml:5:"), "{stderr}");
}
