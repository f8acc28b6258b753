//! Secrets that never show up in logs.

use std::fmt;

use zeroize::Zeroizing;

use crate::ConfigError;

/// A shared secret (signing key, token or password).
///
/// The bytes are zeroized when dropped, and `Debug` prints `Secret([redacted])`,
/// so a secret that ends up in a log line or a panic message is not disclosed.
/// An empty or whitespace-only secret is refused: there is no "verification
/// skipped" path.
///
/// ```
/// use hookwise::Secret;
/// let s = Secret::new("It's a Secret to Everybody").unwrap();
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert!(Secret::new("   ").is_err());
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps a secret given as text (UTF-8), exactly as the sender shows it.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] when the secret is empty or only whitespace.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::from_bytes(secret.as_ref().to_vec())
    }

    /// Wraps raw secret bytes.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] when the bytes are empty or only ASCII whitespace.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Self(bytes))
    }

    /// The secret's bytes. Handle with care.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl TryFrom<&str> for Secret {
    type Error = ConfigError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl TryFrom<String> for Secret {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_bytes(value.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_secrets_are_refused() {
        for s in ["", " ", "\t\n  "] {
            assert!(
                matches!(Secret::new(s), Err(ConfigError::EmptySecret)),
                "{s:?}"
            );
        }
        assert_eq!(Secret::new(" x ").unwrap().expose(), b" x ");
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-planted").unwrap();
        let dbg = format!("{s:?} {:?}", vec![s.clone()]);
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }
}
