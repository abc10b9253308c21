//! Annotated CBOR diagnostic notation of MIMI content, for people: one item
//! per line with its field path and, for enumerations, the value's name.

use std::fmt::Write;

use super::cbor::{self, Seg, Value};
use super::model::{Disposition, PartSemantics};
use super::paths::field_path;

/// Pretty, annotated diagnostic notation of a MIMI content value.
pub fn annotate(root: &Value) -> String {
    let mut out = String::new();
    let mut path = Vec::new();
    item(&mut out, root, root, &mut path, 0, "");
    out
}

fn note(root: &Value, path: &[Seg], v: &Value) -> String {
    if path.is_empty() {
        return "mimiContent".into();
    }
    let name = field_path(root, path);
    let last = name.rsplit('.').next().unwrap_or("");
    let extra = match (last, v) {
        ("disposition", Value::Uint(n)) => Some(
            u8::try_from(*n)
                .ok()
                .and_then(|d| Disposition(d).name())
                .unwrap_or("unknown, treated as render")
                .to_string(),
        ),
        ("cardinality", Value::Uint(n)) => Some(
            ["null part", "single", "external", "multi"]
                .get(*n as usize)
                .unwrap_or(&"unknown")
                .to_string(),
        ),
        ("partSemantics", Value::Uint(n)) => Some(
            PartSemantics::from_u64(*n)
                .map_or("unknown", |s| s.name())
                .to_string(),
        ),
        ("relative", Value::Bool(b)) => Some(if *b { "relative" } else { "absolute" }.into()),
        ("content", Value::Bytes(b)) => std::str::from_utf8(b)
            .ok()
            .map(|t| format!("text {:?}", truncate(t, 60))),
        _ => None,
    };
    let name = match (name.as_str(), path.last()) {
        (n, Some(Seg::Key(k))) if n.starts_with("mimiExtensions") && path.len() == 2 => {
            match k.as_str() {
                "1" => format!("{n} senderUri"),
                "2" => format!("{n} roomUri"),
                _ => n.to_string(),
            }
        }
        (n, _) => n.to_string(),
    };
    match extra {
        Some(e) => format!("{name} = {e}"),
        None => name,
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn item(
    out: &mut String,
    root: &Value,
    v: &Value,
    path: &mut Vec<Seg>,
    indent: usize,
    comma: &str,
) {
    let pad = "  ".repeat(indent);
    let comment = note(root, path, v);
    match v {
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}[  # {comment}");
            for (i, it) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                item(
                    out,
                    root,
                    it,
                    path,
                    indent + 1,
                    if i + 1 < items.len() { "," } else { "" },
                );
                path.pop();
            }
            let _ = writeln!(out, "{pad}]{comma}");
        }
        Value::Map(entries) if !entries.is_empty() => {
            let _ = writeln!(out, "{pad}{{  # {comment}");
            for (i, (k, val)) in entries.iter().enumerate() {
                path.push(Seg::Key(cbor::diag(k)));
                let c = if i + 1 < entries.len() { "," } else { "" };
                let _ = writeln!(
                    out,
                    "{pad}  {}: {}{c}  # {}",
                    cbor::diag(k),
                    cbor::diag(val),
                    note(root, path, val)
                );
                path.pop();
            }
            let _ = writeln!(out, "{pad}}}{comma}");
        }
        _ => {
            let _ = writeln!(out, "{pad}{}{comma}  # {comment}", cbor::diag(v));
        }
    }
}
