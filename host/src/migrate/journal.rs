//! The migration journal: a SQLite file beside the plan. Every step is recorded before it starts
//! and after it ends, with what it did; uploaded blocks are recorded as they are stored, so an
//! interrupted upload resumes without sending them again. Nothing secret is written here.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::durable_sqlite;

/// What can go wrong with a migration's journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Its database could not be read or written.
    #[error("journal {}: {source}", path.display())]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// Its lock file could not be opened or written.
    #[error("{}: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another run holds it.
    #[error(
        "another `sqlmig migrate run` (process {pid}) is running this plan's journal {}: wait for \
         it to end, or stop it first",
        journal.display()
    )]
    Busy { pid: String, journal: PathBuf },
    /// It was begun for another plan.
    #[error(
        "journal {} belongs to another plan (the plan file changed after the migration began); \
         keep the plan it was begun with, or start over with a new journal (--journal FILE)",
        path.display()
    )]
    OtherPlan { path: PathBuf },
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Not started.
    Pending,
    /// Started and not seen to end: running now, or interrupted.
    Running,
    /// Recorded as running, but no run holds the journal: cut short (never stored, only shown
    /// by `migrate status`).
    Interrupted,
    Done,
    Failed,
}

impl StepState {
    fn parse(s: &str) -> StepState {
        match s {
            "running" => StepState::Running,
            "done" => StepState::Done,
            "failed" => StepState::Failed,
            _ => StepState::Pending,
        }
    }

    /// The word the journal and `migrate status` use.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Interrupted => "interrupted",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }
}

/// One step's record.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub id: String,
    pub state: StepState,
    pub attempts: u32,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub message: Option<String>,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// A running `migrate run`'s hold on its journal: an exclusive lock on `<journal>.lock`, which the
/// operating system releases when the process ends, however it ends (a kill, a crash, a reboot).
/// A step recorded as running while nobody holds the lock was interrupted.
pub struct RunLock {
    _file: std::fs::File,
}

/// The lock file of the journal at `journal`.
fn lock_path(journal: &Path) -> PathBuf {
    let mut p = journal.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

impl RunLock {
    /// Takes the journal for this process; refused while another run holds it.
    pub fn acquire(journal: &Path) -> Result<RunLock, JournalError> {
        use std::io::Write;
        let path = lock_path(journal);
        let fail = |source: std::io::Error| JournalError::Lock {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(fail)?;
        // `migrate status` looks at the lock for an instant (`held`): a start in that instant
        // waits it out rather than taking it for another run.
        let mut tries = 0;
        let taken = loop {
            match file.try_lock() {
                Err(std::fs::TryLockError::WouldBlock) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other,
            }
        };
        match taken {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(JournalError::Busy {
                    pid: pid.trim().to_string(),
                    journal: journal.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        }
        file.set_len(0).map_err(fail)?;
        write!(file, "{}", std::process::id()).map_err(fail)?;
        Ok(RunLock { _file: file })
    }

    /// Whether a `migrate run` holds the journal at `journal` now (a shared lock taken and
    /// dropped at once: any number of lookers at the same time do not stop each other).
    pub fn held(journal: &Path) -> bool {
        let Ok(file) = std::fs::File::open(lock_path(journal)) else {
            return false;
        };
        matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        )
    }
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    pub path: PathBuf,
}

/// The journal's path for a plan file: `plan.json` → `plan.journal`.
pub fn path_for(plan: &Path) -> PathBuf {
    plan.with_extension("journal")
}

fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Journal {
    /// Opens (or creates) the journal at `path` for the plan whose SHA-256 is `plan_sha`; a
    /// journal begun for another plan is refused.
    pub fn open(path: &Path, plan_sha: &str) -> Result<Journal, JournalError> {
        let fail = |source: rusqlite::Error| JournalError::Database {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = durable_sqlite::open(path).map_err(fail)?;
        // Takes no write lock when the tables exist: a `migrate status` polling beside a run
        // never waits for the run's writes.
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS steps (
                 id TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                 started_at TEXT, finished_at TEXT, message TEXT, output TEXT, error TEXT);
             CREATE TABLE IF NOT EXISTS events (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, step TEXT NOT NULL,
                 event TEXT NOT NULL, detail TEXT);
             CREATE TABLE IF NOT EXISTS progress (
                 step TEXT PRIMARY KEY, at TEXT NOT NULL, message TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS blocks (
                 blob TEXT NOT NULL, block_id TEXT NOT NULL, size INTEGER NOT NULL,
                 md5 TEXT NOT NULL, PRIMARY KEY (blob, block_id));",
        )
        .map_err(fail)?;
        let recorded = |c: &Connection| {
            c.query_row(
                "SELECT value FROM meta WHERE key = 'plan_sha256'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
        };
        let sha = match recorded(&conn).map_err(fail)? {
            Some(sha) => sha,
            None => {
                // Claimed by one writer at a time: two processes opening a new journal at once
                // cannot both take it for unclaimed.
                let claim = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(fail)?;
                let sha = match recorded(&claim).map_err(fail)? {
                    Some(sha) => sha,
                    None => {
                        claim
                            .execute(
                                "INSERT INTO meta VALUES ('plan_sha256', ?1), ('created', ?2)",
                                params![plan_sha, now()],
                            )
                            .map_err(fail)?;
                        plan_sha.to_string()
                    }
                };
                claim.commit().map_err(fail)?;
                sha
            }
        };
        if sha != plan_sha {
            return Err(JournalError::OtherPlan {
                path: path.to_path_buf(),
            });
        }
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn fail(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Database {
            path: self.path.clone(),
            source,
        }
    }

    /// The step's record (pending when never started).
    pub fn step(&self, id: &str) -> Result<StepRecord, JournalError> {
        let rec = self
            .conn
            .query_row(
                "SELECT state, attempts, started_at, finished_at, message, output, error FROM steps WHERE id = ?1",
                [id],
                |r| {
                    Ok(StepRecord {
                        id: id.to_string(),
                        state: StepState::parse(&r.get::<_, String>(0)?),
                        attempts: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                        message: r.get(4)?,
                        output: r.get::<_, Option<String>>(5)?.and_then(|s| serde_json::from_str(&s).ok()),
                        error: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(rec.unwrap_or(StepRecord {
            id: id.to_string(),
            state: StepState::Pending,
            attempts: 0,
            started_at: None,
            finished_at: None,
            message: None,
            output: None,
            error: None,
        }))
    }

    fn event(&self, step: &str, event: &str, detail: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO events (at, step, event, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now(), step, event, detail],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Records that the step starts (another attempt); returns the attempt's number.
    pub fn begin(&self, id: &str) -> Result<u32, JournalError> {
        self.conn
            .execute(
                "INSERT INTO steps (id, state, attempts, started_at) VALUES (?1, 'running', 1, ?2)
                 ON CONFLICT (id) DO UPDATE SET state = 'running', attempts = attempts + 1,
                     started_at = excluded.started_at, finished_at = NULL, error = NULL",
                params![id, now()],
            )
            .map_err(|e| self.fail(e))?;
        let attempt = self.step(id)?.attempts;
        self.event(id, "begin", &format!("attempt {attempt}"))?;
        Ok(attempt)
    }

    /// Records that the step finished.
    pub fn finish(
        &self,
        id: &str,
        message: &str,
        output: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE steps SET state = 'done', finished_at = ?2, message = ?3, output = ?4, error = NULL WHERE id = ?1",
                params![id, now(), message, output.to_string()],
            )
            .map_err(|e| self.fail(e))?;
        self.event(id, "done", message)
    }

    /// Makes a step pending again (`migrate run --redo`): the next run runs it afresh.
    pub fn reset(&self, id: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE steps SET state = 'pending', finished_at = NULL, message = NULL, output = NULL, error = NULL WHERE id = ?1",
                [id],
            )
            .map_err(|e| self.fail(e))?;
        self.event(id, "reset", "to be run again (--redo)")
    }

    /// Records a round of a step that goes on (it handed back unfinished): its latest message.
    pub fn round(&self, id: &str, message: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE steps SET message = ?2 WHERE id = ?1",
                params![id, message],
            )
            .map_err(|e| self.fail(e))?;
        self.event(id, "round", message)
    }

    /// Sets a fact about the migration (`run_command`: how the last run was started).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// A fact about the migration, if set.
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Keeps a running step's latest progress report (a replication's lag), for `migrate status`.
    pub fn progress(&self, id: &str, message: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT INTO progress (step, at, message) VALUES (?1, ?2, ?3)
                 ON CONFLICT (step) DO UPDATE SET at = excluded.at, message = excluded.message",
                params![id, now(), message],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// A step's latest progress report and when it came, if it made one.
    pub fn last_progress(&self, id: &str) -> Result<Option<(String, String)>, JournalError> {
        self.conn
            .query_row(
                "SELECT at, message FROM progress WHERE step = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// How many rounds a step that handed back unfinished has run.
    pub fn rounds(&self, id: &str) -> Result<u32, JournalError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE step = ?1 AND event = 'round'",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Records that the step failed (for good, or before a retry when `retrying`).
    pub fn fail_step(&self, id: &str, error: &str, retrying: bool) -> Result<(), JournalError> {
        let state = if retrying { "running" } else { "failed" };
        self.conn
            .execute(
                "UPDATE steps SET state = ?2, finished_at = ?3, error = ?4 WHERE id = ?1",
                params![id, state, now(), error],
            )
            .map_err(|e| self.fail(e))?;
        self.event(id, if retrying { "retry" } else { "failed" }, error)
    }

    /// Every step recorded, by id.
    pub fn steps(&self) -> Result<Vec<StepRecord>, JournalError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM steps ORDER BY id")
                .map_err(|e| self.fail(e))?;
            stmt.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.fail(e))?
        };
        ids.iter().map(|id| self.step(id)).collect()
    }

    /// How many times each step began (to tell a test that nothing ran twice).
    pub fn begins(&self, id: &str) -> Result<u32, JournalError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE step = ?1 AND event = 'begin'",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// The blocks of `blob` already stored: id → (size, MD5).
    pub fn stored_blocks(&self, blob: &str) -> Result<Vec<(String, u64, String)>, JournalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT block_id, size, md5 FROM blocks WHERE blob = ?1")
            .map_err(|e| self.fail(e))?;
        stmt.query_map([blob], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.fail(e))
    }

    /// Records a block stored in the service.
    pub fn block_stored(
        &self,
        blob: &str,
        block_id: &str,
        size: u64,
        md5: &str,
    ) -> Result<(), JournalError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO blocks VALUES (?1, ?2, ?3, ?4)",
                params![blob, block_id, size, md5],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Forgets a blob's blocks (after its block list is committed).
    pub fn forget_blocks(&self, blob: &str) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM blocks WHERE blob = ?1", [blob])
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_holds_its_journal_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("plan.journal");
        assert!(!RunLock::held(&journal), "no run yet");
        let run = RunLock::acquire(&journal).unwrap();
        assert!(RunLock::held(&journal));
        let err = RunLock::acquire(&journal).err().unwrap();
        assert!(
            matches!(&err, JournalError::Busy { pid, .. } if *pid == std::process::id().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("wait for it to end"), "{err}");
        drop(run);
        assert!(!RunLock::held(&journal), "released when the run ends");
        RunLock::acquire(&journal).unwrap();
    }

    /// `migrate status` opens the journal, and the plugins' state in it, while the run it
    /// watches is creating them: several processes open a new file at once, and none may fail
    /// (CI saw "UNIQUE constraint failed: meta.key"; "database is locked" came next).
    #[test]
    fn a_journal_opened_by_several_processes_at_once_is_made_once() {
        for round in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("plan.journal");
            let start = std::sync::Arc::new(std::sync::Barrier::new(4));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let journal = Journal::open(&path, "abc").map_err(|e| e.to_string())?;
                        crate::capabilities::state::SqliteStateStore::open(&path)
                            .map_err(|e| e.to_string())?;
                        drop(journal);
                        Ok::<(), String>(())
                    })
                })
                .collect();
            for opener in openers {
                let opened = opener.join().unwrap();
                assert!(opened.is_ok(), "round {round}: {}", opened.unwrap_err());
            }
            let j = Journal::open(&path, "abc").unwrap();
            assert!(j.meta("created").unwrap().is_some());
        }
    }

    /// A run holds the journal's write lock through each record's fsync, which a loaded disk
    /// stretches: `migrate status` opening a journal already made must not need it.
    #[test]
    fn a_made_journal_opens_while_a_run_holds_its_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.journal");
        Journal::open(&path, "abc")
            .unwrap()
            .begin("Sales/backup")
            .unwrap();
        let run = crate::durable_sqlite::open(&path).unwrap();
        run.execute_batch("BEGIN IMMEDIATE; UPDATE steps SET message = 'writing';")
            .unwrap();
        let status = Journal::open(&path, "abc").unwrap();
        assert_eq!(
            status.step("Sales/backup").unwrap().state,
            StepState::Running
        );
        run.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn steps_are_recorded_before_and_after_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.journal");
        {
            let j = Journal::open(&path, "abc").unwrap();
            assert_eq!(j.step("Sales/backup").unwrap().state, StepState::Pending);
            assert_eq!(j.begin("Sales/backup").unwrap(), 1);
            // Killed here: the record says running.
        }
        let j = Journal::open(&path, "abc").unwrap();
        let rec = j.step("Sales/backup").unwrap();
        assert_eq!((rec.state, rec.attempts), (StepState::Running, 1));
        assert_eq!(j.begin("Sales/backup").unwrap(), 2);
        j.finish(
            "Sales/backup",
            "backed up",
            &serde_json::json!({"last_lsn": "1"}),
        )
        .unwrap();
        let rec = j.step("Sales/backup").unwrap();
        assert_eq!(rec.state, StepState::Done);
        assert_eq!(rec.output.unwrap()["last_lsn"], "1");
        assert_eq!(j.begins("Sales/backup").unwrap(), 2);
        j.block_stored("b", "0001", 10, "md5").unwrap();
        assert_eq!(j.stored_blocks("b").unwrap().len(), 1);
        // A round keeps the step running and shows its latest message; --redo makes it pending.
        j.begin("Sales/replicate").unwrap();
        j.round("Sales/replicate", "3 log backups shipped so far")
            .unwrap();
        let rec = j.step("Sales/replicate").unwrap();
        assert_eq!(rec.state, StepState::Running);
        assert_eq!(rec.message.as_deref(), Some("3 log backups shipped so far"));
        assert_eq!(j.rounds("Sales/replicate").unwrap(), 1);
        j.reset("Sales/backup").unwrap();
        let rec = j.step("Sales/backup").unwrap();
        assert_eq!((rec.state, rec.output), (StepState::Pending, None));
        // Another plan cannot use this journal.
        drop(j);
        let err = Journal::open(&path, "other").unwrap_err();
        assert!(matches!(err, JournalError::OtherPlan { .. }), "{err}");
        assert!(err.to_string().contains("another plan"), "{err}");
    }
}
