//! Integration tests: the CI recipes. The shell step that the GitHub Action
//! and the GitLab template share (`scripts/ci/run.sh`) runs here with a fake
//! GitHub environment, and the action's wiring is checked against it.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mimi-interop");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the step with `env` in a fresh directory; returns the exit code, the
/// `$GITHUB_OUTPUT` lines and the `$GITHUB_STEP_SUMMARY` text.
fn step(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = dir.join("github_output");
    let summary = dir.join("step_summary.md");
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/ci/run.sh"))
        .current_dir(ROOT)
        .env("MIMI_INTEROP_BIN", BIN)
        .env("MIMI_REPORTS", dir.join("reports"))
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), read(&output), read(&summary))
}

#[test]
fn the_run_step_passes_inputs_writes_outputs_and_the_job_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (code, outputs, summary) = step(
        dir.path(),
        &[
            ("MIMI_FEATURES", "text"),
            ("MIMI_TESTS", "text/* text/unicode*"),
            ("MIMI_ARGS", "--cell ref-a,ref-b"),
        ],
    );
    assert_eq!(code, Some(0), "{outputs}\n{summary}");
    let reports = dir.path().join("reports/latest");
    assert!(outputs.contains("exit-code=0\n"), "{outputs}");
    assert!(
        outputs.contains(&format!("reports={}\n", reports.display())),
        "{outputs}"
    );
    assert!(summary.contains("conformant"), "{summary}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["filters"]["features"], serde_json::json!(["text"]));
    assert_eq!(
        report["filters"]["tests"],
        serde_json::json!(["text/*", "text/unicode*"]),
        "globs reach the harness unexpanded"
    );
    assert_eq!(report["cells"].as_array().map(Vec::len), Some(1));
}

#[test]
fn the_run_step_passes_the_exit_code_on() {
    let dir = tempfile::tempdir().unwrap();
    let (code, outputs, _) = step(dir.path(), &[("MIMI_FEATURES", "no-such-feature")]);
    assert_eq!(code, Some(2));
    assert!(outputs.contains("exit-code=2\n"), "{outputs}");
}

#[test]
fn the_action_sets_only_inputs_the_step_reads() {
    let action: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join("action.yml")).unwrap())
            .expect("action.yml is YAML");
    let script = std::fs::read_to_string(Path::new(ROOT).join("scripts/ci/run.sh")).unwrap();
    let steps = action["runs"]["steps"]
        .as_sequence()
        .expect("composite steps");
    let run = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("run"))
        .expect("a step with id run");
    let env = run["env"].as_mapping().expect("the run step has env");
    assert!(env.len() >= 8);
    for key in env.keys() {
        let key = key.as_str().unwrap();
        assert!(
            script.contains(&format!("${{{key}")),
            "run.sh never reads {key}"
        );
    }
    for output in ["exit-code", "reports"] {
        assert!(script.contains(&format!("echo \"{output}=")), "{output}");
        assert!(action["outputs"][output]["value"].is_string(), "{output}");
    }
    let gitlab = std::fs::read_to_string(Path::new(ROOT).join("ci/gitlab-ci.yml")).unwrap();
    let gitlab: serde_yaml::Value = serde_yaml::from_str(&gitlab).expect("gitlab-ci.yml is YAML");
    assert!(gitlab[".mimi-interop"]["script"].is_sequence());
}
