//! Loading and validating suite files (`docs/suite-format.md`).
//!
//! Loading is typed and strict: YAML syntax, unknown keys, unknown actions
//! and wrong types are rejected by serde; version, names, actor references,
//! `${var}` definitions and durations by [`validate`]. Every error is shown
//! like rustc shows one: message, `file:line:column`, the line and a caret.

pub mod coverage;
mod de;
pub mod diag;
pub mod interp;
pub mod limits;
pub(crate) mod locate;
pub mod model;
pub mod validate;

use diag::{Diagnostic, Position, render_all};
use locate::{Part, Seg};
use model::{LoadedSuite, Suite};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use de::ACTIONS;
pub use interp::{InterpolateError, interpolate, interpolate_json};

/// Why suite files could not be loaded: every problem found, in every file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_all(.diagnostics))]
pub struct LoadSuiteError {
    pub diagnostics: Vec<Diagnostic>,
}

/// A duration string that `humantime` cannot read, or zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{value}`: {reason} (write e.g. `5s`, `500ms`, `2m`)")]
pub struct InvalidDuration {
    pub value: String,
    pub reason: String,
}

/// Parses a suite or targets duration such as `5s`, `500ms` or `1m 30s`.
///
/// ```
/// use std::time::Duration;
/// use mimi_interop::suite::parse_duration;
/// assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, InvalidDuration> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) if d.is_zero() => Err(InvalidDuration {
            value: s.to_string(),
            reason: "must be greater than zero".into(),
        }),
        Ok(d) => Ok(d),
        Err(e) => Err(InvalidDuration {
            value: s.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// The JSON Schema of the suite format, generated from [`model::Suite`].
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Suite)).expect("a schema always serializes")
}

/// Loads and validates one suite file.
pub fn load_file(path: &Path) -> Result<LoadedSuite, LoadSuiteError> {
    load_one(path).map_err(|diagnostics| LoadSuiteError { diagnostics })
}

/// Loads every `*.yaml` / `*.yml` under `dir` (recursively, sorted by path)
/// and checks that feature ids are unique across them. Reports the problems
/// of all files at once.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedSuite>, LoadSuiteError> {
    let shown = dir.display().to_string();
    let mut files = Vec::new();
    if let Err(e) = collect_yaml(dir, &mut files) {
        return Err(LoadSuiteError {
            diagnostics: vec![Diagnostic::whole_file(
                &shown,
                format!("cannot read suite directory: {e}"),
            )],
        });
    }
    files.sort();
    if files.is_empty() {
        return Err(LoadSuiteError {
            diagnostics: vec![Diagnostic::whole_file(
                &shown,
                "no suite files (*.yaml, *.yml) in this directory",
            )],
        });
    }
    let mut suites: Vec<LoadedSuite> = Vec::new();
    let mut diagnostics = Vec::new();
    for file in &files {
        match load_one(file) {
            Ok(s) => suites.push(s),
            Err(mut d) => diagnostics.append(&mut d),
        }
    }
    diagnostics.extend(duplicate_features(&suites));
    if diagnostics.is_empty() {
        Ok(suites)
    } else {
        Err(LoadSuiteError { diagnostics })
    }
}

/// A diagnostic for every suite whose feature id an earlier one already has.
pub fn duplicate_features(suites: &[LoadedSuite]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, s) in suites.iter().enumerate() {
        if let Some(first) = suites[..i]
            .iter()
            .find(|o| o.suite.feature == s.suite.feature)
        {
            let file = s.path.display().to_string();
            let message = format!(
                "duplicate feature id `{}`: already defined in {}",
                s.suite.feature,
                first.path.display()
            );
            let source = std::fs::read_to_string(&s.path).unwrap_or_default();
            let pos = locate::locate(&source, &locate::path!["feature"], Part::Value)
                .unwrap_or_else(|| locate::document_start(&source));
            out.push(Diagnostic::at(&file, &source, pos, message));
        }
    }
    out
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn load_one(path: &Path) -> Result<LoadedSuite, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let (bytes, source) = limits::read_source(path, "file").map_err(|d| vec![d])?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let suite: Suite = parse_strict(&file, &source, "a suite starts with `version: 1`")?;
    let problems = validate::check_suite(&suite);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| {
                place(
                    &file,
                    &source,
                    &p.path,
                    p.part,
                    p.needle.as_deref(),
                    p.message,
                )
            })
            .collect());
    }
    Ok(LoadedSuite {
        path: path.to_path_buf(),
        sha256,
        suite,
    })
}

/// Deserializes a whole YAML document strictly: an empty document and a
/// repeated key are errors with a position, as is anything serde rejects.
pub(crate) fn parse_strict<T: serde::de::DeserializeOwned>(
    file: &str,
    source: &str,
    empty_hint: &str,
) -> Result<T, Vec<Diagnostic>> {
    let blank = source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        let pos = Position { line: 1, column: 1 };
        let mut d = Diagnostic::at(
            file,
            source,
            pos,
            format!("the file is empty: {empty_hint}"),
        );
        d.width = 1;
        return Err(vec![d]);
    }
    limits::prescan(file, source).map_err(|d| vec![d])?;
    if let Some((key, pos)) = locate::duplicate_key(source) {
        return Err(vec![Diagnostic::at(
            file,
            source,
            pos,
            format!("duplicate key `{key}`: each key may appear once in a mapping"),
        )]);
    }
    serde_yaml::from_str(source).map_err(|e| vec![locate::yaml_error(file, source, &e)])
}

/// A diagnostic for a semantic problem at `path`, pointing at `needle` inside
/// the node when given. Falls back to the nearest enclosing node it finds.
pub(crate) fn place(
    file: &str,
    source: &str,
    path: &[Seg],
    part: Part,
    needle: Option<&str>,
    message: String,
) -> Diagnostic {
    let mut len = path.len();
    let mut pos = None;
    while pos.is_none() {
        let p = if len == path.len() { part } else { Part::Value };
        pos = locate::locate(source, &path[..len], p);
        if len == 0 {
            break;
        }
        len -= 1;
    }
    let mut pos = pos.unwrap_or_else(|| locate::document_start(source));
    let mut width = None;
    if let Some(needle) = needle
        && let Some(found) = find_after(source, pos, needle)
    {
        pos = found;
        width = Some(needle.chars().count());
    }
    let mut d = Diagnostic::at(file, source, pos, message);
    if let Some(w) = width {
        d.width = w;
    }
    d
}

/// The first occurrence of `needle` at or after `from`.
fn find_after(source: &str, from: Position, needle: &str) -> Option<Position> {
    let mut offset = 0;
    for (i, line) in source.split_inclusive('\n').enumerate() {
        if i + 1 == from.line {
            offset += line
                .char_indices()
                .nth(from.column.saturating_sub(1))
                .map_or(line.len(), |(b, _)| b);
            break;
        }
        offset += line.len();
    }
    let at = offset + source.get(offset..)?.find(needle)?;
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..at].chars().count() + 1;
    Some(Position { line, column })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration(" 1m 30s "), Ok(Duration::from_secs(90)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("soon").is_err());
    }

    /// The messages `check_suite` gives for `tests` (YAML of the list).
    fn problems(tests: &str) -> Vec<String> {
        let src = format!(
            "version: 1\nfeature: f\ntitle: F\nset: maximum\n\
             requirement: {{document: d, section: s, item: 3, level: SHOULD}}\ntests:\n{tests}"
        );
        let suite = match parse_strict::<Suite>("x.yaml", &src, "hint") {
            Ok(s) => s,
            Err(d) => panic!("{d:?}"),
        };
        validate::check_suite(&suite)
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn no_mechanism_tests_need_a_reason_and_run_nothing() {
        assert_eq!(
            problems("  - name: typing\n    no_mechanism: no typing format in content-08\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            problems("  - name: typing\n    no_mechanism: \" \"\n"),
            ["`no_mechanism` must name the missing mechanism and the drafts checked"]
        );
        assert_eq!(
            problems(
                "  - name: typing\n    no_mechanism: none\n    actors: {alice: a}\n    \
                 steps: [{create_room: {as: alice, capture: room}}]\n"
            ),
            [
                "a test with `no_mechanism` runs nothing: remove `actors`",
                "a test with `no_mechanism` runs nothing: remove `steps`"
            ]
        );
        // Without the declaration, actors and steps stay required.
        assert_eq!(
            problems("  - name: typing\n"),
            [
                "a test needs at least one actor",
                "a test needs at least one step"
            ]
        );
    }

    proptest! {
        /// Whatever the bytes, loading answers with a suite or diagnostics.
        #[test]
        fn loading_never_panics(src in "\\PC*") {
            let _ = parse_strict::<Suite>("x.yaml", &src, "hint")
                .map(|s| validate::check_suite(&s));
        }

        /// YAML-looking input exercises the locator and the semantic checks.
        #[test]
        fn yaml_like_input_never_panics(
            lines in prop::collection::vec("[ -]{0,6}[a-z_]{1,8}: ?[{}\\[\\]a-z0-9\"$ ,]{0,12}", 0..12)
        ) {
            let src = lines.join("\n");
            if let Ok(suite) = parse_strict::<Suite>("x.yaml", &src, "hint") {
                for p in validate::check_suite(&suite) {
                    let _ = place("x.yaml", &src, &p.path, p.part, p.needle.as_deref(), p.message);
                }
            }
            let _ = locate::locate(&src, &locate::path!["tests", 0, "name"], Part::Key);
        }

        /// A shipped suite with a slice cut out or replaced: loading gives a
        /// suite or diagnostics whose positions lie inside the file.
        #[test]
        fn damaged_suites_give_positions_inside_the_file(
            start in 0usize..6000, len in 0usize..40, insert in "[a-z${}: \\n-]{0,6}"
        ) {
            let good = include_str!("../../suites/minimum/membership.yaml");
            let mut start = start.min(good.len());
            while !good.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(good.len());
            while !good.is_char_boundary(end) { end -= 1; }
            let src = format!("{}{}{}", &good[..start], insert, &good[end..]);
            let lines = src.lines().count().max(1);
            let diags = match parse_strict::<Suite>("m.yaml", &src, "hint") {
                Ok(suite) => validate::check_suite(&suite)
                    .into_iter()
                    .map(|p| place("m.yaml", &src, &p.path, p.part, p.needle.as_deref(), p.message))
                    .collect(),
                Err(d) => d,
            };
            for d in diags {
                let pos = d.position;
                prop_assert!(pos.is_some(), "no position: {d}");
                let pos = pos.unwrap();
                prop_assert!(pos.line >= 1 && pos.line <= lines + 1, "{d}");
                prop_assert!(pos.column >= 1, "{d}");
            }
        }

        /// Text without `$` passes through interpolation unchanged.
        #[test]
        fn interpolation_without_dollar_is_identity(s in "[^$]*") {
            prop_assert_eq!(interpolate(&s, &|_| None).unwrap(), s);
        }
    }
}
