//! LOGIN7: who connects, to which database, with which packet size.

use super::from_utf16;

/// What a LOGIN7 message carries that the simulator uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Login {
    pub tds_version: u32,
    pub packet_size: u32,
    pub host_name: String,
    pub user_name: String,
    pub password: String,
    pub app_name: String,
    pub server_name: String,
    pub database: String,
    /// Integrated (SSPI) authentication was asked for.
    pub sspi: bool,
}

/// Offset of the first OffsetLength pair (after the fixed fields).
const VAR_TABLE: usize = 36;

/// Passwords travel with each byte's nibbles swapped and XORed with 0xA5.
fn decode_password(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|x| {
            let y = x ^ 0xA5;
            y.rotate_left(4)
        })
        .collect()
}

/// Parses a LOGIN7 payload.
pub fn parse(p: &[u8]) -> Result<Login, String> {
    let u32_at = |o: usize| {
        p.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("LOGIN7 is truncated at byte {o}"))
    };
    let u16_at = |o: usize| {
        p.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
            .ok_or_else(|| format!("LOGIN7 is truncated at byte {o}"))
    };
    // The i-th OffsetLength pair: offset and length in characters.
    let field = |i: usize| -> Result<&[u8], String> {
        let off = u16_at(VAR_TABLE + i * 4)?;
        let chars = u16_at(VAR_TABLE + i * 4 + 2)?;
        p.get(off..off + chars * 2)
            .ok_or_else(|| format!("LOGIN7 field {i} points outside the message"))
    };
    let option_flags_2 = *p.get(25).ok_or("LOGIN7 is truncated")?;
    Ok(Login {
        tds_version: u32_at(4)?,
        packet_size: u32_at(8)?,
        host_name: from_utf16(field(0)?),
        user_name: from_utf16(field(1)?),
        password: from_utf16(&decode_password(field(2)?)),
        app_name: from_utf16(field(3)?),
        server_name: from_utf16(field(4)?),
        database: from_utf16(field(8)?),
        sspi: option_flags_2 & 0x80 != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_obfuscation_is_undone() {
        // "a" = 0x61 0x00 in UTF-16LE; encoded: swap nibbles (0x16, 0x00) then XOR 0xA5.
        let wire = [0x16 ^ 0xA5, 0xA5];
        assert_eq!(decode_password(&wire), vec![0x61, 0x00]);
    }
}
