//! Sender handshakes and routing by event type in both example receivers, over
//! real HTTP: one case list, run against each adapter.

use hookwise::scheme::SignParams;
use hookwise::{Scheme, providers};
use hookwise_e2e::{Adapter, DISCORD_PRIVATE_KEY, Receiver, SECRETS, now};

fn secret(var: &str) -> &'static str {
    SECRETS
        .iter()
        .find(|(k, _)| *k == var)
        .map(|(_, v)| *v)
        .unwrap()
}

async fn post_signed(
    r: &Receiver,
    route: &str,
    scheme: &Scheme,
    key: &str,
    body: &[u8],
    params: SignParams<'_>,
    extra: &[(&str, &str)],
) -> hookwise_e2e::Answer {
    let signed = scheme.sign(key, body, &params).unwrap();
    let mut headers: Vec<(String, String)> = signed
        .headers
        .iter()
        .map(|(n, v)| (n.to_owned(), String::from_utf8(v.to_vec()).unwrap()))
        .collect();
    headers.push(("Content-Type".into(), "application/json".into()));
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    r.post(route, &headers, body.to_vec()).await
}

async fn github_ping_is_routed_to_its_typed_handler(adapter: Adapter) {
    let r = adapter.start(&[]);
    let ping = br#"{"zen":"Design for failure.","hook_id":12345678}"#;
    let a = post_signed(
        &r,
        "/webhooks/github",
        &providers::github(),
        secret("GITHUB_WEBHOOK_SECRET"),
        ping,
        SignParams {
            event: Some("ping"),
            id: Some("p-1"),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let j = a.json();
    assert_eq!(j["event_type"], "ping");
    assert_eq!(j["zen"], "Design for failure.");
    // Any other event goes to the fallback: the contract JSON, no `zen`.
    let push = br#"{"ref":"refs/heads/main"}"#;
    let a = post_signed(
        &r,
        "/webhooks/github",
        &providers::github(),
        secret("GITHUB_WEBHOOK_SECRET"),
        push,
        SignParams {
            event: Some("push"),
            id: Some("p-2"),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["event_type"], "push");
    assert!(a.json().get("zen").is_none());
    // A ping whose payload is not GitHub's shape: 422 from the typed handler's extractor.
    let odd = br#"{"hook_id":1}"#;
    let a = post_signed(
        &r,
        "/webhooks/github",
        &providers::github(),
        secret("GITHUB_WEBHOOK_SECRET"),
        odd,
        SignParams {
            event: Some("ping"),
            id: Some("p-3"),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(
        (a.status, a.error().as_deref()),
        (422, Some("invalid_payload"))
    );
}

async fn slack_url_verification_echoes_the_challenge(adapter: Adapter) {
    let r = adapter.start(&[]);
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let a = post_signed(
        &r,
        "/webhooks/slack",
        &providers::slack(),
        secret("SLACK_SIGNING_SECRET"),
        body,
        SignParams {
            timestamp: Some(now()),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        serde_json::json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    // Forged with the wrong secret: no challenge echoed.
    let a = post_signed(
        &r,
        "/webhooks/slack",
        &providers::slack(),
        "not-the-secret",
        body,
        SignParams {
            timestamp: Some(now()),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(
        (a.status, a.error().as_deref()),
        (401, Some("signature_mismatch"))
    );
}

async fn discord_ping_gets_a_pong(adapter: Adapter) {
    let r = adapter.start(&[]);
    let body = br#"{"application_id":"1","id":"9","token":"t","type":1,"version":1}"#;
    let a = post_signed(
        &r,
        "/webhooks/discord",
        &providers::discord(),
        DISCORD_PRIVATE_KEY,
        body,
        SignParams {
            timestamp: Some(now()),
            ..SignParams::default()
        },
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json(), serde_json::json!({"type": 1}));
    // Discord's deliberately invalid signature: 401, never a pong.
    let headers = vec![
        ("X-Signature-Ed25519".to_owned(), "00".repeat(64)),
        ("X-Signature-Timestamp".to_owned(), now().to_string()),
    ];
    let a = r.post("/webhooks/discord", &headers, body.to_vec()).await;
    assert_eq!(a.status, 401);
}

macro_rules! cases {
    ($adapter:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn github_ping_is_routed_to_its_typed_handler() {
            super::github_ping_is_routed_to_its_typed_handler($adapter).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn slack_url_verification_echoes_the_challenge() {
            super::slack_url_verification_echoes_the_challenge($adapter).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn discord_ping_gets_a_pong() {
            super::discord_ping_gets_a_pong($adapter).await;
        }
    };
}

mod axum {
    cases!(hookwise_e2e::Adapter::Axum);
}

mod actix {
    cases!(hookwise_e2e::Adapter::Actix);
}
