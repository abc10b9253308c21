//! `mark_read`: the actor's client sends a `read` status report
//! (draft-mahy-mimi-message-status-01). Judged like `send`: the bytes the
//! target says it sent must be MIMI content with the claimed ID, carrying
//! an `application/mimi-message-status` report that names exactly the
//! given messages, in order, as `read`.

use super::case::{CaseEnv, CaseState};
use super::outcome::{Failure, judge_call};
use crate::content::readable::MESSAGE_STATUS;
use crate::control::api::{MarkReadRequest, SendResponse};
use crate::suite::model::MarkRead;
use serde_json::json;
use tokio::time::Instant;

/// The report's message ID (lower-case hex) when the target sent it,
/// `None` when it refused as the step expected.
pub(crate) async fn mark_read(
    env: &CaseEnv<'_>,
    state: &CaseState,
    s: &MarkRead,
    deadline: Instant,
) -> Result<Option<String>, Failure> {
    let actor = state.actor_name(&s.actor)?;
    let side = state.actor(&actor).side;
    let user = state.actor(&actor).user.clone();
    let room = state.text(&s.room)?;
    let message_ids = s
        .message_ids
        .iter()
        .map(|t| state.text(t).map(|t| t.to_ascii_lowercase()))
        .collect::<Result<Vec<_>, _>>()?;
    let client = s.client.as_deref().map(|c| state.text(c)).transpose()?;
    let req = MarkReadRequest {
        room: room.clone(),
        actor: user.clone(),
        message_ids: message_ids.clone(),
        client,
    };
    let expect = s.expect.unwrap_or_default();
    let (result, ex) = state.call(env, side, "mark_read", &req, deadline).await;
    let Some(resp): Option<SendResponse> = judge_call(result, &ex, "mark_read", expect, env.level)?
    else {
        return Ok(None);
    };
    let want = json!({
        "kind": "single",
        "content_type": MESSAGE_STATUS,
        "status_report": message_ids
            .iter()
            .map(|id| json!({"id": id, "status": "read"}))
            .collect::<Vec<_>>(),
    });
    super::judge::judge_sent(&resp, &user, &room, Some(&want), None)
        .map_err(|why| Failure::violation(env.level, why).with_exchange(&ex))?;
    Ok(Some(resp.message_id.to_ascii_lowercase()))
}
