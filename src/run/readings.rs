//! Readings: how each target reads the drafts where they leave a choice or
//! disagree with themselves, as observed on the wire (`docs/report-format.md`,
//! Readings). Not a verdict: two readings that both interoperate are both
//! fine; the report lists them so that working-group participants see which
//! one each implementation took.
//!
//! Every exchange the relay records is tallied as it comes, for its sender
//! (the paths it writes, its `From` and `Content-Type`, whether the notifies
//! it sends as hub carry a frank) and for its receiver (how it answers a
//! request it takes and one it refuses). The harness's own adversary is not
//! a target and has no readings.

use super::relay::exchange::Exchange;
use super::targets::ADVERSARY;
use crate::protocol::answer::{Answer, read_answer};
use crate::protocol::exchange::{Endpoint, route};
use crate::protocol::{FanoutTail, decode_fanout_batch};
use crate::report::model::{Reading, ReadingValue, TargetReadings};
use std::collections::BTreeMap;

/// Counts per target, point and value.
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<String, BTreeMap<&'static str, BTreeMap<String, u64>>>,
}

/// What an endpoint's path subject names.
fn subject_kind(endpoint: Endpoint) -> Option<&'static str> {
    match endpoint {
        Endpoint::Update | Endpoint::SubmitMessage | Endpoint::Notify | Endpoint::GroupInfo => {
            Some("room")
        }
        Endpoint::KeyMaterial => Some("user"),
        _ => None,
    }
}

/// How a path writes a room (`kind` "room") or user URI.
fn uri_form(subject: &str, kind: &str) -> &'static str {
    let lower = subject.to_ascii_lowercase();
    if lower.starts_with("mimi%3a") {
        "the whole URI, percent-encoded"
    } else if lower.starts_with("mimi://") || lower.starts_with("mimi:") {
        "the whole URI as is"
    } else if lower.contains("%2f") {
        "the URI without its scheme, slashes percent-encoded"
    } else if kind == "room" {
        "the URI without its scheme (host/r/name)"
    } else {
        "the URI without its scheme (host/u/name)"
    }
}

impl Tally {
    fn add(&mut self, target: &str, point: &'static str, value: String) {
        if target == ADVERSARY {
            return;
        }
        *self
            .counts
            .entry(target.to_owned())
            .or_default()
            .entry(point)
            .or_default()
            .entry(value)
            .or_default() += 1;
    }

    /// Tallies one exchange. Only exchanges the receiver answered count:
    /// one the relay answered itself (a fault, an over-cap body) says
    /// nothing of how either side reads the drafts.
    pub fn observe(&mut self, ex: &Exchange) {
        let (Some(status), None) = (ex.status, ex.relay_status) else {
            return;
        };
        let path = ex.mimi_path();
        let Ok(route) = route(&ex.method, path) else {
            return;
        };
        let sender = ex.from.target.as_str();
        let receiver = ex.to.target.as_str();
        let endpoint = route.endpoint;

        let template = if route.subject.is_empty() {
            path.to_owned()
        } else {
            path.replacen(&route.subject, "{…}", 1)
        };
        self.add(sender, "request path", template);
        if let Some(kind) = subject_kind(endpoint) {
            let point = if kind == "room" {
                "room in a path"
            } else {
                "user in a path"
            };
            self.add(sender, point, uri_form(&route.subject, kind).to_owned());
        }
        let from = match &ex.from_header {
            Some(h) if h.eq_ignore_ascii_case(&format!("mimi@{}", ex.from.domain)) => {
                "mimi@<its domain>".to_owned()
            }
            Some(h) => format!("other: {h}"),
            None => "none".to_owned(),
        };
        self.add(sender, "From header", from);
        if endpoint.method() == "POST" {
            let ct = ex.content_type.clone().unwrap_or_else(|| "none".to_owned());
            self.add(sender, "Content-Type of a body", ct);
        }
        if endpoint == Endpoint::Notify
            && let Ok(batch) = decode_fanout_batch(&ex.request)
        {
            for m in batch {
                if let FanoutTail::Application { frank } = m.tail {
                    let value = if frank.is_some() { "present" } else { "absent" };
                    self.add(sender, "frank in a fanned-out message", value.to_owned());
                }
            }
        }

        match read_answer(endpoint, status, &ex.response) {
            Answer::Taken(_) => {
                self.add(
                    receiver,
                    "answer to a request it takes",
                    format!("{}: HTTP {status}", endpoint.name()),
                );
            }
            Answer::Refused(how) => {
                let value = if (200..300).contains(&status) {
                    // `update: notAllowed (…)` → `notAllowed`; `groupInfo:
                    // status 3` → `status 3`.
                    let code = how
                        .split_once(": ")
                        .map_or(how.as_str(), |(_, c)| c)
                        .split(" (")
                        .next()
                        .unwrap_or_default();
                    format!("HTTP {status}, refused in the body: {code}")
                } else {
                    format!("HTTP {status}")
                };
                self.add(
                    receiver,
                    "answer to a request it refuses",
                    format!("{}: {value}", endpoint.name()),
                );
            }
            Answer::Failed(_) => {}
        }
    }

    /// The readings of each target in `targets` (in that order) that was
    /// observed at all; values most frequent first.
    pub fn report(&self, targets: &[String]) -> Vec<TargetReadings> {
        targets
            .iter()
            .filter_map(|t| {
                let points = self.counts.get(t)?;
                Some(TargetReadings {
                    target: t.clone(),
                    readings: points
                        .iter()
                        .map(|(point, values)| {
                            let mut values: Vec<ReadingValue> = values
                                .iter()
                                .map(|(value, count)| ReadingValue {
                                    value: value.clone(),
                                    count: *count,
                                })
                                .collect();
                            values.sort_by_key(|v| std::cmp::Reverse(v.count));
                            Reading {
                                point: (*point).to_owned(),
                                values,
                            }
                        })
                        .collect(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::relay::exchange::for_test as ex;

    fn values<'a>(r: &'a [TargetReadings], target: &str, point: &str) -> Vec<(&'a str, u64)> {
        r.iter()
            .find(|t| t.target == target)
            .and_then(|t| t.readings.iter().find(|x| x.point == point))
            .map(|x| {
                x.values
                    .iter()
                    .map(|v| (v.value.as_str(), v.count))
                    .collect()
            })
            .unwrap_or_default()
    }

    const NOTIFY: &[u8] = include_bytes!("../../fixtures/protocol/notify.bin");

    /// A notify from a (the hub) to b, taken with 201.
    fn notify(body: &[u8]) -> Exchange {
        ex("a", "b", "/v1/notify/a.example/r/club", body, 201, b"")
    }

    #[test]
    fn paths_and_answers_are_read_for_sender_and_receiver() {
        let mut t = Tally::default();
        t.observe(&notify(NOTIFY));
        t.observe(&ex(
            "b",
            "a",
            "/mimi/v1/submit/mimi%3A%2F%2Fa.example%2Fr%2Fclub",
            b"",
            403,
            b"no",
        ));
        // What the relay answered itself says nothing of either side.
        let mut faulted = ex("b", "a", "/v1/update/a.example/r/club", b"", 503, b"");
        faulted.relay_status = Some(503);
        t.observe(&faulted);
        let r = t.report(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(r.len(), 2, "c was never seen");
        assert_eq!(values(&r, "a", "request path"), [("/v1/notify/{…}", 1)]);
        assert_eq!(values(&r, "b", "request path"), [("/v1/submit/{…}", 1)]);
        assert_eq!(
            values(&r, "b", "room in a path"),
            [("the whole URI, percent-encoded", 1)]
        );
        assert_eq!(
            values(&r, "a", "room in a path"),
            [("the URI without its scheme (host/r/name)", 1)]
        );
        assert_eq!(
            values(&r, "b", "answer to a request it takes"),
            [("notify: HTTP 201", 1)]
        );
        assert_eq!(
            values(&r, "a", "answer to a request it refuses"),
            [("submitMessage: HTTP 403", 1)]
        );
        assert_eq!(values(&r, "a", "From header"), [("mimi@<its domain>", 1)]);
        let mut t = Tally::default();
        t.observe(&ex(
            "a",
            "b",
            "/v1/keyMaterial/b.example/u/bob",
            b"",
            400,
            b"",
        ));
        assert_eq!(
            values(&t.report(&["a".into()]), "a", "user in a path"),
            [("the URI without its scheme (host/u/name)", 1)]
        );
    }

    #[test]
    fn refusals_in_a_2xx_body_name_their_code_and_the_adversary_has_no_readings() {
        let mut t = Tally::default();
        let not_allowed = crate::protocol::encode(&crate::protocol::UpdateRoomResponse {
            error_description: "no".into(),
            outcome: crate::protocol::UpdateOutcome::NotAllowed,
        });
        t.observe(&ex(
            ADVERSARY,
            "a",
            "/v1/update/a.example/r/club",
            b"",
            200,
            &not_allowed,
        ));
        let r = t.report(&["a".into(), ADVERSARY.into()]);
        assert_eq!(
            values(&r, "a", "answer to a request it refuses"),
            [("update: HTTP 200, refused in the body: notAllowed", 1)]
        );
        assert!(r.iter().all(|x| x.target != ADVERSARY));
    }

    #[test]
    fn franks_of_fanned_out_messages_are_counted() {
        let submit: crate::protocol::SubmitMessageRequest = crate::protocol::decode(
            include_bytes!("../../fixtures/protocol/submit-message-request.bin"),
        )
        .expect("the fixture decodes");
        let fanned = |frank: Option<crate::protocol::Frank>| {
            crate::protocol::encode(&crate::protocol::FanoutMessage {
                timestamp: 1,
                message: submit.app_message.clone(),
                tail: FanoutTail::Application { frank },
            })
        };
        let frank = crate::protocol::Frank {
            server_frank: [7; 32],
            franking_signature_ciphersuite: 1,
            franking_integrity_signature: vec![1, 2, 3].into(),
        };
        // Two messages in one notify, one with a frank; and a commit.
        let mut batch = fanned(None);
        batch.extend(fanned(Some(frank)));
        let mut t = Tally::default();
        t.observe(&notify(&batch));
        t.observe(&notify(NOTIFY));
        let r = t.report(&["a".into()]);
        let mut franks = values(&r, "a", "frank in a fanned-out message");
        franks.sort_unstable();
        assert_eq!(franks, [("absent", 1), ("present", 1)]);
    }
}
