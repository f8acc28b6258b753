//! The bounded, concurrent in-memory store (one process).
//!
//! A sharded hash map under short mutexes: reserve and commit are one lock and
//! one lookup each. Each shard keeps its keys in insertion order, so expired
//! entries are dropped oldest first as the shard is used (and by
//! [`MemoryStore::len`]); a full shard is swept for expired ones, and a live
//! one is never evicted (the shard refuses new ids instead). Chosen over a general cache
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
/// `(hash, seq)` pairs, so dropping expired entries needs no key and no second
/// hashing.
#[derive(Debug, Default)]
struct Shard {
    table: HashTable<(u64, Entry)>,
    order: VecDeque<(u64, u64)>,
    seq: u64,
    /// When the shard was last found full of live ids: the earliest expiry
    /// among them, before which another sweep cannot free anything.
    full_until: Option<Instant>,
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

    /// Drops expired entries, oldest first, and `false` when the shard is
    /// still full of live ids. A live id is never evicted: a committed one
    /// would let its replay through, an in-flight one a concurrent duplicate.
    fn make_room(&mut self, now: Instant, capacity: usize) -> bool {
        while let Some(&(hash, seq)) = self.order.front() {
            match self.table.find_entry(hash, |(_, e)| e.seq == seq) {
                Ok(entry) if entry.get().1.expires <= now => {
                    entry.remove();
                }
                Ok(_) => break,
                Err(_) => {} // replaced or removed since: only the queue entry goes
            }
            self.order.pop_front();
        }
        // Ids of different lifetimes (senders with different retentions) do not
        // expire in insertion order: when the oldest is live, sweep the whole
        // shard, at most once per earliest expiry.
        if self.table.len() >= capacity && self.full_until.is_none_or(|t| t <= now) {
            self.table.retain(|(_, e)| e.expires > now);
            self.full_until = self.table.iter().map(|(_, e)| e.expires).min();
        }
        // The queue holds one entry per insert; rebuild it if replaced keys pile up.
        if self.order.len() > 2 * capacity.max(16) {
            let table = &self.table;
            self.order
                .retain(|&(h, seq)| table.find(h, |(_, e)| e.seq == seq).is_some());
        }
        self.table.len() < capacity
    }

    /// A live entry of `key`: our reservation becomes a commit until `expires`
    /// (someone else's reservation or an earlier commit is left alone).
    /// `false` when the key has no live entry.
    fn commit_live(
        &mut self,
        hash: u64,
        key: &str,
        token: &Token,
        expires: Instant,
        now: Instant,
    ) -> bool {
        let Some(e) = self.get_mut(hash, key).filter(|e| e.expires > now) else {
            return false;
        };
        if matches!(&e.state, State::Reserved(t) if t == token) {
            e.state = State::Committed;
            e.expires = expires;
            // A retention shorter than the reservation's TTL brings the expiry
            // forward.
            self.expires_at(expires);
        }
        true
    }

    /// An entry will expire at `expires`: keeps `full_until` a lower bound on
    /// every expiry in the shard.
    fn expires_at(&mut self, expires: Instant) {
        if let Some(t) = &mut self.full_until {
            *t = (*t).min(expires);
        }
    }

    /// `Err` when the shard is full of live ids (see [`Shard::make_room`]).
    fn insert(
        &mut self,
        hash: u64,
        key: &str,
        state: State,
        expires: Instant,
        now: Instant,
        capacity: usize,
    ) -> Result<(), StoreError> {
        if !self.make_room(now, capacity) && self.get(hash, key).is_none() {
            return Err(StoreError(format!(
                "the in-memory replay store is full: {capacity} live ids in this shard \
                 (raise MemoryStore::new's capacity above deliveries per second × retention)"
            )));
        }
        self.seq += 1;
        let seq = self.seq;
        self.order.push_back((hash, seq));
        self.expires_at(expires);
        if let Some(e) = self.get_mut(hash, key) {
            // An expired entry of the same key: reused in place.
            e.state = state;
            e.expires = expires;
            e.seq = seq;
            return Ok(());
        }
        let entry = Entry {
            key: SmallStr::new(key),
            state,
            expires,
            seq,
        };
        self.table.insert_unique(hash, (hash, entry), |(h, _)| *h);
        Ok(())
    }
}

/// A bounded in-memory replay store: at most `capacity` ids, each forgotten
/// after its TTL. Reservation is atomic per key.
///
/// Expired ids are dropped as the store is used. A live id is never evicted:
/// when a shard is full of them, a reservation fails with a [`StoreError`]
/// (503, or accepted without protection under
/// [`fail_open`](crate::VerifierBuilder::fail_open)) until some expire. Keep
/// the capacity above (deliveries per second × retention) for the senders you
/// receive. Shared by
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

    fn reserve_now(&self, key: &str, token: &Token, ttl: Duration) -> Result<Reserve, StoreError> {
        let now = Instant::now();
        let (hash, mut shard, cap) = self.shard(key);
        match shard.live(hash, key, now).map(|e| &e.state) {
            Some(State::Reserved(_)) => Ok(Reserve::InFlight),
            Some(State::Committed) => Ok(Reserve::Committed),
            None => {
                shard.insert(
                    hash,
                    key,
                    State::Reserved(*token),
                    later(now, ttl),
                    now,
                    cap,
                )?;
                Ok(Reserve::Reserved)
            }
        }
    }

    fn commit_now(&self, key: &str, token: &Token, retention: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let (hash, mut shard, cap) = self.shard(key);
        if shard.commit_live(hash, key, token, later(now, retention), now) {
            return Ok(());
        }
        // Our reservation expired (a slow handler) and nobody took the key:
        // still remember the delivery.
        shard.insert(hash, key, State::Committed, later(now, retention), now, cap)
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

/// `now + d`, saturating at a century (an `Instant` sum can overflow and panic).
fn later(now: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(d.min(CENTURY))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(now)
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
        Box::pin(std::future::ready(self.reserve_now(key, token, ttl)))
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        retention: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(self.commit_now(key, token, retention)))
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
        Some(self.reserve_now(key, token, ttl))
    }

    fn commit_sync(
        &self,
        key: &str,
        token: &Token,
        retention: Duration,
    ) -> Option<Result<(), StoreError>> {
        Some(self.commit_now(key, token, retention))
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
    async fn a_full_store_refuses_new_ids_and_never_evicts_a_live_one() {
        let s = MemoryStore::new(1000);
        let mut refused = 0;
        for i in 0..5000 {
            match s.reserve(&format!("k{i}"), &Token::new(), MIN).await {
                Ok(r) => assert_eq!(r, Reserve::Reserved),
                Err(e) => {
                    assert!(e.0.contains("full"), "{e}");
                    refused += 1;
                }
            }
        }
        let n = s.len().await;
        assert!((1..=1000).contains(&n), "{n}");
        assert_eq!(refused, 5000 - n);
        // Every id that got a reservation still holds it: none was evicted to
        // make room for a later one.
        let mut in_flight = 0;
        for i in 0..5000 {
            match s.reserve(&format!("k{i}"), &Token::new(), MIN).await {
                Ok(Reserve::InFlight) => in_flight += 1,
                Ok(other) => panic!("k{i}: {other:?}"),
                Err(_) => {}
            }
        }
        assert_eq!(in_flight, n);
    }

    #[test]
    fn a_shard_reclaims_expired_ids_behind_a_live_one() {
        let (cap, now, t) = (3, Instant::now(), Token::new());
        let s = Duration::from_secs(1);
        let mut sh = Shard::default();
        let put = |sh: &mut Shard, h: u64, key: &str, ttl: Duration, at: Instant| {
            sh.insert(h, key, State::Reserved(t), at + ttl, at, cap)
        };
        // The oldest id is long-lived (another sender's retention); two short
        // ones come after it.
        put(&mut sh, 1, "long", 3600 * s, now).unwrap();
        put(&mut sh, 2, "a", s, now).unwrap();
        put(&mut sh, 3, "b", s, now).unwrap();
        assert!(put(&mut sh, 4, "c", s, now).is_err(), "full of live ids");
        // Once the short ones expire, they make room although the oldest lives.
        let later = now + 2 * s;
        put(&mut sh, 4, "c", s, later).unwrap();
        put(&mut sh, 5, "d", s, later).unwrap();
        assert!(sh.live(1, "long", later).is_some());
        assert!(sh.get(2, "a").is_none() && sh.get(3, "b").is_none());
        // And again for ids inserted after a sweep.
        let last = later + 2 * s;
        put(&mut sh, 6, "e", s, last).unwrap();
        assert!(sh.live(1, "long", last).is_some());
    }

    #[test]
    fn a_commit_shorter_than_its_reservation_still_makes_room_when_it_expires() {
        let (cap, now, t) = (2, Instant::now(), Token::new());
        let s = Duration::from_secs(1);
        let mut sh = Shard::default();
        sh.insert(1, "long", State::Committed, now + 3600 * s, now, cap)
            .unwrap();
        sh.insert(2, "r", State::Reserved(t), now + 300 * s, now, cap)
            .unwrap();
        // Full: a sweep finds nothing and bounds the next one at 300 s.
        assert!(
            sh.insert(3, "x", State::Reserved(t), now + s, now, cap)
                .is_err()
        );
        // `r` commits with a 1 s retention (shorter than its 300 s reservation).
        assert!(sh.commit_live(2, "r", &t, now + s, now));
        let later = now + 2 * s;
        sh.insert(3, "x", State::Reserved(t), later + s, later, cap)
            .unwrap();
        assert!(sh.live(1, "long", later).is_some());
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let s = MemoryStore::new(10);
        let t = Token::new();
        assert_eq!(
            s.reserve_now("k", &t, Duration::MAX).unwrap(),
            Reserve::Reserved
        );
        s.commit_now("k", &t, Duration::MAX).unwrap();
        assert_eq!(
            s.reserve_now("k", &Token::new(), MIN).unwrap(),
            Reserve::Committed
        );
    }
}
