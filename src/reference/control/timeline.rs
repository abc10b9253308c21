//! `POST /v1/timeline`: the room's messages as each of the user's clients
//! shows them (built on the client side, from decrypted content).

use super::*;

pub(super) async fn timeline(State(p): P, body: Bytes) -> Res<TimelineResponse> {
    let req: TimelineRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let clients = user.clients.lock().await.clone();
    let mut out = Vec::new();
    for c in clients {
        let mut g = c.lock().await;
        user.push(g.sync());
        out.extend(g.timeline(&req.room));
    }
    if out.is_empty() {
        return Err(ControlError::not_found(format!(
            "{} has no client in {}",
            req.user, req.room
        )));
    }
    Ok(axum::Json(TimelineResponse { clients: out }))
}
