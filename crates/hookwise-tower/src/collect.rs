//! Reading a whole request body into one `Bytes`, under a limit.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use hookwise::{BodyBuffer, BodyDigest};
use http_body::Body;

use crate::BoxError;

/// Why a body could not be collected.
#[derive(Debug)]
pub(crate) enum CollectError {
    /// More than the limit arrived.
    TooLarge,
    /// The body itself failed (connection reset, a limit layer further out, …).
    Body(BoxError),
}

/// Collects a body, refusing to hold more than `limit` bytes, polled by hand
/// from the layer's response future (which holds the pinned body next to
/// it, so no future of its own is allocated for the read).
///
/// A body that ends with its first data frame (what hyper gives for most
/// small requests, and what the layer re-attaches) is returned as that
/// frame, no copy, and nothing is allocated. From a first frame that does
/// not end the body on, the frames go through a boxed [`BodyBuffer`]:
/// copied once into one buffer, as they arrive when the body's length is
/// announced (the body's exact size hint, hyper's `Content-Length`) and at
/// the end otherwise, and hashed as they arrive with the digest
/// `start_digest` gives at the second frame. (The buffer is allocated after
/// the first frame, not on the announcement alone. Holding the frames until
/// the end instead kept hyper's read buffers alive with them: 1.6 bodies'
/// worth of RSS per delivery with 32 concurrent 8 MiB deliveries held at
/// once, against 1.1 copying as they come; see BENCHMARKS.md.) Boxed, the
/// buffer's state stays out of the response future for the common case.
#[derive(Debug)]
pub(crate) struct Collector {
    limit: usize,
    rest: Option<Box<BodyBuffer>>,
}

impl Collector {
    pub(crate) const fn new(limit: usize) -> Self {
        Self { limit, rest: None }
    }

    /// Reads what frames are there; `Ready` with the whole body once it
    /// ended. `start_digest` is asked for a digest (once per collection) at
    /// the second non-empty frame of data.
    pub(crate) fn poll_collect<B>(
        &mut self,
        mut body: Pin<&mut B>,
        cx: &mut Context<'_>,
        start_digest: impl FnOnce() -> Option<BodyDigest>,
    ) -> Poll<Result<(Bytes, Option<BodyDigest>), CollectError>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let mut start = Some(start_digest);
        loop {
            let Some(frame) = ready!(body.as_mut().poll_frame(cx)) else {
                let rest = self.rest.take();
                return Poll::Ready(Ok(rest.map_or((Bytes::new(), None), |buf| buf.finish())));
            };
            let frame = frame.map_err(|e| CollectError::Body(e.into()))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers: not part of the signed bytes
            };
            let Some(buf) = &mut self.rest else {
                let first = take(data, self.limit, 0)?;
                if body.is_end_stream() {
                    return Poll::Ready(Ok((first, None)));
                }
                // What is left to come, after the first frame.
                let announced = body
                    .size_hint()
                    .exact()
                    .and_then(|n| usize::try_from(n).ok())
                    .and_then(|n| n.checked_add(first.len()))
                    .filter(|&n| n <= self.limit);
                let mut buf = Box::new(BodyBuffer::new().expecting(announced));
                buf.push(first);
                self.rest = Some(buf);
                continue;
            };
            let chunk = take(data, self.limit, buf.len())?;
            buf.push_with(chunk, || start.take().and_then(|start| start()));
        }
    }
}

/// The body collected by a [`Collector`], as a future (for the tests).
#[cfg(test)]
pub(crate) async fn collect<B>(
    body: B,
    limit: usize,
    start_digest: impl FnOnce() -> Option<BodyDigest>,
) -> Result<(Bytes, Option<BodyDigest>), CollectError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    let mut collector = Collector::new(limit);
    let mut start = Some(start_digest);
    std::future::poll_fn(|cx| {
        collector.poll_collect(body.as_mut(), cx, || start.take().and_then(|s| s()))
    })
    .await
}

/// A data frame as `Bytes` (no copy when it is one), unless it takes the
/// body past `limit` from `held` bytes.
fn take(mut data: impl Buf, limit: usize, held: usize) -> Result<Bytes, CollectError> {
    let n = data.remaining();
    if n > limit - held {
        return Err(CollectError::TooLarge);
    }
    Ok(data.copy_to_bytes(n))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::test_body::TestBody;

    fn chunks(parts: &[&[u8]]) -> TestBody {
        TestBody::chunks(parts)
    }

    #[tokio::test]
    async fn one_frame_is_returned_without_a_copy() {
        let frame = Bytes::from_static(b"{\"a\":1}");
        let ptr = frame.as_ptr();
        let (got, _) = collect(TestBody::Chunks(VecDeque::from([frame])), 64, || None)
            .await
            .unwrap();
        assert_eq!(got.as_ptr(), ptr);
        assert_eq!(&got[..], b"{\"a\":1}");
    }

    /// Frames as given (data or trailers), then `None`; when `.1` is set,
    /// polled again once `is_end_stream` says it has ended, it panics. With
    /// `.2`, an exact size hint of the data left, as hyper's body gives for a
    /// `Content-Length` (which may be wrong: `.2` is added to it).
    struct Frames(VecDeque<http_body::Frame<Bytes>>, bool, Option<i64>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            assert!(
                !(self.1 && self.0.is_empty()),
                "polled after it said it had ended"
            );
            Poll::Ready(self.0.pop_front().map(Ok))
        }
        fn is_end_stream(&self) -> bool {
            self.0.is_empty()
        }
        fn size_hint(&self) -> http_body::SizeHint {
            let Some(off) = self.2 else {
                return http_body::SizeHint::default();
            };
            let left: usize = self
                .0
                .iter()
                .filter_map(|f| f.data_ref())
                .map(Bytes::len)
                .sum();
            let left = i64::try_from(left).unwrap_or(i64::MAX) + off;
            http_body::SizeHint::with_exact(u64::try_from(left.max(0)).unwrap_or(0))
        }
    }

    fn trailers() -> http_body::Frame<Bytes> {
        let mut t = http::HeaderMap::new();
        t.insert("x-t", http::HeaderValue::from_static("1"));
        http_body::Frame::trailers(t)
    }

    #[tokio::test]
    async fn a_body_that_ends_with_its_first_frame_is_not_polled_again() {
        let frame = Bytes::from_static(b"12345678");
        let body = Frames(
            VecDeque::from([http_body::Frame::data(frame.clone())]),
            true,
            None,
        );
        // Exactly the limit: accepted, the frame itself.
        let (got, _) = collect(body, 8, || None).await.unwrap();
        assert_eq!(got.as_ptr(), frame.as_ptr());
    }

    #[tokio::test]
    async fn trailers_are_not_part_of_the_body() {
        let data = |b: &'static [u8]| http_body::Frame::data(Bytes::from_static(b));
        // Trailers after the data, before it, and between frames.
        for frames in [
            vec![data(b"abc"), trailers()],
            vec![trailers(), data(b"abc")],
            vec![data(b"a"), trailers(), data(b"bc")],
        ] {
            let (got, _) = collect(Frames(frames.into(), false, None), 3, || None)
                .await
                .unwrap();
            assert_eq!(&got[..], b"abc");
        }
    }

    #[tokio::test]
    async fn the_digest_is_asked_for_at_a_second_frame_only() {
        use std::cell::Cell;
        let asked = Cell::new(0);
        let start = || {
            asked.set(asked.get() + 1);
            None
        };
        // The whole body in its first frame: read without the buffer.
        let (got, _) = collect(chunks(&[b"abc"]), 64, start).await.unwrap();
        assert_eq!((&got[..], asked.get()), (&b"abc"[..], 0));
        // An empty first frame, then one: still one frame of data.
        let (got, _) = collect(chunks(&[b"", b"abc"]), 64, start).await.unwrap();
        assert_eq!((&got[..], asked.get()), (&b"abc"[..], 0));
        // Two frames of data: asked once, at the second.
        let (got, _) = collect(chunks(&[b"ab", b"c", b"d"]), 64, start)
            .await
            .unwrap();
        assert_eq!((&got[..], asked.get()), (&b"abcd"[..], 1));
    }

    #[tokio::test]
    async fn frames_are_joined_in_order_and_empty_ones_skipped() {
        let (got, _) = collect(chunks(&[b"", b"ab", b"", b"cd", b"e"]), 64, || None)
            .await
            .unwrap();
        assert_eq!(&got[..], b"abcde");
        let (empty, _) = collect(chunks(&[]), 64, || None).await.unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn tiny_frames_are_copied_and_large_ones_kept_in_order() {
        // 1-byte frames, a large frame, more tiny ones: joined in order.
        let mut parts: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| vec![u8::try_from(i % 251).unwrap_or(0)])
            .collect();
        parts.push(vec![7u8; 16 * 1024 + 1]);
        parts.extend((0..100u32).map(|i| vec![u8::try_from(i % 13).unwrap_or(0)]));
        let expected: Vec<u8> = parts.concat();
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let (got, _) = collect(chunks(&parts), 1 << 20, || None).await.unwrap();
        assert_eq!(&got[..], &expected[..]);
    }

    #[tokio::test]
    async fn the_limit_counts_every_frame() {
        assert!(
            collect(chunks(&[b"1234", b"5678"]), 8, || None)
                .await
                .is_ok()
        );
        assert!(matches!(
            collect(chunks(&[b"1234", b"5678", b"9"]), 8, || None).await,
            Err(CollectError::TooLarge)
        ));
        assert!(matches!(
            collect(chunks(&[b"123456789"]), 8, || None).await,
            Err(CollectError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn many_frames_land_in_one_buffer_in_order() {
        let parts: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 16 * 1024]).collect();
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let total = 64 * 16 * 1024;
        let (got, _) = collect(chunks(&parts), 2 * total, || None).await.unwrap();
        assert_eq!(got.len(), total);
        assert!(
            got.chunks(16 * 1024)
                .enumerate()
                .all(|(i, c)| c.iter().all(|b| usize::from(*b) == i))
        );
    }

    #[tokio::test]
    async fn an_announced_length_right_or_wrong_gives_the_exact_body_within_the_limit() {
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let frames = |off| {
            let frames = body.chunks(7_000).map(Bytes::copy_from_slice);
            Frames(
                frames.map(http_body::Frame::data).collect(),
                false,
                Some(off),
            )
        };
        for off in [0, -50_000, 1_000_000, -100_000] {
            let (got, _) = collect(frames(off), body.len(), || None).await.unwrap();
            assert_eq!(&got[..], &body[..], "announced off by {off}");
            // The limit still counts what arrives, whatever was announced.
            assert!(
                matches!(
                    collect(frames(off), body.len() - 1, || None).await,
                    Err(CollectError::TooLarge)
                ),
                "announced off by {off}"
            );
        }
        // No limit, and a length no allocator could give: the body arrives whole.
        let (got, _) = collect(frames(1 << 60), usize::MAX, || None).await.unwrap();
        assert_eq!(&got[..], &body[..]);
    }
}
