//! Backup headers read where the backups are — a blob in a granted container — with the reader
//! `sqlmig backup inspect` uses, so a method plugin can check a file before it is restored.

use crate::blob::Container;
use crate::{Error, invalid_input};

/// The header reader and restore-chain rules (`sqlmig-backup-format`).
pub use sqlmig_backup_format as format;

use format::container::ReadAt;
use format::{BackupFile, ReadError};

/// How much is fetched per range request: a header's blocks are a few KiB apart, so one window
/// usually answers several reads.
const WINDOW: u64 = 256 * 1024;

/// A blob read through the `blob` capability, a window at a time.
pub struct BlobReader<'a> {
    container: &'a Container,
    name: String,
    size: u64,
    window_at: u64,
    window: Vec<u8>,
    /// The capability's error behind the last failed read (kept so a transient one stays so).
    failure: Option<Error>,
}

impl<'a> BlobReader<'a> {
    /// A reader of `name`, `size` bytes long, in `container`.
    pub fn new(container: &'a Container, name: &str, size: u64) -> BlobReader<'a> {
        BlobReader {
            container,
            name: name.to_string(),
            size,
            window_at: 0,
            window: Vec::new(),
            failure: None,
        }
    }
}

impl ReadAt for BlobReader<'_> {
    fn size(&mut self) -> std::io::Result<u64> {
        Ok(self.size)
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.size - offset);
        let end = offset + want;
        let cached = offset >= self.window_at && end <= self.window_at + self.window.len() as u64;
        if !cached {
            let len = want.max(WINDOW).min(self.size - offset);
            match self.container.read_range(&self.name, offset, len) {
                Ok(bytes) => {
                    self.window_at = offset;
                    self.window = bytes;
                }
                Err(e) => {
                    let message = format!("{e:?}");
                    self.failure = Some(e);
                    return Err(std::io::Error::other(message));
                }
            }
        }
        let from = (offset - self.window_at) as usize;
        let n = (want as usize).min(self.window.len().saturating_sub(from));
        buf[..n].copy_from_slice(&self.window[from..from + n]);
        Ok(n)
    }
}

/// The first backup set's header of blob `name` in `container` (its size from a listing). A blob
/// that is missing is `not-found`; one that is not a readable backup is `invalid-input` naming it;
/// a failed read keeps the capability's own error.
pub fn read_head(container: &Container, name: &str) -> Result<BackupFile, Error> {
    let size = container
        .list(name)?
        .into_iter()
        .find(|b| b.name == name)
        .map(|b| b.size)
        .ok_or_else(|| Error::NotFound(format!("blob {name} is not in the container")))?;
    let mut reader = BlobReader::new(container, name, size);
    match format::read_backup_head(&mut reader) {
        Ok(file) => Ok(file),
        Err(ReadError::Io(_)) if reader.failure.is_some() => {
            Err(reader.failure.take().expect("checked"))
        }
        Err(e) => Err(invalid_input(format!(
            "blob {name} is not a readable backup: {e}"
        ))),
    }
}

/// Reads the header of every stripe in `blobs` and checks that together they are one full
/// backup of `database` — every stripe there, none from another backup — before it is restored.
/// Returns the backup, its stripes as media.
pub fn check_full(
    container: &Container,
    blobs: &[String],
    database: &str,
) -> Result<format::chain::Backup, Error> {
    let mut stripes = Vec::new();
    for name in blobs {
        let file = read_head(container, name)?;
        let set = &file.sets[0];
        if set.database_name != database {
            return Err(invalid_input(format!(
                "blob {name} holds a backup of database {}, not of {database}: the folder is shared with another migration; give each its own folder",
                set.database_name
            )));
        }
        if set.backup_type != format::BackupType::Full {
            return Err(invalid_input(format!(
                "blob {name} holds a {} backup of {database} where its full backup should be",
                set.backup_type.name()
            )));
        }
        stripes.push(format::chain::Backup::from_set(set, name.clone()));
    }
    let mut sets = format::chain::group_stripes(stripes);
    if sets.len() != 1 {
        let described: Vec<String> = sets
            .iter()
            .map(|s| {
                format!(
                    "{} (LSN {} to {})",
                    s.media.join(", "),
                    s.first_lsn,
                    s.last_lsn
                )
            })
            .collect();
        return Err(invalid_input(format!(
            "the stripes of {database}'s full backup come from {} different backups: {}; take the backup again",
            sets.len(),
            described.join("; ")
        )));
    }
    Ok(sets.remove(0))
}
