//! Redis replay store for hookwise (work in progress: API outline).

use std::fmt;

use hookwise::replay::{BoxFuture, ReplayStore, Reserve, StoreError, Token};

/// A replay store on Redis.
#[derive(Clone)]
pub struct RedisStore {
    _priv: (),
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisStore")
    }
}

/// Builds a [`RedisStore`].
#[derive(Debug)]
pub struct RedisStoreBuilder {
    _url: String,
}

/// Could not connect.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl RedisStore {
    /// Starts a builder for `url`.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            _url: url.to_owned(),
        }
    }
}

impl RedisStoreBuilder {
    /// Connects.
    ///
    /// # Errors
    /// Always, for now.
    pub async fn connect(self) -> Result<RedisStore, Error> {
        Err(Error("not implemented yet".into()))
    }
}

impl ReplayStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        _: &'a str,
        _: &'a Token,
        _: std::time::Duration,
    ) -> BoxFuture<'a, Result<Reserve, StoreError>> {
        Box::pin(async { Err(StoreError("not implemented".into())) })
    }
    fn commit<'a>(
        &'a self,
        _: &'a str,
        _: &'a Token,
        _: std::time::Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError("not implemented".into())) })
    }
    fn release<'a>(&'a self, _: &'a str, _: &'a Token) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err(StoreError("not implemented".into())) })
    }
}
