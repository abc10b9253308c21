//! MIMI identifiers (draft-ietf-mimi-protocol §3): `mimi://<domain>` for a
//! provider, with `/u/<user>`, `/d/<client>`, `/r/<room>` and `/g/<group>`.

pub const SCHEME: &str = "mimi://";

pub fn provider_uri(domain: &str) -> String {
    format!("{SCHEME}{domain}")
}
pub fn user_uri(domain: &str, name: &str) -> String {
    format!("{SCHEME}{domain}/u/{name}")
}
pub fn client_uri(domain: &str, name: &str) -> String {
    format!("{SCHEME}{domain}/d/{name}")
}
pub fn room_uri(domain: &str, name: &str) -> String {
    format!("{SCHEME}{domain}/r/{name}")
}

/// The parts of a MIMI URI: domain, kind letter and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub domain: &'a str,
    pub kind: char,
    pub name: &'a str,
}

/// Splits `mimi://<domain>/<kind>/<name>`; `None` if it is not of that shape.
pub fn parse(uri: &str) -> Option<Parsed<'_>> {
    let rest = uri.strip_prefix(SCHEME)?;
    let (domain, path) = rest.split_once('/')?;
    let (kind, name) = path.split_once('/')?;
    let mut k = kind.chars();
    let kind = k.next()?;
    if k.next().is_some() || domain.is_empty() || name.is_empty() || !valid_name(name) {
        return None;
    }
    if !valid_domain(domain) {
        return None;
    }
    Some(Parsed { domain, kind, name })
}

/// The domain of a URI of the given kind (`u`, `d`, `r`, `g`).
pub fn domain_of(uri: &str, kind: char) -> Option<&str> {
    parse(uri).filter(|p| p.kind == kind).map(|p| p.domain)
}

/// Names we accept for users, clients and rooms: URI-safe, no separators.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
}

pub fn valid_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
}

/// The MLS group id of a room: `/r/` becomes `/g/`.
pub fn group_id_of_room(room: &str) -> Option<String> {
    let p = parse(room).filter(|p| p.kind == 'r')?;
    Some(format!("{SCHEME}{}/g/{}", p.domain, p.name))
}

/// The local name of a user's `n`th client: `<user>-<n>`.
pub fn client_name(user: &str, n: usize) -> String {
    format!("{user}-{n}")
}

/// The user a client belongs to: the client's local name is `<user>-<n>`.
pub fn user_of_client(client: &str) -> Option<String> {
    let p = parse(client).filter(|p| p.kind == 'd')?;
    let (user, n) = p.name.rsplit_once('-')?;
    if user.is_empty() || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(user_uri(p.domain, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let p = parse("mimi://a.example/r/club").unwrap();
        assert_eq!((p.domain, p.kind, p.name), ("a.example", 'r', "club"));
        assert!(parse("mimi://a.example/r/").is_none());
        assert!(parse("https://a.example/r/x").is_none());
        assert!(parse("mimi://a.example/r/x/y").is_none());
        assert_eq!(
            group_id_of_room("mimi://a.example/r/club").as_deref(),
            Some("mimi://a.example/g/club")
        );
        assert_eq!(
            user_of_client("mimi://b.example/d/bob-2").as_deref(),
            Some("mimi://b.example/u/bob")
        );
        assert_eq!(
            user_of_client("mimi://b.example/d/bob-3f2a-17-12").as_deref(),
            Some("mimi://b.example/u/bob-3f2a-17")
        );
        assert!(user_of_client("mimi://b.example/u/bob-2").is_none());
        assert!(user_of_client("mimi://b.example/d/bob-x").is_none());
        assert!(user_of_client("mimi://b.example/d/bob").is_none());
    }
}
