//! One-line summaries of decoded bodies, for wire transcripts and the CLI.

use super::mls::{MessageSummary, ProposalSummary, SenderSummary};
use super::readable::{group_info_status, query_code, search_type, user_status};
use super::structure::{Body, message_summary};
use super::*;
use openmls::prelude::tls_codec::VLBytes;

fn text(b: &VLBytes) -> String {
    String::from_utf8_lossy(b.as_slice()).into_owned()
}

fn code(name: Option<&'static str>, v: u8) -> String {
    name.map_or_else(|| v.to_string(), str::to_owned)
}

fn proposal(p: &ProposalSummary) -> String {
    match (&p.proposal_type, &p.reference) {
        (_, Some(r)) => format!("ref {}", short(r)),
        (Some(t), None) => match (&p.key_package_ref, p.removed) {
            (Some(kp), _) => format!("{t} {}", short(kp)),
            (None, Some(leaf)) => format!("{t} leaf {leaf}"),
            (None, None) => t.clone(),
        },
        (None, None) => "?".into(),
    }
}

fn short(hex: &str) -> &str {
    hex.get(..8).unwrap_or(hex)
}

fn sender(s: &SenderSummary) -> String {
    match s {
        SenderSummary::Member { leaf_index } => format!("member {leaf_index}"),
        SenderSummary::External { sender_index } => format!("external sender {sender_index}"),
        SenderSummary::NewMemberProposal => "a new member (proposal)".into(),
        SenderSummary::NewMemberCommit => "a new member (external commit)".into(),
    }
}

/// What an MLSMessage is, in a few words.
pub fn describe_message(m: &MlsMessage) -> String {
    match message_summary(m) {
        Some(MessageSummary::PublicMessage(p)) => {
            let list: Vec<String> = p.proposals.iter().map(proposal).collect();
            let mut s = format!(
                "{} epoch {} by {}",
                p.content_type,
                p.epoch,
                sender(&p.sender)
            );
            if !list.is_empty() {
                s.push_str(&format!(" [{}]", list.join(", ")));
            }
            s
        }
        Some(MessageSummary::PrivateMessage(p)) => format!(
            "PrivateMessage {} epoch {} (aad {} bytes)",
            p.content_type, p.epoch, p.aad_len
        ),
        Some(MessageSummary::Welcome(w)) => format!("Welcome for {} KeyPackage(s)", w.secrets),
        Some(MessageSummary::GroupInfo(g)) => format!("GroupInfo epoch {}", g.epoch),
        Some(MessageSummary::KeyPackage(k)) => format!("KeyPackage of {}", k.credential.identity),
        Some(MessageSummary::Other { code }) => format!("MLSMessage wire format {code}"),
        None => "MLSMessage (not summarized)".into(),
    }
}

fn fanout(m: &FanoutMessage) -> String {
    let tail = match &m.tail {
        FanoutTail::Application { frank: Some(_) } => ", franked",
        _ => "",
    };
    format!("@{} {}{tail}", m.timestamp, describe_message(&m.message))
}

/// One line saying what the body is.
pub fn of(body: &Body) -> String {
    match body {
        Body::Directory(d) => format!("directory: keyMaterial at {}", d.key_material),
        Body::KeyMaterialRequest(r) => format!(
            "keyMaterial request: {} asks for {} (room {}), suites {:?}",
            text(&r.tbs.requesting_user),
            text(&r.tbs.target_user),
            text(&r.tbs.room_id),
            r.tbs.acceptable_ciphersuites
        ),
        Body::KeyMaterialResponse(r) => {
            let kps = r
                .clients
                .iter()
                .filter(|c| matches!(c.body, ClientKeyMaterialBody::Success(_)))
                .count();
            format!(
                "keyMaterial response: {} for {}, {} client(s), {kps} KeyPackage(s)",
                code(user_status::name(r.user_status), r.user_status),
                text(&r.user_uri),
                r.clients.len()
            )
        }
        Body::UpdateRequest(b) => match b {
            HandshakeBundle::Commit {
                commit, welcome, ..
            } => format!(
                "update: {}{}",
                describe_message(commit),
                if welcome.is_some() { " + Welcome" } else { "" }
            ),
            HandshakeBundle::Proposal {
                proposal,
                more_proposals,
            } => format!(
                "update: {} + {} more proposal(s)",
                describe_message(proposal),
                more_proposals.len()
            ),
        },
        Body::UpdateRoomResponse(r) => {
            let outcome = match &r.outcome {
                UpdateOutcome::Success { accepted_timestamp } => {
                    format!("success at {accepted_timestamp}")
                }
                UpdateOutcome::WrongEpoch { current_epoch } => {
                    format!("wrongEpoch (hub at {current_epoch})")
                }
                UpdateOutcome::NotAllowed => "notAllowed".into(),
                UpdateOutcome::InvalidProposal { invalid_proposals } => {
                    format!("invalidProposal ({})", invalid_proposals.len())
                }
            };
            format!("update response: {outcome}")
        }
        Body::SubmitMessageRequest(r) => format!(
            "submitMessage from {}: {}",
            text(&r.sending_uri),
            describe_message(&r.app_message)
        ),
        Body::SubmitMessageResponse(r) => match r {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } => format!(
                "submitMessage response: accepted at {accepted_timestamp}{}",
                if frank.is_some() { ", franked" } else { "" }
            ),
            SubmitMessageResponse::NotAllowed => "submitMessage response: notAllowed".into(),
            SubmitMessageResponse::EpochTooOld { current_epoch } => {
                format!("submitMessage response: epochTooOld (hub at {current_epoch})")
            }
        },
        Body::Notify(ms) => format!(
            "notify: {}",
            ms.iter().map(fanout).collect::<Vec<_>>().join("; ")
        ),
        Body::FanoutMessage(m) => format!("FanoutMessage {}", fanout(m)),
        Body::GroupInfoRequest(r) => format!(
            "groupInfo request: suite {}, joining code of {} bytes",
            r.tbs.cipher_suite,
            r.tbs.joining_code.as_slice().len()
        ),
        Body::GroupInfoResponse(r) => match r {
            GroupInfoResponse::Success { tbs, .. } => {
                format!("groupInfo response: success for {}", text(&tbs.room_id))
            }
            GroupInfoResponse::Failure { room_id, status } => format!(
                "groupInfo response: {} for {}",
                code(group_info_status::name(*status), *status),
                text(room_id)
            ),
        },
        Body::GroupInfoRatchetTreeTbe(t) => format!(
            "GroupInfoRatchetTreeTBE: {} pending proposal(s)",
            t.pending_proposals.len()
        ),
        Body::IdentifierRequest(r) => format!(
            "identifierQuery: {}",
            r.query_elements
                .iter()
                .map(|q| format!(
                    "{}={}",
                    code(search_type::name(q.search_type), q.search_type),
                    text(&q.search_value)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Body::IdentifierResponse(r) => format!(
            "identifierQuery response: {}, {} URI(s), {} profile(s)",
            code(query_code::name(r.response_code), r.response_code),
            r.uri.len(),
            r.found_profiles.len()
        ),
        Body::ConsentEntry(e) => format!(
            "consent {}: {} → {}{}",
            match e.operation {
                ConsentOperation::Cancel => "cancel",
                ConsentOperation::Request => "request",
                ConsentOperation::Grant => "grant",
                ConsentOperation::Revoke => "revoke",
            },
            text(&e.requester_uri),
            text(&e.target_uri),
            e.room_id
                .as_ref()
                .map(|r| format!(" (room {})", text(r)))
                .unwrap_or_default()
        ),
        Body::AbuseReport(r) => format!(
            "reportAbuse by {} about {}: {} message(s)",
            text(&r.reporting_user),
            text(&r.alleged_abuser_uri),
            r.messages.len()
        ),
        Body::MlsMessage(m) => describe_message(m),
        Body::KeyPackage(k) => match mls::summarize_key_package(k.bytes()) {
            Some(s) => format!("KeyPackage of {}", s.credential.identity),
            None => "KeyPackage".into(),
        },
        Body::Welcome(w) => match mls::summarize_welcome(w.bytes()) {
            Some(s) => format!("Welcome for {} KeyPackage(s)", s.secrets),
            None => "Welcome".into(),
        },
        Body::GroupInfo(g) => match mls::summarize_group_info(g.bytes()) {
            Some(s) => format!("GroupInfo epoch {}", s.epoch),
            None => "GroupInfo".into(),
        },
    }
}
