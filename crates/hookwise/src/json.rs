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
    let mut de = serde_json::Deserializer::from_slice(body);
    let active: Vec<usize> = (0..N).filter(|&i| !paths[i].is_empty()).collect();
    let seed = Seed {
        paths: &paths,
        depth: 0,
        active: &active,
        out: &mut out,
    };
    if de.deserialize_any(seed).is_err() {
        // Keep what was found before the error; a body that does not parse is
        // still a verified body, it just has no metadata.
    }
    out
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
    fn escaped_keys_and_values() {
        let [a] = extract(br#"{"i\u0064":"v\u00e4"}"#, [&["id"]]);
        assert_eq!(a.as_deref(), Some("v\u{e4}"));
    }
}
