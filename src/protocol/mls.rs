//! Read-only summaries of the MLS framing inside MIMI bodies: what the
//! harness needs to follow a room from the wire (group, epoch, sender,
//! proposals, KeyPackage references), never the content.
//!
//! Every input here already parsed with openmls (it is a [`Raw`] that
//! decoded), so these walk known-good bytes; they still return `Option`
//! rather than trusting that.

use super::codec::{DecodeError, Reader};
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize, Serialize as _, VLByteSlice};
use openmls::prelude::{
    ContentType, Credential, KeyPackageIn, MlsMessageBodyIn, MlsMessageIn, ProposalIn, Welcome,
};
use serde::Serialize;
use sha2::Digest;

/// An MLSMessage, by wire format (RFC 9420 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "wireFormat", rename_all = "camelCase")]
pub enum MessageSummary {
    PublicMessage(PublicSummary),
    PrivateMessage(PrivateSummary),
    Welcome(WelcomeSummary),
    GroupInfo(GroupInfoSummary),
    KeyPackage(KeyPackageSummary),
    /// A wire format MIMI does not carry.
    Other {
        code: u16,
    },
}

/// A PublicMessage's FramedContent, without signature or tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicSummary {
    /// Hex.
    pub group_id: String,
    pub epoch: u64,
    pub sender: SenderSummary,
    pub content_type: &'static str,
    /// For a proposal: the one proposal; for a commit: its proposals in order.
    pub proposals: Vec<ProposalSummary>,
    /// For a commit: whether it carries an UpdatePath.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_path: Option<bool>,
    /// For a commit with an UpdatePath: the identity of its leaf node's
    /// credential (see [`ProposalSummary::identity`]).
    #[serde(skip)]
    pub path_identity: Option<String>,
    /// Where the `AuthenticatedContent` (RFC 9420 §6.1: wire format,
    /// content, signature) lies in the MLSMessage's bytes: what a
    /// ProposalRef hashes.
    #[serde(skip)]
    pub authenticated_content: std::ops::Range<usize>,
}

/// `Sender` (RFC 9420 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SenderSummary {
    Member { leaf_index: u32 },
    External { sender_index: u32 },
    NewMemberProposal,
    NewMemberCommit,
}

/// One proposal, by value or by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalSummary {
    /// `add`, `remove`, ... or `0x…` for a type without a name here; absent
    /// for a reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal_type: Option<String>,
    /// Hex ProposalRef, for a proposal committed by reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Add: the KeyPackageRef (hex) of the KeyPackage it adds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_package_ref: Option<String>,
    /// Remove: the leaf index it removes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<u32>,
    /// Add and Update: the identity of the new leaf's credential, when it is
    /// a basic credential holding text (a MIMI client URI); `None` otherwise.
    #[serde(skip)]
    pub identity: Option<String>,
    /// What it does to the room state in the group context.
    #[serde(skip)]
    pub dictionary: DictionaryEffect,
}

/// What a proposal does to the group's `app_data_dictionary` (the room
/// state): what a shadow of the room state follows commits by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DictionaryEffect {
    /// Leaves it alone (add, update, remove, psk, external_init, self_remove).
    #[default]
    Keeps,
    /// A GroupContextExtensions proposal carrying this extension body.
    Replaces(Vec<u8>),
    /// Cannot be told from the wire: a proposal by reference, a
    /// GroupContextExtensions without the dictionary, an AppDataUpdate, a
    /// type not known here.
    Unknown,
}

/// A PrivateMessage's cleartext header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateSummary {
    pub group_id: String,
    pub epoch: u64,
    pub content_type: &'static str,
    pub aad_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WelcomeSummary {
    pub cipher_suite: u16,
    pub secrets: usize,
    /// The KeyPackageRefs (hex) the Welcome's secrets are for.
    pub key_package_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoSummary {
    pub group_id: String,
    pub epoch: u64,
    pub cipher_suite: u16,
    /// Extension types of the GroupContext.
    pub group_context_extensions: Vec<u16>,
    /// Extension types of the GroupInfo itself.
    pub extensions: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPackageSummary {
    pub cipher_suite: u16,
    pub credential: CredentialSummary,
    /// KeyPackageRef (hex); absent for a cipher suite whose hash is unknown here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    pub credential_type: u16,
    /// The identity: text when UTF-8, else hex.
    pub identity: String,
}

fn content_type_name(c: ContentType) -> &'static str {
    match c {
        ContentType::Application => "application",
        ContentType::Proposal => "proposal",
        ContentType::Commit => "commit",
    }
}

/// The name of a proposal type (RFC 9420 §17.4, SelfRemove and the
/// openmls-provisional AppDataUpdate code).
pub fn proposal_type_name(code: u16) -> String {
    match code {
        1 => "add".into(),
        2 => "update".into(),
        3 => "remove".into(),
        4 => "psk".into(),
        5 => "reinit".into(),
        6 => "external_init".into(),
        7 => "group_context_extensions".into(),
        8 => "app_data_update".into(),
        0x000a => "self_remove".into(),
        other => format!("0x{other:04x}"),
    }
}

fn text_or_hex(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_owned(),
        _ => hex::encode(b),
    }
}

/// `RefHash(label, value)` (RFC 9420 §5.2) with the cipher suite's hash;
/// `None` for a suite not registered in RFC 9420.
pub fn ref_hash(cipher_suite: u16, label: &str, value: &[u8]) -> Option<Vec<u8>> {
    let mut input = Vec::new();
    VLByteSlice(label.as_bytes())
        .tls_serialize(&mut input)
        .ok()?;
    VLByteSlice(value).tls_serialize(&mut input).ok()?;
    Some(match cipher_suite {
        1..=3 => sha2::Sha256::digest(&input).to_vec(),
        7 => sha2::Sha384::digest(&input).to_vec(),
        4..=6 => sha2::Sha512::digest(&input).to_vec(),
        _ => return None,
    })
}

/// The KeyPackageRef of an encoded KeyPackage (cipher suite read from it).
pub fn key_package_ref(key_package: &[u8]) -> Option<Vec<u8>> {
    let suite = u16::from_be_bytes([*key_package.get(2)?, *key_package.get(3)?]);
    ref_hash(suite, "MLS 1.0 KeyPackage Reference", key_package)
}

/// Summarizes an encoded MLSMessage.
pub fn summarize_message(bytes: &[u8]) -> Option<MessageSummary> {
    let msg = MlsMessageIn::tls_deserialize_exact(bytes).ok()?;
    let body = bytes.get(4..)?;
    Some(match msg.extract() {
        MlsMessageBodyIn::PublicMessage(_) => MessageSummary::PublicMessage(public(body)?),
        MlsMessageBodyIn::PrivateMessage(p) => MessageSummary::PrivateMessage(PrivateSummary {
            group_id: hex::encode(p.group_id().as_slice()),
            epoch: p.epoch().as_u64(),
            content_type: content_type_name(p.content_type()),
            aad_len: p.aad().len(),
        }),
        MlsMessageBodyIn::Welcome(_) => MessageSummary::Welcome(summarize_welcome(body)?),
        MlsMessageBodyIn::GroupInfo(_) => MessageSummary::GroupInfo(summarize_group_info(body)?),
        MlsMessageBodyIn::KeyPackage(_) => MessageSummary::KeyPackage(summarize_key_package(body)?),
        #[allow(unreachable_patterns)]
        _ => MessageSummary::Other {
            code: u16::from_be_bytes([bytes[2], bytes[3]]),
        },
    })
}

/// Walks a PublicMessage's FramedContent (RFC 9420 §6) far enough to list
/// its proposals.
fn public(body: &[u8]) -> Option<PublicSummary> {
    let mut r = Reader::new(body, "PublicMessage");
    let walk = |r: &mut Reader<'_>| -> Result<PublicSummary, DecodeError> {
        let group_id = hex::encode(r.opaque()?.as_slice());
        let epoch = r.u64()?;
        let sender = match r.u8()? {
            1 => SenderSummary::Member {
                leaf_index: r.u32()?,
            },
            2 => SenderSummary::External {
                sender_index: r.u32()?,
            },
            3 => SenderSummary::NewMemberProposal,
            _ => SenderSummary::NewMemberCommit,
        };
        r.opaque()?; // authenticated_data
        let (content_type, proposals, has_path) = match r.u8()? {
            1 => ("application", Vec::new(), None),
            2 => ("proposal", vec![proposal(r)?], None),
            _ => {
                let proposals = r.vector(|r| match r.u8()? {
                    1 => proposal(r),
                    _ => Ok(ProposalSummary {
                        proposal_type: None,
                        reference: Some(hex::encode(r.opaque()?.as_slice())),
                        key_package_ref: None,
                        removed: None,
                        identity: None,
                        dictionary: DictionaryEffect::Unknown,
                    }),
                })?;
                let has_path = r.u8()? == 1;
                ("commit", proposals, Some(has_path))
            }
        };
        let path_identity = if has_path == Some(true) {
            leaf_node_identity(r)?
        } else {
            None
        };
        Ok(PublicSummary {
            group_id,
            epoch,
            sender,
            content_type,
            proposals,
            has_path,
            path_identity,
            authenticated_content: 0..0,
        })
    };
    let mut summary = walk(&mut r).ok()?;
    // A proposal's signature follows its content; the AuthenticatedContent
    // starts at the wire format, two octets before `body`.
    if summary.content_type == "proposal" {
        r.opaque().ok()?;
        summary.authenticated_content = 2..4 + r.position();
    }
    Some(summary)
}

/// Reads a LeafNode (RFC 9420 §7.2) and returns its credential's identity
/// when that is a basic credential holding text.
fn leaf_node_identity(r: &mut Reader<'_>) -> Result<Option<String>, DecodeError> {
    r.opaque()?; // encryption_key
    r.opaque()?; // signature_key
    let (credential, _) = r.tls::<Credential>()?;
    for _ in 0..5 {
        r.opaque()?; // capabilities: versions, suites, extensions, proposals, credentials
    }
    match r.u8()? {
        1 => {
            r.u64()?; // lifetime
            r.u64()?;
        }
        2 => {}
        _ => {
            r.opaque()?; // parent_hash
        }
    }
    r.opaque()?; // extensions
    r.opaque()?; // signature
    Ok(basic_identity(&credential))
}

/// A basic credential's identity, when it is text.
fn basic_identity(c: &Credential) -> Option<String> {
    (u16::from(c.credential_type()) == 1)
        .then(|| std::str::from_utf8(c.serialized_content()).ok())
        .flatten()
        .map(str::to_owned)
}

/// The leaves of an encoded ratchet tree (RFC 9420 §12.4.3.3: nodes in
/// array order, leaves at even indices): per leaf, its credential's
/// identity, or `None` for a blank leaf. `None` as a whole when the tree
/// does not read, or a leaf's credential is not a basic one holding text.
pub fn tree_leaves(tree: &[u8]) -> Option<Vec<Option<String>>> {
    let mut r = Reader::new(tree, "ratchetTree");
    let nodes = r
        .vector(|r| {
            r.optional(|r| match r.u8()? {
                1 => Ok(Some(leaf_node_identity(r)?)),
                _ => {
                    r.opaque()?; // encryption_key
                    r.opaque()?; // parent_hash
                    r.opaque()?; // unmerged_leaves
                    Ok(None)
                }
            })
        })
        .ok()?;
    if r.remaining() > 0 {
        return None;
    }
    nodes
        .into_iter()
        .step_by(2)
        .map(|node| match node {
            None => Some(None),
            Some(Some(identity)) => identity.map(Some),
            Some(None) => None,
        })
        .collect()
}

/// The ProposalRef (RFC 9420 §5.2) of the AuthenticatedContent `content`,
/// with the hash a reference of `len` octets was made with.
pub fn proposal_ref(len: usize, content: &[u8]) -> Option<Vec<u8>> {
    let suite = match len {
        32 => 1,
        48 => 7,
        64 => 5,
        _ => return None,
    };
    ref_hash(suite, "MLS 1.0 Proposal Reference", content)
}

fn proposal(r: &mut Reader<'_>) -> Result<ProposalSummary, DecodeError> {
    let (_, bytes) = r.tls::<ProposalIn>()?;
    let code = u16::from_be_bytes([bytes[0], bytes[1]]);
    let rest = &bytes[2..];
    let identity = match code {
        // KeyPackage: version, cipher_suite, init_key, then the leaf.
        1 => {
            let mut r = Reader::new(rest.get(4..).unwrap_or_default(), "KeyPackage");
            r.opaque()
                .ok()
                .and_then(|_| leaf_node_identity(&mut r).ok().flatten())
        }
        2 => leaf_node_identity(&mut Reader::new(rest, "LeafNode"))
            .ok()
            .flatten(),
        _ => None,
    };
    Ok(ProposalSummary {
        proposal_type: Some(proposal_type_name(code)),
        reference: None,
        key_package_ref: (code == 1)
            .then(|| key_package_ref(rest).map(hex::encode))
            .flatten(),
        removed: (code == 3 && rest.len() == 4)
            .then(|| u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]])),
        identity,
        dictionary: dictionary_effect(code, rest),
    })
}

/// What proposal `code` with body `rest` (already checked by openmls) does
/// to the `app_data_dictionary`.
fn dictionary_effect(code: u16, rest: &[u8]) -> DictionaryEffect {
    match code {
        1..=4 | 6 | 0x000a => DictionaryEffect::Keeps,
        7 => {
            let mut r = Reader::new(rest, "GroupContextExtensions");
            let extensions = r.vector(|r| Ok((r.u16()?, r.opaque()?)));
            match extensions {
                Ok(list) => list
                    .into_iter()
                    .find(|(t, _)| *t == super::room::APP_DATA_DICTIONARY_EXTENSION)
                    .map_or(DictionaryEffect::Unknown, |(_, data)| {
                        DictionaryEffect::Replaces(data.as_slice().to_vec())
                    }),
                Err(_) => DictionaryEffect::Unknown,
            }
        }
        _ => DictionaryEffect::Unknown,
    }
}

/// Summarizes an encoded Welcome (the struct, not an MLSMessage).
pub fn summarize_welcome(bytes: &[u8]) -> Option<WelcomeSummary> {
    let w = Welcome::tls_deserialize_exact(bytes).ok()?;
    Some(WelcomeSummary {
        cipher_suite: u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]),
        secrets: w.secrets().len(),
        key_package_refs: w
            .secrets()
            .iter()
            .map(|s| hex::encode(s.new_member().as_slice()))
            .collect(),
    })
}

/// Summarizes an encoded GroupInfo (the struct, not an MLSMessage).
pub fn summarize_group_info(bytes: &[u8]) -> Option<GroupInfoSummary> {
    let gi = VerifiableGroupInfo::tls_deserialize_exact(bytes).ok()?;
    let ctx = gi.group_context();
    Some(GroupInfoSummary {
        group_id: hex::encode(gi.group_id().as_slice()),
        epoch: gi.epoch().as_u64(),
        cipher_suite: u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]),
        group_context_extensions: ctx
            .extensions()
            .iter()
            .map(|e| u16::from(e.extension_type()))
            .collect(),
        extensions: gi
            .extensions()
            .iter()
            .map(|e| u16::from(e.extension_type()))
            .collect(),
    })
}

/// Summarizes an encoded KeyPackage (the struct, not an MLSMessage).
pub fn summarize_key_package(bytes: &[u8]) -> Option<KeyPackageSummary> {
    let kp = KeyPackageIn::tls_deserialize_exact(bytes).ok()?;
    Some(KeyPackageSummary {
        cipher_suite: u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]),
        credential: summarize_credential_value(&kp.unverified_credential().credential),
        reference: key_package_ref(bytes).map(hex::encode),
    })
}

/// Summarizes an encoded Credential.
pub fn summarize_credential(bytes: &[u8]) -> Option<CredentialSummary> {
    Some(summarize_credential_value(
        &Credential::tls_deserialize_exact(bytes).ok()?,
    ))
}

fn summarize_credential_value(c: &Credential) -> CredentialSummary {
    CredentialSummary {
        credential_type: u16::from(c.credential_type()),
        identity: text_or_hex(c.serialized_content()),
    }
}
