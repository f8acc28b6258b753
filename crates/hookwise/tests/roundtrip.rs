//! Property tests: for every scheme, sign-then-verify passes, and any one-byte
//! change to the body, the signature, the id or the timestamp fails.

use hookwise::scheme::SignParams;
use hookwise::{
    FixedClock, HeaderList, Headers, Lookup, RequestParts, Scheme, Verifier, providers,
};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000;

/// (provider, secret, signature header, signed id header, timestamp header)
type Case = (
    Scheme,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

fn cases() -> Vec<Case> {
    vec![
        (
            providers::github(),
            "gh-secret",
            "x-hub-signature-256",
            None,
            None,
        ),
        (
            providers::github_legacy(),
            "gh-secret",
            "x-hub-signature-256",
            None,
            None,
        ),
        (
            providers::stripe(),
            "whsec_stripe",
            "stripe-signature",
            None,
            None,
        ),
        (
            providers::slack(),
            "slack-secret",
            "x-slack-signature",
            None,
            Some("x-slack-request-timestamp"),
        ),
        (
            providers::standard(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "webhook-signature",
            Some("webhook-id"),
            Some("webhook-timestamp"),
        ),
        (
            providers::shopify(),
            "shop-secret",
            "x-shopify-hmac-sha256",
            None,
            None,
        ),
        (
            providers::meta(),
            "meta-secret",
            "x-hub-signature-256",
            None,
            None,
        ),
        (
            providers::gitlab_signing(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "webhook-signature",
            Some("webhook-id"),
            Some("webhook-timestamp"),
        ),
        (
            providers::twitch(),
            "twitch-secret-123",
            "twitch-eventsub-message-signature",
            Some("twitch-eventsub-message-id"),
            Some("twitch-eventsub-message-timestamp"),
        ),
        (
            providers::zoom(),
            "zoom-secret",
            "x-zm-signature",
            None,
            Some("x-zm-request-timestamp"),
        ),
        (
            providers::paddle(),
            "pdl_ntfset_01_secret",
            "paddle-signature",
            None,
            None,
        ),
        (
            providers::pagerduty(),
            "pd-secret",
            "x-pagerduty-signature",
            None,
            None,
        ),
        (
            providers::square("https://example.com/hooks/square"),
            "sq-secret",
            "x-square-hmacsha256-signature",
            None,
            None,
        ),
        (
            providers::hubspot("https://example.com"),
            "hs-secret",
            "x-hubspot-signature-v3",
            None,
            Some("x-hubspot-request-timestamp"),
        ),
        (
            providers::intercom(),
            "ic-secret",
            "x-hub-signature",
            None,
            None,
        ),
        (
            providers::bitbucket(),
            "bb-secret",
            "x-hub-signature",
            None,
            None,
        ),
        (
            providers::jira(),
            "jira-secret",
            "x-hub-signature",
            None,
            None,
        ),
        (
            providers::gitea(),
            "gitea-secret",
            "x-gitea-signature",
            None,
            None,
        ),
        (
            providers::gogs(),
            "gogs-secret",
            "x-gogs-signature",
            None,
            None,
        ),
    ]
}

fn verify(
    scheme: &Scheme,
    secret: &str,
    headers: &HeaderList,
    body: &[u8],
) -> Result<hookwise::Delivery, hookwise::Rejection> {
    let v = Verifier::builder(scheme.clone())
        .secret(secret)
        .unwrap()
        .clock(FixedClock::new(NOW))
        .without_replay_store()
        .build()
        .unwrap();
    v.verify(&RequestParts::new(headers).uri("/hooks/hubspot?x=1"), body)
}

fn replace(headers: &HeaderList, name: &str, value: Vec<u8>) -> HeaderList {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_owned(),
                if n.eq_ignore_ascii_case(name) {
                    value.clone()
                } else {
                    v.to_vec()
                },
            )
        })
        .collect()
}

fn value(headers: &HeaderList, name: &str) -> Vec<u8> {
    match headers.lookup(name) {
        Lookup::One(v) => v.to_vec(),
        other => panic!("{name}: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_and_every_mutation_fails(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        pos in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        skew in -200i64..200,
    ) {
        for (scheme, secret, sig_header, id_header, ts_header) in cases() {
            let name = scheme.provider().to_owned();
            let tol = i64::try_from(scheme.default_tolerance().past().as_secs()).unwrap();
            let ts = NOW + skew.clamp(-tol, tol);
            let params = SignParams { timestamp: Some(ts), id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"), url: None, method: Some("POST"), event: None };
            let mut params = params;
            let url;
            if name == "hubspot" {
                url = "https://example.com/hooks/hubspot?x=1".to_owned();
                params.url = Some(&url);
            }
            let signed = scheme.sign(secret, &body, &params).unwrap();
            let ok = verify(&scheme, secret, &signed.headers, &signed.body);
            prop_assert!(ok.is_ok(), "{}: {:?}", name, ok);
            if scheme.is_timestamped() {
                prop_assert_eq!(ok.unwrap().timestamp(), Some(ts));
            }

            // One byte of the body.
            let mut b = signed.body.clone();
            let i = pos.index(b.len());
            b[i] ^= flip;
            prop_assert!(verify(&scheme, secret, &signed.headers, &b).is_err(), "{}: body byte changed", name);

            // One byte of the signature header: never a pass (400 or 401).
            let sig = value(&signed.headers, sig_header);
            let j = pos.index(sig.len());
            let mut s = sig.clone();
            s[j] ^= flip;
            // Hex digits and prefixes are case-insensitive: an upper-cased letter is the same signature.
            if !s.eq_ignore_ascii_case(&sig) {
                let r = verify(&scheme, secret, &replace(&signed.headers, sig_header, s), &signed.body);
                prop_assert!(r.is_err(), "{}: signature byte {} changed still verifies", name, j);
            }

            // One byte of the signed id.
            if let Some(h) = id_header {
                let mut id = value(&signed.headers, h);
                let k = pos.index(id.len());
                id[k] = if id[k] == b'x' { b'y' } else { b'x' };
                prop_assert!(verify(&scheme, secret, &replace(&signed.headers, h, id), &signed.body).is_err(), "{}: id changed", name);
            }

            // The timestamp, by one second.
            if let Some(h) = ts_header {
                let other = if h == "x-hubspot-request-timestamp" { ((ts + 1) * 1000).to_string() } else if name == "twitch" {
                    hookwise::TimestampFormat::Rfc3339.format(ts + 1)
                } else { (ts + 1).to_string() };
                prop_assert!(verify(&scheme, secret, &replace(&signed.headers, h, other.into_bytes()), &signed.body).is_err(), "{}: timestamp changed", name);
            }
        }
    }

    #[test]
    fn stripe_and_paddle_timestamps_inside_the_header_are_signed(body in proptest::collection::vec(any::<u8>(), 0..256), d in 1i64..100) {
        for (scheme, secret, key) in [(providers::stripe(), "whsec_x", "t="), (providers::paddle(), "pdl_x", "ts=")] {
            let signed = scheme.sign(secret, &body, &SignParams { timestamp: Some(NOW), ..SignParams::default() }).unwrap();
            let h = String::from_utf8(value(&signed.headers, scheme_header(&scheme))).unwrap();
            let changed = h.replacen(&format!("{key}{NOW}"), &format!("{key}{}", NOW - d.min(4)), 1);
            prop_assert_ne!(&changed, &h);
            let r = verify(&scheme, secret, &replace(&signed.headers, scheme_header(&scheme), changed.into_bytes()), &body);
            prop_assert_eq!(r.unwrap_err().code(), "signature_mismatch");
        }
    }
}

fn scheme_header(s: &Scheme) -> &'static str {
    if s.provider() == "stripe" {
        "stripe-signature"
    } else {
        "paddle-signature"
    }
}

#[test]
fn linear_body_timestamp_round_trip() {
    let scheme = providers::linear();
    let body = format!(
        r#"{{"action":"create","type":"Issue","webhookTimestamp":{}}}"#,
        NOW * 1000
    );
    let signed = scheme
        .sign("lin-secret", body.as_bytes(), &SignParams::default())
        .unwrap();
    let d = verify(&scheme, "lin-secret", &signed.headers, body.as_bytes()).unwrap();
    assert_eq!(d.timestamp(), Some(NOW));
    let stale = format!(
        r#"{{"action":"create","type":"Issue","webhookTimestamp":{}}}"#,
        (NOW - 61) * 1000
    );
    let signed = scheme
        .sign("lin-secret", stale.as_bytes(), &SignParams::default())
        .unwrap();
    assert_eq!(
        verify(&scheme, "lin-secret", &signed.headers, stale.as_bytes())
            .unwrap_err()
            .code(),
        "timestamp_too_old"
    );
}

#[test]
fn mailgun_round_trip_and_token_is_the_replay_key() {
    let scheme = providers::mailgun();
    let signed = scheme
        .sign(
            "key-abc",
            br#"{"event":"delivered"}"#,
            &SignParams {
                timestamp: Some(NOW),
                id: Some("tok123"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let d = verify(&scheme, "key-abc", &signed.headers, &signed.body).unwrap();
    assert_eq!(d.replay_key(), "mailgun:tok123");
    assert_eq!(d.event_type(), Some("delivered"));
    let forged = String::from_utf8(signed.body.clone())
        .unwrap()
        .replace("tok123", "tok124");
    assert_eq!(
        verify(&scheme, "key-abc", &signed.headers, forged.as_bytes())
            .unwrap_err()
            .code(),
        "signature_mismatch"
    );
}

#[test]
fn token_and_basic_round_trip() {
    for scheme in [
        providers::gitlab(),
        hookwise::scheme::BasicAuth::new("docusign", "hooks"),
    ] {
        let signed = scheme
            .sign("user:pa55", b"{}", &SignParams::default())
            .unwrap();
        assert!(verify(&scheme, "user:pa55", &signed.headers, b"{}").is_ok());
        let err = verify(&scheme, "user:pa56", &signed.headers, b"{}").unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
        assert_eq!(err.status(), 401);
    }
}
