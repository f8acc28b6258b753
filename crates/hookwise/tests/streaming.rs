//! Hashing the body while it arrives (`Verifier::body_digest`): for every HMAC
//! scheme that signs the body last, any chunking gives exactly the delivery
//! (or the rejection) that `verify_body` gives; the others say they cannot.

use hookwise::scheme::{SignParams, SignedRequest};
use hookwise::{FixedClock, Key, RequestParts, Scheme, Verifier, providers};

const NOW: i64 = 1_700_000_000;

/// Schemes that can be hashed ahead, with a secret in their format.
fn streaming() -> Vec<(Scheme, &'static str)> {
    vec![
        (providers::github(), "gh-secret"),
        (providers::github_legacy(), "gh-secret"),
        (providers::stripe(), "whsec_stripe"),
        (providers::slack(), "slack-secret"),
        (
            providers::standard(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        (providers::shopify(), "shop-secret"),
        (providers::meta(), "meta-secret"),
        (providers::twitch(), "twitch-secret-123"),
        (providers::zoom(), "zoom-secret"),
        (providers::paddle(), "pdl_ntfset_01_secret"),
        (providers::pagerduty(), "pd-secret"),
        (
            providers::square("https://example.com/hooks/square"),
            "sq-secret",
        ),
        (providers::intercom(), "ic-secret"),
        (providers::bitbucket(), "bb-secret"),
        (providers::linear(), "linear-secret"),
    ]
}

fn verifier(scheme: Scheme, keys: &[Key]) -> Verifier {
    let mut b = Verifier::builder(scheme)
        .clock(FixedClock::new(NOW + 5))
        .without_replay_store();
    for k in keys {
        b = b.key(k.clone());
    }
    b.build().unwrap()
}

fn body() -> Vec<u8> {
    let mut b =
        br#"{"id":"evt_1","type":"x.y","event_id":"Ev1","event":{"type":"t"},"webhookTimestamp":1700000000000,"pad":""#.to_vec();
    b.resize(5000, b'p');
    b.extend_from_slice(br#""}"#);
    b
}

/// `body` signed by `secret` at `NOW`, with an id and an event type for the
/// schemes that sign or send them.
fn sign(scheme: &Scheme, secret: &str, body: &[u8]) -> SignedRequest {
    scheme
        .sign(
            secret,
            body,
            &SignParams {
                timestamp: Some(NOW),
                id: Some("msg_1"),
                event: Some("push"),
                ..SignParams::default()
            },
        )
        .unwrap()
}

/// The digest fed `body` in chunks of `size` (0: one chunk).
fn digested(
    v: &Verifier,
    req: &RequestParts<'_>,
    body: &[u8],
    size: usize,
) -> Option<Result<hookwise::Delivery, hookwise::Rejection>> {
    let pending = v.check_headers(req).unwrap();
    let mut digest = v.body_digest(pending).ok()?;
    if size == 0 {
        digest.update(body);
    } else {
        for c in body.chunks(size) {
            digest.update(c);
        }
    }
    assert_eq!(digest.len(), body.len());
    Some(digest.verify(body))
}

#[test]
fn every_chunking_gives_what_verify_body_gives() {
    let body = body();
    for (scheme, secret) in streaming() {
        let name = scheme.provider().to_owned();
        let signed = sign(&scheme, secret, &body);
        let v = verifier(scheme, &[Key::new(secret).unwrap()]);
        let req = RequestParts::new(&signed.headers);
        let whole = v.verify(&req, &body).unwrap();
        for size in [0, 1, 7, 64, 1000, 4999] {
            let got = digested(&v, &req, &body, size)
                .unwrap_or_else(|| panic!("{name}: no digest"))
                .unwrap_or_else(|e| panic!("{name}, chunks of {size}: {e}"));
            assert_eq!(got, whole, "{name}, chunks of {size}");
        }
        // One byte changed in the middle of a chunk: the same rejection.
        let mut bad = body.clone();
        bad[2500] ^= 1;
        let want = v.verify(&req, &bad).unwrap_err();
        let got = digested(&v, &req, &bad, 64).unwrap().unwrap_err();
        assert_eq!(got.code(), "signature_mismatch", "{name}");
        assert_eq!(got.code(), want.code(), "{name}");
    }
}

#[test]
fn the_matching_key_of_a_rotation_is_found() {
    let body = body();
    let old = Key::new("old-secret").unwrap().label("old");
    let new = Key::new("new-secret").unwrap().label("new");
    for (secret, label) in [("old-secret", "old"), ("new-secret", "new")] {
        let signed = providers::github()
            .sign(secret, &body, &SignParams::default())
            .unwrap();
        let v = verifier(providers::github(), &[old.clone(), new.clone()]);
        let req = RequestParts::new(&signed.headers);
        let d = digested(&v, &req, &body, 100).unwrap().unwrap();
        assert_eq!(d.key(), label);
    }
    // Signed with neither.
    let signed = providers::github()
        .sign("other", &body, &SignParams::default())
        .unwrap();
    let v = verifier(providers::github(), &[old, new]);
    let req = RequestParts::new(&signed.headers);
    let err = digested(&v, &req, &body, 100).unwrap().unwrap_err();
    assert_eq!(err.code(), "signature_mismatch");
}

#[test]
fn a_digest_of_other_bytes_is_set_aside() {
    let body = body();
    let signed = providers::stripe()
        .sign(
            "whsec_stripe",
            &body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap();
    let v = verifier(providers::stripe(), &[Key::new("whsec_stripe").unwrap()]);
    let req = RequestParts::new(&signed.headers);
    // Fed half the body: the complete body is verified instead, and passes.
    let pending = v.check_headers(&req).unwrap();
    let mut digest = v.body_digest(pending).unwrap();
    digest.update(&body[..body.len() / 2]);
    assert_eq!(digest.verify(&body).unwrap().id(), Some("evt_1"));
    // Fed as many bytes, but other ones: the digest decides, and refuses.
    let pending = v.check_headers(&req).unwrap();
    let mut digest = v.body_digest(pending).unwrap();
    digest.update(&vec![b'x'; body.len()]);
    let err = digest.verify(&body).unwrap_err();
    assert_eq!(err.code(), "signature_mismatch");
}

#[test]
fn a_digest_carries_its_verifier_and_its_request() {
    // Verifier A holds three keys, B one other: A's digest is finished with
    // A's keys (it cannot be handed to B), and accepts what A accepts.
    let body = body();
    let signed = providers::github()
        .sign("a-secret-3", &body, &SignParams::default())
        .unwrap();
    let keys_a = [
        Key::new("a-secret-1").unwrap(),
        Key::new("a-secret-2").unwrap(),
        Key::new("a-secret-3").unwrap().label("third"),
    ];
    let a = verifier(providers::github(), &keys_a);
    let b = verifier(providers::github(), &[Key::new("b-secret").unwrap()]);
    let req = RequestParts::new(&signed.headers);
    let mut d = a.body_digest(a.check_headers(&req).unwrap()).unwrap();
    d.update(&body);
    assert_eq!(d.verify(&body).unwrap().key(), "third");
    // B's own digest of the same request refuses it, as B's verify does.
    let mut d = b.body_digest(b.check_headers(&req).unwrap()).unwrap();
    d.update(&body);
    assert_eq!(d.verify(&body).unwrap_err().code(), "signature_mismatch");
    assert_eq!(
        b.verify(&req, &body).unwrap_err().code(),
        "signature_mismatch"
    );
}

#[test]
fn a_template_with_the_body_twice_is_not_hashed_ahead() {
    use hookwise::scheme::{Algorithm, HmacScheme};
    let scheme = HmacScheme::builder("twice", "X-Sig", Algorithm::Sha256)
        .timestamp_header("X-Ts")
        .template("{body}.{timestamp}.{body}")
        .unwrap()
        .build();
    let body = body();
    let signed = scheme
        .sign(
            "s3cret",
            &body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap();
    let v = verifier(scheme, &[Key::new("s3cret").unwrap()]);
    let req = RequestParts::new(&signed.headers);
    let pending = v.check_headers(&req).unwrap();
    let pending = v.body_digest(pending).unwrap_err();
    assert!(v.verify_body(pending, &body).is_ok());
}

#[test]
fn schemes_that_sign_after_the_body_or_a_form_field_cannot_digest() {
    let body = b"payload=%7B%7D".to_vec();
    for (scheme, secret) in [
        (providers::hubspot("https://example.com"), "hs-secret"),
        (providers::gitea(), "gitea-secret"),
        (providers::gogs(), "gogs-secret"),
    ] {
        let name = scheme.provider().to_owned();
        let signed = scheme
            .sign(
                secret,
                &body,
                &SignParams {
                    timestamp: Some(NOW),
                    url: Some("https://example.com/"),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let v = verifier(scheme, &[Key::new(secret).unwrap()]);
        let pending = v
            .check_headers(&RequestParts::new(&signed.headers))
            .unwrap();
        // Handed back unchanged, and still verified the usual way.
        let pending = v.body_digest(pending).unwrap_err();
        assert!(v.verify_body(pending, &body).is_ok(), "{name}");
    }
}

#[test]
fn the_digest_shows_no_key_material() {
    let signed = providers::github()
        .sign("gh-secret", b"{}", &SignParams::default())
        .unwrap();
    let v = verifier(providers::github(), &[Key::new("gh-secret").unwrap()]);
    let pending = v
        .check_headers(&RequestParts::new(&signed.headers))
        .unwrap();
    let mut d = v.body_digest(pending).unwrap();
    assert!(d.is_empty());
    d.update(b"{}");
    assert_eq!(
        format!("{d:?}"),
        r#"BodyDigest { provider: "github", fed: 2, .. }"#
    );
}

#[test]
fn a_header_phase_result_is_only_finished_by_its_own_verifier() {
    let body = br#"{"a":1}"#;
    // A GitHub delivery whose header passes GitHub's header phase (the MAC is
    // checked with the body), and a token verifier that never saw it.
    let signed = providers::github()
        .sign("gh-secret", body, &SignParams::default())
        .unwrap();
    let gh = verifier(providers::github(), &[Key::new("gh-secret").unwrap()]);
    let token = verifier(providers::gitlab(), &[Key::new("tok").unwrap()]);
    let req = RequestParts::new(&signed.headers);
    let pending = gh.check_headers(&req).unwrap();
    let err = token.verify_body(pending, body).unwrap_err();
    assert_eq!(err.code(), "misconfigured");
    // Nor one made up, through either path.
    let err = token
        .verify_body(hookwise::Pending::default(), body)
        .unwrap_err();
    assert_eq!(err.code(), "misconfigured");
    let back = gh.body_digest(hookwise::Pending::default()).unwrap_err();
    assert_eq!(
        gh.verify_body(back, body).unwrap_err().code(),
        "misconfigured"
    );
    // A legacy GitHub verifier's result for its second header set, given to
    // the plain GitHub verifier: refused, not a panic.
    // (The header phase parses the SHA-1 header; the MAC waits for the body.)
    let headers =
        hookwise::HeaderList::new().with("X-Hub-Signature", format!("sha1={}", "0".repeat(40)));
    let legacy = verifier(
        providers::github_legacy(),
        &[Key::new("gh-secret").unwrap()],
    );
    let pending = legacy.check_headers(&RequestParts::new(&headers)).unwrap();
    assert_eq!(
        gh.verify_body(pending, body).unwrap_err().code(),
        "misconfigured"
    );
    // Its own verifier still accepts it.
    let pending = gh.check_headers(&req).unwrap();
    assert!(gh.verify_body(pending, body).is_ok());
}

/// A body longer than the block `verify_body` hashes alongside the metadata
/// scan (64 KiB), with the fields before, inside and after long values.
fn long_body(len: usize, escaped_key: bool) -> Vec<u8> {
    let pad = |n: usize| "p".repeat(n);
    let mut b = format!(
        r#"{{"token":"x","big":"{}","event":{{"text":"{}","nested":[{{"a":"{}"}}],"type":"t"}},"type":"x.y","#,
        pad(70_000),
        pad(65_000),
        pad(1_000)
    );
    if escaped_key {
        b.push_str(r#""k\"ey":1,"#);
    }
    b.push_str(r#""list":["#);
    while b.len() < len {
        b.push_str(r#"{"n":12345,"s":"ssssssssssssssssssss"},"#);
    }
    b.push_str(
        r#"{}],"event_id":"Ev1","id":"evt_1","webhookTimestamp":1700000000000,"tail":"end"}"#,
    );
    b.into_bytes()
}

#[test]
fn long_bodies_give_what_a_digest_gives() {
    for (len, escaped_key) in [(200_000, false), (70_000, false), (300_000, true)] {
        let body = long_body(len, escaped_key);
        for (scheme, secret) in streaming() {
            let name = scheme.provider().to_owned();
            let signed = sign(&scheme, secret, &body);
            let v = verifier(scheme, &[Key::new(secret).unwrap()]);
            let req = RequestParts::new(&signed.headers);
            let whole = v
                .verify(&req, &body)
                .unwrap_or_else(|e| panic!("{name}, {len}: {e}"));
            let got = digested(&v, &req, &body, 16 * 1024).unwrap().unwrap();
            assert_eq!(whole, got, "{name}, {len}");
            if name == "slack" {
                assert_eq!(whole.id(), Some("Ev1"));
                assert_eq!(whole.event_type(), Some("t"));
            }
            if name == "stripe" {
                assert_eq!(whole.id(), Some("evt_1"));
                assert_eq!(whole.event_type(), Some("x.y"));
            }
            // One byte changed anywhere, around the block edges included:
            // refused the same way.
            for at in [
                0,
                1,
                65_535,
                65_536,
                65_537,
                131_072,
                len / 2,
                body.len() - 1,
            ] {
                let mut bad = body.clone();
                bad[at] ^= 1;
                let err = v.verify(&req, &bad).unwrap_err();
                assert_eq!(err.code(), "signature_mismatch", "{name}, byte {at}");
            }
        }
    }
}

#[test]
fn a_long_body_signed_with_a_later_key_is_found() {
    let body = long_body(100_000, false);
    let old = Key::new("old-secret").unwrap().label("old");
    let new = Key::new("new-secret").unwrap().label("new");
    let v = verifier(providers::slack(), &[old, new]);
    for (secret, label) in [("old-secret", "old"), ("new-secret", "new")] {
        let signed = sign(&providers::slack(), secret, &body);
        let d = v
            .verify(&RequestParts::new(&signed.headers), &body)
            .unwrap();
        assert_eq!((d.key(), d.id()), (label, Some("Ev1")));
    }
    let signed = sign(&providers::slack(), "other", &body);
    let err = v
        .verify(&RequestParts::new(&signed.headers), &body)
        .unwrap_err();
    assert_eq!(err.code(), "signature_mismatch");
    // Both keys were tried (the first alongside the scan, and only there).
    assert_eq!(err.diagnosis().keys_tried, 2);
}
