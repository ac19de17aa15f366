//! The `http` capability: requests only to hosts the operator allow-listed for the plugin (cloud
//! APIs such as RDS or Cloud SQL Admin).

use async_trait::async_trait;

use super::{Capability, CapabilityError};
use crate::runtime::bindings::v0_1::sqlmig::plugin::http as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::Error as WitError;
use crate::runtime::instance::PluginState;

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

impl PluginState {
    /// Whether the plugin may reach `origin`: its manifest asks for it and the operator grants
    /// it (`$NAME` entries read as the origin of cloud setting `NAME`).
    pub(crate) fn check_http(&self, origin: &str) -> Result<(), CapabilityError> {
        match &self.call.services.cloud {
            Some(cloud) => self
                .call
                .grants
                .with_endpoints(cloud)
                .check(Capability::Http, origin),
            None => self.call.grants.check(Capability::Http, origin),
        }
    }
}

impl wit::Host for PluginState {
    async fn send(
        &mut self,
        req: wit::Request,
    ) -> wasmtime::Result<Result<wit::Response, WitError>> {
        let origin = match origin_of(&req.url) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.into())),
        };
        if let Err(e) = self.check_http(&origin) {
            return Ok(Err(e.into()));
        }
        let Some(backend) = self.call.services.http.clone() else {
            return Ok(Err(CapabilityError::Unavailable(
                "this command set up no outbound HTTP".into(),
            )
            .into()));
        };
        // The body goes into the plugin's memory: the host reads no more than would fit there.
        let budget = self.limiter.limit();
        let sent = backend
            .send_within(
                HttpRequest {
                    method: req.method,
                    url: req.url,
                    headers: req.headers,
                    body: req.body,
                },
                budget,
            )
            .await;
        Ok(sent
            .map(|r| wit::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
            .map_err(Into::into))
    }
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
