//! The one in-memory result of a run. The runner builds it; every renderer
//! reads it; `report.json` is its serde form (`docs/report-format.md`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bump on any incompatible change to the JSON form.
pub const REPORT_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    pub format_version: u32,
    /// `YYYYMMDDTHHMMSSZ-<random hex>`; also the directory under `reports/`.
    pub run_id: String,
    pub harness: HarnessInfo,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    /// The selection the run was made with, as given on the command line.
    pub filters: Filters,
    pub suites: Vec<SuiteInfo>,
    pub targets: Vec<TargetInfo>,
    pub cells: Vec<CellReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteInfo {
    pub feature: String,
    pub title: String,
    /// `minimum` or `maximum`.
    pub set: String,
    /// Path relative to the working directory, as loaded.
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub requirement: RequirementRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRef {
    pub document: String,
    pub section: String,
    pub item: u32,
    /// `MUST`, `SHOULD` or `MAY`.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetInfo {
    pub name: String,
    /// `builtin`, `url` or `command`.
    pub kind: String,
    /// From the target's `/v1/info`; absent when it could not be reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drafts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quirks: Vec<String>,
    /// Why the target could not be used, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Files kept for it (a spawned target's stdout/stderr), relative to the run directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<String>,
}

/// One ordered pair of targets: side `a` and side `b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellReport {
    pub a: String,
    pub b: String,
    pub cases: Vec<CaseReport>,
}

impl CellReport {
    /// `a→b`, the name filters and renderers use.
    pub fn name(&self) -> String {
        format!("{}→{}", self.a, self.b)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReport {
    pub feature: String,
    pub test: String,
    /// Level of the requirement the test checks: decides fail vs non-strict.
    pub level: String,
    pub verdict: Verdict,
    /// One line saying why, for every verdict but pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Steps completed before the verdict.
    pub steps_run: u32,
    /// The step that decided a non-pass verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<StepTranscript>,
    /// The case's wire transcript (JSON Lines, one exchange a line),
    /// relative to the run's folder; absent when the case did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
}

/// What the harness sent, what came back and what it expected, for one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTranscript {
    /// Zero-based position in the test's steps.
    pub index: u32,
    /// The step's action name, e.g. `send`.
    pub action: String,
    /// The target the step talked to, when it talked to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The control request (method, URL and JSON body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// What came back (status and body, or the transport error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

/// The outcome of one case. Keep matches on it exhaustive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// A MUST-level expectation was violated.
    Fail,
    /// A SHOULD-level expectation was violated; still conformant.
    NonStrict,
    /// The target declared (501) that it lacks a capability the case needs,
    /// or MIMI has no mechanism for the feature.
    Unsupported,
    /// Filtered out or not run, with a reason.
    Skipped,
    /// The target misbehaved: unreachable, 5xx, malformed answer.
    TargetError,
    /// The harness itself failed.
    HarnessError,
    /// A deadline passed while waiting for the target.
    Timeout,
}

impl Verdict {
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::NonStrict,
        Verdict::Unsupported,
        Verdict::Skipped,
        Verdict::TargetError,
        Verdict::HarnessError,
        Verdict::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NonStrict => "non-strict",
            Verdict::Unsupported => "unsupported",
            Verdict::Skipped => "skipped",
            Verdict::TargetError => "target-error",
            Verdict::HarnessError => "harness-error",
            Verdict::Timeout => "timeout",
        }
    }

    /// Whether this verdict keeps a run conformant (exit 0).
    pub fn is_conformant(self) -> bool {
        match self {
            Verdict::Pass | Verdict::NonStrict | Verdict::Unsupported | Verdict::Skipped => true,
            Verdict::Fail | Verdict::TargetError | Verdict::HarnessError | Verdict::Timeout => {
                false
            }
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RunReport {
    /// Count of cases per verdict, over all cells.
    pub fn counts(&self) -> BTreeMap<Verdict, usize> {
        let mut counts = BTreeMap::new();
        for case in self.cells.iter().flat_map(|c| &c.cases) {
            *counts.entry(case.verdict).or_insert(0) += 1;
        }
        counts
    }
}
