//! `${name}` interpolation in suite strings.
//!
//! Syntax: `${name}` with `name` matching `[a-z][a-z0-9_]*`; `$${` is a
//! literal `${`; a `$` not followed by `{` is literal. Loading checks every
//! reference, so at run time only the values are looked up.

use serde_json::Value;

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    #[error("undefined variable `{name}`")]
    Undefined { name: String },
    #[error("`${{` at byte {offset} has no closing `}}`")]
    Unterminated { offset: usize },
    #[error("invalid variable name `{name}`: expected [a-z][a-z0-9_]*")]
    InvalidName { name: String, offset: usize },
}

/// One `${name}` in a string: the name and the byte offset of its `$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub offset: usize,
}

/// Whether `name` is a valid variable (and actor) name.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Pieces of a template: literal text or a reference.
enum Piece<'s> {
    Text(&'s str),
    Var(Reference),
}

fn parse(s: &str) -> Result<Vec<Piece<'_>>, InterpolateError> {
    let mut pieces = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'$' && s[i..].starts_with("$${") {
            pieces.push(Piece::Text(&s[lit_start..i]));
            lit_start = i + 1; // keep `${` as text
            i += 3;
        } else if bytes[i] == b'$' && s[i..].starts_with("${") {
            pieces.push(Piece::Text(&s[lit_start..i]));
            let Some(close) = s[i + 2..].find('}') else {
                return Err(InterpolateError::Unterminated { offset: i });
            };
            let name = &s[i + 2..i + 2 + close];
            if !is_var_name(name) {
                return Err(InterpolateError::InvalidName {
                    name: name.to_string(),
                    offset: i,
                });
            }
            pieces.push(Piece::Var(Reference {
                name: name.to_string(),
                offset: i,
            }));
            i += 2 + close + 1;
            lit_start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(Piece::Text(&s[lit_start..]));
    Ok(pieces)
}

/// Every `${name}` in `s`, in order.
pub fn references(s: &str) -> Result<Vec<Reference>, InterpolateError> {
    Ok(parse(s)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Replaces every `${name}` in `s` with `vars(name)`.
///
/// ```
/// use mimi_interop::suite::interpolate;
/// let vars = |name: &str| (name == "room").then(|| "mimi://a.example/r/club".to_owned());
/// assert_eq!(interpolate("in ${room}", &vars).unwrap(), "in mimi://a.example/r/club");
/// assert!(interpolate("${nobody}", &vars).is_err());
/// ```
pub fn interpolate(
    s: &str,
    vars: &impl Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(s.len());
    for piece in parse(s)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(r) => match vars(&r.name) {
                Some(v) => out.push_str(&v),
                None => return Err(InterpolateError::Undefined { name: r.name }),
            },
        }
    }
    Ok(out)
}

/// Interpolates every string value (not object keys) inside a JSON value,
/// e.g. the `content` of `send` and `expect_message`.
pub fn interpolate_json(
    value: &Value,
    vars: &impl Fn(&str) -> Option<String>,
) -> Result<Value, InterpolateError> {
    Ok(match value {
        Value::String(s) => Value::String(interpolate(s, vars)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| interpolate_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), interpolate_json(v, vars)?)))
                .collect::<Result<_, InterpolateError>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "room" => Some("mimi://a.example/r/x".into()),
            "m_1" => Some("00ff".into()),
            _ => None,
        }
    }

    #[test]
    fn replaces_and_escapes() {
        assert_eq!(
            interpolate("in ${room}: ${m_1}$", &vars).unwrap(),
            "in mimi://a.example/r/x: 00ff$"
        );
        assert_eq!(interpolate("$${room} $x", &vars).unwrap(), "${room} $x");
        assert_eq!(interpolate("", &vars).unwrap(), "");
    }

    #[test]
    fn rejects_bad_references() {
        assert_eq!(
            interpolate("${nope}", &vars),
            Err(InterpolateError::Undefined {
                name: "nope".into()
            })
        );
        assert_eq!(
            interpolate("ab${room", &vars),
            Err(InterpolateError::Unterminated { offset: 2 })
        );
        assert!(matches!(
            interpolate("${Room}", &vars),
            Err(InterpolateError::InvalidName { .. })
        ));
    }

    #[test]
    fn walks_json() {
        let v = serde_json::json!({"text": "${m_1}", "n": [1, "${room}"], "${room}": true});
        let out = interpolate_json(&v, &vars).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"text": "00ff", "n": [1, "mimi://a.example/r/x"], "${room}": true})
        );
    }
}
