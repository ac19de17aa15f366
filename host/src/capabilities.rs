//! What plugins may reach, one module per capability. A capability is usable only when the
//! plugin's manifest asks for it and the operator grants it (`grants`); each module holds the
//! backend trait the host implements for real services and the glue to the contract's imports.

pub mod blob;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod fs;
pub mod grants;
pub mod http;
pub mod log;
pub mod net;
pub mod progress;
pub mod sql;
pub mod state;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::{CapabilityError, SqlErrorInfo};
pub use grants::{Capability, CapabilitySet, Grants};

/// The real services a command hands to the plugins it runs. A service left unset answers
/// `unavailable` naming what the command did not set up.
#[derive(Clone, Default)]
pub struct Services {
    /// SQL Server endpoints (`source`, `target`, …).
    pub sql: Option<Arc<dyn sql::SqlBackend>>,
    /// Blob containers.
    pub blob: Option<Arc<dyn blob::BlobBackend>>,
    /// Outbound HTTP, after the allow-list check.
    pub http: Option<Arc<dyn http::HttpBackend>>,
    /// Network probes, after the address check.
    pub net: Option<Arc<dyn net::NetBackend>>,
    /// Durable plugin state (the migration journal).
    pub state: Option<Arc<dyn state::StateStore>>,
    /// Where progress reports go.
    pub progress: Option<Arc<dyn progress::ProgressSink>>,
    /// Read-only folders by the name plugins use for them.
    pub folders: BTreeMap<String, PathBuf>,
    /// Cloud credentials and settings for the plugin the command runs.
    pub cloud: Option<Arc<credentials::CloudValues>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("sql", &self.sql.is_some())
            .field("blob", &self.blob.is_some())
            .field("http", &self.http.is_some())
            .field("net", &self.net.is_some())
            .field("state", &self.state.is_some())
            .field("folders", &self.folders)
            .field("cloud", &self.cloud.is_some())
            .finish()
    }
}
