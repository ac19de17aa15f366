//! Talking to AWS: the operator's credentials, region and endpoints (handed over by the host by
//! the names the manifest lists), requests signed with Signature Version 4 and sent through the
//! `http` capability, and the Query API's XML answers and errors.

use sqlmig_plugin_sdk::aws_sigv4::{self, Credentials};
use sqlmig_plugin_sdk::{Error, clock, credentials, http};

/// The RDS Query API version sqlmig speaks.
const RDS_API_VERSION: &str = "2014-10-31";

/// An AWS service endpoint: `https://rds.eu-west-1.amazonaws.com`.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `scheme://host[:port]`, no trailing slash.
    pub origin: String,
    /// `host[:port]` as the `host` header says it.
    pub host: String,
}

impl Endpoint {
    fn parse(url: &str, from: &str) -> Result<Endpoint, Error> {
        let origin = url.trim_end_matches('/').to_string();
        let host = origin
            .split_once("://")
            .map(|(_, h)| h.split('/').next().unwrap_or_default().to_string())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{from} = {url:?} is not a URL; write it as https://host[:port]"
                ))
            })?;
        Ok(Endpoint { origin, host })
    }
}

/// What requests are signed with and sent to.
pub struct Aws {
    creds: Credentials,
    /// The region requests are signed for.
    pub region: String,
    /// The RDS API.
    pub rds: Endpoint,
    /// The S3 API.
    pub s3: Endpoint,
    /// Address buckets in the path (`{s3}/{bucket}/{key}`), as an endpoint the operator points
    /// elsewhere needs; AWS's own S3 is addressed by bucket host name.
    pub s3_path_style: bool,
}

/// A value the operator set, by name.
fn setting(name: &str) -> Result<Option<String>, Error> {
    credentials::get(name)
}

impl Aws {
    /// The operator's AWS settings: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), and `AWS_ENDPOINT_URL`,
    /// `AWS_ENDPOINT_URL_RDS`, `AWS_ENDPOINT_URL_S3` to point elsewhere, as the AWS CLI reads them.
    pub fn from_operator() -> Result<Aws, Error> {
        let (Some(access_key_id), Some(secret_access_key)) = (
            setting("AWS_ACCESS_KEY_ID")?,
            setting("AWS_SECRET_ACCESS_KEY")?,
        ) else {
            return Err(Error::InvalidInput(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
                 AWS_SESSION_TOKEN for temporary ones) in the environment, or under [cloud] in \
                 the file given with --secrets"
                    .into(),
            ));
        };
        let creds = Credentials {
            access_key_id,
            secret_access_key,
            session_token: setting("AWS_SESSION_TOKEN")?,
        };
        let region = match setting("AWS_REGION")? {
            Some(r) => r,
            None => setting("AWS_DEFAULT_REGION")?.ok_or_else(|| {
                Error::InvalidInput(
                    "no AWS region: set AWS_REGION (e.g. eu-west-1) to the region of the RDS \
                     instances"
                        .into(),
                )
            })?,
        };
        let overridden = |specific: &str| -> Result<Option<Endpoint>, Error> {
            for name in [specific, "AWS_ENDPOINT_URL"] {
                if let Some(url) = setting(name)? {
                    return Endpoint::parse(&url, name).map(Some);
                }
            }
            Ok(None)
        };
        let rds = match overridden("AWS_ENDPOINT_URL_RDS")? {
            Some(e) => e,
            None => Endpoint::parse(&format!("https://rds.{region}.amazonaws.com"), "region")?,
        };
        let (s3, s3_path_style) = match overridden("AWS_ENDPOINT_URL_S3")? {
            Some(e) => (e, true),
            None => (
                Endpoint::parse(&format!("https://s3.{region}.amazonaws.com"), "region")?,
                false,
            ),
        };
        Ok(Aws {
            rds,
            s3,
            s3_path_style,
            creds,
            region,
        })
    }

    /// Calls an RDS Query API action and returns the XML answer; an AWS error becomes an error
    /// saying what AWS said and what to do.
    pub fn rds(&self, action: &str, params: &[(&str, String)]) -> Result<String, Error> {
        let mut body = format!("Action={action}&Version={RDS_API_VERSION}");
        for (k, v) in params {
            body.push_str(&format!("&{k}={}", aws_sigv4::uri_encode(v, false)));
        }
        let headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        let resp = self.send(
            "rds",
            &self.rds,
            "POST",
            "/",
            "",
            headers,
            body.into_bytes(),
        )?;
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        if (200..300).contains(&resp.status) {
            Ok(text)
        } else {
            Err(aws_error("RDS", action, resp.status, &text))
        }
    }

    /// Where object `key` (not yet encoded) of `bucket` is: the endpoint and the encoded path.
    pub fn s3_object(&self, bucket: &str, key: &str) -> (Endpoint, String) {
        let key = aws_sigv4::uri_encode(key, true);
        if self.s3_path_style {
            (self.s3.clone(), format!("/{bucket}/{key}"))
        } else {
            let host = format!("{bucket}.{}", self.s3.host);
            let origin = format!("https://{host}");
            (Endpoint { origin, host }, format!("/{key}"))
        }
    }

    /// A pre-signed GET URL of an object, valid `expires_s` seconds: for the host's copy only.
    pub fn presigned_get(&self, bucket: &str, key: &str, expires_s: u64) -> Result<String, Error> {
        let (endpoint, path) = self.s3_object(bucket, key);
        aws_sigv4::presign_get(
            &endpoint.origin,
            &endpoint.host,
            &path,
            &self.creds,
            &self.region,
            "s3",
            clock::now(),
            expires_s,
        )
    }

    /// Objects of `bucket` under `prefix` (ListObjectsV2, every page): key, size, ETag.
    pub fn s3_list(&self, bucket: &str, prefix: &str) -> Result<Vec<S3Object>, Error> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let (endpoint, path) = self.s3_object(bucket, "");
            let mut query = vec![
                "list-type=2".to_string(),
                format!("prefix={}", aws_sigv4::uri_encode(prefix, false)),
            ];
            if let Some(t) = &token {
                query.push(format!(
                    "continuation-token={}",
                    aws_sigv4::uri_encode(t, false)
                ));
            }
            query.sort();
            let query = query.join("&");
            // The signer adds x-amz-content-sha256, which S3 requires.
            let resp = self.send(
                "s3",
                &endpoint,
                "GET",
                &path,
                &query,
                Vec::new(),
                Vec::new(),
            )?;
            let text = String::from_utf8_lossy(&resp.body).into_owned();
            if !(200..300).contains(&resp.status) {
                return Err(aws_error("S3", "ListObjectsV2", resp.status, &text));
            }
            let doc = roxmltree::Document::parse(&text).map_err(|e| {
                Error::Unavailable(format!("S3 ListObjectsV2 answered malformed XML: {e}"))
            })?;
            for c in doc.descendants().filter(|n| n.has_tag_name("Contents")) {
                out.push(S3Object {
                    key: child_text(c, "Key").unwrap_or_default().to_string(),
                    size: child_text(c, "Size")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    etag: child_text(c, "ETag")
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_string(),
                });
            }
            token = doc
                .descendants()
                .find(|n| n.has_tag_name("NextContinuationToken"))
                .and_then(|n| n.text())
                .map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Signs and sends one request to `endpoint`.
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &self,
        service: &str,
        endpoint: &Endpoint,
        method: &str,
        path: &str,
        query: &str,
        mut headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<http::Response, Error> {
        let added = aws_sigv4::sign(
            &aws_sigv4::Request {
                method,
                host: &endpoint.host,
                path,
                query,
                headers: &headers,
                body: &body,
            },
            &self.creds,
            &self.region,
            service,
            clock::now(),
        )?;
        headers.extend(added);
        let url = if query.is_empty() {
            format!("{}{path}", endpoint.origin)
        } else {
            format!("{}{path}?{query}", endpoint.origin)
        };
        http::send(&http::Request {
            method: method.to_string(),
            url,
            headers,
            body,
        })
    }
}

/// An object in an S3 listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
    /// The ETag without quotes: the content's MD5 for an object written in one PUT.
    pub etag: String,
}

impl S3Object {
    /// The content's MD5 (hex), when the ETag is one (not a multipart upload's).
    pub fn md5(&self) -> Option<String> {
        (self.etag.len() == 32 && self.etag.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| self.etag.to_ascii_lowercase())
    }
}

/// The error an AWS API answered, in the DBA's terms: credentials refused → access denied with
/// what to check; throttling and server errors → unavailable (retry); the rest → invalid input.
pub fn aws_error(service: &str, action: &str, status: u16, body: &str) -> Error {
    let doc = roxmltree::Document::parse(body).ok();
    let field = |name: &str| {
        doc.as_ref()
            .and_then(|d| d.descendants().find(|n| n.has_tag_name(name)))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    let (code, message) = (field("Code"), field("Message"));
    let said = if code.is_empty() {
        format!("{service} {action}: HTTP {status}")
    } else {
        format!("{service} {action}: {code}: {message}")
    };
    match code.as_str() {
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "AccessDenied"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "ExpiredToken"
        | "InvalidAccessKeyId"
        | "AuthFailure" => Error::AccessDenied(format!(
            "{said}; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and \
             that the IAM identity may call {action}"
        )),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "SlowDown" => {
            Error::Unavailable(format!("{said}; AWS is throttling: try again shortly"))
        }
        _ if status >= 500 || status == 0 => Error::Unavailable(said),
        _ if status == 404 => Error::NotFound(said),
        _ => Error::InvalidInput(said),
    }
}

/// The text of the first `name` element directly under `node`.
pub fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_errors_say_what_to_check() {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>\
                    <Message>The security token included in the request is invalid.</Message>\
                    </Error></ErrorResponse>";
        let e = aws_error("RDS", "DescribeDBInstances", 403, body);
        let Error::AccessDenied(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.contains("InvalidClientTokenId") && m.contains("AWS_ACCESS_KEY_ID"),
            "{m}"
        );
        assert!(matches!(
            aws_error("RDS", "X", 503, "not xml"),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            aws_error("RDS", "X", 400, "<Error><Code>Throttling</Code></Error>"),
            Error::Unavailable(_)
        ));
    }

    #[test]
    fn endpoints_keep_their_port() {
        let e = Endpoint::parse("http://127.0.0.1:5000/", "AWS_ENDPOINT_URL").unwrap();
        assert_eq!(
            (e.origin.as_str(), e.host.as_str()),
            ("http://127.0.0.1:5000", "127.0.0.1:5000")
        );
        assert!(Endpoint::parse("rds.local", "AWS_ENDPOINT_URL").is_err());
    }
}
