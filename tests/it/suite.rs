//! Integration tests: suite loading, targets files, planning and filters.

use mimi_interop::plan::{self, PlanError, targets};
use mimi_interop::report::model::Filters;
use mimi_interop::suite;
use mimi_interop::suite::model::FeatureSet;
use std::path::Path;

mod limits;

fn shipped_suites() -> Vec<mimi_interop::plan::model::LoadedSuite> {
    match suite::load_dir(Path::new("suites")) {
        Ok(s) => s,
        Err(e) => panic!("shipped suites must load:\n{e}"),
    }
}

#[test]
fn every_shipped_suite_loads() {
    let suites = shipped_suites();
    let features: Vec<&str> = suites.iter().map(|s| s.suite.feature.as_str()).collect();
    assert!(features.contains(&"text"), "{features:?}");
    assert!(features.contains(&"membership"), "{features:?}");
    assert!(features.contains(&"encryption"), "{features:?}");
    assert!(features.contains(&"reliable-sync"), "{features:?}");
    for s in &suites {
        assert_eq!(s.sha256.len(), 64);
        assert!(!s.suite.tests.is_empty());
    }
}

/// Loads one bad suite fixture and returns its rendered error.
fn suite_error(name: &str) -> String {
    let path = format!("fixtures/suites/bad/{name}.yaml");
    match suite::load_file(Path::new(&path)) {
        Ok(_) => panic!("{path} must not load"),
        Err(e) => e.to_string(),
    }
}

fn targets_error(name: &str) -> String {
    let path = format!("fixtures/targets/bad/{name}.yaml");
    match targets::load(Path::new(&path)) {
        Ok(_) => panic!("{path} must not load"),
        Err(e) => e.to_string(),
    }
}

macro_rules! bad_suite {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let name = stringify!($name).trim_start_matches("bad_suite_").replace('_', "-");
            insta::assert_snapshot!(stringify!($name), suite_error(&name));
        }
    )*};
}

bad_suite!(
    bad_suite_unknown_key,
    bad_suite_unknown_action,
    bad_suite_wrong_type,
    bad_suite_undefined_variable,
    bad_suite_capture_used_too_early,
    bad_suite_bad_duration,
    bad_suite_duplicate_test_name,
    bad_suite_bad_test_name,
    bad_suite_bad_version,
    bad_suite_empty,
    bad_suite_syntax_error,
    bad_suite_duplicate_key,
    bad_suite_unknown_actor,
    bad_suite_send_content_and_raw,
    bad_suite_missing_field,
    bad_suite_bad_side,
    bad_suite_several_errors,
    bad_suite_dm_without_with,
    bad_suite_bad_max_users,
    bad_suite_refused_send_capture,
    bad_suite_two_actions_in_one_step,
    bad_suite_bad_faults,
);

macro_rules! bad_targets {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let name = stringify!($name).trim_start_matches("bad_targets_").replace('_', "-");
            insta::assert_snapshot!(stringify!($name), targets_error(&name));
        }
    )*};
}

bad_targets!(
    bad_targets_unknown_key,
    bad_targets_two_kinds,
    bad_targets_no_kind,
    bad_targets_bad_url,
    bad_targets_duplicate_name,
    bad_targets_bad_start_timeout,
    bad_targets_empty,
    bad_targets_empty_argv,
    bad_targets_unknown_builtin_key,
    bad_targets_wrong_type,
    bad_targets_syntax_error,
    bad_targets_bad_name,
    bad_targets_duplicate_key,
);

#[test]
fn duplicate_feature_ids_across_files_are_rejected() {
    let err = suite::load_dir(Path::new("fixtures/suites/dup-feature"))
        .expect_err("two suites with one feature id");
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn sample_targets_file_loads() {
    let t = targets::load(Path::new("fixtures/targets/sample.yaml")).expect("sample loads");
    let kinds: Vec<(&str, &str)> = t
        .iter()
        .map(|t| (t.name.as_str(), t.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ref", "builtin"),
            ("quirky", "builtin"),
            ("vendor", "url"),
            ("spawned", "command")
        ]
    );
}

#[test]
fn builtin_may_be_empty_or_null() {
    let t = targets::load(Path::new("fixtures/targets/null-builtin.yaml")).expect("loads");
    assert_eq!(t.len(), 2);
    for t in &t {
        assert_eq!(
            t.kind,
            mimi_interop::plan::model::TargetKind::Builtin(Default::default())
        );
    }
}

#[test]
fn all_errors_of_all_files_are_reported_together() {
    let err = suite::load_dir(Path::new("fixtures/suites/bad")).expect_err("bad suites");
    let files: std::collections::BTreeSet<&str> =
        err.diagnostics.iter().map(|d| d.file.as_str()).collect();
    let on_disk = std::fs::read_dir("fixtures/suites/bad").unwrap().count();
    assert_eq!(files.len(), on_disk, "one or more errors per bad file");
    assert!(
        err.diagnostics.len() > on_disk,
        "several-errors.yaml has several"
    );
}

/// The checks of `send_burst`, `concurrently` and `expect_messages` point
/// at the token at fault, inside a `concurrently` block too.
#[test]
fn burst_and_concurrently_errors_point_at_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.yaml");
    std::fs::write(
        &path,
        r#"version: 1
feature: bursts
title: Bursts
set: minimum
requirement: {document: d, section: s, item: 2, level: MUST}
tests:
  - name: t
    actors: {alice: a, bob: b}
    steps:
      - create_room: { as: alice, capture: room }
      - concurrently:
          - send_burst: { as: alice, room: "${room}", count: 0, capture: ids }
          - expect_message: { as: bob, room: "${room}" }
          - send: { as: bob, room: "${room}", content: { text: "${ids}" } }
      - expect_messages: { as: bob, room: "${room}", ids: "${ids}" }
      - send: { as: bob, room: "${room}", content: { text: "${ids} and ${i}" } }
"#,
    )
    .unwrap();
    let err = suite::load_file(&path).expect_err("bad burst suite");
    let shown = err
        .to_string()
        .replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!(shown);
}

/// The two suites of requirement items 1 and 2 keep what makes them
/// checks of those items: every received message in `encryption` must be a
/// PrivateMessage, and `reliable-sync` has bursts of at least 100 messages,
/// sent concurrently from both sides in one test.
#[test]
fn encryption_and_reliable_sync_keep_their_teeth() {
    use suite::model::{Step, WireFormat};
    let suites = shipped_suites();
    let find = |f: &str| {
        suites
            .iter()
            .find(|s| s.suite.feature == f)
            .map(|s| &s.suite)
            .unwrap_or_else(|| panic!("no suite {f}"))
    };
    let enc = find("encryption");
    assert_eq!(
        (enc.requirement.item, enc.requirement.level.as_str()),
        (1, "MUST")
    );
    let mut expectations = 0;
    for t in &enc.tests {
        for step in &t.steps {
            if let Step::ExpectMessage(e) = step {
                assert_eq!(e.wire_format, Some(WireFormat::Private), "{}", t.name);
                expectations += 1;
            }
        }
    }
    assert!(expectations >= 8, "{expectations}");
    let sync = find("reliable-sync");
    assert_eq!(
        (sync.requirement.item, sync.requirement.level.as_str()),
        (2, "MUST")
    );
    let mut concurrent_sides = 0;
    for t in &sync.tests {
        for step in &t.steps {
            match step {
                Step::SendBurst(b) => assert!(b.count >= 100, "{}", t.name),
                Step::Concurrently(children) => {
                    let actors: std::collections::BTreeSet<_> = children
                        .iter()
                        .filter_map(|c| match c {
                            Step::SendBurst(b) => {
                                assert!(b.count >= 100, "{}", t.name);
                                Some(t.actors[&b.actor].side())
                            }
                            _ => None,
                        })
                        .collect();
                    concurrent_sides = concurrent_sides.max(actors.len());
                }
                _ => {}
            }
        }
    }
    assert_eq!(concurrent_sides, 2, "concurrent bursts from both sides");
}

#[test]
fn default_targets_are_two_builtins() {
    let t = targets::defaults();
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["ref-a", "ref-b"]);
    assert!(t.iter().all(|t| t.kind.as_str() == "builtin"));
}

fn cell_names(p: &plan::model::Plan) -> Vec<String> {
    p.cells.iter().map(|c| p.cell_name(c)).collect()
}

#[test]
fn cells_are_all_ordered_pairs_including_self_pairs() {
    let three: Vec<_> = ["x", "y", "z"]
        .iter()
        .map(|n| mimi_interop::plan::model::TargetSpec {
            name: n.to_string(),
            kind: mimi_interop::plan::model::TargetKind::Url(format!("http://127.0.0.1/{n}")),
        })
        .collect();
    let suites = shipped_suites();
    let count = |protocol: bool| -> usize {
        suites
            .iter()
            .filter(|s| (s.suite.set == FeatureSet::Protocol) == protocol)
            .map(|s| s.suite.tests.len())
            .sum()
    };
    let (tests, protocol) = (count(false), count(true));
    assert!(protocol > 0);
    let p = plan::build(three, suites, &Filters::default()).unwrap();
    assert_eq!(
        cell_names(&p),
        [
            "x→x", "x→y", "x→z", "y→x", "y→y", "y→z", "z→x", "z→y", "z→z"
        ]
    );
    // Protocol suites run once per target, in its own cell only.
    assert_eq!(p.cases.len(), 9 * tests + 3 * protocol);
    for c in &p.cases {
        if p.case_test(c).0.suite.set == FeatureSet::Protocol {
            let cell = &p.cells[c.cell];
            assert_eq!(
                cell.a, cell.b,
                "a protocol case outside a target's own cell"
            );
        }
    }
    // Only a test that cuts the link between two providers, or breaks a
    // request on it, is left out, and only where both sides are one target.
    for c in &p.cases {
        let cell = &p.cells[c.cell];
        let steps = &p.case_test(c).1.steps;
        let cuts = steps.iter().any(|s| s.action() == "partition");
        let faults = steps.iter().any(|s| FAULTS.contains(&s.action()));
        let want = match (cell.a == cell.b, cuts, faults) {
            (false, _, _) | (true, false, false) => None,
            (true, true, _) => Some(plan::NEEDS_TWO_PROVIDERS),
            (true, false, true) => Some(plan::NEEDS_TWO_FOR_FAULTS),
        };
        assert_eq!(c.skip.as_deref(), want);
    }
}

/// The request-fault steps: they need two targets, like `partition`.
const FAULTS: &[&str] = &[
    "drop_request",
    "unavailable",
    "duplicate_request",
    "delay_request",
];

#[test]
fn target_and_cell_filters_drop_cells_and_unused_targets() {
    let f = Filters {
        cells: vec!["ref-b→ref-a".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    assert_eq!(cell_names(&p), ["ref-b→ref-a"]);
    let f = Filters {
        targets: vec!["ref-b".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    assert_eq!(cell_names(&p), ["ref-b→ref-b"]);
    assert_eq!(p.targets.len(), 1);
    let f = Filters {
        cells: vec!["ref-a,ref-b".into(), "ref-a->ref-a".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    assert_eq!(cell_names(&p), ["ref-a→ref-a", "ref-a→ref-b"]);
}

#[test]
fn case_filters_leave_deselected_cases_out_of_the_plan() {
    let f = Filters {
        features: vec!["text".into()],
        tests: vec!["*unicode*".into(), "text/hub-*".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    let in_first_cell: Vec<String> = p
        .cases
        .iter()
        .filter(|c| c.cell == 0)
        .map(|c| p.case_id(c))
        .collect();
    assert_eq!(in_first_cell, ["text/hub-to-follower", "text/unicode"]);
    // Nothing else is planned, so a filtered run reports only these.
    assert_eq!(p.cases.len(), 4 * 2);
    assert!(p.cases.iter().all(|c| c.skip.is_none()));
}

#[test]
fn tag_filter_includes_suite_tags_and_set() {
    let f = Filters {
        tags: vec!["unicode".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    assert_eq!(p.cases.len(), 4, "one unicode test in four cells");
    let f = Filters {
        tags: vec!["minimum".into()],
        ..Filters::default()
    };
    let p = plan::build(targets::defaults(), shipped_suites(), &f).unwrap();
    assert!(p.cases.iter().any(|c| c.skip.is_none()));
    assert!(p.cases.iter().all(|c| {
        let minimum = p.case_test(c).0.suite.set == FeatureSet::Minimum;
        let cuts = p
            .case_test(c)
            .1
            .steps
            .iter()
            .any(|s| s.action() == "partition" || FAULTS.contains(&s.action()));
        let alone = p.cells[c.cell].a == p.cells[c.cell].b;
        minimum && c.skip.is_some() == (cuts && alone)
    }));
}

#[test]
fn filter_values_that_match_nothing_are_errors() {
    let build = |f: Filters| plan::build(targets::defaults(), shipped_suites(), &f).unwrap_err();
    assert!(matches!(
        build(Filters {
            features: vec!["txet".into()],
            ..Filters::default()
        }),
        PlanError::UnknownFeature { .. }
    ));
    assert!(matches!(
        build(Filters {
            targets: vec!["ref-c".into()],
            ..Filters::default()
        }),
        PlanError::UnknownTarget { .. }
    ));
    assert!(matches!(
        build(Filters {
            cells: vec!["ref-a".into()],
            ..Filters::default()
        }),
        PlanError::InvalidCell { .. }
    ));
    assert!(matches!(
        build(Filters {
            tests: vec!["nothing-*".into()],
            ..Filters::default()
        }),
        PlanError::NoMatchingTest(_)
    ));
    assert!(matches!(
        build(Filters {
            tags: vec!["nope".into()],
            ..Filters::default()
        }),
        PlanError::UnknownTag(_)
    ));
    assert!(matches!(
        build(Filters {
            targets: vec!["ref-a".into()],
            cells: vec!["ref-b→ref-b".into()],
            ..Filters::default()
        }),
        PlanError::NoCells
    ));
}

#[test]
fn list_shows_cells_cases_and_skips() {
    let f = Filters {
        features: vec!["membership".into()],
        cells: vec!["ref-a→ref-b".into()],
        ..Filters::default()
    };
    // Frozen copies of two suites, so the snapshot does not change with
    // every shipped suite.
    let suites = suite::load_dir(Path::new("fixtures/suites/list")).unwrap();
    let p = plan::build(targets::defaults(), suites, &f).unwrap();
    insta::assert_snapshot!(plan::render_list(&p));
}

/// `docs/suite.schema.json` is generated from the Rust types; this test fails
/// when it is stale. Regenerate with `UPDATE_SCHEMA=1 cargo test schema`.
#[test]
fn schema_file_is_current() {
    let path = Path::new("docs/suite.schema.json");
    let fresh = serde_json::to_string_pretty(&suite::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "docs/suite.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test schema`"
    );
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn every_shipped_suite_validates_against_the_schema() {
    let validator = jsonschema::validator_for(&suite::json_schema()).expect("schema compiles");
    for s in shipped_suites() {
        let doc = yaml_as_json(&s.path);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", s.path.display());
    }
}

#[test]
fn schema_rejects_what_the_loader_rejects_structurally() {
    let validator = jsonschema::validator_for(&suite::json_schema()).expect("schema compiles");
    for name in [
        "unknown-key",
        "unknown-action",
        "wrong-type",
        "missing-field",
        "bad-side",
    ] {
        let doc = yaml_as_json(Path::new(&format!("fixtures/suites/bad/{name}.yaml")));
        assert!(!validator.is_valid(&doc), "{name} must not validate");
    }
}

#[test]
fn shards_of_a_plan_are_disjoint_and_cover_it() {
    use mimi_interop::plan::shard::{self, Shard};
    let full = plan::build(targets::defaults(), shipped_suites(), &Filters::default()).unwrap();
    let key = |p: &plan::model::Plan, c: &plan::model::PlannedCase| {
        (c.cell, p.suites[c.suite].suite.feature.clone(), c.test)
    };
    let all: std::collections::BTreeSet<_> = full.cases.iter().map(|c| key(&full, c)).collect();
    let mut seen = std::collections::BTreeSet::new();
    let count = 3;
    for index in 1..=count {
        let mut part = full.clone();
        shard::apply(&mut part, Shard { index, count });
        assert_eq!(part.cells, full.cells, "every shard keeps every cell");
        assert_eq!(part.filters.shards, [format!("{index}/{count}")]);
        assert!(!part.cases.is_empty(), "shard {index} is not empty");
        for c in &part.cases {
            assert!(seen.insert(key(&part, c)), "case in two shards");
        }
    }
    assert_eq!(seen, all, "the shards together are the plan");
}
