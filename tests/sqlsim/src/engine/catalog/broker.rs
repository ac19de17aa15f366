//! Service Broker routes (`sys.routes`): every database has AutoCreatedLocal; the description
//! adds routes to other instances.

use rusqlite::{Connection, params};

use super::q;
use crate::instance::Route;

/// Creates `sys.routes` in `db` with AutoCreatedLocal.
pub fn install(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.\"sys.routes\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, route_id INT PRIMARY KEY, principal_id INT,
             remote_service_name NVARCHAR(256), broker_instance NVARCHAR(128), lifetime DATETIME,
             address NVARCHAR(256) NOT NULL, mirror_address NVARCHAR(256));
         INSERT INTO {d}.\"sys.routes\" VALUES ('AutoCreatedLocal', 65536, 1, NULL, NULL, NULL, 'LOCAL', NULL);"
    ))
}

/// The description's routes.
pub fn add_routes(conn: &Connection, db: &str, routes: &[Route]) -> rusqlite::Result<()> {
    for (i, r) in routes.iter().enumerate() {
        conn.execute(
            &format!(
                "INSERT INTO {}.\"sys.routes\" VALUES (?1, ?2, 1, NULL, NULL, NULL, ?3, NULL)",
                q(db)
            ),
            params![r.name, 65537 + i as i64, r.address],
        )?;
    }
    Ok(())
}
