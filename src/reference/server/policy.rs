//! The hub's policy check of a commit (protocol-06 §5.3, §7.5;
//! room-policy-03 §8): the room state in the new GroupContext must follow
//! from the current one by changes the committer (or, for a committed
//! leave, the leaving user) may make, and the MLS clients the commit adds
//! and removes must match the participant list: every member client belongs
//! to an active participant, and a user's clients go only with that user
//! (removed, banned, leaving) or by a kick the committer may do. Anything
//! else is `notAllowed`. A user may join the list without clients: the list
//! may hold inactive participants, e.g. users without KeyPackages
//! (protocol-06 §7.5).

use super::{credential_uri, ids};
use crate::reference::room::dictionary::{self, APP_DATA_DICTIONARY_EXTENSION};
use crate::reference::room::roles::{ROLE_BANNED, ROLE_NO_ROLE};
use crate::reference::room::{Operation, RoomState};
use openmls::prelude::{Extensions, GroupContext, PublicGroup, Sender, StagedCommit};
use std::collections::{BTreeMap, BTreeSet};

/// The room state a GroupContext carries.
pub(crate) fn state_of(exts: &Extensions<GroupContext>) -> Result<RoomState, String> {
    let ext = exts
        .unknown(APP_DATA_DICTIONARY_EXTENSION)
        .ok_or("the group carries no app_data_dictionary")?;
    dictionary::decode_state(&ext.0).map_err(|e| format!("room state: {e}"))
}

fn user_of_leaf(group: &PublicGroup, leaf: openmls::prelude::LeafNodeIndex) -> Option<String> {
    group
        .leaf(leaf)
        .and_then(|l| credential_uri(l.credential()))
        .and_then(|c| ids::user_of_client(&c))
}

fn active(state: &RoomState, user: &str) -> bool {
    let role = state.role_of(user);
    role != ROLE_NO_ROLE && role != ROLE_BANNED && !state.restricted_to_removals(user)
}

/// Checks `staged` (a commit by `committer`, a client URI, to `group`)
/// against the room's policy. `Err` is the reason for `notAllowed`.
/// `checks_kicks` false (a quirk) lets anyone remove participants;
/// `checks_clients` false (a quirk) lets member clients outlive or precede
/// their user's place in the participant list.
pub(crate) fn check_commit(
    group: &PublicGroup,
    staged: &StagedCommit,
    committer: &str,
    checks_kicks: bool,
    checks_clients: bool,
) -> Result<(), String> {
    let committer_user =
        ids::user_of_client(committer).ok_or_else(|| format!("{committer} names no user"))?;
    let old = state_of(group.group_context().extensions())?;
    let new = state_of(staged.group_context().extensions())?;

    // Clients before, removed and added; who removed whom.
    let mut clients_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in group.members() {
        if let Some(c) = credential_uri(&m.credential)
            && let Some(u) = ids::user_of_client(&c)
        {
            clients_of.entry(u).or_default().insert(c);
        }
    }
    let mut removed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut removed_by_self: BTreeSet<String> = BTreeSet::new();
    for q in staged.remove_proposals() {
        let target_leaf = q.remove_proposal().removed();
        let client = group
            .leaf(target_leaf)
            .and_then(|l| credential_uri(l.credential()))
            .ok_or("a Remove names an unknown leaf")?;
        let user = ids::user_of_client(&client).ok_or("a removed client names no user")?;
        let proposer = match q.sender() {
            Sender::Member(i) => user_of_leaf(group, *i),
            _ => None,
        };
        if proposer.as_deref() == Some(user.as_str()) && user != committer_user {
            removed_by_self.insert(user.clone());
        }
        removed.entry(user).or_default().insert(client);
    }
    let mut after = clients_of.clone();
    for (user, clients) in &removed {
        if let Some(set) = after.get_mut(user) {
            set.retain(|c| !clients.contains(c));
        }
    }
    for q in staged.add_proposals() {
        let client = credential_uri(q.add_proposal().key_package().leaf_node().credential())
            .ok_or("an Add names no client URI")?;
        let user = ids::user_of_client(&client).ok_or("an added client names no user")?;
        after.entry(user).or_default().insert(client);
    }
    if !group
        .members()
        .any(|m| credential_uri(&m.credential).as_deref() == Some(committer))
    {
        // An external commit: the joining client is a member afterwards.
        after
            .entry(committer_user.clone())
            .or_default()
            .insert(committer.to_owned());
    }
    after.retain(|_, set| !set.is_empty());

    // A user whose clients all leave on their own proposals leaves the list.
    let mut expected = old.clone();
    for user in &removed_by_self {
        let all_gone = !after.contains_key(user);
        if all_gone && expected.index_of(user).is_some() {
            let effect = expected
                .plan(user, &Operation::Leave)
                .map_err(|r| format!("{user} may not leave: {r}"))?;
            expected = expected
                .apply_effect(&effect)
                .map_err(|r| format!("{user} may not leave: {r}"))?;
        }
    }
    // The rest is the committer's change.
    if let Some(update) =
        dictionary::participant_diff(&expected, &new).map_err(|e| e.to_string())?
    {
        let only_removals =
            update.added_participants.is_empty() && update.changed_role_participants.is_empty();
        expected = if !checks_kicks && only_removals {
            expected.apply(&update).map_err(|e| e.to_string())?
        } else {
            expected
                .authorize_update(&committer_user, &update)
                .map_err(|r| r.to_string())?
        };
    }
    if expected.metadata != new.metadata {
        expected
            .authorize(
                &committer_user,
                &Operation::SetMetadata(new.metadata.clone()),
            )
            .map_err(|r| r.to_string())?;
    }

    // MLS membership must match the participant list.
    for user in after.keys() {
        if checks_clients && !active(&new, user) {
            return Err(format!(
                "{user} would keep clients without being an active participant"
            ));
        }
    }
    for user in removed.keys() {
        let stays = active(&new, user);
        if checks_kicks && stays && *user != committer_user && !removed_by_self.contains(user) {
            old.authorize(&committer_user, &Operation::Kick { user: user.clone() })
                .map_err(|r| format!("removing the clients of {user}: {r}"))?;
        }
    }
    Ok(())
}
