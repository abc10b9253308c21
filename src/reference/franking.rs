//! Message franking (protocol-06 §5.4.1) computations shared by the
//! client (tag, verification), the hub (server frank, signature) and abuse
//! report validation (§5.9). Pure: keys are passed in, nothing is kept.
//!
//! The content fields a frank commits to (salt, sender URI, room URI) are
//! read from MIMI content (draft-ietf-mimi-content §8: the salt, and the
//! extensions map keys 1 and 2). The hub reads them only from content a
//! reporting client discloses in an abuse report.

use crate::protocol::{
    self, FRANK_AAD_COMPONENT, Frank, FrankingIntegrityTbs, SafeAad, SafeAadItem,
    ServerFrankingContext,
};
use hmac::{Hmac, Mac};
use openmls::prelude::tls_codec::{Deserialize as _, VLBytes};
use sha2::Sha256;

/// Why a frank (or the content it is for) does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrankError {
    #[error("the content is not MIMI content with a salt: {0}")]
    NoSalt(String),
    #[error("the content names no {0} URI in its extensions")]
    NoUri(&'static str),
    #[error("the content's {what} URI is {found}, not {expected}")]
    UriMismatch {
        what: &'static str,
        found: String,
        expected: String,
    },
    #[error("the AAD carries no frank_aad component")]
    NoTag,
    #[error("the franking tag does not match the content")]
    TagMismatch,
    #[error("the server frank does not match")]
    ServerFrankMismatch,
    #[error("franking_signature_ciphersuite {0:#06x} is not the room's")]
    Ciphersuite(u16),
    #[error("the room has no franking agent, or it is not the hub's")]
    NoAgent,
    #[error("the franking integrity signature does not verify")]
    BadSignature,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// `franking_tag = HMAC_SHA256(salt, application_data)`.
pub fn franking_tag(salt: &[u8; 16], application_data: &[u8]) -> [u8; 32] {
    hmac(salt, &[application_data])
}

/// The PrivateMessage `authenticated_data`: a SafeAAD with one `frank_aad`
/// item (`FrankAAD` is the 32-byte tag), no tail.
pub fn frank_aad(tag: &[u8; 32]) -> Vec<u8> {
    protocol::encode(&SafeAad {
        aad_items: vec![SafeAadItem {
            component_id: FRANK_AAD_COMPONENT,
            aad_item_data: VLBytes::new(tag.to_vec()),
        }],
    })
}

/// The franking tag in an `authenticated_data` that starts with a SafeAAD
/// (items strictly ascending) holding a 32-byte `frank_aad` item.
pub fn tag_from_aad(mut aad: &[u8]) -> Result<[u8; 32], FrankError> {
    let safe = SafeAad::tls_deserialize(&mut aad).map_err(|_| FrankError::NoTag)?;
    let ids: Vec<u16> = safe.aad_items.iter().map(|i| i.component_id).collect();
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(FrankError::NoTag);
    }
    safe.aad_items
        .iter()
        .find(|i| i.component_id == FRANK_AAD_COMPONENT)
        .and_then(|i| <[u8; 32]>::try_from(i.aad_item_data.as_slice()).ok())
        .ok_or(FrankError::NoTag)
}

/// The fields a frank commits to, read from MIMI content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFields {
    pub salt: [u8; 16],
    pub sender_uri: String,
    pub room_uri: String,
}

/// Salt, sender URI (extension 1) and room URI (extension 2) of MIMI content.
pub fn content_fields(content: &[u8]) -> Result<ContentFields, FrankError> {
    let salt =
        crate::content::id::salt_of(content).map_err(|e| FrankError::NoSalt(e.to_string()))?;
    let decoded = crate::content::decode(content).map_err(|e| FrankError::NoSalt(e.to_string()))?;
    let ext = &decoded.content.extensions;
    Ok(ContentFields {
        salt,
        sender_uri: ext
            .sender_uri()
            .ok_or(FrankError::NoUri("sender"))?
            .to_owned(),
        room_uri: ext.room_uri().ok_or(FrankError::NoUri("room"))?.to_owned(),
    })
}

pub fn context(sender_uri: &str, room_uri: &str, accepted_timestamp: u64) -> ServerFrankingContext {
    ServerFrankingContext {
        sender_uri: VLBytes::new(sender_uri.as_bytes().to_vec()),
        room_uri: VLBytes::new(room_uri.as_bytes().to_vec()),
        accepted_timestamp,
    }
}

/// `server_frank = HMAC_SHA256(hub_key, franking_tag || context)`.
pub fn server_frank(hub_key: &[u8], tag: &[u8; 32], ctx: &ServerFrankingContext) -> [u8; 32] {
    hmac(hub_key, &[tag, &protocol::encode(ctx)])
}

/// The bytes `SignWithLabel(key, "FrankingIntegrityTBS", tbs)` signs.
pub fn integrity_content(
    server_frank: [u8; 32],
    ciphersuite: u16,
    ctx: ServerFrankingContext,
) -> Vec<u8> {
    protocol::sign_content(
        protocol::FRANKING_INTEGRITY_LABEL,
        &protocol::encode(&FrankingIntegrityTbs {
            server_frank,
            franking_signature_ciphersuite: ciphersuite,
            context: ctx,
        }),
    )
}

/// Checks a frank's integrity signature with the franking agent's key
/// (Ed25519, the only signature scheme of the rooms' ciphersuite).
pub fn verify_integrity(
    frank: &Frank,
    ciphersuite: u16,
    ctx: ServerFrankingContext,
    agent_key: &[u8],
) -> Result<(), FrankError> {
    use openmls::prelude::{OpenMlsCrypto as _, OpenMlsProvider as _, SignatureScheme};
    if frank.franking_signature_ciphersuite != ciphersuite {
        return Err(FrankError::Ciphersuite(
            frank.franking_signature_ciphersuite,
        ));
    }
    let content = integrity_content(frank.server_frank, ciphersuite, ctx);
    openmls_rust_crypto::OpenMlsRustCrypto::default()
        .crypto()
        .verify_signature(
            SignatureScheme::ED25519,
            &content,
            agent_key,
            frank.franking_integrity_signature.as_slice(),
        )
        .map_err(|_| FrankError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn franking_tag_is_hmac_sha256_keyed_by_the_salt() {
        // RFC 4231 test case 2 (key "Jefe").
        let mac = hmac(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let salt = [7u8; 16];
        assert_eq!(franking_tag(&salt, b"abc"), hmac(&salt, &[b"abc"]));
        assert_ne!(franking_tag(&salt, b"abc"), franking_tag(&[8; 16], b"abc"));
    }

    #[test]
    fn the_tag_travels_in_a_safe_aad_frank_aad_item() {
        let tag = [9u8; 32];
        let aad = frank_aad(&tag);
        assert_eq!(tag_from_aad(&aad), Ok(tag));
        // A tail after the SafeAAD is allowed.
        let mut with_tail = aad.clone();
        with_tail.extend_from_slice(b"tail");
        assert_eq!(tag_from_aad(&with_tail), Ok(tag));
        assert_eq!(tag_from_aad(b""), Err(FrankError::NoTag));
        assert_eq!(tag_from_aad(&[0]), Err(FrankError::NoTag), "no items");
        let short = protocol::encode(&SafeAad {
            aad_items: vec![SafeAadItem {
                component_id: FRANK_AAD_COMPONENT,
                aad_item_data: VLBytes::new(vec![1; 31]),
            }],
        });
        assert_eq!(tag_from_aad(&short), Err(FrankError::NoTag));
        let unordered = protocol::encode(&SafeAad {
            aad_items: vec![
                SafeAadItem {
                    component_id: FRANK_AAD_COMPONENT,
                    aad_item_data: VLBytes::new(vec![1; 32]),
                },
                SafeAadItem {
                    component_id: 1,
                    aad_item_data: VLBytes::new(vec![]),
                },
            ],
        });
        assert_eq!(tag_from_aad(&unordered), Err(FrankError::NoTag));
    }

    #[test]
    fn server_frank_binds_tag_and_context() {
        let tag = [1u8; 32];
        let ctx = context("mimi://a.example/u/alice", "mimi://a.example/r/club", 5);
        let f = server_frank(b"hub key", &tag, &ctx);
        let mut expect = tag.to_vec();
        expect.extend_from_slice(&protocol::encode(&ctx));
        assert_eq!(f, hmac(b"hub key", &[&expect]));
        assert_ne!(
            f,
            server_frank(
                b"hub key",
                &tag,
                &context("mimi://a.example/u/alice", "mimi://a.example/r/club", 6)
            )
        );
        assert_ne!(f, server_frank(b"other", &tag, &ctx));
    }

    #[test]
    fn integrity_signatures_verify_only_for_their_context() {
        use openmls_traits::signatures::Signer as _;
        let key = crate::reference::signer::SigningKeyPair::generate();
        let ctx = context("mimi://a.example/u/alice", "mimi://a.example/r/club", 5);
        let sf = [3u8; 32];
        let sig = key.sign(&integrity_content(sf, 1, ctx.clone())).unwrap();
        let frank = Frank {
            server_frank: sf,
            franking_signature_ciphersuite: 1,
            franking_integrity_signature: VLBytes::new(sig),
        };
        assert_eq!(
            verify_integrity(&frank, 1, ctx.clone(), key.public()),
            Ok(())
        );
        let other = context("mimi://a.example/u/mallory", "mimi://a.example/r/club", 5);
        assert_eq!(
            verify_integrity(&frank, 1, other, key.public()),
            Err(FrankError::BadSignature)
        );
        assert_eq!(
            verify_integrity(&frank, 2, ctx, key.public()),
            Err(FrankError::Ciphersuite(1))
        );
    }

    #[test]
    fn content_fields_come_from_the_salt_and_extensions() {
        let ctx = crate::content::BuildContext {
            sender_uri: "mimi://a.example/u/alice".into(),
            room_uri: "mimi://a.example/r/club".into(),
            timestamp_ms: 1,
            salt: [5; 16],
        };
        let bytes = crate::content::build(&serde_json::json!({"text": "hi"}), &ctx).unwrap();
        let f = content_fields(&bytes).unwrap();
        assert_eq!(f.salt, [5; 16]);
        assert_eq!(f.sender_uri, "mimi://a.example/u/alice");
        assert_eq!(f.room_uri, "mimi://a.example/r/club");
        assert!(matches!(
            content_fields(b"not cbor"),
            Err(FrankError::NoSalt(_))
        ));
    }
}
