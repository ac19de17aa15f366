//! BACKUP statements as a source accepts them, built in one place for both what a plan shows
//! (`preview`) and what runs (`run`: the database and devices as parameters), and the choices a
//! source's version and edition allow — where its backups can go and whether they can be
//! compressed. The rules and their pages are in `docs/fidelity.md`.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sql::{Connection, Param};
use crate::tsql::{blob_folder, literal, quote_name, text_param};

/// MAXTRANSFERSIZE for backups to block blobs: with it, 50,000 blocks hold about 200 GB a blob
/// (sql-server-backup-to-url.md: "Recommend MAXTRANSFERSIZE=4194304"; the default, 1 MB, ends
/// a blob near 48.8 GiB).
pub const URL_MAX_TRANSFER_SIZE: u32 = 4_194_304;
/// BLOCKSIZE for backups to block blobs ("Recommend BLOCKSIZE=65536 to optimize use of the
/// 50,000 blocks allowed in a block blob").
pub const URL_BLOCK_SIZE: u32 = 65_536;
/// The largest stripe planned to one block blob (MB): 50,000 blocks of 4 MiB is 200 GiB; a
/// margin below it for the backup's own headers.
pub const BLOCK_BLOB_MAX_MB: f64 = 195.0 * 1024.0;
/// SQL Server takes at most 64 backup devices.
pub const MAX_STRIPES: u32 = 64;

/// The folder of a database's backups for MI's Log Replay Service: one flat folder per
/// database ([`blob_folder`]) without LRS's reserved word: "The backup URI path should not have
/// the container name or the folder name as keywords `backup` or `backups`"
/// (log-replay-service-overview.md).
pub fn lrs_folder(database: &str) -> String {
    let folder = blob_folder(database);
    let mut out = String::new();
    let mut rest = folder.as_str();
    while let Some(at) = rest.to_ascii_lowercase().find("backup") {
        out.push_str(&rest[..at]);
        out.push_str("bak");
        rest = &rest[at + "backup".len()..];
    }
    out.push_str(rest);
    out
}

/// The path segment of `container_url` (the container, or a folder in it) that holds LRS's
/// reserved word `backup`, if one does.
pub fn lrs_reserved_segment(container_url: &str) -> Option<String> {
    let path = container_url
        .split_once("://")
        .map_or(container_url, |(_, rest)| rest)
        .split_once('/')
        .map_or("", |(_, path)| path);
    path.split('/')
        .find(|s| s.to_ascii_lowercase().contains("backup"))
        .map(str::to_string)
}

/// The file name of stripe `n` of `of` of a full backup of the database whose folder is
/// `folder`. LRS restores `.bak`, `.log` and `.diff` files only (log-replay-service-overview.md:
/// "Only database `.bak`, `.log`, and `.diff` files are supported by LRS"; the migrate page's
/// `.trn` is in no list).
pub fn full_stripe_file(folder: &str, n: u32, of: u32) -> String {
    format!("{folder}_full_{n}of{of}.bak")
}

/// Stripe `n` of `of` of a full backup, as a blob in `folder`.
pub fn full_stripe_name(folder: &str, n: u32, of: u32) -> String {
    format!("{folder}/{}", full_stripe_file(folder, n, of))
}

/// Log backup `seq` in `folder` (`.log`, which LRS restores).
pub fn log_backup_name(folder: &str, seq: u64) -> String {
    format!("{folder}_log_{seq:06}.log")
}

/// The names of `folder`'s log backups as a plan shows them, their number as `NNNNNN`.
pub fn log_backup_pattern(folder: &str) -> String {
    format!("{folder}_log_NNNNNN.log")
}

/// The tail-log backup in `folder`.
pub fn tail_backup_name(folder: &str) -> String {
    format!("{folder}_tail.log")
}

/// Whether the edition (`SERVERPROPERTY('Edition')`) is Express or Web, which neither compress
/// backups nor back up to URL (the editions-and-components pages: "Backup compression" and
/// "Hybrid backup to Azure (backup to URL)" are No for both).
fn express_or_web(edition: &str) -> bool {
    let e = edition.trim_start();
    e.starts_with("Express") || e.starts_with("Web")
}

/// Whether a source of `version` (major, minor, build) and `edition` backs up to block blobs
/// (BACKUP TO URL with a SAS credential, striped): SQL Server 2016 (13.x) and later ("Backup to
/// block blob is only available in SQL Server 2016 or later"), not Express or Web. Every other
/// source backs up TO DISK in a folder and the host uploads the files: 2012 SP1 CU2–2014 back
/// up to URL only into page blobs with a storage-key credential, unstriped. An unknown edition
/// (empty: an inventory written by hand) is taken as one that can, so that such a plan works.
fn block_blobs(version: (u32, u32, u32), edition: &str) -> bool {
    version.0 >= 13 && !express_or_web(edition)
}

/// Why `source` cannot back up to block blobs, if it cannot, as a sentence's start: "the source
/// is SQL Server 12.0.6024.0 Standard Edition (64-bit), which cannot back up to block blobs (…)".
pub fn block_blob_refusal(source: &crate::protocol::migration::Side) -> Option<String> {
    (!block_blobs(source.version(), &source.edition)).then(|| {
        let edition = if source.edition.is_empty() {
            String::new()
        } else {
            format!(" {}", source.edition)
        };
        format!(
            "the source is SQL Server {}{edition}, which cannot back up to block blobs (BACKUP TO URL with a SAS needs SQL Server 2016 or later, not Express or Web)",
            source.product_version
        )
    })
}

/// Whether the edition compresses backups (backup-compression-sql-server.md: "Enterprise,
/// Standard, and Developer"). An unknown edition is not assumed to: left out, COMPRESSION costs
/// only speed, where a wrong guess fails the backup (1844).
pub fn compresses(edition: &str) -> bool {
    !edition.trim().is_empty() && !express_or_web(edition)
}

/// The device type of a backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    Url,
    Disk,
}

/// A BACKUP DATABASE or BACKUP LOG statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupStatement {
    pub database: String,
    /// BACKUP LOG rather than BACKUP DATABASE.
    #[serde(default)]
    pub log: bool,
    pub to: DeviceType,
    /// URLs or file paths; a log backup's file is named when it runs (`with_devices`).
    #[serde(default)]
    pub devices: Vec<String>,
    #[serde(default)]
    pub copy_only: bool,
    #[serde(default)]
    pub compression: bool,
    #[serde(default)]
    pub norecovery: bool,
    /// BACKUP LOG … WITH STANDBY = 'file': the tail, the source left read-only (its undo file
    /// at this path, as the source names it). Exclusive of `norecovery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<String>,
    /// FORMAT, INIT: a stripe left by an earlier attempt is overwritten, not appended to.
    #[serde(default)]
    pub format: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_transfer_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<u32>,
}

impl BackupStatement {
    /// A backup of `database` to `devices`: CHECKSUM always, COMPRESSION as given (the caller
    /// asks [`compresses`]), and to URL, MAXTRANSFERSIZE and BLOCKSIZE sized for block blobs.
    pub fn new(
        database: &str,
        log: bool,
        to: DeviceType,
        devices: Vec<String>,
        compression: bool,
    ) -> BackupStatement {
        let url = to == DeviceType::Url;
        BackupStatement {
            database: database.to_string(),
            log,
            to,
            devices,
            copy_only: false,
            compression,
            norecovery: false,
            standby: None,
            format: false,
            max_transfer_size: url.then_some(URL_MAX_TRANSFER_SIZE),
            block_size: url.then_some(URL_BLOCK_SIZE),
        }
    }

    /// The same statement to other devices (a log backup's file, named when it runs).
    pub fn with_devices(&self, devices: Vec<String>) -> BackupStatement {
        BackupStatement {
            devices,
            ..self.clone()
        }
    }

    fn options(&self) -> String {
        let mut with = Vec::new();
        if self.copy_only {
            with.push("COPY_ONLY".to_string());
        }
        if self.compression {
            with.push("COMPRESSION".into());
        }
        with.push("CHECKSUM".into());
        if self.norecovery {
            with.push("NORECOVERY".into());
        }
        if let Some(file) = &self.standby {
            // The syntax takes the file name, not a variable (backup-transact-sql.md).
            with.push(format!("STANDBY = {}", literal(file)));
        }
        if self.format {
            with.push("FORMAT, INIT".into());
        }
        if let Some(m) = self.max_transfer_size {
            with.push(format!("MAXTRANSFERSIZE = {m}"));
        }
        if let Some(b) = self.block_size {
            with.push(format!("BLOCKSIZE = {b}"));
        }
        with.join(", ")
    }

    /// The statement's text: names and devices as literals (`preview`) or as parameters.
    fn text(&self, inline: bool) -> (String, Vec<Param>) {
        let mut params = Vec::new();
        let database = if inline {
            quote_name(&self.database)
        } else {
            params.push(text_param("db", &self.database));
            "@db".to_string()
        };
        let kind = match self.to {
            DeviceType::Url => "URL",
            DeviceType::Disk => "DISK",
        };
        let devices: Vec<String> = self
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if inline {
                    format!("{kind} = {}", literal(d))
                } else {
                    params.push(text_param(&format!("d{}", i + 1), d));
                    format!("{kind} = @d{}", i + 1)
                }
            })
            .collect();
        let what = if self.log { "LOG" } else { "DATABASE" };
        (
            format!(
                "BACKUP {what} {database} TO {} WITH {}",
                devices.join(", "),
                self.options()
            ),
            params,
        )
    }

    /// What the plan shows: the statement that runs, with its parameters' values in place.
    pub fn preview(&self) -> String {
        self.text(true).0
    }

    /// The statement with the database and devices as parameters, and the parameters.
    pub fn parameterized(&self) -> (String, Vec<Param>) {
        self.text(false)
    }

    /// Runs it on `conn`.
    pub fn run(&self, conn: &Connection) -> Result<(), Error> {
        if self.devices.is_empty() {
            return Err(crate::invalid_input(format!(
                "backup of {}: no device to back up to",
                self.database
            )));
        }
        let (statement, params) = self.parameterized();
        conn.execute(&statement, &params).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_blobs_follow_version_and_edition() {
        let std16 = "Standard Edition (64-bit)";
        assert!(block_blobs((13, 0, 1601), std16));
        assert!(block_blobs((16, 0, 4135), ""));
        for (version, edition) in [
            ((12, 0, 6024), std16),
            ((11, 0, 3339), std16),
            ((10, 50, 6000), std16),
            ((15, 0, 2000), "Express Edition (64-bit)"),
            ((15, 0, 2000), "Web Edition"),
        ] {
            assert!(!block_blobs(version, edition), "{version:?} {edition}");
        }
        assert!(compresses("Enterprise Evaluation Edition (64-bit)"));
        assert!(compresses("Developer Edition (64-bit)"));
        assert!(!compresses(
            "Express Edition with Advanced Services (64-bit)"
        ));
        assert!(!compresses(""));
    }

    #[test]
    fn lrs_names_avoid_its_reserved_word_and_use_its_extensions() {
        let f = lrs_folder("Backups Q");
        assert!(!f.to_ascii_lowercase().contains("backup"), "{f}");
        assert_ne!(lrs_folder("BackupsQ"), lrs_folder("baksQ"));
        assert_eq!(
            lrs_reserved_segment("https://a.blob.core.windows.net/sqlbackups"),
            Some("sqlbackups".into())
        );
        assert_eq!(
            lrs_reserved_segment("http://127.0.0.1:1/devstoreaccount1/Backup/x"),
            Some("Backup".into())
        );
        assert_eq!(
            lrs_reserved_segment("https://backup.blob.core.windows.net/migration"),
            None
        );
        assert_eq!(log_backup_name("S-1", 7), "S-1_log_000007.log");
        assert_eq!(log_backup_pattern("S-1"), "S-1_log_NNNNNN.log");
        assert_eq!(full_stripe_name("S-1", 1, 2), "S-1/S-1_full_1of2.bak");
    }

    #[test]
    fn preview_and_statement_are_one_text() {
        let mut b = BackupStatement::new(
            "Sales ]Q",
            false,
            DeviceType::Url,
            vec![
                "https://a/c/f/x_1of2.bak".into(),
                "https://a/c/f/x_2of2.bak".into(),
            ],
            true,
        );
        b.copy_only = true;
        b.format = true;
        assert_eq!(
            b.preview(),
            "BACKUP DATABASE [Sales ]]Q] TO URL = N'https://a/c/f/x_1of2.bak', URL = N'https://a/c/f/x_2of2.bak' WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"
        );
        let (text, params) = b.parameterized();
        assert_eq!(
            text,
            "BACKUP DATABASE @db TO URL = @d1, URL = @d2 WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"
        );
        assert_eq!(params.len(), 3);
        let disk =
            BackupStatement::new("d", true, DeviceType::Disk, vec!["/b/d.log".into()], false);
        assert_eq!(
            disk.preview(),
            "BACKUP LOG [d] TO DISK = N'/b/d.log' WITH CHECKSUM"
        );
    }
}
