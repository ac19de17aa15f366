//! The `state` capability: durable key-value state per plugin per run, kept in SQLite (the
//! migration journal's database in a migration).

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{CallContext, Capability, CapabilityError};

/// Largest value one key may hold.
const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// Key-value state, scoped by plugin.
#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, CapabilityError>;
    async fn set(&self, scope: &str, key: &str, value: Vec<u8>) -> Result<(), CapabilityError>;
    async fn delete(&self, scope: &str, key: &str) -> Result<(), CapabilityError>;
    async fn keys(&self, scope: &str, prefix: &str) -> Result<Vec<String>, CapabilityError>;
}

/// State in a SQLite database file (`plugin_state` table), durable across crashes.
pub struct SqliteStateStore {
    conn: Arc<Mutex<rusqlite::Connection>>,
}

fn db_err(e: impl std::fmt::Display) -> CapabilityError {
    CapabilityError::Unavailable(format!("plugin state database: {e}"))
}

impl SqliteStateStore {
    /// Opens (creating if needed) the state table in the database at `path`.
    pub fn open(path: &Path) -> Result<Self, CapabilityError> {
        let conn = crate::durable_sqlite::open(path).map_err(db_err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS plugin_state (
                 scope TEXT NOT NULL,
                 key   TEXT NOT NULL,
                 value BLOB NOT NULL,
                 PRIMARY KEY (scope, key)
             );",
        )
        .map_err(db_err)?;
        Ok(SqliteStateStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs blocking SQLite work off the async runtime's threads.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, CapabilityError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| db_err("lock poisoned"))?;
            f(&conn).map_err(db_err)
        })
        .await
        .map_err(db_err)?
    }
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn get(&self, scope: &str, key: &str) -> Result<Option<Vec<u8>>, CapabilityError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.with(move |c| {
            use rusqlite::OptionalExtension;
            c.query_row(
                "SELECT value FROM plugin_state WHERE scope = ?1 AND key = ?2",
                (&scope, &key),
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn set(&self, scope: &str, key: &str, value: Vec<u8>) -> Result<(), CapabilityError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.with(move |c| {
            c.execute(
                "INSERT INTO plugin_state (scope, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                (&scope, &key, &value),
            )
            .map(|_| ())
        })
        .await
    }

    async fn delete(&self, scope: &str, key: &str) -> Result<(), CapabilityError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.with(move |c| {
            c.execute(
                "DELETE FROM plugin_state WHERE scope = ?1 AND key = ?2",
                (&scope, &key),
            )
            .map(|_| ())
        })
        .await
    }

    async fn keys(&self, scope: &str, prefix: &str) -> Result<Vec<String>, CapabilityError> {
        let (scope, prefix) = (scope.to_owned(), prefix.to_owned());
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT key FROM plugin_state WHERE scope = ?1 AND substr(key, 1, length(?2)) = ?2
                 ORDER BY key",
            )?;
            let rows = stmt.query_map((&scope, &prefix), |r| r.get::<_, String>(0))?;
            rows.collect()
        })
        .await
    }
}

/// The command's state store, when the plugin asks for state and the operator granted it.
fn store(cx: &CallContext) -> Result<Arc<dyn StateStore>, CapabilityError> {
    cx.grants.check(Capability::State, "")?;
    cx.services
        .state
        .clone()
        .ok_or_else(|| CapabilityError::Unavailable("this command keeps no plugin state".into()))
}

/// The plugin's value for `key`.
pub async fn get(cx: &CallContext, key: &str) -> Result<Option<Vec<u8>>, CapabilityError> {
    store(cx)?.get(&cx.grants.plugin_name, key).await
}

/// Keeps `value` under `key`, refusing a value too large or a key or value holding a credential:
/// state lands in the migration journal, which must never hold one.
pub async fn set(cx: &CallContext, key: &str, value: Vec<u8>) -> Result<(), CapabilityError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(CapabilityError::LimitExceeded(format!(
            "state value for '{key}' is {} bytes; at most {MAX_VALUE_BYTES} are kept per key",
            value.len()
        )));
    }
    if let Some(cloud) = &cx.services.cloud
        && let Some(name) = cloud
            .found_in(key.as_bytes())
            .or_else(|| cloud.found_in(&value))
    {
        return Err(CapabilityError::InvalidInput(format!(
            "state for '{}' holds the credential {name}; state is kept in the journal, so \
             keep credentials out of its keys and values and read them again with \
             credentials.get",
            cloud.redact(key)
        )));
    }
    store(cx)?.set(&cx.grants.plugin_name, key, value).await
}

/// Forgets `key`.
pub async fn delete(cx: &CallContext, key: &str) -> Result<(), CapabilityError> {
    store(cx)?.delete(&cx.grants.plugin_name, key).await
}

/// The plugin's keys beginning with `prefix`.
pub async fn keys(cx: &CallContext, prefix: &str) -> Result<Vec<String>, CapabilityError> {
    store(cx)?.keys(&cx.grants.plugin_name, prefix).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn state_survives_reopen_and_is_scoped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        {
            let s = SqliteStateStore::open(&path).unwrap();
            s.set("a", "step/1", b"done".to_vec()).await.unwrap();
            s.set("a", "step/2", b"half".to_vec()).await.unwrap();
            s.set("b", "step/1", b"other".to_vec()).await.unwrap();
            s.delete("a", "step/2").await.unwrap();
        }
        let s = SqliteStateStore::open(&path).unwrap();
        assert_eq!(s.get("a", "step/1").await.unwrap(), Some(b"done".to_vec()));
        assert_eq!(s.get("a", "step/2").await.unwrap(), None);
        assert_eq!(
            s.keys("a", "step/").await.unwrap(),
            vec!["step/1".to_string()]
        );
        assert_eq!(s.keys("b", "").await.unwrap(), vec!["step/1".to_string()]);
    }
}
