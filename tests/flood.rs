//! Flood: many concurrent forged deliveries (wrong keys, malformed
//! signatures, bodies far over the limit, with and without `Content-Length`)
//! against both example receivers, with genuine deliveries interleaved, from a
//! Rust load client on loopback. Bounded in count ([`TOTAL`] requests per
//! adapter, [`CONCURRENCY`] at a time) and in time (a hang guard).
//!
//! It asserts that
//! - no forged request is processed (no 200 with the contract's `body_sha256`)
//!   and each gets its documented status (an oversized one may instead see its
//!   connection closed: the server stops reading);
//! - every genuine delivery is processed, each with its own id;
//! - during each adapter's flood, the resident memory of this process (the
//!   receivers run in it; `VmRSS` sampled every 5 ms from `/proc/self/status`,
//!   and `VmHWM` at the end) grows by at most [`bound_kib`]:
//!   `2 × max-body × concurrency + 32 MiB` (64 MiB with 256 KiB × 64). The
//!   factor 2: an adapter holds the chunks it has read and, at the end, the
//!   contiguous copy. The constant covers per-connection HTTP buffers (hyper
//!   keeps up to ~400 KiB per connection while parsing headers), the load
//!   client's tasks and allocator slack. A receiver that buffered oversized
//!   bodies instead of stopping at the limit would need `4 × max-body ×
//!   concurrency` (64 MiB) for the bodies alone, on top of the rest, and fail.
//!
//! Measured here (debug build, 2 cores): +18.4 MiB for axum and +20.9 MiB for
//! actix over the post-warm-up RSS of ~19 MiB, ~5 s per adapter.
//!
//! Its own test binary, one `#[test]`, so nothing else moves the process's RSS.

#![forbid(unsafe_code)]

mod support_hardening;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hookwise_e2e::{Adapter, Preset, SignedDelivery};
use support_hardening::{Outcome, hwm_kib, read_answer, rss_kib};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Requests per adapter.
const TOTAL: usize = 2000;
/// Requests in flight at once.
const CONCURRENCY: usize = 64;
/// `HOOKWISE_MAX_BODY` of the receivers under flood.
const MAX_BODY: usize = 256 * 1024;
/// What an oversized request tries to send: 4 × the limit.
const OVERSIZE: usize = 4 * MAX_BODY;
/// The write unit of the load client (shared, never copied per request).
static CHUNK: [u8; 16 * 1024] = [b' '; 16 * 1024];
/// Allowed growth on top of `2 × MAX_BODY × CONCURRENCY`, in KiB.
const CONSTANT_KIB: u64 = 32 * 1024;

/// The documented peak-memory bound, in KiB.
const fn bound_kib() -> u64 {
    (2 * MAX_BODY * CONCURRENCY / 1024) as u64 + CONSTANT_KIB
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A genuine delivery: must be processed.
    Genuine,
    /// Signed with another key, small body: 401 `signature_mismatch`.
    WrongKey,
    /// Signed with another key, body just under the limit (the receiver
    /// buffers it, then refuses it): 401.
    WrongKeyLarge,
    /// A signature header that does not parse: 400 `malformed_header`.
    Malformed,
    /// `Content-Length` 4 × the limit: 413 before reading (or a close).
    OversizeAnnounced,
    /// Chunked, 4 × the limit: 413 while streaming (or a close).
    OversizeChunked,
}

impl Kind {
    const fn of(i: usize) -> Self {
        match i % 10 {
            0 => Self::Genuine,
            1 | 2 => Self::WrongKey,
            3 => Self::WrongKeyLarge,
            4 => Self::Malformed,
            5 | 6 => Self::OversizeAnnounced,
            _ => Self::OversizeChunked,
        }
    }
}

const PRESETS: [Preset; 5] = [
    Preset::Github,
    Preset::Stripe,
    Preset::Slack,
    Preset::Standard,
    Preset::Shopify,
];

fn head(d: &SignedDelivery, framing: &str) -> Vec<u8> {
    let mut h = format!("POST {} HTTP/1.1\r\n", d.preset.route());
    for (n, v) in &d.headers {
        h += &format!("{n}: {v}\r\n");
    }
    h += framing;
    h += "connection: close\r\n";
    h.into_bytes()
}

/// Sends one request of `kind`; returns the outcome and, for a genuine
/// delivery, its id.
async fn one(addr: SocketAddr, i: usize, kind: Kind) -> (Outcome, Option<String>) {
    let preset = PRESETS[(i / 10) % PRESETS.len()];
    let (d, body_len, chunked) = match kind {
        Kind::Genuine => {
            let d = preset.delivery();
            let len = d.body.len();
            (d, len, false)
        }
        Kind::WrongKey => {
            let d = preset.delivery_with(preset.wrong_secret(), None);
            let len = d.body.len();
            (d, len, false)
        }
        // The body is written from the shared chunk: it is not the signed one
        // either, which changes nothing for a forgery.
        Kind::WrongKeyLarge => (
            preset.delivery_with(preset.wrong_secret(), None),
            MAX_BODY - 1024,
            false,
        ),
        Kind::Malformed => {
            let d = preset
                .delivery()
                .with(preset.signature_header(), preset.malformed_signature());
            let len = d.body.len();
            (d, len, false)
        }
        Kind::OversizeAnnounced => (preset.delivery(), OVERSIZE, false),
        Kind::OversizeChunked => (preset.delivery(), OVERSIZE, true),
    };
    let framing = if chunked {
        "transfer-encoding: chunked\r\n".to_owned()
    } else {
        format!("content-length: {body_len}\r\n")
    };
    let mut request = head(&d, &framing);
    request.extend_from_slice(format!("host: {addr}\r\n\r\n").as_bytes());
    let small_body =
        matches!(kind, Kind::Genuine | Kind::WrongKey | Kind::Malformed).then(|| d.body.clone());
    if let Some(b) = &small_body {
        request.extend_from_slice(b);
    }
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(&request).await?;
        if small_body.is_none() {
            // Large bodies come from the shared chunk, never a per-request copy.
            let mut left = body_len;
            while left > 0 {
                let n = left.min(CHUNK.len());
                if chunked {
                    wr.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                }
                wr.write_all(&CHUNK[..n]).await?;
                if chunked {
                    wr.write_all(b"\r\n").await?;
                }
                left -= n;
            }
            if chunked {
                wr.write_all(b"0\r\n\r\n").await?;
            }
        }
        wr.flush().await?;
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, std::io::Error>(wr)
    });
    let outcome = tokio::time::timeout(Duration::from_secs(30), read_answer(&mut rd))
        .await
        .unwrap_or_else(|_| Outcome::Closed("no answer within 30 s".to_owned()));
    writer.abort();
    (outcome, (kind == Kind::Genuine).then_some(d.id))
}

#[track_caller]
fn check(adapter: Adapter, i: usize, kind: Kind, o: &Outcome) {
    let ctx = || format!("{adapter:?} request {i} ({kind:?}): {o:?}");
    if kind == Kind::Genuine {
        assert!(o.processed(), "{}", ctx());
        return;
    }
    assert!(!o.processed(), "forged request processed: {}", ctx());
    let expected = match kind {
        Kind::WrongKey | Kind::WrongKeyLarge => (401, "signature_mismatch"),
        Kind::Malformed => (400, "malformed_header"),
        _ => (413, "body_too_large"),
    };
    match o {
        Outcome::Answer(a) => {
            assert_eq!(
                (a.status, a.error().as_deref()),
                (expected.0, Some(expected.1)),
                "{}",
                ctx()
            );
        }
        // The server answered 413 and closed while we were still writing:
        // the answer can be lost to the reset. Never for the others.
        Outcome::Closed(_) => assert_eq!(expected.0, 413, "{}", ctx()),
    }
}

#[derive(Debug, Default)]
struct Stats {
    genuine: usize,
    forged: usize,
    closed: usize,
    by_status: std::collections::BTreeMap<u16, usize>,
}

async fn flood(adapter: Adapter, addr: SocketAddr) -> Stats {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let next = Arc::clone(&next);
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= TOTAL {
                    break done;
                }
                let kind = Kind::of(i);
                let (o, id) = one(addr, i, kind).await;
                check(adapter, i, kind, &o);
                done.push((o.status(), id));
            }
        });
    }
    let mut stats = Stats::default();
    let mut ids = HashSet::new();
    while let Some(done) = workers.join_next().await {
        for (status, id) in done.expect("flood worker") {
            match status {
                Some(s) => *stats.by_status.entry(s).or_default() += 1,
                None => stats.closed += 1,
            }
            match id {
                Some(id) => {
                    stats.genuine += 1;
                    assert!(ids.insert(id.clone()), "{adapter:?}: id {id} twice");
                }
                None => stats.forged += 1,
            }
        }
    }
    assert_eq!(stats.genuine + stats.forged, TOTAL);
    assert_eq!(
        ids.len(),
        TOTAL / 10,
        "{adapter:?}: every genuine delivery processed once"
    );
    stats
}

/// Warm-up: genuine deliveries at full concurrency, so runtimes, connection
/// buffers and allocator arenas exist before the baseline is taken.
async fn warm_up(addr: SocketAddr) {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..CONCURRENCY * 2 {
        set.spawn(async move { one(addr, i * 10, Kind::Genuine).await });
    }
    while let Some(r) = set.join_next().await {
        assert!(r.expect("warm-up").0.processed());
    }
}

/// Samples `VmRSS` every 5 ms while running; returns the maximum seen.
struct Sampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(rss_kib()));
        let (s, m) = (Arc::clone(&stop), Arc::clone(&max));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                m.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { stop, max, thread }
    }
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("sampler");
        self.max.load(Ordering::Relaxed).max(rss_kib())
    }
}

#[test]
fn flood_of_forged_deliveries_is_refused_with_bounded_memory() {
    let limit = MAX_BODY.to_string();
    let vars = [
        ("HOOKWISE_MAX_BODY", limit.as_str()),
        ("HOOKWISE_BODY_TIMEOUT_MS", "10000"),
    ];
    let receivers = [Adapter::Axum.start(&vars), Adapter::Actix.start(&vars)];
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    client.block_on(async {
        for rx in &receivers {
            warm_up(rx.addr).await;
        }
    });
    let start_rss = rss_kib();
    let start_hwm = hwm_kib();
    eprintln!(
        "flood: {TOTAL} requests per adapter, {CONCURRENCY} concurrent, max body {MAX_BODY} B, \
         oversize {OVERSIZE} B; after warm-up RSS {start_rss} KiB, HWM {start_hwm} KiB; \
         bound: growth <= {} KiB",
        bound_kib()
    );
    for rx in &receivers {
        let before = rss_kib();
        let sampler = Sampler::start();
        let began = Instant::now();
        let stats = client.block_on(async {
            tokio::time::timeout(Duration::from_secs(300), flood(rx.adapter, rx.addr))
                .await
                .expect("flood finished (hang guard)")
        });
        let peak = sampler.finish();
        eprintln!(
            "flood {:?}: {:.1} s, {} genuine all processed, {} forged refused \
             (statuses {:?}, {} closed without answer); RSS {before} KiB -> sampled peak \
             {peak} KiB (+{} KiB), HWM now {} KiB",
            rx.adapter,
            began.elapsed().as_secs_f64(),
            stats.genuine,
            stats.forged,
            stats.by_status,
            stats.closed,
            peak.saturating_sub(before),
            hwm_kib()
        );
        assert!(
            peak.saturating_sub(before) <= bound_kib(),
            "{:?}: RSS grew by {} KiB, bound {} KiB",
            rx.adapter,
            peak.saturating_sub(before),
            bound_kib()
        );
    }
    let hwm = hwm_kib();
    eprintln!(
        "flood: process HWM {hwm} KiB, growth over the post-warm-up RSS {} KiB (bound {} KiB)",
        hwm.saturating_sub(start_rss),
        bound_kib()
    );
    // Both phases together (memory freed by the first is not always given
    // back to the system before the second).
    let limit = bound_kib() * receivers.len() as u64;
    assert!(
        hwm.saturating_sub(start_rss) <= limit,
        "peak RSS grew by {} KiB over both floods, bound {limit} KiB",
        hwm.saturating_sub(start_rss)
    );
}
