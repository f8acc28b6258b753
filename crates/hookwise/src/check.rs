//! Extra checks a verifier can require on top of its scheme, all of which must
//! pass: an IP allow-list, a client-certificate policy, or another header-only
//! authenticator (token, Basic auth). A rejection names the check that failed.

use crate::{ConfigError, Rejection, RequestParts, Verifier};

/// A check required in addition to the scheme ([`crate::VerifierBuilder::require`]).
#[derive(Clone, Debug)]
pub struct Check(pub(crate) CheckKind);

#[derive(Clone, Debug)]
pub(crate) enum CheckKind {
    #[cfg(feature = "ip")]
    Ip(crate::IpAllowList),
    #[cfg(feature = "mtls")]
    ClientCert(crate::ClientCertPolicy),
    Also(Verifier),
}

impl Check {
    /// The client address must be in the allow-list (403 `forbidden_address`).
    #[cfg(feature = "ip")]
    pub const fn ip(list: crate::IpAllowList) -> Self {
        Self(CheckKind::Ip(list))
    }

    /// The client certificate must match the policy (403 `forbidden_certificate`).
    #[cfg(feature = "mtls")]
    pub const fn client_cert(policy: crate::ClientCertPolicy) -> Self {
        Self(CheckKind::ClientCert(policy))
    }

    /// Another verifier whose scheme checks headers only (a token or Basic auth),
    /// e.g. Basic auth on top of mutual TLS.
    ///
    /// # Errors
    /// The verifier's scheme needs the body (use it as the primary scheme instead).
    pub fn also(verifier: Verifier) -> Result<Self, ConfigError> {
        if !verifier.scheme().is_header_only() {
            return Err(ConfigError::Scheme(
                "`Check::also` takes a header-only scheme (token or Basic auth)".into(),
            ));
        }
        Ok(Self(CheckKind::Also(verifier)))
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match &self.0 {
            #[cfg(feature = "mtls")]
            CheckKind::ClientCert(p) => p.validate(),
            _ => Ok(()),
        }
    }

    pub(crate) fn run(&self, req: &RequestParts<'_>) -> Result<(), Rejection> {
        match &self.0 {
            #[cfg(feature = "ip")]
            CheckKind::Ip(l) => l.check(req),
            #[cfg(feature = "mtls")]
            CheckKind::ClientCert(p) => p.check(req.certs),
            CheckKind::Also(v) => v.check_headers(req).map(drop),
        }
    }

    /// Whether this check reads the connection (peer address, client
    /// certificates), itself or through an `also` verifier.
    pub(crate) fn reads_connection(&self) -> bool {
        match &self.0 {
            #[cfg(feature = "ip")]
            CheckKind::Ip(_) => true,
            #[cfg(feature = "mtls")]
            CheckKind::ClientCert(_) => true,
            CheckKind::Also(v) => v.reads_connection(),
        }
    }

    /// Whether this check looks at the network (IP, certificate) rather than
    /// credentials: those run first.
    pub(crate) const fn is_network(&self) -> bool {
        !matches!(self.0, CheckKind::Also(_))
    }
}
