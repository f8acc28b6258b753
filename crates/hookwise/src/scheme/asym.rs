//! Public-key signatures: Ed25519 (Standard Webhooks `v1a`, Discord) and ECDSA
//! P-256 with SHA-256 (SendGrid). Verified with the public key, never by
//! re-signing (ECDSA signatures are randomized).
#![cfg_attr(
    not(all(feature = "ed25519", feature = "ecdsa")),
    allow(unused, unreachable_code)
)]

use base64::Engine as _;

use crate::ConfigError;

/// How a sender publishes its public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKeyEncoding {
    /// 32 bytes, hex (Discord's application public key).
    Hex,
    /// `whpk_` + base64 of 32 bytes (Standard Webhooks).
    Whpk,
    /// base64 of a DER SubjectPublicKeyInfo (SendGrid's `MFkw…`).
    DerSpkiBase64,
}

/// A decoded public key.
#[derive(Clone, Debug)]
pub(crate) enum PublicKey {
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "ecdsa")]
    P256(p256::ecdsa::VerifyingKey),
    /// Keeps the type inhabited-looking when both features are off.
    #[allow(dead_code)]
    Never(std::convert::Infallible),
}

fn bad(provider: &'static str, why: &'static str) -> ConfigError {
    ConfigError::BadSecret { provider, why }
}

/// Decodes `text` as a public key of `alg`.
pub(crate) fn decode(
    provider: &'static str,
    alg: super::Algorithm,
    enc: PublicKeyEncoding,
    text: &[u8],
) -> Result<PublicKey, ConfigError> {
    let text = text.trim_ascii();
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = match enc {
        PublicKeyEncoding::Hex => {
            hex::decode(text).map_err(|_| bad(provider, "expected the public key as hex"))?
        }
        PublicKeyEncoding::Whpk => {
            let rest = text
                .strip_prefix(b"whpk_")
                .ok_or_else(|| bad(provider, "expected a `whpk_…` public key"))?;
            b64.decode(rest)
                .map_err(|_| bad(provider, "expected `whpk_` followed by base64"))?
        }
        PublicKeyEncoding::DerSpkiBase64 => b64
            .decode(text)
            .map_err(|_| bad(provider, "expected a base64 DER public key (MFkw…)"))?,
    };
    match alg {
        #[cfg(feature = "ed25519")]
        super::Algorithm::Ed25519 => {
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| bad(provider, "an Ed25519 public key is 32 bytes"))?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&arr)
                .map_err(|_| bad(provider, "not a valid Ed25519 public key"))?;
            if vk.is_weak() {
                return Err(bad(provider, "weak (small-order) Ed25519 public key"));
            }
            Ok(PublicKey::Ed25519(vk))
        }
        #[cfg(feature = "ecdsa")]
        super::Algorithm::EcdsaP256 => {
            use p256::pkcs8::DecodePublicKey as _;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&bytes)
                .or_else(|_| p256::ecdsa::VerifyingKey::from_sec1_bytes(&bytes))
                .map_err(|_| bad(provider, "not a P-256 public key (DER SPKI or SEC1)"))?;
            Ok(PublicKey::P256(vk))
        }
        _ => Err(bad(provider, "not a public-key algorithm")),
    }
}

impl PublicKey {
    /// Verifies `sig` over the message fed by `feed` (parts in order). On
    /// success, the signature in one canonical 64-byte form, for the replay
    /// key: a sender's signature and any other encoding that also verifies
    /// (an ECDSA `(r, n − s)`, or a DER variant) give the same bytes.
    pub(crate) fn verify(&self, sig: &[u8], feed: &mut super::mac::Feed<'_>) -> Option<[u8; 64]> {
        match self {
            #[cfg(feature = "ed25519")]
            Self::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(sig).ok()?;
                // Strict verification needs the message in one piece. It also
                // refuses a non-canonical `s`, so the bytes are canonical.
                let mut msg = Vec::new();
                feed(&mut |b| msg.extend_from_slice(b));
                vk.verify_strict(&msg, &sig).ok()?;
                Some(sig.to_bytes())
            }
            #[cfg(feature = "ecdsa")]
            Self::P256(vk) => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
                use sha2::Digest as _;
                let sig = p256::ecdsa::Signature::from_der(sig).ok()?;
                // Hashed incrementally: no copy of the body.
                let mut h = sha2::Sha256::new();
                feed(&mut |b| h.update(b));
                vk.verify_prehash(&h.finalize(), &sig).ok()?;
                // p256 accepts both `s` and `n − s`: keyed by the low one.
                let mut out = [0u8; 64];
                out.copy_from_slice(&sig.normalize_s().to_bytes());
                Some(out)
            }
            Self::Never(n) => match *n {},
        }
    }
}

/// Signs with a private key, for tests and the CLI: Ed25519 from a 32-byte seed
/// (hex, or `whsk_` + base64 of the seed or of seed‖public key); P-256 from a
/// 32-byte scalar in hex (deterministic RFC 6979 signature, DER).
pub(crate) fn sign(
    provider: &'static str,
    alg: super::Algorithm,
    private: &[u8],
    msg: &[u8],
) -> Result<Vec<u8>, ConfigError> {
    let private = private.trim_ascii();
    let raw = if let Some(rest) = private.strip_prefix(b"whsk_") {
        base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| bad(provider, "expected `whsk_` + base64"))?
    } else {
        hex::decode(private)
            .map_err(|_| bad(provider, "expected the private key as hex (32 bytes)"))?
    };
    let seed: [u8; 32] = raw
        .get(..32)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad(provider, "a private key is 32 bytes"))?;
    match alg {
        #[cfg(feature = "ed25519")]
        super::Algorithm::Ed25519 => {
            use ed25519_dalek::Signer as _;
            Ok(ed25519_dalek::SigningKey::from_bytes(&seed)
                .sign(msg)
                .to_bytes()
                .to_vec())
        }
        #[cfg(feature = "ecdsa")]
        super::Algorithm::EcdsaP256 => {
            use p256::ecdsa::signature::Signer as _;
            let sk = p256::ecdsa::SigningKey::from_bytes(&seed.into())
                .map_err(|_| bad(provider, "not a valid P-256 private key"))?;
            let sig: p256::ecdsa::Signature = sk.sign(msg);
            Ok(sig.to_der().as_bytes().to_vec())
        }
        _ => Err(bad(provider, "not a public-key algorithm")),
    }
}

/// The public key for a private key, encoded as the sender would publish it.
pub(crate) fn public_for(
    provider: &'static str,
    alg: super::Algorithm,
    enc: PublicKeyEncoding,
    private: &[u8],
) -> Result<String, ConfigError> {
    let private = private.trim_ascii();
    let raw = if let Some(rest) = private.strip_prefix(b"whsk_") {
        base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| bad(provider, "expected `whsk_` + base64"))?
    } else {
        hex::decode(private).map_err(|_| bad(provider, "expected hex"))?
    };
    let seed: [u8; 32] = raw
        .get(..32)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| bad(provider, "a private key is 32 bytes"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes: Vec<u8> = match alg {
        #[cfg(feature = "ed25519")]
        super::Algorithm::Ed25519 => ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes()
            .to_vec(),
        #[cfg(feature = "ecdsa")]
        super::Algorithm::EcdsaP256 => {
            use p256::pkcs8::EncodePublicKey as _;
            let sk = p256::ecdsa::SigningKey::from_bytes(&seed.into())
                .map_err(|_| bad(provider, "not a valid P-256 private key"))?;
            sk.verifying_key()
                .to_public_key_der()
                .map_err(|_| bad(provider, "cannot encode"))?
                .as_bytes()
                .to_vec()
        }
        _ => return Err(bad(provider, "not a public-key algorithm")),
    };
    Ok(match enc {
        PublicKeyEncoding::Hex => hex::encode(bytes),
        PublicKeyEncoding::Whpk => format!("whpk_{}", b64.encode(bytes)),
        PublicKeyEncoding::DerSpkiBase64 => b64.encode(bytes),
    })
}
