// The README's examples use the axum extractors: without the `axum` feature
// the crate docs are a pointer to it (and its examples are not doctests).
#![cfg_attr(feature = "axum", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "axum"),
    doc = "Tower layer for hookwise: see the README (its examples need the `axum` feature)."
)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod collect;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod route;
#[cfg(test)]
mod test_body;
pub mod verify;

#[cfg(feature = "axum")]
pub use crate::extract::{RawWebhook, Webhook, WebhookRejection};
#[cfg(feature = "axum")]
pub use crate::route::EventRouter;
pub use crate::verify::{
    DUPLICATE_HEADER, DefaultOnRejection, OnRejection, ResponseFuture, VerifyWebhook,
    VerifyWebhookService,
};
pub use hookwise::{Delivery, Rejection, Verifier};

/// GitHub's webhook payload types from [octocrab](https://docs.rs/octocrab) (feature
/// `github-events`): `Webhook<github::payload::PushWebhookEventPayload>` and friends, for
/// [`EventRouter::on`] handlers. octocrab is opt-in because of its size (see the README).
#[cfg(feature = "github-events")]
#[cfg_attr(docsrs, doc(cfg(feature = "github-events")))]
pub use octocrab::models::webhook_events as github;

/// A boxed error, as the request body's error is converted to.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
