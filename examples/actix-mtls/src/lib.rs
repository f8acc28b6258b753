//! An actix-web webhook receiver behind **mutual TLS**.
//!
//! actix-web terminates TLS itself (`listen_rustls_0_23`, feature
//! `rustls-0_23`). For every connection, [`HttpServer::on_connect`] reads the
//! client certificates from the rustls session and stores them as connection
//! data ([`PeerCertificates`]); the [`hookwise_actix`] extractors pass them,
//! with the peer address, to the verifier.
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

use std::any::Any;
use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use actix_web::{App, HttpResponse, HttpServer, web};
use hookwise::scheme::BasicAuth;
use hookwise::{Check, ClientCertPolicy, ConfigError, PeerCertificates, Verifier};
use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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
pub fn server_config(tls: Tls) -> Result<rustls::ServerConfig, rustls::Error> {
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
    Ok(config)
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

/// The `on_connect` callback: copies the client certificates of a rustls
/// connection into the connection data, where
/// [`Webhook`](hookwise_actix::Webhook) and [`RawWebhook`] find them.
pub fn peer_certificates(conn: &dyn Any, data: &mut Extensions) {
    if let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() {
        let (_, session) = tls.get_ref();
        if let Some(chain) = session.peer_certificates() {
            data.insert(PeerCertificates::new(
                chain.iter().map(|der| der.as_ref().to_vec()),
            ));
        }
    }
}

/// The route, for `App::configure`.
pub fn routes(verifier: Verifier) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let config = WebhookConfig::new(verifier);
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource(ROUTE)
                .app_data(config.clone())
                .wrap(WebhookReplay::new())
                .route(web::post().to(handle)),
        );
    }
}

async fn handle(hook: RawWebhook) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(format!(
            r#"{{"provider":"{}","bytes":{}}}"#,
            hook.delivery().provider(),
            hook.body().len()
        ))
}

/// Serves the route over mutual TLS on `listener` until the server is stopped
/// (blocking: starts an actix system with two workers, installs no signal
/// handlers unless `signals`).
///
/// # Errors
/// The TLS material or the verifier is refused, or the server fails.
pub fn serve(
    listener: TcpListener,
    tls: Tls,
    policy: ClientCertPolicy,
    credentials: &str,
    signals: bool,
) -> io::Result<()> {
    let config = server_config(tls).map_err(io::Error::other)?;
    let routes = routes(verifier(policy, credentials).map_err(io::Error::other)?);
    actix_web::rt::System::new().block_on(async move {
        listener.set_nonblocking(true)?;
        let mut server = HttpServer::new(move || App::new().configure(routes.clone()))
            .on_connect(peer_certificates)
            .workers(2)
            .shutdown_timeout(5)
            .listen_rustls_0_23(listener, config)?;
        if !signals {
            server = server.disable_signals();
        }
        server.run().await
    })
}
