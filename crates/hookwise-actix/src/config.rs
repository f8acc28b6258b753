//! Per-app, per-scope or per-resource configuration.

use std::fmt;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use hookwise::Verifier;

use crate::WebhookError;

/// A custom mapping from a [`WebhookError`] to a response.
pub(crate) type OnRejection = Arc<dyn Fn(&WebhookError) -> HttpResponse + Send + Sync>;

/// The configuration the [`Webhook`](crate::Webhook) extractors look up in
/// `app_data`: a [`Verifier`] and, optionally, a custom rejection response.
///
/// Register it with `App::app_data`, `Scope::app_data` or `Resource::app_data`
/// (directly or wrapped in [`web::Data`]); the innermost one wins, so one app
/// can receive from several senders. Use one form throughout: as with
/// actix-web's own `JsonConfig`, a plain `WebhookConfig` at any level is found
/// before a `web::Data<WebhookConfig>` at any level.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use hookwise::{providers, Verifier};
/// use hookwise_actix::{RawWebhook, WebhookConfig, WebhookReplay};
///
/// # fn main() -> Result<(), hookwise::ConfigError> {
/// let github = WebhookConfig::new(Verifier::new(providers::github(), "gh-secret")?);
/// let stripe = WebhookConfig::new(Verifier::new(providers::stripe(), "whsec_stripe")?);
/// let app = App::new()
///     .wrap(WebhookReplay::new())
///     .service(web::resource("/hooks/github").app_data(github)
///         .route(web::post().to(|_hook: RawWebhook| async { HttpResponse::Ok() })))
///     .service(web::resource("/hooks/stripe").app_data(stripe)
///         .route(web::post().to(|_hook: RawWebhook| async { HttpResponse::Ok() })));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct WebhookConfig {
    verifier: Verifier,
    on_rejection: Option<OnRejection>,
    handshakes: bool,
    in_flight_only: bool,
}

impl WebhookConfig {
    /// A configuration with the default responses (`{"error":"<code>"}`).
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            on_rejection: None,
            handshakes: false,
            in_flight_only: false,
        }
    }

    /// Lets the extractors run outside the [`WebhookReplay`](crate::WebhookReplay)
    /// middleware when the verifier has a replay store, with in-flight
    /// protection only: a copy is refused (`409`) while the first one is being
    /// processed, and nothing is committed, so a copy sent afterwards runs the
    /// handler again.
    ///
    /// Off by default: without the middleware the extractors refuse such a
    /// request with `500` `{"error":"misconfigured"}` before reading its body,
    /// rather than silently protect less than the verifier says. (A verifier
    /// built with `without_replay_store()` needs neither.)
    pub const fn replay_in_flight_only(mut self) -> Self {
        self.in_flight_only = true;
        self
    }

    pub(crate) const fn in_flight_only(&self) -> bool {
        self.in_flight_only
    }

    /// Answers the senders' handshakes in the extractor, instead of running
    /// the handler: Slack `url_verification`, Zoom `endpoint.url_validation`,
    /// Twitch `webhook_callback_verification` and Discord PING, each only after
    /// the request is verified; and Meta's `GET ?hub.mode=subscribe…` when the
    /// verifier has a [`meta_verify_token`](hookwise::VerifierBuilder::meta_verify_token)
    /// (route `GET` to the same handler). See [`hookwise::handshake`]. Off by default.
    pub const fn answer_handshakes(mut self) -> Self {
        self.handshakes = true;
        self
    }

    pub(crate) const fn handshakes(&self) -> bool {
        self.handshakes
    }

    /// Answers every [`WebhookError`] of this configuration with `f` instead
    /// of [`WebhookError::default_response`].
    ///
    /// `f` sees the rejection (reason code, status, diagnosis), an invalid
    /// payload or a duplicate, and can fall back to the default response:
    ///
    /// ```
    /// use actix_web::HttpResponse;
    /// use hookwise::{providers, Verifier};
    /// use hookwise_actix::WebhookConfig;
    ///
    /// # fn main() -> Result<(), hookwise::ConfigError> {
    /// let config = WebhookConfig::new(Verifier::new(providers::github(), "s3cret")?)
    ///     .on_rejection(|err| match err.rejection() {
    ///         // Hide why a request was refused from the sender.
    ///         Some(r) if r.status() == 401 => HttpResponse::Unauthorized().finish(),
    ///         _ => err.default_response(),
    ///     });
    /// # let _ = config;
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_rejection<F>(mut self, f: F) -> Self
    where
        F: Fn(&WebhookError) -> HttpResponse + Send + Sync + 'static,
    {
        self.on_rejection = Some(Arc::new(f));
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub(crate) fn on_rejection_fn(&self) -> Option<&OnRejection> {
        self.on_rejection.as_ref()
    }

    /// `app_data::<WebhookConfig>()`, then `app_data::<web::Data<WebhookConfig>>()`
    /// (each searched from the resource outwards; actix offers no lookup of
    /// either type level by level, and its `JsonConfig` does the same).
    pub(crate) fn from_req(req: &HttpRequest) -> Option<&Self> {
        req.app_data::<Self>()
            .or_else(|| req.app_data::<web::Data<Self>>().map(|d| d.get_ref()))
    }
}

impl From<Verifier> for WebhookConfig {
    fn from(verifier: Verifier) -> Self {
        Self::new(verifier)
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("verifier", &self.verifier)
            .field(
                "on_rejection",
                &self.on_rejection.as_ref().map(|_| "custom"),
            )
            .field("handshakes", &self.handshakes)
            .field("in_flight_only", &self.in_flight_only)
            .finish()
    }
}
