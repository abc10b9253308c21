//! The control operations on users, rooms and messages.

use super::*;

pub(super) async fn create_user(State(p): P, body: Bytes) -> Res<CreateUserResponse> {
    let req: CreateUserRequest = parse(&body)?;
    if !ids::valid_name(&req.name) {
        return Err(ControlError::bad(format!(
            "invalid user name {:?}",
            req.name
        )));
    }
    if req.clients == 0 || req.clients > MAX_CLIENTS_PER_USER {
        return Err(ControlError::bad(format!(
            "clients must be 1..={MAX_CLIENTS_PER_USER}"
        )));
    }
    let uri = ids::user_uri(&p.domain, &req.name);
    let user = {
        let mut users = crate::reference::server::lock(&p.users);
        if users.contains_key(&uri) {
            return Err(ControlError::conflict(format!("user {uri} exists")));
        }
        let user = Arc::new(User {
            uri: uri.clone(),
            name: req.name.clone(),
            clients: tokio::sync::Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            seq: watch::channel(0).0,
            tasks: Mutex::new(Vec::new()),
        });
        users.insert(uri.clone(), user.clone());
        user
    };
    p.ep.set_consent_required(&uri, req.consent_required);
    p.ep.set_profile(
        &uri,
        crate::reference::server::Profile {
            display_name: req.display_name.clone(),
            avatar: req.avatar.clone(),
        },
    );
    let mut clients = user.clients.lock().await;
    let mut uris = Vec::new();
    for i in 1..=req.clients as usize {
        let c = p.new_client(&user, i)?;
        let curi = c.uri.clone();
        let c = Arc::new(tokio::sync::Mutex::new(c));
        p.spawn_client_task(user.clone(), c.clone(), &curi);
        clients.push(c);
        uris.push(curi);
    }
    Ok(axum::Json(CreateUserResponse {
        user: uri,
        clients: uris,
    }))
}

pub(super) async fn add_client(State(p): P, body: Bytes) -> Res<AddClientResponse> {
    let req: AddClientRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let mut clients = user.clients.lock().await;
    if clients.len() as u32 >= MAX_CLIENTS_PER_USER {
        return Err(ControlError::conflict("too many clients"));
    }
    let mut rooms = BTreeSet::new();
    for c in clients.iter() {
        let mut g = c.lock().await;
        user.push(g.sync());
        rooms.extend(g.rooms());
    }
    // QUIRK new-device-not-joined.
    if !p.server.quirks.joins_new_device() {
        rooms.clear();
    }
    let mut c = p.new_client(&user, clients.len() + 1)?;
    let uri = c.uri.clone();
    for room in rooms {
        let events = c.join_external(&room).await.map_err(client_error)?;
        user.push(events);
    }
    let c = Arc::new(tokio::sync::Mutex::new(c));
    p.spawn_client_task(user.clone(), c.clone(), &uri);
    clients.push(c);
    Ok(axum::Json(AddClientResponse { client: uri }))
}

pub(super) async fn create_room(State(p): P, body: Bytes) -> Res<CreateRoomResponse> {
    let req: CreateRoomRequest = parse(&body)?;
    let with = match (req.kind, req.with.as_deref()) {
        (RoomKind::Dm, Some(other)) => {
            if ids::domain_of(other, 'u').is_none() {
                return Err(ControlError::bad(format!("not a user URI: {other}")));
            }
            if other == req.actor {
                return Err(ControlError::bad("a dm needs another user in `with`"));
            }
            Some(other.to_owned())
        }
        (RoomKind::Dm, None) => {
            return Err(ControlError::bad("a dm names the other user in `with`"));
        }
        (RoomKind::Group, Some(_)) => {
            return Err(ControlError::bad("`with` is only for kind dm"));
        }
        (RoomKind::Group, None) => None,
    };
    if !ids::valid_name(&req.name) {
        return Err(ControlError::bad(format!(
            "invalid room name {:?}",
            req.name
        )));
    }
    let max_users = match (req.kind, req.max_users) {
        (_, None) => None,
        (RoomKind::Dm, Some(_)) => {
            return Err(ControlError::bad(
                "`max_users` is only for kind group (a dm holds its two users)",
            ));
        }
        (RoomKind::Group, Some(0)) => {
            return Err(ControlError::bad(
                "`max_users` must be at least 1: the creator is a participant",
            ));
        }
        // QUIRK max-users-dropped.
        (RoomKind::Group, Some(max)) => p.server.quirks.max_users(max),
    };
    let status = req.status_policy.map(status_policy);
    let user = p.user(&req.actor)?;
    // A dm whose other user cannot be added would be left behind with one
    // participant: ask the user's provider first (identifierQuery).
    if let Some(other) = &with {
        match p.ep.query_profile(other).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(ControlError::not_found(format!(
                    "the provider of {other} has no such user"
                )));
            }
            Err(e) => return Err(mimi_error(e)),
        }
    }
    let room = ids::room_uri(&p.domain, &req.name);
    let clients = user.clients.lock().await.clone();
    let Some(first) = clients.first() else {
        return Err(ControlError::internal("user without clients"));
    };
    {
        let mut c = first.lock().await;
        // QUIRK dm-open-room.
        let fixed = with.as_deref().filter(|_| p.server.quirks.fixed_dms());
        let mut events = c
            .create_room(&room, fixed, status, max_users)
            .map_err(client_error)?;
        // All or nothing: a room whose other devices or DM partner cannot
        // be brought in is taken down again, and no event is reported.
        match populate_room(
            &mut c,
            &room,
            &user.uri,
            clients.len(),
            with.as_deref(),
            fixed,
        )
        .await
        {
            Ok(more) => events.extend(more),
            Err(e) => {
                c.abandon_room(&room);
                p.ep.abandon_room(&room, &c.uri);
                return Err(client_error(e));
            }
        }
        user.push(events);
    }
    Ok(axum::Json(CreateRoomResponse { room }))
}

/// Brings the creator's other devices and the other user of a DM into a
/// room just created by client `c`.
async fn populate_room(
    c: &mut Client,
    room: &str,
    creator: &str,
    devices: usize,
    with: Option<&str>,
    fixed: Option<&str>,
) -> Result<Vec<ClientEvent>, ClientError> {
    let mut events = Vec::new();
    // The other user first: their provider may refuse (consent), and a room
    // that holds only its creator can still be taken down cleanly.
    if let Some(other) = with {
        // The other user is in the DM's participant list from the start;
        // this commit brings in their clients.
        events.extend(if fixed.is_some() {
            c.add_clients_of(room, other).await?
        } else {
            c.apply_operation(room, &crate::reference::room::Operation::add(other))
                .await?
        });
    }
    if devices > 1 {
        // The creator's other devices join in the same way as anyone else's.
        events.extend(c.add_clients_of(room, creator).await?);
    }
    Ok(events)
}

/// The control API's status policy as the room component carries it.
fn status_policy(s: StatusPolicy) -> crate::reference::room::wire::StatusNotificationPolicy {
    use crate::reference::room::wire::Optionality as W;
    let o = |o: Optionality| match o {
        Optionality::Optional => W::Optional,
        Optionality::Required => W::Required,
        Optionality::Forbidden => W::Forbidden,
    };
    crate::reference::room::wire::StatusNotificationPolicy {
        delivery_notifications: o(s.delivery_notifications),
        read_receipts: o(s.read_receipts),
    }
}

/// How long a membership change that lost an epoch race waits for the
/// winning commit before its last try.
pub(super) const EPOCH_RACE_WAIT: Duration = Duration::from_secs(3);

/// How long `leave` waits for the commit that removes the leaver.
pub(super) const LEAVE_WAIT: Duration = Duration::from_secs(10);

pub(super) async fn leave(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: LeaveRequest = parse(&body)?;
    let actor = p.user(&req.actor)?;
    let c = p.acting_client(&actor, &req.room, None).await?;
    let start = *actor.seq.borrow();
    let (uri, epoch) = {
        let mut c = c.lock().await;
        actor.push(c.sync());
        c.leave(&req.room).await.map_err(client_error)?;
        let epoch = c.room_state(&req.room).map(|s| s.epoch).unwrap_or(0);
        (c.uri.clone(), epoch)
    };
    // The proposals are accepted; another member commits them. Report the
    // epoch of that commit once the leaving client saw it; if it did not in
    // time, the hub holds the proposals for the next committer.
    let removed = await_removed(&actor, &uri, std::slice::from_ref(&req.room), start).await;
    let epoch = removed.get(&req.room).copied().unwrap_or(epoch);
    Ok(axum::Json(RoomChangeResponse { epoch }))
}

/// Unlinks one device: it proposes its own removal in every room it is in
/// (room-policy-03 §8.1.2 canRemoveOwnClient) and is no longer the user's.
/// The user's last device is refused (409): leaving is `leave`.
pub(super) async fn remove_client(State(p): P, body: Bytes) -> Res<Empty> {
    let req: RemoveClientRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let start = *user.seq.borrow();
    let mut clients = user.clients.lock().await;
    let mut found = None;
    for (i, c) in clients.iter().enumerate() {
        if c.lock().await.uri == req.client {
            found = Some(i);
        }
    }
    let Some(at) = found else {
        return Err(ControlError::not_found(format!(
            "{} is not a client of {}",
            req.client, req.user
        )));
    };
    if clients.len() == 1 {
        return Err(ControlError::conflict(format!(
            "{} is the last client of {}: a user leaves with `leave`",
            req.client, req.user
        )));
    }
    let rooms = {
        let mut c = clients[at].lock().await;
        user.push(c.sync());
        let rooms = c.rooms();
        for room in &rooms {
            c.remove_device(room).await.map_err(client_error)?;
        }
        rooms
    };
    clients.remove(at);
    drop(clients);
    // Another member commits each removal; return once the device saw them
    // (or, past the wait, with the hub holding the proposals).
    await_removed(&user, &req.client, &rooms, start).await;
    Ok(axum::Json(Empty {}))
}

/// Waits, up to [`LEAVE_WAIT`], for `client` to see the commits removing it
/// from `rooms` (events after `start`): room → epoch of each seen.
async fn await_removed(
    user: &User,
    client: &str,
    rooms: &[String],
    start: u64,
) -> BTreeMap<String, u64> {
    let mut rx = user.seq.subscribe();
    let deadline = tokio::time::Instant::now() + LEAVE_WAIT;
    loop {
        let removed: BTreeMap<String, u64> = crate::reference::server::lock(&user.log)
            .iter()
            .filter(|e| e.seq > start && e.client == client && rooms.contains(&e.room))
            .filter_map(|e| match e.kind {
                EventKind::Removed { epoch } => Some((e.room.clone(), epoch)),
                _ => None,
            })
            .collect();
        if removed.len() == rooms.len() {
            return removed;
        }
        if !matches!(
            tokio::time::timeout_at(deadline, rx.changed()).await,
            Ok(Ok(()))
        ) {
            return removed;
        }
    }
}

/// A user's profile, asked of its provider by identifier query (§5.8).
pub(super) async fn profile(State(p): P, body: Bytes) -> Res<ProfileResponse> {
    let req: ProfileRequest = parse(&body)?;
    p.user(&req.user)?;
    match p.ep.query_profile(&req.target).await {
        Ok(Some(found)) => Ok(axum::Json(ProfileResponse {
            user: req.target,
            display_name: found.display_name,
            avatar: found.avatar,
        })),
        Ok(None) => Err(ControlError::not_found(format!(
            "the target's provider has no user {}",
            req.target
        ))),
        Err(e) => Err(mimi_error(e)),
    }
}

pub(super) async fn send(State(p): P, body: Bytes) -> Res<SendResponse> {
    let req: SendRequest = parse(&body)?;
    let actor = p.user(&req.actor)?;
    let content = match &req.content {
        SendContent::Raw(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ControlError::bad(format!("content.raw is not base64: {e}")))?,
        SendContent::Intent(intent) => {
            // An `upload` is encrypted and stored first (client side).
            let intent =
                &super::assets::expand_upload(&p, &actor, &req.room, req.client.as_deref(), intent)
                    .await?;
            let mut salt = [0u8; 16];
            rand::Rng::fill(&mut rand::rng(), &mut salt);
            let ctx = crate::content::BuildContext {
                sender_uri: actor.uri.clone(),
                // QUIRK room-uri-is-group-id.
                room_uri: p.server.quirks.content_room_uri(&req.room),
                timestamp_ms: crate::reference::server::now_ms(),
                // QUIRK zero-salt.
                salt: p.server.quirks.salt(salt),
            };
            // QUIRK text-as-plain, unicode-nfc, drops-in-reply-to, drops-topic-id,
            // call-link-as-text.
            crate::content::build(&p.server.quirks.intent(intent), &ctx)
                .map_err(|e| ControlError::bad(format!("content.intent: {e}")))?
        }
    };
    let c = p
        .acting_client(&actor, &req.room, req.client.as_deref())
        .await?;
    let mut c = c.lock().await;
    actor.push(c.sync());
    // Built content is held to the room's policy; raw bytes go out as they
    // are, so tests can check that receivers enforce it too.
    // QUIRK ordinary-user-deletes-others.
    if matches!(req.content, SendContent::Intent(_)) && p.server.quirks.checks_deletes() {
        c.authorize_content(&req.room, &content)
            .map_err(client_error)?;
    }
    submit(&p, &actor, &mut c, &req.room, &content).await?;
    // Raw bytes that are not MIMI content (no salt) have no message ID.
    let message_id = crate::content::message_id(
        // QUIRK message-id-draft07.
        p.server.quirks.id_formula(),
        &actor.uri,
        &req.room,
        &content,
    )
    .map(|id| id.to_hex())
    .unwrap_or_default();
    Ok(axum::Json(SendResponse {
        message_id,
        content: base64::engine::general_purpose::STANDARD.encode(&content),
    }))
}

/// Sends `content` from client `c` of `actor`; when the hub moved on,
/// catches up with the inbox and retries, as for membership.
pub(super) async fn submit(
    p: &Provider,
    actor: &User,
    c: &mut Client,
    room: &str,
    content: &[u8],
) -> Result<(), ControlError> {
    let mut attempt = 0;
    let result = loop {
        match c.send(room, content).await {
            Err(ClientError::Conflict(_)) if attempt < 2 => {
                if attempt == 1
                    && let Some(mut rx) = p.ep.inbox_watch(&c.uri)
                {
                    let _ = tokio::time::timeout(EPOCH_RACE_WAIT, rx.changed()).await;
                }
                attempt += 1;
                actor.push(c.sync());
            }
            other => break other,
        }
    };
    result.map(|_| ()).map_err(client_error)
}

pub(super) async fn events(State(p): P, body: Bytes) -> Res<EventsResponse> {
    let req: EventsRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let mut rx = user.seq.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(req.wait_ms).min(MAX_WAIT);
    loop {
        let found: Vec<Event> = crate::reference::server::lock(&user.log)
            .iter()
            .filter(|e| e.seq > req.cursor)
            .cloned()
            .collect();
        if let Some(last) = found.last() {
            let cursor = last.seq;
            return Ok(axum::Json(EventsResponse {
                events: found,
                cursor,
            }));
        }
        // Also end the poll when the provider stops, so stopping never waits
        // out a long-poll.
        let mut stop = p.shutdown.clone();
        let woke = tokio::select! {
            r = tokio::time::timeout_at(deadline, rx.changed()) => matches!(r, Ok(Ok(()))),
            _ = stop.changed() => false,
        };
        if !woke {
            return Ok(axum::Json(EventsResponse {
                events: Vec::new(),
                cursor: req.cursor,
            }));
        }
    }
}

pub(super) async fn room_state(State(p): P, body: Bytes) -> Res<RoomStateResponse> {
    let req: RoomStateRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let mut out = user.per_client(|g| g.room_state(&req.room)).await;
    // QUIRK wrong-epoch-report, epoch-ahead, local-roster.
    p.server.quirks.room_states(&p.domain, &mut out);
    if out.is_empty() {
        return Err(ControlError::not_found(format!(
            "{} has no client in {}",
            req.user, req.room
        )));
    }
    Ok(axum::Json(RoomStateResponse { clients: out }))
}
