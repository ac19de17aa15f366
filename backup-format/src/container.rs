//! The logical MTF stream inside a backup file: the file itself for an ordinary backup, or the
//! XPRESS-compressed chunks of a compressed (`MSSQLBAK`) backup, decompressed on demand.
//!
//! A compressed file, as seen in SQL Server 2016's output: an `MSSQLBAK` header, then chunks
//! (`0x21`, u8 sectors of 512 bytes it expands to — 128 for 64 KiB —, u16 compressed size, 24
//! more header bytes, then the compressed block), with an uncompressed 512-byte soft filemark
//! (`SFMB`) block now and then, and zero padding up to a 512-byte boundary between runs of chunks.

use crate::ReadError;
use crate::xpress;
use std::io::{Read, Seek, SeekFrom};

/// Random access to the bytes of a backup: a file, or bytes in memory.
pub trait ReadAt {
    /// The length in bytes.
    fn size(&mut self) -> std::io::Result<u64>;
    /// Fills as much of `buf` as there is from `offset`; returns how much.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl ReadAt for std::fs::File {
    fn size(&mut self) -> std::io::Result<u64> {
        Ok(self.metadata()?.len())
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.seek(SeekFrom::Start(offset))?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }
}

impl<R: ReadAt + ?Sized> ReadAt for &mut R {
    fn size(&mut self) -> std::io::Result<u64> {
        (**self).size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        (**self).read_at(offset, buf)
    }
}

impl ReadAt for &[u8] {
    fn size(&mut self) -> std::io::Result<u64> {
        Ok(self.len() as u64)
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = (offset as usize).min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

const CHUNK_HEADER: u64 = 28;
const SECTOR: u64 = 512;
/// How far into a compressed file the first chunk is looked for (it was at 480 bytes).
const FIRST_CHUNK_SEARCH: u64 = 64 * 1024;

/// One run of logical bytes: a compressed chunk, or raw bytes copied as they are.
#[derive(Clone, Copy, Debug)]
struct Piece {
    logical: u64,
    len: u64,
    physical: u64,
    /// Compressed size; 0 for raw bytes.
    compressed: u64,
}

/// The logical stream of one backup file.
pub struct Stream<R: ReadAt> {
    src: R,
    size: u64,
    /// Whether the file is a compressed (`MSSQLBAK`) backup.
    pub compressed: bool,
    pieces: Vec<Piece>,
    /// Where the walk over a compressed file's chunks goes on.
    next_physical: u64,
    walked_all: bool,
    cache: Option<(usize, Vec<u8>)>,
}

impl<R: ReadAt> Stream<R> {
    /// Opens a backup, telling an ordinary backup (`TAPE`) from a compressed one (`MSSQLBAK`).
    pub fn open(mut src: R) -> Result<Stream<R>, ReadError> {
        let size = src.size()?;
        let mut magic = [0u8; 8];
        let n = src.read_at(0, &mut magic)?;
        let compressed = if n >= 4 && &magic[..4] == b"TAPE" {
            false
        } else if n == 8 && &magic == b"MSSQLBAK" {
            true
        } else {
            return Err(ReadError::NotABackup(
                "it starts with neither `TAPE` (a backup) nor `MSSQLBAK` (a compressed backup)"
                    .into(),
            ));
        };
        let mut stream = Stream {
            src,
            size,
            compressed,
            pieces: Vec::new(),
            next_physical: 0,
            walked_all: false,
            cache: None,
        };
        if compressed {
            stream.next_physical = stream.find_first_chunk()?;
        } else {
            stream.pieces.push(Piece {
                logical: 0,
                len: size,
                physical: 0,
                compressed: 0,
            });
            stream.walked_all = true;
        }
        Ok(stream)
    }

    fn find_first_chunk(&mut self) -> Result<u64, ReadError> {
        let mut head = vec![0u8; (FIRST_CHUNK_SEARCH + 300).min(self.size) as usize];
        let n = self.src.read_at(0, &mut head)?;
        head.truncate(n);
        (8..head.len().saturating_sub(300))
            .find(|&p| chunk_at(&head[p..]).is_some())
            .map(|p| p as u64)
            .ok_or_else(|| {
                ReadError::Corrupt(
                    "compressed backup: no compressed chunk found in the first 64 KiB".into(),
                )
            })
    }

    /// Extends the index of a compressed file until it covers `logical_end` or the file ends.
    fn walk_to(&mut self, logical_end: u64) -> Result<(), ReadError> {
        while !self.walked_all && self.logical_len() < logical_end {
            let p = self.next_physical;
            if p + 8 > self.size {
                self.walked_all = true;
                break;
            }
            let mut head = [0u8; 300];
            let n = self.src.read_at(p, &mut head)?;
            let logical = self.logical_len();
            if let Some((sectors, size)) = chunk_at(&head[..n]) {
                let len = sectors * SECTOR;
                self.pieces.push(Piece {
                    logical,
                    len,
                    physical: p + CHUNK_HEADER,
                    compressed: size,
                });
                self.next_physical = p + CHUNK_HEADER + size;
            } else if n >= 52 && crate::mtf::is_block(&head[..52]) {
                // Soft filemarks are written uncompressed between the chunks.
                self.pieces.push(Piece {
                    logical,
                    len: SECTOR,
                    physical: p,
                    compressed: 0,
                });
                self.next_physical = p + SECTOR;
            } else {
                self.next_physical = (p / SECTOR + 1) * SECTOR;
            }
        }
        Ok(())
    }

    fn logical_len(&self) -> u64 {
        self.pieces.last().map(|p| p.logical + p.len).unwrap_or(0)
    }

    /// Reads up to `len` logical bytes from `offset` (fewer at the end of the stream).
    pub fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let end = offset + len as u64;
        self.walk_to(end)?;
        let mut out = Vec::with_capacity(len);
        let first = self.pieces.partition_point(|p| p.logical + p.len <= offset);
        for i in first..self.pieces.len() {
            let piece = self.pieces[i];
            if piece.logical >= end {
                break;
            }
            let from = offset.max(piece.logical) - piece.logical;
            let to = end.min(piece.logical + piece.len) - piece.logical;
            if piece.compressed == 0 {
                let mut buf = vec![0u8; (to - from) as usize];
                let n = self.src.read_at(piece.physical + from, &mut buf)?;
                out.extend_from_slice(&buf[..n]);
                if n < buf.len() {
                    break;
                }
            } else {
                let block = self.chunk(i)?;
                out.extend_from_slice(&block[from as usize..to as usize]);
            }
        }
        Ok(out)
    }

    fn chunk(&mut self, i: usize) -> Result<&[u8], ReadError> {
        if self.cache.as_ref().map(|(c, _)| *c) != Some(i) {
            let piece = self.pieces[i];
            let mut input = vec![0u8; piece.compressed as usize];
            let n = self.src.read_at(piece.physical, &mut input)?;
            input.truncate(n);
            let block = xpress::decompress(&input, piece.len as usize).map_err(|e| {
                ReadError::Corrupt(format!(
                    "compressed chunk at byte {}: {e}",
                    piece.physical - CHUNK_HEADER
                ))
            })?;
            self.cache = Some((i, block));
        }
        Ok(&self.cache.as_ref().expect("filled above").1)
    }
}

/// A chunk header at the start of `b`: (sectors it expands to, compressed size).
fn chunk_at(b: &[u8]) -> Option<(u64, u64)> {
    if b.len() < CHUNK_HEADER as usize + 256 || b[0] != 0x21 || b[1] == 0 || b[1] > 128 {
        return None;
    }
    let size = u64::from(u16::from_le_bytes([b[2], b[3]]));
    (size > 256 && xpress::is_complete_table(&b[CHUNK_HEADER as usize..]))
        .then_some((u64::from(b[1]), size))
}
