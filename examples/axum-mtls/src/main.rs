//! `cargo run -p axum-mtls`: the axum webhook receiver behind mutual TLS.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MTLS_ADDR` | listen address | `127.0.0.1:3443` |
//! | `MTLS_SERVER_CERT`, `MTLS_SERVER_KEY`, `MTLS_CLIENT_CA` | PEM files (all three, or none for demo certificates) | demo |
//! | `MTLS_ALLOWED_DNS` | allowed client DNS SANs, comma-separated | the demo client's |
//! | `MTLS_ALLOWED_FINGERPRINT` | an allowed client certificate's SHA-256 (hex) | — |
//! | `MTLS_BASIC_AUTH` | `user:password` the sender must send too | `demo:demo-password` |

#![forbid(unsafe_code)]

use std::error::Error;
use std::path::PathBuf;

use axum_mtls::{ROUTE, Tls, demo};
use hookwise::ClientCertPolicy;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn load(cert: &str, key: &str, ca: &str) -> Result<Tls, Box<dyn Error>> {
    let certs = |path: &str| -> Result<Vec<CertificateDer<'static>>, Box<dyn Error>> {
        Ok(CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("{path}: {e}"))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{path}: {e}"))?)
    };
    Ok(Tls {
        cert_chain: certs(cert)?,
        key: PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?,
        client_ca: certs(ca)?,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let addr = var("MTLS_ADDR").unwrap_or_else(|| "127.0.0.1:3443".to_owned());
    let credentials = var("MTLS_BASIC_AUTH").unwrap_or_else(|| "demo:demo-password".to_owned());
    let mut demo_files = None;
    let tls = match (
        var("MTLS_SERVER_CERT"),
        var("MTLS_SERVER_KEY"),
        var("MTLS_CLIENT_CA"),
    ) {
        (Some(cert), Some(key), Some(ca)) => load(&cert, &key, &ca)?,
        (None, None, None) => {
            let pki = demo::generate()?;
            let dir: PathBuf = std::env::temp_dir().join("hookwise-axum-mtls-demo");
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("ca.pem"), &pki.ca_pem)?;
            std::fs::write(dir.join("client.pem"), &pki.client_cert_pem)?;
            std::fs::write(dir.join("client-key.pem"), &pki.client_key_pem)?;
            demo_files = Some(dir);
            pki.server
        }
        _ => {
            return Err("set MTLS_SERVER_CERT, MTLS_SERVER_KEY and MTLS_CLIENT_CA together".into());
        }
    };
    let mut policy = ClientCertPolicy::new();
    let dns = var("MTLS_ALLOWED_DNS").or_else(|| {
        var("MTLS_ALLOWED_FINGERPRINT")
            .is_none()
            .then(|| demo::CLIENT_DNS.to_owned())
    });
    for name in dns.iter().flat_map(|d| d.split(',')) {
        policy = policy.dns_name(name.trim());
    }
    if let Some(fp) = var("MTLS_ALLOWED_FINGERPRINT") {
        policy = policy.fingerprint_sha256(&fp)?;
    }

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    println!("hookwise axum mTLS receiver listening on https://{addr}{ROUTE}");
    if let Some(dir) = demo_files {
        let d = dir.display();
        println!("\nDemo certificates (do not use in production) in {d}. Try it:");
        println!(
            "  curl -i --cacert {d}/ca.pem --cert {d}/client.pem --key {d}/client-key.pem \
             -u {credentials} https://localhost:{port}{ROUTE} -d '{{}}'",
            port = addr.port()
        );
        println!("Without --cert/--key the answer is 403 forbidden_certificate.");
    }
    tokio::select! {
        r = axum_mtls::serve(listener, tls, policy, &credentials) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
