//! `/keyMaterial` bodies (§5.2).

use super::*;
use openmls::prelude::tls_codec::{
    Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::{Read, Write};

/// `KeyMaterialRequestTBS` (§5.2); also the first part of the request.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialRequestTbs {
    pub protocol: u8,
    pub requesting_user: VLBytes,
    pub target_user: VLBytes,
    pub room_id: VLBytes,
    pub acceptable_ciphersuites: Vec<u16>,
    pub required_capabilities: Raw<RequiredCapabilitiesExtension>,
    pub requester_signature_key: VLBytes,
    pub requester_credential: Raw<Credential>,
}

/// `KeyMaterialRequest` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialRequest {
    pub tbs: KeyMaterialRequestTbs,
    pub signature: VLBytes,
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
}

/// `KeyMaterialClientCode` with its selected body.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientKeyMaterialBody {
    Success(Raw<KeyPackageIn>),
    KeyMaterialExhausted,
    NothingCompatible(Option<Raw<Capabilities>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientKeyMaterial {
    pub client_uri: VLBytes,
    pub body: ClientKeyMaterialBody,
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
impl Deserialize for ClientKeyMaterial {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let code = read_u8(r)?;
        let client_uri = VLBytes::tls_deserialize(r)?;
        let body = match code {
            0 => ClientKeyMaterialBody::Success(Raw::tls_deserialize(r)?),
            1 => ClientKeyMaterialBody::KeyMaterialExhausted,
            2 => ClientKeyMaterialBody::NothingCompatible(Option::tls_deserialize(r)?),
            _ => return Err(bad("unknown KeyMaterialClientCode")),
        };
        Ok(Self { client_uri, body })
    }
}

/// `KeyMaterialResponse` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialResponse {
    pub protocol: u8,
    pub user_status: u8,
    pub user_uri: VLBytes,
    pub clients: Vec<ClientKeyMaterial>,
}
