//! AWS Signature Version 4, for plugins that call AWS APIs through the `http` capability (the
//! host signs nothing: a plugin for a cloud holds that cloud's protocol). Follows AWS's
//! documented process: the canonical request, the string to sign, the signing key derived from
//! the secret, date, region and service, and the `Authorization` header.

use sha2::{Digest, Sha256};

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
/// temporary credentials, and `authorization`. `amz_date` is the request time as
/// `YYYYMMDDTHHMMSSZ` (UTC).
pub fn sign(
    req: &Request,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> Vec<(String, String)> {
    let mut added = vec![("x-amz-date".to_string(), amz_date.to_string())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token".to_string(), token.clone()));
    }
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .chain(added.iter())
        .map(|(k, v)| (k.to_ascii_lowercase(), trim_value(v)))
        .filter(|(k, _)| k != "host")
        .collect();
    headers.push(("host".to_string(), req.host.to_string()));
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        if req.path.is_empty() { "/" } else { req.path },
        canonical_query(req.query),
        hex::encode(Sha256::digest(req.body))
    );
    let date = &amz_date[..8.min(amz_date.len())];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

/// A pre-signed GET URL for `host` + `path` (path already URI-encoded, `/` kept): anyone holding
/// it may GET the object until `expires_s` seconds after `amz_date` — so it is a secret, to be
/// handed only to whoever fetches it (the host's copy). `origin` is `scheme://host[:port]`.
#[allow(clippy::too_many_arguments)]
pub fn presign_get(
    origin: &str,
    host: &str,
    path: &str,
    credentials: &Credentials,
    region: &str,
    service: &str,
    amz_date: &str,
    expires_s: u64,
) -> String {
    let date = &amz_date[..8.min(amz_date.len())];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let mut query = vec![
        (
            "X-Amz-Algorithm".to_string(),
            "AWS4-HMAC-SHA256".to_string(),
        ),
        (
            "X-Amz-Credential".to_string(),
            uri_encode(&format!("{}/{scope}", credentials.access_key_id), false),
        ),
        ("X-Amz-Date".to_string(), amz_date.to_string()),
        ("X-Amz-Expires".to_string(), expires_s.to_string()),
        ("X-Amz-SignedHeaders".to_string(), "host".to_string()),
    ];
    if let Some(token) = &credentials.session_token {
        query.push(("X-Amz-Security-Token".to_string(), uri_encode(token, false)));
    }
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!("GET\n{path}\n{query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));
    format!("{origin}{path}?{query}&X-Amz-Signature={signature}")
}

/// The SHA-256 of `body` in hex, as `x-amz-content-sha256` carries it.
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The key a day's requests to `service` in `region` are signed with.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// `YYYYMMDDTHHMMSSZ` for a time in milliseconds since the Unix epoch (`clock::now()`), as
/// `x-amz-date` takes it.
pub fn amz_date(unix_ms: u64) -> String {
    crate::time::basic(unix_ms)
}

/// `text` percent-encoded as AWS canonical requests want it (RFC 3986's unreserved characters
/// kept, `/` too when `keep_slash`).
pub use crate::url::percent_encode as uri_encode;

/// The query's parameters sorted by name, then value (they arrive encoded as sent).
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value with its ends trimmed and inner runs of spaces made one.
fn trim_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_encoding_follow_aws() {
        // 2015-08-30T12:36:00Z, the documented example's time.
        assert_eq!(amz_date(1_440_938_160_000), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400_000), "20000229T000000Z");
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
            "20130524T000000Z",
            86400,
        );
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

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
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
        let added = sign(&req, &creds, "us-east-1", "iam", "20150830T123600Z");
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
        let added = sign(&req, &temporary, "us-east-1", "iam", "20150830T123600Z");
        assert!(
            added
                .iter()
                .any(|(k, v)| k == "x-amz-security-token" && v == "token")
        );
        assert!(added.iter().any(|(k, v)| k == "authorization"
            && v.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token")));
    }
}
