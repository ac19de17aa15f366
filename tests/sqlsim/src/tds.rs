//! The TDS 7.4 protocol as a server speaks it ([MS-TDS]): packet framing, PRELOGIN, LOGIN7,
//! request parsing and response tokens.

pub mod login7;
pub mod packet;
pub mod prelogin;
pub mod request;
pub mod tokens;
pub mod types;

/// UTF-16LE bytes of a string, as TDS carries text.
pub fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// A string from UTF-16LE bytes (lossy: a test double reports, it does not reject).
pub fn from_utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}
