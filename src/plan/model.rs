//! What a run will do: the targets, the loaded suites, the cells and the
//! cases. Built by `plan::build`; read by `run` and `list`.
//! Nothing here does I/O.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One target from the targets file (or one of the two default builtins).
///
/// In YAML: `name:` plus exactly one of the keys `builtin:`, `url:` or
/// `command:` (`docs/targets.md`). Deserialized by hand: serde's `flatten`
/// cannot be combined with `deny_unknown_fields`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
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

impl TargetKind {
    /// `builtin`, `url` or `command`, as in the targets file and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            TargetKind::Builtin(_) => "builtin",
            TargetKind::Url(_) => "url",
            TargetKind::Command(_) => "command",
        }
    }
}

impl<'de> Deserialize<'de> for TargetSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TargetVisitor)
    }
}

const TARGET_KEYS: &[&str] = &["name", "builtin", "url", "command"];

struct TargetVisitor;

impl<'de> serde::de::Visitor<'de> for TargetVisitor {
    type Value = TargetSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a target: `name` and one of `builtin`, `url`, `command`")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<TargetSpec, A::Error> {
        use serde::de::Error;
        let mut name: Option<String> = None;
        let mut kind: Option<TargetKind> = None;
        while let Some(key) = map.next_key_seed(TargetKey {
            has_kind: kind.is_some(),
            has_name: name.is_some(),
        })? {
            match key {
                "name" => name = Some(map.next_value()?),
                "builtin" => {
                    let b: Option<BuiltinTarget> = map.next_value()?;
                    kind = Some(TargetKind::Builtin(b.unwrap_or_default()));
                }
                "url" => kind = Some(TargetKind::Url(map.next_value()?)),
                _ => kind = Some(TargetKind::Command(map.next_value()?)),
            }
        }
        let name = name.ok_or_else(|| A::Error::missing_field("name"))?;
        let kind = kind.ok_or_else(|| {
            A::Error::custom(format!(
                "target `{name}` needs one of `builtin`, `url`, `command`"
            ))
        })?;
        Ok(TargetSpec { name, kind })
    }
}

/// Reads one key of a target, rejecting unknown and repeated ones at the key.
struct TargetKey {
    has_kind: bool,
    has_name: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for TargetKey {
    type Value = &'static str;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for TargetKey {
    type Value = &'static str;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a target key")
    }
    fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<&'static str, E> {
        let Some(key) = TARGET_KEYS.iter().find(|t| **t == k) else {
            return Err(E::unknown_field(k, TARGET_KEYS));
        };
        if *key == "name" && self.has_name {
            return Err(E::duplicate_field("name"));
        }
        if *key != "name" && self.has_kind {
            return Err(E::custom(format!(
                "`{key}`: a target has exactly one of `builtin`, `url`, `command`"
            )));
        }
        Ok(key)
    }
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

pub use crate::suite::model::LoadedSuite;

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
    /// Set when the case cannot run in its cell (a test that cuts the link,
    /// in a cell with one target): reported `skipped` with it.
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
