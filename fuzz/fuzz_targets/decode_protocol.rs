//! Every MIMI protocol decoder must return (never panic, never over-allocate)
//! on any input; what decodes must re-encode to the same bytes and survive
//! its readable form. The first byte picks an endpoint path for
//! `decode_exchange`, the rest is both bodies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_interop::protocol::{self, HttpExchange, Structure};

const PATHS: [(&str, &str); 8] = [
    ("POST", "/v1/keyMaterial/b.example/u/bob"),
    ("POST", "/v1/update/a.example/r/club"),
    ("POST", "/v1/submit/a.example/r/club"),
    ("POST", "/v1/notify/a.example/r/club"),
    ("POST", "/v1/groupInfo/a.example/r/club"),
    ("POST", "/v1/identifierQuery/b.example"),
    ("POST", "/v1/reportAbuse/a.example/r/club"),
    ("GET", "/.well-known/mimi-protocol-directory"),
];

fuzz_target!(|data: &[u8]| {
    for s in Structure::ALL {
        if let Ok(body) = s.decode(data) {
            let _ = body.summary();
            if s != Structure::Directory {
                assert_eq!(body.encode().expect("a decoded body encodes"), data);
            }
            let again = s
                .from_readable(body.readable())
                .expect("a readable form reads back");
            assert_eq!(again, body);
        }
    }
    if let Some((&pick, rest)) = data.split_first() {
        let (method, path) = PATHS[pick as usize % PATHS.len()];
        let d = protocol::decode_exchange(&HttpExchange {
            method,
            path,
            request: rest,
            status: 200,
            response: rest,
        });
        let _ = d.readable();
    }
    let _ = protocol::route("POST", &String::from_utf8_lossy(data));
});
