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
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, CapabilityError>;
}

/// `scheme://host:port` of an absolute http(s) URL, or why it is not one.
pub fn origin_of(url: &str) -> Result<String, CapabilityError> {
    let bad = || CapabilityError::InvalidInput(format!("'{url}' is not an absolute http(s) URL"));
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(bad());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Userinfo (`user:pass@host`) would let a URL smuggle a different host past a naive check.
    if authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    Ok(format!("{}://{}", scheme.to_ascii_lowercase(), authority))
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
        let sent = backend
            .send(HttpRequest {
                method: req.method,
                url: req.url,
                headers: req.headers,
                body: req.body,
            })
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
}
