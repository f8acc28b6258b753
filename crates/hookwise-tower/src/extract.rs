//! axum extractors for verified deliveries (feature `axum`).
//!
//! [`Webhook<T>`] hands a handler the payload decoded from the verified bytes,
//! those bytes, and the [`Delivery`]; [`RawWebhook`] the bytes and the
//! [`Delivery`] without decoding. Both only work behind
//! [`VerifyWebhook`](crate::VerifyWebhook): without the layer they answer 500,
//! so a handler cannot get an unverified payload by mistake.
//!
//! The bytes and the [`Delivery`] are the ones the layer verified, kept
//! together in a private request extension (the bytes are the same buffer as
//! the re-attached body): a layer between
//! [`VerifyWebhook`](crate::VerifyWebhook) and the handler that rewrites the
//! body, or replaces the `Delivery` extension, changes what `Bytes`, `Json` or
//! `Extension<Delivery>` would read, not what these extractors hand over.
//!
//! So a layer inside `VerifyWebhook` that decompresses the body does not make
//! these extractors decode the decompressed bytes: `Webhook<T>` decodes what
//! was signed (a gzip body answers 422 `invalid_payload`), `RawWebhook` hands
//! it over as sent. Senders sign what they send; decompress in the handler.
//! Whether the payload is a form is read from the request's `Content-Type` at
//! extraction.
//!
//! The [`Delivery`] alone is also available as `axum::Extension<Delivery>`
//! (a clone of the verified one).
//!
//! # Example
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
//! use hookwise::{providers, scheme::SignParams, Clock, SystemClock, Verifier};
//! use hookwise_tower::{VerifyWebhook, Webhook};
//! use serde::Deserialize;
//! use tower::ServiceExt;
//!
//! #[derive(Deserialize)]
//! struct Event {
//!     id: String,
//!     #[serde(rename = "type")]
//!     kind: String,
//! }
//!
//! async fn stripe(hook: Webhook<Event>) -> String {
//!     format!("{} {} ({} bytes)", hook.payload.kind, hook.payload.id, hook.body.len())
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = "whsec_test_secret";
//! let app = Router::new()
//!     .route("/webhooks/stripe", post(stripe))
//!     .route_layer(VerifyWebhook::new(Verifier::new(providers::stripe(), secret)?));
//!
//! let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
//! let now = SystemClock.now_unix();
//! let signed = providers::stripe().sign(secret, body, &SignParams { timestamp: Some(now), ..Default::default() })?;
//! let mut req = Request::post("/webhooks/stripe");
//! for (name, value) in signed.headers.iter() {
//!     req = req.header(name, value);
//! }
//! let res = app.oneshot(req.body(Body::from(&body[..]))?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```

use std::fmt;
use std::ops::Deref;

use axum_core::extract::{FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use bytes::Bytes;
use hookwise::Delivery;
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;

/// A verified delivery: the payload decoded from the verified bytes, the bytes
/// themselves, and the [`Delivery`] metadata.
///
/// The payload is decoded as JSON, or as a form when the request's
/// `Content-Type` is `application/x-www-form-urlencoded` (Slack slash commands
/// and interactivity, Twilio, Mailgun). A payload that does not decode answers
/// 422 `{"error":"invalid_payload"}`.
///
/// Requires [`VerifyWebhook`](crate::VerifyWebhook) on the route; see the
/// [module docs](crate::extract) for an example.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Webhook<T> {
    /// The decoded payload.
    pub payload: T,
    /// The exact bytes that were verified.
    pub body: Bytes,
    /// What the verifier learned: provider, id, timestamp, event type, key.
    pub delivery: Delivery,
}

impl<T> Webhook<T> {
    /// The decoded payload.
    pub const fn payload(&self) -> &T {
        &self.payload
    }
    /// The exact bytes that were verified.
    pub const fn body(&self) -> &Bytes {
        &self.body
    }
    /// The delivery metadata.
    pub const fn delivery(&self) -> &Delivery {
        &self.delivery
    }
    /// The payload, dropping the rest.
    pub fn into_payload(self) -> T {
        self.payload
    }
    /// Payload, bytes and delivery.
    pub fn into_parts(self) -> (T, Bytes, Delivery) {
        (self.payload, self.body, self.delivery)
    }
}

impl<T> Deref for Webhook<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.payload
    }
}

/// A verified delivery without decoding: the exact bytes that were verified
/// and the [`Delivery`]. For payloads that are not JSON or a form, or to
/// decode them yourself.
///
/// Requires [`VerifyWebhook`](crate::VerifyWebhook) on the route; see the
/// [module docs](crate::extract).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RawWebhook {
    /// The exact bytes that were verified.
    pub body: Bytes,
    /// What the verifier learned.
    pub delivery: Delivery,
}

impl RawWebhook {
    /// The exact bytes that were verified.
    pub const fn body(&self) -> &Bytes {
        &self.body
    }
    /// The delivery metadata.
    pub const fn delivery(&self) -> &Delivery {
        &self.delivery
    }
    /// Bytes and delivery.
    pub fn into_parts(self) -> (Bytes, Delivery) {
        (self.body, self.delivery)
    }
}

/// Why [`Webhook`] or [`RawWebhook`] could not be extracted.
///
/// | condition | status | body |
/// |---|---|---|
/// | no [`VerifyWebhook`](crate::VerifyWebhook) layer on the route | 500 | `{"error":"misconfigured","detail":…}` |
/// | payload does not decode into `T` | 422 | `{"error":"invalid_payload"}` |
#[derive(Debug)]
pub struct WebhookRejection {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    MissingLayer,
    InvalidPayload(String),
}

const MISSING_LAYER: &str = "no verified delivery in the request extensions: \
     add the `hookwise_tower::VerifyWebhook` layer to this route";

impl WebhookRejection {
    /// The status of the response.
    pub const fn status(&self) -> StatusCode {
        match &self.kind {
            Kind::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::InvalidPayload(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The stable code in the response body: `misconfigured` or
    /// `invalid_payload` (the body was read, and held to the limit, by the
    /// layer before the extractor runs: its failures are the layer's answers).
    pub fn code(&self) -> &'static str {
        match &self.kind {
            Kind::MissingLayer => "misconfigured",
            Kind::InvalidPayload(_) => "invalid_payload",
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::MissingLayer => f.write_str(MISSING_LAYER),
            Kind::InvalidPayload(e) => write!(f, "the verified payload does not decode: {e}"),
        }
    }
}

impl std::error::Error for WebhookRejection {}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::debug!(target: "hookwise::rejection", status = self.status().as_u16(), reason = self.code(), detail = %self, "webhook extractor rejected");
        let body = match self.kind {
            Kind::MissingLayer => {
                serde_json::json!({"error": self.code(), "detail": MISSING_LAYER}).to_string()
            }
            Kind::InvalidPayload(_) => format!("{{\"error\":\"{}\"}}", self.code()),
        };
        let mut res = (self.status(), body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }
}

/// Takes the delivery and the verified bytes out of a request that went
/// through the layer, tells whether the body is a form (when `form` asks), and
/// hands the three to `finish`, which builds the extractor.
///
/// Nothing is awaited: the extractor's future holds the bytes and the
/// delivery, and is ready at its first poll.
fn verified<R>(
    mut req: Request,
    form: bool,
    finish: impl FnOnce(Bytes, Delivery, bool) -> Result<R, WebhookRejection> + Send,
) -> impl Future<Output = Result<R, WebhookRejection>> + Send {
    // The bytes and the delivery the layer verified, not the request's body
    // or `Delivery` extension as they reach the handler: a layer in between
    // may have replaced those. `Verified` is private, so only the layer puts
    // it there; the body itself is not read again.
    let found = req.extensions_mut().remove::<Verified>();
    let is_form = form && is_form(req.headers());
    // `finish` runs in the future (not before it, into a ready one): the
    // extractor's output need not be `Send`, only what builds it.
    async move {
        let Some(Verified { body, delivery }) = found else {
            return Err(WebhookRejection {
                kind: Kind::MissingLayer,
            });
        };
        finish(body, delivery, is_form)
    }
}

/// What [`VerifyWebhook`](crate::VerifyWebhook) verified, in the request's
/// extensions for the extractors and the [`EventRouter`](crate::EventRouter):
/// the bytes (the same buffer as the re-attached body, not a copy) and the
/// [`Delivery`] (the public `Extension<Delivery>` is a clone of it, which
/// anything between the layer and the handler can replace; this cannot be).
#[derive(Clone)]
pub(crate) struct Verified {
    pub(crate) body: Bytes,
    pub(crate) delivery: Delivery,
}

/// Whether the request says its body is `application/x-www-form-urlencoded`.
fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

impl<T, S> FromRequest<S> for Webhook<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    fn from_request(
        req: Request,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        verified(req, true, |body, delivery, is_form| {
            let payload = if is_form {
                serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
            } else {
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            }
            .map_err(|e| WebhookRejection {
                kind: Kind::InvalidPayload(e),
            })?;
            Ok(Self {
                payload,
                body,
                delivery,
            })
        })
    }
}

impl<S: Send + Sync> FromRequest<S> for RawWebhook {
    type Rejection = WebhookRejection;

    fn from_request(
        req: Request,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        verified(req, false, |body, delivery, _| Ok(Self { body, delivery }))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use hookwise::scheme::SignParams;
    use hookwise::{Verifier, providers};
    use http::Request;
    use http_body_util::BodyExt;
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;
    use crate::VerifyWebhook;

    const SECRET: &str = "extract-test-secret";

    #[derive(Deserialize)]
    struct Command {
        command: String,
        text: String,
    }

    #[derive(Deserialize)]
    struct Push {
        after: String,
    }

    fn app() -> Router {
        let verifier = Verifier::new(providers::github(), SECRET).unwrap();
        Router::new()
            .route(
                "/json",
                post(|hook: Webhook<Push>| async move {
                    format!("{} {}", hook.after, hook.delivery().provider())
                }),
            )
            .route(
                "/form",
                post(|hook: Webhook<Command>| async move {
                    format!("{} {}", hook.payload().command, hook.payload().text)
                }),
            )
            .route(
                "/raw",
                post(|hook: RawWebhook| async move { hook.body().clone() }),
            )
            .route_layer(VerifyWebhook::new(verifier))
            .route(
                "/unprotected",
                post(|hook: RawWebhook| async move { hook.body }),
            )
    }

    fn signed(uri: &str, content_type: &str, body: &'static str) -> Request<Body> {
        let s = providers::github()
            .sign(SECRET, body.as_bytes(), &SignParams::default())
            .unwrap();
        let mut req = Request::post(uri).header(header::CONTENT_TYPE, content_type);
        for (n, v) in s.headers.iter() {
            req = req.header(n, v);
        }
        req.body(Body::from(body)).unwrap()
    }

    /// A GitHub verifier without a replay store (one delivery sent more than once).
    fn storeless() -> Verifier {
        Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .without_replay_store()
            .build()
            .unwrap()
    }

    async fn text(res: Response) -> String {
        let b = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn extractor_futures_hold_the_delivery_once() {
        // axum boxes each handler's future with the extractor's inside: an
        // extractor future awaiting another would hold it twice (568 bytes).
        let raw = RawWebhook::from_request(Request::new(Body::empty()), &());
        let typed = Webhook::<serde_json::Value>::from_request(Request::new(Body::empty()), &());
        let once = size_of::<Delivery>() + 128;
        assert!(size_of_val(&raw) <= once, "{}", size_of_val(&raw));
        assert!(size_of_val(&typed) <= once, "{}", size_of_val(&typed));
    }

    #[tokio::test]
    async fn json_payload_is_decoded() {
        let res = app()
            .oneshot(signed("/json", "application/json", r#"{"after":"abc"}"#))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, "abc github");
    }

    #[tokio::test]
    async fn form_payload_is_decoded() {
        let res = app()
            .oneshot(signed(
                "/form",
                "application/x-www-form-urlencoded; charset=utf-8",
                "command=%2Fdeploy&text=prod+now",
            ))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, "/deploy prod now");
    }

    #[tokio::test]
    async fn undecodable_payload_is_422() {
        let res = app()
            .oneshot(signed("/json", "application/json", r#"{"before":"x"}"#))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(text(res).await, r#"{"error":"invalid_payload"}"#);
    }

    #[tokio::test]
    async fn raw_bytes_are_the_verified_bytes() {
        let body = "{\"k\": [1, 2,\t3]}";
        let res = app()
            .oneshot(signed("/raw", "application/json", body))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, body);
    }

    #[tokio::test]
    async fn extractor_without_the_layer_is_500_naming_it() {
        let res = app()
            .oneshot(signed("/unprotected", "application/json", "{}"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = text(res).await;
        assert!(body.contains("\"error\":\"misconfigured\""), "{body}");
        assert!(body.contains("VerifyWebhook"), "{body}");
    }

    #[tokio::test]
    async fn the_extractors_hand_over_the_verified_bytes_whatever_the_body_becomes() {
        // A middleware between the layer and the handler replaces the body;
        // the handler's own `Bytes` extractor sees the replacement, the
        // hookwise extractors the bytes that were verified. (No replay store:
        // the same delivery goes to three routes.)
        let verifier = storeless();
        let rewrite = axum::middleware::map_request(|req: Request<Body>| async move {
            req.map(|_| Body::from(r#"{"after":"forged"}"#))
        });
        let app = Router::new()
            .route(
                "/json",
                post(|hook: Webhook<Push>| async move { hook.payload.after }),
            )
            .route("/bytes", post(|body: Bytes| async move { body }))
            .route(
                "/raw",
                post(|hook: RawWebhook| async move { hook.body().clone() }),
            )
            .route_layer(rewrite)
            .route_layer(VerifyWebhook::new(verifier));
        let body = r#"{"after":"signed"}"#;
        let res = app
            .clone()
            .oneshot(signed("/json", "application/json", body))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, "signed");
        let res = app
            .clone()
            .oneshot(signed("/raw", "application/json", body))
            .await
            .unwrap();
        assert_eq!(text(res).await, body);
        // (The middleware does replace the body.)
        let res = app
            .oneshot(signed("/bytes", "application/json", body))
            .await
            .unwrap();
        assert_eq!(text(res).await, r#"{"after":"forged"}"#);
    }

    #[tokio::test]
    async fn a_delivery_replaced_inside_the_layer_does_not_change_what_the_extractors_hand_over() {
        // A middleware between the layer and the handler swaps the `Delivery`
        // extension for one verified from another request: the extractors
        // still hand over the verified one (with its bytes); `Extension`
        // shows the swap did happen. (The router's half is in `route.rs`.)
        let verifier = storeless();
        let other = br#"{"after":"other"}"#;
        let s = providers::github()
            .sign(
                SECRET,
                other,
                &SignParams {
                    id: Some("forged-id"),
                    event: Some("release"),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let forged = verifier
            .verify(&hookwise::RequestParts::new(&s.headers), other)
            .unwrap();
        assert_eq!(forged.id(), Some("forged-id"));
        let swap = axum::middleware::map_request(move |mut req: Request<Body>| {
            let forged = forged.clone();
            async move {
                req.extensions_mut().insert(forged);
                req
            }
        });
        let app = Router::new()
            .route(
                "/json",
                post(
                    |axum::Extension(ext): axum::Extension<Delivery>, hook: Webhook<Push>| async move {
                        format!("{} {:?} {:?}", hook.payload.after, hook.delivery.id(), ext.id())
                    },
                ),
            )
            .route(
                "/raw",
                post(|hook: RawWebhook| async move {
                    format!("{:?} {:?}", hook.delivery.id(), hook.delivery.event_type())
                }),
            )
            .route_layer(swap)
            .route_layer(VerifyWebhook::new(verifier));
        let body = r#"{"after":"signed"}"#;
        let sent = providers::github()
            .sign(SECRET, body.as_bytes(), &SignParams::default())
            .unwrap();
        let (_, id) = sent
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-github-delivery"))
            .unwrap();
        let id = std::str::from_utf8(id).unwrap().to_owned();
        let res = app
            .clone()
            .oneshot(signed("/json", "application/json", body))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            text(res).await,
            format!("signed Some({id:?}) Some(\"forged-id\")")
        );
        let res = app
            .oneshot(signed("/raw", "application/json", body))
            .await
            .unwrap();
        assert_eq!(text(res).await, format!("Some({id:?}) None"));
    }

    #[tokio::test]
    async fn a_delivery_put_in_the_extensions_by_anything_else_is_not_taken_as_verified() {
        // Without the layer, a `Delivery` extension alone (here one a user's
        // middleware copied from another request) does not make a body verified.
        let verifier = storeless();
        let body = br#"{"after":"x"}"#;
        let s = providers::github()
            .sign(SECRET, body, &SignParams::default())
            .unwrap();
        let delivery = verifier
            .verify(&hookwise::RequestParts::new(&s.headers), body)
            .unwrap();
        let app = Router::new()
            .route("/raw", post(|hook: RawWebhook| async move { hook.body }))
            .layer(axum::Extension(delivery));
        let res = app
            .oneshot(Request::post("/raw").body(Body::from("unsigned")).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(text(res).await.contains("misconfigured"));
    }

    #[tokio::test]
    async fn body_above_axum_default_limit_passes_when_the_verifier_allows_it() {
        let verifier = Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .max_body(4 << 20)
            .build()
            .unwrap();
        let app = Router::new()
            .route(
                "/raw",
                post(|hook: RawWebhook| async move { hook.body.len().to_string() }),
            )
            .route_layer(VerifyWebhook::new(verifier));
        let body: &'static str = Box::leak("x".repeat(3 << 20).into_boxed_str());
        let res = app
            .oneshot(signed("/raw", "application/octet-stream", body))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, (3 << 20).to_string());
    }

    #[tokio::test]
    async fn route_layer_leaves_unknown_routes_alone() {
        let res = app()
            .oneshot(Request::post("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
