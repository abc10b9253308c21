//! Semantic checks serde cannot make: version, names, uniqueness, actor
//! references, `${var}` definitions (actors, or captures of earlier steps),
//! durations, and per-action rules. Each problem names the YAML path of the
//! node at fault so the loader can point at it.

mod steps;

use super::interp::{self, InterpolateError, is_var_name};
use super::locate::{Part, Seg, path};
use super::model::*;
use super::parse_duration;
use base64::Engine as _;
use std::collections::{BTreeSet, HashSet};

/// One semantic error, placed by path (and optionally a text to find there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub part: Part,
    /// Text to point at inside the node, e.g. `${room}` in a string.
    pub needle: Option<String>,
    pub message: String,
}

/// `[a-z0-9-]+`: feature ids, test names, tags, target names.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub fn check_suite(suite: &Suite) -> Vec<Problem> {
    let mut c = Checker {
        protocol: suite.set == FeatureSet::Protocol,
        ..Checker::default()
    };
    if suite.version != SUITE_FORMAT_VERSION {
        c.at(
            path!["version"],
            format!(
                "unsupported suite format version {}: this harness reads version {SUITE_FORMAT_VERSION}",
                suite.version
            ),
        );
    }
    if !is_slug(&suite.feature) {
        c.at(
            path!["feature"],
            format!(
                "invalid feature id `{}`: expected [a-z0-9-]+",
                suite.feature
            ),
        );
    }
    if suite.title.trim().is_empty() {
        c.at(path!["title"], "`title` must not be empty");
    }
    if suite.requirement.item == 0 {
        c.at(
            path!["requirement", "item"],
            "`item` is 1-based: the first item of the section is 1",
        );
    }
    c.tags(&suite.tags, path!["tags"]);
    if suite.tests.is_empty() {
        c.at(path!["tests"], "a suite needs at least one test");
    }
    let mut names = HashSet::new();
    for (t, test) in suite.tests.iter().enumerate() {
        if !is_slug(&test.name) {
            c.at(
                path!["tests", t, "name"],
                format!("invalid test name `{}`: expected [a-z0-9-]+", test.name),
            );
        } else if !names.insert(test.name.as_str()) {
            c.at(
                path!["tests", t, "name"],
                format!("duplicate test name `{}` in this suite", test.name),
            );
        }
        c.test(t, test);
    }
    c.problems
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    actors: BTreeSet<String>,
    vars: BTreeSet<String>,
    /// List variables (`send_burst` captures): only `expect_messages.ids`
    /// reads them.
    lists: BTreeSet<String>,
    /// Captures of the children of the `concurrently` block being checked.
    concurrent: BTreeSet<String>,
    /// Every capture of the current test, to tell "too early" from "never".
    later: BTreeSet<String>,
    /// A protocol suite: side b is the harness's adversary.
    protocol: bool,
    /// The current test's actors' sides.
    sides: std::collections::HashMap<String, Side>,
}

impl Checker {
    fn at(&mut self, path: Vec<Seg>, message: impl Into<String>) {
        self.push(path, Part::Value, None, message);
    }

    fn push(&mut self, path: Vec<Seg>, part: Part, needle: Option<String>, msg: impl Into<String>) {
        self.problems.push(Problem {
            path,
            part,
            needle,
            message: msg.into(),
        });
    }

    fn tags(&mut self, tags: &[String], base: Vec<Seg>) {
        for (i, tag) in tags.iter().enumerate() {
            if !is_slug(tag) {
                self.at(
                    join(&base, [Seg::Index(i)]),
                    format!("invalid tag `{tag}`: expected [a-z0-9-]+"),
                );
            }
        }
    }

    fn duration(&mut self, value: Option<&String>, path: Vec<Seg>) {
        if let Some(s) = value
            && let Err(e) = parse_duration(s)
        {
            self.at(path, e.to_string());
        }
    }

    fn test(&mut self, t: usize, test: &Test) {
        let base = path!["tests", t];
        self.actors.clear();
        self.sides.clear();
        self.vars.clear();
        self.lists.clear();
        self.later = test.steps.iter().flat_map(captures_of).collect();
        self.tags(&test.tags, join(&base, path!["tags"]));
        if self.protocol && test.cites.is_empty() {
            self.at(
                join(&base, path!["name"]),
                "a protocol test cites the draft sections whose rule it checks: add `cites`",
            );
        }
        self.duration(test.timeout.as_ref(), join(&base, path!["timeout"]));
        if let Some(reason) = &test.no_mechanism {
            self.no_mechanism(test, reason, &base);
            return;
        }
        if test.actors.is_empty() {
            self.at(
                join(&base, path!["actors"]),
                "a test needs at least one actor",
            );
        }
        for (name, actor) in &test.actors {
            let apath = join(&base, path!["actors", name.as_str()]);
            if !is_var_name(name) {
                self.push(
                    apath.clone(),
                    Part::Key,
                    None,
                    format!("invalid actor name `{name}`: expected [a-z][a-z0-9_]*"),
                );
            }
            if let Actor::Full(spec) = actor {
                if spec.clients == Some(0) {
                    self.at(
                        join(&apath, path!["clients"]),
                        "`clients` must be at least 1",
                    );
                }
                for (field, value) in [
                    ("display_name", &spec.display_name),
                    ("avatar", &spec.avatar),
                ] {
                    if let Some(v) = value
                        && v.contains("${")
                    {
                        self.at(
                            join(&apath, path![field]),
                            "variables cannot be used in actor definitions",
                        );
                    }
                }
            }
            self.actors.insert(name.clone());
            self.vars.insert(name.clone());
            self.sides.insert(name.clone(), actor.side());
        }
        if test.steps.is_empty() {
            self.at(
                join(&base, path!["steps"]),
                "a test needs at least one step",
            );
        }
        for (i, step) in test.steps.iter().enumerate() {
            let sp = join(&base, path!["steps", i, step.action()]);
            self.step(step, &sp);
        }
    }

    /// A test that declares no MIMI mechanism runs nothing: it must say why,
    /// and carry no actors or steps that would suggest otherwise.
    fn no_mechanism(&mut self, test: &Test, reason: &str, base: &[Seg]) {
        if reason.trim().is_empty() {
            self.at(
                join(base, path!["no_mechanism"]),
                "`no_mechanism` must name the missing mechanism and the drafts checked",
            );
        }
        if !test.actors.is_empty() {
            self.push(
                join(base, path!["actors"]),
                Part::Key,
                None,
                "a test with `no_mechanism` runs nothing: remove `actors`",
            );
        }
        if !test.steps.is_empty() {
            self.push(
                join(base, path!["steps"]),
                Part::Key,
                None,
                "a test with `no_mechanism` runs nothing: remove `steps`",
            );
        }
    }

    fn actor(&mut self, name: &str, path: Vec<Seg>) {
        if !self.actors.contains(name) {
            let known = self.actors.iter().cloned().collect::<Vec<_>>().join(", ");
            self.at(
                path,
                format!("unknown actor `{name}`: this test's actors are {known}"),
            );
        }
    }

    fn string(&mut self, s: &str, path: Vec<Seg>) {
        match interp::references(s) {
            Ok(refs) => {
                for r in refs {
                    if !self.vars.contains(&r.name) {
                        let needle = format!("${{{}}}", r.name);
                        let message = if self.lists.contains(&r.name) {
                            format!(
                                "`{}` holds the message IDs of a `send_burst`: only `expect_messages` reads it, as `ids: {}`",
                                r.name, r.name
                            )
                        } else if self.concurrent.contains(&r.name) {
                            format!(
                                "variable `{}` is captured by another step of this `concurrently` block; it is defined only after the block",
                                r.name
                            )
                        } else if self.later.contains(&r.name) {
                            format!(
                                "variable `{}` is used before the step that captures it",
                                r.name
                            )
                        } else {
                            format!(
                                "undefined variable `{}`: variables are the test's actors and the captures of earlier steps",
                                r.name
                            )
                        };
                        self.push(path.clone(), Part::Value, Some(needle), message);
                    }
                }
            }
            Err(e) => {
                let needle = match &e {
                    InterpolateError::InvalidName { name, .. } => Some(format!("${{{name}}}")),
                    _ => Some("${".to_string()),
                };
                self.push(path, Part::Value, needle, e.to_string());
            }
        }
    }

    fn opt_string(&mut self, s: Option<&String>, path: Vec<Seg>) {
        if let Some(s) = s {
            self.string(s, path);
        }
    }

    fn json(&mut self, v: &serde_json::Value, path: Vec<Seg>) {
        match v {
            serde_json::Value::String(s) => self.string(s, path),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.json(item, join(&path, [Seg::Index(i)]));
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    self.json(item, join(&path, [Seg::Key(k.clone())]));
                }
            }
            _ => {}
        }
    }

    fn capture(&mut self, name: Option<&String>, path: Vec<Seg>) {
        self.capture_into(name, path, false);
    }

    /// Records a capture, as a string variable or (`list`) a list of IDs.
    fn capture_into(&mut self, name: Option<&String>, path: Vec<Seg>, list: bool) {
        let Some(name) = name else { return };
        if !is_var_name(name) {
            self.at(
                path,
                format!("invalid variable name `{name}`: expected [a-z][a-z0-9_]*"),
            );
        } else if self.actors.contains(name) {
            self.at(
                path,
                format!("`{name}` is an actor; choose another variable name"),
            );
        } else if self.vars.contains(name) || self.lists.contains(name) {
            self.at(
                path,
                format!("variable `{name}` is already captured by an earlier step"),
            );
        } else if list {
            self.lists.insert(name.clone());
        } else {
            self.vars.insert(name.clone());
        }
    }

    fn step(&mut self, step: &Step, sp: &[Seg]) {
        let f = |name: &str| join(sp, [Seg::Key(name.to_string())]);
        match step {
            Step::CreateRoom(s) => {
                self.actor(&s.actor, f("as"));
                match (s.kind, &s.with) {
                    (RoomKind::Dm, None) => self.at(f("kind"), "a `dm` room needs `with`"),
                    (RoomKind::Group, Some(_)) => {
                        self.at(f("with"), "`with` is only for `kind: dm`")
                    }
                    (_, Some(w)) => self.actor(w, f("with")),
                    (RoomKind::Group, None) => {}
                }
                match (s.kind, s.max_users) {
                    (_, None) => {}
                    (RoomKind::Dm, Some(_)) => {
                        self.at(f("max_users"), "`max_users` is only for `kind: group`")
                    }
                    (RoomKind::Group, Some(0)) => self.at(
                        f("max_users"),
                        "`max_users` must be at least 1 (the creator is a participant)",
                    ),
                    (RoomKind::Group, Some(_)) => {}
                }
                self.duration(s.timeout.as_ref(), f("timeout"));
                if s.expect == Some(Outcome::Refused) {
                    // A refused creation yields no room: the name stays undefined.
                    self.later.remove(&s.capture);
                } else {
                    self.capture(Some(&s.capture), f("capture"));
                }
            }
            Step::AddParticipant(s)
            | Step::RemoveParticipant(s)
            | Step::Ban(s)
            | Step::Unban(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.actor(&s.user, f("user"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::Leave(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::SetRole(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.actor(&s.user, f("user"));
                self.string(&s.role, f("role"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::SetRoomMetadata(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                if s.name.is_none() && s.topic.is_none() && s.avatar.is_none() {
                    self.at(
                        sp.to_vec(),
                        "`set_room_metadata` needs at least one of `name`, `topic`, `avatar`",
                    );
                }
                self.opt_string(s.name.as_ref(), f("name"));
                self.opt_string(s.topic.as_ref(), f("topic"));
                self.opt_string(s.avatar.as_ref(), f("avatar"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::AddClient(s) => {
                self.actor(&s.user, f("user"));
                self.duration(s.timeout.as_ref(), f("timeout"));
                self.capture(s.capture.as_ref(), f("capture"));
            }
            Step::RemoveClient(s) => {
                self.actor(&s.user, f("user"));
                self.string(&s.client, f("client"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::Send(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.opt_string(s.client.as_ref(), f("client"));
                let given = [s.content.is_some(), s.raw.is_some(), s.crafted.is_some()];
                match given.iter().filter(|g| **g).count() {
                    0 => self.at(
                        sp.to_vec(),
                        "`send` needs exactly one of `content`, `raw` and `crafted`",
                    ),
                    1 => {}
                    _ => self.at(
                        f(if s.crafted.is_some() {
                            "crafted"
                        } else {
                            "raw"
                        }),
                        "`send` takes exactly one of `content`, `raw` and `crafted`",
                    ),
                }
                if let Some(c) = &s.content {
                    self.json(c, f("content"));
                }
                if let Some(raw) = &s.raw
                    && base64::engine::general_purpose::STANDARD
                        .decode(raw.trim())
                        .is_err()
                {
                    self.at(f("raw"), "`raw` must be standard base64");
                }
                if let Some(c) = &s.crafted {
                    let at = |k: &str| join(&f("crafted"), [Seg::Key(k.to_string())]);
                    self.json(&c.intent, at("intent"));
                    self.duration(c.expired_ago.as_ref(), at("expired_ago"));
                }
                self.duration(s.timeout.as_ref(), f("timeout"));
                if s.expect == Some(Outcome::Refused) && s.capture.is_some() {
                    self.at(
                        f("capture"),
                        "a send that must be refused has no message ID to capture",
                    );
                } else {
                    self.capture(s.capture.as_ref(), f("capture"));
                }
            }
            Step::SendBurst(s) => self.send_burst(s, sp),
            Step::Concurrently(steps) => self.concurrently(steps, sp),
            Step::ExpectMessages(s) => self.expect_messages(s, sp),
            Step::ExpectMessage(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                if let Some(from) = &s.from {
                    self.actor(from, f("from"));
                }
                self.opt_string(s.message_id.as_ref(), f("message_id"));
                if let Some(c) = &s.content {
                    self.json(c, f("content"));
                }
                self.duration(s.timeout.as_ref(), f("timeout"));
                self.capture(s.capture.as_ref(), f("capture"));
            }
            Step::ExpectNoMessage(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.opt_string(s.message_id.as_ref(), f("message_id"));
                if let Some(c) = &s.content {
                    self.json(c, f("content"));
                }
                self.string(&s.until, f("until"));
                self.opt_string(s.until_room.as_ref(), f("until_room"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::ExpectState(s) => {
                self.string(&s.room, f("room"));
                if s.members.is_empty() {
                    self.at(f("members"), "`members` needs at least one actor");
                }
                for (i, m) in s.members.iter().enumerate() {
                    self.actor(m, join(sp, path!["members", i]));
                }
                if let Some(parts) = &s.participants {
                    for (user, role) in parts {
                        let p = join(sp, path!["participants", user.as_str()]);
                        if !self.actors.contains(user) {
                            self.push(
                                p.clone(),
                                Part::Key,
                                None,
                                format!("unknown actor `{user}` in `participants`"),
                            );
                        }
                        self.string(role, p);
                    }
                }
                for (i, a) in s.absent.iter().enumerate() {
                    let p = join(sp, path!["absent", i]);
                    if s.members.contains(a) {
                        self.at(p, format!("`{a}` cannot be both in `members` and `absent`"));
                    } else if s.participants.as_ref().is_some_and(|ps| ps.contains_key(a)) {
                        self.at(
                            p,
                            format!("`{a}` cannot be both in `participants` and `absent`"),
                        );
                    } else {
                        self.actor(a, p);
                    }
                }
                for (i, c) in s.absent_clients.iter().enumerate() {
                    self.string(c, join(sp, path!["absent_clients", i]));
                }
                self.opt_string(s.name.as_ref(), f("name"));
                self.opt_string(s.topic.as_ref(), f("topic"));
                self.opt_string(s.avatar.as_ref(), f("avatar"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::ExpectTimeline(s) => self.expect_timeline(s, sp),
            Step::ExpectProfile(s) => {
                self.actor(&s.actor, f("as"));
                self.actor(&s.user, f("user"));
                self.opt_string(s.display_name.as_ref(), f("display_name"));
                self.opt_string(s.avatar.as_ref(), f("avatar"));
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::ExpectDownload(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.string(&s.message_id, f("message_id"));
                self.opt_string(s.content_type.as_ref(), f("content_type"));
                match (&s.data, &s.text) {
                    (Some(d), None) => {
                        if base64::engine::general_purpose::STANDARD.decode(d).is_err() {
                            self.at(f("data"), "`data` is not standard base64");
                        }
                    }
                    (None, Some(t)) => self.string(t, f("text")),
                    _ => self.at(
                        sp.to_vec(),
                        "`expect_download` needs exactly one of `data` and `text`",
                    ),
                }
                self.duration(s.timeout.as_ref(), f("timeout"));
            }
            Step::MarkRead(s) => {
                self.actor(&s.actor, f("as"));
                self.string(&s.room, f("room"));
                self.opt_string(s.client.as_ref(), f("client"));
                if s.message_ids.is_empty() {
                    self.at(f("message_ids"), "`message_ids` needs at least one ID");
                }
                for (i, id) in s.message_ids.iter().enumerate() {
                    self.string(id, join(sp, path!["message_ids", i]));
                }
                self.duration(s.timeout.as_ref(), f("timeout"));
                if s.expect == Some(Outcome::Refused) && s.capture.is_some() {
                    self.at(
                        f("capture"),
                        "a mark_read that must be refused has no report ID to capture",
                    );
                } else {
                    self.capture(s.capture.as_ref(), f("capture"));
                }
            }
            Step::Partition(l) | Step::Heal(l) => {
                let mut sides = l.sides.clone();
                sides.sort();
                if sides != [Side::A, Side::B] {
                    self.at(f("sides"), "`sides` names the cell's two sides: `[a, b]`");
                }
            }
            Step::DropRequest(r)
            | Step::Unavailable(r)
            | Step::DuplicateRequest(r)
            | Step::DelayRequest(r) => self.fault(step, r, &f),
            Step::Forge(s) => self.forge(s, &f),
        }
    }

    /// A `forge` step: in a protocol suite, by an adversary actor, with the
    /// fields its forgery needs and no others.
    fn forge(&mut self, s: &Forge, f: &dyn Fn(&str) -> Vec<Seg>) {
        use crate::control::api::{ForgeEndpoint, Forgery};
        if !self.protocol {
            self.at(
                f("forgery"),
                "`forge` belongs to protocol suites (`set: protocol`), where side b is the harness's adversary",
            );
        }
        self.actor(&s.actor, f("as"));
        if self.sides.get(&s.actor) == Some(&Side::A) {
            self.at(
                f("as"),
                format!(
                    "`{}` is on side a (the target); forgeries come from side b, the adversary",
                    s.actor
                ),
            );
        }
        self.string(&s.room, f("room"));
        self.opt_string(s.user.as_ref(), f("user"));
        self.opt_string(s.role.as_ref(), f("role"));
        self.duration(s.timeout.as_ref(), f("timeout"));
        let raw = matches!(
            s.forgery,
            Forgery::Truncated
                | Forgery::TrailingBytes
                | Forgery::Empty
                | Forgery::Garbage
                | Forgery::Oversized
        );
        match (raw, s.endpoint) {
            (true, None) => self.at(
                f("forgery"),
                format!("`{}` needs `endpoint`", s.forgery.name()),
            ),
            (true, Some(ForgeEndpoint::ProxyDownload)) => self.at(
                f("endpoint"),
                "proxyDownload is a GET: it has no body to break",
            ),
            (false, Some(_)) => self.at(
                f("endpoint"),
                format!(
                    "`{}` sends to {}; `endpoint` is for the malformed bodies",
                    s.forgery.name(),
                    s.forgery.endpoint(None).map_or("?", ForgeEndpoint::name)
                ),
            ),
            _ => {}
        }
        let needs_user = matches!(
            s.forgery,
            Forgery::CommitRemove
                | Forgery::CommitKick
                | Forgery::ProposeRemove
                | Forgery::ProposeAsHub
                | Forgery::CommitBan
                | Forgery::CommitBanKeepClients
                | Forgery::CommitRemoveKeepClients
                | Forgery::CommitAdd
                | Forgery::CommitAddClients
                | Forgery::MessageAs
                | Forgery::FromMismatch
                | Forgery::JoinAs
                | Forgery::JoinUnlisted
                | Forgery::ClaimWithoutConsent
                | Forgery::ReportForgedFrank
                | Forgery::ReportNamingAnother
        );
        if needs_user && s.user.is_none() {
            self.at(f("forgery"), format!("`{}` needs `user`", s.forgery.name()));
        }
        if s.role.is_some() && s.forgery != Forgery::CommitRole {
            self.at(f("role"), "`role` belongs to `commit_role`");
        }
        if s.capture.is_some() && !s.forgery.by_the_hub() {
            self.at(
                f("capture"),
                format!(
                    "`{}` sends no message to capture; `capture` belongs to the `message_stamped_*` forgeries",
                    s.forgery.name()
                ),
            );
        }
        self.capture(s.capture.as_ref(), f("capture"));
    }

    /// A request-fault step: a known endpoint, `retry_after` only on
    /// `unavailable` (whole seconds), `by` on `delay_request` and only there.
    fn fault(
        &mut self,
        step: &Step,
        r: &crate::suite::model::RequestFault,
        f: &dyn Fn(&str) -> Vec<Seg>,
    ) {
        use crate::suite::model::FAULT_ENDPOINTS;
        if let Some(e) = &r.endpoint
            && !FAULT_ENDPOINTS.contains(&e.as_str())
        {
            self.at(
                f("endpoint"),
                format!(
                    "unknown endpoint `{e}`; one of {}",
                    FAULT_ENDPOINTS.join(", ")
                ),
            );
        }
        let unavailable = matches!(step, Step::Unavailable(_));
        match (&r.retry_after, unavailable) {
            (Some(_), false) => self.at(f("retry_after"), "`retry_after` belongs to `unavailable`"),
            (Some(t), true) => match parse_duration(t) {
                Err(e) => self.at(f("retry_after"), e.to_string()),
                Ok(d) if d.subsec_nanos() != 0 || d.is_zero() => self.at(
                    f("retry_after"),
                    "Retry-After is whole seconds: `1s`, `2s`, …",
                ),
                Ok(_) => {}
            },
            (None, _) => {}
        }
        let delay = matches!(step, Step::DelayRequest(_));
        match (&r.by, delay) {
            (Some(_), false) => self.at(f("by"), "`by` belongs to `delay_request`"),
            (None, true) => self.at(
                f("by"),
                "`delay_request` needs `by`: how long to hold the request",
            ),
            (by, _) => self.duration(by.as_ref(), f("by")),
        }
    }
}

fn join(base: &[Seg], more: impl IntoIterator<Item = Seg>) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend(more);
    p
}

/// The variables a step captures (a `concurrently` block: its children's).
fn captures_of(step: &Step) -> Vec<String> {
    match step {
        Step::CreateRoom(s) => vec![s.capture.clone()],
        Step::AddClient(s) => s.capture.iter().cloned().collect(),
        Step::Send(s) => s.capture.iter().cloned().collect(),
        Step::MarkRead(s) => s.capture.iter().cloned().collect(),
        Step::SendBurst(s) => vec![s.capture.clone()],
        Step::Concurrently(steps) => steps.iter().flat_map(captures_of).collect(),
        Step::ExpectMessage(s) => s.capture.iter().cloned().collect(),
        Step::Forge(s) => s.capture.iter().cloned().collect(),
        _ => Vec::new(),
    }
}
