//! The targets file (`docs/targets.md`): which services a run drives.

use super::model::{BuiltinTarget, TargetKind, TargetSpec};
use crate::suite::diag::{Diagnostic, render_all};
use crate::suite::locate::{Part, Seg, path};
use crate::suite::validate::is_slug;
use crate::suite::{parse_duration, parse_strict, place};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// Why a targets file could not be loaded: every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_all(.diagnostics))]
pub struct LoadTargetsError {
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    targets: Vec<TargetSpec>,
}

/// The targets used when no targets file is given: two in-process reference
/// providers, `ref-a` (domain `ref-a.example`) and `ref-b` (`ref-b.example`).
pub fn defaults() -> Vec<TargetSpec> {
    ["ref-a", "ref-b"]
        .into_iter()
        .map(|name| TargetSpec {
            name: name.to_string(),
            kind: TargetKind::Builtin(BuiltinTarget {
                domain: Some(format!("{name}.example")),
                quirks: Vec::new(),
            }),
        })
        .collect()
}

/// Loads and validates a targets file, and checks that every builtin's
/// quirk is one of `known` (the binary passes the reference provider's
/// registry; `plan` knows nothing of the provider).
pub fn load_with_quirks(path: &Path, known: &[&str]) -> Result<Vec<TargetSpec>, LoadTargetsError> {
    let targets = load(path)?;
    let mut problems = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let TargetKind::Builtin(b) = &t.kind else {
            continue;
        };
        for (q, quirk) in b.quirks.iter().enumerate() {
            if !known.contains(&quirk.as_str()) {
                problems.push((
                    path!["targets", i, "builtin", "quirks", q],
                    Part::Value,
                    format!(
                        "unknown quirk `{quirk}`; known quirks: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(targets);
    }
    let file = path.display().to_string();
    let (_, source) =
        crate::suite::limits::read_source(path, "targets file").map_err(|d| LoadTargetsError {
            diagnostics: vec![d],
        })?;
    Err(LoadTargetsError {
        diagnostics: problems
            .into_iter()
            .map(|(p, part, msg)| place(&file, &source, &p, part, None, msg))
            .collect(),
    })
}

/// Loads and validates a targets file (quirk names checked for their form
/// only; see [`load_with_quirks`]).
pub fn load(path: &Path) -> Result<Vec<TargetSpec>, LoadTargetsError> {
    let file = path.display().to_string();
    let fail = |diagnostics| LoadTargetsError { diagnostics };
    let (_, source) =
        crate::suite::limits::read_source(path, "targets file").map_err(|d| fail(vec![d]))?;
    let parsed: TargetsFile =
        parse_strict(&file, &source, "a targets file starts with `targets:`").map_err(fail)?;
    let problems = check(&parsed.targets);
    if !problems.is_empty() {
        return Err(fail(
            problems
                .into_iter()
                .map(|(p, part, msg)| place(&file, &source, &p, part, None, msg))
                .collect(),
        ));
    }
    Ok(parsed.targets)
}

/// Semantic problems: names, uniqueness, URLs, argv, durations, domains.
fn check(targets: &[TargetSpec]) -> Vec<(Vec<Seg>, Part, String)> {
    let mut out = Vec::new();
    if targets.is_empty() {
        out.push((
            path!["targets"],
            Part::Key,
            "`targets` needs at least one target".to_string(),
        ));
    }
    let mut names = HashSet::new();
    for (i, t) in targets.iter().enumerate() {
        let base = path!["targets", i];
        let at = |more: &[&str]| {
            let mut p = base.clone();
            p.extend(more.iter().map(|k| Seg::Key(k.to_string())));
            p
        };
        if !is_slug(&t.name) {
            out.push((
                at(&["name"]),
                Part::Value,
                format!("invalid target name `{}`: expected [a-z0-9-]+", t.name),
            ));
        } else if !names.insert(t.name.as_str()) {
            out.push((
                at(&["name"]),
                Part::Value,
                format!("duplicate target name `{}`", t.name),
            ));
        }
        match &t.kind {
            TargetKind::Builtin(b) => {
                if let Some(d) = &b.domain
                    && !is_domain(d)
                {
                    out.push((
                        at(&["builtin", "domain"]),
                        Part::Value,
                        format!("invalid domain `{d}`: expected a DNS name such as `a.example`"),
                    ));
                }
                for (q, quirk) in b.quirks.iter().enumerate() {
                    if !is_slug(quirk) {
                        let mut p = at(&["builtin", "quirks"]);
                        p.push(Seg::Index(q));
                        out.push((
                            p,
                            Part::Value,
                            format!("invalid quirk name `{quirk}`: expected [a-z0-9-]+"),
                        ));
                    }
                }
            }
            TargetKind::Url(u) => {
                if let Err(msg) = check_url(u) {
                    out.push((at(&["url"]), Part::Value, msg));
                }
            }
            TargetKind::Command(c) => {
                if c.argv.is_empty() || c.argv[0].trim().is_empty() {
                    out.push((
                        at(&["command", "argv"]),
                        Part::Value,
                        "`argv` needs the program to run as its first item".to_string(),
                    ));
                }
                if let Some(u) = &c.control
                    && let Err(msg) = check_url(u)
                {
                    out.push((at(&["command", "control"]), Part::Value, msg));
                }
                if let Some(s) = &c.start_timeout
                    && let Err(e) = parse_duration(s)
                {
                    out.push((
                        at(&["command", "start_timeout"]),
                        Part::Value,
                        e.to_string(),
                    ));
                }
            }
        }
    }
    out
}

/// A control API URL: absolute `http` or `https` with a host.
fn check_url(u: &str) -> Result<(), String> {
    match reqwest::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(_) => Err(format!(
            "invalid control URL `{u}`: expected http:// or https:// with a host"
        )),
        Err(e) => Err(format!("invalid control URL `{u}`: {e}")),
    }
}

fn is_domain(d: &str) -> bool {
    !d.is_empty()
        && d.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
