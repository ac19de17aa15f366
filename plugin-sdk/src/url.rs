//! URL pieces plugins build (cloud API paths, object names).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// [`UNRESERVED`], and `/` kept (paths).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// `text` percent-encoded: everything but RFC 3986's unreserved `A-Z a-z 0-9 - _ . ~` (and `/`
/// when `keep_slash`, for paths), as AWS's canonical requests, Azure's and Google's paths want.
pub fn percent_encode(text: &str, keep_slash: bool) -> String {
    let set = if keep_slash {
        UNRESERVED_AND_SLASH
    } else {
        UNRESERVED
    };
    utf8_percent_encode(text, set).to_string()
}
