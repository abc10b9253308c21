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
        // What a receiver must accept (`wire::message_id`): sha-256 IDs only.
        if message_id.0[0] != 0x01 {
            return Err(err(
                at("id"),
                "a message ID starts with 01 (sha-256, the only hash algorithm known)",
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VECTOR: &[u8] = include_bytes!("../../fixtures/status/status.cbor");
    const ID: &str = "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4";

    #[test]
    fn the_draft_vector_round_trips_byte_exact() {
        let d = decode_status(VECTOR).unwrap();
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let codes: Vec<u8> = d.report.statuses.iter().map(|s| s.status.0).collect();
        assert_eq!(codes, [2, 2, 0, 3]);
        assert_eq!(d.report.statuses[0].message_id.to_hex(), ID);
        assert_eq!(encode_status(&d.report), VECTOR);
        let readable = status_to_readable(&d.report);
        assert_eq!(readable[0], json!({"id": ID, "status": "read"}));
        assert_eq!(readable[3]["status"], "expired");
        assert_eq!(build_status(&readable).unwrap(), VECTOR);
    }

    #[test]
    fn unknown_status_values_stay_numbers() {
        let bytes = build_status(&json!([{"id": ID, "status": 200}])).unwrap();
        let d = decode_status(&bytes).unwrap();
        assert_eq!(d.report.statuses[0].status, MessageStatus(200));
        assert_eq!(d.findings.len(), 1);
        assert_eq!(status_to_readable(&d.report)[0]["status"], json!(200));
        assert_eq!(encode_status(&d.report), bytes);
    }

    #[test]
    fn an_empty_report_is_valid() {
        assert_eq!(encode_status(&MessageStatusReport::default()), [0x80]);
        assert!(decode_status(&[0x80]).unwrap().report.statuses.is_empty());
    }

    fn fails(bytes: &[u8]) -> String {
        decode_status(bytes).unwrap_err().to_string()
    }

    #[test]
    fn malformed_reports_are_rejected_with_a_path() {
        let id = [0x58, 0x20].iter().chain(&[1u8; 32]).copied();
        let entry = |status: &[u8]| -> Vec<u8> {
            let mut v = vec![0x81, 0x82];
            v.extend(id.clone());
            v.extend(status);
            v
        };
        // Not an array.
        assert!(fails(&[0xa0]).contains("expected an array"));
        // An entry that is not a pair.
        assert!(fails(&[0x81, 0x81, 0x00]).contains("[0]"));
        // A message ID of 31 octets.
        let mut short = vec![0x81, 0x82, 0x58, 0x1f];
        short.extend([1u8; 31]);
        short.push(0x02);
        assert!(fails(&short).contains("[0].messageId"));
        // A status past 255, and a negative one.
        assert!(fails(&entry(&[0x19, 0x01, 0x00])).contains("[0].status"));
        assert!(fails(&entry(&[0x20])).contains("[0].status"));
        // Truncated input and trailing bytes.
        assert!(decode_status(&entry(&[])).is_err());
        let mut trailing = entry(&[0x02]);
        trailing.push(0x00);
        assert!(decode_status(&trailing).is_err());
        assert!(decode_status(&[]).is_err());
    }

    #[test]
    fn non_deterministic_encoding_is_a_finding() {
        // The status 2 written in two octets (0x18 0x02).
        let mut v = vec![0x81, 0x82, 0x58, 0x20];
        v.extend([1u8; 32]);
        v.extend([0x18, 0x02]);
        let d = decode_status(&v).unwrap();
        assert_eq!(d.report.statuses[0].status, MessageStatus::READ);
        assert_eq!(d.findings[0].kind, FindingKind::Violation);
    }

    #[test]
    fn bad_readable_forms_name_the_field() {
        let e = build_status(&json!([{"id": "00", "status": "read"}])).unwrap_err();
        assert_eq!(e.path, "$[0].id");
        let e = build_status(&json!([{"id": "cd".repeat(32), "status": "read"}])).unwrap_err();
        assert_eq!(e.path, "$[0].id");
        let e = build_status(&json!([{"id": ID, "status": 256}])).unwrap_err();
        assert_eq!(e.path, "$[0].status");
        let e = build_status(&json!({"id": ID})).unwrap_err();
        assert_eq!(e.path, "$");
    }

    #[test]
    fn a_report_travels_as_content_and_reads_back_decoded() {
        let ctx = crate::content::BuildContext {
            sender_uri: "mimi://b.example/u/bob".into(),
            room_uri: "mimi://a.example/r/r".into(),
            timestamp_ms: 0,
            salt: [7; 16],
        };
        let intent =
            json!({"status_report": [{"id": ID, "status": "read"}, {"id": ID, "status": 9}]});
        let bytes = crate::content::build(&intent, &ctx).unwrap();
        let c = crate::content::decode(&bytes).unwrap().content;
        let r = crate::content::to_readable(&c);
        assert_eq!(r["content_type"], "application/mimi-message-status");
        assert_eq!(
            r["status_report"],
            json!([{"id": ID, "status": "read"}, {"id": ID, "status": 9}])
        );
        // The readable form builds the same bytes again.
        assert_eq!(crate::content::build(&r, &ctx).unwrap(), bytes);
        let e = crate::content::build(&json!({"status_report": [{"id": ID}]}), &ctx).unwrap_err();
        assert_eq!(e.path, "$.status_report[0].status");
        let e =
            crate::content::build(&json!({"status_report": [], "text": "x"}), &ctx).unwrap_err();
        assert!(e.message.contains("both give the body"), "{e}");
    }
}
