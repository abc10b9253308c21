//! `expect_download`: the asking actor's client downloads an attachment
//! (control API `download`) and the plaintext must be exactly what the step
//! gives. The target fetches, verifies and decrypts; the harness compares
//! the bytes it gets back.

use super::case::{CaseEnv, CaseState};
use super::outcome::Failure;
use crate::control::CallError;
use crate::control::api::{DownloadRequest, DownloadResponse};
use crate::suite::model::ExpectDownload;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::time::Instant;

pub(crate) async fn expect_download(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    s: &ExpectDownload,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&s.actor)?;
    let want: Vec<u8> = match (&s.data, &s.text) {
        (Some(d), None) => B64
            .decode(d)
            .map_err(|e| Failure::harness(format!("`data` is not base64: {e}")))?,
        (None, Some(t)) => state.text(t)?.into_bytes(),
        _ => return Err(Failure::harness("needs exactly one of `data` and `text`")),
    };
    let content_type = s
        .content_type
        .as_deref()
        .map(|t| state.text(t))
        .transpose()?;
    let a = state.actor(&actor);
    let side = a.side;
    let req = DownloadRequest {
        user: a.user.clone(),
        room: state.text(&s.room)?,
        message_id: state.text(&s.message_id)?.to_ascii_lowercase(),
        client: None,
    };
    let conn = env.side(side);
    let (result, ex) = state
        .call::<_, DownloadResponse>(env, side, "download", &req, deadline)
        .await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            let verdict = match &e {
                // 502: the target could not get, verify or decrypt the
                // asset (e.g. its hash does not match the stored bytes).
                CallError::Status { status: 502, .. } => {
                    super::outcome::violation_verdict(env.level)
                }
                e => super::outcome::call_verdict(e, "download", env.level),
            };
            return Err(super::outcome::call_failure_as(
                verdict,
                &e,
                &ex,
                &format!("download of {} as {actor}", req.message_id),
            ));
        }
    };
    let mut problems = Vec::new();
    match B64.decode(&resp.data) {
        Ok(got) if got == want => {}
        Ok(got) => problems.push(format!(
            "plaintext differs: {} bytes, expected {} ({})",
            got.len(),
            want.len(),
            first_difference(&got, &want)
        )),
        Err(e) => problems.push(format!("`data` of the answer is not base64: {e}")),
    }
    if resp.size != want.len() as u64 {
        problems.push(format!("size is {}, expected {}", resp.size, want.len()));
    }
    if let Some(ct) = &content_type
        && &resp.content_type != ct
    {
        problems.push(format!(
            "content type is {:?}, expected {ct:?}",
            resp.content_type
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Failure::violation(
        env.level,
        format!(
            "download of {} as {actor} on {}: {}",
            req.message_id,
            conn.name,
            problems.join("; ")
        ),
    )
    .with_exchange(&ex))
}

/// Where two byte strings first differ, for the reason line.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(g, w)| g != w) {
        Some(i) => format!("first difference at byte {i}"),
        None => "one is a prefix of the other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_located() {
        assert_eq!(
            first_difference(b"abc", b"abd"),
            "first difference at byte 2"
        );
        assert_eq!(
            first_difference(b"ab", b"abc"),
            "one is a prefix of the other"
        );
    }
}
