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
    /// Run with `--strict`: a `non-strict` case makes the run not conformant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// `--retries N`: a case ending `fail`, `timeout` or `target-error` ran
    /// again, up to N more times; absent when not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// `--repeat N`: every case ran N times; absent when not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// One conformance claim per target, derived from the cases: recomputed
    /// ([`RunReport::recompute_claims`]) whenever a report is built, merged
    /// or read, so it can never disagree with the cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<TargetClaim>,
    /// Set when a signal (`SIGINT`, `SIGTERM`) stopped the run: the report
    /// is partial, cases in flight then are `harness-error` and cases not
    /// started `skipped`, both with a reason naming the signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The expectations the run was judged with (`--expectations`): the exit
    /// code then counts only unexpected outcomes (`docs/ci.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectations: Option<ExpectationsInfo>,
    /// How each target read the drafts where they leave a choice, as the
    /// relay saw it (`run::readings`); not part of any verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<TargetReadings>,
}

/// One target's readings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetReadings {
    pub target: String,
    pub readings: Vec<Reading>,
}

/// One point where the drafts leave a choice, and what the target did
/// there: each value seen, with how many exchanges showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub point: String,
    pub values: Vec<ReadingValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadingValue {
    pub value: String,
    pub count: u64,
}

/// What one target's cases support: conformant only when no case that
/// counts against it (`docs/report-format.md`, Conformance claims) is
/// `fail`, `flaky`, `timeout` or `target-error` and the target was usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetClaim {
    pub target: String,
    pub conformant: bool,
    /// Why not, one phrase each; empty when conformant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    pub minimum: SetClaim,
    pub maximum: SetClaim,
    /// The protocol suites (rules a provider must enforce), when any ran.
    #[serde(default, skip_serializing_if = "SetClaim::is_empty")]
    pub protocol: SetClaim,
}

/// The claim for one feature set (`minimum` or `maximum`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClaim {
    /// Features of this set in the report.
    pub features: usize,
    /// Features with at least one `pass`/`non-strict` case and none failing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported: Vec<String>,
    /// Supported features with a `non-strict` case (a SHOULD missed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_strict: Vec<String>,
    /// `feature/test in a→b: verdict` of every case counted against the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
}

impl SetClaim {
    /// No feature of this set was in the report.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
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
    /// `I/N` of a sharded run (`--shard`); a merge of shards lists them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<String>,
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
    /// The feature ids the target declared in `/v1/info`; absent when it
    /// could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

impl TargetInfo {
    /// A target before anything is known of it but its name and kind.
    pub fn unstarted(name: &str, kind: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: kind.to_owned(),
            implementation: None,
            version: None,
            domain: None,
            drafts: Default::default(),
            quirks: Vec::new(),
            error: None,
            artifacts: Vec::new(),
            features: None,
        }
    }
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
    /// The target a non-pass verdict is blamed on, when the harness knows
    /// which side's answer or bytes were wrong; absent: both sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blame: Option<String>,
    /// The entry of `--expectations` that matched the case, and how the
    /// verdict stands against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expectation: Option<CaseExpectation>,
    /// The case's wire transcript (JSON Lines, one exchange a line),
    /// relative to the run's folder; absent when the case did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
    /// The case's control-API transcript (JSON Lines, one call a line),
    /// relative to the run's folder; absent when the case did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// What the cell's `command` targets wrote to stdout and stderr while
    /// the case ran, one file per stream, relative to the run's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// A shell command that reruns just this case in this cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    /// Every run of the case, in order, when it ran more than once
    /// (`--retries`, `--repeat`); the fields above then come from the run
    /// that decided the verdict (`docs/report-format.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptReport>,
}

impl CaseReport {
    /// The case's folder of artifacts, relative to the run's folder: where
    /// its control transcript is.
    pub fn artifacts_dir(&self) -> Option<&str> {
        self.control
            .as_deref()?
            .rsplit_once('/')
            .map(|(dir, _)| dir)
    }
}

/// One run of a case that ran more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptReport {
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// This run's own wire transcript, relative to the run's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
}

/// An expectation applied to one case (`docs/ci.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseExpectation {
    pub outcome: ExpectedOutcome,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub standing: Standing,
}

/// What a vendor expects of the cases an expectation matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectedOutcome {
    /// A MUST is known broken: `fail`, `timeout` or `target-error`.
    Fail,
    /// Known to pass only sometimes: any verdict but `harness-error` and
    /// `skipped` (`flaky` itself included), and a pass is no news.
    Flaky,
    /// The capability is known missing: `unsupported`.
    Unsupported,
    /// A SHOULD is known missed: `non-strict`.
    NonStrict,
}

impl ExpectedOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedOutcome::Fail => "fail",
            ExpectedOutcome::Flaky => "flaky",
            ExpectedOutcome::Unsupported => "unsupported",
            ExpectedOutcome::NonStrict => "non-strict",
        }
    }

    /// How `verdict` stands against this outcome.
    pub fn standing(self, verdict: Verdict) -> Standing {
        let expected = match self {
            ExpectedOutcome::Fail => matches!(
                verdict,
                Verdict::Fail | Verdict::Timeout | Verdict::TargetError
            ),
            ExpectedOutcome::Flaky => !matches!(verdict, Verdict::HarnessError | Verdict::Skipped),
            ExpectedOutcome::Unsupported => verdict == Verdict::Unsupported,
            ExpectedOutcome::NonStrict => verdict == Verdict::NonStrict,
        };
        if expected {
            Standing::Expected
        } else if verdict == Verdict::Pass {
            Standing::Fixed
        } else {
            Standing::Unexpected
        }
    }
}

/// How a case's verdict stands against the expectation that matched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// The verdict is the one expected: it does not gate.
    Expected,
    /// Expected not to pass, and passed: the entry should go. Gates unless
    /// `--allow-fixed`.
    Fixed,
    /// Another verdict than expected: it gates like any result.
    Unexpected,
}

/// The `--expectations` file a run was judged with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationsInfo {
    /// As given on the command line.
    pub file: String,
    /// `--allow-fixed`: an expected failure that passes does not gate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_fixed: bool,
    /// Entries that matched no case (`test`, and `target`/`cell` when
    /// given): stale, to be removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stale: Vec<String>,
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
    /// Passed on a retry after `fail`, `timeout` or `target-error`
    /// (`--retries`), or got different verdicts across `--repeat` runs.
    /// Never a pass: it counts against the target like `fail`.
    Flaky,
    /// A SHOULD-level expectation was violated; still conformant.
    NonStrict,
    /// Not testable here: MIMI has no mechanism for it, the target did not
    /// declare the (SHOULD/MAY) feature, or the harness cannot set the case up.
    /// Never counts against a target (a target's own 501 is `fail`).
    Unsupported,
    /// Selected but not runnable in its cell (a link-cutting test where
    /// both sides are one target), with the reason. Filtered-out cases are
    /// not in the report at all.
    Skipped,
    /// The target misbehaved: unreachable, 5xx, malformed answer.
    TargetError,
    /// The harness itself failed.
    HarnessError,
    /// A deadline passed while waiting for the target.
    Timeout,
}

impl Verdict {
    pub const ALL: [Verdict; 9] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Flaky,
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
            Verdict::Flaky => "flaky",
            Verdict::NonStrict => "non-strict",
            Verdict::Unsupported => "unsupported",
            Verdict::Skipped => "skipped",
            Verdict::TargetError => "target-error",
            Verdict::HarnessError => "harness-error",
            Verdict::Timeout => "timeout",
        }
    }

    /// Whether this verdict keeps a run conformant (exit 0); `non-strict`
    /// only without `--strict`.
    pub fn is_conformant(self, strict: bool) -> bool {
        match self {
            Verdict::Pass | Verdict::Unsupported | Verdict::Skipped => true,
            Verdict::NonStrict => !strict,
            Verdict::Fail
            | Verdict::Flaky
            | Verdict::TargetError
            | Verdict::HarnessError
            | Verdict::Timeout => false,
        }
    }

    /// Whether a case with this verdict counts against the target it is
    /// blamed on: the target's behaviour was wrong or missing.
    pub fn counts_against(self) -> bool {
        match self {
            // A case that only sometimes works cannot be claimed.
            Verdict::Fail | Verdict::Flaky | Verdict::TargetError | Verdict::Timeout => true,
            Verdict::Pass
            | Verdict::NonStrict
            | Verdict::Unsupported
            | Verdict::Skipped
            | Verdict::HarnessError => false,
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
