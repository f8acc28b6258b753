//! Checks required together: IP allow-list + HMAC, mutual TLS + Basic auth;
//! the rejection names the check that failed.

use hookwise::scheme::{BasicAuth, SignParams};
use hookwise::{
    Check, ClientCertPolicy, FixedClock, HeaderList, IpAllowList, PeerCertificates, RequestParts,
    Verifier, providers,
};
use sha2::{Digest, Sha256};

fn cert(cn: &str, dns: &str) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(vec![dns.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

#[test]
fn ip_allow_list_and_hmac_together() {
    let v = Verifier::builder(providers::github())
        .secret("s")
        .unwrap()
        .require(Check::ip(
            IpAllowList::new(["192.30.252.0/22"])
                .unwrap()
                .trust_proxies(["127.0.0.1"])
                .unwrap(),
        ))
        .without_replay_store()
        .build()
        .unwrap();
    let body = b"{}";
    let signed = providers::github()
        .sign("s", body, &SignParams::default())
        .unwrap()
        .headers;
    let from = |peer: &str, h: &HeaderList| {
        v.verify(
            &RequestParts::new(h).peer(Some(peer.parse().unwrap())),
            body,
        )
        .map(|_| ())
        .map_err(|e| e.code())
    };
    assert_eq!(from("192.30.252.7:5000", &signed), Ok(()));
    assert_eq!(from("203.0.113.1:5000", &signed), Err("forbidden_address"));
    // Through a trusted proxy, the forwarded client counts.
    let mut via = signed.clone();
    via.push("X-Forwarded-For", "192.30.253.9");
    assert_eq!(from("127.0.0.1:5000", &via), Ok(()));
    let mut spoofed = signed.clone();
    spoofed.push("X-Forwarded-For", "192.30.253.9");
    assert_eq!(
        from("203.0.113.1:5000", &spoofed),
        Err("forbidden_address"),
        "X-Forwarded-For from an untrusted peer is ignored"
    );
    // The right address with a bad signature still fails, on the signature.
    let forged =
        HeaderList::new().with("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)));
    assert_eq!(
        from("192.30.252.7:5000", &forged),
        Err("signature_mismatch")
    );
    // No peer address known: fail closed.
    assert_eq!(
        v.verify(&RequestParts::new(&signed), body)
            .unwrap_err()
            .code(),
        "forbidden_address"
    );
}

#[test]
fn mtls_and_basic_auth_together() {
    let allowed = cert("Acme Webhooks", "sender.example.com");
    let other = cert("Mallory", "mallory.example.net");
    let policy = ClientCertPolicy::new().dns_name("SENDER.example.com");
    let v = Verifier::builder(BasicAuth::new("docusign", "hooks"))
        .secret("user:pa55")
        .unwrap()
        .require(Check::client_cert(policy))
        .build()
        .unwrap();
    let basic = HeaderList::new().with("Authorization", "Basic dXNlcjpwYTU1");
    let certs = |der: &Vec<u8>| PeerCertificates::new([der.clone()]);
    let ok = certs(&allowed);
    let bad = certs(&other);
    let run = |h: &HeaderList, c: Option<&PeerCertificates>| {
        v.check_headers(&RequestParts::new(h).peer_certificates(c))
            .map(|_| ())
            .map_err(|e| (e.status(), e.code()))
    };
    assert_eq!(run(&basic, Some(&ok)), Ok(()));
    assert_eq!(run(&basic, Some(&bad)), Err((403, "forbidden_certificate")));
    assert_eq!(run(&basic, None), Err((403, "forbidden_certificate")));
    assert_eq!(
        run(
            &HeaderList::new().with("Authorization", "Basic dXNlcjpwYTU2"),
            Some(&ok)
        ),
        Err((401, "invalid_credentials"))
    );
    assert_eq!(
        run(&HeaderList::new(), Some(&ok)),
        Err((401, "missing_signature"))
    );
}

#[test]
fn mtls_identities_by_cn_fingerprint_and_garbage() {
    let der = cert("Acme Webhooks", "sender.example.com");
    let fp = hex::encode(Sha256::digest(&der));
    let certs = PeerCertificates::new([der.clone()]);
    assert!(
        ClientCertPolicy::new()
            .subject_cn("Acme Webhooks")
            .check(Some(&certs))
            .is_ok()
    );
    assert!(
        ClientCertPolicy::new()
            .subject_cn("acme webhooks")
            .check(Some(&certs))
            .is_err()
    );
    assert!(
        ClientCertPolicy::new()
            .fingerprint_sha256(&fp)
            .unwrap()
            .check(Some(&certs))
            .is_ok()
    );
    let colon: String = fp
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
        .to_uppercase();
    assert!(
        ClientCertPolicy::new()
            .fingerprint_sha256(&colon)
            .unwrap()
            .check(Some(&certs))
            .is_ok()
    );
    assert!(ClientCertPolicy::new().fingerprint_sha256("abcd").is_err());
    let garbage = PeerCertificates::new([vec![0x30, 0x03, 0x02, 0x01]]);
    assert_eq!(
        ClientCertPolicy::new()
            .dns_name("x")
            .check(Some(&garbage))
            .unwrap_err()
            .code(),
        "forbidden_certificate"
    );
    // An empty policy is a start-up error, not an open door.
    let v = Verifier::builder(providers::github())
        .secret("s")
        .unwrap()
        .require(Check::client_cert(ClientCertPolicy::new()))
        .build();
    assert!(v.is_err());
}

#[test]
fn check_also_takes_header_only_schemes() {
    let token = Verifier::builder(providers::gitlab())
        .secret("t")
        .unwrap()
        .build()
        .unwrap();
    let github = Verifier::builder(providers::github())
        .secret("s")
        .unwrap()
        .build()
        .unwrap();
    assert!(Check::also(github).is_err());
    let v = Verifier::builder(providers::github())
        .secret("s")
        .unwrap()
        .require(Check::also(token).unwrap())
        .clock(FixedClock::new(0))
        .build()
        .unwrap();
    let mut h = providers::github()
        .sign("s", b"x", &SignParams::default())
        .unwrap()
        .headers;
    assert_eq!(
        v.verify(&RequestParts::new(&h), b"x").unwrap_err().code(),
        "missing_signature"
    );
    h.push("X-Gitlab-Token", "t");
    assert!(v.verify(&RequestParts::new(&h), b"x").is_ok());
}
