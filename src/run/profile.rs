//! `expect_profile`: the asking actor's provider looks up another user's
//! profile (control API `profile`), and the display name and avatar given
//! must be what it reports.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use crate::control::api::{ProfileRequest, ProfileResponse};
use crate::suite::model::ExpectProfile;
use tokio::time::Instant;

pub(crate) async fn expect_profile(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectProfile,
    deadline: Instant,
) -> Result<(), Failure> {
    let asker = state.actor_name(&s.actor)?;
    let target = state.actor_name(&s.user)?;
    let display_name = s
        .display_name
        .as_deref()
        .map(|t| state.text(t))
        .transpose()?;
    let avatar = s.avatar.as_deref().map(|t| state.text(t)).transpose()?;
    let a = state.actor(&asker);
    let side = a.side;
    let req = ProfileRequest {
        user: a.user.clone(),
        target: state.actor(&target).user.clone(),
    };
    let conn = env.side(side);
    let (result, ex) = state
        .call::<_, ProfileResponse>(env, side, "profile", &req, deadline)
        .await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            return Err(super::outcome::call_failure(&e, &ex, "profile", env.level));
        }
    };
    let mut problems = Vec::new();
    if resp.user != req.target {
        problems.push(format!("answered for {} instead", resp.user));
    }
    if let Some(want) = &display_name
        && resp.display_name.as_ref() != Some(want)
    {
        problems.push(format!(
            "display name is {:?}, expected {want:?}",
            resp.display_name
        ));
    }
    if let Some(want) = &avatar
        && resp.avatar.as_ref() != Some(want)
    {
        problems.push(format!("avatar is {:?}, expected {want:?}", resp.avatar));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::violation(
        env.level,
        format!(
            "profile of {target} as {asker} sees it on {}: {}",
            conn.name,
            problems.join("; ")
        ),
    )
    .with_exchange(&ex))
}
