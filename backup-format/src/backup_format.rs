//! Reads SQL Server backup files without a server: what `RESTORE HEADERONLY` and `RESTORE
//! FILELISTONLY` would say, from the file's MTF descriptor blocks — ordinary and compressed
//! backups — and orders backup sets into restore chains.

pub mod chain;
pub mod container;
mod lsn;
pub mod mtf;
pub mod xpress;

pub use lsn::Lsn;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Why a file could not be read as a backup.
#[derive(Debug)]
pub enum ReadError {
    /// Reading the file failed.
    Io(std::io::Error),
    /// The file is not a SQL Server backup (its first bytes say so).
    NotABackup(String),
    /// It is a backup, but damaged or in a layout this reader does not know.
    Corrupt(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read it: {e}"),
            ReadError::NotABackup(why) => write!(f, "not a SQL Server backup: {why}"),
            ReadError::Corrupt(why) => write!(f, "damaged or unknown backup layout: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

/// The kind of a backup set, as msdb.backupset's `type` letter says.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BackupType {
    /// `D`: a full database backup.
    Full,
    /// `I`: a differential database backup.
    Differential,
    /// `L`: a transaction log backup.
    Log,
    /// `F`: a file or filegroup backup.
    File,
    /// `G`: a differential file backup.
    DifferentialFile,
    /// `P`: a partial backup.
    Partial,
    /// `Q`: a differential partial backup.
    DifferentialPartial,
    /// Any other letter.
    #[default]
    Unknown,
}

impl BackupType {
    /// From msdb's letter (`D`, `I`, `L`, `F`, `G`, `P`, `Q`).
    pub fn from_letter(letter: u8) -> BackupType {
        match letter.to_ascii_uppercase() {
            b'D' => BackupType::Full,
            b'I' => BackupType::Differential,
            b'L' => BackupType::Log,
            b'F' => BackupType::File,
            b'G' => BackupType::DifferentialFile,
            b'P' => BackupType::Partial,
            b'Q' => BackupType::DifferentialPartial,
            _ => BackupType::Unknown,
        }
    }

    /// msdb's letter for this kind.
    pub fn letter(self) -> char {
        match self {
            BackupType::Full => 'D',
            BackupType::Differential => 'I',
            BackupType::Log => 'L',
            BackupType::File => 'F',
            BackupType::DifferentialFile => 'G',
            BackupType::Partial => 'P',
            BackupType::DifferentialPartial => 'Q',
            BackupType::Unknown => '?',
        }
    }

    /// The name used in reports (`full`, `differential`, `log`, …).
    pub fn name(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Differential => "differential",
            BackupType::Log => "log",
            BackupType::File => "file",
            BackupType::DifferentialFile => "differential_file",
            BackupType::Partial => "partial",
            BackupType::DifferentialPartial => "differential_partial",
            BackupType::Unknown => "unknown",
        }
    }
}

/// One database file a backup set holds (RESTORE FILELISTONLY's LogicalName, PhysicalName).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DatabaseFile {
    /// The file's logical name.
    pub logical_name: String,
    /// Where the file lived on the source server.
    pub physical_name: String,
}

/// One backup set of a file (RESTORE HEADERONLY's row). Fields the header does not hold in a
/// known place — checksum flag, recovery model, collation, GUIDs, size — are not reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupSet {
    /// Position of the set in the file, from 1 (RESTORE … WITH FILE = n).
    pub position: u32,
    /// The database backed up.
    pub database_name: String,
    /// The server, as `MACHINE\INSTANCE`.
    pub server_name: String,
    /// Full, differential, log, …
    pub backup_type: BackupType,
    /// The backup set's name, when one was given or generated.
    pub backup_name: Option<String>,
    /// The login that took the backup.
    pub user_name: Option<String>,
    /// COPY_ONLY: taken outside the chain of ordinary backups.
    pub copy_only: bool,
    /// First LSN in the set.
    pub first_lsn: Lsn,
    /// The LSN after the last one in the set.
    pub last_lsn: Lsn,
    /// The LSN of the checkpoint the backup began from.
    pub checkpoint_lsn: Lsn,
    /// The checkpoint LSN of the full backup a differential or log backup depends on.
    pub database_backup_lsn: Lsn,
    /// SQL Server's version, `major.minor.build`.
    pub software_version: String,
    /// The database's compatibility level.
    pub compatibility_level: u8,
    /// The on-disk database version (852 = 2016, 957 = 2022).
    pub database_version: u16,
    /// When the database was created (server local time).
    pub database_creation_date: Option<String>,
    /// When the backup began (server local time).
    pub backup_start_date: Option<String>,
    /// The server's Unicode locale id.
    pub unicode_locale_id: u32,
    /// The database files in the set.
    pub files: Vec<DatabaseFile>,
}

impl BackupSet {
    /// How many log files the database has: more than one blocks a restore on Managed Instance.
    pub fn log_file_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.physical_name.to_ascii_lowercase().ends_with(".ldf"))
            .count()
    }
}

/// What one backup file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    /// A compressed (`MSSQLBAK`) backup.
    pub compressed: bool,
    /// The media has a password (a restore needs MEDIAPASSWORD; Managed Instance cannot).
    pub has_media_password: bool,
    /// The software that wrote it (`Microsoft SQL Server`).
    pub software_name: Option<String>,
    /// The MTF format's logical block size.
    pub block_size: u32,
    /// The backup sets, in the order they were appended.
    pub sets: Vec<BackupSet>,
    /// What could not be read, said plainly.
    pub notes: Vec<String>,
}

/// Reads a backup from any random-access source.
pub fn read_backup<R: container::ReadAt>(source: R) -> Result<BackupFile, ReadError> {
    mtf::read(container::Stream::open(source)?)
}

/// Reads the first backup set's header only: it stops once the set's configuration record is
/// read, so a compressed file is not walked to its end (reading a header over a network costs
/// a few ranges, not the whole file).
pub fn read_backup_head<R: container::ReadAt>(source: R) -> Result<BackupFile, ReadError> {
    mtf::read_head(container::Stream::open(source)?)
}

/// Reads a backup file.
pub fn read_backup_file(path: &Path) -> Result<BackupFile, ReadError> {
    read_backup(std::fs::File::open(path)?)
}
