//! The fuzz targets, as plain functions over bytes.
//!
//! Each `pub fn` is one target: `fuzz/fuzz_targets/<name>.rs` calls it from
//! libFuzzer, and `crates/hookwise/tests/fuzz_regressions.rs` includes this file
//! and replays `fuzz/corpus/<name>/` and `fuzz/regressions/<name>/` through it on
//! stable. No libFuzzer or `arbitrary` types here: inputs are split by hand.
//!
//! Every target asserts, besides "no panic":
//! - a rejection has a stable code (`Reason::from_code` round-trips), a status in
//!   {400, 401, 403, 408, 409, 413, 503}, a `{"error":"<code>"}` body, and a
//!   diagnosis that contains neither the secret nor the expected signature;
//! - an acceptance is justified by an independent oracle (the expected signature
//!   is present, the credentials decode to the key, the key matters, and, for
//!   body-signing senders, the body is the one that was signed).

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use hookwise::scheme::{
    Algorithm, BasicAuth, Encoding, HmacScheme, SignParams, SignatureFormat, TokenScheme,
};
use hookwise::{
    ClientCertPolicy, Delivery, FixedClock, ForwardingHeader, HeaderList, Headers, IpAllowList,
    Lookup, PeerCertificates, Reason, Rejection, RequestParts, Scheme, TimestampFormat, Verifier,
    providers,
};

/// "Now" for every verifier (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;
/// The public URL given to URL-signing senders (Square, HubSpot, Twilio).
pub const URL: &str = "https://example.com/hook";
/// The statuses a rejection may carry (500 is reserved for server misconfiguration).
pub const STATUSES: [u16; 7] = [400, 401, 403, 408, 409, 413, 503];

const HMAC_SECRET: &str = "fuzz-secret-7f3a9c2e51d04b86";
const TOKEN_SECRET: &str = "fuzz-token-6b1e0d9a4c7f2358";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// RFC 8032 test 1 seed (Discord, Standard Webhooks `v1a` via `whsk_`).
const ED25519_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// RFC 6979 A.2.5 private key (SendGrid).
const P256_SCALAR: &str = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// Every provider the fuzzers exercise: `providers::NAMES` plus the public-key
/// and URL-signed presets that `by_name` also knows.
pub fn all_providers() -> Vec<&'static str> {
    let mut v = providers::NAMES.to_vec();
    for extra in ["discord", "sendgrid", "twilio"] {
        if !v.contains(&extra) {
            v.push(extra);
        }
    }
    v
}

/// Asserts the invariants every rejection must hold.
pub fn check_rejection(r: &Rejection, secrets: &[&[u8]]) {
    let code = r.code();
    assert_eq!(
        Reason::from_code(code),
        Some(r.reason()),
        "unstable code {code}"
    );
    assert!(
        STATUSES.contains(&r.status()),
        "status {} for {code}",
        r.status()
    );
    assert_eq!(r.body_json(), format!("{{\"error\":\"{code}\"}}"));
    let dbg = format!("{r:?}");
    for s in secrets {
        // Only distinctive secrets: a short one could appear by coincidence.
        if s.len() >= 12 {
            if let Ok(s) = std::str::from_utf8(s) {
                assert!(!dbg.contains(s), "secret in diagnosis: {dbg}");
            }
        }
    }
    if r.status() == 401 {
        if let Some(c) = &r.diagnosis().www_authenticate {
            assert!(
                !c.contains(['\r', '\n']),
                "header injection in challenge: {c:?}"
            );
        }
    }
}

fn verifier(scheme: Scheme, keys: &[&str], now: i64) -> Option<Verifier> {
    let mut b = Verifier::builder(scheme);
    for k in keys {
        b = b.secret(k).ok()?;
    }
    b.clock(FixedClock::new(now))
        .without_replay_store()
        .build()
        .ok()
}

/// A byte cursor over fuzz input.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Splits `data` at the first `\n`: (first line, rest).
fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn pick<T>(items: &[T], selector: u8) -> &T {
    &items[usize::from(selector) % items.len()]
}

/// Credentials used to sign and to verify for each provider.
struct Creds {
    sign: String,
    verify: String,
}

fn creds(name: &str, alt: bool) -> Creds {
    let same = |s: &str| Creds {
        sign: s.to_owned(),
        verify: s.to_owned(),
    };
    match name {
        "standard" | "svix" if alt => {
            let seed = hex::decode(ED25519_SEED).unwrap_or_default();
            let sign = format!(
                "whsk_{}",
                base64::engine::general_purpose::STANDARD.encode(seed)
            );
            let verify = providers::standard()
                .public_key_for(&sign)
                .unwrap_or_default();
            Creds { sign, verify }
        }
        "standard" | "svix" | "gitlab-signing" => same(WHSEC),
        "discord" | "sendgrid" => {
            let sign = if name == "discord" {
                ED25519_SEED
            } else {
                P256_SCALAR
            };
            let verify = scheme_for(name)
                .and_then(|s| s.public_key_for(sign).ok())
                .unwrap_or_default();
            Creds {
                sign: sign.to_owned(),
                verify,
            }
        }
        "gitlab" => same(TOKEN_SECRET),
        "stripe" => same("whsec_fuzz_7f3a9c2e51d04b86"),
        _ => same(HMAC_SECRET),
    }
}

fn scheme_for(name: &str) -> Option<Scheme> {
    providers::by_name(name, Some(URL)).ok()
}

/// The request target used with the signed requests, and the URL to sign.
fn sign_url(name: &str) -> Option<String> {
    // HubSpot signs the origin (configured) plus the request target.
    (name == "hubspot").then(|| format!("{URL}/"))
}

/// Whether a body change can never be accepted for this sender.
fn signs_body(name: &str) -> bool {
    !matches!(name, "gitlab" | "mailgun")
}

fn is_form(headers: &dyn Headers) -> bool {
    matches!(headers.lookup("content-type"), Lookup::One(ct)
        if ct.len() >= 33 && ct[..33].eq_ignore_ascii_case(b"application/x-www-form-urlencoded"))
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn twilio_params(body: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in form_pairs(body) {
        map.entry(k).or_default().push(v);
    }
    for v in map.values_mut() {
        v.sort();
        v.dedup();
    }
    map
}

/// The bytes of `body` a sender's signature actually covers, given the request
/// headers (Gitea/Gogs sign the form `payload` field of form bodies; Twilio
/// signs the sorted parameters, see [`twilio_signed`]).
fn signed_view(name: &str, headers: &dyn Headers, body: &[u8]) -> Vec<u8> {
    match name {
        "gitea" | "gogs" if is_form(headers) => form_pairs(body)
            .into_iter()
            .find(|(k, _)| k == "payload")
            .map(|(_, v)| v.into_bytes())
            .unwrap_or_else(|| body.to_vec()),
        "twilio" => twilio_signed(body),
        _ => body.to_vec(),
    }
}

/// What Twilio signs of a form body: the sorted parameters as `key‖value`,
/// concatenated with no separator (so `a=bc` and `ab=c` sign the same: that is
/// Twilio's format, see `fuzz/README.md`).
fn twilio_signed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, vs) in twilio_params(body) {
        for v in vs {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
    out
}

/// The body a test delivery carries: senders that read a signed timestamp or
/// the signature from the body get a JSON envelope around the fuzz bytes.
fn body_for(name: &str, raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    match name {
        "linear" => serde_json::json!({"webhookTimestamp": NOW * 1000, "data": text})
            .to_string()
            .into_bytes(),
        "mailgun" => serde_json::json!({"event": "delivered", "data": text})
            .to_string()
            .into_bytes(),
        _ => raw.to_vec(),
    }
}

/// A valid signed request for `name`: (verifier, headers, body, sign secret).
fn signed(name: &str, alt: bool, raw_body: &[u8]) -> Option<(Verifier, HeaderList, Vec<u8>)> {
    let scheme = scheme_for(name)?;
    let c = creds(name, alt);
    let url = sign_url(name);
    let params = SignParams {
        timestamp: Some(NOW),
        url: url.as_deref(),
        event: Some("push"),
        ..SignParams::default()
    };
    let body = body_for(name, raw_body);
    let req = scheme
        .sign(&c.sign, &body, &params)
        .unwrap_or_else(|e| panic!("{name}: cannot sign: {e}"));
    let v = verifier(scheme, &[&c.verify], NOW)
        .unwrap_or_else(|| panic!("{name}: cannot build the verifier"));
    Some((v, req.headers, req.body))
}

fn verify_ok(
    v: &Verifier,
    headers: &HeaderList,
    uri: &str,
    body: &[u8],
) -> Result<Delivery, Rejection> {
    v.verify(&RequestParts::new(headers).uri(uri), body)
}

// ---------------------------------------------------------------------------
// Target: signature lists (`t=,v1=`, `ts=;h1=`, `v1,`/`v1a,`, PagerDuty)
// ---------------------------------------------------------------------------

const BODY: &[u8] = br#"{"id":"evt_fuzz","type":"fuzz.created","event_id":"ev_1"}"#;

/// Signature-list headers: Stripe `t=…,v1=…`, Paddle `ts=…;h1=…`, Standard
/// Webhooks `v1,<b64> v1a,<b64>` (both header families), GitLab signing,
/// PagerDuty `v1=…,v1=…`, and a custom list whose separator, key/value
/// character and version come from the input.
///
/// Input: one selector byte, then the header value. Acceptance requires the
/// expected signature to be one of the entries.
pub fn signature_lists(data: &[u8]) {
    let mut b = Bytes(data);
    let sel = b.byte();
    let cases: [(&str, &str, char, char); 7] = [
        ("stripe", "stripe-signature", ',', '='),
        ("paddle", "paddle-signature", ';', '='),
        ("standard", "webhook-signature", ' ', ','),
        ("svix", "svix-signature", ' ', ','),
        ("gitlab-signing", "webhook-signature", ' ', ','),
        ("pagerduty", "x-pagerduty-signature", ',', '='),
        ("custom", "x-custom-signature", ',', '='),
    ];
    let (name, header, sep, kv) = *pick(&cases, sel);
    if name == "custom" {
        return custom_list(b.0);
    }
    let value = b.0;
    // Odd selectors above 127 sign Standard Webhooks with Ed25519 (`v1a`).
    let Some((v, signed_headers, body)) = signed(name, sel >= 128, BODY) else {
        return;
    };
    let expected = list_signatures(&signed_headers, sep, kv);
    // Keep the sender's other headers (timestamp, id), replace the signature.
    let mut headers: HeaderList = signed_headers
        .iter()
        .filter(|(n, _)| !n.to_ascii_lowercase().ends_with("-signature"))
        .map(|(n, v)| {
            let lower = n.to_ascii_lowercase();
            match lower.strip_prefix("webhook-") {
                Some(rest) if name == "svix" => (format!("svix-{rest}"), v.to_vec()),
                _ => (n.to_owned(), v.to_vec()),
            }
        })
        .collect();
    headers.push(header, value.to_vec());
    let secrets: [&[u8]; 2] = [HMAC_SECRET.as_bytes(), WHSEC.as_bytes()];
    match v.check_headers(&RequestParts::new(&headers)) {
        Ok(p) => assert!(
            p.signature_count() <= hookwise::scheme::hmac::MAX_SIGNATURE_ENTRIES,
            "{} candidates",
            p.signature_count()
        ),
        Err(r) => check_rejection(&r, &secrets),
    }
    match verify_ok(&v, &headers, "/", &body) {
        Ok(_) => {
            let text = String::from_utf8_lossy(value).to_ascii_lowercase();
            assert!(
                expected
                    .iter()
                    .any(|e| text.contains(&e.to_ascii_lowercase())),
                "{name}: accepted a list without the expected signature: {text:?}"
            );
        }
        Err(r) => {
            check_rejection(&r, &secrets);
            let dbg = format!("{r:?}");
            for e in &expected {
                assert!(!dbg.contains(e.as_str()), "expected signature leaked");
            }
        }
    }
}

/// The signature values of a signed request's list header (`v1=<sig>` → `<sig>`).
fn list_signatures(headers: &HeaderList, sep: char, kv: char) -> Vec<String> {
    let mut out = Vec::new();
    for (n, v) in headers.iter() {
        if !n.to_ascii_lowercase().ends_with("-signature") {
            continue;
        }
        for entry in String::from_utf8_lossy(v).split(sep) {
            if let Some((k, sig)) = entry.trim().split_once(kv) {
                if k.starts_with(['v', 'h']) && sig.len() >= 16 {
                    out.push(sig.to_owned());
                }
            }
        }
    }
    out
}

fn custom_list(data: &[u8]) {
    // Input: `<separator char><kv char><version>\n<header value>`.
    let (head, value) = first_line(data);
    let head = String::from_utf8_lossy(head);
    let mut chars = head.chars();
    let separator = chars.next().unwrap_or(',');
    let kv = chars.next().unwrap_or('=');
    let version: String = chars.collect();
    let version = if version.is_empty() {
        "v1".to_owned()
    } else {
        version
    };
    // A separator inside the signature's alphabet (hex here) splits the
    // signature itself: a misconfiguration, not a parser property.
    if version.contains(separator)
        || version.contains(kv)
        || separator == kv
        || version.trim() != version
        || separator.is_ascii_hexdigit()
        || kv.is_ascii_hexdigit()
    {
        return;
    }
    let scheme = HmacScheme::builder("custom", "X-Custom-Signature", Algorithm::Sha256)
        .format(SignatureFormat::List {
            separator,
            kv,
            version: version.clone().into(),
            timestamp_key: None,
        })
        .encoding(Encoding::Hex)
        .build();
    let Some(v) = verifier(scheme.clone(), &[HMAC_SECRET], NOW) else {
        return;
    };
    let Ok(good) = scheme.sign(HMAC_SECRET, BODY, &SignParams::default()) else {
        return;
    };
    let headers = HeaderList::new().with("X-Custom-Signature", value.to_vec());
    match verify_ok(&v, &headers, "/", BODY) {
        Ok(_) => {
            let sig = good
                .headers
                .iter()
                .next()
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            let sig = sig
                .rsplit(kv)
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            assert!(
                String::from_utf8_lossy(value)
                    .to_ascii_lowercase()
                    .contains(&sig),
                "custom list accepted without the signature"
            );
        }
        Err(r) => check_rejection(&r, &[HMAC_SECRET.as_bytes()]),
    }
    // The signed request itself always verifies. KNOWN CORE ISSUE (reported,
    // see `fuzz/README.md`): a non-ASCII separator or key/value character is
    // compared with single bytes, so such a list never verifies; the fix
    // refuses it at build time, and then this point is not reached.
    if !(separator.is_ascii() && kv.is_ascii()) {
        return;
    }
    if let Err(r) = verify_ok(&v, &good.headers, "/", BODY) {
        panic!("custom list {separator:?}/{kv:?}/{version:?}: sign/verify mismatch: {r:?}");
    }
}

// ---------------------------------------------------------------------------
// Target: prefixed signatures (`sha256=`, `sha1=`, `v0=`, bare hex/base64)
// ---------------------------------------------------------------------------

/// Single-signature headers: `sha256=<hex>` (GitHub, Meta, Bitbucket, Jira,
/// Twitch), `sha1=` (GitHub legacy, Intercom), `v0=` (Slack, Zoom), bare hex
/// (Linear, Gitea, Gogs, Discord Ed25519) and base64 (Shopify, Square, HubSpot,
/// SendGrid DER ECDSA, Twilio).
///
/// Input: one selector byte, then the header value.
pub fn prefixed_signatures(data: &[u8]) {
    let mut b = Bytes(data);
    let sel = b.byte();
    let cases: [(&str, &str); 19] = [
        ("github", "x-hub-signature-256"),
        ("github-sha1", "x-hub-signature"),
        ("meta", "x-hub-signature-256"),
        ("bitbucket", "x-hub-signature"),
        ("jira", "x-hub-signature"),
        ("intercom", "x-hub-signature"),
        ("twitch", "twitch-eventsub-message-signature"),
        ("slack", "x-slack-signature"),
        ("zoom", "x-zm-signature"),
        ("linear", "linear-signature"),
        ("gitea", "x-gitea-signature"),
        ("gitea", "x-forgejo-signature"),
        ("gogs", "x-gogs-signature"),
        ("shopify", "x-shopify-hmac-sha256"),
        ("square", "x-square-hmacsha256-signature"),
        ("hubspot", "x-hubspot-signature-v3"),
        ("discord", "x-signature-ed25519"),
        ("sendgrid", "x-twilio-email-event-webhook-signature"),
        ("twilio", "x-twilio-signature"),
    ];
    let (name, header) = *pick(&cases, sel);
    let value = b.0;
    let Some((v, signed_headers, body)) = signed(name, false, BODY) else {
        return;
    };
    // `sign` uses the first header set; the legacy SHA-1 header is Intercom's format.
    let reference = if name == "github-sha1" {
        providers::intercom()
            .sign(HMAC_SECRET, &body, &SignParams::default())
            .map(|s| s.headers)
            .unwrap_or_default()
    } else {
        signed_headers.clone()
    };
    // Gitea and Forgejo share one signature: drop both headers.
    let family = |n: &str| {
        n.eq_ignore_ascii_case(header)
            || (name == "gitea" && n.eq_ignore_ascii_case("x-gitea-signature"))
    };
    let expected: Vec<Vec<u8>> = reference
        .iter()
        .filter(|(n, _)| family(n))
        .map(|(_, v)| v.to_vec())
        .collect();
    let mut headers: HeaderList = signed_headers.iter().filter(|(n, _)| !family(n)).collect();
    if name == "github-sha1" {
        // The legacy header is read only when the SHA-256 one is absent.
        headers = headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-hub-signature-256"))
            .collect();
    }
    headers.push(header, value.to_vec());
    match verify_ok(&v, &headers, "/", &body) {
        Ok(_) => {
            let got = value.to_ascii_lowercase();
            let ok = expected.iter().any(|e| got == e.to_ascii_lowercase());
            assert!(
                ok || asym_ok(name, value, &body),
                "{name}: accepted {:?}, expected {:?}",
                String::from_utf8_lossy(value),
                expected
                    .iter()
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect::<Vec<_>>()
            );
        }
        Err(r) => check_rejection(&r, &[HMAC_SECRET.as_bytes()]),
    }
}

/// Independent check of a public-key acceptance (ECDSA signatures are not unique).
fn asym_ok(name: &str, value: &[u8], body: &[u8]) -> bool {
    if name != "sendgrid" {
        return false;
    }
    use p256::ecdsa::signature::Verifier as _;
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(value) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(&der) else {
        return false;
    };
    let Ok(bytes) = hex::decode(P256_SCALAR) else {
        return false;
    };
    let Ok(arr) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        return false;
    };
    let Ok(sk) = p256::ecdsa::SigningKey::from_bytes(&arr.into()) else {
        return false;
    };
    let mut msg = NOW.to_string().into_bytes();
    msg.extend_from_slice(body);
    sk.verifying_key().verify(&msg, &sig).is_ok()
}

// ---------------------------------------------------------------------------
// Target: timestamps
// ---------------------------------------------------------------------------

/// `TimestampFormat::{UnixSeconds, UnixMillis, Rfc3339}::parse` on arbitrary
/// bytes, cross-checked against a reference, round-tripped through `format`,
/// then used as the timestamp header of Slack (seconds), HubSpot (ms) and
/// Twitch (RFC 3339) deliveries: the rejection must agree with the parse.
pub fn timestamps(data: &[u8]) {
    let secs = TimestampFormat::UnixSeconds.parse(data);
    let millis = TimestampFormat::UnixMillis.parse(data);
    let rfc = TimestampFormat::Rfc3339.parse(data);

    let reference = reference_int(data);
    assert_eq!(secs, reference, "UnixSeconds disagrees with the reference");
    assert_eq!(millis, reference.map(|ms| ms.div_euclid(1000)));
    if let Some(t) = secs {
        assert_eq!(
            TimestampFormat::UnixSeconds.parse(TimestampFormat::UnixSeconds.format(t).as_bytes()),
            Some(t)
        );
    }
    if let Some(t) = rfc {
        assert!((20..=64).contains(&data.len()));
        assert!(data[..4].iter().all(u8::is_ascii_digit) && data[4] == b'-');
        // Years 0000-9999 with offsets up to ±99:99.
        assert!(
            (-62_167_219_200 - 400_000..=253_402_300_800 + 400_000).contains(&t),
            "{t}"
        );
        let f = TimestampFormat::Rfc3339.format(t);
        if (0..=253_402_300_799).contains(&t) {
            assert_eq!(TimestampFormat::Rfc3339.parse(f.as_bytes()), Some(t), "{f}");
        }
    }

    // The same bytes as a timestamp header.
    let cases: [(&str, &str, TimestampFormat, i64); 3] = [
        (
            "slack",
            "x-slack-request-timestamp",
            TimestampFormat::UnixSeconds,
            300,
        ),
        (
            "hubspot",
            "x-hubspot-request-timestamp",
            TimestampFormat::UnixMillis,
            300,
        ),
        (
            "twitch",
            "twitch-eventsub-message-timestamp",
            TimestampFormat::Rfc3339,
            600,
        ),
    ];
    for (name, header, format, window) in cases {
        let Some((v, signed_headers, body)) = signed(name, false, BODY) else {
            continue;
        };
        let headers: HeaderList = signed_headers
            .iter()
            .map(|(n, val)| {
                if n.eq_ignore_ascii_case(header) {
                    (n, data)
                } else {
                    (n, val)
                }
            })
            .collect();
        let parsed = format.parse(data);
        match v.check_headers(&RequestParts::new(&headers).uri("/")) {
            Ok(p) => {
                let t = parsed.expect("accepted an unparsable timestamp");
                assert_eq!(p.timestamp(), Some(t));
                assert!((i128::from(NOW) - i128::from(t)).abs() <= i128::from(window));
            }
            Err(r) => {
                check_rejection(&r, &[]);
                match parsed {
                    None => assert_eq!(r.reason(), Reason::MalformedHeader, "{name}"),
                    Some(t) => {
                        let skew = i128::from(NOW) - i128::from(t);
                        let want = if skew > i128::from(window) {
                            Reason::TimestampTooOld
                        } else {
                            Reason::TimestampInFuture
                        };
                        assert_eq!(r.reason(), want, "{name} t={t}");
                        assert!(skew.abs() > i128::from(window));
                    }
                }
            }
        }
        // Only a byte-identical timestamp keeps the signature valid.
        let ok = verify_ok(&v, &headers, "/", &body).is_ok();
        let original = signed_headers.lookup(header);
        if ok {
            assert_eq!(
                original,
                Lookup::One(data),
                "{name}: signature over another timestamp"
            );
        }
    }
}

/// KNOWN CORE ISSUE (reported with a fix, see `fuzz/README.md`): integer
/// timestamps with leading zeros (`01700000000000`) are accepted, which lets a
/// HubSpot v3 delivery (`{method}{url}{body}{timestamp}`, no separator) be
/// replayed with trailing `0`s moved from the body into the timestamp. Detected
/// at run time, so the invariants become strict as soon as the core is fixed.
pub fn core_accepts_leading_zeros() -> bool {
    TimestampFormat::UnixSeconds.parse(b"01").is_some()
}

fn reference_int(data: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(data).ok()?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') && !core_accepts_leading_zeros() {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    let v = if s.starts_with('-') { -v } else { v };
    // parse_int builds the magnitude as a positive i64, so i64::MIN is out of range.
    if v < -i128::from(i64::MAX) || v > i128::from(i64::MAX) {
        return None;
    }
    i64::try_from(v).ok()
}

// ---------------------------------------------------------------------------
// Target: Basic auth and shared tokens
// ---------------------------------------------------------------------------

/// `scheme::BasicAuth` (`Authorization: Basic …`) with a fuzzed realm, and the
/// GitLab token header. Acceptance requires the credentials to decode to the
/// key exactly; every 401 carries a challenge without quotes or line breaks
/// injected from the realm.
///
/// Input: `<realm>\n<Authorization value>`.
pub fn basic_auth(data: &[u8]) {
    let (realm, value) = first_line(data);
    let realm = String::from_utf8_lossy(realm);
    const CREDS: &str = "fuzz-user:pa55-w0rd-9f1c";
    let scheme = BasicAuth::new("docusign", &realm);
    let v = verifier(scheme.clone(), &[CREDS], NOW).expect("basic verifier");
    let headers = HeaderList::new().with("Authorization", value.to_vec());
    match verify_ok(&v, &headers, "/", BODY) {
        Ok(d) => {
            assert!(value.len() >= 6 && value[..6].eq_ignore_ascii_case(b"basic "));
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value[6..].trim_ascii())
                .expect("accepted credentials that are not base64");
            assert_eq!(decoded, CREDS.as_bytes());
            assert_eq!(d.provider(), "docusign");
        }
        Err(r) => {
            check_rejection(&r, &[CREDS.as_bytes()]);
            if matches!(
                r.reason(),
                Reason::MissingSignature | Reason::InvalidCredentials
            ) {
                let c = r
                    .diagnosis()
                    .www_authenticate
                    .as_deref()
                    .expect("401 without a challenge");
                assert_eq!(c.matches('"').count(), 2, "quote injected: {c:?}");
                assert!(!c.chars().any(char::is_control), "control char: {c:?}");
            }
        }
    }
    // The signed form always passes.
    let signed = scheme
        .sign(CREDS, BODY, &SignParams::default())
        .expect("basic sign");
    assert!(verify_ok(&v, &signed.headers, "/", BODY).is_ok());

    // The same value as a shared token: only the exact bytes pass.
    let token = TokenScheme::new("gitlab", "X-Gitlab-Token")
        .id_headers(&["idempotency-key"])
        .build();
    let tv = verifier(token, &[TOKEN_SECRET], NOW).expect("token verifier");
    let th = HeaderList::new()
        .with("X-Gitlab-Token", value.to_vec())
        .with("Idempotency-Key", realm.as_bytes().to_vec());
    match verify_ok(&tv, &th, "/", BODY) {
        Ok(_) => assert_eq!(value, TOKEN_SECRET.as_bytes()),
        Err(r) => check_rejection(&r, &[TOKEN_SECRET.as_bytes()]),
    }
}

// ---------------------------------------------------------------------------
// Target: forwarded headers
// ---------------------------------------------------------------------------

/// `IpAllowList::client_ip` and `check` with `X-Forwarded-For` and `Forwarded`
/// from a trusted proxy; the XFF result is compared with a reference walk of
/// the chain.
///
/// Input: one mode byte (which headers, peer), then `<value>` or
/// `<forwarded>\n<x-forwarded-for>`.
pub fn forwarded_headers(data: &[u8]) {
    let mut b = Bytes(data);
    let mode = b.byte();
    let rest = b.0;
    let list = IpAllowList::new(["192.30.252.0/22", "2001:db8::/32"])
        .and_then(|l| l.trust_proxies(["10.0.0.0/8", "fd00::/8"]))
        .expect("allow-list");
    // `Forwarded` alone is read only when chosen; with both headers sent, bit 3
    // picks which one the proxies are said to write.
    let forwarded = mode % 4 == 1 || (mode % 4 == 2 && mode & 0x08 != 0);
    let list = if forwarded {
        list.forwarding_header(ForwardingHeader::Forwarded)
    } else {
        list
    };
    let peers: [IpAddr; 4] = [
        IpAddr::from([10, 0, 0, 1]),
        "fd00::2".parse().unwrap_or(IpAddr::from([10, 0, 0, 2])),
        IpAddr::from([203, 0, 113, 9]),
        IpAddr::from([172, 16, 0, 1]),
    ];
    let peer = peers[usize::from(mode >> 4) % peers.len()];
    let mut headers = HeaderList::new();
    match mode % 4 {
        0 => headers.push("X-Forwarded-For", rest.to_vec()),
        1 => headers.push("Forwarded", rest.to_vec()),
        2 => {
            let (f, x) = first_line(rest);
            headers.push("Forwarded", f.to_vec());
            headers.push("X-Forwarded-For", x.to_vec());
        }
        _ => {
            let (a, c) = first_line(rest);
            headers.push("X-Forwarded-For", a.to_vec());
            headers.push("x-forwarded-for", c.to_vec());
        }
    }
    let got = list.client_ip(peer, &headers);
    match &got {
        Ok(ip) => {
            // The X-Forwarded-For value read, and it alone: a `Forwarded` sent
            // alongside changes nothing.
            let xff = match mode % 4 {
                0 => Some(rest),
                2 if !forwarded => Some(first_line(rest).1),
                _ => None,
            };
            if let Some(xff) = xff {
                assert_eq!(
                    Some(*ip),
                    reference_xff(&list, peer, xff),
                    "{:?}",
                    String::from_utf8_lossy(rest)
                );
            }
        }
        Err(r) => {
            check_rejection(r, &[]);
            assert_eq!(r.reason(), Reason::MalformedHeader);
        }
    }
    let req = RequestParts::new(&headers).peer(Some(std::net::SocketAddr::new(peer, 443)));
    match list.check(&req) {
        Ok(()) => assert!(list.allows(*got.as_ref().expect("check passed, client_ip failed"))),
        Err(r) => {
            check_rejection(&r, &[]);
            assert!(matches!(
                r.reason(),
                Reason::ForbiddenAddress | Reason::MalformedHeader
            ));
        }
    }
    // Arbitrary allow-list entries are either refused or usable.
    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(l) = IpAllowList::new(text.split(',')) {
            let _ = l.allows(peer);
        }
    }
}

fn reference_xff(list: &IpAllowList, peer: IpAddr, v: &[u8]) -> Option<IpAddr> {
    let trusted = |ip: IpAddr| {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        ["10.0.0.0/8", "fd00::/8"]
            .iter()
            .any(|n| net_contains(n, ip))
    };
    let _ = list;
    if !trusted(peer) {
        return Some(peer);
    }
    let s = std::str::from_utf8(v).ok()?;
    let parts: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > 32 {
        return None;
    }
    let mut chain = Vec::new();
    for p in parts {
        let ip = if let Ok(ip) = p.parse::<IpAddr>() {
            ip
        } else if let Some(r) = p.strip_prefix('[') {
            r.split_once(']')?.0.parse().ok()?
        } else {
            let (h, port) = p.rsplit_once(':')?;
            port.parse::<u16>().ok()?;
            IpAddr::V4(h.parse().ok()?)
        };
        chain.push(ip);
    }
    let mut client = peer;
    for ip in chain.into_iter().rev() {
        client = ip;
        if !trusted(ip) {
            break;
        }
    }
    Some(client)
}

fn net_contains(net: &str, ip: IpAddr) -> bool {
    let Some((addr, len)) = net.split_once('/') else {
        return false;
    };
    let (Ok(addr), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u32>()) else {
        return false;
    };
    match (addr, ip) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Target: keys and secrets
// ---------------------------------------------------------------------------

/// Secrets and keys as configured: `whsec_` base64 (Standard Webhooks, GitLab
/// signing), `whpk_` Ed25519 public keys, Discord hex public keys, SendGrid
/// base64 DER keys, raw secrets for every other sender; and private keys
/// (`whsk_`, hex seeds and scalars) for signing. Whenever a secret is accepted
/// both to sign and to verify, sign → verify must pass, and another secret must
/// not verify.
///
/// Input: one selector byte, then the secret.
pub fn keys(data: &[u8]) {
    let mut b = Bytes(data);
    let sel = b.byte();
    let names = all_providers();
    let name = *pick(&names, sel);
    let secret = b.0;
    let Some(scheme) = scheme_for(name) else {
        return;
    };
    // As a verification key (whatever the scheme expects).
    let v = Verifier::builder(scheme.clone())
        .secret(secret)
        .and_then(|b| b.clock(FixedClock::new(NOW)).without_replay_store().build());
    let text = String::from_utf8_lossy(secret).into_owned();
    // As a signing key.
    let url = sign_url(name);
    let params = SignParams {
        timestamp: Some(NOW),
        url: url.as_deref(),
        ..SignParams::default()
    };
    let body = body_for(name, BODY);
    let asym = matches!(name, "discord" | "sendgrid")
        || (matches!(name, "standard" | "svix") && secret.trim_ascii().starts_with(b"whsk_"));
    let Ok(signed) = scheme.sign(secret, &body, &params) else {
        return;
    };
    let verify_key = if asym {
        match scheme.public_key_for(&text) {
            Ok(pk) => pk,
            Err(_) => return,
        }
    } else {
        if v.is_err() || std::str::from_utf8(secret).is_err() {
            return;
        }
        text.clone()
    };
    let Some(v) = verifier(scheme.clone(), &[&verify_key], NOW) else {
        panic!("{name}: key {verify_key:?} signs but does not build a verifier");
    };
    let uri = "/";
    if let Err(r) = verify_ok(&v, &signed.headers, uri, &signed.body) {
        panic!("{name}: sign/verify mismatch with secret {text:?}: {r:?}");
    }
    // A different key must not verify.
    let other = if asym {
        let o = if name == "sendgrid" {
            "11".repeat(32)
        } else {
            "22".repeat(32)
        };
        scheme.public_key_for(&o).ok()
    } else if matches!(name, "standard" | "svix" | "gitlab-signing") {
        Some("whsec_b3RoZXItc2VjcmV0LWZvci1mdXp6aW5n".to_owned())
    } else {
        Some(format!("{text}x"))
    };
    if let Some(other) = other {
        if other != verify_key {
            if let Some(v2) = verifier(scheme, &[&other], NOW) {
                if let Ok(d) = verify_ok(&v2, &signed.headers, uri, &signed.body) {
                    // Raw secrets that differ only by the appended byte are different keys…
                    // unless a whsec_ decoder ignores it; anything else is a bug.
                    panic!("{name}: another key verified: {other:?} → {d:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Target: client certificates
// ---------------------------------------------------------------------------

/// `ClientCertPolicy::check` on an arbitrary DER leaf (and chain). Acceptance
/// requires the certificate to contain one of the allowed names.
///
/// Input: DER bytes.
pub fn client_cert(data: &[u8]) {
    let policy = ClientCertPolicy::new()
        .subject_cn("Acme Webhooks")
        .dns_name("sender.example.com")
        .uri("spiffe://example.com/sender")
        .email("hooks@example.com");
    let certs = PeerCertificates::new([data.to_vec(), b"junk".to_vec()]);
    match policy.check(Some(&certs)) {
        Ok(()) => {
            let lower = data.to_ascii_lowercase();
            let has = |s: &[u8]| lower.windows(s.len()).any(|w| w == s);
            assert!(
                has(b"acme webhooks")
                    || has(b"sender.example.com")
                    || has(b"spiffe://example.com/sender")
                    || has(b"hooks@example.com"),
                "accepted a certificate without an allowed identity"
            );
        }
        Err(r) => {
            check_rejection(&r, &[]);
            assert_eq!(r.reason(), Reason::ForbiddenCertificate);
        }
    }
    let fp_policy = ClientCertPolicy::new()
        .fingerprint_sha256(&"ab".repeat(32))
        .expect("fingerprint");
    if let Err(r) = fp_policy.check(Some(&certs)) {
        check_rejection(&r, &[]);
    }
    assert!(policy.check(None).is_err());
    assert!(policy.check(Some(&PeerCertificates::default())).is_err());
}

// ---------------------------------------------------------------------------
// Target: HeaderList::parse
// ---------------------------------------------------------------------------

/// `HeaderList::parse` on arbitrary text: names and values are trimmed, a
/// failure names a line without a colon, and lookups agree with the pairs.
pub fn header_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    match HeaderList::parse(text) {
        Ok(list) => {
            let pairs: Vec<(&str, &[u8])> = list.iter().collect();
            assert!(pairs.len() <= lines);
            for (n, v) in &pairs {
                assert_eq!(n.trim(), *n);
                assert!(!n.contains(':'));
                assert_eq!(v.trim_ascii(), *v);
                let same = pairs
                    .iter()
                    .filter(|(m, _)| m.eq_ignore_ascii_case(n))
                    .count();
                let want = if same == 1 {
                    Lookup::One(v)
                } else {
                    Lookup::Many
                };
                if n.is_ascii() {
                    assert_eq!(list.lookup(&n.to_ascii_lowercase()), want);
                }
            }
        }
        Err(line) => {
            assert!(line >= 1 && line <= lines, "line {line} of {lines}");
            let bad = text.lines().nth(line - 1).unwrap_or_default();
            assert!(!bad.contains(':'), "line {line} has a colon: {bad:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Target: the whole verify path
// ---------------------------------------------------------------------------

/// The whole verify path for every provider with arbitrary headers and body.
///
/// Input (text, as copied from a request log):
/// ```text
/// <provider name>
/// @secret <key>        (optional, repeatable; default: the fuzz key)
/// @now <unix seconds>  (optional; default NOW)
/// @url <public URL>    (optional; default URL)
/// @method <method>     (optional)
/// Name: value
/// ...
///
/// <body>
/// ```
/// An unknown provider name picks one by its first byte. Acceptance must
/// depend on the key (another key fails) and, for body-signing senders, on
/// the body (one more byte fails).
pub fn verify_request(data: &[u8]) {
    let (name_line, rest) = first_line(data);
    let names = all_providers();
    let name_text = String::from_utf8_lossy(name_line);
    let name = names
        .iter()
        .copied()
        .find(|n| *n == name_text.trim())
        .unwrap_or_else(|| *pick(&names, name_line.first().copied().unwrap_or(0)));
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let mut headers = HeaderList::new();
    let mut secrets: Vec<String> = Vec::new();
    let mut now = NOW;
    let mut url = URL.to_owned();
    let mut method = "POST".to_owned();
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(meta) = line.strip_prefix(b"@") {
            let meta = String::from_utf8_lossy(meta);
            let (k, v) = meta.split_once(' ').unwrap_or((&meta, ""));
            match k {
                "secret" => secrets.push(v.to_owned()),
                "now" => now = v.trim().parse().unwrap_or(NOW),
                "url" => url = v.to_owned(),
                "method" => method = v.to_owned(),
                _ => {}
            }
            continue;
        }
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let n = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
        let v = line[colon + 1..].trim_ascii().to_vec();
        headers.push(n, v);
    }
    // The signed URL: HubSpot takes the origin, the path is the request target.
    let (scheme_url, uri) = split_url(&url);
    let scheme_url = if name == "hubspot" {
        scheme_url
    } else {
        url.as_str()
    };
    let Ok(scheme) = providers::by_name(name, Some(scheme_url)) else {
        return;
    };
    if secrets.is_empty() {
        secrets.push(creds(name, false).verify);
    }
    let keys: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let Some(v) = verifier(scheme.clone(), &keys, now) else {
        return;
    };
    let req = RequestParts::new(&headers).method(&method).uri(uri);
    let secret_bytes: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    match v.verify(&req, body) {
        Ok(d) => {
            assert!(!d.replay_key().is_empty());
            // The key matters.
            let other = if matches!(name, "discord" | "sendgrid")
                || keys.iter().any(|k| k.trim().starts_with("whpk_"))
            {
                None
            } else if matches!(name, "standard" | "svix" | "gitlab-signing") {
                Some("whsec_b3RoZXItc2VjcmV0LWZvci1mdXp6aW5n".to_owned())
            } else {
                Some(format!("{}-other", keys[0]))
            };
            if let Some(other) = other {
                if let Some(v2) = verifier(scheme, &[&other], now) {
                    assert!(
                        v2.verify(&req, body).is_err(),
                        "{name}: another key verified"
                    );
                }
            }
            // The body matters.
            if signs_body(name) && name != "twilio" {
                let mut longer = body.to_vec();
                longer.push(b'x');
                if signed_view(name, &headers, &longer) != signed_view(name, &headers, body) {
                    assert!(
                        v.verify(&req, &longer).is_err(),
                        "{name}: a longer body verified"
                    );
                }
            }
        }
        Err(r) => check_rejection(&r, &secret_bytes),
    }
}

fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, "/"),
    }
}

// ---------------------------------------------------------------------------
// Target: mutated valid requests
// ---------------------------------------------------------------------------

/// Starts from a valid signed request (`Scheme::sign`) for every provider and
/// applies fuzzed mutations to the body, the headers (values, names, removal,
/// duplication, additions), the request target, and the boundary between the
/// body and a header (a canonicalization attack on unseparated templates).
///
/// Invariants: the unmutated request verifies; a mutated request never
/// verifies with a different body unless the bytes the sender signs are
/// unchanged (Twilio's sorted parameters, Gitea's form `payload`), for every
/// sender that signs the body.
///
/// Input: selector byte (provider, key kind), body length byte, body, then
/// mutations of 4 bytes each: `op, index, position, value`.
pub fn mutated_signed(data: &[u8]) {
    let mut b = Bytes(data);
    let sel = b.byte();
    let names = all_providers();
    let name = *pick(&names, sel);
    let alt = sel >= 128;
    let len = usize::from(b.byte());
    let raw_body = b.take(len);
    let Some((v, headers, body)) = signed(name, alt, raw_body) else {
        return;
    };
    let base_uri = "/";
    if let Err(r) = verify_ok(&v, &headers, base_uri, &body) {
        panic!("{name}: a freshly signed request does not verify: {r:?}");
    }
    let original_body = body.clone();
    let mut pairs: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_vec()))
        .collect();
    let mut body = body;
    let mut uri = base_uri.to_owned();
    let mut ops = 0;
    while !b.is_empty() && ops < 16 {
        ops += 1;
        let op = b.byte();
        let idx = usize::from(b.byte());
        let pos = usize::from(b.byte());
        let val = b.byte();
        mutate(&mut pairs, &mut body, &mut uri, op, idx, pos, val);
    }
    let mutated: HeaderList = pairs.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    let secrets: [&[u8]; 3] = [
        HMAC_SECRET.as_bytes(),
        WHSEC.as_bytes(),
        TOKEN_SECRET.as_bytes(),
    ];
    match verify_ok(&v, &mutated, &uri, &body) {
        Ok(_) => {
            if body != original_body && signs_body(name) {
                if name == "hubspot"
                    && core_accepts_leading_zeros()
                    && hubspot_zero_shift(&headers, &mutated, &body, &original_body)
                {
                    return; // the known issue above
                }
                assert_eq!(
                    mutated_view(name, &mutated, &uri, &body),
                    original_view(name, &headers, base_uri, &original_body),
                    "{name}: FORGERY: a mutated body verified\n  original {:?}\n  mutated  {:?}\n  headers  {:?}\n  uri {uri:?}",
                    String::from_utf8_lossy(&original_body),
                    String::from_utf8_lossy(&body),
                    mutated
                );
            }
        }
        Err(r) => {
            check_rejection(&r, &secrets);
            let dbg = format!("{r:?}");
            for (n, val) in headers.iter() {
                if n.to_ascii_lowercase().contains("signature") && val.len() >= 16 {
                    let s = String::from_utf8_lossy(val);
                    assert!(
                        !dbg.contains(s.as_ref()),
                        "signature echoed in the diagnosis"
                    );
                }
            }
        }
    }
}

/// What a sender's signature binds, as far as the body is concerned. Where the
/// sender's own template concatenates the body with another field without a
/// separator, a shift across that boundary is the sender's ambiguity, not
/// hookwise's: HubSpot v3 signs `{method}{url}{body}{timestamp}`, so the view is
/// `{uri}{body}` (a shift into the *timestamp* still counts as a forgery, since
/// HubSpot never sends a non-canonical timestamp); Standard Webhooks signs
/// `{id}.{timestamp}.{body}` with an unrestricted id.
fn mutated_view(name: &str, headers: &dyn Headers, uri: &str, body: &[u8]) -> Vec<u8> {
    match name {
        "hubspot" => [uri.as_bytes(), body].concat(),
        "standard" | "svix" | "gitlab-signing" => {
            let get = |n: &str| match headers.lookup(n) {
                Lookup::One(v) => v.to_vec(),
                _ => Vec::new(),
            };
            let (id, ts) = if matches!(headers.lookup("webhook-signature"), Lookup::Missing) {
                (get("svix-id"), get("svix-timestamp"))
            } else {
                (get("webhook-id"), get("webhook-timestamp"))
            };
            [id.as_slice(), b".", ts.as_slice(), b".", body].concat()
        }
        _ => signed_view(name, headers, body),
    }
}

fn original_view(name: &str, headers: &dyn Headers, uri: &str, body: &[u8]) -> Vec<u8> {
    match name {
        "hubspot" | "standard" | "svix" | "gitlab-signing" => {
            mutated_view(name, headers, uri, body)
        }
        _ => signed_view(name, &HeaderList::new(), body),
    }
}

/// The known HubSpot shift: same `{body}{timestamp}` bytes, timestamp now
/// starting with `0`.
fn hubspot_zero_shift(
    original: &HeaderList,
    mutated: &HeaderList,
    body: &[u8],
    original_body: &[u8],
) -> bool {
    const TS: &str = "x-hubspot-request-timestamp";
    match (original.lookup(TS), mutated.lookup(TS)) {
        (Lookup::One(a), Lookup::One(b)) => {
            b.starts_with(b"0") && [original_body, a].concat() == [body, b].concat()
        }
        _ => false,
    }
}

const EXTRA_HEADERS: [&str; 8] = [
    "content-type",
    "x-hub-signature-256",
    "webhook-signature",
    "svix-signature",
    "x-forgejo-signature",
    "x-hub-signature",
    "webhook-id",
    "x-fuzz",
];

#[allow(clippy::too_many_lines)]
fn mutate(
    pairs: &mut Vec<(String, Vec<u8>)>,
    body: &mut Vec<u8>,
    uri: &mut String,
    op: u8,
    idx: usize,
    pos: usize,
    val: u8,
) {
    let n_headers = pairs.len();
    let hi = if n_headers == 0 { 0 } else { idx % n_headers };
    let at = |len: usize| if len == 0 { 0 } else { pos % (len + 1) };
    let count = usize::from(val % 8) + 1;
    match op % 18 {
        0 => {
            if !body.is_empty() {
                let i = pos % body.len();
                body[i] ^= 1 << (val % 8);
            }
        }
        1 => {
            let i = at(body.len());
            body.insert(i, val);
        }
        2 => {
            if !body.is_empty() {
                let i = pos % body.len();
                body.remove(i);
            }
        }
        3 => body.truncate(at(body.len())),
        4 => body.extend(std::iter::repeat_n(val, count)),
        5 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                if !v.is_empty() {
                    let i = pos % v.len();
                    v[i] = val;
                }
            }
        }
        6 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                let i = at(v.len());
                v.insert(i, val);
            }
        }
        7 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                if !v.is_empty() {
                    let i = pos % v.len();
                    v.remove(i);
                }
            }
        }
        8 => {
            if hi < n_headers {
                pairs.remove(hi);
            }
        }
        9 => {
            if let Some(p) = pairs.get(hi).cloned() {
                pairs.push(p);
            }
        }
        10 => {
            let name = EXTRA_HEADERS[idx % EXTRA_HEADERS.len()];
            let value: &[u8] = match val % 4 {
                0 => b"application/x-www-form-urlencoded",
                1 => b"application/json",
                _ => &[val; 3],
            };
            pairs.push((name.to_owned(), value.to_vec()));
        }
        11 => {
            if let Some((n, _)) = pairs.get_mut(hi) {
                *n = if val % 2 == 0 {
                    n.to_ascii_uppercase()
                } else {
                    n.to_ascii_lowercase()
                };
            }
        }
        // Boundary shifts between the body and a header value.
        12 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                let k = count.min(body.len());
                let tail = body.split_off(body.len() - k);
                v.splice(0..0, tail);
            }
        }
        13 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                let k = count.min(v.len());
                let head: Vec<u8> = v.drain(..k).collect();
                body.extend(head);
            }
        }
        14 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                let k = count.min(body.len());
                let head: Vec<u8> = body.drain(..k).collect();
                v.extend(head);
            }
        }
        15 => {
            if let Some((_, v)) = pairs.get_mut(hi) {
                let k = count.min(v.len());
                let tail = v.split_off(v.len() - k);
                body.splice(0..0, tail);
            }
        }
        // The request target, and the boundary between it and the body.
        16 => {
            if val % 2 == 0 {
                let k = count.min(body.len());
                let head: Vec<u8> = body.drain(..k).collect();
                uri.push_str(&String::from_utf8_lossy(&head));
            } else {
                uri.push(char::from(val));
            }
        }
        _ => {
            // Prepend zeros to a header value (leading-zero timestamps).
            if let Some((_, v)) = pairs.get_mut(hi) {
                v.splice(0..0, std::iter::repeat_n(b'0', count));
            }
        }
    }
}
