//! Behaviour that vectors alone do not pin down: list parsing, header phase,
//! rotation, secret encodings, configuration errors and replay admission.

use std::time::Duration;

use hookwise::replay::Admission;
use hookwise::scheme::{Algorithm, Encoding, HmacScheme, SignParams};
use hookwise::{
    ConfigError, FixedClock, HeaderList, Key, Keyring, RequestParts, Tolerance, Verifier, providers,
};

const NOW: i64 = 1_700_000_000;

fn verifier(scheme: hookwise::Scheme, secret: &str) -> Verifier {
    Verifier::builder(scheme)
        .secret(secret)
        .unwrap()
        .clock(FixedClock::new(NOW))
        .without_replay_store()
        .build()
        .unwrap()
}

fn stripe_header(extra: &str) -> (HeaderList, &'static [u8]) {
    let body: &'static [u8] = br#"{"id":"evt_9","type":"charge.succeeded"}"#;
    let signed = providers::stripe()
        .sign(
            "whsec_k",
            body,
            &SignParams {
                timestamp: Some(NOW),
                ..SignParams::default()
            },
        )
        .unwrap();
    let (_, v) = signed.headers.iter().next().unwrap();
    let v = String::from_utf8(v.to_vec()).unwrap();
    (
        HeaderList::new().with("Stripe-Signature", format!("{extra}{v}{extra}")),
        body,
    )
}

fn code(v: &Verifier, h: &HeaderList, body: &[u8]) -> &'static str {
    match v.verify(&RequestParts::new(h), body) {
        Ok(_) => "valid",
        Err(e) => e.code(),
    }
}

#[test]
fn junk_and_duplicate_entries_in_a_list_are_ignored() {
    let v = verifier(providers::stripe(), "whsec_k");
    for junk in [
        ",,, ,",
        ",garbage,",
        ",v1=,",
        ",v1=zz,",
        ",v0=00,",
        ",v2=abcd,",
        ",v1=00ff,v1=00ff,",
    ] {
        let (h, body) = stripe_header(junk);
        assert_eq!(code(&v, &h, body), "valid", "{junk}");
    }
}

#[test]
fn lists_without_a_known_version_or_too_long_are_malformed() {
    let v = verifier(providers::stripe(), "whsec_k");
    let h = HeaderList::new().with("Stripe-Signature", format!("t={NOW},v0=abcd,v2=abcd"));
    assert_eq!(code(&v, &h, b"{}"), "malformed_header");
    let many: Vec<String> = (0..5000).map(|i| format!("v1={i:064x}")).collect();
    let h = HeaderList::new().with("Stripe-Signature", format!("t={NOW},{}", many.join(",")));
    assert_eq!(code(&v, &h, b"{}"), "malformed_header");
    let h = HeaderList::new().with("Stripe-Signature", format!("t={NOW},t={NOW},v1=00"));
    assert_eq!(code(&v, &h, b"{}"), "malformed_header");
    let h = HeaderList::new().with("Stripe-Signature", "v1=00");
    assert_eq!(code(&v, &h, b"{}"), "malformed_header");
    // Only junk `v1` values: the sender claimed a signature and it does not match.
    let h = HeaderList::new().with("Stripe-Signature", format!("t={NOW},v1=nothex"));
    assert_eq!(code(&v, &h, b"{}"), "signature_mismatch");
}

#[test]
fn header_phase_rejects_before_the_body() {
    let v = verifier(providers::slack(), "s");
    let missing = HeaderList::new();
    let e = v.check_headers(&RequestParts::new(&missing)).unwrap_err();
    assert_eq!((e.code(), e.status()), ("missing_signature", 401));
    let no_ts = HeaderList::new().with("X-Slack-Signature", "v0=00");
    assert_eq!(
        v.check_headers(&RequestParts::new(&no_ts))
            .unwrap_err()
            .code(),
        "missing_header"
    );
    for ts in ["abc", "1e9", "-", "99999999999999999999999", " 1700000000"] {
        let h = HeaderList::new()
            .with("X-Slack-Signature", "v0=00")
            .with("X-Slack-Request-Timestamp", ts);
        assert_eq!(
            v.check_headers(&RequestParts::new(&h)).unwrap_err().code(),
            "malformed_header",
            "{ts:?}"
        );
    }
    for (ts, want) in [
        (NOW - 301, "timestamp_too_old"),
        (NOW + 301, "timestamp_in_future"),
        (i64::MIN + 1, "timestamp_too_old"),
        (i64::MAX, "timestamp_in_future"),
    ] {
        let h = HeaderList::new()
            .with("X-Slack-Signature", "v0=00")
            .with("X-Slack-Request-Timestamp", ts.to_string());
        let e = v.check_headers(&RequestParts::new(&h)).unwrap_err();
        assert_eq!(e.code(), want);
        assert!(e.diagnosis().skew_secs.is_some());
    }
    let twice = HeaderList::new()
        .with("X-Slack-Signature", "v0=00")
        .with("x-slack-signature", "v0=01");
    assert_eq!(
        v.check_headers(&RequestParts::new(&twice))
            .unwrap_err()
            .code(),
        "malformed_header"
    );
    let bad_prefix = HeaderList::new()
        .with("X-Slack-Signature", "v1=00")
        .with("X-Slack-Request-Timestamp", NOW.to_string());
    assert_eq!(
        v.check_headers(&RequestParts::new(&bad_prefix))
            .unwrap_err()
            .code(),
        "malformed_header"
    );
}

#[test]
fn past_only_tolerance_is_explicit() {
    let v = Verifier::builder(providers::stripe())
        .secret("whsec_k")
        .unwrap()
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
        .clock(FixedClock::new(NOW - 10_000))
        .without_replay_store()
        .build()
        .unwrap();
    let (h, body) = stripe_header("");
    assert_eq!(code(&v, &h, body), "valid");
    assert_eq!(
        code(&verifier(providers::stripe(), "whsec_k"), &h, body),
        "valid"
    );
    let strict = Verifier::builder(providers::stripe())
        .secret("whsec_k")
        .unwrap()
        .clock(FixedClock::new(NOW - 10_000))
        .build()
        .unwrap();
    assert_eq!(code(&strict, &h, body), "timestamp_in_future");
}

#[test]
fn legacy_sha1_only_when_enabled() {
    let body = b"{\"zen\":\"x\"}";
    let signed = providers::github_legacy()
        .sign("k", body, &SignParams::default())
        .unwrap();
    assert!(
        signed
            .headers
            .iter()
            .any(|(n, _)| n == "X-Hub-Signature-256")
    );
    let sha1 = HmacScheme::builder("github", "X-Hub-Signature", Algorithm::Sha1)
        .prefix("sha1=")
        .build();
    let sha1_only = sha1
        .sign("k", body, &SignParams::default())
        .unwrap()
        .headers;
    assert_eq!(
        code(&verifier(providers::github(), "k"), &sha1_only, body),
        "missing_signature"
    );
    assert_eq!(
        code(&verifier(providers::github_legacy(), "k"), &sha1_only, body),
        "valid"
    );
}

#[tokio::test]
async fn legacy_sha1_replay_has_the_same_key_as_the_sha256_delivery() {
    // GitHub sends both headers; a capture replayed without the SHA-256 one
    // verifies by SHA-1 and must still be known to the store.
    let body = b"{\"zen\":\"x\"}";
    let sha256 = providers::github()
        .sign("k", body, &SignParams::default())
        .unwrap()
        .headers;
    let sha1 = HmacScheme::builder("github", "X-Hub-Signature", Algorithm::Sha1)
        .prefix("sha1=")
        .build()
        .sign("k", body, &SignParams::default())
        .unwrap()
        .headers;
    let mut both = sha256.clone();
    for (n, v) in sha1.iter() {
        both.push(n, v.to_vec());
    }
    let v = Verifier::builder(providers::github_legacy())
        .secret("k")
        .unwrap()
        .build()
        .unwrap();
    let original = v.verify(&RequestParts::new(&both), body).unwrap();
    let stripped = v.verify(&RequestParts::new(&sha1), body).unwrap();
    assert_eq!(original.replay_key(), stripped.replay_key());
    // Keyed by the SHA-256 tag, as a plain `github` verifier keys it.
    let plain = verifier(providers::github(), "k")
        .verify(&RequestParts::new(&sha256), body)
        .unwrap();
    assert_eq!(original.replay_key(), plain.replay_key());
    let Admission::Proceed(guard) = v.admit(&original).await.unwrap() else {
        panic!("the first delivery is new");
    };
    guard.commit().await.unwrap();
    assert!(matches!(
        v.admit(&stripped).await.unwrap(),
        Admission::Duplicate
    ));
    // Another body signed with SHA-1 only is a different delivery.
    let other = HmacScheme::builder("github", "X-Hub-Signature", Algorithm::Sha1)
        .prefix("sha1=")
        .build()
        .sign("k", b"{}", &SignParams::default())
        .unwrap()
        .headers;
    let d = v.verify(&RequestParts::new(&other), b"{}").unwrap();
    assert_ne!(d.replay_key(), original.replay_key());
}

#[test]
fn rotation_reports_the_matching_key_and_honours_windows() {
    let body = b"payload";
    let h = providers::github()
        .sign("new", body, &SignParams::default())
        .unwrap()
        .headers;
    let ring = Keyring::new()
        .key(Key::new("old").unwrap().label("2025"))
        .key(Key::new("new").unwrap().label("2026").valid_from(NOW - 1));
    let v = Verifier::builder(providers::github())
        .keyring(ring)
        .clock(FixedClock::new(NOW))
        .build()
        .unwrap();
    assert_eq!(
        v.verify(&RequestParts::new(&h), body).unwrap().key(),
        "2026"
    );
    let early = Keyring::new()
        .key(Key::new("old").unwrap())
        .key(Key::new("new").unwrap().valid_from(NOW + 60));
    let v = Verifier::builder(providers::github())
        .keyring(early)
        .clock(FixedClock::new(NOW))
        .build()
        .unwrap();
    let e = v.verify(&RequestParts::new(&h), body).unwrap_err();
    assert_eq!(e.code(), "signature_mismatch");
    assert_eq!(e.diagnosis().keys_tried, 1);
}

#[test]
fn standard_webhooks_secret_policy() {
    let body = br#"{"test": 2432232314}"#;
    let params = SignParams {
        timestamp: Some(1_614_265_330),
        id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ..SignParams::default()
    };
    let padded = providers::standard()
        .sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", body, &params)
        .unwrap();
    // Unpadded and prefix-less copies of the same secret give the same key.
    for s in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_dGVzdA",
        "whsec_dGVzdA==",
    ] {
        assert!(Verifier::new(providers::standard(), s).is_ok(), "{s}");
    }
    assert_eq!(
        providers::standard()
            .sign("whsec_dGVzdA", body, &params)
            .unwrap(),
        providers::standard()
            .sign("whsec_dGVzdA==", body, &params)
            .unwrap()
    );
    assert!(
        padded
            .headers
            .iter()
            .any(|(_, v)| v == b"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    );
    for bad in ["whsec_not base64!", "whsec_****"] {
        assert!(
            matches!(
                Verifier::new(providers::standard(), bad),
                Err(ConfigError::BadSecret { .. })
            ),
            "{bad}"
        );
    }
    // Stripe keeps the prefix: the same string gives a different key.
    let a = providers::stripe()
        .sign("whsec_dGVzdA==", body, &params)
        .unwrap();
    assert!(
        Verifier::builder(providers::stripe())
            .secret("dGVzdA==")
            .unwrap()
            .clock(FixedClock::new(1_614_265_330))
            .build()
            .unwrap()
            .verify(&RequestParts::new(&a.headers), body)
            .is_err()
    );
}

#[test]
fn configuration_errors_surface_at_build() {
    assert_eq!(
        Verifier::new(providers::github(), "").unwrap_err(),
        ConfigError::EmptySecret
    );
    assert_eq!(
        Verifier::new(providers::github(), " \t").unwrap_err(),
        ConfigError::EmptySecret
    );
    assert_eq!(
        Verifier::builder(providers::github()).build().unwrap_err(),
        ConfigError::NoKeys
    );
    assert!(matches!(
        Verifier::new(providers::square(""), "k"),
        Err(ConfigError::Scheme(_))
    ));
    assert!(matches!(
        providers::by_name("square", None),
        Err(ConfigError::Scheme(_))
    ));
    assert!(
        HmacScheme::builder("x", "X-Sig", Algorithm::Sha256)
            .template("{nope}.{body}")
            .is_err()
    );
    assert!(
        HmacScheme::builder("x", "X-Sig", Algorithm::Sha256)
            .template("{timestamp}")
            .is_err()
    );
    for name in providers::NAMES {
        let url = Some("https://example.com/hook");
        assert!(providers::by_name(name, url).is_ok(), "{name}");
    }
}

#[test]
fn generic_builder_sha512_base64_template() {
    let scheme = HmacScheme::builder("acme", "X-Acme-Signature", Algorithm::Sha512)
        .prefix("v2=")
        .encoding(Encoding::Base64)
        .timestamp_header("X-Acme-Time")
        .id_header("X-Acme-Id")
        .template("acme|{id}|{timestamp}|{method}|{body}")
        .unwrap()
        .build();
    let body = b"\x00\xffnot utf-8";
    let signed = scheme
        .sign(
            "acme-secret",
            body,
            &SignParams {
                timestamp: Some(NOW),
                id: Some("d-1"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let v = verifier(scheme, "acme-secret");
    let d = v.verify(&RequestParts::new(&signed.headers), body).unwrap();
    assert_eq!(d.replay_key(), "acme:d-1");
    assert!(d.id_is_signed());
    assert!(
        v.verify(&RequestParts::new(&signed.headers).method("PUT"), body)
            .is_err()
    );
    // The template signs the id: without its header the request is refused
    // before the body is read.
    let no_id: HeaderList = signed
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("x-acme-id"))
        .collect();
    let e = v.check_headers(&RequestParts::new(&no_id)).unwrap_err();
    assert_eq!(e.reason(), hookwise::Reason::MissingHeader);
}

#[test]
fn diagnosis_never_leaks_the_secret_or_expected_signature() {
    let secret = "planted-secret-0xDEADBEEF";
    let body = b"{}";
    let good = providers::github()
        .sign(secret, body, &SignParams::default())
        .unwrap();
    let expected = String::from_utf8(good.headers.iter().next().unwrap().1.to_vec()).unwrap();
    let v = verifier(providers::github(), secret);
    let h = HeaderList::new().with("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)));
    let e = v.verify(&RequestParts::new(&h), body).unwrap_err();
    let text = format!("{e} {e:?} {v:?}");
    assert!(!text.contains("planted-secret"), "{text}");
    assert!(!text.contains(&expected["sha256=".len()..]), "{text}");
    assert_eq!(e.diagnosis().signatures_tried, 1);
    assert_eq!(e.diagnosis().keys_tried, 1);
}

#[test]
fn replay_keys_come_from_signed_material_only() {
    let body = b"same body";
    let h = providers::github()
        .sign(
            "k",
            body,
            &SignParams {
                id: Some("attacker-chosen-1"),
                ..SignParams::default()
            },
        )
        .unwrap()
        .headers;
    let v = verifier(providers::github(), "k");
    let a = v.verify(&RequestParts::new(&h), body).unwrap();
    let h2 = providers::github()
        .sign(
            "k",
            body,
            &SignParams {
                id: Some("attacker-chosen-2"),
                ..SignParams::default()
            },
        )
        .unwrap()
        .headers;
    let b = v.verify(&RequestParts::new(&h2), body).unwrap();
    assert_eq!(a.id(), Some("attacker-chosen-1"));
    assert!(!a.id_is_signed());
    assert_eq!(
        a.replay_key(),
        b.replay_key(),
        "an unsigned id must not change the replay key"
    );
    assert!(a.replay_key().starts_with("github:sig:"));
}

#[tokio::test]
async fn admission_duplicate_in_flight_and_release_on_drop() {
    let v = Verifier::builder(providers::github())
        .secret("k")
        .unwrap()
        .build()
        .unwrap();
    let h = providers::github()
        .sign("k", b"x", &SignParams::default())
        .unwrap()
        .headers;
    let d = v.verify(&RequestParts::new(&h), b"x").unwrap();
    let Admission::Proceed(guard) = v.admit(&d).await.unwrap() else {
        panic!("first")
    };
    assert_eq!(v.admit(&d).await.unwrap_err().code(), "duplicate_in_flight");
    drop(guard); // a failed or cancelled handler
    let mut released = false;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if let Ok(Admission::Proceed(g)) = v.admit(&d).await {
            g.commit().await.unwrap();
            released = true;
            break;
        }
    }
    assert!(released, "dropping the guard must release the reservation");
    assert!(matches!(v.admit(&d).await.unwrap(), Admission::Duplicate));
}

/// What the Tower layer hands over: an `http::HeaderMap` (names lowercase,
/// compared byte for byte). The same answers as from a `HeaderList`, for
/// either of a scheme's header sets.
#[test]
fn http_header_maps_give_the_same_answers() {
    let body = br#"{"type":"user.created"}"#;
    let scheme = providers::standard();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let signed = scheme
        .sign(
            secret,
            body,
            &SignParams {
                timestamp: Some(NOW),
                id: Some("msg_1"),
                ..SignParams::default()
            },
        )
        .unwrap();
    let v = verifier(scheme, secret);
    let map = |prefix: &str, extra: Option<(&str, &str)>| {
        let mut m = http::HeaderMap::new();
        for (n, val) in signed.headers.iter() {
            let n = n.to_ascii_lowercase().replace("webhook-", prefix);
            m.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(val).unwrap(),
            );
        }
        if let Some((n, val)) = extra {
            m.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                http::HeaderValue::from_str(val).unwrap(),
            );
        }
        m
    };
    for prefix in ["webhook-", "svix-"] {
        let m = map(prefix, None);
        let d = v.verify(&RequestParts::new(&m), body).unwrap();
        assert_eq!(d.id(), Some("msg_1"), "{prefix}");
        assert_eq!(d.event_type(), Some("user.created"), "{prefix}");
        // A second id header is ambiguous; a second timestamp too.
        for dup in ["id", "timestamp"] {
            let m = map(prefix, Some((&format!("{prefix}{dup}"), "x")));
            let e = v.verify(&RequestParts::new(&m), body).unwrap_err();
            assert_eq!(
                e.reason(),
                hookwise::Reason::MalformedHeader,
                "{prefix}{dup}"
            );
        }
    }
    // No timestamp header at all.
    let mut m = map("webhook-", None);
    m.remove("webhook-timestamp");
    let e = v.verify(&RequestParts::new(&m), body).unwrap_err();
    assert_eq!(e.reason(), hookwise::Reason::MissingHeader);
}

/// Remembers the retention each commit asked for.
#[derive(Debug, Default)]
struct Recording(std::sync::Mutex<Vec<Duration>>);

impl hookwise::replay::ReplayStore for Recording {
    fn reserve<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
        _: Duration,
    ) -> hookwise::replay::BoxFuture<
        'a,
        Result<hookwise::replay::Reserve, hookwise::replay::StoreError>,
    > {
        Box::pin(async { Ok(hookwise::replay::Reserve::Reserved) })
    }
    fn commit<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
        retention: Duration,
    ) -> hookwise::replay::BoxFuture<'a, Result<(), hookwise::replay::StoreError>> {
        self.0.lock().unwrap().push(retention);
        Box::pin(async { Ok(()) })
    }
    fn release<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
    ) -> hookwise::replay::BoxFuture<'a, Result<(), hookwise::replay::StoreError>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn past_only_remembers_a_delivery_until_its_timestamp_is_stale() {
    // A sender clock 10 000 s ahead: with `past_only(300 s)` its timestamp is
    // accepted until it is 300 s old, so its id must be kept that long, not
    // just the 10 minutes a bounded window would need.
    let store = std::sync::Arc::new(Recording::default());
    let v = Verifier::builder(providers::stripe())
        .secret("whsec_k")
        .unwrap()
        .clock(FixedClock::new(NOW))
        .tolerance(Tolerance::past_only(Duration::from_secs(300)))
        .replay_store_arc(store.clone())
        .build()
        .unwrap();
    let body = br#"{"id":"evt_ahead","type":"charge.succeeded"}"#;
    let retention_at = |ts: i64| {
        let v = v.clone();
        let store = store.clone();
        async move {
            let h = providers::stripe()
                .sign(
                    "whsec_k",
                    body,
                    &SignParams {
                        timestamp: Some(ts),
                        ..SignParams::default()
                    },
                )
                .unwrap()
                .headers;
            let d = v.verify(&RequestParts::new(&h), body).unwrap();
            let Admission::Proceed(guard) = v.admit(&d).await.unwrap() else {
                panic!("the store reserves everything");
            };
            guard.commit().await.unwrap();
            store.0.lock().unwrap().pop().unwrap()
        }
    };
    assert_eq!(
        retention_at(NOW + 10_000).await,
        Duration::from_secs(10_000 + 300 + 60)
    );
    // On time (or behind): the configured retention, which covers the window.
    let normal = retention_at(NOW).await;
    assert_eq!(normal, retention_at(NOW - 100).await);
    assert!(normal >= Duration::from_secs(300 + 60), "{normal:?}");
    assert!(normal < Duration::from_secs(10_000));
}

#[test]
fn a_form_body_verifies_only_as_the_payload_field_alone() {
    // Gogs / Gitea sign the `payload` field's JSON. A second `payload`, or any
    // field beside it, would reach the handler (which decodes the whole form)
    // unsigned: such a body must verify as a whole, so it fails.
    let signed_json = "%7B%22ref%22%3A%22main%22%7D";
    let body = format!("payload={signed_json}");
    // What Gogs signs in form mode: the JSON itself.
    let signed = providers::gogs()
        .sign("k", br#"{"ref":"main"}"#, &SignParams::default())
        .unwrap()
        .headers;
    let form = |b: &str| {
        let mut h = signed.clone();
        h.push("Content-Type", "application/x-www-form-urlencoded");
        (h, b.to_owned())
    };
    let v = verifier(providers::gogs(), "k");
    let (h, b) = form(&body);
    assert_eq!(code(&v, &h, b.as_bytes()), "valid");
    for tampered in [
        format!("payload={signed_json}&payload=%7B%22evil%22%3A1%7D"),
        format!("payload=%7B%22evil%22%3A1%7D&payload={signed_json}"),
        format!("payload={signed_json}&admin=true"),
    ] {
        let (h, b) = form(&tampered);
        assert_eq!(
            code(&v, &h, b.as_bytes()),
            "signature_mismatch",
            "{tampered}"
        );
    }
}

/// A network store whose reserve reaches the store but whose answer is lost
/// (`Fail`), or never comes (`Hang`); counts the releases asked of it.
#[derive(Debug)]
struct LostAnswer {
    hang: bool,
    releases: std::sync::atomic::AtomicUsize,
}

impl hookwise::replay::ReplayStore for LostAnswer {
    fn reserve<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
        _: Duration,
    ) -> hookwise::replay::BoxFuture<
        'a,
        Result<hookwise::replay::Reserve, hookwise::replay::StoreError>,
    > {
        if self.hang {
            Box::pin(std::future::pending())
        } else {
            Box::pin(async { Err(hookwise::replay::StoreError("timed out".into())) })
        }
    }
    fn commit<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
        _: Duration,
    ) -> hookwise::replay::BoxFuture<'a, Result<(), hookwise::replay::StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn release<'a>(
        &'a self,
        _: &'a str,
        _: &'a hookwise::replay::Token,
    ) -> hookwise::replay::BoxFuture<'a, Result<(), hookwise::replay::StoreError>> {
        self.releases
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_reservation_whose_answer_is_lost_is_released() {
    let (h, body) = stripe_header("");
    for hang in [false, true] {
        let store = std::sync::Arc::new(LostAnswer {
            hang,
            releases: Default::default(),
        });
        let v = Verifier::builder(providers::stripe())
            .secret("whsec_k")
            .unwrap()
            .clock(FixedClock::new(NOW))
            .replay_store_arc(store.clone())
            .build()
            .unwrap();
        let d = v.verify(&RequestParts::new(&h), body).unwrap();
        if hang {
            // The request goes away while the store has not answered.
            let r = tokio::time::timeout(Duration::from_millis(20), v.admit(&d)).await;
            assert!(r.is_err());
        } else {
            assert_eq!(v.admit(&d).await.unwrap_err().code(), "store_unavailable");
        }
        // Released in the background, with the reservation's own token.
        for _ in 0..100 {
            if store.releases.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            store.releases.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "hang: {hang}"
        );
    }
}
