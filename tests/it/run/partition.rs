//! Link proxies, `partition` and `heal`: the proxy pipes bytes, a cut
//! resets new connections and aborts open ones, heal restores; a case that
//! cuts runs alone and gives the link back whatever its verdict; a link the
//! harness does not proxy is `unsupported`. Real loopback sockets; waiting
//! is on socket events, never a sleep.

use super::*;
use crate::fake_target::Quirks;
use mimi_interop::run::links::{LinkChange, Links, SAME_TARGET};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on loopback; its URL as a MIMI URL.
async fn echo() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    url
}

fn addr_of(url: &str) -> String {
    url.strip_prefix("https://").unwrap().to_owned()
}

/// Writes `msg` and reads back its echo.
async fn round_trip(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).await.unwrap();
    let mut buf = vec![0; msg.len()];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .expect("echo in time")
        .expect("echo");
    assert_eq!(buf, msg);
}

/// The connection ends (EOF or reset) without a byte of answer.
async fn ends(s: &mut TcpStream) {
    let _ = s.write_all(b"anyone?").await;
    let mut buf = [0u8; 16];
    let got = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("the proxy ends the connection at once");
    assert!(matches!(got, Ok(0) | Err(_)), "{got:?}");
}

#[tokio::test]
async fn the_proxy_pipes_bytes_a_cut_ends_old_and_new_connections_and_heal_restores() {
    let (x, y) = (echo().await, echo().await);
    let links = Links::start(&[Some(x.clone()), Some(y.clone())]).await;
    // Each side is given the proxy, same scheme and host, another port.
    let to_y = links.peer_url(0, 1, &y).to_owned();
    let to_x = links.peer_url(1, 0, &x).to_owned();
    assert!(
        to_y.starts_with("https://127.0.0.1:") && to_y != y,
        "{to_y}"
    );
    assert!(
        to_x.starts_with("https://127.0.0.1:") && to_x != x,
        "{to_x}"
    );

    let mut open = TcpStream::connect(addr_of(&to_y)).await.unwrap();
    round_trip(&mut open, b"hello through the proxy").await;
    let mut back = TcpStream::connect(addr_of(&to_x)).await.unwrap();
    round_trip(&mut back, b"and back").await;
    assert!(!links.is_cut(0, 1));

    let cut = links.cut(1, 0).unwrap();
    assert_eq!(cut.cut_connections, 2, "both open connections were aborted");
    assert!(links.is_cut(0, 1));
    ends(&mut open).await;
    ends(&mut back).await;
    // New connections, both directions, are reset at once.
    for url in [&to_y, &to_x] {
        let mut s = TcpStream::connect(addr_of(url)).await.unwrap();
        ends(&mut s).await;
    }

    let healed = links.heal(0, 1).unwrap();
    assert_eq!(
        healed,
        LinkChange {
            cut_connections: 0,
            refused_connections: 2
        }
    );
    assert!(!links.is_cut(0, 1));
    for url in [&to_y, &to_x] {
        let mut s = TcpStream::connect(addr_of(url)).await.unwrap();
        round_trip(&mut s, b"healed").await;
    }
}

#[tokio::test]
async fn links_that_are_not_loopback_or_not_between_two_targets_cannot_be_cut() {
    let x = echo().await;
    let far = "https://192.0.2.7:4433".to_owned();
    let links = Links::start(&[Some(x.clone()), Some(far.clone()), None]).await;
    // The far target is given as is; the loopback one still through a proxy.
    assert_eq!(links.peer_url(0, 1, &far), far);
    assert_ne!(links.peer_url(1, 0, &x), x);
    let why = links.cut(0, 1).unwrap_err();
    assert_eq!(
        why,
        format!("the harness cannot cut a link it does not proxy: {far} is not loopback")
    );
    assert!(links.heal(1, 0).is_err());
    assert!(links.cut(0, 0).unwrap_err().starts_with(SAME_TARGET));
    assert!(links.cut(0, 2).is_err(), "target 2 is not usable");
}

/// A test of alice (a) and bob (b) with these steps.
fn partition_test(name: &str, timeout: &str, steps: &str) -> String {
    format!(
        "- name: {name}\n  timeout: {timeout}\n  actors: {{alice: a, bob: b}}\n  steps:\n{steps}"
    )
}

#[tokio::test]
async fn a_partition_of_a_link_the_harness_does_not_proxy_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    // The fakes answer `mimi_url: https://<domain>`: not loopback.
    let (_world, targets) = two_fakes(Quirks::default()).await;
    let tests = partition_test(
        "cut",
        "10s",
        "    - create_room: {as: alice, capture: room}\n    - partition: {sides: [a, b]}\n",
    );
    let plan = plan(targets, vec![suite("MUST", &tests)], &[(0, 1)]);
    let report = execute(&plan, &options(dir.path()), &NoBuiltins, &NoEvents).await;
    let case = only_case(&report);
    assert_eq!(case.verdict, Verdict::Unsupported, "{case:#?}");
    assert_eq!(
        case.reason.as_deref(),
        Some(
            "step 1 (partition): the harness cannot cut a link it does not proxy: https://b.example is not loopback"
        )
    );
    assert_eq!(case.failed_step.as_ref().unwrap().action, "partition");
}

fn builtin(name: &str) -> TargetSpec {
    TargetSpec {
        name: name.into(),
        kind: TargetKind::Builtin(BuiltinTarget {
            domain: None,
            quirks: Vec::new(),
        }),
    }
}

/// Two reference providers: a case cuts their link and runs out of time
/// without healing; the next case (also one that cuts, so it runs alone
/// after it) needs the link from its first step. Cases that cut run
/// before the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_cuts_runs_alone_and_leaves_the_link_healed_whatever_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let stuck = partition_test(
        "stuck",
        "3s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - partition: {sides: [a, b]}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: cut}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n",
    );
    let after = partition_test(
        "after",
        "20s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: hi}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n\
         \x20   - partition: {sides: [b, a]}\n\
         \x20   - heal: {sides: [a, b]}\n",
    );
    let together = partition_test(
        "together",
        "20s",
        "    - create_room: {as: alice, capture: room}\n\
         \x20   - add_participant: {as: alice, room: \"${room}\", user: bob}\n\
         \x20   - send: {as: alice, room: \"${room}\", content: {text: hi}, capture: m}\n\
         \x20   - expect_message: {as: bob, room: \"${room}\", message_id: \"${m}\"}\n",
    );
    let tests = format!("{stuck}{after}{together}");
    // A feature the reference provider declares, so the cases run.
    let mut sync = suite("MUST", &tests);
    sync.suite.feature = "reliable-sync".into();
    let plan = plan(vec![builtin("x"), builtin("y")], vec![sync], &[(0, 1)]);
    let events = Recorder::default();
    let launcher = mimi_interop::reference::Launcher::new().unwrap();
    let report = execute(&plan, &options(dir.path()), &launcher, &events).await;
    let all = cases(&report);
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].test, "stuck");
    assert_eq!(all[0].verdict, Verdict::Timeout, "{:#?}", all[0]);
    assert_eq!(all[1].test, "after");
    assert_eq!(all[1].verdict, Verdict::Pass, "{:#?}", all[1]);
    assert_eq!(all[2].verdict, Verdict::Pass, "{:#?}", all[2]);
    // Order: the cutting cases one by one, then the concurrent ones.
    let log = events.0.lock().unwrap();
    let cases: Vec<&String> = log.iter().filter(|l| l.starts_with("case-")).collect();
    assert_eq!(
        cases,
        [
            "case-started stuck",
            "case-finished stuck",
            "case-started after",
            "case-finished after",
            "case-started together",
            "case-finished together",
        ]
    );
}
