//! `expect_messages`: the receiver gets every message of a `send_burst`
//! exactly once, in the burst's order, no gaps. Each message is judged like
//! `expect_message` judges one: the harness decodes the bytes with its own
//! codec, recomputes the ID and compares the content with what was asked.
//!
//! Only messages whose recomputed ID belongs to the burst are this step's;
//! others (another sender's, a marker) stay pending for later steps. One
//! deadline covers the whole set; waiting is the inbox long-poll.

use super::case::{CaseEnv, CaseState};
use super::expect::{event_json, mls_name, next_message};
use super::judge;
use super::outcome::{Failure, violation_verdict};
use crate::control::api::EventKind;
use crate::suite::model::ExpectMessages;
use std::collections::{BTreeMap, HashMap};
use tokio::time::Instant;

/// One receiving client's progress through the burst.
#[derive(Default)]
struct Progress {
    /// `got[k]`: message k (0-based) arrived.
    got: Vec<bool>,
    received: usize,
    /// With `ordered`, the index due next.
    next: usize,
}

/// At most this many missing positions are named in a failure.
const SHOWN: usize = 10;

pub(crate) async fn expect_messages(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectMessages,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let room = state.text(&s.room)?;
    let from = s.from.as_deref().map(|f| state.user_uri(f)).transpose()?;
    let burst = state.vars.burst(&s.ids).cloned().ok_or_else(|| {
        Failure::harness(format!("no send_burst captured `{}` in this case", s.ids))
    })?;
    let n = burst.ids.len();
    let position: HashMap<&str, usize> = burst
        .ids
        .iter()
        .enumerate()
        .map(|(k, id)| (id.as_str(), k))
        .collect();
    let conn = env.side(state.actor(&actor).side);
    let user = state.actor(&actor).user.clone();
    let clients: Vec<String> = if s.all_clients {
        state.actor(&actor).clients.clone()
    } else {
        state
            .actor(&actor)
            .clients
            .iter()
            .take(1)
            .cloned()
            .collect()
    };
    let mut progress: BTreeMap<String, Progress> = clients
        .iter()
        .map(|c| {
            let p = Progress {
                got: vec![false; n],
                ..Progress::default()
            };
            (c.clone(), p)
        })
        .collect();
    let expected = format!(
        "the {n} messages of burst `{}` in {room}{}, each exactly once{}{} on {}",
        s.ids,
        from.as_deref()
            .map(|f| format!(" from {f}"))
            .unwrap_or_default(),
        if s.ordered { ", in sending order" } else { "" },
        s.wire_format
            .map(|w| format!(", as MLS {}s", mls_name(w)))
            .unwrap_or_default(),
        if s.all_clients {
            format!("every client of {actor}")
        } else {
            format!("{actor}'s first client")
        }
    );
    // (client, seq) → the judged bytes: each event is decoded once.
    let mut judged: HashMap<(String, u64), judge::Received> = HashMap::new();
    loop {
        let mut i = 0;
        loop {
            if progress.values().all(|p| p.received == n) {
                return Ok(());
            }
            let client_ok = |c: &str| progress.contains_key(c);
            let Some(k) = next_message(state, &actor, &room, from.as_deref(), i, client_ok) else {
                break;
            };
            i = k + 1;
            let a = &state.actors[&actor];
            let ev = &a.inbox.pending[k];
            let EventKind::Message {
                sender,
                content,
                wire_format,
                ..
            } = &ev.kind
            else {
                continue; // next_message returns message events only
            };
            // The burst's sender is an actor, so its clients are known;
            // a message from anyone else cannot be one of the burst's.
            let Some(sender_user) = state.owners.get(sender) else {
                continue;
            };
            let rec = judged
                .entry((ev.client.clone(), ev.seq))
                .or_insert_with(|| judge::received(content, sender_user, &room));
            let Some(k) = rec
                .message_id
                .as_deref()
                .and_then(|id| position.get(id).copied())
            else {
                continue;
            };
            let id = burst.ids[k].clone();
            let origin = super::expect::sender_target(env, state, sender);
            let fail = |why: String| {
                Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} (target {}): {why}",
                        ev.client, conn.name
                    ),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected.clone())
            };
            let p = &progress[&ev.client];
            if p.got[k] || a.inbox.delivered.contains(&(ev.client.clone(), id.clone())) {
                return Err(fail(format!(
                    "message {} of {n} ({id}) arrived twice",
                    k + 1
                )));
            }
            if s.ordered && k != p.next {
                let mut f = fail(format!(
                    "message {} of {n} ({id}) arrived when message {} was due: message {} is missing or out of order",
                    k + 1,
                    p.next + 1,
                    p.next + 1
                ));
                // The wire may show that the hub skipped it: once the
                // hub's fan-out has caught up, or the deadline passed.
                if let Some((hub, why)) =
                    super::lost::hub_skipped(env, state, a.side, &room, &burst.ids, deadline).await
                {
                    f.reason = format!("{}; {why}", f.reason);
                    f.set_blame(Some(&hub));
                }
                return Err(f);
            }
            match &rec.content {
                Err(why) => {
                    return Err(fail(format!(
                        "message {} of {n} ({id}) is invalid MIMI content: {why}",
                        k + 1
                    )));
                }
                Ok(readable) => {
                    let want = judge::comparable_intent(&burst.contents[k]);
                    if let Err(why) = judge::check_content(&want, readable) {
                        return Err(fail(format!(
                            "message {} of {n} ({id}) has other content than was sent: {why}",
                            k + 1
                        )));
                    }
                }
            }
            if let Some(want) = s.wire_format
                && wire_format != want.as_str()
            {
                // The sending client chooses the wire format.
                return Err(fail(format!(
                    "message {} of {n} ({id}) from {sender}{} arrived as a {wire_format} message, but it must arrive as {} (an MLS {})",
                    k + 1,
                    origin
                        .map(|t| format!(" (target {t}, which chose the wire format)"))
                        .unwrap_or_default(),
                    want.as_str(),
                    mls_name(want)
                ))
                .blame(origin));
            }
            let client = ev.client.clone();
            i -= 1;
            let a = state
                .actors
                .get_mut(&actor)
                .expect("actor_name returned a key");
            a.inbox.pending.remove(i);
            a.inbox.delivered.insert((client.clone(), id));
            let p = progress.get_mut(&client).expect("checked above");
            p.got[k] = true;
            p.received += 1;
            p.next = k + 1;
        }
        if Instant::now() >= deadline {
            let mut f = incomplete(env, (&actor, conn.name), &room, &progress, n, &burst.ids)
                .target(conn.name)
                .expected(expected);
            let side = state.actor(&actor).side;
            if let Some((hub, why)) =
                super::lost::hub_skipped(env, state, side, &room, &burst.ids, deadline).await
            {
                f.reason = format!("{}; {why}", f.reason);
                f.set_blame(Some(&hub));
            }
            return Err(f);
        }
        let inbox = &mut state.actors.get_mut(&actor).expect("actor exists").inbox;
        inbox.fetch(conn.client, conn.name, &user, deadline).await?;
    }
}

/// The failure at the deadline: nothing at all is the behaviour missing
/// (`Failure::waited_out`), part of the burst is a gap (a violation),
/// naming the missing messages.
fn incomplete(
    env: &CaseEnv<'_>,
    (actor, target): (&str, &str),
    room: &str,
    progress: &BTreeMap<String, Progress>,
    n: usize,
    ids: &[String],
) -> Failure {
    let mut parts = Vec::new();
    for (client, p) in progress.iter().filter(|(_, p)| p.received < n) {
        let missing: Vec<String> = (0..n)
            .filter(|k| !p.got[*k])
            .take(SHOWN)
            .map(|k| format!("{} ({})", k + 1, ids[k]))
            .collect();
        let more = n - p.received - missing.len();
        parts.push(format!(
            "client {client} received {} of {n}; missing {}{}",
            p.received,
            missing.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    let none = progress.values().all(|p| p.received == 0);
    let missed = format!(
        "{actor} (target {target}) did not receive the whole burst in {room} before the deadline: {}",
        parts.join("; ")
    );
    if none {
        let mut f = Failure::waited_out(env.level, format!("a burst of {n} messages"));
        f.reason = format!("{}: {missed}", f.reason);
        f
    } else {
        Failure::new(violation_verdict(env.level), missed)
    }
}
