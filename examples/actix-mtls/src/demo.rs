//! Demo certificates, generated with `rcgen` when none are given: a CA, a
//! server certificate for `localhost` and `127.0.0.1`, and a client
//! certificate (`CN=demo-sender`, DNS SAN `sender.demo.hookwise`). For trying
//! the example only.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::Tls;

/// The client identity the demo certificate carries (a DNS SAN).
pub const CLIENT_DNS: &str = "sender.demo.hookwise";

/// The demo CA, server and client certificates.
#[derive(Debug)]
pub struct DemoPki {
    /// The CA certificate (PEM): trust it on the client (`curl --cacert`).
    pub ca_pem: String,
    /// The server's TLS material.
    pub server: Tls,
    /// The client certificate (PEM), `curl --cert`.
    pub client_cert_pem: String,
    /// The client key (PEM), `curl --key`.
    pub client_key_pem: String,
}

fn leaf(
    names: &[&str],
    cn: &str,
    usage: ExtendedKeyUsagePurpose,
    ca: &Certificate,
    ca_key: &KeyPair,
) -> Result<(Certificate, KeyPair), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, ca, ca_key)?;
    Ok((cert, key))
}

/// Generates a fresh demo PKI.
///
/// # Errors
/// rcgen fails (it should not).
pub fn generate() -> Result<DemoPki, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "hookwise demo CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key)?;
    let (server, server_key) = leaf(
        &["localhost", "127.0.0.1"],
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
        &ca,
        &ca_key,
    )?;
    let (client, client_key) = leaf(
        &[CLIENT_DNS],
        "demo-sender",
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca,
        &ca_key,
    )?;
    Ok(DemoPki {
        ca_pem: ca.pem(),
        server: Tls {
            cert_chain: vec![server.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            client_ca: vec![CertificateDer::from(ca.der().to_vec())],
        },
        client_cert_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}
