//! What every variant shares: the secret, the signed deliveries, the hand-written
//! check, the handled-request counter and the wrk script generator.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use hookwise::scheme::SignParams;
use hookwise::{Verifier, providers};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The GitHub webhook secret every server and every delivery uses.
pub(crate) const SECRET: &str = "bench-github-secret";
/// The body limit of every variant (the peak-RSS run sends 8 MiB).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;
/// The path every variant serves.
pub(crate) const PATH: &str = "/hook";

/// Handler runs (read from `GET /count` by the script, to prove that every
/// request reached the handler: no rejections, no duplicates short-circuited).
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// Counts one handler run.
pub(crate) fn handled() {
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

/// The handler runs so far.
pub(crate) fn handled_count() -> u64 {
    HANDLED.load(Ordering::Relaxed)
}

/// `BENCH_HOLD=n` (set by the peak-RSS run of `scripts/bench-http.sh` to its
/// connection count): every handler waits, holding its body, until `n`
/// handlers hold theirs, so that the peak is taken with exactly `n` bodies
/// resident in every variant rather than with however many a variant's speed
/// left in flight. Unset (the CPU runs): no wait.
static HOLD: std::sync::OnceLock<Option<tokio::sync::Barrier>> = std::sync::OnceLock::new();

/// The barrier of [`HOLD`], when set.
fn barrier() -> Option<&'static tokio::sync::Barrier> {
    HOLD.get_or_init(|| {
        std::env::var("BENCH_HOLD")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 1)
            .map(tokio::sync::Barrier::new)
    })
    .as_ref()
}

/// Whether handlers hold their bodies (see [`HOLD`]).
#[cfg(feature = "heap-stats")]
pub(crate) fn holding() -> bool {
    barrier().is_some()
}

/// Waits until [`HOLD`]'s count of handlers hold their bodies (at most 10 s,
/// so that a batch cut short by the end of the run does not hang the server);
/// at once when unset.
pub(crate) async fn hold() {
    if let Some(b) = barrier() {
        // Boxed: every handler's future (moved into the framework's box on
        // every request, in every run) then holds a pointer for it, not the
        // timer and the barrier's wait (+432 bytes moved per request).
        let _ = Box::pin(tokio::time::timeout(Duration::from_secs(10), b.wait())).await;
    }
}

/// The line an in-process `profile` run ends with (read by
/// `bench/tools/ab-inprocess.py`): `n` requests driven since `start`.
pub(crate) fn report_profile(variant: &str, n: usize, start: std::time::Instant) {
    let elapsed = start.elapsed();
    eprintln!(
        "{variant}: {n} requests in {elapsed:?} ({:.2} µs/request, handled {})",
        elapsed.as_secs_f64() * 1e6 / n.max(1) as f64,
        handled_count()
    );
}

/// The verifier of the hookwise variants: GitHub, no replay store.
pub(crate) fn verifier() -> Verifier {
    Verifier::builder(providers::github())
        .secret(SECRET)
        .expect("secret")
        .max_body(MAX_BODY)
        .without_replay_store()
        .build()
        .expect("verifier")
}

/// The verifier of the `-replay` variants: GitHub with the in-memory store.
///
/// A processed delivery is remembered for 1 ms only: the load generator cycles
/// through a fixed set of pre-signed deliveries, and each must be *fresh* when
/// it comes round again (about every 1000 requests), so that every request
/// takes the full reserve → handler → commit path. With the default retention
/// (24 h for GitHub) the second lap would be answered as duplicates (200
/// without running the handler), which measures a different, cheaper path.
pub(crate) fn replay_verifier() -> Verifier {
    Verifier::builder(providers::github())
        .secret(SECRET)
        .expect("secret")
        .max_body(MAX_BODY)
        .retention(Duration::from_millis(1))
        .build()
        .expect("verifier")
}

/// One signed GitHub delivery.
pub(crate) struct Delivery {
    /// Headers as GitHub sends them (signature, event, delivery id).
    pub(crate) headers: Vec<(String, String)>,
    /// The exact body that was signed.
    pub(crate) body: Bytes,
}

/// `n` distinct deliveries of exactly `size` bytes (JSON, padded).
pub(crate) fn deliveries(n: usize, size: usize) -> Vec<Delivery> {
    (0..n)
        .map(|i| {
            let head = format!(r#"{{"id":"dlv-{i:08}","ref":"refs/heads/main","pad":""#);
            let tail = r#""}"#;
            let mut body = head.into_bytes();
            let fill = size.saturating_sub(body.len() + tail.len());
            body.resize(body.len() + fill, b'x');
            body.extend_from_slice(tail.as_bytes());
            let signed = providers::github()
                .sign(
                    SECRET,
                    &body,
                    &SignParams {
                        id: Some(&format!("00000000-0000-4000-8000-{i:012}")),
                        event: Some("push"),
                        ..SignParams::default()
                    },
                )
                .expect("sign");
            let headers = signed
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), String::from_utf8_lossy(v).into_owned()))
                .collect();
            Delivery {
                headers,
                body: Bytes::from(body),
            }
        })
        .collect()
}

/// The hand-written GitHub check, as users write it: key the MAC per request,
/// hex-encode, compare (in constant time).
pub(crate) fn hand_check(signature: Option<&[u8]>, body: &[u8]) -> bool {
    let Some(sig) = signature else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    expected.as_bytes().ct_eq(sig).into()
}

/// A wrk Lua script cycling through `n` distinct signed deliveries of `size`
/// bytes.
pub(crate) fn lua(n: usize, size: usize) -> String {
    let mut out = String::new();
    out.push_str(
        "-- generated by `bench-server emit-lua`: distinct pre-signed GitHub deliveries\n",
    );
    out.push_str("local D = {\n");
    for d in deliveries(n, size) {
        out.push_str("  { {");
        for (k, v) in &d.headers {
            let _ = write!(out, "[\"{k}\"]=\"{v}\", ");
        }
        out.push_str("[\"Content-Type\"]=\"application/json\"}, [==[");
        out.push_str(std::str::from_utf8(&d.body).expect("ascii body"));
        out.push_str("]==] },\n");
    }
    out.push_str(
        r#"}
local reqs = {}
local i = 0
function init(args)
  for k, d in ipairs(D) do
    reqs[k] = wrk.format("POST", "/hook", d[1], d[2])
  end
  D = nil
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"#,
    );
    out
}

/// The dhat heap profiler of a `heap-stats` build serving with `BENCH_HOLD`
/// set (the peak-RSS run), started before the server allocates anything;
/// `None` otherwise.
#[cfg(feature = "heap-stats")]
pub(crate) fn heap_profiler() -> Option<dhat::Profiler> {
    holding().then(|| dhat::Profiler::builder().testing().build())
}

/// `GET /heap`: `<peak live bytes> <live bytes now>` since the server
/// started, from a `heap-stats` build's profiler; `-` without one.
pub(crate) fn heap_stats() -> String {
    #[cfg(feature = "heap-stats")]
    if holding() {
        let s = dhat::HeapStats::get();
        return format!("{} {}", s.max_bytes, s.curr_bytes);
    }
    "-".to_owned()
}
