//! Run-wide invariants: rules every message the harness sees must keep,
//! whatever the step that saw it checks. Send answers and received message
//! events of one case go through one [`Invariants`]:
//!
//! - the salt is 16 octets, not constant (16 equal octets) and not reused
//!   by another message (content-08 §4.1: MUST be cryptographically
//!   random), so message IDs are unique in a room;
//! - the accepted timestamp is in milliseconds near the harness's clock
//!   (content-08 §3.4 defines milliseconds; §8.1 discards timestamps minutes
//!   in the future), and one client sees one sender's timestamps in a room
//!   never decrease (§4.2: the hub's timestamp orders messages).
//!
//! Bytes a test chose itself (`send.crafted`, `send.raw`) are exempt: a
//! test breaks them on purpose, and they are not the target's choice.

use super::outcome::Failure;
use crate::content::{self, attachment::sha256};
use crate::control::api::{Event, EventKind};
use crate::suite::model::Level;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// How far an accepted timestamp may be from the harness's clock: §8.1's
/// "a few minutes".
pub(crate) const CLOCK_SLACK_MS: u64 = 5 * 60 * 1000;

/// What one case has seen; shared by its actors' inboxes and its sends.
#[derive(Debug, Default)]
pub(crate) struct Invariants {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// sha-256 of content the test chose (crafted or raw).
    exempt: HashSet<Vec<u8>>,
    /// Salt → sha-256 of the first content seen with it, and where.
    salts: HashMap<[u8; 16], (Vec<u8>, String)>,
    /// (room, message ID) of every send answer.
    ids: HashSet<(String, String)>,
    /// (receiving client, room, sending client) → latest accepted timestamp.
    latest: HashMap<(String, String, String), u64>,
}

/// The harness's clock, milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn lock(m: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Invariants {
    /// Exempts `bytes`: the test chose them.
    pub fn exempt(&self, bytes: &[u8]) {
        lock(&self.seen).exempt.insert(sha256(bytes));
    }

    /// A send answer of `target`: content `bytes` with ID `id` in `room`.
    pub fn sent(&self, target: &str, room: &str, id: &str, bytes: &[u8]) -> Result<(), Failure> {
        let mut seen = lock(&self.seen);
        let hash = sha256(bytes);
        if seen.exempt.contains(&hash) {
            return Ok(());
        }
        let what = format!("message {id} sent by target {target}");
        seen.salt(&hash, bytes, &what)
            .map_err(|why| Failure::violation(Level::Must, why).target(target))?;
        if !seen.ids.insert((room.to_owned(), id.to_owned())) {
            return Err(Failure::violation(
                Level::Must,
                format!(
                    "{what}: a message with this ID was already sent in {room}: message IDs must be unique in a room (content-08 §3.3, a fresh random salt per message)"
                ),
            )
            .target(target));
        }
        Ok(())
    }

    /// Message events `target` answered for a user, `now_ms` the harness's
    /// clock when they came.
    pub fn received(&self, target: &str, events: &[Event], now_ms: u64) -> Result<(), Failure> {
        let mut seen = lock(&self.seen);
        for ev in events {
            let EventKind::Message {
                sender,
                content,
                accepted_timestamp,
                ..
            } = &ev.kind
            else {
                continue;
            };
            let Ok(bytes) = B64.decode(content) else {
                continue; // the expectation that reads it says so
            };
            let hash = sha256(&bytes);
            if seen.exempt.contains(&hash) {
                continue;
            }
            let what = format!(
                "the message from {sender} that client {} received in {} (event {}) from target {target}",
                ev.client, ev.room, ev.seq
            );
            seen.salt(&hash, &bytes, &what)
                .map_err(|why| Failure::violation(Level::Must, why).target(target))?;
            let Some(ts) = *accepted_timestamp else {
                continue;
            };
            if ts.abs_diff(now_ms) > CLOCK_SLACK_MS {
                return Err(Failure::violation(
                    Level::Should,
                    format!(
                        "{what}: accepted timestamp {ts} is {} from the harness's clock ({now_ms} ms since the epoch): it must be milliseconds since the epoch (content-08 §3.4), within a few minutes (§8.1)",
                        far(ts, now_ms)
                    ),
                )
                .target(target));
            }
            let key = (ev.client.clone(), ev.room.clone(), sender.clone());
            if let Some(before) = seen.latest.get(&key).copied()
                && ts < before
            {
                return Err(Failure::violation(
                    Level::Should,
                    format!(
                        "{what}: accepted timestamp {ts} is earlier than {before} of the message before it from the same sender: the hub's timestamps order a room's messages (content-08 §4.2)"
                    ),
                )
                .target(target));
            }
            seen.latest.insert(key, ts);
        }
        Ok(())
    }
}

impl Seen {
    /// The salt of content `hash` (`bytes`): not constant, not another
    /// message's. Content without a readable salt is the expectations' to
    /// judge.
    fn salt(&mut self, hash: &[u8], bytes: &[u8], what: &str) -> Result<(), String> {
        let Ok(salt) = content::id::salt_of(bytes) else {
            return Ok(());
        };
        if salt.iter().all(|b| *b == salt[0]) {
            return Err(format!(
                "{what}: its salt is {}, 16 equal octets: the salt must be cryptographically random (content-08 §4.1)",
                hex::encode(salt)
            ));
        }
        match self.salts.get(&salt) {
            Some((first, where_first)) if first.as_slice() != hash => Err(format!(
                "{what}: its salt {} is the salt of {where_first}: the salt must be random, fresh for every message (content-08 §4.1)",
                hex::encode(salt)
            )),
            Some(_) => Ok(()),
            None => {
                self.salts.insert(salt, (hash.to_vec(), what.to_owned()));
                Ok(())
            }
        }
    }
}

/// "3 h 20 min ahead" / "12 s behind", for the timestamp reason.
fn far(ts: u64, now: u64) -> String {
    let d = std::time::Duration::from_millis(ts.abs_diff(now) / 1000 * 1000);
    let dir = if ts > now { "ahead" } else { "behind" };
    format!("{} {dir}", humantime::format_duration(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::BuildContext;
    use crate::report::model::Verdict;

    const NOW: u64 = 1_800_000_000_000;

    fn bytes(salt: [u8; 16], text: &str) -> Vec<u8> {
        let ctx = BuildContext {
            sender_uri: "mimi://a.example/u/alice".into(),
            room_uri: "mimi://a.example/r/club".into(),
            timestamp_ms: NOW,
            salt,
        };
        content::build(&serde_json::json!({ "text": text }), &ctx).unwrap()
    }

    fn event(client: &str, seq: u64, b: &[u8], ts: u64) -> Event {
        Event {
            seq,
            client: client.into(),
            room: "r".into(),
            kind: EventKind::Message {
                sender: "mimi://a.example/d/alice-1".into(),
                content: B64.encode(b),
                accepted_timestamp: Some(ts),
                wire_format: "private".into(),
            },
        }
    }

    fn salt(n: u8) -> [u8; 16] {
        let mut s = [9; 16];
        s[0] = n;
        s
    }

    #[test]
    fn salts_must_be_fresh_and_not_constant() {
        let inv = Invariants::default();
        let one = bytes(salt(1), "one");
        inv.sent("a", "r", "id1", &one).unwrap();
        // The same message seen again (a receiver) is no reuse.
        inv.received("b", &[event("c1", 1, &one, NOW)], NOW)
            .unwrap();
        let reused = bytes(salt(1), "two");
        let f = inv.sent("a", "r", "id2", &reused).unwrap_err();
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(
            f.reason.contains("message id2 sent by target a") && f.reason.contains("salt"),
            "{}",
            f.reason
        );
        let f = inv
            .received("b", &[event("c1", 2, &bytes([0; 16], "z"), NOW)], NOW)
            .unwrap_err();
        assert!(f.reason.contains("16 equal octets"), "{}", f.reason);
        assert!(f.reason.contains("event 2"), "{}", f.reason);
    }

    #[test]
    fn message_ids_are_unique_per_room() {
        let inv = Invariants::default();
        let one = bytes(salt(1), "one");
        inv.sent("a", "r", "id1", &one).unwrap();
        let f = inv.sent("a", "r", "id1", &one).unwrap_err();
        assert!(f.reason.contains("unique in a room"), "{}", f.reason);
    }

    #[test]
    fn crafted_bytes_are_exempt() {
        let inv = Invariants::default();
        let zeros = bytes([0; 16], "crafted");
        inv.exempt(&zeros);
        inv.sent("a", "r", "id", &zeros).unwrap();
        inv.sent("a", "r", "id", &zeros).unwrap();
        inv.received("b", &[event("c", 1, &zeros, 1)], NOW).unwrap();
    }

    #[test]
    fn timestamps_are_milliseconds_near_the_clock_and_never_go_back() {
        let inv = Invariants::default();
        let ev = |seq, n, ts| event("c", seq, &bytes(salt(n), "m"), ts);
        inv.received("b", &[ev(1, 1, NOW), ev(2, 2, NOW + 5)], NOW)
            .unwrap();
        // Seconds, not milliseconds.
        let f = inv.received("b", &[ev(3, 3, NOW / 1000)], NOW).unwrap_err();
        assert_eq!(f.verdict, Verdict::NonStrict);
        assert!(f.reason.contains("milliseconds"), "{}", f.reason);
        let f = inv.received("b", &[ev(4, 4, NOW + 1)], NOW).unwrap_err();
        assert!(f.reason.contains("earlier than"), "{}", f.reason);
        // Another receiving client has its own order.
        inv.received("b", &[event("d", 1, &bytes(salt(5), "m"), NOW)], NOW)
            .unwrap();
    }
}
