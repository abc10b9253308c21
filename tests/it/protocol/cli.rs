//! `mimi-interop protocol decode|encode`.

use super::{Structure, binary_fixtures, fixture, fixtures};
use mimi_interop::protocol::cli::{self, ProtocolCommand};

fn run_cli(cmd: ProtocolCommand, stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let (mut out, mut errs) = (Vec::new(), Vec::new());
    let code = cli::run_with(cmd, &mut &stdin[..], &mut out, &mut errs);
    (code, out, String::from_utf8(errs).unwrap())
}

fn decode_cmd(s: Structure, file: &str) -> ProtocolCommand {
    ProtocolCommand::Decode {
        file: file.into(),
        structure: s,
        hex: false,
        summary: false,
    }
}

fn encode_cmd(s: Structure) -> ProtocolCommand {
    ProtocolCommand::Encode {
        file: "-".into(),
        structure: s,
        output: None,
        hex: false,
    }
}

/// `protocol decode` then `protocol encode` gives every fixture back.
#[test]
fn cli_decode_then_encode_gives_the_bytes_back() {
    for (s, b) in binary_fixtures() {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(decode_cmd(s, path.to_str().unwrap()), &[]);
        assert_eq!(code, 0, "{}: {errs}", s.cli_name());
        let (code, bytes, errs) = run_cli(encode_cmd(s), &out);
        assert_eq!(code, 0, "{}: {errs}", s.cli_name());
        assert_eq!(bytes, b, "{}", s.cli_name());
    }
}

#[test]
fn cli_decode_errors_exit_1_with_the_path() {
    let sub = fixture("submit-message-request.bin");
    let (code, out, errs) = run_cli(decode_cmd(Structure::SubmitMessageRequest, "-"), &sub[..20]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        errs,
        "invalid: SubmitMessageRequest.appMessage: truncated at byte 20\n"
    );
    let (code, _, errs) = run_cli(
        ProtocolCommand::Decode {
            file: "-".into(),
            structure: Structure::SubmitMessageRequest,
            hex: true,
            summary: false,
        },
        b"zz",
    );
    assert_eq!(code, 2, "{errs}");
    // Encoding refuses a readable form whose MLS bytes are not the object.
    let (_, out, _) = run_cli(
        decode_cmd(
            Structure::SubmitMessageRequest,
            fixtures()
                .join("submit-message-request.bin")
                .to_str()
                .unwrap(),
        ),
        &[],
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["appMessage"]["bytes"] = "AAEC".into();
    let (code, _, errs) = run_cli(
        encode_cmd(Structure::SubmitMessageRequest),
        v.to_string().as_bytes(),
    );
    assert_eq!(code, 1);
    assert!(
        errs.contains("appMessage") || errs.contains("MlsMessageIn"),
        "{errs}"
    );
}

/// The readable form of a submitMessage request and of a key-material
/// response (a KeyPackage summarized), and every fixture's summary line.
#[test]
fn cli_readable_forms() {
    for s in [
        Structure::SubmitMessageRequest,
        Structure::KeyMaterialResponse,
        Structure::UpdateRequest,
    ] {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(decode_cmd(s, path.to_str().unwrap()), &[]);
        assert_eq!(code, 0, "{errs}");
        insta::assert_snapshot!(
            format!("readable_{}", s.cli_name()),
            String::from_utf8(out).unwrap()
        );
    }
    let mut lines = Vec::new();
    for (s, _) in binary_fixtures() {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(
            ProtocolCommand::Decode {
                file: path.to_str().unwrap().into(),
                structure: s,
                hex: false,
                summary: true,
            },
            &[],
        );
        assert_eq!(code, 0, "{errs}");
        lines.push(format!(
            "{}: {}",
            s.cli_name(),
            String::from_utf8(out).unwrap().trim_end()
        ));
    }
    insta::assert_snapshot!("summaries", lines.join("\n"));
}

/// Through the real binary: clap takes `--as` names, stdin works, a decode
/// error is exit 1 and an unknown `--as` name exit 2.
#[test]
fn the_binary_decodes_and_encodes() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_mimi-interop");
    let path = fixtures().join("notify.bin");
    let out = Command::new(bin)
        .args(["protocol", "decode", "--as", "notify", "--summary"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("notify: @"));
    let json = Command::new(bin)
        .args(["protocol", "decode", "--as", "notify"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0));
    let mut child = Command::new(bin)
        .args(["protocol", "encode", "--as", "notify", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&json.stdout).unwrap();
    let encoded = child.wait_with_output().unwrap();
    assert_eq!(encoded.status.code(), Some(0));
    assert_eq!(encoded.stdout, fixture("notify.bin"));
    let bad = Command::new(bin)
        .args(["protocol", "decode", "--as", "update-request"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .starts_with("invalid: HandshakeBundle.proposalOrCommit: ")
    );
    let unknown = Command::new(bin)
        .args(["protocol", "decode", "--as", "nonsense", "-"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}
