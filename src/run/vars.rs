//! A case's variables: `${actor}` is the actor's user URI, `${capture}` what
//! an earlier step captured. Steps are interpolated just before they run.

use std::collections::BTreeMap;

/// Variable name → value, for one case.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    values: BTreeMap<String, String>,
}

/// A `${name}` with no value yet: the suite refers to something no earlier
/// step produced (the loader should have caught it, so it is a harness error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InterpolateError {
    #[error("unknown variable ${{{0}}}")]
    Unknown(String),
    #[error("unterminated ${{ in {0:?}")]
    Unterminated(String),
}

impl Vars {
    pub(crate) fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_owned(), value);
    }

    /// Replaces every `${name}` in `text`.
    pub(crate) fn interpolate(&self, text: &str) -> Result<String, InterpolateError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| InterpolateError::Unterminated(text.to_owned()))?;
            let name = &after[..end];
            let value = self
                .values
                .get(name)
                .ok_or_else(|| InterpolateError::Unknown(name.to_owned()))?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Interpolates every string inside a JSON value (keys stay as written).
    pub(crate) fn interpolate_json(
        &self,
        value: &serde_json::Value,
    ) -> Result<serde_json::Value, InterpolateError> {
        use serde_json::Value;
        Ok(match value {
            Value::String(s) => Value::String(self.interpolate(s)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.interpolate_json(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.interpolate_json(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

/// Parses a suite duration such as `30s`, `500ms` or `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("bad duration {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_known_and_rejects_unknown() {
        let mut v = Vars::default();
        v.set("alice", "mimi://a.example/u/alice-1".into());
        assert_eq!(
            v.interpolate("hi ${alice}!").unwrap(),
            "hi mimi://a.example/u/alice-1!"
        );
        assert_eq!(
            v.interpolate("${bob}"),
            Err(InterpolateError::Unknown("bob".into()))
        );
        assert!(matches!(
            v.interpolate("${alice"),
            Err(InterpolateError::Unterminated(_))
        ));
        let json = serde_json::json!({"to": ["${alice}"], "n": 1});
        assert_eq!(
            v.interpolate_json(&json).unwrap(),
            serde_json::json!({"to": ["mimi://a.example/u/alice-1"], "n": 1})
        );
    }
}
