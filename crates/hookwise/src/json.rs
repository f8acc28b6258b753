//! Reading a few fields out of a JSON body in one pass, without building a tree.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Extracts the values at `paths` (each a list of object keys) from `body`.
/// Strings are returned as-is, numbers as their decimal text; anything else,
/// a missing path or a body that is not a JSON object gives `None`.
pub(crate) fn extract<const N: usize>(body: &[u8], paths: [&[&str]; N]) -> [Option<String>; N] {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    if N == 0 || paths.iter().all(|p| p.is_empty()) {
        return out;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return out;
    }
    // Fast path: top-level fields that are the object's first or last member
    // (Stripe's `id` comes first and `type` last; Paddle's `event_id` first) are
    // read without scanning the body in between.
    let ends = [first_member(body), last_member(body)];
    for (i, path) in paths.iter().enumerate() {
        if let [key] = path {
            out[i] = ends
                .iter()
                .flatten()
                .find(|(k, _)| *k == key.as_bytes())
                .map(|(_, v)| v.clone());
        }
    }
    let active: Vec<usize> = (0..N)
        .filter(|&i| !paths[i].is_empty() && out[i].is_none())
        .collect();
    if active.is_empty() {
        return out;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Seed {
        paths: &paths,
        depth: 0,
        active: &active,
        out: &mut out,
    };
    if de.deserialize_any(seed).is_err() {
        // Keep what was found before the error (or the early stop); a body that
        // does not parse is still a verified body, it just has no metadata.
    }
    out
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
fn scalar(token: &[u8]) -> Option<String> {
    match token.first()? {
        b'"' if !token.contains(&b'\\') => std::str::from_utf8(&token[1..token.len() - 1])
            .ok()
            .map(str::to_owned),
        b'"' => serde_json::from_slice::<String>(token).ok(),
        b'-' | b'0'..=b'9' if token.iter().all(|c| c.is_ascii_digit() || *c == b'-') => {
            std::str::from_utf8(token).ok().map(str::to_owned)
        }
        _ => None,
    }
}

/// The first member of the top-level object, when its key has no escapes and
/// its value is a string or an integer.
fn first_member(b: &[u8]) -> Option<(&[u8], String)> {
    let mut i = skip_ws(b, 0);
    (b.get(i) == Some(&b'{')).then_some(())?;
    i = skip_ws(b, i + 1);
    (b.get(i) == Some(&b'"')).then_some(())?;
    let key_end = i + 1 + b[i + 1..].iter().position(|c| *c == b'"')?;
    let key = &b[i + 1..key_end];
    if key.contains(&b'\\') {
        return None;
    }
    i = skip_ws(b, key_end + 1);
    (b.get(i) == Some(&b':')).then_some(())?;
    i = skip_ws(b, i + 1);
    let end = if b.get(i) == Some(&b'"') {
        let mut j = i + 1;
        loop {
            match b.get(j)? {
                b'\\' => j += 2,
                b'"' => break j + 1,
                _ => j += 1,
            }
        }
    } else {
        i + b[i..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b'-'))?
    };
    let after = skip_ws(b, end);
    matches!(b.get(after), Some(b',' | b'}')).then_some(())?;
    Some((key, scalar(&b[i..end])?))
}

/// The last member of the top-level object (the final `}` closes the top-level
/// object, so the pair right before it is a top-level member).
fn last_member(b: &[u8]) -> Option<(&[u8], String)> {
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
    Some((key, scalar(&b[value_start..value_end])?))
}

struct Seed<'p, 'o, const N: usize> {
    paths: &'p [&'p [&'p str]; N],
    depth: usize,
    active: &'p [usize],
    out: &'o mut [Option<String>; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for Seed<'_, '_, N> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Seed<'_, '_, N> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut sub: Vec<usize> = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            sub.clear();
            sub.extend(
                self.active
                    .iter()
                    .copied()
                    .filter(|&i| self.paths[i].get(self.depth) == Some(&&*key)),
            );
            if sub.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let leaf: Vec<usize> = sub
                .iter()
                .copied()
                .filter(|&i| self.paths[i].len() == self.depth + 1)
                .collect();
            if leaf.is_empty() {
                map.next_value_seed(Seed {
                    paths: self.paths,
                    depth: self.depth + 1,
                    active: &sub,
                    out: &mut *self.out,
                })?;
            } else {
                let v = map.next_value::<Scalar>()?;
                for i in leaf {
                    if self.out[i].is_none() {
                        self.out[i] = v.0.clone();
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
    use super::extract;

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
        for body in bodies {
            let fast = extract(body, [&["id"], &["type"]]);
            // The full parse alone (no fast path): a path the fast path cannot see.
            let mut slow: [Option<String>; 2] = [None, None];
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

    #[test]
    fn escaped_keys_and_values() {
        let [a] = extract(br#"{"i\u0064":"v\u00e4"}"#, [&["id"]]);
        assert_eq!(a.as_deref(), Some("v\u{e4}"));
    }
}
