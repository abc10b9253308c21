//! How a step ends badly: the verdict, a one-line reason and what was said on
//! the wire, and the mapping from a control call's result to that verdict.

use crate::control::CallError;
use crate::report::model::{StepTranscript, Verdict};
use crate::suite::model::{Level, Outcome};

/// Why a step did not pass. The step runner adds the step's index and action.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub verdict: Verdict,
    pub reason: String,
    /// Boxed: failures travel up through every `?` of the step code.
    detail: Box<Detail>,
}

#[derive(Debug, Clone, Default)]
struct Detail {
    /// The target whose answer or bytes were wrong, when known.
    blame: Option<String>,
    /// The target answered 501 to an operation of the test (not one the
    /// harness itself needs): the case decides `fail` by the feature's level.
    declined: bool,
    /// The called target answered 502 (`peer_error`): the other provider
    /// answered it wrongly.
    peer_fault: bool,
    target: Option<String>,
    request: Option<String>,
    response: Option<String>,
    expected: Option<String>,
}

impl Failure {
    pub fn new(verdict: Verdict, reason: impl Into<String>) -> Self {
        Self {
            verdict,
            reason: one_line(&reason.into()),
            detail: Box::default(),
        }
    }

    pub fn harness(reason: impl Into<String>) -> Self {
        Self::new(Verdict::HarnessError, reason)
    }

    /// A violated expectation: `fail` for MUST, `non-strict` for SHOULD/MAY.
    pub fn violation(level: Level, reason: impl Into<String>) -> Self {
        Self::new(violation_verdict(level), reason)
    }

    /// A violated expectation the harness waited for until its deadline:
    /// `timeout` for MUST; for SHOULD/MAY `non-strict`, since a missing
    /// optional behaviour is what non-strict means (`reason` says what was
    /// awaited, e.g. `a message in room …`).
    pub fn waited_out(level: Level, awaited: impl std::fmt::Display) -> Self {
        let verdict = match level {
            Level::Must => Verdict::Timeout,
            Level::Should | Level::May => Verdict::NonStrict,
        };
        Self::new(verdict, format!("timed out waiting for {awaited}"))
    }

    /// The answer came from `ex.target`, which is blamed for it.
    pub fn with_exchange(mut self, ex: &Exchange) -> Self {
        self.detail.blame = Some(ex.target.clone());
        self.detail.target = Some(ex.target.clone());
        self.detail.request = Some(ex.request.clone());
        self.detail.response = ex.response.clone();
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.detail.expected = Some(expected.into());
        self
    }

    pub fn request(mut self, request: impl Into<String>) -> Self {
        self.detail.request = Some(request.into());
        self
    }

    pub fn response(mut self, response: impl Into<String>) -> Self {
        self.detail.response = Some(response.into());
        self
    }

    /// The target the step talked to (shown in the transcript).
    pub fn target(mut self, target: &str) -> Self {
        self.detail.target = Some(target.to_owned());
        self
    }

    /// The target at fault; `None` when it cannot be told (both sides).
    pub fn blame(mut self, target: Option<&str>) -> Self {
        self.set_blame(target);
        self
    }

    /// [`Failure::blame`] in place.
    pub fn set_blame(&mut self, target: Option<&str>) {
        self.detail.blame = target.map(str::to_owned);
    }

    pub fn blamed(&self) -> Option<&str> {
        self.detail.blame.as_deref()
    }

    /// Whether the called target said the other provider failed it (502).
    pub fn peer_fault(&self) -> bool {
        self.detail.peer_fault
    }

    /// Whether the target answered 501 to an operation of the test.
    pub fn declined(&self) -> bool {
        self.detail.declined
    }

    pub fn transcript(&self, index: u32, action: &str) -> StepTranscript {
        StepTranscript {
            index,
            action: action.to_owned(),
            target: self.detail.target.clone(),
            request: self.detail.request.clone(),
            response: self.detail.response.clone(),
            expected: self.detail.expected.clone(),
        }
    }
}

pub(crate) fn violation_verdict(level: Level) -> Verdict {
    match level {
        Level::Must => Verdict::Fail,
        Level::Should | Level::May => Verdict::NonStrict,
    }
}

/// The control operations the harness itself needs to set up, observe and
/// judge cases: every target must implement them, so a 501 from one is a
/// `target-error`, never `unsupported`.
pub const REQUIRED_OPS: &[&str] = &[
    "info",
    "reset",
    "peers",
    "create_user",
    "room_state",
    "events",
    "timeline",
];

/// The verdict of a control call that failed where success was expected:
/// 501 `unsupported` (which the case turns into `fail`, see
/// [`Failure::declined`]), but `target-error` for [`REQUIRED_OPS`]; 403,
/// 409 and 404 a violation at the test's level; no answer in time
/// `timeout`; transport trouble, other statuses and malformed answers
/// `target-error`.
pub(crate) fn call_verdict(err: &CallError, op: &str, level: Level) -> Verdict {
    match err {
        CallError::Unsupported { .. } if REQUIRED_OPS.contains(&op) => Verdict::TargetError,
        CallError::Unsupported { .. } => Verdict::Unsupported,
        CallError::Refused { .. } | CallError::NotFound { .. } => violation_verdict(level),
        CallError::Timeout { .. } => Verdict::Timeout,
        CallError::Unreachable { .. } | CallError::Status { .. } | CallError::Malformed { .. } => {
            Verdict::TargetError
        }
    }
}

/// A failed control call as a step failure: [`call_verdict`], a reason
/// naming the target, the operation and the answer, the exchange, and the
/// called target blamed.
pub(crate) fn call_failure(err: &CallError, ex: &Exchange, op: &str, level: Level) -> Failure {
    call_failure_as(call_verdict(err, op, level), err, ex, op)
}

/// [`call_failure`] with the verdict already decided.
pub(crate) fn call_failure_as(
    verdict: Verdict,
    err: &CallError,
    ex: &Exchange,
    op: &str,
) -> Failure {
    let mut reason = format!("target {}: {op}: {err}", ex.target);
    let declined = matches!(err, CallError::Unsupported { .. });
    if declined && REQUIRED_OPS.contains(&op) {
        reason.push_str(&format!(
            "; the control API requires {op} of every target (the harness needs it to run and judge cases)"
        ));
    }
    let mut f = Failure::new(verdict, reason).with_exchange(ex);
    f.detail.declined = verdict == Verdict::Unsupported && declined;
    f.detail.peer_fault = err.status() == Some(502);
    f
}

/// Reasons are one line: the transcript carries the detail.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    const MAX: usize = 400;
    if line.chars().count() <= MAX {
        line
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// One control request and its answer, as the transcript shows them.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Target name.
    pub target: String,
    /// `POST <url> <json>`.
    pub request: String,
    /// The answer's JSON, or the error; `None` until it came.
    pub response: Option<String>,
}

/// Judges a control call against the step's `expect:`.
///
/// - 2xx when `ok` was expected: the answer.
/// - 403/409 when `refused` was expected: `Ok(None)`.
/// - 2xx when `refused` was expected, or 403/409/404 when `ok` was: a
///   violation at the test's level.
/// - 501: `unsupported`. Transport trouble, other statuses and malformed
///   answers: `target-error`. No answer in time: `timeout`.
pub(crate) fn judge_call<R>(
    result: Result<R, CallError>,
    ex: &Exchange,
    op: &str,
    expect: Outcome,
    level: Level,
) -> Result<Option<R>, Failure> {
    let err = match (result, expect) {
        (Ok(r), Outcome::Ok) => return Ok(Some(r)),
        (Ok(_), Outcome::Refused) => {
            return Err(Failure::violation(
                level,
                format!(
                    "target {} accepted {op} (2xx) but it must be refused (403/409)",
                    ex.target
                ),
            )
            .with_exchange(ex)
            .expected("403 or 409"));
        }
        (Err(CallError::Refused { .. }), Outcome::Refused) => return Ok(None),
        (Err(e), _) => e,
    };
    let expected = match expect {
        Outcome::Ok => "2xx",
        Outcome::Refused => "403 or 409",
    };
    Err(call_failure(&err, ex, op, level).expected(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex() -> Exchange {
        Exchange {
            target: "t".into(),
            request: "POST x {}".into(),
            response: None,
        }
    }

    #[test]
    fn refusal_semantics() {
        let ok: Result<u8, CallError> = Ok(1);
        assert_eq!(
            judge_call(ok.clone(), &ex(), "ban", Outcome::Ok, Level::Must).unwrap(),
            Some(1)
        );
        let f = judge_call(ok.clone(), &ex(), "ban", Outcome::Refused, Level::Must).unwrap_err();
        assert_eq!(f.verdict, Verdict::Fail);
        let f = judge_call(ok, &ex(), "ban", Outcome::Refused, Level::Should).unwrap_err();
        assert_eq!(f.verdict, Verdict::NonStrict);
        let refused: Result<u8, CallError> = Err(CallError::Refused {
            status: 403,
            message: "no".into(),
        });
        assert_eq!(
            judge_call(refused.clone(), &ex(), "ban", Outcome::Refused, Level::Must).unwrap(),
            None
        );
        let f = judge_call(refused, &ex(), "ban", Outcome::Ok, Level::Must).unwrap_err();
        assert_eq!(f.verdict, Verdict::Fail);
        let unsup: Result<u8, CallError> = Err(CallError::Unsupported {
            message: "later".into(),
        });
        let f = judge_call(unsup, &ex(), "ban", Outcome::Refused, Level::Must).unwrap_err();
        assert_eq!(f.verdict, Verdict::Unsupported);
    }

    #[test]
    fn only_a_502_says_the_other_provider_failed() {
        let status = |status| -> Result<u8, CallError> {
            Err(CallError::Status {
                url: "u".into(),
                status,
                body: "b".into(),
            })
        };
        let f = judge_call(status(502), &ex(), "add_client", Outcome::Ok, Level::Must).unwrap_err();
        assert!(f.peer_fault());
        assert_eq!(f.verdict, Verdict::TargetError);
        let f = judge_call(status(500), &ex(), "add_client", Outcome::Ok, Level::Must).unwrap_err();
        assert!(!f.peer_fault());
    }

    #[test]
    fn reasons_stay_on_one_line() {
        let f = Failure::new(Verdict::Fail, "a\nb");
        assert_eq!(f.reason, "a b");
    }
}
