//! Public-key schemes with generated key pairs: Ed25519 (Discord, Standard
//! Webhooks `v1a`, mixed `v1`/`v1a` lists) and ECDSA P-256 (SendGrid).

use hookwise::scheme::SignParams;
use hookwise::{
    ConfigError, FixedClock, HeaderList, Headers, Lookup, RequestParts, Scheme, Verifier, providers,
};

const NOW: i64 = 1_700_000_000;

fn verifier(scheme: &Scheme, keys: &[&str]) -> Result<Verifier, ConfigError> {
    let mut b = Verifier::builder(scheme.clone())
        .clock(FixedClock::new(NOW))
        .without_replay_store();
    for k in keys {
        b = b.secret(k)?;
    }
    b.build()
}

fn code(v: &Verifier, h: &HeaderList, body: &[u8]) -> &'static str {
    match v.verify(&RequestParts::new(h), body) {
        Ok(_) => "valid",
        Err(e) => e.code(),
    }
}

fn header(h: &HeaderList, name: &str) -> String {
    match h.lookup(name) {
        Lookup::One(v) => String::from_utf8(v.to_vec()).unwrap(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn discord_and_sendgrid_round_trip_with_generated_keys() {
    for (scheme, private, sig_header) in [
        (
            providers::discord(),
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "x-signature-ed25519",
        ),
        (
            providers::sendgrid(),
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
            "x-twilio-email-event-webhook-signature",
        ),
    ] {
        let public = scheme.public_key_for(private).unwrap();
        let body = br#"{"id":"987","type":1}"#;
        let signed = scheme
            .sign(
                private,
                body,
                &SignParams {
                    timestamp: Some(NOW),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let v = verifier(&scheme, &[&public]).unwrap();
        assert_eq!(
            code(&v, &signed.headers, body),
            "valid",
            "{}",
            scheme.provider()
        );
        // Tampered body, wrong key.
        assert_eq!(
            code(&v, &signed.headers, br#"{"id":"988","type":1}"#),
            "signature_mismatch"
        );
        let other = verifier(
            &scheme,
            &[&scheme.public_key_for(&"22".repeat(32)).unwrap()],
        )
        .unwrap();
        assert_eq!(code(&other, &signed.headers, body), "signature_mismatch");
        // Malformed signature encodings are 400, not a pass and not a panic.
        for bad in ["zz", "", "00", &"ab".repeat(200)] {
            let mut h: HeaderList = signed
                .headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case(sig_header))
                .map(|(n, v)| (n.to_owned(), v.to_vec()))
                .collect();
            h.push(sig_header, bad);
            let c = code(&v, &h, body);
            assert!(
                matches!(c, "malformed_header" | "signature_mismatch"),
                "{bad}: {c}"
            );
        }
        // Malformed keys are refused at start-up.
        for bad in ["not-a-key", "00", "whpk_AAAA", &"00".repeat(32)] {
            assert!(verifier(&scheme, &[bad]).is_err(), "{bad}");
        }
    }
}

#[test]
fn discord_rejects_invalid_signatures_with_401() {
    let scheme = providers::discord();
    let public = scheme.public_key_for(&"33".repeat(32)).unwrap();
    let v = verifier(&scheme, &[&public]).unwrap();
    let h = HeaderList::new()
        .with("X-Signature-Ed25519", "00".repeat(64))
        .with("X-Signature-Timestamp", NOW.to_string());
    let e = v
        .verify(&RequestParts::new(&h), b"{\"type\":1}")
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (401, "signature_mismatch"));
}

#[test]
fn sendgrid_signatures_are_randomized_but_verify() {
    // Two different valid DER signatures over the same message both verify:
    // verification never re-signs and compares.
    let scheme = providers::sendgrid();
    let private = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
    let public = scheme.public_key_for(private).unwrap();
    let v = verifier(&scheme, &[&public]).unwrap();
    let body = b"[{\"event\":\"delivered\"}]\r\n";
    let a = scheme
        .sign(
            private,
            body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap();
    assert_eq!(code(&v, &a.headers, body), "valid");
    assert_eq!(
        code(&v, &a.headers, &body[..body.len() - 2]),
        "signature_mismatch",
        "the trailing CRLF is signed"
    );
}

#[test]
fn standard_v1a_and_mixed_lists() {
    let scheme = providers::standard();
    let private = "whsk_ERERERERERERERERERERERERERERERERERERERERERE=".to_owned();
    let public = scheme.public_key_for(&private).unwrap();
    assert!(public.starts_with("whpk_"));
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"type":"invoice.paid"}"#;
    let p = SignParams {
        timestamp: Some(NOW),
        id: Some("msg_1"),
        ..SignParams::default()
    };
    let v1a = scheme.sign(&private, body, &p).unwrap();
    let v1 = scheme.sign(secret, body, &p).unwrap();
    let sig_v1a = header(&v1a.headers, "webhook-signature");
    let sig_v1 = header(&v1.headers, "webhook-signature");
    assert!(sig_v1a.starts_with("v1a,") && sig_v1.starts_with("v1,"));
    let with = |sig: &str| {
        HeaderList::new()
            .with("webhook-id", "msg_1")
            .with("webhook-timestamp", NOW.to_string())
            .with("webhook-signature", sig)
    };
    // Public key only: v1a passes, v1 alone cannot.
    let pk_only = verifier(&scheme, &[&public]).unwrap();
    assert_eq!(code(&pk_only, &with(&sig_v1a), body), "valid");
    assert_eq!(code(&pk_only, &with(&sig_v1), body), "signature_mismatch");
    // Both keys; mixed lists in either order, with junk.
    let both = verifier(&scheme, &[secret, &public]).unwrap();
    for list in [
        format!("{sig_v1} {sig_v1a}"),
        format!("{sig_v1a} {sig_v1}"),
        format!("v1,AAAA v2,zzz {sig_v1a}"),
        format!("v1a,AAAA {sig_v1}"),
    ] {
        assert_eq!(code(&both, &with(&list), body), "valid", "{list}");
    }
    assert_eq!(
        code(&both, &with(&format!("{sig_v1} {sig_v1a}")), b"{}"),
        "signature_mismatch"
    );
    // A v1a entry re-labelled as v1 does not pass.
    assert_eq!(
        code(&both, &with(&sig_v1a.replacen("v1a,", "v1,", 1)), body),
        "signature_mismatch"
    );
}

#[test]
fn sendgrid_malleated_signature_has_the_same_replay_key() {
    // p256 accepts both (r, s) and (r, n − s). A captured delivery re-sent with
    // the other one verifies too, and must be known to the replay store.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let scheme = providers::sendgrid();
    let private = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
    let public = scheme.public_key_for(private).unwrap();
    let v = verifier(&scheme, &[&public]).unwrap();
    let body = b"[{\"event\":\"delivered\"}]\r\n";
    let signed = scheme
        .sign(
            private,
            body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap();
    let name = "x-twilio-email-event-webhook-signature";
    let der = b64.decode(header(&signed.headers, name)).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&der).unwrap();
    let neg_s = -*sig.s();
    let other = p256::ecdsa::Signature::from_scalars(sig.r().to_bytes(), neg_s.to_bytes()).unwrap();
    let other_der = b64.encode(other.to_der().as_bytes());
    assert_ne!(other_der, header(&signed.headers, name));
    let mut malleated = HeaderList::new();
    for (n, value) in signed.headers.iter() {
        if n.eq_ignore_ascii_case(name) {
            malleated.push(n, other_der.clone().into_bytes());
        } else {
            malleated.push(n, value.to_vec());
        }
    }
    let a = v.verify(&RequestParts::new(&signed.headers), body).unwrap();
    let b = v.verify(&RequestParts::new(&malleated), body).unwrap();
    assert_eq!(a.replay_key(), b.replay_key());
}
