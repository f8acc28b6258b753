//! The actix-web example receiver: one route per enabled sender, each with
//! its own [`WebhookConfig`], all behind the [`WebhookReplay`] middleware.
//!
//! It follows the contract in [`receiver_common`] (address, routes,
//! environment variables, JSON answers), the same as `axum-receiver`.

#![forbid(unsafe_code)]

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use hookwise::replay::ReplayStore;
use hookwise_actix::{EventRouter, RawWebhook, Webhook, WebhookConfig, WebhookReplay};
use receiver_common::{Config, FailFirst};

/// What the handler needs besides the delivery.
#[derive(Debug)]
struct Knobs {
    fail_first: Option<FailFirst>,
    delay: Duration,
}

/// The routes of `config`, ready for `App::configure` (called once per worker).
///
/// # Errors
/// A secret that its sender would not accept.
pub fn app_config(
    config: &Config,
    store: Arc<dyn ReplayStore>,
) -> Result<impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static, String> {
    let routes = config
        .senders
        .iter()
        .map(|s| {
            let verifier = config.verifier_for(s, store.clone())?;
            // Handshakes (Slack url_verification, Discord PING, …) are answered
            // by the extractor once the request is verified.
            Ok((
                s.route.clone(),
                s.provider == "github",
                WebhookConfig::new(verifier).answer_handshakes(),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let knobs = web::Data::new(Knobs {
        fail_first: config.fail_first.then(FailFirst::default),
        delay: config.handler_delay,
    });
    Ok(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(knobs.clone());
        for (route, github, webhook) in &routes {
            let resource = web::resource(route.as_str())
                .app_data(webhook.clone())
                .wrap(WebhookReplay::new());
            if *github {
                // Routing by event type: a typed handler for `ping`, the common
                // handler for everything else.
                let (ping_knobs, rest_knobs) = (knobs.clone(), knobs.clone());
                let events = EventRouter::new()
                    .on("ping", move |hook: Webhook<receiver_common::Ping>| {
                        let knobs = ping_knobs.clone();
                        async move {
                            let (payload, body, delivery) = hook.into_parts();
                            respond(&knobs, &delivery, &body, Some(("zen", payload.zen))).await
                        }
                    })
                    .fallback(move |hook: RawWebhook| {
                        let knobs = rest_knobs.clone();
                        async move { respond(&knobs, hook.delivery(), hook.body(), None).await }
                    });
                cfg.service(resource.route(web::post().to(events.handler())));
            } else {
                cfg.service(resource.route(web::post().to(receive)));
            }
        }
    })
}

/// Every route's handler: answers the delivery's metadata and body digest.
async fn receive(hook: RawWebhook, knobs: web::Data<Knobs>) -> HttpResponse {
    respond(&knobs, hook.delivery(), hook.body(), None).await
}

/// The contract's answer (plus `extra`, a field a typed handler adds), after
/// the testing knobs.
async fn respond(
    knobs: &Knobs,
    delivery: &hookwise::Delivery,
    body: &[u8],
    extra: Option<(&str, String)>,
) -> HttpResponse {
    if !knobs.delay.is_zero() {
        actix_web::rt::time::sleep(knobs.delay).await;
    }
    if let Some(ff) = &knobs.fail_first {
        if ff.first_time(delivery.replay_key()) {
            return HttpResponse::InternalServerError()
                .content_type("application/json")
                .body(receiver_common::FAIL_FIRST_BODY);
        }
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(receiver_common::answer_json_with(delivery, body, extra))
}

/// Serves `config` on `listener` until the server is stopped (blocking): starts
/// an actix system, builds the replay store, and runs two workers. It installs
/// no signal handlers, so it can run on a thread of a test or another program.
///
/// # Errors
/// The listener cannot be used, the replay store cannot be reached, or a secret
/// is refused.
pub fn serve_std(listener: TcpListener, config: Config) -> io::Result<()> {
    serve(listener, config, false)
}

/// Like [`serve_std`], and stops gracefully on Ctrl-C / SIGTERM (for `main`).
///
/// # Errors
/// See [`serve_std`].
pub fn serve_until_signal(listener: TcpListener, config: Config) -> io::Result<()> {
    serve(listener, config, true)
}

fn serve(listener: TcpListener, config: Config, signals: bool) -> io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let store = config.replay_store().await.map_err(io::Error::other)?;
        let routes = app_config(&config, store).map_err(io::Error::other)?;
        listener.set_nonblocking(true)?;
        let mut server = HttpServer::new(move || App::new().configure(routes.clone()))
            .workers(2)
            .shutdown_timeout(5)
            .listen(listener)?;
        if !signals {
            server = server.disable_signals();
        }
        server.run().await
    })
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::test;
    use hookwise::providers;
    use hookwise::replay::MemoryStore;
    use hookwise::scheme::SignParams;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    fn github_request(secret: &str, body: &'static [u8]) -> test::TestRequest {
        let signed = providers::github()
            .sign(
                secret,
                body,
                &SignParams {
                    event: Some("push"),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let mut req = test::TestRequest::post()
            .uri("/webhooks/github")
            .insert_header(("content-type", "application/json"));
        for (name, value) in signed.headers.iter() {
            req = req.insert_header((name, std::str::from_utf8(value).unwrap()));
        }
        req.set_payload(body)
    }

    #[actix_web::test]
    async fn answers_the_contract_json_then_a_duplicate() {
        let config = config(&[]);
        let routes = app_config(&config, Arc::new(MemoryStore::default())).unwrap();
        let app = test::init_service(App::new().configure(routes)).await;
        let body = br#"{"ref":"refs/heads/main"}"#;
        let secret = &config.senders[0].secret;

        let res = test::call_service(&app, github_request(secret, body).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let json: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(json["provider"], "github");
        assert_eq!(json["event_type"], "push");
        assert_eq!(json["body_sha256"].as_str().unwrap().len(), 64);

        let res = test::call_service(&app, github_request(secret, body).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("hookwise-duplicate"));
    }

    #[actix_web::test]
    async fn fail_first_answers_500_once_then_processes_the_retry() {
        let config = config(&[
            ("GITHUB_WEBHOOK_SECRET", "s3cret"),
            ("HOOKWISE_FAIL_FIRST", "1"),
        ]);
        let routes = app_config(&config, Arc::new(MemoryStore::default())).unwrap();
        let app = test::init_service(App::new().configure(routes)).await;
        let body = br#"{"zen":"retry"}"#;

        let res = test::call_service(&app, github_request("s3cret", body).to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let res = test::call_service(&app, github_request("s3cret", body).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(!res.headers().contains_key("hookwise-duplicate"));

        // Only the configured sender has a route.
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/webhooks/stripe")
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
