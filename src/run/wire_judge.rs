//! The wire judge: a case's exchanges, as the relay recorded them, held to
//! rules of the protocol draft that no control API shows. Run once a case
//! has passed; a violation turns it into `fail` (MUST) or `non-strict`
//! (SHOULD), names the section and the exchange, and is blamed on the
//! target that sent the offending bytes.
//!
//! Exchanges the harness shaped are not judged: those the relay answered
//! itself or broke on purpose (a fault step, a cut link, an over-cap body),
//! and all traffic of the harness's adversary (it breaks the rules on
//! purpose; `run::forge` judges the answers it gets).

use super::relay::exchange::{Exchange, summarize};
use crate::protocol::exchange::Endpoint;
use crate::protocol::{Body, ClientKeyMaterialBody, FanoutMessage, SubmitMessageResponse};
use crate::suite::model::Level;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far an accepted timestamp may be from the relay's clock when it
/// saw the exchange: generous for slow machines, far below the factor of
/// 1000 between seconds and milliseconds.
const CLOCK_SLACK: Duration = Duration::from_secs(600);

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub level: Level,
    /// The target that sent the offending bytes.
    pub blame: String,
    /// `protocol-06 §5.5: …`, then the exchange.
    pub reason: String,
}

/// The first violation in `exchanges` (in relay order), if any. `skip` is
/// the index of a party whose traffic is not judged (the adversary).
pub(crate) fn judge(exchanges: &[Arc<Exchange>], skip: Option<usize>) -> Option<Violation> {
    // Per (hub, follower, room): the last fan-out timestamp, and the last
    // notify body per MLS message for telling a retry from a new notify.
    let mut last_ts: HashMap<(usize, usize, String), u64> = HashMap::new();
    let mut sent_before: HashMap<(usize, usize, Vec<u8>), Vec<u8>> = HashMap::new();
    // Per (hub, follower, room): the epoch and bytes of the last commit.
    let mut last_commit: HashMap<(usize, usize, String), (u64, Vec<u8>)> = HashMap::new();
    // KeyPackages a provider handed out for its own clients.
    let mut handed_out: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    // KeyPackageRef (hex) → the provider (index) that handed it out.
    let mut kp_provider: HashMap<String, usize> = HashMap::new();
    for x in exchanges {
        if skip.is_some_and(|s| x.from.index == s || x.to.index == s) {
            continue;
        }
        // §5.5: a notify sent again (after no 201) repeats its bytes; the
        // follower discards only byte-identical duplicates. Faulted
        // exchanges count: the bytes in them are the sender's.
        if x.endpoint() == "notify"
            && let Ok(batch) = crate::protocol::decode_fanout_batch(&x.request)
            && let Some(first) = batch.first()
        {
            let id = (x.from.index, x.to.index, message_bytes(first));
            if let Some(before) = sent_before.get(&id)
                && *before != x.request
            {
                return Some(Violation {
                    level: Level::Should,
                    blame: x.from.target.clone(),
                    reason: format!(
                        "wire: protocol-06 §5.5: {} sent {} one MLS message again in a notify with other bytes: a retry must repeat the same bytes, which the follower discards as a duplicate (exchange {})",
                        x.from.target,
                        x.to.target,
                        summarize(x)
                    ),
                });
            }
            sent_before.insert(id, x.request.clone());
        }
        // Who handed out which KeyPackage, for routing Welcomes; faulted
        // exchanges count (a duplicated claim still handed one out).
        if x.endpoint() == "keyMaterial"
            && let Ok(r) =
                crate::protocol::codec::decode::<crate::protocol::KeyMaterialResponse>(&x.response)
        {
            // Counted where the client's own provider answers (a hub
            // passes the same answer on to the requester).
            for c in &r.clients {
                let client = String::from_utf8_lossy(c.client_uri.as_slice());
                if let ClientKeyMaterialBody::Success(kp) = &c.body
                    && uri_domain(&client).as_deref() == Some(x.to.domain.as_str())
                    && let Some(r) = crate::protocol::mls::key_package_ref(kp.bytes())
                {
                    kp_provider.insert(hex::encode(r), x.to.index);
                }
            }
        }
        if x.fault.is_some() || x.relay_status.is_some() || x.error.is_some() {
            continue;
        }
        let violation = |level, section: &str, what: String, blame: &str| Violation {
            level,
            blame: blame.to_owned(),
            reason: format!(
                "wire: protocol-06 {section}: {what} (exchange {})",
                summarize(x)
            ),
        };
        let from = &x.from.target;
        // §4.1: the source names itself in From.
        let want = format!("mimi@{}", x.from.domain);
        if !x
            .from_header
            .as_deref()
            .is_some_and(|f| f.trim().eq_ignore_ascii_case(&want))
        {
            return Some(violation(
                Level::Must,
                "§4.1",
                format!(
                    "{from} sent `From: {}`, not `{want}`",
                    x.from_header.as_deref().unwrap_or("(none)")
                ),
                from,
            ));
        }
        // The path relative to the receiver's MIMI base URL, which may
        // carry a prefix of its own (the directory gives it).
        let Some(decoded) = x.decoded() else { continue };
        let Some(route) = &decoded.route else {
            return Some(violation(
                Level::Must,
                "§5.1",
                format!("{from} sent a request to a path that names no MIMI endpoint"),
                from,
            ));
        };
        // §4.1, §5: bodies are exact TLS presentation-language encodings.
        if let Some(e) = &decoded.request_error {
            return Some(violation(
                Level::Must,
                "§4.1",
                format!(
                    "{from}'s {} request does not decode: {e}",
                    route.endpoint.name()
                ),
                from,
            ));
        }
        if let Some(e) = &decoded.response_error {
            let to = &x.to.target;
            return Some(violation(
                Level::Must,
                "§4.1",
                format!(
                    "{to}'s {} answer does not decode: {e}",
                    route.endpoint.name()
                ),
                to,
            ));
        }
        match (route.endpoint, &decoded.request, &decoded.response) {
            (Endpoint::Notify, Some(Body::Notify(batch)), _) => {
                // §5.5: only the room's hub notifies.
                let hub = uri_domain(&route.subject);
                if hub.as_deref() != Some(x.from.domain.as_str()) {
                    return Some(violation(
                        Level::Must,
                        "§5.5",
                        format!(
                            "{from} sent a notify for a room hosted by {}",
                            hub.as_deref().unwrap_or("an unreadable room")
                        ),
                        from,
                    ));
                }
                let key = (x.from.index, x.to.index, route.subject.clone());
                for m in batch {
                    if let Some(v) = timestamp_problem(m.timestamp, x.time) {
                        return Some(violation(Level::Must, "§5.5", v, from));
                    }
                    let last = last_ts.entry(key.clone()).or_insert(0);
                    if m.timestamp < *last {
                        return Some(violation(
                            Level::Must,
                            "§5.5",
                            format!(
                                "{from}'s fan-out to {} goes back in time: {} after {}",
                                x.to.target, m.timestamp, last
                            ),
                            from,
                        ));
                    }
                    *last = m.timestamp;
                    // §5.3, §5.5: a proposal or commit travels as a
                    // PublicMessage (or SemiPrivateMessage), so providers
                    // can read it; only application data is encrypted.
                    if let Some(kind) = encrypted_handshake(m) {
                        return Some(violation(
                            Level::Must,
                            "§5.5",
                            format!(
                                "{from} fanned out a {kind} to {} as a PrivateMessage: a proposal or commit travels as a PublicMessage or SemiPrivateMessage",
                                x.to.target
                            ),
                            from,
                        ));
                    }
                    // §5.5: the fan-out is the hub's order, in which a
                    // room's epochs only go forward: a commit for an epoch
                    // before the last one's, or a second commit of one
                    // epoch (a fork), cannot be it. A retry repeats bytes.
                    if let Some(epoch) = commit_epoch(m) {
                        let bytes = m.message.bytes();
                        let last = last_commit
                            .entry(key.clone())
                            .or_insert((epoch, bytes.to_vec()));
                        if epoch < last.0 || (epoch == last.0 && last.1 != bytes) {
                            let what = if epoch < last.0 {
                                format!(
                                    "a commit for epoch {epoch} after one for epoch {}: epochs never go back",
                                    last.0
                                )
                            } else {
                                format!(
                                    "a second, different commit for epoch {epoch}: the hub accepts one commit per epoch"
                                )
                            };
                            return Some(violation(
                                Level::Must,
                                "§5.5",
                                format!("{from}'s fan-out to {} brought {what}", x.to.target),
                                from,
                            ));
                        }
                        *last = (epoch, bytes.to_vec());
                    }
                    // §5.5: a Welcome goes to the providers of the
                    // KeyPackages its secrets are for, and to no other.
                    if let Some(refs) = welcome_refs(m)
                        && !refs.iter().any(|r| kp_provider.get(r) == Some(&x.to.index))
                    {
                        return Some(violation(
                            Level::Must,
                            "§5.5",
                            format!(
                                "{from} sent {} a Welcome for none of its KeyPackages (refs {}): a Welcome goes only to the providers whose KeyPackages it names",
                                x.to.target,
                                refs.join(", ")
                            ),
                            from,
                        ));
                    }
                }
            }
            (Endpoint::KeyMaterial, _, Some(Body::KeyMaterialResponse(r))) => {
                // §5.2: a KeyPackage goes out once. Counted where the
                // client's own provider answers (a hub passes the same
                // answer on to the requester).
                let to = &x.to;
                for c in &r.clients {
                    let ClientKeyMaterialBody::Success(kp) = &c.body else {
                        continue;
                    };
                    let client = String::from_utf8_lossy(c.client_uri.as_slice());
                    if uri_domain(&client).as_deref() != Some(to.domain.as_str()) {
                        continue;
                    }
                    if !handed_out.insert(kp.bytes().to_vec()) {
                        return Some(violation(
                            Level::Should,
                            "§5.2",
                            format!(
                                "{} handed out one KeyPackage of {client} a second time: KeyPackages are single-use (RFC 9420 §16.8 allows only a last-resort one again)",
                                to.target
                            ),
                            &to.target,
                        ));
                    }
                }
            }
            (Endpoint::SubmitMessage, _, Some(Body::SubmitMessageResponse(r))) => {
                if let SubmitMessageResponse::Accepted {
                    accepted_timestamp, ..
                } = r
                    && let Some(v) = timestamp_problem(*accepted_timestamp, x.time)
                {
                    return Some(violation(Level::Must, "§5.4", v, &x.to.target));
                }
            }
            _ => {}
        }
    }
    None
}

/// Why `ts` is no accepted timestamp (milliseconds since the epoch, near
/// `seen`, when the relay saw it).
fn timestamp_problem(ts: u64, seen: SystemTime) -> Option<String> {
    let now = seen.duration_since(UNIX_EPOCH).ok()?.as_millis() as u64;
    let slack = CLOCK_SLACK.as_millis() as u64;
    if ts.abs_diff(now) <= slack {
        return None;
    }
    let hint = if ts.abs_diff(now / 1000) <= slack / 1000 {
        ": seconds, not milliseconds"
    } else {
        ""
    };
    Some(format!(
        "accepted timestamp {ts} is not milliseconds near the time it was sent ({now}){hint}"
    ))
}

/// The KeyPackageRefs (hex) of the Welcome a FanoutMessage carries, if it
/// carries one that decodes.
fn welcome_refs(m: &FanoutMessage) -> Option<Vec<String>> {
    let bytes = m.message.bytes();
    // MLSMessage: version, then wire_format (mls_welcome = 3).
    if bytes.get(2..4) != Some(&crate::protocol::WIRE_FORMAT_WELCOME.to_be_bytes()[..]) {
        return None;
    }
    match crate::protocol::mls::summarize_message(bytes)? {
        crate::protocol::mls::MessageSummary::Welcome(w) => Some(w.key_package_refs),
        _ => None,
    }
}

/// The content type of a fanned-out PrivateMessage that holds a proposal
/// or commit rather than application data.
fn encrypted_handshake(m: &FanoutMessage) -> Option<&'static str> {
    match crate::protocol::mls::summarize_message(m.message.bytes())? {
        crate::protocol::mls::MessageSummary::PrivateMessage(p)
            if p.content_type != "application" =>
        {
            Some(p.content_type)
        }
        _ => None,
    }
}

/// The epoch of the commit a FanoutMessage carries as a PublicMessage.
fn commit_epoch(m: &FanoutMessage) -> Option<u64> {
    match crate::protocol::mls::summarize_message(m.message.bytes())? {
        crate::protocol::mls::MessageSummary::PublicMessage(p) if p.content_type == "commit" => {
            Some(p.epoch)
        }
        _ => None,
    }
}

/// The MLS message a FanoutMessage carries, for telling retries apart.
fn message_bytes(m: &FanoutMessage) -> Vec<u8> {
    m.message.bytes().to_vec()
}

/// The provider domain of a MIMI URI or of a path subject: `a.example/r/x`
/// or a percent-encoded `mimi://a.example/r/x`.
fn uri_domain(subject: &str) -> Option<String> {
    let decoded = subject
        .replace("%3A", ":")
        .replace("%3a", ":")
        .replace("%2F", "/")
        .replace("%2f", "/");
    let rest = decoded.strip_prefix("mimi://").unwrap_or(&decoded);
    let domain = rest.split('/').next()?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::relay::exchange::Party;

    /// A notify from a.example (the club's hub) to b.example, as recorded:
    /// the protocol fixture, sent when its timestamp was now.
    fn notify(from: &str, body: &[u8]) -> Arc<Exchange> {
        let party = |index: usize, name: &str| Party {
            index,
            target: name.to_owned(),
            domain: format!("{name}.example"),
        };
        Arc::new(Exchange {
            seq: 0,
            time: UNIX_EPOCH + Duration::from_millis(1_796_302_462_509),
            from: party(0, from),
            to: party(1, "b"),
            method: "POST".into(),
            path: "/v1/notify/a.example/r/club".into(),
            from_header: Some(format!("mimi@{from}.example")),
            host: None,
            content_type: None,
            request: body.to_vec(),
            status: Some(201),
            relay_status: None,
            response: Vec::new(),
            duration_us: 0,
            upstream_us: None,
            fault: None,
            violation: None,
            error: None,
            case: Some(0),
            decoded: Default::default(),
        })
    }

    const NOTIFY: &[u8] = include_bytes!("../../fixtures/protocol/notify.bin");

    #[test]
    fn a_hubs_notify_passes_and_a_strangers_is_blamed_on_it() {
        assert_eq!(judge(&[notify("a", NOTIFY)], None), None);
        let v = judge(&[notify("c", NOTIFY)], None).expect("not the hub");
        assert_eq!(v.blame, "c");
        assert_eq!(v.level, Level::Must);
        assert!(
            v.reason.starts_with(
                "wire: protocol-06 §5.5: c sent a notify for a room hosted by a.example"
            ),
            "{}",
            v.reason
        );
        // The adversary's traffic is not judged.
        assert_eq!(judge(&[notify("c", NOTIFY)], Some(0)), None);
    }

    /// Two real commit notifies of one room (epoch 0, then epoch 1): in
    /// order they pass, a retry of the first passes; epoch 0's commit after
    /// epoch 1's, stamped later so only the epoch rule can see it, fails.
    #[test]
    fn a_fan_out_whose_epochs_go_back_is_blamed_on_the_hub() {
        const ADD: &[u8] = include_bytes!("../../fixtures/run/shadow/notify-add-commit.bin");
        const ROLE: &[u8] = include_bytes!("../../fixtures/run/shadow/notify-role-commit.bin");
        let at = |body: &[u8], ms: u64| {
            let mut x = (*notify("a", body)).clone();
            x.time = UNIX_EPOCH + Duration::from_millis(ms);
            Arc::new(x)
        };
        let stamp = |body: &[u8]| crate::protocol::decode_fanout_batch(body).unwrap()[0].timestamp;
        let (add, role) = (stamp(ADD), stamp(ROLE));
        assert!(add < role);
        assert_eq!(judge(&[at(ADD, add), at(ROLE, role)], None), None);
        assert_eq!(
            judge(&[at(ADD, add), at(ADD, add), at(ROLE, role)], None),
            None
        );
        let mut late = crate::protocol::decode_fanout_batch(ADD).unwrap();
        late[0].timestamp = role + 1;
        let late = crate::protocol::encode(&late[0]);
        let v = judge(&[at(ROLE, role), at(&late, role + 1)], None).expect("epoch back");
        assert_eq!((v.level, v.blame.as_str()), (Level::Must, "a"));
        assert!(
            v.reason.contains(
                "a's fan-out to b brought a commit for epoch 0 after one for epoch 1: epochs never go back"
            ),
            "{}",
            v.reason
        );
    }

    /// A receiver whose MIMI base URL has a path of its own gets requests
    /// under it; the judge reads the endpoint after the prefix.
    #[test]
    fn a_base_url_prefix_is_not_a_wrong_path() {
        let mut x = (*notify("a", NOTIFY)).clone();
        x.path = "/mimi/v1/notify/a.example/r/club".into();
        assert_eq!(judge(&[Arc::new(x)], None), None);
        let mut x = (*notify("a", NOTIFY)).clone();
        x.path = "/mimi/v2/notify/a.example/r/club".into();
        let v = judge(&[Arc::new(x)], None).expect("no endpoint");
        assert!(v.reason.contains("names no MIMI endpoint"), "{}", v.reason);
    }

    /// An application PrivateMessage (the protocol fixture) with its
    /// header's content type set to commit: an encrypted handshake, which
    /// no provider can read.
    #[test]
    fn a_handshake_fanned_out_as_a_private_message_is_blamed_on_the_hub() {
        const PRIVATE: &[u8] = include_bytes!("../../fixtures/protocol/mls-message.bin");
        let first = &crate::protocol::decode_fanout_batch(NOTIFY).unwrap()[0];
        let fanned = |content_type: u8| {
            let mut msg = PRIVATE.to_vec();
            // version, wire_format, group_id<V> (one-octet length), epoch.
            let at = 4 + 1 + usize::from(msg[4]) + 8;
            assert_eq!(msg[at], 1, "the fixture is application data");
            msg[at] = content_type;
            let m = FanoutMessage {
                timestamp: first.timestamp,
                message: crate::protocol::Raw::from_bytes(msg),
                tail: crate::protocol::FanoutTail::Application { frank: None },
            };
            notify("a", &crate::protocol::encode(&m))
        };
        assert_eq!(judge(&[fanned(1)], None), None);
        let v = judge(&[fanned(3)], None).expect("encrypted commit");
        assert_eq!((v.level, v.blame.as_str()), (Level::Must, "a"));
        assert!(
            v.reason
                .contains("a fanned out a commit to b as a PrivateMessage"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn from_must_name_the_sender() {
        let mut x = (*notify("a", NOTIFY)).clone();
        x.from_header = Some("mimi@b.example".into());
        let v = judge(&[Arc::new(x)], None).expect("wrong From");
        assert!(v.reason.contains("§4.1"), "{}", v.reason);
        assert_eq!(v.blame, "a");
    }

    #[test]
    fn bodies_must_decode_and_retries_repeat_their_bytes() {
        let mut cut = NOTIFY.to_vec();
        cut.pop();
        let v = judge(&[notify("a", &cut)], None).expect("truncated");
        assert!(v.reason.contains("request does not decode"), "{}", v.reason);
        // The same MLS message again, re-stamped: other bytes.
        let mut batch = crate::protocol::decode_fanout_batch(NOTIFY).unwrap();
        batch[0].timestamp += 1;
        let again = crate::protocol::encode(&batch[0]);
        assert_eq!(
            judge(&[notify("a", NOTIFY), notify("a", NOTIFY)], None),
            None
        );
        let v = judge(&[notify("a", NOTIFY), notify("a", &again)], None).expect("restamped");
        assert_eq!(v.level, Level::Should);
        assert!(v.reason.contains("repeat the same bytes"), "{}", v.reason);
    }

    #[test]
    fn a_key_package_goes_out_once_from_its_own_provider() {
        const KM: &[u8] = include_bytes!("../../fixtures/protocol/key-material-response.bin");
        const REQ: &[u8] = include_bytes!("../../fixtures/protocol/key-material-request.bin");
        let answer = |to: &str| {
            let mut x = (*notify("a", NOTIFY)).clone();
            x.path = "/v1/keyMaterial/b.example/u/bob".into();
            x.request = REQ.to_vec();
            x.status = Some(200);
            x.response = KM.to_vec();
            x.to.domain = format!("{to}.example");
            x.to.target = to.to_owned();
            Arc::new(x)
        };
        // b.example answers for its own bob-1; the hub passing it on
        // (answering a → hub) does not count.
        assert_eq!(judge(&[answer("b"), answer("hub")], None), None);
        let v = judge(&[answer("b"), answer("b")], None).expect("reused");
        assert_eq!((v.level, v.blame.as_str()), (Level::Should, "b"));
        assert!(v.reason.contains("single-use"), "{}", v.reason);
    }

    #[test]
    fn a_welcome_goes_only_to_the_provider_of_its_key_package() {
        const KM: &[u8] = include_bytes!("../../fixtures/protocol/key-material-response.bin");
        // For the KeyPackage that KM hands out (bob-1 of b.example).
        const WELCOME: &[u8] = include_bytes!("../../fixtures/protocol/welcome.bin");
        let claim = {
            let mut x = (*notify("a", NOTIFY)).clone();
            x.path = "/v1/keyMaterial/b.example/u/bob".into();
            x.request = include_bytes!("../../fixtures/protocol/key-material-request.bin").to_vec();
            x.status = Some(200);
            x.response = KM.to_vec();
            Arc::new(x)
        };
        let mut batch = crate::protocol::decode_fanout_batch(NOTIFY).unwrap();
        batch[0].message = crate::protocol::Raw::from_bytes(crate::protocol::wrap_mls_message(
            crate::protocol::WIRE_FORMAT_WELCOME,
            WELCOME,
        ));
        batch[0].tail = crate::protocol::FanoutTail::Welcome {
            ratchet_tree: crate::protocol::RatchetTreeOption::Full(
                crate::protocol::Raw::from_bytes(vec![0]),
            ),
        };
        let body = crate::protocol::encode(&batch[0]);
        let to_b = notify("a", &body);
        let to_c = {
            let mut x = (*to_b).clone();
            x.to.index = 2;
            x.to.target = "c".into();
            x.to.domain = "c.example".into();
            Arc::new(x)
        };
        assert_eq!(judge(&[claim.clone(), to_b.clone()], None), None);
        let v = judge(&[claim.clone(), to_c], None).expect("a Welcome for b sent to c");
        assert_eq!((v.level, v.blame.as_str()), (Level::Must, "a"));
        assert!(
            v.reason.contains("a Welcome for none of its KeyPackages"),
            "{}",
            v.reason
        );
        // Unclaimed on the wire (the hub's own client's KeyPackage): no
        // follower may get it.
        assert!(judge(&[to_b], None).is_some());
    }

    #[test]
    fn timestamps_in_seconds_are_told_apart() {
        let seen = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(timestamp_problem(1_800_000_000_123, seen), None);
        let v = timestamp_problem(1_800_000_000, seen).unwrap();
        assert!(v.ends_with("seconds, not milliseconds"), "{v}");
        assert!(timestamp_problem(5, seen).is_some());
    }

    #[test]
    fn room_domains_from_either_path_form() {
        assert_eq!(uri_domain("a.example/r/x").as_deref(), Some("a.example"));
        assert_eq!(
            uri_domain("mimi%3A%2F%2FA.example%2Fr%2Fx").as_deref(),
            Some("a.example")
        );
        assert_eq!(uri_domain(""), None);
    }
}
