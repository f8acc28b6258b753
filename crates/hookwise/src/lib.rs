#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod check;
mod clock;
mod deadline;
mod delivery;
mod error;
pub mod handshake;
mod headers;
#[cfg(feature = "ip")]
mod ip;
mod json;
mod keys;
#[cfg(feature = "mtls")]
mod mtls;
pub mod providers;
pub mod replay;
mod request;
pub mod scheme;
mod secret;
mod timestamp;
mod verifier;

pub use crate::body::BodyBuffer;
pub use crate::check::Check;
pub use crate::clock::{Clock, FixedClock, SystemClock, Tolerance};
pub use crate::deadline::{BodyDeadline, BodyTimer};
pub use crate::delivery::Delivery;
pub use crate::error::{ConfigError, Diagnosis, Reason, Rejection};
pub use crate::headers::{HeaderList, Headers, Lookup, lookup_lowercase, parse_content_length};
#[cfg(feature = "ip")]
pub use crate::ip::{ForwardingHeader, IpAllowList};
pub use crate::keys::{Key, Keyring};
#[cfg(feature = "mtls")]
pub use crate::mtls::ClientCertPolicy;
pub use crate::request::{PeerCertificates, RequestParts};
pub use crate::scheme::{Pending, Scheme};
pub use crate::secret::Secret;
pub use crate::timestamp::TimestampFormat;
pub use crate::verifier::{
    BodyDigest, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, Verifier, VerifierBuilder,
};
