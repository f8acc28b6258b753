//! `hookwise verify`: verify a captured request, and when it fails, find out why
//! by trying the classic mistakes one by one. The expected signature is never
//! printed: hints only say which *change* would make the request verify.

use std::process::ExitCode;

use hookwise::{
    Delivery, FixedClock, HeaderList, Reason, Rejection, RequestParts, Tolerance, Verifier,
    providers,
};
use sha2::{Digest, Sha256};

use crate::{VerifyArgs, input};

struct Case<'a> {
    provider: &'a str,
    secrets: Vec<String>,
    headers: &'a HeaderList,
    body: &'a [u8],
    url: Option<String>,
    method: &'a str,
    now: i64,
    tolerance: Option<u64>,
}

impl Case<'_> {
    fn verify(&self) -> Result<Result<Delivery, Rejection>, String> {
        let scheme = input::scheme(self.provider, self.url.as_deref())?;
        let mut b = Verifier::builder(scheme)
            .clock(FixedClock::new(self.now))
            .without_replay_store()
            .max_body(usize::MAX);
        for s in &self.secrets {
            b = b.secret(s).map_err(|e| e.to_string())?;
        }
        if let Some(t) = self.tolerance {
            b = b.tolerance(Tolerance::symmetric(std::time::Duration::from_secs(t)));
        }
        let v = b.build().map_err(|e| e.to_string())?;
        let target = self.url.as_deref().map_or("/", |u| input::split_url(u).1);
        Ok(v.verify(
            &RequestParts::new(self.headers)
                .method(self.method)
                .uri(target),
            self.body,
        ))
    }

    /// Whether a variant verifies (configuration errors count as "no").
    fn passes(&self) -> bool {
        matches!(self.verify(), Ok(Ok(_)))
    }

    fn with_body<'b>(&'b self, body: &'b [u8]) -> Case<'b> {
        Case {
            body,
            secrets: self.secrets.clone(),
            url: self.url.clone(),
            ..*self
        }
    }
}

fn parse_headers(a: &VerifyArgs) -> Result<HeaderList, String> {
    let mut list = match &a.headers_file {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
            HeaderList::parse(&text)
                .map_err(|line| format!("{}: line {line} is not `Name: value`", p.display()))?
        }
        None => HeaderList::new(),
    };
    for h in &a.header {
        let (n, v) = h
            .split_once(':')
            .ok_or_else(|| format!("-H {h:?}: expected `Name: value`"))?;
        list.push(n.trim(), v.trim().as_bytes().to_vec());
    }
    Ok(list)
}

/// The keys to try: `--secret`s and `--public-key`s, else `HOOKWISE_SECRET`
/// (read only then: an exported secret must not join public keys).
fn secrets(a: &VerifyArgs) -> Result<Vec<String>, String> {
    let given: Vec<String> = a.secret.iter().chain(&a.public_key).cloned().collect();
    if !given.is_empty() {
        return Ok(given);
    }
    match std::env::var("HOOKWISE_SECRET") {
        Ok(s) if !s.is_empty() => Ok(vec![s]),
        _ => Err("give a --secret (or HOOKWISE_SECRET) or a --public-key".to_owned()),
    }
}

pub(crate) fn run(a: &VerifyArgs) -> Result<ExitCode, String> {
    let body = input::body(&a.common.body_file)?;
    let headers = parse_headers(a)?;
    let case = Case {
        provider: &a.common.provider,
        secrets: secrets(a)?,
        headers: &headers,
        body: &body,
        url: a.common.url.clone(),
        method: &a.method,
        now: a.now.unwrap_or_else(input::now),
        tolerance: a.tolerance,
    };
    match case.verify()? {
        Ok(d) => {
            if a.json {
                let out = serde_json::json!({
                    "valid": true, "provider": d.provider(), "delivery_id": d.id(), "event_type": d.event_type(),
                    "timestamp": d.timestamp(), "key": d.key(), "replay_key": d.replay_key(),
                });
                println!("{out}");
            } else {
                println!("VALID: {} delivery", d.provider());
                println!("  key:        {}", d.key());
                if let Some(id) = d.id() {
                    println!(
                        "  id:         {id}{}",
                        if d.id_is_signed() {
                            ""
                        } else {
                            " (not signed by the sender)"
                        }
                    );
                }
                if let Some(ev) = d.event_type() {
                    println!("  event:      {ev}");
                }
                if let Some(ts) = d.timestamp() {
                    println!("  timestamp:  {ts} ({})", skew_text(case.now - ts));
                }
                println!("  replay key: {}", d.replay_key());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(r) => {
            let hints = hints(&case, &r);
            print_rejection(&case, &r, &hints, a.json);
            Ok(ExitCode::from(1))
        }
    }
}

fn skew_text(skew: i64) -> String {
    match skew {
        0 => "now".to_owned(),
        s if s > 0 => format!("{s} s ago"),
        s => format!("{} s in the future", -s),
    }
}

fn print_rejection(case: &Case<'_>, r: &Rejection, hints: &[String], json: bool) {
    let d = r.diagnosis();
    if json {
        let out = serde_json::json!({
            "valid": false, "reason": r.code(), "status": r.status(), "detail": d.detail, "header": d.header,
            "skew_secs": d.skew_secs, "signatures_tried": d.signatures_tried, "keys_tried": d.keys_tried,
            "body_len": case.body.len(), "hints": hints,
        });
        println!("{out}");
        return;
    }
    println!("REJECTED: {} ({})", r.code(), r.status());
    println!("  check:      {}", d.detail);
    if let Some(h) = &d.header {
        println!("  header:     {h}");
    }
    if let Some(s) = d.skew_secs {
        println!("  clock skew: signed {} (now {})", skew_text(s), case.now);
    }
    if d.signatures_tried + d.keys_tried > 0 {
        println!(
            "  tried:      {} signature(s) against {} key(s)",
            d.signatures_tried, d.keys_tried
        );
    }
    println!(
        "  body:       {} bytes, sha256 {}",
        case.body.len(),
        &hex::encode(Sha256::digest(case.body))[..16]
    );
    if !hints.is_empty() {
        println!("hints:");
        for h in hints {
            println!("  - {h}");
        }
    }
}

fn hints(case: &Case<'_>, r: &Rejection) -> Vec<String> {
    let mut out = Vec::new();
    // A stale or future timestamp: is the signature itself fine?
    let mut at = Case {
        secrets: case.secrets.clone(),
        url: case.url.clone(),
        ..*case
    };
    if let (Reason::TimestampTooOld | Reason::TimestampInFuture, Some(skew)) =
        (r.reason(), r.diagnosis().skew_secs)
    {
        at.now = case.now - skew;
        if at.passes() {
            out.push(format!(
                "the signature is valid; only the timestamp is outside the window (signed {}). A replayed capture, or a clock out of sync: check NTP on the receiver, or pass --now {} to check the signature alone",
                skew_text(skew),
                at.now
            ));
            return out;
        }
    }
    wrong_provider(&at, &mut out);
    if !matches!(
        r.reason(),
        Reason::SignatureMismatch
            | Reason::InvalidCredentials
            | Reason::TimestampTooOld
            | Reason::TimestampInFuture
    ) {
        return out;
    }
    body_variants(&at, &mut out);
    secret_variants(&at, &mut out);
    url_variants(&at, &mut out);
    if out.is_empty() && r.reason() == Reason::SignatureMismatch {
        if let Some(k) = key_hint(&at) {
            out.push(k);
        }
        out.push("no simple change makes it verify: check that the secret belongs to this endpoint (senders use one secret per endpoint; test and live modes differ) and that the body is the exact bytes received, before any parsing".to_owned());
    }
    out
}

fn key_hint(case: &Case<'_>) -> Option<String> {
    (case.secrets.len() > 1).then(|| format!("none of the {} secrets matches", case.secrets.len()))
}

fn wrong_provider(case: &Case<'_>, out: &mut Vec<String>) {
    for p in providers::NAMES
        .iter()
        .copied()
        .filter(|p| *p != case.provider && *p != "svix")
    {
        let other = Case {
            provider: p,
            secrets: case.secrets.clone(),
            url: case
                .url
                .clone()
                .or_else(|| Some("https://example.invalid/".into())),
            ..*case
        };
        match other.verify() {
            Ok(Ok(_)) => {
                out.push(format!(
                    "this request verifies as a `{p}` delivery: use --provider {p}"
                ));
                return;
            }
            Ok(Err(e)) if e.reason() != Reason::MissingSignature && own_header_missing(case) => {
                out.push(format!(
                    "the headers look like a `{p}` delivery ({}), not `{}`",
                    e.diagnosis()
                        .header
                        .as_deref()
                        .unwrap_or("its signature header"),
                    case.provider
                ));
                return;
            }
            _ => {}
        }
    }
}

fn own_header_missing(case: &Case<'_>) -> bool {
    matches!(case.verify(), Ok(Err(e)) if e.reason() == Reason::MissingSignature)
}

fn body_variants(case: &Case<'_>, out: &mut Vec<String>) {
    let b = case.body;
    let mut tries: Vec<(Vec<u8>, &str)> = Vec::new();
    if let Some(s) = b.strip_suffix(b"\r\n").or_else(|| b.strip_suffix(b"\n")) {
        tries.push((s.to_vec(), "without its trailing newline: your capture added one (an editor, `echo` or a heredoc); save the raw bytes instead"));
    }
    let mut nl = b.to_vec();
    nl.push(b'\n');
    tries.push((
        nl,
        "with a trailing newline: the sender sent one and your capture dropped it",
    ));
    let mut crlf = b.to_vec();
    crlf.extend_from_slice(b"\r\n");
    tries.push((
        crlf,
        "with a trailing CRLF (SendGrid-style bodies end in \\r\\n): your capture dropped it",
    ));
    if b.contains(&b'\r') {
        let lf: Vec<u8> = b.iter().copied().filter(|c| *c != b'\r').collect();
        tries.push((
            lf,
            "with LF line endings: CRLF was introduced on the way (a Windows editor, a proxy)",
        ));
    } else if b.contains(&b'\n') {
        let crlf_all = String::from_utf8_lossy(b)
            .replace('\n', "\r\n")
            .into_bytes();
        tries.push((
            crlf_all,
            "with CRLF line endings: they were converted to LF on the way",
        ));
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(b) {
        if let Ok(c) = serde_json::to_vec(&v) {
            tries.push((c, "compact: the body was re-serialized (pretty-printed) after it was received; verify the raw bytes, never a re-encoded JSON value"));
        }
        if let Ok(mut p) = serde_json::to_vec_pretty(&v) {
            tries.push((p.clone(), "pretty-printed: the body was re-serialized (compacted) after it was received; verify the raw bytes"));
            p.push(b'\n');
            tries.push((p, "pretty-printed with a trailing newline (GitHub's format): the body was re-serialized after it was received; verify the raw bytes"));
        }
    }
    for (variant, why) in tries {
        if variant != b && case.with_body(&variant).passes() {
            out.push(format!("the signature matches the body {why}"));
            return;
        }
    }
    if serde_json::from_slice::<serde_json::Value>(b).is_ok()
        && b.windows(2).any(|w| w == b"\n " || w == b": ")
    {
        out.push("the body is formatted JSON: if it went through a parser or a logger (re-indenting, reordering keys, changing unicode escapes), the bytes differ from what the sender signed".to_owned());
    }
}

fn secret_variants(case: &Case<'_>, out: &mut Vec<String>) {
    use base64::Engine as _;
    let std = base64::engine::general_purpose::STANDARD;
    for (i, s) in case.secrets.iter().enumerate() {
        let mut tries: Vec<(String, &str)> = Vec::new();
        let t = s.trim();
        if t != s {
            tries.push((
                t.to_owned(),
                "trimmed: it carries whitespace or a newline (read from a file?)",
            ));
        }
        if let Some(rest) = t.strip_prefix("whsec_") {
            tries.push((rest.to_owned(), "without its `whsec_` prefix"));
            if let Ok(raw) = std.decode(rest) {
                if let Ok(text) = String::from_utf8(raw) {
                    tries.push((text, "base64-decoded (the sender uses the decoded bytes)"));
                }
            }
        } else {
            tries.push((
                format!("whsec_{t}"),
                "with the `whsec_` prefix (this sender uses the whole string as shown)",
            ));
            tries.push((std.encode(t), "base64-encoded"));
        }
        for (variant, why) in tries {
            let mut secrets = case.secrets.clone();
            secrets[i] = variant;
            let c = Case {
                secrets,
                url: case.url.clone(),
                ..*case
            };
            if c.passes() {
                out.push(format!(
                    "the signature matches when secret #{} is used {why}",
                    i + 1
                ));
                return;
            }
        }
    }
}

fn url_variants(case: &Case<'_>, out: &mut Vec<String>) {
    let Some(url) = case.url.as_deref() else {
        return;
    };
    let mut tries: Vec<String> = Vec::new();
    if let Some(u) = url.strip_suffix('/') {
        tries.push(u.to_owned());
    } else {
        tries.push(format!("{url}/"));
    }
    if let Some(rest) = url.strip_prefix("https://") {
        tries.push(format!("http://{rest}"));
    } else if let Some(rest) = url.strip_prefix("http://") {
        tries.push(format!("https://{rest}"));
    }
    let (origin, target) = input::split_url(url);
    let after = origin.find("://").map_or(0, |i| i + 3);
    let (scheme_part, host) = origin.split_at(after);
    if let Some((h, _port)) = host.rsplit_once(':') {
        tries.push(format!("{scheme_part}{h}{target}"));
    } else {
        let port = if scheme_part.starts_with("https") {
            443
        } else {
            80
        };
        tries.push(format!("{scheme_part}{host}:{port}{target}"));
    }
    for t in tries {
        let c = Case {
            url: Some(t.clone()),
            secrets: case.secrets.clone(),
            ..*case
        };
        if c.passes() {
            out.push(format!("the signature matches with the URL `{t}`: configure the public URL exactly as registered with the sender (scheme, host, port, path, trailing slash)"));
            return;
        }
    }
    out.push("this sender signs the URL: check it is exactly the one registered with the sender (behind a proxy the receiver cannot see it)".to_owned());
}
