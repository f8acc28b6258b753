//! A sender that signs the request's path (HubSpot v3), behind axum's
//! `Router::nest`, which strips the mount prefix from the URI.

use axum::Router;
use axum::body::Body;
use axum::extract::OriginalUri;
use axum::routing::post;
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_tower::{RawWebhook, VerifyWebhook};
use http::{Request, StatusCode};
use tower::ServiceExt;

const ORIGIN: &str = "https://example.com";
const SECRET: &str = "hs-secret";

fn app(layer: VerifyWebhook) -> Router {
    Router::new().nest(
        "/webhooks",
        Router::new()
            .route("/hubspot", post(|_: RawWebhook| async { "handled" }))
            .route_layer(layer),
    )
}

fn delivery() -> Request<Body> {
    let body = br#"[{"eventId":1}]"#;
    let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
    let signed = providers::hubspot(ORIGIN)
        .sign(
            SECRET,
            body,
            &SignParams {
                timestamp: Some(now),
                url: Some("https://example.com/webhooks/hubspot?portal=7"),
                method: Some("POST"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let mut req = Request::post("/webhooks/hubspot?portal=7");
    for (n, v) in signed.headers.iter() {
        req = req.header(n, v);
    }
    req.body(Body::from(&body[..])).unwrap()
}

#[tokio::test]
async fn the_original_uri_is_what_the_sender_signed() {
    let verifier = || Verifier::new(providers::hubspot(ORIGIN), SECRET).unwrap();
    // The nested router sees `/hubspot?portal=7`: not what HubSpot signed.
    let plain = app(VerifyWebhook::new(verifier()));
    let res = plain.oneshot(delivery()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Told where axum keeps the full URI, the layer verifies it.
    let told =
        app(VerifyWebhook::new(verifier())
            .request_uri_from(|e| e.get::<OriginalUri>().map(|u| &u.0)));
    let res = told.oneshot(delivery()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
