//! Schemes: how a sender proves itself, and how to check it.
//!
//! Presets for every supported sender live in [`crate::providers`]; this module
//! holds the engines behind them (one file per kind: [`hmac`], [`token`],
//! [`basic`], [`mailgun`]) and the generic HMAC builder.

pub mod asym;
pub mod basic;
pub mod hmac;
pub(crate) mod inline;
pub mod mac;
pub mod mailgun;
pub mod token;
pub(crate) mod twilio;

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use self::asym::PublicKeyEncoding;
pub use self::basic::BasicAuth;
pub use self::hmac::{
    AsymVersion, HeaderSet, HmacBuilder, HmacScheme, Part, SecretEncoding, SignatureFormat, Source,
};
use self::mac::KeyedMac;
pub use self::mac::{Algorithm, Encoding};
pub use self::token::TokenScheme;
use crate::{ConfigError, Delivery, HeaderList, Key, Rejection, RequestParts, Tolerance};

/// How a sender authenticates its deliveries. Build one with a preset from
/// [`crate::providers`] or with [`HmacScheme::builder`], [`TokenScheme::new`] or
/// [`BasicAuth::new`].
#[derive(Clone, Debug)]
pub struct Scheme(pub(crate) Kind);

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Hmac(HmacScheme),
    Token(TokenScheme),
    Basic(BasicAuth),
    Mailgun(mailgun::Mailgun),
    Twilio(twilio::Twilio),
}

/// Inputs for [`Scheme::sign`] beyond the body.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignParams<'a> {
    /// Unix seconds (required by timestamped schemes).
    pub timestamp: Option<i64>,
    /// Delivery id (default: derived from the body's hash).
    pub id: Option<&'a str>,
    /// The URL signed by URL-signing senders (Square, HubSpot).
    pub url: Option<&'a str>,
    /// The method (HubSpot; default `POST`).
    pub method: Option<&'a str>,
    /// The event type to put in the event header, if the sender has one.
    pub event: Option<&'a str>,
}

/// What [`Scheme::sign`] produces: the headers the sender would send, and the
/// body (unchanged, except for senders that sign inside the body, like Mailgun).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRequest {
    /// Headers to send.
    pub headers: HeaderList,
    /// Body to send.
    pub body: Vec<u8>,
}

impl Scheme {
    pub(crate) const fn hmac(s: HmacScheme) -> Self {
        Self(Kind::Hmac(s))
    }

    /// The provider name (`github`, `stripe`, …).
    pub fn provider(&self) -> &str {
        match &self.0 {
            Kind::Hmac(s) => &s.provider,
            Kind::Token(s) => &s.provider,
            Kind::Basic(s) => &s.provider,
            Kind::Mailgun(_) => "mailgun",
            Kind::Twilio(_) => "twilio",
        }
    }

    /// The sender's default tolerance, for timestamped schemes.
    pub fn default_tolerance(&self) -> Tolerance {
        match &self.0 {
            Kind::Hmac(s) => s.tolerance,
            _ => Tolerance::default(),
        }
    }

    /// Whether the scheme signs a timestamp (and so checks the window).
    pub fn is_timestamped(&self) -> bool {
        match &self.0 {
            Kind::Hmac(s) => s.has_timestamp(),
            Kind::Mailgun(_) => true,
            _ => false,
        }
    }

    /// Whether the scheme checks headers only (token, Basic auth): the body is
    /// not authenticated.
    pub const fn is_header_only(&self) -> bool {
        matches!(self.0, Kind::Token(_) | Kind::Basic(_))
    }

    /// The public key matching a private key, encoded as this sender publishes it
    /// (for public-key schemes: `discord`, `sendgrid`, `standard` with `whsk_`).
    /// For tests and the CLI.
    ///
    /// # Errors
    /// Not a public-key scheme, or a malformed private key.
    pub fn public_key_for(&self, private: &str) -> Result<String, ConfigError> {
        let Kind::Hmac(s) = &self.0 else {
            return Err(ConfigError::Scheme("not a public-key scheme".into()));
        };
        let provider = static_name(&s.provider);
        if let Some(set) = s.sets.iter().find(|x| x.algorithm.is_asymmetric()) {
            return asym::public_for(
                provider,
                set.algorithm,
                s.public_key_encoding,
                private.as_bytes(),
            );
        }
        match &s.asym {
            Some(a) => asym::public_for(
                provider,
                a.algorithm,
                s.public_key_encoding,
                private.as_bytes(),
            ),
            None => Err(ConfigError::Scheme("not a public-key scheme".into())),
        }
    }

    /// Overrides the default tolerance of this scheme.
    #[must_use]
    pub fn with_tolerance(mut self, t: Tolerance) -> Self {
        if let Kind::Hmac(s) = &mut self.0 {
            s.tolerance = t;
        }
        self
    }

    /// Signs `body` the way this sender would, with `secret` (as the sender shows
    /// it). For tests, the CLI and your own senders.
    ///
    /// ```
    /// use hookwise::{providers, scheme::SignParams, Lookup, Headers};
    /// let signed = providers::github()
    ///     .sign("It's a Secret to Everybody", b"Hello, World!", &SignParams::default())
    ///     .unwrap();
    /// assert_eq!(
    ///     signed.headers.lookup("x-hub-signature-256"),
    ///     Lookup::One(b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    /// );
    /// ```
    ///
    /// # Errors
    /// A bad secret, or a parameter the scheme needs (timestamp, URL) missing.
    pub fn sign(
        &self,
        secret: impl AsRef<[u8]>,
        body: &[u8],
        params: &SignParams<'_>,
    ) -> Result<SignedRequest, ConfigError> {
        let key = Key::new(secret)?;
        match &self.0 {
            Kind::Hmac(s) => s.sign(&key, body, params),
            Kind::Token(s) => Ok(s.sign(&key, body)),
            Kind::Basic(s) => Ok(s.sign(&key, body)),
            Kind::Mailgun(s) => s.sign(&key, body, params),
            Kind::Twilio(s) => Ok(s.sign(&key, body, params)),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match &self.0 {
            Kind::Hmac(s) if s.needs_url() && s.url.as_deref().is_none_or(str::is_empty) => {
                Err(ConfigError::Scheme(
                    format!("{} signs the notification URL: configure it", s.provider).into(),
                ))
            }
            Kind::Hmac(s) if s.sets.is_empty() || s.template.is_empty() => {
                Err(ConfigError::Scheme("empty scheme".into()))
            }
            Kind::Hmac(s) => s.validate_formats(),
            Kind::Twilio(t) => t.validate(),
            _ => Ok(()),
        }
    }

    pub(crate) fn prepare(&self, index: usize, key: &Key) -> Result<PreparedKey, ConfigError> {
        match &self.0 {
            Kind::Hmac(s) => s.prepare(index, key),
            Kind::Token(_) | Kind::Basic(_) => Ok(PreparedKey::digest(index, key)),
            Kind::Mailgun(_) => Ok(PreparedKey::hmac(
                index,
                key,
                vec![KeyedMac::new(Algorithm::Sha256, key.secret.expose())],
            )),
            Kind::Twilio(_) => Ok(twilio::Twilio::prepare(index, key)),
        }
    }

    pub(crate) fn check_headers(
        &self,
        req: &RequestParts<'_>,
        keys: &[PreparedKey],
        now: i64,
        tol: &Tolerance,
        p: &mut Pending,
    ) -> Result<(), Rejection> {
        // HMAC schemes fill `p` in place: it is a few hundred bytes, and
        // returning it by value down each layer showed in the profile.
        match &self.0 {
            Kind::Hmac(s) => return s.check_headers(req, now, tol, p),
            Kind::Token(s) => *p = s.check(req, keys, now)?,
            Kind::Basic(s) => *p = s.check(req, keys, now)?,
            Kind::Mailgun(_) => {}
            Kind::Twilio(s) => *p = s.check_headers(req)?,
        }
        Ok(())
    }

    /// The body's HMAC, to be fed as the body arrives; HMAC schemes only.
    pub(crate) fn start_stream(
        &self,
        p: &Pending,
        keys: &[PreparedKey],
        now: i64,
    ) -> Option<hmac::Streaming> {
        match &self.0 {
            Kind::Hmac(s) => s.start_stream(p, keys, now),
            _ => None,
        }
    }

    pub(crate) fn finish_stream(
        &self,
        p: &mut Pending,
        st: hmac::Streaming,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tol: &Tolerance,
    ) -> Result<Delivery, Rejection> {
        match &self.0 {
            Kind::Hmac(s) => s.finish_stream(p, st, body, keys, now, tol),
            _ => self.verify_body(p, body, keys, now, tol),
        }
    }

    /// Takes the header phase's result by reference: it is a few hundred
    /// bytes, and moving it down each layer showed in the profile.
    pub(crate) fn verify_body(
        &self,
        p: &mut Pending,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tol: &Tolerance,
    ) -> Result<Delivery, Rejection> {
        match &self.0 {
            Kind::Hmac(s) => s.verify_body(p, body, keys, now, tol),
            Kind::Token(s) => Ok(s.delivery(std::mem::take(p), body, keys)),
            Kind::Basic(s) => Ok(s.delivery(std::mem::take(p), body, keys)),
            Kind::Mailgun(s) => s.verify_body(body, keys, now, tol),
            Kind::Twilio(s) => s.verify_body(std::mem::take(p), body, keys, now),
        }
    }
}

/// The result of the header phase ([`crate::Verifier::check_headers`]), to be
/// completed with the body by [`crate::Verifier::verify_body`] of the same
/// verifier: another verifier, or a `Pending::default()`, is refused there
/// (`misconfigured`).
#[derive(Debug, Default)]
pub struct Pending {
    pub(crate) set: usize,
    pub(crate) candidates: usize,
    /// HMAC signatures, decoded on the stack.
    pub(crate) signatures: inline::Tags,
    /// Public-key signatures (ECDSA DER can exceed an HMAC tag).
    pub(crate) asym_signatures: Vec<Vec<u8>>,
    /// The timestamp exactly as sent (it is part of the signed content).
    pub(crate) ts_raw: inline::Inline<40>,
    pub(crate) timestamp: Option<i64>,
    /// The id and event type from headers, inline when short (no allocation
    /// per request for the usual UUIDs and event names).
    pub(crate) id: Option<inline::SmallStr>,
    pub(crate) event: Option<inline::SmallStr>,
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) form: bool,
    pub(crate) matched_key: usize,
    /// The clock reading of the header phase.
    pub(crate) now: Option<i64>,
    /// The verifier whose header phase produced this (0: none); the body
    /// phase refuses a result from another one.
    pub(crate) verifier: u64,
}

impl Pending {
    /// The signed timestamp read from the headers, if any.
    pub const fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    /// How many candidate signatures the header carried.
    pub const fn signature_count(&self) -> usize {
        self.candidates
    }
}

/// A key made ready at build time: HMAC states already keyed, or a digest.
pub(crate) struct PreparedKey {
    pub(crate) index: usize,
    pub(crate) name: Cow<'static, str>,
    not_before: Option<i64>,
    not_after: Option<i64>,
    macs: Vec<KeyedMac>,
    pub(crate) public: Option<asym::PublicKey>,
    pub(crate) digest: [u8; 32],
}

impl std::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for PreparedKey {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.digest.zeroize();
    }
}

impl PreparedKey {
    fn base(index: usize, key: &Key, macs: Vec<KeyedMac>, digest: [u8; 32]) -> Self {
        Self {
            index,
            name: key.name(index),
            not_before: key.not_before,
            not_after: key.not_after,
            macs,
            public: None,
            digest,
        }
    }
    pub(crate) fn hmac(index: usize, key: &Key, macs: Vec<KeyedMac>) -> Self {
        Self::base(index, key, macs, [0; 32])
    }
    pub(crate) fn public(index: usize, key: &Key, pk: asym::PublicKey) -> Self {
        let mut k = Self::base(index, key, Vec::new(), [0; 32]);
        k.public = Some(pk);
        k
    }
    pub(crate) fn digest(index: usize, key: &Key) -> Self {
        Self::base(
            index,
            key,
            Vec::new(),
            Sha256::digest(key.secret.expose()).into(),
        )
    }
    pub(crate) fn mac(&self, alg: Algorithm) -> Option<&KeyedMac> {
        self.macs.iter().find(|m| m.algorithm() == alg)
    }
    pub(crate) fn active_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|t| now >= t) && self.not_after.is_none_or(|t| now <= t)
    }
}

/// Turns the secret as the sender shows it into key bytes.
pub(crate) fn secret_bytes(
    provider: &str,
    enc: SecretEncoding,
    secret: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    match enc {
        SecretEncoding::Raw => Ok(Zeroizing::new(secret.to_vec())),
        SecretEncoding::WhsecBase64 => {
            const LENIENT: GeneralPurpose = GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                GeneralPurposeConfig::new()
                    .with_decode_padding_mode(DecodePaddingMode::Indifferent),
            );
            let s = secret.trim_ascii();
            let s = s.strip_prefix(b"whsec_").unwrap_or(s);
            let bytes = LENIENT.decode(s).map_err(|_| ConfigError::BadSecret {
                provider: static_name(provider),
                why: "expected `whsec_` followed by base64 (as shown in the sender's dashboard)",
            })?;
            if bytes.is_empty() {
                return Err(ConfigError::EmptySecret);
            }
            Ok(Zeroizing::new(bytes))
        }
    }
}

pub(crate) fn static_name(provider: &str) -> &'static str {
    crate::providers::NAMES
        .iter()
        .find(|n| **n == provider)
        .copied()
        .unwrap_or("this sender")
}

/// The JSON paths of the body-sourced fields (empty for the others).
fn body_paths(sources: [&Source; 3]) -> [&[Cow<'static, str>]; 3] {
    sources.map(|s| match s {
        Source::Body(p) => &p[..],
        _ => &[],
    })
}

/// Reads the body-sourced fields in one pass.
///
/// Inline, with the one-key read first ([`crate::json::one_top_level`]):
/// its answer is built in the caller's frame (per Standard Webhooks
/// verification at 1 KiB: −92 instructions, and −8 to −23 ns at the median of
/// interleaved runs, against going through `extract` alone).
#[inline]
pub(crate) fn body_fields<'a>(body: &'a [u8], sources: [&Source; 3]) -> [Option<Cow<'a, str>>; 3] {
    let paths = body_paths(sources);
    if paths.iter().all(|p| p.is_empty()) {
        return [None, None, None];
    }
    if let Some((slot, v)) = crate::json::one_top_level(body, &paths) {
        let mut out = [None, None, None];
        out[slot] = Some(Cow::Borrowed(v));
        return out;
    }
    crate::json::extract(body, paths)
}

/// [`body_fields`] by the fast scan alone, calling `ahead` as it reads
/// (`None`: the body needs the full parse, which [`body_fields`] does).
pub(crate) fn body_fields_fast<'a>(
    body: &'a [u8],
    sources: [&Source; 3],
    ahead: &mut impl crate::json::Ahead,
) -> Option<[Option<Cow<'a, str>>; 3]> {
    crate::json::extract_fast(body, body_paths(sources), ahead)
}
