//! Migration: a method plugin plans the steps (`plan.json`), the host runs them in order —
//! databases in parallel, each step journaled in SQLite before and after so that a killed run
//! resumes without redoing finished work — and shows where a migration stands.

mod host_steps;
pub mod journal;
pub mod plan;
pub mod run;
pub mod upload;

pub use host_steps::HostContext;

/// What host-run steps work with.
pub fn host_context(
    sql: std::sync::Arc<dyn crate::capabilities::sql::SqlBackend>,
    cloud: Option<std::sync::Arc<crate::cloud::CloudHttp>>,
    container: Option<std::sync::Arc<crate::storage::azure_blob::AzureContainer>>,
    sas: crate::secret::Secret,
    journal: std::sync::Arc<std::sync::Mutex<journal::Journal>>,
    upload: upload::UploadOptions,
    progress: bool,
) -> HostContext {
    HostContext {
        sql,
        cloud,
        container,
        sas,
        journal,
        upload,
        progress,
    }
}
