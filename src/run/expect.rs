//! `expect_message` and `expect_no_message`: wait (long-poll) for message
//! events on the receiving actor's target and judge the bytes that came.

use super::case::{CaseEnv, CaseState};
use super::judge;
use super::outcome::Failure;
use crate::control::api::{Event, EventKind};
use crate::suite::model::{ExpectMessage, ExpectNoMessage, WireFormat};
use std::collections::{BTreeMap, HashMap};
use tokio::time::Instant;

/// Whether `sender` (a client URI) belongs to the user `from`: by the
/// clients the case created, else (a user the case does not know) by the
/// provider part, `mimi://<domain>/d/`.
pub(super) fn sent_by(state: &CaseState, sender: &str, from: &str) -> bool {
    if let Some(owner) = state.owners.get(sender) {
        return owner == from;
    }
    match from.strip_prefix("mimi://").and_then(|r| r.split_once('/')) {
        Some((domain, _)) => sender.starts_with(&format!("mimi://{domain}/d/")),
        None => false,
    }
}

/// The index, from `start` on, of the next pending message event of
/// `actor` in `room` on a client `client_ok` accepts and (with `from`) sent
/// by that user: the candidates `expect_message(s)` judge one by one.
pub(super) fn next_message(
    state: &CaseState,
    actor: &str,
    room: &str,
    from: Option<&str>,
    start: usize,
    client_ok: impl Fn(&str) -> bool,
) -> Option<usize> {
    let pending = &state.actors[actor].inbox.pending;
    (start..pending.len()).find(|&k| {
        let ev = &pending[k];
        let EventKind::Message { sender, .. } = &ev.kind else {
            return false;
        };
        ev.room == room && client_ok(&ev.client) && from.is_none_or(|f| sent_by(state, sender, f))
    })
}

/// The target of the side whose actor owns the client `sender`, when it is
/// a client this case created.
pub(super) fn sender_target<'e>(
    env: &CaseEnv<'e>,
    state: &CaseState,
    sender: &str,
) -> Option<&'e str> {
    let user = state.owners.get(sender)?;
    let actor = state.actors.values().find(|a| &a.user == user)?;
    Some(env.side(actor.side).name)
}

/// Why each message event `actor` has not consumed failed to match the
/// expectation, one phrase each (at most [`SHOWN`]), for the reason at the
/// deadline.
pub(super) fn unmatched(
    state: &CaseState,
    actor: &str,
    room: &str,
    from: Option<&str>,
    want_id: Option<&str>,
) -> Vec<String> {
    let inbox = &state.actors[actor].inbox;
    let mut out: Vec<String> = Vec::new();
    let mut total = 0;
    for ev in &inbox.pending {
        let EventKind::Message {
            sender, content, ..
        } = &ev.kind
        else {
            continue;
        };
        total += 1;
        if out.len() >= SHOWN {
            continue;
        }
        let on = format!("on {} (event {})", ev.client, ev.seq);
        if ev.room != room {
            out.push(format!("{on}: a message in another room, {}", ev.room));
            continue;
        }
        if let Some(f) = from
            && !sent_by(state, sender, f)
        {
            let whose = state
                .owners
                .get(sender)
                .map(|u| format!("a client of {u}"))
                .unwrap_or_else(|| "no client of this test".to_owned());
            out.push(format!("{on}: from {sender} ({whose}), not from {f}"));
            continue;
        }
        let Some(owner) = state.owners.get(sender).map(String::as_str).or(from) else {
            out.push(format!("{on}: from {sender}, no client of this test"));
            continue;
        };
        let rec = judge::received(content, owner, room);
        let id = rec.message_id.as_deref();
        let seen_before = |got: &str| {
            inbox
                .delivered
                .contains(&(ev.client.clone(), got.to_owned()))
        };
        match (&rec.content, id, want_id) {
            (Err(why), _, _) => out.push(format!("{on}: invalid MIMI content: {why}")),
            (Ok(_), None, _) => out.push(format!("{on}: its message ID does not compute")),
            (Ok(_), Some(got), Some(want)) if got != want => {
                out.push(format!("{on}: message {got}, not {want}"))
            }
            (Ok(_), Some(got), _) if seen_before(got) => {
                out.push(format!("{on}: a second copy of message {got}"))
            }
            (Ok(_), Some(got), _) => out.push(format!(
                "{on}: message {got}, on a client that needs no further message"
            )),
        }
    }
    if total > out.len() {
        out.push(format!("and {} more", total - out.len()));
    }
    out
}

/// Unmatched messages named one by one in a reason; the transcript has all.
const SHOWN: usize = 8;

pub(super) fn event_json(ev: &Event) -> String {
    serde_json::to_string(ev).unwrap_or_default()
}

/// RFC 9420's name for a wire format.
pub(super) fn mls_name(w: WireFormat) -> &'static str {
    match w {
        WireFormat::Private => "PrivateMessage",
        WireFormat::Public => "PublicMessage",
    }
}

pub(crate) async fn expect_message(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectMessage,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let room = state.text(&s.room)?;
    let from = s.from.as_deref().map(|f| state.user_uri(f)).transpose()?;
    let want_id = s
        .message_id
        .as_deref()
        .map(|m| state.text(m).map(|t| t.to_ascii_lowercase()))
        .transpose()?;
    let want_content = s
        .content
        .as_ref()
        .map(|c| state.vars.interpolate_json(c))
        .transpose()
        .map_err(|e| Failure::harness(e.to_string()))?;
    let side = state.actor(&actor).side;
    let conn = env.side(side);
    let user = state.actor(&actor).user.clone();
    let needed: Vec<String> = if s.all_clients {
        state.actor(&actor).clients.clone()
    } else {
        Vec::new()
    };
    let expected = format!(
        "a message in {room}{}{}{}{}",
        from.as_deref()
            .map(|f| format!(" from {f}"))
            .unwrap_or_default(),
        want_id
            .as_deref()
            .map(|m| format!(" with ID {m}"))
            .unwrap_or_default(),
        want_content
            .as_ref()
            .map(|c| format!(" whose content matches {c}"))
            .unwrap_or_default(),
        if s.all_clients {
            " on every client"
        } else {
            ""
        }
    ) + &s
        .wire_format
        .map(|w| format!(", as an MLS {}", mls_name(w)))
        .unwrap_or_default();
    // client → message ID received there.
    let mut got: BTreeMap<String, String> = BTreeMap::new();
    // (client, seq) → ID of messages that matched all but the ID.
    let mut other_ids: BTreeMap<(String, u64), String> = BTreeMap::new();
    loop {
        let mut i = 0;
        loop {
            let done = if s.all_clients {
                needed.iter().all(|c| got.contains_key(c))
            } else {
                !got.is_empty()
            };
            if done {
                if let (Some(var), Some(id)) = (&s.capture, got.values().next()) {
                    state.vars.set(var, id.clone());
                }
                return Ok(());
            }
            let client_ok =
                |c: &str| !got.contains_key(c) && (!s.all_clients || needed.iter().any(|n| n == c));
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
            // A sender the case did not create but `from` vouches for (by
            // domain) is hashed under the `from` user.
            let owner = state.owners.get(sender).or(from.as_ref());
            let Some(sender_user) = owner else {
                if want_id.is_some() {
                    let shown = format!("(from unknown client {sender})");
                    other_ids.insert((ev.client.clone(), ev.seq), shown);
                    continue;
                }
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} got a message from {sender}, which is no client of this test, so its message ID cannot be checked",
                        ev.client
                    ),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            };
            let rec = judge::received(content, sender_user, &room);
            // With an ID to wait for, other messages (even invalid ones a
            // negative test sent on purpose) are not this expectation's.
            if let Some(want) = &want_id
                && rec.message_id.as_ref() != Some(want)
            {
                let shown = rec
                    .message_id
                    .clone()
                    .unwrap_or_else(|| "(no computable ID)".to_owned());
                other_ids.insert((ev.client.clone(), ev.seq), shown);
                continue;
            }
            let (id, readable) = match (rec.message_id, rec.content) {
                (Some(id), Ok(v)) => (id, v),
                (None, Ok(_)) => {
                    return Err(Failure::harness(
                        "content decoded but its message ID did not compute: judge invariant broken",
                    ));
                }
                (_, Err(why)) => {
                    let origin = sender_target(env, state, sender);
                    return Err(Failure::violation(
                        env.level,
                        format!(
                            "{actor}'s client {} (target {}) received invalid MIMI content from {sender}{}: {why}",
                            ev.client,
                            conn.name,
                            origin
                                .map(|t| format!(" (target {t}, whose client made the bytes)"))
                                .unwrap_or_default()
                        ),
                    )
                    .blame(origin)
                    .target(conn.name)
                    .response(event_json(ev))
                    .expected(expected));
                }
            };
            if a.inbox.delivered.contains(&(ev.client.clone(), id.clone())) {
                // A second copy: left for expect_no_message to report.
                continue;
            }
            if let Some(want) = &want_content
                && let Err(why) = judge::check_content(want, &readable)
            {
                // The sender's target vouched for its bytes when it sent
                // them (`judge_sent`): which side changed them is unknown.
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} (target {}) received message {id} from {sender}{} whose content differs: {why}",
                        ev.client,
                        conn.name,
                        sender_target(env, state, sender)
                            .map(|t| format!(" (target {t})"))
                            .unwrap_or_default()
                    ),
                )
                .blame(None)
                .target(conn.name)
                .response(serde_json::to_string(&readable).unwrap_or_default())
                .expected(want.to_string()));
            }
            if let Some(want) = s.wire_format
                && wire_format != want.as_str()
            {
                // The sending client chooses the wire format.
                let origin = sender_target(env, state, sender);
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} (target {}) received message {id} from {sender}{} as a {wire_format} message, but it must arrive as {} (an MLS {})",
                        ev.client,
                        conn.name,
                        origin
                            .map(|t| format!(" (target {t}, which chose the wire format)"))
                            .unwrap_or_default(),
                        want.as_str(),
                        mls_name(want)
                    ),
                )
                .blame(origin)
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            }
            let client = ev.client.clone();
            i -= 1;
            let a = state
                .actors
                .get_mut(&actor)
                .expect("actor_name returned a key");
            a.inbox.pending.remove(i);
            a.inbox.delivered.insert((client.clone(), id.clone()));
            got.insert(client, id);
        }
        if Instant::now() >= deadline {
            let arrived = unmatched(state, &actor, &room, from.as_deref(), want_id.as_deref());
            let seen = if arrived.is_empty() {
                "; no other message arrived".to_owned()
            } else {
                format!("; arrived but did not match: {}", arrived.join("; "))
            };
            let missing: Vec<&String> = needed.iter().filter(|c| !got.contains_key(*c)).collect();
            let who = if s.all_clients {
                format!(
                    "client(s) {} of {actor}",
                    missing
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                actor.clone()
            };
            let missed = format!(
                "{who} (target {}) received no matching message in {room} before the deadline{seen}",
                conn.name
            );
            // Wrong bytes arrived: a violation. Nothing arrived: the
            // behaviour is missing (timeout, or non-strict for SHOULD).
            let failure = if other_ids.is_empty() {
                let mut f = Failure::waited_out(env.level, &expected);
                f.reason = format!("{}: {missed}", f.reason);
                f
            } else {
                Failure::violation(env.level, missed)
            };
            let pending: Vec<String> = state.actors[&actor]
                .inbox
                .pending
                .iter()
                .map(event_json)
                .collect();
            return Err(failure
                .target(conn.name)
                .response(format!("unconsumed events: [{}]", pending.join(", ")))
                .expected(expected));
        }
        let inbox = &mut state.actors.get_mut(&actor).expect("actor exists").inbox;
        inbox.fetch(conn.client, conn.name, &user, deadline).await?;
    }
}

pub(crate) async fn expect_no_message(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectNoMessage,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let room = state.text(&s.room)?;
    let forbidden = s
        .message_id
        .as_deref()
        .map(|m| state.text(m).map(|t| t.to_ascii_lowercase()))
        .transpose()?;
    let unwanted = s
        .content
        .as_ref()
        .map(|c| state.vars.interpolate_json(c))
        .transpose()
        .map_err(|e| Failure::harness(e.to_string()))?;
    let until = state.text(&s.until)?.to_ascii_lowercase();
    let until_room = match &s.until_room {
        Some(r) => state.text(r)?,
        None => room.clone(),
    };
    let conn = env.side(state.actor(&actor).side);
    let user = state.actor(&actor).user.clone();
    let mut expected = match &forbidden {
        Some(f) => format!(
            "no message {f} and no duplicate in {room} before {until} arrives in {until_room}"
        ),
        None => format!("no duplicate in {room} before {until} arrives in {until_room}"),
    };
    if let Some(c) = &unwanted {
        expected = format!("{expected}, and no message with content {c}");
    }
    // IDs of messages already judged, by event: the window is re-read on
    // every wake-up, the bytes are decoded once.
    let mut ids: HashMap<(String, u64), (Option<String>, Option<serde_json::Value>)> =
        HashMap::new();
    loop {
        let inbox = &state.actors[&actor].inbox;
        let mut seen: HashMap<(String, String), u32> =
            inbox.delivered.iter().map(|k| (k.clone(), 1)).collect();
        for ev in &inbox.pending {
            let EventKind::Message {
                sender, content, ..
            } = &ev.kind
            else {
                continue;
            };
            if ev.room != room && ev.room != until_room {
                continue;
            }
            let key = (ev.client.clone(), ev.seq);
            let (id, readable) = match ids.get(&key) {
                Some(judged) => judged.clone(),
                None => {
                    let judged = state
                        .owners
                        .get(sender)
                        .map(|u| judge::received(content, u, &ev.room))
                        .map_or((None, None), |r| (r.message_id, r.content.ok()));
                    ids.insert(key, judged.clone());
                    judged
                }
            };
            if let (Some(want), Some(got)) = (&unwanted, &readable)
                && ev.room == room
                && judge::check_content(want, got).is_ok()
            {
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} received a message with content {want}, which must not arrive",
                        ev.client
                    ),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            }
            let Some(id) = id else {
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} got a message from {sender} whose ID cannot be computed (unknown sender or not MIMI content)",
                        ev.client
                    ),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            };
            if forbidden.as_ref() == Some(&id) && ev.room == room {
                return Err(Failure::violation(
                    env.level,
                    format!(
                        "{actor}'s client {} received message {id}, which must not arrive",
                        ev.client
                    ),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            }
            let count = seen.entry((ev.client.clone(), id.clone())).or_insert(0);
            *count += 1;
            if *count > 1 {
                return Err(Failure::violation(
                    env.level,
                    format!("{actor}'s client {} received message {id} twice", ev.client),
                )
                .target(conn.name)
                .response(event_json(ev))
                .expected(expected));
            }
            if id == until && ev.room == until_room {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            let mut f = Failure::waited_out(env.level, format!("marker message {until}"));
            f.reason = format!(
                "{}: {actor} (target {}) never received it in {until_room}, so absence cannot be judged",
                f.reason, conn.name
            );
            return Err(f.target(conn.name).expected(expected));
        }
        let inbox = &mut state.actors.get_mut(&actor).expect("actor exists").inbox;
        inbox.fetch(conn.client, conn.name, &user, deadline).await?;
    }
}
