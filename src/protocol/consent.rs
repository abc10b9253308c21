//! `/requestConsent` and `/updateConsent` bodies (§5.7).

use super::*;
use openmls::prelude::tls_codec::{Error as TlsError, Serialize, Size, VLBytes};
use std::io::Write;

/// `ConsentOperation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConsentOperation {
    Cancel,
    Request,
    Grant,
    Revoke,
}

impl ConsentOperation {
    pub fn code(self) -> u8 {
        match self {
            Self::Cancel => 0,
            Self::Request => 1,
            Self::Grant => 2,
            Self::Revoke => 3,
        }
    }
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => Self::Cancel,
            1 => Self::Request,
            2 => Self::Grant,
            3 => Self::Revoke,
            _ => return None,
        })
    }
    /// Whether the operation goes to `/requestConsent` (else `/updateConsent`).
    pub fn is_request(self) -> bool {
        matches!(self, Self::Cancel | Self::Request)
    }
}

/// `ConsentEntry` (§5.7). `client_key_packages` is present exactly for a
/// grant; `requester_uri` and `target_uri` are `IdentifierUri`s and
/// `room_id` the optional `RoomId`, all `opaque<V>`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentEntry {
    #[serde(rename = "consentOperation")]
    pub operation: ConsentOperation,
    #[serde(with = "crate::protocol::readable::text")]
    pub requester_uri: VLBytes,
    #[serde(with = "crate::protocol::readable::text")]
    pub target_uri: VLBytes,
    #[serde(default, with = "crate::protocol::readable::text_opt")]
    pub room_id: Option<VLBytes>,
    #[serde(default)]
    pub client_key_packages: Vec<Raw<KeyPackageIn>>,
    /// `consent_extensions`, an AppDataDictionary: parsed, not interpreted.
    pub consent_extensions: Vec<Component>,
}

impl Size for ConsentEntry {
    fn tls_serialized_len(&self) -> usize {
        1 + self.requester_uri.tls_serialized_len()
            + self.target_uri.tls_serialized_len()
            + self.room_id.tls_serialized_len()
            + if self.operation == ConsentOperation::Grant {
                self.client_key_packages.tls_serialized_len()
            } else {
                0
            }
            + self.consent_extensions.tls_serialized_len()
    }
}

impl Serialize for ConsentEntry {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        if self.operation != ConsentOperation::Grant && !self.client_key_packages.is_empty() {
            return Err(TlsError::EncodingError(
                "only a grant carries KeyPackages".into(),
            ));
        }
        let mut n = self.operation.code().tls_serialize(w)?
            + self.requester_uri.tls_serialize(w)?
            + self.target_uri.tls_serialize(w)?
            + self.room_id.tls_serialize(w)?;
        if self.operation == ConsentOperation::Grant {
            n += self.client_key_packages.tls_serialize(w)?;
        }
        Ok(n + self.consent_extensions.tls_serialize(w)?)
    }
}

impl Decode for ConsentEntry {
    const NAME: &'static str = "ConsentEntry";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let operation = r.enum8(
            "consentOperation",
            "ConsentOperation",
            ConsentOperation::from_code,
        )?;
        let requester_uri = r.field("requesterUri", |r| r.opaque())?;
        let target_uri = r.field("targetUri", |r| r.opaque())?;
        let room_id = r.field("roomId", |r| r.optional(|r| r.opaque()))?;
        let client_key_packages = if operation == ConsentOperation::Grant {
            r.field("clientKeyPackages", |r| r.vector(read_raw))?
        } else {
            Vec::new()
        };
        Ok(Self {
            operation,
            requester_uri,
            target_uri,
            room_id,
            client_key_packages,
            consent_extensions: r.field("consentExtensions", read_dictionary)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(operation: ConsentOperation, room: Option<&str>) -> ConsentEntry {
        ConsentEntry {
            operation,
            requester_uri: VLBytes::new(b"mimi://a.example/u/alice".to_vec()),
            target_uri: VLBytes::new(b"mimi://b.example/u/bob".to_vec()),
            room_id: room.map(|r| VLBytes::new(r.as_bytes().to_vec())),
            client_key_packages: Vec::new(),
            consent_extensions: Vec::new(),
        }
    }

    #[test]
    fn consent_entries_round_trip_strictly() {
        for op in [
            ConsentOperation::Cancel,
            ConsentOperation::Request,
            ConsentOperation::Grant,
            ConsentOperation::Revoke,
        ] {
            for room in [None, Some("mimi://a.example/r/club")] {
                let e = entry(op, room);
                let bytes = encode(&e);
                assert_eq!(bytes.len(), e.tls_serialized_len());
                assert_eq!(decode::<ConsentEntry>(&bytes).unwrap(), e);
                assert!(decode::<ConsentEntry>(&bytes[..bytes.len() - 1]).is_err());
                let mut longer = bytes.clone();
                longer.push(0);
                assert!(decode::<ConsentEntry>(&longer).is_err());
            }
        }
    }

    #[test]
    fn consent_entry_layout_follows_the_draft() {
        let bytes = encode(&entry(ConsentOperation::Grant, None));
        // operation, requester <V>, target <V>, absent room, empty KeyPackage
        // list, empty dictionary.
        let mut want = vec![2, 24];
        want.extend_from_slice(b"mimi://a.example/u/alice");
        want.push(22);
        want.extend_from_slice(b"mimi://b.example/u/bob");
        want.extend_from_slice(&[0, 0, 0]);
        assert_eq!(bytes, want);
        // A request has no KeyPackage list.
        let req = encode(&entry(ConsentOperation::Request, None));
        assert_eq!(req.len(), bytes.len() - 1);
        assert_eq!(req[0], 1);
    }

    #[test]
    fn unknown_operations_and_stray_key_packages_are_refused() {
        let mut bytes = encode(&entry(ConsentOperation::Request, None));
        bytes[0] = 4;
        assert!(decode::<ConsentEntry>(&bytes).is_err());
        let mut e = entry(ConsentOperation::Revoke, None);
        e.client_key_packages.push(Raw::from_bytes(vec![1]));
        assert!(e.tls_serialize_detached().is_err());
    }
}
