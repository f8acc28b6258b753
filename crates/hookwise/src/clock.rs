//! Time: an injectable clock and the timestamp tolerance window.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where "now" comes from. Inject a [`FixedClock`] in tests.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Current time in whole seconds since the Unix epoch (negative before 1970).
    fn now_unix(&self) -> i64;
}

/// The system clock (wall-clock time, as senders sign it).
///
/// On Linux it reads the kernel's coarse realtime clock
/// (`CLOCK_REALTIME_COARSE`): the same clock as [`SystemTime::now`], updated
/// at every timer tick (1–10 ms) instead of interpolated to the nanosecond,
/// and read in ~5 ns instead of ~30. Timestamps are whole seconds, so a
/// tolerance window moves by at most one tick. Elsewhere it is
/// [`SystemTime::now`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::time::{ClockId, clock_gettime};
            clock_gettime(ClockId::RealtimeCoarse).tv_sec
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            precise_unix()
        }
    }
}

/// Whole seconds since the epoch from [`SystemTime::now`].
#[allow(clippy::disallowed_methods)]
#[cfg_attr(
    all(any(target_os = "linux", target_os = "android"), not(test)),
    allow(dead_code)
)]
fn precise_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A clock that says what it is told. Cloning shares the same time.
///
/// ```
/// use hookwise::{Clock, FixedClock};
/// let clock = FixedClock::new(1_700_000_000);
/// clock.advance(5);
/// assert_eq!(clock.now_unix(), 1_700_000_005);
/// ```
#[derive(Clone, Debug, Default)]
pub struct FixedClock(Arc<AtomicI64>);

impl FixedClock {
    /// A clock stopped at `unix` seconds.
    pub fn new(unix: i64) -> Self {
        Self(Arc::new(AtomicI64::new(unix)))
    }
    /// Sets the time.
    pub fn set(&self, unix: i64) {
        self.0.store(unix, Ordering::SeqCst);
    }
    /// Moves the time forward (or back, with a negative value).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far a signed timestamp may be from now.
///
/// Both sides are checked by default: a timestamp too far in the past is a
/// replay, and one too far in the future is a pre-signed request (or a broken
/// clock). Checking only the past, as some sender SDKs do, must be asked for
/// with [`Tolerance::past_only`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerance {
    past: Duration,
    future: Option<Duration>,
}

impl Tolerance {
    /// The same window on both sides (the default, 300 s for most senders).
    pub const fn symmetric(window: Duration) -> Self {
        Self {
            past: window,
            future: Some(window),
        }
    }
    /// Different windows for the past and the future.
    pub const fn asymmetric(past: Duration, future: Duration) -> Self {
        Self {
            past,
            future: Some(future),
        }
    }
    /// Only too-old timestamps are rejected. Loosens the default; use only when a
    /// sender's clock is known to run ahead.
    pub const fn past_only(past: Duration) -> Self {
        Self { past, future: None }
    }
    /// The window into the past.
    pub const fn past(&self) -> Duration {
        self.past
    }
    /// The window into the future (`None`: unchecked).
    pub const fn future(&self) -> Option<Duration> {
        self.future
    }
    /// Past plus future: how long a replay store must remember an id.
    pub fn span(&self) -> Duration {
        self.past.saturating_add(self.future.unwrap_or(self.past))
    }

    /// Checks `ts` against `now`; `Err(skew)` carries `now - ts` in seconds.
    pub(crate) fn check(&self, ts: i64, now: i64) -> Result<(), TimestampError> {
        let skew = i128::from(now) - i128::from(ts);
        if skew > i128::from(self.past.as_secs()) {
            return Err(TimestampError::TooOld(clamp(skew)));
        }
        if let Some(fut) = self.future {
            if -skew > i128::from(fut.as_secs()) {
                return Err(TimestampError::InFuture(clamp(skew)));
            }
        }
        Ok(())
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampError {
    TooOld(i64),
    InFuture(i64),
}

impl Default for Tolerance {
    fn default() -> Self {
        Self::symmetric(Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        // The coarse clock trails the precise one by at most a tick, so the
        // seconds agree or differ by one (across a second's boundary).
        let (before, now, after) = (precise_unix(), SystemClock.now_unix(), precise_unix());
        assert!(before - 1 <= now && now <= after, "{before} {now} {after}");
        assert!(now > 1_700_000_000, "{now}");
    }

    #[test]
    fn window_is_two_sided_by_default() {
        let t = Tolerance::default();
        assert_eq!(t.check(1000, 1300), Ok(()));
        assert_eq!(t.check(1000, 1301), Err(TimestampError::TooOld(301)));
        assert_eq!(t.check(1300, 1000), Ok(()));
        assert_eq!(t.check(1301, 1000), Err(TimestampError::InFuture(-301)));
        assert_eq!(t.span(), Duration::from_secs(600));
    }

    #[test]
    fn past_only_accepts_future() {
        let t = Tolerance::past_only(Duration::from_secs(5));
        assert_eq!(t.check(i64::MAX, 0), Ok(()));
        assert!(t.check(0, 6).is_err());
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let t = Tolerance::default();
        assert!(matches!(
            t.check(i64::MIN, i64::MAX),
            Err(TimestampError::TooOld(i64::MAX))
        ));
        assert!(matches!(
            t.check(i64::MAX, i64::MIN),
            Err(TimestampError::InFuture(i64::MIN))
        ));
    }
}
