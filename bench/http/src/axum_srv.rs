//! The axum 0.8 variants, on a tokio `current_thread` runtime.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use hookwise_tower::{RawWebhook, VerifyWebhook};
use tower::ServiceExt;

use crate::common::{self, MAX_BODY, PATH};

/// The plain handler: takes the body as `Bytes`, answers 200.
async fn plain(body: Bytes) -> StatusCode {
    common::hold().await;
    std::hint::black_box(&body);
    common::handled();
    StatusCode::OK
}

/// The hand-written check inside the handler (what the README of a typical
/// receiver shows): the header map and the body as extractors, then HMAC.
async fn hand_handler(headers: HeaderMap, body: Bytes) -> StatusCode {
    let sig = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
    if !common::hand_check(sig, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    common::hold().await;
    std::hint::black_box(&body);
    common::handled();
    StatusCode::OK
}

/// A hand-written buffering middleware: collect, verify, re-attach.
async fn hand_middleware(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let sig = parts
        .headers
        .get("x-hub-signature-256")
        .map(|v| v.as_bytes());
    if !common::hand_check(sig, &bytes) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The handler behind hookwise: the verified bytes and the delivery.
async fn verified(hook: RawWebhook) -> StatusCode {
    common::hold().await;
    std::hint::black_box(&hook);
    common::handled();
    StatusCode::OK
}

async fn count() -> String {
    common::handled_count().to_string()
}

async fn heap() -> String {
    common::heap_stats()
}

/// The router of one variant.
fn router(variant: &str) -> Result<Router, String> {
    let hook = match variant {
        "axum-plain" => Router::new().route(PATH, post(plain)),
        "axum-hand-handler" => Router::new().route(PATH, post(hand_handler)),
        "axum-hand-middleware" => Router::new()
            .route(PATH, post(plain))
            .route_layer(middleware::from_fn(hand_middleware)),
        "axum-hookwise" => Router::new()
            .route(PATH, post(verified))
            .route_layer(VerifyWebhook::new(common::verifier())),
        "axum-hookwise-replay" => Router::new()
            .route(PATH, post(verified))
            .route_layer(VerifyWebhook::new(common::replay_verifier())),
        other => return Err(format!("unknown axum variant `{other}`")),
    };
    Ok(hook
        .route("/count", get(count))
        .route("/heap", get(heap))
        .layer(DefaultBodyLimit::max(MAX_BODY)))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// Serves `variant` on `addr` until killed.
pub(crate) fn serve(variant: &str, addr: &str) -> Result<(), String> {
    #[cfg(feature = "heap-stats")]
    let _heap = common::heap_profiler();
    let app = router(variant)?;
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("bind {addr}: {e}"))?;
        eprintln!("{variant} listening on {addr}");
        axum::serve(listener, app).await.map_err(|e| e.to_string())
    })
}

/// `n` requests through the router in-process (`oneshot`, no sockets), cycling
/// through 1000 signed 1 KiB deliveries: the fixed workload for callgrind.
pub(crate) fn profile(variant: &str, n: usize) -> Result<(), String> {
    // `with_state` turns the handlers into routes (with their layers) once,
    // as `axum::serve` does for each connection; a `Router` called as a
    // service without it rebuilds the layered route on every request.
    let app = router(variant)?.with_state(());
    let deliveries = common::deliveries(1000, 1024);
    let start = Instant::now();
    runtime()?.block_on(async move {
        for i in 0..n {
            let d = &deliveries[i % deliveries.len()];
            let mut req = axum::http::Request::post(PATH)
                .header("content-type", "application/json")
                .header("content-length", d.body.len());
            for (k, v) in &d.headers {
                req = req.header(k, v);
            }
            let req = req
                .body(Body::from(d.body.clone()))
                .map_err(|e| e.to_string())?;
            let res = app.clone().oneshot(req).await.map_err(|e| e.to_string())?;
            if res.status() != StatusCode::OK {
                return Err(format!("request {i}: status {}", res.status()));
            }
        }
        Ok(())
    })?;
    common::report_profile(variant, n, start);
    Ok(())
}
