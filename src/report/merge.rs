//! Merging the `report.json` files of sharded runs into one report, so a
//! maintainer can publish one matrix from runs made on several machines.

use super::model::{
    CellReport, Filters, REPORT_FORMAT_VERSION, RunReport, SuiteInfo, TargetInfo, TargetReadings,
};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// Why reports could not be merged into one.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no reports to merge")]
    Empty,
    #[error("report {run_id} has format version {found}; merging needs version {expected}")]
    FormatVersion {
        run_id: String,
        found: u32,
        expected: u32,
    },
    #[error("reports come from different harnesses: {first} and {other} ({run_id})")]
    Harness {
        first: String,
        other: String,
        run_id: String,
    },
    /// `first` and `other` are `<path> (sha256 <hex>)`.
    #[error("suite {feature} differs between runs: {first} and {other} in {run_id}")]
    SuiteConflict {
        feature: String,
        first: String,
        other: String,
        run_id: String,
    },
    #[error("target {target} differs between runs in its {field} ({run_id})")]
    TargetConflict {
        target: String,
        field: &'static str,
        run_id: String,
    },
    #[error(
        "case {feature}/{test} of cell {cell} appears in more than one report (again in {run_id})"
    )]
    DuplicateCase {
        cell: String,
        feature: String,
        test: String,
        run_id: String,
    },
    #[error("report {run_id} has an unreadable timestamp {value:?}")]
    Timestamp { run_id: String, value: String },
}

/// Merges reports of the same suites and harness into one: cells with the
/// same `a→b` are joined (shards may split a cell's cases), other cells are
/// appended in order; suites and targets are unioned by feature and name;
/// filters are unioned. The merged run spans the earliest start to the latest
/// finish, and its id is `<earliest id's timestamp>-merged-<8 hex>`, the hex
/// taken from a SHA-256 over the sorted input ids (same inputs, same id).
///
/// Suites with the same feature but different file hashes, targets with the
/// same name but different identities, and a case present in two reports are
/// errors: the merged matrix would otherwise mix things that are not the same.
pub fn merge(reports: Vec<RunReport>) -> Result<RunReport, MergeError> {
    let mut iter = reports.into_iter();
    let mut merged = iter.next().ok_or(MergeError::Empty)?;
    check_version(&merged)?;
    let mut ids = vec![merged.run_id.clone()];
    let mut start = (
        time(&merged, &merged.started_at)?,
        merged.started_at.clone(),
    );
    let mut finish = (
        time(&merged, &merged.finished_at)?,
        merged.finished_at.clone(),
    );
    let mut earliest_id = merged.run_id.clone();
    // Re-run the cell joining on the first report too, so that duplicates
    // inside it are caught like duplicates across reports.
    let first_cells = std::mem::take(&mut merged.cells);
    let first_id = merged.run_id.clone();
    add_cells(&mut merged.cells, first_cells, &first_id)?;

    for report in iter {
        check_version(&report)?;
        // One partial shard makes the merged matrix partial.
        if merged.interrupted.is_none() {
            merged.interrupted = report.interrupted.clone();
        }
        // An entry is stale in the merge only when no shard matched it.
        match (&mut merged.expectations, &report.expectations) {
            (Some(mine), Some(theirs)) => mine.stale.retain(|e| theirs.stale.contains(e)),
            (None, Some(theirs)) => merged.expectations = Some(theirs.clone()),
            (_, None) => {}
        }
        add_readings(&mut merged.readings, &report.readings);
        if report.harness != merged.harness {
            return Err(MergeError::Harness {
                first: format!("{} {}", merged.harness.name, merged.harness.version),
                other: format!("{} {}", report.harness.name, report.harness.version),
                run_id: report.run_id,
            });
        }
        let started = time(&report, &report.started_at)?;
        if started < start.0 {
            start = (started, report.started_at.clone());
            earliest_id = report.run_id.clone();
        }
        let finished = time(&report, &report.finished_at)?;
        if finished > finish.0 {
            finish = (finished, report.finished_at.clone());
        }
        for suite in report.suites {
            add_suite(&mut merged.suites, suite, &report.run_id)?;
        }
        for target in report.targets {
            add_target(&mut merged.targets, target, &report.run_id)?;
        }
        union_filters(&mut merged.filters, report.filters);
        // One strict shard makes the merged verdict strict: a SHOULD it
        // gated on must not pass unnoticed in the merged report.
        merged.strict |= report.strict;
        // The merge says the most reruns any shard made: a flaky case in it
        // came from a shard that reran.
        merged.retries = merged.retries.max(report.retries);
        merged.repeat = merged.repeat.max(report.repeat);
        add_cells(&mut merged.cells, report.cells, &report.run_id)?;
        ids.push(report.run_id);
    }

    ids.sort();
    let digest = Sha256::digest(ids.join("\n").as_bytes());
    let stamp = earliest_id.split('-').next().unwrap_or(&earliest_id);
    merged.run_id = format!("{stamp}-merged-{}", &hex::encode(digest)[..8]);
    merged.started_at = start.1;
    merged.finished_at = finish.1;
    merged.duration_ms = finish
        .0
        .duration_since(start.0)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    // Claims are per target over all its cases: the shards' own claims saw
    // only part of them.
    merged.recompute_claims();
    Ok(merged)
}

fn check_version(report: &RunReport) -> Result<(), MergeError> {
    if report.format_version == REPORT_FORMAT_VERSION {
        Ok(())
    } else {
        Err(MergeError::FormatVersion {
            run_id: report.run_id.clone(),
            found: report.format_version,
            expected: REPORT_FORMAT_VERSION,
        })
    }
}

fn time(report: &RunReport, value: &str) -> Result<SystemTime, MergeError> {
    humantime::parse_rfc3339_weak(value).map_err(|_| MergeError::Timestamp {
        run_id: report.run_id.clone(),
        value: value.to_owned(),
    })
}

fn add_suite(
    suites: &mut Vec<SuiteInfo>,
    suite: SuiteInfo,
    run_id: &str,
) -> Result<(), MergeError> {
    match suites.iter().find(|s| s.feature == suite.feature) {
        None => suites.push(suite),
        Some(known) if known.sha256 == suite.sha256 => {}
        Some(known) => {
            return Err(MergeError::SuiteConflict {
                feature: suite.feature,
                first: format!("{} (sha256 {})", known.path, known.sha256),
                other: format!("{} (sha256 {})", suite.path, suite.sha256),
                run_id: run_id.to_owned(),
            });
        }
    }
    Ok(())
}

/// Same name must mean the same implementation. Facts one shard learned and
/// another did not (it could not reach the target) are filled in; the first
/// error seen is kept; artifact lists are joined.
fn add_target(
    targets: &mut Vec<TargetInfo>,
    target: TargetInfo,
    run_id: &str,
) -> Result<(), MergeError> {
    let Some(known) = targets.iter_mut().find(|t| t.name == target.name) else {
        targets.push(target);
        return Ok(());
    };
    let conflict = |field| MergeError::TargetConflict {
        target: target.name.clone(),
        field,
        run_id: run_id.to_owned(),
    };
    if known.kind != target.kind {
        return Err(conflict("kind"));
    }
    for (field, mine, theirs) in [
        (
            "implementation",
            &mut known.implementation,
            &target.implementation,
        ),
        ("version", &mut known.version, &target.version),
        ("domain", &mut known.domain, &target.domain),
    ] {
        match (mine.as_ref(), theirs) {
            (Some(a), Some(b)) if a != b => return Err(conflict(field)),
            (None, Some(b)) => *mine = Some(b.clone()),
            _ => {}
        }
    }
    if !target.drafts.is_empty() {
        if known.drafts.is_empty() {
            known.drafts = target.drafts.clone();
        } else if known.drafts != target.drafts {
            return Err(conflict("drafts"));
        }
    }
    if known.quirks != target.quirks {
        return Err(conflict("quirks"));
    }
    match (&known.features, &target.features) {
        (Some(a), Some(b)) if a != b => return Err(conflict("features")),
        (None, Some(b)) => known.features = Some(b.clone()),
        _ => {}
    }
    if known.error.is_none() {
        known.error = target.error.clone();
    }
    for artifact in &target.artifacts {
        if !known.artifacts.contains(artifact) {
            known.artifacts.push(artifact.clone());
        }
    }
    Ok(())
}

fn union_filters(into: &mut Filters, from: Filters) {
    for (mine, theirs) in [
        (&mut into.features, from.features),
        (&mut into.tests, from.tests),
        (&mut into.tags, from.tags),
        (&mut into.targets, from.targets),
        (&mut into.cells, from.cells),
        (&mut into.shards, from.shards),
    ] {
        for item in theirs {
            if !mine.contains(&item) {
                mine.push(item);
            }
        }
    }
}

fn add_cells(
    cells: &mut Vec<CellReport>,
    new: Vec<CellReport>,
    run_id: &str,
) -> Result<(), MergeError> {
    for cell in new {
        let index = match cells.iter().position(|c| c.a == cell.a && c.b == cell.b) {
            Some(i) => i,
            None => {
                cells.push(CellReport {
                    a: cell.a.clone(),
                    b: cell.b.clone(),
                    cases: Vec::new(),
                });
                cells.len() - 1
            }
        };
        let known = &mut cells[index];
        for case in cell.cases {
            if known
                .cases
                .iter()
                .any(|c| c.feature == case.feature && c.test == case.test)
            {
                return Err(MergeError::DuplicateCase {
                    cell: known.name(),
                    feature: case.feature,
                    test: case.test,
                    run_id: run_id.to_owned(),
                });
            }
            known.cases.push(case);
        }
    }
    Ok(())
}

/// Adds a shard's readings to the merged ones: counts of the same target,
/// point and value add up; values stay most frequent first.
fn add_readings(into: &mut Vec<TargetReadings>, other: &[TargetReadings]) {
    for theirs in other {
        let Some(mine) = into.iter_mut().find(|t| t.target == theirs.target) else {
            into.push(theirs.clone());
            continue;
        };
        for reading in &theirs.readings {
            let Some(point) = mine.readings.iter_mut().find(|r| r.point == reading.point) else {
                mine.readings.push(reading.clone());
                continue;
            };
            for v in &reading.values {
                match point.values.iter_mut().find(|x| x.value == v.value) {
                    Some(x) => x.count += v.count,
                    None => point.values.push(v.clone()),
                }
            }
            point.values.sort_by_key(|v| std::cmp::Reverse(v.count));
        }
        mine.readings.sort_by(|x, y| x.point.cmp(&y.point));
    }
}
