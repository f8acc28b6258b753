//! Routing by event type: one endpoint, one handler per event, a fallback for
//! the rest (feature `axum`), in the style of `@octokit/webhooks`' `on("push", …)`.
//!
//! Unknown events are acknowledged with `200 {"ignored":true,…}` by default, so
//! the sender does not retry them forever. Each handler takes a
//! [`Webhook<T>`](crate::Webhook) with its own payload type.
//!
//! # Example
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode}};
//! use hookwise::{providers, scheme::SignParams, Verifier};
//! use hookwise_tower::{EventRouter, VerifyWebhook, Webhook};
//! use serde::Deserialize;
//! use tower::ServiceExt;
//!
//! #[derive(Deserialize)]
//! struct Push { r#ref: String }
//!
//! #[derive(Deserialize)]
//! struct Issue { action: String }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let events = EventRouter::new()
//!     .on("push", |hook: Webhook<Push>| async move { format!("push to {}", hook.payload.r#ref) })
//!     .on("issues", |hook: Webhook<Issue>| async move { format!("issue {}", hook.payload.action) });
//! let app = Router::new()
//!     .route_service("/webhooks/github", events)
//!     .layer(VerifyWebhook::new(Verifier::new(providers::github(), "s3cret")?));
//!
//! for (event, body, expected) in [
//!     ("push", &br#"{"ref":"refs/heads/main"}"#[..], "push to refs/heads/main"),
//!     ("issues", br#"{"action":"opened"}"#, "issue opened"),
//!     ("star", br#"{"action":"created"}"#, r#"{"event_type":"star","ignored":true}"#),
//! ] {
//!     let signed = providers::github().sign("s3cret", body, &SignParams { event: Some(event), ..Default::default() })?;
//!     let mut req = Request::post("/webhooks/github");
//!     for (name, value) in signed.headers.iter() {
//!         req = req.header(name, value);
//!     }
//!     let res = app.clone().oneshot(req.body(Body::from(body))?).await?;
//!     assert_eq!(res.status(), StatusCode::OK);
//!     let text = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
//!     assert_eq!(text, expected.as_bytes());
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::extract::{FromRequest, Request};
use axum_core::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::{RawWebhook, Webhook};

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
type Entry = Arc<dyn Fn(Request) -> BoxFuture + Send + Sync>;

/// Dispatches verified deliveries to a handler per event type. A tower
/// `Service`: mount it with `Router::route_service` behind
/// [`VerifyWebhook`](crate::VerifyWebhook). See the [module docs](self).
#[derive(Clone, Default)]
#[must_use]
pub struct EventRouter {
    routes: Arc<HashMap<String, Entry>>,
    fallback: Option<Entry>,
}

impl fmt::Debug for EventRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<&String> = self.routes.keys().collect();
        events.sort();
        f.debug_struct("EventRouter")
            .field("events", &events)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl EventRouter {
    /// A router with no routes (every event acknowledged and ignored).
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles `event` (as in [`Delivery::event_type`](hookwise::Delivery::event_type): `push`,
    /// `invoice.paid`, …) with `handler`, which takes a [`Webhook<T>`].
    pub fn on<T, F, Fut, R>(mut self, event: &str, handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(Webhook<T>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let entry: Entry = Arc::new(move |req: Request| {
            let handler = handler.clone();
            Box::pin(async move {
                match Webhook::<T>::from_request(req, &()).await {
                    Ok(hook) => handler(hook).await.into_response(),
                    Err(rejection) => rejection.into_response(),
                }
            })
        });
        Arc::make_mut(&mut self.routes).insert(event.to_owned(), entry);
        self
    }

    /// Handles every other event (default: `200 {"ignored":true,"event_type":…}`).
    pub fn fallback<F, Fut, R>(mut self, handler: F) -> Self
    where
        F: Fn(RawWebhook) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.fallback = Some(Arc::new(move |req: Request| {
            let handler = handler.clone();
            Box::pin(async move {
                match RawWebhook::from_request(req, &()).await {
                    Ok(hook) => handler(hook).await.into_response(),
                    Err(rejection) => rejection.into_response(),
                }
            })
        }));
        self
    }

    /// The registered event types.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    fn dispatch(&self, req: Request) -> BoxFuture {
        let event = req
            .extensions()
            .get::<crate::extract::Verified>()
            .and_then(|v| v.delivery.event_type().map(str::to_owned));
        if let Some(entry) = event.as_deref().and_then(|e| self.routes.get(e)) {
            return entry(req);
        }
        if let Some(fallback) = &self.fallback {
            return fallback(req);
        }
        Box::pin(async move {
            // Still go through the extractor: without the layer this answers 500.
            match RawWebhook::from_request(req, &()).await {
                Ok(_) => ignored(event.as_deref()),
                Err(rejection) => rejection.into_response(),
            }
        })
    }
}

fn ignored(event: Option<&str>) -> Response {
    let event = serde_json::to_string(&event).unwrap_or_else(|_| "null".to_owned());
    let body = format!(r#"{{"event_type":{event},"ignored":true}}"#);
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

impl tower_service::Service<Request> for EventRouter {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let fut = self.dispatch(req);
        Box::pin(async move { Ok(fut.await) })
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use hookwise::scheme::SignParams;
    use hookwise::{Verifier, providers};
    use serde::Deserialize;
    use tower::ServiceExt;

    use super::*;
    use crate::VerifyWebhook;

    #[derive(Deserialize)]
    struct Paid {
        id: String,
    }

    /// A Stripe verifier without a replay store.
    fn verifier() -> Verifier {
        Verifier::builder(providers::stripe())
            .secret("whsec_x")
            .unwrap()
            .without_replay_store()
            .build()
            .unwrap()
    }

    fn app(router: EventRouter) -> Router {
        Router::new()
            .route_service("/hook", router)
            .layer(VerifyWebhook::new(verifier()))
    }

    /// `body` signed for [`verifier`], now.
    fn sign(body: &[u8]) -> hookwise::scheme::SignedRequest {
        let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
        providers::stripe()
            .sign(
                "whsec_x",
                body,
                &SignParams {
                    timestamp: Some(now),
                    ..SignParams::default()
                },
            )
            .unwrap()
    }

    async fn send(app: Router, body: &[u8]) -> (StatusCode, String) {
        let signed = sign(body);
        let mut req = http::Request::post("/hook");
        for (n, v) in signed.headers.iter() {
            req = req.header(n, v);
        }
        let res = app
            .oneshot(req.body(Body::from(body.to_vec())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn routes_by_event_type_from_the_signed_body() {
        let router = EventRouter::new()
            .on("invoice.paid", |h: Webhook<Paid>| async move {
                format!("paid {}", h.payload.id)
            })
            .fallback(|h: RawWebhook| async move {
                (
                    StatusCode::ACCEPTED,
                    format!("other {}", h.delivery.event_type().unwrap_or_default()),
                )
            });
        assert_eq!(
            send(
                app(router.clone()),
                br#"{"id":"in_1","type":"invoice.paid"}"#
            )
            .await,
            (StatusCode::OK, "paid in_1".into())
        );
        assert_eq!(
            send(app(router), br#"{"id":"x","type":"charge.failed"}"#).await,
            (StatusCode::ACCEPTED, "other charge.failed".into())
        );
    }

    #[tokio::test]
    async fn unknown_events_are_acknowledged_and_bad_payloads_are_422() {
        let router =
            EventRouter::new().on(
                "invoice.paid",
                |h: Webhook<Paid>| async move { h.payload.id },
            );
        let (status, body) = send(
            app(router.clone()),
            br#"{"id":"x","type":"customer.created"}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, r#"{"event_type":"customer.created","ignored":true}"#);
        let (status, body) = send(app(router), br#"{"idx":1,"type":"invoice.paid"}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("invalid_payload"), "{body}");
    }

    #[tokio::test]
    async fn a_delivery_extension_replaced_inside_the_layer_does_not_change_the_route() {
        // A middleware between the layer and the router swaps in a delivery
        // of another event type (verified from another body): the router
        // routes by the verified one.
        let v = verifier();
        let other = br#"{"id":"in_9","type":"invoice.paid"}"#;
        let signed = sign(other);
        let forged = v
            .verify(&hookwise::RequestParts::new(&signed.headers), other)
            .unwrap();
        assert_eq!(forged.event_type(), Some("invoice.paid"));
        let swap = axum::middleware::map_request(move |mut req: Request| {
            let forged = forged.clone();
            async move {
                req.extensions_mut().insert(forged);
                req
            }
        });
        let router = EventRouter::new()
            .on("invoice.paid", |_: Webhook<serde_json::Value>| async {
                "paid"
            })
            .fallback(|h: RawWebhook| async move {
                format!("other {}", h.delivery.event_type().unwrap_or_default())
            });
        let app = Router::new()
            .route_service("/hook", router)
            .layer(swap)
            .layer(VerifyWebhook::new(v));
        assert_eq!(
            send(app, br#"{"id":"x","type":"charge.failed"}"#).await,
            (StatusCode::OK, "other charge.failed".into())
        );
    }

    #[tokio::test]
    async fn without_the_layer_it_answers_500() {
        let router =
            EventRouter::new().on("push", |_: Webhook<serde_json::Value>| async { "never" });
        let app = Router::new().route_service("/hook", router);
        let res = app
            .oneshot(http::Request::post("/hook").body(Body::from("{}")).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
