//! AWS Signature Version 4, for plugins that call AWS APIs through the `http` capability (the
//! host signs nothing: a plugin for a cloud holds that cloud's protocol). The signing is AWS's
//! own crate, aws-sigv4 (the SDK's `aws` feature); this module gives it the shape plugins use —
//! a request as it will be sent, the headers or pre-signed URL to add — and keeps AWS's
//! documented examples as its tests.

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{
    self, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningInstructions, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;

use crate::Error;

/// The credentials a request is signed with.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For temporary credentials (`AWS_SESSION_TOKEN`): sent as `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the token never print.
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// What is signed: the request as it will be sent.
pub struct Request<'a> {
    pub method: &'a str,
    /// The host (with `:port` when not the scheme's default), as the `host` header says it.
    pub host: &'a str,
    /// The path, already URI-encoded as sent (`/` when empty).
    pub path: &'a str,
    /// The query string as sent, without `?` (empty when none).
    pub query: &'a str,
    /// Headers besides `host` to sign (names in any case).
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The headers to add to `req` so AWS accepts it: `x-amz-date`, `x-amz-security-token` with
/// temporary credentials, `x-amz-content-sha256` for S3, and `authorization`; `unix_ms` is the
/// request time (`clock::now()`). S3 takes the path as sent (encoded once, not normalized) and
/// the payload's hash in a header; other services the path double-encoded, as AWS documents.
pub fn sign(
    req: &Request,
    credentials: &Credentials,
    region: &str,
    service: &str,
    unix_ms: u64,
) -> Result<Vec<(String, String)>, Error> {
    let mut settings = SigningSettings::default();
    if service == "s3" {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let mut headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.push(("host", req.host));
    let instructions = signed(
        req,
        &headers,
        SignableBody::Bytes(req.body),
        credentials,
        region,
        service,
        unix_ms,
        settings,
    )?;
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A pre-signed GET URL for `host` + `path` (path already URI-encoded, `/` kept): anyone holding
/// it may GET the object until `expires_s` seconds after `unix_ms` — so it is a secret, to be
/// handed only to whoever fetches it (the host's copy). `origin` is `scheme://host[:port]`.
#[allow(clippy::too_many_arguments)]
pub fn presign_get(
    origin: &str,
    host: &str,
    path: &str,
    credentials: &Credentials,
    region: &str,
    service: &str,
    unix_ms: u64,
    expires_s: u64,
) -> Result<String, Error> {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(expires_s));
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let req = Request {
        method: "GET",
        host,
        path,
        query: "",
        headers: &[],
        body: &[],
    };
    let instructions = signed(
        &req,
        &[("host", host)],
        SignableBody::UnsignedPayload,
        credentials,
        region,
        service,
        unix_ms,
        settings,
    )?;
    let query: Vec<String> = instructions
        .params()
        .iter()
        .map(|(k, v)| format!("{k}={}", uri_encode(v, false)))
        .collect();
    Ok(format!("{origin}{path}?{}", query.join("&")))
}

/// What aws-sigv4 says to add to `req` (sent with `headers`) to sign it.
#[allow(clippy::too_many_arguments)]
fn signed(
    req: &Request,
    headers: &[(&str, &str)],
    body: SignableBody,
    credentials: &Credentials,
    region: &str,
    service: &str,
    unix_ms: u64,
    settings: SigningSettings,
) -> Result<SigningInstructions, Error> {
    let failed = |e: &dyn std::fmt::Display| {
        crate::invalid_input(format!(
            "cannot sign {} https://{}{}: {e}",
            req.method, req.host, req.path
        ))
    };
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "sqlmig",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(UNIX_EPOCH + Duration::from_millis(unix_ms))
        .settings(settings)
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let path = if req.path.is_empty() { "/" } else { req.path };
    let uri = if req.query.is_empty() {
        format!("https://{}{path}", req.host)
    } else {
        format!("https://{}{path}?{}", req.host, req.query)
    };
    let signable = SignableRequest::new(req.method, uri, headers.iter().copied(), body)
        .map_err(|e| failed(&e))?;
    let (instructions, _) = http_request::sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    Ok(instructions)
}

/// `text` percent-encoded as AWS canonical requests want it (RFC 3986's unreserved characters
/// kept, `/` too when `keep_slash`).
pub use crate::url::percent_encode as uri_encode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_aws() {
        assert_eq!(uri_encode("a b/c+d=é", false), "a%20b%2Fc%2Bd%3D%C3%A9");
        assert_eq!(uri_encode("/bucket/a b", true), "/bucket/a%20b");
    }

    #[test]
    fn the_documented_presigned_url_signs_as_aws_says() {
        // AWS's "Authenticating Requests: Using Query Parameters" example: GET test.txt from
        // examplebucket on 2013-05-24, valid a day.
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let url = presign_get(
            "https://examplebucket.s3.amazonaws.com",
            "examplebucket.s3.amazonaws.com",
            "/test.txt",
            &creds,
            "us-east-1",
            "s3",
            MAY_24_2013,
            86400,
        )
        .unwrap();
        assert!(
            url.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
        assert!(url.starts_with(
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        ));
    }

    /// 2013-05-24T00:00:00Z, the S3 examples' time.
    const MAY_24_2013: u64 = 1_369_353_600_000;
    /// 2015-08-30T12:36:00Z, the IAM example's time.
    const AUGUST_30_2015: u64 = 1_440_938_160_000;

    #[test]
    fn the_documented_s3_get_signs_as_aws_says() {
        // AWS's "Signature Calculations for the Authorization Header: Transferring Payload in a
        // Single Chunk" example: GET test.txt (bytes 0-9) from examplebucket on 2013-05-24; the
        // payload's hash goes in x-amz-content-sha256.
        let creds = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let headers = vec![("Range".to_string(), "bytes=0-9".to_string())];
        let req = Request {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            query: "",
            headers: &headers,
            body: b"",
        };
        let added = sign(&req, &creds, "us-east-1", "s3", MAY_24_2013).unwrap();
        let header = |name: &str| {
            added
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        // The empty payload's SHA-256, as the example shows it.
        assert_eq!(
            header("x-amz-content-sha256"),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(
            header("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
    }

    #[test]
    fn the_documented_iam_request_signs_as_aws_says() {
        // AWS's Signature Version 4 example: GET iam ListUsers on 2015-08-30 with the example
        // credentials.
        let headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        let req = Request {
            method: "GET",
            host: "iam.amazonaws.com",
            path: "/",
            query: "Version=2010-05-08&Action=ListUsers",
            headers: &headers,
            body: b"",
        };
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let added = sign(&req, &creds, "us-east-1", "iam", AUGUST_30_2015).unwrap();
        let auth = &added.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        // The secret never prints.
        assert!(!format!("{creds:?}").contains("EXAMPLEKEY"));
        // Temporary credentials add the token, which is signed too.
        let temporary = Credentials {
            session_token: Some("token".into()),
            ..creds
        };
        let added = sign(&req, &temporary, "us-east-1", "iam", AUGUST_30_2015).unwrap();
        assert!(
            added
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "token")
        );
        assert!(added.iter().any(|(k, v)| k == "authorization"
            && v.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")));
    }
}
