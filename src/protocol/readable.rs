//! The readable (serde JSON) form of MIMI bodies: field names in camelCase
//! after the draft, enum codes by name, URIs and strings as text, other bytes
//! as base64, MLS objects as a summary next to their base64 `bytes`.
//!
//! The form is lossless: encoding the readable form of a decoded body gives
//! the body back byte for byte (the summaries are ignored when encoding).

use super::Raw;
use super::mls;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{self, VLBytes};
use openmls::prelude::{
    Capabilities, Credential, ExternalSender, HpkeCiphertext, KeyPackageIn, MlsMessageIn,
    RatchetTreeIn, RequiredCapabilitiesExtension, Welcome,
};
use serde::de::Error as DeError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

/// What the readable form shows of an MLS object besides its bytes.
pub trait Summarize {
    fn summarize(bytes: &[u8]) -> Value;
}

fn or_null<T: Serialize>(v: Option<T>) -> Value {
    v.and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or(Value::Null)
}

impl Summarize for MlsMessageIn {
    fn summarize(bytes: &[u8]) -> Value {
        or_null(mls::summarize_message(bytes))
    }
}
impl Summarize for KeyPackageIn {
    fn summarize(bytes: &[u8]) -> Value {
        or_null(mls::summarize_key_package(bytes))
    }
}
impl Summarize for Welcome {
    fn summarize(bytes: &[u8]) -> Value {
        or_null(mls::summarize_welcome(bytes))
    }
}
impl Summarize for VerifiableGroupInfo {
    fn summarize(bytes: &[u8]) -> Value {
        or_null(mls::summarize_group_info(bytes))
    }
}
impl Summarize for Credential {
    fn summarize(bytes: &[u8]) -> Value {
        or_null(mls::summarize_credential(bytes))
    }
}
impl Summarize for ExternalSender {
    fn summarize(bytes: &[u8]) -> Value {
        match super::decode::<super::ExternalSenderFields>(bytes) {
            Ok(f) => json!({
                "signatureKey": B64.encode(f.signature_key.as_slice()),
                "credential": Credential::summarize(f.credential.bytes()),
            }),
            Err(_) => Value::Null,
        }
    }
}

/// Objects shown by size only.
macro_rules! by_size {
    ($($t:ty),*) => {$(
        impl Summarize for $t {
            fn summarize(bytes: &[u8]) -> Value {
                json!({ "length": bytes.len() })
            }
        }
    )*};
}
by_size!(
    Capabilities,
    RequiredCapabilitiesExtension,
    RatchetTreeIn,
    HpkeCiphertext
);

impl<T: Summarize> Serialize for Raw<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = json!({
            "summary": T::summarize(self.bytes()),
            "bytes": B64.encode(self.bytes()),
        });
        v.serialize(s)
    }
}

/// Reads `{"bytes": base64, ...}`; the bytes must hold exactly one `T`.
impl<'de, T: tls_codec::Deserialize> Deserialize<'de> for Raw<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Form {
            bytes: String,
        }
        let f = Form::deserialize(d)?;
        let bytes = B64
            .decode(f.bytes.trim())
            .map_err(|e| <D::Error as DeError>::custom(format!("bytes: not base64: {e}")))?;
        Raw::checked(bytes).map_err(|e| {
            <D::Error as DeError>::custom(format!(
                "bytes: not one {}: {e:?}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("value")
            ))
        })
    }
}

/// A URI or string: JSON text when UTF-8, else `{"hex": ...}`.
pub mod text {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub(super) enum Form {
        Text(String),
        Hex { hex: String },
    }

    pub(super) fn to_form(b: &[u8]) -> Form {
        match std::str::from_utf8(b) {
            Ok(s) => Form::Text(s.to_owned()),
            Err(_) => Form::Hex {
                hex: hex::encode(b),
            },
        }
    }

    pub(super) fn from_form<E: serde::de::Error>(f: Form) -> Result<VLBytes, E> {
        Ok(VLBytes::new(match f {
            Form::Text(s) => s.into_bytes(),
            Form::Hex { hex } => ::hex::decode(hex).map_err(|e| E::custom(format!("hex: {e}")))?,
        }))
    }

    pub fn serialize<S: Serializer>(v: &VLBytes, s: S) -> Result<S::Ok, S::Error> {
        to_form(v.as_slice()).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VLBytes, D::Error> {
        from_form(Form::deserialize(d)?)
    }
}

/// `Option` of [`text`].
pub mod text_opt {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<VLBytes>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(|b| text::to_form(b.as_slice())).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VLBytes>, D::Error> {
        Option::<text::Form>::deserialize(d)?
            .map(text::from_form)
            .transpose()
    }
}

/// A list of [`text`].
pub mod text_vec {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[VLBytes], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|b| text::to_form(b.as_slice()))
            .collect::<Vec<_>>()
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<VLBytes>, D::Error> {
        Vec::<text::Form>::deserialize(d)?
            .into_iter()
            .map(text::from_form)
            .collect()
    }
}

/// Binary: base64.
pub mod bin {
    use super::*;
    pub fn serialize<S: Serializer>(v: &VLBytes, s: S) -> Result<S::Ok, S::Error> {
        B64.encode(v.as_slice()).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VLBytes, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.trim())
            .map(VLBytes::new)
            .map_err(|e| <D::Error as DeError>::custom(format!("not base64: {e}")))
    }
}

/// A list of [`bin`].
pub mod bin_vec {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[VLBytes], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|b| B64.encode(b.as_slice()))
            .collect::<Vec<_>>()
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<VLBytes>, D::Error> {
        Vec::<String>::deserialize(d)?
            .into_iter()
            .map(|s| {
                B64.decode(s.trim())
                    .map(VLBytes::new)
                    .map_err(|e| <D::Error as DeError>::custom(format!("not base64: {e}")))
            })
            .collect()
    }
}

/// `uint8 x[32]`: hex.
pub mod hex32 {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        hex::encode(v).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let b = hex::decode(String::deserialize(d)?).map_err(<D::Error as DeError>::custom)?;
        b.try_into()
            .map_err(|_| <D::Error as DeError>::custom("expected 32 bytes of hex"))
    }
}

/// One-octet enum codes by their draft name (a number is accepted too).
macro_rules! code_names {
    ($($module:ident: $($code:literal => $name:literal),+ ;)+) => {$(
        pub mod $module {
            use super::*;
            pub fn name(v: u8) -> Option<&'static str> {
                match v {
                    $($code => Some($name),)+
                    _ => None,
                }
            }
            pub fn serialize<S: Serializer>(v: &u8, s: S) -> Result<S::Ok, S::Error> {
                match name(*v) {
                    Some(n) => n.serialize(s),
                    None => v.serialize(s),
                }
            }
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
                match Value::deserialize(d)? {
                    Value::String(n) => match n.as_str() {
                        $($name => Ok($code),)+
                        other => Err(<D::Error as DeError>::custom(format!(
                            "unknown {} {other:?}", stringify!($module)
                        ))),
                    },
                    Value::Number(n) => n
                        .as_u64()
                        .and_then(|n| u8::try_from(n).ok())
                        .ok_or_else(|| <D::Error as DeError>::custom("expected a name or 0..=255")),
                    _ => Err(<D::Error as DeError>::custom("expected a name or a number")),
                }
            }
        }
    )+};
}

code_names! {
    protocol: 1 => "mls10";
    user_status: 0 => "success", 1 => "partialSuccess", 2 => "incompatibleProtocol",
        3 => "noCompatibleMaterial", 4 => "userUnknown", 5 => "noConsent",
        6 => "noConsentForThisRoom", 7 => "userDeleted";
    group_info_status: 1 => "success", 2 => "notAuthorized", 3 => "noSuchRoom";
    search_type: 1 => "handle", 2 => "nick", 3 => "email", 4 => "phone",
        5 => "partialName", 6 => "wholeProfile", 7 => "oidcStdClaim", 8 => "vcardField";
    query_code: 0 => "success", 1 => "notFound", 2 => "ambiguous", 3 => "forbidden",
        4 => "unsupportedField";
    field_source: 7 => "oidcStdClaim", 8 => "vcardField";
    abuse_type: 0 => "reserved";
}
