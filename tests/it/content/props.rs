//! Property tests (proptest) and the stable-Rust stand-in for fuzzing:
//! random and mutated inputs never panic the decoders.

use mimi_interop::content::cbor::{self, Value};
use mimi_interop::content::{
    self, BuildContext, Disposition, Expiration, Extensions, ExternalPart, FindingKind, IdFormula,
    MessageId, MimiContent, NestedPart, PartBody, PartSemantics, decode, encode,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn id() -> impl Strategy<Value = MessageId> {
    any::<[u8; 31]>().prop_map(|t| {
        let mut a = [1u8; 32];
        a[1..].copy_from_slice(&t);
        MessageId(a)
    })
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("text/plain;charset=utf-8".to_string()),
        Just("text/markdown;variant=GFM-MIMI".to_string()),
        Just("text/html;charset=utf-8".to_string()),
        Just("image/png".to_string()),
        "[a-z]{1,8}/[a-z0-9.+-]{1,12}",
    ]
}

fn single() -> impl Strategy<Value = PartBody> {
    (
        content_type(),
        any::<bool>(),
        ".{0,20}",
        prop::collection::vec(any::<u8>(), 0..24),
    )
        .prop_map(|(ct, text, s, raw)| {
            let declares_utf8 = ct.contains("utf-8") || ct.starts_with("text/markdown");
            let content = if text || declares_utf8 {
                s.into_bytes()
            } else {
                raw
            };
            PartBody::Single {
                content_type: ct,
                content,
            }
        })
}

fn external() -> impl Strategy<Value = PartBody> {
    (
        "[a-z/]{0,10}",
        "https://[a-z]{1,8}\\.example/[a-z0-9]{0,8}",
        any::<u32>(),
        any::<u64>(),
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 12]>(),
        any::<Option<[u8; 32]>>(),
        ".{0,12}",
        "[a-z.]{0,12}",
    )
        .prop_map(
            |(ct, url, expires, size, enc, key, nonce, hash, description, filename)| {
                PartBody::External(ExternalPart {
                    content_type: ct,
                    url,
                    expires,
                    size,
                    enc_alg: u16::from(enc),
                    key: if enc { key.to_vec() } else { vec![] },
                    nonce: if enc { nonce.to_vec() } else { vec![] },
                    aad: vec![],
                    hash_alg: u8::from(hash.is_some()),
                    content_hash: hash.map(|h| h.to_vec()).unwrap_or_default(),
                    description,
                    filename,
                })
            },
        )
}

fn leaf() -> impl Strategy<Value = NestedPart> {
    (
        any::<u8>(),
        prop_oneof![
            Just(String::new()),
            Just("en".to_string()),
            Just("en,fr-CA".to_string())
        ],
        prop_oneof![Just(PartBody::Null), single(), external()],
    )
        .prop_map(|(d, language, body)| NestedPart {
            disposition: Disposition(d % 12),
            language,
            body,
        })
}

/// NestedParts at most 4 levels deep (the root is level 1).
fn part() -> impl Strategy<Value = NestedPart> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        (any::<u8>(), prop::collection::vec(inner, 2..4), 0u64..3).prop_map(|(d, parts, s)| {
            NestedPart {
                disposition: Disposition(d % 9),
                language: String::new(),
                body: PartBody::Multi {
                    semantics: PartSemantics::from_u64(s).unwrap_or(PartSemantics::ChooseOne),
                    parts,
                },
            }
        })
    })
}

/// Extension values up to 3 levels below the map (limit is 4).
fn ext_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(Value::Uint),
        any::<u64>().prop_map(Value::Nint),
        ".{0,8}".prop_map(Value::Text),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        any::<f64>()
            .prop_filter("no NaN", |f| !f.is_nan())
            .prop_map(Value::Float),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            // Tags 2 and 3 (bignums) are excluded: small ones are not canonical.
            (4u64..100, inner.clone()).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
            prop::collection::vec((any::<i32>(), inner), 0..3).prop_map(|e| {
                Value::Map(canonical(
                    e.into_iter()
                        .map(|(k, v)| (int_value(i64::from(k)), v))
                        .collect(),
                ))
            }),
        ]
    })
}

fn int_value(k: i64) -> Value {
    if k >= 0 {
        Value::Uint(k as u64)
    } else {
        Value::Nint((-1 - k) as u64)
    }
}

/// Sorted by encoded key, duplicates dropped: the order decode returns.
fn canonical(mut e: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    e.sort_by_key(|(k, _)| cbor::encode(k));
    e.dedup_by_key(|(k, _)| cbor::encode(k));
    e
}

fn extensions() -> impl Strategy<Value = Extensions> {
    (
        prop::option::of("mimi://[a-z]{1,8}\\.example/u/[a-z]{1,8}"),
        prop::option::of("mimi://[a-z]{1,8}\\.example/r/[a-z]{1,8}"),
        prop::collection::vec(
            (
                prop_oneof![
                    (3i64..100_000).prop_map(int_value),
                    (-100_000i64..0).prop_map(int_value),
                    "[a-z-]{1,20}".prop_map(Value::Text),
                ],
                ext_value(),
            ),
            0..3,
        ),
    )
        .prop_map(|(s, r, others)| {
            let mut e = Vec::new();
            if let Some(s) = s {
                e.push((Value::Uint(1), Value::Text(s)));
            }
            if let Some(r) = r {
                e.push((Value::Uint(2), Value::Text(r)));
            }
            e.extend(others);
            Extensions {
                entries: canonical(e),
            }
        })
}

fn mimi_content() -> impl Strategy<Value = MimiContent> {
    (
        any::<[u8; 16]>(),
        prop::option::of(id()),
        prop::collection::vec(any::<u8>(), 0..12),
        prop::option::of((any::<bool>(), any::<u32>())),
        prop::option::of(id()),
        extensions(),
        part(),
    )
        .prop_map(
            |(salt, replaces, topic_id, expires, in_reply_to, extensions, nested_part)| {
                MimiContent {
                    salt,
                    replaces,
                    topic_id,
                    expires: expires.map(|(relative, time)| Expiration { relative, time }),
                    in_reply_to,
                    extensions,
                    nested_part,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// encode → decode is the identity on values, with no violation.
    #[test]
    fn encode_then_decode_is_identity(c in mimi_content()) {
        let bytes = encode(&c);
        let d = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&d.content, &c);
        prop_assert!(d.findings.iter().all(|f| f.kind != FindingKind::Violation), "{:?}", d.findings);
        // decode → encode is the identity on canonical bytes.
        prop_assert_eq!(encode(&d.content), bytes);
    }

    /// The readable form builds back to the same bytes.
    #[test]
    fn readable_then_build_is_identity(c in mimi_content()) {
        let ctx = BuildContext { sender_uri: String::new(), room_uri: String::new(), timestamp_ms: 0, salt: [0; 16] };
        let readable = content::to_readable(&c);
        let built = content::build(&readable, &ctx).map_err(|e| TestCaseError::fail(format!("{e}\n{readable:#}")))?;
        prop_assert_eq!(built, encode(&c));
    }

    /// Generic CBOR: the deterministic writer's output reads back equal and
    /// with no non-canonical note.
    #[test]
    fn cbor_values_round_trip(v in ext_value()) {
        let bytes = cbor::encode(&v);
        let (back, notes) = cbor::decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(notes.is_empty(), "{:?}", notes);
        prop_assert_eq!(cbor::encode(&back), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..300)) {
        exercise(&b);
    }
}

/// Runs every decoder on `b`; when content decodes, re-encoding it must
/// decode to the same content (idempotent canonicalisation).
fn exercise(b: &[u8]) {
    if let Ok(d) = decode(b) {
        let again = encode(&d.content);
        let d2 = decode(&again).expect("canonical re-encoding decodes");
        // Same content up to extension order (decode keeps the wire order).
        assert_eq!(encode(&d2.content), again);
        assert_eq!(d2.content.nested_part, d.content.nested_part);
        assert!(
            d2.findings
                .iter()
                .all(|f| !f.message.contains("deterministic")),
            "{:?}",
            d2.findings
        );
        let _ = content::to_readable(&d.content);
        let _ = content::diag::annotate(&cbor::decode(b).expect("decoded once").0);
    }
    let _ = content::decode_status(b);
    let _ = content::decode_derived(b);
    let _ = content::message_id(IdFormula::Draft08, "s", "r", b);
}

/// Stable-Rust fuzzing stand-in: 20 000 random and mutated inputs (seeded,
/// so failures reproduce) through every decoder. `MIMI_FUZZ_ITERATIONS` and
/// `MIMI_FUZZ_SEED` run longer or different campaigns.
#[test]
fn random_and_mutated_inputs_never_panic() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let iterations = env("MIMI_FUZZ_ITERATIONS", 20_000);
    let seeds: Vec<Vec<u8>> = super::VECTORS.iter().map(|n| super::vector(n)).collect();
    let mut rng = StdRng::seed_from_u64(env("MIMI_FUZZ_SEED", 0x4d49_4d49));
    for i in 0..iterations {
        let input = if i % 5 == 0 {
            let len = rng.random_range(0..64);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let mut v = seeds[rng.random_range(0..seeds.len())].clone();
            for _ in 0..rng.random_range(1..4) {
                mutate(&mut v, &mut rng);
            }
            v
        };
        exercise(&input);
    }
}

fn mutate(v: &mut Vec<u8>, rng: &mut StdRng) {
    if v.is_empty() {
        v.push(rng.random());
        return;
    }
    let at = rng.random_range(0..v.len());
    match rng.random_range(0..6) {
        0 => v[at] ^= 1 << rng.random_range(0..8),
        1 => v[at] = rng.random(),
        2 => v.truncate(at),
        3 => v.insert(at, rng.random()),
        4 => {
            v.remove(at);
        }
        _ => {
            // Interesting heads: long lengths, indefinite, break, tags.
            let heads = [0x1b, 0x5b, 0x7f, 0x9f, 0xbf, 0xff, 0xd8, 0xf9, 0xfb, 0x18];
            v[at] = heads[rng.random_range(0..heads.len())];
        }
    }
}

/// Inputs saved from fuzzing runs (`fixtures/content/regressions`), kept as
/// seeds that must stay fast. `deep-map-keys.cbor` (maps as map keys, 36
/// deep) was libFuzzer's last input when a run hit its RSS limit; alone it
/// decodes in microseconds, the growth was the ASan allocator's.
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = super::fixtures().join("content/regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let started = std::time::Instant::now();
        exercise(&std::fs::read(&path).unwrap());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{} took {:?}",
            path.display(),
            started.elapsed()
        );
    }
}
