#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod extract;
mod headers;
mod middleware;
pub mod route;

pub use crate::config::WebhookConfig;
pub use crate::error::{DUPLICATE_HEADER, WebhookError, WebhookErrorKind};
pub use crate::extract::{RawWebhook, Webhook};
pub use crate::headers::ActixHeaders;
pub use crate::middleware::{WebhookReplay, WebhookReplayFuture, WebhookReplayMiddleware};
pub use crate::route::EventRouter;

pub use hookwise::{Delivery, Rejection, Verifier};
