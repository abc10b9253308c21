//! Attachments on the client side (draft-ietf-mimi-content-08 §4.5, §5.9;
//! protocol-06 §5.10): the `upload` form of a send intent is encrypted here
//! with a fresh AES-128-GCM key and nonce, only the ciphertext goes to the
//! provider, and the intent is rewritten into an ExternalPart (with an
//! optional Markdown fallback as a `chooseOne` MultiPart). Downloading finds
//! the ExternalPart of a message, fetches the stored bytes through the
//! provider and checks size, hash and tag before anything is returned.

use super::{Client, ClientError};
use crate::content::attachment::{self, AttachmentError};
use crate::content::{ExternalPart, PartBody};
use crate::reference::room::{AssetKind, Operation};
use crate::reference::server::{LocalEndpoint, MimiError};
use base64::Engine as _;
use serde_json::{Map, Value as Json, json};

/// The `upload` object of a send intent.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadSpec {
    pub data: Vec<u8>,
    pub content_type: String,
    pub filename: String,
    pub description: String,
    /// A disposition name (`render`, `attachment`, …); default `attachment`.
    pub disposition: Option<String>,
    /// Markdown shown by receivers that cannot show the file.
    pub fallback: Option<String>,
}

/// Why an upload or a download failed.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("content.intent.upload: {0}")]
    InvalidUpload(String),
    #[error("attachment: {0}")]
    Crypto(#[from] AttachmentError),
    #[error("stored size is {actual} bytes, the ExternalPart says {expected}")]
    SizeMismatch { expected: u64, actual: usize },
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Server(#[from] MimiError),
}

const UPLOAD_KEYS: &[&str] = &[
    "data",
    "content_type",
    "filename",
    "description",
    "disposition",
    "fallback",
];

/// The upload spec of an intent, `None` when it has no `upload` key.
pub fn upload_spec(intent: &Json) -> Result<Option<UploadSpec>, AssetError> {
    let Some(up) = intent.as_object().and_then(|o| o.get("upload")) else {
        return Ok(None);
    };
    let bad = |m: String| AssetError::InvalidUpload(m);
    let o = up
        .as_object()
        .ok_or_else(|| bad("expected an object".into()))?;
    if let Some(k) = o.keys().find(|k| !UPLOAD_KEYS.contains(&k.as_str())) {
        return Err(bad(format!("unknown key {k:?}")));
    }
    let s = |k: &str| -> Result<Option<String>, AssetError> {
        match o.get(k) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("{k} must be a string"))),
        }
    };
    let data = s("data")?.ok_or_else(|| bad("data (base64) is required".into()))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| bad(format!("data is not base64: {e}")))?;
    let content_type = s("content_type")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad("content_type is required".into()))?;
    Ok(Some(UploadSpec {
        data,
        content_type,
        filename: s("filename")?.unwrap_or_default(),
        description: s("description")?.unwrap_or_default(),
        disposition: s("disposition")?,
        fallback: s("fallback")?,
    }))
}

/// Encrypts `spec.data` under `key`/`nonce`, returning the ExternalPart
/// (without its URL) and the bytes to store.
pub fn seal_upload(
    spec: &UploadSpec,
    key: [u8; 16],
    nonce: [u8; 12],
) -> Result<(ExternalPart, Vec<u8>), AssetError> {
    let base = ExternalPart {
        content_type: spec.content_type.clone(),
        description: spec.description.clone(),
        filename: spec.filename.clone(),
        ..Default::default()
    };
    Ok(attachment::seal(&spec.data, base, key, nonce)?)
}

/// The intent with its `upload` replaced by the ExternalPart (readable
/// form), wrapped with the fallback in a `chooseOne` when one is given.
pub fn uploaded_intent(intent: &Json, spec: &UploadSpec, part: &ExternalPart) -> Json {
    let mut ext = json!({
        "url": part.url,
        "content_type": part.content_type,
        "size": part.size,
        "enc_alg": part.enc_alg,
        "key": hex::encode(&part.key),
        "nonce": hex::encode(&part.nonce),
        "aad": hex::encode(&part.aad),
        "hash_alg": part.hash_alg,
        "content_hash": hex::encode(&part.content_hash),
    });
    if let Some(m) = ext.as_object_mut() {
        for (k, v) in [
            ("description", &part.description),
            ("filename", &part.filename),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), Json::String(v.clone()));
            }
        }
        if let Some(d) = &spec.disposition {
            m.insert("disposition".into(), Json::String(d.clone()));
        }
    }
    let mut out: Map<String, Json> = intent.as_object().cloned().unwrap_or_default();
    out.remove("upload");
    match &spec.fallback {
        Some(md) => {
            out.insert("semantics".into(), json!("chooseOne"));
            out.insert("parts".into(), json!([ext, { "markdown": md }]));
        }
        None => {
            if let Some(e) = ext.as_object() {
                out.extend(e.clone());
            }
        }
    }
    Json::Object(out)
}

/// Uploads `spec` for `client`'s user in `room`: checks the role's upload
/// capability, encrypts with a fresh key and nonce, stores the ciphertext on
/// the own provider and returns the rewritten intent.
pub fn upload(
    client: &Client,
    room: &str,
    intent: &Json,
    spec: &UploadSpec,
    ep: &LocalEndpoint,
) -> Result<Json, AssetError> {
    client
        .room_model(room)?
        .authorize(
            &client.user,
            &Operation::Upload(AssetKind::of(&spec.content_type)),
        )
        .map_err(ClientError::Policy)?;
    let mut key = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::Rng::fill(&mut rand::rng(), &mut key);
    rand::Rng::fill(&mut rand::rng(), &mut nonce);
    let (part, stored) = seal_upload(spec, key, nonce)?;
    // QUIRK asset-hash-of-plaintext.
    let mut part = ep.quirks().asset_part(part, &spec.data);
    part.url = ep.upload_asset(room, stored)?;
    Ok(uploaded_intent(intent, spec, &part))
}

/// The first ExternalPart of a content body, depth first.
pub fn first_external(body: &PartBody) -> Option<&ExternalPart> {
    match body {
        PartBody::External(e) => Some(e),
        PartBody::Multi { parts, .. } => parts.iter().find_map(|p| first_external(&p.body)),
        _ => None,
    }
}

/// Fetches and opens `part` (of a message in `room`): the stored size and
/// hash must match the part and the AEAD tag must verify; the plaintext is
/// returned only then.
pub async fn download(
    ep: &LocalEndpoint,
    room: &str,
    part: &ExternalPart,
) -> Result<Vec<u8>, AssetError> {
    let fetched = ep.download_asset(room, &part.url).await?;
    open_fetched(part, &fetched)
}

/// The checks of [`download`] on fetched bytes.
pub fn open_fetched(part: &ExternalPart, fetched: &[u8]) -> Result<Vec<u8>, AssetError> {
    if part.size != 0 && part.size != fetched.len() as u64 {
        return Err(AssetError::SizeMismatch {
            expected: part.size,
            actual: fetched.len(),
        });
    }
    Ok(attachment::open(part, fetched)?)
}

impl Client {
    /// The first ExternalPart of message `id` (hex) in `room`, as received.
    pub fn attachment_of(&self, room: &str, id: &str) -> Option<ExternalPart> {
        self.timelines
            .get(room)?
            .content_of(id)
            .and_then(|c| first_external(&c.nested_part.body).cloned())
    }

    /// Whether this client's user may download an asset of `content_type`
    /// in `room` (canDownload*).
    pub fn authorize_download(&self, room: &str, content_type: &str) -> Result<(), ClientError> {
        self.room_model(room)?
            .authorize(
                &self.user,
                &Operation::Download(AssetKind::of(content_type)),
            )
            .map_err(ClientError::Policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{BuildContext, build_content};

    fn spec(fallback: Option<&str>) -> UploadSpec {
        let mut up = json!({
            "data": base64::engine::general_purpose::STANDARD.encode(b"\x89PNG pixels"),
            "content_type": "image/png",
            "filename": "p.png",
            "description": "a picture",
            "disposition": "render",
        });
        if let (Some(f), Some(m)) = (fallback, up.as_object_mut()) {
            m.insert("fallback".into(), json!(f));
        }
        upload_spec(&json!({ "upload": up })).unwrap().unwrap()
    }

    #[test]
    fn sealed_upload_round_trips_and_refuses_tampering() {
        let s = spec(None);
        let (mut part, stored) = seal_upload(&s, [3; 16], [4; 12]).unwrap();
        part.url = "https://a.example/v1/assets/x".into();
        assert_eq!(part.size as usize, s.data.len() + 16);
        assert_eq!(part.content_hash, attachment::sha256(&stored));
        assert_eq!(open_fetched(&part, &stored).unwrap(), s.data);
        let mut bad = stored.clone();
        bad[0] ^= 1;
        assert!(matches!(
            open_fetched(&part, &bad),
            Err(AssetError::Crypto(AttachmentError::HashMismatch { .. }))
        ));
        assert!(matches!(
            open_fetched(&part, &stored[1..]),
            Err(AssetError::SizeMismatch { .. })
        ));
    }

    #[test]
    fn upload_intent_becomes_an_external_part_with_optional_fallback() {
        let ctx = BuildContext {
            sender_uri: "mimi://a.example/u/alice".into(),
            room_uri: "mimi://a.example/r/x".into(),
            timestamp_ms: 0,
            salt: [0; 16],
        };
        let s = spec(Some("see [p.png](https://a.example/v1/assets/x)"));
        assert_eq!(
            s.fallback.as_deref().map(|f| f.starts_with("see")),
            Some(true)
        );
        let (mut part, _) = seal_upload(&s, [3; 16], [4; 12]).unwrap();
        part.url = "https://a.example/v1/assets/x".into();
        let intent = json!({"upload": {}, "reply_to": format!("01{}", "00".repeat(31))});
        let built = build_content(&uploaded_intent(&intent, &s, &part), &ctx).unwrap();
        let PartBody::Multi { parts, .. } = &built.nested_part.body else {
            panic!("expected chooseOne");
        };
        assert_eq!(first_external(&built.nested_part.body), Some(&part));
        assert!(matches!(parts[1].body, PartBody::Single { .. }));
        assert!(built.in_reply_to.is_some());
        let plain = spec(None);
        let built = build_content(&uploaded_intent(&json!({}), &plain, &part), &ctx).unwrap();
        assert_eq!(first_external(&built.nested_part.body), Some(&part));
        assert!(upload_spec(&json!({"upload": {"data": "AA=="}})).is_err());
        assert!(
            upload_spec(&json!({"upload": {"data": "AA==", "content_type": "a/b", "x": 1}}))
                .is_err()
        );
        assert!(upload_spec(&json!({"text": "hi"})).unwrap().is_none());
    }
}
