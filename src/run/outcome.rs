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

    pub fn with_exchange(mut self, ex: &Exchange) -> Self {
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

    pub fn target(mut self, target: &str) -> Self {
        self.detail.target = Some(target.to_owned());
        self
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

/// The verdict of a control call that failed where success was expected:
/// 501 `unsupported`; 403, 409 and 404 a violation at the test's level; no
/// answer in time `timeout`; transport trouble, other statuses and
/// malformed answers `target-error`.
pub(crate) fn call_verdict(err: &CallError, level: Level) -> Verdict {
    match err {
        CallError::Unsupported { .. } => Verdict::Unsupported,
        CallError::Refused { .. } | CallError::NotFound { .. } => violation_verdict(level),
        CallError::Timeout { .. } => Verdict::Timeout,
        CallError::Unreachable { .. } | CallError::Status { .. } | CallError::Malformed { .. } => {
            Verdict::TargetError
        }
    }
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
    let verdict = call_verdict(&err, level);
    Err(
        Failure::new(verdict, format!("target {}: {op}: {err}", ex.target))
            .with_exchange(ex)
            .expected(expected),
    )
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
    fn reasons_stay_on_one_line() {
        let f = Failure::new(Verdict::Fail, "a\nb");
        assert_eq!(f.reason, "a b");
    }
}
