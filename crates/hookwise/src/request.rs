//! The parts of a request a verifier looks at before the body.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::Headers;

/// Method, target and headers of a request, borrowed from whatever HTTP library
/// holds them.
///
/// ```
/// use hookwise::{HeaderList, RequestParts};
/// let headers = HeaderList::new().with("x-gitlab-token", "t0ken");
/// let req = RequestParts::new(&headers).method("POST").uri("/hooks/gitlab");
/// assert_eq!(req.get_uri(), "/hooks/gitlab");
/// ```
#[derive(Clone, Copy)]
pub struct RequestParts<'a> {
    pub(crate) headers: &'a dyn Headers,
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) certs: Option<&'a PeerCertificates>,
}

impl<'a> RequestParts<'a> {
    /// Headers only; method `POST`, target `/`.
    pub fn new(headers: &'a dyn Headers) -> Self {
        Self {
            headers,
            method: "POST",
            uri: "/",
            peer: None,
            certs: None,
        }
    }
    /// The request method.
    #[must_use]
    pub const fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }
    /// The request target as received (path and query).
    #[must_use]
    pub const fn uri(mut self, uri: &'a str) -> Self {
        self.uri = uri;
        self
    }
    /// The address of the connection's peer.
    #[must_use]
    pub const fn peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }
    /// The client certificates of the TLS connection (mutual TLS).
    #[must_use]
    pub const fn peer_certificates(mut self, certs: Option<&'a PeerCertificates>) -> Self {
        self.certs = certs;
        self
    }
    /// The headers.
    pub fn headers(&self) -> &'a dyn Headers {
        self.headers
    }
    /// The method.
    pub const fn get_method(&self) -> &'a str {
        self.method
    }
    /// The request target.
    pub const fn get_uri(&self) -> &'a str {
        self.uri
    }
    /// The peer address, when known.
    pub const fn get_peer(&self) -> Option<SocketAddr> {
        self.peer
    }
}

impl<'a> From<&'a http::request::Parts> for RequestParts<'a> {
    fn from(p: &'a http::request::Parts) -> Self {
        Self::new(&p.headers)
            .method(p.method.as_str())
            .uri(p.uri.path_and_query().map_or("/", |pq| pq.as_str()))
    }
}

/// The DER certificates the client presented, leaf first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCertificates(pub Arc<[Vec<u8>]>);

impl PeerCertificates {
    /// From DER certificates, leaf first.
    pub fn new(certs: impl IntoIterator<Item = Vec<u8>>) -> Self {
        Self(certs.into_iter().collect())
    }
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.0.first().map(Vec::as_slice)
    }
}
