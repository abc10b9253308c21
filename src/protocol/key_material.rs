//! `/keyMaterial` bodies (§5.2).

use super::*;
use openmls::prelude::tls_codec::{
    Error as TlsError, Serialize, Size, TlsSerialize, TlsSize, VLBytes,
};
use std::io::Write;

/// `KeyMaterialRequestTBS` (§5.2); also the first part of the request.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMaterialRequestTbs {
    #[serde(with = "crate::protocol::readable::protocol")]
    pub protocol: u8,
    #[serde(with = "crate::protocol::readable::text")]
    pub requesting_user: VLBytes,
    #[serde(with = "crate::protocol::readable::text")]
    pub target_user: VLBytes,
    #[serde(with = "crate::protocol::readable::text")]
    pub room_id: VLBytes,
    pub acceptable_ciphersuites: Vec<u16>,
    pub required_capabilities: Raw<RequiredCapabilitiesExtension>,
    #[serde(with = "crate::protocol::readable::bin")]
    pub requester_signature_key: VLBytes,
    pub requester_credential: Raw<Credential>,
}

impl Decode for KeyMaterialRequestTbs {
    const NAME: &'static str = "KeyMaterialRequestTBS";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            protocol: r.field("protocol", read_protocol)?,
            requesting_user: r.field("requestingUser", |r| r.opaque())?,
            target_user: r.field("targetUser", |r| r.opaque())?,
            room_id: r.field("roomId", |r| r.opaque())?,
            acceptable_ciphersuites: r
                .field("acceptableCiphersuites", |r| r.vector(|r| r.u16()))?,
            required_capabilities: r.field("requiredCapabilities", read_raw)?,
            requester_signature_key: r.field("requesterSignatureKey", |r| r.opaque())?,
            requester_credential: r.field("requesterCredential", read_raw)?,
        })
    }
}

/// `KeyMaterialRequest` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMaterialRequest {
    #[serde(flatten)]
    pub tbs: KeyMaterialRequestTbs,
    #[serde(
        rename = "keyMaterialRequestSignature",
        with = "crate::protocol::readable::bin"
    )]
    pub signature: VLBytes,
}

impl Decode for KeyMaterialRequest {
    const NAME: &'static str = "KeyMaterialRequest";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // The TBS fields sit inline in the request, so no `tbs` segment.
        Ok(Self {
            tbs: KeyMaterialRequestTbs::decode(r)?,
            signature: r.field("keyMaterialRequestSignature", |r| r.opaque())?,
        })
    }
}

/// `KeyMaterialUserCode`.
pub mod user_code {
    pub const SUCCESS: u8 = 0;
    pub const PARTIAL_SUCCESS: u8 = 1;
    pub const INCOMPATIBLE_PROTOCOL: u8 = 2;
    pub const NO_COMPATIBLE_MATERIAL: u8 = 3;
    pub const USER_UNKNOWN: u8 = 4;
    pub const NO_CONSENT: u8 = 5;
    pub const NO_CONSENT_FOR_THIS_ROOM: u8 = 6;
    pub const USER_DELETED: u8 = 7;
}

/// `KeyMaterialClientCode` with its selected body.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientKeyMaterialBody {
    Success(Raw<KeyPackageIn>),
    KeyMaterialExhausted,
    NothingCompatible(Option<Raw<Capabilities>>),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ClientKeyMaterialForm", into = "ClientKeyMaterialForm")]
pub struct ClientKeyMaterial {
    pub client_uri: VLBytes,
    pub body: ClientKeyMaterialBody,
}

/// The readable form of [`ClientKeyMaterial`]: the selected body as
/// optional fields next to `clientStatus`.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientKeyMaterialForm {
    client_status: ClientStatus,
    #[serde(with = "crate::protocol::readable::text")]
    client_uri: VLBytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_package: Option<Raw<KeyPackageIn>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_capabilities: Option<Raw<Capabilities>>,
}

/// `KeyMaterialClientCode`.
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
enum ClientStatus {
    Success,
    KeyMaterialExhausted,
    NothingCompatible,
}

impl From<ClientKeyMaterial> for ClientKeyMaterialForm {
    fn from(c: ClientKeyMaterial) -> Self {
        let (client_status, key_package, client_capabilities) = match c.body {
            ClientKeyMaterialBody::Success(kp) => (ClientStatus::Success, Some(kp), None),
            ClientKeyMaterialBody::KeyMaterialExhausted => {
                (ClientStatus::KeyMaterialExhausted, None, None)
            }
            ClientKeyMaterialBody::NothingCompatible(caps) => {
                (ClientStatus::NothingCompatible, None, caps)
            }
        };
        Self {
            client_status,
            client_uri: c.client_uri,
            key_package,
            client_capabilities,
        }
    }
}

impl TryFrom<ClientKeyMaterialForm> for ClientKeyMaterial {
    type Error = String;
    fn try_from(f: ClientKeyMaterialForm) -> Result<Self, String> {
        let body = match (f.client_status, f.key_package, f.client_capabilities) {
            (ClientStatus::Success, Some(kp), None) => ClientKeyMaterialBody::Success(kp),
            (ClientStatus::KeyMaterialExhausted, None, None) => {
                ClientKeyMaterialBody::KeyMaterialExhausted
            }
            (ClientStatus::NothingCompatible, None, caps) => {
                ClientKeyMaterialBody::NothingCompatible(caps)
            }
            _ => {
                return Err("clientStatus success takes exactly keyPackage, \
                            nothingCompatible at most clientCapabilities, \
                            keyMaterialExhausted neither"
                    .into());
            }
        };
        Ok(Self {
            client_uri: f.client_uri,
            body,
        })
    }
}

impl Size for ClientKeyMaterial {
    fn tls_serialized_len(&self) -> usize {
        1 + self.client_uri.tls_serialized_len()
            + match &self.body {
                ClientKeyMaterialBody::Success(kp) => kp.tls_serialized_len(),
                ClientKeyMaterialBody::KeyMaterialExhausted => 0,
                ClientKeyMaterialBody::NothingCompatible(c) => c.tls_serialized_len(),
            }
    }
}
impl Serialize for ClientKeyMaterial {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let code: u8 = match self.body {
            ClientKeyMaterialBody::Success(_) => 0,
            ClientKeyMaterialBody::KeyMaterialExhausted => 1,
            ClientKeyMaterialBody::NothingCompatible(_) => 2,
        };
        let mut n = code.tls_serialize(w)? + self.client_uri.tls_serialize(w)?;
        n += match &self.body {
            ClientKeyMaterialBody::Success(kp) => kp.tls_serialize(w)?,
            ClientKeyMaterialBody::KeyMaterialExhausted => 0,
            ClientKeyMaterialBody::NothingCompatible(c) => c.tls_serialize(w)?,
        };
        Ok(n)
    }
}
impl Decode for ClientKeyMaterial {
    const NAME: &'static str = "ClientKeyMaterial";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = r.enum8("clientStatus", "KeyMaterialClientCode", |c| {
            (c <= 2).then_some(c)
        })?;
        let client_uri = r.field("clientUri", |r| r.opaque())?;
        let body = match code {
            0 => ClientKeyMaterialBody::Success(r.field("keyPackage", read_raw)?),
            1 => ClientKeyMaterialBody::KeyMaterialExhausted,
            // 2, the only other code enum8 admits.
            _ => ClientKeyMaterialBody::NothingCompatible(
                r.field("clientCapabilities", |r| r.optional(read_raw))?,
            ),
        };
        Ok(Self { client_uri, body })
    }
}

/// `KeyMaterialResponse` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyMaterialResponse {
    #[serde(with = "crate::protocol::readable::protocol")]
    pub protocol: u8,
    #[serde(with = "crate::protocol::readable::user_status")]
    pub user_status: u8,
    #[serde(with = "crate::protocol::readable::text")]
    pub user_uri: VLBytes,
    pub clients: Vec<ClientKeyMaterial>,
}

impl Decode for KeyMaterialResponse {
    const NAME: &'static str = "KeyMaterialResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = r.field("protocol", read_protocol)?;
        let user_status = r.enum8("userStatus", "KeyMaterialUserCode", |c| {
            (c <= user_code::USER_DELETED).then_some(c)
        })?;
        Ok(Self {
            protocol,
            user_status,
            user_uri: r.field("userUri", |r| r.opaque())?,
            clients: r.field("clients", |r| r.vector(ClientKeyMaterial::decode))?,
        })
    }
}
