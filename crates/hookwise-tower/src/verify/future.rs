//! The response future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hookwise::replay::ReplayGuard;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::service::Verified;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pin_project! {
    /// The response future of [`VerifyWebhookService`](super::VerifyWebhookService):
    /// verifies, calls the inner service, then commits or releases the replay
    /// reservation.
    ///
    /// Dropping it at any point is safe: a held reservation is released in the
    /// background, so the sender's retry is processed.
    pub struct ResponseFuture<S, B, ResBody>
    where
        S: Service<Request<B>, Response = Response<ResBody>>,
    {
        #[pin]
        state: State<S, S::Future, B, ResBody, S::Error>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, F, B, ResBody, E> {
        // Headers, body, signature and replay checks (boxed: one allocation).
        Verifying {
            verify: BoxFuture<Verified<B, ResBody>>,
            service: Option<S>,
        },
        // The inner service runs; the guard is held until it answers.
        Calling {
            #[pin]
            fut: F,
            guard: Option<ReplayGuard>,
        },
        // Commit (2xx) or release (anything else), then answer.
        Settling {
            settle: BoxFuture<()>,
            result: Option<Result<Response<ResBody>, E>>,
        },
        Done,
    }
}

impl<S, B, ResBody> ResponseFuture<S, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    pub(crate) const fn new(verify: BoxFuture<Verified<B, ResBody>>, service: S) -> Self {
        Self {
            state: State::Verifying {
                verify,
                service: Some(service),
            },
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    /// # Panics
    /// When polled again after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Verifying { verify, service } => {
                    let verified = ready!(verify.as_mut().poll(cx));
                    match (verified, service.take()) {
                        (Ok((req, guard)), Some(mut service)) => {
                            let fut = service.call(req);
                            state.set(State::Calling {
                                fut,
                                guard: Some(guard),
                            });
                        }
                        (Err(response), _) => {
                            state.set(State::Done);
                            return Poll::Ready(Ok(response));
                        }
                        (Ok(_), None) => state.set(State::Done),
                    }
                }
                StateProj::Calling { fut, guard } => {
                    let result = ready!(fut.poll(cx));
                    // No store (or fail-open): nothing to settle, no allocation.
                    let Some(guard) = guard.take().filter(|g| !g.is_inert()) else {
                        state.set(State::Done);
                        return Poll::Ready(result);
                    };
                    let success = matches!(&result, Ok(r) if r.status().is_success());
                    // The in-memory store settles on the spot; an asynchronous
                    // one (Redis) is awaited before the answer goes out.
                    let mut guard = guard;
                    if let Some(outcome) = guard.settle_sync(success) {
                        log_settle(success, outcome);
                        state.set(State::Done);
                        return Poll::Ready(result);
                    }
                    let settle = settle(guard, success);
                    state.set(State::Settling {
                        settle,
                        result: Some(result),
                    });
                }
                StateProj::Settling { settle, result } => {
                    ready!(settle.as_mut().poll(cx));
                    let result = result.take();
                    state.set(State::Done);
                    if let Some(result) = result {
                        return Poll::Ready(result);
                    }
                }
                StateProj::Done => panic!("`ResponseFuture` polled after completion"),
            }
        }
    }
}

fn settle(guard: ReplayGuard, success: bool) -> BoxFuture<()> {
    Box::pin(async move {
        let outcome = if success {
            guard.commit().await
        } else {
            guard.release().await
        };
        log_settle(success, outcome);
    })
}

fn log_settle(success: bool, outcome: Result<(), hookwise::replay::StoreError>) {
    let Err(e) = outcome else { return };
    #[cfg(feature = "tracing")]
    if success {
        tracing::error!(
            target: "hookwise::replay",
            error = %e,
            "could not commit a processed delivery: a retry of it would run the handler again"
        );
    } else {
        tracing::warn!(
            target: "hookwise::replay",
            error = %e,
            "could not release a failed delivery: its retries get 409 until the reservation expires"
        );
    }
    let _ = (e, success);
}

impl<S, B, ResBody> fmt::Debug for ResponseFuture<S, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Verifying { .. } => "Verifying",
            State::Calling { .. } => "Calling",
            State::Settling { .. } => "Settling",
            State::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
