//! The core's verification alone, for instruction counts (callgrind) and for
//! quick A/B timing of a change, without criterion:
//!
//! - `profile-core <preset> <n> <size>`: `n` verifications of one signed body
//!   of `size` bytes. Instructions per verification are
//!   `(Ir(2n) - Ir(n)) / n` (setup cancels out).
//! - `ab-core <preset> <size>`: blocks of raw pre-keyed HMACs and of
//!   verifications (~50 MB hashed per block), interleaved 15 times; prints the best block of each and
//!   their ratio (interference only ever adds time, and interleaving exposes
//!   both to the same conditions).
//!
//! Presets: `github`, `stripe`, `slack`, `standard`; the body is the JSON event
//! of `crates/hookwise/benches/verify.rs`.

use std::hint::black_box;
use std::time::Instant;

use hmac::{Hmac, KeyInit, Mac};
use hookwise::scheme::SignParams;
use hookwise::{HeaderList, RequestParts, Scheme, Verifier, providers};
use sha2::Sha256;

/// The time the deliveries are signed at: the start of the run (the
/// verifiers read the system clock, as users run them).
fn now() -> i64 {
    static NOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *NOW.get_or_init(|| hookwise::Clock::now_unix(&hookwise::SystemClock))
}
const ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Case {
    verifier: Verifier,
    headers: HeaderList,
    /// The same headers in an `http` map, as the Tower layer hands them over.
    map: axum::http::HeaderMap,
    body: Vec<u8>,
    keyed: Hmac<Sha256>,
    prefix: Vec<u8>,
    tag: Vec<u8>,
}

/// The scheme, its secret, and what it signs before the body.
fn preset(name: &str) -> Result<(Scheme, &'static str, Vec<u8>), String> {
    Ok(match name {
        "github" => (providers::github(), "gh-secret", Vec::new()),
        "stripe" => (
            providers::stripe(),
            "whsec_stripe",
            format!("{}.", now()).into_bytes(),
        ),
        "slack" => (
            providers::slack(),
            "slack-secret",
            format!("v0:{}:", now()).into_bytes(),
        ),
        "standard" => (
            providers::standard(),
            STANDARD_SECRET,
            format!("{ID}.{}.", now()).into_bytes(),
        ),
        other => return Err(format!("unknown preset `{other}`")),
    })
}

fn case(name: &str, size: usize) -> Result<Case, String> {
    let (scheme, secret, prefix) = preset(name)?;
    let head = br#"{"id":"evt_1NqJxS2eZvKYlo2C","type":"payment_intent.succeeded","data":{"pad":""#;
    let mut body = head.to_vec();
    body.resize(size.saturating_sub(3).max(head.len()), b'x');
    body.extend_from_slice(br#""}}"#);
    let signed = scheme
        .sign(
            secret,
            &body,
            &SignParams {
                timestamp: Some(now()),
                id: Some(ID),
                ..SignParams::default()
            },
        )
        .map_err(|e| e.to_string())?;
    let verifier = Verifier::builder(scheme)
        .secret(secret)
        .and_then(|b| b.without_replay_store().max_body(usize::MAX).build())
        .map_err(|e| e.to_string())?;
    let key: Vec<u8> = if name == "standard" {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&secret[6..])
            .map_err(|e| e.to_string())?
    } else {
        secret.as_bytes().to_vec()
    };
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|e| e.to_string())?;
    let mut m = keyed.clone();
    m.update(&prefix);
    m.update(&body);
    let tag = m.finalize().into_bytes().to_vec();
    Ok(Case {
        verifier,
        map: signed
            .headers
            .iter()
            .filter_map(|(n, v)| {
                Some((
                    axum::http::HeaderName::from_bytes(n.as_bytes()).ok()?,
                    axum::http::HeaderValue::from_bytes(v).ok()?,
                ))
            })
            .collect(),
        headers: signed.headers,
        body,
        keyed,
        prefix,
        tag,
    })
}

fn verify_n(c: &Case, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            c.verifier
                .verify(
                    &RequestParts::new(black_box(&c.headers)),
                    black_box(&c.body),
                )
                .is_ok()
        })
        .count()
}

/// [`verify_n`] with the headers in an `http::HeaderMap`.
fn verify_map_n(c: &Case, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            c.verifier
                .verify(&RequestParts::new(black_box(&c.map)), black_box(&c.body))
                .is_ok()
        })
        .count()
}

/// The header phase alone (its result dropped).
fn headers_n(c: &Case, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            c.verifier
                .check_headers(&RequestParts::new(black_box(&c.headers)))
                .is_ok()
        })
        .count()
}

fn raw_n(c: &Case, n: usize) -> usize {
    (0..n)
        .filter(|_| {
            let mut m = c.keyed.clone();
            m.update(black_box(&c.prefix));
            m.update(black_box(&c.body));
            m.verify_slice(black_box(&c.tag)).is_ok()
        })
        .count()
}

/// `profile-core <preset>[+map] <n> <size>`: `+map` hands the headers over
/// in an `http::HeaderMap` (as the Tower layer does) instead of a `HeaderList`.
pub(crate) fn profile(name: &str, n: usize, size: usize) -> Result<(), String> {
    let (name, map) = name
        .strip_suffix("+map")
        .map_or((name, false), |base| (base, true));
    let c = case(name, size)?;
    let ok = if map {
        verify_map_n(&c, n)
    } else {
        verify_n(&c, n)
    };
    if ok != n {
        return Err(format!("{} of {n} verifications failed", n - ok));
    }
    println!("{name}: {n} verifications of {size} B");
    Ok(())
}

/// `ab-core <preset> <size>`.
pub(crate) fn ab(name: &str, size: usize) -> Result<(), String> {
    // ~50 MB hashed per block: 50 000 verifications at 1 KiB, 5 at 8 MiB.
    let block = (50_000_000 / (size + 64)).clamp(5, 50_000);
    let c = case(name, size)?;
    if raw_n(&c, 1) != 1 || verify_n(&c, 1) != 1 || verify_map_n(&c, 1) != 1 {
        return Err("the signed case does not verify".into());
    }
    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e9 / block as f64;
    let (mut raw, mut hw, mut hd, mut hm) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    // Every block must verify in full (a run that outlasted the timestamp
    // window would time rejections).
    let all = |ok: usize| {
        if ok == block {
            Ok(())
        } else {
            Err(format!("{} of {block} verifications failed", block - ok))
        }
    };
    for _ in 0..15 {
        let t = Instant::now();
        let ok = black_box(verify_map_n(&c, block));
        hm = hm.min(per(t));
        all(ok)?;
        let t = Instant::now();
        black_box(headers_n(&c, block));
        hd = hd.min(per(t));
        let t = Instant::now();
        let ok = black_box(raw_n(&c, block));
        raw = raw.min(per(t));
        all(ok)?;
        let t = Instant::now();
        let ok = black_box(verify_n(&c, block));
        hw = hw.min(per(t));
        all(ok)?;
    }
    println!(
        "{name} {size} B: raw pre-keyed HMAC {raw:.1} ns, hookwise {hw:.1} ns, ratio {:.3}, fixed cost {:.1} ns (header phase alone {hd:.1} ns); from an http::HeaderMap {hm:.1} ns, ratio {:.3}",
        hw / raw,
        hw - raw,
        hm / raw
    );
    if name == "standard" {
        crate_ab(&c, size)?;
    }
    Ok(())
}

/// The `standardwebhooks` crate against hookwise, both given the same
/// `http::HeaderMap` (the crate's input type) and reading the system clock,
/// in alternating blocks; best block of each.
fn crate_ab(c: &Case, size: usize) -> Result<(), String> {
    let wh = standardwebhooks::Webhook::new(STANDARD_SECRET).map_err(|e| e.to_string())?;
    let crate_n = |n: usize| {
        (0..n)
            .filter(|_| wh.verify(black_box(&c.body), black_box(&c.map)).is_ok())
            .count()
    };
    if crate_n(1) != 1 {
        return Err("the standardwebhooks crate refuses the signed case".into());
    }
    let block = (5_000_000 / (size + 64)).clamp(3, 5_000);
    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e9 / block as f64;
    let (mut cr, mut hm) = (f64::MAX, f64::MAX);
    for _ in 0..15 {
        let t = Instant::now();
        let ok = black_box(crate_n(block));
        cr = cr.min(per(t));
        let t = Instant::now();
        let ok = ok.min(black_box(verify_map_n(c, block)));
        hm = hm.min(per(t));
        if ok != block {
            return Err("a verification failed during the comparison".into());
        }
    }
    println!(
        "standard {size} B, both from an http::HeaderMap: standardwebhooks crate {cr:.1} ns, hookwise {hm:.1} ns, crate / hookwise {:.2}x",
        cr / hm
    );
    Ok(())
}
