//! Commit or release the replay reservation once the response is known.

use std::cell::RefCell;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready as ready_poll};

use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use hookwise::replay::ReplayGuard;
use pin_project_lite::pin_project;

/// Where an extractor leaves its reservation for [`WebhookReplay`], which holds
/// the other end. Present in the request's extensions only under the middleware.
#[derive(Clone, Debug, Default)]
pub(crate) struct GuardSlot(Rc<RefCell<Option<ReplayGuard>>>);

impl GuardSlot {
    pub(crate) fn put(&self, guard: ReplayGuard) {
        // A second reservation in one request replaces (and so releases) the first.
        let _previous = self.0.borrow_mut().replace(guard);
    }
    fn take(&self) -> Option<ReplayGuard> {
        self.0.borrow_mut().take()
    }
}

/// In-flight-only mode (`WebhookConfig::replay_in_flight_only`): the
/// reservation lives (and dies) with the request; dropping it releases the delivery.
#[derive(Debug)]
pub(crate) struct HeldGuard {
    pub(crate) _guard: ReplayGuard,
}

/// The middleware that completes replay protection: after the handler answered,
/// it **commits** the delivery's reservation on a `2xx` response (a later
/// duplicate then answers `200` with `hookwise-duplicate: true` without running
/// the handler) and **releases** it on anything else, so the sender's retry is
/// processed. A dropped request (client gone) or a panicking handler releases
/// too, through the reservation's `Drop`.
///
/// Wrap the app, scope or resource that holds the [`Webhook`](crate::Webhook)
/// handlers: `App::new().wrap(WebhookReplay::new())`. The commit happens before
/// the response is returned, so a retry sent after the `200` sees it.
///
/// Without it, when the verifier has a replay store, the extractors refuse the
/// request (`500` `{"error":"misconfigured"}`) unless the configuration accepts
/// in-flight protection only ([`WebhookConfig::replay_in_flight_only`](crate::WebhookConfig::replay_in_flight_only)).
/// See the [crate docs](crate).
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct WebhookReplay {
    _private: (),
}

impl WebhookReplay {
    /// The middleware.
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

impl<S, B> Transform<S, ServiceRequest> for WebhookReplay
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = WebhookReplayMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookReplayMiddleware { service }))
    }
}

/// The service made by [`WebhookReplay`].
#[derive(Debug)]
pub struct WebhookReplayMiddleware<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for WebhookReplayMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = WebhookReplayFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // The middleware keeps one end of the slot, so the reservation can be
        // settled even when the inner service answers with an error instead of
        // a response (the request is gone then).
        let slot = GuardSlot::default();
        req.extensions_mut().insert(slot.clone());
        WebhookReplayFuture {
            fut: self.service.call(req),
            slot,
            settling: None,
            res: None,
        }
    }
}

type Settling = Pin<Box<dyn Future<Output = ()>>>;

pin_project! {
    /// The response future of [`WebhookReplayMiddleware`]: the inner service's
    /// answer, once the reservation is committed (2xx) or released. With the
    /// in-memory store that happens on the spot; an asynchronous store (Redis)
    /// is awaited before the answer goes out.
    pub struct WebhookReplayFuture<F, B> {
        #[pin]
        fut: F,
        slot: GuardSlot,
        settling: Option<Settling>,
        res: Option<Result<ServiceResponse<B>, actix_web::Error>>,
    }
}

impl<F, B> Future for WebhookReplayFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = F::Output;

    /// # Panics
    /// When polled again after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(settling) = this.settling.as_mut() {
            ready_poll!(settling.as_mut().poll(cx));
            *this.settling = None;
            let res = this.res.take();
            return Poll::Ready(res.expect("`WebhookReplayFuture` polled after completion"));
        }
        let res = ready_poll!(this.fut.as_mut().poll(cx));
        let Some(mut guard) = this.slot.take() else {
            return Poll::Ready(res);
        };
        let success = res.as_ref().is_ok_and(|r| r.status().is_success());
        if let Some(outcome) = guard.settle_sync(success) {
            log_settle(success, outcome);
            return Poll::Ready(res);
        }
        let mut settling: Settling = Box::pin(settle(guard, success));
        if settling.as_mut().poll(cx).is_ready() {
            return Poll::Ready(res);
        }
        *this.settling = Some(settling);
        *this.res = Some(res);
        Poll::Pending
    }
}

impl<F, B> std::fmt::Debug for WebhookReplayFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReplayFuture")
            .field("settling", &self.settling.is_some())
            .finish_non_exhaustive()
    }
}

/// Commits on success, releases otherwise; store errors are logged.
/// The in-memory store settles on the spot, without a future.
pub(crate) async fn settle(mut guard: ReplayGuard, success: bool) {
    let outcome = match guard.settle_sync(success) {
        Some(outcome) => outcome,
        None if success => guard.commit().await,
        None => guard.release().await,
    };
    log_settle(success, outcome);
}

fn log_settle(success: bool, outcome: Result<(), hookwise::replay::StoreError>) {
    match outcome {
        Err(e) if success => {
            tracing::warn!(target: "hookwise::replay", error = %e, "could not commit a processed delivery; a retry may be processed again");
        }
        Err(e) => {
            tracing::warn!(target: "hookwise::replay", error = %e, "could not release a failed delivery; its retry waits for the reservation to expire");
        }
        Ok(()) => {}
    }
}
