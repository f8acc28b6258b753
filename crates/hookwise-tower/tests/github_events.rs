//! Typed GitHub payloads from octocrab (feature `github-events`) through the
//! layer and the event router.
#![cfg(all(feature = "github-events", feature = "axum"))]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_tower::github::payload::PushWebhookEventPayload;
use hookwise_tower::{EventRouter, VerifyWebhook, Webhook};
use tower::ServiceExt;

const PUSH: &[u8] = br#"{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","after":"1111111111111111111111111111111111111111","repository":{"id":1,"node_id":"R","name":"r","full_name":"o/r","url":"https://api.github.com/repos/o/r"},"sender":{"login":"o","id":1,"node_id":"U","avatar_url":"https://a","gravatar_id":"","url":"https://api.github.com/users/o","html_url":"https://github.com/o","followers_url":"https://a","following_url":"https://a","gists_url":"https://a","starred_url":"https://a","subscriptions_url":"https://a","organizations_url":"https://a","repos_url":"https://a","events_url":"https://a","received_events_url":"https://a","type":"User","site_admin":false},"commits":[],"head_commit":null,"pusher":{"name":"o"},"created":false,"deleted":false,"forced":false,"base_ref":null,"compare":"https://c"}"#;

#[tokio::test]
async fn push_payload_is_typed_by_octocrab() {
    let events = EventRouter::new().on(
        "push",
        |hook: Webhook<PushWebhookEventPayload>| async move {
            format!("push to {}", hook.payload.r#ref)
        },
    );
    let app = Router::new()
        .route_service("/gh", events)
        .layer(VerifyWebhook::new(
            Verifier::new(providers::github(), "s").unwrap(),
        ));
    let signed = providers::github()
        .sign(
            "s",
            PUSH,
            &SignParams {
                event: Some("push"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let mut req = Request::post("/gh");
    for (n, v) in signed.headers.iter() {
        req = req.header(n, v);
    }
    let res = app
        .oneshot(req.body(Body::from(PUSH)).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_eq!(body, "push to refs/heads/main");
}
