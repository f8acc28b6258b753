//! Support for the hardening tests (`hardening.rs`, `flood.rs`, `soak.rs`,
//! `secrets.rs`): a raw HTTP/1.1 exchange over a TCP stream that can send
//! what no client library will (non-UTF-8 header bytes, lying
//! `Content-Length`, a half-closed request), and the process's memory from
//! `/proc/self/status`.
//!
//! Each test binary includes it with `mod support_hardening;`; not every
//! binary uses every item.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use hookwise_e2e::Answer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the client does once it has written everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Keeps its write side open (the server decides when it is done).
    KeepOpen,
    /// Shuts its write side down (`FIN`): a client that gave up.
    Close,
}

/// What came back from a raw exchange.
#[derive(Debug)]
pub enum Outcome {
    /// An HTTP answer.
    Answer(Answer),
    /// The connection ended without an answer (closed or reset), with why.
    Closed(String),
}

impl Outcome {
    /// The answer, or a panic naming the case.
    ///
    /// # Panics
    /// When the connection ended without an answer.
    pub fn answer(self, case: &str) -> Answer {
        match self {
            Self::Answer(a) => a,
            Self::Closed(why) => panic!("{case}: no answer, connection ended: {why}"),
        }
    }

    /// The status, `None` when the connection ended without an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Answer(a) => Some(a.status),
            Self::Closed(_) => None,
        }
    }

    /// Whether the handler ran (a 200 with the contract's `body_sha256`).
    pub fn processed(&self) -> bool {
        matches!(self, Self::Answer(a) if a.processed())
    }
}

/// A raw request: the head's bytes (request line and header lines, each
/// ending in CRLF, without the blank line) and the body, written in pieces.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    /// Request line and headers (CRLF after each line). `Host` is added.
    pub head: Vec<u8>,
    /// Body pieces, written one after the other.
    pub pieces: Vec<Vec<u8>>,
    /// Pause before each piece after the first.
    pub pause: Duration,
}

impl RawRequest {
    /// `POST <path> HTTP/1.1` with `headers` (values as raw bytes).
    pub fn post(path: &str, headers: &[(String, Vec<u8>)]) -> Self {
        let mut head = format!("POST {path} HTTP/1.1\r\n").into_bytes();
        for (n, v) in headers {
            head.extend_from_slice(n.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(v);
            head.extend_from_slice(b"\r\n");
        }
        Self {
            head,
            ..Self::default()
        }
    }

    /// Adds a header line.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.head.extend_from_slice(name.as_bytes());
        self.head.extend_from_slice(b": ");
        self.head.extend_from_slice(value.as_ref());
        self.head.extend_from_slice(b"\r\n");
        self
    }

    /// The body as one piece.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.pieces = vec![body.into()];
        self
    }

    /// The body in pieces, `pause` apart.
    #[must_use]
    pub fn trickle(mut self, pieces: Vec<Vec<u8>>, pause: Duration) -> Self {
        self.pieces = pieces;
        self.pause = pause;
        self
    }

    /// Re-frames the pieces as `Transfer-Encoding: chunked` (one chunk each,
    /// then the last chunk) and adds the header.
    #[must_use]
    pub fn chunked(self) -> Self {
        let mut out = self.header("transfer-encoding", "chunked");
        let last = out.pieces.len();
        out.pieces = std::mem::take(&mut out.pieces)
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let mut c = format!("{:x}\r\n", p.len()).into_bytes();
                c.extend_from_slice(&p);
                c.extend_from_slice(b"\r\n");
                if i + 1 == last {
                    c.extend_from_slice(b"0\r\n\r\n");
                }
                c
            })
            .collect();
        out
    }

    /// Sends the request to `addr` and reads one answer (while still
    /// writing: a server may answer before the body is in). With
    /// [`End::KeepOpen`] the write side stays open until the answer is read.
    ///
    /// # Panics
    /// When the connection cannot be made, or nothing (no answer, no close)
    /// happens within 15 s.
    pub async fn send(self, addr: SocketAddr, end: End) -> Outcome {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut rd, mut wr) = stream.into_split();
        let mut head = self.head;
        head.extend_from_slice(format!("host: {addr}\r\n\r\n").as_bytes());
        let (pieces, pause) = (self.pieces, self.pause);
        let writer = tokio::spawn(async move {
            wr.write_all(&head).await?;
            for (i, piece) in pieces.into_iter().enumerate() {
                if i > 0 && !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                wr.write_all(&piece).await?;
            }
            wr.flush().await?;
            if end == End::Close {
                wr.shutdown().await?;
            }
            tokio::time::sleep(Duration::from_secs(20)).await;
            Ok::<_, std::io::Error>(wr)
        });
        let outcome = tokio::time::timeout(Duration::from_secs(15), read_answer(&mut rd))
            .await
            .expect("an answer or a close within 15 s");
        writer.abort();
        outcome
    }
}

/// Reads one HTTP/1.1 answer (`Content-Length` or chunked body, or until EOF).
pub async fn read_answer(rd: &mut (impl AsyncReadExt + Unpin)) -> Outcome {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match rd.read(&mut tmp).await {
            Ok(0) => {
                return Outcome::Closed(format!("EOF after {:?}", String::from_utf8_lossy(&buf)));
            }
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) => return Outcome::Closed(format!("{e} after {} bytes", buf.len())),
        }
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
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let len = find("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = find("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let mut body = buf[head_end + 4..].to_vec();
    loop {
        if len.is_some_and(|l| body.len() >= l) || chunked && body.ends_with(b"0\r\n\r\n") {
            break;
        }
        match rd.read(&mut tmp).await {
            Ok(n) if n > 0 => body.extend_from_slice(&tmp[..n]),
            _ => break,
        }
    }
    if let Some(l) = len {
        body.truncate(l);
    } else if chunked {
        body = dechunk(&body);
    }
    Outcome::Answer(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
    out
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, …); 0 where
/// the file does not exist.
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now, in KiB.
pub fn rss_kib() -> u64 {
    proc_status_kib("VmRSS")
}

/// Peak resident memory of the process so far, in KiB.
pub fn hwm_kib() -> u64 {
    proc_status_kib("VmHWM")
}
