//! Every decoder must return (never panic, never over-allocate) on any
//! input, and canonical re-encoding of accepted content must be stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_interop::content::{self, IdFormula};

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = content::decode(data) {
        let again = content::encode(&d.content);
        let d2 = content::decode(&again).expect("canonical re-encoding decodes");
        assert_eq!(content::encode(&d2.content), again);
        assert!(d2.findings.iter().all(|f| !f.message.contains("deterministic")));
        let _ = content::to_readable(&d.content);
    }
    if let Ok((v, _)) = content::cbor::decode(data) {
        let _ = content::diag::annotate(&v);
    }
    let _ = content::decode_status(data);
    let _ = content::decode_derived(data);
    let _ = content::message_id(IdFormula::Draft08, "s", "r", data);
});
