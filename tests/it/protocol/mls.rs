//! MLS framing summaries.

use super::{Body, Structure, fixture, protocol};

#[test]
fn mls_framing_is_summarized_from_the_fixtures() {
    let notify = Structure::Notify.decode(&fixture("notify.bin")).unwrap();
    let Body::Notify(ms) = &notify else { panic!() };
    let summary = protocol::mls::summarize_message(ms[0].message.bytes()).unwrap();
    match summary {
        protocol::mls::MessageSummary::PublicMessage(p) => {
            assert_eq!(p.content_type, "commit");
            assert!(
                p.proposals
                    .iter()
                    .any(|q| q.proposal_type.as_deref() == Some("add"))
            );
            assert!(p.has_path.is_some());
        }
        other => panic!("first fan-out is {other:?}"),
    }
    let kp = protocol::mls::summarize_key_package(&fixture("key-package.bin")).unwrap();
    assert_eq!(kp.cipher_suite, 1);
    assert!(
        kp.credential.identity.starts_with("mimi://b.example/d/"),
        "{kp:?}"
    );
    let kp_ref = kp.reference.unwrap();
    // The Welcome names the KeyPackage the hub claimed for bob.
    let w = protocol::mls::summarize_welcome(&fixture("welcome.bin")).unwrap();
    assert_eq!(w.secrets, 1);
    assert_eq!(w.key_package_refs, vec![kp_ref]);
    let gi = protocol::mls::summarize_group_info(&fixture("group-info.bin")).unwrap();
    assert!(gi.epoch >= 1);
    let sub = Structure::SubmitMessageRequest
        .decode(&fixture("submit-message-request.bin"))
        .unwrap();
    let Body::SubmitMessageRequest(r) = sub else {
        panic!()
    };
    match protocol::mls::summarize_message(r.app_message.bytes()).unwrap() {
        protocol::mls::MessageSummary::PrivateMessage(p) => {
            assert_eq!(p.content_type, "application");
            assert_eq!(p.group_id, gi.group_id);
        }
        other => panic!("appMessage is {other:?}"),
    }
}

/// Summaries of handshakes openmls builds directly: an Add names the
/// KeyPackageRef openmls computes, a Remove its leaf, a proposal its sender.
#[test]
fn mls_summaries_match_openmls() {
    use openmls::prelude::{tls_codec::Serialize as _, *};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use protocol::mls::{MessageSummary, SenderSummary, summarize_message};
    let cs = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    let member = |name: &str| {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(cs.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let cred = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        (provider, signer, cred)
    };
    let (ap, asg, acred) = member("mimi://a.example/d/alice-1");
    let (bp, bsg, bcred) = member("mimi://b.example/d/bob-1");
    let kpb = KeyPackage::builder().build(cs, &bp, &bsg, bcred).unwrap();
    let kp_ref = hex::encode(kpb.key_package().hash_ref(bp.crypto()).unwrap().as_slice());
    let kp_bytes = kpb.key_package().tls_serialize_detached().unwrap();
    let kp_sum = protocol::mls::summarize_key_package(&kp_bytes).unwrap();
    assert_eq!(kp_sum.reference.as_deref(), Some(kp_ref.as_str()));
    assert_eq!(kp_sum.credential.identity, "mimi://b.example/d/bob-1");
    let cfg = MlsGroupCreateConfig::builder()
        .ciphersuite(cs)
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build();
    let mut g = MlsGroup::new(&ap, &asg, &cfg, acred).unwrap();
    let (commit, welcome, _) = g
        .add_members(&ap, &asg, &[kpb.key_package().clone()])
        .unwrap();
    g.merge_pending_commit(&ap).unwrap();
    let public = |m: &MlsMessageOut| match summarize_message(&m.tls_serialize_detached().unwrap()) {
        Some(MessageSummary::PublicMessage(p)) => p,
        other => panic!("{other:?}"),
    };
    let add = public(&commit);
    assert_eq!((add.content_type, add.epoch), ("commit", 0));
    assert_eq!(add.sender, SenderSummary::Member { leaf_index: 0 });
    assert_eq!(add.proposals.len(), 1);
    assert_eq!(add.proposals[0].proposal_type.as_deref(), Some("add"));
    assert_eq!(
        add.proposals[0].key_package_ref.as_deref(),
        Some(kp_ref.as_str())
    );
    match summarize_message(&welcome.tls_serialize_detached().unwrap()) {
        Some(MessageSummary::Welcome(w)) => assert_eq!(w.key_package_refs, vec![kp_ref]),
        other => panic!("{other:?}"),
    }
    let proposal = g
        .propose_remove_member(&ap, &asg, LeafNodeIndex::new(1))
        .unwrap()
        .0;
    let p = public(&proposal);
    assert_eq!((p.content_type, p.epoch), ("proposal", 1));
    assert_eq!(p.proposals[0].removed, Some(1));
    g.clear_pending_proposals(ap.storage()).unwrap();
    let (remove, _, _) = g
        .remove_members(&ap, &asg, &[LeafNodeIndex::new(1)])
        .unwrap();
    let r = public(&remove);
    assert_eq!(r.proposals.len(), 1);
    assert_eq!(r.proposals[0].proposal_type.as_deref(), Some("remove"));
    assert_eq!(r.proposals[0].removed, Some(1));
    assert_eq!(r.has_path, Some(true));
}
