//! IP allow-lists, with `X-Forwarded-For` / `Forwarded` honoured only from
//! trusted proxies. Never sufficient alone: combine with a signature scheme
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
        })
    }

    /// Trusts these proxies: when the connection comes from one of them, the
    /// client address is read from `Forwarded` or `X-Forwarded-For`.
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
    /// right-most address in the forwarding chain that is not a trusted proxy.
    ///
    /// # Errors
    /// A forwarding header that cannot be parsed (400), or sent twice.
    pub fn client_ip(&self, peer: IpAddr, headers: &dyn Headers) -> Result<IpAddr, Rejection> {
        if !self.trusted(peer) {
            return Ok(peer);
        }
        let chain = match (
            headers.lookup("forwarded"),
            headers.lookup("x-forwarded-for"),
        ) {
            (Lookup::One(v), _) => parse_forwarded(v)?,
            (Lookup::Missing, Lookup::One(v)) => parse_xff(v)?,
            (Lookup::Missing, Lookup::Missing) => return Ok(peer),
            _ => {
                return Err(Rejection::new(
                    Reason::MalformedHeader,
                    "forwarding header sent more than once",
                )
                .header("x-forwarded-for"));
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
            list().client_ip(ip("fd00::2"), &h).unwrap(),
            ip("192.30.252.9")
        );
        let h = HeaderList::new().with("X-Forwarded-For", "192.30.252.1:5555");
        assert_eq!(
            list().client_ip(ip("10.0.0.1"), &h).unwrap(),
            ip("192.30.252.1")
        );
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
