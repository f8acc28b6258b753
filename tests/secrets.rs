//! Secrets never leak: not in `Debug`/`Display` of verifiers, keys and
//! rejections, not in any `tracing` (or `log`) output at TRACE level, not in
//! any response. Neither does the signature the receiver expected for a
//! forged or tampered delivery (which would let an attacker forge it).
//!
//! Both example receivers run in this process with planted secrets; a global
//! subscriber (hence a test binary of its own) captures every event from
//! every thread at TRACE, `log` records included. Valid, replayed, tampered,
//! forged, malformed, stale and unsigned deliveries are sent to every route;
//! then the captured logs, the answers and the `Debug` output are searched
//! for each secret (as text, hex and base64) and each expected signature.

#![forbid(unsafe_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookwise::replay::MemoryStore;
use hookwise::scheme::SignParams;
use hookwise::{HeaderList, Key, Keyring, RequestParts, Secret, Verifier};
use hookwise_e2e::{Adapter, Preset, SignedDelivery};
use receiver_common::Config;

const GITHUB: &str = "planted-secret-XYZ-github";
const STRIPE: &str = "whsec_planted-secret-XYZ-stripe";
const SLACK: &str = "planted-secret-XYZ-slack";
const SHOPIFY: &str = "planted-secret-XYZ-shopify";
/// `whsec_` + base64 of `planted-secret-XYZ-standard-key`.
fn standard_secret() -> String {
    format!("whsec_{}", B64.encode(b"planted-secret-XYZ-standard-key"))
}

fn planted(p: Preset) -> String {
    match p {
        Preset::Github => GITHUB.to_owned(),
        Preset::Stripe => STRIPE.to_owned(),
        Preset::Slack => SLACK.to_owned(),
        Preset::Standard | Preset::Svix => standard_secret(),
        Preset::Shopify => SHOPIFY.to_owned(),
    }
}

const PRESETS: [Preset; 6] = [
    Preset::Github,
    Preset::Stripe,
    Preset::Slack,
    Preset::Standard,
    Preset::Svix,
    Preset::Shopify,
];

/// Every form in which a secret could show up.
fn secret_needles() -> Vec<String> {
    let mut out = Vec::new();
    for s in [GITHUB, STRIPE, SLACK, SHOPIFY, &standard_secret()] {
        out.push(s.to_owned());
        out.push(hex::encode(s));
        out.push(B64.encode(s));
    }
    out.push("planted-secret-XYZ".to_owned());
    out.push(hex::encode("planted-secret-XYZ"));
    let raw = b"planted-secret-XYZ-standard-key";
    out.push(hex::encode(raw));
    out.push(B64.encode(raw));
    out
}

/// The signature(s) the receiver computes for `d`'s body with the right key:
/// the long hex / base64 tokens of the signature header.
fn expected_signatures(d: &SignedDelivery) -> Vec<String> {
    let signed = d
        .preset
        .scheme()
        .sign(
            planted(d.preset),
            &d.body,
            &SignParams {
                timestamp: Some(d.timestamp),
                id: Some(&d.id),
                event: Some(d.event),
                ..SignParams::default()
            },
        )
        .expect("sign");
    let sig = d.preset.signature_header().replace("svix-", "webhook-");
    signed
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(&sig))
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split([',', ' ', '='])
                .filter(|t| t.len() >= 24)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[track_caller]
fn assert_absent(haystack: &str, needles: &[String], what: &str) {
    for n in needles {
        assert!(
            !haystack.contains(n.as_str()),
            "{what} contains {n:?}:\n{}",
            haystack
                .lines()
                .filter(|l| l.contains(n.as_str()))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn vars() -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_WEBHOOK_SECRET", GITHUB.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", STRIPE.to_owned()),
        ("SLACK_SIGNING_SECRET", SLACK.to_owned()),
        ("STANDARD_WEBHOOK_SECRET", standard_secret()),
        ("SHOPIFY_WEBHOOK_SECRET", SHOPIFY.to_owned()),
    ]
}

/// Sends every kind of delivery to every route; returns the answers' text
/// (status, headers, body) and the signatures the receiver must have kept
/// to itself.
async fn exercise(adapter: Adapter) -> (String, Vec<String>) {
    let vars = vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rx = adapter.start(&vars);
    let mut answers = String::new();
    let mut hidden = Vec::new();
    for p in PRESETS {
        let secret = planted(p);
        let valid = p.delivery_with(&secret, None);
        let mut tampered = p.delivery_with(&secret, None);
        let last = tampered.body.len() - 2;
        tampered.body[last] ^= 1;
        let forged = p.delivery_with(p.wrong_secret(), None);
        let malformed = p
            .delivery_with(&secret, None)
            .with(p.signature_header(), p.malformed_signature());
        let stale = p.delivery_with(&secret, Some(hookwise_e2e::now() - 3600));
        let unsigned = p.delivery_with(&secret, None).without(p.signature_header());
        hidden.extend(expected_signatures(&tampered));
        hidden.extend(expected_signatures(&forged));
        hidden.extend(expected_signatures(&malformed));
        let mut expect = vec![(&valid, 200), (&valid, 200)];
        expect.extend([
            (&tampered, 401),
            (&forged, 401),
            (&malformed, 400),
            (&unsigned, 401),
        ]);
        if p.timestamped() {
            expect.push((&stale, 401));
        }
        for (d, status) in expect {
            let a = rx.send(d).await;
            assert_eq!(a.status, status, "{adapter:?} {p:?}: {}", a.text());
            answers += &format!("{} {:?} {}\n", a.status, a.headers, a.text());
        }
    }
    (answers, hidden)
}

#[test]
fn secrets_and_expected_signatures_never_leak() {
    let captured = Capture::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .with_target(true)
        .try_init()
        .expect("the only global subscriber of this binary");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut answers = String::new();
    let mut hidden = Vec::new();
    for adapter in [Adapter::Axum, Adapter::Actix] {
        let (a, h) = runtime.block_on(exercise(adapter));
        answers += &a;
        hidden.extend(h);
    }

    // Debug and Display of everything that holds a secret or a rejection.
    let mut debug = String::new();
    let config = Config::from_lookup(|k| vars().into_iter().find(|(n, _)| *n == k).map(|(_, v)| v))
        .expect("config");
    let store: Arc<dyn hookwise::replay::ReplayStore> = Arc::new(MemoryStore::new(10));
    for sender in &config.senders {
        let v = config
            .verifier(sender, Arc::clone(&store))
            .expect("verifier");
        debug += &format!("{v:?}\n{v:#?}\n");
        for p in PRESETS
            .into_iter()
            .filter(|p| p.provider() == sender.provider)
        {
            // Straight through the core: forged and tampered, Display + Debug
            // of the rejection and its diagnosis.
            let forged = p.delivery_with(p.wrong_secret(), None);
            let headers: HeaderList = forged
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
                .collect();
            let r = v
                .verify(&RequestParts::new(&headers), &forged.body)
                .expect_err("forged");
            debug += &format!("{r}\n{r:?}\n{:?}\n{}\n", r.diagnosis(), r.body_json());
            hidden.extend(expected_signatures(&forged));
        }
    }
    let key = Key::new(GITHUB).expect("key").label("planted");
    let ring = Keyring::new().key(Key::new(SLACK).expect("key"));
    let secret = Secret::new(SHOPIFY).expect("secret");
    debug += &format!("{key:?}\n{ring:?}\n{secret:?}\n");
    // The example's start-up banner names the variables, not the values
    // (demo secrets are printed only in demo mode, on purpose).
    debug += &config.banner("axum");
    let github = Verifier::new(hookwise::providers::github(), GITHUB).expect("verifier");
    debug += &format!("{github:?}\n{:?}\n", github.scheme());
    // A refused secret: the error names the sender, never the secret.
    let bad = "whsec_planted-secret-XYZ-not-base64!!";
    let err = Verifier::new(hookwise::providers::standard(), bad).expect_err("bad secret");
    debug += &format!("{err}\n{err:?}\n");

    let logs = String::from_utf8_lossy(&captured.0.lock().expect("capture")).into_owned();
    // The capture works: both adapters' rejections are in it.
    assert!(
        logs.matches("hookwise::rejection").count() >= 2 * 5,
        "too few rejection events captured:\n{logs}"
    );
    assert!(logs.contains("signature_mismatch"), "{logs}");
    let mut needles = secret_needles();
    needles.push(bad.to_owned());
    hidden.sort();
    hidden.dedup();
    assert!(hidden.len() >= 2 * 6 * 2, "{hidden:?}");
    needles.extend(hidden);
    eprintln!(
        "secrets: {} log bytes ({} lines), {} answer bytes, {} debug bytes searched for {} needles",
        logs.len(),
        logs.lines().count(),
        answers.len(),
        debug.len(),
        needles.len()
    );
    assert_absent(&logs, &needles, "tracing output");
    assert_absent(&answers, &needles, "responses");
    assert_absent(&debug, &needles, "Debug/Display output");
}

/// The example receivers' `Config` (and its `Sender`s) in `Debug`: a user
/// who logs their configuration must not log their secrets.
#[test]
fn example_config_debug_redacts_secrets() {
    let config = Config::from_lookup(|k| vars().into_iter().find(|(n, _)| *n == k).map(|(_, v)| v))
        .expect("config");
    let debug = format!("{config:?}\n{config:#?}");
    assert_absent(&debug, &secret_needles(), "receiver_common::Config Debug");
}
