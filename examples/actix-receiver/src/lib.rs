//! The actix-web example receiver: one route per enabled sender, each with
//! its own [`WebhookConfig`], all behind the [`WebhookReplay`] middleware.
//!
//! It follows the contract in [`receiver_common`] (address, routes,
//! environment variables, JSON answers), the same as `axum-receiver`.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use hookwise::replay::ReplayStore;
use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};
use receiver_common::{Config, FailFirst, answer_json};

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
            let verifier = config
                .verifier(s, store.clone())
                .map_err(|e| format!("{}: {e}", s.env))?;
            Ok((s.route.clone(), WebhookConfig::new(verifier)))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let knobs = web::Data::new(Knobs {
        fail_first: config.fail_first.then(FailFirst::default),
        delay: config.handler_delay,
    });
    Ok(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(knobs.clone());
        for (route, webhook) in &routes {
            cfg.service(
                web::resource(route.as_str())
                    .app_data(webhook.clone())
                    .wrap(WebhookReplay::new())
                    .route(web::post().to(receive)),
            );
        }
    })
}

/// Every route's handler: answers the delivery's metadata and body digest.
async fn receive(hook: RawWebhook, knobs: web::Data<Knobs>) -> HttpResponse {
    if !knobs.delay.is_zero() {
        actix_web::rt::time::sleep(knobs.delay).await;
    }
    if let Some(ff) = &knobs.fail_first {
        if ff.first_time(hook.delivery().replay_key()) {
            return HttpResponse::InternalServerError()
                .content_type("application/json")
                .body(r#"{"error":"handler_failed"}"#);
        }
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(answer_json(hook.delivery(), hook.body()))
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
