//! Positions in YAML source for errors serde cannot place itself.
//!
//! serde_yaml only knows positions while it deserializes. To find where a
//! node is, we deserialize the document again with a seed that walks down a
//! path and fails on purpose at the node: the error then carries the node's
//! position. The same trick finds duplicate keys, which serde reports at 1:1.

use super::diag::{Diagnostic, Position};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(k: &str) -> Self {
        Seg::Key(k.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Builds a path: `path!["tests", 0, "steps"]`.
macro_rules! yaml_path {
    ($($seg:expr),* $(,)?) => {
        Vec::<$crate::suite::locate::Seg>::from([$($crate::suite::locate::Seg::from($seg)),*])
    };
}
pub(crate) use yaml_path as path;

/// What to point at: the node at the path, or the key naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Value,
    Key,
}

const SENTINEL: &str = "\u{0}found";

/// The position of the node (or its key) at `path` in `source`.
pub fn locate(source: &str, path: &[Seg], part: Part) -> Option<Position> {
    let de = serde_yaml::Deserializer::from_str(source);
    match (Seek { path, part }).deserialize(de) {
        Ok(()) => None,
        Err(err) if err.to_string().contains(SENTINEL) => position_of(&err),
        Err(_) => None,
    }
}

/// The first key that appears twice in one mapping, with its position.
pub fn duplicate_key(source: &str) -> Option<(String, Position)> {
    let de = serde_yaml::Deserializer::from_str(source);
    match DupCheck.deserialize(de) {
        Ok(()) => None,
        Err(err) => {
            let text = err.to_string();
            let start = text.find(DUP_PREFIX)? + DUP_PREFIX.len();
            let end = text[start..].find('\u{0}')? + start;
            Some((text[start..end].to_string(), position_of(&err)?))
        }
    }
}

/// The error's position, if serde attached one.
pub fn position_of(err: &serde_yaml::Error) -> Option<Position> {
    err.location().map(|l| Position {
        line: l.line(),
        column: l.column(),
    })
}

/// A serde_yaml error as a diagnostic: its message without the trailing
/// ` at line L column C` (shown by the snippet instead).
pub fn yaml_error(file: &str, source: &str, err: &serde_yaml::Error) -> Diagnostic {
    let pos = position_of(err);
    let message = strip_positions(&err.to_string(), pos);
    // serde attaches no position to some errors (e.g. a missing field of
    // the top-level mapping): those point at the document's start.
    Diagnostic::at(
        file,
        source,
        pos.unwrap_or_else(|| document_start(source)),
        message,
    )
}

/// Where the document's content starts: its first line that is neither
/// blank nor a comment (1:1 for a file without one).
pub fn document_start(source: &str) -> Position {
    source
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            let t = l.trim_start();
            (!t.is_empty() && !t.starts_with('#') && t != "---").then(|| Position {
                line: i + 1,
                column: l.chars().count() - t.chars().count() + 1,
            })
        })
        .unwrap_or(Position { line: 1, column: 1 })
}

/// Drops ` at line L column C` where it repeats `shown` (the snippet shows
/// it) and shortens other positions to ` at L:C`.
fn strip_positions(msg: &str, shown: Option<Position>) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let col = &after[digits..];
        if digits > 0 && col.starts_with(" column ") {
            let tail = &col[" column ".len()..];
            let d2 = tail.chars().take_while(char::is_ascii_digit).count();
            let line: usize = after[..digits].parse().unwrap_or(0);
            let column: usize = tail[..d2].parse().unwrap_or(0);
            if shown != Some(Position { line, column }) {
                out.push_str(&format!(" at {line}:{column}"));
            }
            rest = &tail[d2..];
        } else {
            out.push_str(" at line ");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Walks to `path`, then fails at the node (or key) there.
struct Seek<'p> {
    path: &'p [Seg],
    part: Part,
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Err(de::Error::custom(SENTINEL));
        };
        let Seg::Key(want) = first else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let key_is_target = rest.is_empty() && self.part == Part::Key;
        loop {
            let seed = KeySeek {
                want,
                fail: key_is_target,
            };
            match map.next_key_seed(seed)? {
                None => return Ok(()),
                Some(true) => {
                    return map.next_value_seed(Seek {
                        path: rest,
                        part: self.part,
                    });
                }
                Some(false) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Err(de::Error::custom(SENTINEL));
        };
        let Seg::Index(want) = first else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Seek {
            path: rest,
            part: self.part,
        })?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // Tagged nodes (`!tag value`): no suite uses them; treat as opaque.
        let _ = data.variant::<IgnoredAny>()?;
        Err(de::Error::custom("tagged node"))
    }
}

impl Seek<'_> {
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(SENTINEL))
        } else {
            Ok(())
        }
    }
}

/// Reads a key; says whether it is `want`, failing there when `fail`.
struct KeySeek<'w> {
    want: &'w str,
    fail: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeek<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeek<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<bool, E> {
        if k == self.want {
            if self.fail {
                return Err(E::custom(SENTINEL));
            }
            return Ok(true);
        }
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

const DUP_PREFIX: &str = "\u{0}dup:";

/// Walks the whole document and fails at the first repeated key.
struct DupCheck;

impl<'de> DeserializeSeed<'de> for DupCheck {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupCheck {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while map.next_key_seed(DupKey { seen: &mut seen })?.is_some() {
            map.next_value_seed(DupCheck)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(DupCheck)?.is_some() {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        let (_, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant_seed(variant, DupCheck)
    }
}

struct DupKey<'s> {
    seen: &'s mut HashSet<String>,
}

impl<'de> DeserializeSeed<'de> for DupKey<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DupKey<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<(), E> {
        if !self.seen.insert(k.to_string()) {
            return Err(E::custom(format!("{DUP_PREFIX}{k}\u{0}")));
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_str("null")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\ntests:\n  - name: one\n    steps:\n      - send: { as: alice, room: \"${room}\" }\n";

    #[test]
    fn finds_values_and_keys() {
        let p = locate(DOC, &path!["tests", 0, "name"], Part::Value).unwrap();
        assert_eq!((p.line, p.column), (3, 11));
        let p = locate(DOC, &path!["tests", 0, "name"], Part::Key).unwrap();
        assert_eq!((p.line, p.column), (3, 5));
        let p = locate(
            DOC,
            &path!["tests", 0, "steps", 0, "send", "room"],
            Part::Value,
        )
        .unwrap();
        assert_eq!((p.line, p.column), (5, 34));
        assert_eq!(locate(DOC, &path!["tests", 1], Part::Value), None);
    }

    #[test]
    fn finds_duplicate_keys() {
        let src = "a: 1\nb:\n  c: 1\n  c: 2\n";
        let (k, p) = duplicate_key(src).unwrap();
        assert_eq!(k, "c");
        assert_eq!((p.line, p.column), (4, 3));
        assert_eq!(duplicate_key(DOC), None);
    }

    #[test]
    fn strips_positions() {
        let shown = Some(Position { line: 3, column: 4 });
        assert_eq!(
            strip_positions(
                "x: unknown field `a` at line 3 column 4, while b at line 1 column 2",
                shown
            ),
            "x: unknown field `a`, while b at 1:2"
        );
    }
}
