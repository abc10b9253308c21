//! Forgetting a finished case's users and rooms (control `release`), so a
//! long run's memory follows the cases in flight, not the cases run.

use super::{Server, State, lock};
use openmls::prelude::{GroupId, OpenMlsProvider as _, PublicGroup, hash_ref::ProposalRef};
use openmls_traits::storage::StorageProvider as _;
use std::collections::HashSet;

impl Server {
    /// Drops what the server side holds of local `users` (their clients'
    /// registrations, KeyPackages, inboxes, Welcome routes, profiles and
    /// consent) and of `rooms` (hub state and its MLS storage, fan-out
    /// membership, notify digests, uploads, abuse reports, kept bodies).
    /// Names it does not hold are ignored: releasing is idempotent.
    pub fn release(&self, users: &[String], rooms: &[String]) {
        let mut st = lock(&self.state);
        let mut clients = HashSet::new();
        for user in users {
            if let Some(cs) = st.users.remove(user) {
                clients.extend(cs);
            }
            st.profiles.remove(user);
            st.consent.forget_user(user);
        }
        for c in &clients {
            st.key_packages.remove(c);
            // Dropping an inbox also ends the client task waiting on it.
            st.inboxes.remove(c);
        }
        st.kp_owner.retain(|_, c| !clients.contains(c));
        let rooms: HashSet<&str> = rooms.iter().map(String::as_str).collect();
        st.room_clients.retain(|room, members| {
            members.retain(|c| !clients.contains(c));
            !members.is_empty() && !rooms.contains(room.as_str())
        });
        for room in &rooms {
            self.forget_hub_room(&mut st, room);
            st.seen_notify.remove(*room);
        }
        st.kp_route.retain(|_, r| !rooms.contains(r.room.as_str()));
        st.assets.retain(|_, a| !rooms.contains(a.room.as_str()));
        st.abuse_reports
            .retain(|r| !rooms.contains(r.room.as_str()));
        drop(st);
        lock(&self.hooks.kept).retain(|(_, room), _| !rooms.contains(room.as_str()));
    }

    /// Drops a hosted room: its entry and its PublicGroup, which lives in
    /// the server's MLS storage beside the state.
    pub(super) fn forget_hub_room(&self, st: &mut State, room: &str) {
        if let Some(hub) = st.hub_rooms.remove(room) {
            let gid = GroupId::from_slice(hub.group.group_id().as_slice());
            let storage = self.crypto.storage();
            // A storage error only means there was nothing to drop.
            let _ = storage.clear_proposal_queue::<GroupId, ProposalRef>(&gid);
            let _ = PublicGroup::delete(storage, &gid);
        }
    }
}
