//! The [`VerifyWebhook`] middleware: verifies a webhook delivery before the
//! inner service sees it.
//!
//! For every request, in this order:
//!
//! 1. **Headers.** [`Verifier::check_headers`](hookwise::Verifier::check_headers)
//!    on the method, target, headers and peer address. Missing, malformed or
//!    stale headers are rejected here, before a single body byte is read.
//! 2. **Size.** A `Content-Length` above
//!    [`Verifier::max_body`](hookwise::Verifier::max_body) answers 413 without
//!    reading. Otherwise the body is read frame by frame, holding no more than
//!    the limit (413 as soon as it is crossed, with or without
//!    `Content-Length`), under the
//!    [`Verifier::body_timeout`](hookwise::Verifier::body_timeout) deadline (408).
//!    Any other read error answers 400 `body_unreadable`.
//! 3. **Signature.** [`Verifier::verify_body`](hookwise::Verifier::verify_body)
//!    over the exact bytes received. The body is collected once; a body that
//!    arrived in one frame is not copied.
//! 4. **Replay.** [`Verifier::admit`](hookwise::Verifier::admit) reserves the
//!    delivery. A delivery already processed answers `200` with the header
//!    [`hookwise-duplicate: true`](DUPLICATE_HEADER) and the body
//!    `{"duplicate":true,…}` **without calling the inner service** (the sender
//!    stops retrying); one still being processed answers 409 with
//!    `Retry-After: 1`; an unreachable store answers 503.
//! 5. **Call.** The verified [`Delivery`](hookwise::Delivery) is inserted into
//!    the request extensions, the bytes are re-attached as the same body type
//!    (`B::from(bytes)`), and the inner service is called. With the `axum`
//!    feature the bytes (the same buffer) and the delivery are also kept in a
//!    private extension: the axum extractors hand over those, whatever a
//!    layer in between does to the body or to the `Delivery` extension.
//! 6. **Commit or release.** A 2xx answer commits the delivery in the replay
//!    store; any other answer or an error releases it, so the sender's retry is
//!    processed. A panicking handler or a dropped response future releases it
//!    too (in the background, on the current Tokio runtime).
//!
//! Rejections are responses, not errors: the service's error type is the
//! inner service's. The default response is the status of the
//! [`Rejection`](hookwise::Rejection) and `{"error":"<code>"}`; replace it with
//! [`VerifyWebhook::on_rejection`]. The full diagnosis goes to `tracing`
//! (target `hookwise::rejection`, level DEBUG) with the `tracing` feature.
//!
//! # Connection facts: peer address and client certificates
//!
//! [`Check::ip`](hookwise::Check::ip) needs the client's address and
//! [`Check::client_cert`](hookwise::Check::client_cert) the TLS client
//! certificates; both come from the connection, which only the server sees.
//! The layer reads them from the request extensions:
//!
//! - **Address**: a plain [`std::net::SocketAddr`] extension by default. axum
//!   stores the peer as `ConnectInfo<SocketAddr>` (with
//!   `into_make_service_with_connect_info::<SocketAddr>()`), a type this
//!   crate cannot name without depending on `axum`: point the layer at it with
//!   [`VerifyWebhook::peer_addr_from`]. In a hyper accept loop, insert the
//!   `SocketAddr` from `accept()` yourself.
//! - **Client certificates**: a [`hookwise::PeerCertificates`] extension (DER,
//!   leaf first). axum cannot serve TLS itself, so an accept loop
//!   (tokio-rustls + hyper-util) inserts it from the TLS session's
//!   `peer_certificates()`; see the `axum-mtls` example.
//!
//! A check whose fact is missing fails closed (403).
//!
//! # Naming
//!
//! tower-http names its layers `FooLayer` and services `Foo<S>`. The layer is
//! called `VerifyWebhook` because that is what users write
//! (`.layer(VerifyWebhook::new(verifier))`), following `axum::Extension`; the
//! service is [`VerifyWebhookService`].
//!
//! # Example
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
//! use hookwise::{providers, scheme::SignParams, Verifier};
//! use hookwise_tower::VerifyWebhook;
//! use tower::ServiceExt;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(providers::github(), "s3cret")?;
//! let app = Router::new()
//!     // The layer alone (the extractors are in `hookwise_tower::extract`).
//!     .route("/webhooks/github", post(|body: axum::body::Bytes| async move { body.len().to_string() }))
//!     .layer(VerifyWebhook::new(verifier));
//!
//! // An unsigned request never reaches the handler.
//! let req = Request::post("/webhooks/github").body(Body::from("{}"))?;
//! let res = app.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//!
//! // A signed one does, once.
//! let signed = providers::github().sign("s3cret", b"{}", &SignParams::default())?;
//! let mut req = Request::post("/webhooks/github");
//! for (name, value) in signed.headers.iter() {
//!     req = req.header(name, value);
//! }
//! let req = req.body(Body::from("{}"))?;
//! let res = app.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! # Ok(()) }
//! ```

mod future;
mod layer;
mod rejection;
mod service;

pub use self::future::ResponseFuture;
pub use self::layer::VerifyWebhook;
pub use self::rejection::{DefaultOnRejection, OnRejection};
pub use self::service::VerifyWebhookService;

/// The response header marking a duplicate of an already processed delivery:
/// `hookwise-duplicate: true`.
pub const DUPLICATE_HEADER: &str = "hookwise-duplicate";
