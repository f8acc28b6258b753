//! The contract shared by `axum-receiver` and `actix-receiver`, so the two
//! examples cannot drift apart. It is a public interface that users script
//! against: keep it stable, extend it only compatibly.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HOOKWISE_ADDR` | listen address | `127.0.0.1:3000` |
//! | `GITHUB_WEBHOOK_SECRET` | enables `POST /webhooks/github` | — |
//! | `STRIPE_WEBHOOK_SECRET` | enables `POST /webhooks/stripe` | — |
//! | `SLACK_SIGNING_SECRET` | enables `POST /webhooks/slack` | — |
//! | `STANDARD_WEBHOOK_SECRET` | enables `POST /webhooks/standard` (`whsec_…`; `webhook-*` and `svix-*` headers) | — |
//! | `SHOPIFY_WEBHOOK_SECRET` | enables `POST /webhooks/shopify` | — |
//! | `HOOKWISE_MAX_BODY` | body limit in bytes | `1048576` |
//! | `HOOKWISE_TOLERANCE_SECS` | timestamp window, both sides | `300` |
//! | `HOOKWISE_BODY_TIMEOUT_MS` | deadline for receiving the body | `10000` |
//! | `HOOKWISE_REDIS_URL` | share the replay store through Redis | memory store |
//! | `HOOKWISE_FAIL_FIRST` | (testing) the handler answers 500 the first time it sees each delivery | off |
//! | `HOOKWISE_HANDLER_DELAY_MS` | (testing) the handler sleeps this long | `0` |
//!
//! With none of the secrets set, every route is enabled with built-in demo
//! secrets, which [`Config::banner`] prints together with a signed `curl`.
//!
//! An accepted delivery answers `200` with
//! `{"provider":…,"delivery_id":…,"event_type":…,"body_sha256":"<hex>"}`;
//! a duplicate of a processed delivery answers `200` with the header
//! `hookwise-duplicate: true` and `{"duplicate":true,…}`; a rejection answers its
//! status with `{"error":"<reason code>"}`.

#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookwise::replay::{MemoryStore, ReplayStore};
use hookwise::scheme::SignParams;
use hookwise::{ConfigError, Delivery, Tolerance, Verifier, providers};
use sha2::{Digest, Sha256};

/// One sender route.
#[derive(Clone, Debug)]
pub struct Sender {
    /// The provider name (`github`, …).
    pub provider: &'static str,
    /// The environment variable holding its secret.
    pub env: &'static str,
    /// The route, e.g. `/webhooks/github`.
    pub route: String,
    /// The secret, as the sender shows it.
    pub secret: String,
}

/// Every route the examples know: provider, environment variable, demo secret.
pub const SENDERS: &[(&str, &str, &str)] = &[
    ("github", "GITHUB_WEBHOOK_SECRET", "demo-github-secret"),
    (
        "stripe",
        "STRIPE_WEBHOOK_SECRET",
        "whsec_demo_stripe_secret",
    ),
    ("slack", "SLACK_SIGNING_SECRET", "demo-slack-signing-secret"),
    (
        "standard",
        "STANDARD_WEBHOOK_SECRET",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ),
    ("shopify", "SHOPIFY_WEBHOOK_SECRET", "demo-shopify-secret"),
];

/// The receivers' configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Body limit.
    pub max_body: usize,
    /// Timestamp window (both sides).
    pub tolerance: Duration,
    /// Body deadline.
    pub body_timeout: Duration,
    /// Redis URL for a shared replay store.
    pub redis_url: Option<String>,
    /// Enabled routes.
    pub senders: Vec<Sender>,
    /// Whether the demo secrets are in use.
    pub demo: bool,
    /// Testing knob: fail the first attempt of each delivery.
    pub fail_first: bool,
    /// Testing knob: handler delay.
    pub handler_delay: Duration,
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// A variable that does not parse.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    ///
    /// # Errors
    /// A variable that does not parse.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        fn num<T: std::str::FromStr>(
            get: &dyn Fn(&str) -> Option<String>,
            k: &str,
            d: T,
        ) -> Result<T, String> {
            get(k).filter(|v| !v.trim().is_empty()).map_or(Ok(d), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{k}: not a number: {v:?}"))
            })
        }
        let addr = get("HOOKWISE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("HOOKWISE_ADDR: not an address: {addr:?}"))?;
        let mut senders: Vec<Sender> = SENDERS
            .iter()
            .filter_map(|(p, env, _)| {
                get(env).filter(|s| !s.is_empty()).map(|s| Sender {
                    provider: p,
                    env,
                    route: format!("/webhooks/{p}"),
                    secret: s,
                })
            })
            .collect();
        let demo = senders.is_empty();
        if demo {
            senders = SENDERS
                .iter()
                .map(|(p, env, s)| Sender {
                    provider: p,
                    env,
                    route: format!("/webhooks/{p}"),
                    secret: (*s).to_owned(),
                })
                .collect();
        }
        let flag = |k: &str| get(k).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        Ok(Self {
            addr,
            max_body: num(&get, "HOOKWISE_MAX_BODY", 1024 * 1024)?,
            tolerance: Duration::from_secs(num(&get, "HOOKWISE_TOLERANCE_SECS", 300)?),
            body_timeout: Duration::from_millis(num(&get, "HOOKWISE_BODY_TIMEOUT_MS", 10_000)?),
            redis_url: get("HOOKWISE_REDIS_URL").filter(|s| !s.trim().is_empty()),
            senders,
            demo,
            fail_first: flag("HOOKWISE_FAIL_FIRST"),
            handler_delay: Duration::from_millis(num(&get, "HOOKWISE_HANDLER_DELAY_MS", 0)?),
        })
    }

    /// The replay store: Redis when `HOOKWISE_REDIS_URL` is set, memory otherwise.
    ///
    /// # Errors
    /// Redis URL invalid or first connection refused.
    pub async fn replay_store(&self) -> Result<Arc<dyn ReplayStore>, String> {
        match &self.redis_url {
            Some(url) => {
                let store = hookwise_redis::RedisStore::builder(url)
                    .connect()
                    .await
                    .map_err(|e| format!("HOOKWISE_REDIS_URL: {e}"))?;
                Ok(Arc::new(store))
            }
            None => Ok(Arc::new(MemoryStore::default())),
        }
    }

    /// The verifier for one route.
    ///
    /// # Errors
    /// A secret the sender would not accept.
    pub fn verifier(
        &self,
        sender: &Sender,
        store: Arc<dyn ReplayStore>,
    ) -> Result<Verifier, ConfigError> {
        Verifier::builder(providers::by_name(sender.provider, None)?)
            .secret(&sender.secret)?
            .tolerance(Tolerance::symmetric(self.tolerance))
            .max_body(self.max_body)
            .body_timeout(self.body_timeout)
            .replay_store_arc(store)
            .build()
    }

    /// What to print at start-up: routes, and with demo secrets a signed `curl`.
    pub fn banner(&self, framework: &str) -> String {
        let mut out = format!(
            "hookwise {framework} receiver listening on http://{}\n",
            self.addr
        );
        for s in &self.senders {
            out += &format!("  POST {:<22} ({})\n", s.route, s.env);
        }
        if self.demo {
            out += "\nNo secrets set: using built-in demo secrets (do not use in production):\n";
            for s in &self.senders {
                out += &format!("  {}={}\n", s.env, s.secret);
            }
            let body = r#"{"zen":"Design for failure.","hook_id":1}"#;
            if let Ok(signed) = providers::github().sign(
                SENDERS[0].2,
                body.as_bytes(),
                &SignParams {
                    event: Some("ping"),
                    id: Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                    ..SignParams::default()
                },
            ) {
                out += "\nTry it (a second run answers as a duplicate):\n  curl -i -X POST";
                out += &format!(
                    " http://{}/webhooks/github -H 'Content-Type: application/json'",
                    self.addr
                );
                for (n, v) in signed.headers.iter() {
                    out += &format!(" -H '{n}: {}'", String::from_utf8_lossy(v));
                }
                out += &format!(" --data-binary '{body}'\n");
            }
        }
        out
    }
}

/// The JSON answer for an accepted delivery.
pub fn answer_json(d: &Delivery, body: &[u8]) -> String {
    serde_json::json!({
        "provider": d.provider(),
        "delivery_id": d.id(),
        "event_type": d.event_type(),
        "body_sha256": hex::encode(Sha256::digest(body)),
    })
    .to_string()
}

/// The JSON answer for a duplicate (handler not run).
pub fn duplicate_json(d: &Delivery) -> String {
    serde_json::json!({"duplicate": true, "provider": d.provider(), "delivery_id": d.id()})
        .to_string()
}

/// The testing knob `HOOKWISE_FAIL_FIRST`: remembers which deliveries already failed once.
#[derive(Debug, Default)]
pub struct FailFirst(Mutex<HashSet<String>>);

impl FailFirst {
    /// True the first time `replay_key` is seen.
    pub fn first_time(&self, replay_key: &str) -> bool {
        self.0
            .lock()
            .map(|mut s| s.insert(replay_key.to_owned()))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_mode_enables_every_route() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert!(c.demo);
        assert_eq!(c.senders.len(), SENDERS.len());
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.max_body, 1 << 20);
        assert!(c.banner("axum").contains("X-Hub-Signature-256: sha256="));
    }

    #[test]
    fn secrets_select_routes_and_numbers_parse() {
        let c = Config::from_lookup(|k| match k {
            "GITHUB_WEBHOOK_SECRET" => Some("s".into()),
            "HOOKWISE_MAX_BODY" => Some("10".into()),
            _ => None,
        })
        .unwrap();
        assert!(!c.demo);
        assert_eq!(c.senders.len(), 1);
        assert_eq!(c.senders[0].route, "/webhooks/github");
        assert_eq!(c.max_body, 10);
        assert!(
            Config::from_lookup(|k| (k == "HOOKWISE_TOLERANCE_SECS").then(|| "x".into())).is_err()
        );
    }
}
