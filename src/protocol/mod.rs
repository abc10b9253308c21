//! The MIMI protocol codec: every request and response body of
//! draft-ietf-mimi-protocol-06 §5, pure (bytes in, values and findings out;
//! no I/O, no keys, no content).
//!
//! Bodies decode exactly and field by field ([`codec`]: trailing bytes are an
//! error, errors carry a path) and encode with tls_codec. MLS objects inside
//! them (MLSMessage, KeyPackage, Welcome, GroupInfo, ...) are kept as [`Raw`]
//! bytes: checked by openmls, summarized by [`mls`], decoded into openmls
//! types by whoever needs them. The reference provider and the harness both
//! use this module; `docs/protocol.md` describes it.

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::HpkeCiphertext;
use openmls::prelude::tls_codec::{
    self, Deserialize, Error as TlsError, Serialize, Size, TlsSerialize, TlsSize,
};
use openmls::prelude::{
    Capabilities, ContentType, Credential, ExternalSender, KeyPackageIn, MlsMessageIn,
    RatchetTreeIn, RequiredCapabilitiesExtension, Welcome,
};
use std::io::{Read, Write};
use std::marker::PhantomData;

pub mod answer;
pub mod codec;
pub use codec::{Decode, DecodeError, DecodeErrorKind, Reader, decode};
pub mod cli;
mod directory;
pub use directory::{Directory, decode_directory};
mod download;
pub use download::{decode_download_url, encode_download_url};
pub mod exchange;
pub use exchange::{
    DecodedExchange, Endpoint, HttpExchange, PathVariant, Route, RouteError, decode_exchange, route,
};
pub mod mls;
pub mod readable;
pub mod room;
mod structure;
pub use structure::{Body, EncodeError, Structure};
mod summary;
pub use summary::describe_message;
mod key_material;
pub use key_material::*;
mod update;
pub use update::*;
mod submit;
pub use submit::*;
mod fanout;
pub use fanout::*;
mod group_info;
pub use group_info::*;
mod identifier;
pub use identifier::*;
mod consent;
pub use consent::*;
mod franking;
pub use franking::*;

/// Something a reader of an exchange or body should know that is not a
/// decoding error (a path variant, a directory URL that is not https, ...).
/// `code` is stable (listed in docs/protocol.md); judging it is the caller's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub code: &'static str,
    /// The draft section it is about.
    pub section: &'static str,
    pub message: String,
}

impl Finding {
    pub fn new(code: &'static str, section: &'static str, message: String) -> Self {
        Self {
            code,
            section,
            message,
        }
    }
}

/// `Protocol.mls10`.
pub const PROTOCOL_MLS10: u8 = 1;

/// Largest body any MIMI endpoint accepts.
pub const MAX_BODY: usize = 1024 * 1024;

/// An encoded `T`, kept byte for byte.
pub struct Raw<T> {
    bytes: Vec<u8>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Raw<T> {
    fn clone(&self) -> Self {
        Self::from_bytes(self.bytes.clone())
    }
}
impl<T> PartialEq for Raw<T> {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}
impl<T> std::fmt::Debug for Raw<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({} bytes)", self.bytes.len())
    }
}

impl<T> Raw<T> {
    /// Wraps bytes the caller produced by encoding a `T`.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            _t: PhantomData,
        }
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl<T: Deserialize> Raw<T> {
    /// Decodes the bytes as exactly one `T`.
    pub fn parse(&self) -> Result<T, TlsError> {
        T::tls_deserialize_exact(&self.bytes)
    }
    /// Checks `bytes` hold exactly one `T` and wraps them.
    pub fn checked(bytes: Vec<u8>) -> Result<Self, TlsError> {
        T::tls_deserialize_exact(&bytes)?;
        Ok(Self::from_bytes(bytes))
    }
}

impl<T: Serialize> Raw<T> {
    pub fn encode(value: &T) -> Result<Self, TlsError> {
        Ok(Self::from_bytes(value.tls_serialize_detached()?))
    }
}

/// A reader that remembers what it read.
struct Tee<'a, R> {
    inner: &'a mut R,
    seen: Vec<u8>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<T: Deserialize> Deserialize for Raw<T> {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, TlsError> {
        let mut tee = Tee {
            inner: bytes,
            seen: Vec::new(),
        };
        T::tls_deserialize(&mut tee)?;
        Ok(Self::from_bytes(tee.seen))
    }
}
impl<T> Size for Raw<T> {
    fn tls_serialized_len(&self) -> usize {
        self.bytes.len()
    }
}
impl<T> Serialize for Raw<T> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, TlsError> {
        writer.write_all(&self.bytes)?;
        Ok(self.bytes.len())
    }
}

pub type MlsMessage = Raw<MlsMessageIn>;

/// `WireFormat` values (RFC 9420 §6).
pub const WIRE_FORMAT_WELCOME: u16 = 3;
pub const WIRE_FORMAT_GROUP_INFO: u16 = 4;
pub const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;

/// An MLSMessage (`mls10`) around an already encoded body.
pub fn wrap_mls_message(wire_format: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&wire_format.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of an encoded MLSMessage of the given wire format.
pub fn unwrap_mls_message(wire_format: u16, msg: &[u8]) -> Option<&[u8]> {
    if msg.len() < 4 || msg[0..2] != 1u16.to_be_bytes() || msg[2..4] != wire_format.to_be_bytes() {
        return None;
    }
    Some(&msg[4..])
}

/// What kind of MLSMessage a body carries, from its header and framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// PrivateMessage (application data for MIMI).
    Private,
    Proposal,
    Commit,
    Welcome,
    /// PublicMessage with application content, GroupInfo, KeyPackage.
    Other,
}

/// Classifies an MLSMessage (parses it fully).
pub fn message_kind(msg: &MlsMessage) -> Result<MessageKind, TlsError> {
    Ok(kind_of(msg.parse()?))
}

/// Kind of an already decoded MLSMessage.
fn kind_of(msg: MlsMessageIn) -> MessageKind {
    use openmls::prelude::MlsMessageBodyIn;
    match msg.extract() {
        MlsMessageBodyIn::PrivateMessage(_) => MessageKind::Private,
        MlsMessageBodyIn::PublicMessage(p) => {
            match openmls::prelude::ProtocolMessage::from(p).content_type() {
                ContentType::Proposal => MessageKind::Proposal,
                ContentType::Commit => MessageKind::Commit,
                ContentType::Application => MessageKind::Other,
            }
        }
        MlsMessageBodyIn::Welcome(_) => MessageKind::Welcome,
        _ => MessageKind::Other,
    }
}

/// Reads an MLSMessage (checked by openmls) and what kind it is.
fn read_mls_message(r: &mut Reader<'_>) -> Result<(MlsMessage, MessageKind), DecodeError> {
    let (msg, bytes) = r.tls::<MlsMessageIn>()?;
    Ok((Raw::from_bytes(bytes.to_vec()), kind_of(msg)))
}

/// Reads a tls_codec-decoded leaf, kept byte for byte.
fn read_raw<T: Deserialize>(r: &mut Reader<'_>) -> Result<Raw<T>, DecodeError> {
    let (_, bytes) = r.tls::<T>()?;
    Ok(Raw::from_bytes(bytes.to_vec()))
}

/// Reads `Protocol`; only `mls10` selects a known body.
fn read_protocol(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
    let at = r.position();
    let p = r.u8()?;
    if p != PROTOCOL_MLS10 {
        return Err(r.unknown(at, "Protocol", p.into()));
    }
    Ok(p)
}

/// `AppDataDictionary` (draft-ietf-mls-extensions): a list of components.
fn read_dictionary(r: &mut Reader<'_>) -> Result<Vec<Component>, DecodeError> {
    r.vector(|r| {
        Ok(Component {
            component_id: r.field("componentId", |r| r.u16())?,
            data: r.field("data", |r| r.opaque())?,
        })
    })
}

/// Encodes a value; our own structures always encode.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    value
        .tls_serialize_detached()
        .expect("in-memory TLS encoding of well-formed values cannot fail")
}

/// `SignWithLabel` / `VerifyWithLabel` content (RFC 9420 §5.1.2).
#[derive(TlsSerialize, TlsSize)]
struct SignContent<'a> {
    label: tls_codec::VLByteSlice<'a>,
    content: tls_codec::VLByteSlice<'a>,
}

/// The bytes `SignWithLabel(key, label, content)` signs.
pub fn sign_content(label: &str, content: &[u8]) -> Vec<u8> {
    let full = format!("MLS 1.0 {label}");
    encode(&SignContent {
        label: tls_codec::VLByteSlice(full.as_bytes()),
        content: tls_codec::VLByteSlice(content),
    })
}

/// `EncryptContext` for `EncryptWithLabel` (RFC 9420 §5.1.3).
pub fn encrypt_context(label: &str, context: &[u8]) -> Vec<u8> {
    sign_content(label, context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmls::prelude::tls_codec::VLBytes;
    use proptest::prelude::*;

    fn round_trip<T: Serialize + Decode + PartialEq + std::fmt::Debug>(v: T) {
        let bytes = encode(&v);
        assert_eq!(bytes.len(), v.tls_serialized_len());
        assert_eq!(decode::<T>(&bytes).unwrap(), v);
        if !bytes.is_empty() {
            assert!(decode::<T>(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode::<T>(&longer).is_err());
        }
    }

    #[test]
    fn coded_responses_round_trip() {
        for outcome in [
            UpdateOutcome::Success {
                accepted_timestamp: 1_700_000_000_123,
            },
            UpdateOutcome::WrongEpoch { current_epoch: 7 },
            UpdateOutcome::NotAllowed,
            UpdateOutcome::InvalidProposal {
                invalid_proposals: vec![VLBytes::new(vec![1; 32])],
            },
        ] {
            round_trip(UpdateRoomResponse {
                error_description: "why".into(),
                outcome,
            });
        }
        for r in [
            SubmitMessageResponse::Accepted {
                accepted_timestamp: 5,
                frank: None,
            },
            SubmitMessageResponse::Accepted {
                accepted_timestamp: 5,
                frank: Some(Frank {
                    server_frank: [3; 32],
                    franking_signature_ciphersuite: 1,
                    franking_integrity_signature: VLBytes::new(vec![9; 64]),
                }),
            },
            SubmitMessageResponse::NotAllowed,
            SubmitMessageResponse::EpochTooOld { current_epoch: 2 },
        ] {
            round_trip(r);
        }
        round_trip(GroupInfoResponse::Failure {
            room_id: VLBytes::new(b"mimi://a.example/r/x".to_vec()),
            status: group_info_code::NO_SUCH_ROOM,
        });
        round_trip(KeyMaterialResponse {
            protocol: PROTOCOL_MLS10,
            user_status: user_code::NO_COMPATIBLE_MATERIAL,
            user_uri: VLBytes::new(b"mimi://b.example/u/bob".to_vec()),
            clients: vec![
                ClientKeyMaterial {
                    client_uri: VLBytes::new(b"mimi://b.example/d/bob-1".to_vec()),
                    body: ClientKeyMaterialBody::KeyMaterialExhausted,
                },
                ClientKeyMaterial {
                    client_uri: VLBytes::new(b"mimi://b.example/d/bob-2".to_vec()),
                    body: ClientKeyMaterialBody::NothingCompatible(None),
                },
            ],
        });
    }

    #[test]
    fn mls_message_wrapping() {
        let w = wrap_mls_message(WIRE_FORMAT_WELCOME, &[1, 2, 3]);
        assert_eq!(w, [0, 1, 0, 3, 1, 2, 3]);
        assert_eq!(
            unwrap_mls_message(WIRE_FORMAT_WELCOME, &w),
            Some(&[1u8, 2, 3][..])
        );
        assert_eq!(unwrap_mls_message(WIRE_FORMAT_GROUP_INFO, &w), None);
        assert_eq!(unwrap_mls_message(WIRE_FORMAT_WELCOME, &[0, 1]), None);
        assert!(decode_fanout_batch(&[]).is_err());
    }

    proptest! {
        /// Peer bytes never panic a decoder; they decode or are refused.
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<HandshakeBundle>(&bytes);
            let _ = decode::<SubmitMessageRequest>(&bytes);
            let _ = decode::<SubmitMessageResponse>(&bytes);
            let _ = decode::<UpdateRoomResponse>(&bytes);
            let _ = decode::<KeyMaterialRequest>(&bytes);
            let _ = decode::<KeyMaterialResponse>(&bytes);
            let _ = decode::<GroupInfoRequest>(&bytes);
            let _ = decode::<GroupInfoResponse>(&bytes);
            let _ = decode_fanout_batch(&bytes);
            let _ = decode::<ConsentEntry>(&bytes);
            let _ = decode::<AbuseReport>(&bytes);
            let _ = SafeAad::tls_deserialize_exact(&bytes);
        }
    }
}
