//! `partition` and `heal`: the harness cuts and restores the MIMI link
//! between the cell's two targets in its relay (`relay/`). Nothing is asked
//! of the targets: they only see connections fail. The request-fault steps
//! arm a one-shot fault in the relay for one request of the case.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use super::relay::fault::{Fault, FaultKind};
use super::vars::parse_duration;
use crate::report::model::Verdict;
use crate::suite::model::{RequestFault, Side, Step};
use std::time::Duration;

/// Cuts the cell's link, both directions; `unsupported` when there is none
/// (one target on both sides).
pub(crate) fn partition(env: &CaseEnv<'_>, state: &mut CaseState) -> Result<(), Failure> {
    let (a, b) = env.cell;
    env.relay
        .cut(a, b)
        .map_err(|why| Failure::new(Verdict::Unsupported, why))?;
    state.cut = true;
    Ok(())
}

/// Restores the cell's link.
pub(crate) fn heal(env: &CaseEnv<'_>, state: &mut CaseState) -> Result<(), Failure> {
    let (a, b) = env.cell;
    env.relay
        .heal(a, b)
        .map_err(|why| Failure::new(Verdict::Unsupported, why))?;
    state.cut = false;
    Ok(())
}

/// Arms a request fault in the relay for the next request of this case
/// that the other side's provider sends to `to`'s.
pub(crate) fn fault(env: &CaseEnv<'_>, step: &Step, r: &RequestFault) -> Result<(), Failure> {
    let (a, b) = env.cell;
    let (from, to) = match r.to {
        Side::A => (b, a),
        Side::B => (a, b),
    };
    let seconds = |t: &Option<String>, default: Duration| match t {
        Some(t) => parse_duration(t).map_err(Failure::harness),
        None => Ok(default),
    };
    let kind = match step {
        Step::DropRequest(_) => FaultKind::Drop,
        Step::Unavailable(_) => FaultKind::Unavailable {
            retry_after: seconds(&r.retry_after, Duration::from_secs(1))?,
        },
        Step::DuplicateRequest(_) => FaultKind::Duplicate,
        Step::DelayRequest(_) => FaultKind::Delay(seconds(&r.by, Duration::ZERO)?),
        _ => return Err(Failure::harness("not a request-fault step")),
    };
    env.relay
        .inject(Fault {
            case: env.case,
            from,
            to,
            endpoint: r.endpoint.clone(),
            kind,
        })
        .map_err(|why| Failure::new(Verdict::Unsupported, why))
}
