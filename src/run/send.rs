//! Steps that send: `send`, `send_burst` (many sends from one actor, one
//! after the other) and `concurrently` (sends and bursts at the same time).
//! Every answer is judged: the content the target says it encrypted must be
//! MIMI content whose ID is the one claimed and that says what was asked.

use super::case::{CaseEnv, CaseState, step_timeout};
use super::outcome::{Failure, judge_call};
use super::vars::Burst;
use crate::content::{self, BuildContext, craft};
use crate::control::api::{SendContent, SendRequest, SendResponse};
use crate::suite::model::{self as suite, Outcome, Step};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::future::try_join_all;
use std::collections::HashMap;
use tokio::time::Instant;

/// The content of a `send_burst` message when the step gives none.
fn default_burst_content() -> serde_json::Value {
    serde_json::json!({ "text": "burst message ${i}" })
}

/// One `send`: the message ID (lower-case hex) when the target sent it,
/// `None` when it refused as the step expected.
pub(crate) async fn send(
    env: &CaseEnv<'_>,
    state: &CaseState,
    s: &suite::Send,
    deadline: Instant,
) -> Result<Option<String>, Failure> {
    let intent = s
        .content
        .as_ref()
        .map(|c| state.vars.interpolate_json(c))
        .transpose()
        .map_err(|e| Failure::harness(e.to_string()))?;
    // Bytes the test chose: whether they have a message ID to capture.
    let mut identified = true;
    let content = match (intent, &s.raw, &s.crafted) {
        (Some(v), None, None) => SendContent::Intent(v),
        // Bytes the test chose are exempt from the invariants, which judge
        // what targets choose.
        (None, Some(raw), None) => {
            let raw = state.text(raw)?;
            if let Ok(bytes) = B64.decode(&raw) {
                identified = content::id::salt_of(&bytes).is_ok();
                state.invariants.exempt(&bytes);
            }
            SendContent::Raw(raw)
        }
        (None, None, Some(c)) => {
            let bytes = crafted(state, &s.actor, &s.room, c)?;
            identified = content::id::salt_of(&bytes).is_ok();
            state.invariants.exempt(&bytes);
            SendContent::Raw(B64.encode(bytes))
        }
        _ => {
            return Err(Failure::harness(
                "send needs exactly one of `content`, `raw` and `crafted`",
            ));
        }
    };
    let client = s.client.as_deref().map(|c| state.text(c)).transpose()?;
    let expect = s.expect.unwrap_or_default();
    let id = send_one(
        env, state, &s.actor, &s.room, client, content, expect, deadline,
    )
    .await?;
    // Bytes without a readable salt have no message ID to capture.
    if s.capture.is_some() && !identified {
        return Err(Failure::harness(
            "the sent content has no message ID (no readable salt), so `capture` cannot have one",
        ));
    }
    Ok(id)
}

/// The bytes of a `crafted` send: the intent built with the harness's
/// codec for the sending user and the room (fresh random salt, the
/// harness's clock), then broken as asked.
fn crafted(
    state: &CaseState,
    actor: &str,
    room: &str,
    c: &suite::Crafted,
) -> Result<Vec<u8>, Failure> {
    let intent = state
        .vars
        .interpolate_json(&c.intent)
        .map_err(|e| Failure::harness(e.to_string()))?;
    let actor = state.actor_name(actor)?;
    let expired_ago = c
        .expired_ago
        .as_deref()
        .map(|d| humantime::parse_duration(d).map(|d| d.as_secs()))
        .transpose()
        .map_err(|e| Failure::harness(format!("crafted.expired_ago: {e}")))?;
    let ctx = BuildContext {
        sender_uri: state.actor(&actor).user.clone(),
        room_uri: state.text(room)?,
        timestamp_ms: super::invariants::now_ms(),
        salt: rand::random(),
    };
    let how = craft::Craft {
        breaks: &c.breaks,
        expired_ago,
    };
    craft::craft(&intent, &ctx, &how).map_err(|e| Failure::harness(format!("crafted.intent: {e}")))
}

/// Sends `content` as `actor` and judges the answer against `expect`.
#[allow(clippy::too_many_arguments)]
async fn send_one(
    env: &CaseEnv<'_>,
    state: &CaseState,
    actor: &str,
    room: &str,
    client: Option<String>,
    content: SendContent,
    expect: Outcome,
    deadline: Instant,
) -> Result<Option<String>, Failure> {
    let actor = state.actor_name(actor)?;
    let side = state.actor(&actor).side;
    let user = state.actor(&actor).user.clone();
    let room = state.text(room)?;
    let req = SendRequest {
        room: room.clone(),
        actor: user.clone(),
        client,
        content,
    };
    let start = std::time::SystemTime::now();
    let (result, ex) = state.call(env, side, "send", &req, deadline).await;
    let Some(resp): Option<SendResponse> = judge_call(result, &ex, "send", expect, env.level)?
    else {
        return Ok(None);
    };
    let (intent, raw) = match &req.content {
        SendContent::Raw(r) => (None, Some(r.as_str())),
        SendContent::Intent(v) => (Some(v), None),
    };
    super::judge::judge_sent(&resp, &user, &room, intent, raw)
        .map_err(|why| Failure::violation(env.level, why).with_exchange(&ex))?;
    if !resp.message_id.is_empty()
        && let Ok(bytes) = B64.decode(&resp.content)
    {
        let id = resp.message_id.to_ascii_lowercase();
        state
            .invariants
            .sent(env.side(side).name, &room, &id, &bytes)
            .map_err(|f| f.request(ex.request.clone()))?;
        state.sent.record(&id, &room, side, start);
    }
    Ok(Some(resp.message_id.to_ascii_lowercase()))
}

/// `count` sends, each answer awaited before the next goes out, so the
/// burst has one defined order. Two messages with one ID (a reused salt)
/// are a violation: receivers could not tell them apart.
pub(crate) async fn send_burst(
    env: &CaseEnv<'_>,
    state: &CaseState,
    s: &suite::SendBurst,
    deadline: Instant,
) -> Result<Burst, Failure> {
    let template = s.content.clone().unwrap_or_else(default_burst_content);
    let mut burst = Burst::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for i in 1..=s.count {
        let intent = state
            .vars
            .interpolate_json_indexed(&template, i)
            .map_err(|e| Failure::harness(e.to_string()))?;
        let sent = send_one(
            env,
            state,
            &s.actor,
            &s.room,
            None,
            SendContent::Intent(intent.clone()),
            Outcome::Ok,
            deadline,
        )
        .await
        .map_err(|mut f| {
            f.reason = format!("message {i} of {}: {}", s.count, f.reason);
            f
        })?;
        let id = sent.ok_or_else(|| Failure::harness("a send expected to succeed gave no ID"))?;
        if let Some(first) = seen.insert(id.clone(), i) {
            return Err(Failure::violation(
                env.level,
                format!(
                    "messages {first} and {i} of the burst have the same message ID {id}: each message needs a fresh salt"
                ),
            ));
        }
        burst.ids.push(id);
        burst.contents.push(intent);
    }
    Ok(burst)
}

/// What a child of `concurrently` captured, applied once all have finished.
enum Captured {
    Nothing,
    Var(String, String),
    Burst(String, Burst),
}

/// Runs the children at the same time; the first failure ends the block
/// (and the children still running). Each child keeps its own deadline.
pub(crate) async fn concurrently(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    steps: &[Step],
    deadline: Instant,
) -> Result<(), Failure> {
    let start = Instant::now();
    let shared: &CaseState = state;
    let children = steps.iter().enumerate().map(|(j, child)| async move {
        let own = step_timeout(child, env.step_timeout).map_err(Failure::harness)?;
        let child_deadline = deadline.min(start + own);
        run_child(env, shared, child, child_deadline)
            .await
            .map_err(|mut f| {
                f.reason = format!("concurrently[{j}] ({}): {}", child.action(), f.reason);
                f
            })
    });
    let captured = try_join_all(children).await?;
    for c in captured {
        match c {
            Captured::Nothing => {}
            Captured::Var(name, value) => state.vars.set(&name, value),
            Captured::Burst(name, burst) => state.vars.set_burst(&name, burst),
        }
    }
    Ok(())
}

async fn run_child(
    env: &CaseEnv<'_>,
    state: &CaseState,
    child: &Step,
    deadline: Instant,
) -> Result<Captured, Failure> {
    match child {
        Step::Send(s) => Ok(match (send(env, state, s, deadline).await?, &s.capture) {
            (Some(id), Some(var)) => Captured::Var(var.clone(), id),
            _ => Captured::Nothing,
        }),
        Step::SendBurst(s) => {
            let burst = send_burst(env, state, s, deadline).await?;
            Ok(Captured::Burst(s.capture.clone(), burst))
        }
        other => Err(Failure::harness(format!(
            "`{}` cannot run inside `concurrently` (loading should have refused it)",
            other.action()
        ))),
    }
}
