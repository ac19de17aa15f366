//! The parts of the inventory (`sqlmig.inventory/1`) these rules read. Fields the rules do not
//! use are ignored, so the inventory can grow without a new rule pack.

use serde::Deserialize;

/// The inventory document.
#[derive(Debug, Deserialize)]
pub struct Inventory {
    pub instances: Vec<Instance>,
}

/// One SQL Server instance.
#[derive(Debug, Deserialize)]
pub struct Instance {
    /// `HOST[\INSTANCE]`.
    pub name: String,
    #[serde(default)]
    pub databases: Vec<Database>,
}

/// One database, from sys.databases and sys.database_files.
#[derive(Debug, Deserialize)]
pub struct Database {
    pub name: String,
    /// sys.databases.database_id; 1–4 are master, tempdb, model and msdb.
    pub database_id: i64,
    /// sys.databases.compatibility_level.
    pub compatibility_level: u32,
    #[serde(default)]
    pub files: Vec<DatabaseFile>,
}

/// One file, from sys.database_files.
#[derive(Debug, Deserialize)]
pub struct DatabaseFile {
    /// Logical name.
    pub name: String,
    /// sys.database_files.type_desc: ROWS, LOG, FILESTREAM, FULLTEXT.
    pub type_desc: String,
}

impl Database {
    /// Whether it is a user database (not master, tempdb, model or msdb).
    pub fn is_user(&self) -> bool {
        self.database_id > 4
    }
}
