//! The actix-web extractor's cost in-process (`actix_web::test::call_service`,
//! no sockets): a 1 KiB GitHub delivery to a plain `web::Bytes` handler vs the
//! `RawWebhook` extractor vs the extractor + `WebhookReplay` + the in-memory
//! replay store.
//!
//! `cargo bench -p hookwise-actix --bench extractor`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, test, web};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};

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

fn verifier(replay: bool) -> Verifier {
    let b = Verifier::builder(providers::github())
        .secret(SECRET)
        .unwrap();
    let b = if replay {
        // Short retention: the 1000 deliveries cycle, and each must be fresh
        // again when it comes round (the reserve + commit path).
        b.retention(Duration::from_millis(1))
    } else {
        b.without_replay_store()
    };
    b.build().unwrap()
}

async fn plain(body: Bytes) -> HttpResponse {
    black_box(body);
    HttpResponse::Ok().finish()
}

async fn hooked(hook: RawWebhook) -> HttpResponse {
    black_box(hook);
    HttpResponse::Ok().finish()
}

fn bench(c: &mut Criterion) {
    let sys = actix_web::rt::System::new();
    let deliveries = deliveries();
    let mut g = c.benchmark_group("extractor/github_1KiB");
    for name in [
        "plain_bytes_handler",
        "raw_webhook",
        "raw_webhook_replay_memory_store",
    ] {
        let app = sys.block_on(async {
            let app = App::new();
            let app = match name {
                "plain_bytes_handler" => app.route("/hook", web::post().to(plain)),
                "raw_webhook" => app.service(
                    web::resource("/hook")
                        .app_data(WebhookConfig::new(verifier(false)))
                        .route(web::post().to(hooked)),
                ),
                _ => app.service(
                    web::resource("/hook")
                        .app_data(WebhookConfig::new(verifier(true)))
                        .wrap(WebhookReplay::new())
                        .route(web::post().to(hooked)),
                ),
            };
            test::init_service(app).await
        });
        g.bench_function(name, |b| {
            let mut i = 0usize;
            b.iter_custom(|iters| {
                let start = Instant::now();
                sys.block_on(async {
                    for _ in 0..iters {
                        let (h, body) = &deliveries[i % DISTINCT];
                        i += 1;
                        let mut req = test::TestRequest::post()
                            .uri("/hook")
                            .insert_header(("content-type", "application/json"));
                        for (n, v) in h {
                            req = req.insert_header((n.as_str(), v.as_slice()));
                        }
                        let req = req.set_payload(body.clone()).to_request();
                        let res = test::call_service(&app, req).await;
                        assert!(res.status().is_success());
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
