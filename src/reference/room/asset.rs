//! Asset kinds (room-policy-03 Asset Capabilities): which canUpload* and
//! canDownload* capability an attachment's media type needs.

use super::capability::Capability;

/// The kind of an asset, which picks the upload and download capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    Image,
    Audio,
    Video,
    Attachment,
}

impl AssetKind {
    /// From a media type: `image/*`, `audio/*`, `video/*`, anything else
    /// is an attachment.
    pub fn of(content_type: &str) -> AssetKind {
        let top = content_type
            .split('/')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match top.as_str() {
            "image" => AssetKind::Image,
            "audio" => AssetKind::Audio,
            "video" => AssetKind::Video,
            _ => AssetKind::Attachment,
        }
    }

    pub(crate) fn upload(self) -> Capability {
        match self {
            AssetKind::Image => Capability::CanUploadImage,
            AssetKind::Audio => Capability::CanUploadAudio,
            AssetKind::Video => Capability::CanUploadVideo,
            AssetKind::Attachment => Capability::CanUploadAttachment,
        }
    }

    pub(crate) fn download(self) -> Capability {
        match self {
            AssetKind::Image => Capability::CanDownloadImage,
            AssetKind::Audio => Capability::CanDownloadAudio,
            AssetKind::Video => Capability::CanDownloadVideo,
            AssetKind::Attachment => Capability::CanDownloadAttachment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::room::Operation;
    use crate::reference::room::{CapabilityType, RoomState};

    const ALICE: &str = "mimi://a.example/u/alice";

    #[test]
    fn asset_capabilities_follow_the_media_type_and_the_role() {
        assert_eq!(AssetKind::of("image/png"), AssetKind::Image);
        assert_eq!(AssetKind::of("Audio/ogg; codecs=opus"), AssetKind::Audio);
        assert_eq!(AssetKind::of("video/mp4"), AssetKind::Video);
        assert_eq!(AssetKind::of("application/pdf"), AssetKind::Attachment);
        let mut state = RoomState::new_group("mimi://a.example/r/x", ALICE).unwrap();
        state
            .authorize(ALICE, &Operation::Upload(AssetKind::Image))
            .unwrap();
        state
            .authorize(ALICE, &Operation::Download(AssetKind::Audio))
            .unwrap();
        let role = state.role_of(ALICE);
        for r in &mut state.roles.roles {
            if r.role_index == role {
                r.role_capabilities
                    .retain(|c| *c != CapabilityType::from(Capability::CanUploadImage));
            }
        }
        let err = state
            .authorize(ALICE, &Operation::Upload(AssetKind::Image))
            .unwrap_err();
        assert!(err.to_string().contains("canUploadImage"), "{err}");
        state
            .authorize(ALICE, &Operation::Upload(AssetKind::Attachment))
            .unwrap();
    }
}
