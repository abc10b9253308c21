//! The MIMI Role Capabilities registry (draft-ietf-mimi-room-policy-03 §10.2).
//!
//! On the wire a capability is a bare `uint16` ([`CapabilityType`]); a role
//! from a peer may carry codepoints we do not know (private use 0xF000..), so
//! roles keep the raw codes and [`Capability`] names the registered ones.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

/// `uint16 CapabilityType;` as carried in `Role.role_capabilities`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, TlsSerialize, TlsDeserialize, TlsSize,
)]
pub struct CapabilityType(pub u16);

macro_rules! capabilities {
    ($($variant:ident = $code:literal, $name:literal;)*) => {
        /// Every capability in the §10.2 registry, with its codepoint.
        /// Entries the registry marks "(reserved)" are included: they have
        /// codepoints and appear in Appendix A's example roles.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum Capability {
            $(#[doc = $name] $variant = $code,)*
        }

        impl Capability {
            /// All registered capabilities, in codepoint order.
            pub const ALL: &'static [Capability] = &[$(Capability::$variant,)*];

            /// The registry name, e.g. `canKick`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Capability::$variant => $name,)*
                }
            }

            /// The registered capability for a codepoint, if any.
            pub fn from_code(code: u16) -> Option<Capability> {
                match code {
                    $($code => Some(Capability::$variant),)*
                    _ => None,
                }
            }

            /// The registered capability with this exact registry name.
            pub fn from_name(name: &str) -> Option<Capability> {
                match name {
                    $($name => Some(Capability::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

capabilities! {
    CanAddParticipant = 0x0000, "canAddParticipant";
    CanRemoveParticipant = 0x0001, "canRemoveParticipant";
    CanAddOwnClient = 0x0002, "canAddOwnClient";
    CanRemoveOwnClient = 0x0003, "canRemoveOwnClient";
    CanOpenJoin = 0x0004, "canOpenJoin";
    CanJoinIfPreauthorized = 0x0005, "canJoinIfPreauthorized";
    CanRemoveSelf = 0x0006, "canRemoveSelf";
    CanCreateJoinCode = 0x0007, "canCreateJoinCode";
    CanDeleteJoinCode = 0x0008, "canDeleteJoinCode";
    CanUseJoinCode = 0x0009, "canUseJoinCode";
    CanBan = 0x000a, "canBan";
    CanUnBan = 0x000b, "canUnBan";
    CanKick = 0x000c, "canKick";
    CanKnock = 0x000d, "canKnock";
    CanAcceptKnock = 0x000e, "canAcceptKnock";
    CanChangeUserRole = 0x000f, "canChangeUserRole";
    CanChangeOwnRole = 0x0010, "canChangeOwnRole";
    CanCreateSubgroup = 0x0011, "canCreateSubgroup";
    CanSendMessage = 0x0100, "canSendMessage";
    CanReceiveMessage = 0x0101, "canReceiveMessage";
    CanCopyMessage = 0x0102, "canCopyMessage";
    CanReportAbuse = 0x0103, "canReportAbuse";
    CanReplyToMessage = 0x0104, "canReplyToMessage";
    CanReactToMessage = 0x0105, "canReactToMessage";
    CanEditReaction = 0x0106, "canEditReaction";
    CanDeleteOwnReaction = 0x0107, "canDeleteOwnReaction";
    CanDeleteOtherReaction = 0x0108, "canDeleteOtherReaction";
    CanEditOwnMessage = 0x0109, "canEditOwnMessage";
    CanDeleteOwnMessage = 0x010a, "canDeleteOwnMessage";
    CanDeleteOtherMessage = 0x010b, "canDeleteOtherMessage";
    CanStartTopic = 0x010c, "canStartTopic";
    CanReplyInTopic = 0x010d, "canReplyInTopic";
    CanEditOwnTopic = 0x010e, "canEditOwnTopic";
    CanEditOtherTopic = 0x010f, "canEditOtherTopic";
    CanSendDirectMessage = 0x0110, "canSendDirectMessage";
    CanTargetMessage = 0x0111, "canTargetMessage";
    CanUploadImage = 0x0200, "canUploadImage";
    CanUploadAudio = 0x0201, "canUploadAudio";
    CanUploadVideo = 0x0202, "canUploadVideo";
    CanUploadAttachment = 0x0203, "canUploadAttachment";
    CanDownloadImage = 0x0204, "canDownloadImage";
    CanDownloadAudio = 0x0205, "canDownloadAudio";
    CanDownloadVideo = 0x0206, "canDownloadVideo";
    CanDownloadAttachment = 0x0207, "canDownloadAttachment";
    CanSendLink = 0x0208, "canSendLink";
    CanSendLinkPreview = 0x0209, "canSendLinkPreview";
    CanFollowLink = 0x020a, "canFollowLink";
    CanCopyLink = 0x020b, "canCopyLink";
    CanChangeRoomName = 0x0300, "canChangeRoomName";
    CanChangeRoomDescription = 0x0301, "canChangeRoomDescription";
    CanChangeRoomAvatar = 0x0302, "canChangeRoomAvatar";
    CanChangeRoomSubject = 0x0303, "canChangeRoomSubject";
    CanChangeRoomMood = 0x0304, "canChangeRoomMood";
    CanChangeOwnName = 0x0380, "canChangeOwnName";
    CanChangeOwnPresence = 0x0381, "canChangeOwnPresence";
    CanChangeOwnMood = 0x0382, "canChangeOwnMood";
    CanChangeOwnAvatar = 0x0383, "canChangeOwnAvatar";
    CanStartCall = 0x0400, "canStartCall";
    CanJoinCall = 0x0401, "canJoinCall";
    CanSendAudio = 0x0402, "canSendAudio";
    CanReceiveAudio = 0x0403, "canReceiveAudio";
    CanSendVideo = 0x0404, "canSendVideo";
    CanReceiveVideo = 0x0405, "canReceiveVideo";
    CanShareScreen = 0x0406, "canShareScreen";
    CanViewSharedScreen = 0x0407, "canViewSharedScreen";
    CanCreateRoom = 0x0500, "canCreateRoom";
    CanDestroyRoom = 0x0501, "canDestroyRoom";
    CanChangeRoomMembershipStyle = 0x0502, "canChangeRoomMembershipStyle";
    CanChangeRoleDefinitions = 0x0503, "canChangeRoleDefinitions";
    CanChangePreauthorizedUserList = 0x0504, "canChangePreauthorizedUserList";
    CanChangeOtherPolicyAttribute = 0x0505, "canChangeOtherPolicyAttribute";
    CanChangeMlsOperationalPolicies = 0x0600, "canChangeMlsOperationalPolicies";
    CanSendMLSReinitProposal = 0x0601, "canSendMLSReinitProposal";
    CanSendMLSUpdateProposal = 0x0602, "canSendMLSUpdateProposal";
    CanSendMLSPSKProposal = 0x0603, "canSendMLSPSKProposal";
    CanSendMLSExternalProposal = 0x0604, "canSendMLSExternalProposal";
    CanSendMLSExternalCommit = 0x0605, "canSendMLSExternalCommit";
}

impl Capability {
    /// The codepoint.
    pub fn code(self) -> u16 {
        self as u16
    }
}

impl From<Capability> for CapabilityType {
    fn from(capability: Capability) -> Self {
        CapabilityType(capability.code())
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
