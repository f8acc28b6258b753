//! A request body for unit tests: streams chunks, or stalls forever and tells
//! whether it was polled.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};

pub(crate) enum TestBody {
    Chunks(VecDeque<Bytes>),
    Stall(Arc<AtomicBool>),
}

impl TestBody {
    /// One frame per part, copied.
    pub(crate) fn chunks(parts: &[&[u8]]) -> Self {
        Self::Chunks(parts.iter().map(|p| Bytes::copy_from_slice(p)).collect())
    }
}

impl From<Bytes> for TestBody {
    fn from(b: Bytes) -> Self {
        Self::Chunks(VecDeque::from([b]))
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Chunks(c) => Poll::Ready(c.pop_front().map(|b| Ok(Frame::data(b)))),
            Self::Stall(polled) => {
                polled.store(true, Ordering::SeqCst);
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Chunks(c) if c.iter().all(Bytes::is_empty))
    }
}
