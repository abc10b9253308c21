//! Field paths for generic CBOR positions: turns the reader's `[6][4][1]`
//! into `nestedPart.parts[1]`, so findings name fields.

use super::cbor::{self, Seg, Value};

/// Maps a generic CBOR path (as the reader reports it) onto field names.
pub fn field_path(root: &Value, path: &[Seg]) -> String {
    const TOP: [&str; 7] = [
        "salt",
        "replaces",
        "topicId",
        "expires",
        "inReplyTo",
        "mimiExtensions",
        "nestedPart",
    ];
    let (Value::Array(top), Some(Seg::Index(i))) = (root, path.first()) else {
        return cbor::path_string(path);
    };
    let Some(name) = TOP.get(*i) else {
        return cbor::path_string(path);
    };
    let mut out = name.to_string();
    let rest = &path[1..];
    if *i != 6 {
        if *i == 3 {
            for s in rest {
                match s {
                    Seg::Index(0) => out.push_str(".relative"),
                    Seg::Index(1) => out.push_str(".time"),
                    _ => out.push_str(&cbor::path_string(std::slice::from_ref(s))),
                }
            }
        } else {
            out.push_str(&cbor::path_string(rest).replace('$', ""));
        }
        return out;
    }
    let mut cur = top.get(6);
    let mut k = 0;
    while k < rest.len() {
        let Some(Value::Array(items)) = cur else {
            out.push_str(&cbor::path_string(&rest[k..]));
            break;
        };
        let card = items.get(2).and_then(Value::as_int).unwrap_or(-1);
        let Seg::Index(idx) = rest[k] else {
            out.push_str(&cbor::path_string(&rest[k..]));
            break;
        };
        let field = match (card, idx) {
            (_, 0) => "disposition",
            (_, 1) => "language",
            (_, 2) => "cardinality",
            (1 | 2, 3) => "contentType",
            (1, 4) => "content",
            (3, 3) => "partSemantics",
            (3, 4) => "parts",
            (2, n) => [
                "url",
                "expires",
                "size",
                "encAlg",
                "key",
                "nonce",
                "aad",
                "hashAlg",
                "contentHash",
                "description",
                "filename",
            ]
            .get(n.wrapping_sub(4))
            .copied()
            .unwrap_or("?"),
            _ => "?",
        };
        if field == "?" {
            out.push_str(&cbor::path_string(&rest[k..]));
            break;
        }
        out.push('.');
        out.push_str(field);
        k += 1;
        if card == 3
            && idx == 4
            && let (Some(Seg::Index(j)), Some(Value::Array(list))) = (rest.get(k), items.get(4))
        {
            out.push_str(&format!("[{j}]"));
            cur = list.get(*j);
            k += 1;
            continue;
        }
        out.push_str(&cbor::path_string(&rest[k..]).replace('$', ""));
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(card: u64, rest: Vec<Value>) -> Value {
        let mut v = vec![
            Value::Uint(1),
            Value::Text(String::new()),
            Value::Uint(card),
        ];
        v.extend(rest);
        Value::Array(v)
    }

    #[test]
    fn generic_paths_become_field_names() {
        let single = part(1, vec![Value::Text("t".into()), Value::Bytes(vec![])]);
        let ext = part(2, vec![Value::Null; 12]);
        let multi = part(3, vec![Value::Uint(0), Value::Array(vec![single, ext])]);
        let root = Value::Array(vec![
            Value::Bytes(vec![]),
            Value::Null,
            Value::Bytes(vec![]),
            Value::Array(vec![Value::Bool(true), Value::Uint(1)]),
            Value::Null,
            Value::Map(vec![]),
            multi,
        ]);
        let p = |segs: Vec<Seg>| field_path(&root, &segs);
        use Seg::{Index as I, Key as K};
        assert_eq!(p(vec![]), "$");
        assert_eq!(p(vec![I(3), I(1)]), "expires.time");
        assert_eq!(p(vec![I(5), K("1".into())]), "mimiExtensions{1}");
        assert_eq!(p(vec![I(6), I(3)]), "nestedPart.partSemantics");
        assert_eq!(
            p(vec![I(6), I(4), I(0), I(3)]),
            "nestedPart.parts[0].contentType"
        );
        assert_eq!(p(vec![I(6), I(4), I(1), I(9)]), "nestedPart.parts[1].nonce");
        assert_eq!(p(vec![I(6), I(4), I(1)]), "nestedPart.parts[1]");
    }
}
