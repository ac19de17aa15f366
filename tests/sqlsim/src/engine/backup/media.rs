//! sqlsim's backup files, in the Microsoft Tape Format layout SQL Server writes: a media header
//! (`TAPE`), a soft filemark, then per backup set `SSET`, `MSCI` (the SQL configuration stream
//! `MQCI`: the `SCIN` record with database, server, type, LSNs, versions and dates, and an
//! `SFIN` record per database file), `MSDA` (the data stream `MQDA`) and `ESET`.
//!
//! Tools that read real backup headers (sqlmig's reader, or one written from
//! ../shared/BACKUP_FORMAT.md) read these files too. The data stream is sqlsim's own: SQLite pages,
//! as a whole image or the pages changed. sqlsim's own facts about the set (stripe count, options,
//! the database's files and recovery model) travel in an extra `SSIM` stream, as JSON, beside
//! `MQCI`: a reader that does not know it skips it, as MTF intends.

use serde::{Deserialize, Serialize};

const BLOCK: usize = 1024;
const SECTOR: usize = 512;
const STREAM_HEADER: usize = 22;

/// One database file a set holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetFile {
    pub logical_name: String,
    pub physical_name: String,
    /// ROWS or LOG.
    pub type_desc: String,
    pub size_mb: f64,
}

/// What sqlsim knows about a backup set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetInfo {
    pub database: String,
    pub server: String,
    /// msdb's letter: D full, I differential, L log.
    pub kind: char,
    pub copy_only: bool,
    pub first_lsn: u128,
    pub last_lsn: u128,
    pub checkpoint_lsn: u128,
    pub database_backup_lsn: u128,
    pub version: (u8, u8, u16),
    pub compatibility_level: u32,
    pub database_version: u16,
    pub recovery_model: String,
    /// `YYYY-MM-DD HH:MM:SS`, server time.
    pub database_created: String,
    pub started: String,
    pub finished: String,
    pub name: Option<String>,
    pub user: String,
    pub files: Vec<SetFile>,
    pub compressed: bool,
    pub checksum: bool,
    /// Stripes: how many files the set spans, and which one this is (from 1).
    pub family_count: u32,
    pub family_sequence: u32,
    pub media_set_id: String,
    /// The whole data stream's length (all stripes).
    pub payload_len: u64,
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// An LSN's 10-byte form: u32 virtual log file, u32 block, u16 slot.
fn put_lsn(b: &mut [u8], at: usize, lsn: u128) {
    let vlf = (lsn / 1_000_000_000_000_000) as u32;
    let block = ((lsn / 100_000) % 10_000_000_000) as u32;
    let slot = (lsn % 100_000) as u16;
    put_u32(b, at, vlf);
    put_u32(b, at + 4, block);
    put_u16(b, at + 8, slot);
}

/// An MTF date from `YYYY-MM-DD HH:MM:SS`: 5 bytes of big-endian bit fields.
fn put_date(b: &mut [u8], at: usize, when: &str) {
    let n =
        |r: std::ops::Range<usize>| when.get(r).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let v = (n(0..4) << 26)
        | (n(5..7) << 22)
        | (n(8..10) << 17)
        | (n(11..13) << 12)
        | (n(14..16) << 6)
        | n(17..19);
    b[at..at + 5].copy_from_slice(&v.to_be_bytes()[3..]);
}

/// Appends `s` (UTF-16LE) at the end of `rec` and stores its (size, offset) reference at `at`.
fn put_string(rec: &mut Vec<u8>, at: usize, s: &str) {
    let offset = rec.len();
    let bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    rec.extend_from_slice(&bytes);
    put_u16(rec, at, bytes.len() as u16);
    put_u16(rec, at + 2, offset as u16);
}

/// A descriptor block of `kind` with `fields` (the type-specific part, from byte 52) and
/// `streams`, padded with an `SPAD` stream to a multiple of the block size.
fn block(
    kind: &[u8; 4],
    fields: &[u8],
    strings: &[(usize, &str)],
    streams: &[(&[u8; 4], &[u8])],
) -> Vec<u8> {
    let mut b = vec![0u8; 52];
    b[..4].copy_from_slice(kind);
    b.extend_from_slice(fields);
    for (at, s) in strings {
        put_string(&mut b, *at, s);
    }
    b[48] = 2; // strings are UTF-16
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let first_stream = b.len() as u16;
    put_u16(&mut b, 8, first_stream);
    let checksum = (0..25).fold(0u16, |acc, i| {
        acc ^ u16::from_le_bytes([b[2 * i], b[2 * i + 1]])
    });
    put_u16(&mut b, 50, checksum);
    for (id, data) in streams {
        b.extend_from_slice(&stream_header(id, data.len() as u64));
        b.extend_from_slice(data);
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
    }
    // The pad stream fills the block to the next block boundary (its header included).
    let mut end = (b.len() + STREAM_HEADER).div_ceil(BLOCK) * BLOCK;
    if end - b.len() < STREAM_HEADER {
        end += BLOCK;
    }
    let pad = (end - b.len() - STREAM_HEADER) as u64;
    b.extend_from_slice(&stream_header(b"SPAD", pad));
    b.resize(end, 0);
    b
}

fn stream_header(id: &[u8; 4], len: u64) -> [u8; STREAM_HEADER] {
    let mut h = [0u8; STREAM_HEADER];
    h[..4].copy_from_slice(id);
    put_u64(&mut h, 8, len);
    let checksum = (0..10).fold(0u16, |acc, i| {
        acc ^ u16::from_le_bytes([h[2 * i], h[2 * i + 1]])
    });
    put_u16(&mut h, 20, checksum);
    h
}

/// A soft filemark: a bare 512-byte block.
fn soft_filemark() -> Vec<u8> {
    let mut b = vec![0u8; SECTOR];
    b[..4].copy_from_slice(b"SFMB");
    put_u32(&mut b, 4, 0x8000_0000);
    put_u16(&mut b, 8, SECTOR as u16);
    let checksum = (0..25).fold(0u16, |acc, i| {
        acc ^ u16::from_le_bytes([b[2 * i], b[2 * i + 1]])
    });
    put_u16(&mut b, 50, checksum);
    b
}

/// The media header and a soft filemark: how a formatted file begins.
pub fn media_header(info: &SetInfo) -> Vec<u8> {
    let mut f = vec![0u8; 44];
    // +52 media family id, +56 attributes, +60 media sequence, +62 password algorithm (none),
    // +64 soft filemark size, +66 catalog type, +80 software name, +84 block size, +86 vendor.
    put_u32(
        &mut f,
        0,
        info.media_set_id
            .bytes()
            .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b))),
    );
    put_u16(&mut f, 8, info.family_sequence as u16);
    put_u16(&mut f, 12, 1);
    put_u16(&mut f, 14, 3);
    put_u16(&mut f, 32, BLOCK as u16);
    put_u16(&mut f, 34, 0x1200);
    put_date(&mut f, 36, &info.started);
    let mut out = block(b"TAPE", &f, &[(80, "sqlsim (SQL Server test double)")], &[]);
    out.extend(soft_filemark());
    out
}

/// One backup set's blocks, holding `data` (this stripe's share of the data stream).
pub fn backup_set(info: &SetInfo, position: u32, data: &[u8]) -> Vec<u8> {
    let mut sset = vec![0u8; 36];
    let mut attributes = 0x4u32;
    if info.kind == 'I' {
        attributes = 0x8;
    }
    if info.copy_only {
        attributes |= 0x2;
    }
    put_u32(&mut sset, 0, attributes);
    put_u16(&mut sset, 10, position as u16);
    let name = info
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}", info.database, kind_name(info.kind)));
    let mut out = block(b"SSET", &sset, &[(64, &name), (76, &info.user)], &[]);

    let mut config = scin(info);
    for f in &info.files {
        config.extend(sfin(f));
    }
    let sqlsim = serde_json::to_vec(info).expect("set info serializes");
    out.extend(block(
        b"MSCI",
        &[],
        &[],
        &[(b"MQCI", &config), (b"SSIM", &sqlsim)],
    ));
    out.extend(block(b"MSDA", &[], &[], &[(b"MQDA", data)]));
    out.extend(block(b"ESET", &[0u8; 4], &[], &[]));
    out
}

fn kind_name(kind: char) -> &'static str {
    match kind {
        'D' => "Full Database Backup",
        'I' => "Differential Database Backup",
        _ => "Transaction Log  Backup",
    }
}

/// The `SCIN` record: offsets from its tag as BACKUP_FORMAT.md gives them.
fn scin(info: &SetInfo) -> Vec<u8> {
    let mut r = vec![0u8; 0x120];
    r[..4].copy_from_slice(b"SCIN");
    let (major, minor, build) = info.version;
    put_u16(&mut r, 24, build);
    r[26] = minor;
    r[27] = major;
    put_lsn(&mut r, 32, info.first_lsn);
    put_lsn(&mut r, 42, info.last_lsn);
    put_lsn(&mut r, 52, info.checkpoint_lsn);
    put_lsn(&mut r, 62, info.database_backup_lsn);
    put_date(&mut r, 72, &info.database_created);
    put_date(&mut r, 77, &info.started);
    r[87] = info.kind as u8;
    r[91] = info.compatibility_level as u8;
    put_u16(&mut r, 94, info.database_version);
    put_u32(&mut r, 116, 1033);
    put_string(&mut r, 104, &info.database);
    put_string(&mut r, 108, &info.server);
    r.resize(r.len().max(444), 0);
    let len = r.len() as u32;
    put_u32(&mut r, 4, len);
    r
}

/// An `SFIN` record: logical name at +0x30, physical name at +0x34.
fn sfin(f: &SetFile) -> Vec<u8> {
    let mut r = vec![0u8; 0x60];
    r[..4].copy_from_slice(b"SFIN");
    put_string(&mut r, 0x30, &f.logical_name);
    put_string(&mut r, 0x34, &f.physical_name);
    let len = r.len() as u32;
    put_u32(&mut r, 4, len);
    r
}

/// A backup set found in a file: its facts and its share of the data stream.
#[derive(Debug)]
pub struct FoundSet {
    pub info: SetInfo,
    pub data: Vec<u8>,
}

/// Why a file is not a sqlsim backup a restore can use.
#[derive(Debug)]
pub struct NotReadable(pub String);

/// The backup sets of a file sqlsim wrote, in order.
pub fn read_sets(file: &[u8]) -> Result<Vec<FoundSet>, NotReadable> {
    if !file.starts_with(b"TAPE") {
        return Err(NotReadable(
            "the file is not a backup (no media header)".into(),
        ));
    }
    let mut sets = Vec::new();
    let mut info: Option<SetInfo> = None;
    let mut pos = 0usize;
    while pos + 52 <= file.len() {
        let kind = &file[pos..pos + 4];
        if kind == b"SFMB" {
            pos += SECTOR;
            continue;
        }
        let first = u16::from_le_bytes([file[pos + 8], file[pos + 9]]) as usize;
        let mut s = pos + first;
        let next = loop {
            if s + STREAM_HEADER > file.len() {
                return Err(NotReadable(format!(
                    "the file ends inside a block at byte {pos}: it is cut short"
                )));
            }
            let id = &file[s..s + 4];
            let len = u64::from_le_bytes(file[s + 8..s + 16].try_into().expect("8 bytes")) as usize;
            let data = s + STREAM_HEADER;
            let Some(body) = file.get(data..data + len) else {
                return Err(NotReadable(format!(
                    "the file ends inside a stream at byte {s}: it is cut short"
                )));
            };
            match id {
                b"SPAD" => break data + len,
                b"SSIM" => {
                    info = Some(
                        serde_json::from_slice(body)
                            .map_err(|e| NotReadable(format!("damaged set description: {e}")))?,
                    )
                }
                b"MQDA" => {
                    let Some(i) = info.take() else {
                        return Err(NotReadable(
                            "a data stream without its set description".into(),
                        ));
                    };
                    sets.push(FoundSet {
                        info: i,
                        data: body.to_vec(),
                    });
                }
                _ => {}
            }
            s = (data + len).div_ceil(4) * 4;
        };
        pos = next;
    }
    if info.is_some() {
        return Err(NotReadable(
            "the file ends before the data of its last backup set: it is cut short".into(),
        ));
    }
    if sets.is_empty() {
        return Err(NotReadable("the file holds no backup set".into()));
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn info() -> SetInfo {
        SetInfo {
            database: "Sales".into(),
            server: "SQL01".into(),
            kind: 'D',
            copy_only: false,
            first_lsn: 34_000_000_054_200_037,
            last_lsn: 34_000_000_055_900_001,
            checkpoint_lsn: 34_000_000_054_200_037,
            database_backup_lsn: 0,
            version: (13, 0, 5026),
            compatibility_level: 130,
            database_version: 852,
            recovery_model: "FULL".into(),
            database_created: "2024-01-01 00:00:00".into(),
            started: "2026-11-28 04:30:05".into(),
            finished: "2026-11-28 04:30:06".into(),
            name: None,
            user: "sa".into(),
            files: vec![SetFile {
                logical_name: "Sales".into(),
                physical_name: "D:\\Sales.mdf".into(),
                type_desc: "ROWS".into(),
                size_mb: 8.0,
            }],
            compressed: false,
            checksum: true,
            family_count: 1,
            family_sequence: 1,
            media_set_id: "m1".into(),
            payload_len: 5,
        }
    }

    #[test]
    fn writes_and_reads_sets_appended_to_one_media() {
        let mut file = media_header(&info());
        file.extend(backup_set(&info(), 1, b"hello"));
        let mut log = info();
        log.kind = 'L';
        file.extend(backup_set(&log, 2, b"world!"));
        assert_eq!(file.len() % SECTOR, 0);
        let sets = read_sets(&file).unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].info, info());
        assert_eq!(sets[0].data, b"hello");
        assert_eq!(sets[1].info.kind, 'L');
        assert_eq!(sets[1].data, b"world!");
        assert!(
            read_sets(&file[..file.len() - 2000])
                .unwrap_err()
                .0
                .contains("cut short")
        );
        assert!(read_sets(b"PK not a backup").is_err());
    }
}
