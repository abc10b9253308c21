//! One actor's view of its events: the long-poll cursor and the events that
//! arrived but no expectation has consumed yet, so a later expectation still
//! sees an event that came early.

use super::outcome::{Exchange, Failure};
use crate::control::ControlClient;
use crate::control::api::{Event, EventsRequest, EventsResponse};
use crate::report::model::Verdict;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Longest single long-poll; the caller loops until its own deadline.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Extra HTTP time on top of `wait_ms`, for the answer to travel; the
/// step runner's backstop allows for it.
const GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub(crate) struct Inbox {
    cursor: u64,
    /// Arrived, not yet consumed, in arrival order.
    pub pending: Vec<Event>,
    /// (client, message ID hex) of messages expectations consumed, to spot
    /// a message delivered twice to the same client.
    pub delivered: HashSet<(String, String)>,
    /// The case's run-wide invariants, which every arriving message keeps.
    pub invariants: Option<Arc<super::invariants::Invariants>>,
}

impl Inbox {
    /// An empty inbox whose arriving messages keep `invariants`.
    pub fn watched(invariants: Arc<super::invariants::Invariants>) -> Self {
        Self {
            invariants: Some(invariants),
            ..Self::default()
        }
    }

    /// One long-poll for `user`: waits until events arrive or `deadline`
    /// (capped at [`MAX_WAIT`]) and appends what came to `pending`.
    pub async fn fetch(
        &mut self,
        client: &ControlClient,
        target: &str,
        user: &str,
        deadline: Instant,
    ) -> Result<usize, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = left.min(MAX_WAIT);
        let req = EventsRequest {
            user: user.to_owned(),
            cursor: self.cursor,
            wait_ms: wait.as_millis() as u64,
        };
        let mut ex = Exchange {
            target: target.to_owned(),
            request: format!(
                "POST {}/v1/events {}",
                client.base(),
                serde_json::to_string(&req).unwrap_or_default()
            ),
            response: None,
        };
        let asked = Instant::now();
        match client
            .call::<_, EventsResponse>("events", &req, wait + GRACE)
            .await
        {
            Ok(resp) => {
                let n = resp.events.len();
                // An empty answer long before `wait_ms` means the target does
                // not long-poll; looping on it would spin, so say so.
                if n == 0 && wait >= Duration::from_millis(200) && asked.elapsed() < wait / 2 {
                    ex.response = Some(serde_json::to_string(&resp).unwrap_or_default());
                    return Err(Failure::new(
                        Verdict::TargetError,
                        format!(
                            "target {target}: events answered empty after {:?} although wait_ms was {}: the long-poll is not honoured",
                            asked.elapsed(),
                            req.wait_ms
                        ),
                    )
                    .with_exchange(&ex));
                }
                // A target that moves its cursor backwards would replay events.
                if resp.cursor >= self.cursor {
                    self.cursor = resp.cursor;
                }
                if let Some(inv) = &self.invariants {
                    inv.received(target, &resp.events, super::invariants::now_ms())
                        .map_err(|f| {
                            f.request(ex.request.clone())
                                .response(serde_json::to_string(&resp).unwrap_or_default())
                        })?;
                }
                self.pending.extend(resp.events);
                Ok(n)
            }
            Err(e) => {
                ex.response = Some(e.to_string());
                // `events` is required of every target: its 501 is a
                // target-error (`call_verdict`).
                Err(super::outcome::call_failure(
                    &e,
                    &ex,
                    "events",
                    crate::suite::model::Level::Must,
                ))
            }
        }
    }
}
