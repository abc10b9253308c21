//! Franking (§5.4.1) and `/reportAbuse` (§5.9) structures.

use super::*;
use openmls::prelude::tls_codec::{TlsDeserialize, TlsSerialize, TlsSize, VLBytes};

/// The `frank_aad` Safe-AAD component (IANA, §10).
pub const FRANK_AAD_COMPONENT: u16 = 0x0020;
/// The `franking_signature_key` GroupContext component, holding
/// `FrankingAgentData` (§5.4.1 calls it `franking_agent`).
pub const FRANKING_AGENT_COMPONENT: u16 = 0x0021;
/// The label of the `franking_integrity_signature`.
pub const FRANKING_INTEGRITY_LABEL: &str = "FrankingIntegrityTBS";

/// `SafeAADItem` (draft-ietf-mls-extensions §4.9).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SafeAadItem {
    pub component_id: u16,
    pub aad_item_data: VLBytes,
}

/// `SafeAAD`: the start of a PrivateMessage's `authenticated_data`; items
/// in strictly ascending component order.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SafeAad {
    pub aad_items: Vec<SafeAadItem>,
}

/// `FrankingAgentData`: the hub's franking signature key and credential.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct FrankingAgentData {
    pub franking_signature_key: VLBytes,
    pub credential: Raw<Credential>,
}

/// `ServerFrankingContext`; the URIs are `IdentifierUri`s.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ServerFrankingContext {
    pub sender_uri: VLBytes,
    pub room_uri: VLBytes,
    pub accepted_timestamp: u64,
}

/// `FrankingIntegrityTBS`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct FrankingIntegrityTbs {
    pub server_frank: [u8; 32],
    pub franking_signature_ciphersuite: u16,
    pub context: ServerFrankingContext,
}

impl Decode for FrankingAgentData {
    const NAME: &'static str = "FrankingAgentData";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            franking_signature_key: r.field("frankingSignatureKey", |r| r.opaque())?,
            credential: r.field("credential", read_raw)?,
        })
    }
}

/// `AbusiveMessage` (§5.9).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbusiveMessage {
    #[serde(with = "crate::protocol::readable::bin")]
    pub message_content: VLBytes,
    pub frank: Frank,
    pub accepted_timestamp: u64,
}

impl Decode for AbusiveMessage {
    const NAME: &'static str = "AbusiveMessage";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_content: r.field("messageContent", |r| r.opaque())?,
            frank: r.field("frank", Frank::decode)?,
            accepted_timestamp: r.field("acceptedTimestamp", |r| r.u64())?,
        })
    }
}

/// `AbuseReport` (§5.9); `reason_code` is an `AbuseType` (only
/// `reserved(0)` is defined, so any value is accepted until the draft
/// settles a taxonomy).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbuseReport {
    #[serde(with = "crate::protocol::readable::text")]
    pub reporting_user: VLBytes,
    #[serde(with = "crate::protocol::readable::text")]
    pub alleged_abuser_uri: VLBytes,
    #[serde(with = "crate::protocol::readable::abuse_type")]
    pub reason_code: u8,
    #[serde(with = "crate::protocol::readable::text")]
    pub note: VLBytes,
    pub messages: Vec<AbusiveMessage>,
    pub abuse_extensions: Vec<Component>,
}

impl Decode for AbuseReport {
    const NAME: &'static str = "AbuseReport";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reporting_user: r.field("reportingUser", |r| r.opaque())?,
            alleged_abuser_uri: r.field("allegedAbuserUri", |r| r.opaque())?,
            reason_code: r.field("reasonCode", |r| r.u8())?,
            note: r.field("note", |r| r.opaque())?,
            messages: r.field("messages", |r| r.vector(AbusiveMessage::decode))?,
            abuse_extensions: r.field("abuseExtensions", read_dictionary)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn franking_structures_have_the_draft_layout() {
        let aad = SafeAad {
            aad_items: vec![SafeAadItem {
                component_id: FRANK_AAD_COMPONENT,
                aad_item_data: VLBytes::new(vec![7; 32]),
            }],
        };
        let bytes = encode(&aad);
        // items<V> (35 bytes), component 0x0020, data<V> of 32 bytes.
        assert_eq!(&bytes[..4], &[35, 0x00, 0x20, 32]);
        assert_eq!(bytes.len(), 36);
        assert_eq!(SafeAad::tls_deserialize_exact(&bytes).unwrap(), aad);
        let tbs = FrankingIntegrityTbs {
            server_frank: [1; 32],
            franking_signature_ciphersuite: 1,
            context: ServerFrankingContext {
                sender_uri: VLBytes::new(b"s".to_vec()),
                room_uri: VLBytes::new(b"r".to_vec()),
                accepted_timestamp: 2,
            },
        };
        let bytes = encode(&tbs);
        assert_eq!(bytes.len(), 32 + 2 + 2 + 2 + 8);
        assert_eq!(&bytes[32..38], &[0, 1, 1, b's', 1, b'r']);
        assert_eq!(
            FrankingIntegrityTbs::tls_deserialize_exact(&bytes).unwrap(),
            tbs
        );
    }

    #[test]
    fn abuse_reports_round_trip_strictly() {
        let r = AbuseReport {
            reporting_user: VLBytes::new(b"mimi://b.example/u/bob".to_vec()),
            alleged_abuser_uri: VLBytes::new(b"mimi://a.example/u/alice".to_vec()),
            reason_code: 0,
            note: VLBytes::new("spam ✉".as_bytes().to_vec()),
            messages: vec![AbusiveMessage {
                message_content: VLBytes::new(vec![0x85, 1, 2]),
                frank: Frank {
                    server_frank: [4; 32],
                    franking_signature_ciphersuite: 1,
                    franking_integrity_signature: VLBytes::new(vec![5; 64]),
                },
                accepted_timestamp: 9,
            }],
            abuse_extensions: Vec::new(),
        };
        let bytes = encode(&r);
        assert_eq!(decode::<AbuseReport>(&bytes).unwrap(), r);
        assert!(decode::<AbuseReport>(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode::<AbuseReport>(&longer).is_err());
    }
}
