//! End-to-end test support: start either example receiver on a loopback port,
//! sign deliveries the way each sender does, and talk to the receiver over
//! real HTTP (with `reqwest`, or a raw TCP stream for what clients cannot do,
//! like trickling a body).
//!
//! The cases live in `e2e.rs`, written once and generated for every adapter.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hookwise::scheme::SignParams;
use hookwise::{Clock, Scheme, SystemClock, providers};
use receiver_common::Config;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Which example receiver to drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapter {
    /// `examples/axum-receiver` (hookwise-tower).
    Axum,
    /// `examples/actix-receiver` (hookwise-actix).
    Actix,
}

/// The secrets every receiver under test is started with (all five routes).
pub const SECRETS: &[(&str, &str)] = &[
    ("GITHUB_WEBHOOK_SECRET", "e2e-github-secret"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_e2e_stripe_secret"),
    ("SLACK_SIGNING_SECRET", "e2e-slack-signing-secret"),
    (
        "STANDARD_WEBHOOK_SECRET",
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    ),
    ("SHOPIFY_WEBHOOK_SECRET", "e2e-shopify-secret"),
];

/// The private keys of the public-key senders under test; the receivers are
/// started with the matching public keys ([`key_vars`]).
pub const DISCORD_PRIVATE_KEY: &str =
    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// SendGrid's (ECDSA P-256, hex scalar).
pub const SENDGRID_PRIVATE_KEY: &str =
    "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";
/// The Standard Webhooks sender's Ed25519 key (`whsk_…`), for `v1a`.
pub const STANDARD_PRIVATE_KEY: &str = "whsk_ZTJlLXN0YW5kYXJkLXdlYmhvb2tzLWVkMjU1MTktayE=";
/// Another sender's Ed25519 key (`whsk_…`): the "wrong key" of the Ed25519 senders.
pub const OTHER_ED25519_KEY: &str = "whsk_YW5vdGhlci1zZW5kZXItZWQyNTUxOS1zZWVkLTMyYiE=";
/// Twilio's auth token.
pub const TWILIO_AUTH_TOKEN: &str = "e2e-twilio-auth-token";
/// The public URL Twilio signs: the receiver sits behind a proxy, so it is not
/// the loopback address the tests send to.
pub const TWILIO_WEBHOOK_URL: &str = "https://hooks.example.com/webhooks/twilio";

/// The public-key and URL-signing variables every receiver under test is
/// started with: `DISCORD_PUBLIC_KEY`, `SENDGRID_PUBLIC_KEY`,
/// `STANDARD_WEBHOOK_PUBLIC_KEY` (derived from the private keys above),
/// `TWILIO_AUTH_TOKEN` and `TWILIO_WEBHOOK_URL`.
///
/// # Panics
/// When a test key is malformed.
pub fn key_vars() -> Vec<(&'static str, String)> {
    let public =
        |p: &str, k: &str| receiver_common::demo_public_key(p, k).expect("test private key");
    vec![
        ("DISCORD_PUBLIC_KEY", public("discord", DISCORD_PRIVATE_KEY)),
        (
            "SENDGRID_PUBLIC_KEY",
            public("sendgrid", SENDGRID_PRIVATE_KEY),
        ),
        (
            "STANDARD_WEBHOOK_PUBLIC_KEY",
            public("standard", STANDARD_PRIVATE_KEY),
        ),
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN.to_owned()),
        ("TWILIO_WEBHOOK_URL", TWILIO_WEBHOOK_URL.to_owned()),
    ]
}

impl Adapter {
    /// Starts the receiver on `127.0.0.1:<free port>` with [`SECRETS`],
    /// [`key_vars`] and `config_vars` (which win), on a dedicated thread that lives as long as
    /// the test process. Requests can be sent as soon as this returns: the
    /// listener is already bound.
    ///
    /// # Panics
    /// When the loopback listener cannot be bound or the configuration does
    /// not parse.
    pub fn start(self, config_vars: &[(&str, &str)]) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let addr_text = addr.to_string();
        let keys = key_vars();
        let config = Config::from_lookup(|key| {
            if key == "HOOKWISE_ADDR" {
                return Some(addr_text.clone());
            }
            config_vars
                .iter()
                .rev()
                .chain(SECRETS.iter())
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
                .or_else(|| keys.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
        })
        .expect("receiver configuration");
        let name = format!("{self:?}-receiver-{}", addr.port());
        let spawned = match self {
            Self::Axum => std::thread::Builder::new().name(name).spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                runtime.block_on(async move {
                    listener.set_nonblocking(true)?;
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    axum_receiver::serve(listener, config).await
                })
            }),
            Self::Actix => std::thread::Builder::new()
                .name(name)
                .spawn(move || actix_receiver::serve_std(listener, config)),
        };
        // A server that fails to start drops its listener: requests then fail
        // fast with "connection refused", and the error is printed here.
        let handle = spawned.expect("receiver thread");
        std::thread::spawn(move || {
            if let Ok(Err(e)) = handle.join() {
                eprintln!("receiver stopped: {e}");
            }
        });
        Receiver {
            addr,
            adapter: self,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("http client"),
        }
    }
}

/// A running receiver.
#[derive(Clone, Debug)]
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Which example it is.
    pub adapter: Adapter,
    client: reqwest::Client,
}

/// An HTTP answer, fully read.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Response headers (names in lowercase).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    /// The `error` code of a rejection body.
    pub fn error(&self) -> Option<String> {
        self.json()["error"].as_str().map(str::to_owned)
    }
    /// Whether this is the duplicate answer (`hookwise-duplicate: true`).
    pub fn is_duplicate(&self) -> bool {
        self.header("hookwise-duplicate") == Some("true")
    }
    /// Whether the handler ran and answered: 200, not a duplicate, with a hash.
    pub fn processed(&self) -> bool {
        self.status == 200 && !self.is_duplicate() && self.json()["body_sha256"].is_string()
    }
    /// The body, for assertion messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Receiver {
    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` with `headers` to `path`.
    ///
    /// # Panics
    /// When the request fails at the transport level.
    pub async fn post(&self, path: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
        let mut req = self.client.post(self.url(path));
        for (n, v) in headers {
            req = req.header(n.as_str(), v.as_str());
        }
        let res = req
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?} POST {path}: {e}", self.adapter));
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = res.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends a signed delivery.
    pub async fn send(&self, d: &SignedDelivery) -> Answer {
        self.post(d.preset.route(), &d.headers, d.body.clone())
            .await
    }

    /// Writes `head` (request line and headers, without the blank line), then
    /// each chunk of `body` after `pause`, over a raw TCP stream, and reads the
    /// answer (while still writing). With `chunked`, the body is sent with
    /// `Transfer-Encoding: chunked`, each piece as one chunk.
    ///
    /// # Panics
    /// When the connection fails or no answer arrives within 10 s.
    pub async fn raw(
        &self,
        head: &str,
        pieces: Vec<Vec<u8>>,
        pause: Duration,
        chunked: bool,
    ) -> Answer {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        let (mut rd, mut wr) = stream.into_split();
        let head = format!("{head}\r\nHost: {}\r\n\r\n", self.addr);
        let writer = tokio::spawn(async move {
            wr.write_all(head.as_bytes()).await?;
            let last = pieces.len();
            for (i, piece) in pieces.into_iter().enumerate() {
                if i > 0 && !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                let mut out = Vec::new();
                if chunked {
                    out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    out.extend_from_slice(&piece);
                    out.extend_from_slice(b"\r\n");
                    if i + 1 == last {
                        out.extend_from_slice(b"0\r\n\r\n");
                    }
                } else {
                    out = piece;
                }
                wr.write_all(&out).await?;
            }
            // Keep the write side open: the server decides when it is done.
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, std::io::Error>(wr)
        });
        let answer = tokio::time::timeout(Duration::from_secs(10), read_answer(&mut rd))
            .await
            .expect("an answer within 10 s")
            .expect("a readable HTTP answer");
        writer.abort();
        answer
    }
}

/// Reads one HTTP/1.1 response (status, headers, `Content-Length` body or
/// until EOF).
///
/// # Errors
/// The stream ends (or fails) before the head of a response.
pub async fn read_answer(rd: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Answer> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = rd.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("no answer: {:?}", String::from_utf8_lossy(&buf)),
            ));
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = buf[head_end + 4..].to_vec();
    loop {
        if len.is_some_and(|l| body.len() >= l) {
            break;
        }
        let n = rd.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    if let Some(l) = len {
        body.truncate(l);
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// A sender route of the examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `POST /webhooks/github`.
    Github,
    /// `POST /webhooks/stripe`.
    Stripe,
    /// `POST /webhooks/slack`.
    Slack,
    /// `POST /webhooks/standard` with `webhook-*` headers.
    Standard,
    /// `POST /webhooks/standard` with `svix-*` headers.
    Svix,
    /// `POST /webhooks/shopify`.
    Shopify,
}

static NONCE: AtomicU64 = AtomicU64::new(1);

/// Now, by the system clock (the receivers use it too).
pub fn now() -> i64 {
    SystemClock.now_unix()
}

impl Preset {
    /// The provider name the receiver reports.
    pub const fn provider(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Stripe => "stripe",
            Self::Slack => "slack",
            Self::Standard | Self::Svix => "standard",
            Self::Shopify => "shopify",
        }
    }
    /// The route.
    pub const fn route(self) -> &'static str {
        match self {
            Self::Github => "/webhooks/github",
            Self::Stripe => "/webhooks/stripe",
            Self::Slack => "/webhooks/slack",
            Self::Standard | Self::Svix => "/webhooks/standard",
            Self::Shopify => "/webhooks/shopify",
        }
    }
    /// The secret the receiver is started with.
    pub fn secret(self) -> &'static str {
        let env = match self {
            Self::Github => "GITHUB_WEBHOOK_SECRET",
            Self::Stripe => "STRIPE_WEBHOOK_SECRET",
            Self::Slack => "SLACK_SIGNING_SECRET",
            Self::Standard | Self::Svix => "STANDARD_WEBHOOK_SECRET",
            Self::Shopify => "SHOPIFY_WEBHOOK_SECRET",
        };
        SECRETS
            .iter()
            .find(|(k, _)| *k == env)
            .map_or("", |(_, v)| v)
    }
    /// Another valid secret for the same sender (the "wrong key").
    pub const fn wrong_secret(self) -> &'static str {
        match self {
            Self::Stripe => "whsec_someone_else",
            Self::Standard | Self::Svix => "whsec_dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleQ==",
            _ => "someone-elses-secret",
        }
    }
    /// The scheme.
    pub fn scheme(self) -> Scheme {
        match self {
            Self::Github => providers::github(),
            Self::Stripe => providers::stripe(),
            Self::Slack => providers::slack(),
            Self::Standard | Self::Svix => providers::standard(),
            Self::Shopify => providers::shopify(),
        }
    }
    /// Whether the sender signs a timestamp.
    pub const fn timestamped(self) -> bool {
        matches!(
            self,
            Self::Stripe | Self::Slack | Self::Standard | Self::Svix
        )
    }
    /// The signature header, in lowercase.
    pub const fn signature_header(self) -> &'static str {
        match self {
            Self::Github => "x-hub-signature-256",
            Self::Stripe => "stripe-signature",
            Self::Slack => "x-slack-signature",
            Self::Standard => "webhook-signature",
            Self::Svix => "svix-signature",
            Self::Shopify => "x-shopify-hmac-sha256",
        }
    }
    /// A signature header value that cannot be parsed (400 `malformed_header`).
    pub const fn malformed_signature(self) -> &'static str {
        match self {
            Self::Github => "sha256=not-hex-at-all",
            Self::Stripe => "v1=deadbeef",
            Self::Slack => "v0=zz",
            Self::Standard | Self::Svix => "garbage-without-a-version",
            Self::Shopify => "%%%not base64%%%",
        }
    }

    /// A fresh delivery signed with the right key at the current time.
    pub fn delivery(self) -> SignedDelivery {
        self.delivery_with(self.secret(), Some(now()))
    }

    /// A fresh delivery signed with `secret` at `timestamp` (`None` for the
    /// current time).
    ///
    /// # Panics
    /// When the scheme refuses to sign (a bad test secret).
    pub fn delivery_with(self, secret: &str, timestamp: Option<i64>) -> SignedDelivery {
        let n = NONCE.fetch_add(1, Ordering::Relaxed);
        let id = format!("e2e-{n}-{}", self.provider());
        let (body, event) = match self {
            Self::Github => (
                format!(r#"{{"ref":"refs/heads/main","after":"{n:040x}","hook_id":{n}}}"#),
                "push",
            ),
            Self::Stripe => (
                format!(
                    r#"{{"id":"{id}","object":"event","type":"payment_intent.succeeded","data":{{"object":{{"amount":{n}}}}}}}"#
                ),
                "payment_intent.succeeded",
            ),
            Self::Slack => (
                format!(
                    r#"{{"type":"event_callback","event_id":"{id}","event":{{"type":"app_mention","text":"hi \u00e9 {n}"}}}}"#
                ),
                "app_mention",
            ),
            Self::Standard | Self::Svix => (
                format!(r#"{{"type":"invoice.paid","data":{{"n":{n}}}}}"#),
                "invoice.paid",
            ),
            Self::Shopify => (
                format!(r#"{{"id":{n},"email":"jon@example.com","note":"ünïcode"}}"#),
                "orders/create",
            ),
        };
        SignedDelivery {
            preset: self,
            headers: Vec::new(),
            body: body.into_bytes(),
            id,
            event,
            timestamp: timestamp.unwrap_or_else(now),
        }
        .signed_with(secret)
    }
}

/// A signed delivery, ready to send (and to tamper with).
#[derive(Clone, Debug)]
pub struct SignedDelivery {
    /// Its sender.
    pub preset: Preset,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The delivery id the receiver should report.
    pub id: String,
    /// The event type the receiver should report.
    pub event: &'static str,
    /// The signed timestamp (ignored by senders that sign none).
    pub timestamp: i64,
}

impl SignedDelivery {
    /// Signs the current body with `secret` (same id, event and timestamp),
    /// replacing every header.
    ///
    /// # Panics
    /// When the scheme refuses to sign (a bad test secret).
    #[must_use]
    pub fn signed_with(mut self, secret: &str) -> Self {
        let signed = self
            .preset
            .scheme()
            .sign(
                secret,
                &self.body,
                &SignParams {
                    timestamp: Some(self.timestamp),
                    id: Some(&self.id),
                    event: Some(self.event),
                    ..SignParams::default()
                },
            )
            .expect("sign");
        let svix = self.preset == Preset::Svix;
        self.headers = signed
            .headers
            .iter()
            .map(|(n, v)| {
                let n = n.to_ascii_lowercase();
                let n = match n.strip_prefix("webhook-") {
                    Some(rest) if svix => format!("svix-{rest}"),
                    _ => n,
                };
                (n, String::from_utf8_lossy(v).into_owned())
            })
            .collect();
        self.headers
            .push(("content-type".to_owned(), "application/json".to_owned()));
        self
    }

    /// Re-signs the current (modified) body with the right key.
    #[must_use]
    pub fn resigned(self) -> Self {
        let secret = self.preset.secret();
        self.signed_with(secret)
    }

    /// Hex SHA-256 of the body.
    pub fn body_sha256(&self) -> String {
        sha256_hex(&self.body)
    }
    /// Removes a header.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        remove_header(&mut self.headers, name);
        self
    }
    /// Sets a header (replacing it).
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        set_header(&mut self.headers, name, value);
        self
    }
    /// The request head for [`Receiver::raw`]: request line and headers, with
    /// `Content-Length` unless `chunked`.
    pub fn raw_head(&self, content_length: Option<usize>) -> String {
        let mut head = format!("POST {} HTTP/1.1", self.preset.route());
        for (n, v) in &self.headers {
            head += &format!("\r\n{n}: {v}");
        }
        match content_length {
            Some(len) => head += &format!("\r\ncontent-length: {len}"),
            None => head += "\r\ntransfer-encoding: chunked",
        }
        head
    }
}

/// A route of the public-key and URL-signing senders. Kept apart from
/// [`Preset`] (whose senders share a secret with the receiver): these sign
/// with a private key the receiver never sees, or sign the public URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPreset {
    /// `POST /webhooks/discord`: Ed25519 over timestamp + body.
    Discord,
    /// `POST /webhooks/twilio` with a form body: HMAC-SHA1 over URL + sorted parameters.
    TwilioForm,
    /// `POST /webhooks/twilio?bodySHA256=…` with a JSON body: HMAC-SHA1 over the URL.
    TwilioJson,
    /// `POST /webhooks/sendgrid`: ECDSA P-256 over timestamp + body.
    Sendgrid,
    /// `POST /webhooks/standard` with an Ed25519 `v1a` signature only.
    StandardV1a,
    /// `POST /webhooks/standard` with a `v1` (HMAC) and a `v1a` (Ed25519) signature.
    StandardMixed,
}

impl KeyPreset {
    /// The provider name the receiver reports.
    pub const fn provider(self) -> &'static str {
        match self {
            Self::Discord => "discord",
            Self::TwilioForm | Self::TwilioJson => "twilio",
            Self::Sendgrid => "sendgrid",
            Self::StandardV1a | Self::StandardMixed => "standard",
        }
    }
    /// The route.
    pub const fn route(self) -> &'static str {
        match self {
            Self::Discord => "/webhooks/discord",
            Self::TwilioForm | Self::TwilioJson => "/webhooks/twilio",
            Self::Sendgrid => "/webhooks/sendgrid",
            Self::StandardV1a | Self::StandardMixed => "/webhooks/standard",
        }
    }
    /// The scheme.
    pub fn scheme(self) -> Scheme {
        match self {
            Self::Discord => providers::discord(),
            Self::TwilioForm | Self::TwilioJson => providers::twilio(TWILIO_WEBHOOK_URL),
            Self::Sendgrid => providers::sendgrid(),
            Self::StandardV1a | Self::StandardMixed => providers::standard(),
        }
    }
    /// The key the sender signs with.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Discord => DISCORD_PRIVATE_KEY,
            Self::TwilioForm | Self::TwilioJson => TWILIO_AUTH_TOKEN,
            Self::Sendgrid => SENDGRID_PRIVATE_KEY,
            Self::StandardV1a | Self::StandardMixed => STANDARD_PRIVATE_KEY,
        }
    }
    /// Another valid key of the same kind (the "wrong key").
    pub const fn wrong_key(self) -> &'static str {
        match self {
            Self::Discord => "0707070707070707070707070707070707070707070707070707070707070707",
            Self::TwilioForm | Self::TwilioJson => "someone-elses-auth-token",
            Self::Sendgrid => "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b",
            Self::StandardV1a | Self::StandardMixed => OTHER_ED25519_KEY,
        }
    }
    /// Whether the sender signs a timestamp.
    pub const fn timestamped(self) -> bool {
        !matches!(self, Self::TwilioForm | Self::TwilioJson)
    }
    /// The signature header, in lowercase.
    pub const fn signature_header(self) -> &'static str {
        match self {
            Self::Discord => "x-signature-ed25519",
            Self::TwilioForm | Self::TwilioJson => "x-twilio-signature",
            Self::Sendgrid => "x-twilio-email-event-webhook-signature",
            Self::StandardV1a | Self::StandardMixed => "webhook-signature",
        }
    }
    /// Signature header values that cannot be decoded (400 `malformed_header`,
    /// or 401 `signature_mismatch` where the sender's format lets a list
    /// entry be skipped).
    pub const fn malformed_signatures(self) -> &'static [&'static str] {
        match self {
            Self::Discord => &["zz", "abc", "%%%"],
            Self::TwilioForm | Self::TwilioJson => &["%%%not base64%%%", "a"],
            Self::Sendgrid => &["%%%not base64%%%", "AAAA", "MEUCIQ"],
            Self::StandardV1a | Self::StandardMixed => {
                &["v1a,%%%", "v1a,AAAA", "garbage-without-a-version"]
            }
        }
    }

    /// A fresh delivery signed with the right key at the current time.
    pub fn delivery(self) -> KeyDelivery {
        self.delivery_with(self.key(), Some(now()))
    }

    /// A fresh delivery signed with `key` at `timestamp` (`None`: now).
    ///
    /// # Panics
    /// When the scheme refuses to sign (a bad test key).
    pub fn delivery_with(self, key: &str, timestamp: Option<i64>) -> KeyDelivery {
        let n = NONCE.fetch_add(1, Ordering::Relaxed);
        let id = format!("e2e-{n}-{}", self.provider());
        let (body, id, event, form) = match self {
            Self::Discord => (
                format!(r#"{{"id":"{id}","type":2,"data":{{"name":"ping","n":{n}}}}}"#),
                Some(id),
                Some("2"),
                false,
            ),
            Self::TwilioForm => (
                format!(
                    "MessageSid={id}&MessageStatus=delivered&To=%2B15558675310&Body=Hello+%C3%A9+{n}"
                ),
                Some(id),
                Some("delivered"),
                true,
            ),
            Self::TwilioJson => (
                format!(r#"{{"event":"call.completed","n":{n}}}"#),
                None,
                None,
                false,
            ),
            Self::Sendgrid => (
                format!(
                    "[{{\"email\":\"a@example.com\",\"event\":\"delivered\",\"sg_event_id\":\"{id}\",\"n\":{n}}}]\r\n"
                ),
                None,
                None,
                false,
            ),
            Self::StandardV1a | Self::StandardMixed => (
                format!(r#"{{"type":"invoice.paid","data":{{"n":{n}}}}}"#),
                Some(id),
                Some("invoice.paid"),
                false,
            ),
        };
        KeyDelivery {
            preset: self,
            headers: Vec::new(),
            path: self.route().to_owned(),
            body: body.into_bytes(),
            id,
            event,
            form,
            timestamp: timestamp.unwrap_or_else(now),
        }
        .signed_with(key)
    }
}

/// A delivery of a [`KeyPreset`], ready to send (and to tamper with).
#[derive(Clone, Debug)]
pub struct KeyDelivery {
    /// Its sender.
    pub preset: KeyPreset,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// The request target (Twilio JSON: with `?bodySHA256=…`).
    pub path: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The delivery id the receiver should report (`None`: the sender has none).
    pub id: Option<String>,
    /// The event type the receiver should report.
    pub event: Option<&'static str>,
    /// Whether the body is a form.
    pub form: bool,
    /// The signed timestamp (ignored by senders that sign none).
    pub timestamp: i64,
}

impl KeyDelivery {
    fn sign(&self, key: &str) -> Vec<(String, String)> {
        let body_sha = sha256_hex(&self.body);
        let url = format!("{TWILIO_WEBHOOK_URL}?bodySHA256={body_sha}");
        let signed = self
            .preset
            .scheme()
            .sign(
                key,
                &self.body,
                &SignParams {
                    timestamp: Some(self.timestamp),
                    id: self.id.as_deref(),
                    event: self.event,
                    url: (self.preset == KeyPreset::TwilioJson).then_some(url.as_str()),
                    ..SignParams::default()
                },
            )
            .expect("sign");
        signed
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    /// Signs the current body with `key` (same id and timestamp), replacing
    /// every header. The mixed Standard Webhooks preset signs with the `v1`
    /// secret too (the wrong one when `key` is not the right one), and sends
    /// both signatures.
    ///
    /// # Panics
    /// When the scheme refuses to sign (a bad test key).
    #[must_use]
    pub fn signed_with(mut self, key: &str) -> Self {
        let mut headers = self.sign(key);
        if self.preset == KeyPreset::StandardMixed {
            // The wrong key signs both entries wrongly.
            let v1 = self.sign(if key == self.preset.key() {
                Preset::Standard.secret()
            } else {
                Preset::Standard.wrong_secret()
            });
            let sig = |h: &[(String, String)]| {
                h.iter()
                    .find(|(n, _)| n == "webhook-signature")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let mixed = format!("{} {}", sig(&v1), sig(&headers));
            headers.retain(|(n, _)| n != "webhook-signature");
            headers.push(("webhook-signature".to_owned(), mixed));
        }
        if self.preset == KeyPreset::TwilioJson {
            self.path = format!(
                "{}?bodySHA256={}",
                self.preset.route(),
                sha256_hex(&self.body)
            );
        }
        headers.retain(|(n, _)| n != "content-type");
        let ct = if self.form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        headers.push(("content-type".to_owned(), ct.to_owned()));
        self.headers = headers;
        self
    }

    /// Hex SHA-256 of the body.
    pub fn body_sha256(&self) -> String {
        sha256_hex(&self.body)
    }
    /// Removes a header.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        remove_header(&mut self.headers, name);
        self
    }
    /// Sets a header (replacing it).
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        set_header(&mut self.headers, name, value);
        self
    }
}

impl Receiver {
    /// Sends a delivery of a public-key or URL-signing sender.
    pub async fn send_key(&self, d: &KeyDelivery) -> Answer {
        self.post(&d.path, &d.headers, d.body.clone()).await
    }
}

/// Hex SHA-256 of a body (what the receivers answer as `body_sha256`).
fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Removes every header called `name` (any case).
fn remove_header(headers: &mut Vec<(String, String)>, name: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
}

/// Sets `name` to `value`, replacing any earlier value.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    remove_header(headers, name);
    headers.push((name.to_owned(), value.to_owned()));
}
