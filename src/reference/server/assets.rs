//! Asset storage and download (draft-ietf-mimi-protocol-06 §5.10).
//!
//! Each provider stores the (already encrypted) attachment bytes its own
//! clients upload and serves them to authenticated peers at
//! `https://<domain>/v1/assets/<id>`. A client downloads an asset of another
//! provider through the room's hub (`proxyDownload`): the hub fetches only
//! from its own store or from one of its configured peers, never from an
//! arbitrary host, so it is not an open proxy. The server only ever holds
//! ciphertext: keys stay in the clients' ExternalParts.

use super::{MimiError, Server, StoredAsset, lock};

/// Largest asset stored or relayed (the MIMI body limit).
pub const MAX_ASSET: usize = crate::protocol::MAX_BODY;

/// The path under which a provider serves its stored assets.
pub const ASSET_PATH: &str = "/v1/assets/";

pub use crate::protocol::encode_download_url;

/// The download URL from the rest of a `/v1/proxyDownload/` path: the
/// percent-encoded form (§5.10), or, leniently, the URL written raw.
pub fn decode_download_url(rest: &str) -> Result<String, MimiError> {
    crate::protocol::decode_download_url(rest)
        .map_err(|_| MimiError::BadRequest("download URL is not UTF-8".into()))
}

/// An https URL split into its host (lower case) and asset id, when it
/// names an asset path; `Err` says why it is not an asset URL we can fetch.
pub fn parse_asset_url(url: &str) -> Result<(String, reqwest::Url), MimiError> {
    let u = reqwest::Url::parse(url)
        .map_err(|e| MimiError::BadRequest(format!("bad download URL {url:?}: {e}")))?;
    if u.scheme() != "https" {
        return Err(MimiError::Forbidden(format!(
            "only https download URLs are fetched, not {}",
            u.scheme()
        )));
    }
    let host = u
        .host_str()
        .ok_or_else(|| MimiError::BadRequest(format!("download URL {url:?} has no host")))?
        .to_ascii_lowercase();
    Ok((host, u))
}

/// The asset id of a URL path on this provider.
fn asset_id(u: &reqwest::Url) -> Result<&str, MimiError> {
    u.path()
        .strip_prefix(ASSET_PATH)
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| MimiError::NotFound(format!("no asset at {}", u.path())))
}

impl Server {
    /// Stores uploaded (encrypted) bytes; returns their https URL.
    pub(crate) fn store_asset(&self, room: &str, bytes: Vec<u8>) -> Result<String, MimiError> {
        if bytes.len() > MAX_ASSET {
            return Err(MimiError::BadRequest(format!(
                "asset of {} bytes is over the {MAX_ASSET}-byte limit",
                bytes.len()
            )));
        }
        let mut id = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut id);
        let id = hex::encode(id);
        let url = format!("https://{}{ASSET_PATH}{id}", self.domain);
        lock(&self.state).assets.insert(
            id,
            StoredAsset {
                room: room.to_owned(),
                bytes,
            },
        );
        Ok(url)
    }

    /// A stored asset by id.
    pub(crate) fn asset(&self, id: &str) -> Result<Vec<u8>, MimiError> {
        lock(&self.state)
            .assets
            .get(id)
            .map(|a| a.bytes.clone())
            .ok_or_else(|| MimiError::NotFound(format!("no asset {id}")))
    }

    /// Fetches the asset at `url` for a proxyDownload or a local client:
    /// from this provider's own store, or over mTLS from the peer the host
    /// names. Any other host is refused (403): never an open proxy.
    pub(crate) async fn fetch_asset_direct(&self, url: &str) -> Result<Vec<u8>, MimiError> {
        let (host, u) = parse_asset_url(url)?;
        if host == self.domain {
            return self.asset(asset_id(&u)?);
        }
        if !self.peers.is_peer(&host) {
            return Err(MimiError::Forbidden(format!(
                "{host} is not a peer provider of {}: not fetched",
                self.domain
            )));
        }
        let r = self.peers.get_path(&host, u.path()).await?;
        super::local::expect_ok(&host, &r)?;
        if r.body.len() > MAX_ASSET {
            return Err(MimiError::Peer {
                domain: host,
                reason: format!("asset over the {MAX_ASSET}-byte limit"),
            });
        }
        Ok(r.body)
    }

    /// The hub side of `GET /v1/proxyDownload/{downloadUrl}` (§5.10).
    pub(crate) async fn proxy_download(
        &self,
        source: &str,
        url: &str,
    ) -> Result<Vec<u8>, MimiError> {
        self.hooks
            .record(format!("in proxyDownload from {source}"), url.as_bytes());
        self.fetch_asset_direct(url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_urls_survive_the_path_segment_both_ways() {
        let url = "https://b.example/v1/assets/0a1b?x=1";
        let enc = encode_download_url(url);
        assert!(!enc.contains('/') && !enc.contains(':'), "{enc}");
        assert_eq!(decode_download_url(&enc).unwrap(), url);
        assert_eq!(decode_download_url(url).unwrap(), url);
    }

    #[test]
    fn only_https_asset_urls_are_accepted() {
        assert!(matches!(
            parse_asset_url("http://b.example/v1/assets/x"),
            Err(MimiError::Forbidden(_))
        ));
        let (host, u) = parse_asset_url("https://B.Example/v1/assets/x").unwrap();
        assert_eq!(host, "b.example");
        assert_eq!(asset_id(&u).unwrap(), "x");
        let (_, u) = parse_asset_url("https://b.example/other/x").unwrap();
        assert!(matches!(asset_id(&u), Err(MimiError::NotFound(_))));
    }
}
