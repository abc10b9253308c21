//! The room state the wire shows: per room of a case, what the handshakes
//! the relay carried say about its epochs and its room state, held apart
//! from what any target reports (issue: "shadow room state").
//!
//! Fed from two points, each before the target that acts on the bytes can
//! answer a control call about them, so the shadow is never behind a
//! target's report by a race: a `notify` (the hub's fan-out of what it
//! accepted) when the relay receives it, before forwarding; an `update`
//! when the hub's answer says it accepted it, before that answer reaches
//! the sender.
//!
//! What it follows:
//! - per room, the room state (participants with role names, metadata) at
//!   each epoch a commit on the wire reached, when the wire tells it: a
//!   GroupContextExtensions proposal carrying the `app_data_dictionary`
//!   gives it whole; a commit of proposals that leave the dictionary alone
//!   keeps the epoch before's; anything else (a proposal by reference while
//!   a dictionary proposal crossed in that epoch, an AppDataUpdate, an
//!   unknown type) makes it unknown;
//! - per follower (a target that receives notifies for the room and never
//!   sends one), the newest epoch the wire brought it. A Welcome hides its
//!   epoch, so after one the follower's epoch is unknown until the next
//!   commit reaches it.
//!
//! - per room, the application messages each hub→follower notify carried,
//!   with when the relay received them, for telling where a message that
//!   never arrived was lost (`run::lost`): counted before forwarding, so a
//!   message a follower shows is always among them.
//!
//! - per room, the MLS group's members (each leaf's client, from its basic
//!   credential) at each epoch, once the wire showed a whole ratchet tree
//!   (a Welcome's fan-out, or the tree an accepted commit's update carries)
//!   and from then on by applying each commit's proposals and path to the
//!   leaves of the epoch before (RFC 9420 §12.3: updates, removes, then
//!   adds at the leftmost blank leaf; an external joiner last). A proposal
//!   committed by reference is found among the standalone proposals that
//!   crossed in its epoch by its ProposalRef; one that did not cross, or a
//!   credential other than a basic one holding text, leaves the members
//!   unknown.

use crate::protocol::mls::{
    DictionaryEffect, MessageSummary, ProposalSummary, PublicSummary, SenderSummary, proposal_ref,
    summarize_message, tree_leaves,
};
use crate::protocol::room::{RoomView, read_view};
use crate::protocol::{FanoutTail, HandshakeBundle, RatchetTreeOption, UpdateOutcome};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::time::SystemTime;

/// The shadow of every room of one case.
#[derive(Debug, Default)]
pub struct Shadow {
    rooms: HashMap<String, RoomShadow>,
}

#[derive(Debug, Default)]
struct RoomShadow {
    /// Targets that sent a notify for the room: its hub.
    hubs: BTreeSet<usize>,
    /// Per epoch a commit on the wire reached: that commit's bytes, and the
    /// room state at the epoch when the wire tells it.
    epochs: BTreeMap<u64, Reached>,
    /// Epochs in which a standalone proposal that may change the room state
    /// crossed the wire (a commit may then include it by reference).
    unsure: BTreeSet<u64>,
    /// The standalone proposals that crossed the wire, per epoch, for
    /// resolving a commit's references.
    proposals: HashMap<u64, Vec<Standalone>>,
    /// Per follower: the newest epoch the wire brought it, `None` after a
    /// Welcome.
    followers: HashMap<usize, Option<u64>>,
    /// The wire no longer tells the room state (two different commits of
    /// one epoch accepted, or an encrypted commit): no room state is
    /// claimed from then on.
    lost: bool,
    /// Application messages fanned out: (received, hub, follower, a hash
    /// of the MLS message).
    forwarded: Vec<(SystemTime, usize, usize, u64)>,
}

#[derive(Debug)]
struct Reached {
    commit: Vec<u8>,
    view: Option<RoomView>,
    /// The group's leaves at the epoch: each leaf's client, `None` for a
    /// blank one.
    leaves: Option<Leaves>,
    /// KeyPackageRefs (hex) the commit added: what tells which epoch a
    /// Welcome's ratchet tree is of.
    adds: Vec<String>,
}

type Leaves = Vec<Option<String>>;

/// A standalone proposal, as a commit may reference it.
#[derive(Debug)]
struct Standalone {
    /// Its AuthenticatedContent, which its ProposalRef hashes.
    content: Vec<u8>,
    proposal: ProposalSummary,
    /// The proposer's leaf, for a member.
    sender: Option<u32>,
}

/// A hash of an MLS message's bytes, for telling fanned-out messages apart
/// without keeping them.
pub(crate) fn message_hash(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// The room as a key: a path's room identifier and a room URI name the same
/// room once percent-decoding and the `mimi://` scheme are set aside.
pub(crate) fn room_key(room: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(room).decode_utf8_lossy();
    decoded
        .strip_prefix("mimi://")
        .unwrap_or(&decoded)
        .to_owned()
}

impl Shadow {
    /// A notify from `hub` to `follower` for `room` (the path's room
    /// identifier), with its body as sent.
    pub fn notify(&mut self, hub: usize, follower: usize, room: &str, body: &[u8]) {
        let Ok(batch) = crate::protocol::decode_fanout_batch(body) else {
            return;
        };
        let r = self.rooms.entry(room_key(room)).or_default();
        r.hubs.insert(hub);
        r.followers.remove(&hub);
        for m in &batch {
            match &m.tail {
                FanoutTail::Commit { external_proposals } => {
                    for p in external_proposals {
                        r.proposal(p.bytes());
                    }
                    r.commit(m.message.bytes(), Some(follower), None);
                }
                FanoutTail::Proposal { more_proposals } => {
                    r.proposal(m.message.bytes());
                    for p in more_proposals {
                        r.proposal(p.bytes());
                    }
                }
                FanoutTail::Welcome {
                    ratchet_tree: RatchetTreeOption::Full(tree),
                } => {
                    if !r.hubs.contains(&follower) {
                        r.followers.insert(follower, None);
                    }
                    r.welcome(m.message.bytes(), tree.bytes());
                }
                FanoutTail::Application { .. } => {
                    let h = message_hash(m.message.bytes());
                    r.forwarded.push((SystemTime::now(), hub, follower, h));
                }
            }
        }
    }

    /// How many distinct application messages of `room` the relay received
    /// from `hub` for `follower` at or after `since`, leaving out those
    /// whose [`message_hash`] is in `except`.
    pub fn forwarded_since(
        &self,
        room: &str,
        (hub, follower): (usize, usize),
        since: SystemTime,
        except: &std::collections::HashSet<u64>,
    ) -> usize {
        let Some(r) = self.rooms.get(&room_key(room)) else {
            return 0;
        };
        r.forwarded
            .iter()
            .filter(|(t, h, f, m)| {
                *t >= since && (*h, *f) == (hub, follower) && !except.contains(m)
            })
            .map(|(.., m)| *m)
            .collect::<std::collections::HashSet<u64>>()
            .len()
    }

    /// An update from `sender` for `room` that the hub answered with
    /// `response` (HTTP 2xx): taken when the answer says it was accepted.
    pub fn update(&mut self, sender: usize, room: &str, request: &[u8], response: &[u8]) {
        let Ok(answer) = crate::protocol::decode::<crate::protocol::UpdateRoomResponse>(response)
        else {
            return;
        };
        if !matches!(answer.outcome, UpdateOutcome::Success { .. }) {
            return;
        }
        let Ok(bundle) = crate::protocol::decode::<HandshakeBundle>(request) else {
            return;
        };
        let r = self.rooms.entry(room_key(room)).or_default();
        match &bundle {
            HandshakeBundle::Commit {
                commit,
                ratchet_tree: RatchetTreeOption::Full(tree),
                ..
            } => {
                let to = (!r.hubs.contains(&sender)).then_some(sender);
                r.commit(commit.bytes(), to, tree_leaves(tree.bytes()));
            }
            HandshakeBundle::Proposal {
                proposal,
                more_proposals,
            } => {
                r.proposal(proposal.bytes());
                for p in more_proposals {
                    r.proposal(p.bytes());
                }
            }
        }
    }

    /// What a client's reported state contradicts in the shadow of `room`:
    /// a room state or MLS members (sorted client URIs) other than the ones
    /// the wire gives for the reported epoch, or, for a follower, an epoch
    /// beyond what the wire brought it.
    pub fn check(
        &self,
        room: &str,
        target: usize,
        epoch: u64,
        (view, members): (&RoomView, &[String]),
    ) -> Option<String> {
        let r = self.rooms.get(&room_key(room))?;
        if !r.hubs.contains(&target)
            && let Some(Some(newest)) = r.followers.get(&target)
            && epoch > *newest
        {
            return Some(format!(
                "reports epoch {epoch}, but the newest commit the wire brought its provider reaches epoch {newest}"
            ));
        }
        if r.lost {
            return None;
        }
        let reached = r.epochs.get(&epoch)?;
        let mut differs = Vec::new();
        if let Some(shown) = &reached.view
            && shown != view
        {
            if shown.participants != view.participants {
                let list = |p: &[(String, String)]| {
                    let items: Vec<String> = p.iter().map(|(u, r)| format!("{u}={r}")).collect();
                    format!("[{}]", items.join(", "))
                };
                differs.push(format!(
                    "participants {} where the commits on the wire give {}",
                    list(&view.participants),
                    list(&shown.participants)
                ));
            }
            for (field, have, want) in [
                ("name", &view.name, &shown.name),
                ("topic", &view.topic, &shown.topic),
                ("avatar", &view.avatar, &shown.avatar),
            ] {
                if have != want {
                    differs.push(format!(
                        "{field} {have:?} where the commits on the wire give {want:?}"
                    ));
                }
            }
        }
        if let Some(leaves) = &reached.leaves {
            let mut shown: Vec<&str> = leaves.iter().flatten().map(String::as_str).collect();
            shown.sort_unstable();
            let mut have: Vec<&str> = members.iter().map(String::as_str).collect();
            have.sort_unstable();
            if shown != have {
                differs.push(format!(
                    "members [{}] where the ratchet tree and commits on the wire give [{}]",
                    have.join(", "),
                    shown.join(", ")
                ));
            }
        }
        (!differs.is_empty()).then(|| format!("reports at epoch {epoch} {}", differs.join(", ")))
    }
}

impl RoomShadow {
    /// An accepted commit; `to` is the follower it reached, if any; `tree`
    /// the leaves of the ratchet tree its sender gave for the new epoch.
    fn commit(&mut self, bytes: &[u8], to: Option<usize>, tree: Option<Leaves>) {
        let p = match summarize_message(bytes) {
            Some(MessageSummary::PublicMessage(p)) if p.content_type == "commit" => p,
            // An encrypted commit hides what it does: the follower's epoch
            // is unknown from here.
            Some(MessageSummary::PrivateMessage(p)) if p.content_type == "commit" => {
                if let Some(f) = to {
                    self.followers.insert(f, None);
                }
                self.lost = true;
                return;
            }
            _ => return,
        };
        let Some(next) = p.epoch.checked_add(1) else {
            return;
        };
        if let Some(f) = to {
            let newest = self.followers.entry(f).or_insert(None);
            *newest = Some(newest.map_or(next, |n| n.max(next)));
        }
        if let Some(seen) = self.epochs.get_mut(&next) {
            if seen.commit != bytes {
                self.lost = true;
            } else if seen.leaves.is_none() {
                // The fan-out came first; the update brings the tree.
                seen.leaves = tree;
            }
            return;
        }
        let before = self.epochs.get(&p.epoch);
        let mut view = if self.unsure.contains(&p.epoch) {
            None
        } else {
            before.and_then(|e| e.view.clone())
        };
        for proposal in &p.proposals {
            match &proposal.dictionary {
                // By reference: a proposal that crossed the wire in this
                // epoch; `unsure` already says whether one could change
                // the room state.
                _ if proposal.reference.is_some() => {}
                DictionaryEffect::Keeps => {}
                DictionaryEffect::Replaces(dict) => view = read_view(dict).ok(),
                DictionaryEffect::Unknown => view = None,
            }
        }
        let derived = before
            .and_then(|e| e.leaves.as_deref())
            .and_then(|leaves| self.next_leaves(leaves, &p));
        let leaves = derived.or(tree);
        let adds = p
            .proposals
            .iter()
            .filter_map(|x| x.key_package_ref.clone())
            .collect();
        self.epochs.insert(
            next,
            Reached {
                commit: bytes.to_vec(),
                view,
                leaves,
                adds,
            },
        );
    }

    /// The leaves after commit `p` applied to `leaves`, its epoch's: `None`
    /// when a proposal it references did not cross the wire, or a new leaf's
    /// client cannot be read.
    fn next_leaves(&self, leaves: &[Option<String>], p: &PublicSummary) -> Option<Leaves> {
        let committer = match p.sender {
            SenderSummary::Member { leaf_index } => Some(leaf_index),
            SenderSummary::NewMemberCommit => None,
            _ => return None,
        };
        let mut all: Vec<(&ProposalSummary, Option<u32>)> = Vec::new();
        for x in &p.proposals {
            match &x.reference {
                None => all.push((x, committer)),
                Some(reference) => {
                    let reference = hex::decode(reference).ok()?;
                    let s = self.proposals.get(&p.epoch)?.iter().find(|s| {
                        proposal_ref(reference.len(), &s.content).as_deref()
                            == Some(reference.as_slice())
                    })?;
                    all.push((&s.proposal, s.sender));
                }
            }
        }
        let of = |name: &'static str| {
            all.iter()
                .filter(move |(x, _)| x.proposal_type.as_deref() == Some(name))
        };
        let mut next = leaves.to_vec();
        for (x, sender) in of("update") {
            *next.get_mut(usize::try_from((*sender)?).ok()?)? = Some(x.identity.clone()?);
        }
        let removed = of("remove")
            .map(|(x, _)| x.removed)
            .chain(of("self_remove").map(|(_, sender)| *sender));
        for leaf in removed {
            *next.get_mut(usize::try_from(leaf?).ok()?)? = None;
        }
        let add = |next: &mut Leaves, client: String| match next.iter().position(Option::is_none) {
            Some(blank) => next[blank] = Some(client),
            None => next.push(Some(client)),
        };
        for (x, _) in of("add") {
            add(&mut next, x.identity.clone()?);
        }
        match (committer, p.has_path) {
            (Some(leaf), Some(true)) => {
                *next.get_mut(usize::try_from(leaf).ok()?)? = Some(p.path_identity.clone()?);
            }
            (Some(_), _) => {}
            (None, Some(true)) => add(&mut next, p.path_identity.clone()?),
            (None, _) => return None,
        }
        // The tree drops blank leaves at its right edge (§7.8).
        while next.last() == Some(&None) {
            next.pop();
        }
        Some(next)
    }

    /// A Welcome fanned out with the ratchet tree of the epoch the commit
    /// that added its new members reached.
    fn welcome(&mut self, message: &[u8], tree: &[u8]) {
        let Some(MessageSummary::Welcome(w)) = summarize_message(message) else {
            return;
        };
        let Some(reached) = self
            .epochs
            .values_mut()
            .rev()
            .find(|e| e.adds.iter().any(|a| w.key_package_refs.contains(a)))
        else {
            return;
        };
        if reached.leaves.is_none() {
            reached.leaves = tree_leaves(tree);
        }
    }

    /// A standalone proposal the hub accepted or fanned out.
    fn proposal(&mut self, bytes: &[u8]) {
        let Some(MessageSummary::PublicMessage(p)) = summarize_message(bytes) else {
            return;
        };
        if p.proposals
            .iter()
            .any(|x| x.dictionary != DictionaryEffect::Keeps)
        {
            self.unsure.insert(p.epoch);
        }
        let (Some(proposal), Some(content)) = (
            p.proposals.into_iter().next(),
            bytes.get(p.authenticated_content),
        ) else {
            return;
        };
        let sender = match p.sender {
            SenderSummary::Member { leaf_index } => Some(leaf_index),
            _ => None,
        };
        // The same proposal crosses the wire once per follower and per
        // retry; one copy is enough to resolve a reference to it.
        let known = self.proposals.entry(p.epoch).or_default();
        if known.iter().any(|s| s.content == content) {
            return;
        }
        known.push(Standalone {
            content: content.to_vec(),
            proposal,
            sender,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{FanoutMessage, Raw, encode};

    // A hub's notifies to a follower, from a run of the `roles` suite:
    // Alice (ref-a, target 0) adds Bob (ref-b, target 1) at epoch 0, with
    // his Welcome, then makes him a moderator at epoch 1.
    const ADD: &[u8] = include_bytes!("../../../fixtures/run/shadow/notify-add-commit.bin");
    const WELCOME: &[u8] = include_bytes!("../../../fixtures/run/shadow/notify-welcome.bin");
    const ROLE: &[u8] = include_bytes!("../../../fixtures/run/shadow/notify-role-commit.bin");
    const ROOM: &str = "mimi://ref-a.example/r/room-69df27-209-1";
    const PATH_ROOM: &str = "ref-a.example/r/room-69df27-209-1";
    const ALICE: &str = "mimi://ref-a.example/u/alice-69df27-209";
    const BOB: &str = "mimi://ref-b.example/u/bob-69df27-209";
    const ALICE_1: &str = "mimi://ref-a.example/d/alice-69df27-209-1";
    const BOB_1: &str = "mimi://ref-b.example/d/bob-69df27-209-1";

    fn view(bob: &str) -> RoomView {
        RoomView {
            participants: vec![(ALICE.into(), "admin".into()), (BOB.into(), bob.into())],
            name: None,
            topic: None,
            avatar: None,
        }
    }

    /// The group's clients at epochs 1 and 2.
    fn members() -> Vec<String> {
        vec![ALICE_1.into(), BOB_1.into()]
    }

    fn fed(notifies: &[&[u8]]) -> Shadow {
        let mut s = Shadow::default();
        for body in notifies {
            s.notify(0, 1, PATH_ROOM, body);
        }
        s
    }

    #[test]
    fn the_state_at_each_epoch_is_what_the_commits_give() {
        let s = fed(&[ADD, WELCOME, ROLE]);

        assert_eq!(s.check(ROOM, 1, 1, (&view("user"), &members())), None);
        assert_eq!(s.check(ROOM, 1, 2, (&view("moderator"), &members())), None);
        // The role of epoch 2 reported for epoch 1 (an epoch one too low).
        let wrong = s
            .check(ROOM, 0, 1, (&view("moderator"), &members()))
            .expect("caught");
        assert!(
            wrong.starts_with("reports at epoch 1 participants [")
                && wrong.contains(&format!("{BOB}=user]")),
            "{}",
            wrong
        );
        let mut named = view("moderator");
        named.name = Some("Lunch".into());
        let wrong = s.check(ROOM, 0, 2, (&named, &members())).expect("caught");
        assert!(
            wrong.contains("name Some(\"Lunch\") where the commits on the wire give None"),
            "{}",
            wrong
        );
        // An epoch no commit on the wire reached claims nothing; nor does a
        // room the wire never showed; the room's URI and its path form are
        // one room.
        assert_eq!(s.check(ROOM, 0, 0, (&view("admin"), &members())), None);
        assert_eq!(
            s.check(
                "mimi://ref-a.example/r/other",
                0,
                2,
                (&view("x"), &members())
            ),
            None
        );
        assert!(
            s.check(
                "ref-a.example%2Fr%2Froom-69df27-209-1",
                0,
                1,
                (&view("x"), &members())
            )
            .is_some()
        );
    }

    #[test]
    fn a_follower_may_not_be_past_what_the_wire_brought_it() {
        let s = fed(&[ADD, WELCOME, ROLE]);
        let ahead = s
            .check(ROOM, 1, 3, (&view("moderator"), &members()))
            .expect("caught");
        assert_eq!(
            ahead,
            "reports epoch 3, but the newest commit the wire brought its provider reaches epoch 2"
        );
        // The hub is ahead of its fan-out while it sends it.
        assert_eq!(s.check(ROOM, 0, 3, (&view("moderator"), &members())), None);
        // After a Welcome the follower's epoch is the wire's secret, until
        // the next commit reaches it.
        let s = fed(&[ADD, WELCOME]);
        assert_eq!(s.check(ROOM, 1, 7, (&view("user"), &members())), None);
        let s = fed(&[ADD]);
        assert!(s.check(ROOM, 1, 2, (&view("user"), &members())).is_some());
    }

    #[test]
    fn a_retry_changes_nothing_and_a_second_commit_of_an_epoch_ends_the_claims() {
        let s = fed(&[ADD, WELCOME, ROLE, ROLE, ADD]);
        assert!(
            s.check(ROOM, 0, 1, (&view("moderator"), &members()))
                .is_some()
        );
        // The role commit with other bytes (its last byte, in the
        // membership tag): the wire shows two commits of epoch 1.
        let mut batch = crate::protocol::decode_fanout_batch(ROLE).unwrap();
        let mut bytes = batch[0].message.bytes().to_vec();
        *bytes.last_mut().unwrap() ^= 1;
        batch[0] = FanoutMessage {
            message: Raw::from_bytes(bytes),
            ..batch[0].clone()
        };
        let other: Vec<u8> = batch.iter().flat_map(encode).collect();
        let s = fed(&[ADD, WELCOME, ROLE, &other]);
        assert_eq!(s.check(ROOM, 0, 1, (&view("moderator"), &members())), None);
    }

    #[test]
    fn a_proposal_that_may_change_the_state_makes_its_epoch_unsure() {
        let mut r = RoomShadow::default();
        let batch = crate::protocol::decode_fanout_batch(ADD).unwrap();
        r.commit(batch[0].message.bytes(), Some(1), None);
        assert!(r.epochs[&1].view.is_some());
        // A commit's own proposal read as a standalone one: it replaces
        // the dictionary, so epoch 1 is unsure.
        let role = crate::protocol::decode_fanout_batch(ROLE).unwrap();
        r.proposal(role[0].message.bytes());
        assert!(r.unsure.contains(&1));
        // The same bytes again (another follower's copy, a retry) are kept once.
        r.proposal(role[0].message.bytes());
        assert_eq!(r.proposals[&1].len(), 1);
    }

    #[test]
    fn the_members_are_the_welcomes_tree_then_what_the_commits_do() {
        let s = fed(&[ADD, WELCOME, ROLE]);
        for epoch in [1, 2] {
            let v = view(if epoch == 1 { "user" } else { "moderator" });
            assert_eq!(s.check(ROOM, 1, epoch, (&v, &members())), None);
            let short = s
                .check(ROOM, 0, epoch, (&v, &[ALICE_1.to_owned()]))
                .expect("caught");
            assert_eq!(
                short,
                format!(
                    "reports at epoch {epoch} members [{ALICE_1}] where the ratchet tree and commits on the wire give [{ALICE_1}, {BOB_1}]"
                )
            );
        }
        // Without the Welcome's tree the members are not known.
        let s = fed(&[ADD, ROLE]);
        assert_eq!(s.check(ROOM, 0, 2, (&view("moderator"), &[])), None);
    }

    fn add(client: &str) -> ProposalSummary {
        ProposalSummary {
            proposal_type: Some("add".into()),
            reference: None,
            key_package_ref: None,
            removed: None,
            identity: Some(client.into()),
            dictionary: DictionaryEffect::Keeps,
        }
    }

    fn remove(leaf: u32) -> ProposalSummary {
        ProposalSummary {
            proposal_type: Some("remove".into()),
            removed: Some(leaf),
            identity: None,
            ..add("")
        }
    }

    fn commit(sender: SenderSummary, proposals: Vec<ProposalSummary>) -> PublicSummary {
        PublicSummary {
            group_id: String::new(),
            epoch: 4,
            sender,
            content_type: "commit",
            proposals,
            has_path: Some(false),
            path_identity: None,
            authenticated_content: 0..0,
        }
    }

    #[test]
    fn a_commit_removes_then_adds_at_the_leftmost_blank_leaf() {
        let r = RoomShadow::default();
        let leaves: Leaves = vec![Some("a".into()), Some("b".into()), Some("c".into())];
        let by_a = SenderSummary::Member { leaf_index: 0 };
        let p = commit(by_a.clone(), vec![add("d"), remove(1), add("e")]);
        assert_eq!(
            r.next_leaves(&leaves, &p),
            Some(vec![
                Some("a".into()),
                Some("d".into()),
                Some("c".into()),
                Some("e".into())
            ])
        );
        // Blank leaves at the right edge go.
        let p = commit(by_a.clone(), vec![remove(2), remove(1)]);
        assert_eq!(r.next_leaves(&leaves, &p), Some(vec![Some("a".into())]));
        // A path with another credential replaces the committer's leaf.
        let mut p = commit(by_a, vec![]);
        p.has_path = Some(true);
        p.path_identity = Some("a2".into());
        assert_eq!(
            r.next_leaves(&leaves, &p).unwrap()[0].as_deref(),
            Some("a2")
        );
        // An external joiner takes the leftmost blank leaf, after the
        // removal of its old self.
        let mut p = commit(SenderSummary::NewMemberCommit, vec![remove(0)]);
        p.has_path = Some(true);
        p.path_identity = Some("a3".into());
        assert_eq!(
            r.next_leaves(&leaves, &p).unwrap()[0].as_deref(),
            Some("a3")
        );
        // A leaf past the tree, or an added client that cannot be read,
        // leaves the members unknown.
        let by_b = SenderSummary::Member { leaf_index: 1 };
        assert_eq!(
            r.next_leaves(&leaves, &commit(by_b.clone(), vec![remove(9)])),
            None
        );
        let mut unreadable = add("");
        unreadable.identity = None;
        assert_eq!(
            r.next_leaves(&leaves, &commit(by_b, vec![unreadable])),
            None
        );
    }

    #[test]
    fn a_proposal_by_reference_is_the_one_that_crossed_in_its_epoch() {
        let mut r = RoomShadow::default();
        let leaves: Leaves = vec![Some("a".into()), Some("b".into())];
        let content = b"wire format, content and signature of b's SelfRemove".to_vec();
        let reference = proposal_ref(32, &content).unwrap();
        let mut by_ref = add("");
        by_ref.proposal_type = None;
        by_ref.identity = None;
        by_ref.reference = Some(hex::encode(&reference));
        let p = commit(SenderSummary::Member { leaf_index: 0 }, vec![by_ref]);
        // Not crossed: unknown.
        assert_eq!(r.next_leaves(&leaves, &p), None);
        let mut self_remove = add("");
        self_remove.proposal_type = Some("self_remove".into());
        self_remove.identity = None;
        let other = Standalone {
            content: b"another proposal".to_vec(),
            proposal: remove(0),
            sender: Some(1),
        };
        let crossed = Standalone {
            content,
            proposal: self_remove,
            sender: Some(1),
        };
        r.proposals.insert(3, vec![]);
        r.proposals.insert(4, vec![other, crossed]);
        assert_eq!(r.next_leaves(&leaves, &p), Some(vec![Some("a".into())]));
    }
}
