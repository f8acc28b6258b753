//! Mutual TLS over real TLS connections on loopback, for both examples
//! (`axum-mtls`: a tokio-rustls accept loop; `actix-mtls`: `on_connect`).
//!
//! The certificates are generated here with rcgen: a CA, a server certificate
//! for `localhost`/`127.0.0.1`, an allowed client, a client of the same CA
//! whose identity is not allowed, and a client of another CA. The route
//! requires an allowed client certificate **and** Basic credentials.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hookwise::ClientCertPolicy;
use hookwise_e2e::{Answer, read_answer};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsConnector;

const ALLOWED_DNS: &str = "sender.e2e.test";
const CREDENTIALS: &str = "sender:s3cret-pass";
/// `Basic` + base64 of [`CREDENTIALS`].
const GOOD_BASIC: &str = "Basic c2VuZGVyOnMzY3JldC1wYXNz";
/// `Basic` + base64 of `sender:wrong-pass`.
const BAD_BASIC: &str = "Basic c2VuZGVyOndyb25nLXBhc3M=";

/// A certificate and its key, DER.
struct Identity {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

struct Pki {
    ca: CertificateDer<'static>,
    server: Identity,
    allowed: Identity,
    not_allowed: Identity,
    foreign: Identity,
}

fn ca(cn: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (params.self_signed(&key).expect("CA"), key)
}

fn leaf(
    names: &[&str],
    cn: &str,
    usage: ExtendedKeyUsagePurpose,
    ca: &(Certificate, KeyPair),
) -> Identity {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &ca.0, &ca.1).expect("leaf");
    Identity {
        cert: cert.der().clone(),
        key: key.serialize_der(),
    }
}

/// One PKI for the whole test binary (key generation is the slow part).
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = ca("e2e client and server CA");
        let other = ca("someone else's CA");
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        Pki {
            ca: root.0.der().clone(),
            server: leaf(&["localhost", "127.0.0.1"], "localhost", ServerAuth, &root),
            allowed: leaf(&[ALLOWED_DNS], "Acme Webhooks", ClientAuth, &root),
            not_allowed: leaf(&["mallory.e2e.test"], "Mallory", ClientAuth, &root),
            foreign: leaf(&[ALLOWED_DNS], "Acme Webhooks", ClientAuth, &other),
        }
    })
}

fn key_der(key: &[u8]) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()))
}

fn policy() -> ClientCertPolicy {
    ClientCertPolicy::new().dns_name(ALLOWED_DNS)
}

#[derive(Clone, Copy, Debug)]
enum Example {
    Axum,
    Actix,
}

impl Example {
    /// Starts the example on `127.0.0.1:<free port>` on its own thread.
    fn start(self) -> SocketAddr {
        let pki = pki();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        match self {
            Self::Axum => {
                let tls = axum_mtls::Tls {
                    cert_chain: vec![pki.server.cert.clone()],
                    key: key_der(&pki.server.key),
                    client_ca: vec![pki.ca.clone()],
                };
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        listener.set_nonblocking(true)?;
                        let listener = tokio::net::TcpListener::from_std(listener)?;
                        axum_mtls::serve(listener, tls, policy(), CREDENTIALS).await
                    })
                });
            }
            Self::Actix => {
                let tls = actix_mtls::Tls {
                    cert_chain: vec![pki.server.cert.clone()],
                    key: key_der(&pki.server.key),
                    client_ca: vec![pki.ca.clone()],
                };
                std::thread::spawn(move || {
                    actix_mtls::serve(listener, tls, policy(), CREDENTIALS, false)
                });
            }
        }
        addr
    }
}

/// A TLS connection (HTTP/1.1 by ALPN), with an optional client certificate.
async fn connect(
    addr: SocketAddr,
    client: Option<&Identity>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let pki = pki();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).map_err(std::io::Error::other)?;
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(std::io::Error::other)?
    .with_root_certificates(roots);
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(vec![id.cert.clone()], key_der(&id.key))
            .map_err(std::io::Error::other)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// POSTs `{}` over TLS (HTTP/1.1), with an optional client certificate and
/// `Authorization` header.
async fn post(
    addr: SocketAddr,
    client: Option<&Identity>,
    authorization: Option<&str>,
) -> std::io::Result<Answer> {
    let mut tls = connect(addr, client).await?;
    let body = "{}";
    let mut req = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        axum_mtls::ROUTE,
        body.len()
    );
    if let Some(auth) = authorization {
        req += &format!("Authorization: {auth}\r\n");
    }
    req += "\r\n";
    req += body;
    tls.write_all(req.as_bytes()).await?;
    tls.flush().await?;
    tokio::time::timeout(std::time::Duration::from_secs(10), read_answer(&mut tls))
        .await
        .map_err(std::io::Error::other)?
}

async fn allowed_certificate_and_credentials_pass(example: Example) {
    let addr = example.start();
    let a = post(addr, Some(&pki().allowed), Some(GOOD_BASIC))
        .await
        .expect("TLS request");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["provider"], "mtls", "{}", a.text());
    assert_eq!(a.json()["bytes"], 2, "{}", a.text());
}

async fn identity_not_allowed_is_403(example: Example) {
    let addr = example.start();
    let a = post(addr, Some(&pki().not_allowed), Some(GOOD_BASIC))
        .await
        .expect("TLS request");
    assert_eq!(a.status, 403, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("forbidden_certificate"));
}

async fn no_client_certificate_is_403(example: Example) {
    let addr = example.start();
    let a = post(addr, None, Some(GOOD_BASIC))
        .await
        .expect("TLS request");
    assert_eq!(a.status, 403, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("forbidden_certificate"));
    // The certificate is checked before the credentials.
    let b = post(addr, None, Some(BAD_BASIC))
        .await
        .expect("TLS request");
    assert_eq!(b.status, 403, "{}", b.text());
}

async fn allowed_certificate_with_bad_credentials_is_401(example: Example) {
    let addr = example.start();
    let a = post(addr, Some(&pki().allowed), Some(BAD_BASIC))
        .await
        .expect("TLS request");
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("invalid_credentials"));
    let b = post(addr, Some(&pki().allowed), None)
        .await
        .expect("TLS request");
    assert_eq!(b.status, 401, "{}", b.text());
    assert_eq!(b.error().as_deref(), Some("missing_signature"));
}

async fn certificate_from_another_ca_fails_the_handshake(example: Example) {
    let addr = example.start();
    let r = post(addr, Some(&pki().foreign), Some(GOOD_BASIC)).await;
    assert!(
        r.as_ref().is_err() || r.as_ref().is_ok_and(|a| a.status == 0),
        "a certificate of another CA got an answer: {r:?}"
    );
}

/// The axum example on the current runtime, with a short deadline.
async fn start_axum_with_deadline(deadline: std::time::Duration) -> SocketAddr {
    let pki = pki();
    let tls = axum_mtls::Tls {
        cert_chain: vec![pki.server.cert.clone()],
        key: key_der(&pki.server.key),
        client_ca: vec![pki.ca.clone()],
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = axum_mtls::server_config(tls).expect("tls config");
    let app = axum_mtls::app(axum_mtls::verifier(policy(), CREDENTIALS).expect("verifier"));
    tokio::spawn(axum_mtls::serve_app_with(listener, config, app, deadline));
    addr
}

/// A client that connects and never starts the TLS handshake is dropped
/// (axum: the example's `HANDSHAKE_TIMEOUT`, here shortened; actix: actix-web's
/// own 3 s default), instead of holding a task and a socket forever.
async fn silent_client_is_dropped(example: Example) {
    use tokio::io::AsyncReadExt as _;
    let addr = match example {
        Example::Axum => start_axum_with_deadline(std::time::Duration::from_millis(200)).await,
        Example::Actix => example.start(),
    };
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut buf = [0u8; 64];
    // Generous: the point is that the server closes at all (EOF or reset).
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), tcp.read(&mut buf))
        .await
        .expect("the server kept a silent connection open for 30 s");
    assert!(matches!(read, Ok(0) | Err(_)), "unexpected bytes: {read:?}");
}

/// A client that completes the handshake and then stalls in the middle of a
/// request head is dropped too (axum: the request-head deadline, here
/// shortened; actix: actix-web's 5 s client request timeout).
async fn stalled_request_head_is_dropped(example: Example) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = match example {
        Example::Axum => start_axum_with_deadline(std::time::Duration::from_millis(200)).await,
        Example::Actix => example.start(),
    };
    let mut tls = connect(addr, Some(&pki().allowed))
        .await
        .expect("TLS handshake");
    // Half a request head, then nothing.
    tls.write_all(b"POST /webhooks/mtls HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    tls.flush().await.expect("flush");
    // The server may answer 408 before it closes; it must close.
    let mut got = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tls.read_to_end(&mut got),
    )
    .await
    .expect("the server kept a stalled request open for 30 s");
    let text = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected answer: {text}"
    );
}

macro_rules! cases {
    ($example:expr) => {
        #[tokio::test]
        async fn allowed_certificate_and_credentials_pass() {
            super::allowed_certificate_and_credentials_pass($example).await;
        }
        #[tokio::test]
        async fn identity_not_allowed_is_403() {
            super::identity_not_allowed_is_403($example).await;
        }
        #[tokio::test]
        async fn no_client_certificate_is_403() {
            super::no_client_certificate_is_403($example).await;
        }
        #[tokio::test]
        async fn allowed_certificate_with_bad_credentials_is_401() {
            super::allowed_certificate_with_bad_credentials_is_401($example).await;
        }
        #[tokio::test]
        async fn certificate_from_another_ca_fails_the_handshake() {
            super::certificate_from_another_ca_fails_the_handshake($example).await;
        }
        #[tokio::test]
        async fn silent_client_is_dropped() {
            super::silent_client_is_dropped($example).await;
        }
        #[tokio::test]
        async fn stalled_request_head_is_dropped() {
            super::stalled_request_head_is_dropped($example).await;
        }
    };
}

mod axum {
    use super::Example;
    cases!(Example::Axum);
}

mod actix {
    use super::Example;
    cases!(Example::Actix);
}
