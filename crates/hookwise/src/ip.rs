//! IP allow-lists, with the forwarding header (`X-Forwarded-For`, or
//! `Forwarded` when chosen) honoured only from trusted proxies. Never sufficient alone: combine with a signature scheme
//! ([`crate::VerifierBuilder::require`]).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::headers::Lookup;
use crate::{ConfigError, Headers, Reason, Rejection, RequestParts};

/// Most entries read from a forwarding header; a longer chain is refused.
const MAX_HOPS: usize = 32;

/// Allowed client networks (IPv4 and IPv6 CIDR ranges or single addresses).
///
/// ```
/// use hookwise::IpAllowList;
/// let list = IpAllowList::new(["192.30.252.0/22", "2a0a:a440::/29"]).unwrap()
///     .trust_proxies(["10.0.0.0/8"]).unwrap();
/// assert!(list.allows("192.30.253.1".parse().unwrap()));
/// assert!(!list.allows("203.0.113.9".parse().unwrap()));
/// ```
#[derive(Clone, Debug, Default)]
pub struct IpAllowList {
    allowed: Vec<IpNet>,
    proxies: Vec<IpNet>,
    header: ForwardingHeader,
}

/// The header your trusted proxies write the client's address into
/// ([`IpAllowList::forwarding_header`]).
///
/// Only that one header is read; the other is ignored. A proxy that appends
/// to one of them passes a client's own copy of the other through untouched,
/// so believing whichever is present would let any client name its address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1, …`, which nginx
    /// (`$proxy_add_x_forwarded_for`), HAProxy, the AWS and Google Cloud load
    /// balancers and Cloudflare write. The default.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardingHeader {
    /// The header's name, lowercase.
    pub const fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

fn parse_nets<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<IpNet>, ConfigError> {
    items
        .into_iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map(canonical_net)
                .map_err(|_| {
                    ConfigError::Scheme(format!("not an IP address or CIDR range: {s:?}").into())
                })
        })
        .collect()
}

impl IpAllowList {
    /// Allows these ranges.
    ///
    /// # Errors
    /// An entry that is not an address or a CIDR range, or an empty list.
    pub fn new<'a>(ranges: impl IntoIterator<Item = &'a str>) -> Result<Self, ConfigError> {
        let allowed = parse_nets(ranges)?;
        if allowed.is_empty() {
            return Err(ConfigError::Scheme(
                "an empty IP allow-list would refuse everything".into(),
            ));
        }
        Ok(Self {
            allowed,
            proxies: Vec::new(),
            header: ForwardingHeader::default(),
        })
    }

    /// Trusts these proxies: when the connection comes from one of them, the
    /// client address is read from the [forwarding header](Self::forwarding_header)
    /// (`X-Forwarded-For` unless chosen otherwise).
    ///
    /// # Errors
    /// An entry that is not an address or a CIDR range.
    pub fn trust_proxies<'a>(
        mut self,
        ranges: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ConfigError> {
        self.proxies = parse_nets(ranges)?;
        Ok(self)
    }

    /// Which header the trusted proxies write (default
    /// [`ForwardingHeader::XForwardedFor`]); the other one is never read.
    ///
    /// ```
    /// use hookwise::{ForwardingHeader, IpAllowList};
    /// let list = IpAllowList::new(["192.30.252.0/22"]).unwrap()
    ///     .trust_proxies(["10.0.0.0/8"]).unwrap()
    ///     .forwarding_header(ForwardingHeader::Forwarded);
    /// # let _ = list;
    /// ```
    #[must_use]
    pub const fn forwarding_header(mut self, header: ForwardingHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether `ip` is in an allowed range.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allowed.iter().any(|n| n.contains(&ip))
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client address: the peer, or, when the peer is a trusted proxy, the
    /// right-most address in the [forwarding header](Self::forwarding_header)'s
    /// chain that is not a trusted proxy.
    ///
    /// # Errors
    /// A forwarding header that cannot be parsed (400), or sent twice.
    pub fn client_ip(&self, peer: IpAddr, headers: &dyn Headers) -> Result<IpAddr, Rejection> {
        if !self.trusted(peer) {
            return Ok(peer);
        }
        let name = self.header.name();
        let chain = match headers.lookup(name) {
            Lookup::One(v) => match self.header {
                ForwardingHeader::XForwardedFor => parse_xff(v)?,
                ForwardingHeader::Forwarded => parse_forwarded(v)?,
            },
            Lookup::Missing => return Ok(peer),
            Lookup::Many => {
                return Err(Rejection::new(
                    Reason::MalformedHeader,
                    "forwarding header sent more than once",
                )
                .header(name));
            }
        };
        let mut client = peer;
        for ip in chain.into_iter().rev() {
            client = ip;
            if !self.trusted(ip) {
                break;
            }
        }
        Ok(client)
    }

    /// Checks the request's client address.
    ///
    /// # Errors
    /// [`Reason::ForbiddenAddress`] (403), or 400 for a malformed forwarding header.
    pub fn check(&self, req: &RequestParts<'_>) -> Result<(), Rejection> {
        let Some(peer) = req.peer else {
            return Err(Rejection::new(
                Reason::ForbiddenAddress,
                "ip allow-list: the peer address is unknown (the server did not provide it)",
            ));
        };
        let ip = self.client_ip(peer.ip(), req.headers)?;
        if self.allows(ip) {
            Ok(())
        } else {
            Err(Rejection::new(
                Reason::ForbiddenAddress,
                format!("ip allow-list: {ip} is not allowed"),
            ))
        }
    }
}

/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as the IPv4 range it
/// covers, since addresses are compared in IPv4 form.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn bad(what: &'static str) -> Rejection {
    Rejection::new(Reason::MalformedHeader, what)
}

fn parse_xff(v: &[u8]) -> Result<Vec<IpAddr>, Rejection> {
    let s = std::str::from_utf8(v)
        .map_err(|_| bad("X-Forwarded-For is not UTF-8").header("x-forwarded-for"))?;
    let parts: Vec<&str> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > MAX_HOPS {
        return Err(bad("X-Forwarded-For has too many entries").header("x-forwarded-for"));
    }
    parts
        .into_iter()
        .map(|p| {
            parse_node(p).ok_or_else(|| {
                bad("X-Forwarded-For entry is not an address").header("x-forwarded-for")
            })
        })
        .collect()
}

/// RFC 7239: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`.
fn parse_forwarded(v: &[u8]) -> Result<Vec<IpAddr>, Rejection> {
    let s =
        std::str::from_utf8(v).map_err(|_| bad("Forwarded is not UTF-8").header("forwarded"))?;
    let mut out = Vec::new();
    for element in s.split(',') {
        for pair in element.split(';') {
            let Some((k, val)) = pair.trim().split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("for") {
                let val = val.trim().trim_matches('"');
                out.push(parse_node(val).ok_or_else(|| {
                    bad("Forwarded `for=` is not an address").header("forwarded")
                })?);
            }
        }
        if out.len() > MAX_HOPS {
            return Err(bad("Forwarded has too many entries").header("forwarded"));
        }
    }
    Ok(out)
}

/// `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:443`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderList;

    fn list() -> IpAllowList {
        IpAllowList::new(["192.30.252.0/22", "2001:db8::/32"])
            .unwrap()
            .trust_proxies(["10.0.0.0/8", "fd00::/8"])
            .unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn direct_peers_ignore_forwarding_headers() {
        let h = HeaderList::new().with("X-Forwarded-For", "192.30.252.1");
        assert_eq!(
            list().client_ip(ip("203.0.113.5"), &h).unwrap(),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn trusted_proxies_walk_the_chain_from_the_right() {
        let h = HeaderList::new().with("X-Forwarded-For", "192.30.252.1, 198.51.100.7, 10.1.1.1");
        // 198.51.100.7 is the first untrusted hop from the right: an attacker can prepend anything.
        assert_eq!(
            list().client_ip(ip("10.0.0.1"), &h).unwrap(),
            ip("198.51.100.7")
        );
        let h = HeaderList::new().with(
            "Forwarded",
            "for=192.30.252.9;proto=https, for=\"[fd00::1]:443\"",
        );
        assert_eq!(
            list()
                .forwarding_header(ForwardingHeader::Forwarded)
                .client_ip(ip("fd00::2"), &h)
                .unwrap(),
            ip("192.30.252.9")
        );
        let h = HeaderList::new().with("X-Forwarded-For", "192.30.252.1:5555");
        assert_eq!(
            list().client_ip(ip("10.0.0.1"), &h).unwrap(),
            ip("192.30.252.1")
        );
    }

    #[test]
    fn only_the_chosen_forwarding_header_is_read() {
        // A proxy that appends to X-Forwarded-For passes the client's own
        // `Forwarded` through: believing it would let the client pick an
        // allowed address.
        let h = HeaderList::new()
            .with("Forwarded", "for=192.30.252.1")
            .with("X-Forwarded-For", "203.0.113.9");
        assert_eq!(
            list().client_ip(ip("10.0.0.1"), &h).unwrap(),
            ip("203.0.113.9")
        );
        let only_forwarded = HeaderList::new().with("Forwarded", "for=192.30.252.1");
        assert_eq!(
            list().client_ip(ip("10.0.0.1"), &only_forwarded).unwrap(),
            ip("10.0.0.1"),
            "no X-Forwarded-For: the proxy itself is the client"
        );
        // And the other way round, when the proxies write `Forwarded`.
        let fwd = list().forwarding_header(ForwardingHeader::Forwarded);
        let h = HeaderList::new()
            .with("Forwarded", "for=203.0.113.9")
            .with("X-Forwarded-For", "192.30.252.1");
        assert_eq!(
            fwd.client_ip(ip("10.0.0.1"), &h).unwrap(),
            ip("203.0.113.9")
        );
        let twice = HeaderList::new()
            .with("Forwarded", "for=203.0.113.9")
            .with("forwarded", "for=192.30.252.1");
        assert_eq!(
            fwd.client_ip(ip("10.0.0.1"), &twice).unwrap_err().code(),
            "malformed_header"
        );
        // Through `check`: the spoofed `Forwarded` gets a 403, not a pass.
        let spoof = HeaderList::new().with("Forwarded", "for=192.30.252.1");
        let peer = Some(std::net::SocketAddr::new(ip("10.0.0.1"), 443));
        let req = RequestParts::new(&spoof).peer(peer);
        assert_eq!(list().check(&req).unwrap_err().code(), "forbidden_address");
    }

    #[test]
    fn malformed_chains_are_rejected() {
        for v in ["not-an-ip", "1.2.3.4, x", &"1.1.1.1,".repeat(40)] {
            let h = HeaderList::new().with("X-Forwarded-For", v);
            assert_eq!(
                list().client_ip(ip("10.0.0.1"), &h).unwrap_err().code(),
                "malformed_header",
                "{v}"
            );
        }
        let h = HeaderList::new()
            .with("X-Forwarded-For", "1.1.1.1")
            .with("x-forwarded-for", "2.2.2.2");
        assert!(list().client_ip(ip("10.0.0.1"), &h).is_err());
    }

    #[test]
    fn v4_mapped_v6_and_ranges() {
        let l = list();
        assert!(l.allows(ip("::ffff:192.30.255.255")));
        let mapped = IpAllowList::new(["::ffff:10.0.0.0/104"]).unwrap();
        assert!(mapped.allows(ip("10.1.2.3")));
        assert!(mapped.allows(ip("::ffff:10.1.2.3")));
        assert!(!mapped.allows(ip("11.0.0.1")));
        assert!(l.allows(ip("2001:db8::1")));
        assert!(!l.allows(ip("2001:db9::1")));
        assert!(IpAllowList::new(["nope"]).is_err());
        assert!(IpAllowList::new(Vec::<&str>::new()).is_err());
    }
}
