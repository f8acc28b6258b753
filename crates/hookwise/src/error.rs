//! Why a request was rejected, and why a verifier could not be built.

use std::borrow::Cow;
use std::fmt;

/// The stable reason for a rejection. [`Reason::code`] is what goes into the
/// response body (`{"error":"<code>"}`) and never changes between releases.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The signature, token or credentials header is absent (401).
    MissingSignature,
    /// Another header the sender always sends (timestamp, id) is absent (400).
    MissingHeader,
    /// A header is present but cannot be parsed (400).
    MalformedHeader,
    /// No signature in the request matches any key (401).
    SignatureMismatch,
    /// The shared token or Basic credentials do not match (401).
    InvalidCredentials,
    /// The signed timestamp is older than the tolerance (401).
    TimestampTooOld,
    /// The signed timestamp is further in the future than the tolerance (401).
    TimestampInFuture,
    /// The client address is not allowed (403).
    ForbiddenAddress,
    /// The client certificate is not allowed (403).
    ForbiddenCertificate,
    /// The body exceeds the limit (413).
    BodyTooLarge,
    /// The body was not received before the deadline (408).
    BodyTimeout,
    /// The body could not be read (400).
    BodyUnreadable,
    /// The same delivery is being processed right now (409, with `Retry-After`).
    DuplicateInFlight,
    /// The replay store could not be reached (503).
    StoreUnavailable,
    /// The server is misconfigured, e.g. an extractor without its layer (500).
    Misconfigured,
    /// The verified body does not decode into the handler's type (422).
    InvalidPayload,
}

impl Reason {
    /// Every reason, for documentation and exhaustive tests.
    pub const ALL: [Self; 16] = [
        Self::MissingSignature,
        Self::MissingHeader,
        Self::MalformedHeader,
        Self::SignatureMismatch,
        Self::InvalidCredentials,
        Self::TimestampTooOld,
        Self::TimestampInFuture,
        Self::ForbiddenAddress,
        Self::ForbiddenCertificate,
        Self::BodyTooLarge,
        Self::BodyTimeout,
        Self::BodyUnreadable,
        Self::DuplicateInFlight,
        Self::StoreUnavailable,
        Self::Misconfigured,
        Self::InvalidPayload,
    ];

    /// The stable snake_case code, e.g. `signature_mismatch`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MissingHeader => "missing_header",
            Self::MalformedHeader => "malformed_header",
            Self::SignatureMismatch => "signature_mismatch",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TimestampTooOld => "timestamp_too_old",
            Self::TimestampInFuture => "timestamp_in_future",
            Self::ForbiddenAddress => "forbidden_address",
            Self::ForbiddenCertificate => "forbidden_certificate",
            Self::BodyTooLarge => "body_too_large",
            Self::BodyTimeout => "body_timeout",
            Self::BodyUnreadable => "body_unreadable",
            Self::DuplicateInFlight => "duplicate_in_flight",
            Self::StoreUnavailable => "store_unavailable",
            Self::Misconfigured => "misconfigured",
            Self::InvalidPayload => "invalid_payload",
        }
    }

    /// The HTTP status code (as a number, so every `http` version can use it).
    pub const fn status(self) -> u16 {
        match self {
            Self::MissingSignature
            | Self::SignatureMismatch
            | Self::InvalidCredentials
            | Self::TimestampTooOld
            | Self::TimestampInFuture => 401,
            Self::MissingHeader | Self::MalformedHeader | Self::BodyUnreadable => 400,
            Self::ForbiddenAddress | Self::ForbiddenCertificate => 403,
            Self::BodyTooLarge => 413,
            Self::BodyTimeout => 408,
            Self::DuplicateInFlight => 409,
            Self::StoreUnavailable => 503,
            Self::Misconfigured => 500,
            Self::InvalidPayload => 422,
        }
    }

    /// The reason from its code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected request: the stable [`Reason`] plus a diagnosis for logs.
///
/// The diagnosis never contains a secret or an expected signature; it names the
/// check that failed, the header involved, the clock skew and how many
/// signatures and keys were tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
    diagnosis: Box<Diagnosis>,
}

/// Details of a rejection, safe to log.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// What failed, in words (no secrets, no expected signatures).
    pub detail: Cow<'static, str>,
    /// The header involved, if any.
    pub header: Option<Cow<'static, str>>,
    /// `now - timestamp` in seconds, when a timestamp was read.
    pub skew_secs: Option<i64>,
    /// How many candidate signatures the request carried.
    pub signatures_tried: usize,
    /// How many keys (within their validity window) were tried.
    pub keys_tried: usize,
    /// Length of the body that was checked.
    pub body_len: Option<usize>,
    /// A hint about a classic mistake, when one is likely.
    pub hint: Option<Cow<'static, str>>,
    /// A `WWW-Authenticate` challenge to send with a 401, if any.
    pub www_authenticate: Option<Cow<'static, str>>,
}

impl Rejection {
    /// A rejection with a short detail.
    pub fn new(reason: Reason, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason,
            diagnosis: Box::new(Diagnosis {
                detail: detail.into(),
                ..Diagnosis::default()
            }),
        }
    }

    /// Names the header involved (for the diagnosis).
    #[must_use]
    pub fn header(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.diagnosis.header = Some(name.into());
        self
    }

    /// Records the clock skew `now - timestamp` in seconds.
    #[must_use]
    pub fn skew(mut self, skew: i64) -> Self {
        self.diagnosis.skew_secs = Some(skew);
        self
    }

    /// Records how many signatures and keys were tried.
    #[must_use]
    pub fn tried(mut self, signatures: usize, keys: usize) -> Self {
        self.diagnosis.signatures_tried = signatures;
        self.diagnosis.keys_tried = keys;
        self
    }

    /// Records the body length.
    #[must_use]
    pub fn body_len(mut self, len: usize) -> Self {
        self.diagnosis.body_len = Some(len);
        self
    }

    /// Adds a hint about a likely mistake.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<Cow<'static, str>>) -> Self {
        self.diagnosis.hint = Some(hint.into());
        self
    }

    /// Sets the `WWW-Authenticate` challenge for a 401.
    #[must_use]
    pub fn challenge(mut self, c: impl Into<Cow<'static, str>>) -> Self {
        self.diagnosis.www_authenticate = Some(c.into());
        self
    }

    /// The stable reason.
    pub const fn reason(&self) -> Reason {
        self.reason
    }
    /// The stable reason code, e.g. `signature_mismatch`.
    pub const fn code(&self) -> &'static str {
        self.reason.code()
    }
    /// The HTTP status as a number.
    pub const fn status(&self) -> u16 {
        self.reason.status()
    }
    /// The HTTP status (`http` 1.x).
    pub fn http_status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::UNAUTHORIZED)
    }
    /// The details for logs.
    pub const fn diagnosis(&self) -> &Diagnosis {
        &self.diagnosis
    }
    /// The response body: `{"error":"<code>"}`.
    pub fn body_json(&self) -> String {
        format!("{{\"error\":\"{}\"}}", self.code())
    }

    /// Emits the diagnosis as a `tracing` event (target `hookwise::rejection`,
    /// level DEBUG). A no-op without the `tracing` feature.
    pub fn trace(&self, provider: &str) {
        #[cfg(feature = "tracing")]
        {
            let d = &self.diagnosis;
            tracing::debug!(
                target: "hookwise::rejection",
                provider,
                reason = self.code(),
                status = self.status(),
                detail = %d.detail,
                header = d.header.as_deref(),
                skew_secs = d.skew_secs,
                signatures_tried = d.signatures_tried,
                keys_tried = d.keys_tried,
                body_len = d.body_len,
                hint = d.hint.as_deref(),
                "webhook rejected"
            );
        }
        #[cfg(not(feature = "tracing"))]
        let _ = provider;
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code(),
            self.status(),
            self.diagnosis.detail
        )
    }
}

impl std::error::Error for Rejection {}

/// A verifier that cannot be built. Raised at start-up, never at request time.
#[non_exhaustive]
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A secret is empty or whitespace only.
    #[error("a webhook secret is empty or whitespace only")]
    EmptySecret,
    /// A secret is not in the encoding its sender uses (e.g. `whsec_` + base64).
    #[error("a webhook secret is not valid for {provider}: {why}")]
    BadSecret {
        /// The sender.
        provider: &'static str,
        /// What is wrong (never the secret itself).
        why: &'static str,
    },
    /// No key was given.
    #[error("no key configured: add at least one secret")]
    NoKeys,
    /// A key's validity window ends before it starts.
    #[error("a key's validity window ends before it starts")]
    BadValidity,
    /// The scheme needs a setting that is missing or invalid.
    #[error("invalid scheme configuration: {0}")]
    Scheme(Cow<'static, str>),
    /// An unknown provider name.
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    /// No replay store was chosen and there is no default one (the
    /// `memory-store` feature is off).
    #[error(
        "no replay store: the `memory-store` feature is off; set `replay_store(…)`, or call `without_replay_store()` to accept replays knowingly"
    )]
    NoReplayStore,
    /// Two keys have the same name (label, or `key-<index>` for an unlabelled
    /// key): a delivery names the key that matched, so names must be unique.
    #[error(
        "two keys are named `{0}` (an unlabelled key is named key-<index>, its position): give each key a label of its own"
    )]
    DuplicateKeyName(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.code()), "duplicate {r}");
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn statuses_follow_design_table() {
        assert_eq!(Reason::MissingSignature.status(), 401);
        assert_eq!(Reason::MalformedHeader.status(), 400);
        assert_eq!(Reason::SignatureMismatch.status(), 401);
        assert_eq!(Reason::TimestampInFuture.status(), 401);
        assert_eq!(Reason::ForbiddenAddress.status(), 403);
        assert_eq!(Reason::BodyTooLarge.status(), 413);
        assert_eq!(Reason::BodyTimeout.status(), 408);
        assert_eq!(Reason::DuplicateInFlight.status(), 409);
        assert_eq!(Reason::StoreUnavailable.status(), 503);
        let r = Rejection::new(Reason::SignatureMismatch, "x");
        assert_eq!(r.body_json(), r#"{"error":"signature_mismatch"}"#);
        assert_eq!(r.http_status(), http::StatusCode::UNAUTHORIZED);
    }
}
