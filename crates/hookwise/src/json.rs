//! Reading a few fields out of a JSON body in one pass, without building a tree.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Extracts the values at `paths` (each a list of object keys) from `body`.
/// Strings are returned as-is (borrowed from `body` unless they have escapes),
/// numbers as their decimal text; anything else,
/// a missing path or a body that is not a JSON object gives `None`.
///
/// A key sent twice in one object is ambiguous (serde_json's `Value` keeps
/// the last, a derived struct refuses it): here the first occurrence wins,
/// except for a top-level key first seen after a nested value that is also
/// the object's last member, which is read from the end. The body is signed, so only the
/// sender can write such a body; `duplicate_keys` pins both cases.
pub(crate) fn extract<'a, S: AsRef<str>, const N: usize>(
    body: &'a [u8],
    paths: [&[S]; N],
) -> [Option<Cow<'a, str>>; N] {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    if let Err(active) = scan(body, &paths, &mut out, &mut ()) {
        parse(body, &paths, active, &mut out);
    }
    out
}

/// [`extract`] without its fallback: `None` when the body needs the full
/// parse (an escaped key, malformed JSON), which the caller then runs with
/// [`extract`]. The scan calls `ahead` as it goes (see [`Ahead`]), so the
/// verifier can hash each block of a long body just before the scan reads it.
pub(crate) fn extract_fast<'a, S: AsRef<str>, A: Ahead, const N: usize>(
    body: &'a [u8],
    paths: [&[S]; N],
    ahead: &mut A,
) -> Option<[Option<Cow<'a, str>>; N]> {
    let mut out: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    scan(body, &paths, &mut out, ahead).ok().map(|()| out)
}

/// The common case on its own: one path, a top-level key, whose value is a
/// string without escapes, among the members before the first nested value
/// (Standard Webhooks' `type` ahead of `data`). `None` for anything else
/// (another value, an escape, a nested value first, a key not there,
/// malformed JSON), which [`extract`] then reads from the start. Where this
/// answers, `extract` gives the same answer: the first occurrence, since
/// its scan looks at the last member only once it meets a nested value,
/// where this gives up. Kept apart from the scan (which returns its results
/// through memory) so that the caller can build its answer in place; see
/// `scheme::body_fields` and BENCHMARKS.md.
#[inline]
pub(crate) fn one_top_level<'a, S: AsRef<str>, const N: usize>(
    b: &'a [u8],
    paths: &[&[S]; N],
) -> Option<(usize, &'a str)> {
    let mut wanted = paths.iter().enumerate().filter(|(_, p)| !p.is_empty());
    let (slot, [key]) = wanted.next()? else {
        return None;
    };
    if wanted.next().is_some() {
        return None;
    }
    let key = key.as_ref().as_bytes();
    let start = skip_ws(b, 0);
    (b.get(start) == Some(&b'{')).then_some(())?;
    let mut i = skip_ws(b, start + 1);
    loop {
        let (this, at) = member_key(b, i)?;
        i = at;
        match b.get(i)? {
            b'"' if this == key => {
                let rest = b.get(i + 1..)?;
                let n = memchr::memchr2(b'"', b'\\', rest)?;
                (rest[n] == b'"').then_some(())?;
                return Some((slot, std::str::from_utf8(&rest[..n]).ok()?));
            }
            b'{' | b'[' => return None,
            _ if this == key => return None,
            _ => {}
        }
        i = skip_ws(b, skip_value(b, i, &mut ())?);
        (b.get(i) == Some(&b',')).then_some(())?;
        i = skip_ws(b, i + 1);
    }
}

/// The key of the object member at `b[i]` (a `"`) and where its value
/// starts (after the `:` and any whitespace); `None` for an escaped key
/// (left to the full parse) or malformed JSON.
#[inline(always)]
fn member_key(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    (b.get(i) == Some(&b'"')).then_some(())?;
    let rest = b.get(i + 1..)?;
    let len = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
    (rest[len] == b'"').then_some(())?;
    let i = skip_ws(b, i + len + 2);
    (b.get(i) == Some(&b':')).then_some(())?;
    Some((&rest[..len], skip_ws(b, i + 1)))
}

/// Told where the scan is about to read, so that other work on the same bytes
/// (the HMAC) can be done while they are in cache. Only a matter of speed: the
/// scan reads the same bytes and gives the same result whatever it returns.
pub(crate) trait Ahead {
    /// The end of the range the scan reads next from `i` (`i < end <= len`
    /// when `i < len`); long loops (strings, nested values) stop there and ask again.
    fn limit(&mut self, i: usize, len: usize) -> usize;
}

/// Nothing to do alongside: one range, the whole body.
impl Ahead for () {
    #[inline(always)]
    fn limit(&mut self, _: usize, len: usize) -> usize {
        len
    }
}

/// The paths the scan left to [`parse`], when it gave up (at most `N`).
type Active<const N: usize> = ([usize; N], usize);

/// The fast read: `Ok` when `out` is final, `Err` with the paths still open
/// when the body needs the full parse.
fn scan<'a, S: AsRef<str>, A: Ahead, const N: usize>(
    body: &'a [u8],
    paths: &[&[S]; N],
    out: &mut [Option<Cow<'a, str>>; N],
    ahead: &mut A,
) -> Result<(), Active<N>> {
    if N == 0 || paths.iter().all(|p| p.is_empty()) {
        return Ok(());
    }
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(());
    };
    if body[start] != b'{' {
        return Ok(());
    }
    // Fast path: a top-level field that is the object's last member (Stripe's
    // `type` comes after the whole `data` object) is read from the end, without
    // scanning the body in between. With top-level paths only, the forward
    // scan looks there once it meets a nested value (so a field among the
    // first members costs no look at the end).
    let top_level = paths.iter().all(|p| p.len() <= 1);
    if !top_level {
        if let Some((last, v)) = last_member(body) {
            for (i, path) in paths.iter().enumerate() {
                if let [key] = path {
                    if key.as_ref().as_bytes() == last {
                        out[i] = scalar(v);
                    }
                }
            }
        }
    }
    // The paths still to find, without a heap allocation (N is at most 4).
    let mut active = [0usize; N];
    let mut n = 0;
    for i in (0..N).filter(|&i| !paths[i].is_empty() && out[i].is_none()) {
        active[n] = i;
        n += 1;
    }
    if n == 0 {
        return Ok(());
    }
    // Then a forward scan of the members that stops as soon as everything is
    // found (strings jumped with memchr, nothing allocated but the results).
    // Anything it does not handle (an escaped key, malformed JSON) is left to
    // `parse` (serde_json, from scratch), which `extract` then runs.
    if top_level && scan_top(body, start, paths, out, ahead).is_some() {
        return Ok(());
    }
    if !top_level && scan_object(body, start, paths, 0, &active[..n], out, ahead).is_some() {
        return Ok(());
    }
    Err((active, n))
}

/// The full parse (serde_json) for the paths the scan left open.
fn parse<'a, S: AsRef<str>, const N: usize>(
    body: &'a [u8],
    paths: &[&[S]; N],
    (active, n): Active<N>,
    out: &mut [Option<Cow<'a, str>>; N],
) {
    // The scan may have filled some before giving up: serde_json starts over.
    for &i in &active[..n] {
        out[i] = None;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Seed {
        paths,
        depth: 0,
        active: &active[..n],
        out,
    };
    if de.deserialize_any(seed).is_err() {
        // Keep what was found before the error (or the early stop); a body that
        // does not parse is still a verified body, it just has no metadata.
    }
}

/// How a scan of an object ended.
enum Scan {
    /// At this index, just after the closing brace.
    End(usize),
    /// Every path asked for was found: the rest is not read.
    Done,
}

/// Reads the object at `b[i] == '{'`, filling `out` for the `active` paths at
/// `depth`. `None` when the input is not something it handles.
fn scan_object<'a, S: AsRef<str>, A: Ahead, const N: usize>(
    b: &'a [u8],
    mut i: usize,
    paths: &[&[S]; N],
    depth: usize,
    active: &[usize],
    out: &mut [Option<Cow<'a, str>>; N],
    ahead: &mut A,
) -> Option<Scan> {
    (b.get(i) == Some(&b'{')).then_some(())?;
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(Scan::End(i + 1));
    }
    loop {
        ahead.limit(i, b.len());
        (b.get(i) == Some(&b'"')).then_some(())?;
        let key_end = skip_string(b, i, ahead)?;
        let key = &b[i + 1..key_end - 1];
        if key.contains(&b'\\') {
            return None;
        }
        i = skip_ws(b, key_end);
        (b.get(i) == Some(&b':')).then_some(())?;
        i = skip_ws(b, i + 1);
        // The active paths going through this key, and those ending at it.
        let (mut sub, mut ns) = ([0usize; N], 0);
        let mut leaf = false;
        for &p in active {
            if paths[p].get(depth).map(|k| k.as_ref().as_bytes()) == Some(key) {
                if paths[p].len() == depth + 1 {
                    leaf = true;
                } else {
                    sub[ns] = p;
                    ns += 1;
                }
            }
        }
        let end = if leaf {
            let end = skip_value(b, i, ahead)?;
            let v = scalar(&b[i..end]);
            for &p in active {
                if paths[p].len() == depth + 1
                    && paths[p][depth].as_ref().as_bytes() == key
                    && out[p].is_none()
                {
                    out[p].clone_from(&v);
                }
            }
            end
        } else if ns > 0 && b.get(i) == Some(&b'{') {
            match scan_object(b, i, paths, depth + 1, &sub[..ns], out, ahead)? {
                Scan::End(end) => end,
                Scan::Done => return Some(Scan::Done),
            }
        } else {
            skip_value(b, i, ahead)?
        };
        if (leaf || ns > 0)
            && paths
                .iter()
                .enumerate()
                .all(|(p, path)| path.is_empty() || out[p].is_some())
        {
            return Some(Scan::Done);
        }
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(Scan::End(i + 1)),
            _ => return None,
        }
    }
}

/// [`scan_object`] for the usual case, every path a single top-level key
/// (`id`, `type`): members are read one after another, each key compared with
/// the few still wanted (kept as bytes, in a stack array that shrinks as they
/// are found), and the scan stops once every path has a value. `None` for
/// anything it does not handle (an escaped key, malformed JSON); the caller
/// then starts over.
fn scan_top<'a, S: AsRef<str>, A: Ahead, const N: usize>(
    b: &'a [u8],
    start: usize,
    paths: &[&[S]; N],
    out: &mut [Option<Cow<'a, str>>; N],
    ahead: &mut A,
) -> Option<()> {
    let mut want: [(&[u8], usize); N] = [(&[], 0); N];
    let mut n = 0;
    for (p, path) in paths.iter().enumerate() {
        if let ([key], None) = (path, &out[p]) {
            want[n] = (key.as_ref().as_bytes(), p);
            n += 1;
        }
    }
    let mut i = skip_ws(b, start + 1);
    if n == 0 || b.get(i) == Some(&b'}') {
        return Some(());
    }
    let mut looked_at_last = false;
    loop {
        ahead.limit(i, b.len());
        let (key, at) = member_key(b, i)?;
        i = at;
        // Strings (nearly every value here) are skipped noting whether they
        // hold an escape, so a wanted one needs no second look for `\\`.
        if !looked_at_last && matches!(b.get(i), Some(b'{' | b'[')) {
            // A nested value may be long (Stripe's `data`): before stepping
            // over it, see whether the last member is a wanted key.
            looked_at_last = true;
            if let Some((last, v)) = last_member(b) {
                if let Some(w) = want[..n].iter().position(|(k, _)| *k == last) {
                    if let Some(v) = scalar(v) {
                        out[want[w].1] = Some(v);
                        want.swap(w, n - 1);
                        n -= 1;
                        if n == 0 {
                            return Some(());
                        }
                    }
                }
            }
        }
        let wanted = want[..n].iter().position(|(k, _)| *k == key);
        // A wanted string with no escape (the usual case): one search for
        // either byte finds its end and shows it needs no unescaping, where
        // `skip_value` and then `scalar` would look at it twice (−160
        // instructions per Standard Webhooks verification at 1 KiB, −307 for
        // Stripe's `id` and `type`). Wanted values are short (ids, event
        // types), so the two-byte search's lower speed on long strings does
        // not matter; an escape or invalid UTF-8 takes the general path.
        let clean = match (wanted, b.get(i)) {
            (Some(_), Some(b'"')) => {
                b.get(i + 1..ahead.limit(i, b.len()).min(b.len()))
                    .and_then(|rest| {
                        let k = memchr::memchr2(b'"', b'\\', rest).filter(|&k| rest[k] == b'"')?;
                        Some((i + k + 2, std::str::from_utf8(&rest[..k]).ok()?))
                    })
            }
            _ => None,
        };
        let (end, v) = match clean {
            Some((end, v)) => (end, Some(Cow::Borrowed(v))),
            None => {
                let end = skip_value(b, i, ahead)?;
                (end, wanted.and_then(|_| scalar(&b[i..end])))
            }
        };
        // A value that is not a scalar leaves the path open (a later
        // duplicate may fill it, as in the full parse).
        if let (Some(w), Some(_)) = (wanted, &v) {
            out[want[w].1] = v;
            want.swap(w, n - 1);
            n -= 1;
            if n == 0 {
                return Some(());
            }
        }
        i = skip_ws(b, end);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b'}' => return Some(()),
            _ => return None,
        }
    }
}

/// The index just after the string starting at `b[i] == '"'`.
///
/// Only quotes are searched for (`memchr` for one byte is about twice as fast
/// over a long string as for two): a quote preceded by an odd run of
/// backslashes is escaped and the search goes on. Each run is counted once,
/// back to the previous quote at most, so the whole is linear.
#[inline]
fn skip_string<A: Ahead>(b: &[u8], i: usize, ahead: &mut A) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let lim = ahead.limit(j, b.len()).min(b.len());
        (j < lim).then_some(())?;
        let k = match memchr::memchr(b'"', b.get(j..lim)?) {
            Some(k) => j + k,
            None if lim < b.len() => {
                j = lim;
                continue;
            }
            None => return None,
        };
        let slashes = b[i + 1..k]
            .iter()
            .rev()
            .take_while(|&&c| c == b'\\')
            .count();
        if slashes % 2 == 0 {
            return Some(k + 1);
        }
        j = k + 1;
    }
}

/// The index just after the JSON value starting at `b[i]`.
fn skip_value<A: Ahead>(b: &[u8], i: usize, ahead: &mut A) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i, ahead),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                let lim = ahead.limit(j, b.len()).min(b.len());
                (j < lim).then_some(())?;
                while j < lim {
                    match b[j] {
                        b'"' => {
                            j = skip_string(b, j, ahead)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
        }
        _ => {
            let n = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(b.len() - i);
            (n > 0).then_some(i + n)
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn skip_ws_back(b: &[u8], mut end: usize) -> usize {
    while end > 0 && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// A scalar's text from its raw JSON token (a string with quotes, or a number).
fn scalar(token: &[u8]) -> Option<Cow<'_, str>> {
    match token.first()? {
        b'"' if !token.contains(&b'\\') => std::str::from_utf8(&token[1..token.len() - 1])
            .ok()
            .map(Cow::Borrowed),
        b'"' => serde_json::from_slice::<String>(token).ok().map(Cow::Owned),
        b'-' | b'0'..=b'9' if token.iter().all(|c| c.is_ascii_digit() || *c == b'-') => {
            std::str::from_utf8(token).ok().map(Cow::Borrowed)
        }
        _ => None,
    }
}

/// The last member of the top-level object (the final `}` closes the top-level
/// object, so the pair right before it is a top-level member).
fn last_member(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut end = skip_ws_back(b, b.len());
    (end > 0 && b[end - 1] == b'}').then_some(())?;
    end = skip_ws_back(b, end - 1);
    let value_end = end;
    let value_start = if end > 0 && b[end - 1] == b'"' {
        // Find the opening quote: a quote preceded by an even number of backslashes.
        let mut j = end - 1;
        loop {
            j = b[..j].iter().rposition(|c| *c == b'"')?;
            let slashes = b[..j].iter().rev().take_while(|c| **c == b'\\').count();
            if slashes % 2 == 0 {
                break j;
            }
        }
    } else {
        b[..end]
            .iter()
            .rposition(|c| !(c.is_ascii_digit() || *c == b'-'))?
            + 1
    };
    if value_start >= value_end {
        return None;
    }
    end = skip_ws_back(b, value_start);
    (end > 0 && b[end - 1] == b':').then_some(())?;
    end = skip_ws_back(b, end - 1);
    (end > 0 && b[end - 1] == b'"').then_some(())?;
    let key_start = b[..end - 1].iter().rposition(|c| *c == b'"')? + 1;
    let key = &b[key_start..end - 1];
    if key.contains(&b'\\') {
        return None;
    }
    let before = skip_ws_back(b, key_start - 1);
    (before > 0 && matches!(b[before - 1], b',' | b'{')).then_some(())?;
    Some((key, &b[value_start..value_end]))
}

struct Seed<'p, 'o, 'a, S, const N: usize> {
    paths: &'p [&'p [S]; N],
    depth: usize,
    active: &'p [usize],
    out: &'o mut [Option<Cow<'a, str>>; N],
}

impl<'de, S: AsRef<str>, const N: usize> DeserializeSeed<'de> for Seed<'_, '_, '_, S, N> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: AsRef<str>, const N: usize> Visitor<'de> for Seed<'_, '_, '_, S, N> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            // The active paths going through this key, and those ending at it.
            let (mut sub, mut ns) = ([0usize; N], 0);
            let (mut leaf, mut nl) = ([0usize; N], 0);
            for &i in self.active {
                if self.paths[i].get(self.depth).map(AsRef::as_ref) == Some(&*key) {
                    if self.paths[i].len() == self.depth + 1 {
                        leaf[nl] = i;
                        nl += 1;
                    } else {
                        sub[ns] = i;
                        ns += 1;
                    }
                }
            }
            if ns + nl == 0 {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if nl == 0 {
                map.next_value_seed(Seed {
                    paths: self.paths,
                    depth: self.depth + 1,
                    active: &sub[..ns],
                    out: &mut *self.out,
                })?;
            } else {
                let v = map.next_value::<Scalar>()?;
                for &i in &leaf[..nl] {
                    if self.out[i].is_none() {
                        self.out[i] = v.0.clone().map(Cow::Owned);
                    }
                }
                if self.depth == 0 && self.active.iter().all(|&i| self.out[i].is_some()) {
                    // Everything asked for is found: stop reading the body.
                    return Err(de::Error::custom("done"));
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An object key, borrowed from the body unless it has escapes (serde's own
/// `Cow<str>` always allocates).
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A leaf: a string or number as text, anything else skipped.
struct Scalar(Option<String>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_owned())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Scalar, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{extract, extract_fast, one_top_level};

    #[test]
    fn finds_nested_and_top_level_fields_in_one_pass() {
        let body = br#"{"id":"evt_1","data":{"x":[1,2,{"id":"no"}]},"event":{"type":"push","id":7},"type":"t"}"#;
        let [a, b, c, d] = extract(
            body,
            [&["id"], &["event", "type"], &["event", "id"], &["missing"]],
        );
        assert_eq!(a.as_deref(), Some("evt_1"));
        assert_eq!(b.as_deref(), Some("push"));
        assert_eq!(c.as_deref(), Some("7"));
        assert_eq!(d, None);
    }

    #[test]
    fn non_objects_and_garbage_give_none() {
        for body in [&b"[1]"[..], b"token=a", b"", b"{\"id\":", b"\xff\xfe"] {
            let [a] = extract(body, [&["id"]]);
            assert_eq!(a, None);
        }
    }

    #[test]
    fn fast_paths_agree_with_the_full_parse() {
        let bodies: [&[u8]; 8] = [
            br#"{"id":"evt_1","data":{"type":"inner","id":"x"},"type":"outer"}"#,
            b"{\n  \"id\": \"evt_2\",\n  \"n\": [1, {\"type\": \"no\"}],\n  \"type\": \"a.b\"\n}\n",
            br#"{"data":{"type":"inner"}}"#,
            br#"{"x":1,"type":"q\"uote\\"}"#,
            br#"{"id":12,"type":-5}"#,
            br#"{"a":"\"type\":\"fake\"}"}"#,
            br#"{"id":"v\u00e4","z":{"id":"no"}}"#,
            br#"{"type":"first","id":"last"}"#,
        ];
        let more: [&[u8]; 7] = [
            br#"{"token":"t","event":{"type":"app_mention","text":"}{\"]["},"type":"event_callback","event_id":"Ev1"}"#,
            br#"{"event":[{"type":"no"}],"id":"a","event_id":"b"}"#,
            br#"{"event":{"x":{"type":"deep"},"type":"mid"},"id":true,"type":1.5}"#,
            br#"{"event":"flat","event_id":-3}"#,
            br#"  {"id" : "sp" , "event" : { "type" : "x" } }  trailing"#,
            br#"{"id":"a","id":"b","event":{"type":"1"},"event":{"type":"2"}}"#,
            br#"{"id":"unterminated"#,
        ];
        for body in bodies.iter().chain(&more) {
            let fast = extract(body, [&["id"], &["type"]]);
            let nested = extract(body, [&["event", "type"], &["event_id"], &["id"]]);
            let paths: [&[&str]; 3] = [&["event", "type"], &["event_id"], &["id"]];
            let mut slow = [None, None, None];
            let _ = serde::Deserializer::deserialize_any(
                &mut serde_json::Deserializer::from_slice(body),
                super::Seed {
                    paths: &paths,
                    depth: 0,
                    active: &[0, 1, 2],
                    out: &mut slow,
                },
            );
            assert_eq!(nested, slow, "{}", String::from_utf8_lossy(body));
            // The full parse alone (no fast path): a path the fast path cannot see.
            let mut slow: [Option<Cow<'_, str>>; 2] = [None, None];
            let paths: [&[&str]; 2] = [&["id"], &["type"]];
            let active = [0, 1];
            let mut de = serde_json::Deserializer::from_slice(body);
            let _ = serde::Deserializer::deserialize_any(
                &mut de,
                super::Seed {
                    paths: &paths,
                    depth: 0,
                    active: &active,
                    out: &mut slow,
                },
            );
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(body));
        }
    }

    mod differential {
        use std::borrow::Cow;

        use proptest::prelude::*;
        use serde_json::Value;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("id".to_owned()),
                Just("type".to_owned()),
                Just("event".to_owned()),
                Just("event_id".to_owned()),
                "[a-z]{1,3}",
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                (-1e6f64..1e6).prop_map(Value::from),
                "[a-z\"\\\\{}\\[\\],:\u{e9}\n ]{0,8}".prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::vec((key(), inner), 0..6)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect())),
                ]
            })
        }

        /// The body of an object with these members, compact or pretty.
        fn body(members: Vec<(String, Value)>, pretty: bool) -> Vec<u8> {
            let object = Value::Object(members.into_iter().collect());
            if pretty {
                serde_json::to_vec_pretty(&object).unwrap()
            } else {
                serde_json::to_vec(&object).unwrap()
            }
        }

        /// What `extract` finds at `paths`, and what a full serde_json parse does.
        #[allow(clippy::type_complexity)]
        fn fast_and_slow<'b, const N: usize>(
            body: &'b [u8],
            paths: [&[&str]; N],
        ) -> ([Option<Cow<'b, str>>; N], [Option<Cow<'b, str>>; N]) {
            let fast = super::super::extract(body, paths);
            let mut slow = std::array::from_fn(|_| None);
            let active: [usize; N] = std::array::from_fn(|i| i);
            let _ = serde::Deserializer::deserialize_any(
                &mut serde_json::Deserializer::from_slice(body),
                super::super::Seed {
                    paths: &paths,
                    depth: 0,
                    active: &active,
                    out: &mut slow,
                },
            );
            (fast, slow)
        }

        /// An [`Ahead`](super::super::Ahead) that hands out `step` bytes at a time.
        struct Steps {
            step: usize,
            reached: usize,
        }
        impl super::super::Ahead for Steps {
            fn limit(&mut self, i: usize, len: usize) -> usize {
                if i >= self.reached {
                    self.reached = (i + self.step).min(len);
                }
                self.reached.max(i).min(len)
            }
        }

        /// `extract_fast` in windows of `step` bytes: the same answer as in
        /// one window (the same fields, or the same call for the full
        /// parse), and when it answers, what `extract` finds.
        fn windowed<const N: usize>(
            body: &[u8],
            paths: [&[&str]; N],
            step: usize,
        ) -> Result<(), TestCaseError> {
            let mut steps = Steps { step, reached: 0 };
            let got = super::super::extract_fast(body, paths, &mut steps);
            prop_assert_eq!(&got, &super::super::extract_fast(body, paths, &mut ()));
            if let Some(got) = got {
                prop_assert_eq!(got, super::super::extract(body, paths));
            }
            Ok(())
        }

        proptest! {
            /// The scan (and the last-member fast path) find exactly what a
            /// full serde_json parse finds, on any object, compact or pretty.
            #[test]
            fn scan_agrees_with_serde(
                members in prop::collection::vec((key(), value()), 0..6),
                pretty: bool,
                step in 1usize..40,
            ) {
                let body = body(members, pretty);
                let paths: [&[&str]; 4] = [&["id"], &["type"], &["event", "type"], &["event_id"]];
                let (fast, slow) = fast_and_slow(&body, paths);
                prop_assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&body));
                windowed(&body, paths, step)?;
            }

            /// The same with top-level keys only: the path of `scan_top`
            /// (and of the last-member read).
            #[test]
            fn top_level_scan_agrees_with_serde(
                members in prop::collection::vec((key(), value()), 0..6),
                pretty: bool,
                step in 1usize..40,
            ) {
                let body = body(members, pretty);
                let paths: [&[&str]; 3] = [&["id"], &["type"], &["event_id"]];
                let (fast, slow) = fast_and_slow(&body, paths);
                prop_assert_eq!(fast, slow, "{}", String::from_utf8_lossy(&body));
                windowed(&body, paths, step)?;
                // One key (the path of `one_top_level`): the same as serde_json,
                // and where the one-key read answers, the same as the scan.
                for key in ["id", "type", "event"] {
                    let one: [&[&str]; 3] = [&[], &[key], &[]];
                    let (fast, slow) = fast_and_slow(&body, one);
                    prop_assert_eq!(&fast, &slow, "{}", String::from_utf8_lossy(&body));
                    if let Some((slot, v)) = super::super::one_top_level(&body, &one) {
                        prop_assert_eq!(slot, 1);
                        let scanned = super::super::extract(&body, one);
                        prop_assert_eq!(scanned[1].as_deref(), Some(v));
                    }
                }
            }
        }
    }

    #[test]
    fn the_one_key_read_answers_the_common_case_and_leaves_the_rest_to_the_scan() {
        let one = |b: &'static [u8]| {
            let paths: [&[&str]; 3] = [&[], &["type"], &[]];
            one_top_level(b, &paths)
        };
        let standard = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"x":1}}"#;
        assert_eq!(one(standard), Some((1, "payment_intent.succeeded")));
        assert_eq!(one(b" {\n \"type\" : \"a\" } "), Some((1, "a")));
        assert_eq!(one(br#"{"n":[1],"type":"a"}"#), None);
        assert_eq!(one(br#"{"type":"a","type":"b"}"#), Some((1, "a")));
        for body in [
            &br#"{"data":{},"type":"a"}"#[..],
            br#"{"type":1}"#,
            br#"{"type":"\u0061"}"#,
            br#"{"ty\u0070e":"a"}"#,
            br#"{"type":{"a":1}}"#,
            br#"{"id":"x"}"#,
            b"[]",
            br#"{"type":"a"#,
            b"{\"type\":\"\xff\"}",
        ] {
            assert_eq!(one(body), None, "{}", String::from_utf8_lossy(body));
        }
        // Two paths: the scan.
        let two: [&[&str]; 2] = [&["id"], &["type"]];
        assert_eq!(one_top_level(standard, &two), None);
        // What the scan then finds for those.
        let [t] = extract(br#"{"data":{},"type":"a"}"#, [&["type"]]);
        assert_eq!(t.as_deref(), Some("a"));
        let [t] = extract(br#"{"type":"\u0061"}"#, [&["type"]]);
        assert_eq!(t.as_deref(), Some("a"));
    }

    #[test]
    fn duplicate_keys() {
        // Before any nested value: the first.
        let [t] = extract(br#"{"type":"a","type":"b","data":{}}"#, [&["type"]]);
        assert_eq!(t.as_deref(), Some("a"));
        let [t] = extract(br#"{"type":"a","data":{"x":1},"type":"b"}"#, [&["type"]]);
        assert_eq!(t.as_deref(), Some("a"));
        // Both after a nested value, the second the last member: read from the end.
        let [t] = extract(br#"{"data":{"x":1},"type":"a","type":"b"}"#, [&["type"]]);
        assert_eq!(t.as_deref(), Some("b"));
        // Nested paths (the full scan and serde_json's fallback): the first.
        let [t] = extract(
            br#"{"event":{"type":"a","type":"b"},"id":1}"#,
            [&["event", "type"]],
        );
        assert_eq!(t.as_deref(), Some("a"));
    }

    #[test]
    fn escaped_keys_and_values() {
        let [a] = extract(br#"{"i\u0064":"v\u00e4"}"#, [&["id"]]);
        assert_eq!(a.as_deref(), Some("v\u{e4}"));
    }

    #[test]
    fn runs_of_backslashes_before_a_quote() {
        // A skipped string ending in 0..6 escaped backslashes, and one holding
        // an escaped quote after such a run: the members after it are found
        // exactly as serde_json finds them.
        for run in 0..6 {
            let pairs = r"\\".repeat(run);
            for pad in [format!("x{pairs}"), format!(r#"{pairs}\"y"#)] {
                let body = format!(r#"{{"pad":"{pad}","id":"evt_{run}","tail":"{pad}"}}"#);
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                // The fast scan itself (no fallback to the full parse).
                let [id] = extract_fast(body.as_bytes(), [&["id"]], &mut ()).unwrap();
                assert_eq!(id.as_deref(), v["id"].as_str(), "{body}");
                let [tail] = extract_fast(body.as_bytes(), [&["tail"]], &mut ()).unwrap();
                assert_eq!(tail.as_deref(), v["tail"].as_str(), "{body}");
            }
        }
    }
}
