//! `expect_profile` against fakes: the display name and avatar another
//! provider's user set are checked exactly; a missing profile operation is
//! unsupported, an unknown user a failure.

use super::*;
use crate::fake_target::Quirks;

/// alice (a) has a profile; bob (b) asks for it with `expect` (YAML step).
fn profile_test(name: &str, expect: &str) -> String {
    format!(
        r#"- name: {name}
  actors:
    alice: {{side: a, display_name: "Ålice 🌸", avatar: "https://a.example/a.png"}}
    bob: b
  steps:
    - {expect}
"#
    )
}

async fn run_with(quirks: Quirks, tests: &str) -> Vec<CaseReport> {
    let dir = tempfile::tempdir().unwrap();
    let (_world, targets) = two_fakes(quirks).await;
    let plan = plan(targets, vec![suite("MUST", tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    cases(&report).into_iter().cloned().collect()
}

fn reason(case: &CaseReport) -> &str {
    case.reason.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn the_right_profile_passes_and_a_wrong_name_or_avatar_fails() {
    let tests = [
        profile_test(
            "right",
            r#"expect_profile: {as: bob, user: alice, display_name: "Ålice 🌸", avatar: "https://a.example/a.png"}"#,
        ),
        profile_test(
            "wrong-name",
            r#"expect_profile: {as: bob, user: alice, display_name: "Alice 🌸"}"#,
        ),
        profile_test(
            "wrong-avatar",
            r#"expect_profile: {as: bob, user: alice, avatar: "https://a.example/b.png"}"#,
        ),
    ]
    .concat();
    let all = run_with(Quirks::default(), &tests).await;
    assert_eq!(all[0].verdict, Verdict::Pass, "{:#?}", all[0]);
    assert_eq!(all[1].verdict, Verdict::Fail, "{:#?}", all[1]);
    assert!(
        reason(&all[1]).contains(r#"display name is Some("Ålice 🌸"), expected "Alice 🌸""#),
        "{}",
        reason(&all[1])
    );
    assert_eq!(all[2].verdict, Verdict::Fail, "{:#?}", all[2]);
    assert!(reason(&all[2]).contains("avatar is"), "{}", reason(&all[2]));
}

#[tokio::test]
async fn a_target_declining_profiles_fails_and_so_does_a_404() {
    let step = r#"expect_profile: {as: bob, user: alice, display_name: "Ålice 🌸"}"#;
    // The suite's feature is declared and MUST: its 501 is no excuse.
    for (status, verdict) in [(501, Verdict::Fail), (404, Verdict::Fail)] {
        let all = run_with(
            Quirks {
                fail: Some(("profile", status)),
                ..Quirks::default()
            },
            &profile_test("no-profile", step),
        )
        .await;
        assert_eq!(all[0].verdict, verdict, "{status}: {:#?}", all[0]);
    }
}
