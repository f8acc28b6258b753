//! An axum webhook receiver behind **mutual TLS**.
//!
//! axum's `serve` speaks plain TCP, so this example runs its own accept loop:
//! tokio-rustls terminates TLS, and hyper-util serves the connection with the
//! axum [`Router`]. Before handing a request to the router, the loop inserts
//! two connection facts as request extensions, which
//! [`VerifyWebhook`] passes to the verifier:
//!
//! - the client certificates, as [`PeerCertificates`] (from the TLS session's
//!   `peer_certificates()`), for [`Check::client_cert`];
//! - the peer address, as a plain [`SocketAddr`](std::net::SocketAddr) (for
//!   an IP allow-list, if you add one).
//!
//! The TLS server verifies the client certificate's **chain** against the
//! client CA, but with [`allow_unauthenticated`](rustls::server::ClientCertVerifierBuilder::allow_unauthenticated):
//! a client without a certificate still completes the handshake, so the
//! [`ClientCertPolicy`] — not the handshake — decides, and the sender gets a
//! readable `403 {"error":"forbidden_certificate"}` instead of a TLS alert. A
//! certificate from another CA still fails the handshake.
//!
//! The route `POST /webhooks/mtls` requires both an allowed client certificate
//! and HTTP Basic credentials (a [`BasicAuth`] scheme with the certificate
//! policy as an extra [`Check`]): a missing or unknown certificate answers 403
//! `forbidden_certificate`, wrong credentials 401 `invalid_credentials`.

#![forbid(unsafe_code)]

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Request, header};
use axum::response::IntoResponse;
use axum::routing::post;
use hookwise::scheme::BasicAuth;
use hookwise::{Check, ClientCertPolicy, ConfigError, PeerCertificates, Verifier};
use hookwise_tower::{RawWebhook, VerifyWebhook};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

pub mod demo;

/// The route of the example.
pub const ROUTE: &str = "/webhooks/mtls";

/// The TLS material of the server.
#[derive(Debug)]
pub struct Tls {
    /// The server's certificate chain, leaf first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The server's private key.
    pub key: PrivateKeyDer<'static>,
    /// The CA(s) that issue client certificates.
    pub client_ca: Vec<CertificateDer<'static>>,
}

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, HTTP/2 and
/// HTTP/1.1) that asks for a client certificate, verifies its chain against
/// `tls.client_ca`, and lets clients without one through (the policy answers
/// them with 403).
///
/// # Errors
/// A CA certificate, the server certificate or key that rustls refuses.
pub fn server_config(tls: Tls) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for ca in tls.client_ca {
        roots.add(ca)?;
    }
    let client_verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()
            .map_err(|e| rustls::Error::General(format!("client verifier: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(client_verifier)
        .with_single_cert(tls.cert_chain, tls.key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The verifier of the route: HTTP Basic `credentials` (`user:password`) and a
/// client certificate allowed by `policy`.
///
/// # Errors
/// Malformed credentials or an empty policy.
pub fn verifier(policy: ClientCertPolicy, credentials: &str) -> Result<Verifier, ConfigError> {
    Verifier::builder(BasicAuth::new("mtls", "hookwise mTLS example"))
        .secret(credentials)?
        .require(Check::client_cert(policy))
        .build()
}

/// The application: `POST /webhooks/mtls`, verified by `verifier`.
pub fn app(verifier: Verifier) -> Router {
    Router::new().route(
        ROUTE,
        post(handle).route_layer(VerifyWebhook::new(verifier)),
    )
}

async fn handle(hook: RawWebhook) -> impl IntoResponse {
    let json = format!(
        r#"{{"provider":"{}","bytes":{}}}"#,
        hook.delivery.provider(),
        hook.body.len()
    );
    ([(header::CONTENT_TYPE, "application/json")], json)
}

/// Serves [`app`] over mutual TLS on `listener` until the task is dropped.
///
/// # Errors
/// The TLS material or the verifier is refused (at start-up), or accepting
/// fails.
pub async fn serve(
    listener: TcpListener,
    tls: Tls,
    policy: ClientCertPolicy,
    credentials: &str,
) -> io::Result<()> {
    let config = server_config(tls).map_err(io::Error::other)?;
    let app = app(verifier(policy, credentials).map_err(io::Error::other)?);
    serve_app(listener, config, app).await
}

/// How long a client has to complete the TLS handshake, and then each
/// request's head once it has begun (HTTP/1), before the connection is
/// dropped (actix-web's defaults are 3 s and 5 s): without a limit, a client
/// that connects and sends nothing, or half a head, holds a task and a socket
/// forever.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The accept loop: TLS handshake (within [`HANDSHAKE_TIMEOUT`]), then
/// HTTP/1.1 or HTTP/2 with `app`, each request carrying the connection's
/// [`PeerCertificates`] and [`SocketAddr`](std::net::SocketAddr).
///
/// # Errors
/// Accepting a connection fails.
pub async fn serve_app(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
) -> io::Result<()> {
    serve_app_with(listener, config, app, HANDSHAKE_TIMEOUT).await
}

/// [`serve_app`] with another deadline for the handshake and request heads.
///
/// # Errors
/// Accepting a connection fails.
pub async fn serve_app_with(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    handshake_timeout: Duration,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A failed handshake (e.g. a certificate from another CA) ends
            // the connection; rustls has already sent the alert. One not
            // finished in time ends it too.
            let Ok(Ok(tls)) = tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await
            else {
                return;
            };
            let certs =
                tls.get_ref().1.peer_certificates().map(|chain| {
                    PeerCertificates::new(chain.iter().map(|der| der.as_ref().to_vec()))
                });
            let svc = app.map_request(move |mut req: Request<hyper::body::Incoming>| {
                let ext = req.extensions_mut();
                ext.insert(peer);
                if let Some(certs) = &certs {
                    ext.insert(certs.clone());
                }
                req
            });
            // The same deadline for each request's head on HTTP/1 (hyper
            // ignores `header_read_timeout` without a timer): a client that
            // stalls in the middle of a request head is dropped too.
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(handshake_timeout);
            let _ = builder
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc))
                .await;
        });
    }
}
