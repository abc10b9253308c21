//! `partition` and `heal`: the harness cuts and restores the MIMI link
//! between the cell's two targets through its link proxies (`links.rs`).
//! Nothing is asked of the targets: they only see connections fail.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use crate::report::model::Verdict;

/// Cuts the cell's link, both directions; `unsupported` when the harness
/// does not proxy it (a non-loopback `mimi_url`, or one target on both sides).
pub(crate) fn partition(env: &CaseEnv<'_>, state: &mut CaseState) -> Result<(), Failure> {
    let (a, b) = env.cell;
    env.links
        .cut(a, b)
        .map_err(|why| Failure::new(Verdict::Unsupported, why))?;
    state.cut = true;
    Ok(())
}

/// Restores the cell's link.
pub(crate) fn heal(env: &CaseEnv<'_>, state: &mut CaseState) -> Result<(), Failure> {
    let (a, b) = env.cell;
    env.links
        .heal(a, b)
        .map_err(|why| Failure::new(Verdict::Unsupported, why))?;
    state.cut = false;
    Ok(())
}
