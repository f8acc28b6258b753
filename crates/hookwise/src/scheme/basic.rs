//! HTTP Basic authentication (DocuSign Connect and others), compared in constant time.

use std::borrow::Cow;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Pending, PreparedKey, SignedRequest, hmac::one, token::token_delivery};
use crate::{Delivery, HeaderList, Key, Reason, Rejection, RequestParts};

/// `Authorization: Basic …` checked against `user:password` keys.
///
/// Keys are the `user:password` strings. Like a token, Basic auth does not
/// authenticate the body. A 401 carries `WWW-Authenticate: Basic realm="…"`.
///
/// ```
/// use hookwise::{scheme::BasicAuth, HeaderList, RequestParts, Verifier};
/// let v = Verifier::builder(BasicAuth::new("docusign", "webhooks")).secret("user:pa55").unwrap().build().unwrap();
/// let ok = HeaderList::new().with("Authorization", "Basic dXNlcjpwYTU1");
/// assert!(v.verify(&RequestParts::new(&ok), b"<xml/>").is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct BasicAuth {
    pub(crate) provider: Cow<'static, str>,
    challenge: Cow<'static, str>,
}

impl BasicAuth {
    /// Basic auth for `provider`, announcing `realm` in the challenge.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(provider: impl Into<Cow<'static, str>>, realm: &str) -> super::Scheme {
        let realm: String = realm
            .chars()
            .filter(|c| *c != '"' && !c.is_control())
            .collect();
        super::Scheme(super::Kind::Basic(Self {
            provider: provider.into(),
            challenge: Cow::Owned(format!("Basic realm=\"{realm}\"")),
        }))
    }

    pub(crate) fn check(
        &self,
        req: &RequestParts<'_>,
        keys: &[PreparedKey],
        now: i64,
    ) -> Result<Pending, Rejection> {
        let name = Cow::Borrowed("authorization");
        let value = match one(req.headers, &name) {
            Ok(v) => v,
            Err(r) if r.reason() == Reason::MissingHeader => {
                return Err(
                    Rejection::new(Reason::MissingSignature, "no Authorization header")
                        .header(name)
                        .challenge(self.challenge.clone()),
                );
            }
            Err(r) => return Err(r),
        };
        let creds = value
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case(b"basic "))
            .and_then(|_| {
                base64::engine::general_purpose::STANDARD
                    .decode(value[6..].trim_ascii())
                    .ok()
            })
            .ok_or_else(|| {
                Rejection::new(
                    Reason::MalformedHeader,
                    "Authorization is not `Basic <base64>`",
                )
                .header(name.clone())
                .challenge(self.challenge.clone())
            })?;
        let got: [u8; 32] = Sha256::digest(&creds).into();
        let mut found = None;
        let mut tried = 0;
        for k in keys.iter().filter(|k| k.active_at(now)) {
            tried += 1;
            if bool::from(k.digest.ct_eq(&got)) && found.is_none() {
                found = Some(k.index);
            }
        }
        let i = found.ok_or_else(|| {
            Rejection::new(
                Reason::InvalidCredentials,
                "credentials do not match any key",
            )
            .header(name)
            .tried(1, tried)
            .challenge(self.challenge.clone())
        })?;
        Ok(Pending {
            matched_key: i,
            candidates: 1,
            ..Pending::default()
        })
    }

    pub(crate) fn delivery(&self, p: Pending, body: &[u8], keys: &[PreparedKey]) -> Delivery {
        token_delivery(&self.provider, p, body, keys)
    }

    #[allow(clippy::unused_self)]
    pub(crate) fn sign(&self, key: &Key, body: &[u8]) -> SignedRequest {
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(key.secret.expose())
        );
        SignedRequest {
            headers: HeaderList::new().with("Authorization", v),
            body: body.to_vec(),
        }
    }
}
