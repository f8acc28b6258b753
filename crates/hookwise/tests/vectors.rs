//! Conformance: every vector in `tests/vectors/*.json` (published by the senders,
//! or synthetic where none is published; see `tests/vectors/README.md`) is one
//! test. For each valid vector, tampered variants must fail too.

use std::path::Path;

use hookwise::{FixedClock, HeaderList, Key, Keyring, Reason, RequestParts, Verifier, providers};
use serde_json::Value;

struct Vector {
    provider: String,
    secrets: Vec<String>,
    url: Option<String>,
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: i64,
    expect: String,
}

fn load(file: &str) -> Vector {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let body = match (v.get("body"), v.get("body_base64")) {
        (Some(Value::String(s)), _) => s.as_bytes().to_vec(),
        (_, Some(Value::String(b))) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(b).unwrap()
        }
        _ => panic!("{file}: no body"),
    };
    Vector {
        provider: v["provider"].as_str().unwrap().to_owned(),
        secrets: v
            .get("secrets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(v.get("public_key"))
            .map(|s| s.as_str().unwrap().to_owned())
            .collect(),
        url: v.get("url").and_then(Value::as_str).map(str::to_owned),
        method: v
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("POST")
            .to_owned(),
        headers: v["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
        body,
        now: v["now"].as_i64().unwrap(),
        expect: v["expect"].as_str().unwrap().to_owned(),
    }
}

/// Splits `https://host/path?q` into the origin HubSpot is configured with and the request target.
fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, "/"),
    }
}

impl Vector {
    fn verifier(&self, now: i64) -> Verifier {
        let url = self.url.as_deref().map(|u| {
            if self.provider == "hubspot" {
                split_url(u).0
            } else {
                u
            }
        });
        let mut ring = Keyring::new();
        for s in &self.secrets {
            ring = ring.key(Key::new(s).unwrap());
        }
        Verifier::builder(providers::by_name(&self.provider, url).unwrap())
            .keyring(ring)
            .clock(FixedClock::new(now))
            .without_replay_store()
            .build()
            .unwrap()
    }

    fn run(
        &self,
        headers: &[(String, String)],
        body: &[u8],
        now: i64,
    ) -> Result<hookwise::Delivery, hookwise::Rejection> {
        let list: HeaderList = headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
            .collect();
        let target = self.url.as_deref().map_or("/", |u| split_url(u).1);
        let req = RequestParts::new(&list).method(&self.method).uri(target);
        self.verifier(now).verify(&req, body)
    }

    fn outcome(r: &Result<hookwise::Delivery, hookwise::Rejection>) -> &'static str {
        match r {
            Ok(_) => "valid",
            Err(e) => e.code(),
        }
    }

    /// The header carrying the signature, for tampering.
    fn signature_header(&self) -> Option<usize> {
        const NAMES: &[&str] = &[
            "x-gitea-signature",
            "x-gogs-signature",
            "x-hub-signature-256",
            "x-hub-signature",
            "stripe-signature",
            "x-slack-signature",
            "webhook-signature",
            "svix-signature",
            "x-shopify-hmac-sha256",
            "twitch-eventsub-message-signature",
            "x-zm-signature",
            "linear-signature",
            "paddle-signature",
            "x-pagerduty-signature",
            "x-square-hmacsha256-signature",
            "x-hubspot-signature-v3",
            "x-signature-ed25519",
            "x-twilio-email-event-webhook-signature",
            "x-twilio-signature",
            "x-gitlab-token",
        ];
        NAMES.iter().find_map(|want| {
            self.headers
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(want))
        })
    }

    fn check(&self, file: &str) {
        let got = self.run(&self.headers, &self.body, self.now);
        assert_eq!(Self::outcome(&got), self.expect, "{file}: {got:?}");
        if self.expect != "valid" {
            return;
        }
        let d = got.unwrap();
        assert_eq!(
            d.provider(),
            match self.provider.as_str() {
                "github-sha1" => "github",
                "gitlab-signing" => "gitlab",
                p => p,
            },
            "{file}"
        );
        // The body is authenticated by every scheme except GitLab's token and Mailgun.
        let body_signed = !matches!(self.provider.as_str(), "gitlab" | "mailgun");
        if body_signed && !self.body.is_empty() {
            for pos in [0, self.body.len() / 2, self.body.len() - 1] {
                let mut b = self.body.clone();
                b[pos] ^= 0x01;
                let r = self.run(&self.headers, &b, self.now);
                assert!(r.is_err(), "{file}: body byte {pos} flipped still verifies");
            }
            let mut longer = self.body.clone();
            longer.push(b'\n');
            assert!(
                self.run(&self.headers, &longer, self.now).is_err(),
                "{file}: trailing newline added still verifies"
            );
        }
        if let Some(i) = self.signature_header() {
            let mut h = self.headers.clone();
            let v = &mut h[i].1;
            // Flip the last hex/base64 character before any padding.
            let bytes = unsafe_free_flip(v);
            *v = bytes;
            let r = self.run(&h, &self.body, self.now);
            assert!(
                r.is_err(),
                "{file}: tampered signature header still verifies"
            );
            // Wrong key.
            let mut wrong = Self {
                secrets: vec!["a-completely-different-secret".into()],
                ..self.clone_shallow()
            };
            let scheme = providers::by_name(&self.provider, Some("https://example.com/")).unwrap();
            if self.secrets.iter().any(|s| s.starts_with("whpk_")) {
                let other = format!("whsk_{}=", "A".repeat(43));
                wrong.secrets = vec![scheme.public_key_for(&other).unwrap()];
            } else if matches!(self.provider.as_str(), "discord" | "sendgrid") {
                wrong.secrets = vec![scheme.public_key_for(&"11".repeat(32)).unwrap()];
            } else if self.provider.contains("standard") || self.provider == "gitlab-signing" {
                wrong.secrets = vec!["whsec_YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh".into()];
            }
            let r = wrong.run(&self.headers, &self.body, self.now);
            assert!(
                matches!(
                    r.as_ref().map_err(hookwise::Rejection::reason),
                    Err(Reason::SignatureMismatch | Reason::InvalidCredentials)
                ),
                "{file}: wrong key: {r:?}"
            );
        }
        if let Some(ts) = d.timestamp() {
            let tol = self.verifier(self.now).tolerance();
            let past = i64::try_from(tol.past().as_secs()).unwrap();
            let r = self.run(&self.headers, &self.body, ts + past + 1);
            assert_eq!(Self::outcome(&r), "timestamp_too_old", "{file}");
            if let Some(fut) = tol.future() {
                let r = self.run(
                    &self.headers,
                    &self.body,
                    ts - i64::try_from(fut.as_secs()).unwrap() - 1,
                );
                assert_eq!(Self::outcome(&r), "timestamp_in_future", "{file}");
            }
        }
    }

    fn clone_shallow(&self) -> Self {
        Self {
            provider: self.provider.clone(),
            secrets: self.secrets.clone(),
            url: self.url.clone(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
            now: self.now,
            expect: self.expect.clone(),
        }
    }
}

/// Changes the last character of every long alphanumeric run (every signature in
/// the header; timestamps and version tags are shorter than 16 characters).
fn unsafe_free_flip(v: &str) -> String {
    let mut chars: Vec<char> = v.chars().collect();
    let mut run = 0;
    for i in 0..=chars.len() {
        let sig_char = i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '+' || chars[i] == '/');
        if sig_char {
            run += 1;
            continue;
        }
        if run >= 16 {
            let j = (i - run..i)
                .rev()
                .find(|&j| chars[j].is_ascii_alphanumeric())
                .unwrap();
            chars[j] = match chars[j] {
                '0' => '1',
                'a' => 'b',
                'A' => 'B',
                _ => '0',
            };
        }
        run = 0;
    }
    chars.into_iter().collect()
}

macro_rules! vector {
    ($name:ident, $file:literal) => {
        #[test]
        fn $name() {
            load($file).check($file);
        }
    };
}

#[test]
fn every_vector_file_has_a_test() {
    let listed = include_str!("vectors.rs");
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")).unwrap()
    {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(
                listed.contains(&format!("\"{name}\"")),
                "{name} has no vector! line"
            );
        }
    }
}

vector!(bitbucket_repo_push, "bitbucket-repo-push.json");
vector!(
    discord_synthetic_ping_tampered,
    "discord-synthetic-ping-tampered.json"
);
vector!(discord_synthetic_ping, "discord-synthetic-ping.json");
vector!(gitea_push, "gitea-push.json");
vector!(github_docs_hello_world, "github-docs-hello-world.json");
vector!(github_octokit_compact, "github-octokit-compact.json");
vector!(
    github_octokit_escaped_backslash,
    "github-octokit-escaped-backslash.json"
);
vector!(github_octokit_pretty, "github-octokit-pretty.json");
vector!(
    github_octokit_reserialized_body,
    "github-octokit-reserialized-body.json"
);
vector!(
    github_octokit_utf8_escapes,
    "github-octokit-utf8-escapes.json"
);
vector!(
    github_octokit_wrong_secret,
    "github-octokit-wrong-secret.json"
);
vector!(
    github_sha1_octokit_compact,
    "github-sha1-octokit-compact.json"
);
vector!(
    github_sha1_octokit_escaped_backslash,
    "github-sha1-octokit-escaped-backslash.json"
);
vector!(
    github_sha1_octokit_utf8_escapes,
    "github-sha1-octokit-utf8-escapes.json"
);
vector!(
    github_sha1_octokit_wrong_secret,
    "github-sha1-octokit-wrong-secret.json"
);
vector!(gitlab_signing_push, "gitlab-signing-push.json");
vector!(gitlab_token_push, "gitlab-token-push.json");
vector!(
    gitlab_token_tampered_body,
    "gitlab-token-tampered-body.json"
);
vector!(gitlab_token_wrong_token, "gitlab-token-wrong-token.json");
vector!(gogs_push, "gogs-push.json");
vector!(hubspot_python_v3_expired, "hubspot-python-v3-expired.json");
vector!(
    hubspot_python_v3_wrong_url,
    "hubspot-python-v3-wrong-url.json"
);
vector!(hubspot_python_v3, "hubspot-python-v3.json");
vector!(
    intercom_conversation_user_created,
    "intercom-conversation-user-created.json"
);
vector!(jira_issue_created, "jira-issue-created.json");
vector!(linear_issue_create, "linear-issue-create.json");
vector!(mailgun_php_bad_token, "mailgun-php-bad-token.json");
vector!(mailgun_php_good, "mailgun-php-good.json");
vector!(
    meta_synthetic_escaped_unicode,
    "meta-synthetic-escaped-unicode.json"
);
vector!(paddle_go_invalid_payload, "paddle-go-invalid-payload.json");
vector!(paddle_go_invalid_secret, "paddle-go-invalid-secret.json");
vector!(paddle_go_price_created, "paddle-go-price-created.json");
vector!(
    paddle_node_extra_whitespace,
    "paddle-node-extra-whitespace.json"
);
vector!(
    paddle_node_invalid_secret,
    "paddle-node-invalid-secret.json"
);
vector!(
    paddle_node_invalid_timestamp,
    "paddle-node-invalid-timestamp.json"
);
vector!(
    paddle_node_multiple_hashes,
    "paddle-node-multiple-hashes.json"
);
vector!(paddle_node_valid, "paddle-node-valid.json");
vector!(paddle_node_within_5s, "paddle-node-within-5s.json");
vector!(
    paddle_python_secret_rotation,
    "paddle-python-secret-rotation.json"
);
vector!(
    paddle_python_special_chars,
    "paddle-python-special-chars.json"
);
vector!(
    paddle_python_standard_payload,
    "paddle-python-standard-payload.json"
);
vector!(pagerduty_go_mismatch, "pagerduty-go-mismatch.json");
vector!(pagerduty_go_rotation, "pagerduty-go-rotation.json");
vector!(pagerduty_go_valid, "pagerduty-go-valid.json");
vector!(sendgrid_python_bad_key, "sendgrid-python-bad-key.json");
vector!(
    sendgrid_python_bad_signature,
    "sendgrid-python-bad-signature.json"
);
vector!(
    sendgrid_python_no_trailing_crlf,
    "sendgrid-python-no-trailing-crlf.json"
);
vector!(sendgrid_python_valid, "sendgrid-python-valid.json");
vector!(
    shopify_api_js_tampered_body,
    "shopify-api-js-tampered-body.json"
);
vector!(shopify_api_js_validate, "shopify-api-js-validate.json");
vector!(slack_docs_slash_command, "slack-docs-slash-command.json");
vector!(slack_tampered_body, "slack-tampered-body.json");
vector!(slack_timestamp_in_future, "slack-timestamp-in-future.json");
vector!(slack_timestamp_too_old, "slack-timestamp-too-old.json");
vector!(square_docs_sample, "square-docs-sample.json");
vector!(
    square_python_sdk_unescaped_angle_brackets,
    "square-python-sdk-unescaped-angle-brackets.json"
);
vector!(
    square_python_sdk_url_mismatch,
    "square-python-sdk-url-mismatch.json"
);
vector!(
    square_python_sdk_wrong_key,
    "square-python-sdk-wrong-key.json"
);
vector!(square_python_sdk, "square-python-sdk.json");
vector!(
    standard_invalid_signature,
    "standard-invalid-signature.json"
);
vector!(standard_multi_signature, "standard-multi-signature.json");
vector!(standard_svix_headers, "standard-svix-headers.json");
vector!(
    standard_timestamp_in_future,
    "standard-timestamp-in-future.json"
);
vector!(
    standard_timestamp_too_old,
    "standard-timestamp-too-old.json"
);
vector!(
    standard_v1a_ed25519_svix_headers,
    "standard-v1a-ed25519-svix-headers.json"
);
vector!(
    standard_v1a_ed25519_tampered_body,
    "standard-v1a-ed25519-tampered-body.json"
);
vector!(standard_v1a_ed25519, "standard-v1a-ed25519.json");
vector!(standard_webhook_headers, "standard-webhook-headers.json");
vector!(stripe_dotnet_event, "stripe-dotnet-event.json");
vector!(
    stripe_dotnet_extra_bad_v1,
    "stripe-dotnet-extra-bad-v1.json"
);
vector!(
    stripe_dotnet_no_trailing_newline,
    "stripe-dotnet-no-trailing-newline.json"
);
vector!(
    stripe_dotnet_tampered_body,
    "stripe-dotnet-tampered-body.json"
);
vector!(
    stripe_dotnet_timestamp_too_old,
    "stripe-dotnet-timestamp-too-old.json"
);
vector!(
    stripe_dotnet_wrong_secret,
    "stripe-dotnet-wrong-secret.json"
);
vector!(twilio_docs_example, "twilio-docs-example.json");
vector!(twilio_node_array_param, "twilio-node-array-param.json");
vector!(
    twilio_node_duplicate_values,
    "twilio-node-duplicate-values.json"
);
vector!(
    twilio_node_json_empty_object,
    "twilio-node-json-empty-object.json"
);
vector!(
    twilio_node_json_only_body_sha256,
    "twilio-node-json-only-body-sha256.json"
);
vector!(
    twilio_node_url_credentials_add_443,
    "twilio-node-url-credentials-add-443.json"
);
vector!(
    twilio_node_url_credentials,
    "twilio-node-url-credentials.json"
);
vector!(
    twilio_node_url_special_chars,
    "twilio-node-url-special-chars.json"
);
vector!(twilio_node_url_username, "twilio-node-url-username.json");
vector!(
    twilio_python_compute_signature,
    "twilio-python-compute-signature.json"
);
vector!(
    twilio_python_duplicate_keys,
    "twilio-python-duplicate-keys.json"
);
vector!(twilio_python_http_add_80, "twilio-python-http-add-80.json");
vector!(
    twilio_python_http_with_port,
    "twilio-python-http-with-port.json"
);
vector!(
    twilio_python_https_add_443,
    "twilio-python-https-add-443.json"
);
vector!(
    twilio_python_https_remove_port,
    "twilio-python-https-remove-port.json"
);
vector!(
    twilio_python_json_body_sha256,
    "twilio-python-json-body-sha256.json"
);
vector!(
    twilio_python_tampered_param,
    "twilio-python-tampered-param.json"
);
vector!(
    twitch_eventsub_channel_follow,
    "twitch-eventsub-channel-follow.json"
);
vector!(zoom_meeting_started, "zoom-meeting-started.json");
