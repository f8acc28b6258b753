//! The layer.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use hookwise::Verifier;
use tower_layer::Layer;

use super::rejection::DefaultOnRejection;
use super::service::VerifyWebhookService;

/// The configuration shared by the layer, its services and their futures.
#[derive(Clone)]
pub(crate) struct Shared<R> {
    pub(crate) verifier: Verifier,
    pub(crate) on_rejection: R,
    pub(crate) peer_addr: PeerAddrFn,
    pub(crate) request_uri: RequestUriFn,
    pub(crate) handshakes: bool,
}

/// Finds the request's original URI in the extensions (`None`: the request's own).
pub(crate) type RequestUriFn = for<'a> fn(&'a http::Extensions) -> Option<&'a http::Uri>;

/// The default: the request's own URI.
pub(crate) const fn own_uri(_: &http::Extensions) -> Option<&http::Uri> {
    None
}

/// Reads the client's address from the request extensions.
pub(crate) type PeerAddrFn = fn(&http::Extensions) -> Option<SocketAddr>;

/// The default: a plain [`SocketAddr`] extension.
pub(crate) fn socket_addr_extension(ext: &http::Extensions) -> Option<SocketAddr> {
    ext.get::<SocketAddr>().copied()
}

/// A [`Layer`] that verifies webhook deliveries with a [`Verifier`] before the
/// inner service sees them.
///
/// Cheap to clone (its configuration is in an [`Arc`]). Add one per sender,
/// with `Router::route_layer` or on a `MethodRouter`. See the
/// [module docs](crate::verify) for what it checks, in which order, and an
/// example.
#[must_use]
pub struct VerifyWebhook<R = DefaultOnRejection> {
    shared: Arc<Shared<R>>,
}

impl VerifyWebhook {
    /// A layer verifying with `verifier`, answering rejections with
    /// [`DefaultOnRejection`].
    ///
    /// # Example
    /// ```
    /// use hookwise::{providers, Verifier};
    /// use hookwise_tower::VerifyWebhook;
    ///
    /// let layer = VerifyWebhook::new(Verifier::new(providers::stripe(), "whsec_test")?);
    /// assert_eq!(layer.verifier().provider(), "stripe");
    /// # Ok::<(), hookwise::ConfigError>(())
    /// ```
    pub fn new(verifier: Verifier) -> Self {
        Self {
            shared: Arc::new(Shared {
                verifier,
                on_rejection: DefaultOnRejection,
                peer_addr: socket_addr_extension,
                request_uri: own_uri,
                handshakes: false,
            }),
        }
    }
}

impl<R> VerifyWebhook<R> {
    /// Replaces the rejection response: `f` is any
    /// `Fn(&Rejection) -> Response<B> + Clone`, or an [`OnRejection`](super::OnRejection)
    /// implementation. The [`Rejection`](hookwise::Rejection) is still inserted
    /// into the response extensions, and still logged.
    ///
    /// # Example
    /// ```
    /// use axum::{body::Body, http::Response};
    /// use hookwise::{providers, Rejection, Verifier};
    /// use hookwise_tower::VerifyWebhook;
    ///
    /// let layer = VerifyWebhook::new(Verifier::new(providers::github(), "s3cret")?)
    ///     .on_rejection(|r: &Rejection| {
    ///         Response::builder()
    ///             .status(r.http_status())
    ///             .body(Body::from(format!("rejected: {}", r.code())))
    ///             .unwrap_or_default()
    ///     });
    /// # let _ = layer;
    /// # Ok::<(), hookwise::ConfigError>(())
    /// ```
    pub fn on_rejection<F>(self, f: F) -> VerifyWebhook<F> {
        VerifyWebhook {
            shared: Arc::new(Shared {
                verifier: self.shared.verifier.clone(),
                on_rejection: f,
                peer_addr: self.shared.peer_addr,
                request_uri: self.shared.request_uri,
                handshakes: self.shared.handshakes,
            }),
        }
    }

    /// Where the layer finds the client's address (for
    /// [`Check::ip`](hookwise::Check::ip)): by default a plain
    /// [`SocketAddr`] in the request extensions.
    ///
    /// axum stores the address as `ConnectInfo<SocketAddr>` when the app is
    /// served with `into_make_service_with_connect_info::<SocketAddr>()`; this
    /// crate depends on `axum-core` only and cannot name that type, so tell the
    /// layer where to look:
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use axum::extract::ConnectInfo;
    /// use hookwise::{providers, Check, IpAllowList, Verifier};
    /// use hookwise_tower::VerifyWebhook;
    ///
    /// let verifier = Verifier::builder(providers::github())
    ///     .secret("s3cret")?
    ///     .require(Check::ip(IpAllowList::new(["192.30.252.0/22"])?))
    ///     .build()?;
    /// let layer = VerifyWebhook::new(verifier)
    ///     .peer_addr_from(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0));
    /// # let _ = layer;
    /// # Ok::<(), hookwise::ConfigError>(())
    /// ```
    ///
    /// Without an address, an IP allow-list refuses the request (403
    /// `forbidden_address`): it fails closed.
    ///
    /// The function is called only when the verifier reads the connection
    /// (an IP allow-list or a client-certificate check, its own or an
    /// `also()` verifier's: [`Verifier::reads_connection`](hookwise::Verifier::reads_connection)).
    pub fn peer_addr_from(self, f: fn(&http::Extensions) -> Option<SocketAddr>) -> Self
    where
        R: Clone,
    {
        Self {
            shared: Arc::new(Shared {
                peer_addr: f,
                ..(*self.shared).clone()
            }),
        }
    }

    /// Where the layer finds the URI the sender signed, for the senders that
    /// sign the request's path and query (HubSpot v3); the default is the
    /// request's own URI.
    ///
    /// Under `Router::nest`, axum strips the mount prefix from the URI it hands
    /// to the nested router, while the sender signed the full path. axum keeps
    /// the full one as `OriginalUri`; this crate depends on `axum-core` only and
    /// cannot name that type, so tell the layer where to look:
    ///
    /// ```
    /// use axum::extract::OriginalUri;
    /// use hookwise::{providers, Verifier};
    /// use hookwise_tower::VerifyWebhook;
    ///
    /// let verifier = Verifier::new(providers::hubspot("https://example.com"), "hs-secret")?;
    /// let layer = VerifyWebhook::new(verifier)
    ///     .request_uri_from(|ext| ext.get::<OriginalUri>().map(|u| &u.0));
    /// # let _ = layer;
    /// # Ok::<(), hookwise::ConfigError>(())
    /// ```
    pub fn request_uri_from(self, f: RequestUriFn) -> Self
    where
        R: Clone,
    {
        Self {
            shared: Arc::new(Shared {
                request_uri: f,
                ..(*self.shared).clone()
            }),
        }
    }

    /// Answers the senders' handshakes in the layer, instead of calling the
    /// handler: Slack `url_verification`, Zoom `endpoint.url_validation`,
    /// Twitch `webhook_callback_verification` and Discord PING, each only after
    /// the request is verified; and Meta's `GET ?hub.mode=subscribe…` when the
    /// verifier has a [`meta_verify_token`](hookwise::VerifierBuilder::meta_verify_token).
    /// See [`hookwise::handshake`]. Off by default.
    ///
    /// ```
    /// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::post};
    /// use hookwise::{providers, scheme::SignParams, Clock, SystemClock, Verifier};
    /// use hookwise_tower::VerifyWebhook;
    /// use tower::ServiceExt;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = VerifyWebhook::new(Verifier::new(providers::slack(), "slack-secret")?).answer_handshakes();
    /// let app = Router::new().route("/slack", post(|| async { "event" })).route_layer(layer);
    /// let body = br#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    /// let signed = providers::slack().sign("slack-secret", body, &SignParams { timestamp: Some(SystemClock.now_unix()), ..Default::default() })?;
    /// let mut req = Request::post("/slack");
    /// for (name, value) in signed.headers.iter() {
    ///     req = req.header(name, value);
    /// }
    /// let res = app.oneshot(req.body(Body::from(&body[..]))?).await?;
    /// assert_eq!(res.status(), StatusCode::OK);
    /// let text = axum::body::to_bytes(res.into_body(), 1024).await?;
    /// assert_eq!(text, &br#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#[..]);
    /// # Ok(()) }
    /// ```
    pub fn answer_handshakes(self) -> Self
    where
        R: Clone,
    {
        Self {
            shared: Arc::new(Shared {
                handshakes: true,
                ..(*self.shared).clone()
            }),
        }
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }
}

impl<R> Clone for VerifyWebhook<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R> fmt::Debug for VerifyWebhook<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyWebhook")
            .field("verifier", &self.shared.verifier)
            .finish_non_exhaustive()
    }
}

impl<S, R> Layer<S> for VerifyWebhook<R> {
    type Service = VerifyWebhookService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyWebhookService::from_shared(inner, Arc::clone(&self.shared))
    }
}
