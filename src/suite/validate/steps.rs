//! Checks of the steps that send and expect many messages: `send_burst`,
//! `concurrently` and `expect_messages`.

use super::{Checker, join};
use crate::suite::locate::{Seg, path};
use crate::suite::model::{ExpectMessages, MAX_BURST, SendBurst, Step};
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
}
