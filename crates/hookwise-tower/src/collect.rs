//! Reading a whole request body into one `Bytes`, under a limit.

use std::pin::pin;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

use crate::BoxError;

/// Why a body could not be collected.
#[derive(Debug)]
pub(crate) enum CollectError {
    /// More than the limit arrived.
    TooLarge,
    /// The body itself failed (connection reset, a limit layer further out, …).
    Body(BoxError),
}

/// What is reserved before a sender has shown it is really sending: a
/// `Content-Length` alone does not make the server allocate it.
const FIRST_RESERVE: usize = 64 * 1024;

/// Collects `body`, refusing to hold more than `limit` bytes.
///
/// A body of one data frame (what hyper gives for most small requests, and what
/// the layer re-attaches) is returned as that frame: no copy, no allocation.
/// A body of several frames is copied once into one buffer. The buffer grows
/// by ×4 from 64 KiB and takes the whole announced `Content-Length` (`hint`,
/// at most `limit`) once a quarter of it has arrived, so a large delivery is
/// not reallocated over and over, and a bare `Content-Length` is not an
/// invitation to allocate the limit.
pub(crate) async fn collect<B>(
    body: B,
    limit: usize,
    hint: Option<u64>,
) -> Result<Bytes, CollectError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let hint = hint.map_or(limit, |h| {
        usize::try_from(h).unwrap_or(usize::MAX).min(limit)
    });
    let mut body = pin!(body);
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut len = 0usize;
    while let Some(frame) = body.as_mut().frame().await {
        let frame = frame.map_err(|e| CollectError::Body(e.into()))?;
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers: not part of the signed bytes
        };
        let n = data.remaining();
        if n > limit - len {
            return Err(CollectError::TooLarge);
        }
        len += n;
        if n == 0 {
            continue;
        }
        if first.is_none() && buf.is_empty() {
            first = Some(data.copy_to_bytes(n));
            continue;
        }
        if buf.capacity() < len {
            let want = if len.saturating_mul(4) >= hint {
                hint
            } else {
                FIRST_RESERVE.max(len.saturating_mul(4))
            };
            let target = want.clamp(len, limit);
            buf.reserve(target - buf.len());
        }
        if let Some(f) = first.take() {
            buf.put(f);
        }
        buf.put(data);
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body::Frame;

    use super::*;

    struct Chunks(VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.get_mut().0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn chunks(parts: &[&[u8]]) -> Chunks {
        Chunks(parts.iter().map(|p| Bytes::copy_from_slice(p)).collect())
    }

    #[tokio::test]
    async fn one_frame_is_returned_without_a_copy() {
        let frame = Bytes::from_static(b"{\"a\":1}");
        let ptr = frame.as_ptr();
        let got = collect(Chunks(VecDeque::from([frame])), 64, None)
            .await
            .unwrap();
        assert_eq!(got.as_ptr(), ptr);
        assert_eq!(&got[..], b"{\"a\":1}");
    }

    #[tokio::test]
    async fn frames_are_joined_in_order_and_empty_ones_skipped() {
        let got = collect(chunks(&[b"", b"ab", b"", b"cd", b"e"]), 64, Some(5))
            .await
            .unwrap();
        assert_eq!(&got[..], b"abcde");
        let empty = collect(chunks(&[]), 64, None).await.unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn the_limit_counts_every_frame() {
        assert!(collect(chunks(&[b"1234", b"5678"]), 8, None).await.is_ok());
        assert!(matches!(
            collect(chunks(&[b"1234", b"5678", b"9"]), 8, None).await,
            Err(CollectError::TooLarge)
        ));
        assert!(matches!(
            collect(chunks(&[b"123456789"]), 8, None).await,
            Err(CollectError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn large_bodies_land_in_one_buffer_of_the_announced_size() {
        let piece = vec![7u8; 16 * 1024];
        let parts: Vec<&[u8]> = std::iter::repeat_n(piece.as_slice(), 64).collect();
        let total = 64 * piece.len();
        let got = collect(chunks(&parts), 2 * total, Some(total as u64))
            .await
            .unwrap();
        assert_eq!(got.len(), total);
        assert!(got.iter().all(|b| *b == 7));
    }
}
