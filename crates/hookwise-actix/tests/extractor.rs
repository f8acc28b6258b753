//! The actix adapter through its public API: `init_service` + `TestRequest`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{App, HttpResponse, test, web};
use bytes::Bytes;
use hookwise::scheme::{SignParams, SignedRequest};
use hookwise::{FixedClock, Scheme, Verifier, providers};
use hookwise_actix::{RawWebhook, Webhook, WebhookConfig, WebhookReplay};
use serde::Deserialize;

const GH_SECRET: &str = "gh-test-secret";
const STRIPE_SECRET: &str = "whsec_test_secret";
const SLACK_SECRET: &str = "slack-test-secret";
const NOW: i64 = 1_700_000_000;

#[derive(Debug, Deserialize)]
struct Push {
    r#ref: String,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    r#type: String,
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    command: String,
    text: String,
}

/// How often the handler ran.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

impl Runs {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

fn github() -> WebhookConfig {
    WebhookConfig::new(Verifier::new(providers::github(), GH_SECRET).unwrap())
}

fn stripe() -> WebhookConfig {
    WebhookConfig::new(
        Verifier::builder(providers::stripe())
            .secret(STRIPE_SECRET)
            .unwrap()
            .clock(FixedClock::new(NOW + 5))
            .build()
            .unwrap(),
    )
}

fn sign(scheme: &Scheme, secret: &str, body: &str, id: Option<&str>) -> SignedRequest {
    scheme
        .sign(
            secret,
            body.as_bytes(),
            &SignParams {
                timestamp: Some(NOW),
                id,
                event: Some("push"),
                ..SignParams::default()
            },
        )
        .unwrap()
}

fn post(uri: &str, signed: &SignedRequest) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/json"));
    for (name, value) in signed.headers.iter() {
        req = req.append_header((name, HeaderValue::from_bytes(value).unwrap()));
    }
    req.set_payload(signed.body.clone())
}

fn github_post(body: &str, id: &str) -> test::TestRequest {
    post(
        "/hook",
        &sign(&providers::github(), GH_SECRET, body, Some(id)),
    )
}

async fn push_handler(hook: Webhook<Push>, runs: web::Data<Runs>) -> HttpResponse {
    runs.bump();
    HttpResponse::Ok().body(format!(
        "{} {} {}",
        hook.r#ref,
        hook.delivery().id().unwrap_or("-"),
        hook.body().len()
    ))
}

async fn body_text<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

macro_rules! github_app {
    ($runs:expr) => {
        github_app!($runs, github())
    };
    ($runs:expr, $config:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($runs.clone()))
                .app_data($config)
                .wrap(WebhookReplay::new())
                .route("/hook", web::post().to(push_handler)),
        )
        .await
    };
}

const PUSH: &str = r#"{"ref":"refs/heads/main","after":"abc"}"#;

#[actix_web::test]
async fn valid_github_delivery_reaches_the_handler_with_exact_bytes() {
    let runs = Runs::default();
    let app = github_app!(runs);
    let res = test::call_service(&app, github_post(PUSH, "d-1").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body_text(res).await,
        format!("refs/heads/main d-1 {}", PUSH.len())
    );
    assert_eq!(runs.get(), 1);
}

#[actix_web::test]
async fn tampered_body_is_401_signature_mismatch() {
    let runs = Runs::default();
    let app = github_app!(runs);
    let mut signed = sign(&providers::github(), GH_SECRET, PUSH, Some("d-2"));
    signed.body = PUSH.replace("main", "evil").into_bytes();
    let res = test::call_service(&app, post("/hook", &signed).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(res).await, r#"{"error":"signature_mismatch"}"#);
    assert_eq!(runs.get(), 0);
}

#[actix_web::test]
async fn missing_signature_header_is_401() {
    let runs = Runs::default();
    let app = github_app!(runs);
    let req = test::TestRequest::post()
        .uri("/hook")
        .insert_header(("x-github-event", "push"))
        .set_payload(PUSH)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        HeaderValue::from_static("application/json")
    );
    assert_eq!(body_text(res).await, r#"{"error":"missing_signature"}"#);
}

#[actix_web::test]
async fn duplicated_signature_header_is_400() {
    let app = github_app!(Runs::default());
    let signed = sign(&providers::github(), GH_SECRET, PUSH, Some("d-3"));
    let req = post("/hook", &signed)
        .append_header(("x-hub-signature-256", "sha256=00"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_text(res).await, r#"{"error":"malformed_header"}"#);
}

fn small_limit() -> WebhookConfig {
    WebhookConfig::new(
        Verifier::builder(providers::github())
            .secret(GH_SECRET)
            .unwrap()
            .max_body(16)
            .body_timeout(Duration::from_millis(200))
            .build()
            .unwrap(),
    )
}

macro_rules! small_app {
    ($runs:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($runs.clone()))
                .app_data(small_limit())
                .wrap(WebhookReplay::new())
                .route("/hook", web::post().to(push_handler)),
        )
        .await
    };
}

#[actix_web::test]
async fn content_length_over_the_limit_is_413_before_reading() {
    let runs = Runs::default();
    let app = small_app!(runs);
    let req = github_post(PUSH, "d-4").to_request();
    // The body that would follow is never polled: a stream that fails if read.
    let (mut req, _) = req.replace_payload(Payload::from(
        Box::pin(Poison) as Pin<Box<dyn futures_core::Stream<Item = _>>>
    ));
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1000000"));
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body_text(res).await, r#"{"error":"body_too_large"}"#);
    assert_eq!(runs.get(), 0);
}

#[actix_web::test]
async fn streamed_body_over_the_limit_is_413() {
    let runs = Runs::default();
    let app = small_app!(runs);
    // No Content-Length (chunked): the limit is enforced while reading.
    let mut req = github_post(PUSH, "d-5").to_request();
    req.headers_mut().remove(header::CONTENT_LENGTH);
    assert!(PUSH.len() > 16);
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body_text(res).await, r#"{"error":"body_too_large"}"#);

    // A Content-Length that lies low does not help either.
    let mut req = github_post(PUSH, "d-6").to_request();
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(runs.get(), 0);
}

/// Sends one chunk, then nothing, ever.
struct Trickle(bool);

impl futures_core::Stream for Trickle {
    type Item = Result<Bytes, PayloadError>;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.0 {
            Poll::Pending
        } else {
            self.0 = true;
            Poll::Ready(Some(Ok(Bytes::from_static(b"{"))))
        }
    }
}

/// Fails the test if anyone reads it.
struct Poison;

impl futures_core::Stream for Poison {
    type Item = Result<Bytes, PayloadError>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        panic!("the body was read although the request had to be refused first")
    }
}

#[actix_web::test]
async fn trickled_body_is_408() {
    let runs = Runs::default();
    let app = small_app!(runs);
    let req = github_post("{}", "d-7").to_request();
    let (req, _) = req.replace_payload(Payload::from(
        Box::pin(Trickle(false)) as Pin<Box<dyn futures_core::Stream<Item = _>>>
    ));
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(body_text(res).await, r#"{"error":"body_timeout"}"#);
    assert_eq!(runs.get(), 0);
}

#[actix_web::test]
async fn forged_headers_are_refused_before_the_body_is_read() {
    let app = github_app!(Runs::default());
    let req = test::TestRequest::post()
        .uri("/hook")
        .insert_header(("x-hub-signature-256", "sha256=zz"))
        .to_request();
    let (req, _) = req.replace_payload(Payload::from(
        Box::pin(Poison) as Pin<Box<dyn futures_core::Stream<Item = _>>>
    ));
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn extractor_without_config_is_500_naming_it() {
    let app = test::init_service(
        App::new().route("/hook", web::post().to(|_: RawWebhook| async { "ran" })),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-8").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = body_text(res).await;
    assert!(body.starts_with(r#"{"detail":"#) || body.contains(r#""error":"misconfigured""#));
    assert!(body.contains("WebhookConfig"), "{body}");
}

#[actix_web::test]
async fn config_in_web_data_is_found() {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(github()))
            .wrap(WebhookReplay::new())
            .route("/hook", web::post().to(|_: RawWebhook| async { "ran" })),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-9").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn duplicate_of_a_processed_delivery_is_200_and_skips_the_handler() {
    let runs = Runs::default();
    let app = github_app!(runs);
    let res = test::call_service(&app, github_post(PUSH, "d-10").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, github_post(PUSH, "d-10").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("hookwise-duplicate").unwrap(),
        HeaderValue::from_static("true")
    );
    let json: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(json["duplicate"], true);
    assert_eq!(json["delivery_id"], "d-10");
    assert_eq!(runs.get(), 1, "the handler ran again for a duplicate");
}

async fn flaky_handler(hook: RawWebhook, runs: web::Data<Runs>) -> HttpResponse {
    let _ = hook.delivery();
    match runs.bump() {
        1 => HttpResponse::InternalServerError().finish(),
        _ => HttpResponse::Ok().finish(),
    }
}

#[actix_web::test]
async fn failed_handler_releases_so_the_retry_runs_then_commits() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github())
            .wrap(WebhookReplay::new())
            .route("/hook", web::post().to(flaky_handler)),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-11").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let res = test::call_service(&app, github_post(PUSH, "d-11").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("hookwise-duplicate"));
    let res = test::call_service(&app, github_post(PUSH, "d-11").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("hookwise-duplicate"));
    assert_eq!(runs.get(), 2);
}

#[actix_web::test]
async fn handler_error_releases_too() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github())
            .wrap(WebhookReplay::new())
            .route(
                "/hook",
                web::post().to(|_: RawWebhook, runs: web::Data<Runs>| async move {
                    match runs.bump() {
                        1 => Err(actix_web::error::ErrorServiceUnavailable("busy")),
                        _ => Ok(HttpResponse::Accepted().finish()),
                    }
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-12").to_request()).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = test::call_service(&app, github_post(PUSH, "d-12").to_request()).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = test::call_service(&app, github_post(PUSH, "d-12").to_request()).await;
    assert!(res.headers().contains_key("hookwise-duplicate"));
    assert_eq!(runs.get(), 2);
}

async fn slow_handler(_: RawWebhook, runs: web::Data<Runs>) -> HttpResponse {
    runs.bump();
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn duplicate_in_flight_is_409_with_retry_after() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github())
            .wrap(WebhookReplay::new())
            .route("/hook", web::post().to(slow_handler)),
    )
    .await;
    let (first, second) = tokio::join!(
        test::call_service(&app, github_post(PUSH, "d-13").to_request()),
        async {
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            test::call_service(&app, github_post(PUSH, "d-13").to_request()).await
        }
    );
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(
        second.headers().get(header::RETRY_AFTER).unwrap(),
        HeaderValue::from_static("1")
    );
    assert_eq!(
        body_text(second).await,
        r#"{"error":"duplicate_in_flight"}"#
    );
    assert_eq!(runs.get(), 1);
}

#[actix_web::test]
async fn a_store_without_the_middleware_is_500_misconfigured_and_runs_nothing() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github())
            .route("/hook", web::post().to(push_handler)),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-40").to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Refused before the body was read: the answer closes the connection.
    assert_eq!(
        res.response().head().connection_type(),
        actix_web::http::ConnectionType::Close
    );
    let json: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(json["error"], "misconfigured");
    assert!(
        json["detail"].as_str().unwrap().contains("WebhookReplay"),
        "{json}"
    );
    assert_eq!(runs.get(), 0);
    // A request its headers already refuse is refused as such (the header
    // phase runs first), not told about the configuration.
    let unsigned = test::TestRequest::post()
        .uri("/hook")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(PUSH);
    let res = test::call_service(&app, unsigned.to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(res).await, r#"{"error":"missing_signature"}"#);
    // A verifier without a store needs no middleware.
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(WebhookConfig::new(
                Verifier::builder(providers::github())
                    .secret(GH_SECRET)
                    .unwrap()
                    .without_replay_store()
                    .build()
                    .unwrap(),
            ))
            .route("/hook", web::post().to(push_handler)),
    )
    .await;
    let res = test::call_service(&app, github_post(PUSH, "d-40").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(runs.get(), 1);
}

#[actix_web::test]
async fn in_flight_only_under_the_middleware_still_commits() {
    let runs = Runs::default();
    let app = github_app!(runs, github().replay_in_flight_only());
    let res = test::call_service(&app, github_post(PUSH, "d-42").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, github_post(PUSH, "d-42").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("hookwise-duplicate"));
    assert_eq!(runs.get(), 1);
}

#[actix_web::test]
async fn in_flight_only_mode_blocks_in_flight_duplicates_and_releases_after() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github().replay_in_flight_only())
            .route("/hook", web::post().to(slow_handler)),
    )
    .await;
    let (first, second) = tokio::join!(
        test::call_service(&app, github_post(PUSH, "d-14").to_request()),
        async {
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            test::call_service(&app, github_post(PUSH, "d-14").to_request()).await
        }
    );
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(second.status(), StatusCode::CONFLICT);
    drop((first, second));
    // Without the middleware nothing is committed: the reservation is released
    // (in the background) when the request is dropped, so a later copy runs.
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    let res = test::call_service(&app, github_post(PUSH, "d-14").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("hookwise-duplicate"));
    assert_eq!(runs.get(), 2);
}

#[actix_web::test]
async fn invalid_payload_is_422_and_not_reserved() {
    let runs = Runs::default();
    let app = github_app!(runs);
    let res = test::call_service(&app, github_post(r#"{"after":"x"}"#, "d-15").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_text(res).await, r#"{"error":"invalid_payload"}"#);
    let res = test::call_service(&app, github_post("not json", "d-16").to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(runs.get(), 0);
}

#[actix_web::test]
async fn form_bodies_decode_as_forms() {
    let config = WebhookConfig::new(
        Verifier::builder(providers::slack())
            .secret(SLACK_SECRET)
            .unwrap()
            .clock(FixedClock::new(NOW + 1))
            .build()
            .unwrap(),
    );
    let app = test::init_service(
        App::new()
            .app_data(config)
            .wrap(WebhookReplay::new())
            .route(
                "/slack",
                web::post().to(|cmd: Webhook<SlashCommand>| async move {
                    format!("{} {}", cmd.command, cmd.text)
                }),
            ),
    )
    .await;
    let body = "command=%2Fdeploy&text=prod+now&team_id=T1";
    let signed = sign(&providers::slack(), SLACK_SECRET, body, None);
    let req = post("/slack", &signed)
        .insert_header((
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        ))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "/deploy prod now");
}

#[actix_web::test]
async fn several_senders_in_one_app() {
    let app = test::init_service(
        App::new()
            .wrap(WebhookReplay::new())
            .service(
                web::resource("/hooks/github")
                    .app_data(github())
                    .route(web::post().to(|h: Webhook<Push>| async move { h.r#ref.clone() })),
            )
            .service(web::scope("/hooks/stripe").app_data(stripe()).route(
                "",
                web::post().to(|h: Webhook<Event>| async move { format!("{} {}", h.id, h.r#type) }),
            )),
    )
    .await;
    let gh = sign(&providers::github(), GH_SECRET, PUSH, Some("g-1"));
    let st_body = r#"{"id":"evt_1","type":"invoice.paid"}"#;
    let st = sign(&providers::stripe(), STRIPE_SECRET, st_body, None);

    let res = test::call_service(&app, post("/hooks/github", &gh).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "refs/heads/main");
    let res = test::call_service(&app, post("/hooks/stripe", &st).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "evt_1 invoice.paid");
    // Each route checks with its own sender's scheme and secret.
    let res = test::call_service(&app, post("/hooks/stripe", &gh).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = test::call_service(&app, post("/hooks/github", &st).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn stale_stripe_timestamp_is_401() {
    let app = test::init_service(
        App::new()
            .app_data(stripe())
            .wrap(WebhookReplay::new())
            .route("/s", web::post().to(|_: RawWebhook| async { "ran" })),
    )
    .await;
    let body = r#"{"id":"evt_2","type":"x"}"#;
    let signed = providers::stripe()
        .sign(
            STRIPE_SECRET,
            body.as_bytes(),
            &SignParams {
                timestamp: Some(NOW - 3600),
                ..SignParams::default()
            },
        )
        .unwrap();
    let res = test::call_service(&app, post("/s", &signed).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(res).await, r#"{"error":"timestamp_too_old"}"#);
}

#[actix_web::test]
async fn on_rejection_replaces_the_response() {
    let config = github().on_rejection(|err| {
        HttpResponse::build(StatusCode::from_u16(err.status()).unwrap())
            .insert_header(("x-reason", err.code()))
            .finish()
    });
    let app = test::init_service(
        App::new()
            .app_data(config)
            .wrap(WebhookReplay::new())
            .route("/hook", web::post().to(|_: RawWebhook| async { "ran" })),
    )
    .await;
    let mut signed = sign(&providers::github(), GH_SECRET, PUSH, Some("d-17"));
    signed.body = b"{}".to_vec();
    let res = test::call_service(&app, post("/hook", &signed).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers().get("x-reason").unwrap(),
        HeaderValue::from_static("signature_mismatch")
    );
    assert_eq!(body_text(res).await, "");
}

#[actix_web::test]
async fn raw_webhook_takes_any_bytes() {
    let app = test::init_service(
        App::new()
            .app_data(github())
            .wrap(WebhookReplay::new())
            .route(
                "/hook",
                web::post().to(|h: RawWebhook| async move {
                    let (body, delivery) = h.into_parts();
                    format!("{} {}", body.len(), delivery.provider())
                }),
            ),
    )
    .await;
    let signed = github()
        .verifier()
        .scheme()
        .sign(GH_SECRET, &[0xff, 0x00, 0xfe], &SignParams::default())
        .unwrap();
    let res = test::call_service(&app, post("/hook", &signed).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "3 github");
}

#[actix_web::test]
async fn dropped_request_releases_so_the_retry_runs() {
    let runs = Runs::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(runs.clone()))
            .app_data(github())
            .wrap(WebhookReplay::new())
            .route("/hook", web::post().to(slow_handler)),
    )
    .await;
    // The client goes away while the handler runs: actix drops the future.
    let gone = tokio::time::timeout(
        Duration::from_millis(50),
        test::call_service(&app, github_post(PUSH, "d-18").to_request()),
    )
    .await;
    assert!(gone.is_err());
    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    let res = test::call_service(&app, github_post(PUSH, "d-18").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("hookwise-duplicate"));
    assert_eq!(runs.get(), 2);
}

#[actix_web::test]
async fn basic_auth_rejection_carries_the_challenge() {
    let verifier = Verifier::builder(hookwise::scheme::BasicAuth::new("docusign", "webhooks"))
        .secret("user:pa55")
        .unwrap()
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(WebhookConfig::new(verifier))
            .wrap(WebhookReplay::new())
            .route(
                "/ds",
                web::post().to(|h: RawWebhook| async move { h.body().clone() }),
            ),
    )
    .await;
    let req = test::TestRequest::post()
        .uri("/ds")
        .insert_header((header::AUTHORIZATION, "Basic dXNlcjp3cm9uZw=="))
        .set_payload("<xml/>")
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
        HeaderValue::from_static("Basic realm=\"webhooks\"")
    );
    let req = test::TestRequest::post()
        .uri("/ds")
        .insert_header((header::AUTHORIZATION, "Basic dXNlcjpwYTU1"))
        .set_payload("<xml/>")
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, "<xml/>");
}

#[actix_web::test]
async fn an_ip_check_nested_in_also_gets_the_peer_address() {
    // The verifier's own checks read nothing of the connection; the token
    // check it runs with `Check::also` does: the extractor must still hand it
    // the peer address.
    use hookwise::{Check, IpAllowList};
    let nested = Verifier::builder(providers::gitlab())
        .secret("gl-token")
        .unwrap()
        .require(Check::ip(IpAllowList::new(["192.0.2.0/24"]).unwrap()))
        .without_replay_store()
        .build()
        .unwrap();
    let verifier = Verifier::builder(providers::github())
        .secret(GH_SECRET)
        .unwrap()
        .require(Check::also(nested).unwrap())
        .without_replay_store()
        .build()
        .unwrap();
    let runs = Runs::default();
    let app = github_app!(runs, WebhookConfig::new(verifier));
    let ok = github_post(PUSH, "nested-1")
        .insert_header(("x-gitlab-token", "gl-token"))
        .peer_addr("192.0.2.7:443".parse().unwrap());
    let res = test::call_service(&app, ok.to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let outside = github_post(PUSH, "nested-2")
        .insert_header(("x-gitlab-token", "gl-token"))
        .peer_addr("203.0.113.1:443".parse().unwrap());
    let res = test::call_service(&app, outside.to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(body_text(res).await.contains("forbidden_address"));
    assert_eq!(runs.get(), 1);
}
