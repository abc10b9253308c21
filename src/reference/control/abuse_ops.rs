//! Franking and abuse-report operations (protocol-06 §5.4.1, §5.9).

use super::*;

/// A user's abuse report, built by the first of its clients that kept a
/// verified frank for every message, sent to the room's hub.
pub(super) async fn report_abuse(State(p): P, body: Bytes) -> Res<Empty> {
    let req: ReportAbuseRequest = parse(&body)?;
    if ids::domain_of(&req.room, 'r').is_none() {
        return Err(ControlError::bad(format!("not a room URI: {}", req.room)));
    }
    if ids::domain_of(&req.alleged_abuser, 'u').is_none() {
        return Err(ControlError::bad(format!(
            "not a user URI: {}",
            req.alleged_abuser
        )));
    }
    if req.message_ids.is_empty() {
        return Err(ControlError::bad("message_ids is empty"));
    }
    let actor = p.user(&req.actor)?;
    let clients = actor.clients.lock().await.clone();
    let mut why = String::from("no client");
    let mut report = None;
    for c in clients {
        let mut g = c.lock().await;
        actor.push(g.sync());
        match g.abuse_report(
            &req.room,
            &req.message_ids,
            &req.alleged_abuser,
            req.reason.unwrap_or(0),
            req.note.as_deref().unwrap_or(""),
        ) {
            Ok(r) => {
                report = Some(r);
                break;
            }
            Err(e) => why = e,
        }
    }
    let report = report.ok_or_else(|| ControlError::not_found(why))?;
    p.ep.report_abuse(&req.room, &report)
        .await
        .map_err(mimi_error)?;
    Ok(axum::Json(Empty {}))
}

/// Test observation: the reports this provider's hub accepted for a room.
pub(super) async fn abuse_reports(State(p): P, body: Bytes) -> Res<AbuseReportsResponse> {
    let req: AbuseReportsRequest = parse(&body)?;
    let reports = p
        .server
        .abuse_reports(&req.room)
        .into_iter()
        .map(|r| AcceptedAbuseReport {
            reporting_user: r.reporting_user,
            alleged_abuser: r.alleged_abuser,
            reason: r.reason_code,
            note: r.note,
            accepted_timestamps: r.accepted_timestamps,
        })
        .collect();
    Ok(axum::Json(AbuseReportsResponse { reports }))
}

/// Test observation: the franks each of the user's clients kept.
pub(super) async fn message_franks(State(p): P, body: Bytes) -> Res<MessageFranksResponse> {
    let req: MessageFranksRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let out = user
        .per_client(|g| {
            let messages = g
                .franks(&req.room)
                .into_iter()
                .map(|(message_id, r)| MessageFrank {
                    message_id,
                    sender: r.sender,
                    accepted_timestamp: r.accepted_timestamp,
                    verified: r.frank.is_ok(),
                    problem: r.frank.err(),
                })
                .collect();
            Some(ClientFranks {
                client: g.uri.clone(),
                messages,
            })
        })
        .await;
    Ok(axum::Json(MessageFranksResponse { clients: out }))
}
