//! `expect_state`, the oracle: every client of every listed member, on both
//! providers, must report the same epoch, epoch authenticator, participants
//! (with roles), room metadata and MLS members; each client's participants
//! and metadata must be what the commits on the wire give for its epoch, and
//! a follower may not be past the newest commit the wire brought it
//! (`relay::shadow`); then the pinned values are checked.
//!
//! State converges asynchronously (a follower may not have processed the
//! last commit yet), so on disagreement the oracle waits for the next event
//! of any member (a long-poll, never a sleep) and asks again, until the
//! step's deadline; then it fails with the precise difference.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use crate::control::CallError;
use crate::control::api::{ClientRoomState, RoomStateRequest, RoomStateResponse};
use crate::protocol::room::RoomView;
use crate::report::model::Verdict;
use crate::suite::model::ExpectState;
use crate::suite::model::Side;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

/// What the common state must be, with actor names already resolved.
struct Pinned {
    /// user URI → role.
    participants: Option<BTreeMap<String, String>>,
    /// (actor, user URI, client URIs).
    absent: Vec<(String, String, Vec<String>)>,
    /// Client URIs that must not be in the MLS group.
    absent_clients: Vec<String>,
    name: Option<String>,
    topic: Option<String>,
    avatar: Option<String>,
}

pub(crate) async fn expect_state(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectState,
    deadline: Instant,
) -> Result<(), Failure> {
    let room = state.text(&s.room)?;
    let members = s
        .members
        .iter()
        .map(|m| state.actor_name(m))
        .collect::<Result<Vec<_>, _>>()?;
    let participants = match &s.participants {
        None => None,
        Some(map) => {
            let mut out = BTreeMap::new();
            for (who, role) in map {
                out.insert(state.user_uri(who)?, state.text(role)?);
            }
            Some(out)
        }
    };
    let mut absent = Vec::new();
    for who in &s.absent {
        let name = state.actor_name(who)?;
        let a = state.actor(&name);
        absent.push((name, a.user.clone(), a.clients.clone()));
    }
    let absent_clients = s
        .absent_clients
        .iter()
        .map(|c| state.text(c))
        .collect::<Result<Vec<_>, _>>()?;
    let opt = |v: &Option<String>| v.as_deref().map(|t| state.text(t)).transpose();
    let pinned = Pinned {
        participants,
        absent,
        absent_clients,
        name: opt(&s.name)?,
        topic: opt(&s.topic)?,
        avatar: opt(&s.avatar)?,
    };
    let expected = describe(&pinned, &members);
    let sides: Vec<&str> = {
        let mut v: Vec<&str> = members
            .iter()
            .map(|m| env.side(state.actor(m).side).name)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    // The last disagreement seen: at the deadline it is the finding.
    let mut last: Option<(Found, Transcript)> = None;
    let mismatch = |(found, transcript): (Found, Transcript), note: &str| {
        let blame = match found.culprits.len() {
            1 => found.culprits.iter().next().map(String::as_str),
            _ => None,
        };
        Failure::violation(
            env.level,
            format!(
                "room state in {room} was still wrong at the deadline{note}: {}",
                found.problems.join("; ")
            ),
        )
        .blame(blame)
        .target(&sides.join(", "))
        .request(transcript.request)
        .response(transcript.response)
        .expected(expected.clone())
    };
    // Exchanges recorded on the case's wire: what may resolve a
    // contradiction with the shadow (a commit still on its way) without any
    // member seeing an event.
    let mut wire = env.wire.subscribe();
    loop {
        wire.borrow_and_update();
        let (reports, transcript) = match ask(env, state, &members, &room, deadline).await {
            Ok(answers) => answers,
            // Asked again too close to the deadline to be answered: the
            // last disagreement is what the step found, not the late call.
            Err(f) if f.verdict == Verdict::Timeout && Instant::now() >= deadline => {
                return Err(match last.take() {
                    Some(l) => mismatch(l, " (asked once more, no answer in time)"),
                    None => f,
                });
            }
            Err(f) => return Err(f),
        };
        let found = judge(env, state, &room, &reports, &pinned);
        if found.problems.is_empty() {
            return Ok(());
        }
        let shadowed = found.shadowed;
        last = Some((found, transcript));
        if shadowed {
            let wire_moved = async {
                if wire.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                waited = wait_for_any_event(env, state, &members, deadline) => waited?,
                () = wire_moved => {}
            }
        } else {
            wait_for_any_event(env, state, &members, deadline).await?;
        }
        // At the deadline the last answers stand: asking again would have
        // no time left to answer in.
        if Instant::now() >= deadline
            && let Some(l) = last.take()
        {
            return Err(mismatch(l, ""));
        }
    }
}

/// What the oracle found in one round: the problems, and the targets whose
/// clients are shown wrong (a 404 for a room it should know, or a value a
/// pin contradicts).
struct Found {
    problems: Vec<String>,
    culprits: BTreeSet<String>,
    /// A report contradicts the wire's shadow of the room.
    shadowed: bool,
}

fn describe(p: &Pinned, members: &[String]) -> String {
    let mut parts = vec![format!(
        "every client of {} reports the same epoch, epoch_authenticator, participants, metadata and members, and the participants and metadata the commits on the wire give for its epoch",
        members.join(", ")
    )];
    if let Some(map) = &p.participants {
        parts.push(format!("participants = {map:?}"));
    }
    if !p.absent.is_empty() {
        let names: Vec<&str> = p.absent.iter().map(|(n, _, _)| n.as_str()).collect();
        parts.push(format!("absent: {}", names.join(", ")));
    }
    if !p.absent_clients.is_empty() {
        parts.push(format!("not in the group: {}", p.absent_clients.join(", ")));
    }
    if let Some(n) = &p.name {
        parts.push(format!("name = {n:?}"));
    }
    if let Some(t) = &p.topic {
        parts.push(format!("topic = {t:?}"));
    }
    if let Some(a) = &p.avatar {
        parts.push(format!("avatar = {a:?}"));
    }
    parts.join("; ")
}

/// A member's answer: its clients' states, or that its target does not know
/// the room (yet).
type Report = (String, Option<RoomStateResponse>);

/// The room_state requests of one round and their answers, one per line.
struct Transcript {
    request: String,
    response: String,
}

/// Asks every member's target, all at once. A 404 means "not in the room
/// yet" and is judged like a disagreement; other errors end the step.
async fn ask(
    env: &CaseEnv<'_>,
    state: &CaseState,
    members: &[String],
    room: &str,
    deadline: Instant,
) -> Result<(Vec<Report>, Transcript), Failure> {
    let calls = members.iter().map(|m| {
        let a = state.actor(m);
        let req = RoomStateRequest {
            room: room.to_owned(),
            user: a.user.clone(),
        };
        async move {
            let (res, ex) = state
                .call::<_, RoomStateResponse>(env, a.side, "room_state", &req, deadline)
                .await;
            (m.clone(), res, ex)
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let mut reports = Vec::new();
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for (member, res, ex) in answers {
        requests.push(ex.request.clone());
        responses.push(format!(
            "{member} ({}): {}",
            ex.target,
            ex.response.clone().unwrap_or_default()
        ));
        match res {
            Ok(r) => reports.push((member, Some(r))),
            Err(CallError::NotFound { .. }) => reports.push((member, None)),
            Err(e) => {
                return Err(super::outcome::call_failure(
                    &e,
                    &ex,
                    "room_state",
                    env.level,
                ));
            }
        }
    }
    Ok((
        reports,
        Transcript {
            request: requests.join("\n"),
            response: responses.join("\n"),
        },
    ))
}

/// Everything wrong with the reports, one short phrase each (empty when the
/// oracle is satisfied), and which targets are shown wrong.
fn judge(
    env: &CaseEnv<'_>,
    state: &CaseState,
    room: &str,
    reports: &[Report],
    p: &Pinned,
) -> Found {
    let mut problems = Vec::new();
    let mut culprits = BTreeSet::new();
    let mut shadowed = false;
    // (client state, the target that answered for it)
    let mut all: Vec<(&ClientRoomState, &str)> = Vec::new();
    for (member, report) in reports {
        let side = state.actor(member).side;
        let clients = &state.actor(member).clients;
        let target = env.side(side).name;
        match report {
            None => {
                problems.push(format!(
                    "{member}'s target {target} does not know the room (404)"
                ));
                culprits.insert(target.to_owned());
            }
            Some(r) => {
                for c in clients {
                    if !r.clients.iter().any(|s| &s.client == c) {
                        problems.push(format!(
                            "client {c} of {member} does not report the room on target {target}"
                        ));
                        culprits.insert(target.to_owned());
                    }
                }
                all.extend(r.clients.iter().map(|s| (s, target)));
                let index = match side {
                    Side::A => env.cell.0,
                    Side::B => env.cell.1,
                };
                let shadow = env.wire.shadow();
                for s in &r.clients {
                    if let Some(c) = shadow.check(room, index, s.epoch, (&view_of(s), &s.members)) {
                        problems.push(format!(
                            "client {} on target {target} contradicts the wire's shadow of the room: it {}",
                            s.client, c
                        ));
                        culprits.insert(target.to_owned());
                        shadowed = true;
                    }
                }
            }
        }
    }
    if all.is_empty() {
        problems.push("no client reports the room".to_owned());
        return Found {
            problems,
            culprits,
            shadowed,
        };
    }
    let agreed = problems.len();
    disagreement(&mut problems, &all, "epoch", |s| s.epoch.to_string());
    disagreement(&mut problems, &all, "epoch_authenticator", |s| {
        s.epoch_authenticator.to_ascii_lowercase()
    });
    disagreement(&mut problems, &all, "participants", |s| {
        let mut p: Vec<String> = s
            .participants
            .iter()
            .map(|p| format!("{}={}", p.user, p.role))
            .collect();
        p.sort();
        format!("[{}]", p.join(", "))
    });
    // The metadata pins are checked on one client below: all must agree.
    disagreement(&mut problems, &all, "metadata", |s| {
        format!("{:?}", s.metadata)
    });
    disagreement(&mut problems, &all, "members", |s| {
        let mut m = s.members.clone();
        m.sort();
        format!("[{}]", m.join(", "))
    });
    if problems.len() > agreed {
        // They disagree: the targets with a client a pin contradicts are
        // wrong; without such a pin the culprit cannot be told.
        for (s, target) in &all {
            if !pinned(s, p).is_empty() {
                culprits.insert((*target).to_owned());
            }
        }
        return Found {
            problems,
            culprits,
            shadowed,
        };
    }
    // All agree: check the common state against the pins; every target
    // that answered holds the wrong value.
    let wrong = pinned(all[0].0, p);
    if !wrong.is_empty() {
        culprits.extend(all.iter().map(|(_, t)| (*t).to_owned()));
        let on: Vec<&str> = culprits.iter().map(String::as_str).collect();
        problems.push(format!(
            "all clients agree, on target {}, but {}",
            on.join(" and "),
            wrong.join("; ")
        ));
    }
    Found {
        problems,
        culprits,
        shadowed,
    }
}

/// A reported state in the shadow's terms.
fn view_of(s: &ClientRoomState) -> RoomView {
    let mut participants: Vec<(String, String)> = s
        .participants
        .iter()
        .map(|p| (p.user.clone(), p.role.clone()))
        .collect();
    participants.sort();
    RoomView {
        participants,
        name: s.metadata.name.clone(),
        topic: s.metadata.topic.clone(),
        avatar: s.metadata.avatar.clone(),
    }
}

/// What the pins say is wrong with one client's state.
fn pinned(common: &ClientRoomState, p: &Pinned) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(want) = &p.participants {
        let have: BTreeMap<&str, &str> = common
            .participants
            .iter()
            .map(|x| (x.user.as_str(), x.role.as_str()))
            .collect();
        for (user, role) in want {
            match have.get(user.as_str()) {
                None => problems.push(format!("participant {user} ({role}) is missing")),
                Some(r) if r != role => {
                    problems.push(format!("participant {user} has role {r}, expected {role}"))
                }
                Some(_) => {}
            }
        }
        for (user, role) in &have {
            if !want.contains_key(*user) {
                problems.push(format!("unexpected participant {user} ({role})"));
            }
        }
    }
    for (name, user, clients) in &p.absent {
        if common.participants.iter().any(|x| &x.user == user) {
            problems.push(format!("{name} ({user}) is still a participant"));
        }
        for c in clients {
            if common.members.contains(c) {
                problems.push(format!("client {c} of {name} is still in the MLS group"));
            }
        }
    }
    for c in &p.absent_clients {
        if common.members.contains(c) {
            problems.push(format!("client {c} is still in the MLS group"));
        }
    }
    if p.name.is_some() && common.metadata.name != p.name {
        problems.push(format!(
            "name is {:?}, expected {:?}",
            common.metadata.name, p.name
        ));
    }
    if p.topic.is_some() && common.metadata.topic != p.topic {
        problems.push(format!(
            "topic is {:?}, expected {:?}",
            common.metadata.topic, p.topic
        ));
    }
    if p.avatar.is_some() && common.metadata.avatar != p.avatar {
        problems.push(format!(
            "avatar is {:?}, expected {:?}",
            common.metadata.avatar, p.avatar
        ));
    }
    problems
}

/// Adds "field differs: <client> (target t) says <v>, …" when clients
/// disagree on it.
fn disagreement(
    problems: &mut Vec<String>,
    all: &[(&ClientRoomState, &str)],
    field: &str,
    value: impl Fn(&ClientRoomState) -> String,
) {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (s, target) in all {
        groups
            .entry(value(s))
            .or_default()
            .push(format!("{} (target {target})", s.client));
    }
    if groups.len() > 1 {
        let says: Vec<String> = groups
            .iter()
            .map(|(v, clients)| format!("{} says {v}", clients.join(" and ")))
            .collect();
        problems.push(format!("{field} differs: {}", says.join(", ")));
    }
}

/// Waits until any member's target reports a new event (or the deadline):
/// the wake-up for asking again.
async fn wait_for_any_event(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    members: &[String],
    deadline: Instant,
) -> Result<(), Failure> {
    let polls: Vec<_> = state
        .actors
        .iter_mut()
        .filter(|(name, _)| members.contains(name))
        .map(|(_, a)| {
            let conn = env.side(a.side);
            let user = a.user.clone();
            Box::pin(async move { a.inbox.fetch(conn.client, conn.name, &user, deadline).await })
        })
        .collect();
    if polls.is_empty() {
        return Ok(());
    }
    let (first, _, _) = futures_util::future::select_all(polls).await;
    first.map(drop)
}
