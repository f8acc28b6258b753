//! `hookwise demo`: the `axum-receiver` example started in-process on loopback
//! (demo secrets, in-memory replay store), real deliveries over HTTP, and a table
//! of what each got back.

use std::process::ExitCode;
use std::time::Instant;

use hookwise::providers;
use hookwise::scheme::SignParams;
use receiver_common::{Config, SENDERS};

use crate::{DemoArgs, input};

const MAX_BODY: usize = 64 * 1024;

/// A case: its name, the headers and body to send, the expected (status, reason).
type Case = (
    &'static str,
    hookwise::HeaderList,
    Vec<u8>,
    (u16, &'static str),
);

struct Row {
    sender: &'static str,
    case: &'static str,
    expected: (u16, &'static str),
    status: u16,
    reason: String,
    ms: f64,
}

pub(crate) fn run(a: &DemoArgs) -> Result<ExitCode, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let rows = rt.block_on(drive())?;
    let ok = rows
        .iter()
        .all(|r| (r.status, r.reason.as_str()) == r.expected);
    if a.json {
        for r in &rows {
            let line = serde_json::json!({
                "sender": r.sender, "case": r.case, "status": r.status, "reason": r.reason,
                "expected_status": r.expected.0, "expected_reason": r.expected.1, "latency_ms": r.ms,
                "ok": (r.status, r.reason.as_str()) == r.expected,
            });
            println!("{line}");
        }
    } else {
        println!(
            "sender    case               status  reason                   latency  as expected"
        );
        println!("{}", "-".repeat(80));
        for r in &rows {
            let good = (r.status, r.reason.as_str()) == r.expected;
            println!(
                "{:<9} {:<18} {:>6}  {:<22} {:>6.2} ms  {}",
                r.sender,
                r.case,
                r.status,
                r.reason,
                r.ms,
                if good {
                    "yes".to_owned()
                } else {
                    format!("NO (expected {} {})", r.expected.0, r.expected.1)
                }
            );
        }
        println!("{}", "-".repeat(80));
        let n = rows
            .iter()
            .filter(|r| (r.status, r.reason.as_str()) == r.expected)
            .count();
        println!("{n}/{} cases got the expected answer", rows.len());
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn drive() -> Result<Vec<Row>, String> {
    let max = MAX_BODY.to_string();
    let config = Config::from_lookup(|k| match k {
        "HOOKWISE_ADDR" => Some("127.0.0.1:0".to_owned()),
        "HOOKWISE_MAX_BODY" => Some(max.clone()),
        _ => None,
    })?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding 127.0.0.1:0: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(axum_receiver::serve(listener, config));
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| e.to_string())?;
    let now = input::now();
    let mut rows = Vec::new();
    for &(sender, _, secret) in SENDERS {
        let scheme = providers::by_name(sender, None).map_err(|e| e.to_string())?;
        let url = format!("http://{addr}/webhooks/{sender}");
        let body = format!(
            r#"{{"id":"evt_demo_{sender}_{now}","type":"demo.event","event_id":"Ev{now}","data":{{"n":1}}}}"#
        );
        let sign = |body: &[u8], ts: i64| {
            scheme.sign(
                secret,
                body,
                &SignParams {
                    timestamp: Some(ts),
                    id: Some("msg_demo_1"),
                    event: Some("push"),
                    ..SignParams::default()
                },
            )
        };
        let valid = sign(body.as_bytes(), now).map_err(|e| e.to_string())?;
        let mut cases: Vec<Case> = vec![
            (
                "valid",
                valid.headers.clone(),
                body.clone().into_bytes(),
                (200, "-"),
            ),
            (
                "replayed",
                valid.headers.clone(),
                body.clone().into_bytes(),
                (200, "duplicate"),
            ),
            (
                "tampered body",
                valid.headers.clone(),
                body.replace("\"n\":1", "\"n\":2").into_bytes(),
                (401, "signature_mismatch"),
            ),
            (
                "no signature",
                hookwise::HeaderList::new(),
                body.clone().into_bytes(),
                (401, "missing_signature"),
            ),
        ];
        if scheme.is_timestamped() {
            let stale = sign(body.as_bytes(), now - 3600).map_err(|e| e.to_string())?;
            cases.push((
                "stale (1 h old)",
                stale.headers,
                body.clone().into_bytes(),
                (401, "timestamp_too_old"),
            ));
        }
        let big = vec![b' '; MAX_BODY + 1];
        let oversized = sign(&big, now).map_err(|e| e.to_string())?;
        cases.push(("oversized", oversized.headers, big, (413, "body_too_large")));
        for (case, headers, body, expected) in cases {
            let mut req = client.post(&url).header("Content-Type", "application/json");
            for (n, v) in headers.iter() {
                req = req.header(n, v);
            }
            let started = Instant::now();
            let resp = req
                .body(body)
                .send()
                .await
                .map_err(|e| format!("{sender} {case}: {e}"))?;
            let status = resp.status().as_u16();
            let duplicate = resp.headers().contains_key("hookwise-duplicate");
            let text = resp.text().await.unwrap_or_default();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let reason = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| {
                    if duplicate {
                        "duplicate".into()
                    } else {
                        "-".into()
                    }
                });
            rows.push(Row {
                sender,
                case,
                expected,
                status,
                reason,
                ms,
            });
        }
    }
    Ok(rows)
}
