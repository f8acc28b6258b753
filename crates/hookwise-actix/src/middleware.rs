//! Commit or release the replay reservation once the response is known.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use hookwise::replay::ReplayGuard;

/// Marks a request as passing through [`WebhookReplay`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReplayActive;

/// The reservation taken by an extractor, waiting for the response.
#[derive(Debug)]
pub(crate) struct HeldGuard(pub(crate) ReplayGuard);

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
/// Without it the extractors still work, but a reservation is only held while
/// the request is in flight: duplicates are refused (`409`) while the first copy
/// runs, and processed again afterwards. See the [crate docs](crate).
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
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        req.extensions_mut().insert(ReplayActive);
        // Kept so that the reservation can be settled even when the inner
        // service answers with an error instead of a response.
        let http_req = req.request().clone();
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await;
            let guard = http_req.extensions_mut().remove::<HeldGuard>();
            drop(http_req);
            if let Some(HeldGuard(guard)) = guard {
                let success = res.as_ref().is_ok_and(|r| r.status().is_success());
                settle(guard, success).await;
            }
            res
        })
    }
}

/// Commits on success, releases otherwise; store errors are logged.
pub(crate) async fn settle(guard: ReplayGuard, success: bool) {
    if success {
        if let Err(e) = guard.commit().await {
            tracing::warn!(target: "hookwise::replay", error = %e, "could not commit a processed delivery; a retry may be processed again");
        }
    } else if let Err(e) = guard.release().await {
        tracing::warn!(target: "hookwise::replay", error = %e, "could not release a failed delivery; its retry waits for the reservation to expire");
    }
}
