//! Presets for every supported sender, by name.
//!
//! | name | function | signature | timestamp | replay key from |
//! |---|---|---|---|---|
//! | `github` | [`github`] | `X-Hub-Signature-256: sha256=<hex>` (legacy `sha1=` with [`github_legacy`], name `github-sha1`) | — | signature hash |
//! | `stripe` | [`stripe`] | `Stripe-Signature: t=…,v1=…` | `t=` | body `id` |
//! | `slack` | [`slack`] | `X-Slack-Signature: v0=<hex>` | `X-Slack-Request-Timestamp` | body `event_id` |
//! | `standard` (`svix`) | [`standard`] | `webhook-signature` / `svix-signature: v1,<b64> …` | `*-timestamp` | `*-id` |
//! | `shopify` | [`shopify`] | `X-Shopify-Hmac-Sha256: <b64>` | — | signature hash |
//! | `meta` | [`meta`] | `X-Hub-Signature-256: sha256=<hex>` | — | signature hash |
//! | `gitlab` | [`gitlab`] | `X-Gitlab-Token` (token, body not signed) | — | `Idempotency-Key` |
//! | `gitlab-signing` | [`gitlab_signing`] | `webhook-signature: v1,<b64>` | `webhook-timestamp` | `webhook-id` |
//! | `twitch` | [`twitch`] | `Twitch-Eventsub-Message-Signature: sha256=<hex>` | RFC 3339 header | message id |
//! | `zoom` | [`zoom`] | `x-zm-signature: v0=<hex>` | `x-zm-request-timestamp` | signature hash |
//! | `linear` | [`linear`] | `Linear-Signature: <hex>` | body `webhookTimestamp` (ms) | signature hash |
//! | `paddle` | [`paddle`] | `Paddle-Signature: ts=…;h1=…` | `ts=` | body `event_id` |
//! | `pagerduty` | [`pagerduty`] | `X-PagerDuty-Signature: v1=…[,v1=…]` | — | body `event.id` |
//! | `square` | [`square`] | `x-square-hmacsha256-signature: <b64>` over URL + body | — | body `event_id` |
//! | `hubspot` | [`hubspot`] | `X-HubSpot-Signature-v3: <b64>` over method + URL + body + ts | ms header | signature hash |
//! | `intercom` | [`intercom`] | `X-Hub-Signature: sha1=<hex>` | — | body `id` |
//! | `bitbucket` | [`bitbucket`] | `X-Hub-Signature: sha256=<hex>` | — | signature hash |
//! | `jira` | [`jira`] | `X-Hub-Signature: sha256=<hex>` | — | signature hash |
//! | `gitea` | [`gitea`] | `X-Gitea-Signature` / `X-Forgejo-Signature: <hex>` | — | signature hash |
//! | `gogs` | [`gogs`] | `X-Gogs-Signature: <hex>` | — | signature hash |
//! | `mailgun` | [`mailgun`] | in the body, over timestamp + token (body not signed) | body | token |
//!
//! Every preset's tolerance is two-sided; see each function for its default.

use std::borrow::Cow;
use std::time::Duration;

use crate::scheme::hmac::PartKinds;
use crate::scheme::{
    Algorithm, Encoding, HeaderSet, HmacScheme, Part, Scheme, SecretEncoding, SignatureFormat,
    Source, TokenScheme,
};
use crate::timestamp::TimestampFormat;
use crate::{ConfigError, Tolerance};

/// Every provider name accepted by [`by_name`], the CLI and the examples.
pub const NAMES: &[&str] = &[
    "github",
    "github-sha1",
    "stripe",
    "slack",
    "standard",
    "svix",
    "shopify",
    "meta",
    "gitlab",
    "gitlab-signing",
    "twitch",
    "zoom",
    "linear",
    "paddle",
    "pagerduty",
    "square",
    "hubspot",
    "intercom",
    "bitbucket",
    "jira",
    "gitea",
    "gogs",
    "mailgun",
    #[cfg(feature = "ed25519")]
    "discord",
    #[cfg(feature = "ecdsa")]
    "sendgrid",
    "twilio",
];

/// The preset for a provider name. `url` is the public URL the sender signs
/// (required for `square`, the public origin such as `https://example.com` for
/// `hubspot`; ignored by the others).
///
/// ```
/// let s = hookwise::providers::by_name("stripe", None).unwrap();
/// assert_eq!(s.provider(), "stripe");
/// assert!(hookwise::providers::by_name("nope", None).is_err());
/// ```
///
/// # Errors
/// [`ConfigError::UnknownProvider`], or a missing URL.
pub fn by_name(name: &str, url: Option<&str>) -> Result<Scheme, ConfigError> {
    let need_url = || {
        url.map(str::to_owned)
            .ok_or_else(|| ConfigError::Scheme(format!("{name} signs the URL: pass it").into()))
    };
    Ok(match name {
        "github" => github(),
        "github-sha1" => github_legacy(),
        "stripe" => stripe(),
        "slack" => slack(),
        "standard" | "svix" => standard(),
        "shopify" => shopify(),
        "meta" => meta(),
        "gitlab" => gitlab(),
        "gitlab-signing" => gitlab_signing(),
        "twitch" => twitch(),
        "zoom" => zoom(),
        "linear" => linear(),
        "paddle" => paddle(),
        "pagerduty" => pagerduty(),
        "square" => square(need_url()?),
        "hubspot" => hubspot(need_url()?),
        "intercom" => intercom(),
        "bitbucket" => bitbucket(),
        "jira" => jira(),
        "gitea" => gitea(),
        "gogs" => gogs(),
        "mailgun" => mailgun(),
        #[cfg(feature = "ed25519")]
        "discord" => discord(),
        #[cfg(feature = "ecdsa")]
        "sendgrid" => sendgrid(),
        "twilio" => twilio(need_url()?),
        other => return Err(ConfigError::UnknownProvider(other.to_owned())),
    })
}

fn h(name: &'static str) -> Source {
    Source::Header(Cow::Borrowed(name))
}

fn lit(s: &'static str) -> Part {
    Part::Literal(Cow::Borrowed(s.as_bytes()))
}

fn prefixed(p: &'static str) -> SignatureFormat {
    SignatureFormat::Prefixed(Cow::Borrowed(p))
}

fn set(sig: &'static str, format: SignatureFormat, alg: Algorithm, enc: Encoding) -> HeaderSet {
    HeaderSet {
        signature: Cow::Borrowed(sig),
        format,
        algorithm: alg,
        encoding: enc,
        timestamp: Source::None,
        id: Source::None,
    }
}

#[allow(clippy::too_many_arguments)]
fn scheme(
    provider: &'static str,
    sets: Vec<HeaderSet>,
    template: Vec<Part>,
    event: Source,
) -> HmacScheme {
    HmacScheme {
        provider: Cow::Borrowed(provider),
        sets,
        kinds: PartKinds::of(&template),
        template,
        event,
        timestamp_format: TimestampFormat::UnixSeconds,
        secret_encoding: SecretEncoding::Raw,
        tolerance: Tolerance::default(),
        url: None,
        url_is_origin: false,
        asym: None,
        public_key_encoding: crate::scheme::PublicKeyEncoding::Hex,
    }
}

fn secs(s: u64) -> Tolerance {
    Tolerance::symmetric(Duration::from_secs(s))
}

/// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
///
/// No timestamp is signed and `X-GitHub-Delivery` is not signed, so the replay
/// key is a hash of the signature; [`Delivery::id`](crate::Delivery::id) still
/// reports the delivery GUID and `event_type` the `X-GitHub-Event` header.
pub fn github() -> Scheme {
    let s = set(
        "x-hub-signature-256",
        prefixed("sha256="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-github-delivery"));
    Scheme::hmac(scheme(
        "github",
        vec![s],
        vec![Part::Body],
        h("x-github-event"),
    ))
}

/// GitHub, also accepting the legacy `X-Hub-Signature: sha1=<hex>` when
/// `X-Hub-Signature-256` is absent. Enable only for old GitHub Enterprise servers.
pub fn github_legacy() -> Scheme {
    let mut g = github();
    if let crate::scheme::Kind::Hmac(s) = &mut g.0 {
        s.sets.push(
            set(
                "x-hub-signature",
                prefixed("sha1="),
                Algorithm::Sha1,
                Encoding::Hex,
            )
            .id(h("x-github-delivery")),
        );
    }
    g
}

/// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` over `{t}.{body}`.
///
/// The secret is the whole `whsec_…` string, used as-is. Every `v1` entry is
/// tried (secret rolls send several); `v0` and unknown entries are ignored.
/// Default tolerance ±300 s (Stripe's SDKs check only the past; use
/// [`Tolerance::past_only`] to match them).
pub fn stripe() -> Scheme {
    let fmt = SignatureFormat::List {
        separator: ',',
        kv: '=',
        version: Cow::Borrowed("v1"),
        timestamp_key: Some(Cow::Borrowed("t")),
    };
    let s = set("stripe-signature", fmt, Algorithm::Sha256, Encoding::Hex)
        .timestamp(Source::SignatureList)
        .id(Source::body("id"));
    Scheme::hmac(scheme(
        "stripe",
        vec![s],
        vec![Part::Timestamp, lit("."), Part::Body],
        Source::body("type"),
    ))
}

/// Slack: `X-Slack-Signature: v0=<hex>` over `v0:{ts}:{body}`, timestamp in
/// `X-Slack-Request-Timestamp`, ±300 s.
pub fn slack() -> Scheme {
    let s = set(
        "x-slack-signature",
        prefixed("v0="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .timestamp(h("x-slack-request-timestamp"))
    .id(Source::body("event_id"));
    Scheme::hmac(scheme(
        "slack",
        vec![s],
        vec![lit("v0:"), Part::Timestamp, lit(":"), Part::Body],
        Source::body("event.type"),
    ))
}

fn standard_set(prefix: &'static str) -> HeaderSet {
    let (sig, ts, id) = match prefix {
        "svix" => ("svix-signature", "svix-timestamp", "svix-id"),
        _ => ("webhook-signature", "webhook-timestamp", "webhook-id"),
    };
    let fmt = SignatureFormat::List {
        separator: ' ',
        kv: ',',
        version: Cow::Borrowed("v1"),
        timestamp_key: None,
    };
    set(sig, fmt, Algorithm::Sha256, Encoding::Base64)
        .timestamp(h(ts))
        .id(h(id))
}

/// Standard Webhooks and Svix (`v1`): `webhook-signature: v1,<b64> [v1,<b64> …]`
/// over `{id}.{timestamp}.{body}`; `webhook-*` or `svix-*` headers.
///
/// The secret is `whsec_` + base64 (the prefix is optional; so is base64
/// padding, see [`SecretEncoding::WhsecBase64`]). ±300 s.
///
/// With the `ed25519` feature, `v1a,<b64>` Ed25519 entries are verified too:
/// add the sender's `whpk_…` public key to the keyring next to (or instead of)
/// the `whsec_…` secret; mixed `v1`/`v1a` lists pass when any entry matches.
pub fn standard() -> Scheme {
    #[allow(unused_mut)]
    let mut s = standard_hmac();
    #[cfg(feature = "ed25519")]
    {
        s.asym = Some(crate::scheme::AsymVersion {
            version: Cow::Borrowed("v1a"),
            algorithm: Algorithm::Ed25519,
            key_prefix: Cow::Borrowed("whpk_"),
        });
        s.public_key_encoding = crate::scheme::PublicKeyEncoding::Whpk;
    }
    Scheme::hmac(s)
}

fn standard_hmac() -> HmacScheme {
    let mut s = scheme(
        "standard",
        vec![standard_set("webhook"), standard_set("svix")],
        vec![Part::Id, lit("."), Part::Timestamp, lit("."), Part::Body],
        Source::body("type"),
    );
    s.secret_encoding = SecretEncoding::WhsecBase64;
    s
}

/// Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>`. Topic in
/// `X-Shopify-Topic`; `X-Shopify-Webhook-Id` is reported but not signed.
pub fn shopify() -> Scheme {
    let s = set(
        "x-shopify-hmac-sha256",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Base64,
    )
    .id(h("x-shopify-webhook-id"));
    Scheme::hmac(scheme(
        "shopify",
        vec![s],
        vec![Part::Body],
        h("x-shopify-topic"),
    ))
}

/// Meta (Facebook, Instagram, WhatsApp): `X-Hub-Signature-256: sha256=<hex>` over
/// the body exactly as sent (Meta escapes unicode; never re-serialize).
pub fn meta() -> Scheme {
    let s = set(
        "x-hub-signature-256",
        prefixed("sha256="),
        Algorithm::Sha256,
        Encoding::Hex,
    );
    Scheme::hmac(scheme(
        "meta",
        vec![s],
        vec![Part::Body],
        Source::body("object"),
    ))
}

/// GitLab token: `X-Gitlab-Token` compared in constant time. **The body is not
/// authenticated**; use [`gitlab_signing`] where your GitLab offers signing tokens.
pub fn gitlab() -> Scheme {
    TokenScheme::new("gitlab", "x-gitlab-token")
        .id_headers(&["idempotency-key", "x-gitlab-event-uuid"])
        .event_header("x-gitlab-event")
        .build()
}

/// GitLab signing token: the Standard Webhooks format (`webhook-*` headers,
/// `whsec_` base64 secret), event in `X-Gitlab-Event`.
pub fn gitlab_signing() -> Scheme {
    let mut s = scheme(
        "gitlab",
        vec![standard_set("webhook")],
        vec![Part::Id, lit("."), Part::Timestamp, lit("."), Part::Body],
        h("x-gitlab-event"),
    );
    s.secret_encoding = SecretEncoding::WhsecBase64;
    Scheme::hmac(s)
}

/// Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` over
/// `{message id}{timestamp}{body}`, RFC 3339 timestamp hashed verbatim. ±600 s.
/// The event type is the signed body's `subscription.type` (the
/// `Twitch-Eventsub-Subscription-Type` header is not signed).
pub fn twitch() -> Scheme {
    let s = set(
        "twitch-eventsub-message-signature",
        prefixed("sha256="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .timestamp(h("twitch-eventsub-message-timestamp"))
    .id(h("twitch-eventsub-message-id"));
    let mut sc = scheme(
        "twitch",
        vec![s],
        vec![Part::Id, Part::Timestamp, Part::Body],
        Source::body("subscription.type"),
    );
    sc.timestamp_format = TimestampFormat::Rfc3339;
    sc.tolerance = secs(600);
    Scheme::hmac(sc)
}

/// Zoom: `x-zm-signature: v0=<hex>` over `v0:{ts}:{body}`, ±300 s.
pub fn zoom() -> Scheme {
    let s = set(
        "x-zm-signature",
        prefixed("v0="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .timestamp(h("x-zm-request-timestamp"));
    Scheme::hmac(scheme(
        "zoom",
        vec![s],
        vec![lit("v0:"), Part::Timestamp, lit(":"), Part::Body],
        Source::body("event"),
    ))
}

/// Linear: `Linear-Signature: <hex>` over the body; the body's
/// `webhookTimestamp` (ms) is checked after the signature, ±60 s as `@linear/sdk`.
pub fn linear() -> Scheme {
    let s = set(
        "linear-signature",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .timestamp(Source::body("webhookTimestamp"))
    .id(h("linear-delivery"));
    let mut sc = scheme("linear", vec![s], vec![Part::Body], h("linear-event"));
    sc.timestamp_format = TimestampFormat::UnixMillis;
    sc.tolerance = secs(60);
    Scheme::hmac(sc)
}

/// Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=…]` over
/// `{ts}:{body}`; the whole `pdl_ntfset_…` secret is the key. ±5 s (Paddle's
/// SDKs check 5 s into the past only; [`Tolerance::past_only`] matches them).
pub fn paddle() -> Scheme {
    let fmt = SignatureFormat::List {
        separator: ';',
        kv: '=',
        version: Cow::Borrowed("h1"),
        timestamp_key: Some(Cow::Borrowed("ts")),
    };
    let s = set("paddle-signature", fmt, Algorithm::Sha256, Encoding::Hex)
        .timestamp(Source::SignatureList)
        .id(Source::body("event_id"));
    let mut sc = scheme(
        "paddle",
        vec![s],
        vec![Part::Timestamp, lit(":"), Part::Body],
        Source::body("event_type"),
    );
    sc.tolerance = secs(5);
    Scheme::hmac(sc)
}

/// PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]` over the body; the
/// secret is used as-is even though it looks like base64.
pub fn pagerduty() -> Scheme {
    let fmt = SignatureFormat::List {
        separator: ',',
        kv: '=',
        version: Cow::Borrowed("v1"),
        timestamp_key: None,
    };
    let s = set(
        "x-pagerduty-signature",
        fmt,
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(Source::body("event.id"));
    Scheme::hmac(scheme(
        "pagerduty",
        vec![s],
        vec![Part::Body],
        Source::body("event.event_type"),
    ))
}

/// Square: `x-square-hmacsha256-signature: <b64>` over `{notification URL}{body}`.
/// `notification_url` must be exactly the URL registered with Square (the
/// receiver usually sits behind a proxy, so it cannot be guessed from the request).
pub fn square(notification_url: impl Into<String>) -> Scheme {
    let s = set(
        "x-square-hmacsha256-signature",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Base64,
    )
    .id(Source::body("event_id"));
    let mut sc = scheme(
        "square",
        vec![s],
        vec![Part::Url, Part::Body],
        Source::body("type"),
    );
    sc.url = Some(notification_url.into());
    Scheme::hmac(sc)
}

/// HubSpot v3: `X-HubSpot-Signature-v3: <b64>` over
/// `{method}{url}{body}{timestamp}`, timestamp in ms, ±300 s. `public_origin` is
/// `https://your.host` as HubSpot calls it; the request target is appended
/// (under axum's `Router::nest`, see `hookwise_tower`'s `request_uri_from`).
pub fn hubspot(public_origin: impl Into<String>) -> Scheme {
    let s = set(
        "x-hubspot-signature-v3",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Base64,
    )
    .timestamp(h("x-hubspot-request-timestamp"));
    let mut sc = scheme(
        "hubspot",
        vec![s],
        vec![Part::Method, Part::Url, Part::Body, Part::Timestamp],
        Source::None,
    );
    sc.timestamp_format = TimestampFormat::UnixMillis;
    sc.url = Some(public_origin.into());
    sc.url_is_origin = true;
    Scheme::hmac(sc)
}

/// Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, body)>`.
pub fn intercom() -> Scheme {
    let s = set(
        "x-hub-signature",
        prefixed("sha1="),
        Algorithm::Sha1,
        Encoding::Hex,
    )
    .id(Source::body("id"));
    Scheme::hmac(scheme(
        "intercom",
        vec![s],
        vec![Part::Body],
        Source::body("topic"),
    ))
}

/// Bitbucket (Cloud and Data Center): `X-Hub-Signature: sha256=<hex>` (SHA-256
/// despite the GitHub-style name); event in `X-Event-Key`.
pub fn bitbucket() -> Scheme {
    let s = set(
        "x-hub-signature",
        prefixed("sha256="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-request-uuid"));
    Scheme::hmac(scheme(
        "bitbucket",
        vec![s],
        vec![Part::Body],
        h("x-event-key"),
    ))
}

/// Jira Cloud admin webhooks with a secret: `X-Hub-Signature: sha256=<hex>`.
pub fn jira() -> Scheme {
    let s = set(
        "x-hub-signature",
        prefixed("sha256="),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-atlassian-webhook-identifier"));
    Scheme::hmac(scheme(
        "jira",
        vec![s],
        vec![Part::Body],
        Source::body("webhookEvent"),
    ))
}

/// Gitea and Forgejo: `X-Gitea-Signature` / `X-Forgejo-Signature: <hex>` over the
/// JSON payload (for form-encoded hooks, the decoded `payload` field).
pub fn gitea() -> Scheme {
    let a = set(
        "x-gitea-signature",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-gitea-delivery"));
    let b = set(
        "x-forgejo-signature",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-forgejo-delivery"));
    Scheme::hmac(scheme(
        "gitea",
        vec![a, b],
        vec![Part::FormPayloadOrBody],
        h("x-gitea-event"),
    ))
}

/// Gogs: `X-Gogs-Signature: <hex>` over the JSON payload.
pub fn gogs() -> Scheme {
    let s = set(
        "x-gogs-signature",
        prefixed(""),
        Algorithm::Sha256,
        Encoding::Hex,
    )
    .id(h("x-gogs-delivery"));
    Scheme::hmac(scheme(
        "gogs",
        vec![s],
        vec![Part::FormPayloadOrBody],
        h("x-gogs-event"),
    ))
}

/// Mailgun: signature inside the body over `timestamp + token`. The event data is
/// **not** signed by Mailgun; the token is the replay key. ±300 s.
pub fn mailgun() -> Scheme {
    Scheme(crate::scheme::Kind::Mailgun(
        crate::scheme::mailgun::Mailgun,
    ))
}

/// Discord interactions and webhook events: `X-Signature-Ed25519` (hex) over
/// `{X-Signature-Timestamp}{body}`, verified strictly with the application's
/// public key (hex, from the Developer Portal). Discord sends deliberately
/// invalid signatures and expects 401: that is what they get. Discord documents
/// no window; ±300 s is applied.
#[cfg(feature = "ed25519")]
pub fn discord() -> Scheme {
    let s = set(
        "x-signature-ed25519",
        prefixed(""),
        Algorithm::Ed25519,
        Encoding::Hex,
    )
    .timestamp(h("x-signature-timestamp"))
    .id(Source::body("id"));
    let mut sc = scheme(
        "discord",
        vec![s],
        vec![Part::Timestamp, Part::Body],
        Source::body("type"),
    );
    sc.public_key_encoding = crate::scheme::PublicKeyEncoding::Hex;
    Scheme::hmac(sc)
}

/// SendGrid's signed Event Webhook: ECDSA P-256/SHA-256, base64 DER signature in
/// `X-Twilio-Email-Event-Webhook-Signature` over `{timestamp}{body}`; the key is
/// the base64 DER public key from the SendGrid settings (`MFkw…`). ±300 s.
#[cfg(feature = "ecdsa")]
pub fn sendgrid() -> Scheme {
    let s = set(
        "x-twilio-email-event-webhook-signature",
        prefixed(""),
        Algorithm::EcdsaP256,
        Encoding::Base64,
    )
    .timestamp(h("x-twilio-email-event-webhook-timestamp"));
    let mut sc = scheme(
        "sendgrid",
        vec![s],
        vec![Part::Timestamp, Part::Body],
        Source::None,
    );
    sc.public_key_encoding = crate::scheme::PublicKeyEncoding::DerSpkiBase64;
    Scheme::hmac(sc)
}

/// Twilio: `X-Twilio-Signature` = base64 HMAC-SHA1(auth token, URL + sorted form
/// parameters), or over the URL alone for JSON bodies whose URL carries
/// `bodySHA256`. `public_url` is the URL Twilio calls, exactly as configured in
/// the Twilio console (the receiver sits behind proxies and cannot rebuild it);
/// when it has no query string, the request's query is appended. The port
/// variants the official SDKs accept (with and without the default port) are
/// tried. No timestamp: the replay key is a hash of the signature.
pub fn twilio(public_url: impl Into<String>) -> Scheme {
    Scheme(crate::scheme::Kind::Twilio(
        crate::scheme::twilio::Twilio::new(public_url.into()),
    ))
}
