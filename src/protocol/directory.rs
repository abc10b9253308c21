//! The directory document (§5.1): JSON naming the URL template of every
//! endpoint, served at `/.well-known/mimi-protocol-directory`.

use super::Finding;
use super::codec::{DecodeError, DecodeErrorKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The directory. Every endpoint the draft lists is required; members the
/// draft does not define are kept (in order of name) so encoding is lossless
/// up to JSON formatting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub key_material: String,
    pub update: String,
    pub notify: String,
    pub submit_message: String,
    pub group_info: String,
    pub request_consent: String,
    pub update_consent: String,
    pub identifier_query: String,
    pub report_abuse: String,
    pub proxy_download: String,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Directory {
    /// `(name, template)` of the draft's endpoints, in the draft's order.
    pub fn endpoints(&self) -> [(&'static str, &str); 10] {
        [
            ("keyMaterial", &self.key_material),
            ("update", &self.update),
            ("notify", &self.notify),
            ("submitMessage", &self.submit_message),
            ("groupInfo", &self.group_info),
            ("requestConsent", &self.request_consent),
            ("updateConsent", &self.update_consent),
            ("identifierQuery", &self.identifier_query),
            ("reportAbuse", &self.report_abuse),
            ("proxyDownload", &self.proxy_download),
        ]
    }

    /// What a reader of this directory should know: non-https URLs, templates
    /// without their `{…}` variable, the draft's `update{roomId}` without a
    /// slash, members the draft does not define.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (name, url) in self.endpoints() {
            if !url.starts_with("https://") {
                out.push(Finding::new(
                    "directory-not-https",
                    "§5.1",
                    format!("{name} is not an https URL: {url}"),
                ));
            }
            if !url.contains('{') || !url.ends_with('}') {
                out.push(Finding::new(
                    "directory-no-template",
                    "§5.1",
                    format!("{name} does not end in a {{…}} path variable: {url}"),
                ));
            }
        }
        if self.update.ends_with("update{roomId}") {
            out.push(Finding::new(
                "path-variant",
                "§5.1",
                "update is `…/update{roomId}` without a slash, as in the draft's example".into(),
            ));
        }
        for name in self.other.keys() {
            out.push(Finding::new(
                "directory-extra-member",
                "§5.1",
                format!("member {name:?} is not an endpoint the draft defines"),
            ));
        }
        out
    }
}

/// Decodes a directory document; the error's offset is where JSON parsing
/// stopped.
pub fn decode_directory(body: &[u8]) -> Result<Directory, DecodeError> {
    serde_json::from_slice(body).map_err(|e| DecodeError {
        path: "Directory".into(),
        offset: offset_of(body, e.line(), e.column()),
        kind: DecodeErrorKind::Invalid(format!("JSON: {e}")),
    })
}

/// The byte offset of a 1-based line and column.
fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let start: usize = body
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (start + column.saturating_sub(1)).min(body.len())
}
