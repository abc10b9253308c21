//! Declared capabilities: a target's `/v1/info.features` decides which cases
//! run, and what a 501 from it means.
//!
//! - A SHOULD/MAY feature a side of the cell does not declare: `unsupported`,
//!   not run (honest, and faster than waiting for 501s).
//! - A MUST feature a side does not declare: `fail` ("MUST feature
//!   unsupported"), not run; it makes that target not conformant.
//! - A 501 to an operation of a case that did run (so both sides declared
//!   its feature): `fail`, "MUST feature unsupported" or "declared but
//!   unsupported". The operations the harness itself needs answer 501 as
//!   `target-error` (`outcome::REQUIRED_OPS`).

use super::targets::LiveTarget;
use crate::report::model::Verdict;
use crate::suite::model::Level;

/// The pre-decided outcome of a case whose feature a side did not declare.
pub(crate) struct Undeclared {
    pub verdict: Verdict,
    pub reason: String,
    /// The one side that did not declare it; `None` when both did not.
    pub blame: Option<String>,
}

/// The outcome of a case in a cell whose sides do not both declare
/// `feature`; `None` when they do, or when a side is unusable (its cases
/// are `target-error` for that).
pub(crate) fn undeclared(
    feature: &str,
    level: Level,
    sides: [&LiveTarget; 2],
) -> Option<Undeclared> {
    if sides.iter().any(|t| t.error().is_some()) {
        return None;
    }
    let mut missing: Vec<&str> = sides
        .iter()
        .filter(|t| {
            !t.info
                .features
                .as_ref()
                .is_some_and(|f| f.iter().any(|d| d == feature))
        })
        .map(|t| t.name.as_str())
        .collect();
    missing.dedup();
    let (first, rest) = missing.split_first()?;
    let who = if rest.is_empty() {
        format!("target {first} does not")
    } else {
        format!("targets {} do not", missing.join(" and "))
    };
    let declared = format!("{who} declare feature {feature} in /v1/info features; not run");
    let (verdict, reason) = match level {
        Level::Must => (
            Verdict::Fail,
            format!("MUST feature unsupported: {declared}"),
        ),
        Level::Should | Level::May => (Verdict::Unsupported, declared),
    };
    Some(Undeclared {
        verdict,
        reason,
        blame: rest.is_empty().then(|| (*first).to_owned()),
    })
}

/// The verdict of a case that ran, given whether its `unsupported` came
/// from a target's 501 (`declined`) and the level of its feature.
pub(crate) fn declined(
    verdict: Verdict,
    reason: Option<String>,
    declined: bool,
    level: Level,
) -> (Verdict, Option<String>) {
    if verdict != Verdict::Unsupported || !declined {
        return (verdict, reason);
    }
    let why = reason.unwrap_or_default();
    let reason = match level {
        Level::Must => format!("MUST feature unsupported: {why}"),
        Level::Should | Level::May => format!("declared but unsupported: {why}"),
    };
    (Verdict::Fail, Some(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_501_in_a_declared_case_fails_by_the_features_level() {
        let r = Some("target a: ban: 501".to_owned());
        let (v, why) = declined(Verdict::Unsupported, r.clone(), true, Level::Must);
        assert_eq!(v, Verdict::Fail);
        assert_eq!(
            why.as_deref(),
            Some("MUST feature unsupported: target a: ban: 501")
        );
        let (v, why) = declined(Verdict::Unsupported, r.clone(), true, Level::Should);
        assert_eq!(v, Verdict::Fail);
        assert!(why.unwrap().starts_with("declared but unsupported: "));
        // The harness's own `unsupported` (e.g. a link it cannot cut) stays.
        let (v, _) = declined(Verdict::Unsupported, r, false, Level::Must);
        assert_eq!(v, Verdict::Unsupported);
    }
}
