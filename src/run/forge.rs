//! `forge`: the harness's adversary sends the target (side a) a request the
//! drafts require it to refuse. The verdict is read off the wire: the
//! target's answer to each forged request as the relay recorded it, decoded
//! with the protocol codec (`protocol::answer`). What the adversary says it
//! saw is kept for the transcript only. The forgeries the adversary makes
//! as a room's hub (`Forgery::by_the_hub`) go the other way, to the target
//! as follower; it may take them, and the steps after judge its clients.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use super::relay::exchange::{Exchange, summarize};
use super::relay::probe::{Identity, ProbeAnswer};
use super::targets::{ADVERSARY_DOMAIN, THIRD_PARTY_DOMAIN};
use crate::control::CallError;
use crate::control::api::{ForgeEndpoint, ForgeRequest, ForgeResponse, Forgery};
use crate::protocol::answer::{Answer, read_answer};
use crate::protocol::exchange::{Endpoint, route};
use crate::protocol::{HandshakeBundle, SubmitMessageRequest};
use crate::report::model::Verdict;
use crate::suite::model::{Forge, Side};
use std::sync::Arc;
use tokio::time::Instant;

pub(crate) async fn forge(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &Forge,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let req = ForgeRequest {
        forgery: s.forgery,
        actor: state.actor(&actor).user.clone(),
        room: state.text(&s.room)?,
        user: s.user.as_deref().map(|u| state.user_uri(u)).transpose()?,
        role: s.role.as_deref().map(|r| state.text(r)).transpose()?,
        endpoint: s.endpoint,
    };
    let target = env.a.name;
    let Some(endpoint) = s.forgery.endpoint(s.endpoint) else {
        return Err(Failure::harness(format!(
            "{} names no endpoint",
            s.forgery.name()
        )));
    };
    if s.forgery.by_harness(s.endpoint) {
        return probe(env, &req, endpoint, deadline).await;
    }
    let before = env.wire.exchanges().len();
    let (result, ex) = state
        .call::<_, ForgeResponse>(env, Side::B, "forge", &req, deadline)
        .await;
    let sent: Vec<Arc<Exchange>> = env.wire.exchanges()[before..]
        .iter()
        .filter(|x| x.from.index == env.cell.1 && x.to.index == env.cell.0)
        .cloned()
        .collect();
    let said = match &result {
        Ok(r) => format!("{}; the adversary saw: {}", r.sent, r.answer),
        Err(e) => format!("the adversary's forge call failed: {e}"),
    };
    if let Ok(r) = &result {
        keep_message(state, s, r)?;
    }
    let mut primary: Vec<&Arc<Exchange>> = sent
        .iter()
        .filter(|x| x.endpoint() == endpoint.name())
        .collect();
    // Setup the drafts allow comes first, and the target must take it: a
    // refusal there is no refusal of the forgery.
    let setup = s.forgery.setup_requests().min(primary.len());
    for x in primary.drain(..setup) {
        if !taken(x) {
            return Err(Failure::violation(
                env.level,
                format!(
                    "{target} refused a request the drafts allow, which {} needs before its forged request",
                    s.forgery.name()
                ),
            )
            .blame(Some(target))
            .target(target)
            .request(format!("{said} | on the wire: {}", summarize(x))));
        }
    }
    if primary.is_empty() {
        // Nothing reached the target: the forgery could not be made, or
        // the target refused an earlier request the forgery needed (a
        // KeyPackage claim for a banned user), which is a refusal too.
        if sent.iter().any(|x| refused(x)) {
            return Ok(());
        }
        // The adversary waits for the target's answer; when that wait
        // outlived the step, the target hung on the forged request.
        if let Err(CallError::Timeout { .. }) = &result {
            return Err(Failure::new(
                Verdict::Timeout,
                format!(
                    "{target} did not answer a forged request ({}) within the step deadline",
                    s.forgery.name()
                ),
            )
            .blame(Some(target))
            .target(target)
            .request(said));
        }
        return Err(Failure::harness(format!(
            "{}: no {} request reached {target}: {said}",
            s.forgery.name(),
            endpoint.name()
        ))
        .blame(Some(env.b.name))
        .request(ex.request.clone()));
    }
    for x in primary {
        let Some(status) = x.status else {
            // A target that closes the connection or dies on a request has
            // not refused it: the draft's answer is a status code.
            let why = x.error.as_deref().unwrap_or("no answer");
            return Err(Failure::new(
                Verdict::TargetError,
                format!(
                    "{target} gave no answer to a forged request ({}): {why}",
                    s.forgery.name()
                ),
            )
            .blame(Some(target))
            .target(target)
            .request(summarize(x)));
        };
        let what = match read_answer(protocol_endpoint(endpoint), status, &x.response) {
            Answer::Refused(_) => {
                if let Some(message) = carried_message(x) {
                    state.refused.push(Refused {
                        seq: x.seq,
                        step: state.step_index(),
                        forgery: s.forgery.name(),
                        message,
                    });
                }
                continue;
            }
            // A forgery the drafts let the hub take (commit_stale_group_info:
            // protocol-06 §5.6 lets it keep or rebuild the GroupInfo) is
            // judged by the steps after it.
            Answer::Taken(_) if s.forgery.may_be_taken() => continue,
            Answer::Taken(how) => format!(
                "took a forged request it must refuse ({}): {how}",
                s.forgery.name()
            ),
            Answer::Failed(how) => format!(
                "failed on a forged request instead of refusing it ({}): {how}",
                s.forgery.name()
            ),
        };
        return Err(Failure::violation(env.level, format!("{target} {what}"))
            .blame(Some(target))
            .target(target)
            .request(format!("{said} | on the wire: {}", summarize(x)))
            .expected("a refusal: HTTP 4xx or a MIMI refusal code"));
    }
    Ok(())
}

/// A message the adversary sent (`message_stamped_*`): its content is the
/// test's choice, exempt from the invariants like crafted content (its
/// hub's stamp breaks them on purpose), and its ID goes to `capture`.
fn keep_message(state: &mut CaseState, s: &Forge, r: &ForgeResponse) -> Result<(), Failure> {
    use base64::Engine as _;
    if let Some(content) = &r.content
        && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(content)
    {
        state.invariants.exempt(&bytes);
    }
    if let Some(name) = &s.capture {
        let Some(id) = r.message_id.as_ref().filter(|id| !id.is_empty()) else {
            return Err(Failure::harness(format!(
                "the adversary's {} answer has no message ID to capture",
                s.forgery.name()
            )));
        };
        state.vars.set(name, id.clone());
    }
    Ok(())
}

/// A forged MLS message the target refused: it must not fan it out later.
pub(crate) struct Refused {
    /// The forged request's place on the wire.
    seq: u64,
    step: u32,
    forgery: &'static str,
    message: Vec<u8>,
}

/// The MLS message a request carries (submitMessage's appMessage, update's
/// proposalOrCommit), as the hub would fan it out.
fn carried_message(x: &Exchange) -> Option<Vec<u8>> {
    match x.endpoint() {
        "submitMessage" => crate::protocol::decode::<SubmitMessageRequest>(&x.request)
            .ok()
            .map(|r| r.app_message.bytes().to_vec()),
        "update" => crate::protocol::decode::<HandshakeBundle>(&x.request)
            .ok()
            .map(|b| b.message().bytes().to_vec()),
        _ => None,
    }
}

/// After the case's steps: a forged message the target refused must not
/// reach anyone (protocol-06 §5.4: a message the hub does not accept is not
/// fanned out). Read off the notifies the target sent during the case; a
/// notify still in flight when the case ends is not seen. `None` when no
/// refused forgery went out.
pub(crate) fn fanned_out_after_refusal(
    env: &CaseEnv<'_>,
    state: &CaseState,
) -> Option<(u32, Failure)> {
    if state.refused.is_empty() {
        return None;
    }
    let target = env.a.name;
    let exchanges = env.wire.exchanges();
    // (notify, one message it fans out) for every notify the target sent.
    let fanned: Vec<(&Arc<Exchange>, crate::protocol::FanoutMessage)> = exchanges
        .iter()
        .filter(|x| x.from.index == env.cell.0 && x.endpoint() == "notify")
        .filter_map(|x| Some((x, crate::protocol::decode_fanout_batch(&x.request).ok()?)))
        .flat_map(|(x, batch)| batch.into_iter().map(move |m| (x, m)))
        .collect();
    for r in &state.refused {
        let carries = |m: &crate::protocol::FanoutMessage| m.message.bytes() == r.message;
        // Replays send a message the target accepted before: its fan-out
        // then (one timestamp, however often resent) is no violation, a
        // second fan-out with a new timestamp is. A message never accepted
        // must not be fanned out at all.
        let accepted_before = exchanges.iter().any(|y| {
            y.seq < r.seq
                && y.to.index == env.cell.0
                && y.status.is_some_and(|s| (200..300).contains(&s))
                && !refused(y)
                && carried_message(y).is_some_and(|m| m == r.message)
        });
        let mut stamps: Vec<u64> = fanned
            .iter()
            .filter(|(_, m)| carries(m))
            .map(|(_, m)| m.timestamp)
            .collect();
        stamps.sort_unstable();
        stamps.dedup();
        let allowed = usize::from(accepted_before);
        if stamps.len() > allowed
            && let Some((x, _)) = fanned
                .iter()
                .filter(|(_, m)| carries(m))
                .max_by_key(|(_, m)| m.timestamp)
        {
            let f = Failure::violation(
                env.level,
                format!(
                    "{target} refused a forged request ({}) but fanned its message out \
                         (protocol-06 §5.4: only an accepted message is fanned out)",
                    r.forgery
                ),
            )
            .blame(Some(target))
            .target(target)
            .request(format!("on the wire: {}", summarize(x)))
            .expected("no notify carrying the refused message");
            return Some((r.step, f));
        }
    }
    None
}

/// Whether an exchange's answer is a refusal, read as its endpoint's.
fn refused(x: &Exchange) -> bool {
    matches!(answer(x), Some(Answer::Refused(_)))
}

/// Whether the target took the request: a 2xx its endpoint reads as taken.
fn taken(x: &Exchange) -> bool {
    matches!(answer(x), Some(Answer::Taken(_)))
}

/// The target's answer read as its endpoint's; `None` without an answer or
/// on an unknown path.
fn answer(x: &Exchange) -> Option<Answer> {
    let (Ok(route), Some(status)) = (route(&x.method, &x.path), x.status) else {
        return None;
    };
    Some(read_answer(route.endpoint, status, &x.response))
}

fn protocol_endpoint(e: ForgeEndpoint) -> Endpoint {
    match e {
        ForgeEndpoint::Update => Endpoint::Update,
        ForgeEndpoint::SubmitMessage => Endpoint::SubmitMessage,
        ForgeEndpoint::Notify => Endpoint::Notify,
        ForgeEndpoint::GroupInfo => Endpoint::GroupInfo,
        ForgeEndpoint::ProxyDownload => Endpoint::ProxyDownload,
        ForgeEndpoint::KeyMaterial => Endpoint::KeyMaterial,
        ForgeEndpoint::ReportAbuse => Endpoint::ReportAbuse,
    }
}

/// The forgeries the harness sends itself, connecting to the target: the
/// certificate forgeries (a refused handshake or an HTTP 4xx passes; any
/// 2xx fails), the third party's notify (the same), and a malformed notify
/// from the adversary as the room's hub (an HTTP 4xx passes; no answer, a
/// 2xx or a 5xx fails).
async fn probe(
    env: &CaseEnv<'_>,
    req: &ForgeRequest,
    endpoint: ForgeEndpoint,
    deadline: Instant,
) -> Result<(), Failure> {
    let target = env.a.name;
    let malformed = req.forgery.malformed();
    // Both send a notify for a room the adversary hosts.
    let hub_notify = req.forgery == Forgery::NotifyFromThirdParty || malformed;
    let (identity, domain) = match req.forgery {
        Forgery::NoCertificate => (Identity::Anonymous, ADVERSARY_DOMAIN),
        Forgery::NotifyFromThirdParty => (Identity::Announced, THIRD_PARTY_DOMAIN),
        // The adversary's own identity, as the relay presents it.
        _ if malformed => (Identity::Announced, ADVERSARY_DOMAIN),
        _ => (Identity::Untrusted, ADVERSARY_DOMAIN),
    };
    let room_path = req.room.trim_start_matches("mimi://");
    let path = format!("/v1/{}/{room_path}", endpoint.name());
    // The adversary's last request of that kind that the target took: over
    // mutual TLS for the certificate forgeries (a target that does not check
    // certificates takes it again); from the room's hub for the third party
    // (a follower that does not check who notifies takes it again).
    let body = env
        .wire
        .exchanges()
        .iter()
        .rev()
        .find(|x| {
            x.from.index == env.cell.1
                && x.to.index == env.cell.0
                && x.endpoint() == endpoint.name()
                && x.status.is_some_and(|s| (200..300).contains(&s))
                && (!hub_notify || x.path.ends_with(room_path))
        })
        .map(|x| x.request.clone())
        .ok_or_else(|| {
            let wanted = if hub_notify {
                format!("a {} for {} (a room it hosts)", endpoint.name(), req.room)
            } else {
                format!("a {}", endpoint.name())
            };
            Failure::harness(format!(
                "{}: the adversary sent {target} no {wanted} that it took, to send again; a step before must",
                req.forgery.name(),
            ))
        })?;
    let (body, broken) = match req.forgery {
        Forgery::Truncated => {
            let mut b = body;
            b.pop();
            (b, "without its last octet")
        }
        Forgery::TrailingBytes => {
            let mut b = body;
            b.push(0);
            (b, "with an octet after its end")
        }
        Forgery::Empty => (Vec::new(), "empty"),
        Forgery::Garbage => (vec![0xff; 64], "of 64 octets 0xff"),
        Forgery::Oversized => (
            vec![0; crate::protocol::MAX_BODY + 1],
            "of 1 MiB + 1 zero octets",
        ),
        _ => (body, ""),
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let answer = env
        .relay
        .probe(env.cell.0, domain, identity, &path, body, left)
        .await
        .map_err(|e| Failure::harness(format!("{}: {e}", req.forgery.name())))?;
    let (described, rule) = match identity {
        _ if malformed => (
            match req.forgery {
                Forgery::Truncated | Forgery::TrailingBytes => {
                    format!("from the room's hub ({domain}): its last notify body {broken}")
                }
                _ => format!("from the room's hub ({domain}): a notify body {broken}"),
            },
            "a body that does not decode exactly is refused with HTTP 400 (protocol-06 §4.1, §5.5)",
        ),
        Identity::Untrusted => (
            "over TLS with a client certificate from a CA it was never told to trust".to_owned(),
            "mutual TLS must refuse it (protocol-06 §4.1)",
        ),
        Identity::Anonymous => (
            "over TLS with no client certificate".to_owned(),
            "mutual TLS must refuse it (protocol-06 §4.1)",
        ),
        Identity::Announced => (
            format!("from {domain}, a peer that is not the room's hub"),
            "a follower takes notify only from the room's hub (protocol-06 §5.5)",
        ),
    };
    match answer {
        // A malformed body over an accepted connection is answered with a
        // status; a dropped connection is no refusal.
        ProbeAnswer::NoAnswer(why) if malformed => Err(Failure::new(
            Verdict::TargetError,
            format!("{target} gave no answer to POST {path} {described}: {why}"),
        )
        .blame(Some(target))
        .target(target)
        .request(format!("POST {path} ({described})"))),
        ProbeAnswer::NoAnswer(_) => Ok(()),
        ProbeAnswer::Answered(status, _) if (400..500).contains(&status) => Ok(()),
        ProbeAnswer::Answered(status, body) => Err(Failure::violation(
            env.level,
            format!("{target} answered HTTP {status} to POST {path} {described}: {rule}"),
        )
        .blame(Some(target))
        .target(target)
        .request(format!("POST {path} ({described})"))
        .response(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
        .expected("a refused handshake or HTTP 4xx")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{UpdateOutcome, UpdateRoomResponse, encode};
    use crate::run::relay::exchange::for_test;

    fn update(status: u16, outcome: UpdateOutcome) -> Exchange {
        let body = encode(&UpdateRoomResponse {
            error_description: String::new(),
            outcome,
        });
        for_test(
            "adversary",
            "t",
            "/v1/update/t.example/r/club",
            b"",
            status,
            &body,
        )
    }

    /// A forgery's setup request counts as taken only when the target's
    /// answer takes it; a MIMI refusal in a 200 or a 4xx is no setup.
    #[test]
    fn only_a_taken_answer_is_a_setup_the_target_took() {
        let accepted = update(
            200,
            UpdateOutcome::Success {
                accepted_timestamp: 1,
            },
        );
        assert!(taken(&accepted) && !refused(&accepted));
        let not_allowed = update(200, UpdateOutcome::NotAllowed);
        assert!(!taken(&not_allowed) && refused(&not_allowed));
        let forbidden = for_test(
            "adversary",
            "t",
            "/v1/update/t.example/r/club",
            b"",
            403,
            b"",
        );
        assert!(!taken(&forbidden) && refused(&forbidden));
        let mut unanswered = accepted.clone();
        unanswered.status = None;
        assert!(!taken(&unanswered) && !refused(&unanswered));
    }
}
