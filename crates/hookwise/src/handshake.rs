//! Sender handshakes: the requests a sender makes to prove the endpoint is
//! yours, answered before (and instead of) your handler.
//!
//! | sender | request | answer | authenticated by |
//! |---|---|---|---|
//! | Slack | body `{"type":"url_verification","challenge":…}` | `{"challenge":…}` | the request signature |
//! | Zoom | body `{"event":"endpoint.url_validation","payload":{"plainToken":…}}` | `{"plainToken":…,"encryptedToken":hex(HMAC-SHA256(secret, plainToken))}` | the request signature |
//! | Twitch | body with a top-level `challenge` (sent with `Twitch-Eventsub-Message-Type: webhook_callback_verification`) | the body's `challenge`, `text/plain` | the request signature (the message-type header is not signed, so the signed body decides) |
//! | Discord | interaction PING, body `{"type":1,…}` without an `event`; webhook-event PING, body `{"type":0,…}` | `{"type":1}`; `204` without a body | the request signature |
//! | Meta | `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` | the challenge, `text/plain` | the verify token (constant-time), configured with [`crate::VerifierBuilder::meta_verify_token`] |
//!
//! Signed handshakes are answered only after verification
//! ([`crate::Verifier::handshake`]); Meta's unsigned `GET` is answered by
//! [`crate::Verifier::pre_handshake`] before any signature check, and only when a
//! verify token is configured.

use crate::Delivery;

/// A response the adapter sends instead of calling the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// Which handshake (`slack.url_verification`, …), for logs.
    pub kind: &'static str,
}

impl HandshakeReply {
    fn json(kind: &'static str, v: &serde_json::Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
            kind,
        }
    }
    const fn no_content(kind: &'static str) -> Self {
        Self {
            status: 204,
            content_type: "text/plain; charset=utf-8",
            body: Vec::new(),
            kind,
        }
    }
    fn text(kind: &'static str, s: &str) -> Self {
        Self {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: s.as_bytes().to_vec(),
            kind,
        }
    }
}

/// Recognizes a signed handshake in a verified delivery. `zoom_token` computes
/// Zoom's `encryptedToken` with the key that verified the request.
pub(crate) fn signed(
    delivery: &Delivery,
    body: &[u8],
    zoom_token: &dyn Fn(&[u8]) -> Option<String>,
) -> Option<HandshakeReply> {
    match delivery.provider() {
        "slack" => {
            let [ty, challenge] = crate::json::extract(body, [&["type"], &["challenge"]]);
            if ty.as_deref() != Some("url_verification") {
                return None;
            }
            Some(HandshakeReply::json(
                "slack.url_verification",
                &serde_json::json!({ "challenge": challenge? }),
            ))
        }
        "zoom" => {
            let [ev, plain] = crate::json::extract(body, [&["event"], &["payload", "plainToken"]]);
            if ev.as_deref() != Some("endpoint.url_validation") {
                return None;
            }
            let plain = plain?;
            let encrypted = zoom_token(plain.as_bytes())?;
            Some(HandshakeReply::json(
                "zoom.url_validation",
                &serde_json::json!({ "plainToken": plain, "encryptedToken": encrypted }),
            ))
        }
        "twitch" => {
            // Decided by the signed body: a notification or revocation never
            // has a top-level `challenge`, and a captured verification
            // re-sent as `notification` (the header is unsigned) must not
            // reach the handler as an event.
            let [challenge] = crate::json::extract(body, [&["challenge"]]);
            challenge.map(|c| HandshakeReply::text("twitch.webhook_callback_verification", &c))
        }
        "discord" => {
            // Interactions: PING is type 1 (answered `{"type":1}`). Webhook
            // events: PING is type 0 (answered 204) and type 1 is an event,
            // which carries an `event` object and goes to the handler.
            let [ty, event] = crate::json::extract(body, [&["type"], &["event", "type"]]);
            match (ty.as_deref(), event) {
                (Some("0"), _) => Some(HandshakeReply::no_content("discord.webhook_ping")),
                (Some("1"), None) => Some(HandshakeReply::json(
                    "discord.ping",
                    &serde_json::json!({ "type": 1 }),
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Meta's subscription check: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
/// `Some(Ok)` answers the challenge, `Some(Err)` rejects a wrong token (401),
/// `None` when the request is not such a check.
pub(crate) fn meta(
    method: &str,
    uri: &str,
    verify_token: &[u8],
) -> Option<Result<HandshakeReply, crate::Rejection>> {
    use subtle::ConstantTimeEq as _;
    if !method.eq_ignore_ascii_case("GET") {
        return None;
    }
    let query = uri.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("hub.mode")? != "subscribe" {
        return None;
    }
    let token = get("hub.verify_token").unwrap_or_default();
    let challenge = get("hub.challenge")?;
    let a = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes());
    let b = <sha2::Sha256 as sha2::Digest>::digest(verify_token);
    if bool::from(a.ct_eq(&b)) {
        Some(Ok(HandshakeReply::text("meta.subscribe", challenge)))
    } else {
        Some(Err(crate::Rejection::new(
            crate::Reason::InvalidCredentials,
            "meta subscription: hub.verify_token does not match",
        )))
    }
}
