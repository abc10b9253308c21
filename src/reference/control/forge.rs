//! `forge`: what the reference provider does as the harness's adversary
//! (`docs/protocol-suites.md`). A user of this provider, holding real MLS
//! state in a room another provider hosts, sends that hub a request the
//! drafts require it to refuse; or, in a room this provider hosts, its hub
//! fans out to the target what no honest hub sends (`message_stamped_*`).
//! The answer says what was sent; whether the target refused is read off
//! the wire by the harness, not taken from here.
//!
//! Only a provider started with [`Hooks::keep_last`] set has the traffic the
//! replays need; the others answer 409 for them.
//!
//! [`Hooks::keep_last`]: crate::reference::server::Hooks::keep_last

use super::policy_ops::room_change_as;
use super::*;
use crate::protocol::{self as mimi, SubmitMessageRequest};
use crate::reference::room::Operation;
use openmls::prelude::tls_codec::VLBytes;

/// Over the reference provider's 1 MiB MIMI body limit, and under the
/// relay's cap, so the target, not the network, has to refuse it.
const OVERSIZED: usize = mimi::MAX_BODY + 1;

pub(super) async fn forge(State(p): P, body: Bytes) -> Res<ForgeResponse> {
    let req: ForgeRequest = parse(&body)?;
    let hub = ids::domain_of(&req.room, 'r')
        .ok_or_else(|| ControlError::bad(format!("not a room URI: {}", req.room)))?
        .to_owned();
    if req.forgery.by_the_hub() && hub != p.domain {
        return Err(ControlError::bad(format!(
            "{} is hosted by {hub}: {} is made by the room's hub",
            req.room,
            req.forgery.name()
        )));
    }
    if hub == p.domain && !req.forgery.by_the_hub() {
        return Err(ControlError::bad(format!(
            "{} is hosted here: a forgery goes to another provider's hub",
            req.room
        )));
    }
    let user_field = || {
        req.user
            .clone()
            .ok_or_else(|| ControlError::bad(format!("{} needs `user`", req.forgery.name())))
    };
    let sent_answer = |what: String, r: Result<u16, MimiError>| {
        let answer = match r {
            Ok(status) => format!("HTTP {status}"),
            Err(e) => e.to_string(),
        };
        Ok(axum::Json(ForgeResponse::new(what, answer)))
    };
    match req.forgery {
        Forgery::CommitAdd
        | Forgery::CommitAddClients
        | Forgery::CommitBanKeepClients
        | Forgery::CommitRemoveKeepClients => {
            let user = user_field()?;
            let actor = p.user(&req.actor)?;
            let client = p.acting_client(&actor, &req.room, None).await?;
            let mut c = client.lock().await;
            actor.push(c.sync());
            let by = &req.actor;
            let (added, sent) = match req.forgery {
                Forgery::CommitAdd => (
                    c.add_unchecked(&req.room, &user).await,
                    format!("a commit by {by} adding {user}, asked of no policy"),
                ),
                Forgery::CommitBanKeepClients => (
                    c.unlist_keeping_clients(&req.room, &user, true).await,
                    format!(
                        "a commit by {by} giving {user} the banned role, keeping {user}'s clients"
                    ),
                ),
                Forgery::CommitRemoveKeepClients => (
                    c.unlist_keeping_clients(&req.room, &user, false).await,
                    format!(
                        "a commit by {by} removing {user} from the participant list, keeping {user}'s clients"
                    ),
                ),
                _ => (
                    c.add_clients_of(&req.room, &user).await,
                    format!(
                        "a commit by {by} adding the clients of {user}, who is not in the participant list"
                    ),
                ),
            };
            let answer = committed(&actor, added);
            Ok(axum::Json(ForgeResponse::new(sent, answer)))
        }
        Forgery::CommitStaleGroupInfo | Forgery::CommitWithoutHeldProposal => {
            let actor = p.user(&req.actor)?;
            let client = p.acting_client(&actor, &req.room, None).await?;
            // The client's lock is held from the proposal to the commit, so
            // its own task cannot commit the held proposal in between.
            let mut c = client.lock().await;
            actor.push(c.sync());
            let stale = req.forgery == Forgery::CommitStaleGroupInfo;
            let sent = if stale {
                format!(
                    "a self-update by {} carrying the GroupInfo of the epoch it ends",
                    req.actor
                )
            } else {
                format!(
                    "a Remove proposal by {} of another of its devices, then a self-update by {} leaving it out",
                    req.actor, req.actor
                )
            };
            let result = if stale {
                c.commit_stale_group_info(&req.room).await
            } else {
                c.commit_without_held_proposal(&req.room).await
            };
            let answer = committed(&actor, result);
            Ok(axum::Json(ForgeResponse::new(sent, answer)))
        }
        Forgery::ProposeRemove | Forgery::ProposeAsHub => {
            let user = user_field()?;
            let actor = p.user(&req.actor)?;
            let client = p.acting_client(&actor, &req.room, None).await?;
            let mut c = client.lock().await;
            actor.push(c.sync());
            let as_hub = req.forgery == Forgery::ProposeAsHub;
            let proposed = c.propose_removal_of(&req.room, &user, as_hub).await;
            let sent = if as_hub {
                format!(
                    "an external Remove proposal of {user}'s first client in the hub's name (sender index 0), signed by {}",
                    req.actor
                )
            } else {
                format!(
                    "Remove proposals by {} of every client of {user}, uncommitted",
                    req.actor
                )
            };
            let answer = match proposed {
                Ok(()) => "proposed".to_owned(),
                Err(e) => e.to_string(),
            };
            Ok(axum::Json(ForgeResponse::new(sent, answer)))
        }
        Forgery::CommitRemove | Forgery::CommitKick | Forgery::CommitBan | Forgery::CommitRole => {
            let user = match (req.forgery, &req.user) {
                (Forgery::CommitRole, None) => req.actor.clone(),
                _ => user_field()?,
            };
            let role = req.role.clone();
            let what = format!(
                "a commit by {} with an admin's authority: {} of {user}",
                req.actor,
                req.forgery.name()
            );
            let result = room_change_as(&p, &req.room, &req.actor, true, |state| {
                Ok(match req.forgery {
                    Forgery::CommitRemove => Operation::Remove { user: user.clone() },
                    Forgery::CommitKick => Operation::Kick { user: user.clone() },
                    Forgery::CommitBan => Operation::Ban { user: user.clone() },
                    _ => {
                        let name = role.as_deref().unwrap_or("admin");
                        let role = state.role_index_by_name(name).ok_or_else(|| {
                            ControlError::bad(format!("the room has no role {name:?}"))
                        })?;
                        Operation::SetRole {
                            user: user.clone(),
                            role,
                        }
                    }
                })
            })
            .await;
            let answer = match result {
                Ok(r) => format!("committed (epoch {})", r.epoch),
                Err(e) => e.message,
            };
            Ok(axum::Json(ForgeResponse::new(what, answer)))
        }
        Forgery::ReplayCommit => {
            let body = kept(&p, "update", &req.room)?;
            let r = post(&p, &hub, "update", &req.room, body, None).await;
            sent_answer(format!("{}'s last update for the room, again", p.domain), r)
        }
        Forgery::ReplayMessage => {
            let body = kept(&p, "submitMessage", &req.room)?;
            let first = p
                .server
                .peers
                .post(&hub, "submitMessage", &req.room, body.clone())
                .await;
            // Told the epoch moved on, an attacker re-stamps the message
            // with the current epoch: the hub can only refuse it for who
            // sent it.
            let current = match &first {
                Ok(r) if r.status == 200 => match mimi::decode(&r.body) {
                    Ok(mimi::SubmitMessageResponse::EpochTooOld { current_epoch }) => {
                        Some(current_epoch)
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some(epoch) = current else {
                return sent_answer(
                    format!("{}'s last submitMessage for the room, again", p.domain),
                    first.map(|r| r.status),
                );
            };
            let mut msg = submit_request(&body)?;
            let restamped = restamp(msg.app_message.bytes(), epoch).ok_or_else(|| {
                ControlError::internal("the kept appMessage is not a PrivateMessage")
            })?;
            msg.app_message = mimi::Raw::from_bytes(restamped);
            let r = post(
                &p,
                &hub,
                "submitMessage",
                &req.room,
                mimi::encode(&msg),
                None,
            )
            .await;
            sent_answer(
                format!(
                    "{}'s last submitMessage for the room, again, then re-stamped with epoch {epoch}",
                    p.domain
                ),
                r,
            )
        }
        Forgery::MessageAs => {
            let user = user_field()?;
            let msg = sent_for(&kept(&p, "submitMessage", &req.room)?, &user)?;
            let r = post(&p, &hub, "submitMessage", &req.room, msg, None).await;
            sent_answer(
                format!(
                    "a submitMessage from {} whose sendingUri is {user}",
                    p.domain
                ),
                r,
            )
        }
        Forgery::NotifyToHub => {
            let body = kept(&p, "notify", &req.room)?;
            let r = post(&p, &hub, "notify", &req.room, body, None).await;
            sent_answer(
                format!("a notify for the room from {}, not its hub", p.domain),
                r,
            )
        }
        Forgery::FromMismatch => {
            // Impersonating the provider of `user`: its user as sendingUri,
            // its domain in From, over the adversary's own certificate.
            let user = user_field()?;
            let claimed = ids::domain_of(&user, 'u')
                .ok_or_else(|| ControlError::bad(format!("not a user URI: {user}")))?
                .to_owned();
            let msg = sent_for(&kept(&p, "submitMessage", &req.room)?, &user)?;
            let r = post(&p, &hub, "submitMessage", &req.room, msg, Some(&claimed)).await;
            sent_answer(
                format!(
                    "a submitMessage for {user} with From: mimi@{claimed}, over {}'s certificate",
                    p.domain
                ),
                r,
            )
        }
        Forgery::GroupInfoNonMember => {
            let actor = p.user(&req.actor)?;
            let client = actor
                .clients
                .lock()
                .await
                .first()
                .cloned()
                .ok_or_else(|| ControlError::conflict("the actor has no client"))?;
            let mut c = client.lock().await;
            if c.is_member(&req.room) {
                return Err(ControlError::bad(format!(
                    "{} is in {}: groupInfo must come from a non-member",
                    req.actor, req.room
                )));
            }
            let answer = match c.join_external(&req.room).await {
                Ok(events) => {
                    actor.push(events);
                    "joined by external commit".to_owned()
                }
                Err(e) => e.to_string(),
            };
            Ok(axum::Json(ForgeResponse {
                sent: format!("a groupInfo request by {}, not a participant", req.actor),
                answer,
                ..Default::default()
            }))
        }
        Forgery::JoinAs => {
            let user = user_field()?;
            let (domain, name) = ids::parse(&user)
                .filter(|u| u.kind == 'u')
                .map(|u| (u.domain.to_owned(), u.name.to_owned()))
                .ok_or_else(|| ControlError::bad(format!("not a user URI: {user}")))?;
            if domain == p.domain {
                return Err(ControlError::bad(format!(
                    "{user} is a user of this provider: join_as names another provider's"
                )));
            }
            // A device number the user's own provider would not give soon.
            let uri = ids::client_uri(&domain, &ids::client_name(&name, 99));
            let mut c = super::Client::new(p.ep.clone(), &user, &uri, 1).map_err(client_error)?;
            let answer = match c.join_external(&req.room).await {
                Ok(_) => "joined by external commit".to_owned(),
                Err(e) => e.to_string(),
            };
            Ok(axum::Json(ForgeResponse {
                sent: format!(
                    "a groupInfo request (then an external commit) for {uri}, a device of {user}, from {}",
                    p.domain
                ),
                answer,
                ..Default::default()
            }))
        }
        Forgery::JoinUnlisted => {
            let user = user_field()?;
            let name = ids::parse(&user)
                .filter(|u| u.kind == 'u' && u.domain == p.domain)
                .map(|u| u.name.to_owned())
                .ok_or_else(|| {
                    ControlError::bad(format!(
                        "join_unlisted names a user of this provider, not {user}"
                    ))
                })?;
            let actor = p.user(&req.actor)?;
            let client = p.acting_client(&actor, &req.room, None).await?;
            let joining = {
                let mut c = client.lock().await;
                actor.push(c.sync());
                c.fetch_group_info(&req.room).await
            };
            let uri = ids::client_uri(&p.domain, &ids::client_name(&name, 99));
            let answer = match joining {
                Ok(joining) => {
                    let mut c =
                        super::Client::new(p.ep.clone(), &user, &uri, 1).map_err(client_error)?;
                    match c.commit_external(&req.room, joining).await {
                        Ok(_) => "joined by external commit".to_owned(),
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => format!("the GroupInfo request failed: {e}"),
            };
            Ok(axum::Json(ForgeResponse {
                sent: format!(
                    "an external commit by {uri}, a device of {user} (not a participant), with the GroupInfo {} asked for",
                    req.actor
                ),
                answer,
                ..Default::default()
            }))
        }
        Forgery::ClaimWithoutConsent => {
            let user = user_field()?;
            // A room of the adversary's own, named after the case's room.
            let name = format!(
                "{}-claim",
                ids::parse(&req.room).map(|r| r.name).unwrap_or("room")
            );
            let created = super::ops::create_room(
                State(p.clone()),
                Bytes::from(
                    serde_json::to_vec(&CreateRoomRequest {
                        actor: req.actor.clone(),
                        name,
                        kind: RoomKind::Group,
                        with: None,
                        status_policy: None,
                        max_users: None,
                    })
                    .map_err(|e| ControlError::internal(e.to_string()))?,
                ),
            )
            .await?;
            let added = super::policy_ops::add_participant(
                State(p.clone()),
                Bytes::from(
                    serde_json::to_vec(&MembershipRequest {
                        room: created.room.clone(),
                        actor: req.actor.clone(),
                        user: user.clone(),
                    })
                    .map_err(|e| ControlError::internal(e.to_string()))?,
                ),
            )
            .await;
            Ok(axum::Json(ForgeResponse {
                sent: format!(
                    "an add of {user} to {}, so the adversary's hub claims {user}'s KeyPackages without consent",
                    created.room
                ),
                answer: match added {
                    Ok(r) => format!("added (epoch {})", r.epoch),
                    Err(e) => e.message,
                },
                ..Default::default()
            }))
        }
        Forgery::ReportForgedFrank | Forgery::ReportNamingAnother => {
            let user = user_field()?;
            let naming_another = req.forgery == Forgery::ReportNamingAnother;
            let actor = p.user(&req.actor)?;
            let client = p.acting_client(&actor, &req.room, None).await?;
            let report = {
                let mut c = client.lock().await;
                actor.push(c.sync());
                c.forged_abuse_report(&req.room, &user, naming_another)
                    .map_err(ControlError::conflict)?
            };
            let what = if naming_another {
                format!("a report of messages others sent, naming {user} as their sender")
            } else {
                format!("a report of {user}'s messages with each server frank altered")
            };
            let r = post(
                &p,
                &hub,
                "reportAbuse",
                &req.room,
                mimi::encode(&report),
                None,
            )
            .await;
            sent_answer(what, r)
        }
        Forgery::ProxyDownloadForeign => {
            // A host no provider of the room serves assets from; the room's
            // path in it lets the harness file the exchange by case.
            let url = format!(
                "https://unrelated.invalid/{}",
                req.room.trim_start_matches(ids::SCHEME)
            );
            let r = p
                .server
                .peers
                .proxy_download(&hub, &url)
                .await
                .map(|r| r.status);
            sent_answer(format!("a proxyDownload of {url}"), r)
        }
        Forgery::Truncated
        | Forgery::TrailingBytes
        | Forgery::Empty
        | Forgery::Garbage
        | Forgery::Oversized
        | Forgery::UnknownProtocol => {
            let endpoint = req.forgery.endpoint(req.endpoint).ok_or_else(|| {
                ControlError::bad(format!("{} needs `endpoint`", req.forgery.name()))
            })?;
            let name = endpoint.name();
            let base = || kept(&p, name, &req.room);
            let (body, what) = match req.forgery {
                Forgery::Truncated => {
                    let mut b = base()?;
                    b.truncate(b.len().saturating_sub(1));
                    (b, "without its last octet")
                }
                Forgery::TrailingBytes => {
                    let mut b = base()?;
                    b.push(0);
                    (b, "with an octet after its end")
                }
                Forgery::UnknownProtocol => {
                    let mut b = base()?;
                    if endpoint != ForgeEndpoint::SubmitMessage || b.is_empty() {
                        return Err(ControlError::bad(
                            "unknown_protocol is for submitMessage, whose first field is the protocol",
                        ));
                    }
                    b[0] = 2;
                    (b, "with protocol 2, which no draft defines")
                }
                Forgery::Empty => (Vec::new(), "empty"),
                Forgery::Garbage => (vec![0xff; 64], "64 octets 0xff"),
                _ => (vec![0; OVERSIZED], "of 1 MiB + 1 zero octets"),
            };
            let described = match req.forgery {
                Forgery::Empty | Forgery::Garbage | Forgery::Oversized => {
                    format!("a {name} body {what}")
                }
                _ => format!("{}'s last {name} body {what}", p.domain),
            };
            // keyMaterial's path names the target user, not the room: the
            // one of the adversary's last claim for the room.
            let subject = match endpoint {
                ForgeEndpoint::KeyMaterial => {
                    let claim: mimi::KeyMaterialRequest = mimi::decode(&base()?)
                        .map_err(|e| ControlError::internal(format!("kept keyMaterial: {e}")))?;
                    String::from_utf8_lossy(claim.tbs.target_user.as_slice()).into_owned()
                }
                _ => req.room.clone(),
            };
            let r = post(&p, &hub, name, &subject, body, None).await;
            sent_answer(described, r)
        }
        Forgery::MessageStampedAhead | Forgery::MessageStampedBeforeTheRoom => {
            stamped(&p, &req).await
        }
        Forgery::UntrustedCertificate | Forgery::NoCertificate | Forgery::NotifyFromThirdParty => {
            Err(ControlError::bad(format!(
                "{} is sent by the harness itself, not by a provider",
                req.forgery.name()
            )))
        }
    }
}

/// An hour: far past content-08 §8.1's "a few minutes in the future".
const AHEAD_MS: u64 = 60 * 60 * 1000;
/// A day: before any room a case made.
const BEFORE_MS: u64 = 24 * 60 * 60 * 1000;
/// How long the forge call waits for the target to take (or refuse) the
/// notify carrying the stamped message, so the harness finds it on the wire.
const DELIVERY_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `message_stamped_*`: the actor sends a text message in a room this
/// provider hosts, and its hub stamps it with a time no honest hub gives.
async fn stamped(p: &Arc<Provider>, req: &ForgeRequest) -> Res<ForgeResponse> {
    let now = crate::reference::server::now_ms();
    let (ts, text, when) = match req.forgery {
        Forgery::MessageStampedAhead => {
            (now + AHEAD_MS, "stamped an hour ahead", "an hour ahead of")
        }
        _ => (
            now.saturating_sub(BEFORE_MS),
            "stamped a day before the room",
            "a day behind",
        ),
    };
    p.server.hooks.stamp_next(&req.room, ts);
    let sent = super::ops::send(
        State(p.clone()),
        Bytes::from(
            serde_json::to_vec(&SendRequest {
                room: req.room.clone(),
                actor: req.actor.clone(),
                client: None,
                content: SendContent::Intent(serde_json::json!({ "text": text })),
            })
            .map_err(|e| ControlError::internal(e.to_string()))?,
        ),
    )
    .await;
    let sent = match sent {
        Ok(axum::Json(r)) => r,
        Err(e) => {
            // Nothing was stamped: the next message must not be.
            let _ = p.server.hooks.take_stamp(&req.room);
            return Err(e);
        }
    };
    p.server
        .hooks
        .stamped_delivered(&req.room, DELIVERY_LIMIT)
        .await;
    Ok(axum::Json(ForgeResponse {
        sent: format!(
            "a message of {} that the hub stamped {ts}, {when} its clock",
            req.actor
        ),
        answer: "fanned out".to_owned(),
        message_id: Some(sent.message_id),
        content: Some(sent.content),
    }))
}

/// `msg`, an MLSMessage holding a PrivateMessage, with its epoch set to
/// `epoch` (RFC 9420 §6: version, wire_format, group_id<V>, epoch).
fn restamp(msg: &[u8], epoch: u64) -> Option<Vec<u8>> {
    if msg.get(2..4)? != [0, 2] {
        return None;
    }
    let (len, n) = varint(msg.get(4..)?)?;
    let at = 4 + n + len;
    let mut out = msg.to_vec();
    out.get_mut(at..at + 8)?
        .copy_from_slice(&epoch.to_be_bytes());
    Some(out)
}

/// An MLS variable-length integer (RFC 9420 §2.1.2): (value, its size).
fn varint(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.first()?;
    let size = 1usize << (first >> 6);
    if size > 4 {
        return None;
    }
    let mut v = u64::from(first & 0x3f);
    for x in b.get(1..size)? {
        v = (v << 8) | u64::from(*x);
    }
    Some((usize::try_from(v).ok()?, size))
}

/// A kept submitMessage body, decoded.
fn submit_request(body: &[u8]) -> Result<SubmitMessageRequest, ControlError> {
    mimi::decode(body).map_err(|e| ControlError::internal(format!("kept submitMessage: {e}")))
}

/// A kept submitMessage body with `sendingUri` set to `user`.
fn sent_for(body: &[u8], user: &str) -> Result<Vec<u8>, ControlError> {
    let mut msg = submit_request(body)?;
    msg.sending_uri = VLBytes::new(user.as_bytes().to_vec());
    Ok(mimi::encode(&msg))
}

/// The body last kept for `what` in `room`, or 409 when there is none.
fn kept(p: &Provider, what: &str, room: &str) -> Result<Vec<u8>, ControlError> {
    p.server.hooks.kept(what, room).ok_or_else(|| {
        ControlError::conflict(format!(
            "no {what} body for {room} to start from: a step before must make one"
        ))
    })
}

async fn post(
    p: &Provider,
    hub: &str,
    endpoint: &str,
    room: &str,
    body: Vec<u8>,
    from: Option<&str>,
) -> Result<u16, MimiError> {
    p.server
        .peers
        .post_from(hub, endpoint, room, body, from)
        .await
        .map(|r| r.status)
}

/// What the adversary saw of a forged commit: `committed` (its events kept
/// for the actor) or the error.
fn committed(actor: &User, r: Result<Vec<ClientEvent>, ClientError>) -> String {
    match r {
        Ok(events) => {
            actor.push(events);
            "committed".to_owned()
        }
        Err(e) => e.to_string(),
    }
}
