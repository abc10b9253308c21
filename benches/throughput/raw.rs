//! Raw openmls: what encrypting and decrypting one application message costs
//! with no provider, HTTP or TLS around it. The ceiling for section 2.

use crate::stats::{rates, spread, us};
use anyhow::{Context, bail};
use openmls::prelude::{tls_codec::*, *};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use std::time::{Duration, Instant};

/// The ciphersuite the reference provider uses (MTI of RFC 9420).
const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

struct Member {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    cred: CredentialWithKey,
}

impl Member {
    fn new(name: &str) -> anyhow::Result<Self> {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CS.signature_algorithm())?;
        signer.store(provider.storage())?;
        let cred = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Ok(Self {
            provider,
            signer,
            cred,
        })
    }
}

/// Alice creates a group and adds Bob through serialized KeyPackage and
/// Welcome, as two devices would.
fn group() -> anyhow::Result<(Member, MlsGroup, Member, MlsGroup)> {
    let alice = Member::new("alice")?;
    let bob = Member::new("bob")?;
    let kpb = KeyPackage::builder().build(CS, &bob.provider, &bob.signer, bob.cred.clone())?;
    let kp_bytes = MlsMessageOut::from(kpb.key_package().clone()).tls_serialize_detached()?;
    let MlsMessageBodyIn::KeyPackage(kp_in) =
        MlsMessageIn::tls_deserialize_exact(&kp_bytes)?.extract()
    else {
        bail!("not a KeyPackage");
    };
    let kp = kp_in.validate(alice.provider.crypto(), ProtocolVersion::Mls10)?;
    let cfg = MlsGroupCreateConfig::builder()
        .ciphersuite(CS)
        .use_ratchet_tree_extension(true)
        .build();
    let mut ag = MlsGroup::new(&alice.provider, &alice.signer, &cfg, alice.cred.clone())?;
    let (_commit, welcome, _info) = ag.add_members(&alice.provider, &alice.signer, &[kp])?;
    ag.merge_pending_commit(&alice.provider)?;
    let MlsMessageBodyIn::Welcome(w) =
        MlsMessageIn::tls_deserialize_exact(&welcome.tls_serialize_detached()?)?.extract()
    else {
        bail!("not a Welcome");
    };
    let join = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .build();
    let bg = StagedWelcome::new_from_welcome(&bob.provider, &join, w, None)?
        .into_group(&bob.provider)?;
    Ok((alice, ag, bob, bg))
}

struct Run {
    encrypt: Vec<Duration>,
    decrypt: Vec<Duration>,
    total: Duration,
    wire_len: usize,
}

/// `n` messages Alice → Bob, each encrypted, serialized, parsed and
/// decrypted before the next; the plaintext is checked.
fn run_once(n: usize, content: &[u8]) -> anyhow::Result<Run> {
    let (alice, mut ag, bob, mut bg) = group().context("setting up the MLS group")?;
    let mut encrypt = Vec::with_capacity(n);
    let mut decrypt = Vec::with_capacity(n);
    let mut wire_len = 0;
    let start = Instant::now();
    for _ in 0..n {
        let t0 = Instant::now();
        let bytes = ag
            .create_message(&alice.provider, &alice.signer, content)?
            .to_bytes()?;
        let t1 = Instant::now();
        let pm = MlsMessageIn::tls_deserialize_exact(&bytes)?.try_into_protocol_message()?;
        let ProcessedMessageContent::ApplicationMessage(m) =
            bg.process_message(&bob.provider, pm)?.into_content()
        else {
            bail!("Bob did not get an application message");
        };
        if m.into_bytes() != content {
            bail!("Bob decrypted different bytes");
        }
        let t2 = Instant::now();
        encrypt.push(t1 - t0);
        decrypt.push(t2 - t1);
        wire_len = bytes.len();
    }
    Ok(Run {
        encrypt,
        decrypt,
        total: start.elapsed(),
        wire_len,
    })
}

pub fn bench(n: usize, repeats: usize, content: &[u8]) -> anyhow::Result<()> {
    let runs = (0..repeats)
        .map(|_| run_once(n, content))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let totals: Vec<Duration> = runs.iter().map(|r| r.total).collect();
    let (best, median) = rates(n, &totals);
    let mid = &runs[crate::stats::median_index(&totals)];
    let (e, d) = (spread(&mid.encrypt), spread(&mid.decrypt));
    println!("## 1. raw openmls (one process, no network)");
    println!(
        "{n} messages, {} content bytes -> {} bytes PrivateMessage on the wire",
        content.len(),
        mid.wire_len
    );
    println!("  encrypt+decrypt rate      best {best:>9.0} msg/s   median {median:>9.0} msg/s");
    println!(
        "  create_message            mean {:>12}  p50 {:>12}  p99 {:>12}",
        us(e.mean),
        us(e.p50),
        us(e.p99)
    );
    println!(
        "  process_message           mean {:>12}  p50 {:>12}  p99 {:>12}\n",
        us(d.mean),
        us(d.p50),
        us(d.p99)
    );
    Ok(())
}
