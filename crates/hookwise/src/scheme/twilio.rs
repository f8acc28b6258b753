//! Twilio: HMAC-SHA1 over the public URL and the sorted form parameters.

use std::borrow::Cow;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::mac::{Algorithm, KeyedMac, MAX_TAG, tags_equal};
use super::{Pending, PreparedKey, SignParams, SignedRequest, hmac::one};
use crate::delivery::ReplayFrom;
use crate::headers::Lookup;
use crate::{ConfigError, Delivery, HeaderList, Key, Reason, Rejection, RequestParts};

const HEADER: &str = "x-twilio-signature";

#[derive(Clone, Debug)]
pub(crate) struct Twilio {
    url: String,
}

impl Twilio {
    pub(crate) const fn new(url: String) -> Self {
        Self { url }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.url.starts_with("http://") || self.url.starts_with("https://") {
            Ok(())
        } else {
            Err(ConfigError::Scheme(
                "twilio: the public URL must start with http:// or https://".into(),
            ))
        }
    }

    pub(crate) fn prepare(index: usize, key: &Key) -> PreparedKey {
        PreparedKey::hmac(
            index,
            key,
            vec![KeyedMac::new(Algorithm::Sha1, key.secret.expose())],
        )
    }

    /// The URL Twilio signed: the configured one, plus the request's query when
    /// the configured URL has none.
    fn signed_url(&self, uri: &str) -> String {
        match (self.url.contains('?'), uri.split_once('?')) {
            (false, Some((_, q))) if !q.is_empty() => format!("{}?{q}", self.url),
            _ => self.url.clone(),
        }
    }

    pub(crate) fn check_headers(&self, req: &RequestParts<'_>) -> Result<Pending, Rejection> {
        let name = Cow::Borrowed(HEADER);
        let value = match one(req.headers, &name) {
            Ok(v) => v,
            Err(r) if r.reason() == Reason::MissingHeader => {
                return Err(Rejection::new(
                    Reason::MissingSignature,
                    "no X-Twilio-Signature header",
                )
                .header(name));
            }
            Err(r) => return Err(r),
        };
        let sig = super::inline::decode_tag(super::Encoding::Base64, value.trim_ascii())
            .ok_or_else(|| {
                Rejection::new(Reason::MalformedHeader, "signature is not base64")
                    .header(name.clone())
            })?;
        let mut signatures = super::inline::Tags::default();
        signatures.push(sig);
        let form = matches!(req.headers.lookup("content-type"), Lookup::One(ct) if ct.len() >= 33 && ct[..33].eq_ignore_ascii_case(b"application/x-www-form-urlencoded"));
        Ok(Pending {
            candidates: 1,
            signatures,
            url: self.signed_url(req.uri),
            form,
            ..Pending::default()
        })
    }

    #[allow(clippy::unused_self)]
    pub(crate) fn verify_body(
        &self,
        p: Pending,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
    ) -> Result<Delivery, Rejection> {
        let body_hash = query_param(&p.url, "bodySHA256");
        let params: Vec<(String, Vec<String>)> = if body_hash.is_some() {
            Vec::new()
        } else {
            sorted_params(body)
        };
        if let Some(expected) = &body_hash {
            // The URL (signed) carries the body's hash: compare it (not secret).
            let got = hex::encode(Sha256::digest(body));
            if !expected.eq_ignore_ascii_case(&got) {
                return Err(Rejection::new(
                    Reason::SignatureMismatch,
                    "the body does not match the signed bodySHA256",
                )
                .body_len(body.len()));
            }
        }
        let sig = p.signatures.first().map_or(&[][..], |t| t.as_slice());
        let mut tag = [0u8; MAX_TAG];
        let mut tried = 0;
        let mut matched = None;
        'keys: for key in keys.iter().filter(|k| k.active_at(now)) {
            tried += 1;
            let Some(mac) = key.mac(Algorithm::Sha1) else {
                continue;
            };
            for url in url_variants(&p.url) {
                let n = mac.compute(
                    &mut |f| {
                        f(url.as_bytes());
                        for (k, vs) in &params {
                            for v in vs {
                                f(k.as_bytes());
                                f(v.as_bytes());
                            }
                        }
                    },
                    &mut tag,
                );
                if tags_equal(sig, &tag[..n]) {
                    matched = Some(key);
                    break 'keys;
                }
            }
        }
        let key = matched.ok_or_else(|| {
            Rejection::new(Reason::SignatureMismatch, "no signature matches any key (URL variants with and without the default port tried)")
                .header(HEADER)
                .tried(1, tried)
                .body_len(body.len())
        })?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.first().cloned())
        };
        let id = get("MessageSid")
            .or_else(|| get("CallSid"))
            .or_else(|| get("SmsSid"));
        let event = get("MessageStatus").or_else(|| get("CallStatus"));
        Ok(Delivery::new(
            "twilio",
            &key.name,
            None,
            id.as_deref(),
            id.is_some(),
            event.as_deref(),
            // Status callbacks reuse the same Sid: only the signature identifies one delivery.
            ReplayFrom::Signature(sig),
        ))
    }

    #[allow(clippy::unused_self)]
    pub(crate) fn sign(&self, key: &Key, body: &[u8], params: &SignParams<'_>) -> SignedRequest {
        let url = params.url.unwrap_or(&self.url);
        let mac = KeyedMac::new(Algorithm::Sha1, key.secret.expose());
        let mut content = url.as_bytes().to_vec();
        if query_param(url, "bodySHA256").is_none() {
            for (k, vs) in sorted_params(body) {
                for v in vs {
                    content.extend_from_slice(k.as_bytes());
                    content.extend_from_slice(v.as_bytes());
                }
            }
        }
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.tag(&content));
        let ct = if query_param(url, "bodySHA256").is_some() {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        SignedRequest {
            headers: HeaderList::new()
                .with("X-Twilio-Signature", sig)
                .with("Content-Type", ct),
            body: body.to_vec(),
        }
    }
}

/// Form parameters, sorted by name; each name's values de-duplicated and sorted (as the SDKs).
fn sorted_params(body: &[u8]) -> Vec<(String, Vec<String>)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut map: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map.into_iter()
        .map(|(k, mut v)| {
            v.sort();
            v.dedup();
            (k, v)
        })
        .collect()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The URL as given, and with the default port removed or added (the SDKs try both).
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return out;
    };
    let rest = &url[scheme_end..];
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(u, h)| (u, h));
    let at = if userinfo.is_empty() {
        String::new()
    } else {
        format!("{userinfo}@")
    };
    let default = if url.starts_with("https") { 443 } else { 80 };
    let host_only = match hostport.rsplit_once(':') {
        Some((h, port))
            if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(']')
                || hostport.starts_with('[') && hostport.contains("]:") =>
        {
            hostport
                .rsplit_once(':')
                .map_or(hostport, |(h, _)| h)
                .to_owned()
        }
        _ => {
            out.push(format!(
                "{}{at}{hostport}:{default}{}",
                &url[..scheme_end],
                &rest[host_end..]
            ));
            return out;
        }
    };
    out.push(format!(
        "{}{at}{host_only}{}",
        &url[..scheme_end],
        &rest[host_end..]
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants() {
        assert_eq!(
            url_variants("https://a.com/x?y=1"),
            ["https://a.com/x?y=1", "https://a.com:443/x?y=1"]
        );
        assert_eq!(
            url_variants("http://u:p@a.com:1234/x"),
            ["http://u:p@a.com:1234/x", "http://u:p@a.com/x"]
        );
        assert_eq!(
            url_variants("http://a.com"),
            ["http://a.com", "http://a.com:80"]
        );
    }

    #[test]
    fn params_sorted_and_deduplicated() {
        let p = sorted_params(b"b=2&a=3&b=1&b=2");
        assert_eq!(
            p,
            vec![
                ("a".to_owned(), vec!["3".to_owned()]),
                ("b".to_owned(), vec!["1".to_owned(), "2".to_owned()])
            ]
        );
    }
}
