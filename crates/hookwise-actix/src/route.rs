//! Routing by event type: one endpoint, one handler per event, a fallback for
//! the rest, in the style of `@octokit/webhooks`' `on("push", …)`.
//!
//! Unknown events are acknowledged with `200 {"ignored":true,…}` by default, so
//! the sender does not retry them forever. Each handler takes a
//! [`Webhook<T>`] with its own payload type; the payload is decoded after the
//! delivery is verified and its event type known (GitHub's comes from a
//! header, Stripe's from the signed body).
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use hookwise::{providers, scheme::SignParams, Verifier};
//! use hookwise_actix::{EventRouter, Webhook, WebhookConfig, WebhookReplay};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Push { r#ref: String }
//!
//! # #[actix_web::main] async fn main() {
//! let events = EventRouter::new()
//!     .on("push", |hook: Webhook<Push>| async move { HttpResponse::Ok().body(format!("push to {}", hook.r#ref)) });
//! let config = WebhookConfig::new(Verifier::new(providers::github(), "s3cret").unwrap());
//! let app = test::init_service(
//!     App::new().service(
//!         web::resource("/webhooks/github").app_data(config).wrap(WebhookReplay::new()).route(web::post().to(events.handler())),
//!     ),
//! )
//! .await;
//! for (event, body, expected) in [
//!     ("push", &br#"{"ref":"refs/heads/main"}"#[..], "push to refs/heads/main"),
//!     ("star", br#"{"action":"created"}"#, r#"{"event_type":"star","ignored":true}"#),
//! ] {
//!     let signed = providers::github().sign("s3cret", body, &SignParams { event: Some(event), id: Some(event), ..Default::default() }).unwrap();
//!     let mut req = test::TestRequest::post().uri("/webhooks/github");
//!     for (name, value) in signed.headers.iter() {
//!         req = req.insert_header((name, value));
//!     }
//!     let res = test::call_service(&app, req.set_payload(&body[..]).to_request()).await;
//!     assert!(res.status().is_success());
//!     assert_eq!(test::read_body(res).await, expected.as_bytes());
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use bytes::Bytes;
use hookwise::Delivery;
use serde::de::DeserializeOwned;

use crate::extract::is_form;
use crate::{RawWebhook, Webhook, WebhookError};

type LocalFuture = Pin<Box<dyn Future<Output = HttpResponse<BoxBody>>>>;
type Entry = Arc<dyn Fn(HttpRequest, Bytes, Box<Delivery>) -> LocalFuture + Send + Sync>;

/// Dispatches verified deliveries to a handler per event type. Mount
/// [`EventRouter::handler`] on a resource that has a
/// [`WebhookConfig`](crate::WebhookConfig) (and [`WebhookReplay`](crate::WebhookReplay)).
/// See the [module docs](self).
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

    /// Handles `event` (as in [`Delivery::event_type`]) with `handler`, which
    /// takes a [`Webhook<T>`]. A payload that does not decode answers 422.
    pub fn on<T, F, Fut, R>(mut self, event: &str, handler: F) -> Self
    where
        T: DeserializeOwned + 'static,
        F: Fn(Webhook<T>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        let entry: Entry = Arc::new(
            move |req: HttpRequest, body: Bytes, delivery: Box<Delivery>| {
                let handler = handler.clone();
                Box::pin(async move {
                    let decoded: Result<T, String> = if is_form(&req) {
                        serde_urlencoded::from_bytes(&body).map_err(|_| {
                            "form body does not decode into the handler's type".to_owned()
                        })
                    } else {
                        serde_json::from_slice(&body).map_err(|e| {
                            format!(
                                "JSON body: {:?} error at line {} column {}",
                                e.classify(),
                                e.line(),
                                e.column()
                            )
                        })
                    };
                    match decoded {
                        Ok(payload) => handler(Webhook::from_parts(payload, body, delivery))
                            .await
                            .respond_to(&req)
                            .map_into_boxed_body(),
                        Err(detail) => {
                            // The route's own rejection response, as the extractors use it.
                            let custom = crate::WebhookConfig::from_req(&req)
                                .and_then(|c| c.on_rejection_fn().cloned());
                            WebhookError::invalid_payload(422, detail, custom).error_response()
                        }
                    }
                })
            },
        );
        Arc::make_mut(&mut self.routes).insert(event.to_owned(), entry);
        self
    }

    /// Handles every other event (default: `200 {"ignored":true,"event_type":…}`).
    pub fn fallback<F, Fut, R>(mut self, handler: F) -> Self
    where
        F: Fn(RawWebhook) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        self.fallback = Some(Arc::new(
            move |req: HttpRequest, body: Bytes, delivery: Box<Delivery>| {
                let handler = handler.clone();
                Box::pin(async move {
                    handler(RawWebhook::from_parts(body, delivery))
                        .await
                        .respond_to(&req)
                        .map_into_boxed_body()
                })
            },
        ));
        self
    }

    /// The registered event types.
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// The actix handler: `web::post().to(router.handler())`.
    pub fn handler(self) -> impl Fn(HttpRequest, RawWebhook) -> LocalFuture + Clone + 'static {
        move |req: HttpRequest, raw: RawWebhook| {
            let (body, delivery) = raw.into_boxed_parts();
            let entry = delivery
                .event_type()
                .and_then(|e| self.routes.get(e))
                .or(self.fallback.as_ref())
                .cloned();
            match entry {
                Some(entry) => entry(req, body, delivery),
                None => {
                    let event = serde_json::to_string(&delivery.event_type())
                        .unwrap_or_else(|_| "null".to_owned());
                    Box::pin(async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(format!(r#"{{"event_type":{event},"ignored":true}}"#))
                    })
                }
            }
        }
    }
}
