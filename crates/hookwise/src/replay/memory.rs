//! The bounded, concurrent in-memory store (one process).

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use moka::ops::compute::Op;

use super::{BoxFuture, ReplayStore, Reserve, StoreError, Token};

#[derive(Clone, Debug)]
enum Entry {
    Reserved { token: Arc<str>, ttl: Duration },
    Committed { ttl: Duration },
}

impl Entry {
    const fn ttl(&self) -> Duration {
        match self {
            Self::Reserved { ttl, .. } | Self::Committed { ttl } => *ttl,
        }
    }
}

struct PerEntry;

impl Expiry<String, Entry> for PerEntry {
    fn expire_after_create(&self, _: &String, v: &Entry, _: Instant) -> Option<Duration> {
        Some(v.ttl())
    }
    fn expire_after_update(
        &self,
        _: &String,
        v: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.ttl())
    }
}

/// A bounded in-memory replay store (moka): at most `capacity` ids, each
/// forgotten after its TTL. Reservation is atomic per key.
///
/// When full, the least useful ids are evicted: keep the capacity above
/// (deliveries per second × retention) for the senders you receive. Shared by
/// clones; not shared between processes (use `hookwise-redis` for that).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hookwise::replay::{MemoryStore, ReplayStore, Reserve, Token};
/// let store = MemoryStore::new(10_000);
/// let t = Token::new();
/// assert_eq!(store.reserve("github:sig:ab", &t, Duration::from_secs(60)).await.unwrap(), Reserve::Reserved);
/// assert_eq!(store.reserve("github:sig:ab", &Token::new(), Duration::from_secs(60)).await.unwrap(), Reserve::InFlight);
/// store.commit("github:sig:ab", &t, Duration::from_secs(3600)).await.unwrap();
/// assert_eq!(store.reserve("github:sig:ab", &Token::new(), Duration::from_secs(60)).await.unwrap(), Reserve::Committed);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MemoryStore {
    cache: Cache<String, Entry>,
}

impl MemoryStore {
    /// A store holding at most `capacity` ids.
    pub fn new(capacity: u64) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(capacity)
                .expire_after(PerEntry)
                .build(),
        }
    }

    /// Ids currently held (approximate: pending evictions may be counted).
    pub async fn len(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }

    /// Whether the store is empty.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl ReplayStore for MemoryStore {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Reserve, StoreError>> {
        Box::pin(async move {
            let mut found = Reserve::Reserved;
            let f = &mut found;
            self.cache
                .entry_by_ref(key)
                .and_compute_with(|e| {
                    let op = match e.as_ref().map(moka::Entry::value) {
                        None => Op::Put(Entry::Reserved {
                            token: Arc::from(token.as_str()),
                            ttl,
                        }),
                        Some(Entry::Reserved { .. }) => {
                            *f = Reserve::InFlight;
                            Op::Nop
                        }
                        Some(Entry::Committed { .. }) => {
                            *f = Reserve::Committed;
                            Op::Nop
                        }
                    };
                    std::future::ready(op)
                })
                .await;
            Ok(found)
        })
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        retention: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.cache
                .entry_by_ref(key)
                .and_compute_with(|e| {
                    let op = match e.as_ref().map(moka::Entry::value) {
                        None => Op::Put(Entry::Committed { ttl: retention }),
                        Some(Entry::Reserved { token: t, .. }) if &**t == token.as_str() => {
                            Op::Put(Entry::Committed { ttl: retention })
                        }
                        Some(_) => Op::Nop,
                    };
                    std::future::ready(op)
                })
                .await;
            Ok(())
        })
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.cache
                .entry_by_ref(key)
                .and_compute_with(|e| {
                    let op = match e.as_ref().map(moka::Entry::value) {
                        Some(Entry::Reserved { token: t, .. }) if &**t == token.as_str() => {
                            Op::Remove
                        }
                        _ => Op::Nop,
                    };
                    std::future::ready(op)
                })
                .await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn reserve_commit_release_contract() {
        let s = MemoryStore::new(100);
        let (a, b) = (Token::new(), Token::new());
        assert_ne!(a, b);
        assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Reserved);
        assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
        // Another token cannot release or commit a reservation it does not hold.
        s.release("k", &b).await.unwrap();
        assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
        s.commit("k", &b, MIN).await.unwrap();
        assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::InFlight);
        // The holder releases: the retry gets through.
        s.release("k", &a).await.unwrap();
        assert_eq!(s.reserve("k", &b, MIN).await.unwrap(), Reserve::Reserved);
        s.commit("k", &b, MIN).await.unwrap();
        assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Committed);
        // A committed entry cannot be released.
        s.release("k", &b).await.unwrap();
        assert_eq!(s.reserve("k", &a, MIN).await.unwrap(), Reserve::Committed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reserve_has_exactly_one_winner() {
        let s = MemoryStore::new(10_000);
        for round in 0..200 {
            let key = format!("race-{round}");
            let barrier = Arc::new(tokio::sync::Barrier::new(16));
            let mut tasks = Vec::new();
            for _ in 0..16 {
                let (s, key, barrier) = (s.clone(), key.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    s.reserve(&key, &Token::new(), MIN).await.unwrap()
                }));
            }
            let mut winners = 0;
            for t in tasks {
                if t.await.unwrap() == Reserve::Reserved {
                    winners += 1;
                }
            }
            assert_eq!(winners, 1, "round {round}");
        }
    }

    #[tokio::test]
    async fn entries_expire_after_their_ttl() {
        let s = MemoryStore::new(100);
        let t = Token::new();
        assert_eq!(
            s.reserve("k", &t, Duration::from_millis(50)).await.unwrap(),
            Reserve::Reserved
        );
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            s.reserve("k", &Token::new(), MIN).await.unwrap(),
            Reserve::Reserved
        );
    }

    #[tokio::test]
    async fn capacity_bounds_the_store() {
        let s = MemoryStore::new(1000);
        for i in 0..20_000 {
            s.reserve(&format!("k{i}"), &Token::new(), MIN)
                .await
                .unwrap();
        }
        assert!(s.len().await <= 1000, "{}", s.len().await);
    }
}
