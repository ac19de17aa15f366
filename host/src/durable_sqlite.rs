//! Opening a SQLite file that several sqlmig processes use at once and that must lose nothing:
//! the migration journal, which holds the plugins' state too. A `migrate run` writes it while a
//! `migrate status` or `migrate cutover` in another terminal reads and writes it.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

/// How long an open waits for another process's hold on the file before it fails.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// Opens (creating if needed) the database at `path` in WAL mode with every commit synced, and
/// waiting up to [`BUSY_WAIT`] for other processes' locks.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // Set before anything else touches the file: later statements wait for another process's
    // lock instead of failing on it.
    conn.busy_timeout(BUSY_WAIT)?;
    // SQLite answers "busy" here without calling the busy handler while another connection
    // switches a new file to WAL (seen in this module's callers' tests), recovers it or closes
    // it (sqlite.org/wal.html, "Sometimes Queries Return SQLITE_BUSY In WAL Mode"): those holds
    // are short, so wait them out.
    let deadline = Instant::now() + BUSY_WAIT;
    loop {
        // Every record reaches the disk before the step goes on: a crash loses nothing recorded.
        match conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            done => return done.map(|()| conn),
        }
    }
}
