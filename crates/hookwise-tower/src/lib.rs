#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod route;
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

/// A boxed error, as the request body's error is converted to.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
