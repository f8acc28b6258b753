//! The response future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hookwise::replay::{Admission, ReplayGuard};
use hookwise::{Delivery, Rejection, Verifier};
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::layer::Shared;
use super::rejection::OnRejection;
use super::service::{Reading, duplicate, reject, take_request};
use crate::BoxError;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

pin_project! {
    /// The response future of [`VerifyWebhookService`](super::VerifyWebhookService):
    /// verifies, calls the inner service, then commits or releases the replay
    /// reservation.
    ///
    /// A state machine polled in place, with the body pinned in it: no
    /// future of its own is boxed for the verification (an asynchronous
    /// replay store, Redis, boxes its calls). What still allocates: the
    /// buffer of a body whose first data frame does not end it, the timer
    /// once armed (the body missing twice), and the replay guard's state.
    /// `Unpin` when the body and the inner service's future are.
    ///
    /// Dropping it at any point is safe: a held reservation is released in the
    /// background, so the sender's retry is processed.
    pub struct ResponseFuture<S, R, B, ResBody>
    where
        S: Service<Request<B>, Response = Response<ResBody>>,
    {
        #[pin]
        state: State<S, S::Future, R, B, ResBody, S::Error>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, F, R, B, ResBody, E> {
        // Headers, body and signature (steps 0-3), the body pinned here.
        Reading {
            #[pin]
            body: B,
            reading: Reading<S, R>,
        },
        // The replay check with an asynchronous store (step 4).
        Admitting {
            admit: BoxFuture<(Result<Admission, Rejection>, Delivery)>,
            admitted: Option<Admitted<S, R, B>>,
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

/// What the request goes on with once the store admits it.
struct Admitted<S, R, B> {
    shared: Arc<Shared<R>>,
    req: Request<B>,
    service: S,
}

impl<S, R, B, ResBody> ResponseFuture<S, R, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    pub(crate) fn new(
        shared: Arc<Shared<R>>,
        parts: http::request::Parts,
        service: S,
        body: B,
        unread: bool,
    ) -> Self {
        Self {
            state: State::Reading {
                body,
                reading: Reading::new(shared, parts, service, unread),
            },
        }
    }
}

impl<S, R, B, ResBody> Future for ResponseFuture<S, R, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    R: OnRejection<ResBody>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    /// # Panics
    /// When polled again after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            // Step 4's answer (from either replay path), taken after the match.
            let next = match state.as_mut().project() {
                StateProj::Reading { body, reading } => {
                    let verified = ready!(reading.poll_verify(body, cx));
                    let (bytes, delivery) = match verified {
                        Ok(verified) => verified,
                        Err(res) => {
                            state.set(State::Done);
                            return Poll::Ready(Ok(res));
                        }
                    };
                    let Some(mut service) = reading.service.take() else {
                        state.set(State::Done);
                        continue;
                    };
                    // 4. Replay: at once without a store or with the
                    //    in-memory one; else through the store's calls.
                    let Some(admission) = reading.shared.verifier.admit_now(&delivery) else {
                        let req = take_request(&mut reading.parts, bytes, delivery.clone());
                        let admit = admit(reading.shared.verifier.clone(), delivery);
                        let admitted = Admitted {
                            shared: Arc::clone(&reading.shared),
                            req,
                            service,
                        };
                        state.set(State::Admitting {
                            admit,
                            admitted: Some(admitted),
                        });
                        continue;
                    };
                    proceed(
                        admission,
                        &mut service,
                        delivery,
                        |delivery| take_request(&mut reading.parts, bytes, delivery),
                        |rejection| reject(&reading.shared, rejection),
                    )
                }
                StateProj::Admitting { admit, admitted } => {
                    let (admission, delivery) = ready!(admit.as_mut().poll(cx));
                    let Some(Admitted {
                        shared,
                        req,
                        mut service,
                    }) = admitted.take()
                    else {
                        state.set(State::Done);
                        continue;
                    };
                    proceed(
                        admission,
                        &mut service,
                        delivery,
                        |_| req, // built before the store was asked
                        |rejection| reject(&shared, rejection),
                    )
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
                    continue;
                }
                StateProj::Settling { settle, result } => {
                    ready!(settle.as_mut().poll(cx));
                    let result = result.take();
                    state.set(State::Done);
                    if let Some(result) = result {
                        return Poll::Ready(result);
                    }
                    continue;
                }
                StateProj::Done => panic!("`ResponseFuture` polled after completion"),
            };
            match next {
                Ok((fut, guard)) => state.set(State::Calling {
                    fut,
                    guard: Some(guard),
                }),
                Err(res) => {
                    state.set(State::Done);
                    return Poll::Ready(Ok(res));
                }
            }
        }
    }
}

/// Step 4's answer: the inner service called with the request (`request`
/// builds it from the delivery), or the response to give instead.
fn proceed<S, B, ResBody>(
    admission: Result<Admission, Rejection>,
    service: &mut S,
    delivery: Delivery,
    request: impl FnOnce(Delivery) -> Request<B>,
    reject: impl FnOnce(Rejection) -> Response<ResBody>,
) -> Result<(S::Future, ReplayGuard), Response<ResBody>>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: From<Bytes>,
{
    match admission {
        Ok(Admission::Proceed(guard)) => Ok((service.call(request(delivery)), guard)),
        Ok(Admission::Duplicate) => Err(duplicate(delivery)),
        Err(rejection) => Err(reject(rejection)),
    }
}

/// The replay check through an asynchronous store; the delivery comes back
/// with its answer.
fn admit(
    verifier: Verifier,
    delivery: Delivery,
) -> BoxFuture<(Result<Admission, Rejection>, Delivery)> {
    Box::pin(async move {
        let admission = verifier.admit(&delivery).await;
        (admission, delivery)
    })
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

impl<S, R, B, ResBody> fmt::Debug for ResponseFuture<S, R, B, ResBody>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Reading { .. } => "Reading",
            State::Admitting { .. } => "Admitting",
            State::Calling { .. } => "Calling",
            State::Settling { .. } => "Settling",
            State::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
