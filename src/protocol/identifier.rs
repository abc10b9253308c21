//! `/identifierQuery` bodies (protocol-06 §5.8).

use openmls::prelude::tls_codec::{
    Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::{Read, Write};

/// `SearchIdentifierType` values.
pub mod search_type {
    pub const HANDLE: u8 = 1;
    pub const NICK: u8 = 2;
    pub const EMAIL: u8 = 3;
    pub const PHONE: u8 = 4;
    pub const PARTIAL_NAME: u8 = 5;
    pub const WHOLE_PROFILE: u8 = 6;
    pub const OIDC_STD_CLAIM: u8 = 7;
    pub const VCARD_FIELD: u8 = 8;
}

/// `IdentifierQueryCode` values.
pub mod query_code {
    pub const SUCCESS: u8 = 0;
    pub const NOT_FOUND: u8 = 1;
    pub const AMBIGUOUS: u8 = 2;
    pub const FORBIDDEN: u8 = 3;
    pub const UNSUPPORTED_FIELD: u8 = 4;
}

/// `FieldSource` values.
pub mod field_source {
    pub const OIDC_STD_CLAIM: u8 = 7;
    pub const VCARD_FIELD: u8 = 8;
}

/// One `ComponentData` of an `AppDataDictionary` (an extension point we
/// neither send nor interpret, but must parse to find the body's end).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Component {
    pub component_id: u16,
    pub data: VLBytes,
}

/// `QueryElement`: `name` is the `claimName` (oidcStdClaim) or
/// `propertyName` (vcardField), present exactly for those two types.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryElement {
    pub search_type: u8,
    pub name: Option<VLBytes>,
    pub search_value: VLBytes,
}

fn has_name(search_type: u8) -> bool {
    matches!(
        search_type,
        search_type::OIDC_STD_CLAIM | search_type::VCARD_FIELD
    )
}

impl Size for QueryElement {
    fn tls_serialized_len(&self) -> usize {
        1 + self.name.as_ref().map_or(0, |n| n.tls_serialized_len())
            + self.search_value.tls_serialized_len()
    }
}

impl Serialize for QueryElement {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        if has_name(self.search_type) != self.name.is_some() {
            return Err(TlsError::EncodingError(
                "QueryElement name must be present exactly for oidcStdClaim and vcardField".into(),
            ));
        }
        let mut n = self.search_type.tls_serialize(w)?;
        if let Some(name) = &self.name {
            n += name.tls_serialize(w)?;
        }
        Ok(n + self.search_value.tls_serialize(w)?)
    }
}

impl Deserialize for QueryElement {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let search_type = u8::tls_deserialize(r)?;
        if !(1..=8).contains(&search_type) {
            return Err(TlsError::DecodingError(format!(
                "unknown SearchIdentifierType {search_type}"
            )));
        }
        let name = if has_name(search_type) {
            Some(VLBytes::tls_deserialize(r)?)
        } else {
            None
        };
        Ok(Self {
            search_type,
            name,
            search_value: VLBytes::tls_deserialize(r)?,
        })
    }
}

/// `IdentifierRequest`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct IdentifierRequest {
    pub query_elements: Vec<QueryElement>,
    pub id_request_extensions: Vec<Component>,
}

/// `ProfileField`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ProfileField {
    pub field_source: u8,
    pub field_name: VLBytes,
    pub field_value: VLBytes,
}

/// `UserProfile`: `stable_uri` is an `IdentifierUri`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserProfile {
    pub stable_uri: VLBytes,
    pub fields: Vec<ProfileField>,
}

/// `IdentifierResponse`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct IdentifierResponse {
    pub response_code: u8,
    pub uri: Vec<VLBytes>,
    pub found_profiles: Vec<UserProfile>,
    pub id_response_extensions: Vec<Component>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> VLBytes {
        VLBytes::new(s.as_bytes().to_vec())
    }

    #[test]
    fn request_and_response_round_trip_with_the_select() {
        let req = IdentifierRequest {
            query_elements: vec![
                QueryElement {
                    search_type: search_type::WHOLE_PROFILE,
                    name: None,
                    search_value: b("mimi://b.example/u/bob"),
                },
                QueryElement {
                    search_type: search_type::OIDC_STD_CLAIM,
                    name: Some(b("name")),
                    search_value: b("Bob"),
                },
            ],
            id_request_extensions: Vec::new(),
        };
        let bytes = req.tls_serialize_detached().unwrap();
        // len(1) | type 6 | value<V> ... ; the second element carries its claim name.
        assert_eq!(bytes[1], search_type::WHOLE_PROFILE);
        assert_eq!(
            IdentifierRequest::tls_deserialize_exact(&bytes).unwrap(),
            req
        );
        let resp = IdentifierResponse {
            response_code: query_code::SUCCESS,
            uri: vec![b("mimi://b.example/u/bob")],
            found_profiles: vec![UserProfile {
                stable_uri: b("mimi://b.example/u/bob"),
                fields: vec![ProfileField {
                    field_source: field_source::OIDC_STD_CLAIM,
                    field_name: b("name"),
                    field_value: b("Bøb 🐝"),
                }],
            }],
            id_response_extensions: vec![Component {
                component_id: 9,
                data: b("x"),
            }],
        };
        let bytes = resp.tls_serialize_detached().unwrap();
        assert_eq!(
            IdentifierResponse::tls_deserialize_exact(&bytes).unwrap(),
            resp
        );
    }

    #[test]
    fn a_name_on_the_wrong_type_or_an_unknown_type_is_rejected() {
        let bad = QueryElement {
            search_type: search_type::HANDLE,
            name: Some(b("name")),
            search_value: b("x"),
        };
        assert!(bad.tls_serialize_detached().is_err());
        assert!(QueryElement::tls_deserialize_exact([9u8, 0]).is_err());
        assert!(QueryElement::tls_deserialize_exact([0u8, 0]).is_err());
    }
}
