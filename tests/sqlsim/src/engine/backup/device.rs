//! Where backup bytes go: a file (`DISK =`), or a block blob (`URL =`) reached with the SAS of
//! the credential named for its container, as SQL Server does. Blob storage is spoken over plain
//! HTTP/1.1 — Azurite's — with a small client of its own, so the simulator needs no TLS stack.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A device could not be used: SQL Server's operating-system error number and text.
#[derive(Debug)]
pub struct DeviceError {
    pub os_error: u32,
    pub text: String,
}

fn os(os_error: u32, text: impl Into<String>) -> DeviceError {
    DeviceError {
        os_error,
        text: text.into(),
    }
}

/// A blob URL split for HTTP.
struct BlobUrl {
    host: String,
    path: String,
}

fn split_url(url: &str) -> Result<BlobUrl, DeviceError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| os(50, "The request is not supported. (sqlsim reaches blob storage over http only: an Azurite URL)"))?;
    let (host, path) = rest.split_once('/').ok_or_else(|| {
        os(
            123,
            "The filename, directory name, or volume label syntax is incorrect.",
        )
    })?;
    Ok(BlobUrl {
        host: host.to_string(),
        path: format!("/{path}"),
    })
}

struct Response {
    status: u16,
    body: Vec<u8>,
}

/// One HTTP/1.1 request on a fresh connection.
fn request(
    url: &BlobUrl,
    method: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<Response, DeviceError> {
    let net = |e: std::io::Error| os(53, format!("The network path was not found. ({e})"));
    let mut conn = TcpStream::connect(&url.host).map_err(net)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(net)?;
    let target = if query.is_empty() {
        url.path.clone()
    } else {
        format!("{}?{query}", url.path)
    };
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\nx-ms-version: 2021-08-06\r\n",
        url.host,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).map_err(net)?;
    conn.write_all(body).map_err(net)?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).map_err(net)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| os(64, "The specified network name is no longer available."))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunk(&body);
    }
    Ok(Response { status, body })
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 4 + size..];
    }
    out
}

/// SQL Server's reading of a storage answer.
fn storage_error(status: u16, body: &[u8]) -> DeviceError {
    match status {
        404 => os(2, "The system cannot find the file specified."),
        403 => os(86, "The specified network password is not correct."),
        _ => os(
            1117,
            format!(
                "The request could not be performed because of an I/O device error. (HTTP {status}: {})",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        ),
    }
}

/// Base64 of a block id (Put Block wants ids of one length, base64-encoded), for a query.
fn block_id(n: usize) -> String {
    crate::http_double::base64(format!("{n:08}").as_bytes())
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Whether the blob exists.
pub fn blob_exists(url: &str, sas: &str) -> Result<bool, DeviceError> {
    let u = split_url(url)?;
    let r = request(&u, "HEAD", sas, &[], &[])?;
    match r.status {
        200 => Ok(true),
        404 => Ok(false),
        s => Err(storage_error(s, &r.body)),
    }
}

/// Writes `data` as a block blob in blocks of `block_size`.
pub fn put_blob(url: &str, sas: &str, data: &[u8], block_size: usize) -> Result<(), DeviceError> {
    let u = split_url(url)?;
    let mut ids = Vec::new();
    for (n, chunk) in data.chunks(block_size.max(1)).enumerate() {
        let id = block_id(n);
        let r = request(
            &u,
            "PUT",
            &format!("{sas}&comp=block&blockid={id}"),
            &[],
            chunk,
        )?;
        if r.status != 201 {
            return Err(storage_error(r.status, &r.body));
        }
        ids.push(id);
    }
    let list: String = ids
        .iter()
        .map(|id| {
            format!(
                "<Latest>{}</Latest>",
                id.replace("%2B", "+")
                    .replace("%2F", "/")
                    .replace("%3D", "=")
            )
        })
        .collect();
    let xml = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>{list}</BlockList>");
    let r = request(
        &u,
        "PUT",
        &format!("{sas}&comp=blocklist"),
        &[("Content-Type", "application/xml".into())],
        xml.as_bytes(),
    )?;
    if r.status != 201 {
        return Err(storage_error(r.status, &r.body));
    }
    Ok(())
}

/// Reads a whole blob.
pub fn get_blob(url: &str, sas: &str) -> Result<Vec<u8>, DeviceError> {
    let u = split_url(url)?;
    let r = request(&u, "GET", sas, &[], &[])?;
    if r.status != 200 {
        return Err(storage_error(r.status, &r.body));
    }
    Ok(r.body)
}

/// Reads a file (`DISK =`).
pub fn read_file(path: &str) -> Result<Vec<u8>, DeviceError> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => os(2, "The system cannot find the file specified."),
        std::io::ErrorKind::PermissionDenied => os(5, "Access is denied."),
        _ => os(1117, e.to_string()),
    })
}

/// Writes a file (`DISK =`) whole.
pub fn write_file(path: &str, data: &[u8]) -> Result<(), DeviceError> {
    std::fs::write(path, data).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => os(3, "The system cannot find the path specified."),
        std::io::ErrorKind::PermissionDenied => os(5, "Access is denied."),
        _ => os(1117, e.to_string()),
    })
}

/// The blobs of a container (`http://host/account/container`) whose names start with `prefix`:
/// (name, size).
pub fn list_blobs(
    container: &str,
    sas: &str,
    prefix: &str,
) -> Result<Vec<(String, u64)>, DeviceError> {
    let u = split_url(container)?;
    let mut out = Vec::new();
    let mut marker = String::new();
    loop {
        let query = format!(
            "{sas}&restype=container&comp=list&prefix={}&marker={marker}",
            encode(prefix)
        );
        let r = request(&u, "GET", &query, &[], &[])?;
        if r.status != 200 {
            return Err(storage_error(r.status, &r.body));
        }
        let xml = String::from_utf8_lossy(&r.body).to_string();
        for blob in xml.split("<Blob>").skip(1) {
            let name = between(blob, "<Name>", "</Name>").unwrap_or_default();
            let size = between(blob, "<Content-Length>", "</Content-Length>")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            out.push((unescape(&name), size));
        }
        match between(&xml, "<NextMarker>", "</NextMarker>") {
            Some(m) if !m.is_empty() => marker = encode(&m),
            _ => return Ok(out),
        }
    }
}

fn between(s: &str, open: &str, close: &str) -> Option<String> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(s[start..end].to_string())
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An S3 object URL (path style) split for HTTP: `{endpoint}/{bucket}/{key}`.
fn s3_url(endpoint: &str, bucket: &str, key: &str) -> Result<BlobUrl, DeviceError> {
    split_url(&format!(
        "{}/{bucket}/{key}",
        endpoint.trim_end_matches('/')
    ))
}

/// The headers RDS's S3 requests carry. RDS signs with the instance's IAM role; the emulator
/// sqlsim writes to (moto) routes by the signature's service and checks nothing else.
fn s3_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=RDSROLE/20260101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=0"
                .to_string(),
        ),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD".to_string()),
    ]
}

/// Whether the S3 object exists.
pub fn s3_exists(endpoint: &str, bucket: &str, key: &str) -> Result<bool, DeviceError> {
    let r = request(
        &s3_url(endpoint, bucket, key)?,
        "HEAD",
        "",
        &s3_headers(),
        &[],
    )?;
    Ok(r.status == 200)
}

/// Writes an S3 object (one PUT), as RDS does with a backup file.
pub fn s3_put(endpoint: &str, bucket: &str, key: &str, data: &[u8]) -> Result<(), DeviceError> {
    let r = request(
        &s3_url(endpoint, bucket, key)?,
        "PUT",
        "",
        &s3_headers(),
        data,
    )?;
    match r.status {
        200 | 201 => Ok(()),
        s => Err(storage_error(s, &r.body)),
    }
}
