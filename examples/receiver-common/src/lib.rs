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
//! | `STANDARD_WEBHOOK_PUBLIC_KEY` | enables `POST /webhooks/standard` too, and accepts Ed25519 `v1a` signatures there (`whpk_…`; with the secret, mixed `v1`/`v1a` lists) | — |
//! | `DISCORD_PUBLIC_KEY` | enables `POST /webhooks/discord` (the application's Ed25519 public key, hex) | — |
//! | `TWILIO_AUTH_TOKEN` and `TWILIO_WEBHOOK_URL` | enable `POST /webhooks/twilio`; the URL is the public one configured in the Twilio console, which Twilio signs (behind proxies the receiver cannot rebuild it). Both or neither | — |
//! | `SENDGRID_PUBLIC_KEY` | enables `POST /webhooks/sendgrid` (the signed Event Webhook's verification key, base64 DER `MFkw…`) | — |
//! | `HOOKWISE_ALLOW_IPS` | comma-separated CIDR ranges or addresses: every route also requires the client address to be in one (403 `forbidden_address`) | off |
//! | `HOOKWISE_TRUSTED_PROXIES` | comma-separated proxies whose forwarding header is believed (with `HOOKWISE_ALLOW_IPS`) | none |
//! | `HOOKWISE_FORWARDING_HEADER` | the header those proxies write: `x-forwarded-for` or `forwarded` (RFC 7239); the other is never read | `x-forwarded-for` |
//! | `HOOKWISE_MAX_BODY` | body limit in bytes | `1048576` |
//! | `HOOKWISE_TOLERANCE_SECS` | timestamp window, both sides | `300` |
//! | `HOOKWISE_BODY_TIMEOUT_MS` | deadline for receiving the body | `10000` |
//! | `HOOKWISE_REDIS_URL` | share the replay store through Redis | memory store |
//! | `HOOKWISE_FAIL_FIRST` | (testing) the handler answers 500 the first time it sees each delivery | off |
//! | `HOOKWISE_HANDLER_DELAY_MS` | (testing) the handler sleeps this long | `0` |
//!
//! With none of the secrets or keys set, every route is enabled with built-in
//! demo secrets, which [`Config::banner`] prints together with a signed `curl`.
//! The public-key routes (Discord, SendGrid, Standard Webhooks `v1a`) get the
//! public keys of fixed demo private keys ([`DEMO_DISCORD_PRIVATE_KEY`], …),
//! and the Twilio route signs `http://<HOOKWISE_ADDR>/webhooks/twilio`.
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

/// The body of the `HOOKWISE_FAIL_FIRST` 500, the same in both examples.
pub const FAIL_FIRST_BODY: &str = r#"{"error":"fail_first"}"#;
use hookwise::scheme::SignParams;
use hookwise::{
    Check, ConfigError, Delivery, ForwardingHeader, IpAllowList, Scheme, Tolerance, Verifier,
    providers,
};
use sha2::{Digest, Sha256};

/// One sender route. Its `Debug` output does not show the keys.
#[derive(Clone)]
pub struct Sender {
    /// The provider name (`github`, …).
    pub provider: &'static str,
    /// The environment variable holding its secret.
    pub env: &'static str,
    /// The route, e.g. `/webhooks/github`.
    pub route: String,
    /// The secret, as the sender shows it (for the public-key senders, the
    /// public key).
    pub secret: String,
    /// More keys of the same route, with their variable: the Standard
    /// Webhooks `whpk_…` public key next to the `whsec_…` secret.
    pub extra_keys: Vec<(&'static str, String)>,
    /// The public URL the sender signs (Twilio); `None` in demo mode, where
    /// it is `http://<addr><route>`.
    pub url: Option<String>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra: Vec<&str> = self.extra_keys.iter().map(|(env, _)| *env).collect();
        f.debug_struct("Sender")
            .field("provider", &self.provider)
            .field("env", &self.env)
            .field("route", &self.route)
            .field("secret", &"<redacted>")
            .field("extra_keys", &extra)
            .field("url", &self.url)
            .finish()
    }
}

/// The demo Discord application's Ed25519 private key (hex); the demo route
/// trusts its public key.
pub const DEMO_DISCORD_PRIVATE_KEY: &str =
    "d15c0bd0d15c0bd0d15c0bd0d15c0bd0d15c0bd0d15c0bd0d15c0bd0d15c0bd0";
/// The demo SendGrid account's ECDSA P-256 private key (hex).
pub const DEMO_SENDGRID_PRIVATE_KEY: &str =
    "5e4d6e1d5e4d6e1d5e4d6e1d5e4d6e1d5e4d6e1d5e4d6e1d5e4d6e1d5e4d6e1d";
/// The demo Standard Webhooks sender's Ed25519 private key (`whsk_…`), for `v1a`.
pub const DEMO_STANDARD_PRIVATE_KEY: &str = "whsk_aG9va3dpc2Utc3RhbmRhcmQtd2ViaG9va3MtZGVtbyE=";
/// The demo Twilio auth token.
pub const DEMO_TWILIO_AUTH_TOKEN: &str = "demo-twilio-auth-token";

/// The public-key and URL-signing routes: provider, variable, demo key (the
/// demo private key, or the Twilio auth token). Kept apart from [`SENDERS`],
/// whose entries are shared secrets.
pub const KEY_SENDERS: &[(&str, &str, &str)] = &[
    ("discord", "DISCORD_PUBLIC_KEY", DEMO_DISCORD_PRIVATE_KEY),
    ("twilio", "TWILIO_AUTH_TOKEN", DEMO_TWILIO_AUTH_TOKEN),
    ("sendgrid", "SENDGRID_PUBLIC_KEY", DEMO_SENDGRID_PRIVATE_KEY),
];

/// The public key of a demo private key, as the sender publishes it.
///
/// # Errors
/// Not a public-key sender, or a malformed private key.
pub fn demo_public_key(provider: &str, private: &str) -> Result<String, ConfigError> {
    providers::by_name(provider, Some("http://demo.invalid"))?.public_key_for(private)
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
    /// `HOOKWISE_ALLOW_IPS` (with `HOOKWISE_TRUSTED_PROXIES`), required on every route.
    pub allow_ips: Option<IpAllowList>,
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
        let set = |k: &str| get(k).filter(|s| !s.trim().is_empty());
        let sender = |provider: &'static str, env: &'static str, secret: String| Sender {
            provider,
            env,
            route: format!("/webhooks/{provider}"),
            secret,
            extra_keys: Vec::new(),
            url: None,
        };
        let mut senders: Vec<Sender> = SENDERS
            .iter()
            .filter_map(|(p, env, _)| set(env).map(|s| sender(p, env, s)))
            .collect();
        if let Some(pk) = set("STANDARD_WEBHOOK_PUBLIC_KEY") {
            match senders.iter_mut().find(|s| s.provider == "standard") {
                Some(s) => s.extra_keys.push(("STANDARD_WEBHOOK_PUBLIC_KEY", pk)),
                None => {
                    // Public key only: `v1a` signatures, in the route's place.
                    let at = senders
                        .iter()
                        .position(|s| s.provider == "shopify")
                        .unwrap_or(senders.len());
                    senders.insert(at, sender("standard", "STANDARD_WEBHOOK_PUBLIC_KEY", pk));
                }
            }
        }
        if let Some(pk) = set("DISCORD_PUBLIC_KEY") {
            senders.push(sender("discord", "DISCORD_PUBLIC_KEY", pk));
        }
        match (set("TWILIO_AUTH_TOKEN"), set("TWILIO_WEBHOOK_URL")) {
            (Some(token), Some(url)) => {
                let mut s = sender("twilio", "TWILIO_AUTH_TOKEN", token);
                s.url = Some(url.trim().to_owned());
                senders.push(s);
            }
            (None, None) => {}
            _ => {
                return Err(
                    "TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL: set both (the URL is the public \
                     one Twilio signs) or neither"
                        .to_owned(),
                );
            }
        }
        if let Some(pk) = set("SENDGRID_PUBLIC_KEY") {
            senders.push(sender("sendgrid", "SENDGRID_PUBLIC_KEY", pk));
        }
        let demo = senders.is_empty();
        if demo {
            let public = |p: &str, private: &str| {
                demo_public_key(p, private).map_err(|e| format!("demo key for {p}: {e}"))
            };
            senders = SENDERS
                .iter()
                .map(|(p, env, s)| sender(p, env, (*s).to_owned()))
                .collect();
            if let Some(s) = senders.iter_mut().find(|s| s.provider == "standard") {
                s.extra_keys.push((
                    "STANDARD_WEBHOOK_PUBLIC_KEY",
                    public("standard", DEMO_STANDARD_PRIVATE_KEY)?,
                ));
            }
            for (p, env, key) in KEY_SENDERS {
                let secret = if *p == "twilio" {
                    (*key).to_owned()
                } else {
                    public(p, key)?
                };
                senders.push(sender(p, env, secret));
            }
        }
        let allow_ips = match (set("HOOKWISE_ALLOW_IPS"), set("HOOKWISE_TRUSTED_PROXIES")) {
            (Some(allow), proxies) => {
                let list = IpAllowList::new(allow.split(',').filter(|r| !r.trim().is_empty()))
                    .map_err(|e| format!("HOOKWISE_ALLOW_IPS: {e}"))?;
                let proxies = proxies.unwrap_or_default();
                let header = match get("HOOKWISE_FORWARDING_HEADER").as_deref().map(str::trim) {
                    None | Some("") => ForwardingHeader::XForwardedFor,
                    Some(v) if v.eq_ignore_ascii_case("x-forwarded-for") => {
                        ForwardingHeader::XForwardedFor
                    }
                    Some(v) if v.eq_ignore_ascii_case("forwarded") => ForwardingHeader::Forwarded,
                    Some(v) => {
                        return Err(format!(
                            "HOOKWISE_FORWARDING_HEADER: `{v}` is neither `x-forwarded-for` nor `forwarded`"
                        ));
                    }
                };
                Some(
                    list.trust_proxies(proxies.split(',').filter(|r| !r.trim().is_empty()))
                        .map_err(|e| format!("HOOKWISE_TRUSTED_PROXIES: {e}"))?
                        .forwarding_header(header),
                )
            }
            (None, Some(_)) => {
                return Err("HOOKWISE_TRUSTED_PROXIES needs HOOKWISE_ALLOW_IPS".to_owned());
            }
            (None, None) if set("HOOKWISE_FORWARDING_HEADER").is_some() => {
                return Err(
                    "HOOKWISE_FORWARDING_HEADER needs HOOKWISE_ALLOW_IPS and HOOKWISE_TRUSTED_PROXIES"
                        .to_owned(),
                );
            }
            (None, None) => None,
        };
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
            allow_ips,
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

    /// The scheme of one route (Twilio's signs the public URL).
    ///
    /// # Errors
    /// An unknown provider.
    pub fn scheme(&self, sender: &Sender) -> Result<Scheme, ConfigError> {
        if sender.provider == "twilio" {
            return Ok(providers::twilio(self.signed_url(sender)));
        }
        providers::by_name(sender.provider, None)
    }

    /// The URL a URL-signing sender signs: the configured one, or in demo mode
    /// `http://<addr><route>`.
    pub fn signed_url(&self, sender: &Sender) -> String {
        sender
            .url
            .clone()
            .unwrap_or_else(|| format!("http://{}{}", self.addr, sender.route))
    }

    /// The verifier for one route: its keys, the limits, the replay store and,
    /// with `HOOKWISE_ALLOW_IPS`, the IP allow-list.
    ///
    /// # Errors
    /// A secret the sender would not accept.
    pub fn verifier(
        &self,
        sender: &Sender,
        store: Arc<dyn ReplayStore>,
    ) -> Result<Verifier, ConfigError> {
        self.build_verifier(sender, store).map_err(|(_, e)| e)
    }

    /// [`Config::verifier`], with an error naming the variable at fault.
    ///
    /// # Errors
    /// `"<VARIABLE>: <why>"`.
    pub fn verifier_for(
        &self,
        sender: &Sender,
        store: Arc<dyn ReplayStore>,
    ) -> Result<Verifier, String> {
        self.build_verifier(sender, store)
            .map_err(|(env, e)| format!("{env}: {e}"))
    }

    fn build_verifier(
        &self,
        sender: &Sender,
        store: Arc<dyn ReplayStore>,
    ) -> Result<Verifier, (&'static str, ConfigError)> {
        let scheme = self.scheme(sender).map_err(|e| (sender.env, e))?;
        // Keys are checked when the verifier is built: find the one at fault.
        let blame = |e: ConfigError| {
            let alone = |key: &str| {
                Verifier::builder(scheme.clone())
                    .secret(key)
                    .and_then(|b| b.without_replay_store().build())
                    .is_ok()
            };
            let env = std::iter::once((sender.env, sender.secret.as_str()))
                .chain(sender.extra_keys.iter().map(|(env, k)| (*env, k.as_str())))
                .find(|(_, key)| !alone(key))
                .map_or(sender.env, |(env, _)| env);
            (env, e)
        };
        let mut b = Verifier::builder(scheme.clone())
            .secret(&sender.secret)
            .map_err(blame)?;
        for (_, key) in &sender.extra_keys {
            b = b.secret(key).map_err(blame)?;
        }
        if let Some(list) = &self.allow_ips {
            b = b.require(Check::ip(list.clone()));
        }
        b.tolerance(Tolerance::symmetric(self.tolerance))
            .max_body(self.max_body)
            .body_timeout(self.body_timeout)
            .replay_store_arc(store)
            .build()
            .map_err(blame)
    }

    /// What to print at start-up: routes, and with demo secrets a signed `curl`.
    pub fn banner(&self, framework: &str) -> String {
        let mut out = format!(
            "hookwise {framework} receiver listening on http://{}\n",
            self.addr
        );
        for s in &self.senders {
            let mut vars = s.env.to_owned();
            for (env, _) in &s.extra_keys {
                vars += &format!(", {env}");
            }
            if s.provider == "twilio" {
                vars += &format!(", signs {}", self.signed_url(s));
            }
            out += &format!("  POST {:<22} ({vars})\n", s.route);
        }
        if self.allow_ips.is_some() {
            out += "  every route also requires a client address in HOOKWISE_ALLOW_IPS\n";
        }
        if self.demo {
            out += "\nNo secrets set: using built-in demo secrets (do not use in production):\n";
            for s in &self.senders {
                out += &format!("  {}={}\n", s.env, s.secret);
                for (env, key) in &s.extra_keys {
                    out += &format!("  {env}={key}\n");
                }
            }
            out += "Demo private keys, to sign test deliveries with:\n";
            out += &format!("  discord  {DEMO_DISCORD_PRIVATE_KEY}\n");
            out += &format!("  sendgrid {DEMO_SENDGRID_PRIVATE_KEY}\n");
            out += &format!("  standard {DEMO_STANDARD_PRIVATE_KEY} (v1a)\n");
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
    answer_json_with(d, body, None)
}

/// The JSON answer with one more field, for handlers that know more about
/// the event (the GitHub route's typed `ping` handler adds `zen`). Adding
/// fields keeps the contract compatible.
pub fn answer_json_with(d: &Delivery, body: &[u8], extra: Option<(&str, String)>) -> String {
    let mut v = serde_json::json!({
        "provider": d.provider(),
        "delivery_id": d.id(),
        "event_type": d.event_type(),
        "body_sha256": hex::encode(Sha256::digest(body)),
    });
    if let (Some((k, val)), Some(map)) = (extra, v.as_object_mut()) {
        map.insert(k.to_owned(), serde_json::Value::String(val));
    }
    v.to_string()
}

/// GitHub's `ping` event (sent when a webhook is created), as the examples'
/// typed handler reads it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Ping {
    /// A random line of GitHub zen.
    pub zen: String,
    /// The webhook's id.
    pub hook_id: Option<u64>,
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
        assert_eq!(c.senders.len(), SENDERS.len() + KEY_SENDERS.len());
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

    fn lookup(vars: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn store() -> Arc<dyn ReplayStore> {
        Arc::new(MemoryStore::default())
    }

    #[test]
    fn demo_mode_has_the_public_key_routes_with_working_keys() {
        let c = Config::from_lookup(|_| None).unwrap();
        let routes: Vec<&str> = c.senders.iter().map(|s| s.route.as_str()).collect();
        for r in [
            "/webhooks/discord",
            "/webhooks/twilio",
            "/webhooks/sendgrid",
            "/webhooks/standard",
        ] {
            assert!(routes.contains(&r), "{r}: {routes:?}");
        }
        for s in &c.senders {
            c.verifier_for(s, store()).unwrap();
        }
        let banner = c.banner("axum");
        assert!(banner.contains("DISCORD_PUBLIC_KEY="), "{banner}");
        assert!(
            banner.contains("STANDARD_WEBHOOK_PUBLIC_KEY=whpk_"),
            "{banner}"
        );
        assert!(
            banner.contains("signs http://127.0.0.1:3000/webhooks/twilio"),
            "{banner}"
        );
        assert!(banner.contains(DEMO_DISCORD_PRIVATE_KEY), "{banner}");
        let debug = format!("{c:?}");
        assert!(!debug.contains("demo-github-secret"), "{debug}");
    }

    #[test]
    fn key_variables_select_routes() {
        let pk = demo_public_key("standard", DEMO_STANDARD_PRIVATE_KEY).unwrap();
        let c = lookup(&[
            ("STANDARD_WEBHOOK_PUBLIC_KEY", &pk),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_WEBHOOK_URL", "https://hooks.example.com/twilio"),
        ])
        .unwrap();
        assert!(!c.demo);
        let names: Vec<&str> = c.senders.iter().map(|s| s.provider).collect();
        assert_eq!(names, ["standard", "twilio"]);
        assert_eq!(c.senders[0].env, "STANDARD_WEBHOOK_PUBLIC_KEY");
        assert_eq!(
            c.signed_url(&c.senders[1]),
            "https://hooks.example.com/twilio"
        );
        // Secret and public key together: one route, both keys.
        let c = lookup(&[
            ("STANDARD_WEBHOOK_SECRET", SENDERS[3].2),
            ("STANDARD_WEBHOOK_PUBLIC_KEY", &pk),
        ])
        .unwrap();
        assert_eq!(c.senders.len(), 1);
        assert_eq!(c.senders[0].extra_keys.len(), 1);
        c.verifier_for(&c.senders[0], store()).unwrap();
        // Twilio needs both variables.
        let e = lookup(&[("TWILIO_AUTH_TOKEN", "t")]).unwrap_err();
        assert!(e.contains("TWILIO_WEBHOOK_URL"), "{e}");
    }

    #[test]
    fn malformed_keys_are_start_up_errors_naming_the_variable() {
        for (var, bad) in [
            ("DISCORD_PUBLIC_KEY", "not-hex"),
            ("DISCORD_PUBLIC_KEY", "00"),
            ("SENDGRID_PUBLIC_KEY", "MFkw%%%"),
            ("SENDGRID_PUBLIC_KEY", "AAAA"),
            ("STANDARD_WEBHOOK_PUBLIC_KEY", "whpk_AAAA"),
        ] {
            let c = lookup(&[(var, bad)]).unwrap();
            let e = c.verifier_for(&c.senders[0], store()).unwrap_err();
            assert!(e.starts_with(var), "{var}={bad}: {e}");
        }
        let pk = demo_public_key("standard", DEMO_STANDARD_PRIVATE_KEY).unwrap();
        let c = lookup(&[
            ("STANDARD_WEBHOOK_SECRET", SENDERS[3].2),
            ("STANDARD_WEBHOOK_PUBLIC_KEY", &pk[..pk.len() - 4]),
        ])
        .unwrap();
        let e = c.verifier_for(&c.senders[0], store()).unwrap_err();
        assert!(e.starts_with("STANDARD_WEBHOOK_PUBLIC_KEY"), "{e}");
        let c = lookup(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_WEBHOOK_URL", "hooks.example.com/twilio"),
        ])
        .unwrap();
        assert!(c.verifier_for(&c.senders[0], store()).is_err());
    }

    #[test]
    fn ip_allow_list_variables() {
        let c = lookup(&[
            ("HOOKWISE_ALLOW_IPS", "192.30.252.0/22, 2a0a:a440::/29"),
            ("HOOKWISE_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap();
        let list = c.allow_ips.as_ref().unwrap();
        assert!(list.allows("192.30.253.1".parse().unwrap()));
        assert!(c.banner("actix").contains("HOOKWISE_ALLOW_IPS"));
        assert!(lookup(&[("HOOKWISE_ALLOW_IPS", "10.0.0.0/33")]).is_err());
        assert!(lookup(&[("HOOKWISE_TRUSTED_PROXIES", "10.0.0.0/8")]).is_err());
        // The forwarding header: one of the two names, and only with a list.
        for (v, ok) in [
            ("forwarded", true),
            ("X-Forwarded-For", true),
            ("via", false),
        ] {
            let got = lookup(&[
                ("HOOKWISE_ALLOW_IPS", "192.30.252.0/22"),
                ("HOOKWISE_TRUSTED_PROXIES", "10.0.0.0/8"),
                ("HOOKWISE_FORWARDING_HEADER", v),
            ]);
            assert_eq!(got.is_ok(), ok, "{v}");
        }
        assert!(lookup(&[("HOOKWISE_FORWARDING_HEADER", "forwarded")]).is_err());
        assert!(
            lookup(&[("HOOKWISE_ALLOW_IPS", " , ")]).is_err(),
            "an empty list refuses all"
        );
    }
}
