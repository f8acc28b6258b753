//! The real `hookwise` binary, every subcommand.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn hookwise() -> Command {
    Command::cargo_bin("hookwise").unwrap()
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hookwise-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

struct Captured {
    file: String,
    provider: String,
    secrets: Vec<String>,
    public_key: Option<String>,
    url: Option<String>,
    headers: Vec<String>,
    body: Vec<u8>,
    now: i64,
}

/// Every valid captured request among the conformance vectors.
fn captured() -> Vec<Captured> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hookwise/tests/vectors");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if v["expect"] != "valid" || v.get("body").is_none() {
            continue;
        }
        out.push(Captured {
            file: path.file_name().unwrap().to_string_lossy().into_owned(),
            provider: v["provider"].as_str().unwrap().to_owned(),
            secrets: v
                .get("secrets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect(),
            public_key: v
                .get("public_key")
                .and_then(Value::as_str)
                .map(str::to_owned),
            url: v.get("url").and_then(Value::as_str).map(str::to_owned),
            headers: v["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| format!("{}: {}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
                .collect(),
            body: v["body"].as_str().unwrap().as_bytes().to_vec(),
            now: v["now"].as_i64().unwrap(),
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

impl Captured {
    fn verify(&self, body: &[u8]) -> Command {
        let mut c = hookwise();
        c.arg("verify")
            .arg("--provider")
            .arg(&self.provider)
            .arg("--body-file")
            .arg(tmp(&self.file, body))
            .arg("--now")
            .arg(self.now.to_string());
        for s in &self.secrets {
            c.arg("--secret").arg(s);
        }
        if let Some(k) = &self.public_key {
            c.arg("--public-key").arg(k);
        }
        if let Some(u) = &self.url {
            c.arg("--url").arg(u);
        }
        // Headers through a file, as copied from a request log.
        let headers = tmp(
            &format!("{}.headers", self.file),
            self.headers.join("\n").as_bytes(),
        );
        c.arg("--headers-file").arg(headers);
        c
    }
}

#[test]
fn verify_accepts_every_captured_request_and_explains_a_mutated_one() {
    let all = captured();
    let providers: std::collections::HashSet<&str> =
        all.iter().map(|c| c.provider.as_str()).collect();
    assert!(providers.len() >= 20, "{providers:?}");
    for c in &all {
        c.verify(&c.body)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("VALID"));
        if matches!(c.provider.as_str(), "gitlab" | "mailgun") {
            continue; // these senders do not sign the body
        }
        let mut changed = c.body.clone();
        changed.push(b'\n');
        c.verify(&changed)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(
                "REJECTED: signature_mismatch (401)",
            ))
            .stdout(predicate::str::contains("without its trailing newline"));
    }
}

#[test]
fn verify_never_prints_the_expected_signature() {
    let body = b"{\"a\":1}";
    let good = hookwise()
        .args(["sign", "-p", "github", "-s", "s3cret", "--body-file"])
        .arg(tmp("ns.json", body))
        .output()
        .unwrap();
    let good = String::from_utf8(good.stdout).unwrap();
    let sig = good
        .lines()
        .find(|l| l.starts_with("X-Hub-Signature-256"))
        .unwrap()
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let out = hookwise()
        .args(["verify", "-p", "github", "-s", "s3cret", "-H", "X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000", "--json", "--body-file"])
        .arg(tmp("ns2.json", body))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    assert!(!text.contains(&sig), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["reason"], "signature_mismatch");
    assert_eq!(v["signatures_tried"], 1);
}

#[test]
fn verify_explains_stale_timestamps_secret_prefix_and_wrong_provider() {
    let body = tmp("st.json", br#"{"id":"evt_1","type":"x"}"#);
    let sign = |secret: &str| {
        let o = hookwise()
            .args([
                "sign",
                "-p",
                "stripe",
                "-s",
                secret,
                "--timestamp",
                "1700000000",
                "--body-file",
            ])
            .arg(&body)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    let header = sign("whsec_abc");
    // Stale: the signature is fine, only the clock is off.
    hookwise()
        .args([
            "verify",
            "-p",
            "stripe",
            "-s",
            "whsec_abc",
            "--now",
            "1700000400",
            "-H",
            &header,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timestamp_too_old"))
        .stdout(predicate::str::contains("400 s ago"))
        .stdout(predicate::str::contains(
            "the signature is valid; only the timestamp",
        ));
    // The `whsec_` prefix dropped by the user.
    hookwise()
        .args([
            "verify",
            "-p",
            "stripe",
            "-s",
            "abc",
            "--now",
            "1700000000",
            "-H",
            &header,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("with the `whsec_` prefix"));
    // Wrong provider.
    hookwise()
        .args([
            "verify",
            "-p",
            "github",
            "-s",
            "whsec_abc",
            "--now",
            "1700000000",
            "-H",
            &header,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("missing_signature"))
        .stdout(predicate::str::contains("use --provider stripe"));
}

#[test]
fn verify_explains_a_url_mismatch_for_url_signed_senders() {
    let body = tmp("sq.json", br#"{"event_id":"e1","type":"payment.created"}"#);
    let o = hookwise()
        .args([
            "sign",
            "-p",
            "square",
            "-s",
            "sqkey",
            "--url",
            "https://example.com/hooks/square",
            "--body-file",
        ])
        .arg(&body)
        .output()
        .unwrap();
    let header = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    hookwise()
        .args([
            "verify",
            "-p",
            "square",
            "-s",
            "sqkey",
            "--url",
            "https://example.com/hooks/square/",
            "-H",
            &header,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "matches with the URL `https://example.com/hooks/square`",
        ));
}

#[test]
fn sign_formats() {
    let body = tmp("sf.json", br#"{"type":"a"}"#);
    hookwise()
        .args([
            "sign",
            "-p",
            "standard",
            "-s",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "--timestamp",
            "1614265330",
            "--id",
            "msg_1",
            "--format",
            "json",
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""Webhook-Id":"msg_1""#))
        .stdout(predicate::str::contains(
            r#""Webhook-Timestamp":"1614265330""#,
        ));
    hookwise()
        .args([
            "sign",
            "-p",
            "slack",
            "-s",
            "x",
            "--format",
            "curl",
            "--url",
            "http://127.0.0.1:9/webhooks/slack",
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "curl -i -X POST 'http://127.0.0.1:9/webhooks/slack'",
        ))
        .stdout(predicate::str::contains("-H 'X-Slack-Signature: v0="));
}

#[test]
fn usage_errors_exit_2() {
    hookwise()
        .args(["verify", "-p", "github", "--body-file", "/nonexistent"])
        .assert()
        .code(2);
    hookwise()
        .args(["verify", "-p", "nope", "-s", "x", "--body-file"])
        .arg(tmp("u.json", b"{}"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown provider"));
    hookwise()
        .args(["sign", "-p", "github", "-s", "", "--body-file"])
        .arg(tmp("u2.json", b"{}"))
        .assert()
        .code(2);
    hookwise()
        .args([
            "verify",
            "-p",
            "github",
            "-s",
            "x",
            "-H",
            "no colon",
            "--body-file",
        ])
        .arg(tmp("u3.json", b"{}"))
        .assert()
        .code(2);
}

#[test]
fn providers_lists_every_name() {
    let out = hookwise().arg("providers").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for p in hookwise::providers::NAMES {
        assert!(text.lines().any(|l| l == *p), "{p}");
    }
}

#[test]
fn demo_runs_every_case_and_exits_0() {
    let out = hookwise().args(["demo", "--json"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let senders: std::collections::HashSet<&str> =
        rows.iter().map(|r| r["sender"].as_str().unwrap()).collect();
    assert!(senders.len() >= 5, "{senders:?}");
    for case in [
        "valid",
        "replayed",
        "tampered body",
        "stale (1 h old)",
        "oversized",
    ] {
        assert!(rows.iter().any(|r| r["case"] == case), "{case}");
    }
    assert!(rows.iter().all(|r| r["ok"] == true));
    assert!(
        rows.iter()
            .any(|r| r["case"] == "replayed" && r["reason"] == "duplicate")
    );
}

#[test]
fn send_delivers_to_a_running_receiver_and_reports_the_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let config = receiver_common::Config::from_lookup(|k| {
        (k == "GITHUB_WEBHOOK_SECRET").then(|| "send-test-secret".to_owned())
    })
    .unwrap();
    rt.spawn(axum_receiver::serve(listener, config));
    let url = format!("http://{addr}/webhooks/github");
    let body = tmp("send.json", br#"{"zen":"Keep it logically awesome."}"#);
    hookwise()
        .args([
            "send",
            "-p",
            "github",
            "-s",
            "send-test-secret",
            "--event",
            "ping",
            "--url",
            &url,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("status:  200"))
        .stdout(predicate::str::contains("latency: "))
        .stdout(predicate::str::contains(r#""event_type":"ping""#));
    // The same delivery again: a duplicate, the handler is not run.
    hookwise()
        .args([
            "send",
            "-p",
            "github",
            "-s",
            "send-test-secret",
            "--url",
            &url,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("reason:  duplicate"));
    // The wrong secret: rejected, exit 1, reason code shown.
    hookwise()
        .args([
            "send",
            "-p",
            "github",
            "-s",
            "wrong",
            "--url",
            &url,
            "--body-file",
        ])
        .arg(&body)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("status:  401"))
        .stdout(predicate::str::contains("reason:  signature_mismatch"));
}

#[test]
fn the_secret_can_come_from_the_environment_and_is_not_shown() {
    // Kept off the command line (and so out of `ps`): HOOKWISE_SECRET.
    let body = tmp("env.json", br#"{"zen":"x"}"#);
    let sign = |with_flag: bool| {
        let mut c = hookwise();
        c.args(["sign", "-p", "github", "--format", "json", "--body-file"])
            .arg(&body);
        if with_flag {
            c.args(["-s", "env-s3cret"]).env_remove("HOOKWISE_SECRET");
        } else {
            c.env("HOOKWISE_SECRET", "env-s3cret");
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(sign(false), sign(true));
    let help = hookwise()
        .args(["sign", "--help"])
        .env("HOOKWISE_SECRET", "env-s3cret")
        .output()
        .unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("HOOKWISE_SECRET"), "{text}");
    assert!(!text.contains("env-s3cret"), "{text}");
    // Without either, a usage error (2).
    hookwise()
        .args(["sign", "-p", "github", "--body-file"])
        .arg(&body)
        .env_remove("HOOKWISE_SECRET")
        .assert()
        .code(2);
}

#[test]
fn verify_takes_the_environment_secret_only_without_other_keys() {
    let body = tmp("envv.json", br#"{"zen":"y"}"#);
    let signed = hookwise()
        .args(["sign", "-p", "github", "-s", "env-s3cret", "--body-file"])
        .arg(&body)
        .output()
        .unwrap();
    let headers = tmp("envv.headers", &signed.stdout);
    let verify = |env: Option<&str>, extra: &[&str]| {
        let mut c = hookwise();
        c.args(["verify", "-p", "github", "--body-file"])
            .arg(&body)
            .arg("--headers-file")
            .arg(&headers)
            .args(extra);
        match env {
            Some(v) => c.env("HOOKWISE_SECRET", v),
            None => c.env_remove("HOOKWISE_SECRET"),
        };
        c.output().unwrap().status.code()
    };
    assert_eq!(verify(Some("env-s3cret"), &[]), Some(0));
    assert_eq!(verify(Some("wrong"), &[]), Some(1));
    // A given --secret wins over the environment.
    assert_eq!(verify(Some("wrong"), &["-s", "env-s3cret"]), Some(0));
    // No key at all: a usage error.
    assert_eq!(verify(None, &[]), Some(2));
}
