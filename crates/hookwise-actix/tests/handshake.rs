//! Sender handshakes answered by the extractor when enabled.

use actix_web::{App, HttpResponse, test, web};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};

async fn handler(_: RawWebhook) -> HttpResponse {
    HttpResponse::Ok().body("handler ran")
}

#[actix_web::test]
async fn slack_url_verification_is_answered_only_when_enabled() {
    let body = br#"{"token":"x","challenge":"c-123","type":"url_verification"}"#;
    let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
    let signed = providers::slack()
        .sign(
            "slack-s",
            body,
            &SignParams {
                timestamp: Some(now),
                ..SignParams::default()
            },
        )
        .unwrap();
    for (enabled, expected) in [
        (true, &br#"{"challenge":"c-123"}"#[..]),
        (false, b"handler ran"),
    ] {
        let mut config = WebhookConfig::new(Verifier::new(providers::slack(), "slack-s").unwrap());
        if enabled {
            config = config.answer_handshakes();
        }
        let app = test::init_service(
            App::new().service(
                web::resource("/slack")
                    .app_data(config)
                    .wrap(WebhookReplay::new())
                    .route(web::post().to(handler)),
            ),
        )
        .await;
        let mut req = test::TestRequest::post().uri("/slack");
        for (n, v) in signed.headers.iter() {
            req = req.insert_header((n, v));
        }
        let res = test::call_service(&app, req.set_payload(&body[..]).to_request()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(test::read_body(res).await, expected);
    }
    // A forged url_verification is rejected before any handshake.
    let config = WebhookConfig::new(Verifier::new(providers::slack(), "slack-s").unwrap())
        .answer_handshakes();
    let app = test::init_service(
        App::new().service(
            web::resource("/slack")
                .app_data(config)
                .wrap(WebhookReplay::new())
                .route(web::post().to(handler)),
        ),
    )
    .await;
    let req = test::TestRequest::post()
        .uri("/slack")
        .insert_header(("X-Slack-Signature", format!("v0={}", "0".repeat(64))))
        .insert_header(("X-Slack-Request-Timestamp", now.to_string()))
        .set_payload(&body[..])
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 401);
}

#[actix_web::test]
async fn meta_subscription_get_is_answered_with_the_verify_token() {
    let verifier = Verifier::builder(providers::meta())
        .secret("app-secret")
        .unwrap()
        .meta_verify_token("vt")
        .unwrap()
        .build()
        .unwrap();
    let config = WebhookConfig::new(verifier).answer_handshakes();
    let app = test::init_service(
        App::new().service(
            web::resource("/meta")
                .app_data(config)
                .wrap(WebhookReplay::new())
                .route(web::route().to(handler)),
        ),
    )
    .await;
    let ok = test::TestRequest::get()
        .uri("/meta?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444")
        .to_request();
    let res = test::call_service(&app, ok).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "1158201444");
    let bad = test::TestRequest::get()
        .uri("/meta?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1")
        .to_request();
    assert_eq!(test::call_service(&app, bad).await.status(), 401);
}

#[actix_web::test]
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
    let config = WebhookConfig::new(verifier).answer_handshakes();
    let app = test::init_service(
        App::new().service(
            web::resource("/meta")
                .app_data(config)
                .wrap(WebhookReplay::new())
                .route(web::route().to(handler)),
        ),
    )
    .await;
    let get = |peer: &str| {
        test::TestRequest::get()
            .uri("/meta?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42")
            .peer_addr(peer.parse().unwrap())
            .to_request()
    };
    let res = test::call_service(&app, get("192.0.2.9:443")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "42");
    let res = test::call_service(&app, get("203.0.113.1:443")).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        test::read_body(res).await,
        r#"{"error":"forbidden_address"}"#
    );
}
