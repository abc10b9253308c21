//! Identifier queries (protocol-06 §5.8): a provider answers who of its
//! users match, with their profiles. The reference provider's only
//! searchable field is the user URI (`handle`: exact; `wholeProfile`:
//! substring); a profile carries the display name as the OIDC standard
//! claim `name` and the avatar as `picture`.

use super::local::{LocalEndpoint, expect_ok, peer_garbage};
use super::{MimiError, Server, bad, ids, lock};
use crate::protocol::{
    self, IdentifierRequest, IdentifierResponse, ProfileField, QueryElement, UserProfile,
    field_source, query_code, search_type,
};
use openmls::prelude::tls_codec::VLBytes;
use std::collections::BTreeMap;

/// What a user shows to others: the control API's `create_user` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub display_name: Option<String>,
    pub avatar: Option<String>,
}

/// OIDC standard claim names (OpenID Connect Core §5.1) the profile uses.
const CLAIM_NAME: &str = "name";
const CLAIM_PICTURE: &str = "picture";

fn vl(s: &str) -> VLBytes {
    VLBytes::new(s.as_bytes().to_vec())
}

/// Whether user `uri` matches one query element; `None` for an element
/// whose field this provider does not search.
fn matches(uri: &str, e: &QueryElement) -> Option<bool> {
    let value = std::str::from_utf8(e.search_value.as_slice()).ok()?;
    match e.search_type {
        search_type::HANDLE => Some(uri == value),
        search_type::WHOLE_PROFILE => Some(!value.is_empty() && uri.contains(value)),
        _ => None,
    }
}

/// The answer to `req` from a provider whose users have `profiles`.
fn lookup(profiles: &BTreeMap<String, Profile>, req: &IdentifierRequest) -> IdentifierResponse {
    let answer = |code, profiles: Vec<UserProfile>| IdentifierResponse {
        response_code: code,
        uri: profiles.iter().map(|p| p.stable_uri.clone()).collect(),
        found_profiles: profiles,
        id_response_extensions: Vec::new(),
    };
    if req.query_elements.is_empty() {
        return answer(query_code::FORBIDDEN, Vec::new());
    }
    let mut found = Vec::new();
    for (uri, profile) in profiles {
        let mut all = true;
        for e in &req.query_elements {
            match matches(uri, e) {
                None => return answer(query_code::UNSUPPORTED_FIELD, Vec::new()),
                Some(m) => all &= m,
            }
        }
        if !all {
            continue;
        }
        let claims = [
            (CLAIM_NAME, &profile.display_name),
            (CLAIM_PICTURE, &profile.avatar),
        ];
        found.push(UserProfile {
            stable_uri: vl(uri),
            fields: claims
                .into_iter()
                .filter_map(|(name, value)| {
                    Some(ProfileField {
                        field_source: field_source::OIDC_STD_CLAIM,
                        field_name: vl(name),
                        field_value: vl(value.as_deref()?),
                    })
                })
                .collect(),
        });
    }
    found.sort_by(|a, b| a.stable_uri.as_slice().cmp(b.stable_uri.as_slice()));
    let code = if found.is_empty() {
        query_code::NOT_FOUND
    } else {
        query_code::SUCCESS
    };
    answer(code, found)
}

impl Server {
    /// Records `user`'s profile (control `create_user`).
    pub(crate) fn set_profile(&self, user: &str, profile: Profile) {
        lock(&self.state).profiles.insert(user.to_owned(), profile);
    }

    /// Answers an IdentifierRequest for this provider's `domain`.
    pub(crate) fn identifier_query(
        &self,
        domain: &str,
        req: &IdentifierRequest,
    ) -> Result<IdentifierResponse, MimiError> {
        if domain != self.domain {
            return Err(MimiError::NotFound(format!(
                "this provider answers for {}, not {domain}",
                self.domain
            )));
        }
        let mut answer = lookup(&lock(&self.state).profiles, req);
        // QUIRK profile-custom-claim.
        let name = self.quirks.name_claim(CLAIM_NAME);
        for field in answer.found_profiles.iter_mut().flat_map(|p| &mut p.fields) {
            if field.field_name.as_slice() == CLAIM_NAME.as_bytes() {
                field.field_name = vl(name);
            }
        }
        Ok(answer)
    }
}

impl LocalEndpoint {
    /// Records a local user's profile.
    pub fn set_profile(&self, user: &str, profile: Profile) {
        self.server.set_profile(user, profile);
    }

    /// `target`'s profile, asked of its provider with a `wholeProfile`
    /// identifier query for its URI (this provider answers its own users
    /// directly); `None` when the provider finds no such user.
    pub async fn query_profile(&self, target: &str) -> Result<Option<Profile>, MimiError> {
        let domain = ids::parse(target)
            .filter(|p| p.kind == 'u')
            .map(|p| p.domain.to_owned())
            .ok_or_else(|| bad(format!("not a user URI: {target}")))?;
        let req = IdentifierRequest {
            query_elements: vec![QueryElement {
                search_type: search_type::WHOLE_PROFILE,
                name: None,
                search_value: vl(target),
            }],
            id_request_extensions: Vec::new(),
        };
        let resp = if domain == self.server.domain {
            self.server.identifier_query(&domain, &req)?
        } else {
            let r = self
                .server
                .peers
                .post(&domain, "identifierQuery", &domain, protocol::encode(&req))
                .await?;
            expect_ok(&domain, &r)?;
            protocol::decode(&r.body).map_err(|e| peer_garbage(&domain, e))?
        };
        match resp.response_code {
            query_code::SUCCESS | query_code::NOT_FOUND => {}
            code => {
                return Err(MimiError::Peer {
                    domain,
                    reason: format!("identifierQuery answered code {code}"),
                });
            }
        }
        let Some(found) = resp
            .found_profiles
            .iter()
            .find(|p| p.stable_uri.as_slice() == target.as_bytes())
        else {
            return Ok(None);
        };
        let claim = |name: &str| {
            found
                .fields
                .iter()
                .find(|f| {
                    f.field_source == field_source::OIDC_STD_CLAIM
                        && f.field_name.as_slice() == name.as_bytes()
                })
                .and_then(|f| String::from_utf8(f.field_value.as_slice().to_vec()).ok())
        };
        Ok(Some(Profile {
            display_name: claim(CLAIM_NAME),
            avatar: claim(CLAIM_PICTURE),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(search_type: u8, value: &str) -> QueryElement {
        QueryElement {
            search_type,
            name: None,
            search_value: vl(value),
        }
    }

    fn req(elements: Vec<QueryElement>) -> IdentifierRequest {
        IdentifierRequest {
            query_elements: elements,
            id_request_extensions: Vec::new(),
        }
    }

    fn users() -> BTreeMap<String, Profile> {
        BTreeMap::from([
            (
                "mimi://b.example/u/bob".to_owned(),
                Profile {
                    display_name: Some("Bøb".into()),
                    avatar: None,
                },
            ),
            ("mimi://b.example/u/bobby".to_owned(), Profile::default()),
        ])
    }

    #[test]
    fn whole_profile_is_a_substring_and_handle_is_exact() {
        let r = lookup(&users(), &req(vec![q(search_type::WHOLE_PROFILE, "u/bob")]));
        assert_eq!(r.response_code, query_code::SUCCESS);
        assert_eq!(r.found_profiles.len(), 2);
        assert_eq!(r.uri.len(), 2);
        let bob = &r.found_profiles[0];
        assert_eq!(bob.stable_uri.as_slice(), b"mimi://b.example/u/bob");
        assert_eq!(
            bob.fields,
            [ProfileField {
                field_source: field_source::OIDC_STD_CLAIM,
                field_name: vl("name"),
                field_value: vl("Bøb"),
            }]
        );
        assert!(r.found_profiles[1].fields.is_empty());
        let r = lookup(
            &users(),
            &req(vec![q(search_type::HANDLE, "mimi://b.example/u/bob")]),
        );
        assert_eq!(r.found_profiles.len(), 1);
        // AND semantics: both elements must match.
        let r = lookup(
            &users(),
            &req(vec![
                q(search_type::WHOLE_PROFILE, "bobby"),
                q(search_type::HANDLE, "mimi://b.example/u/bob"),
            ]),
        );
        assert_eq!(r.response_code, query_code::NOT_FOUND);
        assert!(r.found_profiles.is_empty() && r.uri.is_empty());
    }

    #[test]
    fn other_fields_are_unsupported_and_an_empty_query_forbidden() {
        let r = lookup(&users(), &req(vec![q(search_type::EMAIL, "bob@b.example")]));
        assert_eq!(r.response_code, query_code::UNSUPPORTED_FIELD);
        assert!(r.found_profiles.is_empty());
        let r = lookup(&users(), &req(Vec::new()));
        assert_eq!(r.response_code, query_code::FORBIDDEN);
    }
}
