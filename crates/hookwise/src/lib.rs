#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod delivery;
mod error;
mod headers;
mod json;
mod keys;
pub mod providers;
pub mod replay;
mod request;
pub mod scheme;
mod secret;
mod timestamp;
mod verifier;

pub use crate::clock::{Clock, FixedClock, SystemClock, Tolerance};
pub use crate::delivery::Delivery;
pub use crate::error::{ConfigError, Diagnosis, Reason, Rejection};
pub use crate::headers::{HeaderList, Headers, Lookup};
pub use crate::keys::{Key, Keyring};
pub use crate::request::RequestParts;
pub use crate::scheme::{Pending, Scheme};
pub use crate::secret::Secret;
pub use crate::timestamp::TimestampFormat;
pub use crate::verifier::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, Verifier, VerifierBuilder};
