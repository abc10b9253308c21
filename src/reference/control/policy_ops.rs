//! The policy-governed room changes: add, remove (kick), ban, unban,
//! set_role and set_room_metadata. Each is planned against the room state
//! the actor's client holds (403/409 when the policy refuses) and committed
//! with the MLS changes it implies; the hub checks it again.

use super::*;
use crate::reference::room::Operation;

/// Runs `op` as `actor` in `room` on one of the actor's clients, retrying
/// a commit that lost an epoch race after catching up (first with what the
/// inbox holds, then after the next delivery).
async fn room_change(
    p: &Provider,
    room: &str,
    actor: &str,
    op: impl Fn(&crate::reference::room::RoomState) -> Result<Operation, ControlError>,
) -> Res<RoomChangeResponse> {
    room_change_as(p, room, actor, false, op).await
}

/// [`room_change`], planned with the authority of the room's first admin
/// instead of the actor's own when `as_admin` (the adversary's forged
/// commits: the actor's client commits what only an admin may).
pub(super) async fn room_change_as(
    p: &Provider,
    room: &str,
    actor: &str,
    as_admin: bool,
    op: impl Fn(&crate::reference::room::RoomState) -> Result<Operation, ControlError>,
) -> Res<RoomChangeResponse> {
    if ids::domain_of(room, 'r').is_none() {
        return Err(ControlError::bad(format!("not a room URI: {room}")));
    }
    let actor = p.user(actor)?;
    let c = p.acting_client(&actor, room, None).await?;
    let mut c = c.lock().await;
    actor.push(c.sync());
    let mut attempt = 0;
    let events = loop {
        let state = c.room_model(room).map_err(client_error)?;
        let authority = as_admin
            .then(|| {
                state
                    .participants()
                    .into_iter()
                    .find(|(_, r)| r == "admin")
                    .map(|(u, _)| u)
            })
            .flatten();
        if as_admin && authority.is_none() {
            return Err(ControlError::conflict(format!(
                "{room} has no admin to forge"
            )));
        }
        let result = c
            .apply_operation_as(room, &op(&state)?, authority.as_deref())
            .await;
        match result {
            Err(ClientError::Conflict(_)) if attempt < 2 => {
                if attempt == 1
                    && let Some(mut rx) = p.ep.inbox_watch(&c.uri)
                {
                    let _ = tokio::time::timeout(EPOCH_RACE_WAIT, rx.changed()).await;
                }
                attempt += 1;
                actor.push(c.sync());
            }
            other => break other.map_err(client_error)?,
        }
    };
    actor.push(events);
    let epoch = c.room_state(room).map(|s| s.epoch).unwrap_or(0);
    Ok(axum::Json(RoomChangeResponse { epoch }))
}

fn user_uri(user: &str) -> Result<String, ControlError> {
    if ids::domain_of(user, 'u').is_none() {
        return Err(ControlError::bad(format!("not a user URI: {user}")));
    }
    Ok(user.to_owned())
}

pub(super) async fn add_participant(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: MembershipRequest = parse(&body)?;
    let user = user_uri(&req.user)?;
    room_change(&p, &req.room, &req.actor, |_| Ok(Operation::add(&user))).await
}

pub(super) async fn remove_participant(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: MembershipRequest = parse(&body)?;
    let user = user_uri(&req.user)?;
    if req.user == req.actor {
        return Err(ControlError::bad("use leave to remove yourself"));
    }
    // QUIRK kick-not-committed.
    if !p.server.quirks.commits_kick() {
        let actor = p.user(&req.actor)?;
        let c = p.acting_client(&actor, &req.room, None).await?;
        let epoch = c.lock().await.room_state(&req.room).map(|s| s.epoch);
        return Ok(axum::Json(RoomChangeResponse {
            epoch: epoch.unwrap_or(0),
        }));
    }
    room_change(&p, &req.room, &req.actor, |_| {
        Ok(Operation::Remove { user: user.clone() })
    })
    .await
}

pub(super) async fn ban(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: MembershipRequest = parse(&body)?;
    let user = user_uri(&req.user)?;
    // QUIRK ban-as-kick.
    let records = p.server.quirks.records_bans();
    // QUIRK ban-only-members.
    let bans_outsiders = p.server.quirks.bans_outsiders();
    room_change(&p, &req.room, &req.actor, |state| {
        if !bans_outsiders && state.index_of(&user).is_none() {
            return Err(ControlError::conflict(format!(
                "{user} is not a participant"
            )));
        }
        Ok(if records {
            Operation::Ban { user: user.clone() }
        } else {
            Operation::Remove { user: user.clone() }
        })
    })
    .await
}

pub(super) async fn unban(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: MembershipRequest = parse(&body)?;
    let user = user_uri(&req.user)?;
    room_change(&p, &req.room, &req.actor, |_| {
        Ok(Operation::Unban { user: user.clone() })
    })
    .await
}

pub(super) async fn set_role(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: SetRoleRequest = parse(&body)?;
    let user = user_uri(&req.user)?;
    room_change(&p, &req.room, &req.actor, |state| {
        let role = state
            .role_index_by_name(&req.role)
            .ok_or_else(|| ControlError::bad(format!("the room has no role {:?}", req.role)))?;
        Ok(Operation::SetRole {
            user: user.clone(),
            role,
        })
    })
    .await
}

pub(super) async fn set_room_metadata(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: SetRoomMetadataRequest = parse(&body)?;
    room_change(&p, &req.room, &req.actor, |state| {
        Ok(Operation::SetMetadata(state.metadata.with_changes(
            req.name.as_deref(),
            // QUIRK metadata-topic-ignored.
            p.server.quirks.metadata_topic(req.topic.as_deref()),
            req.avatar.as_deref(),
        )))
    })
    .await
}
