//! Deterministic CBOR writer (RFC 8949 §4.2.1) and one-line diagnostic
//! notation.

use super::Value;

fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if arg <= 0xff {
        out.push(m | 24);
        out.push(arg as u8);
    } else if arg <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(arg as u16).to_be_bytes());
    } else if arg <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(arg as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// The shortest exact encoding of a float (NaN always as `f97e00`).
pub(super) fn encode_float(f: f64) -> Vec<u8> {
    if f.is_nan() {
        return vec![0xf9, 0x7e, 0x00];
    }
    let h = half::f16::from_f64(f);
    if h.to_f64() == f {
        let mut v = vec![0xf9];
        v.extend_from_slice(&h.to_bits().to_be_bytes());
        return v;
    }
    let s = f as f32;
    if f64::from(s) == f {
        let mut v = vec![0xfa];
        v.extend_from_slice(&s.to_bits().to_be_bytes());
        return v;
    }
    let mut v = vec![0xfb];
    v.extend_from_slice(&f.to_bits().to_be_bytes());
    v
}

/// Deterministic encoding (RFC 8949 §4.2.1): shortest heads, definite
/// lengths, map keys sorted by their encoded bytes.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, v);
    out
}

fn encode_into(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Uint(n) => write_head(out, 0, *n),
        Value::Nint(n) => write_head(out, 1, *n),
        Value::Bytes(b) => {
            write_head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(s) => {
            write_head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            write_head(out, 4, items.len() as u64);
            for i in items {
                encode_into(out, i);
            }
        }
        Value::Map(entries) => {
            let mut enc: Vec<(Vec<u8>, Vec<u8>)> = entries
                .iter()
                .map(|(k, v)| (encode(k), encode(v)))
                .collect();
            enc.sort_by(|a, b| a.0.cmp(&b.0));
            write_head(out, 5, enc.len() as u64);
            for (k, v) in enc {
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
        }
        Value::Tag(t, inner) => {
            write_head(out, 6, *t);
            encode_into(out, inner);
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Undefined => out.push(0xf7),
        Value::Simple(s) => {
            if *s < 24 {
                out.push(0xe0 | s);
            } else {
                out.push(0xf8);
                out.push(*s);
            }
        }
        Value::Float(f) => out.extend_from_slice(&encode_float(*f)),
    }
}

/// CBOR diagnostic notation (RFC 8949 §8) on one line, for messages.
pub fn diag(v: &Value) -> String {
    let mut s = String::new();
    diag_into(&mut s, v);
    s
}

fn diag_into(s: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Uint(n) => {
            let _ = write!(s, "{n}");
        }
        Value::Nint(n) => {
            let _ = write!(s, "-{}", u128::from(*n) + 1);
        }
        Value::Bytes(b) => {
            let _ = write!(s, "h'{}'", hex::encode(b));
        }
        Value::Text(t) => {
            let _ = write!(s, "{t:?}");
        }
        Value::Array(items) => {
            s.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                diag_into(s, it);
            }
            s.push(']');
        }
        Value::Map(entries) => {
            s.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                diag_into(s, k);
                s.push_str(": ");
                diag_into(s, v);
            }
            s.push('}');
        }
        Value::Tag(t, inner) => {
            let _ = write!(s, "{t}(");
            diag_into(s, inner);
            s.push(')');
        }
        Value::Bool(b) => {
            let _ = write!(s, "{b}");
        }
        Value::Null => s.push_str("null"),
        Value::Undefined => s.push_str("undefined"),
        Value::Simple(n) => {
            let _ = write!(s, "simple({n})");
        }
        Value::Float(f) => {
            if f.is_nan() {
                s.push_str("NaN");
            } else if f.is_infinite() {
                s.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                let _ = write!(s, "{f:?}");
            }
        }
    }
}
