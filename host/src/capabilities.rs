//! What plugins may reach, one module per capability. A capability is usable only when the
//! plugin's manifest asks for it and the operator grants it (`grants`); each module holds what a
//! call of the capability does — its grant check, its limits, the backend trait the host implements
//! for real services — over a [`CallContext`]. Nothing here knows the contract's bindings or
//! wasmtime: the glue of each contract line (`runtime::wit::since_v0_1`, `since_v0_2`) turns a
//! plugin's call into a call of these modules.

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
use std::time::Instant;

pub use error::{CapabilityError, SqlErrorInfo};
pub use grants::{Capability, CapabilitySet, Grants};

/// What one hook call can reach: the plugin's grants, the services the command set up, the call's
/// deadline and how much memory the plugin may hold (what the host hands it must fit there).
pub struct CallContext {
    pub grants: Arc<Grants>,
    pub services: Services,
    pub deadline: Instant,
    pub memory_limit: usize,
}

impl CallContext {
    /// The plugin as messages name it (`name version`).
    pub fn plugin(&self) -> &str {
        &self.grants.plugin
    }

    /// The text a plugin hands on, as the host may show or keep it ([`credentials::plugin_text`]).
    pub fn plugin_text(&self, text: &str) -> String {
        credentials::plugin_text(self.services.cloud.as_deref(), text)
    }
}

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
