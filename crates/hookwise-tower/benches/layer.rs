//! The Tower layer's cost in-process (no sockets, no HTTP parsing): an axum
//! `Router` driven with `tower::ServiceExt::oneshot`, a 1 KiB GitHub delivery,
//! plain `Bytes` handler vs `VerifyWebhook` vs `VerifyWebhook` + the in-memory
//! replay store.
//!
//! `cargo bench -p hookwise-tower --bench layer`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_tower::{RawWebhook, VerifyWebhook};
use tower::ServiceExt;

const SECRET: &str = "bench-github-secret";
const DISTINCT: usize = 1000;

/// A signed delivery: its headers (name, value) and its body.
type Signed = (Vec<(String, Vec<u8>)>, Bytes);

/// `DISTINCT` signed 1 KiB deliveries: headers and body.
fn deliveries() -> Vec<Signed> {
    (0..DISTINCT)
        .map(|i| {
            let mut body = format!(r#"{{"id":"dlv-{i:08}","pad":""#).into_bytes();
            body.resize(1024 - 2, b'x');
            body.extend_from_slice(br#""}"#);
            let signed = providers::github()
                .sign(SECRET, &body, &SignParams::default())
                .unwrap();
            let headers = signed
                .headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_vec()))
                .collect();
            (headers, Bytes::from(body))
        })
        .collect()
}

fn request(headers: &[(String, Vec<u8>)], body: &Bytes) -> Request<Body> {
    let mut req = Request::post("/hook")
        .header("content-type", "application/json")
        .header("content-length", body.len());
    for (n, v) in headers {
        req = req.header(n, v.as_slice());
    }
    req.body(Body::from(body.clone())).unwrap()
}

fn verifier(replay: bool) -> Verifier {
    let b = Verifier::builder(providers::github())
        .secret(SECRET)
        .unwrap();
    let b = if replay {
        // Short retention: the 1000 deliveries cycle, and each must be fresh
        // again when it comes round (the reserve + commit path, not the
        // duplicate short-cut).
        b.retention(Duration::from_millis(1))
    } else {
        b.without_replay_store()
    };
    b.build().unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deliveries = deliveries();
    let plain = Router::new().route(
        "/hook",
        post(|body: Bytes| async move {
            black_box(body);
            StatusCode::OK
        }),
    );
    let hooked = |replay: bool| {
        Router::new()
            .route(
                "/hook",
                post(|hook: RawWebhook| async move {
                    black_box(hook);
                    StatusCode::OK
                }),
            )
            .route_layer(VerifyWebhook::new(verifier(replay)))
    };
    let mut g = c.benchmark_group("layer/github_1KiB");
    for (name, app) in [
        ("plain_bytes_handler", plain),
        ("verify_webhook", hooked(false)),
        ("verify_webhook_memory_store", hooked(true)),
    ] {
        // Handlers turned into routes once, as `axum::serve` does per
        // connection (without it every call rebuilds the layered route).
        let app = app.with_state(());
        g.bench_function(name, |b| {
            let mut i = 0usize;
            b.iter_custom(|iters| {
                // Requests are built outside the timed loop's cost as far as
                // possible: building one is identical for every variant.
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..iters {
                        let (h, body) = &deliveries[i % DISTINCT];
                        i += 1;
                        let res = app.clone().oneshot(request(h, body)).await.unwrap();
                        assert_eq!(res.status(), StatusCode::OK);
                    }
                });
                start.elapsed()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
