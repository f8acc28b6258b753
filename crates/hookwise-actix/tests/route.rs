//! Routing by event type with `EventRouter`.

use actix_web::{App, HttpResponse, test, web};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use hookwise_actix::{EventRouter, RawWebhook, Webhook, WebhookConfig, WebhookReplay};
use serde::Deserialize;

#[derive(Deserialize)]
struct Paid {
    id: String,
}

#[derive(Deserialize)]
struct PaidWithAmount {
    id: String,
    amount: u64,
}

fn request(body: &[u8]) -> test::TestRequest {
    let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
    let signed = providers::stripe()
        .sign(
            "whsec_r",
            body,
            &SignParams {
                timestamp: Some(now),
                ..SignParams::default()
            },
        )
        .unwrap();
    let mut req = test::TestRequest::post().uri("/hook");
    for (n, v) in signed.headers.iter() {
        req = req.insert_header((n, v));
    }
    req.set_payload(body.to_vec())
}

macro_rules! app {
    ($router:expr) => {
        test::init_service(
            App::new().service(
                web::resource("/hook")
                    .app_data(WebhookConfig::new(
                        Verifier::new(providers::stripe(), "whsec_r").unwrap(),
                    ))
                    .wrap(WebhookReplay::new())
                    .route(web::post().to($router.handler())),
            ),
        )
        .await
    };
}

#[actix_web::test]
async fn dispatches_on_the_signed_event_type_with_a_fallback() {
    let router = EventRouter::new()
        .on("invoice.paid", |h: Webhook<Paid>| async move {
            HttpResponse::Ok().body(format!("paid {}", h.id))
        })
        .fallback(|h: RawWebhook| async move {
            HttpResponse::Accepted().body(h.delivery().event_type().unwrap_or_default().to_owned())
        });
    let app = app!(router);
    let res = test::call_service(
        &app,
        request(br#"{"id":"in_1","type":"invoice.paid"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "paid in_1");
    let res = test::call_service(
        &app,
        request(br#"{"id":"ch_1","type":"charge.failed"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 202);
    assert_eq!(test::read_body(res).await, "charge.failed");
}

#[actix_web::test]
async fn unknown_events_are_acknowledged_and_bad_payloads_are_422() {
    let router = EventRouter::new().on("invoice.paid", |h: Webhook<PaidWithAmount>| async move {
        HttpResponse::Ok().body(format!("{} {}", h.id, h.amount))
    });
    let app = app!(router);
    let res = test::call_service(
        &app,
        request(br#"{"id":"cus_1","type":"customer.created"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        test::read_body(res).await,
        r#"{"event_type":"customer.created","ignored":true}"#
    );
    let res = test::call_service(
        &app,
        request(br#"{"id":"in_2","type":"invoice.paid"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 422);
    // The 422 released the reservation of `stripe:in_2`: a delivery with the same
    // event id is processed, not answered as a duplicate.
    let res = test::call_service(
        &app,
        request(br#"{"id":"in_2","amount":5,"type":"invoice.paid"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "in_2 5");
}

#[actix_web::test]
async fn a_bad_payload_gets_the_routes_custom_rejection() {
    let router = EventRouter::new().on("invoice.paid", |h: Webhook<PaidWithAmount>| async move {
        HttpResponse::Ok().body(format!("{} {}", h.id, h.amount))
    });
    let config = WebhookConfig::new(Verifier::new(providers::stripe(), "whsec_r").unwrap())
        .on_rejection(|e| {
            HttpResponse::build(actix_web::http::StatusCode::IM_A_TEAPOT).body(format!(
                "custom {} {}",
                e.status(),
                e.code()
            ))
        });
    let app = test::init_service(
        App::new().service(
            web::resource("/hook")
                .app_data(config)
                .wrap(WebhookReplay::new())
                .route(web::post().to(router.handler())),
        ),
    )
    .await;
    let res = test::call_service(
        &app,
        request(br#"{"id":"in_3","type":"invoice.paid"}"#).to_request(),
    )
    .await;
    assert_eq!(res.status(), 418);
    assert_eq!(test::read_body(res).await, "custom 422 invalid_payload");
}
