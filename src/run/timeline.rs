//! `expect_timeline`: the effect of messages. Every client of the actor
//! reports the room's timeline (control API `timeline`); the visible
//! messages must be exactly the ones listed (each a partial match) and none
//! of the `absent` IDs may show.
//!
//! Relations apply asynchronously (an edit may still be on its way), so on
//! a mismatch the step waits for the actor's next event (a long-poll, never
//! a sleep) and asks again, until its deadline; then it fails with the last
//! difference. A message shown with an expiry must go when it expires,
//! which no event reports: the wait then ends at that time at the latest.

use super::case::{CaseEnv, CaseState};
use super::judge;
use super::outcome::Failure;
use crate::control::CallError;
use crate::control::api::{ClientTimeline, TimelineMessage, TimelineRequest, TimelineResponse};
use crate::suite::model::ExpectTimeline;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// One expected message, variables resolved.
struct Want {
    id: Option<String>,
    /// (actor name, user URI).
    from: Option<(String, String)>,
    content: Option<Value>,
    edited: Option<bool>,
    reactions: Option<BTreeMap<String, u32>>,
    /// (actor name, user URI) → status.
    status: Option<Vec<(String, String, String)>>,
    /// The thread, `Some(None)` for none.
    topic: Option<Option<String>>,
}

pub(crate) async fn expect_timeline(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectTimeline,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let room = state.text(&s.room)?;
    let mut wants = Vec::new();
    for m in s.messages.iter().flatten() {
        let from = match &m.from {
            Some(f) => {
                let name = state.actor_name(f)?;
                Some((name.clone(), state.actor(&name).user.clone()))
            }
            None => None,
        };
        wants.push(Want {
            id: m
                .id
                .as_deref()
                .map(|t| state.text(t).map(|t| t.to_ascii_lowercase()))
                .transpose()?,
            from,
            content: m
                .content
                .as_ref()
                .map(|c| state.vars.interpolate_json(c))
                .transpose()
                .map_err(|e| Failure::harness(e.to_string()))?,
            edited: m.edited,
            reactions: m.reactions.clone(),
            status: m
                .status
                .as_ref()
                .map(|st| {
                    st.iter()
                        .map(|(name, s)| {
                            let name = state.actor_name(name)?;
                            let uri = state.actor(&name).user.clone();
                            Ok((name, uri, state.text(s)?))
                        })
                        .collect::<Result<Vec<_>, Failure>>()
                })
                .transpose()?,
            topic: match &m.topic {
                Some(Some(t)) => Some(Some(state.text(t)?)),
                Some(None) => Some(None),
                None => None,
            },
        });
    }
    let absent = s
        .absent
        .iter()
        .map(|t| state.text(t).map(|t| t.to_ascii_lowercase()))
        .collect::<Result<Vec<_>, _>>()?;
    let a = state.actor(&actor);
    let side = a.side;
    let clients = a.clients.clone();
    let user = a.user.clone();
    let conn = env.side(side);
    let req = TimelineRequest {
        room: room.clone(),
        user: user.clone(),
    };
    let expected = describe(s.messages.is_some().then_some(&wants), &absent, &actor);
    loop {
        let (result, ex) = state
            .call::<_, TimelineResponse>(env, side, "timeline", &req, deadline)
            .await;
        let mut expiry = None;
        let problems = match result {
            Ok(resp) => {
                expiry = next_expiry(&resp);
                judge_all(
                    &resp,
                    &clients,
                    s.messages.is_some().then_some(&wants),
                    &absent,
                )
            }
            Err(CallError::NotFound { message }) => {
                vec![format!(
                    "the target knows no client of {actor} in the room (404: {message})"
                )]
            }
            Err(e) => {
                return Err(super::outcome::call_failure(&e, &ex, "timeline", env.level));
            }
        };
        if problems.is_empty() {
            return Ok(());
        }
        // The next event, or the time by which a message shown with an
        // expiry must have gone, whichever comes first: expiry is an event
        // no long-poll reports.
        let wake = expiry.map_or(deadline, |e| e.min(deadline));
        let inbox = &mut state.actors.get_mut(&actor).expect("actor exists").inbox;
        inbox.fetch(conn.client, conn.name, &user, wake).await?;
        // At the deadline the last answer stands: asking again would have
        // no time left to answer in.
        if Instant::now() >= deadline {
            return Err(Failure::violation(
                env.level,
                format!("timeline of {actor} in {room}: {}", problems.join("; ")),
            )
            .with_exchange(&ex)
            .expected(expected));
        }
    }
}

/// The earliest time at which a message the answer shows must be past its
/// expiry (content-08 §4.1): an absolute `at`, or `relative` seconds after
/// reading, which was before this answer. `None` when none shown expires
/// later than now.
fn next_expiry(resp: &TimelineResponse) -> Option<Instant> {
    let now = Instant::now();
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    resp.clients
        .iter()
        .flat_map(|c| &c.messages)
        .filter_map(|m| {
            let e = m.body.get("expires")?;
            if let Some(s) = e.get("relative").and_then(Value::as_u64) {
                return Some(now + Duration::from_secs(s));
            }
            let at = Duration::from_secs(e.get("at").and_then(Value::as_u64)?);
            (at > since_epoch).then(|| now + (at - since_epoch))
        })
        .min()
}

fn describe(wants: Option<&Vec<Want>>, absent: &[String], actor: &str) -> String {
    let mut parts = vec![format!("every client of {actor} shows")];
    if let Some(wants) = wants {
        let list: Vec<String> = wants.iter().map(describe_one).collect();
        parts.push(format!(
            "exactly {} message(s): [{}]",
            wants.len(),
            list.join(", ")
        ));
    }
    if !absent.is_empty() {
        parts.push(format!("none of {}", absent.join(", ")));
    }
    parts.join(" ")
}

fn describe_one(w: &Want) -> String {
    let mut f = Vec::new();
    if let Some(id) = &w.id {
        f.push(format!("id {id}"));
    }
    if let Some((name, _)) = &w.from {
        f.push(format!("from {name}"));
    }
    if let Some(c) = &w.content {
        f.push(format!("content {c}"));
    }
    if let Some(e) = w.edited {
        f.push(format!("edited {e}"));
    }
    if let Some(r) = &w.reactions {
        f.push(format!("reactions {r:?}"));
    }
    if let Some(st) = &w.status {
        let list: Vec<String> = st.iter().map(|(n, _, s)| format!("{n}: {s}")).collect();
        f.push(format!("status {{{}}}", list.join(", ")));
    }
    if let Some(t) = &w.topic {
        f.push(format!("topic {t:?}"));
    }
    format!("{{{}}}", f.join(", "))
}

/// Everything wrong with the answer, one phrase each; empty when it is right.
fn judge_all(
    resp: &TimelineResponse,
    clients: &[String],
    wants: Option<&Vec<Want>>,
    absent: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    for c in clients {
        match resp.clients.iter().find(|t| &t.client == c) {
            None => problems.push(format!("client {c} does not report the room")),
            Some(t) => problems.extend(judge_client(t, wants, absent)),
        }
    }
    problems
}

fn judge_client(t: &ClientTimeline, wants: Option<&Vec<Want>>, absent: &[String]) -> Vec<String> {
    let c = &t.client;
    let mut problems = Vec::new();
    for id in absent {
        if t.messages
            .iter()
            .any(|m| m.message_id.eq_ignore_ascii_case(id))
        {
            problems.push(format!("client {c} still shows message {id}"));
        }
    }
    let Some(wants) = wants else {
        return problems;
    };
    if t.messages.len() != wants.len() {
        let shown: Vec<String> = t.messages.iter().map(summary).collect();
        problems.push(format!(
            "client {c} shows {} message(s), expected {}: [{}]",
            t.messages.len(),
            wants.len(),
            shown.join(", ")
        ));
        return problems;
    }
    for (i, (w, m)) in wants.iter().zip(&t.messages).enumerate() {
        let at = format!("client {c}, message {} ({})", i + 1, short(&m.message_id));
        if let Some(id) = &w.id
            && !m.message_id.eq_ignore_ascii_case(id)
        {
            problems.push(format!("{at}: ID is {}, expected {id}", m.message_id));
            continue;
        }
        if let Some((name, uri)) = &w.from
            && &m.sender != uri
        {
            problems.push(format!(
                "{at}: sender is {}, expected {name} ({uri})",
                m.sender
            ));
        }
        if let Some(want) = &w.content
            && let Err(why) = judge::check_content(want, &m.body)
        {
            problems.push(format!("{at}: content differs: {why}"));
        }
        if let Some(e) = w.edited
            && m.edited != e
        {
            problems.push(format!("{at}: edited is {}, expected {e}", m.edited));
        }
        if let Some(r) = &w.reactions
            && &m.reactions != r
        {
            problems.push(format!(
                "{at}: reactions are {:?}, expected {r:?}",
                m.reactions
            ));
        }
        if let Some(st) = &w.status
            && let Some(why) = status_differs(st, &m.status)
        {
            problems.push(format!("{at}: status {why}"));
        }
        if let Some(topic) = &w.topic
            && &m.topic != topic
        {
            problems.push(format!("{at}: topic is {:?}, expected {topic:?}", m.topic));
        }
    }
    problems
}

/// How the reported status map differs from the expected one (exactly
/// the listed users, each with its status), or `None`.
fn status_differs(
    want: &[(String, String, String)],
    got: &BTreeMap<String, Value>,
) -> Option<String> {
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let got_list: Vec<String> = got
        .iter()
        .map(|(u, v)| format!("{u}: {}", shown(v)))
        .collect();
    let same = want.len() == got.len()
        && want
            .iter()
            .all(|(_, uri, s)| got.get(uri).is_some_and(|v| &shown(v) == s));
    (!same).then(|| {
        let want_list: Vec<String> = want
            .iter()
            .map(|(n, uri, s)| format!("{n} ({uri}): {s}"))
            .collect();
        format!(
            "is {{{}}}, expected {{{}}}",
            got_list.join(", "),
            want_list.join(", ")
        )
    })
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// A message in a few words, for "shows N messages" problems.
fn summary(m: &TimelineMessage) -> String {
    let text = ["text", "markdown", "html", "content"]
        .iter()
        .find_map(|k| m.body.get(*k).and_then(Value::as_str))
        .map(|t| format!("{t:?}"))
        .unwrap_or_else(|| "(no text)".to_owned());
    format!("{} from {}: {text}", short(&m.message_id), m.sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(bodies: &[Value]) -> TimelineResponse {
        let messages = bodies
            .iter()
            .map(|body| {
                serde_json::from_value(serde_json::json!({
                    "message_id": "00", "sender": "mimi://a.example/u/bob", "body": body
                }))
                .unwrap()
            })
            .collect();
        TimelineResponse {
            clients: vec![ClientTimeline {
                client: "mimi://a.example/d/alice/1".into(),
                messages,
            }],
        }
    }

    #[test]
    fn the_wait_ends_when_a_shown_message_must_have_expired() {
        let now = Instant::now();
        let secs = |d: Duration| d.as_secs_f64();
        let relative = answer(&[
            serde_json::json!({"text": "a", "expires": {"relative": 5}}),
            serde_json::json!({"text": "b", "expires": {"relative": 2}}),
        ]);
        let wake = next_expiry(&relative).expect("an expiry");
        assert!((1.9..2.5).contains(&secs(wake - now)), "{wake:?}");
        let in_an_hour = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let at = answer(&[serde_json::json!({"text": "c", "expires": {"at": in_an_hour}})]);
        let wake = next_expiry(&at).expect("an expiry");
        assert!((3590.0..3601.0).contains(&secs(wake - now)), "{wake:?}");
        // Already past, or no expiry: nothing to wake for.
        let past = answer(&[
            serde_json::json!({"text": "d", "expires": {"at": 1}}),
            serde_json::json!({"text": "e"}),
        ]);
        assert_eq!(next_expiry(&past), None);
    }
}
