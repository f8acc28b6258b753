//! actix-web's header map, seen through [`hookwise::Headers`].

use actix_web::http::header::HeaderMap;
use hookwise::{Headers, Lookup};

/// actix-web's [`HeaderMap`] as [`hookwise::Headers`], for calling a
/// [`hookwise::Verifier`] by hand.
///
/// actix-web 4 has its own header map (on `http` 0.2), so the core cannot
/// implement its trait for it; this newtype does.
///
/// ```
/// use actix_web::test::TestRequest;
/// use hookwise::{Headers, Lookup};
/// use hookwise_actix::ActixHeaders;
///
/// let req = TestRequest::post().insert_header(("X-GitHub-Event", "push")).to_http_request();
/// assert_eq!(ActixHeaders(req.headers()).lookup("x-github-event"), Lookup::One(b"push"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        walk(self.0, name)
    }
}

/// [`ActixHeaders`]' lookup.
fn walk<'a>(map: &'a HeaderMap, name: &str) -> Lookup<'a> {
    // A walk over the names (kept lowercase, as in any `http` map, so
    // compared byte for byte), not `get_all(name)`: for a non-standard
    // name that parses it into a new `HeaderName`, an allocation per
    // lookup. A request has at most actix's header limit. Written out, as
    // in the core's `http::HeaderMap` lookup, so that it is inlined.
    let mut found = None;
    for (n, v) in map.iter() {
        if n.as_str() == name {
            if found.is_some() {
                return Lookup::Many;
            }
            found = Some(v.as_bytes());
        }
    }
    match found {
        Some(v) => Lookup::One(v),
        None if name.bytes().any(|b| b.is_ascii_uppercase()) => {
            hookwise::lookup_lowercase(|| map.iter().map(|(n, v)| (n.as_str(), v.as_bytes())), name)
        }
        None => Lookup::Missing,
    }
}

/// actix-web's headers flattened once into `(name, value)` pairs on the
/// stack, for the extractor's several lookups per request: walking actix's
/// map (a hash map of multi-value entries) cost ~45 instructions per header
/// per lookup, a slice ~10. Maps with more headers than fit are walked as
/// [`ActixHeaders`] does.
pub(crate) struct FlatHeaders<'a> {
    pairs: arrayvec::ArrayVec<(&'a str, &'a [u8]), FLAT>,
    /// More headers than fit: every lookup walks the map.
    overflow: bool,
    map: &'a HeaderMap,
}

/// Headers kept flat: a webhook request carries about ten (GitHub: twelve).
const FLAT: usize = 16;

impl<'a> FlatHeaders<'a> {
    /// Empty: [`FlatHeaders::fill`] then reads the map into it, in place. A
    /// constructor returning the filled list moved its 520 bytes (a
    /// `memcpy` per request); an `ArrayVec` rather than an array of
    /// placeholders, so that nothing is written before the first header.
    #[inline]
    pub(crate) fn empty(map: &'a HeaderMap) -> Self {
        Self {
            pairs: arrayvec::ArrayVec::new(),
            overflow: false,
            map,
        }
    }

    /// Reads the map's headers in (all of them, or none when they do not fit).
    pub(crate) fn fill(&mut self) {
        for (name, v) in self.map.iter() {
            if self.pairs.try_push((name.as_str(), v.as_bytes())).is_err() {
                self.overflow = true;
                return;
            }
        }
    }

    #[cfg(test)]
    fn new(map: &'a HeaderMap) -> Self {
        let mut this = Self::empty(map);
        this.fill();
        this
    }
}

impl Headers for FlatHeaders<'_> {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        if self.overflow {
            return walk(self.map, name);
        }
        let pairs = &self.pairs;
        let mut found = None;
        for &(n, v) in pairs {
            if n == name {
                if found.is_some() {
                    return Lookup::Many;
                }
                found = Some(v);
            }
        }
        match found {
            Some(v) => Lookup::One(v),
            None if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                hookwise::lookup_lowercase(|| pairs.iter().copied(), name)
            }
            None => Lookup::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn lookup_reports_missing_one_and_many() {
        let mut m = HeaderMap::new();
        let a = HeaderName::from_static("x-a");
        let b = HeaderName::from_static("x-b");
        m.append(a, HeaderValue::from_static("1"));
        m.append(b.clone(), HeaderValue::from_static("1"));
        m.append(b, HeaderValue::from_static("2"));
        let h = ActixHeaders(&m);
        let flat = FlatHeaders::new(&m);
        for name in ["x-a", "x-b", "x-c", "X-A"] {
            assert_eq!(flat.lookup(name), h.lookup(name), "{name}");
        }
        drop(flat);
        assert_eq!(h.lookup("x-a"), Lookup::One(b"1"));
        assert_eq!(h.lookup("x-b"), Lookup::Many);
        assert_eq!(h.lookup("x-c"), Lookup::Missing);
        // The same answers as `get_all`, with mixed-case and standard names.
        m.append(
            HeaderName::from_bytes(b"X-Hub-Signature-256").unwrap(),
            HeaderValue::from_static("sha256=00"),
        );
        m.insert(
            actix_web::http::header::CONTENT_TYPE,
            HeaderValue::from_static("a/b"),
        );
        // Small enough to be held flat.
        let flat = FlatHeaders::new(&m);
        assert_eq!(
            flat.lookup("x-hub-signature-256"),
            Lookup::One(b"sha256=00")
        );
        assert_eq!(
            flat.lookup("X-Hub-Signature-256"),
            Lookup::One(b"sha256=00")
        );
        assert_eq!(flat.lookup("content-type"), Lookup::One(b"a/b"));
        drop(flat);
        for i in 0..100u32 {
            m.append(
                HeaderName::from_bytes(format!("x-h{}", i % 40).as_bytes()).unwrap(),
                HeaderValue::from(i),
            );
        }
        let h = ActixHeaders(&m);
        for name in [
            "x-hub-signature-256",
            "X-Hub-Signature-256",
            "content-type",
            "x-h0",
            "x-h39",
            "x-h40",
            "x-a",
            "x-b",
        ] {
            let mut all = m.get_all(name);
            let expected = match (all.next(), all.next()) {
                (None, _) => Lookup::Missing,
                (Some(v), None) => Lookup::One(v.as_bytes()),
                _ => Lookup::Many,
            };
            assert_eq!(h.lookup(name), expected, "{name}");
            // Too many to hold flat: walked, with the same answers.
            assert_eq!(FlatHeaders::new(&m).lookup(name), expected, "{name}");
        }
    }
}
