//! `application/mimi-message-status` (draft-mahy-mimi-message-status-01):
//! `MessageStatusReport = [* [messageId, status]]`.

use serde_json::{Value as Json, json};

use super::BuildError;
use super::cbor::{self, Value};
use super::model::{MessageId, MessageStatus, MessageStatusReport, PerMessageStatus};
use super::wire::{message_id, uint_sized};
use super::{DecodeError, Finding, FindingKind, Rule};

/// A decoded status report plus non-fatal findings (non-deterministic
/// encoding, unknown status codes).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedStatus {
    pub report: MessageStatusReport,
    pub findings: Vec<Finding>,
}

/// Strictly decodes a status report.
pub fn decode_status(b: &[u8]) -> Result<DecodedStatus, DecodeError> {
    let (v, notes) = cbor::decode(b)?;
    let mut findings: Vec<Finding> = notes
        .iter()
        .map(|n| Finding {
            path: cbor::path_string(&n.path),
            kind: FindingKind::Violation,
            message: format!("not deterministic CBOR at byte {}: {}", n.offset, n.reason),
        })
        .collect();
    let list = match &v {
        Value::Array(l) => l,
        other => {
            return Err(DecodeError::Invalid {
                path: "$".into(),
                rule: Rule::Shape,
                message: format!(
                    "expected an array (MessageStatusReport), got {}",
                    other.type_name()
                ),
            });
        }
    };
    let mut statuses = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let path = format!("[{i}]");
        let pair = match entry {
            Value::Array(p) if p.len() == 2 => p,
            _ => {
                return Err(DecodeError::Invalid {
                    path,
                    rule: Rule::Shape,
                    message: "expected [messageId, status]".into(),
                });
            }
        };
        let message_id = message_id(&format!("{path}.messageId"), &pair[0])?;
        let spath = format!("{path}.status");
        let status = MessageStatus(uint_sized(&spath, &pair[1], 255, 1)? as u8);
        if status.name().is_none() {
            findings.push(Finding {
                path: spath,
                kind: FindingKind::Info,
                message: format!("unknown status {}", status.0),
            });
        }
        statuses.push(PerMessageStatus { message_id, status });
    }
    Ok(DecodedStatus {
        report: MessageStatusReport { statuses },
        findings,
    })
}

/// Deterministic CBOR of a status report.
pub fn encode_status(r: &MessageStatusReport) -> Vec<u8> {
    cbor::encode(&Value::Array(
        r.statuses
            .iter()
            .map(|s| {
                Value::Array(vec![
                    Value::Bytes(s.message_id.0.to_vec()),
                    Value::Uint(u64::from(s.status.0)),
                ])
            })
            .collect(),
    ))
}

/// Readable form: `[{"id": "<hex>", "status": "read"}, ...]` (unknown
/// codes as numbers).
pub fn status_to_readable(r: &MessageStatusReport) -> Json {
    Json::Array(
        r.statuses
            .iter()
            .map(|s| {
                json!({
                    "id": s.message_id.to_hex(),
                    "status": s.status.name().map_or(json!(s.status.0), |n| json!(n)),
                })
            })
            .collect(),
    )
}

/// Builds a report from its readable form (the inverse of
/// [`status_to_readable`]): `[{"id": "<64 hex>", "status": "read" | 0..255}]`.
pub fn build_status(readable: &Json) -> Result<Vec<u8>, BuildError> {
    let err = |path: String, message: &str| BuildError {
        path,
        message: message.to_string(),
    };
    let list = readable
        .as_array()
        .ok_or_else(|| err("$".into(), "expected an array of {id, status}"))?;
    let mut statuses = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let at = |k: &str| format!("$[{i}].{k}");
        let o = e
            .as_object()
            .ok_or_else(|| err(format!("$[{i}]"), "expected an object {id, status}"))?;
        if let Some(k) = o.keys().find(|k| *k != "id" && *k != "status") {
            return Err(err(at(k), "unknown key"));
        }
        let message_id = o
            .get("id")
            .and_then(Json::as_str)
            .and_then(MessageId::from_hex)
            .ok_or_else(|| err(at("id"), "expected a message ID as 64 hex digits"))?;
        let status = match o.get("status") {
            Some(Json::String(s)) => MessageStatus::from_name(s)
                .ok_or_else(|| err(at("status"), "unknown status name"))?,
            Some(v) => v
                .as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .map(MessageStatus)
                .ok_or_else(|| err(at("status"), "expected a status name or 0..255"))?,
            None => return Err(err(at("status"), "missing")),
        };
        statuses.push(PerMessageStatus { message_id, status });
    }
    Ok(encode_status(&MessageStatusReport { statuses }))
}
