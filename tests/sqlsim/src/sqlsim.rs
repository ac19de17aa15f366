//! sqlsim: a SQL Server **test double**. It speaks TDS 7.4 to real clients (tiberius), runs
//! T-SQL on SQLite after rewriting it, and serves catalog views from an instance description.
//! It behaves like SQL Server where sqlmig depends on it and nowhere else; it is not a database.

pub mod browser;
pub mod cloudsql_api;
pub mod engine;
pub mod http_double;
pub mod instance;
pub mod lrs;
pub mod server;
pub mod tds;
pub mod tls;
