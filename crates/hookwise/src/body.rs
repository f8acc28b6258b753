//! Receiving a request body chunk by chunk, for framework adapters.

use bytes::{Bytes, BytesMut};

use crate::BodyDigest;

/// Chunks from this size on are kept as they are; smaller ones are copied.
const KEEP_CHUNK: usize = 16 * 1024;
/// Copied small chunks are set aside in pieces of this size.
const TAIL_PIECE: usize = 64 * 1024;
/// The largest announced length allocated up front ([`BodyBuffer::expecting`]):
/// a receiver with no body limit (`max_body(usize::MAX)`) must not try to
/// allocate whatever a `Content-Length` claims. Longer bodies take the
/// held-chunks path.
const EXPECT_MAX: usize = 64 * 1024 * 1024;

/// A request body as it arrives, joined into one `Bytes` at the end, and
/// hashed on the way when it comes in several chunks.
///
/// - A body of one chunk (most deliveries) is returned as that chunk: no copy.
/// - Several chunks, with the length announced ([`BodyBuffer::expecting`],
///   from `Content-Length`): from the second chunk on, each is copied as it
///   arrives into one buffer of that length, allocated at the second chunk
///   (when data has started to come, not on the announcement alone), and
///   released to the reader at once: the body is copied once and never
///   regrown, and the reader's buffers are reused for the next chunks
///   instead of being held until the end. With 32 concurrent 8 MiB
///   deliveries held at once, this took the peak RSS from 1.6 to 1.1
///   bodies' worth per delivery (see BENCHMARKS.md).
/// - Several chunks, no length announced: they are held as they arrive and
///   copied once, at the end, into one buffer of the exact size: no buffer
///   is regrown (each regrowth copies the body again and holds two
///   buffers). A chunk can be a slice of a much larger read buffer that it
///   keeps alive, so only chunks of 16 KiB and more are held as they are;
///   smaller ones are copied into 64 KiB pieces, so a body sent as many tiny
///   chunks costs about its size.
/// - At the second chunk, `start` is asked for a [`BodyDigest`]
///   ([`crate::Verifier::body_digest`]); it is fed every chunk in order and
///   returned with the bytes, so the signature is checked without a second
///   pass over the body.
///
/// The limit is the caller's: compare each chunk with [`BodyBuffer::len`]
/// before pushing it.
///
/// ```
/// use bytes::Bytes;
/// use hookwise::BodyBuffer;
///
/// let mut body = BodyBuffer::new();
/// for chunk in [&b"{\"zen\":"[..], b"", b"\"hi\"}"] {
///     body.push(Bytes::copy_from_slice(chunk));
/// }
/// assert_eq!(body.len(), 12);
/// let (bytes, digest) = body.finish();
/// assert_eq!(&bytes[..], b"{\"zen\":\"hi\"}");
/// assert!(digest.is_none()); // `new` never hashes
/// ```
pub struct BodyBuffer<F = fn() -> Option<BodyDigest>> {
    first: Option<Bytes>,
    more: Vec<Bytes>,
    tail: BytesMut,
    len: usize,
    /// The length the sender announced (0: none), capped by the caller.
    expected: usize,
    /// Copying each chunk into `tail` as it arrives (see [`BodyBuffer::expecting`]).
    flat: bool,
    start: Option<F>,
    /// Whether a digest was asked for (at the second chunk).
    asked: bool,
    digest: Option<BodyDigest>,
}

impl BodyBuffer {
    /// A buffer that does not hash.
    pub fn new() -> Self {
        Self::hashed(|| None)
    }
}

impl Default for BodyBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: FnOnce() -> Option<BodyDigest>> BodyBuffer<F> {
    /// A buffer that asks `start` for a digest when a second chunk arrives.
    pub fn hashed(start: F) -> Self {
        Self {
            first: None,
            more: Vec::new(),
            tail: BytesMut::new(),
            len: 0,
            expected: 0,
            flat: false,
            start: Some(start),
            asked: false,
            digest: None,
        }
    }

    /// The body's announced length (`Content-Length`), which the caller
    /// has already held to its limit (pass `None` for a larger one): from
    /// the second chunk on, each chunk is copied as it arrives into one
    /// buffer of that size, allocated then (data has started to come),
    /// instead of being held until the end. A body that turns out longer
    /// than announced is still read whole (the buffer grows); the caller's
    /// limit check on [`BodyBuffer::len`] still applies. A length over
    /// 64 MiB is not allocated up front (the chunks are held, as with `None`).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use hookwise::BodyBuffer;
    ///
    /// let mut body = BodyBuffer::new().expecting(Some(12));
    /// for chunk in [&b"{\"zen\":"[..], b"\"hi\"}"] {
    ///     body.push(Bytes::copy_from_slice(chunk));
    /// }
    /// assert_eq!(&body.finish().0[..], b"{\"zen\":\"hi\"}");
    /// ```
    pub fn expecting(mut self, len: Option<usize>) -> Self {
        self.expected = len.filter(|&n| n <= EXPECT_MAX).unwrap_or(0);
        self
    }

    /// The bytes received so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was received yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the next chunk (an empty one is ignored).
    pub fn push(&mut self, chunk: Bytes) {
        let mut own = self.start.take();
        self.push_with(chunk, || own.take().and_then(|start| start()));
        // Not asked yet (this was the first chunk, or an empty one): kept.
        self.start = own;
    }

    /// Adds the next chunk as [`push`](Self::push) does, but asks `start`
    /// (not the buffer's own) for the digest if this is the second chunk:
    /// for a caller that polls its body by hand and cannot leave a closure
    /// borrowing its state in the buffer between polls.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use hookwise::BodyBuffer;
    ///
    /// let mut body = BodyBuffer::new();
    /// let mut asked = 0;
    /// for chunk in [&b"{\"zen\":"[..], b"\"hi\"}", b""] {
    ///     body.push_with(Bytes::copy_from_slice(chunk), || { asked += 1; None });
    /// }
    /// assert_eq!(asked, 1); // at the second chunk, once
    /// assert_eq!(&body.finish().0[..], b"{\"zen\":\"hi\"}");
    /// ```
    pub fn push_with(&mut self, chunk: Bytes, start: impl FnOnce() -> Option<BodyDigest>) {
        if chunk.is_empty() {
            return;
        }
        self.len += chunk.len();
        let Some(first) = &self.first else {
            self.first = Some(chunk);
            return;
        };
        if !self.asked {
            self.asked = true;
            self.digest = start().map(|mut d| {
                d.update(first);
                d
            });
        }
        if let Some(d) = &mut self.digest {
            d.update(&chunk);
        }
        if self.flat {
            self.tail.extend_from_slice(&chunk);
            return;
        }
        if self.more.is_empty() && self.tail.is_empty() && self.len <= self.expected {
            // The second chunk, of an announced length: one buffer from here
            // on (`first` stays `Some`, emptied, so the next chunk is not
            // taken for a first one).
            self.flat = true;
            self.tail = BytesMut::with_capacity(self.expected);
            self.tail.extend_from_slice(first);
            self.tail.extend_from_slice(&chunk);
            self.first = Some(Bytes::new());
            return;
        }
        if chunk.len() >= KEEP_CHUNK {
            if !self.tail.is_empty() {
                self.more.push(self.tail.split().freeze());
            }
            self.more.push(chunk);
            return;
        }
        self.tail.extend_from_slice(&chunk);
        if self.tail.len() >= TAIL_PIECE {
            self.more.push(self.tail.split().freeze());
        }
    }

    /// The whole body, and the digest fed exactly those bytes if one was
    /// started.
    pub fn finish(self) -> (Bytes, Option<BodyDigest>) {
        let Some(first) = self.first else {
            return (Bytes::new(), None);
        };
        if self.flat {
            return (self.tail.freeze(), self.digest);
        }
        if self.more.is_empty() && self.tail.is_empty() {
            return (first, None);
        }
        let mut b = BytesMut::with_capacity(self.len);
        b.extend_from_slice(&first);
        for c in &self.more {
            b.extend_from_slice(c);
        }
        b.extend_from_slice(&self.tail);
        (b.freeze(), self.digest)
    }
}

impl<F> std::fmt::Debug for BodyBuffer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyBuffer")
            .field("len", &self.len)
            .field("hashing", &self.digest.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::SignParams;
    use crate::{FixedClock, RequestParts, Verifier, providers};

    #[test]
    fn one_chunk_is_returned_without_a_copy() {
        let chunk = Bytes::from_static(b"{\"a\":1}");
        let mut b = BodyBuffer::new();
        b.push(Bytes::new());
        b.push(chunk.clone());
        let (got, digest) = b.finish();
        assert_eq!(got.as_ptr(), chunk.as_ptr());
        assert!(digest.is_none());
        assert!(BodyBuffer::new().finish().0.is_empty());
    }

    #[test]
    fn small_chunks_are_copied_in_pieces_and_large_ones_kept_in_order() {
        let mut b = BodyBuffer::new();
        let mut expected = Vec::new();
        for i in 0..100_000u32 {
            let c = [u8::try_from(i % 251).unwrap_or(0)];
            expected.extend_from_slice(&c);
            b.push(Bytes::copy_from_slice(&c));
        }
        let large = Bytes::from(vec![9u8; KEEP_CHUNK]);
        expected.extend_from_slice(&large);
        b.push(large.clone());
        b.push(Bytes::from_static(b"end"));
        expected.extend_from_slice(b"end");
        // One piece per 64 KiB of tiny chunks (the first is held apart), the
        // partial piece held before the large chunk, which is kept itself (not
        // a copy); what follows is still in the tail.
        assert_eq!(b.more.len(), (100_000 - 1) / TAIL_PIECE + 2);
        assert!(b.more.iter().any(|c| c.as_ptr() == large.as_ptr()));
        assert_eq!(b.len(), expected.len());
        assert_eq!(&b.finish().0[..], &expected[..]);
    }

    #[test]
    fn an_announced_length_is_filled_as_chunks_arrive_in_one_buffer() {
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut b = BodyBuffer::new().expecting(Some(body.len()));
        let mut chunks = body.chunks(70_000).map(Bytes::copy_from_slice);
        b.push(chunks.next().unwrap());
        b.push(chunks.next().unwrap());
        // From the second chunk: copied into one buffer of the announced size,
        // nothing held apart.
        assert!(b.flat && b.more.is_empty());
        assert!(b.tail.capacity() >= body.len());
        let at = b.tail.as_ptr();
        for c in chunks {
            b.push(c);
        }
        let (got, _) = b.finish();
        assert_eq!(&got[..], &body[..]);
        assert_eq!(
            got.as_ptr(),
            at,
            "the buffer was not regrown or copied again"
        );
    }

    #[test]
    fn a_wrong_announced_length_still_gives_the_exact_body() {
        let body: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
        // Shorter than the body: the buffer grows. Shorter than the first two
        // chunks: the chunks are held, as without an announcement.
        for announced in [Some(30_000), Some(10), Some(1 << 20), None] {
            let mut b = BodyBuffer::new().expecting(announced);
            for c in body.chunks(9_000) {
                b.push(Bytes::copy_from_slice(c));
            }
            assert_eq!(b.len(), body.len());
            assert_eq!(
                b.flat,
                announced.is_some_and(|n| n >= 18_000),
                "{announced:?}"
            );
            assert_eq!(&b.finish().0[..], &body[..], "{announced:?}");
        }
        // A claim too large to allocate up front is not.
        let mut b = BodyBuffer::new().expecting(Some(usize::MAX));
        for c in body.chunks(9_000) {
            b.push(Bytes::copy_from_slice(c));
        }
        assert!(!b.flat);
        assert_eq!(&b.finish().0[..], &body[..]);
        // One chunk is still returned as it is.
        let one = Bytes::from_static(b"{}");
        let mut b = BodyBuffer::new().expecting(Some(2));
        b.push(one.clone());
        assert_eq!(b.finish().0.as_ptr(), one.as_ptr());
    }

    #[test]
    fn the_digest_starts_at_the_second_chunk_and_sees_every_byte() {
        let body = br#"{"id":"evt_1","type":"t","pad":"................................"}"#;
        let signed = providers::stripe()
            .sign(
                "whsec_x",
                body,
                &SignParams {
                    timestamp: Some(1_700_000_000),
                    ..SignParams::default()
                },
            )
            .unwrap();
        let v = Verifier::builder(providers::stripe())
            .secret("whsec_x")
            .unwrap()
            .clock(FixedClock::new(1_700_000_000))
            .without_replay_store()
            .build()
            .unwrap();
        let req = RequestParts::new(&signed.headers);
        // One chunk: no digest asked for.
        let mut pending = Some(v.check_headers(&req).unwrap());
        let mut asked = 0;
        let mut b = BodyBuffer::hashed(|| {
            asked += 1;
            v.body_digest(pending.take()?).ok()
        });
        b.push(Bytes::from_static(body));
        let (bytes, digest) = b.finish();
        assert!(digest.is_none());
        assert_eq!(asked, 0);
        assert_eq!(&bytes[..], body);
        // Chunks of 5: a digest fed exactly the body, which verifies.
        let mut pending = Some(v.check_headers(&req).unwrap());
        let mut b = BodyBuffer::hashed(|| v.body_digest(pending.take()?).ok());
        for c in body.chunks(5) {
            b.push(Bytes::copy_from_slice(c));
        }
        let (bytes, digest) = b.finish();
        let digest = digest.unwrap();
        assert_eq!(digest.len(), body.len());
        assert_eq!(digest.verify(&bytes).unwrap().id(), Some("evt_1"));
        // The same with the length announced (each chunk copied as it comes).
        let mut pending = Some(v.check_headers(&req).unwrap());
        let mut b =
            BodyBuffer::hashed(|| v.body_digest(pending.take()?).ok()).expecting(Some(body.len()));
        for c in body.chunks(5) {
            b.push(Bytes::copy_from_slice(c));
        }
        assert!(b.flat);
        let (bytes, digest) = b.finish();
        assert_eq!(&bytes[..], body);
        assert_eq!(digest.unwrap().verify(&bytes).unwrap().id(), Some("evt_1"));
    }
}
