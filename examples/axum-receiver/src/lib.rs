//! The axum example receiver: one route per sender, each behind its own
//! [`VerifyWebhook`] layer, answering the JSON of [`receiver_common`].
//!
//! Run it with `cargo run -p axum-receiver`; see the README and
//! [`receiver_common`] for the environment variables.

#![forbid(unsafe_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, post_service};
use hookwise::replay::ReplayStore;
use hookwise_tower::{EventRouter, RawWebhook, VerifyWebhook, Webhook};
use receiver_common::{Config, FailFirst};

/// What the handlers share.
#[derive(Debug)]
struct AppState {
    fail_first: Option<FailFirst>,
    delay: std::time::Duration,
}

/// The application: `POST` on every enabled sender's route, verified by its
/// own layer, all sharing `store` for replay protection.
///
/// # Errors
/// A sender's secret is not valid for it (e.g. a Standard Webhooks secret that
/// is not `whsec_` + base64).
pub fn app(config: &Config, store: Arc<dyn ReplayStore>) -> Result<Router, String> {
    let state = Arc::new(AppState {
        fail_first: config.fail_first.then(FailFirst::default),
        delay: config.handler_delay,
    });
    let mut router = Router::new();
    for sender in &config.senders {
        let verifier = config.verifier_for(sender, Arc::clone(&store))?;
        // The peer address (for `HOOKWISE_ALLOW_IPS`) is axum's `ConnectInfo`,
        // present because `serve` uses `into_make_service_with_connect_info`.
        // Handshakes (Slack url_verification, Discord PING, …) are answered by
        // the layer once the request is verified.
        let layer = VerifyWebhook::new(verifier)
            .peer_addr_from(connect_info)
            .answer_handshakes();
        let route = if sender.provider == "github" {
            // Routing by event type: a typed handler for `ping`, the common
            // handler for everything else.
            let (ping_state, rest_state) = (Arc::clone(&state), Arc::clone(&state));
            post_service(
                EventRouter::new()
                    .on("ping", move |hook: Webhook<receiver_common::Ping>| {
                        let state = Arc::clone(&ping_state);
                        async move {
                            let extra = ("zen", hook.payload.zen.clone());
                            respond(&state, &hook.delivery, &hook.body, Some(extra)).await
                        }
                    })
                    .fallback(move |hook: RawWebhook| {
                        let state = Arc::clone(&rest_state);
                        async move { respond(&state, &hook.delivery, &hook.body, None).await }
                    }),
            )
        } else {
            post(handle)
        };
        router = router.route(&sender.route, route.route_layer(layer));
    }
    Ok(router.with_state(state))
}

/// Where the layer finds the client address: axum's `ConnectInfo<SocketAddr>`.
fn connect_info(ext: &axum::http::Extensions) -> Option<SocketAddr> {
    ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

/// Every route's handler: the verified bytes and delivery in, the contract's
/// JSON out.
async fn handle(State(state): State<Arc<AppState>>, hook: RawWebhook) -> Response {
    respond(&state, &hook.delivery, &hook.body, None).await
}

/// The contract's answer (plus `extra`, a field a typed handler adds), after
/// the testing knobs.
async fn respond(
    state: &AppState,
    delivery: &hookwise::Delivery,
    body: &[u8],
    extra: Option<(&str, String)>,
) -> Response {
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    if let Some(ff) = &state.fail_first {
        if ff.first_time(delivery.replay_key()) {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                receiver_common::FAIL_FIRST_BODY,
            )
                .into_response();
        }
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        receiver_common::answer_json_with(delivery, body, extra),
    )
        .into_response()
}

/// Serves `config` on `listener` until the process ends.
///
/// # Errors
/// The replay store cannot be built (Redis unreachable), a secret is invalid,
/// or the server fails.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    serve_with_shutdown(listener, config, std::future::pending()).await
}

/// Serves `config` on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
///
/// # Errors
/// See [`serve`].
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = config.replay_store().await.map_err(std::io::Error::other)?;
    let app = app(&config, store).map_err(std::io::Error::other)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use hookwise::providers;
    use hookwise::replay::MemoryStore;
    use hookwise::scheme::SignParams;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn demo_github_route_answers_the_contract_json() {
        let config = Config::from_lookup(|_| None).unwrap();
        let app = app(&config, Arc::new(MemoryStore::default())).unwrap();
        let body = br#"{"zen":"hi"}"#;
        let signed = providers::github()
            .sign(
                "demo-github-secret",
                body,
                &SignParams {
                    event: Some("ping"),
                    id: Some("d-1"),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let mut req = Request::post("/webhooks/github");
        for (n, v) in signed.headers.iter() {
            req = req.header(n, v);
        }
        let res = app
            .oneshot(req.body(Body::from(&body[..])).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        let json: serde_json::Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(json["provider"], "github");
        assert_eq!(json["delivery_id"], "d-1");
        assert_eq!(json["event_type"], "ping");
    }

    #[test]
    fn bad_secret_is_a_startup_error() {
        let config = Config::from_lookup(|k| {
            (k == "STANDARD_WEBHOOK_SECRET").then(|| "whsec_!!!not-base64".to_owned())
        })
        .unwrap();
        let err = app(&config, Arc::new(MemoryStore::default())).unwrap_err();
        assert!(err.contains("STANDARD_WEBHOOK_SECRET"), "{err}");
    }
}
