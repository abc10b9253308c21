//! A small strict CBOR reader and a deterministic (RFC 8949 §4.2.1) writer.
//!
//! Written for MIMI content instead of using a general serde codec because the
//! harness must (a) never panic or over-allocate on hostile input, (b) notice
//! every non-deterministic encoding (long integer forms, indefinite lengths,
//! unsorted map keys, wide floats) and still return the value, and (c) keep
//! byte strings and text strings apart.

use std::fmt;

/// Deepest array/map/tag nesting the reader accepts. MIMI content needs at
/// most ~12 (NestedPart depth 4 is two CBOR levels per part, extensions 4);
/// 64 leaves room for the validator to report precise depth errors.
pub const MAX_DEPTH: usize = 64;

/// A decoded CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    /// Entries in the order they were read (the writer sorts them).
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Bool(bool),
    Null,
    Undefined,
    /// Other simple values (0..=19, 32..=255).
    Simple(u8),
    Float(f64),
}

impl Value {
    /// The value as an i128 when it is an integer.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            Value::Uint(n) => Some(i128::from(*n)),
            Value::Nint(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }

    /// A short name of the CBOR type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Uint(_) => "an unsigned integer",
            Value::Nint(_) => "a negative integer",
            Value::Bytes(_) => "a byte string",
            Value::Text(_) => "a text string",
            Value::Array(_) => "an array",
            Value::Map(_) => "a map",
            Value::Tag(..) => "a tag",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Undefined => "undefined",
            Value::Simple(_) => "a simple value",
            Value::Float(_) => "a float",
        }
    }
}

/// Why bytes are not a single well-formed CBOR item (fatal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    #[error("truncated input at byte {offset}")]
    Truncated { offset: usize },
    #[error("reserved additional information {info} at byte {offset}")]
    Reserved { offset: usize, info: u8 },
    #[error("indefinite length not allowed for major type {major} at byte {offset}")]
    BadIndefinite { offset: usize, major: u8 },
    #[error("invalid chunk inside an indefinite-length string at byte {offset}")]
    BadChunk { offset: usize },
    #[error("unexpected break code at byte {offset}")]
    UnexpectedBreak { offset: usize },
    #[error("invalid UTF-8 in text string at byte {offset}")]
    InvalidUtf8 { offset: usize },
    #[error("two-byte simple value {value} below 32 at byte {offset}")]
    BadSimple { offset: usize, value: u8 },
    #[error("nesting deeper than {MAX_DEPTH} at byte {offset}")]
    TooDeep { offset: usize },
    #[error("length {len} at byte {offset} exceeds the remaining input")]
    TooLong { offset: usize, len: u64 },
    #[error("map at byte {offset} repeats the key {key}")]
    DuplicateKey { offset: usize, key: String },
    #[error("{count} trailing byte(s) after the data item at byte {offset}")]
    Trailing { offset: usize, count: usize },
}

/// One place where the input was well-formed but not deterministic CBOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonCanonical {
    /// Byte offset of the offending item head.
    pub offset: usize,
    /// Where, from the top item down.
    pub path: Vec<Seg>,
    pub reason: String,
}

/// One step of a generic CBOR path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Array element.
    Index(usize),
    /// Map value under this key (in diagnostic notation).
    Key(String),
    /// The n-th key of a map itself.
    KeyAt(usize),
    /// The content of a tag.
    Tagged,
}

/// Renders a generic path like `[6][4][1]` or `[5]{1}`; `$` when empty.
pub fn path_string(path: &[Seg]) -> String {
    if path.is_empty() {
        return "$".to_string();
    }
    path.iter()
        .map(|s| match s {
            Seg::Index(i) => format!("[{i}]"),
            Seg::Key(k) => format!("{{{k}}}"),
            Seg::KeyAt(i) => format!("{{key #{i}}}"),
            Seg::Tagged => ".tagged".to_string(),
        })
        .collect()
}

impl fmt::Display for NonCanonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (byte {}): {}",
            path_string(&self.path),
            self.offset,
            self.reason
        )
    }
}

/// Reads exactly one CBOR item from `bytes`, also returning every
/// non-deterministic encoding seen.
pub fn decode(bytes: &[u8]) -> Result<(Value, Vec<NonCanonical>), CborError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        notes: Vec::new(),
        path: Vec::new(),
    };
    let v = r.item(0)?;
    if r.pos != bytes.len() {
        return Err(CborError::Trailing {
            offset: r.pos,
            count: bytes.len() - r.pos,
        });
    }
    Ok((v, r.notes))
}

enum Head {
    Arg(u64),
    Indefinite,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    notes: Vec<NonCanonical>,
    path: Vec<Seg>,
}

impl Reader<'_> {
    fn note(&mut self, offset: usize, reason: impl Into<String>) {
        self.notes.push(NonCanonical {
            offset,
            path: self.path.clone(),
            reason: reason.into(),
        });
    }

    fn take(&mut self, n: usize) -> Result<&[u8], CborError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or(CborError::Truncated {
                offset: self.bytes.len(),
            })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Reads the argument of an item head; flags non-shortest forms.
    fn head_arg(&mut self, start: usize, info: u8) -> Result<Head, CborError> {
        let v = match info {
            0..=23 => return Ok(Head::Arg(u64::from(info))),
            24 => {
                let v = u64::from(self.byte()?);
                if v < 24 {
                    self.note(
                        start,
                        format!("argument {v} should be encoded in the head byte"),
                    );
                }
                v
            }
            25 => {
                let b = self.take(2)?;
                let v = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if v <= 0xff {
                    self.note(
                        start,
                        format!("argument {v} uses 2 bytes, 1 or fewer suffice"),
                    );
                }
                v
            }
            26 => {
                let b = self.take(4)?;
                let v = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                if v <= 0xffff {
                    self.note(
                        start,
                        format!("argument {v} uses 4 bytes, 2 or fewer suffice"),
                    );
                }
                v
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let v = u64::from_be_bytes(a);
                if v <= 0xffff_ffff {
                    self.note(
                        start,
                        format!("argument {v} uses 8 bytes, 4 or fewer suffice"),
                    );
                }
                v
            }
            31 => return Ok(Head::Indefinite),
            _ => {
                return Err(CborError::Reserved {
                    offset: start,
                    info,
                });
            }
        };
        Ok(Head::Arg(v))
    }

    /// A definite length checked against the remaining input (each element
    /// needs at least `min_each` bytes), so nothing huge is ever allocated.
    fn length(&self, start: usize, len: u64, min_each: usize) -> Result<usize, CborError> {
        let max = self.remaining() / min_each.max(1);
        match usize::try_from(len) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(CborError::TooLong { offset: start, len }),
        }
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let start = self.pos;
        let ib = self.byte()?;
        let major = ib >> 5;
        let info = ib & 0x1f;
        if ib == 0xff {
            return Err(CborError::UnexpectedBreak { offset: start });
        }
        match major {
            0 => match self.head_arg(start, info)? {
                Head::Arg(n) => Ok(Value::Uint(n)),
                Head::Indefinite => Err(CborError::BadIndefinite {
                    offset: start,
                    major,
                }),
            },
            1 => match self.head_arg(start, info)? {
                Head::Arg(n) => Ok(Value::Nint(n)),
                Head::Indefinite => Err(CborError::BadIndefinite {
                    offset: start,
                    major,
                }),
            },
            2 | 3 => {
                let raw = match self.head_arg(start, info)? {
                    Head::Arg(n) => {
                        let n = self.length(start, n, 1)?;
                        self.take(n)?.to_vec()
                    }
                    Head::Indefinite => {
                        self.note(start, "indefinite-length string");
                        let mut out = Vec::new();
                        loop {
                            let cs = self.pos;
                            let cb = self.byte()?;
                            if cb == 0xff {
                                break;
                            }
                            if cb >> 5 != major {
                                return Err(CborError::BadChunk { offset: cs });
                            }
                            match self.head_arg(cs, cb & 0x1f)? {
                                Head::Arg(n) => {
                                    let n = self.length(cs, n, 1)?;
                                    let chunk = self.take(n)?;
                                    if major == 3 && std::str::from_utf8(chunk).is_err() {
                                        return Err(CborError::InvalidUtf8 { offset: cs });
                                    }
                                    out.extend_from_slice(chunk);
                                }
                                Head::Indefinite => {
                                    return Err(CborError::BadChunk { offset: cs });
                                }
                            }
                        }
                        out
                    }
                };
                if major == 2 {
                    Ok(Value::Bytes(raw))
                } else {
                    String::from_utf8(raw)
                        .map(Value::Text)
                        .map_err(|_| CborError::InvalidUtf8 { offset: start })
                }
            }
            4 => {
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep { offset: start });
                }
                let head = self.head_arg(start, info)?;
                let mut items = Vec::new();
                match head {
                    Head::Arg(n) => {
                        let n = self.length(start, n, 1)?;
                        for i in 0..n {
                            self.path.push(Seg::Index(i));
                            let v = self.item(depth + 1);
                            self.path.pop();
                            items.push(v?);
                        }
                    }
                    Head::Indefinite => {
                        self.note(start, "indefinite-length array");
                        while self.peek_break()? {
                            self.path.push(Seg::Index(items.len()));
                            let v = self.item(depth + 1);
                            self.path.pop();
                            items.push(v?);
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            5 => {
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep { offset: start });
                }
                let head = self.head_arg(start, info)?;
                let mut entries: Vec<(Value, Value, Vec<u8>)> = Vec::new();
                let n = match head {
                    Head::Arg(n) => Some(self.length(start, n, 2)?),
                    Head::Indefinite => {
                        self.note(start, "indefinite-length map");
                        None
                    }
                };
                let mut i = 0usize;
                loop {
                    match n {
                        Some(n) if i >= n => break,
                        None if !self.peek_break()? => break,
                        _ => {}
                    }
                    self.path.push(Seg::KeyAt(i));
                    let k = self.item(depth + 1);
                    self.path.pop();
                    let k = k?;
                    let kenc = encode(&k);
                    self.path.push(Seg::Key(diag(&k)));
                    let v = self.item(depth + 1);
                    self.path.pop();
                    entries.push((k, v?, kenc));
                    i += 1;
                }
                let sorted = entries.windows(2).all(|w| w[0].2 < w[1].2);
                if !sorted {
                    let mut keys: Vec<&(Value, Value, Vec<u8>)> = entries.iter().collect();
                    keys.sort_by(|a, b| a.2.cmp(&b.2));
                    if let Some(w) = keys.windows(2).find(|w| w[0].2 == w[1].2) {
                        return Err(CborError::DuplicateKey {
                            offset: start,
                            key: diag(&w[0].0),
                        });
                    }
                    self.note(
                        start,
                        "map keys are not in bytewise lexicographic order of their encodings",
                    );
                }
                Ok(Value::Map(
                    entries.into_iter().map(|(k, v, _)| (k, v)).collect(),
                ))
            }
            6 => {
                if depth >= MAX_DEPTH {
                    return Err(CborError::TooDeep { offset: start });
                }
                let tag = match self.head_arg(start, info)? {
                    Head::Arg(n) => n,
                    Head::Indefinite => {
                        return Err(CborError::BadIndefinite {
                            offset: start,
                            major,
                        });
                    }
                };
                self.path.push(Seg::Tagged);
                let inner = self.item(depth + 1);
                self.path.pop();
                let inner = inner?;
                if (tag == 2 || tag == 3)
                    && let Value::Bytes(b) = &inner
                {
                    let significant = b.iter().skip_while(|x| **x == 0).count();
                    if significant <= 8 {
                        self.note(start, "bignum that fits in a plain integer");
                    }
                }
                Ok(Value::Tag(tag, Box::new(inner)))
            }
            _ => self.simple_or_float(start, info),
        }
    }

    /// True when another item follows inside an indefinite container; consumes
    /// the break code when it ends.
    fn peek_break(&mut self) -> Result<bool, CborError> {
        match self.bytes.get(self.pos) {
            None => Err(CborError::Truncated { offset: self.pos }),
            Some(0xff) => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) => Ok(true),
        }
    }

    fn simple_or_float(&mut self, start: usize, info: u8) -> Result<Value, CborError> {
        match info {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 => Ok(Value::Null),
            23 => Ok(Value::Undefined),
            0..=19 => Ok(Value::Simple(info)),
            24 => {
                let v = self.byte()?;
                if v < 32 {
                    return Err(CborError::BadSimple {
                        offset: start,
                        value: v,
                    });
                }
                Ok(Value::Simple(v))
            }
            25 => {
                let b = self.take(2)?;
                let bits = u16::from_be_bytes([b[0], b[1]]);
                let f = half::f16::from_bits(bits).to_f64();
                if f.is_nan() && bits != 0x7e00 {
                    self.note(start, "NaN other than the half-width quiet NaN f97e00");
                }
                Ok(Value::Float(f))
            }
            26 => {
                let b = self.take(4)?;
                let f = f64::from(f32::from_bits(u32::from_be_bytes([b[0], b[1], b[2], b[3]])));
                if encode_float(f).len() < 5 || f.is_nan() {
                    self.note(start, "float has a shorter exact encoding");
                }
                Ok(Value::Float(f))
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let f = f64::from_bits(u64::from_be_bytes(a));
                if encode_float(f).len() < 9 || f.is_nan() {
                    self.note(start, "float has a shorter exact encoding");
                }
                Ok(Value::Float(f))
            }
            _ => Err(CborError::Reserved {
                offset: start,
                info,
            }),
        }
    }
}

mod write;

use write::encode_float;
pub use write::{diag, encode};

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(hexs: &str) -> (Value, Vec<NonCanonical>) {
        decode(&hex::decode(hexs).unwrap()).unwrap()
    }

    #[test]
    fn canonical_ints_round_trip_without_notes() {
        for n in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let b = encode(&Value::Uint(n));
            let (v, notes) = decode(&b).unwrap();
            assert_eq!(v, Value::Uint(n));
            assert!(notes.is_empty());
        }
    }

    #[test]
    fn long_int_forms_are_noted() {
        let (v, notes) = dec("1817");
        assert_eq!(v, Value::Uint(23));
        assert_eq!(notes.len(), 1);
        let (_, notes) = dec("190017");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn indefinite_and_unsorted_are_noted() {
        let (v, notes) = dec("9f0102ff");
        assert_eq!(v, Value::Array(vec![Value::Uint(1), Value::Uint(2)]));
        assert_eq!(notes.len(), 1);
        let (_, notes) = dec("a2020001f6");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].reason.contains("order"));
        let (v, notes) = dec("7f616161626163ff");
        assert_eq!(v, Value::Text("abc".into()));
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn floats_use_shortest_form() {
        assert_eq!(encode(&Value::Float(1.5)), hex::decode("f93e00").unwrap());
        assert_eq!(
            encode(&Value::Float(f64::NAN)),
            hex::decode("f97e00").unwrap()
        );
        let (_, notes) = dec("fb3ff8000000000000");
        assert_eq!(notes.len(), 1);
        let (_, notes) = dec("fb3ff199999999999a");
        assert!(notes.is_empty());
    }

    #[test]
    fn hostile_lengths_do_not_allocate() {
        assert!(matches!(
            decode(&hex::decode("5bffffffffffffffff").unwrap()),
            Err(CborError::TooLong { .. })
        ));
        assert!(matches!(
            decode(&hex::decode("9bffffffffffffffff").unwrap()),
            Err(CborError::TooLong { .. })
        ));
        let deep = vec![0x81u8; 10_000];
        assert!(matches!(decode(&deep), Err(CborError::TooDeep { .. })));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for h in [
            "", "18", "1c", "ff", "62c328", "f818", "5f01ff", "0000", "9f",
        ] {
            assert!(decode(&hex::decode(h).unwrap()).is_err(), "{h}");
        }
    }
}
