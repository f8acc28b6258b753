//! Replay protection: a seen-id store with reserve / commit / release.
//!
//! | arriving delivery | store state for its key | outcome |
//! |---|---|---|
//! | first time | none | reserved; handler runs |
//! | handler answered 2xx | reserved | committed for the retention period |
//! | handler failed (non-2xx, error, panic, dropped) | reserved | released: the sender's retry is processed |
//! | duplicate | committed | 200 + `hookwise-duplicate: true`; handler not run |
//! | duplicate | reserved | 409 with `Retry-After`; handler not run |
//! | store unreachable | — | 503 (fail closed), unless fail-open is configured |
//!
//! Keys come only from signed material ([`crate::Delivery::replay_key`]).

#[cfg(feature = "memory-store")]
mod memory;

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[cfg(feature = "memory-store")]
pub use self::memory::MemoryStore;

/// A boxed future, as returned by [`ReplayStore`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What [`ReplayStore::reserve`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserve {
    /// The key was free and is now reserved with the caller's token.
    Reserved,
    /// Another request holds a reservation (still being processed).
    InFlight,
    /// The delivery was processed successfully before.
    Committed,
}

/// The store could not answer (unreachable, timed out, …).
#[derive(Debug, thiserror::Error)]
#[error("replay store unavailable: {0}")]
pub struct StoreError(pub String);

/// A unique token identifying one reservation, so that one instance never
/// releases another's reservation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Token(String);

impl Token {
    /// A new token: 128 bits from a per-process random seed and a counter.
    pub fn new() -> Self {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = *SEED.get_or_init(|| {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        Self(format!("{seed:016x}{:016x}{n:x}", h.finish()))
    }
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Token {
    fn default() -> Self {
        Self::new()
    }
}

/// A seen-id store shared by the requests of one or more receiver instances.
///
/// Implementations must make `reserve` atomic: of N concurrent reservations of
/// one key, exactly one gets [`Reserve::Reserved`].
pub trait ReplayStore: Send + Sync + fmt::Debug + 'static {
    /// Reserves `key` with `token` for `ttl` if it is free.
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Reserve, StoreError>>;
    /// Marks `key` as processed for `retention` (only if `token` still holds it, or it is free).
    fn commit<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        retention: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Frees `key` if `token` still holds the reservation; anything else is left alone.
    fn release<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// The outcome of admitting a verified delivery ([`crate::Verifier::admit`]).
#[derive(Debug)]
#[must_use]
pub enum Admission {
    /// Run the handler; then [`ReplayGuard::commit`] on success or
    /// [`ReplayGuard::release`] on failure (dropping the guard releases too).
    Proceed(ReplayGuard),
    /// Already processed: answer 200 with `hookwise-duplicate: true`, skip the handler.
    Duplicate,
}

/// A held reservation. Dropped without [`commit`](Self::commit) or
/// [`release`](Self::release), it is released in the background (on the current
/// Tokio runtime), so a panicking or cancelled handler does not block the retry.
pub struct ReplayGuard {
    inner: Option<GuardInner>,
}

struct GuardInner {
    store: Arc<dyn ReplayStore>,
    key: String,
    token: Token,
    retention: Duration,
    fail_open: bool,
}

impl fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("key", &self.inner.as_ref().map(|i| &i.key))
            .finish()
    }
}

impl ReplayGuard {
    /// A guard that protects nothing (no store configured, or fail-open).
    pub const fn inert() -> Self {
        Self { inner: None }
    }

    pub(crate) fn new(
        store: Arc<dyn ReplayStore>,
        key: String,
        token: Token,
        retention: Duration,
        fail_open: bool,
    ) -> Self {
        Self {
            inner: Some(GuardInner {
                store,
                key,
                token,
                retention,
                fail_open,
            }),
        }
    }

    /// The handler succeeded: remember the delivery for the retention period.
    ///
    /// # Errors
    /// The store could not be reached (the handler already ran; log it).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        match self.inner.take() {
            Some(i) => i
                .store
                .commit(&i.key, &i.token, i.retention)
                .await
                .or_else(|e| if i.fail_open { Ok(()) } else { Err(e) }),
            None => Ok(()),
        }
    }

    /// The handler failed: free the key so the sender's retry is processed.
    ///
    /// # Errors
    /// The store could not be reached; the reservation then expires by its TTL.
    pub async fn release(mut self) -> Result<(), StoreError> {
        match self.inner.take() {
            Some(i) => i.store.release(&i.key, &i.token).await,
            None => Ok(()),
        }
    }
}

impl Drop for ReplayGuard {
    fn drop(&mut self) {
        if let Some(i) = self.inner.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = i.store.release(&i.key, &i.token).await;
                });
            }
        }
    }
}
