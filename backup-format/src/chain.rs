//! Restore chains: which backups restore a database, in which order, and what is missing.
//!
//! The rules (`../shared/BACKUP_FORMAT.md`, and what RESTORE itself checks):
//! - a differential belongs to the full whose CheckpointLSN equals its DatabaseBackupLSN;
//! - a log backup can be restored when FirstLSN ≤ the point restored so far < its LastLSN
//!   (SQL Server refuses a later one with 4305 and an earlier one with 4326);
//! - files of one striped backup share every LSN and are restored together.

use crate::{BackupSet, BackupType, Lsn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One backup set, wherever it is: one file, or several stripes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The database backed up.
    pub database_name: String,
    /// The server it was taken on.
    pub server_name: String,
    /// Full, differential or log.
    pub backup_type: BackupType,
    /// First LSN in the set.
    pub first_lsn: Lsn,
    /// The LSN after the last one in the set.
    pub last_lsn: Lsn,
    /// The checkpoint the backup began from.
    pub checkpoint_lsn: Lsn,
    /// The checkpoint LSN of the full backup it depends on.
    pub database_backup_lsn: Lsn,
    /// When the backup began (server local time).
    pub backup_start_date: Option<String>,
    /// Taken COPY_ONLY.
    pub copy_only: bool,
    /// Where it is: a path (with `#n` for a set after the first in its file) per stripe.
    pub media: Vec<String>,
}

impl Backup {
    /// A backup set read from a file; `media` names the file (and position).
    pub fn from_set(set: &BackupSet, media: String) -> Backup {
        Backup {
            database_name: set.database_name.clone(),
            server_name: set.server_name.clone(),
            backup_type: set.backup_type,
            first_lsn: set.first_lsn,
            last_lsn: set.last_lsn,
            checkpoint_lsn: set.checkpoint_lsn,
            database_backup_lsn: set.database_backup_lsn,
            backup_start_date: set.backup_start_date.clone(),
            copy_only: set.copy_only,
            media: vec![media],
        }
    }

    fn same_set(&self, other: &Backup) -> bool {
        self.database_name == other.database_name
            && self.server_name == other.server_name
            && self.backup_type == other.backup_type
            && self.first_lsn == other.first_lsn
            && self.last_lsn == other.last_lsn
            && self.checkpoint_lsn == other.checkpoint_lsn
            && self.backup_start_date == other.backup_start_date
    }

    /// True when this log backup can be restored on a database restored up to `point`.
    pub fn log_applies_at(&self, point: Lsn) -> bool {
        self.backup_type == BackupType::Log && self.first_lsn <= point && point < self.last_lsn
    }
}

/// Merges the stripes of one backup set (equal database, server, type, LSNs and start) into one
/// backup with several media.
pub fn group_stripes(backups: Vec<Backup>) -> Vec<Backup> {
    let mut grouped: Vec<Backup> = Vec::new();
    for b in backups {
        match grouped.iter_mut().find(|g| g.same_set(&b)) {
            Some(g) => g.media.extend(b.media),
            None => grouped.push(b),
        }
    }
    for g in &mut grouped {
        g.media.sort();
    }
    grouped
}

/// Something that stops a database being restored up to its latest backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// No full backup: a restore must begin with one.
    NoFullBackup,
    /// No log backup covers these LSNs, so later logs cannot be applied.
    MissingLogs {
        /// The point restored so far: the first LSN missing.
        from_lsn: Lsn,
        /// The first LSN of the next log backup present.
        to_lsn: Lsn,
    },
    /// A differential newer than the chosen full whose own full is not among the backups.
    DifferentialWithoutFull {
        /// The differential's last LSN.
        last_lsn: Lsn,
        /// The checkpoint LSN of the full it needs.
        base_checkpoint_lsn: Lsn,
    },
}

impl Problem {
    /// What to tell the DBA.
    pub fn message(&self) -> String {
        match self {
            Problem::NoFullBackup => "no full backup: a restore has to start from one".into(),
            Problem::MissingLogs { from_lsn, to_lsn } => format!(
                "log backups are missing: nothing covers LSN {from_lsn} up to {to_lsn}, so the logs after it cannot be restored"
            ),
            Problem::DifferentialWithoutFull {
                last_lsn,
                base_checkpoint_lsn,
            } => format!(
                "the differential ending at LSN {last_lsn} needs the full backup with checkpoint LSN {base_checkpoint_lsn}, which is not here"
            ),
        }
    }
}

/// How one database is restored from the backups given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chain {
    /// The database.
    pub database_name: String,
    /// The restore sequence: the latest full, its latest usable differential, then log backups.
    pub restore: Vec<Backup>,
    /// The LSN the sequence restores up to.
    pub restores_to: Option<Lsn>,
    /// What is broken or missing.
    pub problems: Vec<Problem>,
    /// Backups of the database the sequence does not need (older fulls, superseded
    /// differentials, logs before the base).
    pub unused: usize,
}

/// The restore chain of every database among `backups`, by database name.
pub fn chains(backups: &[Backup]) -> Vec<Chain> {
    let mut by_db: BTreeMap<&str, Vec<&Backup>> = BTreeMap::new();
    for b in backups {
        by_db.entry(&b.database_name).or_default().push(b);
    }
    by_db
        .into_iter()
        .map(|(db, list)| chain_of(db, &list))
        .collect()
}

fn chain_of(db: &str, backups: &[&Backup]) -> Chain {
    let mut chain = Chain {
        database_name: db.to_string(),
        restore: Vec::new(),
        restores_to: None,
        problems: Vec::new(),
        unused: 0,
    };
    let full = backups
        .iter()
        .filter(|b| b.backup_type == BackupType::Full)
        .max_by(|a, b| (a.last_lsn, &a.backup_start_date).cmp(&(b.last_lsn, &b.backup_start_date)));
    let Some(full) = full else {
        chain.problems.push(Problem::NoFullBackup);
        chain.unused = backups.len();
        return chain;
    };
    let diffs: Vec<&Backup> = backups
        .iter()
        .copied()
        .filter(|b| b.backup_type == BackupType::Differential)
        .collect();
    for d in &diffs {
        let has_base = backups.iter().any(|f| {
            f.backup_type == BackupType::Full && f.checkpoint_lsn == d.database_backup_lsn
        });
        if !has_base && d.last_lsn > full.last_lsn {
            chain.problems.push(Problem::DifferentialWithoutFull {
                last_lsn: d.last_lsn,
                base_checkpoint_lsn: d.database_backup_lsn,
            });
        }
    }
    let diff = diffs
        .iter()
        .filter(|d| d.database_backup_lsn == full.checkpoint_lsn)
        .max_by_key(|d| d.last_lsn);
    let logs: Vec<&Backup> = backups
        .iter()
        .copied()
        .filter(|b| b.backup_type == BackupType::Log)
        .collect();

    // From the differential if there is one, else from the full; the full alone when logs reach
    // further from it (a differential taken inside a gap of the log chain).
    let from_full = follow_logs(full.last_lsn, &logs);
    let best = match diff {
        Some(d) => {
            let from_diff = follow_logs(d.last_lsn, &logs);
            if from_diff.1 >= from_full.1 {
                (Some(*d), from_diff)
            } else {
                (None, from_full)
            }
        }
        None => (None, from_full),
    };
    let (diff, (sequence, point)) = best;
    chain.restore.push((*full).clone());
    if let Some(d) = diff {
        chain.restore.push(d.clone());
    }
    chain.restore.extend(sequence.into_iter().cloned());
    chain.restores_to = Some(point);
    if let Some(next) = logs
        .iter()
        .filter(|l| l.first_lsn > point)
        .map(|l| l.first_lsn)
        .min()
    {
        chain.problems.push(Problem::MissingLogs {
            from_lsn: point,
            to_lsn: next,
        });
    }
    chain.unused = backups.len() - chain.restore.len();
    chain
}

/// Follows log backups from `point` while one applies; returns them and the point reached.
fn follow_logs<'a>(mut point: Lsn, logs: &[&'a Backup]) -> (Vec<&'a Backup>, Lsn) {
    let mut sequence = Vec::new();
    while let Some(next) = logs
        .iter()
        .filter(|l| l.log_applies_at(point))
        .max_by_key(|l| l.last_lsn)
    {
        sequence.push(*next);
        point = next.last_lsn;
    }
    (sequence, point)
}
