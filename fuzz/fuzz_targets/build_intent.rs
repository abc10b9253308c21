//! The readable-JSON builder must never panic, and whatever it builds must
//! decode cleanly (no fatal error, deterministic CBOR).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_interop::content::{self, BuildContext};

fuzz_target!(|data: &[u8]| {
    let Ok(intent) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let ctx = BuildContext {
        sender_uri: "mimi://a.example/u/a".into(),
        room_uri: "mimi://a.example/r/r".into(),
        timestamp_ms: 1_700_000_000_000,
        salt: [7; 16],
    };
    if let Ok(bytes) = content::build(&intent, &ctx) {
        let d = content::decode(&bytes).expect("built content decodes");
        assert!(d.findings.iter().all(|f| !f.message.contains("deterministic")));
    }
});
