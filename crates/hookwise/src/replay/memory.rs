//! The bounded, concurrent in-memory store (one process).
//!
//! A sharded hash map under short mutexes: reserve and commit are one lock and
//! one lookup each. Each shard keeps its keys in insertion order, so when it is
//! full the oldest entry is evicted, and expired entries are dropped as the
//! shard is used (and by [`MemoryStore::len`]). Chosen over a general cache
//! after measurement: see BENCHMARKS.md.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{BoxFuture, ReplayStore, Reserve, StoreError, Token};

const SHARDS: usize = 32;

#[derive(Debug)]
enum State {
    Reserved(Token),
    Committed,
}

#[derive(Debug)]
struct Slot {
    state: State,
    expires: Instant,
    /// Matches the key's entry in the insertion queue.
    seq: u64,
}

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<Arc<str>, Slot>,
    order: VecDeque<(Arc<str>, u64)>,
    seq: u64,
}

impl Shard {
    /// Drops queue entries whose key expired, was replaced, or (when the shard
    /// is full) is the oldest, until there is room.
    fn make_room(&mut self, now: Instant, capacity: usize) {
        while let Some((key, seq)) = self.order.front() {
            let stale = match self.map.get(key) {
                Some(slot) if slot.seq == *seq => slot.expires <= now || self.map.len() >= capacity,
                _ => true,
            };
            if !stale {
                break;
            }
            if let Some((key, seq)) = self.order.pop_front() {
                if self.map.get(&key).is_some_and(|s| s.seq == seq) {
                    self.map.remove(&key);
                }
            }
        }
        // The queue holds one entry per insert; rebuild it if replaced keys pile up.
        if self.order.len() > 2 * capacity.max(16) {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|s| s.seq == *seq));
        }
    }

    fn insert(&mut self, key: &str, state: State, expires: Instant, now: Instant, capacity: usize) {
        self.make_room(now, capacity);
        self.seq += 1;
        let key: Arc<str> = Arc::from(key);
        self.order.push_back((Arc::clone(&key), self.seq));
        self.map.insert(
            key,
            Slot {
                state,
                expires,
                seq: self.seq,
            },
        );
    }

    fn live(&self, key: &str, now: Instant) -> Option<&Slot> {
        self.map.get(key).filter(|s| s.expires > now)
    }
}

/// A bounded in-memory replay store: at most `capacity` ids, each forgotten
/// after its TTL. Reservation is atomic per key.
///
/// When full, the oldest ids are evicted first: keep the capacity above
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
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shards: Vec<Mutex<Shard>>,
    /// Capacity of each shard; they add up to exactly the configured capacity.
    caps: Vec<usize>,
    hasher: RandomState,
}

impl MemoryStore {
    /// A store holding at most `capacity` ids (at least 1).
    pub fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).max(1);
        let n = SHARDS.min(capacity);
        let (base, rem) = (capacity / n, capacity % n);
        Self {
            inner: Arc::new(Inner {
                shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(),
                caps: (0..n).map(|i| base + usize::from(i < rem)).collect(),
                hasher: RandomState::new(),
            }),
        }
    }

    /// The key's shard, locked, and that shard's capacity.
    fn shard(&self, key: &str) -> (MutexGuard<'_, Shard>, usize) {
        let n = self.inner.shards.len() as u64;
        let i = usize::try_from(self.inner.hasher.hash_one(key) % n).unwrap_or(0);
        // A panic while holding the lock cannot leave a shard inconsistent
        // (every update is a single map operation), so a poisoned lock is used as is.
        let guard = self.inner.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (guard, self.inner.caps[i])
    }

    /// Ids currently held (expired ones are dropped first).
    pub async fn len(&self) -> u64 {
        let now = Instant::now();
        let mut n = 0u64;
        for shard in &self.inner.shards {
            let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
            s.map.retain(|_, slot| slot.expires > now);
            let map = &s.map;
            let keep: VecDeque<(Arc<str>, u64)> = s
                .order
                .iter()
                .filter(|(k, seq)| map.get(k).is_some_and(|x| x.seq == *seq))
                .cloned()
                .collect();
            s.order = keep;
            n += s.map.len() as u64;
        }
        n
    }

    /// Whether the store is empty.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    fn reserve_now(&self, key: &str, token: &Token, ttl: Duration) -> Reserve {
        let now = Instant::now();
        let (mut shard, cap) = self.shard(key);
        match shard.live(key, now).map(|s| &s.state) {
            Some(State::Reserved(_)) => Reserve::InFlight,
            Some(State::Committed) => Reserve::Committed,
            None => {
                shard.insert(key, State::Reserved(*token), now + ttl, now, cap);
                Reserve::Reserved
            }
        }
    }

    fn commit_now(&self, key: &str, token: &Token, retention: Duration) {
        let now = Instant::now();
        let (mut shard, cap) = self.shard(key);
        if let Some(slot) = shard.map.get_mut(key).filter(|s| s.expires > now) {
            // Only our own reservation becomes a commit; someone else's
            // reservation or an earlier commit is left alone.
            if matches!(&slot.state, State::Reserved(t) if t == token) {
                slot.state = State::Committed;
                slot.expires = now + retention;
            }
            return;
        }
        // Our reservation expired (a slow handler) and nobody took the key:
        // still remember the delivery.
        shard.insert(key, State::Committed, now + retention, now, cap);
    }

    fn release_now(&self, key: &str, token: &Token) {
        let now = Instant::now();
        let (mut shard, _) = self.shard(key);
        if matches!(shard.live(key, now).map(|s| &s.state), Some(State::Reserved(t)) if t == token)
        {
            shard.map.remove(key);
        }
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
        let r = self.reserve_now(key, token, ttl);
        Box::pin(std::future::ready(Ok(r)))
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        retention: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.commit_now(key, token, retention);
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.release_now(key, token);
        Box::pin(std::future::ready(Ok(())))
    }

    fn reserve_sync(
        &self,
        key: &str,
        token: &Token,
        ttl: Duration,
    ) -> Option<Result<Reserve, StoreError>> {
        Some(Ok(self.reserve_now(key, token, ttl)))
    }

    fn commit_sync(
        &self,
        key: &str,
        token: &Token,
        retention: Duration,
    ) -> Option<Result<(), StoreError>> {
        self.commit_now(key, token, retention);
        Some(Ok(()))
    }

    fn release_sync(&self, key: &str, token: &Token) -> Option<Result<(), StoreError>> {
        self.release_now(key, token);
        Some(Ok(()))
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
        // A commit without a reservation (it expired) still records the delivery.
        s.commit("other", &a, MIN).await.unwrap();
        assert_eq!(
            s.reserve("other", &b, MIN).await.unwrap(),
            Reserve::Committed
        );
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
        s.reserve("long", &t, MIN).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(
            s.len().await,
            1,
            "the expired id is dropped, the other kept"
        );
        assert_eq!(
            s.reserve("k", &Token::new(), MIN).await.unwrap(),
            Reserve::Reserved
        );
    }

    #[tokio::test]
    async fn capacity_bounds_the_store_and_evicts_the_oldest() {
        let s = MemoryStore::new(1000);
        for i in 0..20_000 {
            s.reserve(&format!("k{i}"), &Token::new(), MIN)
                .await
                .unwrap();
        }
        let n = s.len().await;
        assert!((900..=1000).contains(&n), "{n}");
        let tiny = MemoryStore::new(3);
        for i in 0..50 {
            tiny.reserve(&format!("t{i}"), &Token::new(), MIN)
                .await
                .unwrap();
        }
        assert!(tiny.len().await <= 3);
        // The newest ids are still known, the oldest were evicted.
        assert_eq!(
            s.reserve("k19999", &Token::new(), MIN).await.unwrap(),
            Reserve::InFlight
        );
        assert_eq!(
            s.reserve("k0", &Token::new(), MIN).await.unwrap(),
            Reserve::Reserved
        );
    }
}
