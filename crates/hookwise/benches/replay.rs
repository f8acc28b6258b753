//! The in-memory replay store: reserve + commit per delivery, with 1e3 … 1e6
//! live ids already held, on one and two threads.
//!
//! `cargo bench -p hookwise --bench replay`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hookwise::replay::{MemoryStore, ReplayStore, Token};

const TTL: Duration = Duration::from_secs(3600);
const SPENT: Duration = Duration::from_millis(1);

fn filled(live: u64, rt: &tokio::runtime::Runtime) -> MemoryStore {
    let store = MemoryStore::new(live * 2 + 1_000_000);
    rt.block_on(async {
        for i in 0..live {
            let k = format!("github:sig:live{i:016x}");
            let t = Token::new();
            store.reserve(&k, &t, TTL).await.unwrap();
            store.commit(&k, &t, TTL).await.unwrap();
        }
        let _ = store.len().await;
    });
    store
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("memory_store/reserve_commit");
    g.sample_size(20);
    for &live in &[1_000u64, 10_000, 100_000, 1_000_000] {
        for (threads, sync) in [(1usize, false), (2, false), (1, true), (2, true)] {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
                .unwrap();
            let store = Arc::new(filled(live, &rt));
            let counter = Arc::new(AtomicU64::new(0));
            // `sync`: the path the layer and the extractor take with this
            // store (`reserve_sync`/`commit_sync`, no boxed future).
            let name = format!("{threads}_thread{}", if sync { "_sync" } else { "" });
            g.bench_function(BenchmarkId::new(name, live), |b| {
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(threads as u64);
                    let start = Instant::now();
                    rt.block_on(async {
                        let mut tasks = Vec::new();
                        for _ in 0..threads {
                            let (store, counter) = (store.clone(), counter.clone());
                            tasks.push(tokio::spawn(async move {
                                for _ in 0..per {
                                    let k = format!(
                                        "github:sig:{:016x}",
                                        counter.fetch_add(1, Ordering::Relaxed)
                                    );
                                    let t = Token::new();
                                    // Committed for 1 ms: the store never evicts a
                                    // live id, so the benchmark's own ids must make
                                    // room again (the pre-filled `live` ones stay).
                                    if sync {
                                        store.reserve_sync(&k, &t, TTL).unwrap().unwrap();
                                        store.commit_sync(&k, &t, SPENT).unwrap().unwrap();
                                    } else {
                                        store.reserve(&k, &t, TTL).await.unwrap();
                                        store.commit(&k, &t, SPENT).await.unwrap();
                                    }
                                }
                            }));
                        }
                        for t in tasks {
                            t.await.unwrap();
                        }
                    });
                    // Time per delivery: total time × threads / deliveries.
                    start.elapsed().mul_f64(
                        threads as f64 * iters as f64
                            / (per * threads as u64) as f64
                            / threads as f64,
                    )
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
