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

impl Adapter {
    /// Starts the receiver on `127.0.0.1:<free port>` with [`SECRETS`] and
    /// `config_vars` (which win), on a dedicated thread that lives as long as
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
async fn read_answer(rd: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<Answer> {
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
        hex::encode(Sha256::digest(&self.body))
    }
    /// Removes a header.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
    /// Sets a header (replacing it).
    #[must_use]
    pub fn with(self, name: &str, value: &str) -> Self {
        let mut d = self.without(name);
        d.headers.push((name.to_owned(), value.to_owned()));
        d
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
