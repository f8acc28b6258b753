//! The verifier: a scheme, its keys, the clock, limits and the replay store.

use std::borrow::BorrowMut;
use std::sync::Arc;
use std::time::Duration;

use crate::replay::{Admission, ReplayGuard, ReplayStore, Reserve, StoreError, Token};
use crate::scheme::{Pending, PreparedKey, Scheme};
use crate::{
    Check, Clock, ConfigError, Delivery, Key, Keyring, Reason, Rejection, RequestParts,
    SystemClock, Tolerance,
};

/// Ids for built verifiers (0 is no verifier's).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The `Pending::verifier` of a header phase that has not (yet) passed: no
/// verifier's id (they count up from 1).
const UNOWNED: u64 = u64::MAX;

/// Default body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Default deadline for receiving the whole body: 10 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Verifies deliveries from one sender. Cheap to clone (an `Arc` inside).
///
/// Verification runs in two phases, so a forged request never makes the
/// server buffer a body: [`Verifier::check_headers`] (missing, malformed or
/// stale headers are rejected here), then [`Verifier::verify_body`] over the
/// exact bytes received. [`Verifier::verify`] does both.
///
/// # Example: GitHub
/// ```
/// use hookwise::{providers, HeaderList, RequestParts, Verifier};
///
/// let verifier = Verifier::new(providers::github(), "It's a Secret to Everybody").unwrap();
/// let headers = HeaderList::new()
///     .with("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
///     .with("X-GitHub-Event", "push");
/// let delivery = verifier.verify(&RequestParts::new(&headers), b"Hello, World!").unwrap();
/// assert_eq!(delivery.event_type(), Some("push"));
/// assert_eq!(verifier.verify(&RequestParts::new(&headers), b"Hello, World?").unwrap_err().code(), "signature_mismatch");
/// ```
///
/// # Example: Stripe
/// ```
/// use hookwise::{providers, scheme::SignParams, FixedClock, RequestParts, Verifier};
///
/// let secret = "whsec_test_secret";
/// let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
/// let signed = providers::stripe().sign(secret, body, &SignParams { timestamp: Some(1_700_000_000), ..Default::default() }).unwrap();
///
/// let verifier = Verifier::builder(providers::stripe()).secret(secret).unwrap()
///     .clock(FixedClock::new(1_700_000_030)).build().unwrap();
/// let delivery = verifier.verify(&RequestParts::new(&signed.headers), body).unwrap();
/// assert_eq!(delivery.id(), Some("evt_1"));
/// assert_eq!(delivery.replay_key(), "stripe:evt_1");
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Unique per built verifier: stamps the header phase's results.
    id: u64,
    scheme: Scheme,
    keys: Vec<PreparedKey>,
    tolerance: Tolerance,
    clock: Arc<dyn Clock>,
    max_body: usize,
    body_timeout: Duration,
    store: Option<Arc<dyn ReplayStore>>,
    in_flight_ttl: Duration,
    retention: Duration,
    fail_open: bool,
    checks: Vec<Check>,
    /// Some check reads the connection (peer address, client certificates).
    reads_connection: bool,
    meta_verify_token: Option<crate::Secret>,
}

impl Verifier {
    /// A handshake to answer instead of running the handler (Slack
    /// `url_verification`, Zoom `endpoint.url_validation`, Twitch
    /// `webhook_callback_verification`, Discord PING), for a delivery that
    /// passed verification. See [`crate::handshake`]. Every handshake is
    /// recognised from the signed body; the request's headers are not read
    /// (Twitch's message-type header is not signed).
    pub fn handshake(
        &self,
        _req: &RequestParts<'_>,
        delivery: &Delivery,
        body: &[u8],
    ) -> Option<crate::handshake::HandshakeReply> {
        let zoom = |plain: &[u8]| {
            let key = self.inner.keys.iter().find(|k| k.name == delivery.key())?;
            Some(hex::encode(
                key.mac(crate::scheme::Algorithm::Sha256)?.tag(plain),
            ))
        };
        crate::handshake::signed(delivery, body, &zoom)
    }

    /// Meta's unsigned subscription `GET`, answered before any signature check
    /// when a verify token is configured: `Some(Ok(reply))`, `Some(Err)` for a
    /// wrong token (401) or for a failed network check (403: the IP
    /// allow-list and client-certificate checks apply to it as to any request,
    /// so pass the peer and certificates in `req`), `None` otherwise.
    pub fn pre_handshake(
        &self,
        req: &RequestParts<'_>,
    ) -> Option<Result<crate::handshake::HandshakeReply, Rejection>> {
        let token = self.inner.meta_verify_token.as_ref()?;
        let reply = crate::handshake::meta(req.method, req.uri, token.expose())?;
        for c in self.inner.checks.iter().filter(|c| c.is_network()) {
            if let Err(r) = c.run(req) {
                return Some(Err(r));
            }
        }
        Some(reply)
    }

    /// A verifier with one secret and the defaults (sender's tolerance, 1 MiB,
    /// 10 s body deadline, in-memory replay store).
    ///
    /// # Errors
    /// An empty secret, or a secret not in the sender's encoding; without the
    /// `memory-store` feature, [`ConfigError::NoReplayStore`] (use the builder).
    pub fn new(scheme: Scheme, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::builder(scheme).secret(secret)?.build()
    }

    /// Starts a builder.
    pub fn builder(scheme: Scheme) -> VerifierBuilder {
        let tolerance = scheme.default_tolerance();
        VerifierBuilder {
            scheme,
            keys: Keyring::new(),
            tolerance,
            clock: Arc::new(SystemClock),
            max_body: DEFAULT_MAX_BODY,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            store: StoreChoice::Default,
            in_flight_ttl: Duration::from_secs(300),
            retention: None,
            fail_open: false,
            checks: Vec::new(),
            meta_verify_token: None,
        }
    }

    /// The provider name.
    pub fn provider(&self) -> &str {
        self.inner.scheme.provider()
    }
    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.inner.scheme
    }
    /// Whether verifying reads the connection: the peer's address or its
    /// client certificates, for an IP allow-list or a client-certificate
    /// check (this verifier's, or one it runs with [`Check::also`]).
    ///
    /// When it does not, an adapter can leave [`RequestParts::peer`] and
    /// [`RequestParts::peer_certificates`] unset rather than look them up on
    /// every request (the Tower layer and the actix extractor do): nothing
    /// would read them.
    ///
    /// ```
    /// use hookwise::{providers, Verifier};
    /// let v = Verifier::builder(providers::github()).secret("s").unwrap().build().unwrap();
    /// assert!(!v.reads_connection());
    /// ```
    pub fn reads_connection(&self) -> bool {
        self.inner.reads_connection
    }
    /// The body limit in bytes.
    pub fn max_body(&self) -> usize {
        self.inner.max_body
    }
    /// The body deadline.
    pub fn body_timeout(&self) -> Duration {
        self.inner.body_timeout
    }
    /// The tolerance.
    pub fn tolerance(&self) -> Tolerance {
        self.inner.tolerance
    }
    /// Now, by the verifier's clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now_unix()
    }

    /// Phase 1, before reading the body.
    ///
    /// # Errors
    /// A [`Rejection`] for missing, malformed or stale headers (and, for token
    /// and Basic schemes, wrong credentials).
    pub fn check_headers(&self, req: &RequestParts<'_>) -> Result<Pending, Rejection> {
        let mut p = Pending::default();
        self.check_headers_into(req, &mut p)?;
        Ok(p)
    }

    /// [`Verifier::check_headers`] into `pending`, in place: for an adapter
    /// that keeps the header phase's result in its own future (or on its
    /// stack) and lends it to [`Verifier::verify_body`], so that its few
    /// hundred bytes are written once instead of being returned and moved.
    ///
    /// Start from `Pending::default()`; a `Pending` that has been through
    /// this before is reset first. On an error `pending` is left unusable:
    /// [`Verifier::verify_body`] refuses it (`misconfigured`), so a caller
    /// that ignored the error cannot go on to accept the body.
    ///
    /// ```
    /// use hookwise::{providers, scheme::Pending, scheme::SignParams, FixedClock, RequestParts, Verifier};
    ///
    /// let secret = "whsec_test_secret";
    /// let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
    /// let signed = providers::stripe()
    ///     .sign(secret, body, &SignParams { timestamp: Some(1_700_000_000), ..Default::default() })
    ///     .unwrap();
    /// let verifier = Verifier::builder(providers::stripe()).secret(secret).unwrap()
    ///     .clock(FixedClock::new(1_700_000_010)).build().unwrap();
    ///
    /// let mut pending = Pending::default();
    /// verifier.check_headers_into(&RequestParts::new(&signed.headers), &mut pending).unwrap();
    /// let delivery = verifier.verify_body(&mut pending, body).unwrap();
    /// assert_eq!(delivery.event_type(), Some("charge.succeeded"));
    /// ```
    ///
    /// # Errors
    /// As [`Verifier::check_headers`].
    pub fn check_headers_into(
        &self,
        req: &RequestParts<'_>,
        pending: &mut Pending,
    ) -> Result<(), Rejection> {
        let p = pending;
        if p.verifier != 0 {
            *p = Pending::default();
        }
        // Owned by no verifier until every check has passed.
        p.verifier = UNOWNED;
        let i = &*self.inner;
        // Network checks (IP, client certificate) first, then the scheme, then
        // any extra credential check: all must pass.
        for c in i.checks.iter().filter(|c| c.is_network()) {
            c.run(req)?;
        }
        let now = i.clock.now_unix();
        i.scheme.check_headers(req, &i.keys, now, &i.tolerance, p)?;
        p.now = Some(now);
        for c in i.checks.iter().filter(|c| !c.is_network()) {
            c.run(req)?;
        }
        p.verifier = i.id;
        Ok(())
    }

    /// Phase 2, over the exact body bytes.
    ///
    /// `pending` is the header phase's result, given or lent (`&mut`): an
    /// adapter that holds it in its future lends it, rather than copying its
    /// few hundred bytes into the call. Either way it is spent: what a lent
    /// one holds afterwards is unspecified, and it must not be passed again.
    ///
    /// # Errors
    /// [`Reason::SignatureMismatch`] and friends; [`Reason::Misconfigured`]
    /// for a `pending` this verifier's [`Verifier::check_headers`] did not
    /// produce.
    pub fn verify_body(
        &self,
        mut pending: impl BorrowMut<Pending>,
        body: &[u8],
    ) -> Result<Delivery, Rejection> {
        let pending = pending.borrow_mut();
        let i = &*self.inner;
        self.own(pending)?;
        // The clock as the headers were checked (the request's arrival): one
        // reading per request, and the key windows judged at arrival.
        let now = pending.now.unwrap_or_else(|| i.clock.now_unix());
        i.scheme
            .verify_body(pending, body, &i.keys, now, &i.tolerance)
    }

    /// Starts hashing the body while it arrives, for a request whose headers
    /// passed [`Verifier::check_headers`]: feed every chunk, in order, to
    /// [`BodyDigest::update`], then finish with [`BodyDigest::verify`] and the
    /// complete body. A large delivery is then verified as its last byte
    /// arrives, with no second pass over a body that no longer fits the cache,
    /// and its buffer is released that much sooner. The digest owns the header
    /// phase's result and this verifier, so it cannot be finished against
    /// another request or another verifier's keys.
    ///
    /// # Errors
    /// `pending` back, when the scheme cannot be hashed ahead (it signs
    /// something after the body or a form field, or the request carries a
    /// public-key signature): use [`Verifier::verify_body`].
    ///
    /// ```
    /// use hookwise::{providers, scheme::SignParams, FixedClock, RequestParts, Verifier};
    ///
    /// let secret = "whsec_test_secret";
    /// let body = br#"{"id":"evt_1","type":"charge.succeeded"}"#;
    /// let signed = providers::stripe()
    ///     .sign(secret, body, &SignParams { timestamp: Some(1_700_000_000), ..Default::default() })
    ///     .unwrap();
    /// let verifier = Verifier::builder(providers::stripe()).secret(secret).unwrap()
    ///     .clock(FixedClock::new(1_700_000_010)).build().unwrap();
    ///
    /// let pending = verifier.check_headers(&RequestParts::new(&signed.headers)).unwrap();
    /// let mut digest = verifier.body_digest(pending).unwrap();
    /// for chunk in body.chunks(7) {
    ///     digest.update(chunk); // as each frame arrives
    /// }
    /// let delivery = digest.verify(body).unwrap();
    /// assert_eq!(delivery.id(), Some("evt_1"));
    /// ```
    #[allow(clippy::result_large_err)] // hands the header phase's result back unchanged
    pub fn body_digest(&self, mut pending: Pending) -> Result<BodyDigest, Pending> {
        let i = &*self.inner;
        if self.own(&pending).is_err() {
            return Err(pending); // `verify_body` refuses it, with the reason
        }
        // One clock reading for the key windows and the body's timestamp.
        let now = *pending.now.get_or_insert_with(|| i.clock.now_unix());
        match i.scheme.start_stream(&pending, &i.keys, now) {
            Some(state) => Ok(BodyDigest(Box::new(Digesting {
                verifier: self.clone(),
                pending,
                state,
            }))),
            None => Err(pending),
        }
    }

    /// Refuses a header-phase result this verifier did not produce (another
    /// verifier's, or a `Pending::default()`): its checks would not be ours.
    fn own(&self, pending: &Pending) -> Result<(), Rejection> {
        if pending.verifier == self.inner.id {
            return Ok(());
        }
        Err(Rejection::new(
            Reason::Misconfigured,
            "the header phase's result comes from another verifier",
        ))
    }

    /// Both phases.
    ///
    /// # Errors
    /// See [`Verifier::check_headers`] and [`Verifier::verify_body`].
    pub fn verify(&self, req: &RequestParts<'_>, body: &[u8]) -> Result<Delivery, Rejection> {
        if body.len() > self.inner.max_body {
            return Err(
                Rejection::new(Reason::BodyTooLarge, "body exceeds the limit").body_len(body.len()),
            );
        }
        // One `Pending` on this stack frame, filled and read in place.
        let mut p = Pending::default();
        self.check_headers_into(req, &mut p)?;
        let i = &*self.inner;
        let now = p.now.unwrap_or_else(|| i.clock.now_unix());
        i.scheme
            .verify_body(&mut p, body, &i.keys, now, &i.tolerance)
    }

    /// Checks a verified delivery against the replay store and reserves it.
    ///
    /// # Errors
    /// [`Reason::DuplicateInFlight`] (409) while the same delivery is being
    /// processed; [`Reason::StoreUnavailable`] (503) when the store fails and
    /// fail-open is not configured.
    pub async fn admit(&self, delivery: &Delivery) -> Result<Admission, Rejection> {
        if let Some(now) = self.admit_now(delivery) {
            return now;
        }
        let i = &*self.inner;
        let Some(store) = &i.store else {
            return Ok(Admission::Proceed(ReplayGuard::inert()));
        };
        let token = Token::new();
        let key = delivery.replay_key();
        // Over the network the reservation may be made even when its answer
        // is lost (a timeout) or no longer awaited (this future dropped): a
        // guard held across the call releases it then, so the sender's retry
        // is not refused for the whole in-flight TTL.
        let held = self.guard(store, delivery, token);
        let reserved = store.reserve(key, &token, i.in_flight_ttl).await;
        self.admission(store, delivery, token, reserved, Some(held))
    }

    /// [`Verifier::admit`] when the answer needs no waiting: without a
    /// replay store, or with one that answers at once (the in-memory
    /// store). `None` when the store is asynchronous (Redis): await
    /// [`Verifier::admit`] then. An adapter that polls its own future calls
    /// this first and allocates nothing for the common case.
    ///
    /// ```
    /// use hookwise::replay::Admission;
    /// use hookwise::{providers, HeaderList, RequestParts, Verifier};
    ///
    /// // The default replay store is the in-memory one.
    /// let verifier = Verifier::new(providers::github(), "It's a Secret to Everybody").unwrap();
    /// let headers = HeaderList::new()
    ///     .with("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    ///     .with("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    /// let delivery = verifier.verify(&RequestParts::new(&headers), b"Hello, World!").unwrap();
    ///
    /// let Some(Ok(Admission::Proceed(guard))) = verifier.admit_now(&delivery) else {
    ///     panic!("the in-memory store answers at once, and this delivery is new");
    /// };
    /// // While it is held, the same delivery is refused (409)...
    /// assert!(verifier.admit_now(&delivery).unwrap().is_err());
    /// // ...and once committed, it is a duplicate.
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// guard.commit().await.unwrap();
    /// # });
    /// assert!(matches!(verifier.admit_now(&delivery), Some(Ok(Admission::Duplicate))));
    /// ```
    ///
    /// # Errors
    /// As [`Verifier::admit`].
    pub fn admit_now(&self, delivery: &Delivery) -> Option<Result<Admission, Rejection>> {
        let i = &*self.inner;
        let Some(store) = &i.store else {
            return Some(Ok(Admission::Proceed(ReplayGuard::inert())));
        };
        let token = Token::new();
        let reserved = store.reserve_sync(delivery.replay_key(), &token, i.in_flight_ttl)?;
        Some(self.admission(store, delivery, token, reserved, None))
    }

    /// The guard of a reservation of `delivery` under `token`.
    fn guard(
        &self,
        store: &Arc<dyn ReplayStore>,
        delivery: &Delivery,
        token: Token,
    ) -> ReplayGuard {
        ReplayGuard::new(
            store.clone(),
            delivery.replay_key(),
            token,
            self.retention_for(delivery),
            self.inner.fail_open,
        )
    }

    /// What the store's answer to a reservation means (`held`: the guard
    /// held while it was awaited).
    fn admission(
        &self,
        store: &Arc<dyn ReplayStore>,
        delivery: &Delivery,
        token: Token,
        reserved: Result<Reserve, StoreError>,
        mut held: Option<ReplayGuard>,
    ) -> Result<Admission, Rejection> {
        let i = &*self.inner;
        // The store answered that the key is someone else's: nothing of ours to release.
        if let (Ok(Reserve::Committed | Reserve::InFlight), Some(h)) = (&reserved, held.as_mut()) {
            h.disarm();
        }
        match reserved {
            Ok(Reserve::Reserved) => Ok(Admission::Proceed(
                held.unwrap_or_else(|| self.guard(store, delivery, token)),
            )),
            Ok(Reserve::Committed) => Ok(Admission::Duplicate),
            Ok(Reserve::InFlight) => Err(Rejection::new(
                Reason::DuplicateInFlight,
                "the same delivery is being processed",
            )),
            Err(e) if i.fail_open => {
                #[cfg(feature = "tracing")]
                tracing::error!(target: "hookwise::replay", provider = self.provider(), error = %e, "replay store unavailable; FAIL-OPEN is configured, delivery accepted without replay protection");
                let _ = e;
                Ok(Admission::Proceed(ReplayGuard::inert()))
            }
            Err(e) => Err(Rejection::new(
                Reason::StoreUnavailable,
                format!("replay store: {e}"),
            )),
        }
    }

    /// How long to remember this delivery once processed: the configured
    /// retention, which covers the whole window when both sides are bounded.
    /// With [`Tolerance::past_only`] a timestamp ahead of the clock stays
    /// acceptable until it is `past` old, so the id is kept until then (plus
    /// the usual minute), however far ahead it is.
    fn retention_for(&self, delivery: &Delivery) -> Duration {
        let i = &*self.inner;
        let (None, Some(ts)) = (i.tolerance.future(), delivery.timestamp()) else {
            return i.retention;
        };
        let ahead = u64::try_from(ts.saturating_sub(i.clock.now_unix())).unwrap_or(0);
        let until_stale = Duration::from_secs(ahead)
            .saturating_add(i.tolerance.past())
            .saturating_add(Duration::from_secs(60));
        i.retention.max(until_stale)
    }

    /// Whether a replay store is configured.
    pub fn has_replay_store(&self) -> bool {
        self.inner.store.is_some()
    }
}

/// The body's HMAC under each active key, computed while the body arrives
/// ([`Verifier::body_digest`]). Its `Debug` shows how much was fed, never
/// the keyed states.
///
/// One pointer wide: the adapters keep an `Option<BodyDigest>` in every
/// request's future, and only a body of several frames allocates it.
pub struct BodyDigest(Box<Digesting>);

struct Digesting {
    verifier: Verifier,
    pending: Pending,
    state: crate::scheme::hmac::Streaming,
}

impl BodyDigest {
    /// Feeds the next chunk of the body.
    pub fn update(&mut self, chunk: &[u8]) {
        self.0.state.update(chunk);
    }

    /// How many body bytes were fed.
    pub fn len(&self) -> usize {
        self.0.state.fed()
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.0.state.fed() == 0
    }

    /// Phase 2 over `body`, which must be exactly what was fed: the complete
    /// body, for the metadata read after a tag matched. A digest fed something
    /// else (by length) is set aside and `body` verified as
    /// [`Verifier::verify_body`] does.
    ///
    /// # Errors
    /// As [`Verifier::verify_body`].
    pub fn verify(self, body: &[u8]) -> Result<Delivery, Rejection> {
        let Digesting {
            verifier,
            mut pending,
            state,
        } = *self.0;
        let i = &*verifier.inner;
        let now = pending.now.unwrap_or_else(|| i.clock.now_unix());
        i.scheme
            .finish_stream(&mut pending, state, body, &i.keys, now, &i.tolerance)
    }
}

impl std::fmt::Debug for BodyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyDigest")
            .field("provider", &self.0.verifier.provider())
            .field("fed", &self.0.state.fed())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum StoreChoice {
    Default,
    None,
    Custom(Arc<dyn ReplayStore>),
}

/// Builds a [`Verifier`]; validated at [`VerifierBuilder::build`].
#[derive(Debug)]
#[must_use]
pub struct VerifierBuilder {
    scheme: Scheme,
    keys: Keyring,
    tolerance: Tolerance,
    clock: Arc<dyn Clock>,
    max_body: usize,
    body_timeout: Duration,
    store: StoreChoice,
    in_flight_ttl: Duration,
    retention: Option<Duration>,
    fail_open: bool,
    checks: Vec<Check>,
    meta_verify_token: Option<crate::Secret>,
}

impl VerifierBuilder {
    /// Meta's verify token: answers `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
    /// (see [`Verifier::pre_handshake`]).
    ///
    /// # Errors
    /// An empty token.
    pub fn meta_verify_token(mut self, token: &str) -> Result<Self, ConfigError> {
        self.meta_verify_token = Some(crate::Secret::new(token)?);
        Ok(self)
    }

    /// Requires another check on top of the scheme: an IP allow-list, a
    /// client-certificate policy, or a header-only authenticator. All must pass;
    /// the rejection names the one that failed.
    ///
    /// ```
    /// use hookwise::{providers, Check, HeaderList, IpAllowList, RequestParts, Verifier};
    /// let v = Verifier::builder(providers::github()).secret("s").unwrap()
    ///     .require(Check::ip(IpAllowList::new(["192.30.252.0/22"]).unwrap()))
    ///     .build().unwrap();
    /// let headers = HeaderList::new().with("X-Hub-Signature-256", "sha256=00");
    /// let req = RequestParts::new(&headers).peer(Some("203.0.113.9:4000".parse().unwrap()));
    /// assert_eq!(v.check_headers(&req).unwrap_err().code(), "forbidden_address");
    /// ```
    pub fn require(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// Adds a secret (as the sender shows it).
    ///
    /// # Errors
    /// An empty or whitespace-only secret.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        self.keys = self.keys.secret(secret)?;
        Ok(self)
    }
    /// Adds a key (with label or validity window).
    pub fn key(mut self, key: Key) -> Self {
        self.keys = self.keys.key(key);
        self
    }
    /// Adds all keys of a keyring.
    pub fn keyring(mut self, ring: Keyring) -> Self {
        self.keys.keys.extend(ring.keys);
        self
    }
    /// The timestamp window (default: the sender's, ±300 s for most).
    pub const fn tolerance(mut self, t: Tolerance) -> Self {
        self.tolerance = t;
        self
    }
    /// The clock (inject a [`crate::FixedClock`] in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
    /// The body limit in bytes (default 1 MiB).
    pub const fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
    /// The deadline for receiving the whole body (default 10 s). The adapters
    /// run it with [`BodyDeadline`](crate::BodyDeadline) (actix) or its
    /// [`BodyTimer`](crate::BodyTimer) (the Tower layer): it starts when the
    /// body is found missing the second time, at most one scheduler round
    /// after the body read's first poll.
    pub const fn body_timeout(mut self, d: Duration) -> Self {
        self.body_timeout = d;
        self
    }
    /// The replay store (default: a [`crate::replay::MemoryStore`] of 100 000 ids;
    /// without the `memory-store` feature there is no default, and
    /// [`build`](Self::build) fails with [`ConfigError::NoReplayStore`] unless a
    /// store or [`without_replay_store`](Self::without_replay_store) is chosen).
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.store = StoreChoice::Custom(Arc::new(store));
        self
    }
    /// A shared replay store.
    pub fn replay_store_arc(mut self, store: Arc<dyn ReplayStore>) -> Self {
        self.store = StoreChoice::Custom(store);
        self
    }
    /// No replay store: every verified delivery runs the handler. Loosens the default.
    pub fn without_replay_store(mut self) -> Self {
        self.store = StoreChoice::None;
        self
    }
    /// How long a reservation lasts if neither committed nor released (default 300 s;
    /// keep it above your handler's longest run).
    pub const fn in_flight_ttl(mut self, d: Duration) -> Self {
        self.in_flight_ttl = d;
        self
    }
    /// How long a processed delivery is remembered (default: the timestamp window
    /// plus a minute for timestamped senders, 24 h for the others). With
    /// [`Tolerance::past_only`], a delivery dated ahead of the clock is kept
    /// longer: until its timestamp is too old to be accepted again.
    pub const fn retention(mut self, d: Duration) -> Self {
        self.retention = Some(d);
        self
    }
    /// Accept deliveries when the replay store is unreachable (logged at ERROR).
    /// Loosens the default, which answers 503.
    pub const fn fail_open(mut self, yes: bool) -> Self {
        self.fail_open = yes;
        self
    }

    /// Validates and builds: keys are decoded and HMAC states keyed once here.
    ///
    /// # Errors
    /// No key, a bad secret, a bad validity window, two keys of one name
    /// ([`ConfigError::DuplicateKeyName`]), or a scheme missing a setting
    /// (e.g. Square without its notification URL).
    pub fn build(self) -> Result<Verifier, ConfigError> {
        self.keys.validate()?;
        for c in &self.checks {
            c.validate()?;
        }
        self.scheme.validate()?;
        let keys = self
            .keys
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| self.scheme.prepare(i, k))
            .collect::<Result<Vec<_>, _>>()?;
        let span = self.tolerance.span();
        let retention = self.retention.unwrap_or(if self.scheme.is_timestamped() {
            span.saturating_add(Duration::from_secs(60))
        } else {
            Duration::from_secs(24 * 3600)
        });
        // A processed id must be remembered at least as long as its timestamp is acceptable.
        let retention = if self.scheme.is_timestamped() {
            retention.max(span)
        } else {
            retention
        };
        let store: Option<Arc<dyn ReplayStore>> = match self.store {
            StoreChoice::Custom(s) => Some(s),
            StoreChoice::None => None,
            #[cfg(feature = "memory-store")]
            StoreChoice::Default => Some(Arc::new(crate::replay::MemoryStore::default())),
            // No silent loss of replay protection: the choice is the user's.
            #[cfg(not(feature = "memory-store"))]
            StoreChoice::Default => return Err(ConfigError::NoReplayStore),
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                scheme: self.scheme,
                keys,
                tolerance: self.tolerance,
                clock: self.clock,
                max_body: self.max_body,
                body_timeout: self.body_timeout,
                store,
                in_flight_ttl: self.in_flight_ttl,
                retention,
                fail_open: self.fail_open,
                reads_connection: self.checks.iter().any(Check::reads_connection),
                checks: self.checks,
                meta_verify_token: self.meta_verify_token,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers;

    #[test]
    fn the_default_replay_store_is_never_silently_absent() {
        let builder = || Verifier::builder(providers::github()).secret("k").unwrap();
        #[cfg(feature = "memory-store")]
        assert!(builder().build().unwrap().has_replay_store());
        #[cfg(not(feature = "memory-store"))]
        assert_eq!(builder().build().unwrap_err(), ConfigError::NoReplayStore);
        // Going without is a choice that stays possible.
        let without = builder().without_replay_store().build().unwrap();
        assert!(!without.has_replay_store());
    }

    fn github_delivery(secret: &str, body: &[u8]) -> crate::HeaderList {
        providers::github()
            .sign(secret, body, &crate::scheme::SignParams::default())
            .unwrap()
            .headers
    }

    #[test]
    fn headers_checked_in_place_start_afresh_when_reused() {
        let v = Verifier::builder(providers::github())
            .secret("s")
            .unwrap()
            .without_replay_store()
            .build()
            .unwrap();
        let (a, b) = (br#"{"n":1}"#, br#"{"n":2}"#);
        let mut p = Pending::default();
        v.check_headers_into(&RequestParts::new(&github_delivery("s", a)), &mut p)
            .unwrap();
        assert!(v.verify_body(&mut p, a).is_ok());
        // The same `Pending` for the next request: its first signature must
        // not linger (it would match `a` again, or leave `b` with two).
        v.check_headers_into(&RequestParts::new(&github_delivery("s", b)), &mut p)
            .unwrap();
        assert_eq!(p.signature_count(), 1);
        assert_eq!(p.signatures.iter().count(), 1);
        assert!(v.verify_body(&mut p, b).is_ok());
        v.check_headers_into(&RequestParts::new(&github_delivery("s", b)), &mut p)
            .unwrap();
        let wrong = v.verify_body(&mut p, a).unwrap_err();
        assert_eq!(wrong.reason(), Reason::SignatureMismatch);
    }

    #[cfg(feature = "ip")]
    #[test]
    fn reads_the_connection_only_for_a_network_check_its_own_or_nested() {
        let ip = || Check::ip(crate::IpAllowList::new(["192.30.252.0/22"]).unwrap());
        let build = |b: VerifierBuilder| b.without_replay_store().build().unwrap();
        let github = || Verifier::builder(providers::github()).secret("s").unwrap();
        let gitlab = || Verifier::builder(providers::gitlab()).secret("t").unwrap();
        assert!(!build(github()).reads_connection());
        assert!(build(github().require(ip())).reads_connection());
        // A credential check alone does not; one that carries an IP check does.
        let plain_token = Check::also(build(gitlab())).unwrap();
        assert!(!build(github().require(plain_token)).reads_connection());
        let token_with_ip = Check::also(build(gitlab().require(ip()))).unwrap();
        assert!(build(github().require(token_with_ip)).reads_connection());
        // (The check itself, which the flag lets adapters feed: from an address
        // outside the list, 403. The adapters' IP and mTLS tests cover the feeding.)
        let v = build(github().require(ip()));
        let body = br#"{"n":1}"#;
        let headers = github_delivery("s", body);
        let outside = RequestParts::new(&headers).peer(Some("10.0.0.1:1".parse().unwrap()));
        assert_eq!(
            v.verify(&outside, body).unwrap_err().reason(),
            Reason::ForbiddenAddress
        );
    }

    #[test]
    fn a_failed_header_phase_in_place_cannot_be_finished() {
        // The scheme's check passes (a good GitHub signature); the extra
        // credential check after it fails (no token).
        let token = Verifier::builder(providers::gitlab())
            .secret("t")
            .unwrap()
            .without_replay_store()
            .build()
            .unwrap();
        let v = Verifier::builder(providers::github())
            .secret("s")
            .unwrap()
            .require(Check::also(token).unwrap())
            .without_replay_store()
            .build()
            .unwrap();
        let body = br#"{"n":1}"#;
        let headers = github_delivery("s", body);
        let mut p = Pending::default();
        let refused = v
            .check_headers_into(&RequestParts::new(&headers), &mut p)
            .unwrap_err();
        assert_eq!(refused.reason(), Reason::MissingSignature);
        // A caller that ignored the error: the body phase refuses it.
        let err = v.verify_body(&mut p, body).unwrap_err();
        assert_eq!(err.reason(), Reason::Misconfigured);
        // And when the scheme's own check fails (no signature at all).
        let mut q = Pending::default();
        assert!(
            v.check_headers_into(&RequestParts::new(&crate::HeaderList::new()), &mut q)
                .is_err()
        );
        assert_eq!(
            v.verify_body(&mut q, body).unwrap_err().reason(),
            Reason::Misconfigured
        );
    }
}

#[cfg(all(test, feature = "memory-store"))]
mod limits {
    use super::*;
    use crate::providers;

    #[test]
    fn huge_windows_and_ttls_build_and_verify_without_overflow() {
        let v = Verifier::builder(providers::stripe())
            .secret("whsec_k")
            .unwrap()
            .tolerance(Tolerance::past_only(Duration::MAX))
            .in_flight_ttl(Duration::MAX)
            .build()
            .unwrap();
        let body = br#"{"id":"evt_1","type":"x"}"#;
        let now = Clock::now_unix(&SystemClock);
        let signed = providers::stripe()
            .sign(
                "whsec_k",
                body,
                &crate::scheme::SignParams {
                    timestamp: Some(now),
                    ..Default::default()
                },
            )
            .unwrap();
        let d = v.verify(&RequestParts::new(&signed.headers), body).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let admitted = rt.block_on(v.admit(&d)).unwrap();
        assert!(matches!(admitted, Admission::Proceed(_)));
    }
}
