//! Where a message that never arrived was lost, read from the wire. A wait
//! for messages that timed out (or an ordered burst with a gap) in a cell of
//! two targets is explained by the exchanges the relay saw since the awaited
//! messages were sent, and blamed on the hop that provably dropped them: the
//! sender's provider that never submitted to the hub (protocol-06 §5.4), or
//! a hub that fanned out fewer application messages to the receiver's
//! provider than were sent to the room from its side (§5.5). Without such
//! proof the reason only gains what the wire shows, and the failure stays
//! on both targets.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use super::relay::exchange::{Exchange, summarize};
use super::relay::shadow::{message_hash, room_key};
use crate::protocol::Body;
use crate::report::model::Verdict;
use crate::suite::model::{Side, Step};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// One message a `send` step had accepted: when the call began, from which
/// side, to which room.
struct Sent {
    id: String,
    room: String,
    side: Side,
    start: SystemTime,
}

/// The case's accepted sends, for telling on the wire what must have
/// crossed it.
#[derive(Default)]
pub(crate) struct Ledger(Mutex<Vec<Sent>>);

impl Ledger {
    /// A send the target answered with `id`, whose call began at `start`.
    pub fn record(&self, id: &str, room: &str, side: Side, start: SystemTime) {
        self.sent().push(Sent {
            id: id.to_owned(),
            room: room_key(room),
            side,
            start,
        });
    }

    fn sent(&self) -> std::sync::MutexGuard<'_, Vec<Sent>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Adds the wire's account to a wait for messages that timed out, and the
/// blame when the wire proves which target dropped them.
pub(super) fn explain(env: &CaseEnv<'_>, state: &CaseState, step: &Step, f: &mut Failure) {
    if f.verdict != Verdict::Timeout {
        return;
    }
    let (actor, room, ids) = match step {
        Step::ExpectMessage(s) => match s.message_id.as_deref().map(|m| state.text(m)) {
            Some(Ok(id)) => (&s.actor, &s.room, vec![id.to_ascii_lowercase()]),
            _ => return,
        },
        Step::ExpectMessages(s) => match state.vars.burst(&s.ids) {
            Some(burst) => (&s.actor, &s.room, burst.ids.clone()),
            None => return,
        },
        _ => return,
    };
    let (Ok(actor), Ok(room)) = (state.actor_name(actor), state.text(room)) else {
        return;
    };
    let Some(path) = Path::of(env, state, state.actor(&actor).side, &room, &ids) else {
        return;
    };
    let name = |side: Side| env.side(side).name;
    let hub = name(path.hub);

    // The sender's provider never submitted to the hub.
    for &sender in &path.senders {
        if sender == path.hub {
            continue;
        }
        let submitted = path.since().any(|x| {
            (x.from.index, x.to.index) == (path.index(sender), path.index(path.hub))
                && x.endpoint() == "submitMessage"
        });
        if !submitted {
            let sender = name(sender);
            f.reason = format!(
                "{}; on the wire: no submitMessage for the room went from {sender} to the hub {hub} after the awaited message was sent: {sender} answered the send but never submitted it (protocol-06 §5.4)",
                f.reason
            );
            f.set_blame(Some(sender));
            return;
        }
    }
    match path.account(env, state) {
        Account::Short { hub, why } => {
            f.reason = format!("{}; {why}", f.reason);
            f.set_blame(Some(&hub));
        }
        Account::Complete(why) => f.reason = format!("{}; {why}", f.reason),
        Account::Unknown => {}
    }
}

/// Whether the hub owes the receiver's provider messages of an ordered
/// burst that arrived with a gap: waits (on the case's wire, until
/// `deadline`) for the hub to fan out as many application messages to that
/// provider as were sent from its side since the burst began; if it never
/// does, the hub skipped one. Returns the hub's target and the wire's
/// account; `None` when the hub caught up or the wire cannot tell.
pub(super) async fn hub_skipped(
    env: &CaseEnv<'_>,
    state: &CaseState,
    receiver: Side,
    room: &str,
    ids: &[String],
    deadline: tokio::time::Instant,
) -> Option<(String, String)> {
    let mut changes = env.wire.subscribe();
    loop {
        let path = Path::of(env, state, receiver, room, ids)?;
        match path.account(env, state) {
            Account::Short { hub, why } => {
                if tokio::time::Instant::now() >= deadline {
                    return Some((hub, why));
                }
            }
            Account::Complete(_) | Account::Unknown => return None,
        }
        // Each recorded exchange may be a fan-out the count lacks.
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
    }
}

/// What the wire tells about the hub's fan-out to the receiver's provider.
enum Account {
    /// Fewer messages than were sent from the hub's side, with nothing in
    /// the way: the hub skipped the provider.
    Short { hub: String, why: String },
    /// Everything sent from the hub's side went out (or the harness stood
    /// in the way): the wire's count, for the reason.
    Complete(String),
    /// No path to judge (the hub's own side, or a room the receiver's
    /// provider never joined on the wire).
    Unknown,
}

/// A room's path from the hub to the receiver's provider, in a cell of two
/// targets, from the sends of the awaited messages on.
struct Path {
    cell: (usize, usize),
    hub: Side,
    receiver: Side,
    /// The sides that sent the awaited messages.
    senders: HashSet<Side>,
    /// When the first awaited message's send began.
    start: SystemTime,
    /// The accepted sends to the room: (side, start).
    sends: Vec<(Side, SystemTime)>,
    /// The case's exchanges that name the room in their path.
    wire: Vec<Arc<Exchange>>,
    /// Distinct application messages the relay received from the hub for
    /// the receiver's provider since `start`, counted before forwarding
    /// (so whatever a client of it shows is among them).
    forwarded: usize,
}

/// How the hub's notifies to the receiver's provider went (the count of
/// what they carried is [`Path::forwarded`]).
struct Fanned {
    /// Nothing the harness did stood in the way: no fault step, cut link
    /// or failed delivery between them (retries are a matter of timing).
    clean: bool,
    /// Notifies it answered with no 2xx.
    refused: usize,
    /// The last notify, summarized.
    last: String,
}

impl Path {
    fn of(
        env: &CaseEnv<'_>,
        state: &CaseState,
        receiver: Side,
        room: &str,
        ids: &[String],
    ) -> Option<Path> {
        let cell = env.cell;
        if cell.0 == cell.1 {
            return None;
        }
        let room = room_key(room);
        let hub_domain = room.split('/').next()?.to_ascii_lowercase();
        let hub = [Side::A, Side::B]
            .into_iter()
            .find(|s| env.relay.domain(index_of(cell, *s)) == Some(hub_domain.as_str()))?;
        let sent = state.sent.sent();
        let awaited: Vec<&Sent> = sent
            .iter()
            .filter(|s| s.room == room && ids.contains(&s.id))
            .collect();
        let start = awaited.iter().map(|s| s.start).min()?;
        let wire: Vec<Arc<Exchange>> = env
            .wire
            .exchanges()
            .into_iter()
            .filter(|x| on_room(x, &room))
            .collect();
        // The receiver's provider's own messages, which the hub may or may
        // not send back to it (§5.5), do not count.
        let own: HashSet<u64> = wire
            .iter()
            .filter(|x| x.from.index == index_of(cell, receiver))
            .filter_map(|x| match x.decoded()?.request.as_ref()? {
                Body::SubmitMessageRequest(m) => Some(message_hash(m.app_message.bytes())),
                _ => None,
            })
            .collect();
        let forwarded = env.wire.shadow().forwarded_since(
            &room,
            (index_of(cell, hub), index_of(cell, receiver)),
            start,
            &own,
        );
        Some(Path {
            cell,
            hub,
            receiver,
            senders: awaited.iter().map(|s| s.side).collect(),
            sends: sent
                .iter()
                .filter(|s| s.room == room)
                .map(|s| (s.side, s.start))
                .collect(),
            start,
            wire,
            forwarded,
        })
    }

    fn index(&self, side: Side) -> usize {
        index_of(self.cell, side)
    }

    /// The room's exchanges since the first awaited message was sent.
    fn since(&self) -> impl Iterator<Item = &Arc<Exchange>> {
        self.wire.iter().filter(|x| x.time >= self.start)
    }

    /// Sends from the hub's side since the first awaited message: what
    /// the hub must have fanned out to the receiver's provider (a hub need
    /// not send a provider's own messages back to it, §5.5, so the
    /// receiver's side does not count).
    fn required(&self) -> usize {
        self.sends
            .iter()
            .filter(|(side, t)| *side != self.receiver && *t >= self.start)
            .count()
    }

    /// What the hub fanned out to the receiver's provider since the first
    /// awaited message was sent; `None` when the receiver's side is the hub,
    /// or when no exchange ever named the room between the two (the
    /// receiver's provider has no member the hub must serve).
    fn fanned(&self) -> Option<Fanned> {
        let (hub, receiver) = (self.index(self.hub), self.index(self.receiver));
        if hub == receiver || !self.wire.iter().any(|x| x.between(hub, receiver)) {
            return None;
        }
        let to_receiver: Vec<&Arc<Exchange>> = self
            .since()
            .filter(|x| (x.from.index, x.to.index) == (hub, receiver))
            .collect();
        let broken =
            |x: &Exchange| x.fault.is_some() || x.relay_status.is_some() || x.error.is_some();
        let notifies: Vec<&Arc<Exchange>> = to_receiver
            .iter()
            .copied()
            .filter(|x| x.endpoint() == "notify" && !broken(x))
            .collect();
        Some(Fanned {
            clean: !to_receiver.iter().any(|x| broken(x)),
            refused: notifies
                .iter()
                .filter(|x| !x.status.is_some_and(|s| (200..300).contains(&s)))
                .count(),
            last: notifies
                .last()
                .map_or_else(|| "none".to_owned(), |x| summarize(x)),
        })
    }

    /// The hub's fan-out to the receiver's provider, against the sends
    /// from the hub's side since the first awaited message.
    fn account(&self, env: &CaseEnv<'_>, state: &CaseState) -> Account {
        let Some(fanned) = self.fanned() else {
            return Account::Unknown;
        };
        let hub = env.side(self.hub).name;
        let receiver = env.side(self.receiver).name;
        let required = self.required();
        let count = self.forwarded;
        if count < required && fanned.clean && !state.cut {
            return Account::Short {
                hub: hub.to_owned(),
                why: format!(
                    "on the wire: the hub {hub} fanned out {count} application message(s) of the room to {receiver} since the awaited message was sent, though {required} had been sent to the room from {hub}'s side: the hub skipped {receiver} (protocol-06 §5.5; last notify: {})",
                    fanned.last
                ),
            };
        }
        Account::Complete(format!(
            "on the wire: the hub {hub} fanned out {count} application message(s) of the room to {receiver} since the awaited message was sent ({required} sent from {hub}'s side), and {receiver} refused {} notify request(s) (last notify: {})",
            fanned.refused, fanned.last
        ))
    }
}

/// The target index of `side` in `cell`.
fn index_of(cell: (usize, usize), side: Side) -> usize {
    match side {
        Side::A => cell.0,
        Side::B => cell.1,
    }
}

/// Whether an exchange names `room` (a room key) in its path.
fn on_room(x: &Exchange, room: &str) -> bool {
    x.decoded()
        .and_then(|d| d.route.as_ref())
        .is_some_and(|r| room_key(&r.subject) == room)
}
