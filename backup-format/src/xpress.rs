//! Microsoft's LZ77+Huffman ("XPRESS Huffman", [MS-XCA] §2.1–2.2) decoder: SQL Server's backup
//! compression writes the MTF stream in chunks of this format. Hand-written: the one crate for
//! the Huffman variant, xpress-huffman 0.1.3 (made for Windows' prefetch, hibernation and SMB
//! streams), was tried in its place and does not decode SQL Server's chunks — the real backup's
//! tests (`tests/real_backup.rs`) fail with it — and the xpress_rs and rust-lzxpress crates
//! decode plain LZ77 only.
//!
//! One call decodes one block of at most 64 KiB: a 256-byte table of 4-bit code lengths for 512
//! symbols (literals 0–255, matches 256–511), then a bit stream read as 16-bit little-endian
//! words, most significant bit first. Corrupt input is an error, never a panic or an unbounded
//! allocation: the output is exactly the size the caller expects.

use std::fmt;

/// The largest block one Huffman table covers.
pub const MAX_BLOCK: usize = 65536;

/// Why a block could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XpressError(pub String);

impl fmt::Display for XpressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XpressError {}

fn err<T>(what: impl Into<String>) -> Result<T, XpressError> {
    Err(XpressError(what.into()))
}

/// True when `table` (256 bytes) is a complete prefix code — the check that tells a chunk's start
/// from other bytes.
pub fn is_complete_table(table: &[u8]) -> bool {
    table.len() >= 256 && kraft_sum(&lengths(table)) == 1 << 15
}

fn lengths(table: &[u8]) -> [u8; 512] {
    let mut lens = [0u8; 512];
    for (i, b) in table[..256].iter().enumerate() {
        lens[2 * i] = b & 15;
        lens[2 * i + 1] = b >> 4;
    }
    lens
}

/// Sum of 2^(15 - length) over coded symbols: exactly 2^15 for a complete code.
fn kraft_sum(lens: &[u8; 512]) -> u32 {
    lens.iter()
        .filter(|&&l| l > 0)
        .map(|&l| 1u32 << (15 - l))
        .sum()
}

/// The canonical decoding table: every 15-bit prefix maps to its symbol.
fn decoding_table(lens: &[u8; 512]) -> Result<Vec<u16>, XpressError> {
    if kraft_sum(lens) != 1 << 15 {
        return err("the Huffman table is not a complete code");
    }
    let mut symbols: Vec<(u8, u16)> = lens
        .iter()
        .enumerate()
        .filter(|(_, l)| **l > 0)
        .map(|(s, l)| (*l, s as u16))
        .collect();
    symbols.sort_unstable();
    let mut table = vec![0u16; 1 << 15];
    let mut next = 0usize;
    for (len, symbol) in symbols {
        let span = 1usize << (15 - len);
        table[next..next + span].fill(symbol);
        next += span;
    }
    Ok(table)
}

/// Bits read most-significant first from 16-bit little-endian words. Reads past the end give
/// zeros (the decoder prefetches up to 32 bits beyond the last code), but only a few words' worth.
struct Bits<'a> {
    input: &'a [u8],
    pos: usize,
    next: u32,
    extra: i32,
}

impl Bits<'_> {
    fn word(&mut self) -> Result<u32, XpressError> {
        if self.pos > self.input.len() + 4 {
            return err("the compressed block ends early");
        }
        let lo = self.input.get(self.pos).copied().unwrap_or(0);
        let hi = self.input.get(self.pos + 1).copied().unwrap_or(0);
        self.pos += 2;
        Ok(u32::from(u16::from_le_bytes([lo, hi])))
    }

    fn byte(&mut self) -> Result<u32, XpressError> {
        let b = self.input.get(self.pos).copied();
        self.pos += 1;
        b.map(u32::from)
            .ok_or_else(|| XpressError("the compressed block ends inside a match length".into()))
    }

    fn consume(&mut self, n: u8) -> Result<(), XpressError> {
        self.next = self.next.checked_shl(u32::from(n)).unwrap_or(0);
        self.extra -= i32::from(n);
        if self.extra < 0 {
            self.next |= self.word()? << (-self.extra);
            self.extra += 16;
        }
        Ok(())
    }
}

/// Decodes one block that expands to exactly `out_len` bytes (at most 64 KiB).
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, XpressError> {
    if out_len > MAX_BLOCK {
        return err(format!(
            "a block of {out_len} bytes is larger than XPRESS's 64 KiB"
        ));
    }
    if input.len() < 260 {
        return err("the compressed block is shorter than its Huffman table");
    }
    let lens = lengths(&input[..256]);
    let table = decoding_table(&lens)?;
    let mut bits = Bits {
        input,
        pos: 256,
        next: 0,
        extra: 16,
    };
    bits.next = (bits.word()? << 16) | bits.word()?;
    let mut out = Vec::with_capacity(out_len);
    while out.len() < out_len {
        let symbol = table[(bits.next >> 17) as usize];
        bits.consume(lens[usize::from(symbol)])?;
        if symbol < 256 {
            out.push(symbol as u8);
            continue;
        }
        let symbol = symbol - 256;
        let mut length = u32::from(symbol & 15);
        let offset_bits = (symbol >> 4) as u8;
        if length == 15 {
            length = bits.byte()?;
            if length == 255 {
                length = bits.byte()? | (bits.byte()? << 8);
                if length == 0 {
                    length = bits.byte()?
                        | (bits.byte()? << 8)
                        | (bits.byte()? << 16)
                        | (bits.byte()? << 24);
                }
                if length < 15 {
                    return err("a match length is out of range");
                }
                length -= 15;
            }
            length += 15;
        }
        length += 3;
        let high = if offset_bits == 0 {
            0
        } else {
            bits.next >> (32 - u32::from(offset_bits))
        };
        let offset = (high | (1 << offset_bits)) as usize;
        bits.consume(offset_bits)?;
        if offset > out.len() {
            return err(format!(
                "a match refers {offset} bytes back, before the start of the block"
            ));
        }
        let length = (length as usize).min(out_len - out.len());
        let start = out.len() - offset;
        for i in 0..length {
            let b = out[start + i];
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table giving every literal and the 256 match symbols 9-bit codes: a complete code.
    fn flat_table() -> Vec<u8> {
        vec![0x99; 256]
    }

    /// Writes codes of the flat table MSB-first into 16-bit little-endian words.
    fn encode(symbols: &[(u16, Option<(u8, u32)>)]) -> Vec<u8> {
        let mut bits: Vec<bool> = Vec::new();
        for (symbol, extra) in symbols {
            // Canonical: all lengths 9, so the code of symbol s is s in 9 bits.
            for i in (0..9).rev() {
                bits.push(symbol >> i & 1 == 1);
            }
            if let Some((n, value)) = extra {
                for i in (0..*n).rev() {
                    bits.push(value >> i & 1 == 1);
                }
            }
        }
        while !bits.len().is_multiple_of(16) {
            bits.push(false);
        }
        let mut out = flat_table();
        for word in bits.chunks(16) {
            let v = word.iter().fold(0u16, |acc, b| (acc << 1) | u16::from(*b));
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn literals_and_matches() {
        // "ab" then a match of length 3+3=6 at offset 2 (symbol 256 + (1<<4) + 3, one offset bit 0).
        let input = encode(&[
            (b'a' as u16, None),
            (b'b' as u16, None),
            (256 + 16 + 3, Some((1, 0))),
        ]);
        assert_eq!(decompress(&input, 8).unwrap(), b"abababab");
    }

    #[test]
    fn refuses_garbage() {
        assert!(
            decompress(&[0u8; 300], 10).is_err(),
            "an empty table is no code"
        );
        assert!(!is_complete_table(&[0x11; 256]));
        assert!(is_complete_table(&flat_table()));
        // A match before the start of the output.
        let input = encode(&[(256 + 3, None)]);
        assert!(
            decompress(&input, 6)
                .unwrap_err()
                .0
                .contains("before the start")
        );
        assert!(decompress(&flat_table(), MAX_BLOCK + 1).is_err());
    }
}
