//! URL pieces plugins build (cloud API paths, object names).

/// `text` percent-encoded: everything but RFC 3986's unreserved `A-Z a-z 0-9 - _ . ~` (and `/`
/// when `keep_slash`, for paths), as AWS's canonical requests, Azure's and Google's paths want.
pub fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
