//! What a run will do: the targets, the loaded suites, the cells and the
//! cases. Built by [`super::build`]-style functions; read by `run` and `list`.
//! Nothing here does I/O.

use crate::suite::model::Suite;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One target from the targets file (or one of the two default builtins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// `[a-z0-9-]+`, unique.
    pub name: String,
    #[serde(flatten)]
    pub kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TargetKind {
    /// `builtin: { domain?, quirks? }`: a reference provider in this process.
    Builtin(BuiltinTarget),
    /// `url: http://127.0.0.1:7001`: an already running control API.
    Url(String),
    /// `command: {...}`: spawned for the run, stopped at its end.
    Command(CommandTarget),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuiltinTarget {
    /// Provider domain; `<name>.example` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Deliberate deviations to switch on (reference provider quirks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quirks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandTarget {
    /// Program and arguments, e.g. `[./my-adapter, --port, "7001"]`.
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
    /// The control URL the process serves once ready. When absent, the
    /// process must print a line `control: <url>` on stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// How long the process may take to become ready, e.g. `20s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timeout: Option<String>,
}

/// A suite file as loaded: its bytes' hash and its typed form.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSuite {
    pub path: PathBuf,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub suite: Suite,
}

/// An ordered pair of targets, by index into [`Plan::targets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub a: usize,
    pub b: usize,
}

/// One test of one suite in one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCase {
    pub cell: usize,
    pub suite: usize,
    pub test: usize,
    /// Set when a filter deselected the case: reported `skipped` with it.
    pub skip: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub targets: Vec<TargetSpec>,
    pub suites: Vec<LoadedSuite>,
    pub cells: Vec<Cell>,
    pub cases: Vec<PlannedCase>,
    pub filters: crate::report::model::Filters,
}
