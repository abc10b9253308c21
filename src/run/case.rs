//! One case: fresh users for the actors, then the steps in order, each under
//! its deadline, until the first step that does not pass.

use super::inbox::Inbox;
use super::outcome::{Exchange, Failure, judge_call};
use super::vars::{Vars, parse_duration};
use crate::control::api::*;
use crate::control::{CallError, ControlClient};
use crate::report::model::{StepTranscript, Verdict};
use crate::suite::model::{self as suite, Actor, Level, Outcome, Side, Step, Test};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::time::Instant;

/// One side of the cell as a case talks to it.
#[derive(Clone, Copy)]
pub(crate) struct SideConn<'a> {
    pub name: &'a str,
    pub client: &'a ControlClient,
    /// Cleared once the target answers `release` with 501 or 404.
    pub releases: &'a std::sync::atomic::AtomicBool,
}

/// What a case needs from the run.
pub(crate) struct CaseEnv<'a> {
    pub test: &'a Test,
    pub level: Level,
    pub a: SideConn<'a>,
    pub b: SideConn<'a>,
    pub step_timeout: Duration,
    /// `<run prefix>-<case number>`: makes user and room names unique in the run.
    pub unique: String,
    /// Which deadline ends the case, for the reason: `case deadline (60s)`
    /// or `run deadline`.
    pub deadline_label: String,
    /// The run's relay, and the cell's (a, b) target indexes in it.
    pub relay: &'a super::relay::Relay,
    pub cell: (usize, usize),
    /// The case's index in the plan: what the relay files its exchanges by.
    pub case: usize,
    /// The case's exchanges so far, as the relay records them.
    pub wire: std::sync::Arc<super::relay::record::CaseWire>,
}

impl<'a> CaseEnv<'a> {
    pub fn side(&self, side: Side) -> SideConn<'a> {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }
}

/// An actor once its user exists.
pub(crate) struct ActorState {
    pub side: Side,
    pub user: String,
    pub clients: Vec<String>,
    pub inbox: Inbox,
}

/// Everything a case learns while it runs.
#[derive(Default)]
pub(crate) struct CaseState {
    pub actors: BTreeMap<String, ActorState>,
    pub vars: Vars,
    /// Client URI → user URI, for every client the case created.
    pub owners: HashMap<String, String>,
    rooms: u32,
    /// Room URIs `create_room` answered, for `release` at the end.
    pub created_rooms: Vec<String>,
    /// The step running now: (index, action).
    current: Option<(u32, &'static str)>,
    /// A `partition` step cut the cell's link and no `heal` restored it yet.
    pub cut: bool,
    steps_run: u32,
    /// What every message the case sees must keep (salts, timestamps, IDs).
    pub invariants: std::sync::Arc<super::invariants::Invariants>,
    /// Forged messages the target refused (`forge`), checked at the end
    /// against what it fanned out.
    pub refused: Vec<super::forge::Refused>,
    /// The first step that put a user of one side into a room of the other
    /// (from then on MIMI traffic between the targets is required).
    remote_add: Option<RemoteAdd>,
    /// Every message a `send` had accepted, for reading a lost one's path
    /// on the wire.
    pub sent: super::lost::Ledger,
}

/// A step after which the cell's two targets must talk MIMI.
struct RemoteAdd {
    step: u32,
    /// The side whose provider hosts the room (and must reach the other).
    hub: Side,
    user: String,
}

/// How a case ended.
pub(crate) struct CaseResult {
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub steps_run: u32,
    pub failed_step: Option<StepTranscript>,
    /// The target at fault, when the failing step knows it.
    pub blame: Option<String>,
    /// The verdict is `unsupported` because a target answered 501 to an
    /// operation of the test ([`Failure::declined`]).
    pub declined: bool,
}

/// Slack past a step's own deadline before the runner cuts it off: steps
/// that wait (expectations) report what they saw at their deadline
/// themselves; this only catches a step that failed to.
const BACKSTOP: Duration = Duration::from_secs(1);

/// Runs the case to its verdict; the case deadline bounds everything.
pub(crate) async fn run(env: &CaseEnv<'_>, case_deadline: Instant) -> CaseResult {
    let mut state = CaseState::default();
    let outcome = tokio::time::timeout_at(case_deadline, run_steps(env, &mut state, case_deadline))
        .await
        .unwrap_or_else(|_| {
            let (index, action) = state.current.unwrap_or((0, "setup"));
            let passed = format!("the {} passed", env.deadline_label);
            // An expectation still waiting for the target's behaviour when
            // the case ran out of time: for SHOULD/MAY that behaviour is
            // simply missing (non-strict), for MUST it is a timeout.
            let failure = if action.starts_with("expect_") {
                let mut f = Failure::waited_out(env.level, "the expected behaviour");
                f.reason = format!("{}: {passed}", f.reason);
                f
            } else {
                Failure::new(Verdict::Timeout, passed)
            };
            Err((index, action, failure))
        });
    // A refusal is only honest if nothing of the refused request went out.
    let outcome =
        outcome.and_then(
            |()| match super::forge::fanned_out_after_refusal(env, &state) {
                Some((index, failure)) => Err((index, "forge", failure)),
                None => Ok(()),
            },
        );
    // Whatever the verdict, the case gives back the link it cut: the cases
    // after it run on the same targets.
    if state.cut {
        let _ = env.relay.heal(env.cell.0, env.cell.1);
    }
    release(env, &state).await;
    match outcome {
        Ok(()) => CaseResult {
            verdict: Verdict::Pass,
            reason: None,
            steps_run: state.steps_run,
            failed_step: None,
            blame: None,
            declined: false,
        },
        Err((index, action, mut failure)) => {
            // The adversary is a reference provider: its 502 says the
            // target's MIMI answer to it was wrong (a GroupInfo that does not
            // verify, a status or body the draft does not give), so the case
            // found a violation by the target, not a fault of the harness.
            if failure.peer_fault() && failure.blamed() == Some(super::targets::ADVERSARY) {
                failure.verdict = super::outcome::violation_verdict(env.level);
                failure.set_blame(Some(env.a.name));
                failure.reason = format!(
                    "{} answered the harness's adversary wrongly: {}",
                    env.a.name, failure.reason
                );
            }
            CaseResult {
                verdict: failure.verdict,
                reason: Some(format!("step {index} ({action}): {}", failure.reason)),
                steps_run: state.steps_run,
                failed_step: Some(failure.transcript(index, action)),
                blame: failure.blamed().map(str::to_owned),
                declined: failure.declined(),
            }
        }
    }
}

/// Tells both targets the case is over (control `release`), so they may
/// forget its users and rooms: a long run's memory then follows the cases
/// in flight. Optional for targets and never part of a verdict: an answer
/// of 501 or 404, or none in time, stops the calls to that target; any
/// other failure is ignored.
async fn release(env: &CaseEnv<'_>, state: &CaseState) {
    let users_of = |side: Side| -> Vec<String> {
        state
            .actors
            .values()
            .filter(|a| a.side == side || env.cell.0 == env.cell.1)
            .map(|a| a.user.clone())
            .collect()
    };
    let rooms = &state.created_rooms;
    let timeout = env.step_timeout;
    if env.cell.0 == env.cell.1 {
        release_on(env.a, users_of(Side::A), rooms, timeout).await;
    } else {
        tokio::join!(
            release_on(env.a, users_of(Side::A), rooms, timeout),
            release_on(env.b, users_of(Side::B), rooms, timeout)
        );
    }
}

async fn release_on(conn: SideConn<'_>, users: Vec<String>, rooms: &[String], timeout: Duration) {
    use std::sync::atomic::Ordering;
    if !conn.releases.load(Ordering::Relaxed) {
        return;
    }
    let req = ReleaseRequest {
        users,
        rooms: rooms.to_vec(),
    };
    // A target that hangs on it would otherwise delay every later case.
    if let Err(
        CallError::Unsupported { .. } | CallError::NotFound { .. } | CallError::Timeout { .. },
    ) = conn.client.release(&req, timeout).await
    {
        conn.releases.store(false, Ordering::Relaxed);
    }
}

type StepError = (u32, &'static str, Failure);

async fn run_steps(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    case_deadline: Instant,
) -> Result<(), StepError> {
    state.current = Some((0, "setup"));
    let setup_deadline = case_deadline.min(Instant::now() + env.step_timeout);
    setup_actors(env, state, setup_deadline)
        .await
        .map_err(|f| (0, "setup", f))?;
    for (i, step) in env.test.steps.iter().enumerate() {
        let index = i as u32;
        let action = step.action();
        state.current = Some((index, action));
        let step_timeout = step_timeout(step, env.step_timeout)
            .map_err(|e| (index, action, Failure::harness(e)))?;
        let step_deadline = Instant::now() + step_timeout;
        let deadline = case_deadline.min(step_deadline);
        let result =
            tokio::time::timeout_at(deadline + BACKSTOP, run_step(env, state, step, deadline))
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::new(
                        Verdict::Timeout,
                        format!("did not finish within {step_timeout:?}"),
                    ))
                });
        result.map_err(|mut f| {
            ignored_wiring(env, state, step, &mut f);
            super::lost::explain(env, state, step, &mut f);
            if f.verdict == Verdict::Timeout && case_deadline < step_deadline {
                f.reason = format!(
                    "{}; the {} cut the step short",
                    f.reason, env.deadline_label
                );
            }
            (index, action, f)
        })?;
        state.steps_run += 1;
    }
    Ok(())
}

/// A wait for a message that timed out, in a cell of two targets, after a
/// step that required MIMI traffic between them, when the relay saw none at
/// all: the target never used the peers the harness wired, so the verdict
/// is `target-error` saying so, not a timeout.
fn ignored_wiring(env: &CaseEnv<'_>, state: &CaseState, step: &Step, f: &mut Failure) {
    let waits = matches!(step, Step::ExpectMessage(_) | Step::ExpectMessages(_));
    let (a, b) = env.cell;
    let Some(added) = &state.remote_add else {
        return;
    };
    if f.verdict != Verdict::Timeout || !waits || a == b || env.wire.between(a, b) > 0 {
        return;
    }
    let hub = env.side(added.hub).name;
    let other = env
        .side(match added.hub {
            Side::A => Side::B,
            Side::B => Side::A,
        })
        .name;
    f.verdict = Verdict::TargetError;
    f.reason = format!(
        "target {hub} ignored its peer wiring: no MIMI traffic between {hub} and {other} \
         reached the harness's relay, though step {} put {} into a room hosted by {hub} ({})",
        added.step, added.user, f.reason
    );
}

/// A step's own deadline, else `default`. A `concurrently` block lasts as
/// long as its longest child may.
pub(crate) fn step_timeout(step: &Step, default: Duration) -> Result<Duration, String> {
    let own = match step {
        Step::Concurrently(steps) => {
            return steps
                .iter()
                .map(|c| step_timeout(c, default))
                .try_fold(Duration::ZERO, |max, t| Ok(max.max(t?)));
        }
        Step::CreateRoom(s) => s.timeout.as_ref(),
        Step::AddParticipant(s) | Step::RemoveParticipant(s) | Step::Ban(s) | Step::Unban(s) => {
            s.timeout.as_ref()
        }
        Step::Leave(s) => s.timeout.as_ref(),
        Step::SetRole(s) => s.timeout.as_ref(),
        Step::SetRoomMetadata(s) => s.timeout.as_ref(),
        Step::AddClient(s) => s.timeout.as_ref(),
        Step::RemoveClient(s) => s.timeout.as_ref(),
        Step::Send(s) => s.timeout.as_ref(),
        Step::SendBurst(s) => s.timeout.as_ref(),
        Step::ExpectMessage(s) => s.timeout.as_ref(),
        Step::ExpectMessages(s) => s.timeout.as_ref(),
        Step::ExpectNoMessage(s) => s.timeout.as_ref(),
        Step::ExpectState(s) => s.timeout.as_ref(),
        Step::ExpectTimeline(s) => s.timeout.as_ref(),
        Step::ExpectProfile(s) => s.timeout.as_ref(),
        Step::ExpectDownload(s) => s.timeout.as_ref(),
        Step::MarkRead(s) => s.timeout.as_ref(),
        Step::Forge(s) => s.timeout.as_ref(),
        Step::Partition(_)
        | Step::Heal(_)
        | Step::DropRequest(_)
        | Step::Unavailable(_)
        | Step::DuplicateRequest(_)
        | Step::DelayRequest(_) => None,
    };
    match own {
        Some(t) => parse_duration(t),
        None => Ok(default),
    }
}

/// Local parts allow `[a-z0-9-]`; actor names are close to that already.
fn local_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '-' }
        })
        .collect()
}

/// Creates one fresh user per actor on its side's target.
async fn setup_actors(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    deadline: Instant,
) -> Result<(), Failure> {
    for (name, actor) in &env.test.actors {
        let (display_name, avatar, clients, consent_required) = match actor {
            Actor::Side(_) => (None, None, 1, false),
            Actor::Full(spec) => (
                spec.display_name.clone(),
                spec.avatar.clone(),
                spec.clients.unwrap_or(1),
                spec.consent_required,
            ),
        };
        let side = actor.side();
        let req = CreateUserRequest {
            name: format!("{}-{}", local_part(name), env.unique),
            display_name,
            avatar,
            clients,
            consent_required,
        };
        let resp: CreateUserResponse = state
            .call_ok(
                env,
                side,
                "create_user",
                &req,
                deadline,
                Outcome::Ok,
                env.level,
            )
            .await?
            .ok_or_else(|| Failure::harness("create_user gave no answer"))?;
        if resp.clients.len() != clients as usize {
            return Err(Failure::new(
                Verdict::TargetError,
                format!(
                    "target {}: create_user asked for {clients} client(s) and got {}",
                    env.side(side).name,
                    resp.clients.len()
                ),
            )
            .target(env.side(side).name));
        }
        for c in &resp.clients {
            state.owners.insert(c.clone(), resp.user.clone());
        }
        state.vars.set(name, resp.user.clone());
        state.actors.insert(
            name.clone(),
            ActorState {
                side,
                user: resp.user,
                clients: resp.clients,
                inbox: Inbox::watched(state.invariants.clone()),
            },
        );
    }
    Ok(())
}

impl CaseState {
    /// Interpolates `${...}` in a step field.
    pub fn text(&self, text: &str) -> Result<String, Failure> {
        self.vars
            .interpolate(text)
            .map_err(|e| Failure::harness(format!("{e} in {text:?}")))
    }

    /// The actor a step field names: its name, or (after interpolation) its
    /// user URI.
    pub fn actor_name(&self, text: &str) -> Result<String, Failure> {
        if self.actors.contains_key(text) {
            return Ok(text.to_owned());
        }
        let uri = self.text(text)?;
        self.actors
            .iter()
            .find(|(_, a)| a.user == uri)
            .map(|(n, _)| n.clone())
            .ok_or_else(|| Failure::harness(format!("{text:?} names no actor of this test")))
    }

    pub fn actor(&self, name: &str) -> &ActorState {
        // actor_name() only returns keys of `actors`.
        &self.actors[name]
    }

    /// A user URI field: an actor name or `${actor}`; any other URI as is.
    pub fn user_uri(&self, text: &str) -> Result<String, Failure> {
        if let Some(a) = self.actors.get(text) {
            return Ok(a.user.clone());
        }
        self.text(text)
    }

    /// One control call from a step, with its transcript.
    pub async fn call<B: Serialize, R: DeserializeOwned + Serialize>(
        &self,
        env: &CaseEnv<'_>,
        side: Side,
        op: &str,
        body: &B,
        deadline: Instant,
    ) -> (Result<R, CallError>, Exchange) {
        let conn = env.side(side);
        let mut ex = Exchange {
            target: conn.name.to_owned(),
            request: format!(
                "POST {}/v1/{op} {}",
                conn.client.base(),
                serde_json::to_string(body).unwrap_or_default()
            ),
            response: None,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let result = conn.client.call::<B, R>(op, body, left).await;
        ex.response = Some(match &result {
            Ok(r) => serde_json::to_string(r).unwrap_or_default(),
            Err(e) => e.to_string(),
        });
        (result, ex)
    }

    /// A call judged against `expect`: the answer when it was 2xx as wanted.
    #[allow(clippy::too_many_arguments)]
    pub async fn call_ok<B: Serialize, R: DeserializeOwned + Serialize>(
        &self,
        env: &CaseEnv<'_>,
        side: Side,
        op: &str,
        body: &B,
        deadline: Instant,
        expect: Outcome,
        level: Level,
    ) -> Result<Option<R>, Failure> {
        let (result, ex) = self.call(env, side, op, body, deadline).await;
        judge_call(result, &ex, op, expect, level)
    }

    /// Notes that `user` joined a room hosted on `hub`'s side, if `user`
    /// is an actor of the other side: the first such step is remembered.
    fn note_remote_add(&mut self, hub: Side, user: &str) {
        let remote = self
            .actors
            .values()
            .any(|a| a.user == user && a.side != hub);
        if remote && self.remote_add.is_none() {
            self.remote_add = Some(RemoteAdd {
                step: self.current.map(|(i, _)| i).unwrap_or(0),
                hub,
                user: user.to_owned(),
            });
        }
    }

    /// The index of the step running now (0 during setup).
    pub fn step_index(&self) -> u32 {
        self.current.map(|(i, _)| i).unwrap_or(0)
    }

    fn next_room_name(&mut self, unique: &str) -> String {
        self.rooms += 1;
        format!("room-{unique}-{}", self.rooms)
    }
}

async fn run_step(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    step: &Step,
    deadline: Instant,
) -> Result<(), Failure> {
    let level = env.level;
    match step {
        Step::CreateRoom(s) => {
            let actor = state.actor_name(&s.actor)?;
            let side = state.actor(&actor).side;
            let with = s.with.as_deref().map(|w| state.user_uri(w)).transpose()?;
            let req = CreateRoomRequest {
                actor: state.actor(&actor).user.clone(),
                name: state.next_room_name(&env.unique),
                kind: s.kind,
                with,
                status_policy: s.status_policy,
                max_users: s.max_users,
            };
            let expect = s.expect.unwrap_or_default();
            let resp: Option<CreateRoomResponse> = state
                .call_ok(env, side, "create_room", &req, deadline, expect, level)
                .await?;
            if let Some(resp) = resp {
                state.created_rooms.push(resp.room.clone());
                state.vars.set(&s.capture, resp.room);
                if let Some(with) = &req.with {
                    state.note_remote_add(side, with);
                }
            }
            Ok(())
        }
        Step::AddParticipant(m) => membership(env, state, "add_participant", m, deadline).await,
        Step::RemoveParticipant(m) => {
            membership(env, state, "remove_participant", m, deadline).await
        }
        Step::Ban(m) => membership(env, state, "ban", m, deadline).await,
        Step::Unban(m) => membership(env, state, "unban", m, deadline).await,
        Step::Leave(s) => {
            let actor = state.actor_name(&s.actor)?;
            let side = state.actor(&actor).side;
            let req = LeaveRequest {
                room: state.text(&s.room)?,
                actor: state.actor(&actor).user.clone(),
            };
            let expect = s.expect.unwrap_or_default();
            state
                .call_ok::<_, RoomChangeResponse>(env, side, "leave", &req, deadline, expect, level)
                .await
                .map(drop)
        }
        Step::SetRole(s) => {
            let actor = state.actor_name(&s.actor)?;
            let side = state.actor(&actor).side;
            let req = SetRoleRequest {
                room: state.text(&s.room)?,
                actor: state.actor(&actor).user.clone(),
                user: state.user_uri(&s.user)?,
                role: state.text(&s.role)?,
            };
            let expect = s.expect.unwrap_or_default();
            state
                .call_ok::<_, RoomChangeResponse>(
                    env, side, "set_role", &req, deadline, expect, level,
                )
                .await
                .map(drop)
        }
        Step::SetRoomMetadata(s) => {
            let actor = state.actor_name(&s.actor)?;
            let side = state.actor(&actor).side;
            let opt = |v: &Option<String>| v.as_deref().map(|t| state.text(t)).transpose();
            let req = SetRoomMetadataRequest {
                room: state.text(&s.room)?,
                actor: state.actor(&actor).user.clone(),
                name: opt(&s.name)?,
                topic: opt(&s.topic)?,
                avatar: opt(&s.avatar)?,
            };
            let expect = s.expect.unwrap_or_default();
            state
                .call_ok::<_, RoomChangeResponse>(
                    env,
                    side,
                    "set_room_metadata",
                    &req,
                    deadline,
                    expect,
                    level,
                )
                .await
                .map(drop)
        }
        Step::AddClient(s) => {
            let actor = state.actor_name(&s.user)?;
            let side = state.actor(&actor).side;
            let user = state.actor(&actor).user.clone();
            let req = AddClientRequest { user: user.clone() };
            let resp: Option<AddClientResponse> = state
                .call_ok(env, side, "add_client", &req, deadline, Outcome::Ok, level)
                .await?;
            if let Some(resp) = resp {
                state.owners.insert(resp.client.clone(), user);
                if let Some(var) = &s.capture {
                    state.vars.set(var, resp.client.clone());
                }
                if let Some(a) = state.actors.get_mut(&actor) {
                    a.clients.push(resp.client);
                }
            }
            Ok(())
        }
        Step::RemoveClient(s) => {
            let actor = state.actor_name(&s.user)?;
            let side = state.actor(&actor).side;
            let client = state.text(&s.client)?;
            let req = RemoveClientRequest {
                user: state.actor(&actor).user.clone(),
                client: client.clone(),
            };
            state
                .call_ok::<_, Empty>(
                    env,
                    side,
                    "remove_client",
                    &req,
                    deadline,
                    Outcome::Ok,
                    level,
                )
                .await?;
            // The device is no longer the actor's: steps after it ask only
            // the others (its messages keep their owner).
            if let Some(a) = state.actors.get_mut(&actor) {
                a.clients.retain(|c| *c != client);
            }
            Ok(())
        }
        Step::Send(s) => {
            let id = super::send::send(env, state, s, deadline).await?;
            if let (Some(var), Some(id)) = (&s.capture, id) {
                state.vars.set(var, id);
            }
            Ok(())
        }
        Step::SendBurst(s) => {
            let burst = super::send::send_burst(env, state, s, deadline).await?;
            state.vars.set_burst(&s.capture, burst);
            Ok(())
        }
        Step::Concurrently(steps) => super::send::concurrently(env, state, steps, deadline).await,
        Step::ExpectMessage(s) => super::expect::expect_message(env, state, s, deadline).await,
        Step::ExpectMessages(s) => {
            super::expect_many::expect_messages(env, state, s, deadline).await
        }
        Step::ExpectNoMessage(s) => super::expect::expect_no_message(env, state, s, deadline).await,
        Step::ExpectState(s) => super::oracle::expect_state(env, state, s, deadline).await,
        Step::ExpectTimeline(s) => super::timeline::expect_timeline(env, state, s, deadline).await,
        Step::ExpectProfile(s) => super::profile::expect_profile(env, state, s, deadline).await,
        Step::ExpectDownload(s) => super::download::expect_download(env, state, s, deadline).await,
        Step::MarkRead(s) => {
            let id = super::receipts::mark_read(env, state, s, deadline).await?;
            if let (Some(var), Some(id)) = (&s.capture, id) {
                state.vars.set(var, id);
            }
            Ok(())
        }
        Step::Partition(_) => super::partition::partition(env, state),
        Step::Heal(_) => super::partition::heal(env, state),
        Step::DropRequest(r)
        | Step::Unavailable(r)
        | Step::DuplicateRequest(r)
        | Step::DelayRequest(r) => super::partition::fault(env, step, r),
        Step::Forge(s) => super::forge::forge(env, state, s, deadline).await,
    }
}

async fn membership(
    env: &CaseEnv<'_>,
    state: &mut CaseState,
    op: &str,
    m: &suite::Membership,
    deadline: Instant,
) -> Result<(), Failure> {
    let actor = state.actor_name(&m.actor)?;
    let side = state.actor(&actor).side;
    let req = MembershipRequest {
        room: state.text(&m.room)?,
        actor: state.actor(&actor).user.clone(),
        user: state.user_uri(&m.user)?,
    };
    let expect = m.expect.unwrap_or_default();
    let answer = state
        .call_ok::<_, RoomChangeResponse>(env, side, op, &req, deadline, expect, env.level)
        .await?;
    if answer.is_some() && op == "add_participant" {
        state.note_remote_add(side, &req.user);
    }
    Ok(())
}
