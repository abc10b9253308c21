//! The harness reads control-API answers only up to a cap: an endless or
//! huge answer is a `target-error` naming the cap, read no further.

use mimi_interop::control::{CallError, ControlClient};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A target whose every answer is 200 with an endless chunked body (or,
/// with `length`, that announces `length` bytes and sends them).
async fn endless_target(length: Option<u64>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = match length {
                    Some(n) => format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n"),
                    None => "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".into(),
                };
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let block = vec![b'a'; 64 << 10];
                let mut chunk = format!("{:x}\r\n", block.len()).into_bytes();
                chunk.extend_from_slice(&block);
                chunk.extend_from_slice(b"\r\n");
                let piece = if length.is_some() { &block } else { &chunk };
                // Until the harness hangs up.
                while s.write_all(piece).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}")
}

fn assert_capped(r: Result<impl std::fmt::Debug, CallError>, cap: usize) {
    match r {
        Err(CallError::Malformed { reason, .. }) => assert!(
            reason.contains("larger than the harness reads") && reason.contains(&cap.to_string()),
            "{reason}"
        ),
        other => panic!("expected the cap to stop the answer: {other:?}"),
    }
}

#[tokio::test]
async fn an_endless_answer_stops_at_the_cap() {
    let cap = 1 << 20;
    let url = endless_target(None).await;
    let c = ControlClient::new(reqwest::Client::new(), &url).with_max_answer(cap);
    // A deadline far beyond what reading up to the cap takes: the cap, not
    // the deadline, must end the call.
    assert_capped(c.info(Duration::from_secs(120)).await, cap);
}

#[tokio::test]
async fn an_announced_oversized_answer_is_refused_before_reading() {
    let cap = 1 << 20;
    let url = endless_target(Some(1 << 30)).await;
    let c = ControlClient::new(reqwest::Client::new(), &url).with_max_answer(cap);
    assert_capped(c.info(Duration::from_secs(120)).await, cap);
}

#[test]
fn the_default_cap_is_16_mib() {
    assert_eq!(mimi_interop::control::client::MAX_ANSWER_BYTES, 16 << 20);
}
