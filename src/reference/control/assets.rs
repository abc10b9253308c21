//! The control operations on attachments: the `upload` form of `send`'s
//! intent (encrypted and stored by the client before the message is built)
//! and `download`.

use super::*;
use crate::reference::client::assets::{self, AssetError};

/// Maps an attachment failure to the control API: a bad upload form is 400,
/// a policy refusal 403, and anything wrong with the fetched bytes (size,
/// hash, tag) is the asset provider's fault: 502 `peer_error`.
fn asset_error(e: AssetError) -> ControlError {
    let m = e.to_string();
    match e {
        AssetError::InvalidUpload(_) => ControlError::bad(m),
        AssetError::Client(e) => client_error(e),
        AssetError::Server(e) => mimi_error(e),
        AssetError::Crypto(_) | AssetError::SizeMismatch { .. } => {
            ControlError::new(StatusCode::BAD_GATEWAY, "peer_error", m)
        }
    }
}

/// When `intent` has an `upload`: checks the acting client may upload it,
/// encrypts and stores it, and returns the intent rewritten to carry the
/// ExternalPart. Other intents come back as they are.
pub(super) async fn expand_upload(
    p: &Provider,
    actor: &User,
    room: &str,
    client: Option<&str>,
    intent: &serde_json::Value,
) -> Result<serde_json::Value, ControlError> {
    let Some(spec) = assets::upload_spec(intent).map_err(asset_error)? else {
        return Ok(intent.clone());
    };
    let c = p.acting_client(actor, room, client).await?;
    let c = c.lock().await;
    assets::upload(&c, room, intent, &spec, &p.ep).map_err(asset_error)
}

pub(super) async fn download(State(p): P, body: Bytes) -> Res<DownloadResponse> {
    let req: DownloadRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let id = req.message_id.to_ascii_lowercase();
    let c = p
        .acting_client(&user, &req.room, req.client.as_deref())
        .await?;
    let part = {
        let mut g = c.lock().await;
        user.push(g.sync());
        let part = g.attachment_of(&req.room, &id).ok_or_else(|| {
            ControlError::not_found(format!(
                "{} has no message {id} with an ExternalPart in {}",
                g.uri, req.room
            ))
        })?;
        g.authorize_download(&req.room, &part.content_type)
            .map_err(client_error)?;
        part
    };
    let plain = assets::download(&p.ep, &req.room, &part)
        .await
        .map_err(asset_error)?;
    Ok(axum::Json(DownloadResponse {
        content_type: part.content_type,
        size: plain.len() as u64,
        data: base64::engine::general_purpose::STANDARD.encode(plain),
    }))
}
