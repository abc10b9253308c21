//! Delivery notifications and read receipts (draft-mahy-mimi-message-status-01)
//! under the room's StatusNotificationPolicy (room-policy-03 §6.1).
//!
//! A report travels as MIMI content whose body is one SinglePart of
//! `application/mimi-message-status` (see `docs/deviations.md`). This
//! client's local preference, for a status the room leaves `optional`:
//! it sends no `delivered` reports, and sends `read` when its user marks
//! messages read (control `mark_read`). When the room requires delivery
//! notifications it reports every message it receives from another user
//! as `delivered`, never a report itself (so reports cannot loop).

use super::{Client, ClientError};
use crate::content::{
    self, MessageId, MessageStatus, MessageStatusReport, MimiContent, PartBody, PerMessageStatus,
    readable::MESSAGE_STATUS,
};
use crate::reference::room::roles::default_status_notifications;
use crate::reference::room::wire::{Optionality, StatusNotificationPolicy};

/// The status report `c` carries, if it is one: a single part of
/// `application/mimi-message-status`. A report that does not decode is
/// still a report (not a message to show), with nothing in it.
pub(super) fn report_of(c: &MimiContent) -> Option<MessageStatusReport> {
    match &c.nested_part.body {
        PartBody::Single {
            content_type,
            content,
        } if content_type == MESSAGE_STATUS => Some(
            content::decode_status(content)
                .map(|d| d.report)
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

/// Whether a report of `status` may be sent in a room with `policy`:
/// `delivered` falls under delivery notifications, `read` and `unread`
/// under read receipts; the other statuses are not governed by the policy.
pub(crate) fn allowed(policy: &StatusNotificationPolicy, status: MessageStatus) -> bool {
    let governing = match status {
        MessageStatus::DELIVERED => policy.delivery_notifications,
        MessageStatus::READ | MessageStatus::UNREAD => policy.read_receipts,
        _ => return true,
    };
    governing != Optionality::Forbidden
}

impl Client {
    /// The room's status notification policy as this client's group holds
    /// it; the default (both `optional`) when the room publishes none.
    pub fn status_policy(&self, room: &str) -> Result<StatusNotificationPolicy, ClientError> {
        Ok(self
            .room_model(room)?
            .status_notifications
            .unwrap_or_else(default_status_notifications))
    }

    /// The content bytes of a report giving `status` for each of `ids`,
    /// sent by this client's user in `room`. Refused when the room's policy
    /// forbids that status.
    pub fn build_report(
        &self,
        room: &str,
        ids: &[MessageId],
        status: MessageStatus,
    ) -> Result<Vec<u8>, ClientError> {
        let report = MessageStatusReport {
            statuses: ids
                .iter()
                .map(|&message_id| PerMessageStatus { message_id, status })
                .collect(),
        };
        self.authorize_report(room, &report)?;
        let mut salt = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut salt);
        let c = MimiContent {
            salt,
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: {
                let mut e = content::Extensions::default();
                e.set_text(1, &self.user);
                e.set_text(2, room);
                e
            },
            nested_part: content::NestedPart {
                disposition: content::Disposition::RENDER,
                language: String::new(),
                body: PartBody::Single {
                    content_type: MESSAGE_STATUS.to_owned(),
                    content: content::encode_status(&report),
                },
            },
        };
        Ok(content::encode(&c))
    }

    /// Refuses a report with a status the room's policy forbids.
    pub(super) fn authorize_report(
        &self,
        room: &str,
        report: &MessageStatusReport,
    ) -> Result<(), ClientError> {
        let policy = self.status_policy(room)?;
        match report.statuses.iter().find(|s| !allowed(&policy, s.status)) {
            Some(s) => Err(ClientError::Refused(format!(
                "the room's status notification policy forbids {} reports",
                s.status.name().unwrap_or("these")
            ))),
            None => Ok(()),
        }
    }

    /// What a received report may change here: its entries the room's
    /// policy (at receipt) allows. Called for every recorded message;
    /// `None` when the content is not a report.
    pub(super) fn admitted_report(
        &self,
        room: &str,
        c: &MimiContent,
    ) -> Option<Vec<PerMessageStatus>> {
        let report = report_of(c)?;
        let policy = self
            .status_policy(room)
            .unwrap_or_else(|_| default_status_notifications());
        Some(
            report
                .statuses
                .into_iter()
                // QUIRK forbidden-status-shown.
                .filter(|s| {
                    allowed(&policy, s.status) || !self.ep.quirks().admits_statuses_by_policy()
                })
                .collect(),
        )
    }

    /// Notes a message (not a report) received from another user for a
    /// `delivered` report, when the room requires delivery notifications.
    pub(super) fn note_received(&mut self, room: &str, sender: &str, id: MessageId) {
        if sender == self.user {
            return;
        }
        let required = self
            .status_policy(room)
            .is_ok_and(|p| p.delivery_notifications == Optionality::Required);
        if required {
            self.pending_delivered
                .entry(room.to_owned())
                .or_default()
                .push(id);
        }
    }

    /// Sends one `delivered` report per room for the messages noted since
    /// the last call. A send that lost an epoch race stays pending for the
    /// next round (the client task runs again when the inbox grows); any
    /// other failure drops it, as a lost notification.
    pub async fn send_due_reports(&mut self) {
        let due = std::mem::take(&mut self.pending_delivered);
        for (room, ids) in due {
            if !self.is_member(&room) {
                continue;
            }
            let Ok(bytes) = self.build_report(&room, &ids, MessageStatus::DELIVERED) else {
                continue;
            };
            if let Err(ClientError::Conflict(_)) = self.send(&room, &bytes).await {
                self.pending_delivered.entry(room).or_default().extend(ids);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(d: Optionality, r: Optionality) -> StatusNotificationPolicy {
        StatusNotificationPolicy {
            delivery_notifications: d,
            read_receipts: r,
        }
    }

    #[test]
    fn the_policy_governs_delivered_and_read_only() {
        use Optionality::*;
        let p = policy(Forbidden, Optional);
        assert!(!allowed(&p, MessageStatus::DELIVERED));
        assert!(allowed(&p, MessageStatus::READ));
        let p = policy(Required, Forbidden);
        assert!(allowed(&p, MessageStatus::DELIVERED));
        assert!(!allowed(&p, MessageStatus::READ));
        assert!(!allowed(&p, MessageStatus::UNREAD));
        assert!(allowed(&p, MessageStatus::EXPIRED));
        assert!(allowed(&p, MessageStatus(77)));
    }
}
