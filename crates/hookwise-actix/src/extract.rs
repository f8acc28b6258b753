//! The `Webhook<T>` and `RawWebhook` extractors.

use std::future::{Future, poll_fn};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use bytes::Bytes;
use futures_core::Stream;
use hookwise::replay::Admission;
use hookwise::{
    BodyBuffer, BodyDeadline, BodyDigest, Delivery, PeerCertificates, Reason, Rejection,
    RequestParts,
};
use serde::de::DeserializeOwned;

use crate::headers::FlatHeaders;
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
/// The extractor needs a [`WebhookConfig`] in `app_data` and, when its
/// verifier has a replay store, the [`WebhookReplay`](crate::WebhookReplay)
/// middleware around the route (a `500` naming what is missing otherwise; see
/// [`WebhookConfig::replay_in_flight_only`]). See the [crate docs](crate) for an example.
#[derive(Debug)]
pub struct Webhook<T> {
    payload: T,
    body: Bytes,
    /// Boxed: moved through the extractor's and the handler's futures at 8
    /// bytes instead of ~250 (see BENCHMARKS.md).
    delivery: Box<Delivery>,
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
        (self.payload, self.body, *self.delivery)
    }
}

impl<T> Webhook<T> {
    /// Assembles a verified delivery (for the event router, which decodes
    /// after dispatching on the verified event type).
    pub(crate) const fn from_parts(payload: T, body: Bytes, delivery: Box<Delivery>) -> Self {
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
    delivery: Box<Delivery>,
}

impl RawWebhook {
    pub(crate) const fn from_parts(body: Bytes, delivery: Box<Delivery>) -> Self {
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
        (self.body, *self.delivery)
    }
    pub(crate) fn into_boxed_parts(self) -> (Bytes, Box<Delivery>) {
        (self.body, self.delivery)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Webhook<T> {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        match start(req, payload) {
            Ok(started) => Box::pin(started.run(
                Verified::decode::<T>,
                |payload, body, delivery| Self {
                    payload,
                    body,
                    delivery,
                },
            )),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

impl FromRequest for RawWebhook {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        match start(req, payload) {
            Ok(started) => {
                Box::pin(started.run(|_| Ok(()), |(), body, delivery| Self { body, delivery }))
            }
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

/// Headers checked, body not read yet.
struct Started {
    req: HttpRequest,
    config: WebhookConfig,
    pending: hookwise::Pending,
    payload: Payload,
    expected: Option<usize>,
    /// [`WebhookReplay`](crate::WebhookReplay)'s end of the reservation.
    slot: Option<GuardSlot>,
}

/// Body read and verified, not admitted yet.
struct Verified {
    req: HttpRequest,
    config: WebhookConfig,
    body: Bytes,
    delivery: Box<Delivery>,
    slot: Option<GuardSlot>,
}

fn reject(config: &WebhookConfig, rejection: Rejection) -> WebhookError {
    rejection.trace(config.verifier().provider());
    WebhookError::rejected(rejection, config.on_rejection_fn().cloned())
}

/// The synchronous part: configuration, header phase, `Content-Length`.
fn start(req: &HttpRequest, payload: &mut Payload) -> Result<Started, WebhookError> {
    // A rejection before the body is read leaves it unread: the answer closes
    // the connection rather than draining what may be a huge or endless body.
    // Read once: it decides both whether a refusal leaves a body unread and
    // the length the body must reach.
    let length = content_length(req);
    let has_body = !matches!(length, Some(0))
        && (length.is_some()
            || req.headers().contains_key(header::CONTENT_LENGTH)
            || req.headers().contains_key(header::TRANSFER_ENCODING));
    let unread = |e: WebhookError| if has_body { e.closing() } else { e };
    let Some(config) = WebhookConfig::from_req(req) else {
        let detail = "no hookwise_actix::WebhookConfig in app_data for this route: add \
                      `.app_data(WebhookConfig::new(verifier))` to its resource, scope or app";
        tracing::error!(target: "hookwise::rejection", path = req.path(), "{detail}");
        return Err(unread(WebhookError::rejected(
            Rejection::new(Reason::Misconfigured, detail),
            None,
        )));
    };
    let config = config.clone();
    let verifier = config.verifier();
    let uri = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    if config.handshakes() {
        // Meta's unsigned subscription check (only with a configured verify token).
        let empty = ActixHeaders(req.headers());
        let head = connection(
            verifier,
            req,
            RequestParts::new(&empty)
                .method(req.method().as_str())
                .uri(uri),
        );
        match verifier.pre_handshake(&head) {
            Some(Ok(reply)) => return Err(WebhookError::handshake(reply)),
            Some(Err(r)) => return Err(reject(&config, r)),
            None => {}
        }
    }
    let mut headers = FlatHeaders::empty(req.headers());
    headers.fill();
    // The connection's facts: the socket peer (not `Forwarded`: trusted proxies
    // are the IP allow-list's business) and, under mutual TLS, the client
    // certificates that `HttpServer::on_connect` stored as connection data.
    let parts = connection(
        verifier,
        req,
        RequestParts::new(&headers)
            .method(req.method().as_str())
            .uri(uri),
    );
    // Filled in place (a returned one would be moved out twice on the way).
    let mut pending = hookwise::Pending::default();
    verifier
        .check_headers_into(&parts, &mut pending)
        .map_err(|r| unread(reject(&config, r)))?;
    // Only now, so that an unauthenticated request is refused as such (401,
    // 403) rather than told about the configuration.
    let slot = if verifier.has_replay_store() {
        let slot = req.extensions().get::<GuardSlot>().cloned();
        if slot.is_none() && !config.in_flight_only() {
            let detail = "the verifier has a replay store but the route is not wrapped in \
                          hookwise_actix::WebhookReplay, which commits a delivery once it is \
                          handled: add `.wrap(WebhookReplay::new())` to its resource, scope or \
                          app (or accept in-flight protection only with \
                          `WebhookConfig::replay_in_flight_only()`)";
            warn_misconfigured(req.path(), detail);
            return Err(unread(reject(
                &config,
                Rejection::new(Reason::Misconfigured, detail),
            )));
        }
        slot
    } else {
        None
    };

    let limit = verifier.max_body();
    let expected = match length {
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
        slot,
    })
}

/// The missing middleware, logged at ERROR once per process and at DEBUG after
/// that (every request of such a route is refused; one line says why).
fn warn_misconfigured(path: &str, detail: &str) {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if LOGGED.swap(true, Ordering::Relaxed) {
        tracing::debug!(target: "hookwise::rejection", path, "{detail}");
    } else {
        tracing::error!(target: "hookwise::rejection", path, "{detail}");
    }
}

/// `Content-Length` as a number; `None` when absent, not a number or past
/// `u64`. Digits are ASCII, so the value's bytes are parsed without a UTF-8
/// view first. Any number of leading zeros is accepted, as actix-http's
/// HTTP/1 decoder accepts them when it frames the body: the truncation check
/// must see the same length.
fn content_length(req: &HttpRequest) -> Option<u64> {
    hookwise::parse_content_length(req.headers().get(header::CONTENT_LENGTH)?.as_bytes())
}

impl Started {
    /// Reads the body under the limit and the deadline, verifies it, decodes
    /// it (`decode`) and admits it, then builds the extractor (`done`). One
    /// future for all of it: `async fn`s taking the request's state by value,
    /// awaited one after another, were each built on the stack and moved
    /// into their parent's (23 `memcpy` calls per request, ~3 % of the
    /// server's CPU in a perf profile under load). A plain function around
    /// an `async move` block: an `async fn` would move `self` into a local of
    /// its own and hold it twice.
    #[allow(clippy::manual_async_fn)] // on purpose, as said above
    fn run<P, X>(
        mut self,
        decode: impl FnOnce(&Verified) -> Result<P, WebhookError>,
        done: impl FnOnce(P, Bytes, Box<Delivery>) -> X,
    ) -> impl Future<Output = Result<X, WebhookError>> {
        async move {
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
            // In a block: the body and the delivery, once moved into `Verified`,
            // must not keep storage of their own across the replay step's await.
            let verified = {
                // The timer is armed only if the body is not there at once.
                let read = {
                    let read = std::pin::pin!(read);
                    BodyDeadline::new(verifier.body_timeout(), read).await
                };
                let (body, digest) = match read {
                    Some(Ok(read)) => read,
                    // The body was cut off, is over the limit or too slow: what is
                    // left of it stays unread, so the connection ends with the answer.
                    Some(Err(rejection)) => return Err(reject(&self.config, rejection).closing()),
                    None => {
                        return Err(reject(
                            &self.config,
                            Rejection::new(
                                Reason::BodyTimeout,
                                "body not received before the deadline",
                            ),
                        )
                        .closing());
                    }
                };
                let verified = match digest {
                    Some(digest) => digest.verify(&body),
                    None => verifier.verify_body(&mut self.pending, &body),
                };
                // Matched rather than `map_err(..)?`, which moves the delivery
                // into a result of its own first.
                let delivery = match verified {
                    Ok(delivery) => delivery,
                    Err(r) => return Err(reject(&self.config, r)),
                };
                if self.config.handshakes() {
                    let headers = ActixHeaders(self.req.headers());
                    if let Some(reply) =
                        verifier.handshake(&RequestParts::new(&headers), &delivery, &body)
                    {
                        tracing::debug!(target: "hookwise::handshake", provider = delivery.provider(), kind = reply.kind, "handshake answered");
                        return Err(WebhookError::handshake(reply));
                    }
                }
                Verified {
                    req: self.req,
                    config: self.config,
                    body,
                    delivery: Box::new(delivery),
                    slot: self.slot,
                }
            };
            let payload = decode(&verified)?;
            let admitted = verified.config.verifier().admit(&verified.delivery).await;
            verified.settle(admitted)?;
            // Moved out only now, once: `settle` takes the state by reference
            // (by value it was a copy of the whole state into the call).
            let Verified { body, delivery, .. } = verified;
            Ok(done(payload, body, delivery))
        }
    }
}

/// Collects the payload through a [`BodyBuffer`], refusing to go past
/// `limit`: a body of one chunk (most deliveries) is kept as that chunk, no
/// copy; several chunks are copied once into one buffer (as they arrive when
/// `Content-Length` announced the length, at the end otherwise), and hashed
/// as they arrive with the digest `start_digest` gives at the second chunk.
async fn read_body(
    payload: &mut Payload,
    limit: usize,
    expected: Option<usize>,
    start_digest: impl FnOnce() -> Option<BodyDigest>,
) -> Result<(Bytes, Option<BodyDigest>), Rejection> {
    let mut buf = BodyBuffer::hashed(start_digest).expecting(expected.filter(|&n| n <= limit));
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
        if chunk.len() > limit - buf.len() {
            return Err(Rejection::new(
                Reason::BodyTooLarge,
                "body exceeds the limit while streaming",
            ));
        }
        buf.push(chunk);
    }
    // actix-http ends the payload normally when the client closes early: a
    // body shorter than its Content-Length is incomplete, never a delivery.
    if expected.is_some_and(|n| buf.len() != n) {
        return Err(Rejection::new(
            Reason::BodyUnreadable,
            "body shorter than its Content-Length (connection closed)",
        ));
    }
    Ok(buf.finish())
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

    /// What the replay store said ([`hookwise::Verifier::admit`]): the
    /// reservation is left in the request for
    /// [`WebhookReplay`](crate::WebhookReplay).
    fn settle(&self, admitted: Result<Admission, Rejection>) -> Result<(), WebhookError> {
        match admitted {
            Ok(Admission::Proceed(guard)) if guard.is_inert() => Ok(()),
            Ok(Admission::Proceed(guard)) => {
                match &self.slot {
                    Some(slot) => slot.put(guard),
                    // In-flight only (`WebhookConfig::replay_in_flight_only`):
                    // the reservation lives, and is released, with the request.
                    None => {
                        self.req
                            .extensions_mut()
                            .insert(HeldGuard { _guard: guard });
                    }
                }
                Ok(())
            }
            Ok(Admission::Duplicate) => {
                tracing::debug!(target: "hookwise::replay", provider = self.delivery.provider(), replay_key = self.delivery.replay_key(), "duplicate of a processed delivery; handler not run");
                // A copy of the delivery for the answer, on this path only.
                Err(WebhookError::duplicate(
                    (*self.delivery).clone(),
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

/// `parts` with the connection's peer address and client certificates, when
/// the verifier reads them (the certificates are a lookup in the
/// connection's data, saved on every request otherwise).
fn connection<'a>(
    verifier: &hookwise::Verifier,
    req: &'a HttpRequest,
    parts: RequestParts<'a>,
) -> RequestParts<'a> {
    if !verifier.reads_connection() {
        return parts;
    }
    parts
        .peer(req.peer_addr())
        .peer_certificates(req.conn_data::<PeerCertificates>())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::content_length;

    #[test]
    fn content_length_is_digits_only() {
        let len = |v: &str| {
            content_length(
                &TestRequest::default()
                    .insert_header(("content-length", v))
                    .to_http_request(),
            )
        };
        assert_eq!(len("1024"), Some(1024));
        assert_eq!(len(" 7 "), Some(7));
        assert_eq!(len("0"), Some(0));
        assert_eq!(len("9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(len("18446744073709551615"), Some(u64::MAX));
        // Leading zeros: actix-http frames such a body by the number, so do we.
        assert_eq!(len("0000000000000000000000100"), Some(100));
        assert_eq!(len("18446744073709551616"), None);
        for bad in ["", "+5", "-1", "1e3", "12a", "99999999999999999999", "1 2"] {
            assert_eq!(len(bad), None, "{bad:?}");
        }
        assert_eq!(
            content_length(&TestRequest::default().to_http_request()),
            None
        );
    }
}
