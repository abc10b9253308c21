//! Operations for features of the requirements that MIMI gives no mechanism
//! for (requirements-00 Maximum Feature Set: typing notifications, presence,
//! history sync for new members, history porting). The reference provider
//! invents no wire format for them: each answers 501 `unsupported` naming
//! what the drafts lack, whatever the request.

use super::*;

/// Route path → why there is no MIMI mechanism for it.
pub(super) const OPERATIONS: [(&str, &str); 4] = [
    (
        "/v1/typing",
        "no MIMI mechanism for typing notifications: draft-ietf-mimi-content-08 defines no format, \
         draft-ietf-mimi-protocol-06 §5.4 leaves ephemeral \"is typing\" messages as an open issue, \
         and draft-ietf-mimi-room-policy-03 has no typing policy",
    ),
    (
        "/v1/presence",
        "no MIMI mechanism for presence: draft-ietf-mimi-content-08 and draft-ietf-mimi-protocol-06 \
         define no format, and draft-ietf-mimi-room-policy-03 §8.7 only reserves canChangeOwnPresence",
    ),
    (
        "/v1/share_history",
        "no MIMI mechanism for sharing history with new members: draft-ietf-mimi-room-policy-03 §6.6 \
         defines only the HistoryPolicy, and draft-ietf-mimi-protocol-06 and \
         draft-ietf-mimi-content-08 define no transfer of earlier messages",
    ),
    (
        "/v1/port_history",
        "no MIMI mechanism for porting history between services: draft-ietf-mimi-content-08, \
         draft-ietf-mimi-protocol-06 and draft-ietf-mimi-room-policy-03 define none",
    ),
];

/// The routes, each answering 501 with its reason.
pub(super) fn routes(mut router: Router<Arc<Provider>>) -> Router<Arc<Provider>> {
    for (path, why) in OPERATIONS {
        router = router.route(
            path,
            post(move || async move {
                ControlError::new(StatusCode::NOT_IMPLEMENTED, "unsupported", why).into_response()
            }),
        );
    }
    router
}
