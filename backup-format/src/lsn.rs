//! Log sequence numbers as SQL Server prints them.

use std::fmt;
use std::str::FromStr;

/// A log sequence number. SQL Server prints one as the virtual log file number, then the block
/// zero-padded to 10 digits, then the slot zero-padded to 5 — so the decimal value orders LSNs
/// the way the log does, and that value is what this type holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u128);

impl Lsn {
    /// The LSN of 0 (a first full backup's DatabaseBackupLSN).
    pub const ZERO: Lsn = Lsn(0);

    /// Builds an LSN from its three parts.
    pub fn from_parts(vlf: u32, block: u32, slot: u16) -> Lsn {
        Lsn(u128::from(vlf) * 1_000_000_000_000_000
            + u128::from(block) * 100_000
            + u128::from(slot))
    }

    /// Reads the 10-byte on-disk form: u32 virtual log file, u32 block, u16 slot (little-endian).
    pub fn from_bytes(b: &[u8; 10]) -> Lsn {
        let vlf = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let block = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let slot = u16::from_le_bytes([b[8], b[9]]);
        Lsn::from_parts(vlf, block, slot)
    }

    /// The 10-byte on-disk form (the inverse of `from_bytes` for LSNs built from parts).
    pub fn to_bytes(self) -> [u8; 10] {
        let vlf = (self.0 / 1_000_000_000_000_000) as u32;
        let block = ((self.0 / 100_000) % 10_000_000_000) as u32;
        let slot = (self.0 % 100_000) as u16;
        let mut b = [0u8; 10];
        b[..4].copy_from_slice(&vlf.to_le_bytes());
        b[4..8].copy_from_slice(&block.to_le_bytes());
        b[8..].copy_from_slice(&slot.to_le_bytes());
        b
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Lsn {
    type Err = String;
    fn from_str(s: &str) -> Result<Lsn, String> {
        let s = s.trim();
        // msdb and PowerShell exports sometimes print numeric(25,0) with a trailing ".0".
        let s = s.strip_suffix(".0").unwrap_or(s);
        if s.is_empty() || s.len() > 25 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{s}` is not an LSN (up to 25 decimal digits)"));
        }
        s.parse::<u128>().map(Lsn).map_err(|e| e.to_string())
    }
}

impl serde::Serialize for Lsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Lsn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lsn, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_as_sql_server_does() {
        // The example of BACKUP_FORMAT.md: bytes 19 00 00 00 39 00 00 00 40 00.
        let lsn = Lsn::from_bytes(&[0x19, 0, 0, 0, 0x39, 0, 0, 0, 0x40, 0]);
        assert_eq!(lsn.to_string(), "25000000005700064");
        assert_eq!(Lsn::from_bytes(&lsn.to_bytes()), lsn);
        assert_eq!("25000000005700064".parse::<Lsn>().unwrap(), lsn);
        assert_eq!(
            "17126658000000314200037.0"
                .parse::<Lsn>()
                .unwrap()
                .to_string(),
            "17126658000000314200037"
        );
        assert!("12a".parse::<Lsn>().is_err());
        assert!(Lsn::from_parts(25, 57, 64) < Lsn::from_parts(25, 57, 65));
        assert!(Lsn::from_parts(25, 9_999_999, 1) < Lsn::from_parts(26, 0, 0));
    }
}
