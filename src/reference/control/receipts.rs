//! `POST /v1/mark_read`: the actor's client sends a `read` status report
//! (draft-mahy-mimi-message-status-01) for the given messages, unless the
//! room's StatusNotificationPolicy forbids read receipts (403 `refused`).

use super::*;
use crate::content::{MessageId, MessageStatus};

/// Most message IDs one report may carry here.
const MAX_IDS: usize = 1000;

pub(super) async fn mark_read(State(p): P, body: Bytes) -> Res<SendResponse> {
    let req: MarkReadRequest = parse(&body)?;
    if req.message_ids.is_empty() || req.message_ids.len() > MAX_IDS {
        return Err(ControlError::bad(format!(
            "message_ids must list 1..={MAX_IDS} IDs"
        )));
    }
    let ids = req
        .message_ids
        .iter()
        .map(|h| {
            MessageId::from_hex(h)
                .filter(|id| id.0[0] == 0x01)
                .ok_or_else(|| {
                    ControlError::bad(format!(
                        "not a message ID (64 hex digits starting with 01): {h:?}"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let actor = p.user(&req.actor)?;
    let c = p
        .acting_client(&actor, &req.room, req.client.as_deref())
        .await?;
    let mut c = c.lock().await;
    actor.push(c.sync());
    let content = c
        .build_report(&req.room, &ids, MessageStatus::READ)
        .map_err(client_error)?;
    // QUIRK no-read-receipts.
    if p.server.quirks.sends_read_receipts() {
        submit(&p, &actor, &mut c, &req.room, &content).await?;
    }
    let message_id = crate::content::message_id(
        // QUIRK message-id-draft07.
        p.server.quirks.id_formula(),
        &actor.uri,
        &req.room,
        &content,
    )
    .map(|id| id.to_hex())
    .map_err(|e| ControlError::internal(format!("report without a message ID: {e}")))?;
    Ok(axum::Json(SendResponse {
        message_id,
        content: base64::engine::general_purpose::STANDARD.encode(&content),
    }))
}
