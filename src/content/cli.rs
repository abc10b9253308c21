//! `mimi-interop content …`: decode and encode MIMI content by hand, for
//! people debugging an implementation.

use crate::cli_input::{read_input, unhex};
use std::io::{Read, Write};

use clap::{Subcommand, ValueEnum};

use super::{
    BuildContext, Decoded, FindingKind, IdFormula, build, cbor, decode, decode_derived,
    decode_status, diag, message_id, status_to_readable, to_readable,
};
use crate::exit;

/// Content subcommands (wired as `mimi-interop content <cmd>`).
#[derive(Debug, Clone, Subcommand)]
pub enum ContentCommand {
    /// Decode CBOR (file or `-` for stdin): annotated view, message IDs under
    /// both formulas, every validation finding. Exit 1 when the content must
    /// be discarded or breaks a sender MUST (e.g. non-deterministic CBOR).
    Decode {
        /// Input path, or `-` for stdin.
        file: String,
        /// What the bytes are.
        #[arg(long, value_enum, default_value_t = Kind::Content)]
        kind: Kind,
        /// Input is hex text (whitespace ignored) instead of binary.
        #[arg(long)]
        hex: bool,
        /// Sender URI for the message ID (default: extension 1 senderUri).
        #[arg(long)]
        sender: Option<String>,
        /// Room URI for the message ID (default: extension 2 roomUri).
        #[arg(long)]
        room: Option<String>,
        /// Print only the readable JSON form.
        #[arg(long)]
        json: bool,
    },
    /// Build canonical CBOR from the readable JSON form (see docs/content.md).
    Encode {
        /// JSON intent path, or `-` for stdin.
        #[arg(default_value = "-")]
        file: String,
        /// Write here instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Sender URI (extension 1) unless the intent has `sender`.
        #[arg(long, default_value = "")]
        sender: String,
        /// Room URI (extension 2) unless the intent has `room`.
        #[arg(long, default_value = "")]
        room: String,
        /// Salt as 32 hex digits (default: random) unless the intent has `salt`.
        #[arg(long)]
        salt: Option<String>,
        /// "Now" in ms since the epoch for `expires: {in: ..}` (default: clock).
        #[arg(long)]
        timestamp: Option<u64>,
        /// Write hex text instead of binary.
        #[arg(long)]
        hex: bool,
    },
}

/// The CBOR document types `decode` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// application/mimi-content
    Content,
    /// application/mimi-message-status (MessageStatusReport)
    Status,
    /// MessageDerivedValues (implied.cddl)
    Derived,
}

/// Runs a content subcommand on the process's stdio; returns the exit code.
pub fn run(cmd: ContentCommand) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(
        cmd,
        &mut std::io::stdin(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    )
}

/// Like [`run`] with explicit streams (for tests).
pub fn run_with(
    cmd: ContentCommand,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    match cmd {
        ContentCommand::Decode {
            file,
            kind,
            hex,
            sender,
            room,
            json,
        } => {
            let bytes = match read_input(&file, stdin).and_then(|b| unhex(b, hex)) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            match kind {
                Kind::Content => decode_content(&bytes, sender, room, json, out, err),
                Kind::Status => decode_other(&bytes, true, out, err),
                Kind::Derived => decode_other(&bytes, false, out, err),
            }
        }
        ContentCommand::Encode {
            file,
            output,
            sender,
            room,
            salt,
            timestamp,
            hex,
        } => {
            let raw = match read_input(&file, stdin) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let intent: serde_json::Value = match serde_json::from_slice(&raw) {
                Ok(v) => v,
                Err(e) => {
                    let _ = writeln!(err, "error: input is not JSON: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let salt = match salt {
                Some(s) => match ::hex::decode(&s)
                    .ok()
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                {
                    Some(s) => s,
                    None => {
                        let _ = writeln!(err, "error: --salt must be 32 hex digits");
                        return exit::BAD_INPUT;
                    }
                },
                None => rand::random(),
            };
            let timestamp_ms = timestamp.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64)
            });
            let ctx = BuildContext {
                sender_uri: sender,
                room_uri: room,
                timestamp_ms,
                salt,
            };
            let bytes = match build(&intent, &ctx) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "invalid intent: {e}");
                    return exit::FAILED;
                }
            };
            let data = if hex {
                format!("{}\n", ::hex::encode(&bytes)).into_bytes()
            } else {
                bytes
            };
            let written = match output {
                Some(path) => std::fs::write(&path, &data).map_err(|e| format!("{path}: {e}")),
                None => out.write_all(&data).map_err(|e| e.to_string()),
            };
            match written {
                Ok(()) => 0,
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write output: {e}");
                    exit::BAD_INPUT
                }
            }
        }
    }
}

fn decode_content(
    bytes: &[u8],
    sender: Option<String>,
    room: Option<String>,
    json_only: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let result = decode(bytes);
    if json_only {
        return match result {
            Ok(d) => {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&to_readable(&d.content)).unwrap_or_default()
                );
                if d.is_clean() { 0 } else { exit::FAILED }
            }
            Err(e) => {
                let _ = writeln!(err, "invalid: {e} [{}]", e.rule().name());
                exit::FAILED
            }
        };
    }
    let _ = writeln!(out, "mimi-content: {} bytes", bytes.len());
    if let Ok((value, _)) = cbor::decode(bytes) {
        let _ = writeln!(out, "\n{}", diag::annotate(&value));
    }
    let (sender, room) = match &result {
        Ok(Decoded { content, .. }) => (
            sender.or_else(|| content.extensions.sender_uri().map(str::to_string)),
            room.or_else(|| content.extensions.room_uri().map(str::to_string)),
        ),
        Err(_) => (sender, room),
    };
    match (&sender, &room) {
        (Some(s), Some(r)) => {
            let _ = writeln!(out, "sender URI: {s}\nroom URI:   {r}");
            for f in IdFormula::ALL {
                match message_id(f, s, r, bytes) {
                    Ok(id) => {
                        let _ = writeln!(out, "message ID ({f}): {id}");
                    }
                    Err(e) => {
                        let _ = writeln!(out, "message ID ({f}): cannot compute: {e}");
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "message ID: needs sender and room URIs (extensions 1 and 2, or --sender/--room)"
            );
        }
    }
    match result {
        Ok(d) => {
            if d.findings.is_empty() {
                let _ = writeln!(out, "valid: deterministic CBOR, no findings");
            } else {
                let _ = writeln!(out, "findings:");
                for f in &d.findings {
                    let _ = writeln!(out, "  {f}");
                }
            }
            let _ = writeln!(
                out,
                "\nreadable:\n{}",
                serde_json::to_string_pretty(&to_readable(&d.content)).unwrap_or_default()
            );
            let violations = d
                .findings
                .iter()
                .filter(|f| f.kind == FindingKind::Violation)
                .count();
            if violations > 0 {
                let _ = writeln!(err, "{violations} violation(s) of sender rules");
                exit::FAILED
            } else {
                0
            }
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "INVALID (must be discarded): {e} [{}]",
                e.rule().name()
            );
            let _ = writeln!(err, "invalid: {e}");
            exit::FAILED
        }
    }
}

fn decode_other(bytes: &[u8], status: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if let Ok((value, _)) = cbor::decode(bytes) {
        let _ = writeln!(out, "{}", cbor::diag(&value));
    }
    let shown = if status {
        decode_status(bytes).map(|d| {
            for f in &d.findings {
                let _ = writeln!(out, "  {f}");
            }
            status_to_readable(&d.report)
        })
    } else {
        decode_derived(bytes).map(|d| {
            serde_json::json!({
                "message_id": d.message_id.to_hex(),
                "hub_accepted_timestamp": match &d.hub_accepted_timestamp {
                    super::Timestamp::Msecs(n) => serde_json::json!(n),
                    super::Timestamp::Extended(m) => super::readable::cbor_to_json(&cbor::Value::Map(m.clone())),
                },
                "mls_group_id": ::hex::encode(&d.mls_group_id),
                "sender_leaf_index": d.sender_leaf_index,
                "sender_client_url": d.sender_client_url,
                "sender_user_url": d.sender_user_url,
                "room_url": d.room_url,
            })
        })
    };
    match shown {
        Ok(j) => {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&j).unwrap_or_default()
            );
            0
        }
        Err(e) => {
            let _ = writeln!(err, "invalid: {e}");
            exit::FAILED
        }
    }
}
