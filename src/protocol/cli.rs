//! `mimi-interop protocol …`: decode a captured MIMI body to its readable
//! form, or build one from it, for people debugging an implementation.
//! (The only part of `protocol` that touches files and streams.)

use super::Structure;
use crate::cli_input::{read_input, unhex};
use crate::exit;
use clap::Subcommand;
use clap::builder::PossibleValue;
use std::io::{Read, Write};

/// Protocol subcommands (wired as `mimi-interop protocol <cmd>`).
#[derive(Debug, Clone, Subcommand)]
pub enum ProtocolCommand {
    /// Decode a body (file or `-` for stdin) and print its readable JSON
    /// form, MLS framing summarized. Exit 1 on a decode error, printing
    /// where it is (e.g. `SubmitMessageRequest.appMessage: truncated at byte 37`).
    Decode {
        /// Input path, or `-` for stdin.
        file: String,
        /// What the bytes are (see docs/protocol.md).
        #[arg(long = "as", value_name = "STRUCTURE")]
        structure: Structure,
        /// Input is hex text (whitespace ignored) instead of binary.
        #[arg(long)]
        hex: bool,
        /// Print only the one-line summary.
        #[arg(long)]
        summary: bool,
    },
    /// Build a body from its readable JSON form (as `decode` prints it; MLS
    /// objects are taken from their `bytes`, summaries are ignored).
    Encode {
        /// JSON path, or `-` for stdin.
        #[arg(default_value = "-")]
        file: String,
        /// What to build (see docs/protocol.md).
        #[arg(long = "as", value_name = "STRUCTURE")]
        structure: Structure,
        /// Write here instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Write hex text instead of binary.
        #[arg(long)]
        hex: bool,
    },
}

impl clap::ValueEnum for Structure {
    fn value_variants<'a>() -> &'a [Self] {
        &Structure::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.cli_name()).help(self.name()))
    }
}

/// Runs a protocol subcommand on the process's stdio; returns the exit code.
pub fn run(cmd: ProtocolCommand) -> i32 {
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
    cmd: ProtocolCommand,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    match cmd {
        ProtocolCommand::Decode {
            file,
            structure,
            hex,
            summary,
        } => {
            let bytes = match read_input(&file, stdin).and_then(|b| unhex(b, hex)) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            match structure.decode(&bytes) {
                Ok(body) => {
                    if summary {
                        let _ = writeln!(out, "{}", body.summary());
                    } else {
                        let _ = writeln!(
                            out,
                            "{}",
                            serde_json::to_string_pretty(&body.readable()).unwrap_or_default()
                        );
                    }
                    for f in body.findings() {
                        let _ = writeln!(err, "finding [{}] {}: {}", f.code, f.section, f.message);
                    }
                    exit::CONFORMANT
                }
                Err(e) => {
                    let _ = writeln!(err, "invalid: {e}");
                    exit::FAILED
                }
            }
        }
        ProtocolCommand::Encode {
            file,
            structure,
            output,
            hex,
        } => {
            let raw = match read_input(&file, stdin) {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let value: serde_json::Value = match serde_json::from_slice(&raw) {
                Ok(v) => v,
                Err(e) => {
                    let _ = writeln!(err, "error: input is not JSON: {e}");
                    return exit::BAD_INPUT;
                }
            };
            let bytes = match structure
                .from_readable(value)
                .and_then(|body| body.encode())
            {
                Ok(b) => b,
                Err(e) => {
                    let _ = writeln!(err, "invalid: {e}");
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
                Ok(()) => exit::CONFORMANT,
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write output: {e}");
                    exit::BAD_INPUT
                }
            }
        }
    }
}
