//! A Redis replay store for [`hookwise`]: several receiver instances share one
//! seen-id set, so a delivery is processed once no matter which instance gets it.
//!
//! [`RedisStore`] implements [`hookwise::replay::ReplayStore`] with the
//! reserve / commit / release semantics of the in-memory store, each operation
//! in **one round trip** (a small Lua script run with `EVALSHA`):
//!
//! | operation | Redis | effect |
//! |---|---|---|
//! | `reserve(key, token, ttl)` | `SET {prefix}:{key} token NX PX ttl`, else read the value | [`Reserve::Reserved`] / [`Reserve::InFlight`] (value is a token) / [`Reserve::Committed`] (value is `"c"`) |
//! | `commit(key, token, retention)` | if the value is `token` or the key is missing: `SET {prefix}:{key} "c" PX retention` | the delivery is remembered for the retention period |
//! | `release(key, token)` | compare-and-delete: `DEL` only if the value is `token` | the sender's retry is processed; another instance's reservation and a commit are never removed |
//!
//! Every operation is bounded by [`RedisStoreBuilder::op_timeout`] (default
//! 250 ms). A Redis error or a timeout is a [`StoreError`], which the
//! [`hookwise::Verifier`] answers with **503 `store_unavailable`** (fail closed).
//! Accepting deliveries without replay protection while Redis is down is the
//! verifier's explicit, loudly logged choice: `Verifier::builder(..).fail_open(true)`.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use hookwise::{providers, Verifier};
//! use hookwise_redis::RedisStore;
//!
//! let store = RedisStore::builder("redis://127.0.0.1:6379/")
//!     .prefix("myapp:webhooks")
//!     .op_timeout(Duration::from_millis(250))
//!     .connect()
//!     .await?;
//! let verifier = Verifier::builder(providers::github())
//!     .secret("It's a Secret to Everybody")?
//!     .replay_store(store)
//!     .build()?;
//! # let _ = verifier; Ok(()) }
//! ```
//!
//! The connection is a [`redis::aio::ConnectionManager`]: one multiplexed
//! connection, cheap to clone, which reconnects by itself after Redis restarts
//! or the network drops. While it is reconnecting, operations fail with a
//! [`StoreError`] after the op timeout; they succeed again as soon as Redis is
//! back, without restarting the receiver.

#![forbid(unsafe_code)]

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use hookwise::replay::{BoxFuture, ReplayStore, Reserve, StoreError, Token};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, FromRedisValue, Script, ScriptInvocation};

pub use redis;

/// Default key prefix: keys are `hookwise:{provider}:{id}`.
pub const DEFAULT_PREFIX: &str = "hookwise";
/// Default bound on each store operation.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(250);
/// Default bound on [`RedisStoreBuilder::connect`] (and on each reconnection attempt).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The value a committed key holds (reservations hold their token, never this).
pub const COMMITTED: &str = "c";

/// Longest TTL written (10 years); longer durations are clamped to it so
/// Redis never rejects the expiry.
const MAX_PX: u64 = 10 * 365 * 24 * 3600 * 1000;

/// `KEYS[1]` key, `ARGV[1]` token, `ARGV[2]` ttl ms, `ARGV[3]` committed marker.
/// Returns 1 reserved, 2 in flight, 3 committed.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[3] then
  return 3
end
return 2
",
    )
});

/// `KEYS[1]` key, `ARGV[1]` token, `ARGV[2]` committed marker, `ARGV[3]` retention ms.
/// Returns 1 if committed now, 0 if left alone (another holder, or already committed).
static COMMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
",
    )
});

/// `KEYS[1]` key, `ARGV[1]` token. Returns 1 if deleted, 0 otherwise.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// A replay store on Redis, shared by every receiver instance pointed at the
/// same Redis (and prefix). Cheap to clone: clones share one connection.
///
/// Build it with [`RedisStore::builder`], or from your own connection with
/// [`RedisStore::from_manager`].
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
    op_timeout: Duration,
    /// The redacted URL, or a note that the connection came from the caller.
    target: Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts a builder for a Redis URL: `redis://[[user]:password@]host[:port][/db]`,
    /// `rediss://…` for TLS (needs a TLS feature of `redis`, see the crate
    /// README), or `redis+unix:///path/to/redis.sock`.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            op_timeout: DEFAULT_OP_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// A store on a connection manager you built yourself (your own client
    /// options, TLS, credentials provider…), with the default prefix and op
    /// timeout (change them with [`RedisStore::with_prefix`] and
    /// [`RedisStore::with_op_timeout`]).
    ///
    /// Consider setting a response timeout on its [`ConnectionManagerConfig`]:
    /// without one, a connection that silently stopped answering is never
    /// replaced (every operation still fails after the op timeout).
    pub fn from_manager(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: Arc::from(DEFAULT_PREFIX),
            op_timeout: DEFAULT_OP_TIMEOUT,
            target: Arc::from("<caller's connection manager>"),
        }
    }

    /// The same store with another key prefix (an empty prefix writes the
    /// replay keys as they are).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    /// The same store with another bound on each operation (zero is raised to 1 ms).
    #[must_use]
    pub fn with_op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The bound on each operation.
    pub const fn op_timeout(&self) -> Duration {
        self.op_timeout
    }

    /// The Redis key written for a replay key: `{prefix}:{replay_key}`.
    pub fn redis_key(&self, replay_key: &str) -> String {
        if self.prefix.is_empty() {
            replay_key.to_owned()
        } else {
            format!("{}:{replay_key}", self.prefix)
        }
    }

    /// The underlying connection manager (a cheap clone), e.g. for health checks.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs one script invocation under the op timeout.
    async fn run<T: FromRedisValue>(
        &self,
        op: &'static str,
        invocation: ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.op_timeout, invocation.invoke_async(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::debug!(target: "hookwise::redis", op, error = %e, "redis operation failed");
                Err(StoreError(format!("redis {op}: {e}")))
            }
            Err(_) => {
                tracing::debug!(target: "hookwise::redis", op, timeout = ?self.op_timeout, "redis operation timed out");
                Err(StoreError(format!(
                    "redis {op}: no answer within {:?}",
                    self.op_timeout
                )))
            }
        }
    }
}

/// Milliseconds for `PX`: at least 1 (Redis refuses 0), at most [`MAX_PX`].
fn px(d: Duration) -> u64 {
    u64::try_from(d.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_PX)
}

impl ReplayStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Reserve, StoreError>> {
        Box::pin(async move {
            let mut inv = RESERVE.prepare_invoke();
            inv.key(self.redis_key(key))
                .arg(token.as_str())
                .arg(px(ttl))
                .arg(COMMITTED);
            match self.run::<i64>("reserve", inv).await? {
                1 => Ok(Reserve::Reserved),
                3 => Ok(Reserve::Committed),
                _ => Ok(Reserve::InFlight),
            }
        })
    }

    fn commit<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
        retention: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut inv = COMMIT.prepare_invoke();
            inv.key(self.redis_key(key))
                .arg(token.as_str())
                .arg(COMMITTED)
                .arg(px(retention));
            self.run::<i64>("commit", inv).await.map(drop)
        })
    }

    fn release<'a>(
        &'a self,
        key: &'a str,
        token: &'a Token,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut inv = RELEASE.prepare_invoke();
            inv.key(self.redis_key(key)).arg(token.as_str());
            self.run::<i64>("release", inv).await.map(drop)
        })
    }
}

/// Builds a [`RedisStore`] from a URL.
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    op_timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("op_timeout", &self.op_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The key prefix (default `hookwise`): keys are `{prefix}:{provider}:{id}`.
    /// Give each application sharing a Redis its own prefix. An empty prefix
    /// writes the replay keys as they are.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The bound on each store operation, connection wait included (default
    /// 250 ms). Past it the operation fails and the verifier answers 503. Also
    /// used as the connection's response timeout, so a connection that stopped
    /// answering is replaced.
    pub const fn op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// The bound on [`connect`](Self::connect) and on each (re)connection
    /// attempt (default 2 s).
    pub const fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    fn parts(&self) -> Result<(Client, ConnectionManagerConfig, Arc<str>), Error> {
        let target: Arc<str> = Arc::from(redact_url(&self.url));
        if self.op_timeout.is_zero() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "op_timeout must be above zero",
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "connect_timeout must be above zero",
            ));
        }
        let client = Client::open(self.url.as_str()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!("invalid Redis URL {target}: {e}"),
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.op_timeout))
            .set_connection_timeout(Some(self.connect_timeout))
            .set_number_of_retries(3)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok((client, config, target))
    }

    fn finish(&self, conn: ConnectionManager, target: Arc<str>) -> RedisStore {
        RedisStore {
            conn,
            prefix: Arc::from(self.prefix.as_str()),
            op_timeout: self.op_timeout,
            target,
        }
    }

    /// Connects and checks the connection (handshake, authentication, database
    /// selection, and that Lua scripts may run) before returning, so a wrong
    /// URL, password or host is an error at start-up.
    ///
    /// After this first connection the store reconnects by itself: Redis going
    /// away later makes operations fail (503) until it is back, it never makes
    /// them hang or panic. To start even while Redis is unreachable, use
    /// [`connect_lazy`](Self::connect_lazy).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidUrl`], [`ErrorKind::InvalidConfig`], or
    /// [`ErrorKind::Unreachable`] when Redis does not answer (or refuses the
    /// credentials, or scripts) within the connect timeout.
    pub async fn connect(self) -> Result<RedisStore, Error> {
        let (client, config, target) = self.parts()?;
        let unreachable = |detail: String| {
            Error::new(
                ErrorKind::Unreachable,
                format!("cannot connect to Redis at {target}: {detail}"),
            )
        };
        let attempt = async {
            let mut conn = ConnectionManager::new_with_config(client, config).await?;
            for script in [&*RESERVE, &*COMMIT, &*RELEASE] {
                script.prepare_invoke().load_async(&mut conn).await?;
            }
            Ok::<_, redis::RedisError>(conn)
        };
        let conn = match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {:?}",
                    self.connect_timeout
                )));
            }
        };
        Ok(self.finish(conn, target))
    }

    /// Builds the store without connecting: the connection is made on the
    /// first operation (which fails with a [`StoreError`], hence 503, while
    /// Redis is unreachable). Only the URL and settings are checked here.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidUrl`], [`ErrorKind::InvalidConfig`], or
    /// [`ErrorKind::NoRuntime`] when called outside a Tokio runtime.
    pub fn connect_lazy(self) -> Result<RedisStore, Error> {
        let (client, config, target) = self.parts()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::new(
                ErrorKind::NoRuntime,
                "connect_lazy must be called within a Tokio runtime",
            ));
        }
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::new(ErrorKind::InvalidConfig, e.to_string()))?;
        Ok(self.finish(conn, target))
    }
}

/// Why a [`RedisStore`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL does not parse or names an unsupported scheme (e.g. `rediss://`
    /// without a TLS feature).
    InvalidUrl,
    /// A setting is out of range (e.g. a zero timeout).
    InvalidConfig,
    /// Redis did not answer, refused the credentials, or refused scripts.
    Unreachable,
    /// [`RedisStoreBuilder::connect_lazy`] was called outside a Tokio runtime.
    NoRuntime,
}

/// Could not build a [`RedisStore`]. The message never contains a password.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The URL with its password (userinfo, or a `pass`/`password` query
/// parameter) replaced by `***`, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    // An `@` after a `/`, `?` or `#` is ambiguous: a password with one of those
    // unescaped, or an `@` inside the query. Either way part of a secret could
    // be shown, so everything after the scheme is.
    let first_delimiter = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest.rfind('@').is_some_and(|at| at > first_delimiter) {
        return format!("{scheme}***");
    }
    let authority_end = first_delimiter;
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let host = &authority[at + 1..];
            match userinfo.find(':') {
                Some(colon) => format!("{}:***@{host}", &userinfo[..colon]),
                // A lone userinfo may be a password given without a user.
                None => format!("***@{host}"),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q);
            let query = query[1..]
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _))
                        if k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password") =>
                    {
                        format!("{k}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&");
            format!("{path}?{query}")
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("redis://:hunter2@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(
            redact_url("rediss://alice:hunter2@host"),
            "rediss://alice:***@host"
        );
        assert_eq!(redact_url("redis://hunter2@host"), "redis://***@host");
        // Unescaped URL delimiters inside the password, or an `@` in a query
        // password: nothing of it is shown.
        for pw in ["abc#123", "a/b", "x?y", "p@ss/w#rd?"] {
            for url in [
                format!("redis://:{pw}@host:6379/0"),
                format!("redis://user:{pw}@host"),
                format!("redis://host:6379/0?password={pw}"),
                format!("redis+unix:///tmp/r.sock?db=1&pass={pw}"),
            ] {
                let shown = redact_url(&url);
                for part in pw.split(['@', '/', '#', '?']).filter(|p| p.len() > 1) {
                    assert!(!shown.contains(part), "{url} -> {shown}");
                }
                assert!(shown.starts_with("redis"), "{shown}");
            }
        }
        assert_eq!(
            redact_url("redis+unix:///tmp/r.sock?db=1&pass=hunter2"),
            "redis+unix:///tmp/r.sock?db=1&pass=***"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn debug_never_prints_the_password() {
        let b = RedisStore::builder("redis://:hunter2@localhost:1/");
        let s = format!("{b:?}");
        assert!(!s.contains("hunter2"), "{s}");
    }

    #[tokio::test]
    async fn invalid_url_fails_fast() {
        let e = RedisStore::builder("http://:hunter2@nope")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl);
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = RedisStore::builder("not a url")
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl);
    }

    #[tokio::test]
    async fn zero_timeouts_are_refused() {
        let e = RedisStore::builder("redis://127.0.0.1:1/")
            .op_timeout(Duration::ZERO)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn connect_lazy_outside_a_runtime_is_an_error() {
        let e = RedisStore::builder("redis://127.0.0.1:1/")
            .connect_lazy()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoRuntime);
    }

    #[test]
    fn px_is_clamped() {
        assert_eq!(px(Duration::ZERO), 1);
        assert_eq!(px(Duration::from_millis(1500)), 1500);
        assert_eq!(px(Duration::MAX), MAX_PX);
    }
}
