//! Reading inputs and building schemes from command-line values.

use std::io::Read as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hookwise::{Scheme, providers};

/// Reads a body file byte for byte (`-`: standard input).
pub(crate) fn body(path: &Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| format!("reading standard input: {e}"))?;
        return Ok(b);
    }
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The scheme for a provider name; `url` is what that sender signs.
pub(crate) fn scheme(provider: &str, url: Option<&str>) -> Result<Scheme, String> {
    let url = if provider == "hubspot" {
        url.map(|u| split_url(u).0)
    } else {
        url
    };
    providers::by_name(provider, url).map_err(|e| match e {
        hookwise::ConfigError::UnknownProvider(p) => format!(
            "unknown provider `{p}`; known: {}",
            providers::NAMES.join(", ")
        ),
        other => other.to_string(),
    })
}

/// Splits `https://host:port/path?q` into origin and request target.
pub(crate) fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, "/"),
    }
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
