//! The HMAC engine behind every HMAC preset, and the generic builder.
//!
//! A scheme is data: which headers carry the signature, timestamp and id, how the
//! signature is written, and the signed-content template (literal bytes, id,
//! timestamp, body, URL, method). Verification feeds the template parts into a
//! clone of the pre-keyed HMAC state one after another: the signed content is
//! never concatenated into a new buffer.

use std::borrow::Cow;
use std::ops::ControlFlow;

use sha2::{Digest, Sha256};

use super::asym::{self, PublicKeyEncoding};
use super::inline::{Inline, SmallStr};
use super::mac::{Algorithm, Encoding, KeyedMac, MAX_TAG, RunningMac, tags_equal};
use super::{
    Pending, PreparedKey, SignParams, SignedRequest, body_fields, body_fields_fast, secret_bytes,
    static_name,
};
use crate::delivery::ReplayFrom;
use crate::headers::Lookup;
use crate::timestamp::TimestampFormat;
use crate::{ConfigError, Delivery, HeaderList, Key, Reason, Rejection, RequestParts, Tolerance};

/// Most candidate entries a signature list may carry; more is rejected (400).
pub const MAX_SIGNATURE_ENTRIES: usize = 64;

/// How the signature header's value is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureFormat {
    /// One signature after a fixed prefix: `sha256=<hex>`, `v0=<hex>`, or bare (`""`).
    Prefixed(Cow<'static, str>),
    /// A list of `key<kv>value` entries separated by `separator`; entries whose key is
    /// `version` are signatures, others are ignored. `timestamp_key` names the entry
    /// that carries the timestamp (Stripe `t`, Paddle `ts`).
    List {
        /// Between entries: `,` (Stripe, PagerDuty), `;` (Paddle), ` ` (Standard Webhooks).
        separator: char,
        /// Between key and value: `=` or `,` (Standard Webhooks `v1,<b64>`).
        kv: char,
        /// The signature version to check (`v1`, `h1`).
        version: Cow<'static, str>,
        /// The key of the timestamp entry, if the list carries one.
        timestamp_key: Option<Cow<'static, str>>,
    },
}

/// Where a value (timestamp, id, event type) comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Not available.
    None,
    /// A header (lowercase name).
    Header(Cow<'static, str>),
    /// The signature header's list (`timestamp_key` of [`SignatureFormat::List`]).
    SignatureList,
    /// A field of the JSON body, as a path of object keys (read after verification).
    Body(Vec<Cow<'static, str>>),
}

impl Source {
    /// A body field from a dotted path, e.g. `event.type`.
    pub fn body(path: &'static str) -> Self {
        Self::Body(path.split('.').map(Cow::Borrowed).collect())
    }
}

/// One part of the signed content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal bytes, e.g. `v0:` or `.`.
    Literal(Cow<'static, [u8]>),
    /// The delivery id, verbatim from its header.
    Id,
    /// The timestamp, verbatim as sent.
    Timestamp,
    /// The raw body.
    Body,
    /// The public URL (configured; see [`HmacBuilder::url`]).
    Url,
    /// The request method.
    Method,
    /// The `payload` field of a form-encoded body, or the raw body otherwise (Gitea).
    FormPayloadOrBody,
}

/// Which kinds of part a template has. Asked on every request, so worked
/// out once, when the template is set, rather than by walking it each time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PartKinds {
    pub(crate) id: bool,
    pub(crate) url: bool,
    pub(crate) method: bool,
    pub(crate) form: bool,
}

impl PartKinds {
    pub(crate) fn of(parts: &[Part]) -> Self {
        let has = |f: fn(&Part) -> bool| parts.iter().any(f);
        Self {
            id: has(|p| matches!(p, Part::Id)),
            url: has(|p| matches!(p, Part::Url)),
            method: has(|p| matches!(p, Part::Method)),
            form: has(|p| matches!(p, Part::FormPayloadOrBody)),
        }
    }
}

impl Part {
    /// Parses a template such as `{id}.{timestamp}.{body}` (also `{ts}`, `{url}`,
    /// `{method}`); anything outside braces is literal.
    ///
    /// # Errors
    /// An unknown placeholder or an unclosed brace.
    pub fn parse_template(template: &str) -> Result<Vec<Self>, ConfigError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(open) = rest.find('{') {
                if open > 0 {
                    parts.push(Self::Literal(Cow::Owned(rest.as_bytes()[..open].to_vec())));
                }
                let close = rest[open..]
                    .find('}')
                    .ok_or(ConfigError::Scheme("unclosed `{` in template".into()))?
                    + open;
                parts.push(match &rest[open + 1..close] {
                    "id" => Self::Id,
                    "timestamp" | "ts" => Self::Timestamp,
                    "body" => Self::Body,
                    "url" => Self::Url,
                    "method" => Self::Method,
                    other => {
                        return Err(ConfigError::Scheme(
                            format!("unknown template placeholder `{{{other}}}`").into(),
                        ));
                    }
                });
                rest = &rest[close + 1..];
            } else {
                parts.push(Self::Literal(Cow::Owned(rest.as_bytes().to_vec())));
                rest = "";
            }
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Self::Body | Self::FormPayloadOrBody))
        {
            return Err(ConfigError::Scheme(
                "the template must include {body}".into(),
            ));
        }
        Ok(parts)
    }
}

/// Where one sender variant puts its signature, timestamp and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderSet {
    pub(crate) signature: Cow<'static, str>,
    pub(crate) format: SignatureFormat,
    pub(crate) algorithm: Algorithm,
    pub(crate) encoding: Encoding,
    pub(crate) timestamp: Source,
    pub(crate) id: Source,
}

/// How the secret string becomes HMAC key bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes as given, prefixes included (Stripe `whsec_…`,
    /// Paddle `pdl_…`, GitHub, Slack, …).
    Raw,
    /// Strip an optional `whsec_` prefix, then base64-decode (Standard Webhooks,
    /// Svix, GitLab signing tokens). Padding is optional: `whsec_` secrets copied
    /// without their trailing `=` are accepted, as the reference Python library
    /// does; characters outside the standard alphabet are refused at start-up.
    WhsecBase64,
}

/// An HMAC scheme: a preset or your own, built with [`HmacScheme::builder`].
#[derive(Clone, Debug)]
pub struct HmacScheme {
    pub(crate) provider: Cow<'static, str>,
    pub(crate) sets: Vec<HeaderSet>,
    pub(crate) template: Vec<Part>,
    /// Which kinds of part `template` has, set with it.
    pub(crate) kinds: PartKinds,
    pub(crate) event: Source,
    pub(crate) timestamp_format: TimestampFormat,
    pub(crate) secret_encoding: SecretEncoding,
    pub(crate) tolerance: Tolerance,
    pub(crate) url: Option<String>,
    pub(crate) url_is_origin: bool,
    pub(crate) asym: Option<AsymVersion>,
    pub(crate) public_key_encoding: PublicKeyEncoding,
}

/// A second signature version in a list, verified with a public key
/// (Standard Webhooks `v1a` next to `v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsymVersion {
    /// The list key, e.g. `v1a`.
    pub version: Cow<'static, str>,
    /// The public-key algorithm.
    pub algorithm: Algorithm,
    /// The prefix that marks a keyring entry as a public key (e.g. `whpk_`).
    pub key_prefix: Cow<'static, str>,
}

impl HmacScheme {
    /// Starts a custom HMAC scheme: provider name, signature header, algorithm.
    ///
    /// ```
    /// use hookwise::scheme::{Algorithm, Encoding, HmacScheme};
    /// let scheme = HmacScheme::builder("acme", "X-Acme-Signature", Algorithm::Sha256)
    ///     .prefix("sha256=")
    ///     .encoding(Encoding::Hex)
    ///     .timestamp_header("X-Acme-Timestamp")
    ///     .template("{timestamp}.{body}").unwrap()
    ///     .build();
    /// let v = hookwise::Verifier::builder(scheme).secret("s3cret").unwrap()
    ///     .clock(hookwise::FixedClock::new(1_700_000_000)).build().unwrap();
    /// # let _ = v;
    /// ```
    pub fn builder(
        provider: impl Into<Cow<'static, str>>,
        header: &str,
        algorithm: Algorithm,
    ) -> HmacBuilder {
        HmacBuilder {
            scheme: Self {
                provider: provider.into(),
                sets: vec![HeaderSet {
                    signature: Cow::Owned(header.to_ascii_lowercase()),
                    format: SignatureFormat::Prefixed(Cow::Borrowed("")),
                    algorithm,
                    encoding: Encoding::Hex,
                    timestamp: Source::None,
                    id: Source::None,
                }],
                template: vec![Part::Body],
                kinds: PartKinds::default(),
                event: Source::None,
                timestamp_format: TimestampFormat::UnixSeconds,
                secret_encoding: SecretEncoding::Raw,
                tolerance: Tolerance::default(),
                url: None,
                url_is_origin: false,
                asym: None,
                public_key_encoding: PublicKeyEncoding::Hex,
            },
        }
    }

    /// Refuses signature-list layouts that could never verify their own
    /// signatures (non-ASCII or identical separators, separators inside the
    /// signature alphabet, versions with whitespace).
    pub(crate) fn validate_formats(&self) -> Result<(), ConfigError> {
        for set in &self.sets {
            if let SignatureFormat::List {
                separator,
                kv,
                version,
                timestamp_key,
            } = &set.format
            {
                let in_alphabet = |c: char| {
                    c.is_ascii_alphanumeric()
                        || (set.encoding == Encoding::Base64 && matches!(c, '+' | '/' | '='))
                };
                let bad_sep = |c: char| !c.is_ascii() || in_alphabet(c);
                let bad_key = |k: &str| {
                    k.is_empty()
                        || k.chars()
                            .any(|c| c.is_whitespace() || c == *separator || c == *kv)
                };
                if bad_sep(*separator)
                    || bad_sep(*kv)
                    || separator == kv
                    || bad_key(version)
                    || timestamp_key.as_deref().is_some_and(bad_key)
                {
                    return Err(ConfigError::Scheme(
                        "signature list: separators must be distinct ASCII characters outside the signature alphabet, and keys non-empty without whitespace or separators".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) const fn needs_url(&self) -> bool {
        self.kinds.url
    }

    pub(crate) fn has_timestamp(&self) -> bool {
        self.sets.iter().any(|s| s.timestamp != Source::None)
    }

    pub(crate) fn prepare(&self, index: usize, key: &Key) -> Result<PreparedKey, ConfigError> {
        let text = key.secret.expose();
        let provider = static_name(&self.provider);
        if let Some(a) = &self.asym {
            if text.trim_ascii().starts_with(a.key_prefix.as_bytes()) {
                let pk = asym::decode(provider, a.algorithm, self.public_key_encoding, text)?;
                return Ok(PreparedKey::public(index, key, pk));
            }
        }
        if let Some(set) = self.sets.iter().find(|s| s.algorithm.is_asymmetric()) {
            let pk = asym::decode(provider, set.algorithm, self.public_key_encoding, text)?;
            return Ok(PreparedKey::public(index, key, pk));
        }
        let bytes = secret_bytes(&self.provider, self.secret_encoding, text)?;
        let mut macs: Vec<KeyedMac> = Vec::with_capacity(2);
        for set in &self.sets {
            if !macs.iter().any(|m| m.algorithm() == set.algorithm) {
                macs.extend(KeyedMac::for_alg(set.algorithm, &bytes));
            }
        }
        Ok(PreparedKey::hmac(index, key, macs))
    }

    pub(crate) fn check_headers(
        &self,
        req: &RequestParts<'_>,
        now: i64,
        tolerance: &Tolerance,
        p: &mut Pending,
    ) -> Result<(), Rejection> {
        let h = req.headers;
        let found = self
            .sets
            .iter()
            .enumerate()
            .find_map(|(i, s)| match h.lookup(&s.signature) {
                Lookup::Missing => None,
                l => Some((i, s, l)),
            });
        let Some((set_index, set, lookup)) = found else {
            let names: Vec<&str> = self.sets.iter().map(|s| s.signature.as_ref()).collect();
            return Err(Rejection::new(
                Reason::MissingSignature,
                format!("no signature header ({})", names.join(" or ")),
            )
            .header(self.sets[0].signature.clone()));
        };
        let Lookup::One(value) = lookup else {
            return Err(Rejection::new(
                Reason::MalformedHeader,
                "signature header sent more than once",
            )
            .header(set.signature.clone()));
        };
        p.set = set_index;
        let mut ts_raw: Option<&[u8]> = None;
        match &set.format {
            SignatureFormat::Prefixed(prefix) => {
                let pre = prefix.as_bytes();
                if value.len() < pre.len() || !value[..pre.len()].eq_ignore_ascii_case(pre) {
                    return Err(malformed(
                        set,
                        format!("signature does not start with `{prefix}`"),
                    ));
                }
                let raw = &value[pre.len()..];
                let invalid = || malformed(set, "signature is not valid encoding");
                if set.algorithm.is_asymmetric() {
                    let sig = set.encoding.decode(raw).ok_or_else(invalid)?;
                    p.asym_signatures.push(sig);
                } else if !p.signatures.push_decoded(set.encoding, raw) {
                    return Err(invalid());
                }
                p.candidates = 1;
            }
            SignatureFormat::List {
                separator,
                kv,
                version,
                timestamp_key,
            } => {
                let mut entries = 0usize;
                // Both separators are ASCII (checked when the verifier is built).
                let (sep, kv) = (ascii(*separator), ascii(*kv));
                for entry in split(value, sep) {
                    let entry = entry.trim_ascii();
                    if entry.is_empty() {
                        continue;
                    }
                    entries += 1;
                    if entries > MAX_SIGNATURE_ENTRIES {
                        return Err(malformed(
                            set,
                            format!(
                                "more than {MAX_SIGNATURE_ENTRIES} entries in the signature list"
                            ),
                        ));
                    }
                    let Some(pos) = memchr::memchr(kv, entry) else {
                        continue; // junk entry, ignored like an unknown version
                    };
                    let (k, v) = (&entry[..pos], &entry[pos + 1..]);
                    if k == version.as_bytes() && !set.algorithm.is_asymmetric() {
                        p.candidates += 1;
                        // An entry that is not valid encoding is ignored like junk.
                        p.signatures.push_decoded(set.encoding, v);
                    } else if k == version.as_bytes()
                        || self
                            .asym
                            .as_ref()
                            .is_some_and(|a| k == a.version.as_bytes())
                    {
                        p.candidates += 1;
                        if let Some(sig) = set.encoding.decode(v) {
                            if !p.asym_signatures.contains(&sig) {
                                p.asym_signatures.push(sig);
                            }
                        }
                    } else if timestamp_key.as_deref().is_some_and(|t| k == t.as_bytes()) {
                        if ts_raw.is_some() {
                            return Err(malformed(
                                set,
                                "more than one timestamp in the signature header",
                            ));
                        }
                        ts_raw = Some(v);
                    }
                }
                if p.candidates == 0 {
                    return Err(malformed(
                        set,
                        format!(
                            "no `{version}` signature in the list (only unknown versions or junk)"
                        ),
                    ));
                }
            }
        }
        // Timestamp.
        match &set.timestamp {
            Source::None | Source::Body(_) => {}
            Source::SignatureList => {
                let raw = ts_raw.ok_or_else(|| {
                    Rejection::new(Reason::MalformedHeader, "signature header has no timestamp")
                        .header(set.signature.clone())
                })?;
                p.timestamp = Some(self.parse_ts(raw, set.signature.clone())?);
                if !p.ts_raw.set(raw) {
                    return Err(ts_too_long(set.signature.clone()));
                }
            }
            Source::Header(name) => {
                let raw = one(h, name)?;
                p.timestamp = Some(self.parse_ts(raw, name.clone())?);
                if !p.ts_raw.set(raw) {
                    return Err(ts_too_long(name.clone()));
                }
            }
        }
        if let Some(ts) = p.timestamp {
            check_window(tolerance, ts, now)?;
        }
        // Id.
        if let Source::Header(name) = &set.id {
            match h.lookup(name) {
                Lookup::One(v) => SmallStr::put(&mut p.id, utf8(v, name)?),
                Lookup::Many => {
                    return Err(Rejection::new(
                        Reason::MalformedHeader,
                        "id header sent more than once",
                    )
                    .header(name.clone()));
                }
                Lookup::Missing if self.kinds.id => {
                    return Err(
                        Rejection::new(Reason::MissingHeader, "no delivery id header")
                            .header(name.clone()),
                    );
                }
                Lookup::Missing => {}
            }
        }
        if let Source::Header(name) = &self.event {
            if let Lookup::One(v) = h.lookup(name) {
                p.event = std::str::from_utf8(v).ok().map(SmallStr::new);
            }
        }
        if self.kinds.method {
            p.method = req.method.to_owned();
        }
        if self.needs_url() {
            let base = self.url.as_deref().unwrap_or_default();
            p.url = if self.url_is_origin {
                format!("{}{}", base.trim_end_matches('/'), req.uri)
            } else {
                base.to_owned()
            };
        }
        if self.kinds.form {
            p.form = matches!(h.lookup("content-type"), Lookup::One(ct) if ct.len() >= 33 && ct[..33].eq_ignore_ascii_case(b"application/x-www-form-urlencoded"));
        }
        Ok(())
    }

    fn parse_ts(&self, raw: &[u8], header: Cow<'static, str>) -> Result<i64, Rejection> {
        self.timestamp_format.parse(raw).ok_or_else(|| {
            Rejection::new(Reason::MalformedHeader, "timestamp is not valid").header(header)
        })
    }

    /// Feeds the signed content to `f`, part by part. The short parts around
    /// the body (id, timestamp, separators) are gathered in a stack buffer and
    /// fed as one: each call into the HMAC is a round trip through its block
    /// buffer, which at 1 KiB showed next to the hash itself.
    fn feed(&self, p: &Pending, body: &[u8], payload: Option<&[u8]>, f: &mut dyn FnMut(&[u8])) {
        Self::feed_parts(&self.template, p, body, payload, f);
    }

    /// [`HmacScheme::feed`] for some of the template's parts.
    fn feed_parts(
        parts: &[Part],
        p: &Pending,
        body: &[u8],
        payload: Option<&[u8]>,
        f: &mut dyn FnMut(&[u8]),
    ) {
        let mut buf = [0u8; 128];
        let mut n = 0;
        for part in parts {
            let (bytes, is_body): (&[u8], bool) = match part {
                Part::Literal(l) => (l, false),
                Part::Id => (p.id.as_ref().map_or(&[][..], SmallStr::as_bytes), false),
                Part::Timestamp => (p.ts_raw.as_slice(), false),
                Part::Body => (body, true),
                Part::Url => (p.url.as_bytes(), false),
                Part::Method => (p.method.as_bytes(), false),
                Part::FormPayloadOrBody => (payload.unwrap_or(body), true),
            };
            if let Some(dst) = buf.get_mut(n..n + bytes.len()).filter(|_| !is_body) {
                copy_short(dst, bytes);
                n += bytes.len();
                continue;
            }
            if n > 0 {
                f(&buf[..n]);
                n = 0;
            }
            f(bytes);
        }
        if n > 0 {
            f(&buf[..n]);
        }
    }

    pub(crate) fn verify_body(
        &self,
        p: &mut Pending,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<Delivery, Rejection> {
        let set = &self.sets[p.set];
        let payload = if p.form { form_payload(body) } else { None };
        let mut tag = [0u8; MAX_TAG];
        // A long body: the first key is tried alongside the metadata scan.
        let mut tried = None;
        if body.len() > FUSED_BLOCK {
            match self.verify_fused(p, body, keys, now, tolerance) {
                ControlFlow::Break(result) => return result,
                ControlFlow::Continue(pos) => tried = pos,
            }
        }
        let mut keys_tried = 0;
        let mut matched: Option<usize> = None;
        let mut sig_bytes: &[u8] = &[];
        // A verified public-key signature in canonical form (for the replay key).
        let canonical: [u8; 64];
        for (pos, key) in keys.iter().enumerate().filter(|(_, k)| k.active_at(now)) {
            keys_tried += 1;
            if tried == Some(pos) {
                continue; // hashed with the scan above, and it did not match
            }
            if let Some(pk) = &key.public {
                // Public-key signatures: the set's own algorithm, or the list's second version.
                let sigs = &p.asym_signatures;
                let mut feed = |f: &mut dyn FnMut(&[u8])| self.feed(p, body, payload.as_deref(), f);
                if let Some(c) = sigs.iter().find_map(|sig| pk.verify(sig, &mut feed)) {
                    canonical = c;
                    sig_bytes = &canonical;
                    matched = Some(key.index);
                    break;
                }
                continue;
            }
            let Some(mac) = key.mac(set.algorithm) else {
                continue;
            };
            let n = mac.compute(&mut |f| self.feed(p, body, payload.as_deref(), f), &mut tag);
            if let Some(sig) = matching_tag(&p.signatures, &tag[..n]) {
                sig_bytes = sig;
                matched = Some(key.index);
                break;
            }
        }
        self.conclude(
            p,
            body,
            keys,
            now,
            tolerance,
            matched.map(|k| (k, sig_bytes)),
            keys_tried,
            || body_fields(body, [&set.id, &self.event, &set.timestamp]),
        )
    }

    /// For a long body whose metadata the scan has to look for (Slack's
    /// `event_id` comes after the whole `event`), the first key's HMAC fed
    /// block by block just ahead of the scan ([`HashAhead`]), so that the scan
    /// reads each block from cache rather than the whole body again from memory.
    ///
    /// `Break` with the result when that key matched; else `Continue` with
    /// the position of the key tried (`None`: not a case for it, nothing hashed).
    #[inline(never)]
    fn verify_fused(
        &self,
        p: &Pending,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tolerance: &Tolerance,
    ) -> ControlFlow<Result<Delivery, Rejection>, Option<usize>> {
        let set = &self.sets[p.set];
        let sources = [&set.id, &self.event, &set.timestamp];
        if !self.streams(p) || !sources.iter().any(|s| matches!(s, Source::Body(_))) {
            return ControlFlow::Continue(None);
        }
        let first = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.active_at(now) && k.public.is_none())
            .find_map(|(pos, k)| Some((pos, k.mac(set.algorithm)?)));
        let Some((pos, mac)) = first else {
            return ControlFlow::Continue(None);
        };
        let mut m = mac.start();
        let prefix = &self.template[..self.template.len() - 1];
        Self::feed_parts(prefix, p, &[], None, &mut |b| m.update(b));
        let mut ahead = HashAhead {
            body,
            fed: 0,
            mac: &mut m,
        };
        let fields = body_fields_fast(body, sources, &mut ahead);
        let fed = ahead.fed;
        m.update(&body[fed..]);
        let mut tag = [0u8; MAX_TAG];
        let n = m.finalize_into(&mut tag);
        let Some(sig) = matching_tag(&p.signatures, &tag[..n]) else {
            return ControlFlow::Continue(Some(pos));
        };
        let matched = Some((keys[pos].index, sig));
        ControlFlow::Break(
            self.conclude(p, body, keys, now, tolerance, matched, 1, || {
                fields.unwrap_or_else(|| body_fields(body, sources))
            }),
        )
    }

    /// Whether the body can be hashed as it arrives: HMAC, and the body is the
    /// last signed part and signed once (no form field, no public-key
    /// signature to check).
    fn streams(&self, p: &Pending) -> bool {
        let Some((Part::Body, prefix)) = self.template.split_last() else {
            return false;
        };
        !prefix
            .iter()
            .any(|x| matches!(x, Part::Body | Part::FormPayloadOrBody))
            && !self.sets[p.set].algorithm.is_asymmetric()
            && p.asym_signatures.is_empty()
    }

    /// One HMAC state per active key, fed the parts signed before the body.
    pub(crate) fn start_stream(
        &self,
        p: &Pending,
        keys: &[PreparedKey],
        now: i64,
    ) -> Option<Streaming> {
        if !self.streams(p) {
            return None;
        }
        let set = &self.sets[p.set];
        let prefix = &self.template[..self.template.len() - 1];
        let mut st = Streaming {
            states: Vec::with_capacity(1),
            keys_tried: 0,
            fed: 0,
        };
        for (pos, key) in keys.iter().enumerate().filter(|(_, k)| k.active_at(now)) {
            st.keys_tried += 1;
            if key.public.is_some() {
                continue; // no public-key signature in this request
            }
            let Some(mac) = key.mac(set.algorithm) else {
                continue;
            };
            let mut m = mac.start();
            Self::feed_parts(prefix, p, &[], None, &mut |b| m.update(b));
            st.states.push((pos, m));
        }
        Some(st)
    }

    /// Finishes [`HmacScheme::start_stream`] once `body` (exactly what was
    /// fed) is complete.
    pub(crate) fn finish_stream(
        &self,
        p: &mut Pending,
        st: Streaming,
        body: &[u8],
        keys: &[PreparedKey],
        now: i64,
        tolerance: &Tolerance,
    ) -> Result<Delivery, Rejection> {
        if st.fed != body.len() {
            // Not what was hashed: verify the body as given instead.
            return self.verify_body(p, body, keys, now, tolerance);
        }
        let mut matched = None;
        for (pos, m) in st.states {
            let mut tag = [0u8; MAX_TAG];
            let n = m.finalize_into(&mut tag);
            let hit = matching_tag(&p.signatures, &tag[..n]);
            if let (Some(sig), Some(key)) = (hit, keys.get(pos)) {
                matched = Some((key.index, sig));
                break;
            }
        }
        let set = &self.sets[p.set];
        let fields = || body_fields(body, [&set.id, &self.event, &set.timestamp]);
        self.conclude(
            p,
            body,
            keys,
            now,
            tolerance,
            matched,
            st.keys_tried,
            fields,
        )
    }

    /// The end of the body phase: the rejection when nothing matched, or the
    /// body's metadata (`fields`, unless the fast scan has read it already)
    /// and the delivery.
    #[allow(clippy::too_many_arguments)]
    fn conclude<'b>(
        &self,
        p: &Pending,
        body: &'b [u8],
        keys: &[PreparedKey],
        now: i64,
        tolerance: &Tolerance,
        matched: Option<(usize, &[u8])>,
        keys_tried: usize,
        fields: impl FnOnce() -> [Option<Cow<'b, str>>; 3],
    ) -> Result<Delivery, Rejection> {
        let set = &self.sets[p.set];
        let Some((key_index, sig_bytes)) = matched else {
            let mut r = Rejection::new(Reason::SignatureMismatch, "no signature matches any key")
                .header(set.signature.clone())
                .tried(p.candidates, keys_tried)
                .body_len(body.len());
            if keys_tried == 0 {
                r = r.hint("no key is inside its validity window");
            }
            return Err(r);
        };
        let [id_b, event_b, ts_b] = fields();
        // A signature-derived replay key is the same whichever header carried
        // the signature: a GitHub delivery sent with both `X-Hub-Signature-256`
        // and the legacy `X-Hub-Signature`, replayed with the first removed,
        // must still be recognised. So a tag of another algorithm than the first
        // set's is replaced by the first set's, computed with the matched key.
        let primary = self.primary_tag(p, body, &keys[key_index]);
        let sig_bytes = primary.as_ref().map_or(sig_bytes, |(tag, n)| &tag[..*n]);
        let mut timestamp = p.timestamp;
        if let Source::Body(_) = &set.timestamp {
            let raw = ts_b.ok_or_else(|| {
                Rejection::new(
                    Reason::MalformedHeader,
                    "the signed body has no timestamp field",
                )
            })?;
            let ts = self.timestamp_format.parse(raw.as_bytes()).ok_or_else(|| {
                Rejection::new(Reason::MalformedHeader, "body timestamp is not valid")
            })?;
            check_window(tolerance, ts, now)?;
            timestamp = Some(ts);
        }
        let id_is_signed = match &set.id {
            Source::Body(_) => true,
            Source::Header(_) => self.kinds.id,
            _ => false,
        };
        let id = id_b.or_else(|| p.id.as_ref().map(|s| Cow::Borrowed(s.as_str())));
        let event_type = event_b.or_else(|| p.event.as_ref().map(|s| Cow::Borrowed(s.as_str())));
        Ok(Delivery::new(
            &self.provider,
            &keys[key_index].name,
            timestamp,
            id.as_deref(),
            id_is_signed,
            event_type.as_deref(),
            if id_is_signed && id.is_some() {
                ReplayFrom::Id
            } else {
                ReplayFrom::Signature(sig_bytes)
            },
        ))
    }

    /// The first set's tag over this request, with `key`, when the set that
    /// matched uses another algorithm (`None` otherwise, or for a public key).
    fn primary_tag(
        &self,
        p: &Pending,
        body: &[u8],
        key: &PreparedKey,
    ) -> Option<([u8; MAX_TAG], usize)> {
        let primary = self.sets[0].algorithm;
        if self.sets[p.set].algorithm == primary || key.public.is_some() {
            return None;
        }
        let mac = key.mac(primary)?;
        let payload = if p.form { form_payload(body) } else { None };
        let mut tag = [0u8; MAX_TAG];
        let n = mac.compute(&mut |f| self.feed(p, body, payload.as_deref(), f), &mut tag);
        Some((tag, n))
    }

    pub(crate) fn sign(
        &self,
        key: &Key,
        body: &[u8],
        params: &SignParams<'_>,
    ) -> Result<SignedRequest, ConfigError> {
        let set = &self.sets[0];
        let text = key.secret.expose();
        let provider = static_name(&self.provider);
        // Public-key schemes sign with a private key; Standard Webhooks signs `v1a` with a `whsk_` key.
        let asym_alg = if set.algorithm.is_asymmetric() {
            Some(set.algorithm)
        } else {
            self.asym
                .as_ref()
                .filter(|_| text.trim_ascii().starts_with(b"whsk_"))
                .map(|a| a.algorithm)
        };
        let ts = params.timestamp.map(|t| self.timestamp_format.format(t));
        let id = params.id.map_or_else(
            || format!("msg_{}", &hex::encode(Sha256::digest(body))[..24]),
            str::to_owned,
        );
        let url = params
            .url
            .map(str::to_owned)
            .or_else(|| self.url.clone())
            .unwrap_or_default();
        let p = Pending {
            id: Some(SmallStr::new(&id)),
            ts_raw: Inline::new(ts.as_deref().unwrap_or_default().as_bytes()).unwrap_or_default(),
            url,
            method: params.method.unwrap_or("POST").to_owned(),
            form: false,
            ..Pending::default()
        };
        if self.needs_url() && p.url.is_empty() {
            return Err(ConfigError::Scheme(
                format!("{} signs the URL: pass the notification URL", self.provider).into(),
            ));
        }
        let needs_ts = matches!(set.timestamp, Source::Header(_) | Source::SignatureList);
        if needs_ts && ts.is_none() {
            return Err(ConfigError::Scheme(
                format!("{} signs a timestamp: pass one", self.provider).into(),
            ));
        }
        let mut content = Vec::new();
        self.feed(&p, body, None, &mut |b| content.extend_from_slice(b));
        let tag = match asym_alg {
            Some(alg) => asym::sign(provider, alg, text, &content)?,
            None => KeyedMac::new(
                set.algorithm,
                &secret_bytes(&self.provider, self.secret_encoding, text)?,
            )
            .tag(&content),
        };
        let sig = set.encoding.encode(&tag);
        let value = match &set.format {
            SignatureFormat::Prefixed(prefix) => format!("{prefix}{sig}"),
            SignatureFormat::List {
                separator,
                kv,
                version,
                timestamp_key,
            } => {
                let version = match (&self.asym, asym_alg) {
                    (Some(a), Some(_)) => &a.version,
                    _ => version,
                };
                match (timestamp_key, &ts) {
                    (Some(k), Some(t)) => format!("{k}{kv}{t}{separator}{version}{kv}{sig}"),
                    _ => format!("{version}{kv}{sig}"),
                }
            }
        };
        let mut headers = HeaderList::new();
        headers.push(canonical(&set.signature), value);
        if let (Source::Header(name), Some(t)) = (&set.timestamp, &ts) {
            headers.push(canonical(name), t.clone());
        }
        if let Source::Header(name) = &set.id {
            headers.push(canonical(name), id);
        }
        if let (Source::Header(name), Some(ev)) = (&self.event, params.event) {
            headers.push(canonical(name), ev);
        }
        Ok(SignedRequest {
            headers,
            body: body.to_vec(),
        })
    }
}

/// `dst.copy_from_slice(src)` (same lengths) for the short parts before a
/// body (`.`, a timestamp, an id): up to 16 bytes as two overlapping loads
/// and stores, inline, instead of a call into libc's `memcpy` per part.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let (Some(d8), Some(s8)) = (dst.get_mut(..n), src.get(..n)) else {
        return;
    };
    match n {
        0 => {}
        1..=3 => {
            // Written out: a byte loop may be turned back into a `memcpy` call.
            d8[0] = s8[0];
            d8[n / 2] = s8[n / 2];
            d8[n - 1] = s8[n - 1];
        }
        4..=7 => {
            let w = |b: &[u8]| <[u8; 4]>::try_from(b).unwrap_or_default();
            let (head, tail) = (w(&s8[..4]), w(&s8[n - 4..]));
            d8[..4].copy_from_slice(&head);
            d8[n - 4..].copy_from_slice(&tail);
        }
        8..=16 => {
            let w = |b: &[u8]| <[u8; 8]>::try_from(b).unwrap_or_default();
            let (head, tail) = (w(&s8[..8]), w(&s8[n - 8..]));
            d8[..8].copy_from_slice(&head);
            d8[n - 8..].copy_from_slice(&tail);
        }
        _ => d8.copy_from_slice(s8),
    }
}

/// Bodies longer than this have their first key's HMAC computed alongside
/// the metadata scan, this many bytes at a time ([`HashAhead`]).
const FUSED_BLOCK: usize = 16 * 1024;

/// Feeds the body to a MAC one block ahead of the metadata scan, so the scan
/// reads bytes the hash has just brought into cache. The MAC sees every byte
/// once and in order whatever the scan asks: the caller feeds what is left.
struct HashAhead<'b, 'm> {
    body: &'b [u8],
    fed: usize,
    mac: &'m mut RunningMac,
}

impl crate::json::Ahead for HashAhead<'_, '_> {
    #[inline]
    fn limit(&mut self, i: usize, len: usize) -> usize {
        if i >= self.fed && self.fed < self.body.len() {
            let end = i.saturating_add(FUSED_BLOCK).min(self.body.len());
            self.mac.update(&self.body[self.fed..end]);
            self.fed = end;
        }
        self.fed.max(i).min(len)
    }
}

/// The body's HMAC, computed as the body arrives: one state per active key.
pub(crate) struct Streaming {
    /// (position in the key list, keyed state fed so far).
    states: Vec<(usize, RunningMac)>,
    keys_tried: usize,
    fed: usize,
}

impl Streaming {
    pub(crate) const fn fed(&self) -> usize {
        self.fed
    }

    pub(crate) fn update(&mut self, chunk: &[u8]) {
        for (_, m) in &mut self.states {
            m.update(chunk);
        }
        self.fed += chunk.len();
    }
}

/// Header names as senders usually write them (`x-hub-signature-256` → `X-Hub-Signature-256`).
fn canonical(lower: &str) -> String {
    // Names whose usual spelling is not plain title case.
    const KNOWN: &[&str] = &[
        "X-GitHub-Delivery",
        "X-GitHub-Event",
        "X-HubSpot-Signature-v3",
        "X-HubSpot-Request-Timestamp",
        "X-PagerDuty-Signature",
    ];
    if let Some(k) = KNOWN.iter().find(|k| k.eq_ignore_ascii_case(lower)) {
        return (*k).to_owned();
    }
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn ts_too_long(header: Cow<'static, str>) -> Rejection {
    Rejection::new(Reason::MalformedHeader, "timestamp is not valid").header(header)
}

/// The first candidate signature equal to `computed`. Every candidate is
/// compared, in constant time (the length is public: it follows the
/// algorithm), whichever matches.
fn matching_tag<'t>(candidates: &'t super::inline::Tags, computed: &[u8]) -> Option<&'t [u8]> {
    let mut hit = None;
    for sig in candidates.iter() {
        let sig = sig.as_slice();
        if tags_equal(sig, computed) && hit.is_none() {
            hit = Some(sig);
        }
    }
    hit
}

/// An ASCII separator as a byte (separators are checked to be ASCII when the
/// verifier is built; anything else maps to a byte no header contains).
fn ascii(c: char) -> u8 {
    u8::try_from(c).ok().filter(u8::is_ascii).unwrap_or(0xff)
}

/// `value` split at every `sep`, found with `memchr` rather than byte by byte.
fn split(value: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(sep, r) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

fn malformed(set: &HeaderSet, detail: impl Into<Cow<'static, str>>) -> Rejection {
    Rejection::new(Reason::MalformedHeader, detail).header(set.signature.clone())
}

#[allow(clippy::ptr_arg)] // the Cow is cloned into the rejection without allocating
pub(crate) fn one<'h>(
    h: &'h dyn crate::Headers,
    name: &Cow<'static, str>,
) -> Result<&'h [u8], Rejection> {
    match h.lookup(name) {
        Lookup::One(v) => Ok(v),
        Lookup::Missing => Err(Rejection::new(
            Reason::MissingHeader,
            format!("no `{name}` header"),
        )
        .header(name.clone())),
        Lookup::Many => Err(Rejection::new(
            Reason::MalformedHeader,
            format!("`{name}` sent more than once"),
        )
        .header(name.clone())),
    }
}

#[allow(clippy::ptr_arg)]
fn utf8<'v>(v: &'v [u8], name: &Cow<'static, str>) -> Result<&'v str, Rejection> {
    std::str::from_utf8(v)
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| {
            Rejection::new(
                Reason::MalformedHeader,
                "id is empty, too long or not UTF-8",
            )
            .header(name.clone())
        })
}

pub(crate) fn check_window(tolerance: &Tolerance, ts: i64, now: i64) -> Result<(), Rejection> {
    use crate::clock::TimestampError;
    tolerance.check(ts, now).map_err(|e| match e {
        TimestampError::TooOld(skew) => Rejection::new(
            Reason::TimestampTooOld,
            "timestamp is older than the tolerance",
        )
        .skew(skew),
        TimestampError::InFuture(skew) => Rejection::new(
            Reason::TimestampInFuture,
            "timestamp is further in the future than the tolerance",
        )
        .skew(skew),
    })
}

/// The `payload` field of a form body that is that field alone. Anything else
/// (a second `payload`, another field beside it) is `None`, and the whole body
/// is then what must verify: the handler decodes the whole form, so no part
/// of it may go unsigned.
fn form_payload(body: &[u8]) -> Option<Vec<u8>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    match <[(String, String); 1]>::try_from(pairs) {
        Ok([(k, v)]) if k == "payload" => Some(v.into_bytes()),
        _ => None,
    }
}

/// Builds a custom [`HmacScheme`]. See [`HmacScheme::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct HmacBuilder {
    scheme: HmacScheme,
}

impl HmacBuilder {
    fn set(&mut self) -> &mut HeaderSet {
        &mut self.scheme.sets[0]
    }
    /// A fixed prefix before the signature (`sha256=`).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.set().format = SignatureFormat::Prefixed(Cow::Owned(prefix.to_owned()));
        self
    }
    /// The header carries a list of signatures (see [`SignatureFormat::List`]).
    pub fn format(mut self, format: SignatureFormat) -> Self {
        self.set().format = format;
        self
    }
    /// Hex or base64.
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.set().encoding = encoding;
        self
    }
    /// The timestamp header (integer seconds unless [`HmacBuilder::timestamp_format`] says otherwise).
    pub fn timestamp_header(mut self, name: &str) -> Self {
        self.set().timestamp = Source::Header(Cow::Owned(name.to_ascii_lowercase()));
        self
    }
    /// Where the timestamp is.
    pub fn timestamp(mut self, source: Source) -> Self {
        self.set().timestamp = source;
        self
    }
    /// How the timestamp is written.
    pub fn timestamp_format(mut self, f: TimestampFormat) -> Self {
        self.scheme.timestamp_format = f;
        self
    }
    /// The delivery id header.
    pub fn id_header(mut self, name: &str) -> Self {
        self.set().id = Source::Header(Cow::Owned(name.to_ascii_lowercase()));
        self
    }
    /// Where the delivery id is.
    pub fn id(mut self, source: Source) -> Self {
        self.set().id = source;
        self
    }
    /// Where the event type is.
    pub fn event(mut self, source: Source) -> Self {
        self.scheme.event = source;
        self
    }
    /// The signed content, e.g. `{timestamp}.{body}`.
    ///
    /// # Errors
    /// An unknown placeholder, an unclosed brace, or no `{body}`.
    pub fn template(self, template: &str) -> Result<Self, ConfigError> {
        Ok(self.parts(Part::parse_template(template)?))
    }
    /// The signed content as parts.
    pub fn parts(mut self, parts: Vec<Part>) -> Self {
        self.scheme.kinds = PartKinds::of(&parts);
        self.scheme.template = parts;
        self
    }
    /// How the secret string becomes key bytes.
    pub fn secret_encoding(mut self, e: SecretEncoding) -> Self {
        self.scheme.secret_encoding = e;
        self
    }
    /// The default tolerance for this scheme.
    pub fn tolerance(mut self, t: Tolerance) -> Self {
        self.scheme.tolerance = t;
        self
    }
    /// The public URL that the sender signs.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.scheme.url = Some(url.into());
        self
    }
    /// The public origin (`https://host`); the signed URL is the origin plus the
    /// request target as received.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.scheme.url = Some(origin.into());
        self.scheme.url_is_origin = true;
        self
    }
    /// Another header set tried when the first one's signature header is absent
    /// (e.g. `svix-*` next to `webhook-*`, or a legacy SHA-1 header).
    pub fn alternate(mut self, set: HeaderSet) -> Self {
        self.scheme.sets.push(set);
        self
    }
    /// The scheme.
    pub fn build(self) -> crate::Scheme {
        crate::Scheme::hmac(self.scheme)
    }
}

impl HeaderSet {
    /// A header set: signature header, its format, algorithm and encoding.
    pub fn new(
        signature: &str,
        format: SignatureFormat,
        algorithm: Algorithm,
        encoding: Encoding,
    ) -> Self {
        Self {
            signature: Cow::Owned(signature.to_ascii_lowercase()),
            format,
            algorithm,
            encoding,
            timestamp: Source::None,
            id: Source::None,
        }
    }
    /// Where this set's timestamp is.
    #[must_use]
    pub fn timestamp(mut self, source: Source) -> Self {
        self.timestamp = source;
        self
    }
    /// Where this set's id is.
    #[must_use]
    pub fn id(mut self, source: Source) -> Self {
        self.id = source;
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_short_copies_every_length() {
        let src: Vec<u8> = (1..=40).collect();
        for n in 0..=40 {
            for at in [0, 3] {
                let mut dst = [0u8; 48];
                super::copy_short(&mut dst[at..at + n], &src[..n]);
                let mut want = [0u8; 48];
                want[at..at + n].copy_from_slice(&src[..n]);
                assert_eq!(dst, want, "{n} at {at}");
            }
        }
    }
}
