//! actix-web's header map, seen through [`hookwise::Headers`].

use actix_web::http::header::HeaderMap;
use hookwise::{Headers, Lookup};

/// actix-web's [`HeaderMap`] as [`hookwise::Headers`], for calling a
/// [`hookwise::Verifier`] by hand.
///
/// actix-web 4 has its own header map (on `http` 0.2), so the core cannot
/// implement its trait for it; this newtype does.
///
/// ```
/// use actix_web::test::TestRequest;
/// use hookwise::{Headers, Lookup};
/// use hookwise_actix::ActixHeaders;
///
/// let req = TestRequest::post().insert_header(("X-GitHub-Event", "push")).to_http_request();
/// assert_eq!(ActixHeaders(req.headers()).lookup("x-github-event"), Lookup::One(b"push"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn lookup(&self, name: &str) -> Lookup<'_> {
        let mut it = self.0.get_all(name);
        match (it.next(), it.next()) {
            (None, _) => Lookup::Missing,
            (Some(v), None) => Lookup::One(v.as_bytes()),
            (Some(_), Some(_)) => Lookup::Many,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn lookup_reports_missing_one_and_many() {
        let mut m = HeaderMap::new();
        let a = HeaderName::from_static("x-a");
        let b = HeaderName::from_static("x-b");
        m.append(a, HeaderValue::from_static("1"));
        m.append(b.clone(), HeaderValue::from_static("1"));
        m.append(b, HeaderValue::from_static("2"));
        let h = ActixHeaders(&m);
        assert_eq!(h.lookup("x-a"), Lookup::One(b"1"));
        assert_eq!(h.lookup("x-b"), Lookup::Many);
        assert_eq!(h.lookup("x-c"), Lookup::Missing);
    }
}
