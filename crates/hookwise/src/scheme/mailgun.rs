//! Mailgun: the signature travels inside the body and covers `timestamp + token`
//! only. **The event body itself is not authenticated** (Mailgun's design): the
//! token is single-use, so the replay store is what stops a captured signature
//! from being re-attached to another body within the window.

use std::borrow::Cow;

use super::mac::{Algorithm, KeyedMac, MAX_TAG, tags_equal};
use super::{PreparedKey, SignParams, SignedRequest, hmac::check_window};
use crate::timestamp::TimestampFormat;
use crate::{ConfigError, Delivery, HeaderList, Key, Reason, Rejection, Tolerance};

#[derive(Clone, Debug, Default)]
pub(crate) struct Mailgun;

impl Mailgun {
    #[allow(clippy::unused_self)]
    pub(crate) fn verify_body(
        &self,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tol: &Tolerance,
    ) -> Result<Delivery, Rejection> {
        let (ts, token, sig, event) = if body.trim_ascii_start().first() == Some(&b'{') {
            let [a, b, c, d] = crate::json::extract(
                body,
                [
                    &["signature", "timestamp"],
                    &["signature", "token"],
                    &["signature", "signature"],
                    &["event-data", "event"],
                ],
            );
            let own = |v: Option<Cow<'_, str>>| v.map(Cow::into_owned);
            (own(a), own(b), own(c), own(d))
        } else {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(body).unwrap_or_default();
            let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            (
                get("timestamp"),
                get("token"),
                get("signature"),
                get("event"),
            )
        };
        let (Some(ts_raw), Some(token), Some(sig)) = (ts, token, sig) else {
            return Err(Rejection::new(
                Reason::MissingSignature,
                "body has no signature.{timestamp,token,signature}",
            ));
        };
        let ts = TimestampFormat::UnixSeconds
            .parse(ts_raw.as_bytes())
            .ok_or_else(|| {
                Rejection::new(Reason::MalformedHeader, "signature.timestamp is not valid")
            })?;
        check_window(tol, ts, now)?;
        let sig = hex::decode(&sig).map_err(|_| {
            Rejection::new(Reason::MalformedHeader, "signature.signature is not hex")
        })?;
        let mut tag = [0u8; MAX_TAG];
        let mut tried = 0;
        let mut matched = None;
        for k in keys.iter().filter(|k| k.active_at(now)) {
            tried += 1;
            let Some(mac) = k.mac(Algorithm::Sha256) else {
                continue;
            };
            let n = mac.compute(
                &mut |f| {
                    f(ts_raw.as_bytes());
                    f(token.as_bytes());
                },
                &mut tag,
            );
            if tags_equal(sig.as_slice(), &tag[..n]) {
                matched = Some(k);
                break;
            }
        }
        let key = matched.ok_or_else(|| {
            Rejection::new(
                Reason::SignatureMismatch,
                "signature does not match any key",
            )
            .tried(1, tried)
            .body_len(body.len())
        })?;
        Ok(Delivery::new(
            "mailgun",
            &key.name,
            Some(ts),
            Some(&token),
            true,
            event.as_deref(),
            crate::delivery::ReplayFrom::Id,
        ))
    }

    /// Builds a Mailgun JSON body: `body` must be the `event-data` object.
    #[allow(clippy::unused_self)]
    pub(crate) fn sign(
        &self,
        key: &Key,
        body: &[u8],
        params: &SignParams<'_>,
    ) -> Result<SignedRequest, ConfigError> {
        let ts = params.timestamp.ok_or(ConfigError::Scheme(
            "mailgun signs a timestamp: pass one".into(),
        ))?;
        let event: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
            ConfigError::Scheme("mailgun: the body must be the JSON `event-data` object".into())
        })?;
        let token = params
            .id
            .map_or_else(|| hex::encode(&sha2_digest(body)[..25]), str::to_owned);
        let sig = hex::encode(
            KeyedMac::new(Algorithm::Sha256, key.secret.expose())
                .tag(format!("{ts}{token}").as_bytes()),
        );
        let out = serde_json::json!({
            "signature": {"timestamp": ts.to_string(), "token": token, "signature": sig},
            "event-data": event,
        });
        Ok(SignedRequest {
            headers: HeaderList::new().with("Content-Type", "application/json"),
            body: serde_json::to_vec(&out)
                .map_err(|_| ConfigError::Scheme("mailgun: cannot encode".into()))?,
        })
    }
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(b).into()
}
