//! Tests of the timeline view: relations, expiry, reactions, reports and
//! the relation quirks.
use super::*;
use crate::content::{BuildContext, IdFormula, build_content, encode, message_id};
use serde_json::{Value, json};

const ROOM: &str = "mimi://a.example/r/room";
const ALICE: &str = "mimi://a.example/u/alice";
const BOB: &str = "mimi://b.example/u/bob";
const CAROL: &str = "mimi://b.example/u/carol";

/// Test timeline: builds content from intents, IDs as the draft says.
#[derive(Default)]
struct T {
    tl: Timeline,
    n: u8,
    /// Users whose role has canDeleteOtherMessage.
    moderators: Vec<&'static str>,
    /// The relation rules (quirks) the view applies.
    rules: Relations,
}

impl T {
    fn send(&mut self, who: &str, intent: Value) -> String {
        self.send_at(who, intent, 1_000)
    }
    fn send_at(&mut self, who: &str, intent: Value, received: u64) -> String {
        let moderator = self.moderators.contains(&who);
        self.n += 1;
        let ctx = BuildContext {
            sender_uri: who.into(),
            room_uri: ROOM.into(),
            timestamp_ms: 1_000_000,
            salt: [self.n; 16],
        };
        let c = build_content(&intent, &ctx).unwrap();
        let bytes = encode(&c);
        let id = message_id(IdFormula::Draft08, who, ROOM, &bytes)
            .unwrap()
            .to_hex();
        self.tl.add(
            id.clone(),
            who.into(),
            c,
            u64::from(self.n),
            received,
            moderator,
        );
        id
    }
    fn view(&self) -> Vec<TimelineMessage> {
        self.tl.view(2_000, self.rules)
    }
}

fn texts(v: &[TimelineMessage]) -> Vec<String> {
    v.iter()
        .map(|m| {
            m.body["text"]
                .as_str()
                .or(m.body["markdown"].as_str())
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

#[test]
fn messages_show_in_hub_order_with_replies_and_topics() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "hi", "topic": "lunch"}));
    let m2 = t.send(BOB, json!({"text": "hello", "reply_to": m1}));
    let v = t.view();
    assert_eq!(texts(&v), ["hi", "hello"]);
    assert_eq!(v[0].topic.as_deref(), Some("lunch"));
    assert_eq!(v[1].reply_to.as_deref(), Some(m1.as_str()));
    assert_eq!(v[1].message_id, m2);
    assert_eq!(v[1].sender, BOB);
    assert!(!v[0].edited);
}

#[test]
fn reactions_are_counted_per_user_and_unlike_removes_one() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "pizza?"}));
    let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
    t.send(CAROL, json!({"reaction": "👍", "to": m1}));
    // Bob again with the same text: still one user.
    t.send(BOB, json!({"reaction": "👍", "to": m1}));
    t.send(
        CAROL,
        json!({"to": m1, "disposition": "reaction", "semantics": "processAll", "parts": [{"reaction": "❤"}, {"reaction": "🥳"}]}),
    );
    let v = t.view();
    assert_eq!(v.len(), 1, "reactions are no messages of their own");
    assert_eq!(
        v[0].reactions,
        BTreeMap::from([("👍".into(), 2), ("❤".into(), 1), ("🥳".into(), 1)])
    );
    // Carol cannot unlike Bob's reaction.
    t.send(CAROL, json!({"unlike": r1, "to": m1}));
    assert_eq!(t.view()[0].reactions["👍"], 2);
    t.send(BOB, json!({"unlike": r1, "to": m1}));
    // Bob's second 👍 still stands.
    assert_eq!(t.view()[0].reactions["👍"], 2);
}

#[test]
fn unlike_of_the_only_reaction_leaves_no_count() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "x"}));
    let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
    t.send(BOB, json!({"unlike": r1, "to": m1}));
    assert!(t.view()[0].reactions.is_empty());
}

#[test]
fn only_the_sender_edits_and_the_latest_edit_wins() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "borow a pen?"}));
    t.send(BOB, json!({"edit": m1, "text": "give me your car"}));
    let v = t.view();
    assert_eq!(texts(&v), ["borow a pen?"]);
    assert!(!v[0].edited, "a non-sender's edit is not applied");
    let e1 = t.send(ALICE, json!({"edit": m1, "text": "borrow a pen?"}));
    t.send(ALICE, json!({"edit": e1, "markdown": "borrow a *pen*?"}));
    let v = t.view();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].message_id, m1);
    assert!(v[0].edited);
    assert_eq!(v[0].body["markdown"], "borrow a *pen*?");
    assert!(v[0].body.get("edit").is_none(), "{}", v[0].body);
}

#[test]
fn an_edit_keeps_the_original_fields_other_than_the_body() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "a"}));
    let m2 = t.send(ALICE, json!({"text": "b", "reply_to": m1, "topic": "t"}));
    t.send(ALICE, json!({"edit": m2, "text": "c", "topic": "other"}));
    let v = t.view();
    assert_eq!(v[1].body["text"], "c");
    assert_eq!(v[1].body["reply_to"], json!(m1));
    assert_eq!(v[1].topic.as_deref(), Some("t"));
}

#[test]
fn only_the_sender_deletes() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "one"}));
    let m2 = t.send(BOB, json!({"text": "two"}));
    t.send(BOB, json!({"delete": m1}));
    assert_eq!(texts(&t.view()), ["one", "two"]);
    t.send(ALICE, json!({"delete": m1}));
    let v = t.view();
    assert_eq!(texts(&v), ["two"]);
    assert_eq!(v[0].message_id, m2);
}

#[test]
fn a_relation_before_its_target_still_applies_and_copies_are_ignored() {
    let mut t = T::default();
    let mut early = T::default();
    let m1 = t.send(ALICE, json!({"text": "one"}));
    let d = t.send(ALICE, json!({"delete": m1}));
    // Feed the delete first, then the original, then the delete again.
    let recs = t.tl.records.clone();
    for r in [&recs[1], &recs[0], &recs[1]] {
        early.tl.add(
            r.id.clone(),
            r.sender.clone(),
            r.content.clone(),
            1,
            1,
            false,
        );
    }
    assert!(early.view().is_empty());
    assert_eq!(early.tl.records.len(), 2, "{d}");
}

#[test]
fn expired_messages_are_gone() {
    let mut t = T::default();
    t.send_at(ALICE, json!({"text": "stays"}), 1_000);
    t.send_at(
        ALICE,
        json!({"text": "10s", "expires": {"relative": 10}}),
        1_000,
    );
    t.send_at(ALICE, json!({"text": "at 5s", "expires": {"at": 5}}), 1_000);
    assert_eq!(
        texts(&t.tl.view(4_999, Relations::default())),
        ["stays", "10s", "at 5s"]
    );
    assert_eq!(
        texts(&t.tl.view(5_000, Relations::default())),
        ["stays", "10s"]
    );
    assert_eq!(texts(&t.tl.view(11_000, Relations::default())), ["stays"]);
}

#[test]
fn reactions_to_deleted_messages_are_not_shown_and_a_loop_is_harmless() {
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "x"}));
    t.send(BOB, json!({"reaction": "👍", "to": m1}));
    t.send(ALICE, json!({"delete": m1}));
    assert!(t.view().is_empty());
}

#[test]
fn a_moderator_deletes_another_users_message_but_cannot_edit_it() {
    let mut t = T {
        moderators: vec![CAROL],
        ..T::default()
    };
    let m1 = t.send(ALICE, json!({"text": "spam"}));
    let m2 = t.send(BOB, json!({"text": "fine"}));
    // Bob has no canDeleteOtherMessage: ignored.
    t.send(BOB, json!({"delete": m1}));
    assert_eq!(texts(&t.view()), ["spam", "fine"]);
    // The policy allows deletes only, not edits.
    t.send(CAROL, json!({"edit": m1, "text": "[removed]"}));
    let v = t.view();
    assert_eq!(texts(&v), ["spam", "fine"]);
    assert!(!v[0].edited);
    let d = t.send(CAROL, json!({"delete": m1}));
    let v = t.view();
    assert_eq!(texts(&v), ["fine"]);
    assert_eq!(v[0].message_id, m2);
    assert!(v.iter().all(|m| m.message_id != d));
}

#[test]
fn a_moderator_delete_of_an_edited_message_removes_it_and_is_final() {
    let mut t = T {
        moderators: vec![CAROL],
        ..T::default()
    };
    let m1 = t.send(ALICE, json!({"text": "draft"}));
    let e1 = t.send(ALICE, json!({"edit": m1, "text": "rude"}));
    // Naming the edit reaches the same root message.
    t.send(CAROL, json!({"delete": e1}));
    assert!(t.view().is_empty());
    // The sender's later edit does not bring it back.
    t.send(ALICE, json!({"edit": m1, "text": "back again"}));
    assert!(t.view().is_empty());
}

#[test]
fn the_authority_is_the_one_at_receipt() {
    // A delete recorded while the sender had no such role stays ignored
    // even if the same user is a moderator for later messages.
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "a"}));
    t.send(CAROL, json!({"delete": m1}));
    assert_eq!(texts(&t.view()), ["a"]);
    t.moderators.push(CAROL);
    let m2 = t.send(ALICE, json!({"text": "b"}));
    t.send(CAROL, json!({"delete": m2}));
    assert_eq!(texts(&t.view()), ["a"]);
    assert_eq!(t.tl.sender_of(&m2), Some(ALICE));
}

#[test]
fn a_moderator_cannot_take_back_another_users_reaction() {
    let mut t = T {
        moderators: vec![ALICE],
        ..T::default()
    };
    let m1 = t.send(ALICE, json!({"text": "vote"}));
    let r1 = t.send(BOB, json!({"reaction": "👍", "to": m1}));
    t.send(ALICE, json!({"unlike": r1, "to": m1}));
    assert_eq!(t.view()[0].reactions["👍"], 1);
    assert_eq!(t.tl.sender_of(&r1), None);
}

/// Each relation quirk breaks exactly the rule its documentation names.
#[test]
fn relation_quirks_change_what_the_timeline_shows() {
    let run = |rules: Relations| {
        let mut t = T {
            rules,
            ..T::default()
        };
        let m1 = t.send(ALICE, json!({"text": "pen?"}));
        let m2 = t.send(ALICE, json!({"text": "gone"}));
        t.send(BOB, json!({"edit": m1, "text": "Ferrari?"}));
        t.send(ALICE, json!({"delete": m2}));
        let m3 = t.send(CAROL, json!({"text": "carol's"}));
        t.send(BOB, json!({"delete": m3}));
        let r = t.send(CAROL, json!({"reaction": "👍", "to": m1}));
        t.send(CAROL, json!({"unlike": r}));
        let v = t.view();
        let likes = v[0].reactions.get("👍").copied().unwrap_or(0);
        (texts(&v), likes)
    };
    let clean = run(Relations::default());
    assert_eq!(clean, (vec!["pen?".to_owned(), "carol's".to_owned()], 0));
    let edits = run(Relations {
        edits_from_anyone: true,
        ..Relations::default()
    });
    assert_eq!(edits.0, ["Ferrari?", "carol's"]);
    let shown = run(Relations {
        deletes_ignored: true,
        ..Relations::default()
    });
    assert_eq!(shown.0, ["pen?", "gone", "carol's"]);
    let anyone = run(Relations {
        deletes_from_anyone: true,
        ..Relations::default()
    });
    assert_eq!(anyone.0, ["pen?"]);
    let unlikes = run(Relations {
        unlikes_ignored: true,
        ..Relations::default()
    });
    assert_eq!(unlikes, (clean.0.clone(), 1));
}

#[test]
fn reports_are_no_messages_and_set_the_latest_status_per_user() {
    use crate::content::{MessageId, MessageStatus};
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "one"}));
    let m2 = t.send(ALICE, json!({"text": "two"}));
    let entry = |id: &str, status| PerMessageStatus {
        message_id: MessageId::from_hex(id).unwrap(),
        status,
    };
    let content = t.tl.records[0].content.clone();
    let unknown = "ab".repeat(32);
    let mut report = |id: &str, who: &str, entries| {
        t.tl.add_report(id.into(), who.into(), content.clone(), 9, entries)
    };
    report("r1", BOB, vec![entry(&m1, MessageStatus::DELIVERED)]);
    report(
        "r2",
        BOB,
        vec![
            entry(&m1, MessageStatus::READ),
            entry(&m2, MessageStatus(42)),
            entry(&unknown, MessageStatus::READ),
        ],
    );
    report("r3", CAROL, vec![entry(&m2, MessageStatus::DELIVERED)]);
    report("r4", ALICE, vec![entry(&m2, MessageStatus::READ)]);
    assert_eq!(texts(&t.view()), ["one", "two"]);
    let s = t.tl.statuses(ALICE, Relations::default());
    assert_eq!(s[&m1], BTreeMap::from([(BOB.into(), json!("read"))]));
    assert_eq!(
        s[&m2],
        BTreeMap::from([(BOB.into(), json!(42)), (CAROL.into(), json!("delivered"))])
    );
    assert!(!s.contains_key(&unknown));
    // Alice's own report shows for Bob.
    assert_eq!(
        t.tl.statuses(BOB, Relations::default())[&m2][ALICE],
        json!("read")
    );
}

/// The receiver quirks added with the crafted-content tests each break the
/// rule they name, and only that one.
#[test]
fn receiver_quirks_change_what_the_timeline_shows() {
    let run = |rules: Relations| {
        let mut t = T {
            rules,
            ..T::default()
        };
        let m1 = t.send(ALICE, json!({"text": "pen?"}));
        t.send(BOB, json!({"reaction": "👍", "to": m1}));
        t.send(BOB, json!({"reaction": "👍", "to": m1}));
        let e1 = t.send(ALICE, json!({"edit": m1, "text": "pen? (1)"}));
        t.send(ALICE, json!({"edit": e1, "text": "pen? (2)"}));
        t.send(ALICE, json!({"text": "gone", "expires": {"at": 1}}));
        t.send(BOB, json!({"text": "new", "disposition": 200}));
        let v = t.view();
        (texts(&v), v[0].reactions.get("👍").copied().unwrap_or(0))
    };
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(run(Relations::default()), (owned(&["pen? (2)", "new"]), 1));
    let per_message = Relations {
        reactions_per_message: true,
        ..Relations::default()
    };
    assert_eq!(run(per_message), (owned(&["pen? (2)", "new"]), 2));
    let expiry = Relations {
        expiry_ignored: true,
        ..Relations::default()
    };
    assert_eq!(run(expiry), (owned(&["pen? (2)", "gone", "new"]), 1));
    let hidden = Relations {
        unknown_disposition_hidden: true,
        ..Relations::default()
    };
    assert_eq!(run(hidden), (owned(&["pen? (2)"]), 1));
    let chains = Relations {
        edit_chains_ignored: true,
        ..Relations::default()
    };
    assert_eq!(run(chains), (owned(&["pen? (1)", "new"]), 1));
}

#[test]
fn first_status_wins_keeps_the_first_report_of_a_user() {
    use crate::content::{MessageId, MessageStatus};
    let mut t = T::default();
    let m1 = t.send(ALICE, json!({"text": "one"}));
    let content = t.tl.records[0].content.clone();
    let entry = |status| PerMessageStatus {
        message_id: MessageId::from_hex(&m1).unwrap(),
        status,
    };
    t.tl.add_report(
        "r1".into(),
        BOB.into(),
        content.clone(),
        9,
        vec![entry(MessageStatus::DELIVERED)],
    );
    t.tl.add_report(
        "r2".into(),
        BOB.into(),
        content,
        10,
        vec![entry(MessageStatus::READ)],
    );
    assert_eq!(
        t.tl.statuses(ALICE, Relations::default())[&m1][BOB],
        json!("read")
    );
    let first = Relations {
        first_status_wins: true,
        ..Relations::default()
    };
    assert_eq!(t.tl.statuses(ALICE, first)[&m1][BOB], json!("delivered"));
}
