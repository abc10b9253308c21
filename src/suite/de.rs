//! Hand-written deserializers for the two suite types serde's derive reads
//! badly from YAML: [`Step`] (a one-key map naming the action) and [`Actor`]
//! (a side, or a map). Both keep serde_yaml's positions in their errors.

use super::model::{Actor, ActorSpec, Side, Step};
use serde::de::{self, DeserializeSeed, MapAccess, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Every action name, as written in YAML.
pub const ACTIONS: &[&str] = &[
    "create_room",
    "add_participant",
    "remove_participant",
    "ban",
    "unban",
    "leave",
    "set_role",
    "set_room_metadata",
    "add_client",
    "remove_client",
    "send",
    "send_burst",
    "concurrently",
    "expect_message",
    "expect_messages",
    "expect_no_message",
    "expect_state",
    "expect_timeline",
    "expect_profile",
    "expect_download",
    "mark_read",
    "partition",
    "heal",
    "drop_request",
    "unavailable",
    "duplicate_request",
    "delay_request",
    "forge",
];

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a step: a one-key map such as `send: { ... }`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let Some(action) = map.next_key_seed(ActionKey { extra_after: None })? else {
            return Err(de::Error::custom(
                "empty step: write one action, e.g. `- send: { ... }`",
            ));
        };
        let step = match action {
            "create_room" => Step::CreateRoom(map.next_value()?),
            "add_participant" => Step::AddParticipant(map.next_value()?),
            "remove_participant" => Step::RemoveParticipant(map.next_value()?),
            "ban" => Step::Ban(map.next_value()?),
            "unban" => Step::Unban(map.next_value()?),
            "leave" => Step::Leave(map.next_value()?),
            "set_role" => Step::SetRole(map.next_value()?),
            "set_room_metadata" => Step::SetRoomMetadata(map.next_value()?),
            "add_client" => Step::AddClient(map.next_value()?),
            "remove_client" => Step::RemoveClient(map.next_value()?),
            "send" => Step::Send(map.next_value()?),
            "send_burst" => Step::SendBurst(map.next_value()?),
            "concurrently" => Step::Concurrently(map.next_value()?),
            "expect_message" => Step::ExpectMessage(map.next_value()?),
            "expect_messages" => Step::ExpectMessages(map.next_value()?),
            "expect_no_message" => Step::ExpectNoMessage(map.next_value()?),
            "expect_state" => Step::ExpectState(map.next_value()?),
            "expect_profile" => Step::ExpectProfile(map.next_value()?),
            "expect_download" => Step::ExpectDownload(map.next_value()?),
            "mark_read" => Step::MarkRead(map.next_value()?),
            "partition" => Step::Partition(map.next_value()?),
            "heal" => Step::Heal(map.next_value()?),
            "drop_request" => Step::DropRequest(map.next_value()?),
            "unavailable" => Step::Unavailable(map.next_value()?),
            "duplicate_request" => Step::DuplicateRequest(map.next_value()?),
            "delay_request" => Step::DelayRequest(map.next_value()?),
            "forge" => Step::Forge(map.next_value()?),
            _ => Step::ExpectTimeline(map.next_value()?),
        };
        // A second key is always an error; the seed reports it at the key.
        map.next_key_seed(ActionKey {
            extra_after: Some(action),
        })?;
        Ok(step)
    }
}

/// Reads an action name (or, with `extra_after`, rejects a second key).
struct ActionKey {
    extra_after: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for ActionKey {
    type Value = &'static str;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'static str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ActionKey {
    type Value = &'static str;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an action name")
    }
    fn visit_str<E: de::Error>(self, k: &str) -> Result<&'static str, E> {
        if let Some(first) = self.extra_after {
            return Err(E::custom(format!(
                "a step has exactly one action, but `{k}` follows `{first}`; \
                 indent the action's fields under `{first}:` or start a new step with `-`"
            )));
        }
        ACTIONS
            .iter()
            .find(|a| **a == k)
            .copied()
            .ok_or_else(|| E::unknown_variant(k, ACTIONS))
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ActorVisitor)
    }
}

struct ActorVisitor;

impl<'de> Visitor<'de> for ActorVisitor {
    type Value = Actor;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a side (`a` or `b`) or a map with `side`")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Actor, E> {
        match s {
            "a" => Ok(Actor::Side(Side::A)),
            "b" => Ok(Actor::Side(Side::B)),
            _ => Err(E::invalid_value(Unexpected::Str(s), &"side `a` or `b`")),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Actor, A::Error> {
        ActorSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(Actor::Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_match_step_names() {
        // Every action parses to the step whose `action()` has that name.
        for a in ACTIONS {
            let err = serde_yaml::from_str::<Step>(&format!("{a}: {{}}"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.contains("unknown variant"), "{a}: {err}");
        }
        let s: Step = serde_yaml::from_str("leave: { as: x, room: r }").unwrap();
        assert_eq!(s.action(), "leave");
    }
}
