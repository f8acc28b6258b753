//! Reading request headers, whatever HTTP library holds them.

/// What a header lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// No such header.
    Missing,
    /// Exactly one value.
    One(&'a [u8]),
    /// The header was sent more than once (ambiguous for a signature: rejected).
    Many,
}

/// Read access to request headers. Implemented for `http::HeaderMap` (1.x) here,
/// for actix-web's map in `hookwise-actix`, and for [`HeaderList`].
///
/// `name` is always passed in lowercase by hookwise's own schemes; an
/// implementation should still match it case-insensitively (a custom
/// [`crate::scheme::Source::Header`] may carry capitals).
/// [`lookup_lowercase`] does both for a map whose names are kept lowercase.
pub trait Headers {
    /// Looks a header up by its lowercase name.
    fn lookup(&self, name: &str) -> Lookup<'_>;
}

impl Headers for http::HeaderMap {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        // A walk over the names, not `get_all(name)`: that parses, validates
        // and hashes `name` on every call, which cost more than comparing it
        // with the few names a delivery carries (by hash with a prepared
        // `HeaderName` too: measured). The map keeps names lowercase, so the
        // compare is byte for byte; the loop is written out here because
        // through iterator adapters it was not inlined (+265 Ir per request).
        let mut found = None;
        for (n, v) in self {
            if n.as_str() == name {
                if found.is_some() {
                    return Lookup::Many;
                }
                found = Some(v.as_bytes());
            }
        }
        match found {
            Some(v) => Lookup::One(v),
            None if name.bytes().any(|b| b.is_ascii_uppercase()) => lookup_lowercase(
                || self.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
                name,
            ),
            None => Lookup::Missing,
        }
    }
}

/// A `Content-Length` value as the adapters read it: ASCII digits (around
/// spaces) that fit a `u64`, any number of leading zeros included (as
/// actix-http and hyper frame such a body by the number); `None` otherwise
/// (`+5`, `-1`, `1e3`, empty, or too large). Parsed from the bytes, with no
/// UTF-8 view first.
///
/// ```
/// use hookwise::parse_content_length;
/// assert_eq!(parse_content_length(b"1024"), Some(1024));
/// assert_eq!(parse_content_length(b" 0007 "), Some(7));
/// assert_eq!(parse_content_length(b"+5"), None);
/// assert_eq!(parse_content_length(b"18446744073709551616"), None);
/// ```
pub fn parse_content_length(value: &[u8]) -> Option<u64> {
    let v = value.trim_ascii();
    if v.is_empty() {
        return None;
    }
    // One pass: each byte checked and added (a digit check of the whole
    // value, then a fold, was ~120 instructions for `1024`).
    let mut n = 0u64;
    for &c in v {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// [`Headers::lookup`] over `(name, value)` pairs whose names are all
/// lowercase, as an `http` map keeps them (whatever case the sender wrote):
/// names are compared byte for byte, which is a `memcmp` rather than a
/// case-folding loop per byte. A `name` with uppercase letters is still
/// found (case-insensitively, as `get_all` would), at the cost of a second
/// walk when the first finds nothing.
///
/// `pairs` gives the map's pairs afresh on each call. For implementing
/// [`Headers`] on another framework's map (the actix adapter uses it).
///
/// ```
/// use hookwise::{Lookup, lookup_lowercase};
/// let pairs = [("x-a", &b"1"[..]), ("x-b", b"2"), ("x-b", b"3")];
/// let all = || pairs.iter().copied();
/// assert_eq!(lookup_lowercase(all, "x-a"), Lookup::One(b"1"));
/// assert_eq!(lookup_lowercase(all, "X-A"), Lookup::One(b"1"));
/// assert_eq!(lookup_lowercase(all, "x-b"), Lookup::Many);
/// assert_eq!(lookup_lowercase(all, "x-c"), Lookup::Missing);
/// ```
pub fn lookup_lowercase<'a, I>(pairs: impl Fn() -> I, name: &str) -> Lookup<'a>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let found = walk(pairs(), |n| n == name);
    if found == Lookup::Missing && name.bytes().any(|b| b.is_ascii_uppercase()) {
        return walk(pairs(), |n| n.eq_ignore_ascii_case(name));
    }
    found
}

fn walk<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    is: impl Fn(&str) -> bool,
) -> Lookup<'a> {
    let mut found = None;
    for (n, v) in pairs {
        if is(n) {
            if found.is_some() {
                return Lookup::Many;
            }
            found = Some(v);
        }
    }
    found.map_or(Lookup::Missing, Lookup::One)
}

/// Headers as a list of `(name, value)` pairs: for the CLI, tests and any
/// framework without an `http` map.
///
/// ```
/// use hookwise::{HeaderList, Headers, Lookup};
/// let h = HeaderList::parse("X-Hub-Signature-256: sha256=00\nX-GitHub-Event: push\n").unwrap();
/// assert_eq!(h.lookup("x-github-event"), Lookup::One(b"push"));
/// ```
///
/// Names keep the case they were given (for display) and are looked up
/// case-insensitively (a lowercase copy is kept for that).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderList(Vec<Entry>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    name: String,
    lower: String,
    value: Vec<u8>,
}

impl HeaderList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a header.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        let name = name.into();
        self.0.push(Entry {
            lower: name.to_ascii_lowercase(),
            name,
            value: value.into(),
        });
    }
    /// Adds a header, builder style.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.push(name, value);
        self
    }
    /// Parses `Name: value` lines, as copied from a request log. Blank lines and
    /// a leading request line (`POST /path HTTP/1.1`) are skipped.
    ///
    /// # Errors
    /// The 1-based number of the first line without a colon.
    pub fn parse(text: &str) -> Result<Self, usize> {
        let mut out = Self::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || (i == 0 && line.contains(" HTTP/")) {
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(i + 1)?;
            out.push(name.trim(), value.trim().as_bytes().to_vec());
        }
        Ok(out)
    }
    /// The pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|e| (e.name.as_str(), e.value.as_slice()))
    }
}

impl Headers for HeaderList {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        lookup_lowercase(
            || {
                self.0
                    .iter()
                    .map(|e| (e.lower.as_str(), e.value.as_slice()))
            },
            name,
        )
    }
}

impl<N: Into<String>, V: Into<Vec<u8>>> FromIterator<(N, V)> for HeaderList {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut out = Self::new();
        for (n, v) in iter {
            out.push(n, v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_digits_that_fit() {
        use super::parse_content_length as len;
        assert_eq!(len(b"1024"), Some(1024));
        assert_eq!(len(b"\t7 "), Some(7));
        assert_eq!(len(b"0"), Some(0));
        assert_eq!(len(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(len(b"0000000000000000000000100"), Some(100));
        for bad in [
            &b""[..],
            b" ",
            b"+5",
            b"-1",
            b"1e3",
            b"12a",
            b"1 2",
            b"18446744073709551616",
            b"\xff1",
        ] {
            assert_eq!(len(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_map_lookup_reports_duplicates() {
        let mut m = http::HeaderMap::new();
        m.append("x-a", http::HeaderValue::from_static("1"));
        m.append("x-b", http::HeaderValue::from_static("1"));
        m.append("x-b", http::HeaderValue::from_static("2"));
        assert_eq!(m.lookup("x-a"), Lookup::One(b"1"));
        assert_eq!(m.lookup("x-b"), Lookup::Many);
        assert_eq!(m.lookup("x-c"), Lookup::Missing);
        // Names are kept lowercase whatever the sender wrote; standard ones too.
        m.append(
            http::HeaderName::from_bytes(b"X-Hub-Signature-256").unwrap(),
            http::HeaderValue::from_static("sha256=00"),
        );
        m.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("a/b"),
        );
        assert_eq!(m.lookup("x-hub-signature-256"), Lookup::One(b"sha256=00"));
        assert_eq!(m.lookup("content-type"), Lookup::One(b"a/b"));
        assert_eq!(m.lookup("x-hub-signature"), Lookup::Missing);
        // Any case asked, as `get_all` answers.
        assert_eq!(m.lookup("X-Hub-Signature-256"), Lookup::One(b"sha256=00"));
        // The same answers as `get_all`, on a map of many headers.
        for i in 0..100 {
            m.append(
                http::HeaderName::from_bytes(format!("x-h{}", i % 40).as_bytes()).unwrap(),
                http::HeaderValue::from(i),
            );
        }
        for name in ["x-h0", "x-h39", "x-h40", "x-a", "x-b", "content-type"] {
            let mut all = m.get_all(name).iter();
            let expected = match (all.next(), all.next()) {
                (None, _) => Lookup::Missing,
                (Some(v), None) => Lookup::One(v.as_bytes()),
                _ => Lookup::Many,
            };
            assert_eq!(m.lookup(name), expected, "{name}");
        }
    }

    #[test]
    fn list_lookup_ignores_case_and_keeps_names_as_given() {
        let h = HeaderList::new()
            .with("Webhook-Signature", "v1,a")
            .with("webhook-id", "1")
            .with("WEBHOOK-ID", "2");
        assert_eq!(h.lookup("webhook-signature"), Lookup::One(b"v1,a"));
        assert_eq!(h.lookup("Webhook-Signature"), Lookup::One(b"v1,a"));
        assert_eq!(h.lookup("webhook-id"), Lookup::Many);
        assert_eq!(h.lookup("webhook-timestamp"), Lookup::Missing);
        let names: Vec<&str> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Webhook-Signature", "webhook-id", "WEBHOOK-ID"]);
    }

    #[test]
    fn list_parse_skips_request_line_and_rejects_garbage() {
        let h = HeaderList::parse("POST /hook HTTP/1.1\r\nA: b\r\n\r\n").unwrap();
        assert_eq!(h.lookup("a"), Lookup::One(b"b"));
        assert_eq!(HeaderList::parse("A: b\nnocolon"), Err(2));
    }
}
