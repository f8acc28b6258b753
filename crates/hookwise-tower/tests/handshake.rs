//! Sender handshakes answered by the layer when enabled.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{any, post};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_tower::VerifyWebhook;
use tower::ServiceExt;

async fn body_text(res: axum::response::Response) -> String {
    String::from_utf8(
        axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn twitch_challenge_only_when_enabled_and_verified() {
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
    let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
    let signed = providers::twitch()
        .sign(
            "twitch-secret-1",
            body,
            &SignParams {
                timestamp: Some(now),
                id: Some("m1"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let request = |headers: &hookwise::HeaderList| {
        let mut req = Request::post("/twitch").header(
            "Twitch-Eventsub-Message-Type",
            "webhook_callback_verification",
        );
        for (n, v) in headers.iter() {
            req = req.header(n, v);
        }
        req.body(Body::from(&body[..])).unwrap()
    };
    for (enabled, expected) in [
        (true, "pogchamp-kappa-360noscope-vohiyo"),
        (false, "handler ran"),
    ] {
        let mut layer =
            VerifyWebhook::new(Verifier::new(providers::twitch(), "twitch-secret-1").unwrap());
        if enabled {
            layer = layer.answer_handshakes();
        }
        let app = Router::new()
            .route("/twitch", post(|| async { "handler ran" }))
            .route_layer(layer);
        let res = app.oneshot(request(&signed.headers)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body_text(res).await, expected);
    }
    // Forged: the challenge is never echoed.
    let layer = VerifyWebhook::new(Verifier::new(providers::twitch(), "twitch-secret-1").unwrap())
        .answer_handshakes();
    let app = Router::new()
        .route("/twitch", post(|| async { "handler ran" }))
        .route_layer(layer);
    let forged = providers::twitch()
        .sign(
            "wrong-secret-1",
            body,
            &SignParams {
                timestamp: Some(now),
                id: Some("m1"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let res = app.oneshot(request(&forged.headers)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn meta_subscription_get() {
    let verifier = Verifier::builder(providers::meta())
        .secret("app-secret")
        .unwrap()
        .meta_verify_token("vt")
        .unwrap()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/meta", any(|| async { "handler ran" }))
        .route_layer(VerifyWebhook::new(verifier).answer_handshakes());
    let ok = Request::get("/meta?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444")
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(ok).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "1158201444");
    let bad = Request::get("/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.oneshot(bad).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn meta_subscription_get_passes_the_ip_allow_list_first() {
    let verifier = Verifier::builder(providers::meta())
        .secret("app-secret")
        .unwrap()
        .meta_verify_token("vt")
        .unwrap()
        .require(hookwise::Check::ip(
            hookwise::IpAllowList::new(["192.0.2.0/24"]).unwrap(),
        ))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/meta", any(|| async { "handler ran" }))
        .route_layer(VerifyWebhook::new(verifier).answer_handshakes());
    let get = |peer: &str| {
        let mut req = Request::get("/meta?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(peer.parse::<std::net::SocketAddr>().unwrap());
        req
    };
    let res = app.clone().oneshot(get("192.0.2.9:443")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "42");
    let res = app.oneshot(get("203.0.113.1:443")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_text(res).await, r#"{"error":"forbidden_address"}"#);
}
