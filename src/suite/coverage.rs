//! Requirement coverage: which suites and tests check each feature of
//! draft-ralston-mimi-messaging-requirements-00 (`mimi-interop coverage`).
//!
//! The draft's 22 features (8 minimum, 14 maximum) are one table here, so a
//! feature without a suite shows up as "no suite" instead of silently not
//! existing. A suite covers the feature its `requirement` names: the draft,
//! the section (`Minimum Feature Set` / `2`, `Maximum Feature Set` / `3`)
//! and the 1-based item. `docs/coverage.md` holds this output between
//! generated-region markers ([`splice`]).

use super::model::{FeatureSet, LoadedSuite};
use std::fmt::Write as _;

/// The requirements draft every suite refers to.
pub const REQUIREMENTS_DOC: &str = "draft-ralston-mimi-messaging-requirements-00";

/// One feature of the requirements draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature {
    pub set: FeatureSet,
    /// 1-based position in its section's list.
    pub item: u32,
    /// Short id; the suite checking it normally uses the same `feature:` id.
    pub id: &'static str,
    pub title: &'static str,
}

const fn min(item: u32, id: &'static str, title: &'static str) -> Feature {
    Feature {
        set: FeatureSet::Minimum,
        item,
        id,
        title,
    }
}

const fn max(item: u32, id: &'static str, title: &'static str) -> Feature {
    Feature {
        set: FeatureSet::Maximum,
        item,
        id,
        title,
    }
}

/// Sections 2 (Minimum Feature Set) and 3 (Maximum Feature Set) of the draft,
/// in its order.
pub const FEATURES: [Feature; 22] = [
    min(1, "encryption", "Encryption and device tracking"),
    min(
        2,
        "reliable-sync",
        "Reliable synchronisation of messages, no gaps",
    ),
    min(3, "text", "Text and rich text"),
    min(4, "redaction", "Redact, remove or delete a message"),
    min(5, "membership", "Invite, kick, ban and leave"),
    min(6, "profiles", "Display names and avatars of users"),
    min(7, "direct-messages", "Direct messaging (exactly two users)"),
    min(8, "roles", "Roles and abilities of users"),
    max(
        1,
        "room-metadata",
        "Names, topics and avatars of conversations",
    ),
    max(2, "read-receipts", "Read receipts"),
    max(3, "typing", "Typing notifications"),
    max(4, "presence", "Presence or online state"),
    max(
        5,
        "history-sync",
        "Reliable sync of visible conversation history",
    ),
    max(6, "history-porting", "Porting conversation history"),
    max(7, "media", "Images, videos, files and audio"),
    max(8, "voice-messages", "Voice messages"),
    max(9, "replies", "Replies (rich quoting)"),
    max(10, "threads", "Threads"),
    max(11, "voip-1to1", "1:1 VoIP"),
    max(12, "voip-multiparty", "Multi-party VoIP"),
    max(13, "edits", "Message editing"),
    max(14, "reactions", "Reactions"),
];

impl Feature {
    /// `Minimum 3` / `Maximum 14`: how the draft's lists are cited.
    pub fn label(&self) -> String {
        let set = match self.set {
            FeatureSet::Minimum => "Minimum",
            FeatureSet::Maximum => "Maximum",
            FeatureSet::Protocol => "Protocol",
        };
        format!("{set} {}", self.item)
    }
}

/// The table entry with this id, if any.
pub fn feature(id: &str) -> Option<&'static Feature> {
    FEATURES.iter().find(|f| f.id == id)
}

/// The set a requirement's `section` names: the section title or number.
fn section_set(section: &str) -> Option<FeatureSet> {
    let s = section.trim().to_ascii_lowercase();
    match s.as_str() {
        "minimum feature set" | "2" | "minimum" => Some(FeatureSet::Minimum),
        "maximum feature set" | "3" | "maximum" => Some(FeatureSet::Maximum),
        _ => None,
    }
}

/// The table feature a suite's requirement names, if it names one.
pub fn feature_of(suite: &LoadedSuite) -> Option<&'static Feature> {
    let r = &suite.suite.requirement;
    if r.document != REQUIREMENTS_DOC {
        return None;
    }
    let set = section_set(&r.section)?;
    FEATURES.iter().find(|f| f.set == set && f.item == r.item)
}

/// Levels of a suite's tests: the requirement's, then any test overrides
/// with how many tests use them, e.g. `MUST` or `MUST; SHOULD (2 tests)`.
fn levels(s: &LoadedSuite) -> String {
    let base = s.suite.requirement.level;
    let mut out = base.as_str().to_owned();
    for level in [
        crate::suite::model::Level::Must,
        crate::suite::model::Level::Should,
        crate::suite::model::Level::May,
    ] {
        if level == base {
            continue;
        }
        let n = s
            .suite
            .tests
            .iter()
            .filter(|t| t.level == Some(level))
            .count();
        if n > 0 {
            let _ = write!(
                out,
                "; {} ({n} test{})",
                level.as_str(),
                if n == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// The Markdown coverage table of `suites` (see the module doc).
pub fn markdown(suites: &[LoadedSuite]) -> String {
    let mut out = String::new();
    let covered = |f: &Feature| suites.iter().any(|s| feature_of(s) == Some(f));
    let count = |set: FeatureSet| {
        FEATURES
            .iter()
            .filter(|f| f.set == set && covered(f))
            .count()
    };
    let total_tests: usize = suites.iter().map(|s| s.suite.tests.len()).sum();
    let _ = writeln!(
        out,
        "Requirements of {REQUIREMENTS_DOC} with a suite: {} of 8 minimum, {} of 14 maximum; {} suites, {total_tests} tests.",
        count(FeatureSet::Minimum),
        count(FeatureSet::Maximum),
        suites.len(),
    );
    for (set, heading) in [
        (FeatureSet::Minimum, "Minimum Feature Set"),
        (FeatureSet::Maximum, "Maximum Feature Set"),
    ] {
        let _ = writeln!(out, "\n### {heading}\n");
        out.push_str("| # | id | feature | suite | tests | level |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for f in FEATURES.iter().filter(|f| f.set == set) {
            let mine: Vec<&LoadedSuite> =
                suites.iter().filter(|s| feature_of(s) == Some(f)).collect();
            if mine.is_empty() {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | no suite | | |",
                    f.item, f.id, f.title
                );
                continue;
            }
            for s in mine {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | `{}` | {} | {} |",
                    f.item,
                    f.id,
                    f.title,
                    s.suite.feature,
                    s.suite.tests.len(),
                    levels(s)
                );
            }
        }
    }
    let protocol: Vec<&LoadedSuite> = suites
        .iter()
        .filter(|s| s.suite.set == FeatureSet::Protocol)
        .collect();
    if !protocol.is_empty() {
        out.push_str(&protocol_section(&protocol));
    }
    let outside: Vec<&LoadedSuite> = suites
        .iter()
        .filter(|s| feature_of(s).is_none() && s.suite.set != FeatureSet::Protocol)
        .collect();
    if !outside.is_empty() {
        out.push_str("\n### Suites naming no feature of the list\n\n");
        for s in outside {
            let r = &s.suite.requirement;
            let _ = writeln!(
                out,
                "- `{}`: {} section {:?} item {}",
                s.suite.feature, r.document, r.section, r.item
            );
        }
    }
    out.push_str("\n### Tests\n");
    for f in &FEATURES {
        for s in suites.iter().filter(|s| feature_of(s) == Some(f)) {
            let _ = writeln!(
                out,
                "\n{} `{}` ({}), suite `{}` ({}):\n",
                f.label(),
                f.id,
                f.title,
                s.suite.feature,
                s.path.display()
            );
            for t in &s.suite.tests {
                let level = t.level.unwrap_or(s.suite.requirement.level);
                let _ = writeln!(
                    out,
                    "- `{}/{}` ({})",
                    s.suite.feature,
                    t.name,
                    level.as_str()
                );
            }
        }
    }
    for s in suites
        .iter()
        .filter(|s| feature_of(s).is_none() && s.suite.set != FeatureSet::Protocol)
    {
        let _ = writeln!(
            out,
            "\n`{}` ({}), outside the list:\n",
            s.suite.feature,
            s.path.display()
        );
        for t in &s.suite.tests {
            let level = t.level.unwrap_or(s.suite.requirement.level);
            let _ = writeln!(
                out,
                "- `{}/{}` ({})",
                s.suite.feature,
                t.name,
                level.as_str()
            );
        }
    }
    out
}

/// The protocol requirements: each protocol suite's tests with the
/// sections they cite and their level.
fn protocol_section(suites: &[&LoadedSuite]) -> String {
    let mut out = String::new();
    let tests: usize = suites.iter().map(|s| s.suite.tests.len()).sum();
    let _ = writeln!(
        out,
        "\n### Protocol requirements\n\nRules of the protocol drafts a provider must enforce whatever features it has, tested by the harness's adversary provider against each target: {} suites, {tests} tests.\n",
        suites.len()
    );
    out.push_str("| suite | test | level | cites |\n|---|---|---|---|\n");
    for s in suites {
        for t in &s.suite.tests {
            let level = t.level.unwrap_or(s.suite.requirement.level);
            let cites: Vec<String> = t
                .cites
                .iter()
                .map(|c| format!("{} §{}", c.document, c.section))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} |",
                s.suite.feature,
                t.name,
                level.as_str(),
                cites.join("; ")
            );
        }
    }
    out
}

/// A generated region of a document lacks its markers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no generated region `{name}`: the document needs the lines `{begin}` and `{end}`")]
pub struct MissingRegionError {
    pub name: String,
    pub begin: String,
    pub end: String,
}

fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- BEGIN GENERATED {name} -->"),
        format!("<!-- END GENERATED {name} -->"),
    )
}

/// The text between the markers of region `name` (without the marker lines).
pub fn region<'a>(doc: &'a str, name: &str) -> Result<&'a str, MissingRegionError> {
    let (begin, end) = markers(name);
    let missing = || MissingRegionError {
        name: name.to_owned(),
        begin: begin.clone(),
        end: end.clone(),
    };
    let start = doc.find(&begin).ok_or_else(missing)? + begin.len();
    let start = start + usize::from(doc[start..].starts_with('\n'));
    let len = doc[start..].find(&end).ok_or_else(missing)?;
    Ok(&doc[start..start + len])
}

/// `doc` with region `name` replaced by `body`.
pub fn splice(doc: &str, name: &str, body: &str) -> Result<String, MissingRegionError> {
    let old = region(doc, name)?;
    let start = old.as_ptr() as usize - doc.as_ptr() as usize;
    let mut out = String::with_capacity(doc.len() + body.len());
    out.push_str(&doc[..start]);
    out.push_str(body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&doc[start + old.len()..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::model::Suite;

    fn suite(feature: &str, section: &str, item: u32) -> LoadedSuite {
        let yaml = format!(
            "version: 1\nfeature: {feature}\ntitle: T\nset: minimum\n\
             requirement: {{document: {REQUIREMENTS_DOC}, section: '{section}', item: {item}, level: MUST}}\n\
             tests:\n- name: one\n  level: SHOULD\n  actors: {{alice: a}}\n  steps: [{{create_room: {{as: alice, capture: r}}}}]\n\
             - name: two\n  actors: {{alice: a}}\n  steps: [{{create_room: {{as: alice, capture: r}}}}]\n"
        );
        let value: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
        let suite: Suite = serde_json::from_value(value).unwrap();
        LoadedSuite {
            path: format!("suites/{feature}.yaml").into(),
            sha256: String::new(),
            suite,
        }
    }

    #[test]
    fn table_has_all_22_features_with_unique_ids_and_items() {
        assert_eq!(
            FEATURES
                .iter()
                .filter(|f| f.set == FeatureSet::Minimum)
                .count(),
            8
        );
        for (i, f) in FEATURES.iter().enumerate() {
            assert!(FEATURES[..i].iter().all(|o| o.id != f.id), "{}", f.id);
            let expected = match f.set {
                FeatureSet::Minimum => i as u32 + 1,
                FeatureSet::Maximum => i as u32 - 7,
                FeatureSet::Protocol => unreachable!("the table lists requirements only"),
            };
            assert_eq!(f.item, expected, "{}", f.id);
        }
    }

    #[test]
    fn suites_map_by_section_and_item_and_the_rest_is_no_suite() {
        let suites = vec![
            suite("mytext", "Minimum Feature Set", 3),
            suite("mine", "3", 14),
            suite("stray", "Minimum Feature Set", 9),
        ];
        assert_eq!(feature_of(&suites[0]).map(|f| f.id), Some("text"));
        assert_eq!(feature_of(&suites[1]).map(|f| f.id), Some("reactions"));
        assert_eq!(feature_of(&suites[2]), None);
        let md = markdown(&suites);
        assert!(
            md.contains(
                "| 3 | `text` | Text and rich text | `mytext` | 2 | MUST; SHOULD (1 test) |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| 14 | `reactions` | Reactions | `mine` | 2 |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | `encryption` | Encryption and device tracking | no suite | | |"),
            "{md}"
        );
        assert!(md.contains("- `stray`: "), "{md}");
        assert!(
            md.contains("- `mytext/one` (SHOULD)\n- `mytext/two` (MUST)"),
            "{md}"
        );
        assert!(md.starts_with("Requirements of draft-ralston-mimi-messaging-requirements-00 with a suite: 1 of 8 minimum, 1 of 14 maximum; 3 suites, 6 tests."), "{md}");
    }

    #[test]
    fn splice_replaces_only_the_region() {
        let doc = "intro\n<!-- BEGIN GENERATED x -->\nold\n<!-- END GENERATED x -->\noutro\n";
        assert_eq!(region(doc, "x").unwrap(), "old\n");
        let new = splice(doc, "x", "new\nlines").unwrap();
        assert_eq!(
            new,
            "intro\n<!-- BEGIN GENERATED x -->\nnew\nlines\n<!-- END GENERATED x -->\noutro\n"
        );
        assert_eq!(region(&new, "x").unwrap(), "new\nlines\n");
        assert!(region(doc, "y").is_err());
    }
}
