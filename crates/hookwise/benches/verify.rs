//! Core verification cost, side by side in one run: the raw pre-keyed HMAC over
//! the same signed bytes, hookwise (headers parsed + body verified), the code
//! users write by hand, and the `standardwebhooks` crate.
//!
//! `cargo bench -p hookwise --bench verify`
#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use hookwise::scheme::SignParams;
use hookwise::{HeaderList, RequestParts, Scheme, Verifier, providers};
use sha2::Sha256;

const SIZES: &[usize] = &[64, 1024, 16 * 1024, 1024 * 1024, 8 * 1024 * 1024];

/// A JSON-ish body of `n` bytes with an `id` and a `type`, like a real event.
fn body(n: usize) -> Vec<u8> {
    let head = br#"{"id":"evt_1NqJxS2eZvKYlo2C","type":"payment_intent.succeeded","data":{"pad":""#;
    let tail = br#""}}"#;
    let mut b = head.to_vec();
    b.resize(n.saturating_sub(tail.len()).max(head.len()), b'x');
    b.extend_from_slice(tail);
    b
}

struct Case {
    name: &'static str,
    scheme: Scheme,
    secret: &'static str,
    /// The signed prefix parts before the body, for the raw baseline.
    prefix: fn(&HeaderList, i64) -> Vec<u8>,
}

fn header(h: &HeaderList, name: &str) -> String {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| String::from_utf8(v.to_vec()).unwrap())
        .unwrap()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "github",
            scheme: providers::github(),
            secret: "gh-secret",
            prefix: |_, _| Vec::new(),
        },
        Case {
            name: "stripe",
            scheme: providers::stripe(),
            secret: "whsec_stripe",
            prefix: |_, now| format!("{now}.").into_bytes(),
        },
        Case {
            name: "slack",
            scheme: providers::slack(),
            secret: "slack-secret",
            prefix: |_, now| format!("v0:{now}:").into_bytes(),
        },
        Case {
            name: "standard",
            scheme: providers::standard(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            prefix: |h, now| format!("{}.{now}.", header(h, "webhook-id")).into_bytes(),
        },
    ]
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let mut g = c.benchmark_group(format!("verify/{}", case.name));
        for &n in SIZES {
            // The real time, read afresh for each size (a whole run outlasts the
            // 300 s window): hookwise and the `standardwebhooks` crate both
            // check timestamps against the system clock.
            let now = hookwise::Clock::now_unix(&hookwise::SystemClock);
            if n >= 1024 * 1024 {
                g.sample_size(20);
            }
            let body = body(n);
            let signed = case
                .scheme
                .sign(
                    case.secret,
                    &body,
                    &SignParams {
                        timestamp: Some(now),
                        id: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
                        ..SignParams::default()
                    },
                )
                .unwrap();
            // The system clock, as users run it (and as the crate reads it).
            let verifier = Verifier::builder(case.scheme.clone())
                .secret(case.secret)
                .unwrap()
                .without_replay_store()
                .max_body(usize::MAX)
                .build()
                .unwrap();
            g.throughput(Throughput::Bytes(n as u64));

            // Raw primitive: a pre-keyed HMAC state cloned, fed prefix then body, constant-time check.
            let key_bytes: Vec<u8> = if case.name == "standard" {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(&case.secret[6..])
                    .unwrap()
            } else {
                case.secret.as_bytes().to_vec()
            };
            let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key_bytes).unwrap();
            let prefix = (case.prefix)(&signed.headers, now);
            let mut expected = keyed.clone();
            expected.update(&prefix);
            expected.update(&body);
            let tag = expected.finalize().into_bytes();
            g.bench_with_input(
                BenchmarkId::new("raw_prekeyed_hmac", n),
                &body,
                |b, body| {
                    b.iter(|| {
                        let mut m = keyed.clone();
                        m.update(black_box(&prefix));
                        m.update(black_box(body));
                        m.verify_slice(black_box(&tag)).is_ok()
                    });
                },
            );

            assert!(
                verifier
                    .verify(&RequestParts::new(&signed.headers), &body)
                    .is_ok(),
                "hookwise must accept the delivery"
            );
            g.bench_with_input(BenchmarkId::new("hookwise", n), &body, |b, body| {
                b.iter(|| {
                    verifier
                        .verify(
                            &RequestParts::new(black_box(&signed.headers)),
                            black_box(body),
                        )
                        .is_ok()
                });
            });
            // Still accepted once measured: the figures are of verifications
            // that passed, not of a rejection.
            assert!(
                verifier
                    .verify(&RequestParts::new(&signed.headers), &body)
                    .is_ok(),
                "hookwise stopped accepting the delivery during the benchmark"
            );

            // What users write by hand: key the MAC per request, build the signed
            // string, hex-encode, compare strings.
            let sig_header = header(
                &signed.headers,
                match case.name {
                    "github" => "x-hub-signature-256",
                    "stripe" => "stripe-signature",
                    "slack" => "x-slack-signature",
                    _ => "webhook-signature",
                },
            );
            g.bench_with_input(BenchmarkId::new("hand_written", n), &body, |b, body| {
                b.iter(|| {
                    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&key_bytes).unwrap();
                    let mut content = prefix.clone();
                    content.extend_from_slice(body);
                    m.update(&content);
                    let out = m.finalize().into_bytes();
                    let computed = if case.name == "standard" {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD.encode(out)
                    } else {
                        hex::encode(out)
                    };
                    black_box(&sig_header).contains(&computed)
                });
            });

            if case.name == "standard" {
                let wh = standardwebhooks::Webhook::new(case.secret).unwrap();
                let mut hm = http::HeaderMap::new();
                for (n, v) in signed.headers.iter() {
                    hm.insert(
                        http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                        http::HeaderValue::from_bytes(v).unwrap(),
                    );
                }
                let ok = wh.verify(&body, &hm).is_ok();
                assert!(ok, "standardwebhooks must accept our signature");
                g.bench_with_input(
                    BenchmarkId::new("standardwebhooks_crate", n),
                    &body,
                    |b, body| {
                        b.iter(|| wh.verify(black_box(body), black_box(&hm)).is_ok());
                    },
                );
                assert!(
                    wh.verify(&body, &hm).is_ok(),
                    "the crate stopped accepting the delivery during the benchmark"
                );
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
