//! Explicit consent (§5.7, §9): what each local user allowed, consent
//! requests and updates to and from other providers, and the check
//! `/keyMaterial` makes before handing out a consent-requiring user's
//! KeyPackages.
//!
//! Consent is recorded at the target's provider, the one that answers
//! key-material requests. Per (target, requester) the latest `grant` or
//! `revoke` wins: one without a room replaces every earlier decision for
//! that requester; one for a room sets that room only, and a room's own
//! decision overrides the any-room one.

use super::local::LocalEndpoint;
use super::{MimiError, Server, bad, ids, lock};
use crate::protocol::{self, ConsentEntry, ConsentOperation, user_code};
use openmls::prelude::tls_codec::VLBytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// What a local user should hear about consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentNoticeKind {
    /// `requester` asks the user (the target) for consent.
    Requested { requester: String },
    /// `requester` withdrew that request.
    Cancelled { requester: String },
    /// `target` granted the user (the requester) consent.
    Granted { target: String },
    /// `target` revoked (or preemptively denied) consent.
    Revoked { target: String },
}

/// A consent event for one local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentNotice {
    pub user: String,
    pub room: Option<String>,
    pub kind: ConsentNoticeKind,
}

/// Receives consent notices (set by the control layer).
pub type ConsentListener = Arc<dyn Fn(ConsentNotice) + Send + Sync>;

/// One target's decisions about one requester.
#[derive(Debug, Default, Clone)]
struct Decisions {
    any_room: Option<bool>,
    rooms: BTreeMap<String, bool>,
}

/// The consent state of the local users.
#[derive(Debug, Default)]
pub(crate) struct ConsentState {
    /// Users whose KeyPackages need consent.
    required: HashSet<String>,
    /// (target, requester) → decisions.
    decisions: HashMap<(String, String), Decisions>,
    /// Pending requests received for local targets: (requester, target, room).
    requests: BTreeSet<(String, String, Option<String>)>,
}

impl ConsentState {
    /// Forgets everything about `user`, as target or requester (control
    /// `release`).
    pub(crate) fn forget_user(&mut self, user: &str) {
        self.required.remove(user);
        self.decisions
            .retain(|(target, requester), _| target != user && requester != user);
        self.requests
            .retain(|(requester, target, _)| requester != user && target != user);
    }

    /// `None` when `requester` may claim `target`'s KeyPackages for
    /// `room`; else the `KeyMaterialUserCode` to answer.
    pub(crate) fn refusal(&self, target: &str, requester: &str, room: &str) -> Option<u8> {
        if !self.required.contains(target) || target == requester {
            return None;
        }
        let d = self
            .decisions
            .get(&(target.to_owned(), requester.to_owned()));
        let allowed = d.and_then(|d| d.rooms.get(room).copied().or(d.any_room));
        match allowed {
            Some(true) => None,
            _ if d.is_some_and(|d| d.rooms.values().any(|v| *v)) => {
                Some(user_code::NO_CONSENT_FOR_THIS_ROOM)
            }
            _ => Some(user_code::NO_CONSENT),
        }
    }

    fn decide(&mut self, target: &str, requester: &str, room: Option<&str>, allow: bool) {
        let d = self
            .decisions
            .entry((target.to_owned(), requester.to_owned()))
            .or_default();
        match room {
            None => {
                d.any_room = Some(allow);
                d.rooms.clear();
            }
            Some(r) => {
                d.rooms.insert(r.to_owned(), allow);
            }
        }
    }
}

fn text(v: &VLBytes, what: &str) -> Result<String, MimiError> {
    String::from_utf8(v.as_slice().to_vec()).map_err(|_| bad(format!("{what} is not UTF-8")))
}

/// The checked URIs of an entry: requester, target, room.
fn scope(e: &ConsentEntry) -> Result<(String, String, Option<String>), MimiError> {
    let requester = text(&e.requester_uri, "requesterUri")?;
    let target = text(&e.target_uri, "targetUri")?;
    ids::domain_of(&requester, 'u').ok_or_else(|| bad("requesterUri is not a user URI"))?;
    ids::domain_of(&target, 'u').ok_or_else(|| bad("targetUri is not a user URI"))?;
    if requester == target {
        return Err(bad("requesterUri and targetUri are the same user"));
    }
    let room = match &e.room_id {
        Some(r) => {
            let r = text(r, "roomId")?;
            ids::domain_of(&r, 'r').ok_or_else(|| bad("roomId is not a room URI"))?;
            Some(r)
        }
        None => None,
    };
    Ok((requester, target, room))
}

impl Server {
    /// Sets who hears consent notices (the control layer's users).
    pub fn set_consent_listener(&self, listener: ConsentListener) {
        *lock(&self.consent_listener) = Some(listener);
    }

    fn tell(&self, notice: ConsentNotice) {
        let l = lock(&self.consent_listener).clone();
        if let Some(l) = l {
            l(notice);
        }
    }

    /// The refusal `/keyMaterial` answers for `target`, or `None`.
    pub(crate) fn consent_refusal(&self, target: &str, requester: &str, room: &str) -> Option<u8> {
        // QUIRK ignores-consent.
        if self.quirks.ignores_consent() {
            return None;
        }
        lock(&self.state).consent.refusal(target, requester, room)
    }

    /// Serves `/requestConsent/{domain}` (`request` true) or
    /// `/updateConsent/{domain}` from `source`. Nothing changes unless the
    /// whole entry is acceptable.
    pub(crate) fn receive_consent(
        &self,
        source: &str,
        path_domain: &str,
        request: bool,
        entry: &ConsentEntry,
    ) -> Result<(), MimiError> {
        if entry.operation.is_request() != request {
            return Err(bad(if request {
                "requestConsent carries only request or cancel"
            } else {
                "updateConsent carries only grant or revoke"
            }));
        }
        let (requester, target, room) = scope(entry)?;
        for kp in &entry.client_key_packages {
            kp.parse().map_err(bad)?;
        }
        if path_domain != self.domain {
            return Err(bad(format!("{path_domain} is not this provider's domain")));
        }
        // The acting side speaks for its own user; the other is ours.
        let (actor, ours) = if request {
            (&requester, &target)
        } else {
            (&target, &requester)
        };
        if ids::domain_of(ours, 'u') != Some(self.domain.as_str()) {
            return Err(bad(format!("{ours} is not a user of {}", self.domain)));
        }
        if ids::domain_of(actor, 'u') != Some(source) {
            return Err(MimiError::Forbidden(format!(
                "{source} cannot speak for {actor}"
            )));
        }
        let known = lock(&self.state).users.contains_key(ours.as_str());
        if !known {
            return Err(MimiError::NotFound(format!("no user {ours}")));
        }
        let kind = {
            let mut st = lock(&self.state);
            let key = (requester.clone(), target.clone(), room.clone());
            match entry.operation {
                ConsentOperation::Request => {
                    st.consent.requests.insert(key);
                    Some(ConsentNoticeKind::Requested {
                        requester: requester.clone(),
                    })
                }
                // A cancel without a matching request is accepted and ignored.
                ConsentOperation::Cancel => {
                    st.consent
                        .requests
                        .remove(&key)
                        .then(|| ConsentNoticeKind::Cancelled {
                            requester: requester.clone(),
                        })
                }
                ConsentOperation::Grant => Some(ConsentNoticeKind::Granted {
                    target: target.clone(),
                }),
                ConsentOperation::Revoke => Some(ConsentNoticeKind::Revoked {
                    target: target.clone(),
                }),
            }
        };
        if let Some(kind) = kind {
            self.tell(ConsentNotice {
                user: ours.clone(),
                room,
                kind,
            });
        }
        Ok(())
    }
}

impl LocalEndpoint {
    /// Whether a local user's KeyPackages need explicit consent.
    pub fn set_consent_required(&self, user: &str, required: bool) {
        let mut st = lock(&self.server.state);
        if required {
            st.consent.required.insert(user.to_owned());
        } else {
            st.consent.required.remove(user);
        }
    }

    /// Sends a consent operation of a local user: `request`/`cancel` by the
    /// requester to the target's provider, `grant`/`revoke` by the target
    /// (recorded here first) to the requester's provider. Grants carry no
    /// KeyPackages.
    pub async fn send_consent(
        &self,
        operation: ConsentOperation,
        requester: &str,
        target: &str,
        room: Option<&str>,
    ) -> Result<(), MimiError> {
        let entry = ConsentEntry {
            operation,
            requester_uri: VLBytes::new(requester.as_bytes().to_vec()),
            target_uri: VLBytes::new(target.as_bytes().to_vec()),
            room_id: room.map(|r| VLBytes::new(r.as_bytes().to_vec())),
            client_key_packages: Vec::new(),
            consent_extensions: Vec::new(),
        };
        let (requester, target, room) = scope(&entry)?;
        let (actor, peer_user) = if operation.is_request() {
            (&requester, &target)
        } else {
            (&target, &requester)
        };
        let server = &self.server;
        if ids::domain_of(actor, 'u') != Some(server.domain.as_str()) {
            return Err(MimiError::Forbidden(format!("{actor} is not a local user")));
        }
        // Recorded before it is sent, so it is in force when the requester
        // hears of it; it stays when the requester's provider cannot be told.
        if !operation.is_request() {
            let allow = operation == ConsentOperation::Grant;
            lock(&server.state)
                .consent
                .decide(&target, &requester, room.as_deref(), allow);
        }
        let peer = ids::domain_of(peer_user, 'u')
            .unwrap_or_default()
            .to_owned();
        let body = protocol::encode(&entry);
        let endpoint = if operation.is_request() {
            "requestConsent"
        } else {
            "updateConsent"
        };
        server.hooks.record(format!("local {endpoint}"), &body);
        if peer == server.domain {
            return server.receive_consent(&peer, &peer, operation.is_request(), &entry);
        }
        let r = server.peers.post(&peer, endpoint, &peer, body).await?;
        if r.status == 201 {
            return Ok(());
        }
        let reason = format!(
            "HTTP {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        );
        Err(match r.status {
            404 => MimiError::NotFound(format!("{peer}: {reason}")),
            _ => MimiError::Peer {
                domain: peer,
                reason,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "mimi://a.example/u/alice";
    const B: &str = "mimi://b.example/u/bob";
    const R1: &str = "mimi://a.example/r/one";
    const R2: &str = "mimi://a.example/r/two";

    #[test]
    fn consent_decisions_follow_the_latest_scope() {
        let mut c = ConsentState::default();
        assert_eq!(c.refusal(B, A, R1), None, "consent not required");
        c.required.insert(B.to_owned());
        assert_eq!(c.refusal(B, A, R1), Some(user_code::NO_CONSENT));
        assert_eq!(c.refusal(B, B, R1), None, "one's own devices");
        c.decide(B, A, Some(R1), true);
        assert_eq!(c.refusal(B, A, R1), None);
        assert_eq!(
            c.refusal(B, A, R2),
            Some(user_code::NO_CONSENT_FOR_THIS_ROOM)
        );
        c.decide(B, A, None, true);
        assert_eq!(c.refusal(B, A, R2), None);
        c.decide(B, A, Some(R2), false);
        assert_eq!(c.refusal(B, A, R2), Some(user_code::NO_CONSENT));
        assert_eq!(c.refusal(B, A, R1), None);
        c.decide(B, A, None, false);
        assert_eq!(c.refusal(B, A, R1), Some(user_code::NO_CONSENT));
    }

    #[test]
    fn consent_scopes_are_checked() {
        let mut e = ConsentEntry {
            operation: ConsentOperation::Request,
            requester_uri: VLBytes::new(A.as_bytes().to_vec()),
            target_uri: VLBytes::new(B.as_bytes().to_vec()),
            room_id: Some(VLBytes::new(R1.as_bytes().to_vec())),
            client_key_packages: Vec::new(),
            consent_extensions: Vec::new(),
        };
        assert!(scope(&e).is_ok());
        e.room_id = Some(VLBytes::new(A.as_bytes().to_vec()));
        assert!(scope(&e).is_err());
        e.room_id = None;
        e.target_uri = VLBytes::new(A.as_bytes().to_vec());
        assert!(scope(&e).is_err());
        e.target_uri = VLBytes::new(vec![0xff]);
        assert!(scope(&e).is_err());
    }
}
