//! Small byte strings kept on the stack: decoded HMAC signatures and raw
//! timestamps, read from headers on every request.

use std::fmt;

use super::mac::{Encoding, MAX_TAG};

/// Up to `N` bytes (`N` ≤ 255) without a heap allocation.
#[derive(Clone, Copy)]
pub(crate) struct Inline<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

/// Equal by content: the bytes past `len` are whatever was there before.
impl<const N: usize> PartialEq for Inline<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for Inline<N> {}

impl<const N: usize> Default for Inline<N> {
    fn default() -> Self {
        Self {
            len: 0,
            bytes: [0; N],
        }
    }
}

impl<const N: usize> Inline<N> {
    /// A copy of `b`, or `None` when it is longer than `N`.
    pub(crate) fn new(b: &[u8]) -> Option<Self> {
        let len = u8::try_from(b.len())
            .ok()
            .filter(|&l| usize::from(l) <= N)?;
        let mut s = Self::default();
        s.bytes[..b.len()].copy_from_slice(b);
        s.len = len;
        Some(s)
    }

    /// Overwrites `self` with `b` in place; `false` (and `self` unchanged)
    /// when it is longer than `N`.
    pub(crate) fn set(&mut self, b: &[u8]) -> bool {
        let Some(len) = u8::try_from(b.len()).ok().filter(|&l| usize::from(l) <= N) else {
            return false;
        };
        self.bytes[..b.len()].copy_from_slice(b);
        self.len = len;
        true
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl<const N: usize> fmt::Debug for Inline<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.len)
    }
}

/// A short string kept inline (up to 63 bytes), longer ones on the heap: the
/// replay keys held by the in-memory store and by a reservation. Every
/// signature-derived key fits (`<provider>:sig:<32 hex>` is at most 51 bytes),
/// as do the usual signed ids (`stripe:evt_…`, `standard:msg_…`, `shopify:<uuid>`).
#[derive(Clone, Debug)]
pub(crate) enum SmallStr {
    Inline(arrayvec::ArrayString<63>),
    Heap(Box<str>),
}

impl SmallStr {
    pub(crate) fn new(s: &str) -> Self {
        arrayvec::ArrayString::from(s).map_or_else(|_| Self::Heap(s.into()), Self::Inline)
    }

    /// Stores `s` in `slot`, its bytes written straight into place: a
    /// `SmallStr` built on the stack and then moved in was a 64-byte copy
    /// read back right after its bytes were written (a store-forwarding
    /// stall).
    pub(crate) fn put(slot: &mut Option<Self>, s: &str) {
        let put = slot.insert(Self::Inline(arrayvec::ArrayString::new()));
        if let Self::Inline(a) = put {
            if a.try_push_str(s).is_ok() {
                return;
            }
        }
        *put = Self::Heap(s.into());
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// Free for both: `ArrayString` keeps the proof of UTF-8 that a byte
    /// array copied from a `&str` would have to re-check on every read.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Inline(s) => s.as_str(),
            Self::Heap(s) => s,
        }
    }
}

/// A decoded HMAC signature (at most a SHA-512 tag).
pub(crate) type Tag = Inline<MAX_TAG>;

/// Decodes a signature as sent. `None` when it is not valid `encoding`. A
/// valid signature longer than any HMAC tag decodes to the empty tag, which
/// matches nothing (it is a wrong signature, not a malformed header).
pub(crate) fn decode_tag(encoding: Encoding, s: &[u8]) -> Option<Tag> {
    let mut out = Tag::default();
    decode_tag_into(encoding, s, &mut out).then_some(out)
}

/// [`decode_tag`] into `out` in place (the header phase writes straight into
/// its result instead of moving a tag through temporaries); `false` when `s`
/// is not valid `encoding`, with `out` left unspecified.
pub(crate) fn decode_tag_into(encoding: Encoding, s: &[u8], out: &mut Tag) -> bool {
    match encoding {
        Encoding::Hex => {
            if s.len() % 2 != 0 {
                return false;
            }
            let n = s.len() / 2;
            let mut bad = 0u8;
            if n <= MAX_TAG {
                // Exactly `n` output bytes for `n` pairs: no bounds check per byte.
                for (o, pair) in out.bytes[..n].iter_mut().zip(s.chunks_exact(2)) {
                    let (hi, lo) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
                    bad |= hi | lo;
                    *o = (hi << 4) | lo;
                }
                // `n <= MAX_TAG < 256`.
                out.len = u8::try_from(n).unwrap_or(0);
            } else {
                bad = s.iter().fold(0, |acc, &c| acc | HEX[usize::from(c)]);
                out.len = 0;
            }
            bad & 0x80 == 0
        }
        Encoding::Base64 => base64_fast(s, out) || base64_crate(s, out),
    }
}

/// Canonical padded base64 (the standard alphabet, as every sender writes
/// its tags) of at most [`MAX_TAG`] bytes, decoded with one table lookup per
/// character. `false` for anything else, including invalid input: the
/// `base64` crate then decides ([`base64_crate`]), so this only ever accepts
/// what the crate accepts, with the same bytes (a test checks both on every
/// short input shape). The crate's general decoder costs ~20 ns per tag,
/// which at 1 KiB was 3 % of a verification.
fn base64_fast(s: &[u8], out: &mut Tag) -> bool {
    let pad = match s {
        [.., b'=', b'='] => 2,
        [.., b'='] => 1,
        _ => 0,
    };
    let len = (s.len() / 4 * 3).wrapping_sub(pad);
    if s.is_empty() || s.len() % 4 != 0 || len > MAX_TAG {
        return false;
    }
    let digits = &s[..s.len() - pad];
    let mut bad = 0u8;
    let mut v = |c: &u8| {
        let d = B64[usize::from(*c)];
        bad |= d;
        u32::from(d)
    };
    // Two groups (six bytes) per step while there are, in one 64-bit word;
    // `bad` is kept in a register, apart from the closure's.
    let mut o = 0;
    let mut octets = digits.chunks_exact(8);
    let mut bad8 = 0u8;
    for (q, dst) in (&mut octets).zip(out.bytes.chunks_exact_mut(6)) {
        let mut w = 0u64;
        for &c in q {
            let d = B64[usize::from(c)];
            bad8 |= d;
            w = (w << 6) | u64::from(d);
        }
        dst.copy_from_slice(&w.to_be_bytes()[2..]);
        o += 6;
    }
    let mut quads = octets.remainder().chunks_exact(4);
    for q in &mut quads {
        let w = (v(&q[0]) << 18) | (v(&q[1]) << 12) | (v(&q[2]) << 6) | v(&q[3]);
        out.bytes[o..o + 3].copy_from_slice(&w.to_be_bytes()[1..]);
        o += 3;
    }
    // The last, padded group; its unused low bits must be zero (the crate
    // refuses non-canonical trailing bits).
    let (tail, unused) = match quads.remainder() {
        [] => (0, 0),
        [a, b] => ((v(a) << 18) | (v(b) << 12), 0x0f << 12),
        [a, b, c] => ((v(a) << 18) | (v(b) << 12) | (v(c) << 6), 0x03 << 6),
        _ => return false,
    };
    if (bad | bad8) & 0x80 != 0 || tail & unused != 0 {
        return false;
    }
    let tb = tail.to_be_bytes();
    out.bytes[o..len].copy_from_slice(&tb[1..1 + len - o]);
    // `len <= MAX_TAG < 256`.
    out.len = u8::try_from(len).unwrap_or(0);
    true
}

/// The `base64` crate's decoder, for what [`base64_fast`] leaves.
fn base64_crate(s: &[u8], out: &mut Tag) -> bool {
    use base64::Engine as _;
    out.len = 0;
    if s.len() > (MAX_TAG + 2).div_ceil(3) * 4 {
        // Valid or not, too long for any HMAC tag: the empty tag.
        return base64::engine::general_purpose::STANDARD.decode(s).is_ok();
    }
    // `decode_slice` wants room for its estimate (up to 2 bytes over).
    let mut buf = [0u8; MAX_TAG + 3];
    let Ok(n) = base64::engine::general_purpose::STANDARD.decode_slice(s, &mut buf) else {
        return false;
    };
    out.set(&buf[..n]);
    true
}

/// Standard base64 digit values; `0x80` marks a byte outside the alphabet
/// (`=` included: padding is handled apart).
static B64: [u8; 256] = {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut t = [0x80u8; 256];
    let mut i = 0u8;
    while i < 64 {
        t[ALPHABET[i as usize] as usize] = i;
        i += 1;
    }
    t
};

/// Hex digit values; `0x80` marks a byte that is not a hex digit.
static HEX: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut i = 0u8;
    while i < 10 {
        t[(b'0' + i) as usize] = i;
        i += 1;
    }
    let mut i = 0u8;
    while i < 6 {
        t[(b'a' + i) as usize] = 10 + i;
        t[(b'A' + i) as usize] = 10 + i;
        i += 1;
    }
    t
};

/// Writes `bytes` as lowercase hex onto `out` (a `String`, or an
/// `ArrayString` with room for it: what does not fit is left out).
pub(crate) fn push_hex(out: &mut impl fmt::Write, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // 32 bytes at a time through a stack buffer: one `push_str` per chunk
    // instead of a capacity check and a UTF-8 encoding per digit.
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0x0f)];
        }
        // Only ASCII digits were written.
        let _ = out.write_str(std::str::from_utf8(&buf[..2 * chunk.len()]).unwrap_or_default());
    }
}

/// The candidate HMAC signatures of a request: the first on the stack
/// (senders send one; two while rotating keys), the rest on the heap. Kept
/// small: the header phase's result is moved a few times per request.
#[derive(Clone, Default)]
pub(crate) struct Tags {
    inline: [Tag; 1],
    n: usize,
    more: Vec<Tag>,
}

impl Tags {
    /// Decodes `s` as the next candidate, in place when it is the first;
    /// a candidate equal to an earlier one is not kept twice. `false` when
    /// `s` is not valid `encoding`.
    pub(crate) fn push_decoded(&mut self, encoding: Encoding, s: &[u8]) -> bool {
        if self.n == 0 {
            if !decode_tag_into(encoding, s, &mut self.inline[0]) {
                self.inline[0] = Tag::default();
                return false;
            }
            self.n = 1;
            return true;
        }
        let Some(t) = decode_tag(encoding, s) else {
            return false;
        };
        if !self.contains(&t) {
            self.push(t);
        }
        true
    }

    pub(crate) fn push(&mut self, t: Tag) {
        if let Some(slot) = self.inline.get_mut(self.n) {
            *slot = t;
        } else {
            self.more.push(t);
        }
        self.n += 1;
    }

    pub(crate) fn contains(&self, t: &Tag) -> bool {
        self.iter().any(|x| x == t)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.inline[..self.n.min(self.inline.len())]
            .iter()
            .chain(&self.more)
    }

    pub(crate) fn first(&self) -> Option<&Tag> {
        self.iter().next()
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} signatures", self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_tags_of_every_length_decode_and_one_bad_digit_anywhere_refuses() {
        for len in 0..=MAX_TAG {
            let bytes: Vec<u8> = (0..len)
                .map(|i| u8::try_from((i * 73 + 5) % 256).unwrap())
                .collect();
            let lower = hex::encode(&bytes);
            for h in [lower.clone(), lower.to_uppercase()] {
                let t = decode_tag(Encoding::Hex, h.as_bytes()).unwrap();
                assert_eq!(t.as_slice(), &bytes[..], "{h}");
                for pos in 0..h.len() {
                    let mut bad = h.clone().into_bytes();
                    bad[pos] = b'g';
                    assert!(decode_tag(Encoding::Hex, &bad).is_none(), "{pos} of {h}");
                }
            }
        }
    }

    #[test]
    fn hex_and_base64_decode_like_the_generic_decoders() {
        use base64::Engine as _;
        let samples: [&[u8]; 5] = [b"", b"\x00", b"\xff\x10abc", &[7u8; 32], &[0xa5; 64]];
        for b in samples {
            let h = hex::encode(b);
            assert_eq!(
                decode_tag(Encoding::Hex, h.as_bytes()).unwrap().as_slice(),
                b
            );
            let upper = h.to_uppercase();
            assert_eq!(
                decode_tag(Encoding::Hex, upper.as_bytes())
                    .unwrap()
                    .as_slice(),
                b
            );
            let s = base64::engine::general_purpose::STANDARD.encode(b);
            assert_eq!(
                decode_tag(Encoding::Base64, s.as_bytes())
                    .unwrap()
                    .as_slice(),
                b
            );
        }
        for bad in [&b"0"[..], b"zz", b"0g", b"12 4"] {
            assert!(decode_tag(Encoding::Hex, bad).is_none(), "{bad:?}");
        }
        for bad in [&b"a"[..], b"!!!!", b"YQ=x"] {
            assert!(decode_tag(Encoding::Base64, bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn base64_fast_path_accepts_only_what_the_crate_accepts_with_the_same_bytes() {
        use base64::Engine as _;
        let std = base64::engine::general_purpose::STANDARD;
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        let mut seed = 0x9e37_79b9_u32;
        for n in 0..=67usize {
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    seed.to_be_bytes()[0]
                })
                .collect();
            let enc = std.encode(&bytes).into_bytes();
            for pos in 0..enc.len() {
                for c in [
                    b'A', b'/', b'+', b'=', b'-', b'_', b' ', 0, 0xff, b'B', b'z',
                ] {
                    let mut m = enc.clone();
                    m[pos] = c;
                    inputs.push(m);
                }
                inputs.push(enc[..pos].to_vec());
            }
            let mut more = enc.clone();
            more.push(b'=');
            inputs.push(more);
            inputs.push(enc.iter().copied().filter(|c| *c != b'=').collect());
            inputs.push(enc);
        }
        let mut fast_taken = 0;
        for s in &inputs {
            let mut fast = Tag::default();
            let mut slow = Tag::default();
            let slow_ok = base64_crate(s, &mut slow);
            assert_eq!(slow_ok, std.decode(s).is_ok(), "{s:?}");
            if base64_fast(s, &mut fast) {
                fast_taken += 1;
                assert!(slow_ok, "fast path accepted what the crate refuses: {s:?}");
                assert_eq!(fast.as_slice(), slow.as_slice(), "{s:?}");
            }
            let mut t = Tag::default();
            assert_eq!(
                decode_tag_into(Encoding::Base64, s, &mut t),
                slow_ok,
                "{s:?}"
            );
            if slow_ok {
                assert_eq!(t.as_slice(), slow.as_slice(), "{s:?}");
            }
        }
        // The fast path is the one taken for well-formed tags.
        assert!(fast_taken > 68, "{fast_taken}");
        let mut t = Tag::default();
        assert!(base64_fast(std.encode([7u8; 32]).as_bytes(), &mut t));
        assert!(base64_fast(std.encode([7u8; 64]).as_bytes(), &mut t));
        assert!(!base64_fast(std.encode([7u8; 65]).as_bytes(), &mut t));
    }

    #[test]
    fn too_long_signatures_are_valid_but_match_nothing() {
        use base64::Engine as _;
        let long = [1u8; 65];
        let t = decode_tag(Encoding::Hex, hex::encode(long).as_bytes()).unwrap();
        assert!(t.as_slice().is_empty());
        let s = base64::engine::general_purpose::STANDARD.encode([1u8; 200]);
        assert!(
            decode_tag(Encoding::Base64, s.as_bytes())
                .unwrap()
                .as_slice()
                .is_empty()
        );
        assert!(decode_tag(Encoding::Hex, &[b'z'; 200]).is_none());
    }

    #[test]
    fn a_failed_decode_leaves_nothing_that_breaks_deduplication() {
        let sig = hex::encode([7u8; 32]);
        let mut t = Tags::default();
        // A long invalid entry first (ignored in a list), then the same valid one twice.
        assert!(!t.push_decoded(Encoding::Hex, "z".repeat(80).as_bytes()));
        assert!(t.push_decoded(Encoding::Hex, sig.as_bytes()));
        assert!(t.push_decoded(Encoding::Hex, sig.as_bytes()));
        assert_eq!(t.iter().count(), 1);
        // Tags compare by content, not by the bytes past their length.
        let mut a = Tag::new(&[9; 40]).unwrap();
        assert!(a.set(&[1, 2, 3]));
        assert_eq!(a, Tag::new(&[1, 2, 3]).unwrap());
    }

    #[test]
    fn tags_spill_past_two_and_keep_order() {
        let mut t = Tags::default();
        for i in 0..5u8 {
            t.push(Tag::new(&[i]).unwrap());
        }
        let got: Vec<u8> = t.iter().map(|x| x.as_slice()[0]).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert!(t.contains(&Tag::new(&[3]).unwrap()));
        assert!(!t.contains(&Tag::new(&[9]).unwrap()));
        assert_eq!(t.first().unwrap().as_slice(), [0]);
    }

    #[test]
    fn small_strings_inline_up_to_63_bytes() {
        let short = "github:sig:0123456789abcdef0123456789abcdef";
        let edge = "x".repeat(63);
        let long = "x".repeat(64);
        assert!(matches!(SmallStr::new(short), SmallStr::Inline(_)));
        assert!(matches!(SmallStr::new(&edge), SmallStr::Inline(_)));
        assert!(matches!(SmallStr::new(&long), SmallStr::Heap(_)));
        for s in [short, &edge[..], &long[..]] {
            let mut slot = Some(SmallStr::new("previous"));
            SmallStr::put(&mut slot, s);
            assert_eq!(slot.as_ref().map(SmallStr::as_str), Some(s));
            assert_eq!(
                matches!(slot, Some(SmallStr::Heap(_))),
                matches!(SmallStr::new(s), SmallStr::Heap(_))
            );
        }
        for s in [short, edge.as_str(), long.as_str(), "é"] {
            assert_eq!(SmallStr::new(s).as_str(), s);
        }
    }

    #[test]
    fn hex_push_is_lowercase() {
        let mut s = String::from("k:");
        push_hex(&mut s, &[0x00, 0xab, 0x7f]);
        assert_eq!(s, "k:00ab7f");
        let long: Vec<u8> = (0..=255).collect();
        let mut s = String::new();
        push_hex(&mut s, &long);
        assert_eq!(s, hex::encode(&long));
    }
}
