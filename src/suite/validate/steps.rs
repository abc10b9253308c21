//! Checks of the steps that send and expect many messages: `send_burst`,
//! `concurrently` and `expect_messages`.

use super::{Checker, join};
use crate::suite::locate::{Part, Seg, path};
use crate::suite::model::{ExpectMessages, ExpectTimeline, MAX_BURST, SendBurst, Step};
use std::collections::BTreeSet;

/// The index variable of `send_burst` content.
const INDEX_VAR: &str = "i";

impl Checker {
    pub(super) fn send_burst(&mut self, s: &SendBurst, sp: &[Seg]) {
        let f = |name: &str| join(sp, [Seg::Key(name.to_string())]);
        self.actor(&s.actor, f("as"));
        self.string(&s.room, f("room"));
        if s.count == 0 || s.count > MAX_BURST {
            self.at(
                f("count"),
                format!("`count` must be between 1 and {MAX_BURST}"),
            );
        }
        if let Some(content) = &s.content {
            // `${i}` is the message's index here (shadowing any `i`).
            let had = self.vars.contains(INDEX_VAR);
            self.vars.insert(INDEX_VAR.to_owned());
            self.json(content, f("content"));
            if !had {
                self.vars.remove(INDEX_VAR);
            }
        }
        self.duration(s.timeout.as_ref(), f("timeout"));
        self.capture_into(Some(&s.capture), f("capture"), true);
    }

    /// Children see the variables of the steps before the block, not each
    /// other's captures; their captures are defined after the block.
    pub(super) fn concurrently(&mut self, steps: &[Step], sp: &[Seg]) {
        if steps.len() < 2 {
            self.at(
                sp.to_vec(),
                "`concurrently` needs at least two steps to run at the same time",
            );
        }
        self.concurrent = steps.iter().flat_map(super::captures_of).collect();
        let vars_before = self.vars.clone();
        let lists_before = self.lists.clone();
        let mut captured: Vec<(String, bool, Vec<Seg>)> = Vec::new();
        for (j, child) in steps.iter().enumerate() {
            let cp = join(sp, [Seg::Index(j), Seg::Key(child.action().to_owned())]);
            match child {
                Step::Send(_) | Step::SendBurst(_) => {}
                other => {
                    self.at(
                        join(sp, path![j]),
                        format!(
                            "only `send` and `send_burst` run inside `concurrently`, not `{}`",
                            other.action()
                        ),
                    );
                    continue;
                }
            }
            self.vars = vars_before.clone();
            self.lists = lists_before.clone();
            self.step(child, &cp);
            let capture_path = join(&cp, path!["capture"]);
            for name in self.vars.difference(&vars_before) {
                captured.push((name.clone(), false, capture_path.clone()));
            }
            for name in self.lists.difference(&lists_before) {
                captured.push((name.clone(), true, capture_path.clone()));
            }
        }
        self.vars = vars_before;
        self.lists = lists_before;
        self.concurrent.clear();
        // Re-recorded one by one: two children capturing one name is an error.
        for (name, list, p) in captured {
            self.capture_into(Some(&name), p, list);
        }
    }

    pub(super) fn expect_messages(&mut self, s: &ExpectMessages, sp: &[Seg]) {
        let f = |name: &str| join(sp, [Seg::Key(name.to_string())]);
        self.actor(&s.actor, f("as"));
        self.string(&s.room, f("room"));
        if let Some(from) = &s.from {
            self.actor(from, f("from"));
        }
        let ids = s.ids.as_str();
        if !self.lists.contains(ids) {
            let bare = ids
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .filter(|b| self.lists.contains(*b));
            let message = if let Some(bare) = bare {
                format!("`ids` takes the bare name of a `send_burst` capture: write `ids: {bare}`")
            } else if self.vars.contains(ids) {
                format!(
                    "`{ids}` is not a `send_burst` capture: `ids` names the list of message IDs a `send_burst` captured"
                )
            } else if self.later.contains(ids) {
                format!("variable `{ids}` is used before the step that captures it")
            } else {
                let known: BTreeSet<&str> = self.lists.iter().map(String::as_str).collect();
                format!(
                    "unknown burst capture `{ids}`: `ids` names an earlier `send_burst` capture ({})",
                    if known.is_empty() {
                        "there is none yet".to_owned()
                    } else {
                        known.into_iter().collect::<Vec<_>>().join(", ")
                    }
                )
            };
            self.at(f("ids"), message);
        }
        self.duration(s.timeout.as_ref(), f("timeout"));
    }

    pub(super) fn expect_timeline(&mut self, s: &ExpectTimeline, sp: &[Seg]) {
        let f = |name: &str| join(sp, [Seg::Key(name.to_string())]);
        self.actor(&s.actor, f("as"));
        self.string(&s.room, f("room"));
        if s.messages.is_none() && s.absent.is_empty() {
            self.at(
                sp.to_vec(),
                "`expect_timeline` needs `messages`, `absent` or both",
            );
        }
        for (i, m) in s.messages.iter().flatten().enumerate() {
            let mp = |name: &str| {
                join(
                    sp,
                    [
                        Seg::Key("messages".into()),
                        Seg::Index(i),
                        Seg::Key(name.into()),
                    ],
                )
            };
            if let Some(id) = &m.id {
                self.string(id, mp("id"));
                if s.absent.contains(id) {
                    self.at(mp("id"), format!("`{id}` is both expected and `absent`"));
                }
            }
            if let Some(from) = &m.from {
                self.actor(from, mp("from"));
            }
            if let Some(c) = &m.content {
                self.json(c, mp("content"));
            }
            if let Some(Some(topic)) = &m.topic {
                self.string(topic, mp("topic"));
            }
            for (user, status) in m.status.iter().flatten() {
                let p = join(&mp("status"), [Seg::Key(user.clone())]);
                if !self.actors.contains(user) {
                    self.push(
                        p.clone(),
                        Part::Key,
                        None,
                        format!("unknown actor `{user}` in `status`"),
                    );
                }
                self.string(status, p);
            }
        }
        for (i, id) in s.absent.iter().enumerate() {
            self.string(id, join(sp, path!["absent", i]));
        }
        self.duration(s.timeout.as_ref(), f("timeout"));
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::model::Suite;
    use crate::suite::validate::check_suite;

    /// The messages of the problems in one test with these steps.
    fn problems(steps: &str) -> Vec<String> {
        let yaml = format!(
            "version: 1\nfeature: f\ntitle: F\nset: minimum\n\
             requirement: {{document: d, section: s, item: 1, level: MUST}}\n\
             tests:\n  - name: t\n    actors: {{alice: a, bob: b}}\n    steps:\n\
             \x20     - create_room: {{as: alice, capture: room}}\n{steps}"
        );
        let suite: Suite = crate::suite::parse_strict("x.yaml", &yaml, "")
            .unwrap_or_else(|d| panic!("{d:?}\n{yaml}"));
        check_suite(&suite).into_iter().map(|p| p.message).collect()
    }

    fn one(steps: &str, needle: &str) {
        let p = problems(steps);
        assert!(
            p.len() == 1 && p[0].contains(needle),
            "expected one problem with {needle:?}, got {p:?}"
        );
    }

    #[test]
    fn a_burst_and_its_expectation_load() {
        let p = problems(
            r#"      - send_burst: {as: bob, room: "${room}", count: 100, content: {text: "${i} of ${bob}"}, capture: ids}
      - expect_messages: {as: alice, room: "${room}", from: bob, ids: ids, ordered: false, wire_format: private}
      - expect_message: {as: alice, room: "${room}", wire_format: public}
      - expect_no_message: {as: alice, room: "${room}", until: "${room}"}
"#,
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn burst_count_is_bounded() {
        one(
            "      - send_burst: {as: bob, room: x, count: 0, capture: ids}\n",
            "between 1 and 1000",
        );
        one(
            "      - send_burst: {as: bob, room: x, count: 1001, capture: ids}\n",
            "between 1 and 1000",
        );
    }

    #[test]
    fn the_index_variable_exists_only_in_burst_content() {
        one(
            r#"      - send: {as: bob, room: x, content: {text: "${i}"}}
"#,
            "undefined variable `i`",
        );
    }

    #[test]
    fn a_burst_capture_is_only_for_expect_messages() {
        one(
            r#"      - send_burst: {as: bob, room: x, count: 2, capture: ids}
      - send: {as: bob, room: x, content: {text: "${ids}"}}
"#,
            "only `expect_messages` reads it",
        );
        one(
            r#"      - send_burst: {as: bob, room: x, count: 2, capture: ids}
      - expect_messages: {as: alice, room: x, ids: "${ids}"}
"#,
            "write `ids: ids`",
        );
        one(
            "      - expect_messages: {as: alice, room: x, ids: room}\n",
            "not a `send_burst` capture",
        );
        one(
            "      - expect_messages: {as: alice, room: x, ids: nope}\n",
            "unknown burst capture `nope`",
        );
        one(
            r#"      - expect_messages: {as: alice, room: x, ids: later}
      - send_burst: {as: bob, room: x, count: 2, capture: later}
"#,
            "used before the step that captures it",
        );
        one(
            r#"      - send_burst: {as: bob, room: x, count: 2, capture: room}
"#,
            "already captured",
        );
    }

    #[test]
    fn concurrently_takes_sends_that_do_not_see_each_other() {
        let ok = problems(
            r#"      - concurrently:
          - send_burst: {as: alice, room: "${room}", count: 3, capture: a}
          - send: {as: bob, room: "${room}", content: {text: hi}, capture: b}
      - expect_messages: {as: bob, room: "${room}", ids: a}
      - expect_message: {as: alice, room: "${room}", message_id: "${b}"}
"#,
        );
        assert!(ok.is_empty(), "{ok:?}");
        one(
            "      - concurrently:\n          - send: {as: bob, room: x, content: {text: hi}}\n",
            "at least two steps",
        );
        one(
            r#"      - concurrently:
          - send: {as: bob, room: x, content: {text: hi}}
          - expect_message: {as: alice, room: x}
"#,
            "not `expect_message`",
        );
        one(
            r#"      - concurrently:
          - send: {as: bob, room: x, content: {text: hi}, capture: m}
          - send: {as: alice, room: x, content: {text: "${m}"}}
"#,
            "another step of this `concurrently` block",
        );
        one(
            r#"      - concurrently:
          - send: {as: bob, room: x, content: {text: hi}, capture: m}
          - send_burst: {as: alice, room: x, count: 2, capture: m}
"#,
            "already captured",
        );
    }

    #[test]
    fn expect_timeline_checks_its_fields() {
        let ok = problems(
            r#"      - send: {as: bob, room: "${room}", content: {text: hi}, capture: m}
      - expect_timeline: {as: alice, room: "${room}", messages: [{id: "${m}", from: bob, content: {text: "${bob}"}, edited: false, reactions: {"👍": 1}}], absent: ["${room}"]}
"#,
        );
        assert!(ok.is_empty(), "{ok:?}");
        one(
            "      - expect_timeline: {as: alice, room: x}\n",
            "needs `messages`, `absent` or both",
        );
        one(
            "      - expect_timeline: {as: alice, room: x, messages: [{from: dave}]}\n",
            "unknown actor `dave`",
        );
        one(
            "      - expect_timeline: {as: alice, room: x, messages: [{id: x}], absent: [x]}\n",
            "both expected and `absent`",
        );
        one(
            r#"      - expect_timeline: {as: alice, room: x, absent: ["${nope}"]}
"#,
            "undefined variable `nope`",
        );
    }

    #[test]
    fn mark_read_and_timeline_status_check_their_fields() {
        let ok = problems(
            r#"      - send: {as: bob, room: "${room}", content: {text: hi}, capture: m}
      - mark_read: {as: alice, room: "${room}", message_ids: ["${m}"], capture: r}
      - expect_timeline: {as: bob, room: "${room}", messages: [{id: "${m}", status: {alice: read}}], absent: ["${r}"]}
"#,
        );
        assert!(ok.is_empty(), "{ok:?}");
        one(
            "      - mark_read: {as: alice, room: x, message_ids: []}\n",
            "needs at least one ID",
        );
        one(
            "      - mark_read: {as: alice, room: x, message_ids: [a], expect: refused, capture: r}\n",
            "no report ID to capture",
        );
        one(
            "      - expect_timeline: {as: alice, room: x, messages: [{status: {dave: read}}]}\n",
            "unknown actor `dave` in `status`",
        );
    }
}
