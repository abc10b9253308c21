//! Integration tests: the binary's per-case artifacts end to end. A failing
//! case's rerun command, printed in the summary and kept in the report, run
//! through a shell, reruns just that case in that cell and fails again; the
//! artifacts are in the run's folder and mirrored in `latest/`.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-interop");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn report(reports: &Path) -> serde_json::Value {
    let body = std::fs::read_to_string(reports.join("latest/report.json")).unwrap();
    serde_json::from_str(&body).unwrap()
}

fn shown(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

#[test]
fn a_failing_case_s_rerun_command_reruns_just_that_case() {
    let tmp = tempfile::tempdir().unwrap();
    // Paths a shell would split or unquote, to prove the quoting.
    let suites = tmp.path().join("it's suites");
    std::fs::create_dir(&suites).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/minimum/text.yaml");
    std::fs::copy(shipped, suites.join("text.yaml")).unwrap();
    let targets = tmp.path().join("targets.yaml");
    // `text-as-plain` sends Markdown as plain text: `text/rich-text` with
    // the quirky provider on side b fails (docs/coverage.md).
    std::fs::write(
        &targets,
        "targets:\n  - name: ref\n    builtin: {}\n  - name: quirky\n    builtin:\n      quirks: [text-as-plain]\n",
    )
    .unwrap();
    let first = tmp.path().join("first");
    let out = Command::new(BIN)
        .args(["run", "--suites"])
        .arg(&suites)
        .arg("--targets")
        .arg(&targets)
        .args(["--cell", "ref,quirky", "--reports"])
        .arg(&first)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let run = report(&first);
    let cases = run["cells"][0]["cases"].as_array().unwrap();
    assert!(cases.len() > 1, "{run}");
    let failed = cases
        .iter()
        .find(|c| c["test"] == "rich-text")
        .expect("text/rich-text ran");
    assert_eq!(failed["verdict"], "fail", "{failed}");
    let rerun = failed["reproduce"].as_str().unwrap();
    assert!(
        rerun.contains("'\\''"),
        "the suites path is quoted: {rerun}"
    );
    // The summary prints it under the failure, with the case's folder.
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("                rerun: {rerun}\n")),
        "{stdout}"
    );
    let folder = "cases/ref__quirky/text/rich-text";
    assert!(
        stdout.contains(&format!("                artifacts: {folder}/\n")),
        "{stdout}"
    );
    // Every case that ran has its folder, in the run's and in latest/.
    let run_dir = first.join(run["run_id"].as_str().unwrap());
    for case in cases {
        let control = case["control"].as_str().unwrap();
        let wire = case["wire"].as_str().unwrap();
        for base in [&run_dir, &first.join("latest")] {
            let calls = std::fs::read_to_string(base.join(control)).unwrap();
            assert!(calls.lines().count() >= 2, "{control}: {calls}");
            assert!(base.join(wire).is_file(), "{wire}");
        }
        // Builtin targets: no logs to keep.
        assert!(case.get("logs").is_none(), "{case}");
    }
    assert_eq!(
        failed["control"],
        format!("{folder}/control.jsonl"),
        "{failed}"
    );

    // The command as printed, through a shell, from somewhere else.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let again = Command::new("sh")
        .args(["-c", rerun])
        .current_dir(&elsewhere)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", shown(&again));
    let second = report(&elsewhere.join("reports"));
    let cells = second["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "{second}");
    assert_eq!(
        (&cells[0]["a"], &cells[0]["b"]),
        (&"ref".into(), &"quirky".into())
    );
    let only = cells[0]["cases"].as_array().unwrap();
    assert_eq!(only.len(), 1, "{second}");
    assert_eq!(
        (&only[0]["feature"], &only[0]["test"], &only[0]["verdict"]),
        (&"text".into(), &"rich-text".into(), &"fail".into())
    );
    assert_eq!(only[0]["reproduce"], rerun);
}
