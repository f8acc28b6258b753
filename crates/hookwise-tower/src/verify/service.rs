//! The service and its verification step.

use std::error::Error as StdError;
use std::fmt;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hookwise::{
    BodyTimer, Delivery, PeerCertificates, Pending, Reason, Rejection, RequestParts, Verifier,
};
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body::Body;
use http_body_util::LengthLimitError;
use tower_service::Service;

use super::DUPLICATE_HEADER;
use super::future::ResponseFuture;
use super::layer::{RequestUriFn, Shared, own_uri, socket_addr_extension};
use super::rejection::{DefaultOnRejection, OnRejection};
use crate::BoxError;
use crate::collect::{CollectError, Collector};

/// The service produced by [`VerifyWebhook`](super::VerifyWebhook): verifies
/// each request, then calls the inner service `S`.
///
/// See the [module docs](crate::verify) for the checks and their order.
pub struct VerifyWebhookService<S, R = DefaultOnRejection> {
    inner: S,
    shared: Arc<Shared<R>>,
}

macro_rules! define_inner_service_accessors {
    () => {
        /// The inner service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Consumes `self`, returning the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

impl<S> VerifyWebhookService<S> {
    /// Wraps `inner` without a layer (plain tower / hyper use), with
    /// [`DefaultOnRejection`].
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self {
            inner,
            shared: Arc::new(Shared {
                verifier,
                on_rejection: DefaultOnRejection,
                peer_addr: socket_addr_extension,
                request_uri: own_uri,
                handshakes: false,
            }),
        }
    }
}

impl<S, R> VerifyWebhookService<S, R> {
    pub(crate) const fn from_shared(inner: S, shared: Arc<Shared<R>>) -> Self {
        Self { inner, shared }
    }

    define_inner_service_accessors!();

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }
}

impl<S: Clone, R> Clone for VerifyWebhookService<S, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for VerifyWebhookService<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyWebhookService")
            .field("inner", &self.inner)
            .field("verifier", &self.shared.verifier)
            .finish_non_exhaustive()
    }
}

impl<S, R, B, ResBody> Service<Request<B>> for VerifyWebhookService<S, R>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    R: OnRejection<ResBody>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, R, B, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The ready service is the one we were given by `poll_ready`; a clone
        // may not be ready. Take it and leave the clone behind.
        let clone = self.inner.clone();
        let inner = mem::replace(&mut self.inner, clone);
        let (parts, body) = req.into_parts();
        let unread = !body.is_end_stream();
        ResponseFuture::new(Arc::clone(&self.shared), parts, inner, body, unread)
    }
}

/// A request being verified: steps 0-3 (handshake, headers, body, signature),
/// run by the response future on this state in place. It is polled by hand,
/// not written as an `async` block: the block's future had to be boxed (its
/// type cannot be named in `Service::Future`), one allocation and an
/// 896-byte move per request, on top of the box axum puts the whole response
/// future in.
pub(crate) struct Reading<S, R> {
    pub(crate) shared: Arc<Shared<R>>,
    /// Emptied when the request goes on.
    pub(crate) parts: http::request::Parts,
    pub(crate) service: Option<S>,
    /// The header phase's result, filled in place (a returned one would be
    /// moved, twice).
    pending: Pending,
    collector: Collector,
    timer: BodyTimer,
    /// Steps 0-2 (up to the announced size) have run: at the first poll.
    begun: bool,
    /// The body was not known to be empty when the request came in.
    unread: bool,
    http1: bool,
}

impl<S, R> Reading<S, R> {
    pub(crate) fn new(
        shared: Arc<Shared<R>>,
        parts: http::request::Parts,
        service: S,
        unread: bool,
    ) -> Self {
        let verifier = &shared.verifier;
        Self {
            collector: Collector::new(verifier.max_body()),
            timer: BodyTimer::new(verifier.body_timeout()),
            pending: Pending::default(),
            http1: parts.version <= http::Version::HTTP_11,
            parts,
            service: Some(service),
            begun: false,
            unread,
            shared,
        }
    }

    pub(crate) fn reject<ResBody>(&self, rejection: Rejection) -> Response<ResBody>
    where
        R: OnRejection<ResBody>,
    {
        reject(&self.shared, rejection)
    }

    /// An answer sent before the whole body was read is the last one on an
    /// HTTP/1 connection: draining an unread (maybe huge, maybe endless) body
    /// is what the limits exist to avoid, and a client that reused the
    /// connection would fail its next request on it. `Connection: close`
    /// tells it so.
    fn closing<ResBody>(&self, mut res: Response<ResBody>) -> Response<ResBody> {
        if self.http1 {
            res.headers_mut()
                .entry(header::CONNECTION)
                .or_insert(HeaderValue::from_static("close"));
        }
        res
    }

    fn reject_unread<ResBody>(&self, rejection: Rejection) -> Response<ResBody>
    where
        R: OnRejection<ResBody>,
    {
        let res = self.reject(rejection);
        if self.unread { self.closing(res) } else { res }
    }

    /// Steps 0-3: the verified bytes and delivery, or the answer to give
    /// instead (a rejection, or a sender's handshake).
    pub(crate) fn poll_verify<B, ResBody>(
        &mut self,
        body: Pin<&mut B>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(Bytes, Delivery), Response<ResBody>>>
    where
        R: OnRejection<ResBody>,
        B: Body,
        B::Error: Into<BoxError>,
        ResBody: From<Bytes>,
    {
        if !self.begun {
            self.begun = true;
            self.begin(body.as_ref().get_ref())?;
        }
        let verifier = &self.shared.verifier;

        // 2 (continued). The body, while it streams, under the limit and the
        //    deadline (the timer is armed only if the body is not there at
        //    once). From a body's second frame on, the header phase's result
        //    moves into a digest fed as the frames arrive (handed back if the
        //    scheme cannot).
        let pending = &mut self.pending;
        let digest = || match verifier.body_digest(mem::take(pending)) {
            Ok(digest) => Some(digest),
            Err(back) => {
                *pending = back;
                None
            }
        };
        let collector = &mut self.collector;
        let collected = ready!(
            self.timer
                .poll_read(cx, |cx| collector.poll_collect(body, cx, digest))
        );
        let max = verifier.max_body();
        let (reason, detail) = match collected {
            Some(Ok(collected)) => return self.conclude(collected),
            Some(Err(CollectError::TooLarge)) => (Reason::BodyTooLarge, None),
            Some(Err(CollectError::Body(e))) if is_length_limit(&*e) => {
                (Reason::BodyTooLarge, None)
            }
            Some(Err(CollectError::Body(e))) => (
                Reason::BodyUnreadable,
                Some(format!("could not read the body: {e}")),
            ),
            None => (
                Reason::BodyTimeout,
                Some(format!(
                    "body not received within {} ms",
                    verifier.body_timeout().as_millis()
                )),
            ),
        };
        let detail = detail.unwrap_or_else(|| format!("body exceeds the limit of {max} bytes"));
        Poll::Ready(Err(
            self.closing(self.reject(Rejection::new(reason, detail)))
        ))
    }

    /// Step 3: the signature over the bytes collected, and a sender's handshake.
    fn conclude<ResBody>(
        &mut self,
        (bytes, digest): (Bytes, Option<hookwise::BodyDigest>),
    ) -> Poll<Result<(Bytes, Delivery), Response<ResBody>>>
    where
        R: OnRejection<ResBody>,
        ResBody: From<Bytes>,
    {
        let verifier = &self.shared.verifier;

        // 3. Signature, over the exact bytes.
        let verified = match digest {
            Some(digest) => digest.verify(&bytes),
            None => verifier.verify_body(&mut self.pending, &bytes),
        };
        let delivery = match verified {
            Ok(delivery) => delivery,
            Err(rejection) => return Poll::Ready(Err(self.reject(rejection))),
        };

        // 3b. A sender handshake, verified like any delivery, answered here.
        if self.shared.handshakes {
            let head = signed_head(&self.parts, self.shared.request_uri);
            if let Some(reply) = verifier.handshake(&head, &delivery, &bytes) {
                #[cfg(feature = "tracing")]
                tracing::debug!(target: "hookwise::handshake", provider = delivery.provider(), kind = reply.kind, "handshake answered");
                return Poll::Ready(Err(handshake_response(reply)));
            }
        }
        Poll::Ready(Ok((bytes, delivery)))
    }

    /// Steps 0-2 up to the announced size, before a single body byte is read.
    fn begin<B: Body, ResBody>(&mut self, body: &B) -> Result<(), Response<ResBody>>
    where
        R: OnRejection<ResBody>,
        ResBody: From<Bytes>,
    {
        let parts = &self.parts;
        let shared = &*self.shared;
        let verifier = &shared.verifier;
        let head = |parts| signed_head(parts, shared.request_uri);

        // 0. Meta's unsigned subscription check, when enabled and configured.
        if shared.handshakes {
            let req = connection(verifier, shared.peer_addr, parts, head(parts));
            if let Some(answer) = verifier.pre_handshake(&req) {
                return Err(match answer {
                    Ok(reply) => handshake_response(reply),
                    Err(rejection) => self.reject_unread(rejection),
                });
            }
        }

        // 1. Headers (and the connection: address, client certificates).
        let req = connection(verifier, shared.peer_addr, parts, head(parts));
        if let Err(rejection) = verifier.check_headers_into(&req, &mut self.pending) {
            return Err(self.reject_unread(rejection));
        }

        // 2. Size: by Content-Length (or an exact size hint) without reading.
        let max = verifier.max_body();
        let max_u64 = u64::try_from(max).unwrap_or(u64::MAX);
        let announced = content_length(&parts.headers).max(Some(body.size_hint().lower()));
        if let Some(len) = announced.filter(|&len| len > max_u64) {
            return Err(self.reject_unread(Rejection::new(
                Reason::BodyTooLarge,
                format!("announced body of {len} bytes exceeds the limit of {max} bytes"),
            )));
        }
        Ok(())
    }
}

/// `rejection` as the layer's response, the rejection in its extensions.
pub(crate) fn reject<R: OnRejection<ResBody>, ResBody>(
    shared: &Shared<R>,
    rejection: Rejection,
) -> Response<ResBody> {
    rejection.trace(shared.verifier.provider());
    let mut res = shared.on_rejection.on_rejection(&rejection);
    res.extensions_mut().insert(rejection);
    res
}

/// Step 4 passed: the request to go on with, its body re-attached, the bytes
/// and the delivery verified in its extensions. The parts are moved into it
/// field by field (leaving `parts` empty): a whole `Parts` moved out of the
/// future's state was copied four times on its way into the request.
#[inline(always)]
pub(crate) fn take_request<B: From<Bytes>>(
    parts: &mut http::request::Parts,
    bytes: Bytes,
    delivery: Delivery,
) -> Request<B> {
    // For the extractors and the event router: the bytes and the delivery
    // verified, whatever becomes of the body and of the public `Delivery`
    // extension on their way to the handler.
    #[cfg(feature = "axum")]
    parts.extensions.insert(crate::extract::Verified {
        body: bytes.clone(),
        delivery: delivery.clone(),
    });
    parts.extensions.insert(delivery);
    let mut req = Request::new(B::from(bytes));
    *req.method_mut() = mem::take(&mut parts.method);
    mem::swap(req.uri_mut(), &mut parts.uri);
    *req.version_mut() = parts.version;
    mem::swap(req.headers_mut(), &mut parts.headers);
    mem::swap(req.extensions_mut(), &mut parts.extensions);
    req
}

/// `req` with the connection's peer address and client certificates, when
/// the verifier reads them (two lookups in the request's extensions saved on
/// every request otherwise).
fn connection<'a>(
    verifier: &Verifier,
    peer_addr: super::layer::PeerAddrFn,
    parts: &'a http::request::Parts,
    req: RequestParts<'a>,
) -> RequestParts<'a> {
    if !verifier.reads_connection() {
        return req;
    }
    req.peer(peer_addr(&parts.extensions))
        .peer_certificates(parts.extensions.get::<PeerCertificates>())
}

/// The request as the sender signed it: its own URI, or the original one the
/// layer was told where to find (axum's `nest` strips the mount prefix).
fn signed_head(parts: &http::request::Parts, uri: RequestUriFn) -> RequestParts<'_> {
    let req = RequestParts::from(parts);
    match uri(&parts.extensions).and_then(http::Uri::path_and_query) {
        Some(pq) => req.uri(pq.as_str()),
        None => req,
    }
}

fn handshake_response<ResBody: From<Bytes>>(
    reply: hookwise::handshake::HandshakeReply,
) -> Response<ResBody> {
    let mut res = Response::new(ResBody::from(Bytes::from(reply.body)));
    *res.status_mut() = http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::OK);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    res
}

/// The announced length (the first `Content-Length`; hyper refuses a request
/// with two that differ). A walk over the few names, comparing a standard
/// name by its tag, costs less than the map's hashed `get`.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    let (_, v) = headers.iter().find(|(n, _)| *n == header::CONTENT_LENGTH)?;
    hookwise::parse_content_length(v.as_bytes())
}

/// Whether the error, or one of its sources, is a [`LengthLimitError`] (from a
/// `Limited` body or a `RequestBodyLimit` layer further out: also a 413).
fn is_length_limit(e: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// `200` + `hookwise-duplicate: true` + `{"duplicate":true,…}`: the sender
/// stops retrying, the handler does not run.
pub(crate) fn duplicate<ResBody: From<Bytes>>(delivery: Delivery) -> Response<ResBody> {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: "hookwise::replay",
        provider = delivery.provider(),
        delivery_id = delivery.id(),
        "duplicate of a processed delivery; handler skipped"
    );
    let body = serde_json::json!({
        "duplicate": true,
        "provider": delivery.provider(),
        "delivery_id": delivery.id(),
    })
    .to_string();
    let mut res = Response::new(ResBody::from(Bytes::from(body)));
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(DUPLICATE_HEADER, HeaderValue::from_static("true"));
    res.extensions_mut().insert(delivery);
    res
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use hookwise::providers;
    use hookwise::scheme::SignParams;
    use http_body_util::BodyExt;
    use tower::{ServiceBuilder, ServiceExt};

    use super::*;
    use crate::VerifyWebhook;
    use crate::test_body::TestBody;

    const SECRET: &str = "tower-test-secret";

    fn verifier() -> Verifier {
        Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .max_body(64)
            .body_timeout(Duration::from_millis(50))
            .build()
            .unwrap()
    }

    fn signed(body: &[u8], mode: &str) -> http::request::Builder {
        let s = providers::github()
            .sign(SECRET, body, &SignParams::default())
            .unwrap();
        let mut req = Request::post("/hook").header("x-test", mode);
        for (n, v) in s.headers.iter() {
            req = req.header(n, v);
        }
        req
    }

    fn req(body: &'static [u8], mode: &str) -> Request<TestBody> {
        signed(body, mode)
            .body(Bytes::from_static(body).into())
            .unwrap()
    }

    type Svc = tower::util::BoxCloneSyncService<Request<TestBody>, Response<Bytes>, Infallible>;

    /// The layer around a handler that counts its runs and behaves as the
    /// `x-test` header says: `ok`, `fail` (500), `panic`, `hang`.
    fn service(calls: Arc<AtomicUsize>) -> Svc {
        service_with(verifier(), calls)
    }

    /// [`service`] with the given verifier.
    fn service_with(verifier: Verifier, calls: Arc<AtomicUsize>) -> Svc {
        let svc = ServiceBuilder::new()
            .layer(VerifyWebhook::new(verifier))
            .service_fn(move |req: Request<TestBody>| {
                let calls = calls.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    assert!(req.extensions().get::<Delivery>().is_some());
                    let mode = req.headers()["x-test"].to_str().unwrap().to_owned();
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    match mode.as_str() {
                        "fail" => Ok::<_, Infallible>(
                            Response::builder().status(500).body(Bytes::new()).unwrap(),
                        ),
                        "panic" => panic!("handler panicked"),
                        "hang" => std::future::pending().await,
                        _ => Ok(Response::new(body)),
                    }
                }
            });
        tower::util::BoxCloneSyncService::new(svc)
    }

    /// Retries until the reservation released in the background is gone.
    async fn eventually_ok(svc: &Svc, body: &'static [u8]) -> Response<Bytes> {
        for _ in 0..100 {
            let res = svc.clone().oneshot(req(body, "ok")).await.unwrap();
            if res.status() != StatusCode::CONFLICT {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the reservation was never released");
    }

    use http::StatusCode;

    #[tokio::test]
    async fn valid_delivery_reaches_the_handler_with_the_same_bytes() {
        let calls = Arc::new(AtomicUsize::new(0));
        let res = service(calls.clone())
            .oneshot(req(b"{\"a\":1}", "ok"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.body().as_ref(), b"{\"a\":1}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn rejects_on_headers_without_polling_the_body() {
        let polled = Arc::new(AtomicBool::new(false));
        let req = Request::post("/hook")
            .body(TestBody::Stall(polled.clone()))
            .unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let res = service(calls.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.body().as_ref(), br#"{"error":"missing_signature"}"#);
        assert_eq!(
            res.extensions().get::<Rejection>().map(Rejection::code),
            Some("missing_signature")
        );
        assert!(!polled.load(Ordering::SeqCst));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // The body is left unread, so the HTTP/1 connection ends here.
        assert_eq!(res.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn early_rejection_keeps_http2_and_bodiless_connections() {
        let polled = Arc::new(AtomicBool::new(false));
        let req = Request::post("/hook")
            .version(http::Version::HTTP_2)
            .body(TestBody::Stall(polled))
            .unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(!res.headers().contains_key(header::CONNECTION));

        let req = Request::post("/hook").body(Bytes::new().into()).unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(!res.headers().contains_key(header::CONNECTION));
    }

    #[tokio::test]
    async fn content_length_over_the_limit_is_413_without_polling_the_body() {
        let polled = Arc::new(AtomicBool::new(false));
        let req = signed(b"x", "ok")
            .header(header::CONTENT_LENGTH, "100000")
            .body(TestBody::Stall(polled.clone()))
            .unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(res.body().as_ref(), br#"{"error":"body_too_large"}"#);
        assert!(!polled.load(Ordering::SeqCst));
        assert_eq!(res.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_body_in_several_frames_is_hashed_as_it_arrives() {
        // Signed over the whole body, sent in frames of 7 bytes (and an empty one).
        let body: &[u8] = br#"{"zen":"Keep it logically awesome.","n":12345}"#;
        let frames = |b: &[u8]| -> TestBody {
            let mut f: std::collections::VecDeque<Bytes> =
                b.chunks(7).map(Bytes::copy_from_slice).collect();
            f.insert(2, Bytes::new());
            TestBody::Chunks(f)
        };
        let calls = Arc::new(AtomicUsize::new(0));
        let res = service(calls.clone())
            .oneshot(signed(body, "ok").body(frames(body)).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.body().as_ref(),
            body,
            "the handler gets the joined bytes"
        );
        // One byte changed in a middle frame: refused, the handler does not run.
        let mut bad = body.to_vec();
        bad[20] ^= 1;
        let res = service(calls.clone())
            .oneshot(signed(body, "ok").body(frames(&bad)).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.body().as_ref(), br#"{"error":"signature_mismatch"}"#);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn streamed_body_over_the_limit_is_413() {
        let chunks = (0..10).map(|_| Bytes::from_static(&[b'a'; 10])).collect();
        let req = signed(b"x", "ok").body(TestBody::Chunks(chunks)).unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn stalled_body_is_408() {
        let req = signed(b"x", "ok")
            .body(TestBody::Stall(Arc::default()))
            .unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(res.body().as_ref(), br#"{"error":"body_timeout"}"#);
    }

    #[tokio::test]
    async fn tampered_body_is_401() {
        let req = signed(b"{}", "ok").body(Bytes::from("{ }").into()).unwrap();
        let res = service(Arc::default()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.body().as_ref(), br#"{"error":"signature_mismatch"}"#);
        assert!(!res.headers().contains_key(header::CONNECTION));
    }

    #[tokio::test]
    async fn commit_on_2xx_then_duplicate_skips_the_handler() {
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service(calls.clone());
        let first = svc.clone().oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let dup = svc.clone().oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(dup.status(), StatusCode::OK);
        assert_eq!(dup.headers()[DUPLICATE_HEADER], "true");
        let json: serde_json::Value = serde_json::from_slice(dup.body()).unwrap();
        assert_eq!(json["duplicate"], true);
        assert_eq!(json["provider"], "github");
        assert!(dup.extensions().get::<Delivery>().is_some());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn release_on_500_so_the_retry_runs() {
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service(calls.clone());
        let first = svc.clone().oneshot(req(b"{}", "fail")).await.unwrap();
        assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // Released before the response was returned: no waiting needed.
        let retry = svc.clone().oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(!retry.headers().contains_key(DUPLICATE_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn release_on_panic_so_the_retry_runs() {
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service(calls.clone());
        let task = tokio::spawn(svc.clone().oneshot(req(b"{}", "panic")));
        assert!(task.await.unwrap_err().is_panic());
        let retry = eventually_ok(&svc, b"{}").await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(!retry.headers().contains_key(DUPLICATE_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn in_flight_duplicate_is_409_and_release_on_drop() {
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service(calls.clone());
        let mut hanging = Box::pin(svc.clone().oneshot(req(b"{}", "hang")));
        // Drive it into the handler.
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut hanging)
                .await
                .is_err()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let busy = svc.clone().oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(busy.status(), StatusCode::CONFLICT);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        assert_eq!(busy.body().as_ref(), br#"{"error":"duplicate_in_flight"}"#);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        drop(hanging);
        let retry = eventually_ok(&svc, b"{}").await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(!retry.headers().contains_key(DUPLICATE_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connection_facts_reach_the_checks() {
        use hookwise::{Check, ClientCertPolicy, IpAllowList, PeerCertificates};
        use std::net::SocketAddr;

        #[derive(Clone, Copy)]
        struct Peer(SocketAddr);

        let verifier = Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .require(Check::ip(IpAllowList::new(["192.0.2.0/24"]).unwrap()))
            .require(Check::client_cert(
                // SHA-256 of the "certificate" b"x" (compared before parsing).
                ClientCertPolicy::new()
                    .fingerprint_sha256(
                        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
                    )
                    .unwrap(),
            ))
            .build()
            .unwrap();
        let ok = |_: Request<TestBody>| async {
            Ok::<_, Infallible>(Response::new(Bytes::from_static(b"ok")))
        };
        let plain = VerifyWebhook::new(verifier.clone());
        let custom = VerifyWebhook::new(verifier).peer_addr_from(|e| e.get::<Peer>().map(|p| p.0));
        let allowed: SocketAddr = "192.0.2.7:443".parse().unwrap();
        let other: SocketAddr = "203.0.113.1:443".parse().unwrap();
        let cert = PeerCertificates::new([b"x".to_vec()]);
        let wrong_cert = PeerCertificates::new([b"y".to_vec()]);

        let status = |layer: VerifyWebhook,
                      addr: Option<SocketAddr>,
                      wrapped: bool,
                      cert: Option<PeerCertificates>| async move {
            let mut req = req(b"{}", "ok");
            if let Some(a) = addr {
                if wrapped {
                    req.extensions_mut().insert(Peer(a));
                } else {
                    req.extensions_mut().insert(a);
                }
            }
            if let Some(c) = cert {
                req.extensions_mut().insert(c);
            }
            let svc = ServiceBuilder::new().layer(layer).service_fn(ok);
            let res = svc.oneshot(req).await.unwrap();
            (
                res.status().as_u16(),
                res.extensions().get::<Rejection>().map(Rejection::code),
            )
        };
        assert_eq!(
            status(plain.clone(), Some(allowed), false, Some(cert.clone())).await,
            (200, None)
        );
        assert_eq!(
            status(plain.clone(), Some(other), false, Some(cert.clone())).await,
            (403, Some("forbidden_address"))
        );
        assert_eq!(
            status(plain.clone(), None, false, Some(cert.clone())).await,
            (403, Some("forbidden_address")),
            "no address: fails closed"
        );
        assert_eq!(
            status(plain.clone(), Some(allowed), false, Some(wrong_cert)).await,
            (403, Some("forbidden_certificate"))
        );
        assert_eq!(
            status(plain.clone(), Some(allowed), false, None).await,
            (403, Some("forbidden_certificate"))
        );
        // With `peer_addr_from`, the address comes from the custom extension only.
        assert_eq!(
            status(custom.clone(), Some(allowed), true, Some(cert.clone())).await,
            (200, None)
        );
        assert_eq!(
            status(custom, Some(allowed), false, Some(cert)).await,
            (403, Some("forbidden_address"))
        );
    }

    #[tokio::test]
    async fn an_ip_check_nested_in_also_gets_the_address() {
        // The verifier's own checks read nothing of the connection; the token
        // check it runs with `Check::also` does: the layer must still hand it
        // the peer address (and refuse without one).
        use hookwise::{Check, IpAllowList};
        use std::net::SocketAddr;

        let nested = Verifier::builder(providers::gitlab())
            .secret("gl-token")
            .unwrap()
            .require(Check::ip(IpAllowList::new(["192.0.2.0/24"]).unwrap()))
            .without_replay_store()
            .build()
            .unwrap();
        let verifier = Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .require(Check::also(nested).unwrap())
            .without_replay_store()
            .build()
            .unwrap();
        let status = |addr: Option<SocketAddr>| {
            let verifier = verifier.clone();
            async move {
                let mut req = req(b"{}", "ok");
                req.headers_mut()
                    .insert("x-gitlab-token", HeaderValue::from_static("gl-token"));
                if let Some(a) = addr {
                    req.extensions_mut().insert(a);
                }
                let svc = ServiceBuilder::new()
                    .layer(VerifyWebhook::new(verifier))
                    .service_fn(|_: Request<TestBody>| async {
                        Ok::<_, Infallible>(Response::new(Bytes::from_static(b"ok")))
                    });
                let res = svc.oneshot(req).await.unwrap();
                (
                    res.status().as_u16(),
                    res.extensions().get::<Rejection>().map(Rejection::code),
                )
            }
        };
        assert_eq!(
            status(Some("192.0.2.7:443".parse().unwrap())).await,
            (200, None)
        );
        assert_eq!(
            status(Some("203.0.113.1:443".parse().unwrap())).await,
            (403, Some("forbidden_address"))
        );
        assert_eq!(status(None).await, (403, Some("forbidden_address")));
    }

    #[tokio::test]
    async fn custom_rejection_and_accessors() {
        let layer = VerifyWebhook::new(verifier()).on_rejection(|r: &Rejection| {
            Response::builder()
                .status(418)
                .body(Bytes::from(r.code()))
                .unwrap()
        });
        let mut svc = tower_layer::Layer::layer(
            &layer,
            tower::service_fn(|_: Request<TestBody>| async {
                Ok::<_, Infallible>(Response::new(Bytes::new()))
            }),
        );
        let _ = svc.get_ref();
        let _ = svc.get_mut();
        assert_eq!(svc.verifier().provider(), "github");
        let res = svc
            .ready()
            .await
            .unwrap()
            .call(Request::post("/").body(Bytes::new().into()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 418);
        assert_eq!(res.body().as_ref(), b"missing_signature");
        assert!(res.extensions().get::<Rejection>().is_some());
        let _inner = svc.into_inner();
    }

    /// A body that is not `Send` (an `Rc` inside), of one frame.
    struct LocalBody(Option<Bytes>, std::marker::PhantomData<std::rc::Rc<()>>);

    impl From<Bytes> for LocalBody {
        fn from(bytes: Bytes) -> Self {
            Self(Some(bytes), std::marker::PhantomData)
        }
    }

    impl Body for LocalBody {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.take().map(|b| Ok(http_body::Frame::data(b))))
        }
        fn is_end_stream(&self) -> bool {
            self.0.is_none()
        }
    }

    /// The response future boxes nothing that would need the body to be
    /// `Send`: a single-threaded service with a body that is not is verified
    /// as any other.
    #[tokio::test]
    async fn a_body_that_is_not_send_is_verified() {
        let svc = ServiceBuilder::new()
            .layer(VerifyWebhook::new(verifier()))
            .service_fn(|req: Request<LocalBody>| async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                Ok::<_, Infallible>(Response::new(body))
            });
        let body = Bytes::from_static(b"{\"zen\":1}");
        let ok = signed(&body, "ok")
            .body(LocalBody::from(body.clone()))
            .unwrap();
        let res = svc.clone().oneshot(ok).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.into_body(), body);

        let tampered = signed(&body, "ok")
            .body(LocalBody::from(Bytes::from_static(b"{\"zen\":2}")))
            .unwrap();
        let res = svc.oneshot(tampered).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let rejection = res.extensions().get::<Rejection>().unwrap();
        assert_eq!(rejection.code(), "signature_mismatch");
    }

    use hookwise::replay::{BoxFuture, MemoryStore, ReplayStore, Reserve, StoreError, Token};

    /// The in-memory store behind an asynchronous interface only, as Redis
    /// is: every call answers a scheduler round later. `down` makes it fail;
    /// `lose_next` lets one reservation be made but its answer never come
    /// (a lost reply, a timeout).
    #[derive(Debug)]
    struct Remote {
        inner: MemoryStore,
        down: AtomicBool,
        lose_next: AtomicBool,
    }

    impl Remote {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                inner: MemoryStore::new(100),
                down: AtomicBool::new(false),
                lose_next: AtomicBool::new(false),
            })
        }
    }

    impl ReplayStore for Remote {
        fn reserve<'a>(
            &'a self,
            key: &'a str,
            token: &'a Token,
            ttl: Duration,
        ) -> BoxFuture<'a, Result<Reserve, StoreError>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                if self.down.load(Ordering::SeqCst) {
                    return Err(StoreError("connection refused".into()));
                }
                let reserved = self.inner.reserve(key, token, ttl).await;
                if self.lose_next.swap(false, Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                reserved
            })
        }
        fn commit<'a>(
            &'a self,
            key: &'a str,
            token: &'a Token,
            retention: Duration,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                self.inner.commit(key, token, retention).await
            })
        }
        fn release<'a>(
            &'a self,
            key: &'a str,
            token: &'a Token,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                self.inner.release(key, token).await
            })
        }
    }

    fn remote_verifier(store: &Arc<Remote>, fail_open: bool) -> Verifier {
        Verifier::builder(providers::github())
            .secret(SECRET)
            .unwrap()
            .max_body(64)
            .replay_store_arc(store.clone())
            .fail_open(fail_open)
            .build()
            .unwrap()
    }

    /// With a store that only answers asynchronously, the replay check is
    /// awaited: a new delivery runs the handler, its repeat is a duplicate,
    /// and one arriving while the first is in the handler gets 409.
    #[tokio::test]
    async fn an_asynchronous_store_admits_refuses_and_answers_duplicates() {
        let store = Remote::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service_with(remote_verifier(&store, false), calls.clone());

        let first = svc.clone().oneshot(req(b"{\"n\":1}", "ok")).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        assert_eq!(first.body().as_ref(), b"{\"n\":1}");
        let again = svc.clone().oneshot(req(b"{\"n\":1}", "ok")).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(again.headers()[DUPLICATE_HEADER], "true");
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let mut hanging = Box::pin(svc.clone().oneshot(req(b"{\"n\":2}", "hang")));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut hanging)
                .await
                .is_err()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let busy = svc.clone().oneshot(req(b"{\"n\":2}", "ok")).await.unwrap();
        assert_eq!(busy.status(), StatusCode::CONFLICT);
        drop(hanging);
        let retry = eventually_ok(&svc, b"{\"n\":2}").await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(!retry.headers().contains_key(DUPLICATE_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    /// A store that fails answers 503 and runs no handler, unless fail-open
    /// was chosen.
    #[tokio::test]
    async fn an_asynchronous_store_that_fails_is_503_unless_fail_open() {
        let store = Remote::new();
        store.down.store(true, Ordering::SeqCst);
        let calls = Arc::new(AtomicUsize::new(0));
        let closed = service_with(remote_verifier(&store, false), calls.clone());
        let res = closed.oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.extensions().get::<Rejection>().unwrap().code(),
            "store_unavailable"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        let open = service_with(remote_verifier(&store, true), calls.clone());
        let res = open.oneshot(req(b"{}", "ok")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// The reservation was made but its answer never came, and the request
    /// was given up (dropped while admitting): the reservation is released,
    /// so the sender's retry runs the handler.
    #[tokio::test]
    async fn a_request_dropped_while_admitting_releases_its_reservation() {
        let store = Remote::new();
        store.lose_next.store(true, Ordering::SeqCst);
        let calls = Arc::new(AtomicUsize::new(0));
        let svc = service_with(remote_verifier(&store, false), calls.clone());
        let mut lost = Box::pin(svc.clone().oneshot(req(b"{}", "ok")));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut lost)
                .await
                .is_err()
        );
        assert!(
            !store.lose_next.load(Ordering::SeqCst),
            "the reservation was made"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(lost);
        let retry = eventually_ok(&svc, b"{}").await;
        assert_eq!(retry.status(), StatusCode::OK);
        assert!(!retry.headers().contains_key(DUPLICATE_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
