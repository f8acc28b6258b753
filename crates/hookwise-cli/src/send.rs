//! `hookwise send`.

use std::process::ExitCode;
use std::time::Instant;

use crate::{SendArgs, sign};

pub(crate) fn run(a: &SendArgs) -> Result<ExitCode, String> {
    let url = a
        .common
        .url
        .clone()
        .ok_or("--url is required: where to send the delivery")?;
    let (signed, _) = sign::signed(
        &a.common,
        &a.secret,
        a.timestamp,
        a.id.as_deref(),
        a.event.as_deref(),
    )?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = client.post(&url);
        let mut has_ct = false;
        for (n, v) in signed.headers.iter() {
            has_ct |= n.eq_ignore_ascii_case("content-type");
            req = req.header(n, v);
        }
        if !has_ct {
            req = req.header("Content-Type", "application/json");
        }
        let started = Instant::now();
        let resp = req
            .body(signed.body)
            .send()
            .await
            .map_err(|e| format!("sending to {url}: {e}"))?;
        let status = resp.status();
        let duplicate = resp.headers().contains_key("hookwise-duplicate");
        let text = resp.text().await.unwrap_or_default();
        let elapsed = started.elapsed();
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
        println!("status:  {}", status.as_u16());
        println!("reason:  {reason}");
        println!("latency: {:.1} ms", elapsed.as_secs_f64() * 1000.0);
        if !text.is_empty() {
            println!("body:    {}", text.chars().take(500).collect::<String>());
        }
        Ok(if status.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}
