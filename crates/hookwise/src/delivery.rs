//! What a handler learns about a verified delivery.

use std::fmt;

/// The verified metadata of a delivery.
///
/// Everything here comes from the verified request. [`Delivery::replay_key`]
/// is derived **only** from signed material (a signed id, or a hash of the
/// signature), so an attacker cannot change it; [`Delivery::id`] is the id as
/// the sender named it, which for some senders (GitHub, Shopify) travels in an
/// unsigned header ([`Delivery::id_is_signed`] tells).
///
/// The provider, the replay key, the id, the event type and the key's name
/// share one piece of text, kept inline when it fits (the usual case: no
/// allocation), else in one heap allocation: a `Delivery` is built on every
/// request, and moves through the adapters' futures, so it is kept small.
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `<provider>:<rest of the replay key>`, then the id unless the key
    /// contains it, then the event type, then the key's name.
    text: Text,
    /// The signed timestamp (meaningful only with [`HAS_TIMESTAMP`]).
    timestamp: i64,
    /// Where the provider, the replay key, the id and the event type end
    /// (the key's name runs from `event_end` to the end).
    provider_end: usize,
    replay_end: usize,
    id_end: usize,
    event_end: usize,
    flags: u8,
}

const HAS_TIMESTAMP: u8 = 1;
const HAS_ID: u8 = 2;
/// The id is the replay key's own text, after `<provider>:`.
const ID_IN_KEY: u8 = 4;
const HAS_EVENT: u8 = 8;
const ID_IS_SIGNED: u8 = 16;

/// Room for the usual text: `stripe:evt_…`, `payment_intent.succeeded` and
/// `key-0`, or `github:sig:<32 hex>`, a UUID, `pull_request_review_comment`
/// and a short label. A `Delivery` is 176 bytes (248 when it kept its own
/// `Cow`s, spans and `Option`s).
const INLINE: usize = 120;

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
    key: &'a str,
}

impl Parts<'_> {
    /// The text's length.
    fn len(&self) -> usize {
        let key_len =
            self.provider.len() + 1 + self.in_key.map_or(4 + 2 * self.bits.len(), str::len);
        let extra_id = if self.in_key.is_some() {
            0
        } else {
            self.id.map_or(0, str::len)
        };
        key_len + extra_id + self.event.map_or(0, str::len) + self.key.len()
    }

    /// Writes the text onto `out` (which has room for all of it), returning
    /// where the provider, the replay key, the id and the event type end.
    fn write(&self, out: &mut impl fmt::Write) -> [usize; 4] {
        let mut at = 0;
        let mut put = |s: &str| {
            let _ = out.write_str(s);
            at += s.len();
            at
        };
        let provider_end = put(self.provider);
        put(":");
        match self.in_key {
            Some(id) => put(id),
            None => {
                put("sig:");
                let mut hex = arrayvec::ArrayString::<32>::new();
                crate::scheme::inline::push_hex(&mut hex, self.bits);
                put(&hex)
            }
        };
        let replay_end = put("");
        let id_end = match (self.in_key, self.id) {
            (None, Some(id)) => put(id),
            _ => replay_end,
        };
        let event_end = put(self.event.unwrap_or(""));
        put(self.key);
        [provider_end, replay_end, id_end, event_end]
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
    /// Builds the metadata, its text inline when it fits. `key` is the name
    /// of the key that matched.
    pub(crate) fn new(
        provider: &str,
        key: &str,
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
        let parts = Parts {
            provider,
            in_key,
            bits,
            id,
            event,
            key,
        };
        let len = parts.len();
        let (text, [provider_end, replay_end, id_end, event_end]) = if len <= INLINE {
            let mut s = arrayvec::ArrayString::new();
            let at = parts.write(&mut s);
            (Text::Inline(s), at)
        } else {
            let mut s = String::with_capacity(len);
            let at = parts.write(&mut s);
            (Text::Heap(s.into_boxed_str()), at)
        };
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        Self {
            text,
            timestamp: timestamp.unwrap_or(0),
            provider_end,
            replay_end,
            id_end,
            event_end,
            flags: flag(timestamp.is_some(), HAS_TIMESTAMP)
                | flag(id.is_some(), HAS_ID)
                | flag(in_key.is_some(), ID_IN_KEY)
                | flag(event.is_some(), HAS_EVENT)
                | flag(id_is_signed, ID_IS_SIGNED),
        }
    }

    const fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    /// The sender, e.g. `github` (the provider name used everywhere in hookwise).
    pub fn provider(&self) -> &str {
        &self.text.as_str()[..self.provider_end]
    }

    /// The delivery id as the sender named it, if any.
    pub fn id(&self) -> Option<&str> {
        let start = if self.has(ID_IN_KEY) {
            self.provider_end + 1
        } else {
            self.replay_end
        };
        self.has(HAS_ID)
            .then(|| &self.text.as_str()[start..self.id_end])
    }

    /// Whether [`Delivery::id`] is covered by the signature.
    pub const fn id_is_signed(&self) -> bool {
        self.has(ID_IS_SIGNED)
    }

    /// The signed timestamp, in Unix seconds, if the sender signs one.
    pub const fn timestamp(&self) -> Option<i64> {
        if self.has(HAS_TIMESTAMP) {
            Some(self.timestamp)
        } else {
            None
        }
    }

    /// The event type, if the sender says (e.g. `push`, `payment_intent.succeeded`).
    pub fn event_type(&self) -> Option<&str> {
        self.has(HAS_EVENT)
            .then(|| &self.text.as_str()[self.id_end..self.event_end])
    }

    /// The key that matched (its label, or `key-<index>`).
    pub fn key(&self) -> &str {
        &self.text.as_str()[self.event_end..]
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
            .field("id_is_signed", &self.id_is_signed())
            .field("timestamp", &self.timestamp())
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
        Delivery::new("stripe", "key-0", Some(5), id, signed, event, replay)
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
            let len = key.len() + id.len() + event.map_or(0, str::len) + "key-0".len();
            assert_eq!(matches!(d.text, Text::Heap(_)), len > INLINE, "{len}");
        }
        // Right at the edge: inline, and whole.
        let id = "j".repeat(INLINE - "stripe:".len() - 1 - "key-0".len());
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
    fn every_field_reads_back_whatever_is_present() {
        for ts in [None, Some(0), Some(-1), Some(i64::MAX)] {
            for id in [None, Some(""), Some("msg_1")] {
                for event in [None, Some(""), Some("push")] {
                    for signed in [false, true] {
                        for replay in [ReplayFrom::Id, ReplayFrom::Signature(&[9; 32])] {
                            for key in ["key-0", "", "2026-11"] {
                                let d = Delivery::new("svix", key, ts, id, signed, event, replay);
                                let got = (d.provider(), d.key(), d.timestamp(), d.id());
                                assert_eq!(got, ("svix", key, ts, id));
                                assert_eq!((d.event_type(), d.id_is_signed()), (event, signed));
                                let want = match (replay, id) {
                                    (ReplayFrom::Id, Some(id)) => format!("svix:{id}"),
                                    (ReplayFrom::Id, None) => "svix:sig:".to_owned(),
                                    _ => format!("svix:sig:{}", "09".repeat(16)),
                                };
                                assert_eq!(d.replay_key(), want);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn deliveries_differ_when_any_field_does() {
        let base = || {
            Delivery::new(
                "a",
                "k",
                Some(1),
                Some("i"),
                true,
                Some("e"),
                ReplayFrom::Id,
            )
        };
        assert_eq!(base(), base().clone());
        for other in [
            Delivery::new("a", "k", None, Some("i"), true, Some("e"), ReplayFrom::Id),
            Delivery::new(
                "a",
                "k",
                Some(1),
                Some("i"),
                false,
                Some("e"),
                ReplayFrom::Id,
            ),
            Delivery::new("a", "k", Some(1), Some("i"), true, None, ReplayFrom::Id),
            Delivery::new(
                "a",
                "ek",
                Some(1),
                Some("i"),
                true,
                Some(""),
                ReplayFrom::Id,
            ),
            Delivery::new("a", "k", Some(1), None, true, Some("e"), ReplayFrom::Id),
        ] {
            assert_ne!(base(), other, "{other:?}");
        }
    }

    #[test]
    fn a_delivery_stays_small_enough_to_move_cheaply() {
        // It is built on every request and moves through the adapters' futures.
        assert!(size_of::<Delivery>() <= 176, "{}", size_of::<Delivery>());
    }

    #[test]
    fn debug_shows_the_fields_not_the_buffer() {
        let s = format!("{:?}", d(Some("evt_1"), true, None, ReplayFrom::Id));
        assert!(s.contains(r#"replay_key: "stripe:evt_1""#), "{s}");
        assert!(!s.contains("text"), "{s}");
    }
}
