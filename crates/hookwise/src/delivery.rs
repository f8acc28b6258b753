//! What a handler learns about a verified delivery.

use std::borrow::Cow;
use std::fmt;

/// The verified metadata of a delivery.
///
/// Everything here comes from the verified request. [`Delivery::replay_key`]
/// is derived **only** from signed material (a signed id, or a hash of the
/// signature), so an attacker cannot change it; [`Delivery::id`] is the id as
/// the sender named it, which for some senders (GitHub, Shopify) travels in an
/// unsigned header ([`Delivery::id_is_signed`] tells).
///
/// The replay key, the id and the event type share one piece of text, kept
/// inline when it fits (the usual case: no allocation), else in one heap
/// allocation: a `Delivery` is built on every request.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    provider: Cow<'static, str>,
    key: Cow<'static, str>,
    timestamp: Option<i64>,
    id_is_signed: bool,
    /// The replay key, then the id unless the key contains it, then the event type.
    text: Text,
    replay_end: usize,
    id: Option<(usize, usize)>,
    event: Option<(usize, usize)>,
}

/// Room for the usual replay key, id and event type together
/// (`stripe:evt_…` + `payment_intent.succeeded`, `github:sig:<32 hex>` + a
/// UUID + `pull_request_review_comment`).
const INLINE: usize = 111;

/// A delivery's text: inline up to [`INLINE`] bytes, else on the heap.
#[derive(Clone)]
enum Text {
    Inline(arrayvec::ArrayString<INLINE>),
    Heap(Box<str>),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Self::Inline(s) => s,
            Self::Heap(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

/// The pieces of a delivery's text, in the order they are written.
struct Parts<'a> {
    provider: &'a str,
    /// The id, when the replay key is made of it.
    in_key: Option<&'a str>,
    /// Otherwise the signature bits the replay key is made of.
    bits: &'a [u8],
    id: Option<&'a str>,
    event: Option<&'a str>,
}

/// Where the replay key ends, and where the id and the event type are.
type Spans = (usize, Option<(usize, usize)>, Option<(usize, usize)>);

impl Parts<'_> {
    /// Writes the text onto `out` (which has room for all of it).
    fn write(&self, out: &mut impl fmt::Write) -> Spans {
        let mut at = 0;
        let mut put = |s: &str| {
            let _ = out.write_str(s);
            at += s.len();
            (at - s.len(), at)
        };
        put(self.provider);
        put(":");
        let mut id_at = None;
        if let Some(id) = self.in_key {
            id_at = Some(put(id));
        } else {
            put("sig:");
            let mut hex = arrayvec::ArrayString::<32>::new();
            crate::scheme::inline::push_hex(&mut hex, self.bits);
            put(&hex);
        }
        let replay_end = put("").1;
        if let (None, Some(id)) = (self.in_key, self.id) {
            id_at = Some(put(id));
        }
        let event_at = self.event.map(&mut put);
        (replay_end, id_at, event_at)
    }
}

/// Where a delivery's replay key comes from.
#[derive(Clone, Copy)]
pub(crate) enum ReplayFrom<'a> {
    /// `<provider>:<id>`: the id is signed (or authenticated with the token).
    Id,
    /// `<provider>:sig:<hex>`: 128 bits of the signature (hashed first when
    /// it is longer than 32 bytes).
    Signature(&'a [u8]),
}

impl Delivery {
    /// Builds the metadata, its text inline when it fits.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        provider: Cow<'static, str>,
        key: Cow<'static, str>,
        timestamp: Option<i64>,
        id: Option<&str>,
        id_is_signed: bool,
        event: Option<&str>,
        replay: ReplayFrom<'_>,
    ) -> Self {
        use sha2::Digest as _;
        let digest;
        let (in_key, bits): (Option<&str>, &[u8]) = match (replay, id) {
            (ReplayFrom::Id, Some(id)) => (Some(id), &[]),
            (ReplayFrom::Id, None) => (None, &[]),
            (ReplayFrom::Signature(s), _) if s.len() <= 32 => (None, &s[..s.len().min(16)]),
            (ReplayFrom::Signature(s), _) => {
                digest = sha2::Sha256::digest(s);
                (None, &digest[..16])
            }
        };
        let key_len = provider.len() + 1 + in_key.map_or(4 + 2 * bits.len(), str::len);
        let extra_id = if in_key.is_some() {
            0
        } else {
            id.map_or(0, str::len)
        };
        let len = key_len + extra_id + event.map_or(0, str::len);
        let parts = Parts {
            provider: &provider,
            in_key,
            bits,
            id,
            event,
        };
        let (text, (replay_end, id_at, event_at)) = if len <= INLINE {
            let mut s = arrayvec::ArrayString::new();
            let at = parts.write(&mut s);
            (Text::Inline(s), at)
        } else {
            let mut s = String::with_capacity(len);
            let at = parts.write(&mut s);
            (Text::Heap(s.into_boxed_str()), at)
        };
        Self {
            provider,
            key,
            timestamp,
            id_is_signed,
            text,
            replay_end,
            id: id_at,
            event: event_at,
        }
    }

    /// The sender, e.g. `github` (the provider name used everywhere in hookwise).
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The delivery id as the sender named it, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.map(|(a, b)| &self.text.as_str()[a..b])
    }

    /// Whether [`Delivery::id`] is covered by the signature.
    pub const fn id_is_signed(&self) -> bool {
        self.id_is_signed
    }

    /// The signed timestamp, in Unix seconds, if the sender signs one.
    pub const fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The event type, if the sender says (e.g. `push`, `payment_intent.succeeded`).
    pub fn event_type(&self) -> Option<&str> {
        self.event.map(|(a, b)| &self.text.as_str()[a..b])
    }

    /// The key that matched (its label, or `key-<index>`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The replay-store key: `<provider>:<signed id>` or `<provider>:sig:<hash>`.
    pub fn replay_key(&self) -> &str {
        &self.text.as_str()[..self.replay_end]
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("provider", &self.provider())
            .field("id", &self.id())
            .field("id_is_signed", &self.id_is_signed)
            .field("timestamp", &self.timestamp)
            .field("event_type", &self.event_type())
            .field("key", &self.key())
            .field("replay_key", &self.replay_key())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: Option<&str>, signed: bool, event: Option<&str>, replay: ReplayFrom<'_>) -> Delivery {
        Delivery::new(
            Cow::Borrowed("stripe"),
            Cow::Borrowed("key-0"),
            Some(5),
            id,
            signed,
            event,
            replay,
        )
    }

    #[test]
    fn replay_key_from_the_signed_id_shares_its_text() {
        let d = d(
            Some("evt_1"),
            true,
            Some("charge.succeeded"),
            ReplayFrom::Id,
        );
        assert_eq!(d.replay_key(), "stripe:evt_1");
        assert_eq!(d.id(), Some("evt_1"));
        assert_eq!(d.event_type(), Some("charge.succeeded"));
        assert_eq!(d.timestamp(), Some(5));
        assert!(d.id_is_signed());
        assert!(matches!(d.text, Text::Inline(_)));
    }

    #[test]
    fn text_too_long_to_keep_inline_goes_to_the_heap_whole() {
        let id = "i".repeat(INLINE);
        for (id, event) in [(&id[..], Some("push")), (&id[..INLINE - 7], Some("e"))] {
            let d = d(Some(id), false, event, ReplayFrom::Signature(&[7; 20]));
            let key = format!("stripe:sig:{}", "07".repeat(16));
            assert_eq!(d.replay_key(), key);
            assert_eq!((d.id(), d.event_type()), (Some(id), event));
            let len = key.len() + id.len() + event.map_or(0, str::len);
            assert_eq!(matches!(d.text, Text::Heap(_)), len > INLINE, "{len}");
        }
        // Right at the edge: inline, and whole.
        let id = "j".repeat(INLINE - "stripe:".len() - 1);
        let d = d(Some(&id), true, Some("e"), ReplayFrom::Id);
        assert!(matches!(d.text, Text::Inline(_)));
        assert_eq!((d.id(), d.event_type()), (Some(&id[..]), Some("e")));
        assert_eq!(d.replay_key(), format!("stripe:{id}"));
    }

    #[test]
    fn replay_key_from_the_signature_keeps_the_unsigned_id_apart() {
        let d = d(
            Some("gh-1"),
            false,
            None,
            ReplayFrom::Signature(&[0xab; 32]),
        );
        assert_eq!(d.replay_key(), format!("stripe:sig:{}", "ab".repeat(16)));
        assert_eq!(d.id(), Some("gh-1"));
        assert_eq!(d.event_type(), None);
        let long = d_long();
        assert_eq!(long.replay_key().len(), "stripe:sig:".len() + 32);
        assert_ne!(long.replay_key(), format!("stripe:sig:{}", "01".repeat(16)));
    }

    fn d_long() -> Delivery {
        d(None, false, Some("e"), ReplayFrom::Signature(&[1; 64]))
    }

    #[test]
    fn debug_shows_the_fields_not_the_buffer() {
        let s = format!("{:?}", d(Some("evt_1"), true, None, ReplayFrom::Id));
        assert!(s.contains(r#"replay_key: "stripe:evt_1""#), "{s}");
        assert!(!s.contains("text"), "{s}");
    }
}
