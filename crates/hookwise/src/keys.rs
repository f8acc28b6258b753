//! Keys and keyrings: several secrets at once, so a secret rotates without downtime.

use std::borrow::Cow;

use crate::{ConfigError, Secret};

/// One secret with an optional label and validity window.
///
/// ```
/// use hookwise::Key;
/// let key = Key::new("new-secret").unwrap().label("2026-11").valid_from(1_790_000_000);
/// assert_eq!(key.name(0), "2026-11");
/// ```
#[derive(Clone, Debug)]
pub struct Key {
    pub(crate) secret: Secret,
    pub(crate) label: Option<Cow<'static, str>>,
    pub(crate) not_before: Option<i64>,
    pub(crate) not_after: Option<i64>,
}

impl Key {
    /// A key from a secret, exactly as the sender shows it (for example the whole
    /// `whsec_…` string: each sender's scheme decides how to decode it).
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty or whitespace-only secret.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Ok(Self::from_secret(Secret::new(secret)?))
    }

    /// A key from a [`Secret`].
    pub const fn from_secret(secret: Secret) -> Self {
        Self {
            secret,
            label: None,
            not_before: None,
            not_after: None,
        }
    }

    /// Names the key; the name is reported in [`Delivery::key`](crate::Delivery::key).
    ///
    /// Names are unique within a verifier (an unlabelled key is named
    /// `key-<index>`): a label given twice, even to keys with disjoint validity
    /// windows, is refused with [`ConfigError::DuplicateKeyName`], since a
    /// delivery names the key that matched and Zoom's handshake answers with
    /// the key of that name. Use `2026-11` / `2026-12` rather than `current` twice.
    #[must_use]
    pub fn label(mut self, label: impl Into<Cow<'static, str>>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The key is used only from this Unix time (seconds) on.
    #[must_use]
    pub const fn valid_from(mut self, unix: i64) -> Self {
        self.not_before = Some(unix);
        self
    }

    /// The key is used only until this Unix time (seconds).
    #[must_use]
    pub const fn valid_until(mut self, unix: i64) -> Self {
        self.not_after = Some(unix);
        self
    }

    /// The secret.
    pub const fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The key's label, or `key-<index>` when it has none.
    pub fn name(&self, index: usize) -> Cow<'static, str> {
        const NAMES: [&str; 8] = [
            "key-0", "key-1", "key-2", "key-3", "key-4", "key-5", "key-6", "key-7",
        ];
        self.label.clone().unwrap_or_else(|| {
            NAMES
                .get(index)
                .map_or_else(|| Cow::Owned(format!("key-{index}")), |n| Cow::Borrowed(*n))
        })
    }

    #[cfg(test)]
    pub(crate) fn active_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|t| now >= t) && self.not_after.is_none_or(|t| now <= t)
    }
}

/// One or more keys. A request passes when it matches any key active now.
///
/// ```
/// use hookwise::Keyring;
/// let ring = Keyring::new().secret("old").unwrap().secret("new").unwrap();
/// assert_eq!(ring.len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    pub(crate) keys: Vec<Key>,
}

impl Keyring {
    /// An empty keyring (a verifier refuses to build with no key).
    pub const fn new() -> Self {
        Self { keys: Vec::new() }
    }

    /// Adds a secret.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] for an empty or whitespace-only secret.
    pub fn secret(self, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Ok(self.key(Key::new(secret)?))
    }

    /// Adds a key.
    #[must_use]
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys?
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        for (i, k) in self.keys.iter().enumerate() {
            if let (Some(a), Some(b)) = (k.not_before, k.not_after) {
                if b < a {
                    return Err(ConfigError::BadValidity);
                }
            }
            // A delivery names the key that matched (`Delivery::key`), and
            // Zoom's handshake signs its answer with the key of that name.
            let name = k.name(i);
            if self.keys[..i]
                .iter()
                .enumerate()
                .any(|(j, other)| other.name(j) == name)
            {
                return Err(ConfigError::DuplicateKeyName(name.into_owned()));
            }
        }
        Ok(())
    }
}

impl From<Key> for Keyring {
    fn from(key: Key) -> Self {
        Self::new().key(key)
    }
}

impl From<Secret> for Keyring {
    fn from(secret: Secret) -> Self {
        Self::new().key(Key::from_secret(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_window() {
        let k = Key::new("s").unwrap().valid_from(10).valid_until(20);
        assert!(!k.active_at(9));
        assert!(k.active_at(10));
        assert!(k.active_at(20));
        assert!(!k.active_at(21));
        let bad = Keyring::from(Key::new("s").unwrap().valid_from(20).valid_until(10));
        assert_eq!(bad.validate(), Err(ConfigError::BadValidity));
        assert_eq!(Keyring::new().validate(), Err(ConfigError::NoKeys));
    }

    #[test]
    fn key_names_must_be_unique() {
        // (first key's label, second key's label, the name refused if any).
        let cases = [
            (Some("2026"), "2026", Some("2026")),
            // A label that is another key's index name collides too.
            (None, "key-0", Some("key-0")),
            (None, "next", None),
        ];
        for (first, second, refused) in cases {
            let a = Key::new("a").unwrap();
            let ring = Keyring::new()
                .key(match first {
                    Some(label) => a.label(label),
                    None => a,
                })
                .key(Key::new("b").unwrap().label(second));
            let want = refused.map_or(Ok(()), |n| Err(ConfigError::DuplicateKeyName(n.into())));
            assert_eq!(ring.validate(), want, "{first:?} / {second}");
        }
    }

    #[test]
    fn unnamed_keys_get_index_names() {
        let k = Key::new("s").unwrap();
        assert_eq!(k.name(3), "key-3");
        assert_eq!(k.label("primary").name(3), "primary");
    }
}
