//! `POST /v1/timeline`: the room's messages as each of the user's clients
//! shows them (built on the client side, from decrypted content).

use super::*;

pub(super) async fn timeline(State(p): P, body: Bytes) -> Res<TimelineResponse> {
    let req: TimelineRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let out = user.per_client(|g| g.timeline(&req.room)).await;
    if out.is_empty() {
        return Err(ControlError::not_found(format!(
            "{} has no client in {}",
            req.user, req.room
        )));
    }
    Ok(axum::Json(TimelineResponse { clients: out }))
}
