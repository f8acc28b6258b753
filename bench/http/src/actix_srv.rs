//! The actix-web 4 variants, on one worker thread.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::{self, Next};
use actix_web::{App, Error, HttpRequest, HttpResponse, HttpServer, web};
use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};

use crate::common::{self, MAX_BODY, PATH};

/// The plain handler: takes the body as `web::Bytes`, answers 200.
async fn plain(body: web::Bytes) -> HttpResponse {
    common::hold().await;
    std::hint::black_box(&body);
    common::handled();
    HttpResponse::Ok().finish()
}

/// The hand-written check inside the handler.
async fn hand(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let sig = req
        .headers()
        .get("x-hub-signature-256")
        .map(|v| v.as_bytes());
    if !common::hand_check(sig, &body) {
        return HttpResponse::Unauthorized().finish();
    }
    common::hold().await;
    std::hint::black_box(&body);
    common::handled();
    HttpResponse::Ok().finish()
}

/// A hand-written buffering middleware (`middleware::from_fn`): collect,
/// verify, put the bytes back as the payload.
async fn hand_middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let bytes = req.extract::<web::Bytes>().await?;
    let sig = req
        .headers()
        .get("x-hub-signature-256")
        .map(|v| v.as_bytes());
    if !common::hand_check(sig, &bytes) {
        return Ok(req
            .into_response(HttpResponse::Unauthorized().finish())
            .map_into_right_body());
    }
    req.set_payload(Payload::from(bytes));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The handler behind the hookwise extractor.
async fn verified(hook: RawWebhook) -> HttpResponse {
    common::hold().await;
    std::hint::black_box(&hook);
    common::handled();
    HttpResponse::Ok().finish()
}

async fn count() -> String {
    common::handled_count().to_string()
}

async fn heap() -> String {
    common::heap_stats()
}

/// Serves `variant` on `addr` until killed.
pub(crate) fn serve(variant: &str, addr: &str) -> Result<(), String> {
    #[cfg(feature = "heap-stats")]
    let _heap = common::heap_profiler();
    let replay = match variant {
        "actix-plain" | "actix-hand" | "actix-hand-middleware" | "actix-hookwise" => false,
        "actix-hookwise-replay" => true,
        other => return Err(format!("unknown actix variant `{other}`")),
    };
    let variant = variant.to_owned();
    // One verifier (and so one replay store) shared by the app factory.
    let config = WebhookConfig::new(if replay {
        common::replay_verifier()
    } else {
        common::verifier()
    });
    let name = variant.clone();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .route("/count", web::get().to(count))
                .route("/heap", web::get().to(heap));
            match name.as_str() {
                "actix-plain" => app.route(PATH, web::post().to(plain)),
                "actix-hand" => app.route(PATH, web::post().to(hand)),
                "actix-hand-middleware" => app.service(
                    web::resource(PATH)
                        .wrap(middleware::from_fn(hand_middleware))
                        .route(web::post().to(plain)),
                ),
                "actix-hookwise" => app.service(
                    web::resource(PATH)
                        .app_data(config.clone())
                        .route(web::post().to(verified)),
                ),
                _ => app.service(
                    web::resource(PATH)
                        .app_data(config.clone())
                        .wrap(WebhookReplay::new())
                        .route(web::post().to(verified)),
                ),
            }
        })
        .workers(1)
        .bind(addr)
        .map_err(|e| format!("bind {addr}: {e}"))?;
        eprintln!("{variant} listening on {addr}");
        server.run().await.map_err(|e| e.to_string())
    })
}

/// `n` requests through the app in-process (`actix_web::test`, no sockets),
/// cycling through 1000 signed 1 KiB deliveries: the fixed workload for
/// callgrind, as `axum_srv::profile`. Every variant `serve` has.
pub(crate) fn profile(variant: &str, n: usize) -> Result<(), String> {
    use actix_web::test;
    let deliveries = common::deliveries(1000, 1024);
    let config = WebhookConfig::new(if variant == "actix-hookwise-replay" {
        common::replay_verifier()
    } else {
        common::verifier()
    });
    macro_rules! drive {
        ($app:expr) => {{
            let app = test::init_service($app).await;
            for i in 0..n {
                let d = &deliveries[i % deliveries.len()];
                let mut req = test::TestRequest::post()
                    .uri(PATH)
                    .insert_header(("content-type", "application/json"));
                for (k, v) in &d.headers {
                    req = req.insert_header((k.as_str(), v.as_str()));
                }
                let res =
                    test::call_service(&app, req.set_payload(d.body.clone()).to_request()).await;
                if !res.status().is_success() {
                    return Err(format!("request {i}: status {}", res.status()));
                }
            }
            Ok(())
        }};
    }
    let start = std::time::Instant::now();
    let driven = actix_web::rt::System::new().block_on(async move {
        let base = App::new().app_data(web::PayloadConfig::new(MAX_BODY));
        match variant {
            "actix-plain" => drive!(base.route(PATH, web::post().to(plain))),
            "actix-hand" => drive!(base.route(PATH, web::post().to(hand))),
            "actix-hand-middleware" => drive!(
                base.service(
                    web::resource(PATH)
                        .wrap(middleware::from_fn(hand_middleware))
                        .route(web::post().to(plain)),
                )
            ),
            "actix-hookwise-replay" => drive!(
                base.service(
                    web::resource(PATH)
                        .app_data(config.clone())
                        .wrap(WebhookReplay::new())
                        .route(web::post().to(verified)),
                )
            ),
            "actix-hookwise" => drive!(
                base.service(
                    web::resource(PATH)
                        .app_data(config.clone())
                        .route(web::post().to(verified)),
                )
            ),
            other => Err(format!("profile: unknown actix variant `{other}`")),
        }
    });
    driven?;
    common::report_profile(variant, n, start);
    Ok(())
}
