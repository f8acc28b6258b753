//! The end-to-end suite, written once and generated for every adapter and every
//! sender route: `axum::github::valid`, `actix::svix::replay_skips_the_handler`, …
//!
//! Each test starts its own receiver (its own replay store) on a loopback port
//! and talks to it over real HTTP.

use std::time::Duration;

use hookwise_e2e::{Adapter, KeyPreset, Preset, Receiver, now};

/// `HOOKWISE_MAX_BODY` for the oversize cases.
const SMALL_LIMIT: usize = 512;

fn start(adapter: Adapter) -> Receiver {
    adapter.start(&[])
}

async fn valid(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery();
    let a = rx.send(&d).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(!a.is_duplicate());
    assert!(
        a.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        a.headers
    );
    let json = a.json();
    assert_eq!(json["provider"], preset.provider(), "{json}");
    assert_eq!(json["delivery_id"], d.id.as_str(), "{json}");
    assert_eq!(json["event_type"], d.event, "{json}");
    assert_eq!(json["body_sha256"], d.body_sha256(), "{json}");
}

async fn tampered_body(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let mut d = preset.delivery();
    let last = d.body.len() - 2;
    d.body[last] ^= 0x01;
    let a = rx.send(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
    // The whole body was read: the connection stays open for the next request.
    assert_eq!(a.header("connection"), None, "{:?}", a.headers);
}

async fn wrong_key(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.wrong_secret(), None);
    let a = rx.send(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
}

async fn missing_signature(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery().without(preset.signature_header());
    let a = rx.send(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("missing_signature"));
    // Rejected on its headers: the body stays unread and the connection ends.
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);
    let next = rx.send(&preset.delivery()).await;
    assert!(next.processed(), "{} {}", next.status, next.text());
}

async fn malformed_signature(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset
        .delivery()
        .with(preset.signature_header(), preset.malformed_signature());
    let a = rx.send(&d).await;
    assert_eq!(a.status, 400, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("malformed_header"));
}

async fn stale_timestamp(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.secret(), Some(now() - 3600));
    let a = rx.send(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("timestamp_too_old"));
}

async fn future_timestamp(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.secret(), Some(now() + 3600));
    let a = rx.send(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("timestamp_in_future"));
}

async fn replay_skips_the_handler(adapter: Adapter, preset: Preset) {
    let rx = start(adapter);
    let d = preset.delivery();
    let first = rx.send(&d).await;
    assert!(first.processed(), "{} {}", first.status, first.text());
    let again = rx.send(&d).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(again.is_duplicate(), "{:?}", again.headers);
    let json = again.json();
    assert_eq!(json["duplicate"], true, "{json}");
    assert!(json.get("body_sha256").is_none(), "handler ran: {json}");
}

async fn failed_handler_then_retry_is_processed(adapter: Adapter, preset: Preset) {
    let rx = adapter.start(&[("HOOKWISE_FAIL_FIRST", "1")]);
    let d = preset.delivery();
    let first = rx.send(&d).await;
    assert_eq!(first.status, 500, "{}", first.text());
    let retry = rx.send(&d).await;
    assert!(retry.processed(), "{} {}", retry.status, retry.text());
    assert_eq!(retry.json()["body_sha256"], d.body_sha256());
    let again = rx.send(&d).await;
    assert!(again.is_duplicate(), "{} {}", again.status, again.text());
}

async fn oversize_with_content_length(adapter: Adapter, preset: Preset) {
    let limit = SMALL_LIMIT.to_string();
    let rx = adapter.start(&[("HOOKWISE_MAX_BODY", &limit)]);
    let mut d = preset.delivery();
    // Still signed correctly: only the size is wrong.
    d.body.resize(4 * SMALL_LIMIT, b' ');
    let d = d.resigned();
    let a = rx.send(&d).await;
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("body_too_large"));
    // The body was not read, so the connection cannot carry another request:
    // the answer says so, and the client's next delivery goes out on a fresh
    // connection instead of failing on the closed one.
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);
    let next = rx.send(&preset.delivery()).await;
    assert!(next.processed(), "{} {}", next.status, next.text());
}

async fn oversize_chunked(adapter: Adapter, preset: Preset) {
    let limit = SMALL_LIMIT.to_string();
    let rx = adapter.start(&[("HOOKWISE_MAX_BODY", &limit)]);
    let d = preset.delivery();
    let pieces = vec![vec![b' '; 256]; 8];
    let a = rx
        .raw(&d.raw_head(None), pieces, Duration::ZERO, true)
        .await;
    assert_eq!(a.status, 413, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("body_too_large"));
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);
}

async fn trickled_body_times_out(adapter: Adapter, preset: Preset) {
    let rx = adapter.start(&[("HOOKWISE_BODY_TIMEOUT_MS", "300")]);
    let d = preset.delivery();
    // One byte every 50 ms: the whole body would take seconds.
    let pieces = d.body.iter().map(|b| vec![*b]).collect();
    let a = rx
        .raw(
            &d.raw_head(Some(d.body.len())),
            pieces,
            Duration::from_millis(50),
            false,
        )
        .await;
    assert_eq!(a.status, 408, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("body_timeout"));
    assert_eq!(a.header("connection"), Some("close"), "{:?}", a.headers);
}

async fn concurrent_duplicates_run_once(adapter: Adapter, preset: Preset) {
    const N: usize = 8;
    let rx = adapter.start(&[("HOOKWISE_HANDLER_DELAY_MS", "300")]);
    let d = preset.delivery();
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (rx, d) = (rx.clone(), d.clone());
            tokio::spawn(async move { rx.send(&d).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    let processed = answers.iter().filter(|a| a.processed()).count();
    assert_eq!(processed, 1, "{answers:#?}");
    for a in answers.iter().filter(|a| !a.processed()) {
        assert!(
            a.status == 409 && a.error().as_deref() == Some("duplicate_in_flight")
                || a.status == 200 && a.is_duplicate(),
            "{a:#?}"
        );
        if a.status == 409 {
            assert!(a.header("retry-after").is_some(), "{a:#?}");
        }
    }
}

// ---- adapter-level cases (not per sender) ----

async fn unknown_route_is_404(adapter: Adapter) {
    let rx = start(adapter);
    let d = Preset::Github.delivery();
    let a = rx.post("/webhooks/nope", &d.headers, d.body.clone()).await;
    assert_eq!(a.status, 404, "{}", a.text());
}

async fn non_utf8_body_is_verified_as_bytes(adapter: Adapter) {
    let rx = start(adapter);
    let mut d = Preset::Github.delivery();
    d.body = vec![0xff, 0xfe, 0x00, b'{', 0x80, b'}'];
    let d = d.resigned();
    let a = rx.send(&d).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["body_sha256"], d.body_sha256());
}

async fn only_configured_routes_exist(adapter: Adapter) {
    let rx = adapter.start(&[]);
    // Every route of the contract is enabled by its secret.
    for p in [
        Preset::Github,
        Preset::Stripe,
        Preset::Slack,
        Preset::Standard,
        Preset::Shopify,
    ] {
        let a = rx.send(&p.delivery()).await;
        assert_eq!(a.status, 200, "{p:?}: {}", a.text());
    }
    for p in [
        KeyPreset::Discord,
        KeyPreset::TwilioForm,
        KeyPreset::Sendgrid,
        KeyPreset::StandardV1a,
    ] {
        let a = rx.send_key(&p.delivery()).await;
        assert_eq!(a.status, 200, "{p:?}: {}", a.text());
    }
}

// ---- public-key and URL-signing senders (Discord, Twilio, SendGrid, v1a) ----

async fn key_valid(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery();
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(!a.is_duplicate());
    let json = a.json();
    assert_eq!(json["provider"], preset.provider(), "{json}");
    assert_eq!(json["delivery_id"].as_str(), d.id.as_deref(), "{json}");
    assert_eq!(json["event_type"].as_str(), d.event, "{json}");
    assert_eq!(json["body_sha256"], d.body_sha256(), "{json}");
}

async fn key_tampered_body(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let mut d = preset.delivery();
    let at = d.body.len() / 2;
    d.body[at] ^= 0x01;
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
}

async fn key_wrong_key(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.wrong_key(), None);
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
}

async fn key_missing_signature(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery().without(preset.signature_header());
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("missing_signature"));
}

async fn key_malformed_signature(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    for bad in preset.malformed_signatures() {
        let d = preset.delivery().with(preset.signature_header(), bad);
        let a = rx.send_key(&d).await;
        let got = (a.status, a.error());
        assert!(
            matches!(
                (got.0, got.1.as_deref()),
                (400, Some("malformed_header")) | (401, Some("signature_mismatch"))
            ),
            "{bad:?}: {got:?}"
        );
    }
}

async fn key_stale_timestamp(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.key(), Some(now() - 3600));
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("timestamp_too_old"));
}

async fn key_future_timestamp(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery_with(preset.key(), Some(now() + 3600));
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("timestamp_in_future"));
}

async fn key_replay_skips_the_handler(adapter: Adapter, preset: KeyPreset) {
    let rx = start(adapter);
    let d = preset.delivery();
    let first = rx.send_key(&d).await;
    assert!(first.processed(), "{} {}", first.status, first.text());
    let again = rx.send_key(&d).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(again.is_duplicate(), "{:?}", again.headers);
}

/// Discord checks endpoints with deliberately invalid signatures and expects 401.
async fn discord_invalid_signature_probe_is_401(adapter: Adapter) {
    let rx = start(adapter);
    let zero = "00".repeat(64);
    let d = KeyPreset::Discord
        .delivery()
        .with("x-signature-ed25519", &zero);
    let a = rx.send_key(&d).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
}

/// Twilio: a signature over another URL (the loopback one the receiver sees,
/// not the configured public one) does not pass.
async fn twilio_signature_over_another_url_is_401(adapter: Adapter) {
    let rx = start(adapter);
    let d = KeyPreset::TwilioForm.delivery();
    let signed = hookwise::providers::twilio(rx.url("/webhooks/twilio"))
        .sign(
            TWILIO_KEY,
            &d.body,
            &hookwise::scheme::SignParams::default(),
        )
        .expect("sign");
    let sig = signed
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-twilio-signature"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .expect("signature");
    let a = rx.send_key(&d.with("x-twilio-signature", &sig)).await;
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("signature_mismatch"));
}

const TWILIO_KEY: &str = hookwise_e2e::TWILIO_AUTH_TOKEN;

/// A Standard Webhooks route with only a public key refuses `v1` signatures.
async fn standard_public_key_only_refuses_v1(adapter: Adapter) {
    let public = receiver_common::demo_public_key("standard", hookwise_e2e::STANDARD_PRIVATE_KEY)
        .expect("public key");
    let rx = adapter.start(&[
        ("STANDARD_WEBHOOK_SECRET", ""),
        ("STANDARD_WEBHOOK_PUBLIC_KEY", &public),
    ]);
    let v1a = rx.send_key(&KeyPreset::StandardV1a.delivery()).await;
    assert_eq!(v1a.status, 200, "{}", v1a.text());
    let v1 = rx.send(&Preset::Standard.delivery()).await;
    assert_eq!(v1.status, 401, "{}", v1.text());
    assert_eq!(v1.error().as_deref(), Some("signature_mismatch"));
}

// ---- IP allow-list (HOOKWISE_ALLOW_IPS, HOOKWISE_TRUSTED_PROXIES) ----

async fn ip_loopback_allowed(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_ALLOW_IPS", "10.0.0.0/8, 127.0.0.0/8,::1")]);
    let a = rx.send(&Preset::Github.delivery()).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let k = rx.send_key(&KeyPreset::Discord.delivery()).await;
    assert_eq!(k.status, 200, "{}", k.text());
}

async fn ip_not_in_list_is_403(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_ALLOW_IPS", "192.30.252.0/22,2a0a:a440::/29")]);
    let a = rx.send(&Preset::Github.delivery()).await;
    assert_eq!(a.status, 403, "{}", a.text());
    assert_eq!(a.error().as_deref(), Some("forbidden_address"));
    // The address is checked before the signature: a forgery gets 403 too.
    let f = rx
        .send(&Preset::Github.delivery_with(Preset::Github.wrong_secret(), None))
        .await;
    assert_eq!(f.status, 403, "{}", f.text());
    // A forwarding header from an untrusted peer is ignored.
    let spoofed = Preset::Github
        .delivery()
        .with("x-forwarded-for", "192.30.252.7");
    let s = rx.send(&spoofed).await;
    assert_eq!(s.status, 403, "{}", s.text());
}

async fn ip_forwarded_by_trusted_proxy(adapter: Adapter) {
    let rx = adapter.start(&[
        ("HOOKWISE_ALLOW_IPS", "192.30.252.0/22"),
        ("HOOKWISE_TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let ok = Preset::Github
        .delivery()
        .with("x-forwarded-for", "192.30.252.7");
    let a = rx.send(&ok).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let other = Preset::Github
        .delivery()
        .with("x-forwarded-for", "203.0.113.9");
    let b = rx.send(&other).await;
    assert_eq!(b.status, 403, "{}", b.text());
    assert_eq!(b.error().as_deref(), Some("forbidden_address"));
    // Behind the proxy without a forwarding header, the proxy is the client.
    let c = rx.send(&Preset::Github.delivery()).await;
    assert_eq!(c.status, 403, "{}", c.text());
    // A client's own `Forwarded`, which an X-Forwarded-For proxy passes
    // through, is not believed.
    let spoofed = Preset::Github
        .delivery()
        .with("forwarded", "for=192.30.252.7;proto=https");
    let d = rx.send(&spoofed).await;
    assert_eq!(d.status, 403, "{}", d.text());
    assert_eq!(d.error().as_deref(), Some("forbidden_address"));

    // Proxies that write `Forwarded` instead: that header alone is read.
    let rx = adapter.start(&[
        ("HOOKWISE_ALLOW_IPS", "192.30.252.0/22"),
        ("HOOKWISE_TRUSTED_PROXIES", "127.0.0.1"),
        ("HOOKWISE_FORWARDING_HEADER", "forwarded"),
    ]);
    let e = rx.send(&spoofed).await;
    assert_eq!(e.status, 200, "{}", e.text());
    let f = rx.send(&ok).await;
    assert_eq!(f.status, 403, "{}", f.text());
}

macro_rules! per_key_preset {
    ($adapter:expr, $preset:expr, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test]
            async fn $case() {
                super::super::$case($adapter, $preset).await;
            }
        )*
    };
}

macro_rules! key_preset {
    ($adapter:expr, $name:ident, $preset:expr, timestamped) => {
        mod $name {
            use super::*;
            key_preset!(@common $adapter, $preset);
            per_key_preset!($adapter, $preset, [key_stale_timestamp, key_future_timestamp]);
        }
    };
    ($adapter:expr, $name:ident, $preset:expr) => {
        mod $name {
            use super::*;
            key_preset!(@common $adapter, $preset);
        }
    };
    (@common $adapter:expr, $preset:expr) => {
        per_key_preset!(
            $adapter,
            $preset,
            [
                key_valid,
                key_tampered_body,
                key_wrong_key,
                key_missing_signature,
                key_malformed_signature,
                key_replay_skips_the_handler,
            ]
        );
    };
}

macro_rules! per_preset {
    ($adapter:expr, $preset:expr, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test]
            async fn $case() {
                super::super::$case($adapter, $preset).await;
            }
        )*
    };
}

macro_rules! preset {
    ($adapter:expr, $name:ident, $preset:expr, timestamped) => {
        mod $name {
            use super::*;
            preset!(@common $adapter, $preset);
            per_preset!($adapter, $preset, [stale_timestamp, future_timestamp]);
        }
    };
    ($adapter:expr, $name:ident, $preset:expr) => {
        mod $name {
            use super::*;
            preset!(@common $adapter, $preset);
        }
    };
    (@common $adapter:expr, $preset:expr) => {
        per_preset!(
            $adapter,
            $preset,
            [
                valid,
                tampered_body,
                wrong_key,
                missing_signature,
                malformed_signature,
                replay_skips_the_handler,
                failed_handler_then_retry_is_processed,
                oversize_with_content_length,
                oversize_chunked,
                trickled_body_times_out,
                concurrent_duplicates_run_once,
            ]
        );
    };
}

macro_rules! cases {
    ($adapter:expr) => {
        use super::*;

        preset!($adapter, github, Preset::Github);
        preset!($adapter, stripe, Preset::Stripe, timestamped);
        preset!($adapter, slack, Preset::Slack, timestamped);
        preset!($adapter, standard, Preset::Standard, timestamped);
        preset!($adapter, svix, Preset::Svix, timestamped);
        preset!($adapter, shopify, Preset::Shopify);
        key_preset!($adapter, discord, KeyPreset::Discord, timestamped);
        key_preset!($adapter, twilio_form, KeyPreset::TwilioForm);
        key_preset!($adapter, twilio_json, KeyPreset::TwilioJson);
        key_preset!($adapter, sendgrid, KeyPreset::Sendgrid, timestamped);
        key_preset!($adapter, standard_v1a, KeyPreset::StandardV1a, timestamped);
        key_preset!(
            $adapter,
            standard_mixed,
            KeyPreset::StandardMixed,
            timestamped
        );

        #[tokio::test]
        async fn discord_invalid_signature_probe_is_401() {
            super::discord_invalid_signature_probe_is_401($adapter).await;
        }

        #[tokio::test]
        async fn twilio_signature_over_another_url_is_401() {
            super::twilio_signature_over_another_url_is_401($adapter).await;
        }

        #[tokio::test]
        async fn standard_public_key_only_refuses_v1() {
            super::standard_public_key_only_refuses_v1($adapter).await;
        }

        #[tokio::test]
        async fn ip_loopback_allowed() {
            super::ip_loopback_allowed($adapter).await;
        }

        #[tokio::test]
        async fn ip_not_in_list_is_403() {
            super::ip_not_in_list_is_403($adapter).await;
        }

        #[tokio::test]
        async fn ip_forwarded_by_trusted_proxy() {
            super::ip_forwarded_by_trusted_proxy($adapter).await;
        }

        #[tokio::test]
        async fn unknown_route_is_404() {
            super::unknown_route_is_404($adapter).await;
        }

        #[tokio::test]
        async fn non_utf8_body_is_verified_as_bytes() {
            super::non_utf8_body_is_verified_as_bytes($adapter).await;
        }

        #[tokio::test]
        async fn every_route_is_enabled() {
            super::only_configured_routes_exist($adapter).await;
        }
    };
}

mod axum {
    cases!(Adapter::Axum);
}

mod actix {
    cases!(Adapter::Actix);
}
