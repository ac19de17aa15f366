//! BACKUP and RESTORE as SQL Server does them, where sqlmig depends on it: LSNs that follow the
//! work done on a database, full/differential/log backups to files or Azure blobs (striped),
//! the log chain and its errors, databases left RESTORING, credentials holding a SAS, msdb's
//! history, and `percent_complete` while they run.
//!
//! The data stream holds SQLite pages: a full backup the database's whole image; a differential
//! the pages changed since the last full; a log backup the pages changed since the previous log
//! backup — including any page that differs from what a full or differential taken in between
//! would restore, so that a log applies on top of either, as a real log backup does.

pub mod device;
pub mod media;
pub mod statement;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use self::media::{SetFile, SetInfo};
use self::statement::{Device, Options, RestoreKind, Stmt};
use super::{BatchResult, Engine, Outcome, Session, errors, sqlite_ident};
use crate::tds::tokens::{ColumnMeta, ServerMessage};
use crate::tds::types::{ColumnType, Value};

/// Blocks of a backup written to a blob (SQL Server's MAXTRANSFERSIZE default is 1 MiB).
const BLOB_BLOCK: usize = 1 << 20;
/// A block blob holds at most 50,000 blocks; BACKUP TO URL writes one per MAXTRANSFERSIZE
/// (sql-server-backup-to-url.md: "50,000 blocks * 4MB MAXTRANSFERSIZE").
const MAX_BLOCKS: u64 = 50_000;
/// MAXTRANSFERSIZE when none is given (backup-transact-sql.md: "backup to URL to Azure Blob
/// Storage, the default MAXTRANSFERSIZE = 1048576").
const DEFAULT_MAX_TRANSFER: u64 = 1_048_576;

/// The backup state of the instance's databases.
#[derive(Default)]
pub struct State {
    logs: Mutex<HashMap<String, DbLog>>,
    restoring: Mutex<HashMap<String, Restoring>>,
    credentials: Mutex<HashMap<String, Credential>>,
    /// A fault: the next full restore fails with this after its database was created
    /// (RESTORING), as a restore whose storage fails half way leaves it.
    fail_midway: Mutex<Option<ServerMessage>>,
    /// One lock per database that backups of it take for their whole run.
    backing_up: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl State {
    /// The lock backups of `database` take: they run one after another, each seeing what the
    /// one before it left (the chain moved on, the database RESTORING after a tail). The pages
    /// do not say whether a second backup of a database waits or fails while one runs; it
    /// waits here, so a backup whose client went away (it runs to its end) is never raced.
    fn backup_lock(&self, database: &str) -> Arc<Mutex<()>> {
        self.backing_up
            .lock()
            .unwrap()
            .entry(key(database))
            .or_default()
            .clone()
    }
}

/// A credential's identity and secret (never shown: sys.credentials lists names only).
struct Credential {
    identity: String,
    secret: Option<String>,
}

/// What a database's log has seen.
#[derive(Default)]
struct DbLog {
    /// Work done on the database: its LSN (see `lsn_of`).
    counter: u64,
    /// The last full backup (not COPY_ONLY): checkpoint LSN and image — a differential's base.
    full: Option<(u128, Vec<u8>)>,
    /// The log chain: the last LSN a log backup covered and the image then.
    chain: Option<(u128, Vec<u8>)>,
    /// Images fulls and differentials captured since the last log backup.
    since_log: Vec<Vec<u8>>,
}

/// What a backup changes in its database's log state once every device is written. A backup
/// that fails changes none of it: a log backup truncates the log only after it is written (SMO's
/// Backup.LogTruncation: "the log is backed up, and is then truncated"), so the next one covers
/// what a failed one would have, and the chain has no gap.
#[derive(Default)]
struct Advance {
    /// The new end of the log chain (a log backup; the full that starts the chain).
    chain: Option<(u128, Vec<u8>)>,
    /// A log backup that is not COPY_ONLY: the images kept since the last one are done with.
    log_backed_up: bool,
    /// The new base of differentials (a full that is not COPY_ONLY).
    full: Option<(u128, Vec<u8>)>,
    /// An image a full or differential captured.
    since_log: Option<Vec<u8>>,
}

impl Advance {
    fn apply(self, st: &mut DbLog) {
        if self.log_backed_up {
            st.since_log.clear();
        }
        if let Some(chain) = self.chain {
            st.chain = Some(chain);
        }
        if let Some(full) = self.full {
            st.full = Some(full);
        }
        if let Some(image) = self.since_log {
            st.since_log.push(image);
        }
    }
}

/// A database being restored (RESTORING): not attached, its pages held here.
struct Restoring {
    name: String,
    image: Vec<u8>,
    /// Restored up to this LSN.
    point: u128,
    /// The checkpoint LSN of the full backup restored (a differential must match it).
    full_checkpoint: u128,
    info: SetInfo,
}

/// The LSN after `counter` units of work: VLF 34 onwards, 50,000 blocks a VLF.
fn lsn_of(counter: u64) -> u128 {
    let vlf = 34 + counter / 50_000;
    let block = (counter % 50_000) * 8 + 16;
    u128::from(vlf) * 1_000_000_000_000_000 + u128::from(block) * 100_000 + 1
}

/// An LSN as the DMVs print it: `VLF:block:slot` in hex (`00000022:00000010:0001`).
pub fn lsn_hex(lsn: u128) -> String {
    let vlf = lsn / 1_000_000_000_000_000;
    let block = (lsn / 100_000) % 10_000_000_000;
    let slot = lsn % 100_000;
    format!("{vlf:08x}:{block:08x}:{slot:04x}")
}

/// The inverse of `lsn_of`.
fn counter_of(lsn: u128) -> u64 {
    let vlf = (lsn / 1_000_000_000_000_000) as u64;
    let block = ((lsn / 100_000) % 10_000_000_000) as u64;
    vlf.saturating_sub(34) * 50_000 + block.saturating_sub(16) / 8
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl State {
    /// `units` of work were done on `database` (rows written, DDL): its LSN moves on.
    pub fn work(&self, database: &str, units: u64) {
        self.logs
            .lock()
            .unwrap()
            .entry(key(database))
            .or_default()
            .counter += units;
    }

    /// Where `database`'s log stands: the LSN of its last record (what
    /// `sys.dm_db_log_stats.log_end_lsn` reports: "LSN of the last log record"), one before
    /// where the next record goes, so a log backup taken after it ends past it (backupset's
    /// last_lsn is "the next log record after the backup set"); and where the next log backup
    /// starts, when a full backup has begun the log chain.
    pub fn log_position(&self, database: &str) -> (u128, Option<u128>) {
        let logs = self.logs.lock().unwrap();
        let log = logs.get(&key(database));
        (
            lsn_of(log.map_or(0, |l| l.counter).saturating_sub(1)),
            log.and_then(|l| l.chain.as_ref().map(|c| c.0)),
        )
    }

    /// True when `database` is being restored.
    pub fn is_restoring(&self, database: &str) -> bool {
        self.restoring.lock().unwrap().contains_key(&key(database))
    }

    /// Forgets a restoring database (DROP DATABASE of it).
    pub fn drop_restoring(&self, database: &str) -> Option<String> {
        self.restoring
            .lock()
            .unwrap()
            .remove(&key(database))
            .map(|r| r.name)
    }
}

/// The data stream: a whole image, or pages over a base.
enum Payload {
    Image(Vec<u8>),
    Pages {
        len: u64,
        page_size: u32,
        pages: Vec<(u32, Vec<u8>)>,
    },
}

fn page_size(image: &[u8]) -> u32 {
    match image.get(16..18).map(|b| u16::from_be_bytes([b[0], b[1]])) {
        Some(1) => 65536,
        Some(n) if n >= 512 => u32::from(n),
        _ => 4096,
    }
}

/// The pages of `cur` that differ from any of `bases` (or lie beyond one).
fn changed_pages(bases: &[&[u8]], cur: &[u8]) -> Payload {
    let size = page_size(cur) as usize;
    let mut pages = Vec::new();
    for (n, page) in cur.chunks(size).enumerate() {
        let at = n * size;
        if bases
            .iter()
            .any(|b| b.get(at..at + page.len()) != Some(page))
        {
            pages.push((n as u32, page.to_vec()));
        }
    }
    Payload::Pages {
        len: cur.len() as u64,
        page_size: size as u32,
        pages,
    }
}

impl Payload {
    fn encode(&self) -> Vec<u8> {
        let mut out = b"SQSM".to_vec();
        match self {
            Payload::Image(img) => {
                out.push(0);
                out.extend_from_slice(&(img.len() as u64).to_le_bytes());
                out.extend_from_slice(img);
            }
            Payload::Pages {
                len,
                page_size,
                pages,
            } => {
                out.push(1);
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&page_size.to_le_bytes());
                out.extend_from_slice(&(pages.len() as u32).to_le_bytes());
                for (n, p) in pages {
                    out.extend_from_slice(&n.to_le_bytes());
                    out.extend_from_slice(p);
                }
            }
        }
        out
    }

    fn decode(b: &[u8]) -> Option<Payload> {
        let rest = b.strip_prefix(b"SQSM")?;
        let (&kind, rest) = rest.split_first()?;
        let len = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        let rest = &rest[8..];
        if kind == 0 {
            return Some(Payload::Image(rest.get(..len as usize)?.to_vec()));
        }
        let page_size = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        let count = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?);
        let mut at = 8usize;
        let mut pages = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let n = u32::from_le_bytes(rest.get(at..at + 4)?.try_into().ok()?);
            let p = rest.get(at + 4..at + 4 + page_size as usize)?.to_vec();
            at += 4 + page_size as usize;
            pages.push((n, p));
        }
        Some(Payload::Pages {
            len,
            page_size,
            pages,
        })
    }

    /// Applies these pages to `image` (a whole image replaces it).
    fn apply(self, image: &mut Vec<u8>) {
        match self {
            Payload::Image(img) => *image = img,
            Payload::Pages {
                len,
                page_size,
                pages,
            } => {
                image.resize(len as usize, 0);
                for (n, p) in pages {
                    let at = n as usize * page_size as usize;
                    let end = (at + p.len()).min(image.len());
                    image[at..end].copy_from_slice(&p[..end - at]);
                }
            }
        }
    }

    fn pages(&self) -> usize {
        match self {
            Payload::Image(img) => img.len() / page_size(img) as usize,
            Payload::Pages { pages, .. } => pages.len(),
        }
    }
}

/// An error and the statement's closing 3013, as SQL Server sends them.
fn failed(what: &str, e: ServerMessage) -> BatchResult {
    BatchResult {
        outcomes: vec![Outcome::Info(e)],
        error: Some(errors::error(
            3013,
            16,
            1,
            format!("{what} is terminating abnormally."),
        )),
        cancelled: false,
    }
}

fn err(number: i32, text: impl Into<String>) -> ServerMessage {
    errors::error(number, 16, 1, text)
}

/// The on-disk version a SQL Server version writes.
fn database_version(major: u8, minor: u8) -> u16 {
    match (major, minor) {
        (10, 0) => 655,
        (10, _) => 661,
        (11, _) => 706,
        (12, _) => 782,
        (13, _) => 852,
        (14, _) => 869,
        (15, _) => 904,
        _ => 957,
    }
}

/// Holds a BACKUP or RESTORE to the instance's device speed (when it has one), so that progress
/// is seen as it is on a real device.
struct Pace {
    started: std::time::Instant,
    kb_per_s: Option<u32>,
}

impl Pace {
    fn new(kb_per_s: Option<u32>) -> Pace {
        Pace {
            started: std::time::Instant::now(),
            kb_per_s,
        }
    }

    /// Waits until `bytes` may have been moved.
    fn at(&self, bytes: u64) {
        if let Some(rate) = self.kb_per_s.filter(|r| *r > 0) {
            let due = std::time::Duration::from_secs_f64(bytes as f64 / 1024.0 / f64::from(rate));
            if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
}

/// Moves through `len` bytes after the first `from` in steps of 64 KiB, pacing each and
/// reporting the bytes done so far.
fn paced(pace: &Pace, from: u64, len: u64, report: &dyn Fn(u64)) {
    let mut done = 0u64;
    while done < len {
        done = (done + 65536).min(len);
        pace.at(from + done);
        report(from + done);
    }
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

impl Engine {
    /// A fault: the next full RESTORE DATABASE fails with error `number` saying `message` after
    /// creating its database, which is left RESTORING (a restore whose storage failed half way).
    pub fn fail_next_restore_midway(&self, number: i32, message: &str) {
        *self.backup.fail_midway.lock().unwrap() = Some(errors::error(number, 16, 1, message));
    }

    /// Runs a BACKUP, RESTORE or CREDENTIAL statement.
    pub(super) fn backup_statement(
        &self,
        session: &Session,
        sql: &str,
        params: &[super::Param],
    ) -> BatchResult {
        let stmt = match statement::parse(sql, params) {
            Ok(s) => s,
            Err(e) => {
                let number = if e.0.starts_with("Must declare") {
                    137
                } else {
                    102
                };
                return BatchResult {
                    error: Some(errors::error(number, 15, 1, e.0)),
                    ..Default::default()
                };
            }
        };
        match stmt {
            Stmt::CreateCredential {
                name,
                identity,
                secret,
                alter,
            } => self.credential(&name, identity, secret, alter),
            Stmt::DropCredential { name } => {
                let gone = self
                    .backup
                    .credentials
                    .lock()
                    .unwrap()
                    .remove(&key(&name))
                    .is_some();
                if !gone {
                    return BatchResult {
                        error: Some(err(
                            15151,
                            format!(
                                "Cannot drop the credential '{name}', because it does not exist or you do not have permission."
                            ),
                        )),
                        ..Default::default()
                    };
                }
                let conn = self.conn.lock().unwrap();
                let _ = conn.execute(
                    "DELETE FROM master.\"sys.credentials\" WHERE name = ?1 COLLATE NOCASE",
                    [&name],
                );
                BatchResult {
                    outcomes: vec![Outcome::Done],
                    ..Default::default()
                }
            }
            Stmt::Backup {
                log,
                database,
                devices,
                options,
            } => {
                let what = if log { "BACKUP LOG" } else { "BACKUP DATABASE" };
                match self.backup(session, log, &database, &devices, &options) {
                    Ok(outcomes) => BatchResult {
                        outcomes,
                        ..Default::default()
                    },
                    Err(e) => failed(what, e),
                }
            }
            Stmt::Restore {
                kind,
                database,
                devices,
                options,
            } => {
                let what = match kind {
                    RestoreKind::Log => "RESTORE LOG",
                    RestoreKind::Database => "RESTORE DATABASE",
                    RestoreKind::HeaderOnly => "RESTORE HEADERONLY",
                    RestoreKind::FileListOnly => "RESTORE FILELIST",
                    RestoreKind::VerifyOnly => "VERIFY DATABASE",
                };
                match self.restore(session, kind, database.as_deref(), &devices, &options) {
                    Ok(outcomes) => BatchResult {
                        outcomes,
                        ..Default::default()
                    },
                    Err(e) => failed(what, e),
                }
            }
        }
    }

    fn credential(
        &self,
        name: &str,
        identity: String,
        secret: Option<String>,
        alter: bool,
    ) -> BatchResult {
        let mut creds = self.backup.credentials.lock().unwrap();
        let exists = creds.contains_key(&key(name));
        if exists != alter {
            let e = if alter {
                err(
                    15151,
                    format!(
                        "Cannot alter the credential '{name}', because it does not exist or you do not have permission."
                    ),
                )
            } else {
                err(
                    15025,
                    format!("The server principal '{name}' already exists."),
                )
            };
            return BatchResult {
                error: Some(e),
                ..Default::default()
            };
        }
        let conn = self.conn.lock().unwrap();
        let done = if alter {
            conn.execute("UPDATE master.\"sys.credentials\" SET credential_identity = ?2, modify_date = datetime('now') WHERE name = ?1 COLLATE NOCASE", rusqlite::params![name, identity])
        } else {
            conn.execute(
                "INSERT INTO master.\"sys.credentials\" VALUES ((SELECT COALESCE(MAX(credential_id), 65535) + 1 FROM master.\"sys.credentials\"), ?1, ?2, datetime('now'), datetime('now'), NULL, NULL)",
                rusqlite::params![name, identity],
            )
        };
        if let Err(e) = done {
            return BatchResult {
                error: Some(errors::from_sqlite(&e, 1, &[])),
                ..Default::default()
            };
        }
        creds.insert(key(name), Credential { identity, secret });
        BatchResult {
            outcomes: vec![Outcome::Done],
            ..Default::default()
        }
    }

    /// The SAS for a URL: the credential named for the longest prefix of it, whose identity is
    /// SHARED ACCESS SIGNATURE.
    fn sas_for(&self, url: &str) -> Result<String, device::DeviceError> {
        let creds = self.backup.credentials.lock().unwrap();
        let lower = url.to_ascii_lowercase();
        let best = creds
            .iter()
            .filter(|(name, c)| {
                lower.starts_with(name.as_str())
                    && c.identity.eq_ignore_ascii_case("SHARED ACCESS SIGNATURE")
            })
            .max_by_key(|(name, _)| name.len());
        match best.and_then(|(_, c)| c.secret.clone()) {
            Some(sas) => Ok(sas.trim_start_matches('?').to_string()),
            None => Err(device::DeviceError {
                os_error: 50,
                text: "The request is not supported.".into(),
            }),
        }
    }

    fn open_error(d: &Device, e: device::DeviceError) -> ServerMessage {
        err(
            3201,
            format!(
                "Cannot open backup device '{}'. Operating system error {}({}).",
                d.name(),
                e.os_error,
                e.text
            ),
        )
    }

    fn read_device(&self, d: &Device) -> Result<Vec<u8>, ServerMessage> {
        let r = match d {
            Device::Disk(path) => device::read_file(path),
            Device::Url(url) => self
                .sas_for(url)
                .and_then(|sas| device::get_blob(url, &sas)),
        };
        r.map_err(|e| Self::open_error(d, e))
    }

    fn set_percent(&self, session: &Session, pct: f64) {
        self.activity.set_percent(session.id, pct);
    }

    fn backup(
        &self,
        session: &Session,
        log: bool,
        database: &str,
        devices: &[Device],
        o: &Options,
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let lock = self.backup.backup_lock(database);
        let _running = lock.lock().unwrap();
        let Some(db) = self.database(database) else {
            if self.backup.is_restoring(database) {
                return Err(err(
                    3098,
                    format!(
                        "The backup cannot be performed because the database '{database}' is in the RESTORING state."
                    ),
                ));
            }
            return Err(errors::no_database(1, database));
        };
        self.refuse_unsupported(&db, log, devices, o)?;
        if o.standby.is_some() && (!log || o.norecovery) {
            // backup-transact-sql.md: STANDBY is BACKUP LOG's, and "equivalent to BACKUP LOG
            // WITH NORECOVERY followed by a RESTORE WITH STANDBY" — never both (the double's
            // words; the page gives no number).
            return Err(err(
                3032,
                "STANDBY is an option of BACKUP LOG only, and cannot be combined with NORECOVERY.",
            ));
        }
        if self.is_standby(&db) {
            return Err(err(
                3098,
                format!(
                    "The backup cannot be performed because the database '{db}' is in standby (read-only) after the tail of its log was backed up."
                ),
            ));
        }
        // The request shows the database it backs up, as on a server.
        self.activity.request_database(session.id, &db);
        let (recovery, compat, created) = {
            let conn = self.conn.lock().unwrap();
            conn.query_row(
                "SELECT recovery_model_desc, compatibility_level, strftime('%Y-%m-%d %H:%M:%S', create_date) FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE",
                [&db],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, String>(2).unwrap_or_default())),
            )
            .map_err(|e| errors::from_sqlite(&e, 1, &[]))?
        };
        if log && recovery == "SIMPLE" {
            return Err(err(
                4208,
                "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.",
            ));
        }
        let started = now();
        let image = {
            let conn = self.conn.lock().unwrap();
            conn.serialize(db.as_str())
                .map_err(|e| errors::from_sqlite(&e, 1, &[]))?
                .to_vec()
        };
        let mut advance = Advance::default();
        let (kind, payload, first, last, checkpoint, base) = {
            let mut logs = self.backup.logs.lock().unwrap();
            let st = logs.entry(key(&db)).or_default();
            let base_lsn = st.full.as_ref().map_or(0, |(c, _)| *c);
            if log {
                let Some((chain_lsn, chain_image)) = st.chain.clone() else {
                    return Err(err(
                        4214,
                        "BACKUP LOG cannot be performed because there is no current database backup.",
                    ));
                };
                let mut bases: Vec<&[u8]> = vec![&chain_image];
                bases.extend(st.since_log.iter().map(Vec::as_slice));
                let payload = changed_pages(&bases, &image);
                st.counter += 1;
                let last = lsn_of(st.counter);
                if !o.copy_only {
                    advance.chain = Some((last, image.clone()));
                    advance.log_backed_up = true;
                }
                let checkpoint = if base_lsn > 0 { base_lsn } else { chain_lsn };
                ('L', payload, chain_lsn, last, checkpoint, base_lsn)
            } else if o.differential {
                let Some((full_lsn, full_image)) = st.full.clone() else {
                    return Err(err(
                        3035,
                        format!(
                            "Cannot perform a differential backup for database \"{db}\", because a current database backup does not exist. Perform a full database backup by reissuing BACKUP DATABASE, omitting the WITH DIFFERENTIAL option."
                        ),
                    ));
                };
                let payload = changed_pages(&[&full_image], &image);
                st.counter += 1;
                let first = lsn_of(st.counter);
                st.counter += 1;
                advance.since_log = Some(image.clone());
                ('I', payload, first, lsn_of(st.counter), first, full_lsn)
            } else {
                st.counter += 1;
                let first = lsn_of(st.counter);
                st.counter += 1;
                let last = lsn_of(st.counter);
                if !o.copy_only {
                    advance.full = Some((first, image.clone()));
                }
                // Only a full backup that is not COPY_ONLY starts the log chain of a database
                // in FULL recovery (stricter than the docs, which leave it unsaid: the first
                // log backup after a COPY_ONLY full alone fails with 4214).
                if st.chain.is_none() && recovery != "SIMPLE" && !o.copy_only {
                    advance.chain = Some((first, image.clone()));
                }
                advance.since_log = Some(image.clone());
                (
                    'D',
                    Payload::Image(image.clone()),
                    first,
                    last,
                    first,
                    base_lsn,
                )
            }
        };
        let files = self.set_files(&db)?;
        let (major, minor, build) = self.instance.version;
        let data = payload.encode();
        let media_set_id = format!(
            "{:016x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()) as u64
                ^ first as u64
        );
        let mut info = SetInfo {
            database: db.clone(),
            server: self.instance.server_name.clone(),
            kind,
            copy_only: o.copy_only,
            first_lsn: first,
            last_lsn: last,
            checkpoint_lsn: checkpoint,
            database_backup_lsn: base,
            version: (major, minor, build),
            compatibility_level: compat,
            database_version: database_version(major, minor),
            recovery_model: recovery.clone(),
            database_created: created,
            started: started.clone(),
            finished: now(),
            name: o.name.clone(),
            user: session.login.clone(),
            files,
            compressed: o.compression,
            checksum: o.checksum,
            family_count: devices.len() as u32,
            family_sequence: 1,
            media_set_id,
            payload_len: data.len() as u64,
        };
        let share = data.len().div_ceil(devices.len().max(1)).max(1);
        let total = data.len() as u64;
        let mut written = 0u64;
        let pace = Pace::new(self.instance.backup_device_kb_per_s);
        for (i, d) in devices.iter().enumerate() {
            info.family_sequence = i as u32 + 1;
            let part = data
                .get(i * share..((i + 1) * share).min(data.len()))
                .unwrap_or(&[]);
            // The device takes its time (when the instance says how fast it is).
            paced(&pace, written, part.len() as u64, &|done| {
                self.set_percent(session, done as f64 * 100.0 / total.max(1) as f64)
            });
            match d {
                Device::Disk(path) => {
                    let existing = if o.format || o.init {
                        None
                    } else {
                        std::fs::read(path).ok()
                    };
                    let bytes = match existing {
                        Some(old) => {
                            let sets = media::read_sets(&old).map_err(|e| err(3241, format!("The media family on device '{path}' is incorrectly formed. SQL Server cannot process this media family. ({})", e.0)))?;
                            let mut b = old;
                            b.extend(media::backup_set(&info, sets.len() as u32 + 1, part));
                            b
                        }
                        None => {
                            let mut b = media::media_header(&info);
                            b.extend(media::backup_set(&info, 1, part));
                            b
                        }
                    };
                    device::write_file(path, &bytes).map_err(|e| Self::open_error(d, e))?;
                }
                Device::Url(url) => {
                    let sas = self.sas_for(url).map_err(|e| Self::open_error(d, e))?;
                    if !o.format
                        && device::blob_exists(url, &sas).map_err(|e| Self::open_error(d, e))?
                    {
                        return Err(err(
                            3271,
                            format!(
                                "A nonrecoverable I/O error occurred on file \"{url}:\" The file {url} exists on the remote endpoint, and WITH FORMAT was not specified. Backup cannot proceed."
                            ),
                        ));
                    }
                    let mut bytes = media::media_header(&info);
                    bytes.extend(media::backup_set(&info, 1, part));
                    device::put_blob(url, &sas, &bytes, BLOB_BLOCK)
                        .map_err(|e| Self::open_error(d, e))?;
                }
            }
            written += part.len() as u64;
        }
        // Written: the log chain moves on only now.
        advance.apply(
            self.backup
                .logs
                .lock()
                .unwrap()
                .entry(key(&db))
                .or_default(),
        );
        if log && o.norecovery {
            // The tail of the log: the database is left RESTORING, as for a log-shipping role switch.
            self.take_offline_restoring(&db, &info, image)?;
        } else if log && o.standby.is_some() {
            // The tail, and the database left read-only, in STANDBY, as it was at the tail.
            self.make_standby(&db, &image)?;
        }
        self.record_backup(&info, devices, data.len() as u64)?;
        let pages = payload.pages();
        let what = if log { "BACKUP LOG" } else { "BACKUP DATABASE" };
        Ok(vec![
            Outcome::Info(errors::error(
                4035,
                0,
                1,
                format!("Processed {pages} pages for database '{db}', file '{db}' on file 1."),
            )),
            Outcome::Info(errors::error(
                3014,
                0,
                1,
                format!("{what} successfully processed {pages} pages."),
            )),
        ])
    }

    /// What this instance's version and edition refuse of a BACKUP, with the errors they give
    /// (`docs/fidelity.md`): COMPRESSION and backup to URL on Express and Web (the editions
    /// pages: "Backup compression … No" and "Hybrid backup to Azure (backup to URL) … No");
    /// URL devices before 2012 SP1 CU2; a URL backup without WITH CREDENTIAL before 2016
    /// (block blobs with a SAS credential are 2016's); a page-blob backup striped or given
    /// BLOCKSIZE/MAXTRANSFERSIZE; a block-blob stripe past 50,000 blocks of MAXTRANSFERSIZE.
    fn refuse_unsupported(
        &self,
        db: &str,
        log: bool,
        devices: &[Device],
        o: &Options,
    ) -> Result<(), ServerMessage> {
        let edition = self.instance.edition.as_str();
        let (major, minor, build) = self.instance.version;
        let limited = edition.starts_with("Express") || edition.starts_with("Web");
        let what = if log { "BACKUP LOG" } else { "BACKUP DATABASE" };
        if o.compression && limited {
            return Err(err(
                1844,
                format!("{what} WITH COMPRESSION is not supported on {edition}."),
            ));
        }
        let urls: Vec<&str> = devices
            .iter()
            .filter_map(|d| match d {
                Device::Url(u) => Some(u.as_str()),
                Device::Disk(_) => None,
            })
            .collect();
        let Some(first_url) = urls.first() else {
            return Ok(());
        };
        if (major, minor, build) < (11, 0, 3339) {
            return Err(err(102, "Incorrect syntax near 'URL'."));
        }
        if limited {
            return Err(err(
                1844,
                format!("BACKUP TO URL is not supported on {edition}."),
            ));
        }
        if let Some(credential) = &o.credential {
            if urls.len() > 1 || o.block_size.is_some() || o.max_transfer_size.is_some() {
                return Err(err(
                    3013,
                    format!(
                        "{what} is terminating abnormally: a backup to a page blob (WITH CREDENTIAL = '{credential}') takes one URL and neither BLOCKSIZE nor MAXTRANSFERSIZE; striping and block sizes need a Shared Access Signature credential (block blobs)."
                    ),
                ));
            }
            return Err(err(
                3201,
                format!(
                    "Cannot open backup device '{first_url}'. sqlsim does not simulate page-blob backups (WITH CREDENTIAL)."
                ),
            ));
        }
        if major < 13 {
            return Err(err(
                3289,
                "A Backup device of type URL was specified without a Credential, Backup/Restore operation cannot proceed.",
            ));
        }
        if !log {
            // sqlsim's images are small: the stripe's size is the database's declared data size
            // (its files' allocation, stricter than the used pages a server backs up).
            let pages: i64 = self
                .conn
                .lock()
                .unwrap()
                .query_row(
                    "SELECT COALESCE(SUM(size), 0) FROM master.\"sys.master_files\" WHERE type_desc = 'ROWS' AND database_id = (SELECT database_id FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE)",
                    [db],
                    |r| r.get(0),
                )
                .map_err(|e| errors::from_sqlite(&e, 1, &[]))?;
            let stripe = pages as u64 * 8192 / urls.len() as u64;
            let limit = MAX_BLOCKS * o.max_transfer_size.unwrap_or(DEFAULT_MAX_TRANSFER);
            if stripe > limit {
                return Err(err(
                    3202,
                    format!(
                        "Write on \"{first_url}\" failed: 1117(The request could not be performed because of an I/O device error.)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The database's files, for the backup's file list.
    fn set_files(&self, db: &str) -> Result<Vec<SetFile>, ServerMessage> {
        let conn = self.conn.lock().unwrap();
        let mut stmt = conn
            .prepare("SELECT name, physical_name, type_desc, size * 8.0 / 1024 FROM master.\"sys.master_files\" WHERE database_id = (SELECT database_id FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE) ORDER BY file_id")
            .map_err(|e| errors::from_sqlite(&e, 1, &[]))?;
        let rows = stmt
            .query_map([db], |r| {
                Ok(SetFile {
                    logical_name: r.get(0)?,
                    physical_name: r.get(1)?,
                    type_desc: r.get(2)?,
                    size_mb: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| errors::from_sqlite(&e, 1, &[]))?;
        Ok(rows)
    }

    fn record_backup(
        &self,
        info: &SetInfo,
        devices: &[Device],
        size: u64,
    ) -> Result<(), ServerMessage> {
        let conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        let id = insert_backupset(&conn, info, size).map_err(sq)?;
        for (i, d) in devices.iter().enumerate() {
            let device_type = if matches!(d, Device::Url(_)) { 9 } else { 2 };
            conn.execute(
                "INSERT INTO msdb.\"dbo.backupmediafamily\" VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![id, i as i64 + 1, d.name(), device_type],
            )
            .map_err(sq)?;
        }
        conn.execute(
            "INSERT INTO msdb.\"dbo.backupmediaset\" (media_set_id, media_family_count, software_name, software_vendor_id, MTF_major_version, mirror_count, is_password_protected, is_compressed, is_encrypted) VALUES (?1, ?2, 'Microsoft SQL Server', 4608, 1, 1, 0, ?3, 0)",
            rusqlite::params![id, devices.len() as i64, info.compressed],
        )
        .map_err(sq)?;
        Ok(())
    }

    /// Puts `db` in STANDBY: read-only (writes fail with 3906), `is_in_standby` and
    /// `is_read_only` set, ONLINE.
    fn make_standby(&self, db: &str, image: &[u8]) -> Result<(), ServerMessage> {
        let mut conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        conn.execute_batch(&format!(
            "DETACH DATABASE {0}; ATTACH DATABASE ':memory:' AS {0}",
            sqlite_ident(db)
        ))
        .map_err(sq)?;
        conn.deserialize_read_exact(db, image, image.len(), true)
            .map_err(sq)?;
        conn.execute("UPDATE master.__sqlsim_databases SET is_read_only = 1, is_in_standby = 1 WHERE name = ?1 COLLATE NOCASE", [db]).map_err(sq)?;
        Ok(())
    }

    /// Takes `db` out of STANDBY: writable, `is_in_standby` and `is_read_only` cleared.
    fn leave_standby(&self, db: &str) -> Result<(), ServerMessage> {
        let mut conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        let image = conn.serialize(db).map_err(sq)?.to_vec();
        conn.execute_batch(&format!(
            "DETACH DATABASE {0}; ATTACH DATABASE ':memory:' AS {0}",
            sqlite_ident(db)
        ))
        .map_err(sq)?;
        conn.deserialize_read_exact(db, &image[..], image.len(), false)
            .map_err(sq)?;
        conn.execute("UPDATE master.__sqlsim_databases SET is_read_only = 0, is_in_standby = 0 WHERE name = ?1 COLLATE NOCASE", [db]).map_err(sq)?;
        Ok(())
    }

    /// True when `db` is in STANDBY (a tail taken WITH STANDBY).
    fn is_standby(&self, db: &str) -> bool {
        let conn = self.conn.lock().unwrap();
        conn.query_row(
            "SELECT is_in_standby FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE",
            [db],
            |r| r.get::<_, bool>(0),
        )
        .unwrap_or(false)
    }

    /// Detaches `db` and keeps it RESTORING at `info`'s last LSN.
    fn take_offline_restoring(
        &self,
        db: &str,
        info: &SetInfo,
        image: Vec<u8>,
    ) -> Result<(), ServerMessage> {
        {
            let conn = self.conn.lock().unwrap();
            let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
            conn.execute_batch(&format!("DETACH DATABASE {}", sqlite_ident(db)))
                .map_err(sq)?;
            conn.execute("UPDATE master.__sqlsim_databases SET state = 1, state_desc = 'RESTORING' WHERE name = ?1 COLLATE NOCASE", [db]).map_err(sq)?;
        }
        self.databases.lock().unwrap().retain(|d| d != db);
        let full_checkpoint = self
            .backup
            .logs
            .lock()
            .unwrap()
            .get(&key(db))
            .and_then(|l| l.full.as_ref().map(|f| f.0))
            .unwrap_or(0);
        self.backup.restoring.lock().unwrap().insert(
            key(db),
            Restoring {
                name: db.to_string(),
                image,
                point: info.last_lsn,
                full_checkpoint,
                info: info.clone(),
            },
        );
        Ok(())
    }

    /// Reads the chosen set from every device (stripes joined in family order).
    fn read_set(
        &self,
        session: &Session,
        devices: &[Device],
        o: &Options,
    ) -> Result<(SetInfo, Vec<u8>), ServerMessage> {
        let position = o.file.unwrap_or(1).max(1) as usize;
        let mut parts: Vec<(SetInfo, Vec<u8>)> = Vec::new();
        let pace = Pace::new(self.instance.backup_device_kb_per_s);
        let mut read = 0u64;
        for (i, d) in devices.iter().enumerate() {
            let bytes = self.read_device(d)?;
            // Reading is half the work: a stripe's share of the first 50 percent.
            let share = 50.0 / devices.len() as f64;
            let len = bytes.len() as u64;
            paced(&pace, read, len, &|done| {
                let within = (done - read) as f64 / len.max(1) as f64;
                self.set_percent(session, (i as f64 + within) * share)
            });
            read += len;
            let sets = media::read_sets(&bytes).map_err(|e| {
                err(3241, format!("The media family on device '{}' is incorrectly formed. SQL Server cannot process this media family. ({})", d.name(), e.0))
            })?;
            let Some(set) = sets.into_iter().nth(position - 1) else {
                return Err(err(
                    3206,
                    format!(
                        "No entry in sysdevices for backup device '{}'. Update sysdevices and rerun statement. (the media holds no backup set {position})",
                        d.name()
                    ),
                ));
            };
            parts.push((set.info, set.data));
        }
        let first = parts[0].0.clone();
        if parts
            .iter()
            .any(|(i, _)| i.media_set_id != first.media_set_id)
        {
            return Err(err(
                3231,
                "The media loaded on a device is formatted to support a different number of media families: the devices belong to different media sets.",
            ));
        }
        if parts.len() as u32 != first.family_count {
            return Err(err(
                3132,
                format!(
                    "The media set has {} media families but only {} are provided. All members must be provided.",
                    first.family_count,
                    parts.len()
                ),
            ));
        }
        parts.sort_by_key(|(i, _)| i.family_sequence);
        let data: Vec<u8> = parts.into_iter().flat_map(|(_, d)| d).collect();
        if data.len() as u64 != first.payload_len {
            return Err(err(
                3203,
                "Read on the backup device failed: the stripes do not add up to the backup set.",
            ));
        }
        Ok((first, data))
    }

    fn restore(
        &self,
        session: &Session,
        kind: RestoreKind,
        database: Option<&str>,
        devices: &[Device],
        o: &Options,
    ) -> Result<Vec<Outcome>, ServerMessage> {
        match kind {
            RestoreKind::HeaderOnly => return self.header_only(devices),
            RestoreKind::FileListOnly => {
                let (info, _) = self.read_set(session, devices, o)?;
                return Ok(vec![file_list(&info)]);
            }
            RestoreKind::VerifyOnly => {
                let (info, data) = self.read_set(session, devices, o)?;
                Payload::decode(&data)
                    .ok_or_else(|| err(3189, "Damage to the backup set was detected."))?;
                let _ = info;
                return Ok(vec![Outcome::Info(errors::error(
                    3262,
                    0,
                    1,
                    "The backup set on file 1 is valid.",
                ))]);
            }
            _ => {}
        }
        let target = database.expect("RESTORE DATABASE and LOG name one");
        if devices.is_empty() {
            return self.recover(target, o);
        }
        self.activity.request_database(session.id, target);
        let (info, data) = self.read_set(session, devices, o)?;
        let pages = self.apply_set(target, &info, &data, kind, o.replace, devices[0].name())?;
        if kind == RestoreKind::Database
            && let Some(e) = self.backup.fail_midway.lock().unwrap().take()
        {
            return Err(e);
        }
        self.set_percent(session, 100.0);
        self.record_restore(target, &info, o)?;
        let mut out = vec![Outcome::Info(errors::error(
            4035,
            0,
            1,
            format!(
                "Processed {pages} pages for database '{target}', file '{}' on file 1.",
                info.database
            ),
        ))];
        if !o.norecovery {
            out.extend(self.recover(target, o)?);
        }
        let what = if kind == RestoreKind::Log {
            "RESTORE LOG"
        } else {
            "RESTORE DATABASE"
        };
        out.push(Outcome::Info(errors::error(
            3014,
            0,
            1,
            format!("{what} successfully processed {pages} pages."),
        )));
        Ok(out)
    }

    /// Applies a backup set read from `device` to `target`: a full starts a RESTORING database
    /// (over an existing one only with `replace`, never on MI), a differential or log rolls it
    /// forward after the chain checks. Returns the pages applied.
    fn apply_set(
        &self,
        target: &str,
        info: &SetInfo,
        data: &[u8],
        kind: RestoreKind,
        replace: bool,
        device: &str,
    ) -> Result<usize, ServerMessage> {
        let payload = Payload::decode(data)
            .ok_or_else(|| err(3189, "Damage to the backup set was detected."))?;
        let pages = payload.pages();
        match (kind, info.kind) {
            (RestoreKind::Log, 'L') | (RestoreKind::Database, 'D' | 'I') => {}
            (RestoreKind::Log, _) => {
                return Err(err(
                    3135,
                    format!(
                        "The backup set in file '{}' was created by BACKUP DATABASE and cannot be used for this restore operation.",
                        device
                    ),
                ));
            }
            _ => {
                return Err(err(
                    3135,
                    format!(
                        "The backup set in file '{}' was created by BACKUP LOG and cannot be used for this restore operation.",
                        device
                    ),
                ));
            }
        }
        let mi = self.instance.platform == crate::instance::Platform::Mi;
        if info.kind == 'D' && mi {
            refuse_on_mi(info)?;
        }
        if info.kind == 'D' {
            if let Some(existing) = self.database(target) {
                if mi {
                    return Err(err(
                        1801,
                        format!(
                            "Database '{target}' already exists. Choose a different database name."
                        ),
                    ));
                }
                if !replace {
                    if existing.eq_ignore_ascii_case(&info.database) {
                        return Err(err(
                            3159,
                            format!(
                                "The tail of the log for the database \"{existing}\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just overwrite the contents of the log."
                            ),
                        ));
                    }
                    return Err(err(
                        3154,
                        format!(
                            "The backup set holds a backup of a database other than the existing '{existing}' database."
                        ),
                    ));
                }
                self.drop_online(&existing)?;
            }
            let mut image = Vec::new();
            payload.apply(&mut image);
            let name = self
                .backup
                .drop_restoring(target)
                .unwrap_or_else(|| target.to_string());
            self.forget_catalog(&name)?;
            let restoring = Restoring {
                name,
                image,
                point: info.last_lsn,
                full_checkpoint: info.checkpoint_lsn,
                info: info.clone(),
            };
            self.add_restoring_catalog(&restoring)?;
            self.backup
                .restoring
                .lock()
                .unwrap()
                .insert(key(target), restoring);
        } else {
            let mut all = self.backup.restoring.lock().unwrap();
            let Some(r) = all.get_mut(&key(target)) else {
                return Err(err(
                    3117,
                    "The log or differential backup cannot be restored because no files are ready to rollforward.",
                ));
            };
            if info.kind == 'I' {
                if info.database_backup_lsn != r.full_checkpoint {
                    return Err(err(
                        3136,
                        "This differential backup cannot be restored because the database has not been restored to the correct earlier state.",
                    ));
                }
            } else if info.first_lsn > r.point {
                return Err(err(
                    4305,
                    format!(
                        "The log in this backup set begins at LSN {}, which is too recent to apply to the database. An earlier log backup that includes LSN {} can be restored.",
                        info.first_lsn, r.point
                    ),
                ));
            } else if info.last_lsn <= r.point {
                return Err(err(
                    4326,
                    format!(
                        "The log in this backup set terminates at LSN {}, which is too early to apply to the database. A more recent log backup that includes LSN {} can be restored.",
                        info.last_lsn, r.point
                    ),
                ));
            }
            payload.apply(&mut r.image);
            r.point = info.last_lsn;
        }
        Ok(pages)
    }

    /// Log Replay Service: applies a backup set found in its folder (MI's own restore, which
    /// the T-SQL refusals of MI do not apply to).
    pub fn lrs_apply(
        &self,
        target: &str,
        info: &SetInfo,
        data: &[u8],
    ) -> Result<(), ServerMessage> {
        let kind = if info.kind == 'L' {
            RestoreKind::Log
        } else {
            RestoreKind::Database
        };
        self.apply_set(target, info, data, kind, false, "lrs")?;
        self.record_restore(
            target,
            info,
            &Options {
                norecovery: true,
                ..Options::default()
            },
        )
    }

    /// Log Replay Service: brings the database restored so far online.
    pub fn lrs_recover(&self, target: &str) -> Result<(), ServerMessage> {
        self.recover(target, &Options::default()).map(|_| ())
    }

    /// Where a database being restored stands: the last LSN restored.
    pub fn restoring_point(&self, target: &str) -> Option<u128> {
        self.backup
            .restoring
            .lock()
            .unwrap()
            .get(&key(target))
            .map(|r| r.point)
    }

    /// RESTORE … WITH RECOVERY: a restoring database comes online.
    fn recover(&self, target: &str, _o: &Options) -> Result<Vec<Outcome>, ServerMessage> {
        let Some(r) = self.backup.restoring.lock().unwrap().remove(&key(target)) else {
            if let Some(db) = self.database(target)
                && self.is_standby(&db)
            {
                // RESTORE … WITH RECOVERY brings a database out of STANDBY, writable again.
                return self.leave_standby(&db).map(|()| Vec::new());
            }
            if self.database(target).is_some() {
                return Err(err(3153, "The database is already fully recovered."));
            }
            return Err(errors::no_database(1, target));
        };
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        {
            let mut conn = self.conn.lock().unwrap();
            conn.execute_batch(&format!(
                "ATTACH DATABASE ':memory:' AS {}",
                sqlite_ident(&r.name)
            ))
            .map_err(sq)?;
            let image = if r.name.eq_ignore_ascii_case(&r.info.database) {
                r.image
            } else {
                renamed(&r.image, &r.info.database, &r.name).map_err(sq)?
            };
            let len = image.len();
            conn.deserialize_read_exact(r.name.as_str(), &image[..], len, false)
                .map_err(sq)?;
            super::catalog::upgrade(&conn, &r.name, self.instance.version.0).map_err(sq)?;
            conn.execute("UPDATE master.__sqlsim_databases SET state = 0, state_desc = 'ONLINE' WHERE name = ?1 COLLATE NOCASE", [&r.name]).map_err(sq)?;
        }
        self.databases.lock().unwrap().push(r.name.clone());
        let mut logs = self.backup.logs.lock().unwrap();
        // A recovered database starts a new log: a full backup begins its chain again.
        logs.insert(
            key(&r.name),
            DbLog {
                counter: counter_of(r.point) + 1,
                ..DbLog::default()
            },
        );
        Ok(Vec::new())
    }

    /// DROP of an online database a RESTORE … WITH REPLACE overwrites.
    fn drop_online(&self, db: &str) -> Result<(), ServerMessage> {
        let conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        conn.execute_batch(&format!("DETACH DATABASE {}", sqlite_ident(db)))
            .map_err(sq)?;
        super::catalog::drop_database(&conn, db).map_err(sq)?;
        drop(conn);
        self.databases.lock().unwrap().retain(|d| d != db);
        Ok(())
    }

    /// Removes a restoring database's master catalog rows (a full restore starts it again).
    fn forget_catalog(&self, db: &str) -> Result<(), ServerMessage> {
        let conn = self.conn.lock().unwrap();
        super::catalog::drop_database(&conn, db).map_err(|e| errors::from_sqlite(&e, 1, &[]))
    }

    /// sys.databases (state RESTORING) and sys.master_files rows for a database being restored.
    fn add_restoring_catalog(&self, r: &Restoring) -> Result<(), ServerMessage> {
        let conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        let options = crate::instance::DatabaseOptions {
            recovery_model: Some(r.info.recovery_model.clone()),
            ..Default::default()
        };
        super::catalog::add_database(
            &conn,
            &super::catalog::DatabaseRecord {
                name: &r.name,
                compatibility_level: r.info.compatibility_level,
                created: &r.info.database_created,
                owner: "sa",
                options: &options,
            },
        )
        .map_err(sq)?;
        let files: Vec<crate::instance::DatabaseFile> = r
            .info
            .files
            .iter()
            .map(|f| crate::instance::DatabaseFile {
                name: f.logical_name.clone(),
                type_desc: f.type_desc.clone(),
                physical_name: f.physical_name.clone(),
                size_mb: f.size_mb.ceil() as u64,
                growth: 64,
                is_percent_growth: false,
            })
            .collect();
        super::catalog::add_master_files(&conn, &r.name, &files).map_err(sq)?;
        conn.execute("UPDATE master.__sqlsim_databases SET state = 1, state_desc = 'RESTORING' WHERE name = ?1 COLLATE NOCASE", [&r.name]).map_err(sq)?;
        Ok(())
    }

    fn record_restore(
        &self,
        target: &str,
        info: &SetInfo,
        o: &Options,
    ) -> Result<(), ServerMessage> {
        let conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        // A restore records the set it restored in the restoring server's backupset, and its
        // history row points at it (restorehistory.backup_set_id references backupset).
        let set = insert_backupset(&conn, info, info.payload_len).map_err(sq)?;
        conn.execute(
            "INSERT INTO msdb.\"dbo.restorehistory\" (restore_history_id, restore_date, destination_database_name, user_name, backup_set_id, restore_type, replace, recovery, restart) \
             VALUES ((SELECT COALESCE(MAX(restore_history_id), 0) + 1 FROM msdb.\"dbo.restorehistory\"), datetime('now'), ?1, 'sa', ?2, ?3, ?4, ?5, 0)",
            rusqlite::params![target, set, if info.kind == 'L' { "L" } else { "D" }, o.replace, !o.norecovery],
        )
        .map_err(sq)?;
        Ok(())
    }

    /// RESTORE HEADERONLY: a row per backup set on the (first) device.
    fn header_only(&self, devices: &[Device]) -> Result<Vec<Outcome>, ServerMessage> {
        let d = &devices[0];
        let bytes = self.read_device(d)?;
        let sets = media::read_sets(&bytes).map_err(|e| {
            err(3241, format!("The media family on device '{}' is incorrectly formed. SQL Server cannot process this media family. ({})", d.name(), e.0))
        })?;
        let columns = vec![
            col("BackupName", ColumnType::NVarChar(Some(128)), true),
            col("BackupType", ColumnType::SmallInt, false),
            col("Compressed", ColumnType::Bit, false),
            col("Position", ColumnType::SmallInt, false),
            col("DeviceType", ColumnType::TinyInt, false),
            col("UserName", ColumnType::NVarChar(Some(128)), true),
            col("ServerName", ColumnType::NVarChar(Some(128)), false),
            col("DatabaseName", ColumnType::NVarChar(Some(128)), false),
            col("DatabaseVersion", ColumnType::Int, false),
            col("DatabaseCreationDate", ColumnType::DateTime, false),
            col(
                "BackupSize",
                ColumnType::Numeric {
                    precision: 20,
                    scale: 0,
                },
                false,
            ),
            col(
                "FirstLSN",
                ColumnType::Numeric {
                    precision: 25,
                    scale: 0,
                },
                false,
            ),
            col(
                "LastLSN",
                ColumnType::Numeric {
                    precision: 25,
                    scale: 0,
                },
                false,
            ),
            col(
                "CheckpointLSN",
                ColumnType::Numeric {
                    precision: 25,
                    scale: 0,
                },
                false,
            ),
            col(
                "DatabaseBackupLSN",
                ColumnType::Numeric {
                    precision: 25,
                    scale: 0,
                },
                false,
            ),
            col("BackupStartDate", ColumnType::DateTime, false),
            col("BackupFinishDate", ColumnType::DateTime, false),
            col("CompatibilityLevel", ColumnType::TinyInt, false),
            col("SoftwareVersionMajor", ColumnType::Int, false),
            col("SoftwareVersionMinor", ColumnType::Int, false),
            col("SoftwareVersionBuild", ColumnType::Int, false),
            col("HasBackupChecksums", ColumnType::Bit, false),
            col("IsCopyOnly", ColumnType::Bit, false),
            col("RecoveryModel", ColumnType::NVarChar(Some(60)), false),
            col(
                "BackupTypeDescription",
                ColumnType::NVarChar(Some(60)),
                false,
            ),
            col("FamilyCount", ColumnType::Int, false),
        ];
        let rows = sets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let f = &s.info;
                let (ty, desc) = match f.kind {
                    'D' => (1, "Database"),
                    'I' => (5, "Database Differential"),
                    _ => (2, "Transaction Log"),
                };
                vec![
                    f.name.clone().map_or(Value::Null, Value::Text),
                    Value::Integer(ty),
                    Value::Integer(i64::from(f.compressed)),
                    Value::Integer(i as i64 + 1),
                    Value::Integer(if matches!(d, Device::Url(_)) { 9 } else { 2 }),
                    Value::Text(f.user.clone()),
                    Value::Text(f.server.clone()),
                    Value::Text(f.database.clone()),
                    Value::Integer(i64::from(f.database_version)),
                    Value::Text(f.database_created.clone()),
                    Value::Text(f.payload_len.to_string()),
                    Value::Text(f.first_lsn.to_string()),
                    Value::Text(f.last_lsn.to_string()),
                    Value::Text(f.checkpoint_lsn.to_string()),
                    Value::Text(f.database_backup_lsn.to_string()),
                    Value::Text(f.started.clone()),
                    Value::Text(f.finished.clone()),
                    Value::Integer(i64::from(f.compatibility_level)),
                    Value::Integer(i64::from(f.version.0)),
                    Value::Integer(i64::from(f.version.1)),
                    Value::Integer(i64::from(f.version.2)),
                    Value::Integer(i64::from(f.checksum)),
                    Value::Integer(i64::from(f.copy_only)),
                    Value::Text(f.recovery_model.clone()),
                    Value::Text(desc.into()),
                    Value::Integer(i64::from(f.family_count)),
                ]
            })
            .collect();
        Ok(vec![Outcome::Rows { columns, rows }])
    }
}

/// The image of a database restored under a new name: sqlsim's catalog views name their own
/// database (`"Sales".__sqlsim_objects`), and SQLite lets an attached database's views name
/// only itself, so their text is rewritten to the new name.
fn renamed(image: &[u8], old: &str, new: &str) -> rusqlite::Result<Vec<u8>> {
    let mut scratch = rusqlite::Connection::open_in_memory()?;
    scratch.deserialize_read_exact("main", image, image.len(), false)?;
    let from = format!("{}.", sqlite_ident(old));
    let to = format!("{}.", sqlite_ident(new));
    scratch.execute_batch("PRAGMA writable_schema = ON")?;
    scratch.execute(
        "UPDATE sqlite_master SET sql = replace(sql, ?1, ?2) WHERE type IN ('view', 'trigger')",
        [&from, &to],
    )?;
    let version: i64 = scratch.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    scratch.execute_batch(&format!(
        "PRAGMA schema_version = {}; PRAGMA writable_schema = OFF",
        version + 1
    ))?;
    Ok(scratch.serialize("main")?.to_vec())
}

/// A backupset row for `info` (a backup taken here, or a set restored here); its id.
fn insert_backupset(
    conn: &rusqlite::Connection,
    info: &SetInfo,
    size: u64,
) -> rusqlite::Result<i64> {
    let id: i64 = conn.query_row(
        "SELECT COALESCE(MAX(backup_set_id), 0) + 1 FROM msdb.\"dbo.backupset\"",
        [],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO msdb.\"dbo.backupset\" VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        rusqlite::params![
            id,
            info.database,
            info.server,
            info.kind.to_string(),
            info.started.replace(' ', "T"),
            info.finished.replace(' ', "T"),
            size.to_string(),
            info.first_lsn.to_string(),
            info.last_lsn.to_string(),
            info.checkpoint_lsn.to_string(),
            info.database_backup_lsn.to_string(),
            info.copy_only,
            info.recovery_model,
            info.checksum
        ],
    )?;
    Ok(id)
}

fn col(name: &str, ty: ColumnType, nullable: bool) -> ColumnMeta {
    ColumnMeta {
        name: name.into(),
        ty,
        nullable,
    }
}

/// What Managed Instance does not restore (transact-sql-tsql-differences-sql-server.md, RESTORE
/// statement limitations): a database with FILESTREAM or FileTable data, or with more than one
/// log file. The page gives no error numbers: FILESTREAM is refused as a SQL Server with the
/// feature disabled refuses it (5591), the log files with 3013 and the double's own words.
fn refuse_on_mi(info: &SetInfo) -> Result<(), ServerMessage> {
    let of = |t: &str| {
        info.files
            .iter()
            .filter(|f| f.type_desc.eq_ignore_ascii_case(t))
            .count()
    };
    if of("FILESTREAM") > 0 {
        return Err(err(5591, "FILESTREAM feature is disabled."));
    }
    let logs = of("LOG");
    if logs > 1 {
        return Err(err(
            3013,
            format!(
                "RESTORE DATABASE is terminating abnormally. The database '{}' has {logs} log files; SQL Managed Instance restores a database with one log file only.",
                info.database
            ),
        ));
    }
    Ok(())
}

/// RESTORE FILELISTONLY's rows.
fn file_list(info: &SetInfo) -> Outcome {
    let columns = vec![
        col("LogicalName", ColumnType::NVarChar(Some(128)), false),
        col("PhysicalName", ColumnType::NVarChar(Some(260)), false),
        col("Type", ColumnType::Char(1), false),
        col("FileGroupName", ColumnType::NVarChar(Some(128)), true),
        col(
            "Size",
            ColumnType::Numeric {
                precision: 20,
                scale: 0,
            },
            false,
        ),
        col("FileId", ColumnType::BigInt, false),
    ];
    let rows = info
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let log = f.type_desc == "LOG";
            vec![
                Value::Text(f.logical_name.clone()),
                Value::Text(f.physical_name.clone()),
                Value::Text(if log { "L" } else { "D" }.into()),
                if log {
                    Value::Null
                } else {
                    Value::Text("PRIMARY".into())
                },
                Value::Text(((f.size_mb * 1024.0 * 1024.0) as u64).to_string()),
                Value::Integer(i as i64 + 1),
            ]
        })
        .collect();
    Outcome::Rows { columns, rows }
}

/// Each temporary folder a cloud's backup writes to gets a number of its own.
static TEMP_FOLDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Engine {
    /// A real BACKUP DATABASE of `database` striped over `stripes` files, `WITH` `options`, as
    /// `login`: the files' bytes, for a cloud's backup route to put where that cloud does (RDS's
    /// S3, Cloud SQL's Cloud Storage). An error is SQL Server's `Msg N: text`.
    pub fn backup_to_memory(
        &self,
        login: &str,
        database: &str,
        stripes: u64,
        options: &[&str],
    ) -> Result<Vec<Vec<u8>>, String> {
        let dir = std::env::temp_dir().join(format!(
            "sqlsim-cloud-backup-{}-{}",
            std::process::id(),
            TEMP_FOLDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let paths: Vec<std::path::PathBuf> = (1..=stripes.max(1))
            .map(|n| dir.join(format!("{n}.bak")))
            .collect();
        let devices = paths
            .iter()
            .map(|p| format!("DISK = N'{}'", p.display()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut session = Session::new(login, "master");
        let r = self.execute(
            &mut session,
            &format!(
                "BACKUP DATABASE [{}] TO {devices} WITH {}",
                database.replace(']', "]]"),
                options.join(", ")
            ),
            &[],
        );
        let result = match r.error {
            Some(e) => Err(format!("Msg {}: {}", e.number, e.text)),
            None => paths
                .iter()
                .map(|p| std::fs::read(p).map_err(|e| e.to_string()))
                .collect(),
        };
        let _ = std::fs::remove_dir_all(&dir);
        result
    }
}
