//! What the extractors answer when they do not hand a delivery to the handler.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use hookwise::{Delivery, Rejection};

use crate::config::OnRejection;

/// The header marking the answer to a duplicate of a processed delivery.
pub const DUPLICATE_HEADER: &str = "hookwise-duplicate";

/// Why a [`Webhook`](crate::Webhook) extractor did not run the handler.
///
/// It implements [`ResponseError`]: by default a rejection answers its status
/// with `{"error":"<reason code>"}` (plus `WWW-Authenticate` when the scheme
/// has a challenge, and `Retry-After: 1` on `409`), a payload that does not
/// decode answers `422` `{"error":"invalid_payload"}`, and a duplicate of
/// a processed delivery answers `200` with `hookwise-duplicate: true` and
/// `{"duplicate":true,…}`. [`WebhookConfig::on_rejection`](crate::WebhookConfig::on_rejection)
/// replaces these responses.
pub struct WebhookError {
    // Boxed: the error path is cold and `Result<_, WebhookError>` stays small.
    kind: Box<Kind>,
    on_rejection: Option<OnRejection>,
    close: bool,
}

enum Kind {
    Rejected(Rejection),
    InvalidPayload { status: u16, detail: String },
    Duplicate(Delivery),
    Handshake(hookwise::handshake::HandshakeReply),
}

/// What kind of [`WebhookError`] this is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookErrorKind {
    /// The request failed verification or admission ([`WebhookError::rejection`]).
    Rejected,
    /// The verified body does not decode into the handler's type.
    InvalidPayload,
    /// The delivery was processed before; the handler is not run again.
    Duplicate,
    /// A sender handshake, answered instead of running the handler
    /// ([`WebhookConfig::answer_handshakes`](crate::WebhookConfig::answer_handshakes)).
    Handshake,
}

impl WebhookError {
    pub(crate) fn rejected(rejection: Rejection, on_rejection: Option<OnRejection>) -> Self {
        Self {
            kind: Box::new(Kind::Rejected(rejection)),
            on_rejection,
            close: false,
        }
    }

    pub(crate) fn invalid_payload(
        status: u16,
        detail: String,
        on_rejection: Option<OnRejection>,
    ) -> Self {
        Self {
            kind: Box::new(Kind::InvalidPayload { status, detail }),
            on_rejection,
            close: false,
        }
    }

    pub(crate) fn duplicate(delivery: Delivery, on_rejection: Option<OnRejection>) -> Self {
        Self {
            kind: Box::new(Kind::Duplicate(delivery)),
            on_rejection,
            close: false,
        }
    }

    pub(crate) fn handshake(reply: hookwise::handshake::HandshakeReply) -> Self {
        Self {
            kind: Box::new(Kind::Handshake(reply)),
            on_rejection: None,
            close: false,
        }
    }

    /// Marks the answer as the last one on its connection: the request body
    /// was not (entirely) read, so the connection cannot carry another request.
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// Whether the answer closes the connection (`Connection: close`): the
    /// extractor refused before reading the whole body (headers rejected,
    /// body too large, too slow or unreadable), and draining an unread body
    /// is what a limit exists to avoid. Clients then send their next request
    /// on a fresh connection instead of failing on this one.
    pub fn closes_connection(&self) -> bool {
        self.close
    }

    /// What kind of error this is.
    pub fn kind(&self) -> WebhookErrorKind {
        match *self.kind {
            Kind::Rejected(_) => WebhookErrorKind::Rejected,
            Kind::InvalidPayload { .. } => WebhookErrorKind::InvalidPayload,
            Kind::Duplicate(_) => WebhookErrorKind::Duplicate,
            Kind::Handshake(_) => WebhookErrorKind::Handshake,
        }
    }

    /// The rejection, when verification or admission failed.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &*self.kind {
            Kind::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// The verified delivery, when this is a duplicate.
    pub fn duplicate_of(&self) -> Option<&Delivery> {
        match &*self.kind {
            Kind::Duplicate(d) => Some(d),
            _ => None,
        }
    }

    /// The stable code: a rejection's reason code, `invalid_payload` or `duplicate`.
    pub fn code(&self) -> &'static str {
        match &*self.kind {
            Kind::Rejected(r) => r.code(),
            Kind::InvalidPayload { .. } => "invalid_payload",
            Kind::Duplicate(_) => "duplicate",
            Kind::Handshake(_) => "handshake",
        }
    }

    /// The default status, as a number.
    pub fn status(&self) -> u16 {
        match &*self.kind {
            Kind::Rejected(r) => r.status(),
            Kind::InvalidPayload { status, .. } => *status,
            Kind::Duplicate(_) => 200,
            Kind::Handshake(h) => h.status,
        }
    }

    /// The response used unless [`WebhookConfig::on_rejection`](crate::WebhookConfig::on_rejection)
    /// says otherwise.
    pub fn default_response(&self) -> HttpResponse {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = HttpResponse::build(status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        match &*self.kind {
            Kind::Rejected(r) => {
                let challenge = r
                    .diagnosis()
                    .www_authenticate
                    .as_deref()
                    .and_then(|c| HeaderValue::from_str(c).ok());
                if let Some(challenge) = challenge {
                    res.insert_header((header::WWW_AUTHENTICATE, challenge));
                }
                if r.status() == 409 {
                    res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
                }
                if r.reason() == hookwise::Reason::Misconfigured {
                    // A bug in the server, not in the request: name what is missing.
                    return res.body(
                        serde_json::json!({"error": r.code(), "detail": r.diagnosis().detail})
                            .to_string(),
                    );
                }
                res.body(r.body_json())
            }
            Kind::InvalidPayload { .. } => res.body(r#"{"error":"invalid_payload"}"#),
            Kind::Handshake(h) => {
                res.insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(h.content_type),
                ));
                res.body(h.body.clone())
            }
            Kind::Duplicate(d) => {
                res.insert_header((DUPLICATE_HEADER, HeaderValue::from_static("true")));
                res.body(
                    serde_json::json!({
                        "duplicate": true,
                        "provider": d.provider(),
                        "delivery_id": d.id(),
                    })
                    .to_string(),
                )
            }
        }
    }
}

impl fmt::Debug for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("WebhookError");
        match &*self.kind {
            Kind::Rejected(r) => d.field("rejection", r),
            Kind::InvalidPayload { status, detail } => {
                d.field("invalid_payload", status).field("detail", detail)
            }
            Kind::Duplicate(del) => d.field("duplicate", &del.replay_key()),
            Kind::Handshake(h) => d.field("handshake", &h.kind),
        };
        d.finish_non_exhaustive()
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.kind {
            Kind::Rejected(r) => write!(f, "webhook rejected: {r}"),
            Kind::InvalidPayload { status, detail } => {
                write!(f, "webhook payload invalid ({status}): {detail}")
            }
            Kind::Duplicate(d) => write!(f, "duplicate webhook delivery {}", d.replay_key()),
            Kind::Handshake(h) => write!(f, "sender handshake {} answered", h.kind),
        }
    }
}

impl std::error::Error for WebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.rejection().map(|r| r as _)
    }
}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = match &self.on_rejection {
            Some(f) => f(self),
            None => self.default_response(),
        };
        if self.close {
            res.head_mut().set_connection_type(ConnectionType::Close);
        }
        res
    }
}
