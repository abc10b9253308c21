//! Franking at the hub (§5.4.1) and `/reportAbuse` (§5.9).
//!
//! The hub franks an application message whose PrivateMessage AAD carries
//! a `frank_aad` tag when the room's GroupContext names this hub's franking
//! key. It never sees content, except what a reporting user discloses in an
//! abuse report: to validate a report the hub reads the salt, sender and
//! room URIs from the disclosed MIMI content, recomputes the tag and the
//! server frank, and checks its own signature.

use super::local::{hub_of, peer_garbage};
use super::{CIPHERSUITE, MimiError, Server, bad, ids, lock};
use crate::protocol::{self, AbuseReport, Frank, FrankingAgentData, Raw};
use crate::reference::franking::{self, FrankError};
use openmls::prelude::{BasicCredential, PublicGroup, tls_codec::VLBytes};
use openmls_traits::signatures::Signer as _;

/// An abuse report the hub accepted (kept for the control API's
/// `abuse_reports`, a test observation point).
#[derive(Debug, Clone)]
pub struct AcceptedReport {
    pub room: String,
    pub reporting_user: String,
    pub alleged_abuser: String,
    pub reason_code: u8,
    pub note: String,
    /// Accepted timestamps of the reported messages, in report order.
    pub accepted_timestamps: Vec<u64>,
    /// The encoded report as received.
    pub body: Vec<u8>,
}

fn text(v: &VLBytes, what: &str) -> Result<String, MimiError> {
    String::from_utf8(v.as_slice().to_vec()).map_err(|_| bad(format!("{what} is not UTF-8")))
}

impl Server {
    /// This hub's `FrankingAgentData`, encoded (the franking_signature_key
    /// component of the rooms it hosts).
    pub(crate) fn franking_agent(&self) -> Vec<u8> {
        let cred = BasicCredential::new(ids::provider_uri(&self.domain).into_bytes());
        protocol::encode(&FrankingAgentData {
            franking_signature_key: VLBytes::new(self.franking_signer.public().to_vec()),
            credential: Raw::encode(&openmls::prelude::Credential::from(cred))
                .expect("a basic credential encodes"),
        })
    }

    /// The frank for an accepted message, when its AAD carries a tag and
    /// the room names this hub's franking key; `None` otherwise.
    pub(crate) fn frank(
        &self,
        group: &PublicGroup,
        aad: &[u8],
        sender: &str,
        room: &str,
        accepted_timestamp: u64,
    ) -> Result<Option<Frank>, MimiError> {
        let Ok(tag) = franking::tag_from_aad(aad) else {
            return Ok(None);
        };
        let agent = super::policy::state_of(group.group_context().extensions())
            .ok()
            .and_then(|s| s.franking_agent);
        if agent.as_deref() != Some(self.franking_agent().as_slice()) {
            return Ok(None);
        }
        let ctx = franking::context(sender, room, accepted_timestamp);
        let server_frank = franking::server_frank(&self.hub_key, &tag, &ctx);
        let cs = u16::from(CIPHERSUITE);
        let sig = self
            .franking_signer
            .sign(&franking::integrity_content(server_frank, cs, ctx))
            .map_err(|e| MimiError::Internal(format!("franking signature: {e:?}")))?;
        Ok(Some(Frank {
            server_frank,
            franking_signature_ciphersuite: cs,
            franking_integrity_signature: VLBytes::new(sig),
        }))
    }

    /// `/reportAbuse/{room}` at the hub: every reported message's frank
    /// must be one this hub made for that content, sender and room.
    pub(crate) fn hub_report_abuse(
        &self,
        origin: &str,
        room: &str,
        body: &[u8],
    ) -> Result<(), MimiError> {
        let report: AbuseReport = protocol::decode(body).map_err(bad)?;
        let reporter = text(&report.reporting_user, "reportingUser")?;
        if ids::domain_of(&reporter, 'u') != Some(origin) {
            return Err(MimiError::Forbidden(format!(
                "{origin} cannot speak for {reporter}"
            )));
        }
        let abuser = text(&report.alleged_abuser_uri, "allegedAbuserUri")?;
        ids::domain_of(&abuser, 'u').ok_or_else(|| bad("allegedAbuserUri is not a user URI"))?;
        let note = text(&report.note, "note")?;
        if !lock(&self.state).hub_rooms.contains_key(room) {
            return Err(MimiError::NotFound(format!("no room {room} here")));
        }
        let cs = u16::from(CIPHERSUITE);
        // QUIRK hub-takes-any-report.
        let checked = if self.quirks.checks_reports() {
            &report.messages[..]
        } else {
            &[]
        };
        for (i, m) in checked.iter().enumerate() {
            let refused = |e: FrankError| bad(format!("message {i}: {e}"));
            let content = m.message_content.as_slice();
            let f = franking::content_fields(content).map_err(refused)?;
            if f.room_uri != room {
                return Err(refused(FrankError::UriMismatch {
                    what: "room",
                    found: f.room_uri,
                    expected: room.to_owned(),
                }));
            }
            if f.sender_uri != abuser {
                return Err(refused(FrankError::UriMismatch {
                    what: "sender",
                    found: f.sender_uri,
                    expected: abuser.clone(),
                }));
            }
            let tag = franking::franking_tag(&f.salt, content);
            let ctx = franking::context(&f.sender_uri, room, m.accepted_timestamp);
            if franking::server_frank(&self.hub_key, &tag, &ctx) != m.frank.server_frank {
                return Err(refused(FrankError::ServerFrankMismatch));
            }
            franking::verify_integrity(&m.frank, cs, ctx, self.franking_signer.public())
                .map_err(refused)?;
        }
        lock(&self.state).abuse_reports.push(AcceptedReport {
            room: room.to_owned(),
            reporting_user: reporter,
            alleged_abuser: abuser,
            reason_code: report.reason_code,
            note,
            accepted_timestamps: report
                .messages
                .iter()
                .map(|m| m.accepted_timestamp)
                .collect(),
            body: body.to_vec(),
        });
        Ok(())
    }

    /// The abuse reports accepted for `room`.
    pub fn abuse_reports(&self, room: &str) -> Vec<AcceptedReport> {
        lock(&self.state)
            .abuse_reports
            .iter()
            .filter(|r| r.room == room)
            .cloned()
            .collect()
    }
}

impl super::LocalEndpoint {
    /// The `FrankingAgentData` of this provider as a hub, for the rooms
    /// its users create.
    pub fn franking_agent(&self) -> Vec<u8> {
        self.server.franking_agent()
    }

    /// Sends an abuse report about `room` to its hub (§5.9).
    pub async fn report_abuse(&self, room: &str, report: &AbuseReport) -> Result<(), MimiError> {
        let hub = hub_of(room)?;
        let body = protocol::encode(report);
        self.server.hooks.record("local reportAbuse", &body);
        if hub == self.server.domain {
            return self
                .server
                .hub_report_abuse(&self.server.domain, room, &body)
                .map_err(|e| match e {
                    MimiError::BadRequest(m) => {
                        MimiError::Forbidden(format!("the hub refused the report: {m}"))
                    }
                    other => other,
                });
        }
        let r = self
            .server
            .peers
            .post(&hub, "reportAbuse", room, body)
            .await?;
        let reason = || String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned();
        match r.status {
            201 => Ok(()),
            400 | 403 => Err(MimiError::Forbidden(format!(
                "the hub refused the report: {}",
                reason()
            ))),
            404 => Err(MimiError::NotFound(format!("{hub}: {}", reason()))),
            s => Err(peer_garbage(&hub, format!("HTTP {s}: {}", reason()))),
        }
    }
}
