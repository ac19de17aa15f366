//! Microsoft Tape Format descriptor blocks and SQL Server's configuration record inside them
//! (`../shared/BACKUP_FORMAT.md`; every offset here was checked on a real SQL Server 2016 backup).
//! Hand-written: no maintained crate reads MTF, and SQL Server's records inside it are described
//! only in the notes this reader follows.
//! Hand-written because no maintained crate reads MTF, and SQL Server's records inside it are
//! documented nowhere but in the notes this reader follows.

use crate::container::{ReadAt, Stream};
use crate::{BackupFile, BackupSet, BackupType, DatabaseFile, Lsn, ReadError};

/// The common block header's size.
const BLOCK_HEADER: usize = 52;
/// A stream header: id, two attribute words, u64 length, encryption, compression, checksum.
const STREAM_HEADER: u64 = 22;
/// More descriptor blocks than any backup has: a guard against a loop in a corrupt file.
const MAX_BLOCKS: usize = 100_000;
/// The configuration stream is a few KiB; more than this is not a configuration stream.
const MAX_CONFIG: u64 = 1 << 20;

/// True when `header` (52 bytes) is an MTF descriptor block: four capital letters and a valid
/// header checksum (the XOR of the 25 words before it).
pub fn is_block(header: &[u8]) -> bool {
    header.len() >= BLOCK_HEADER
        && (MTF_BLOCK_TYPES.iter().any(|t| &header[..4] == *t)
            || (header.starts_with(b"MS") && header[2..4].iter().all(u8::is_ascii_uppercase)))
        && checksum_ok(header)
}

/// MTF's descriptor block types; SQL Server adds its own, all `MS..` (`MSCI`, `MSDA`, `MSTL`,
/// `MSLS`). Streams (`SPAD`, `MQCI`, …) have four-letter ids too, so only these count as blocks.
const MTF_BLOCK_TYPES: [&[u8; 4]; 10] = [
    b"TAPE", b"SSET", b"VOLB", b"DIRB", b"FILE", b"CFIL", b"ESPB", b"ESET", b"EOTM", b"SFMB",
];

fn checksum_ok(h: &[u8]) -> bool {
    let xor = (0..25).fold(0u16, |acc, i| {
        acc ^ u16::from_le_bytes([h[2 * i], h[2 * i + 1]])
    });
    xor == u16::from_le_bytes([h[50], h[51]])
}

/// Little-endian readers over a record that never panic: a short record reads as zeros/None.
struct Rec<'a>(&'a [u8]);

impl Rec<'_> {
    fn u8(&self, at: usize) -> u8 {
        self.0.get(at).copied().unwrap_or(0)
    }
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.u8(at), self.u8(at + 1)])
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes([
            self.u8(at),
            self.u8(at + 1),
            self.u8(at + 2),
            self.u8(at + 3),
        ])
    }
    fn u64(&self, at: usize) -> u64 {
        u64::from(self.u32(at)) | (u64::from(self.u32(at + 4)) << 32)
    }
    fn lsn(&self, at: usize) -> Lsn {
        let mut b = [0u8; 10];
        for (i, v) in b.iter_mut().enumerate() {
            *v = self.u8(at + i);
        }
        Lsn::from_bytes(&b)
    }
    /// A string stored as (u16 size in bytes, u16 offset from the start of this record).
    fn string(&self, at: usize, utf16: bool) -> Option<String> {
        let (size, offset) = (usize::from(self.u16(at)), usize::from(self.u16(at + 2)));
        let bytes = self
            .0
            .get(offset..offset + size)
            .filter(|b| !b.is_empty())?;
        let s = if utf16 {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        };
        Some(s.trim_end_matches('\0').to_string())
    }
    /// An MTF date: 5 bytes of big-endian bit fields (year 14, month 4, day 5, hour 5, minute 6,
    /// second 6), printed as ISO 8601 without a zone (the server's local time).
    fn date(&self, at: usize) -> Option<String> {
        let v = (0..5).fold(0u64, |acc, i| (acc << 8) | u64::from(self.u8(at + i)));
        if v == 0 {
            return None;
        }
        let (year, month, day) = (v >> 26, (v >> 22) & 15, (v >> 17) & 31);
        let (hour, minute, second) = ((v >> 12) & 31, (v >> 6) & 63, v & 63);
        Some(format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
        ))
    }
}

/// Reads every backup set of the file.
pub fn read<R: ReadAt>(stream: Stream<R>) -> Result<BackupFile, ReadError> {
    read_sets(stream, false)
}

/// Reads the first backup set's header, stopping once its configuration record is parsed.
pub fn read_head<R: ReadAt>(stream: Stream<R>) -> Result<BackupFile, ReadError> {
    read_sets(stream, true)
}

fn read_sets<R: ReadAt>(mut stream: Stream<R>, first_only: bool) -> Result<BackupFile, ReadError> {
    let tape = stream.read(0, 1024)?;
    if tape.len() < 96 || &tape[..4] != b"TAPE" || !checksum_ok(&tape) {
        return Err(ReadError::Corrupt(
            "the media header (TAPE block) is damaged".into(),
        ));
    }
    let t = Rec(&tape);
    let utf16 = t.u8(48) == 2;
    let mut file = BackupFile {
        compressed: stream.compressed,
        has_media_password: t.u16(62) != 0,
        software_name: t.string(80, utf16),
        block_size: u32::from(t.u16(84)),
        sets: Vec::new(),
        notes: Vec::new(),
    };
    let mut pos = 0u64;
    let mut set: Option<BackupSet> = None;
    for _ in 0..MAX_BLOCKS {
        let head = stream.read(pos, 1024)?;
        if head.len() < BLOCK_HEADER {
            break;
        }
        if !is_block(&head) {
            if head.iter().all(|b| *b == 0) {
                break;
            }
            file.notes.push(format!(
                "no descriptor block where one was expected at logical byte {pos}; stopped there"
            ));
            break;
        }
        let b = Rec(&head);
        let utf16 = b.u8(48) == 2;
        match &head[..4] {
            b"SSET" => {
                if let Some(done) = set.take() {
                    file.sets.push(done);
                }
                let attributes = b.u32(52);
                set = Some(BackupSet {
                    position: file.sets.len() as u32 + 1,
                    backup_name: b.string(64, utf16),
                    user_name: b.string(76, utf16),
                    copy_only: attributes & 0x2 != 0,
                    ..BackupSet::default()
                });
            }
            b"ESET" => {
                if let Some(done) = set.take() {
                    file.sets.push(done);
                }
            }
            _ => {}
        }
        let next = walk_streams(&mut stream, pos, &b, set.as_mut())?;
        if first_only && set.as_ref().is_some_and(|s| !s.database_name.is_empty()) {
            file.sets.extend(set.take());
            return Ok(file);
        }
        if next <= pos {
            file.notes.push(format!(
                "a descriptor block at logical byte {pos} does not say where the next begins"
            ));
            break;
        }
        pos = next;
    }
    if let Some(done) = set.take() {
        file.notes.push(format!(
            "backup set {} has no end-of-set block: the file may be cut short",
            done.position
        ));
        file.sets.push(done);
    }
    file.sets
        .retain(|s| !s.database_name.is_empty() || s.backup_type != BackupType::Unknown);
    if file.sets.is_empty() {
        let mut why = "no backup set with a SQL Server configuration record was found".to_string();
        for note in &file.notes {
            why.push_str("; ");
            why.push_str(note);
        }
        return Err(ReadError::Corrupt(why));
    }
    Ok(file)
}

/// Walks the streams of the block at `pos`, parsing a configuration stream into `set`; returns
/// where the next block starts (after the pad stream that fills this block).
fn walk_streams<R: ReadAt>(
    stream: &mut Stream<R>,
    pos: u64,
    block: &Rec,
    mut set: Option<&mut BackupSet>,
) -> Result<u64, ReadError> {
    let mut s = pos + u64::from(block.u16(8));
    loop {
        let h = stream.read(s, BLOCK_HEADER)?;
        if h.len() < STREAM_HEADER as usize
            || !h[..4].iter().all(|c| c.is_ascii_uppercase())
            || is_block(&h)
        {
            // A block without streams (a soft filemark) ends where its first stream would begin.
            return Ok(s);
        }
        let len = Rec(&h).u64(8);
        let data = s + STREAM_HEADER;
        match &h[..4] {
            b"SPAD" => return Ok(data + len),
            b"MQCI" => {
                if let Some(set) = set.as_deref_mut()
                    && set.database_name.is_empty()
                    && len <= MAX_CONFIG
                {
                    let config = stream.read(data, len as usize)?;
                    parse_config(&config, set);
                }
            }
            _ => {}
        }
        s = (data + len + 3) & !3;
    }
}

/// The configuration stream: records of (4-letter tag, u32 length): `SCIN` (the set), `SFGI`
/// (file groups), `SFIN` (one per database file).
fn parse_config(data: &[u8], set: &mut BackupSet) {
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let r = Rec(&data[at..]);
        let len = r.u32(4) as usize;
        if len < 8 || at + len > data.len() {
            break;
        }
        let record = Rec(&data[at..at + len]);
        match &data[at..at + 4] {
            b"SCIN" => parse_scin(&record, set),
            b"SFIN" => set.files.push(DatabaseFile {
                logical_name: record.string(0x30, true).unwrap_or_default(),
                physical_name: record.string(0x34, true).unwrap_or_default(),
            }),
            _ => {}
        }
        at += len;
    }
}

fn parse_scin(r: &Rec, set: &mut BackupSet) {
    set.software_version = format!("{}.{}.{}", r.u8(27), r.u8(26), r.u16(24));
    set.first_lsn = r.lsn(32);
    set.last_lsn = r.lsn(42);
    set.checkpoint_lsn = r.lsn(52);
    set.database_backup_lsn = r.lsn(62);
    set.database_creation_date = r.date(72);
    set.backup_start_date = r.date(77);
    set.backup_type = BackupType::from_letter(r.u8(87));
    set.compatibility_level = r.u8(91);
    set.database_version = r.u16(94);
    set.database_name = r.string(104, true).unwrap_or_default();
    set.server_name = r.string(108, true).unwrap_or_default();
    set.unicode_locale_id = r.u32(116);
}
