//! The `http` capability: requests only to hosts the operator allow-listed for the plugin (cloud
//! APIs such as RDS or Cloud SQL Admin).

use async_trait::async_trait;

use super::{CallContext, Capability, CapabilityError};

/// An outbound request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Sends requests that passed the allow-list.
#[async_trait]
pub trait HttpBackend: Send + Sync {
    /// Sends `req`; the response's body is read whole.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, CapabilityError> {
        self.send_within(req, usize::MAX).await
    }
    /// Sends `req`, reading at most `max_body` bytes of the response's body: past it,
    /// `limit-exceeded` and the rest is not read.
    async fn send_within(
        &self,
        req: HttpRequest,
        max_body: usize,
    ) -> Result<HttpResponse, CapabilityError>;
}

/// The origin (`scheme://host[:port]`, the port written when it is not the scheme's default) of
/// an absolute http(s) URL as a URL parser reads it, the host the request will really go to; or
/// why it is not one. Refused: other schemes, user information before the host, and backslashes,
/// which parsers read as `/` (`https://evil.example\.amazonaws.com/` goes to evil.example).
pub fn origin_of(url: &str) -> Result<String, CapabilityError> {
    let bad = |why: &str| {
        CapabilityError::InvalidInput(format!("'{url}' is not an absolute http(s) URL{why}"))
    };
    if url.contains('\\') {
        return Err(bad(
            ": it holds a backslash, which a URL parser reads as '/'",
        ));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(&format!(" ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad(""));
    }
    // Userinfo (`user:pass@host`) would let a URL smuggle a different host past a naive check.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(": user information before the host is refused"));
    }
    Ok(parsed.origin().ascii_serialization())
}

/// Whether the plugin may reach `origin`: its manifest asks for it and the operator grants it
/// (`$NAME` entries read as the origin of cloud setting `NAME`).
pub fn check_origin(cx: &CallContext, origin: &str) -> Result<(), CapabilityError> {
    match &cx.services.cloud {
        Some(cloud) => cx
            .grants
            .with_endpoints(cloud)
            .check(Capability::Http, origin),
        None => cx.grants.check(Capability::Http, origin),
    }
}

/// Sends `req` to an origin the plugin may reach, reading no more of the answer than would fit
/// in the plugin's memory (the body goes there).
pub async fn send(cx: &CallContext, req: HttpRequest) -> Result<HttpResponse, CapabilityError> {
    check_origin(cx, &origin_of(&req.url)?)?;
    let Some(backend) = cx.services.http.clone() else {
        return Err(CapabilityError::Unavailable(
            "this command set up no outbound HTTP".into(),
        ));
    };
    backend.send_within(req, cx.memory_limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://rds.amazonaws.com/?Action=DescribeDBInstances").unwrap(),
            "https://rds.amazonaws.com"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:5000/x").unwrap(),
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn userinfo_and_other_schemes_are_refused() {
        assert!(origin_of("https://allowed.example@evil.example/").is_err());
        assert!(origin_of("file:///etc/passwd").is_err());
        assert!(origin_of("rds.amazonaws.com").is_err());
    }

    #[test]
    fn the_origin_is_the_host_a_parser_connects_to() {
        // Split naively on '/', this is a host under amazonaws.com; parsed, it is evil.example.
        let err = origin_of("https://evil.example\\.amazonaws.com/").unwrap_err();
        assert!(err.to_string().contains("backslash"), "{err}");
        assert_eq!(
            origin_of("HTTPS://RDS.Amazonaws.com:443/x").unwrap(),
            "https://rds.amazonaws.com"
        );
        // A percent-encoded dot is decoded: the request goes where the origin says.
        assert_eq!(
            origin_of("https://evil.example%2eamazonaws.com/").unwrap(),
            "https://evil.example.amazonaws.com"
        );
    }
}
