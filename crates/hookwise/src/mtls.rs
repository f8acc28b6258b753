//! Mutual TLS: an identity check on the client certificate. hookwise does not
//! terminate TLS; the server puts the peer certificates on the request as a
//! [`PeerCertificates`] extension (axum: an accept loop; actix: `on_connect`),
//! and this policy checks the leaf certificate's SHA-256 fingerprint, subject
//! common name or subject alternative names against an allow-list. Chain
//! validation is the TLS server's job (configure it with your client CA).

use sha2::{Digest, Sha256};

use crate::{ConfigError, PeerCertificates, Reason, Rejection};

/// Which client certificates are allowed: any match passes.
///
/// ```
/// use hookwise::ClientCertPolicy;
/// let policy = ClientCertPolicy::new().dns_name("sender.example.com").subject_cn("Acme Webhooks");
/// # let _ = policy;
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClientCertPolicy {
    fingerprints: Vec<[u8; 32]>,
    common_names: Vec<String>,
    dns_names: Vec<String>,
    uris: Vec<String>,
    emails: Vec<String>,
}

impl ClientCertPolicy {
    /// An empty policy (refused by [`crate::VerifierBuilder::build`] until an identity is added).
    pub fn new() -> Self {
        Self::default()
    }
    /// Allows the certificate with this SHA-256 fingerprint (hex, `:` separators allowed).
    ///
    /// # Errors
    /// Not 32 bytes of hex.
    pub fn fingerprint_sha256(mut self, hex_fp: &str) -> Result<Self, ConfigError> {
        let clean: String = hex_fp
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let bytes = hex::decode(clean)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        self.fingerprints.push(bytes.ok_or(ConfigError::Scheme(
            "a SHA-256 fingerprint is 32 bytes of hex".into(),
        ))?);
        Ok(self)
    }
    /// Allows a subject common name (exact).
    #[must_use]
    pub fn subject_cn(mut self, cn: &str) -> Self {
        self.common_names.push(cn.to_owned());
        self
    }
    /// Allows a DNS subject alternative name (case-insensitive, exact).
    #[must_use]
    pub fn dns_name(mut self, name: &str) -> Self {
        self.dns_names.push(name.to_ascii_lowercase());
        self
    }
    /// Allows a URI subject alternative name (exact, e.g. a SPIFFE id).
    #[must_use]
    pub fn uri(mut self, uri: &str) -> Self {
        self.uris.push(uri.to_owned());
        self
    }
    /// Allows an email subject alternative name (the domain without case, the
    /// local part exactly, as RFC 5280 §7.5 compares them).
    #[must_use]
    pub fn email(mut self, email: &str) -> Self {
        self.emails.push(email.to_owned());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.fingerprints.is_empty()
            && self.common_names.is_empty()
            && self.dns_names.is_empty()
            && self.uris.is_empty()
            && self.emails.is_empty()
        {
            return Err(ConfigError::Scheme(
                "a client-certificate policy needs at least one allowed identity".into(),
            ));
        }
        // An empty name (a trailing comma in a list) would match a certificate
        // with an empty CN or SAN: refused rather than allowed.
        let names = self.common_names.iter().chain(&self.dns_names);
        if names
            .chain(&self.uris)
            .chain(&self.emails)
            .any(|n| n.trim().is_empty())
        {
            return Err(ConfigError::Scheme(
                "a client-certificate policy has an empty identity".into(),
            ));
        }
        Ok(())
    }

    /// Checks the peer certificates.
    ///
    /// # Errors
    /// [`Reason::ForbiddenCertificate`] (403): no certificate, unparsable, or not allowed.
    pub fn check(&self, certs: Option<&PeerCertificates>) -> Result<(), Rejection> {
        let forbidden = |d: &'static str| Rejection::new(Reason::ForbiddenCertificate, d);
        let leaf = certs
            .and_then(PeerCertificates::leaf)
            .ok_or_else(|| forbidden("mtls: no client certificate"))?;
        let fp: [u8; 32] = Sha256::digest(leaf).into();
        if self.fingerprints.contains(&fp) {
            return Ok(());
        }
        if self.common_names.is_empty()
            && self.dns_names.is_empty()
            && self.uris.is_empty()
            && self.emails.is_empty()
        {
            return Err(forbidden("mtls: certificate fingerprint not allowed"));
        }
        let (_, cert) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|_| forbidden("mtls: the client certificate cannot be parsed"))?;
        for cn in cert.subject().iter_common_name() {
            if cn
                .as_str()
                .is_ok_and(|s| self.common_names.iter().any(|c| c == s))
            {
                return Ok(());
            }
        }
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            use x509_parser::extensions::GeneralName;
            for name in &san.value.general_names {
                let ok = match name {
                    GeneralName::DNSName(d) => {
                        self.dns_names.iter().any(|n| n.eq_ignore_ascii_case(d))
                    }
                    GeneralName::URI(u) => self.uris.iter().any(|n| n == u),
                    GeneralName::RFC822Name(e) => self.emails.iter().any(|n| email_eq(n, e)),
                    _ => false,
                };
                if ok {
                    return Ok(());
                }
            }
        }
        Err(forbidden(
            "mtls: the client certificate's identity is not allowed",
        ))
    }
}

/// RFC 5280 §7.5: the local part is compared exactly, the domain without case.
fn email_eq(want: &str, got: &str) -> bool {
    match (want.rsplit_once('@'), got.rsplit_once('@')) {
        (Some((wl, wd)), Some((gl, gd))) => wl == gl && wd.eq_ignore_ascii_case(gd),
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_identities_are_refused_at_build_time() {
        for policy in [
            ClientCertPolicy::new().subject_cn(""),
            ClientCertPolicy::new().dns_name(" "),
            ClientCertPolicy::new().dns_name("a.example").dns_name(""),
            ClientCertPolicy::new().uri(""),
            ClientCertPolicy::new().email(""),
        ] {
            assert!(policy.validate().is_err(), "{policy:?}");
        }
        assert!(
            ClientCertPolicy::new()
                .dns_name("a.example")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn emails_compare_the_local_part_exactly() {
        assert!(email_eq("alice@Example.COM", "alice@example.com"));
        assert!(!email_eq("alice@example.com", "Alice@example.com"));
        assert!(!email_eq("alice@example.com", "alice@example.org"));
    }
}
