//! A small throughput benchmark: application messages per second end to end
//! between two reference providers (control API → MLS → mTLS → hub → notify →
//! follower → MLS → events), against raw openmls encrypt + decrypt in one
//! process. Run it with `cargo run --release --example reference_bench`.

use super::client::{capabilities, join_config};
use super::server::CIPHERSUITE;
use super::{Launcher, RunningProvider};
use crate::control::ControlClient;
use crate::control::api::*;
use base64::Engine as _;
use openmls::prelude::{
    BasicCredential, CredentialWithKey, KeyPackage, MlsGroup, MlsMessageBodyIn, MlsMessageIn,
    OpenMlsProvider, PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent, StagedWelcome,
    tls_codec::{Deserialize as _, Serialize as _},
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use std::time::{Duration, Instant};

/// What one benchmark run measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub messages: usize,
    pub end_to_end: Duration,
    pub raw_openmls: Duration,
}

impl BenchReport {
    pub fn end_to_end_per_second(&self) -> f64 {
        self.messages as f64 / self.end_to_end.as_secs_f64()
    }
    pub fn raw_per_second(&self) -> f64 {
        self.messages as f64 / self.raw_openmls.as_secs_f64()
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("setup: {0}")]
    Setup(String),
    #[error("control call failed: {0}")]
    Control(#[from] crate::control::CallError),
    #[error("openmls: {0}")]
    Mls(String),
}

fn setup(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

const T: Duration = Duration::from_secs(30);

/// Sends `messages` messages from alice (a.example, hub) to bob (b.example)
/// and measures until bob has received them all; then the same count with
/// raw openmls.
pub async fn run(messages: usize) -> Result<BenchReport, BenchError> {
    let launcher = Launcher::new().map_err(setup)?;
    let a = launcher.start_domain("a.example").await.map_err(setup)?;
    let b = launcher.start_domain("b.example").await.map_err(setup)?;
    let end_to_end = end_to_end(&a, &b, messages).await?;
    a.stop().await;
    b.stop().await;
    let raw_openmls = raw(messages)?;
    Ok(BenchReport {
        messages,
        end_to_end,
        raw_openmls,
    })
}

async fn end_to_end(
    a: &RunningProvider,
    b: &RunningProvider,
    n: usize,
) -> Result<Duration, BenchError> {
    let http = reqwest::Client::new();
    let (ca, cb) = (
        ControlClient::new(http.clone(), a.control_url()),
        ControlClient::new(http, b.control_url()),
    );
    let peer = |i: InfoResponse| Peer {
        domain: i.domain,
        mimi_url: i.mimi_url,
        ca_pem: i.ca_pem,
    };
    let (ia, ib) = (ca.info(T).await?, cb.info(T).await?);
    ca.peers(
        &PeersRequest {
            peers: vec![peer(ib)],
        },
        T,
    )
    .await?;
    cb.peers(
        &PeersRequest {
            peers: vec![peer(ia)],
        },
        T,
    )
    .await?;
    let mk = |name: &str| CreateUserRequest {
        name: name.into(),
        display_name: None,
        avatar: None,
        clients: 1,
    };
    let alice = ca.create_user(&mk("alice"), T).await?.user;
    let bob = cb.create_user(&mk("bob"), T).await?.user;
    let room = ca
        .create_room(
            &CreateRoomRequest {
                actor: alice.clone(),
                name: "bench".into(),
                kind: RoomKind::Group,
                with: None,
            },
            T,
        )
        .await?
        .room;
    ca.membership(
        "add_participant",
        &MembershipRequest {
            room: room.clone(),
            actor: alice.clone(),
            user: bob.clone(),
        },
        T,
    )
    .await?;
    let mut cursor = wait_messages(&cb, &bob, 0, 0).await?;
    let body = base64::engine::general_purpose::STANDARD.encode([0x42u8; 64]);
    let started = Instant::now();
    for _ in 0..n {
        ca.send(
            &SendRequest {
                room: room.clone(),
                actor: alice.clone(),
                client: None,
                content: SendContent::Raw(body.clone()),
            },
            T,
        )
        .await?;
    }
    cursor = wait_messages(&cb, &bob, cursor, n).await?;
    let _ = cursor;
    Ok(started.elapsed())
}

/// Long-polls until `want` messages arrived past `cursor` (0: until the
/// first event of any kind); returns the new cursor.
async fn wait_messages(
    c: &ControlClient,
    user: &str,
    mut cursor: u64,
    want: usize,
) -> Result<u64, BenchError> {
    let mut got = 0;
    loop {
        let r = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor,
                    wait_ms: 10_000,
                },
                T,
            )
            .await?;
        if r.events.is_empty() {
            return Err(BenchError::Setup("events stopped arriving".into()));
        }
        cursor = r.cursor;
        got += r
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Message { .. }))
            .count();
        if got >= want {
            return Ok(cursor);
        }
    }
}

fn mls(e: impl std::fmt::Debug) -> BenchError {
    BenchError::Mls(format!("{e:?}"))
}

/// Raw openmls: one sender group, one receiver group, n encrypt + decrypt.
fn raw(n: usize) -> Result<Duration, BenchError> {
    let member = |name: &str| -> Result<_, BenchError> {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).map_err(mls)?;
        let cred = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Ok((provider, signer, cred))
    };
    let (ap, asg, acred) = member("alice")?;
    let (bp, bsg, bcred) = member("bob")?;
    let kp = KeyPackage::builder()
        .leaf_node_capabilities(capabilities())
        .build(CIPHERSUITE, &bp, &bsg, bcred)
        .map_err(mls)?;
    let mut ag = MlsGroup::builder()
        .ciphersuite(CIPHERSUITE)
        .with_wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .with_capabilities(capabilities())
        .build(&ap, &asg, acred)
        .map_err(mls)?;
    let (_, welcome, _) = ag
        .add_members(&ap, &asg, &[kp.key_package().clone()])
        .map_err(mls)?;
    ag.merge_pending_commit(&ap).map_err(mls)?;
    let welcome =
        MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().map_err(mls)?)
            .map_err(mls)?;
    let MlsMessageBodyIn::Welcome(welcome) = welcome.extract() else {
        return Err(BenchError::Mls("not a Welcome".into()));
    };
    let mut bg = StagedWelcome::new_from_welcome(
        &bp,
        &join_config(),
        welcome,
        Some(ag.export_ratchet_tree().into()),
    )
    .and_then(|s| s.into_group(&bp))
    .map_err(mls)?;
    let started = Instant::now();
    for _ in 0..n {
        let bytes = ag
            .create_message(&ap, &asg, &[0x42u8; 64])
            .map_err(mls)?
            .tls_serialize_detached()
            .map_err(mls)?;
        let pm = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(mls)?
            .try_into_protocol_message()
            .map_err(mls)?;
        match bg.process_message(&bp, pm).map_err(mls)?.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) => {}
            _ => return Err(BenchError::Mls("not an application message".into())),
        }
    }
    let _ = bp.storage();
    Ok(started.elapsed())
}
