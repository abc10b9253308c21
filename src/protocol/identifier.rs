//! `/identifierQuery` bodies (protocol-06 §5.8).

use super::codec::{Decode, DecodeError, Reader};
use super::read_dictionary;
use openmls::prelude::tls_codec::{
    Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::Write;

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
#[derive(
    Debug,
    Clone,
    PartialEq,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub component_id: u16,
    #[serde(with = "crate::protocol::readable::bin")]
    pub data: VLBytes,
}

/// `QueryElement`: `name` is the `claimName` (oidcStdClaim) or
/// `propertyName` (vcardField), present exactly for those two types.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryElement {
    #[serde(with = "crate::protocol::readable::search_type")]
    pub search_type: u8,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::protocol::readable::text_opt"
    )]
    pub name: Option<VLBytes>,
    #[serde(with = "crate::protocol::readable::text")]
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

impl Decode for QueryElement {
    const NAME: &'static str = "QueryElement";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let search_type = r.enum8("searchType", "SearchIdentifierType", |c| {
            (1..=8).contains(&c).then_some(c)
        })?;
        let name = if has_name(search_type) {
            let label = if search_type == search_type::OIDC_STD_CLAIM {
                "claimName"
            } else {
                "propertyName"
            };
            Some(r.field(label, |r| r.opaque())?)
        } else {
            None
        };
        Ok(Self {
            search_type,
            name,
            search_value: r.field("searchValue", |r| r.opaque())?,
        })
    }
}

/// `IdentifierRequest`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierRequest {
    pub query_elements: Vec<QueryElement>,
    pub id_request_extensions: Vec<Component>,
}

impl Decode for IdentifierRequest {
    const NAME: &'static str = "IdentifierRequest";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            query_elements: r.field("queryElements", |r| r.vector(QueryElement::decode))?,
            id_request_extensions: r.field("idRequestExtensions", read_dictionary)?,
        })
    }
}

/// `ProfileField`; `fieldName` is a `string` kept as bytes.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileField {
    #[serde(with = "crate::protocol::readable::field_source")]
    pub field_source: u8,
    #[serde(with = "crate::protocol::readable::text")]
    pub field_name: VLBytes,
    #[serde(with = "crate::protocol::readable::text")]
    pub field_value: VLBytes,
}

impl Decode for ProfileField {
    const NAME: &'static str = "ProfileField";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            field_source: r.enum8("fieldSource", "FieldSource", |c| {
                matches!(c, field_source::OIDC_STD_CLAIM | field_source::VCARD_FIELD).then_some(c)
            })?,
            field_name: r.field("fieldName", |r| r.opaque())?,
            field_value: r.field("fieldValue", |r| r.opaque())?,
        })
    }
}

/// `UserProfile`: `stable_uri` is an `IdentifierUri`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(with = "crate::protocol::readable::text")]
    pub stable_uri: VLBytes,
    pub fields: Vec<ProfileField>,
}

impl Decode for UserProfile {
    const NAME: &'static str = "UserProfile";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            stable_uri: r.field("stableUri", |r| r.opaque())?,
            fields: r.field("fields", |r| r.vector(ProfileField::decode))?,
        })
    }
}

/// `IdentifierResponse`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierResponse {
    #[serde(with = "crate::protocol::readable::query_code")]
    pub response_code: u8,
    #[serde(with = "crate::protocol::readable::text_vec")]
    pub uri: Vec<VLBytes>,
    pub found_profiles: Vec<UserProfile>,
    pub id_response_extensions: Vec<Component>,
}

impl Decode for IdentifierResponse {
    const NAME: &'static str = "IdentifierResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            response_code: r.enum8("responseCode", "IdentifierQueryCode", |c| {
                (c <= query_code::UNSUPPORTED_FIELD).then_some(c)
            })?,
            uri: r.field("uri", |r| r.vector(|r| r.opaque()))?,
            found_profiles: r.field("foundProfiles", |r| r.vector(UserProfile::decode))?,
            id_response_extensions: r.field("idResponseExtensions", read_dictionary)?,
        })
    }
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
            super::super::decode::<IdentifierRequest>(&bytes).unwrap(),
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
            super::super::decode::<IdentifierResponse>(&bytes).unwrap(),
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
        assert!(super::super::decode::<QueryElement>(&[9u8, 0]).is_err());
        assert!(super::super::decode::<QueryElement>(&[0u8, 0]).is_err());
    }
}
