//! Soak of the in-memory replay store, through its public API only
//! (`hookwise::replay::MemoryStore`, `ReplayStore::{reserve, commit}`):
//!
//! - a stream of unique delivery ids (reserve, then commit, like an accepted
//!   delivery) never makes the store hold more than its capacity (once it is
//!   full of live ids, new ones are refused: a live id is never evicted), and
//!   the process's resident memory levels off once the store is full: memory
//!   is bounded by the capacity, not by the number of ids ever seen;
//! - ids whose TTL or retention has passed are dropped: the count goes down
//!   and the same ids can be reserved again, while ids still within their
//!   retention stay committed.
//!
//! The always-on test pushes 200 000 ids through a store of 50 000 (debug
//! build friendly). The big one, `#[ignore]`d, pushes 3 000 000 through a store
//! of the default capacity (100 000); run it with
//! `cargo test -p hookwise-e2e --release --test soak -- --ignored --nocapture`.
//! Its numbers are recorded in SECURITY.md.

#![forbid(unsafe_code)]

mod support_hardening;

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hookwise::replay::{MemoryStore, ReplayStore, Reserve, Token};
use support_hardening::rss_kib;

const RESERVE_TTL: Duration = Duration::from_secs(60);
const RETENTION: Duration = Duration::from_secs(3600);

/// Pushes `total` unique ids through a store of `capacity`, checking the
/// count every `total / 10` ids. Returns (RSS when the store first filled up,
/// RSS at the end), in KiB.
async fn soak(total: u64, capacity: u64) -> (u64, u64) {
    let store = MemoryStore::new(capacity);
    let start = rss_kib();
    let began = Instant::now();
    let step = total / 10;
    let mut full_rss = 0;
    let mut max_len = 0;
    let mut refused = 0u64;
    for i in 0..total {
        let key = format!("soak:sig:{i:016x}");
        let token = Token::new();
        match store.reserve(&key, &token, RESERVE_TTL).await {
            Ok(got) => {
                assert_eq!(got, Reserve::Reserved, "id {i} is new");
                store.commit(&key, &token, RETENTION).await.expect("commit");
            }
            // Full of ids still within their retention: refused, not evicted.
            Err(e) => {
                assert!(e.0.contains("full"), "{e}");
                refused += 1;
            }
        }
        if (i + 1) % step == 0 {
            let len = store.len().await;
            max_len = max_len.max(len);
            assert!(len <= capacity, "after {} ids: {len} > {capacity}", i + 1);
            let rss = rss_kib();
            if full_rss == 0 && i + 1 >= 2 * capacity {
                full_rss = rss;
            }
            eprintln!(
                "soak: {:>9} ids, {len:>7} held (capacity {capacity}), RSS {rss} KiB (+{} KiB), {:.1} s",
                i + 1,
                rss.saturating_sub(start),
                began.elapsed().as_secs_f64()
            );
        }
    }
    let end = rss_kib();
    let held = store.len().await;
    assert!(held <= capacity, "{held} > {capacity}");
    assert_eq!(held + refused, total, "every id was either held or refused");
    let per_sec = total as f64 / began.elapsed().as_secs_f64();
    eprintln!(
        "soak: {total} ids in {:.1} s ({per_sec:.0} reserve(+commit)/s); at most {max_len} held, \
         {refused} refused once full; RSS +{} KiB at first full, +{} KiB at the end",
        began.elapsed().as_secs_f64(),
        full_rss.saturating_sub(start),
        end.saturating_sub(start)
    );
    // Bounded by the capacity: well under 1 KiB per held id, plus slack.
    let bound = capacity + 32 * 1024;
    assert!(
        end.saturating_sub(start) <= bound,
        "RSS grew by {} KiB for a store of {capacity}: bound {bound} KiB",
        end.saturating_sub(start)
    );
    drop(store);
    (full_rss, end)
}

/// Once the store is full, more ids do not grow memory (beyond allocator
/// noise: 16 MiB or a quarter, whichever is larger).
fn assert_levels_off(full: u64, end: u64) {
    let slack = (full / 4).max(16 * 1024);
    assert!(
        end <= full + slack,
        "RSS kept growing after the store was full: {full} KiB -> {end} KiB"
    );
}

/// The tests of this binary run one at a time: each measures the process's
/// memory, which a test running beside it would disturb.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial<F: Future>(f: F) -> F::Output {
    let _alone = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn unique_ids_stay_within_capacity() {
    let (full, end) = serial(soak(200_000, 50_000));
    assert_levels_off(full, end);
}

#[test]
#[ignore = "3 million ids: run with --release -- --ignored (numbers in SECURITY.md)"]
fn millions_of_unique_ids_stay_within_capacity() {
    let (full, end) = serial(soak(3_000_000, 100_000));
    assert_levels_off(full, end);
}

#[test]
fn expired_ids_are_dropped() {
    serial(expiry());
}

async fn expiry() {
    // Short enough to wait for, long enough for a debug build to insert
    // every short-lived id (a few thousand operations) well before it.
    const SHORT: Duration = Duration::from_secs(5);
    const N: usize = 500;
    let store = MemoryStore::new(100_000);
    // Long-retention ids first, then the short-lived ones: reserved (a
    // handler that never finished) and committed.
    for i in 0..N {
        let key = format!("long:{i}");
        let t = Token::new();
        store.reserve(&key, &t, RESERVE_TTL).await.expect("reserve");
        store.commit(&key, &t, RETENTION).await.expect("commit");
    }
    for i in 0..N {
        let r = store
            .reserve(&format!("short-reserved:{i}"), &Token::new(), SHORT)
            .await
            .expect("reserve");
        assert_eq!(r, Reserve::Reserved);
        let key = format!("short-committed:{i}");
        let t = Token::new();
        store.reserve(&key, &t, SHORT).await.expect("reserve");
        store.commit(&key, &t, SHORT).await.expect("commit");
    }
    assert_eq!(
        store
            .reserve("short-committed:7", &Token::new(), SHORT)
            .await
            .expect("reserve"),
        Reserve::Committed
    );
    assert_eq!(
        store
            .reserve("short-reserved:7", &Token::new(), SHORT)
            .await
            .expect("reserve"),
        Reserve::InFlight
    );
    let before = store.len().await;
    assert_eq!(before, 3 * N as u64);
    tokio::time::sleep(SHORT + Duration::from_secs(3)).await;
    // The short-lived ids are gone...
    assert_eq!(
        store.len().await,
        N as u64,
        "only the long-retention ids remain"
    );
    // ...and can be reserved again (a sender retrying after the window).
    for i in 0..N {
        for prefix in ["short-reserved", "short-committed"] {
            let r = store
                .reserve(&format!("{prefix}:{i}"), &Token::new(), RESERVE_TTL)
                .await
                .expect("reserve");
            assert_eq!(r, Reserve::Reserved, "{prefix}:{i} expired");
        }
    }
    // The long ones are still committed.
    for i in 0..N {
        let r = store
            .reserve(&format!("long:{i}"), &Token::new(), RESERVE_TTL)
            .await
            .expect("reserve");
        assert_eq!(r, Reserve::Committed, "long:{i}");
    }
}
