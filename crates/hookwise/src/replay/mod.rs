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
/// releases another's reservation: 64 random bits per process and a 64-bit
/// counter, as 32 hex digits, kept inline (no allocation per request).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token([u8; 32]);

impl Token {
    /// A new token: the per-process random seed, then a counter.
    pub fn new() -> Self {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = *SEED.get_or_init(|| {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 32];
        for (i, b) in buf.iter_mut().enumerate() {
            let (word, at) = if i < 16 { (seed, i) } else { (n, i - 16) };
            *b = DIGITS[usize::try_from((word >> (60 - 4 * at)) & 0xf).unwrap_or(0)];
        }
        Self(buf)
    }
    /// The token text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Token").field(&self.as_str()).finish()
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

    /// [`reserve`](Self::reserve) without a future, for a store that answers
    /// without I/O (the in-memory store): it spares a boxed future per
    /// request. `None`, the default, means "use `reserve`".
    fn reserve_sync(
        &self,
        key: &str,
        token: &Token,
        ttl: Duration,
    ) -> Option<Result<Reserve, StoreError>> {
        let _ = (key, token, ttl);
        None
    }
    /// [`commit`](Self::commit) without a future; see [`reserve_sync`](Self::reserve_sync).
    fn commit_sync(
        &self,
        key: &str,
        token: &Token,
        retention: Duration,
    ) -> Option<Result<(), StoreError>> {
        let _ = (key, token, retention);
        None
    }
    /// [`release`](Self::release) without a future; see [`reserve_sync`](Self::reserve_sync).
    fn release_sync(&self, key: &str, token: &Token) -> Option<Result<(), StoreError>> {
        let _ = (key, token);
        None
    }
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
    /// Boxed: the guard travels with the request through the adapters'
    /// futures at one word (the inert guard of a verifier without a store
    /// allocates nothing; a held one costs one small allocation).
    inner: Option<Box<GuardInner>>,
}

struct GuardInner {
    store: Arc<dyn ReplayStore>,
    /// The guard's copy of the replay key (inline for every preset's key).
    key: crate::scheme::inline::SmallStr,
    token: Token,
    retention: Duration,
    fail_open: bool,
}

impl fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("key", &self.inner.as_ref().map(|i| i.key.as_str()))
            .finish()
    }
}

impl ReplayGuard {
    /// A guard that protects nothing (no store configured, or fail-open).
    pub const fn inert() -> Self {
        Self { inner: None }
    }

    /// Whether this guard holds no reservation (no store, fail-open, or
    /// already settled): committing or releasing it does nothing.
    pub const fn is_inert(&self) -> bool {
        self.inner.is_none()
    }

    pub(crate) fn new(
        store: Arc<dyn ReplayStore>,
        key: &str,
        token: Token,
        retention: Duration,
        fail_open: bool,
    ) -> Self {
        Self {
            inner: Some(Box::new(GuardInner {
                store,
                key: crate::scheme::inline::SmallStr::new(key),
                token,
                retention,
                fail_open,
            })),
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
                .commit(i.key.as_str(), &i.token, i.retention)
                .await
                .or_else(|e| if i.fail_open { Ok(()) } else { Err(e) }),
            None => Ok(()),
        }
    }

    /// Commits (`success`) or releases right away when the store answers
    /// without I/O ([`ReplayStore::commit_sync`]): the guard is then inert.
    /// `None` when the store is asynchronous: the guard still holds the
    /// reservation, to [`commit`](Self::commit) or [`release`](Self::release).
    pub fn settle_sync(&mut self, success: bool) -> Option<Result<(), StoreError>> {
        let Some(i) = &self.inner else {
            return Some(Ok(()));
        };
        let outcome = if success {
            i.store
                .commit_sync(i.key.as_str(), &i.token, i.retention)
                .map(|r| r.or_else(|e| if i.fail_open { Ok(()) } else { Err(e) }))
        } else {
            i.store.release_sync(i.key.as_str(), &i.token)
        }?;
        self.inner = None;
        Some(outcome)
    }

    /// Forgets the reservation without releasing it (it is not ours: the
    /// store answered that the key is taken).
    pub(crate) fn disarm(&mut self) {
        self.inner = None;
    }

    /// The handler failed: free the key so the sender's retry is processed.
    ///
    /// # Errors
    /// The store could not be reached; the reservation then expires by its TTL.
    pub async fn release(mut self) -> Result<(), StoreError> {
        match self.inner.take() {
            Some(i) => i.store.release(i.key.as_str(), &i.token).await,
            None => Ok(()),
        }
    }
}

impl Drop for ReplayGuard {
    /// Releases a reservation still held (the handler panicked, or its future
    /// was dropped): on the spot when the store answers without I/O (the
    /// in-memory store, even with no runtime left), else in a task on the
    /// current runtime. With neither, the reservation expires by its TTL.
    fn drop(&mut self) {
        if let Some(i) = self.inner.take() {
            if i.store.release_sync(i.key.as_str(), &i.token).is_some() {
                return;
            }
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = i.store.release(i.key.as_str(), &i.token).await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_is_one_word() {
        // It moves with the request through every adapter future.
        assert_eq!(size_of::<ReplayGuard>(), size_of::<usize>());
    }

    #[test]
    fn tokens_are_unique_hex_with_one_process_seed() {
        let (a, b) = (Token::new(), Token::new());
        assert_ne!(a, b);
        for t in [a, b] {
            assert_eq!(t.as_str().len(), 32);
            assert!(t.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        }
        assert_eq!(a.as_str()[..16], b.as_str()[..16]);
        assert_ne!(a.as_str()[16..], b.as_str()[16..]);
    }

    #[cfg(feature = "memory-store")]
    #[test]
    fn a_dropped_guard_frees_a_memory_reservation_without_a_runtime() {
        let store: Arc<dyn ReplayStore> = Arc::new(MemoryStore::new(10));
        let ttl = Duration::from_secs(300);
        let t = Token::new();
        assert_eq!(
            store.reserve_sync("k", &t, ttl).unwrap().unwrap(),
            Reserve::Reserved
        );
        // No tokio runtime here: the release cannot be spawned, so it must
        // happen in `drop`, or the retry would get 409 for the whole TTL.
        drop(ReplayGuard::new(store.clone(), "k", t, ttl, false));
        assert_eq!(
            store
                .reserve_sync("k", &Token::new(), ttl)
                .unwrap()
                .unwrap(),
            Reserve::Reserved
        );
    }

    #[cfg(feature = "memory-store")]
    #[tokio::test]
    async fn settle_sync_answers_for_the_memory_store_and_gives_async_stores_back() {
        let store: Arc<dyn ReplayStore> = Arc::new(MemoryStore::new(10));
        let t = Token::new();
        assert_eq!(
            store
                .reserve_sync("a", &t, Duration::from_secs(60))
                .unwrap()
                .unwrap(),
            Reserve::Reserved
        );
        let mut g = ReplayGuard::new(store.clone(), "a", t, Duration::from_secs(60), false);
        assert!(!g.is_inert());
        assert!(g.settle_sync(true).is_some_and(|r| r.is_ok()));
        assert!(g.is_inert());
        assert_eq!(
            store
                .reserve("a", &Token::new(), Duration::from_secs(60))
                .await
                .unwrap(),
            Reserve::Committed
        );
        // A store without a synchronous path hands the guard back.
        #[derive(Debug)]
        struct AsyncOnly;
        impl ReplayStore for AsyncOnly {
            fn reserve<'a>(
                &'a self,
                _: &'a str,
                _: &'a Token,
                _: Duration,
            ) -> BoxFuture<'a, Result<Reserve, StoreError>> {
                Box::pin(std::future::ready(Ok(Reserve::Reserved)))
            }
            fn commit<'a>(
                &'a self,
                _: &'a str,
                _: &'a Token,
                _: Duration,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(std::future::ready(Ok(())))
            }
            fn release<'a>(
                &'a self,
                _: &'a str,
                _: &'a Token,
            ) -> BoxFuture<'a, Result<(), StoreError>> {
                Box::pin(std::future::ready(Ok(())))
            }
        }
        let mut g = ReplayGuard::new(
            Arc::new(AsyncOnly),
            "b",
            Token::new(),
            Duration::from_secs(1),
            false,
        );
        assert!(g.settle_sync(false).is_none(), "async store");
        assert!(!g.is_inert());
        g.release().await.unwrap();
        assert!(ReplayGuard::inert().is_inert());
    }
}
