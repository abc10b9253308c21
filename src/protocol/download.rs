//! The `proxyDownload` request (§5.10.2): no body, the download URL is the
//! last path segment, percent-encoded.

use super::codec::{DecodeError, DecodeErrorKind};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Characters left as they are in a percent-encoded download URL: RFC 3986
/// unreserved; everything else (`:`, `/`, `?`…) is encoded, so the URL is
/// one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a download URL for the `{downloadUrl}` path segment.
pub fn encode_download_url(url: &str) -> String {
    utf8_percent_encode(url, SEGMENT).to_string()
}

/// The download URL from the rest of a `/v1/proxyDownload/` path: the
/// percent-encoded form, or, leniently, the URL written raw.
pub fn decode_download_url(rest: &str) -> Result<String, DecodeError> {
    percent_decode_str(rest)
        .decode_utf8()
        .map(|u| u.into_owned())
        .map_err(|_| DecodeError {
            path: "proxyDownload.downloadUrl".into(),
            offset: 0,
            kind: DecodeErrorKind::Invalid("not UTF-8 once percent-decoded".into()),
        })
}

/// Whether the path segment was percent-encoded as §5.10.2 asks (a raw URL
/// has `/` or `:` in it).
pub fn is_percent_encoded(rest: &str) -> bool {
    !rest.contains('/') && !rest.contains(':')
}
