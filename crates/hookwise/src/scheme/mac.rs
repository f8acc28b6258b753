//! Keyed HMAC states, built once per key and cloned per request.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// The hash behind an HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-SHA1 (legacy senders: GitHub `X-Hub-Signature`, Intercom, Twilio).
    Sha1,
    /// HMAC-SHA256 (nearly everyone).
    Sha256,
    /// HMAC-SHA512.
    Sha512,
    /// Ed25519 signature with a public key (Standard Webhooks `v1a`, Discord).
    #[cfg(feature = "ed25519")]
    Ed25519,
    /// ECDSA P-256 with SHA-256, DER signature (SendGrid).
    #[cfg(feature = "ecdsa")]
    EcdsaP256,
}

impl Algorithm {
    /// Whether this is a public-key algorithm (keys are public keys, not secrets).
    pub const fn is_asymmetric(self) -> bool {
        !matches!(self, Self::Sha1 | Self::Sha256 | Self::Sha512)
    }
}

/// How signature bytes are written in a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Hexadecimal (either case accepted).
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Encoding {
    pub(crate) fn decode(self, s: &[u8]) -> Option<Vec<u8>> {
        use base64::Engine as _;
        match self {
            Self::Hex => hex::decode(s).ok(),
            Self::Base64 => base64::engine::general_purpose::STANDARD.decode(s).ok(),
        }
    }
    pub(crate) fn encode(self, b: &[u8]) -> String {
        use base64::Engine as _;
        match self {
            Self::Hex => hex::encode(b),
            Self::Base64 => base64::engine::general_purpose::STANDARD.encode(b),
        }
    }
}

/// Something that feeds the signed content, part by part, to a sink.
pub(crate) type Feed<'a> = dyn FnMut(&mut dyn FnMut(&[u8])) + 'a;

/// The longest tag (SHA-512).
pub(crate) const MAX_TAG: usize = 64;

/// Constant-time equality of two tags whose length is public (it follows the
/// algorithm). The bytes are folded eight at a time into one word with XOR/OR,
/// which has no data-dependent branch, and that word is compared with
/// `subtle`, whose optimization barrier keeps the compiler from turning the
/// fold into an early exit. Same result as `subtle`'s slice `ct_eq`, without
/// its barrier per byte (a SHA-256 tag: ~30 instructions instead of ~290).
pub(crate) fn tags_equal(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    if a.len() != b.len() {
        return false;
    }
    let word = |c: &[u8]| u64::from_ne_bytes(<[u8; 8]>::try_from(c).unwrap_or_default());
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut acc = 0u64;
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc |= word(x) ^ word(y);
    }
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        acc |= u64::from(x ^ y);
    }
    bool::from(acc.ct_eq(&0))
}

/// A pre-keyed HMAC state.
#[derive(Clone)]
pub(crate) enum KeyedMac {
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl KeyedMac {
    /// A keyed state; `None` for public-key algorithms.
    pub(crate) fn for_alg(alg: Algorithm, key: &[u8]) -> Option<Self> {
        (!alg.is_asymmetric()).then(|| Self::new(alg, key))
    }

    pub(crate) fn new(alg: Algorithm, key: &[u8]) -> Self {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        match alg {
            Algorithm::Sha1 => Self::Sha1(
                <Hmac<Sha1> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
            Algorithm::Sha256 => Self::Sha256(
                <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
            Algorithm::Sha512 => Self::Sha512(
                <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
            // Public-key algorithms have no HMAC state; callers use `for_alg`.
            #[allow(unreachable_patterns)]
            _ => Self::Sha256(
                <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
            ),
        }
    }

    pub(crate) const fn algorithm(&self) -> Algorithm {
        match self {
            Self::Sha1(_) => Algorithm::Sha1,
            Self::Sha256(_) => Algorithm::Sha256,
            Self::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Clones the keyed state, feeds it, and writes the tag into `out`.
    pub(crate) fn compute(&self, feed: &mut Feed<'_>, out: &mut [u8; MAX_TAG]) -> usize {
        fn run<M: Mac + Clone>(m: &M, feed: &mut Feed<'_>, out: &mut [u8; MAX_TAG]) -> usize {
            let mut m = m.clone();
            feed(&mut |b| m.update(b));
            let tag = m.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match self {
            Self::Sha1(m) => run(m, feed, out),
            Self::Sha256(m) => run(m, feed, out),
            Self::Sha512(m) => run(m, feed, out),
        }
    }

    /// Feeds `b` (for a state cloned from the keyed one, hashed as a body arrives).
    pub(crate) fn update(&mut self, b: &[u8]) {
        match self {
            Self::Sha1(m) => m.update(b),
            Self::Sha256(m) => m.update(b),
            Self::Sha512(m) => m.update(b),
        }
    }

    /// Finishes a fed state, writing the tag into `out`.
    pub(crate) fn finalize_into(self, out: &mut [u8; MAX_TAG]) -> usize {
        fn fin<M: Mac>(m: M, out: &mut [u8; MAX_TAG]) -> usize {
            let tag = m.finalize().into_bytes();
            out[..tag.len()].copy_from_slice(&tag);
            tag.len()
        }
        match self {
            Self::Sha1(m) => fin(m, out),
            Self::Sha256(m) => fin(m, out),
            Self::Sha512(m) => fin(m, out),
        }
    }

    /// One-shot tag over a single buffer.
    pub(crate) fn tag(&self, data: &[u8]) -> Vec<u8> {
        let mut out = [0u8; MAX_TAG];
        let n = self.compute(&mut |f| f(data), &mut out);
        out[..n].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_equal_agrees_with_subtle_on_every_length_and_position() {
        use subtle::ConstantTimeEq as _;
        for len in [0usize, 1, 7, 8, 9, 20, 32, 63, 64] {
            let a: Vec<u8> = (0..len)
                .map(|i| u8::try_from(i * 37 % 251).unwrap())
                .collect();
            assert!(tags_equal(&a, &a));
            for pos in 0..len {
                for bit in [0x01u8, 0x80] {
                    let mut b = a.clone();
                    b[pos] ^= bit;
                    assert_eq!(tags_equal(&a, &b), bool::from(a.ct_eq(&b)));
                    assert!(!tags_equal(&a, &b), "len {len} pos {pos}");
                }
            }
            if let Some(shorter) = len.checked_sub(1) {
                assert!(!tags_equal(&a, &a[..shorter]), "lengths differ: {len}");
            }
        }
    }

    #[test]
    fn rfc4231_case_2() {
        let m = KeyedMac::new(Algorithm::Sha256, b"Jefe");
        assert_eq!(
            hex::encode(m.tag(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let m = KeyedMac::new(Algorithm::Sha512, b"Jefe");
        assert_eq!(
            hex::encode(m.tag(b"what do ya want for nothing?")),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let m = KeyedMac::new(Algorithm::Sha1, b"k");
        let mut out = [0u8; MAX_TAG];
        let n = m.compute(
            &mut |f| {
                f(b"ab");
                f(b"");
                f(b"c");
            },
            &mut out,
        );
        assert_eq!(&out[..n], m.tag(b"abc").as_slice());
        assert_eq!(n, 20);
    }
}
