//! Files the loader refuses before parsing (size, nesting, tags, bytes that
//! are not UTF-8) and unknown quirks: each error positioned, and quick.

use mimi_interop::plan::targets;
use mimi_interop::reference::quirks::Quirk;
use mimi_interop::suite;
use std::path::Path;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, body: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn position(e: &suite::LoadSuiteError) -> (usize, usize) {
    let p = e.diagnostics[0].position.expect("positioned");
    (p.line, p.column)
}

#[test]
fn a_deeply_nested_suite_is_refused_quickly_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "version: 1\nfeature: {}{}\n",
        "[".repeat(40_000),
        "]".repeat(40_000)
    );
    let p = write(dir.path(), "deep.yaml", body.as_bytes());
    let t0 = Instant::now();
    let e = suite::load_file(&p).expect_err("too deep");
    // Linear and far below the parser's seconds; the bound allows a loaded machine.
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(e.to_string().contains("nested more than 64"), "{e}");
    assert_eq!(position(&e), (2, 10 + 63));
}

#[test]
fn an_oversized_file_is_refused_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "big.yaml",
        "# padding\n".repeat(200_000).as_bytes(),
    );
    let e = suite::load_file(&p).expect_err("too big");
    assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
    assert!(e.diagnostics[0].position.is_some());
}

#[test]
fn yaml_tags_are_refused_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "tag.yaml",
        b"targets:\n  - name: a\n    url: !!str http://127.0.0.1:1\n",
    );
    let e = targets::load(&p).expect_err("a tag");
    let d = &e.diagnostics[0];
    assert!(d.message.contains("YAML tags"), "{e}");
    let pos = d.position.unwrap();
    assert_eq!((pos.line, pos.column), (3, 10));
}

#[test]
fn invalid_utf8_in_a_targets_file_points_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.yaml",
        b"targets:\n  - name: caf\xc3\xa9-\xff\n    builtin: {}\n",
    );
    let e = targets::load(&p).expect_err("not UTF-8");
    let pos = e.diagnostics[0].position.expect("positioned");
    assert_eq!((pos.line, pos.column), (2, 16), "{e}");
}

#[test]
fn invalid_utf8_in_a_suite_points_at_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "s.yaml",
        b"version: 1
feature: t\xe9xt
",
    );
    let e = suite::load_file(&p).expect_err("not UTF-8");
    assert_eq!(position(&e), (2, 11), "{e}");
    assert!(e.to_string().contains("invalid byte 0xe9"), "{e}");
}

#[test]
fn validate_rejects_unknown_quirks_and_the_sample_uses_real_ones() {
    let known = Quirk::names();
    assert!(
        known.contains(&"ignores-consent"),
        "beyond-suite quirks count too"
    );
    let sample = Path::new("fixtures/targets/sample.yaml");
    targets::load_with_quirks(sample, &known).expect("the sample's quirks exist");
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "q.yaml",
        b"targets:\n  - name: q\n    builtin:\n      quirks: [reorder-fanout, skip-epoch-check]\n",
    );
    let e = targets::load_with_quirks(&p, &known).expect_err("unknown quirk");
    let d = &e.diagnostics[0];
    assert!(
        d.message.contains("unknown quirk `skip-epoch-check`"),
        "{e}"
    );
    let pos = d.position.unwrap();
    assert_eq!((pos.line, pos.column), (4, 32), "{e}");
}
