//! What the Redis store adds per delivery, in round trips: reserve + commit
//! against a `PING` on the same connection, side by side, and the in-memory
//! store for reference. Needs `redis-server` on `PATH` (or `REDIS_URL`);
//! without one it prints a line and measures nothing.
//!
//! `cargo bench -p hookwise-redis --bench store`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hookwise::replay::{MemoryStore, ReplayStore, Token};
use hookwise_redis::RedisStore;

const TTL: Duration = Duration::from_secs(600);

fn bench(c: &mut Criterion) {
    let Some(server) = support::RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(RedisStore::builder(server.url()).connect())
        .expect("connect to redis-server");
    let memory = MemoryStore::new(1_000_000);
    let n = AtomicU64::new(0);
    let next = || format!("github:sig:{:032x}", n.fetch_add(1, Ordering::Relaxed));

    let mut g = c.benchmark_group("replay_store_per_delivery");
    g.bench_function("redis_ping_round_trip", |b| {
        let mut conn = store.connection();
        b.iter(|| {
            rt.block_on(async {
                let _: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
            });
        });
    });
    g.bench_function("redis_reserve_commit", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (k, t) = (next(), Token::new());
                store.reserve(&k, &t, TTL).await.unwrap();
                store.commit(&k, &t, TTL).await.unwrap();
            });
        });
    });
    g.bench_function("memory_reserve_commit", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (k, t) = (next(), Token::new());
                memory.reserve(&k, &t, TTL).await.unwrap();
                memory.commit(&k, &t, TTL).await.unwrap();
            });
        });
    });
    g.finish();
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
