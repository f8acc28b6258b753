//! The bad-input matrix of issue #9, over real HTTP on loopback, generated
//! once for both adapters (`axum::…`, `actix::…`), like `e2e.rs`.
//!
//! Every case sends what an attacker (or a broken proxy) could send and
//! asserts the documented status and reason code, and that the handler did
//! not run: a rejection never carries the contract's `body_sha256`, and where
//! the bad request carried a genuine signature, the genuine delivery sent
//! afterwards is still processed (not answered as a duplicate), so the bad
//! one was neither handled nor committed.
//!
//! What the HTTP servers themselves refuse before hookwise sees the request
//! (headers over hyper's ~408 KiB / actix's 128 KiB buffer, a garbage
//! `Content-Length`) is asserted as "no 2xx, handler not run", whatever the
//! server answers (431, 400, or a closed connection).
//!
//! The last test checks that every crate root of the workspace forbids
//! `unsafe` code.

#![forbid(unsafe_code)]

mod support_hardening;

use std::io::Write;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use hookwise_e2e::{Adapter, Answer, Preset, Receiver, SignedDelivery, now};
use sha2::{Digest, Sha256};
use support_hardening::{End, Outcome, RawRequest};

/// A Unix time 20 years from now.
const TWENTY_YEARS: i64 = 20 * 365 * 24 * 3600;

/// The delivery's headers with raw byte values.
fn raw_headers(d: &SignedDelivery) -> Vec<(String, Vec<u8>)> {
    d.headers
        .iter()
        .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
        .collect()
}

/// `d` as a raw request with an honest `Content-Length`.
fn raw(d: &SignedDelivery) -> RawRequest {
    RawRequest::post(d.preset.route(), &raw_headers(d))
        .header("content-length", d.body.len().to_string())
        .body(d.body.clone())
}

#[track_caller]
fn assert_rejected(a: &Answer, status: u16, code: &str, case: &str) {
    assert_eq!(a.status, status, "{case}: {} {:?}", a.text(), a.headers);
    assert_eq!(a.error().as_deref(), Some(code), "{case}: {}", a.text());
    assert!(!a.processed(), "{case}: handler ran: {}", a.text());
    assert!(!a.is_duplicate(), "{case}: {:?}", a.headers);
}

/// Whatever the server answered, it was not a success and the handler did not run.
#[track_caller]
fn assert_refused(o: &Outcome, case: &str) {
    match o {
        Outcome::Answer(a) => eprintln!("{case}: {} {}", a.status, a.text()),
        Outcome::Closed(why) => eprintln!("{case}: connection closed ({why})"),
    }
    if let Outcome::Answer(a) = o {
        assert!(
            !(200..300).contains(&a.status),
            "{case}: {} {}",
            a.status,
            a.text()
        );
        assert!(!a.processed(), "{case}: handler ran: {}", a.text());
    }
}

/// The genuine delivery is processed now: what came before it with the same
/// signature was neither handled nor committed.
async fn assert_fresh(rx: &Receiver, d: &SignedDelivery, case: &str) {
    let a = rx.send(d).await;
    assert!(
        a.processed(),
        "{case}: genuine delivery not processed afterwards: {} {} {:?}",
        a.status,
        a.text(),
        a.headers
    );
    assert_eq!(a.json()["body_sha256"], d.body_sha256(), "{case}");
}

fn header<'a>(d: &'a SignedDelivery, name: &str) -> &'a str {
    d.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{:?} has no {name}: {:?}", d.preset, d.headers))
}

/// The `v1=<hex>` entry of a Stripe signature header.
fn stripe_v1(d: &SignedDelivery) -> String {
    header(d, "stripe-signature")
        .split(',')
        .find(|e| e.starts_with("v1="))
        .expect("v1 entry")
        .to_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// A gzip "bomb": `mib` MiB of zeros, compressed (about 1000:1).
fn gzip_of_zeros(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    for _ in 0..mib {
        enc.write_all(&zeros).expect("gzip");
    }
    enc.finish().expect("gzip")
}

fn hex_sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

// ---- duplicated headers ----

async fn duplicated_signature_header(adapter: Adapter) {
    let rx = adapter.start(&[]);
    for preset in [Preset::Github, Preset::Stripe, Preset::Standard] {
        let d = preset.delivery();
        let sig = preset.signature_header();
        // The same genuine value twice: still ambiguous, still refused.
        let mut headers = d.headers.clone();
        headers.push((sig.to_owned(), header(&d, sig).to_owned()));
        let a = rx.post(preset.route(), &headers, d.body.clone()).await;
        assert_rejected(
            &a,
            400,
            "malformed_header",
            &format!("{preset:?} same twice"),
        );
        // A forged value first, the genuine one second.
        let forged = preset.delivery_with(preset.wrong_secret(), None);
        let mut headers = d.clone().without(sig).headers;
        headers.push((sig.to_owned(), header(&forged, sig).to_owned()));
        headers.push((sig.to_owned(), header(&d, sig).to_owned()));
        let a = rx.post(preset.route(), &headers, d.body.clone()).await;
        assert_rejected(
            &a,
            400,
            "malformed_header",
            &format!("{preset:?} forged+genuine"),
        );
        assert_fresh(&rx, &d, &format!("{preset:?} duplicated signature")).await;
    }
}

async fn duplicated_timestamp_header(adapter: Adapter) {
    let rx = adapter.start(&[]);
    for (preset, ts) in [
        (Preset::Slack, "x-slack-request-timestamp"),
        (Preset::Standard, "webhook-timestamp"),
    ] {
        let d = preset.delivery();
        let mut headers = d.headers.clone();
        headers.push((ts.to_owned(), header(&d, ts).to_owned()));
        let a = rx.post(preset.route(), &headers, d.body.clone()).await;
        assert_rejected(
            &a,
            400,
            "malformed_header",
            &format!("{preset:?} {ts} twice"),
        );
        assert_fresh(&rx, &d, &format!("{preset:?} duplicated timestamp")).await;
    }
}

// ---- non-UTF-8 and huge header values ----

async fn non_utf8_signature_value(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    let mut value = b"sha256=".to_vec();
    value.extend_from_slice(&[0xff, 0xfe, 0x80, 0xc3, 0x28]);
    value.extend_from_slice(&[b'a'; 59]);
    let req = RawRequest::post(
        d.preset.route(),
        &raw_headers(&d.clone().without("x-hub-signature-256")),
    )
    .header("x-hub-signature-256", &value)
    .header("content-length", d.body.len().to_string())
    .body(d.body.clone());
    let a = req
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("non-UTF-8 signature");
    assert_rejected(&a, 400, "malformed_header", "non-UTF-8 signature");
    assert_fresh(&rx, &d, "non-UTF-8 signature").await;
}

async fn non_utf8_unrelated_header_is_ignored(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    let a = raw(&d)
        .header("x-junk", [0xff, 0xfe, 0x80, b'z'])
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("non-UTF-8 unrelated header");
    assert!(a.processed(), "{} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], d.body_sha256());
}

async fn non_utf8_delivery_id_header(adapter: Adapter) {
    // Standard Webhooks signs `{id}.{timestamp}.{body}`: a non-UTF-8 id is
    // refused as malformed before anything is signed or stored.
    let rx = adapter.start(&[]);
    let d = Preset::Standard.delivery();
    let req = RawRequest::post(
        d.preset.route(),
        &raw_headers(&d.clone().without("webhook-id")),
    )
    .header("webhook-id", [b'm', b's', b'g', 0xff, 0xfe])
    .header("content-length", d.body.len().to_string())
    .body(d.body.clone());
    let a = req
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("non-UTF-8 id");
    assert!(!a.processed(), "non-UTF-8 id: handler ran: {}", a.text());
    assert_rejected(&a, 400, "malformed_header", "non-UTF-8 id");
    assert_fresh(&rx, &d, "non-UTF-8 id").await;
}

async fn huge_signature_value_within_the_header_limit(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    // 32 KiB that is not hex: malformed.
    let huge = format!("sha256={}", "zz".repeat(16 * 1024));
    let a = rx.send(&d.clone().with("x-hub-signature-256", &huge)).await;
    assert_rejected(&a, 400, "malformed_header", "32 KiB non-hex signature");
    // 32 KiB of valid hex, the wrong length for SHA-256: it cannot match.
    let huge = format!("sha256={}", "ab".repeat(16 * 1024));
    let a = rx.send(&d.clone().with("x-hub-signature-256", &huge)).await;
    assert_rejected(&a, 401, "signature_mismatch", "32 KiB hex signature");
    // The genuine signature followed by 32 KiB more hex: no prefix match.
    let long = format!(
        "{}{}",
        header(&d, "x-hub-signature-256"),
        "ab".repeat(16 * 1024)
    );
    let a = rx.send(&d.clone().with("x-hub-signature-256", &long)).await;
    assert_rejected(&a, 401, "signature_mismatch", "genuine + 32 KiB");
    assert_fresh(&rx, &d, "32 KiB signature").await;
}

async fn huge_unrelated_header_within_the_limit_is_fine(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github
        .delivery()
        .with("x-padding", &"p".repeat(64 * 1024));
    let a = rx.send(&d).await;
    assert!(a.processed(), "{} {}", a.status, a.text());
}

async fn headers_over_the_server_limit(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    // One 1 MiB header value: over hyper's and actix's header buffers.
    let o = raw(&d)
        .header("x-padding", vec![b'p'; 1 << 20])
        .send(rx.addr, End::KeepOpen)
        .await;
    assert_refused(&o, "1 MiB header");
    // 200 small headers: over both servers' header count.
    let mut req = raw(&d);
    for i in 0..200 {
        req = req.header(&format!("x-h{i}"), "v");
    }
    let o = req.send(rx.addr, End::KeepOpen).await;
    assert_refused(&o, "200 headers");
    assert_fresh(&rx, &d, "headers over the limit").await;
}

// ---- signature lists ----

async fn thousands_of_list_entries(adapter: Adapter) {
    let rx = adapter.start(&[]);
    // Stripe: 3000 junk `v1=` entries.
    let d = Preset::Stripe.delivery();
    let junk = format!("t={},{}", d.timestamp, vec!["v1=00"; 3000].join(","));
    let a = rx.send(&d.clone().with("stripe-signature", &junk)).await;
    assert_rejected(&a, 400, "malformed_header", "3000 junk stripe entries");
    // Stripe: the genuine signature first, then 1500 copies of it: over the
    // cap, refused before any HMAC is computed, even though one would match.
    let v1 = stripe_v1(&d);
    let many = format!("t={},{}", d.timestamp, vec![v1.as_str(); 1500].join(","));
    let a = rx.send(&d.clone().with("stripe-signature", &many)).await;
    assert_rejected(&a, 400, "malformed_header", "1500 genuine stripe entries");
    // Standard Webhooks: 2000 space-separated `v1,` entries.
    let s = Preset::Standard.delivery();
    let sig = header(&s, "webhook-signature").to_owned();
    let many = vec![sig.as_str(); 2000].join(" ");
    let a = rx.send(&s.clone().with("webhook-signature", &many)).await;
    assert_rejected(&a, 400, "malformed_header", "2000 standard entries");
    assert_fresh(&rx, &d, "stripe lists").await;
    assert_fresh(&rx, &s, "standard lists").await;
}

async fn unknown_signature_versions_only(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Stripe.delivery();
    let hexsig = stripe_v1(&d)[3..].to_owned();
    let value = format!("t={},v0={hexsig},v2={hexsig},v1b={hexsig}", d.timestamp);
    let a = rx.send(&d.clone().with("stripe-signature", &value)).await;
    assert_rejected(&a, 400, "malformed_header", "stripe unknown versions");

    let s = Preset::Standard.delivery();
    let b64 = header(&s, "webhook-signature")
        .split_once(',')
        .expect("v1,<b64>")
        .1
        .to_owned();
    let value = format!("v2,{b64} v0,{b64} v1b,{b64}");
    let a = rx.send(&s.clone().with("webhook-signature", &value)).await;
    assert_rejected(&a, 400, "malformed_header", "standard unknown versions");

    let g = Preset::Github.delivery();
    let sig = header(&g, "x-hub-signature-256").replacen("sha256=", "sha512=", 1);
    let a = rx.send(&g.clone().with("x-hub-signature-256", &sig)).await;
    assert_rejected(
        &a,
        400,
        "malformed_header",
        "github unknown algorithm prefix",
    );
    assert_fresh(&rx, &d, "stripe unknown versions").await;
    assert_fresh(&rx, &s, "standard unknown versions").await;
    assert_fresh(&rx, &g, "github unknown prefix").await;
}

// ---- bodies ----

async fn empty_body(adapter: Adapter) {
    let rx = adapter.start(&[]);
    // Signed as sent (empty): verified and processed.
    let mut d = Preset::Github.delivery();
    d.body.clear();
    let d = d.resigned();
    let a = rx.send(&d).await;
    assert!(
        a.processed(),
        "signed empty body: {} {}",
        a.status,
        a.text()
    );
    assert_eq!(a.json()["body_sha256"], hex_sha256(b""));
    // A signature over a non-empty body, sent without it.
    let genuine = Preset::Github.delivery();
    let mut e = genuine.clone();
    e.body.clear();
    let a = rx.send(&e).await;
    assert_rejected(&a, 401, "signature_mismatch", "emptied body");
    // Without `Content-Length` at all (raw, no body framing: an empty body).
    let f = Preset::Github.delivery();
    let req = RawRequest::post(f.preset.route(), &raw_headers(&f));
    let a = req
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("no body framing");
    assert_rejected(&a, 401, "signature_mismatch", "no body framing");
    assert_fresh(&rx, &genuine, "emptied body").await;
}

async fn chunked_body_without_content_length(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    let pieces: Vec<Vec<u8>> = d.body.chunks(7).map(<[u8]>::to_vec).collect();
    let a = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .trickle(pieces.clone(), Duration::ZERO)
        .chunked()
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("chunked genuine");
    assert!(a.processed(), "chunked genuine: {} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], d.body_sha256());
    // Forged, chunked.
    let f = Preset::Github.delivery_with(Preset::Github.wrong_secret(), None);
    let a = RawRequest::post(f.preset.route(), &raw_headers(&f))
        .trickle(
            f.body.chunks(5).map(<[u8]>::to_vec).collect(),
            Duration::ZERO,
        )
        .chunked()
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("chunked forged");
    assert_rejected(&a, 401, "signature_mismatch", "chunked forged");
}

async fn content_length_shorter_than_sent(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    // The server reads only the announced bytes: the signature fails.
    let req = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .header("content-length", (d.body.len() - 10).to_string())
        .body(d.body.clone());
    let a = req.send(rx.addr, End::KeepOpen).await.answer("short CL");
    assert_rejected(&a, 401, "signature_mismatch", "short Content-Length");
    assert_fresh(&rx, &d, "short Content-Length").await;
}

async fn content_length_longer_than_sent(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_BODY_TIMEOUT_MS", "300")]);
    let d = Preset::Github.delivery();
    let lying = || {
        RawRequest::post(d.preset.route(), &raw_headers(&d))
            .header("content-length", (d.body.len() + 100).to_string())
            .body(d.body.clone())
    };
    // The client waits with the connection open: the deadline answers.
    let a = lying()
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("long CL, open");
    assert_rejected(&a, 408, "body_timeout", "long Content-Length, kept open");
    assert_fresh(&rx, &d, "long Content-Length").await;
}

async fn content_length_longer_then_client_closes(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_BODY_TIMEOUT_MS", "300")]);
    let d = Preset::Github.delivery();
    // The whole genuine body, announced 100 bytes longer, then FIN: an
    // incomplete message, never a success (even though the bytes that did
    // arrive carry a valid signature).
    let o = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .header("content-length", (d.body.len() + 100).to_string())
        .body(d.body.clone())
        .send(rx.addr, End::Close)
        .await;
    assert_refused(&o, "long Content-Length, closed");
    if let Outcome::Answer(a) = &o {
        assert!(
            matches!(
                (a.status, a.error().as_deref()),
                (400, Some("body_unreadable")) | (408, Some("body_timeout"))
            ),
            "long Content-Length, closed: {} {}",
            a.status,
            a.text()
        );
    }
    assert_fresh(&rx, &d, "long Content-Length").await;
}

async fn chunked_body_cut_off_then_client_closes(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_BODY_TIMEOUT_MS", "300")]);
    let d = Preset::Github.delivery();
    // Every byte of the genuine body in chunks, but no last chunk, then FIN.
    let mut req = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .trickle(
            d.body.chunks(16).map(<[u8]>::to_vec).collect(),
            Duration::ZERO,
        )
        .chunked();
    let last = req.pieces.last_mut().expect("pieces");
    last.truncate(last.len() - b"0\r\n\r\n".len());
    let o = req.send(rx.addr, End::Close).await;
    assert_refused(&o, "chunked without last chunk, closed");
    if let Outcome::Answer(a) = &o {
        assert_eq!(
            (a.status, a.error().as_deref()),
            (400, Some("body_unreadable")),
            "chunked cut off: {}",
            a.text()
        );
    }
    assert_fresh(&rx, &d, "chunked cut off").await;
}

async fn content_length_garbage(adapter: Adapter) {
    let rx = adapter.start(&[]);
    let d = Preset::Github.delivery();
    for cl in ["abc", "-1", "99999999999999999999999", "1, 2"] {
        let o = RawRequest::post(d.preset.route(), &raw_headers(&d))
            .header("content-length", cl)
            .body(d.body.clone())
            .send(rx.addr, End::KeepOpen)
            .await;
        assert_refused(&o, &format!("Content-Length: {cl}"));
    }
    // Two different lengths.
    let o = raw(&d)
        .header("content-length", "1")
        .send(rx.addr, End::KeepOpen)
        .await;
    assert_refused(&o, "two Content-Lengths");
    assert_fresh(&rx, &d, "garbage Content-Length").await;
}

async fn trickled_below_the_deadline(adapter: Adapter) {
    let rx = adapter.start(&[("HOOKWISE_BODY_TIMEOUT_MS", "10000")]);
    let d = Preset::Github.delivery();
    let pieces: Vec<Vec<u8>> = d.body.chunks(8).map(<[u8]>::to_vec).collect();
    let a = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .header("content-length", d.body.len().to_string())
        .trickle(pieces.clone(), Duration::from_millis(20))
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("trickled");
    assert!(a.processed(), "trickled: {} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], d.body_sha256());
    // The same, chunked.
    let d = Preset::Github.delivery();
    let pieces: Vec<Vec<u8>> = d.body.chunks(8).map(<[u8]>::to_vec).collect();
    let a = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .trickle(pieces, Duration::from_millis(20))
        .chunked()
        .send(rx.addr, End::KeepOpen)
        .await
        .answer("trickled chunked");
    assert!(a.processed(), "trickled chunked: {} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], d.body_sha256());
}

// ---- gzip ----

async fn gzip_body_is_verified_as_sent(adapter: Adapter) {
    let rx = adapter.start(&[]);
    // Signed over the compressed bytes (what was sent): verified, and the
    // handler gets those same bytes (no decompression).
    let mut d = Preset::Github.delivery();
    let plain = d.body.clone();
    d.body = gzip(&plain);
    let d = d.resigned().with("content-encoding", "gzip");
    let a = rx.send(&d).await;
    assert!(a.processed(), "gzip as sent: {} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], hex_sha256(&d.body));
    assert_ne!(a.json()["body_sha256"], hex_sha256(&plain));
    // Signed over the decompressed bytes: not what was sent, refused.
    let mut e = Preset::Github.delivery();
    e.body = gzip(&e.body);
    let e = e.with("content-encoding", "gzip");
    let a = rx.send(&e).await;
    assert_rejected(&a, 401, "signature_mismatch", "gzip signed decompressed");
}

async fn gzip_bomb_is_just_bytes(adapter: Adapter) {
    // 64 MiB of zeros compressed to ~64 KiB: under the 1 MiB limit it is just
    // bytes (the hash is the compressed bytes' hash); over a 16 KiB limit, 413.
    let bomb = gzip_of_zeros(64);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let rx = adapter.start(&[]);
    let mut d = Preset::Github.delivery();
    d.body.clone_from(&bomb);
    let d = d.resigned().with("content-encoding", "gzip");
    let a = rx.send(&d).await;
    assert!(a.processed(), "bomb under limit: {} {}", a.status, a.text());
    assert_eq!(a.json()["body_sha256"], hex_sha256(&bomb));

    let small = adapter.start(&[("HOOKWISE_MAX_BODY", "16384")]);
    let mut d = Preset::Github.delivery();
    d.body = bomb;
    let d = d.resigned().with("content-encoding", "gzip");
    let a = small.send(&d).await;
    assert_rejected(&a, 413, "body_too_large", "bomb over limit");
    let a = RawRequest::post(d.preset.route(), &raw_headers(&d))
        .trickle(
            d.body.chunks(4096).map(<[u8]>::to_vec).collect(),
            Duration::ZERO,
        )
        .chunked()
        .send(small.addr, End::KeepOpen)
        .await
        .answer("bomb over limit, chunked");
    assert_rejected(&a, 413, "body_too_large", "bomb over limit, chunked");
}

// ---- timestamps at the edges ----

/// The timestamp header of a timestamped preset (`None`: in the signature list).
fn timestamp_header(p: Preset) -> Option<&'static str> {
    match p {
        Preset::Slack => Some("x-slack-request-timestamp"),
        Preset::Standard => Some("webhook-timestamp"),
        Preset::Svix => Some("svix-timestamp"),
        _ => None,
    }
}

const TIMESTAMPED: [Preset; 4] = [
    Preset::Stripe,
    Preset::Slack,
    Preset::Standard,
    Preset::Svix,
];

async fn timestamp_overflow(adapter: Adapter) {
    let rx = adapter.start(&[]);
    for p in TIMESTAMPED {
        for ts in [
            "99999999999999999999",
            "-99999999999999999999",
            "1e10",
            "0x10",
            "+1",
        ] {
            let d = p.delivery();
            let d = match timestamp_header(p) {
                Some(h) => d.with(h, ts),
                None => {
                    let v = format!("t={ts},{}", stripe_v1(&d));
                    d.with("stripe-signature", &v)
                }
            };
            let a = rx.send(&d).await;
            assert_rejected(&a, 400, "malformed_header", &format!("{p:?} t={ts:?}"));
        }
    }
}

async fn timestamp_negative(adapter: Adapter) {
    let rx = adapter.start(&[]);
    for p in TIMESTAMPED {
        for ts in [-1, -now(), i64::MIN + 1, 0] {
            let d = p.delivery_with(p.secret(), Some(ts));
            let a = rx.send(&d).await;
            assert_rejected(&a, 401, "timestamp_too_old", &format!("{p:?} t={ts}"));
        }
    }
}

async fn timestamp_far_future(adapter: Adapter) {
    let rx = adapter.start(&[]);
    for p in TIMESTAMPED {
        for ts in [now() + TWENTY_YEARS, i64::MAX] {
            let d = p.delivery_with(p.secret(), Some(ts));
            let a = rx.send(&d).await;
            assert_rejected(&a, 401, "timestamp_in_future", &format!("{p:?} t={ts}"));
        }
    }
}

/// Generates `axum::<case>` and `actix::<case>` for every case; attributes
/// after `actix:` apply to the actix test only (a known actix-side bug).
macro_rules! matrix {
    ($($case:ident $(: actix $(#[$actix:meta])+)?),* $(,)?) => {
        mod axum {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Adapter::Axum).await;
                }
            )*
        }
        mod actix {
            $(
                $($(#[$actix])+)?
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Adapter::Actix).await;
                }
            )*
        }
    };
}

matrix!(
    duplicated_signature_header,
    duplicated_timestamp_header,
    non_utf8_signature_value,
    non_utf8_unrelated_header_is_ignored,
    non_utf8_delivery_id_header,
    huge_signature_value_within_the_header_limit,
    huge_unrelated_header_within_the_limit_is_fine,
    headers_over_the_server_limit,
    thousands_of_list_entries,
    unknown_signature_versions_only,
    empty_body,
    chunked_body_without_content_length,
    content_length_shorter_than_sent,
    content_length_longer_than_sent,
    content_length_longer_then_client_closes,
    chunked_body_cut_off_then_client_closes: actix
        #[ignore = "bug: actix-http ends a chunked payload as complete when the client closes \
                    before the last chunk (feed_eof); needs an actix-http fix"],
    content_length_garbage,
    trickled_below_the_deadline,
    gzip_body_is_verified_as_sent,
    gzip_bomb_is_just_bytes,
    timestamp_overflow,
    timestamp_negative,
    timestamp_far_future,
);

/// Every crate root of the workspace members (libraries, binaries,
/// examples, this test package) and of the fuzz package's library starts with
/// `#![forbid(unsafe_code)]`, on top of the workspace lint. (The fuzz target
/// binaries cannot: `fuzz_target!` expands to a `#[no_mangle]` function.)
#[test]
fn every_crate_root_forbids_unsafe_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let members: Vec<&str> = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("workspace members")
        .0
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .collect();
    assert!(members.len() >= 9, "{members:?}");
    let mut roots = Vec::new();
    for member in members.iter().copied().chain(["fuzz"]) {
        for file in ["src/lib.rs", "src/main.rs", "lib.rs"] {
            let path = root.join(member).join(file);
            if path.exists() {
                roots.push(path);
            }
        }
    }
    assert!(roots.len() > members.len(), "{roots:?}");
    for path in roots {
        let text = std::fs::read_to_string(&path).expect("crate root");
        assert!(
            text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]"),
            "{} does not forbid unsafe code",
            path.display()
        );
    }
}
