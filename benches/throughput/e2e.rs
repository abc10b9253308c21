//! End to end: two reference providers in this process, wired and driven
//! through their control APIs exactly as the harness drives any target
//! (`ControlClient`, `events` long-poll). A message counts as delivered when
//! the receiving user's long-poll returns it, decrypted and byte-identical.

use crate::T;
use crate::stats::{Spread, median_index, ms, rates, spread, us};
use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use mimi_interop::control::ControlClient;
use mimi_interop::control::api::*;
use mimi_interop::reference::{Launcher, RunningProvider};
use std::time::{Duration, Instant};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Providers `a.example` and `b.example`, each knowing the other.
pub struct Pair {
    _launcher: Launcher,
    _a: RunningProvider,
    _b: RunningProvider,
    pub a: ControlClient,
    pub b: ControlClient,
}

async fn peer_of(c: &ControlClient) -> anyhow::Result<Peer> {
    let info = c.info(T).await?;
    Ok(Peer {
        domain: info.domain,
        mimi_url: info.mimi_url,
        ca_pem: info.ca_pem,
    })
}

pub async fn pair() -> anyhow::Result<Pair> {
    let launcher = Launcher::new()?;
    let a = launcher.start_domain("a.example").await?;
    let b = launcher.start_domain("b.example").await?;
    // As the runner does: no proxy between the harness and its targets.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let ca = ControlClient::new(http.clone(), a.control_url());
    let cb = ControlClient::new(http, b.control_url());
    let (pa, pb) = (peer_of(&ca).await?, peer_of(&cb).await?);
    ca.peers(&PeersRequest { peers: vec![pb] }, T).await?;
    cb.peers(&PeersRequest { peers: vec![pa] }, T).await?;
    Ok(Pair {
        _launcher: launcher,
        _a: a,
        _b: b,
        a: ca,
        b: cb,
    })
}

/// A fresh room hosted on A with alice (on A) and bob (on B), bob joined.
pub struct Room {
    pub room: String,
    pub alice: CreateUserResponse,
    pub bob: CreateUserResponse,
}

async fn create_user(c: &ControlClient, name: String) -> anyhow::Result<CreateUserResponse> {
    let req = CreateUserRequest {
        name,
        display_name: None,
        avatar: None,
        clients: 1,
        consent_required: false,
    };
    Ok(c.create_user(&req, T).await?)
}

pub async fn room(p: &Pair, tag: &str) -> anyhow::Result<Room> {
    let alice = create_user(&p.a, format!("alice-{tag}")).await?;
    let bob = create_user(&p.b, format!("bob-{tag}")).await?;
    let room =
        p.a.create_room(
            &CreateRoomRequest {
                actor: alice.user.clone(),
                name: format!("room-{tag}"),
                kind: RoomKind::Group,
                with: None,
                status_policy: None,
                max_users: None,
            },
            T,
        )
        .await?
        .room;
    let add = MembershipRequest {
        room: room.clone(),
        actor: alice.user.clone(),
        user: bob.user.clone(),
    };
    p.a.membership("add_participant", &add, T).await?;
    let mut cursor = 0;
    'joined: loop {
        let r = p.b.events(&events_req(&bob.user, cursor), T).await?;
        if r.events.is_empty() {
            bail!("bob never joined {room}");
        }
        cursor = r.cursor;
        for e in r.events {
            if e.room == room && matches!(e.kind, EventKind::Joined { .. }) {
                break 'joined;
            }
        }
    }
    Ok(Room { room, alice, bob })
}

fn events_req(user: &str, cursor: u64) -> EventsRequest {
    EventsRequest {
        user: user.to_owned(),
        cursor,
        wait_ms: 5000,
    }
}

/// The content vector with its salt set to `tag ‖ index`, so every message
/// differs (as real ones do) and each arrival names which send it was.
fn content_for(base: &[u8], tag: u64, index: usize) -> Vec<u8> {
    let mut c = base.to_vec();
    c[2..10].copy_from_slice(&tag.to_be_bytes());
    c[10..18].copy_from_slice(&(index as u64).to_be_bytes());
    c
}

fn index_of(base: &[u8], tag: u64, got: &[u8]) -> Option<usize> {
    if got.len() != base.len() || got[2..10] != tag.to_be_bytes() || got[18..] != base[18..] {
        return None;
    }
    let idx = u64::from_be_bytes(got[10..18].try_into().ok()?);
    usize::try_from(idx).ok()
}

/// Who sends and who must receive.
#[derive(Clone, Copy)]
pub enum Dir {
    /// alice on the hub sends, bob on the follower receives.
    HubToFollower,
    /// bob on the follower sends, alice on the hub receives.
    FollowerToHub,
}

struct Ends<'a> {
    send: &'a ControlClient,
    actor: &'a str,
    sender_client: &'a str,
    recv: &'a ControlClient,
    recv_user: &'a str,
}

fn ends<'a>(p: &'a Pair, r: &'a Room, dir: Dir) -> Ends<'a> {
    match dir {
        Dir::HubToFollower => Ends {
            send: &p.a,
            actor: &r.alice.user,
            sender_client: &r.alice.clients[0],
            recv: &p.b,
            recv_user: &r.bob.user,
        },
        Dir::FollowerToHub => Ends {
            send: &p.b,
            actor: &r.bob.user,
            sender_client: &r.bob.clients[0],
            recv: &p.a,
            recv_user: &r.alice.user,
        },
    }
}

/// Long-polls the receiver until messages `first..first + n` of `tag` have
/// all arrived; returns when each was seen and the cursor after them.
/// Fails on a duplicate, a foreign sender, or 30 s without progress.
async fn collect(
    e: &Ends<'_>,
    room: &str,
    base: &[u8],
    tag: u64,
    first: usize,
    n: usize,
    mut cursor: u64,
) -> anyhow::Result<(Vec<Instant>, u64)> {
    let mut arrived: Vec<Option<Instant>> = vec![None; n];
    let mut got = 0;
    let mut last_progress = Instant::now();
    while got < n {
        if last_progress.elapsed() > T {
            bail!("only {got} of {n} messages arrived at {}", e.recv_user);
        }
        let r = e.recv.events(&events_req(e.recv_user, cursor), T).await?;
        let now = Instant::now();
        cursor = r.cursor;
        for ev in r.events {
            let EventKind::Message {
                sender, content, ..
            } = &ev.kind
            else {
                continue;
            };
            if ev.room != room {
                continue;
            }
            if sender != e.sender_client {
                bail!("message in {room} from unexpected sender {sender}");
            }
            let bytes = B64.decode(content).context("event content is not base64")?;
            let i = index_of(base, tag, &bytes)
                .and_then(|i| i.checked_sub(first))
                .filter(|&i| i < n)
                .ok_or_else(|| anyhow!("unexpected content arrived: {} bytes", bytes.len()))?;
            if arrived[i].replace(now).is_some() {
                bail!("message {} arrived twice", first + i);
            }
            got += 1;
            last_progress = now;
        }
    }
    let arrived = arrived.into_iter().flatten().collect();
    Ok((arrived, cursor))
}

async fn send(e: &Ends<'_>, room: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let req = SendRequest {
        room: room.to_owned(),
        actor: e.actor.to_owned(),
        client: None,
        content: SendContent::Raw(B64.encode(bytes)),
    };
    e.send.send(&req, T).await?;
    Ok(())
}

/// One measured run of `n` messages.
struct Measure {
    /// First send to last arrival.
    elapsed: Duration,
    /// Send call started → message seen by the receiver's long-poll.
    latency: Vec<Duration>,
    /// Duration of the `send` control call alone.
    send_call: Vec<Duration>,
}

/// `senders` concurrent send loops share `n` messages; the receiver
/// long-polls at the same time.
async fn streamed(
    p: &Pair,
    dir: Dir,
    n: usize,
    senders: usize,
    tag: u64,
    base: &[u8],
) -> anyhow::Result<Measure> {
    let r = room(p, &format!("s{tag}")).await?;
    let e = ends(p, &r, dir);
    let start = Instant::now();
    let sending = futures_util::future::try_join_all((0..senders).map(|k| {
        let e = &e;
        let r = &r;
        async move {
            let mut out = Vec::new();
            for i in (k..n).step_by(senders) {
                let t = Instant::now();
                send(e, &r.room, &content_for(base, tag, i)).await?;
                out.push((i, t, t.elapsed()));
            }
            anyhow::Ok(out)
        }
    }));
    let (sent, (arrived, _)) = tokio::try_join!(sending, collect(&e, &r.room, base, tag, 0, n, 0))?;
    let last = arrived.iter().max().copied().unwrap_or(start);
    let mut latency = Vec::with_capacity(n);
    let mut send_call = Vec::with_capacity(n);
    for (i, t, call) in sent.into_iter().flatten() {
        latency.push(arrived[i].saturating_duration_since(t));
        send_call.push(call);
    }
    Ok(Measure {
        elapsed: last - start,
        latency,
        send_call,
    })
}

/// One message in flight: send, then wait until the receiver has it — what
/// a suite's `send` + `expect_message` pair does.
async fn ping(p: &Pair, dir: Dir, n: usize, tag: u64, base: &[u8]) -> anyhow::Result<Measure> {
    let r = room(p, &format!("p{tag}")).await?;
    let e = ends(p, &r, dir);
    let mut cursor = 0;
    let mut latency = Vec::with_capacity(n);
    let mut send_call = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        send(&e, &r.room, &content_for(base, tag, i)).await?;
        send_call.push(t.elapsed());
        let (arrived, c) = collect(&e, &r.room, base, tag, i, 1, cursor).await?;
        cursor = c;
        latency.push(arrived[0] - t);
    }
    Ok(Measure {
        elapsed: start.elapsed(),
        latency,
        send_call,
    })
}

fn print_measures(label: &str, n: usize, runs: &[Measure]) {
    let elapsed: Vec<Duration> = runs.iter().map(|m| m.elapsed).collect();
    let (best, median) = rates(n, &elapsed);
    let mid = &runs[median_index(&elapsed)];
    let (l, s): (Spread, Spread) = (spread(&mid.latency), spread(&mid.send_call));
    println!("  {label:<30} best {best:>7.0} msg/s   median {median:>7.0} msg/s");
    println!(
        "  {:<30} latency mean {} p50 {} p99 {}; send call mean {}",
        "",
        ms(l.mean),
        ms(l.p50),
        ms(l.p99),
        ms(s.mean)
    );
}

async fn time_calls<F, Fut>(n: usize, mut call: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await?;
        out.push(t.elapsed());
    }
    Ok(out)
}

fn print_calls(label: &str, samples: &[Duration]) {
    let s = spread(samples);
    println!(
        "  {label:<30} mean {:>10}  p50 {:>10}  p99 {:>10}",
        us(s.mean),
        us(s.p50),
        us(s.p99)
    );
}

pub async fn bench(n: usize, senders: usize, repeats: usize, base: &[u8]) -> anyhow::Result<()> {
    let p = pair().await.context("starting two reference providers")?;
    let mut tag = 0u64;
    let mut next = || {
        tag += 1;
        tag
    };
    println!("## 2. end to end: two reference providers, control API + MIMI over loopback mTLS");
    println!("{n} messages per run; latency = send call start -> receiver's long-poll returns it");
    let variants = [
        (
            "hub->follower, 1 sender".to_owned(),
            Dir::HubToFollower,
            Some(1),
        ),
        (
            "follower->hub, 1 sender".to_owned(),
            Dir::FollowerToHub,
            Some(1),
        ),
        (
            format!("hub->follower, {senders} senders"),
            Dir::HubToFollower,
            Some(senders),
        ),
        ("hub->follower, ping".to_owned(), Dir::HubToFollower, None),
        ("follower->hub, ping".to_owned(), Dir::FollowerToHub, None),
    ];
    for (label, dir, senders) in variants {
        let mut runs = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            let m = match senders {
                Some(k) => streamed(&p, dir, n, k, next(), base).await,
                None => ping(&p, dir, n, next(), base).await,
            }
            .with_context(|| format!("end to end, {label}"))?;
            runs.push(m);
        }
        print_measures(&label, n, &runs);
    }

    println!("\n## 3. control API round trip (the harness's per-call cost, no MIMI traffic)");
    let r = room(&p, "rt").await?;
    let info = time_calls(n, || async {
        p.a.info(T).await.map(drop).map_err(Into::into)
    })
    .await?;
    let state_req = RoomStateRequest {
        room: r.room.clone(),
        user: r.alice.user.clone(),
    };
    let state = time_calls(n, || async {
        p.a.room_state(&state_req, T)
            .await
            .map(drop)
            .map_err(Into::into)
    })
    .await?;
    let bob_req = RoomStateRequest {
        room: r.room.clone(),
        user: r.bob.user.clone(),
    };
    // What one `expect_state` step of alice and bob sends: both at once.
    let both = time_calls(n, || async {
        tokio::try_join!(p.a.room_state(&state_req, T), p.b.room_state(&bob_req, T))?;
        Ok(())
    })
    .await?;
    print_calls("GET /v1/info", &info);
    print_calls("POST /v1/room_state", &state);
    print_calls("room_state on A and B at once", &both);
    println!();
    Ok(())
}
