//! Exact, path-reporting decoding of MIMI bodies.
//!
//! tls_codec's `Deserialize` only says *that* a body is wrong; a vendor
//! debugging a captured body needs to know *where*. [`Reader`] walks a body
//! field by field, keeps the path of names it is inside
//! (`KeyMaterialResponse.clients[1].keyPackage`), and every error carries
//! that path and the byte offset. MLS objects inside a body are decoded with
//! openmls/tls_codec as leaves ([`Reader::tls`]). Encoding stays tls_codec's
//! `Serialize`.

use openmls::prelude::tls_codec::{self, VLBytes};
use std::fmt;

/// Why a body did not decode, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Dotted path of the field being decoded, e.g.
    /// `SubmitMessageRequest.appMessage`.
    pub path: String,
    /// Byte offset into the whole body where the problem was found.
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The body ended inside this field.
    Truncated,
    /// Bytes remained after the structure ended.
    TrailingBytes { count: usize },
    /// An enum (or `optional` presence octet) had a value the draft does not define.
    UnknownValue { what: &'static str, value: u64 },
    /// A vector's length prefix claims more bytes than remain.
    VectorTooLong { declared: u64, available: usize },
    /// A variable-length integer that RFC 9420 §2.1.2 forbids (prefix 0b11 or
    /// not minimal).
    BadVarint,
    /// A vector element that took no bytes (would loop forever).
    EmptyElement,
    /// A value the draft defines that this codec does not implement.
    Unsupported(String),
    /// The field decoded but breaks a rule of the draft, or an MLS object
    /// openmls refused.
    Invalid(String),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => write!(f, "truncated"),
            Self::TrailingBytes { count } => write!(f, "{count} trailing byte(s)"),
            Self::UnknownValue { what, value } => write!(f, "unknown {what} {value}"),
            Self::VectorTooLong {
                declared,
                available,
            } => write!(
                f,
                "vector length {declared} exceeds the {available} byte(s) left"
            ),
            Self::BadVarint => write!(f, "invalid variable-length integer"),
            Self::EmptyElement => write!(f, "vector element of zero bytes"),
            Self::Unsupported(what) => write!(f, "{what} is not supported"),
            Self::Invalid(why) => write!(f, "{why}"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} at byte {}", self.path, self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// [`DecodeErrorKind::UnknownValue`] for a one-octet code.
pub fn unknown(what: &'static str, value: u8) -> DecodeErrorKind {
    DecodeErrorKind::UnknownValue {
        what,
        value: value.into(),
    }
}

/// A body structure that decodes field by field.
pub trait Decode: Sized {
    /// The draft's name for the structure: the root of error paths.
    const NAME: &'static str;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Decodes a whole body as one `T`; trailing bytes are an error.
pub fn decode<T: Decode>(body: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(body, T::NAME);
    let v = T::decode(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// A cursor over a body that knows which field it is in.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// End of the innermost vector being read (or of the body).
    end: usize,
    path: Vec<Segment>,
}

enum Segment {
    Field(&'static str),
    Index(usize),
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], root: &'static str) -> Self {
        Self {
            buf,
            pos: 0,
            end: buf.len(),
            path: vec![Segment::Field(root)],
        }
    }

    /// The current path, e.g. `KeyMaterialResponse.clients[1].clientUri`.
    pub fn path(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Segment::Field(name) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                Segment::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// Offset of the next byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left in the current bound.
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// An error at the current path and offset.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        self.error_at(self.pos, kind)
    }

    /// An error at an earlier offset of the current field.
    pub fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            path: self.path(),
            offset,
            kind,
        }
    }

    /// An [`DecodeErrorKind::Invalid`] error at the current path.
    pub fn invalid(&self, why: impl Into<String>) -> DecodeError {
        self.error(DecodeErrorKind::Invalid(why.into()))
    }

    /// An error about the named field, already read, that started at `at`.
    pub fn field_error(&self, name: &'static str, at: usize, kind: DecodeErrorKind) -> DecodeError {
        let mut e = self.error_at(at, kind);
        e.path.push('.');
        e.path.push_str(name);
        e
    }

    /// Decodes one named field.
    pub fn field<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.path.push(Segment::Field(name));
        let v = f(self)?;
        self.path.pop();
        Ok(v)
    }

    /// Decodes the `i`th of a sequence that has no length prefix.
    pub fn index<T>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        self.path.push(Segment::Index(i));
        let v = f(self)?;
        self.path.pop();
        Ok(v)
    }

    /// Errors unless the body (or current bound) is used up.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.pos != self.end {
            return Err(self.error(DecodeErrorKind::TrailingBytes {
                count: self.end - self.pos,
            }));
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(self.error_at(self.end, DecodeErrorKind::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    pub fn array32(&mut self) -> Result<[u8; 32], DecodeError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32)?);
        Ok(a)
    }

    /// A vector length (RFC 9420 §2.1.2 variable-length integer), checked
    /// against what is left.
    fn length(&mut self) -> Result<usize, DecodeError> {
        let start = self.pos;
        let first = self.u8()?;
        let (len, min) = match first >> 6 {
            0 => (u64::from(first & 0x3f), 0),
            1 => ((u64::from(first & 0x3f) << 8) | u64::from(self.u8()?), 64),
            2 => {
                let rest = self.take(3)?;
                let v = (u64::from(first & 0x3f) << 24)
                    | (u64::from(rest[0]) << 16)
                    | (u64::from(rest[1]) << 8)
                    | u64::from(rest[2]);
                (v, 16384)
            }
            _ => return Err(self.error_at(start, DecodeErrorKind::BadVarint)),
        };
        if len < min {
            return Err(self.error_at(start, DecodeErrorKind::BadVarint));
        }
        if len > self.remaining() as u64 {
            return Err(self.error_at(
                start,
                DecodeErrorKind::VectorTooLong {
                    declared: len,
                    available: self.remaining(),
                },
            ));
        }
        Ok(len as usize)
    }

    /// `opaque x<V>`.
    pub fn opaque(&mut self) -> Result<VLBytes, DecodeError> {
        let n = self.length()?;
        Ok(VLBytes::new(self.take(n)?.to_vec()))
    }

    /// `T x<V>`, each element decoded by `f` under `[i]`.
    pub fn vector<T>(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let n = self.length()?;
        let outer = self.end;
        self.end = self.pos + n;
        let mut out = Vec::new();
        while self.pos < self.end {
            let before = self.pos;
            self.path.push(Segment::Index(out.len()));
            let v = f(self)?;
            self.path.pop();
            if self.pos == before {
                return Err(self.error(DecodeErrorKind::EmptyElement));
            }
            out.push(v);
        }
        self.end = outer;
        Ok(out)
    }

    /// `optional<T>`: a presence octet 0 or 1, then `T` if 1.
    pub fn optional<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(f(self)?)),
            v => Err(self.error_at(
                at,
                DecodeErrorKind::UnknownValue {
                    what: "optional presence",
                    value: v.into(),
                },
            )),
        }
    }

    /// A one-octet enum field: `known` maps a code to its value, or `None`
    /// for a code the draft does not define.
    pub fn enum8<T>(
        &mut self,
        name: &'static str,
        what: &'static str,
        known: impl FnOnce(u8) -> Option<T>,
    ) -> Result<T, DecodeError> {
        self.field(name, |r| {
            let at = r.pos;
            let code = r.u8()?;
            known(code).ok_or_else(|| r.unknown(at, what, code.into()))
        })
    }

    /// An enum code the draft does not define.
    pub fn unknown(&self, at: usize, what: &'static str, value: u64) -> DecodeError {
        self.error_at(at, DecodeErrorKind::UnknownValue { what, value })
    }

    /// A tls_codec-decoded leaf (an MLS object, or a small fixed structure),
    /// returned with the exact bytes it took.
    pub fn tls<T: tls_codec::Deserialize>(&mut self) -> Result<(T, &'a [u8]), DecodeError> {
        let start = self.pos;
        let mut rest = &self.buf[start..self.end];
        let before = rest.len();
        match T::tls_deserialize(&mut rest) {
            Ok(v) => {
                let used = before - rest.len();
                self.pos += used;
                Ok((v, &self.buf[start..start + used]))
            }
            Err(e) => Err(match e {
                tls_codec::Error::EndOfStream => {
                    self.error_at(self.end, DecodeErrorKind::Truncated)
                }
                tls_codec::Error::UnknownValue(v) => self.error_at(
                    start,
                    DecodeErrorKind::UnknownValue {
                        what: "value",
                        value: v,
                    },
                ),
                tls_codec::Error::DecodingError(why) => {
                    self.error_at(start, DecodeErrorKind::Invalid(why))
                }
                other => self.error_at(start, DecodeErrorKind::Invalid(format!("{other:?}"))),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_rfc9420_varints() {
        let mut r = Reader::new(&[0x40, 0x03, 1, 2, 3], "T");
        assert!(matches!(
            r.opaque().unwrap_err().kind,
            DecodeErrorKind::BadVarint
        ));
        let mut r = Reader::new(&[0x03, 1, 2, 3], "T");
        assert_eq!(r.opaque().unwrap().as_slice(), &[1, 2, 3]);
        let mut r = Reader::new(&[0xc0], "T");
        assert!(matches!(
            r.opaque().unwrap_err().kind,
            DecodeErrorKind::BadVarint
        ));
        let mut r = Reader::new(&[0x05, 1], "T");
        let e = r.field("x", |r| r.opaque()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "T.x: vector length 5 exceeds the 1 byte(s) left at byte 0"
        );
    }

    #[test]
    fn vector_elements_are_bounded_and_indexed() {
        // Two u16 elements; the second is cut by the vector's bound.
        let mut r = Reader::new(&[3, 0, 1, 0, 9], "T");
        let e = r
            .field("v", |r| r.vector(|r| r.field("x", |r| r.u16())))
            .unwrap_err();
        assert_eq!(e.path, "T.v[1].x");
        assert_eq!(e.kind, DecodeErrorKind::Truncated);
        assert_eq!(e.offset, 4);
    }
}
