//! Turning a [`Rejection`] into a response.

use bytes::Bytes;
use hookwise::{Reason, Rejection};
use http::{HeaderValue, Response, header};

/// Builds the response for a rejected request.
///
/// Implemented for every `Fn(&Rejection) -> Response<B> + Clone` and by
/// [`DefaultOnRejection`]. Whatever it returns, the layer inserts the
/// [`Rejection`] into the response extensions (for logging or metrics layers
/// further out). See [`VerifyWebhook::on_rejection`](super::VerifyWebhook::on_rejection).
pub trait OnRejection<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn on_rejection(&self, rejection: &Rejection) -> Response<B>;
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&Rejection) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        self(rejection)
    }
}

/// The default rejection response: the rejection's status, the body
/// `{"error":"<code>"}` with `content-type: application/json`, the
/// `WWW-Authenticate` challenge when the scheme gives one (Basic auth), and
/// `Retry-After: 1` on 409 (the same delivery is being processed).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct DefaultOnRejection;

impl<B: From<Bytes>> OnRejection<B> for DefaultOnRejection {
    fn on_rejection(&self, rejection: &Rejection) -> Response<B> {
        let mut res = Response::new(B::from(Bytes::from(rejection.body_json())));
        *res.status_mut() = rejection.http_status();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(challenge) = &rejection.diagnosis().www_authenticate {
            if let Ok(v) = HeaderValue::from_str(challenge) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if rejection.reason() == Reason::DuplicateInFlight {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_response_has_status_code_and_retry_after() {
        let r = Rejection::new(Reason::DuplicateInFlight, "busy");
        let res: Response<Bytes> = DefaultOnRejection.on_rejection(&r);
        assert_eq!(res.status(), 409);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(res.body().as_ref(), br#"{"error":"duplicate_in_flight"}"#);

        let r = Rejection::new(Reason::SignatureMismatch, "nope");
        let res: Response<Bytes> = DefaultOnRejection.on_rejection(&r);
        assert_eq!(res.status(), 401);
        assert!(!res.headers().contains_key(header::RETRY_AFTER));
        assert!(!res.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
