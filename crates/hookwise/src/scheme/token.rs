//! A shared token in a header (GitLab `X-Gitlab-Token`), compared in constant time.

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::inline::SmallStr;
use super::{Pending, PreparedKey, SignedRequest, hmac::one};
use crate::{Delivery, HeaderList, Key, Reason, Rejection, RequestParts};

/// A shared secret token sent verbatim in a header.
///
/// The token authenticates the sender but **not the body**: anyone who sees one
/// request can send any body. Prefer a signing scheme where the sender has one.
/// Both sides are hashed with SHA-256 before a constant-time comparison, so the
/// comparison time does not depend on the token's length or content.
///
/// ```
/// use hookwise::{scheme::TokenScheme, HeaderList, RequestParts, Verifier};
/// let v = Verifier::builder(TokenScheme::new("acme", "X-Acme-Token").build()).secret("t0ken").unwrap().build().unwrap();
/// let ok = HeaderList::new().with("X-Acme-Token", "t0ken");
/// assert!(v.verify(&RequestParts::new(&ok), b"{}").is_ok());
/// let bad = HeaderList::new().with("X-Acme-Token", "t0ken2");
/// assert_eq!(v.verify(&RequestParts::new(&bad), b"{}").unwrap_err().code(), "invalid_credentials");
/// ```
#[derive(Clone, Debug)]
pub struct TokenScheme {
    pub(crate) provider: Cow<'static, str>,
    header: Cow<'static, str>,
    id_headers: Vec<Cow<'static, str>>,
    event_header: Option<Cow<'static, str>>,
}

impl TokenScheme {
    /// A token in `header`.
    pub fn new(provider: impl Into<Cow<'static, str>>, header: &str) -> Self {
        Self {
            provider: provider.into(),
            header: Cow::Owned(header.to_ascii_lowercase()),
            id_headers: Vec::new(),
            event_header: None,
        }
    }
    /// Headers that carry a delivery id, first found wins (not signed: see the type docs).
    #[must_use]
    pub fn id_headers(mut self, names: &[&str]) -> Self {
        self.id_headers = names
            .iter()
            .map(|n| Cow::Owned(n.to_ascii_lowercase()))
            .collect();
        self
    }
    /// The header that names the event.
    #[must_use]
    pub fn event_header(mut self, name: &str) -> Self {
        self.event_header = Some(Cow::Owned(name.to_ascii_lowercase()));
        self
    }
    /// The scheme.
    pub const fn build(self) -> super::Scheme {
        super::Scheme(super::Kind::Token(self))
    }

    pub(crate) fn check(
        &self,
        req: &RequestParts<'_>,
        keys: &[PreparedKey],
        now: i64,
    ) -> Result<Pending, Rejection> {
        let value = match one(req.headers, &self.header) {
            Ok(v) => v,
            Err(r) if r.reason() == Reason::MissingHeader => {
                return Err(Rejection::new(
                    Reason::MissingSignature,
                    format!("no `{}` header", self.header),
                )
                .header(self.header.clone()));
            }
            Err(r) => return Err(r),
        };
        let mut p = Pending::default();
        let got: [u8; 32] = Sha256::digest(value).into();
        let mut tried = 0;
        let mut found = None;
        for k in keys.iter().filter(|k| k.active_at(now)) {
            tried += 1;
            if bool::from(k.digest.ct_eq(&got)) && found.is_none() {
                found = Some(k.index);
            }
        }
        let Some(i) = found else {
            return Err(
                Rejection::new(Reason::InvalidCredentials, "token does not match any key")
                    .header(self.header.clone())
                    .tried(1, tried),
            );
        };
        p.matched_key = i;
        p.candidates = 1;
        for name in &self.id_headers {
            if let crate::Lookup::One(v) = req.headers.lookup(name) {
                p.id = std::str::from_utf8(v)
                    .ok()
                    .filter(|s| s.len() <= 256)
                    .map(SmallStr::new);
                break;
            }
        }
        if let Some(name) = &self.event_header {
            if let crate::Lookup::One(v) = req.headers.lookup(name) {
                p.event = std::str::from_utf8(v).ok().map(SmallStr::new);
            }
        }
        Ok(p)
    }

    pub(crate) fn delivery(&self, p: Pending, body: &[u8], keys: &[PreparedKey]) -> Delivery {
        token_delivery(&self.provider, p, body, keys)
    }

    pub(crate) fn sign(&self, key: &Key, body: &[u8]) -> SignedRequest {
        let headers = HeaderList::new().with(self.header.to_string(), key.secret.expose().to_vec());
        SignedRequest {
            headers,
            body: body.to_vec(),
        }
    }
}

/// The token authenticates the sender only: the replay key is the sender's id
/// header when there is one, else a hash of the body.
pub(crate) fn token_delivery(
    provider: &str,
    p: Pending,
    body: &[u8],
    keys: &[PreparedKey],
) -> Delivery {
    let digest = if p.id.is_some() {
        Default::default()
    } else {
        Sha256::digest(body)
    };
    Delivery::new(
        provider,
        keys.iter()
            .find(|k| k.index == p.matched_key)
            .map_or("key-0", |k| &k.name),
        None,
        p.id.as_ref().map(SmallStr::as_str),
        false,
        p.event.as_ref().map(SmallStr::as_str),
        // The id authenticated by the token names the delivery; without one,
        // the body's hash does.
        if p.id.is_some() {
            crate::delivery::ReplayFrom::Id
        } else {
            crate::delivery::ReplayFrom::Signature(&digest)
        },
    )
}
