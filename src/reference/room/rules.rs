//! Authorization (room-policy-03 §8) and the participant-list changes each
//! operation makes (protocol-06 §7.5). Pure functions of a [`RoomState`].

use tls_codec::VLBytes;

use super::asset::AssetKind;
use super::capability::Capability;
use super::roles::{BANNED_ROLE_NAME, ROLE_BANNED, ROLE_NO_ROLE, ROLE_USER};
use super::state::{ApplyMetadataError, ApplyUpdateError, RoomState, validate_metadata};
use super::wire::{ParticipantListUpdate, Role, RoomMetaData, UserRolePair, UserindexRolePair};

/// Something an actor asks to do in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Add a user who is not in the participant list, with `role`
    /// (canAddParticipant, §8.1.1). The control API's `add_participant`.
    Add { user: String, role: u32 },
    /// Remove another user from the participant list and all of their
    /// clients (canRemoveParticipant, §8.1.2). The control API's
    /// `remove_participant` ("kick"): the user is gone and can be re-added.
    Remove { user: String },
    /// Remove another participant's clients only, leaving the participant
    /// list as it is (canKick, §8.1.2).
    Kick { user: String },
    /// Give a user the banned role and remove their clients (canBan, §8.1.3);
    /// a user not in the list is added as banned (a pre-emptive ban).
    Ban { user: String },
    /// Lift a ban by removing the banned entry from the participant list,
    /// so the user can be added again (canUnBan; see DEVIATIONS).
    Unban { user: String },
    /// Leave: the actor leaves the participant list with all of its clients
    /// (canRemoveSelf, §8.1.2).
    Leave,
    /// Remove some of the actor's own clients and keep its place in the
    /// participant list (canRemoveOwnClient, §8.1.2): a device unlinked.
    RemoveOwnClient,
    /// Move another participant to `role` (canChangeUserRole, §8.1.3).
    SetRole { user: String, role: u32 },
    /// Replace the room metadata whole (§8.2 capabilities per changed field).
    SetMetadata(RoomMetaData),
    /// Send a message (canSendMessage).
    Send,
    /// Send a reply (canSendMessage and canReplyToMessage).
    Reply,
    /// Send a reaction (canReactToMessage).
    React,
    /// Edit a message, one's own or another user's.
    Edit { own: bool },
    /// Delete (retract) a message, one's own or another user's.
    Delete { own: bool },
    /// Upload an asset of this kind (canUpload*, room-policy-03 Asset
    /// Capabilities).
    Upload(AssetKind),
    /// Download an asset of this kind (canDownload*).
    Download(AssetKind),
}

impl Operation {
    /// Add `user` as an ordinary `user` (the control API's `add_participant`).
    pub fn add(user: &str) -> Operation {
        Operation::Add {
            user: user.to_owned(),
            role: ROLE_USER,
        }
    }
}

/// Why the policy refuses an operation. `Display` is a one-line reason for
/// the control API's 403/409 message, e.g. `role user lacks canKick`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("role {role} lacks {capability}")]
    MissingCapability {
        role: String,
        capability: Capability,
    },
    #[error("role {role} may not move a user from {from} to {to}")]
    RoleChangeNotAllowed {
        role: String,
        from: String,
        to: String,
    },
    #[error("the room has fixed membership: cannot {action}")]
    FixedMembership { action: &'static str },
    #[error("{user} is banned; unban first")]
    Banned { user: String },
    #[error("{user} is already a participant")]
    AlreadyParticipant { user: String },
    #[error("{user} is already banned")]
    AlreadyBanned { user: String },
    #[error("{user} is not banned")]
    NotBanned { user: String },
    #[error("{user} is not a participant")]
    NotParticipant { user: String },
    #[error("{user} already has role {role}")]
    NoChange { user: String, role: String },
    #[error("cannot {action} oneself{hint}")]
    SelfTarget {
        action: &'static str,
        hint: &'static str,
    },
    #[error("role index {role_index} is not defined in the room's roles")]
    UnknownRole { role_index: u32 },
    #[error("cannot {action} with role no_role (index 0)")]
    RoleZero { action: &'static str },
    #[error("the room has no role 1 named \"banned\"")]
    NoBannedRole,
    #[error("role {role} must keep at least {min} participant(s)")]
    RoleMinimum { role: String, min: u32 },
    #[error("role {role} is full ({max} participant(s) at most)")]
    RoleFull { role: String, max: u32 },
    #[error("the room is full ({max} user(s) at most)")]
    RoomFull { max: u32 },
    #[error("no capability allows {action}")]
    NoSuchCapability { action: &'static str },
    #[error("the metadata update changes nothing")]
    MetadataUnchanged,
    #[error("invalid metadata: {0}")]
    InvalidMetadata(ApplyMetadataError),
}

impl Refusal {
    /// True for refusals that are state conflicts (the control API's 409)
    /// rather than policy denials (403).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Refusal::AlreadyParticipant { .. }
                | Refusal::AlreadyBanned { .. }
                | Refusal::NotBanned { .. }
                | Refusal::NotParticipant { .. }
                | Refusal::NoChange { .. }
                | Refusal::MetadataUnchanged
        )
    }
}

/// What an authorized operation changes. The MLS side turns it into
/// proposals: an AppDataUpdate for the participant list and/or room
/// metadata, and Remove proposals for every client of `remove_clients_of`,
/// all in the same commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effect {
    /// The participant-list change, if the list changes.
    pub update: Option<ParticipantListUpdate>,
    /// The new room metadata (replaces the old whole), for `SetMetadata`.
    pub metadata: Option<RoomMetaData>,
    /// A user all of whose clients must leave the MLS group.
    pub remove_clients_of: Option<String>,
}

impl Effect {
    /// `user` added as an ordinary user, asked of no policy: what the
    /// harness's adversary commits when the room must refuse any add (a
    /// DM's fixed membership).
    pub fn add_unchecked(user: &str) -> Effect {
        Effect {
            update: Some(ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: bytes(user),
                    role_index: ROLE_USER,
                }],
                ..ParticipantListUpdate::default()
            }),
            ..Effect::default()
        }
    }
}

/// A participant-list update from a peer failed validation or authorization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateRefusal {
    #[error("invalid participant list update: {0}")]
    Invalid(#[from] ApplyUpdateError),
    #[error("{0}")]
    Refused(#[from] Refusal),
}

fn bytes(text: &str) -> VLBytes {
    VLBytes::new(text.as_bytes().to_vec())
}

fn index_u32(index: usize) -> u32 {
    // The participant list came from a TLS vector of at most 2^30 bytes, so
    // it has far fewer than 2^32 entries.
    u32::try_from(index).unwrap_or(u32::MAX)
}

impl RoomState {
    fn role_or_refuse(&self, role_index: u32) -> Result<&Role, Refusal> {
        self.roles
            .get(role_index)
            .ok_or(Refusal::UnknownRole { role_index })
    }

    /// The actor's role; a non-participant gets role 0, or no role at all
    /// (and so nothing is allowed) if the room does not define role 0.
    fn actor_role(&self, actor: &str) -> Result<&Role, Refusal> {
        let index = self.role_of(actor);
        match self.roles.get(index) {
            Some(role) => Ok(role),
            None if index == ROLE_NO_ROLE => Err(Refusal::NotParticipant {
                user: actor.to_owned(),
            }),
            None => Err(Refusal::UnknownRole { role_index: index }),
        }
    }

    fn require(&self, role: &Role, capability: Capability) -> Result<(), Refusal> {
        if role.has(capability) {
            Ok(())
        } else {
            Err(Refusal::MissingCapability {
                role: role.name(),
                capability,
            })
        }
    }

    fn require_change(&self, role: &Role, from: u32, to: u32) -> Result<(), Refusal> {
        if role.may_change(from, to) {
            Ok(())
        } else {
            Err(Refusal::RoleChangeNotAllowed {
                role: role.name(),
                from: self.role_name(from),
                to: self.role_name(to),
            })
        }
    }

    /// A user leaving role `from` must leave it with at least its minimum.
    fn check_leaving(&self, from: u32) -> Result<(), Refusal> {
        if from == ROLE_NO_ROLE {
            return Ok(());
        }
        let role = self.role_or_refuse(from)?;
        let min = role.minimum_participants_constraint;
        if self.count_in_role(from) <= min as usize && min > 0 {
            return Err(Refusal::RoleMinimum {
                role: role.name(),
                min,
            });
        }
        Ok(())
    }

    /// A user entering role `to` (from role `from`) must fit its maximum and `max_users`.
    fn check_entering(&self, from: u32, to: u32) -> Result<(), Refusal> {
        let role = self.role_or_refuse(to)?;
        if let Some(max) = role.maximum_participants_constraint
            && self.count_in_role(to) >= max as usize
        {
            return Err(Refusal::RoleFull {
                role: role.name(),
                max,
            });
        }
        let becomes_counted = to != ROLE_BANNED && (from == ROLE_NO_ROLE || from == ROLE_BANNED);
        if let Some(max) = self.policy.max_users
            && becomes_counted
            && self.non_banned_count() >= max as usize
        {
            return Err(Refusal::RoomFull { max });
        }
        Ok(())
    }

    /// §8.1.3: the banned role must exist as index 1 named "banned".
    fn require_banned_role(&self) -> Result<(), Refusal> {
        match self.roles.get(ROLE_BANNED) {
            Some(role) if role.role_name.as_slice() == BANNED_ROLE_NAME.as_bytes() => Ok(()),
            _ => Err(Refusal::NoBannedRole),
        }
    }

    /// The target's list position and role, or `NotParticipant`.
    fn target(&self, user: &str) -> Result<(u32, u32), Refusal> {
        let index = self.index_of(user).ok_or(Refusal::NotParticipant {
            user: user.to_owned(),
        })?;
        Ok((index_u32(index), self.role_of(user)))
    }

    /// Whether `actor` may perform `op` now. The first failed rule is the reason.
    pub fn authorize(&self, actor: &str, op: &Operation) -> Result<(), Refusal> {
        self.plan(actor, op).map(|_| ())
    }

    /// Authorizes `op` and computes what it changes.
    pub fn plan(&self, actor: &str, op: &Operation) -> Result<Effect, Refusal> {
        match op {
            Operation::Add { user, role } => self.plan_add(actor, user, *role),
            Operation::Remove { user } => self.plan_remove(actor, user),
            Operation::Kick { user } => self.plan_kick(actor, user),
            Operation::Ban { user } => self.plan_ban(actor, user),
            Operation::Unban { user } => self.plan_unban(actor, user),
            Operation::Leave => self.plan_leave(actor),
            Operation::RemoveOwnClient => {
                self.plan_message(actor, &[Capability::CanRemoveOwnClient])
            }
            Operation::SetRole { user, role } => self.plan_set_role(actor, user, *role),
            Operation::SetMetadata(metadata) => self.plan_metadata(actor, metadata),
            Operation::Send => self.plan_message(actor, &[Capability::CanSendMessage]),
            Operation::Reply => self.plan_message(
                actor,
                &[Capability::CanSendMessage, Capability::CanReplyToMessage],
            ),
            Operation::React => self.plan_message(actor, &[Capability::CanReactToMessage]),
            Operation::Edit { own: true } => {
                self.plan_message(actor, &[Capability::CanEditOwnMessage])
            }
            Operation::Edit { own: false } => {
                self.actor_role(actor)?;
                Err(Refusal::NoSuchCapability {
                    action: "editing another user's message",
                })
            }
            Operation::Delete { own: true } => {
                self.plan_message(actor, &[Capability::CanDeleteOwnMessage])
            }
            Operation::Delete { own: false } => {
                self.plan_message(actor, &[Capability::CanDeleteOtherMessage])
            }
            Operation::Upload(kind) => self.plan_message(actor, &[kind.upload()]),
            Operation::Download(kind) => self.plan_message(actor, &[kind.download()]),
        }
    }

    fn plan_add(&self, actor: &str, user: &str, role: u32) -> Result<Effect, Refusal> {
        if self.policy.fixed_membership {
            return Err(Refusal::FixedMembership {
                action: "add a user",
            });
        }
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanAddParticipant)?;
        match self.role_of(user) {
            ROLE_NO_ROLE if self.index_of(user).is_none() => {}
            ROLE_BANNED => {
                return Err(Refusal::Banned {
                    user: user.to_owned(),
                });
            }
            _ => {
                return Err(Refusal::AlreadyParticipant {
                    user: user.to_owned(),
                });
            }
        }
        if role == ROLE_NO_ROLE {
            return Err(Refusal::RoleZero {
                action: "add a user",
            });
        }
        self.role_or_refuse(role)?;
        self.require_change(actor_role, ROLE_NO_ROLE, role)?;
        self.check_entering(ROLE_NO_ROLE, role)?;
        Ok(Effect {
            update: Some(ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: bytes(user),
                    role_index: role,
                }],
                ..ParticipantListUpdate::default()
            }),
            ..Effect::default()
        })
    }

    fn plan_remove(&self, actor: &str, user: &str) -> Result<Effect, Refusal> {
        if self.policy.fixed_membership {
            return Err(Refusal::FixedMembership {
                action: "remove a user",
            });
        }
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanRemoveParticipant)?;
        if actor == user {
            return Err(Refusal::SelfTarget {
                action: "remove",
                hint: " (use leave)",
            });
        }
        let (index, current) = self.target(user)?;
        self.require_change(actor_role, current, ROLE_NO_ROLE)?;
        self.check_leaving(current)?;
        Ok(Effect {
            update: Some(ParticipantListUpdate {
                removed_indices: vec![index],
                ..ParticipantListUpdate::default()
            }),
            remove_clients_of: Some(user.to_owned()),
            ..Effect::default()
        })
    }

    fn plan_kick(&self, actor: &str, user: &str) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanKick)?;
        if actor == user {
            return Err(Refusal::SelfTarget {
                action: "kick",
                hint: " (use leave)",
            });
        }
        self.target(user)?;
        Ok(Effect {
            remove_clients_of: Some(user.to_owned()),
            ..Effect::default()
        })
    }

    fn plan_ban(&self, actor: &str, user: &str) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanBan)?;
        self.require_banned_role()?;
        if actor == user {
            return Err(Refusal::SelfTarget {
                action: "ban",
                hint: "",
            });
        }
        let current = self.role_of(user);
        if current == ROLE_BANNED {
            return Err(Refusal::AlreadyBanned {
                user: user.to_owned(),
            });
        }
        self.require_change(actor_role, current, ROLE_BANNED)?;
        self.check_leaving(current)?;
        self.check_entering(current, ROLE_BANNED)?;
        let update = match self.index_of(user) {
            Some(index) => ParticipantListUpdate {
                changed_role_participants: vec![UserindexRolePair {
                    user_index: index_u32(index),
                    role_index: ROLE_BANNED,
                }],
                ..ParticipantListUpdate::default()
            },
            None => ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: bytes(user),
                    role_index: ROLE_BANNED,
                }],
                ..ParticipantListUpdate::default()
            },
        };
        Ok(Effect {
            update: Some(update),
            remove_clients_of: Some(user.to_owned()),
            ..Effect::default()
        })
    }

    fn plan_unban(&self, actor: &str, user: &str) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanUnBan)?;
        self.require_banned_role()?;
        let index = match self.index_of(user) {
            Some(index) if self.role_of(user) == ROLE_BANNED => index,
            _ => {
                return Err(Refusal::NotBanned {
                    user: user.to_owned(),
                });
            }
        };
        self.require_change(actor_role, ROLE_BANNED, ROLE_NO_ROLE)?;
        Ok(Effect {
            update: Some(ParticipantListUpdate {
                removed_indices: vec![index_u32(index)],
                ..ParticipantListUpdate::default()
            }),
            ..Effect::default()
        })
    }

    /// §8.1.3 canUnBan as the draft words it: banned → a non-zero role.
    pub(super) fn check_unban_to(&self, actor: &str, user: &str, role: u32) -> Result<(), Refusal> {
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanUnBan)?;
        self.require_banned_role()?;
        if self.role_of(user) != ROLE_BANNED {
            return Err(Refusal::NotBanned {
                user: user.to_owned(),
            });
        }
        if role == ROLE_NO_ROLE {
            return Err(Refusal::RoleZero {
                action: "change a role",
            });
        }
        self.require_change(actor_role, ROLE_BANNED, role)?;
        self.check_entering(ROLE_BANNED, role)
    }

    fn plan_leave(&self, actor: &str) -> Result<Effect, Refusal> {
        let (index, current) = self.target(actor)?;
        if self.policy.fixed_membership {
            return Err(Refusal::FixedMembership { action: "leave" });
        }
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanRemoveSelf)?;
        self.require_change(actor_role, current, ROLE_NO_ROLE)?;
        self.check_leaving(current)?;
        Ok(Effect {
            update: Some(ParticipantListUpdate {
                removed_indices: vec![index],
                ..ParticipantListUpdate::default()
            }),
            remove_clients_of: Some(actor.to_owned()),
            ..Effect::default()
        })
    }

    fn plan_set_role(&self, actor: &str, user: &str, role: u32) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        self.require(actor_role, Capability::CanChangeUserRole)?;
        if actor == user {
            return Err(Refusal::SelfTarget {
                action: "change the role of",
                hint: " (canChangeOwnRole needs preauthorization, not supported)",
            });
        }
        let (index, current) = self.target(user)?;
        if role == ROLE_NO_ROLE {
            return Err(Refusal::RoleZero {
                action: "change a role",
            });
        }
        let target_role = self.role_or_refuse(role)?;
        if role == current {
            return Err(Refusal::NoChange {
                user: user.to_owned(),
                role: target_role.name(),
            });
        }
        self.require_change(actor_role, current, role)?;
        self.check_leaving(current)?;
        self.check_entering(current, role)?;
        let no_clients = target_role.maximum_active_participants_constraint == Some(0);
        Ok(Effect {
            update: Some(ParticipantListUpdate {
                changed_role_participants: vec![UserindexRolePair {
                    user_index: index,
                    role_index: role,
                }],
                ..ParticipantListUpdate::default()
            }),
            remove_clients_of: no_clients.then(|| user.to_owned()),
            ..Effect::default()
        })
    }

    fn plan_metadata(&self, actor: &str, next: &RoomMetaData) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        validate_metadata(&self.metadata, next).map_err(Refusal::InvalidMetadata)?;
        let current = &self.metadata;
        let changes = [
            (
                current.room_name != next.room_name,
                Capability::CanChangeRoomName,
            ),
            (
                current.room_descriptions != next.room_descriptions,
                Capability::CanChangeRoomDescription,
            ),
            (
                current.room_avatar != next.room_avatar,
                Capability::CanChangeRoomAvatar,
            ),
            (
                current.room_subject != next.room_subject,
                Capability::CanChangeRoomSubject,
            ),
            (
                current.room_mood != next.room_mood,
                Capability::CanChangeRoomMood,
            ),
        ];
        if !changes.iter().any(|(changed, _)| *changed) {
            return Err(Refusal::MetadataUnchanged);
        }
        for (changed, capability) in changes {
            if changed {
                self.require(actor_role, capability)?;
            }
        }
        Ok(Effect {
            metadata: Some(next.clone()),
            ..Effect::default()
        })
    }

    /// A capability check that changes nothing in the room state (messages,
    /// a device removal).
    fn plan_message(&self, actor: &str, needed: &[Capability]) -> Result<Effect, Refusal> {
        let actor_role = self.actor_role(actor)?;
        for capability in needed {
            self.require(actor_role, *capability)?;
        }
        Ok(Effect::default())
    }
}
