//! Talking to SQL Server: server names as DBAs write them, endpoints with their TLS settings,
//! TDS sessions through tiberius (the `sql` capability's real backend), and the probes discovery
//! uses (TDS PRELOGIN, SQL Server Browser).

pub mod backend;
pub mod batches;
pub mod browser;
pub mod endpoint;
pub mod params;
pub mod prelogin;
pub mod server_name;
pub mod source_target;
pub mod values;

pub use backend::TdsBackend;
pub use endpoint::{Encrypt, Endpoint};
pub use server_name::ServerName;

/// `[name]` with `]` doubled: an identifier T-SQL takes no parameter for (USE, CREATE
/// CREDENTIAL), safe whatever the name holds.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}
