//! `hookwise sign`.

use std::process::ExitCode;

use hookwise::scheme::{SignParams, SignedRequest};

use crate::{Format, SignArgs, input};

/// Signs the body file; also says whether the sender changes the body (Mailgun
/// signs inside it), so the file is read once (standard input can only be read once).
pub(crate) fn signed(
    common: &crate::Common,
    secret: &str,
    timestamp: Option<i64>,
    id: Option<&str>,
    event: Option<&str>,
) -> Result<(SignedRequest, bool), String> {
    let body = input::body(&common.body_file)?;
    let scheme = input::scheme(&common.provider, common.url.as_deref())?;
    let params = SignParams {
        timestamp: Some(timestamp.unwrap_or_else(input::now)),
        id,
        url: common.url.as_deref(),
        method: Some("POST"),
        event,
    };
    let signed = scheme
        .sign(secret, &body, &params)
        .map_err(|e| e.to_string())?;
    let changed = signed.body != body;
    Ok((signed, changed))
}

pub(crate) fn run(a: &SignArgs) -> Result<ExitCode, String> {
    let (s, body_changed) = signed(
        &a.common,
        &a.secret,
        a.timestamp,
        a.id.as_deref(),
        a.event.as_deref(),
    )?;
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    match a.format {
        Format::Headers => {
            for (n, v) in s.headers.iter() {
                println!("{n}: {}", text(v));
            }
        }
        Format::Json => {
            let headers: serde_json::Map<String, serde_json::Value> = s
                .headers
                .iter()
                .map(|(n, v)| (n.to_owned(), serde_json::Value::String(text(v))))
                .collect();
            let mut out = serde_json::json!({ "provider": a.common.provider, "headers": headers });
            if body_changed {
                out["body"] = serde_json::Value::String(text(&s.body));
            }
            println!("{out}");
        }
        Format::Curl => {
            let url = a.common.url.as_deref().map_or_else(
                || format!("http://127.0.0.1:3000/webhooks/{}", a.common.provider),
                str::to_owned,
            );
            let mut cmd = format!("curl -i -X POST '{url}' -H 'Content-Type: application/json'");
            for (n, v) in s.headers.iter() {
                if !n.eq_ignore_ascii_case("content-type") {
                    cmd += &format!(" -H '{n}: {}'", text(v).replace('\'', r"'\''"));
                }
            }
            if !body_changed && a.common.body_file.as_os_str() != "-" {
                cmd += &format!(" --data-binary @{}", a.common.body_file.display());
            } else {
                cmd += &format!(" --data-binary '{}'", text(&s.body).replace('\'', r"'\''"));
            }
            println!("{cmd}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
