//! The `Webhook<T>` and `RawWebhook` extractors.

use std::future::{Future, poll_fn};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use hookwise::replay::Admission;
use hookwise::{BodyDigest, Delivery, PeerCertificates, Reason, Rejection, RequestParts};
use serde::de::DeserializeOwned;

use crate::middleware::{GuardSlot, HeldGuard};
use crate::{ActixHeaders, WebhookConfig, WebhookError};

/// A verified webhook delivery: `T` decoded from the exact bytes that were
/// verified, those bytes, and the [`Delivery`] metadata.
///
/// `T` is decoded as JSON, or as a form when the request's content type is
/// `application/x-www-form-urlencoded` (Slack slash commands, Twilio, …). A
/// body that does not decode answers `422` `{"error":"invalid_payload"}` (as the
/// Tower adapter does), without reserving the delivery. Use [`RawWebhook`] to skip decoding.
///
/// The extractor needs a [`WebhookConfig`] in `app_data` (a `500` naming it
/// otherwise) and, for complete replay protection, the [`WebhookReplay`](crate::WebhookReplay)
/// middleware. See the [crate docs](crate) for an example.
#[derive(Debug)]
pub struct Webhook<T> {
    payload: T,
    body: Bytes,
    delivery: Delivery,
}

impl<T> Webhook<T> {
    /// The decoded payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }
    /// The decoded payload, by value.
    pub fn into_payload(self) -> T {
        self.payload
    }
    /// The exact bytes that were verified.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The verified metadata.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }
    /// Payload, bytes and metadata.
    pub fn into_parts(self) -> (T, Bytes, Delivery) {
        (self.payload, self.body, self.delivery)
    }
}

impl<T> Webhook<T> {
    /// Assembles a verified delivery (for the event router, which decodes
    /// after dispatching on the verified event type).
    pub(crate) const fn from_parts(payload: T, body: Bytes, delivery: Delivery) -> Self {
        Self {
            payload,
            body,
            delivery,
        }
    }
}

impl<T> Deref for Webhook<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.payload
    }
}

/// A verified webhook delivery without decoding: the exact bytes that were
/// verified and the [`Delivery`] metadata. Otherwise the same as [`Webhook`].
#[derive(Clone, Debug)]
pub struct RawWebhook {
    body: Bytes,
    delivery: Delivery,
}

impl RawWebhook {
    pub(crate) const fn from_parts(body: Bytes, delivery: Delivery) -> Self {
        Self { body, delivery }
    }

    /// The exact bytes that were verified.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
    /// The verified metadata.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }
    /// Bytes and metadata.
    pub fn into_parts(self) -> (Bytes, Delivery) {
        (self.body, self.delivery)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Webhook<T> {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let started = start(req, payload);
        Box::pin(async move {
            let verified = started?.read().await?;
            let payload = verified.decode::<T>()?;
            let (body, delivery) = verified.admit().await?;
            Ok(Self {
                payload,
                body,
                delivery,
            })
        })
    }
}

impl FromRequest for RawWebhook {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let started = start(req, payload);
        Box::pin(async move {
            let (body, delivery) = started?.read().await?.admit().await?;
            Ok(Self { body, delivery })
        })
    }
}

/// Headers checked, body not read yet.
struct Started {
    req: HttpRequest,
    config: WebhookConfig,
    pending: hookwise::Pending,
    payload: Payload,
    expected: Option<usize>,
}

/// Body read and verified, not admitted yet.
struct Verified {
    req: HttpRequest,
    config: WebhookConfig,
    body: Bytes,
    delivery: Delivery,
}

fn reject(config: &WebhookConfig, rejection: Rejection) -> WebhookError {
    rejection.trace(config.verifier().provider());
    WebhookError::rejected(rejection, config.on_rejection_fn().cloned())
}

/// The synchronous part: configuration, header phase, `Content-Length`.
fn start(req: &HttpRequest, payload: &mut Payload) -> Result<Started, WebhookError> {
    let Some(config) = WebhookConfig::from_req(req) else {
        let detail = "no hookwise_actix::WebhookConfig in app_data for this route: add \
                      `.app_data(WebhookConfig::new(verifier))` to its resource, scope or app";
        tracing::error!(target: "hookwise::rejection", path = req.path(), "{detail}");
        return Err(WebhookError::rejected(
            Rejection::new(Reason::Misconfigured, detail),
            None,
        ));
    };
    let config = config.clone();
    let verifier = config.verifier();
    let uri = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    if config.handshakes() {
        // Meta's unsigned subscription check (only with a configured verify token).
        let empty = ActixHeaders(req.headers());
        let head = RequestParts::new(&empty)
            .method(req.method().as_str())
            .uri(uri);
        match verifier.pre_handshake(&head) {
            Some(Ok(reply)) => return Err(WebhookError::handshake(reply)),
            Some(Err(r)) => return Err(reject(&config, r)),
            None => {}
        }
    }
    let headers = ActixHeaders(req.headers());
    // The connection's facts: the socket peer (not `Forwarded`: trusted proxies
    // are the IP allow-list's business) and, under mutual TLS, the client
    // certificates that `HttpServer::on_connect` stored as connection data.
    let parts = RequestParts::new(&headers)
        .method(req.method().as_str())
        .uri(uri)
        .peer(req.peer_addr())
        .peer_certificates(req.conn_data::<PeerCertificates>());
    // A rejection from here on leaves the body unread: the answer closes the
    // connection rather than draining what may be a huge or endless body.
    let has_body = !matches!(content_length(req), Some(0))
        && (req.headers().contains_key(header::CONTENT_LENGTH)
            || req.headers().contains_key(header::TRANSFER_ENCODING));
    let unread = |e: WebhookError| if has_body { e.closing() } else { e };
    let pending = verifier
        .check_headers(&parts)
        .map_err(|r| unread(reject(&config, r)))?;

    let limit = verifier.max_body();
    let expected = match content_length(req) {
        Some(len) if len > limit as u64 => {
            return Err(reject(
                &config,
                Rejection::new(Reason::BodyTooLarge, "Content-Length exceeds the limit"),
            )
            .closing());
        }
        Some(len) => usize::try_from(len).ok(),
        None => None,
    };
    Ok(Started {
        req: req.clone(),
        pending,
        payload: payload.take(),
        expected,
        config,
    })
}

fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl Started {
    /// Reads the body under the limit and the deadline, then verifies it.
    async fn read(mut self) -> Result<Verified, WebhookError> {
        let verifier = self.config.verifier();
        let limit = verifier.max_body();
        // From a body's second chunk on, the header phase's result moves into
        // a digest fed as the chunks arrive (handed back if the scheme cannot).
        let pending = &mut self.pending;
        let digest = || match verifier.body_digest(std::mem::take(pending)) {
            Ok(digest) => Some(digest),
            Err(back) => {
                *pending = back;
                None
            }
        };
        let read = read_body(&mut self.payload, limit, self.expected, digest);
        let (body, digest) = match tokio::time::timeout(verifier.body_timeout(), read).await {
            Ok(Ok(read)) => read,
            // The body was cut off, is over the limit or too slow: what is
            // left of it stays unread, so the connection ends with the answer.
            Ok(Err(rejection)) => return Err(reject(&self.config, rejection).closing()),
            Err(_elapsed) => {
                return Err(reject(
                    &self.config,
                    Rejection::new(Reason::BodyTimeout, "body not received before the deadline"),
                )
                .closing());
            }
        };
        let delivery = match digest {
            Some(digest) => digest.verify(&body),
            None => verifier.verify_body(self.pending, &body),
        }
        .map_err(|r| reject(&self.config, r))?;
        if self.config.handshakes() {
            let headers = ActixHeaders(self.req.headers());
            if let Some(reply) = verifier.handshake(&RequestParts::new(&headers), &delivery, &body)
            {
                tracing::debug!(target: "hookwise::handshake", provider = delivery.provider(), kind = reply.kind, "handshake answered");
                return Err(WebhookError::handshake(reply));
            }
        }
        Ok(Verified {
            req: self.req,
            config: self.config,
            body,
            delivery,
        })
    }
}

/// Collects the payload into one buffer, refusing to go past `limit`. A
/// body of several chunks is hashed as it arrives: at its second chunk
/// `start_digest` is asked for the verifier's [`BodyDigest`], which is fed
/// every chunk in order and returned with the bytes.
async fn read_body(
    payload: &mut Payload,
    limit: usize,
    expected: Option<usize>,
    start_digest: impl FnOnce() -> Option<BodyDigest>,
) -> Result<(Bytes, Option<BodyDigest>), Rejection> {
    let mut start_digest = Some(start_digest);
    let mut digest: Option<BodyDigest> = None;
    // A body that arrives as one chunk (most deliveries) is kept as that
    // chunk: no copy. Several chunks are kept as they arrive and copied once,
    // at the end, into one buffer of the exact size: nothing is allocated for
    // what was only announced, and a growing buffer would copy the body again
    // at every doubling and hold two buffers at each step.
    let mut first: Option<Bytes> = None;
    let mut more: Vec<Bytes> = Vec::new();
    let mut tail = BytesMut::new();
    let mut len = 0usize;
    while let Some(chunk) = poll_fn(|cx| Pin::new(&mut *payload).poll_next(cx)).await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Overflow => {
                Rejection::new(Reason::BodyTooLarge, "body exceeds the limit")
            }
            e => Rejection::new(
                Reason::BodyUnreadable,
                format!("body could not be read: {e}"),
            ),
        })?;
        if chunk.len() > limit - len {
            return Err(Rejection::new(
                Reason::BodyTooLarge,
                "body exceeds the limit while streaming",
            ));
        }
        if chunk.is_empty() {
            continue;
        }
        len += chunk.len();
        match &first {
            None => first = Some(chunk),
            Some(f) => {
                if let Some(start) = start_digest.take() {
                    digest = start().map(|mut d| {
                        d.update(f);
                        d
                    });
                }
                if let Some(d) = &mut digest {
                    d.update(&chunk);
                }
                keep(&mut more, &mut tail, chunk);
            }
        }
    }
    // actix-http ends the payload normally when the client closes early: a
    // body shorter than its Content-Length is incomplete, never a delivery.
    if expected.is_some_and(|n| len != n) {
        return Err(Rejection::new(
            Reason::BodyUnreadable,
            "body shorter than its Content-Length (connection closed)",
        ));
    }
    let body = match first {
        None => Bytes::new(),
        Some(f) if more.is_empty() && tail.is_empty() => f,
        Some(f) => {
            let mut buf = BytesMut::with_capacity(len);
            buf.extend_from_slice(&f);
            for c in &more {
                buf.extend_from_slice(c);
            }
            buf.extend_from_slice(&tail);
            buf.freeze()
        }
    };
    Ok((body, digest))
}

/// Chunks from this size on are kept as they are; smaller ones are copied.
const KEEP_CHUNK: usize = 16 * 1024;
/// Copied small chunks are set aside in pieces of this size.
const TAIL_PIECE: usize = 64 * 1024;

/// Keeps a chunk until the end. A chunk is a slice of actix's read buffer and
/// keeps it alive, so only large chunks are kept as they are; small ones are
/// copied into `tail` (set aside every 64 KiB). A body sent as many tiny
/// chunks then costs about its size, not one read buffer (and a `Vec` entry)
/// per chunk. (The Tower layer's `collect` does the same with its frames.)
fn keep(more: &mut Vec<Bytes>, tail: &mut BytesMut, chunk: Bytes) {
    if chunk.len() >= KEEP_CHUNK {
        if !tail.is_empty() {
            more.push(tail.split().freeze());
        }
        more.push(chunk);
        return;
    }
    tail.extend_from_slice(&chunk);
    if tail.len() >= TAIL_PIECE {
        more.push(tail.split().freeze());
    }
}

impl Verified {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, WebhookError> {
        let invalid = |status: u16, detail: String| {
            tracing::debug!(target: "hookwise::rejection", provider = self.config.verifier().provider(), status, %detail, "webhook payload invalid");
            WebhookError::invalid_payload(status, detail, self.config.on_rejection_fn().cloned())
        };
        if is_form(&self.req) {
            // The decoder's message may quote the payload: keep it out of the error.
            serde_urlencoded::from_bytes(&self.body).map_err(|_| {
                invalid(
                    422,
                    "form body does not decode into the handler's type".to_owned(),
                )
            })
        } else {
            serde_json::from_slice(&self.body).map_err(|e| {
                invalid(
                    422,
                    format!(
                        "JSON body: {:?} error at line {} column {}",
                        e.classify(),
                        e.line(),
                        e.column()
                    ),
                )
            })
        }
    }

    /// Reserves the delivery in the replay store and leaves the reservation in
    /// the request for [`WebhookReplay`](crate::WebhookReplay).
    async fn admit(self) -> Result<(Bytes, Delivery), WebhookError> {
        match self.config.verifier().admit(&self.delivery).await {
            Ok(Admission::Proceed(guard)) if guard.is_inert() => Ok((self.body, self.delivery)),
            Ok(Admission::Proceed(guard)) => {
                let slot = self.req.extensions().get::<GuardSlot>().cloned();
                match slot {
                    Some(slot) => slot.put(guard),
                    None => {
                        if self.config.verifier().has_replay_store() {
                            warn_without_middleware();
                        }
                        self.req
                            .extensions_mut()
                            .insert(HeldGuard { _guard: guard });
                    }
                }
                Ok((self.body, self.delivery))
            }
            Ok(Admission::Duplicate) => {
                tracing::debug!(target: "hookwise::replay", provider = self.delivery.provider(), replay_key = self.delivery.replay_key(), "duplicate of a processed delivery; handler not run");
                Err(WebhookError::duplicate(
                    self.delivery,
                    self.config.on_rejection_fn().cloned(),
                ))
            }
            Err(rejection) => Err(reject(&self.config, rejection)),
        }
    }
}

pub(crate) fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn warn_without_middleware() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "hookwise::replay",
            "hookwise_actix::Webhook used without the WebhookReplay middleware: deliveries are \
             only protected against duplicates while in flight, and processed again afterwards. \
             Add `.wrap(hookwise_actix::WebhookReplay::new())` to the app, scope or resource."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_chunks_are_copied_in_pieces_and_large_ones_kept_in_order() {
        let (mut more, mut tail) = (Vec::new(), BytesMut::new());
        let mut expected = Vec::new();
        for i in 0..100_000u32 {
            let b = [u8::try_from(i % 251).unwrap_or(0)];
            expected.extend_from_slice(&b);
            keep(&mut more, &mut tail, Bytes::copy_from_slice(&b));
        }
        let large = Bytes::from(vec![9u8; KEEP_CHUNK]);
        expected.extend_from_slice(&large);
        keep(&mut more, &mut tail, large.clone());
        keep(&mut more, &mut tail, Bytes::from_static(b"end"));
        expected.extend_from_slice(b"end");
        // One entry per 64 KiB of tiny chunks, the large chunk itself (not a copy), then the rest.
        assert_eq!(more.len(), 100_000 / TAIL_PIECE + 2);
        assert!(more.iter().any(|b| b.as_ptr() == large.as_ptr()));
        let joined: Vec<u8> = more
            .iter()
            .flat_map(|b| b.iter().copied())
            .chain(tail.iter().copied())
            .collect();
        assert_eq!(joined, expected);
    }
}
