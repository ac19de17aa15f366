//! What an assessment reads, merged into one inventory: an inventory file's instances, those
//! collected from servers now, and script files as an instance of their own (`scripts`) — with
//! a label naming each source for the report.

use std::path::PathBuf;

use sqlmig_protocol::Inventory;

use super::scripts;
use crate::discover::LoginSettings;
use crate::discover::estate::{self, DiscoverOptions};
use crate::failure::Failure;
use crate::session::Session;

/// The sources an assessment was given.
#[derive(Default)]
pub struct Sources {
    /// An inventory file, read, with its path.
    pub inventory: Option<(PathBuf, Inventory)>,
    /// Servers to collect from now.
    pub collect: Option<DiscoverOptions>,
    /// Script files, folders or SSDT projects, read with `vars` (sqlcmd's :setvar).
    pub scripts: Vec<PathBuf>,
    pub vars: Vec<(String, String)>,
}

/// The sources merged.
pub struct Gathered {
    pub inventory: Inventory,
    /// "inventory.json + server SQL01 + scripts ./db", for the report.
    pub label: String,
    /// The login the servers were collected with, when they were.
    pub login: Option<LoginSettings>,
}

/// Reads and collects `sources` into one inventory; what was collected from servers is shown to
/// `keep` first (for the operator to save) before it joins the rest.
pub async fn gather(
    session: &Session,
    sources: Sources,
    keep: impl FnOnce(&Inventory) -> Result<(), Failure>,
) -> Result<Gathered, Failure> {
    let mut labels: Vec<String> = Vec::new();
    let mut inventory = match sources.inventory {
        Some((path, inventory)) => {
            labels.push(path.display().to_string());
            inventory
        }
        None => Inventory::new(),
    };
    let mut login = None;
    if let Some(discover) = &sources.collect {
        let (found, used) = estate::inventory(session, discover).await?;
        keep(&found)?;
        if inventory.generated_at.is_empty() {
            inventory.generated_at = found.generated_at;
            inventory.generated_by = found.generated_by;
        }
        inventory.instances.extend(found.instances);
        labels.extend(discover.servers.iter().map(|s| format!("server {s}")));
        login = Some(used);
    }
    if !sources.scripts.is_empty() {
        let vars: scripts::Vars = sources
            .vars
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect();
        let instance = scripts::read_all(&sources.scripts, &vars)
            .map_err(|e| Failure::bad_input(e.to_string()))?;
        if inventory
            .instances
            .iter()
            .any(|i| i.name == scripts::SCRIPTS_INSTANCE)
        {
            return Err(Failure::bad_input(format!(
                "the inventory already has an instance named {:?}, the name scripts are reported under",
                scripts::SCRIPTS_INSTANCE
            )));
        }
        inventory.instances.push(instance);
        labels.extend(
            sources
                .scripts
                .iter()
                .map(|p| format!("scripts {}", p.display())),
        );
    }
    Ok(Gathered {
        inventory,
        label: labels.join(" + "),
        login,
    })
}
