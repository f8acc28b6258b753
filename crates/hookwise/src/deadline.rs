//! The deadline for receiving a request body, for framework adapters.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs `read` (a body being received) under a deadline, and arms the timer
/// only when the body is not there at once.
///
/// A framework calls the handler as soon as it has parsed a request's head,
/// and feeds the body a moment later, in the same pass over the connection's
/// buffer. So the first poll of a body read almost always finds nothing yet,
/// and the next finds the whole body. A timer armed at that first miss (what
/// [`tokio::time::timeout`] does) is registered with the runtime's timer and
/// cleared again on nearly every request (in a profile under load, the
/// timer's functions were gone with this type; the HTTP difference measured,
/// 0.07–0.14 µs per request, is within what this machine resolves between
/// two builds, see BENCHMARKS.md). Here the first miss yields instead (the
/// task wakes itself and is polled again), and only a second miss starts the
/// timer, which then runs for the whole `timeout`. A body that never comes is
/// therefore cut off `timeout` after its second poll, at most one scheduler
/// round after the first.
///
/// Resolves to `None` when the deadline passed first. `read` must be
/// [`Unpin`] (pin it with [`std::pin::pin!`]); the timer, when armed, is
/// boxed, so this future stays small in its caller's.
///
/// # Panics
/// When the timer is armed outside a Tokio runtime with its time driver (as
/// [`tokio::time::sleep`] does).
///
/// ```
/// use std::pin::pin;
/// use std::time::Duration;
/// use hookwise::BodyDeadline;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let read = pin!(async { 42 });
/// assert_eq!(BodyDeadline::new(Duration::from_secs(5), read).await, Some(42));
///
/// let never = pin!(std::future::pending::<()>());
/// assert_eq!(BodyDeadline::new(Duration::from_millis(10), never).await, None);
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BodyDeadline<F> {
    read: F,
    timer: BodyTimer,
}

impl<F: Future + Unpin> BodyDeadline<F> {
    /// `read` under a deadline of `timeout` (see the type's docs for when it starts).
    pub const fn new(timeout: Duration, read: F) -> Self {
        Self {
            read,
            timer: BodyTimer::new(timeout),
        }
    }
}

impl<F: Future + Unpin> Future for BodyDeadline<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let read = &mut this.read;
        this.timer.poll_read(cx, |cx| Pin::new(read).poll(cx))
    }
}

/// The timer of a [`BodyDeadline`], for an adapter that polls its body by
/// hand in a future of its own (no inner future to wrap): each poll of the
/// body goes through [`BodyTimer::poll_read`], which arms the timer as
/// [`BodyDeadline`] does, on the second miss.
///
/// ```
/// use std::future::poll_fn;
/// use std::task::Poll;
/// use std::time::Duration;
/// use hookwise::BodyTimer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut timer = BodyTimer::new(Duration::from_millis(10));
/// let mut polls = 0;
/// // A body that is there on the third poll (it wakes its task when it
/// // is not yet, as a real body does when data arrives): before the deadline.
/// let got = poll_fn(|cx| {
///     timer.poll_read(cx, |cx| {
///         polls += 1;
///         if polls == 3 {
///             return Poll::Ready("body");
///         }
///         cx.waker().wake_by_ref();
///         Poll::Pending
///     })
/// })
/// .await;
/// assert_eq!(got, Some("body"));
///
/// // One that never comes is cut off.
/// let mut timer = BodyTimer::new(Duration::from_millis(10));
/// assert_eq!(poll_fn(|cx| timer.poll_read(cx, |_| Poll::<()>::Pending)).await, None);
/// # }
/// ```
///
/// # Panics
/// When the timer is armed outside a Tokio runtime with its time driver.
pub struct BodyTimer {
    timeout: Duration,
    timer: Timer,
}

enum Timer {
    /// Not polled yet, or the body was there at the first poll.
    Unarmed,
    /// The first poll found nothing: the task woke itself instead of arming.
    Yielded,
    Armed(Pin<Box<tokio::time::Sleep>>),
}

impl BodyTimer {
    /// A deadline of `timeout`, not yet started.
    pub const fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            timer: Timer::Unarmed,
        }
    }

    /// Polls the read (`read`, given this poll's context) under the
    /// deadline: `Ready(Some(_))` with its output, `Ready(None)` when the
    /// deadline passed first, `Pending` otherwise (the task is woken by the
    /// read, by the timer, or, at the first miss, by itself).
    pub fn poll_read<T>(
        &mut self,
        cx: &mut Context<'_>,
        read: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<Option<T>> {
        let had_budget = tokio::task::coop::has_budget_remaining();
        if let Poll::Ready(out) = read(cx) {
            return Poll::Ready(Some(out));
        }
        // As `tokio::time::timeout` does: when the read used up the task's
        // cooperative budget, the timer is polled outside it, or a read that
        // always does would keep the deadline from ever being seen.
        let exhausted = had_budget && !tokio::task::coop::has_budget_remaining();
        let check = |sleep: Pin<&mut tokio::time::Sleep>, cx: &mut Context<'_>| {
            let fired = if exhausted {
                Pin::new(&mut tokio::task::coop::unconstrained(sleep)).poll(cx)
            } else {
                sleep.poll(cx)
            };
            fired.map(|()| None)
        };
        match &mut self.timer {
            Timer::Unarmed => {
                self.timer = Timer::Yielded;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Timer::Yielded => {
                let mut sleep = Box::pin(tokio::time::sleep(self.timeout));
                let out = check(sleep.as_mut(), cx);
                self.timer = Timer::Armed(sleep);
                out
            }
            Timer::Armed(sleep) => check(sleep.as_mut(), cx),
        }
    }
}

impl std::fmt::Debug for BodyTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let timer = match self.timer {
            Timer::Unarmed => "unarmed",
            Timer::Yielded => "yielded",
            Timer::Armed(_) => "armed",
        };
        f.debug_struct("BodyTimer")
            .field("timeout", &self.timeout)
            .field("timer", &timer)
            .finish()
    }
}

impl<F> std::fmt::Debug for BodyDeadline<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyDeadline")
            .field("timer", &self.timer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// Ready after `misses` polls that found nothing.
    struct After {
        misses: usize,
    }

    impl Future for After {
        type Output = &'static str;
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
            if self.misses == 0 {
                return Poll::Ready("body");
            }
            self.misses -= 1;
            Poll::Pending
        }
    }

    /// Counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Polled by hand, outside any runtime: arming the timer there panics,
    /// so these pass only if no timer is ever armed.
    #[test]
    fn a_body_there_at_once_or_after_one_miss_arms_no_timer() {
        let wakes = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);

        let mut now = BodyDeadline::new(Duration::from_secs(1), After { misses: 0 });
        assert_eq!(Pin::new(&mut now).poll(&mut cx), Poll::Ready(Some("body")));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);

        let mut next = BodyDeadline::new(Duration::from_secs(1), After { misses: 1 });
        assert!(Pin::new(&mut next).poll(&mut cx).is_pending());
        // The miss woke the task itself, so it is polled again.
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(matches!(next.timer.timer, Timer::Yielded));
        assert_eq!(Pin::new(&mut next).poll(&mut cx), Poll::Ready(Some("body")));
        assert!(matches!(next.timer.timer, Timer::Yielded));
    }

    #[tokio::test]
    async fn a_second_miss_arms_the_timer() {
        let mut slow = BodyDeadline::new(Duration::from_secs(5), After { misses: 2 });
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(Pin::new(&mut slow).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut slow).poll(&mut cx).is_pending());
        assert!(matches!(slow.timer.timer, Timer::Armed(_)));
        // Before the deadline the body still gets through.
        assert_eq!(Pin::new(&mut slow).poll(&mut cx), Poll::Ready(Some("body")));
    }

    #[tokio::test]
    async fn a_body_that_never_comes_is_cut_off() {
        let never = pin!(std::future::pending::<()>());
        let started = tokio::time::Instant::now();
        let out = BodyDeadline::new(Duration::from_millis(30), never).await;
        assert_eq!(out, None);
        // Not before the deadline (the timer runs for the whole timeout).
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    /// A read that uses up the task's cooperative budget on every poll (and
    /// wakes itself): the deadline must still be seen.
    struct Busy;

    impl Future for Busy {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            loop {
                let spend = pin!(tokio::task::coop::consume_budget());
                if spend.poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
    }

    #[tokio::test]
    async fn a_read_that_exhausts_the_budget_is_still_cut_off() {
        let busy = pin!(Busy);
        let out = tokio::time::timeout(
            Duration::from_secs(5),
            BodyDeadline::new(Duration::from_millis(30), busy),
        )
        .await;
        assert_eq!(out, Ok(None), "the deadline was never seen");
    }
}
