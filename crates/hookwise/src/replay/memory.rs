//! The bounded, concurrent in-memory store (one process).
//!
//! A sharded hash map under short mutexes: reserve and commit are one lock and
//! one lookup each. Each shard keeps its keys in insertion order, so when it is
//! full the oldest entry is evicted, and expired entries are dropped as the
//! shard is used (and by [`MemoryStore::len`]). Chosen over a general cache
//! after measurement: see BENCHMARKS.md.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hashbrown::HashTable;

use super::{BoxFuture, ReplayStore, Reserve, StoreError, Token};
use crate::scheme::inline::SmallStr;

const SHARDS: usize = 32;

#[derive(Debug)]
enum State {
    Reserved(Token),
    Committed,
}

#[derive(Debug)]
struct Entry {
    /// Inline for every preset's key: an insert allocates nothing.
    key: SmallStr,
    state: State,
    expires: Instant,
    /// Unique within the shard; matches the key's entry in the insertion queue.
    seq: u64,
}

/// One shard: a hash table addressed by the key's hash, computed once per
/// operation (it also picks the shard), and the insertion order as
/// `(hash, seq)` pairs, so eviction needs no key and no second hashing.
#[derive(Debug, Default)]
struct Shard {
    table: HashTable<(u64, Entry)>,
    order: VecDeque<(u64, u64)>,
    seq: u64,
}

impl Shard {
    fn get(&self, hash: u64, key: &str) -> Option<&Entry> {
        self.table
            .find(hash, |(_, e)| e.key.as_bytes() == key.as_bytes())
            .map(|(_, e)| e)
    }

    fn get_mut(&mut self, hash: u64, key: &str) -> Option<&mut Entry> {
        self.table
            .find_mut(hash, |(_, e)| e.key.as_bytes() == key.as_bytes())
            .map(|(_, e)| e)
    }

    fn live(&self, hash: u64, key: &str, now: Instant) -> Option<&Entry> {
        self.get(hash, key).filter(|e| e.expires > now)
    }

    fn remove(&mut self, hash: u64, key: &str) {
        if let Ok(entry) = self
            .table
            .find_entry(hash, |(_, e)| e.key.as_bytes() == key.as_bytes())
        {
            entry.remove();
        }
    }

    /// Drops queue entries whose key expired, was replaced, or (when the shard
    /// is full) is the oldest, until there is room.
    fn make_room(&mut self, now: Instant, capacity: usize) {
        while let Some(&(hash, seq)) = self.order.front() {
            let full = self.table.len() >= capacity;
            match self.table.find_entry(hash, |(_, e)| e.seq == seq) {
                Ok(entry) if entry.get().1.expires <= now || full => {
                    entry.remove();
                }
                Ok(_) => break,
                Err(_) => {} // replaced or removed since: only the queue entry goes
            }
            self.order.pop_front();
        }
        // The queue holds one entry per insert; rebuild it if replaced keys pile up.
        if self.order.len() > 2 * capacity.max(16) {
            let table = &self.table;
            self.order
                .retain(|&(h, seq)| table.find(h, |(_, e)| e.seq == seq).is_some());
        }
    }

    fn insert(
        &mut self,
        hash: u64,
        key: &str,
        state: State,
        expires: Instant,
        now: Instant,
        capacity: usize,
    ) {
        self.make_room(now, capacity);
        self.seq += 1;
        let seq = self.seq;
        self.order.push_back((hash, seq));
        if let Some(e) = self.get_mut(hash, key) {
            // An expired entry of the same key: reused in place.
            e.state = state;
            e.expires = expires;
            e.seq = seq;
            return;
        }
        let entry = Entry {
            key: SmallStr::new(key),
            state,
            expires,
            seq,
        };
        self.table.insert_unique(hash, (hash, entry), |(h, _)| *h);
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
    /// Keyed per store (foldhash, seeded at random): one hash per operation.
    hasher: foldhash::fast::RandomState,
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
                hasher: foldhash::fast::RandomState::default(),
            }),
        }
    }

    /// The key's hash, its shard (locked) and that shard's capacity.
    fn shard(&self, key: &str) -> (u64, MutexGuard<'_, Shard>, usize) {
        let hash = self.inner.hasher.hash_one(key);
        // The table uses the low bits and the top 7; the shard takes others.
        let i = usize::try_from((hash >> 32) % self.inner.shards.len() as u64).unwrap_or(0);
        // A panic while holding the lock cannot leave a shard inconsistent
        // (every update is a single table operation), so a poisoned lock is used as is.
        let guard = self.inner.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (hash, guard, self.inner.caps[i])
    }

    /// Ids currently held (expired ones are dropped first).
    pub async fn len(&self) -> u64 {
        let now = Instant::now();
        let mut n = 0u64;
        for shard in &self.inner.shards {
            let mut s = shard.lock().unwrap_or_else(PoisonError::into_inner);
            s.table.retain(|(_, e)| e.expires > now);
            let Shard { table, order, .. } = &mut *s;
            order.retain(|&(h, seq)| table.find(h, |(_, e)| e.seq == seq).is_some());
            n += s.table.len() as u64;
        }
        n
    }

    /// Whether the store is empty.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    fn reserve_now(&self, key: &str, token: &Token, ttl: Duration) -> Reserve {
        let now = Instant::now();
        let (hash, mut shard, cap) = self.shard(key);
        match shard.live(hash, key, now).map(|e| &e.state) {
            Some(State::Reserved(_)) => Reserve::InFlight,
            Some(State::Committed) => Reserve::Committed,
            None => {
                shard.insert(hash, key, State::Reserved(*token), now + ttl, now, cap);
                Reserve::Reserved
            }
        }
    }

    fn commit_now(&self, key: &str, token: &Token, retention: Duration) {
        let now = Instant::now();
        let (hash, mut shard, cap) = self.shard(key);
        if let Some(e) = shard.get_mut(hash, key).filter(|e| e.expires > now) {
            // Only our own reservation becomes a commit; someone else's
            // reservation or an earlier commit is left alone.
            if matches!(&e.state, State::Reserved(t) if t == token) {
                e.state = State::Committed;
                e.expires = now + retention;
            }
            return;
        }
        // Our reservation expired (a slow handler) and nobody took the key:
        // still remember the delivery.
        shard.insert(hash, key, State::Committed, now + retention, now, cap);
    }

    fn release_now(&self, key: &str, token: &Token) {
        let now = Instant::now();
        let (hash, mut shard, _) = self.shard(key);
        if matches!(shard.live(hash, key, now).map(|e| &e.state), Some(State::Reserved(t)) if t == token)
        {
            shard.remove(hash, key);
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

    #[tokio::test]
    async fn long_and_short_keys_are_told_apart() {
        let s = MemoryStore::new(100);
        let long = format!("custom:{}", "x".repeat(100));
        let near = format!("{}y", &long[..long.len() - 1]);
        let short = "github:sig:0123456789abcdef0123456789abcdef";
        for k in [
            long.as_str(),
            near.as_str(),
            short,
            &short[..short.len() - 1],
        ] {
            let t = Token::new();
            assert_eq!(
                s.reserve(k, &t, MIN).await.unwrap(),
                Reserve::Reserved,
                "{k}"
            );
            assert_eq!(
                s.reserve(k, &Token::new(), MIN).await.unwrap(),
                Reserve::InFlight,
                "{k}"
            );
            s.commit(k, &t, MIN).await.unwrap();
            assert_eq!(
                s.reserve(k, &Token::new(), MIN).await.unwrap(),
                Reserve::Committed,
                "{k}"
            );
        }
        assert_eq!(s.len().await, 4);
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
