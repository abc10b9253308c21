//! The consent operations (§5.7): a local user requests, cancels, grants
//! or revokes consent; its provider sends the `ConsentEntry`. Consent
//! notices from the server side become user events here.

use super::*;
use crate::protocol::ConsentOperation;
use crate::reference::server::{ConsentNotice, ConsentNoticeKind};

fn user_uri(u: &str) -> Result<(), ControlError> {
    ids::domain_of(u, 'u')
        .map(|_| ())
        .ok_or_else(|| ControlError::bad(format!("not a user URI: {u}")))
}

fn room_uri(r: Option<&str>) -> Result<(), ControlError> {
    match r {
        Some(r) if ids::domain_of(r, 'r').is_none() => {
            Err(ControlError::bad(format!("not a room URI: {r}")))
        }
        _ => Ok(()),
    }
}

async fn consent_request(p: &Provider, body: &Bytes, op: ConsentOperation) -> Res<Empty> {
    let req: ConsentRequestRequest = parse(body)?;
    p.user(&req.actor)?;
    user_uri(&req.target)?;
    room_uri(req.room.as_deref())?;
    p.ep.send_consent(op, &req.actor, &req.target, req.room.as_deref())
        .await
        .map_err(mimi_error)?;
    Ok(axum::Json(Empty {}))
}

async fn consent_update(p: &Provider, body: &Bytes, op: ConsentOperation) -> Res<Empty> {
    let req: ConsentUpdateRequest = parse(body)?;
    p.user(&req.actor)?;
    user_uri(&req.requester)?;
    room_uri(req.room.as_deref())?;
    p.ep.send_consent(op, &req.requester, &req.actor, req.room.as_deref())
        .await
        .map_err(mimi_error)?;
    Ok(axum::Json(Empty {}))
}

pub(super) async fn request_consent(State(p): P, body: Bytes) -> Res<Empty> {
    consent_request(&p, &body, ConsentOperation::Request).await
}

pub(super) async fn cancel_consent(State(p): P, body: Bytes) -> Res<Empty> {
    consent_request(&p, &body, ConsentOperation::Cancel).await
}

pub(super) async fn grant_consent(State(p): P, body: Bytes) -> Res<Empty> {
    consent_update(&p, &body, ConsentOperation::Grant).await
}

pub(super) async fn revoke_consent(State(p): P, body: Bytes) -> Res<Empty> {
    consent_update(&p, &body, ConsentOperation::Revoke).await
}

impl Provider {
    /// Turns a consent notice into an event of its user (client empty,
    /// room empty for any room).
    pub(super) fn consent_notice(&self, n: ConsentNotice) {
        let Ok(user) = self.user(&n.user) else {
            return;
        };
        let kind = match n.kind {
            ConsentNoticeKind::Requested { requester } => EventKind::ConsentRequested { requester },
            ConsentNoticeKind::Cancelled { requester } => EventKind::ConsentCancelled { requester },
            ConsentNoticeKind::Granted { target } => EventKind::ConsentGranted { target },
            ConsentNoticeKind::Revoked { target } => EventKind::ConsentRevoked { target },
        };
        user.push(vec![ClientEvent {
            client: String::new(),
            room: n.room.unwrap_or_default(),
            kind,
        }]);
    }
}
