//! A case's variables: `${actor}` is the actor's user URI, `${capture}` what
//! an earlier step captured. Steps are interpolated just before they run,
//! with the suite format's own rules ([`crate::suite::interp`]).

use crate::suite::{self, InterpolateError};
use std::collections::BTreeMap;

/// Variable name → value, for one case.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    values: BTreeMap<String, String>,
    /// List variables: what each `send_burst` sent, by capture name.
    bursts: BTreeMap<String, Burst>,
}

/// What one `send_burst` sent, for `expect_messages` to judge against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Burst {
    /// Message IDs (lower-case hex), in sending order.
    pub ids: Vec<String>,
    /// The readable content asked for each message, in the same order.
    pub contents: Vec<serde_json::Value>,
}

impl Vars {
    pub(crate) fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_owned(), value);
    }

    pub(crate) fn set_burst(&mut self, name: &str, burst: Burst) {
        self.bursts.insert(name.to_owned(), burst);
    }

    pub(crate) fn burst(&self, name: &str) -> Option<&Burst> {
        self.bursts.get(name)
    }

    /// Interpolates a JSON value where `${i}` is `index` (shadowing any
    /// variable `i`): the content of one `send_burst` message.
    pub(crate) fn interpolate_json_indexed(
        &self,
        value: &serde_json::Value,
        index: u32,
    ) -> Result<serde_json::Value, InterpolateError> {
        let lookup = |name: &str| {
            if name == "i" {
                Some(index.to_string())
            } else {
                self.values.get(name).cloned()
            }
        };
        suite::interpolate_json(value, &lookup)
    }

    fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.values.get(name).cloned()
    }

    /// Replaces every `${name}` in `text`. Loading checked the references,
    /// so an error here is the harness's (or a capture that never happened).
    pub(crate) fn interpolate(&self, text: &str) -> Result<String, InterpolateError> {
        suite::interpolate(text, &self.lookup())
    }

    /// Interpolates every string inside a JSON value (keys stay as written).
    pub(crate) fn interpolate_json(
        &self,
        value: &serde_json::Value,
    ) -> Result<serde_json::Value, InterpolateError> {
        suite::interpolate_json(value, &self.lookup())
    }
}

/// Parses a suite duration such as `30s`, `500ms` or `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    suite::parse_duration(text).map_err(|e| e.to_string())
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
        assert!(v.interpolate("${bob}").is_err());
        let json = serde_json::json!({"to": ["${alice}"], "n": 1});
        assert_eq!(
            v.interpolate_json(&json).unwrap(),
            serde_json::json!({"to": ["mimi://a.example/u/alice-1"], "n": 1})
        );
        let burst = serde_json::json!({"text": "${i} from ${alice}"});
        assert_eq!(
            v.interpolate_json_indexed(&burst, 7).unwrap(),
            serde_json::json!({"text": "7 from mimi://a.example/u/alice-1"})
        );
    }
}
