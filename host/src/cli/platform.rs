//! Platform plugins as commands use them: found by name (`aws-rds` or `platform-aws-rds`), and
//! loaded with their cloud access — what a bundled plugin's manifest asks, what the operator's
//! config grants an installed one (`cloud::cloud_access`) — plus what the command itself grants.

use std::path::Path;

use super::{Context, Failure};
use crate::capabilities::{CapabilitySet, Services};
use crate::cloud::{CloudAccess, cloud_access};
use crate::plugins::load_plugin;
use crate::plugins::store::{InstalledPlugin, PluginStore};
use crate::runtime::LoadedPlugin;

/// The installed or bundled platform plugin `name`, with or without its `platform-` prefix.
pub fn find(ctx: &Context, name: &str) -> Result<InstalledPlugin, Failure> {
    let store = PluginStore::new(ctx.paths.plugins_dir());
    store
        .find(name)
        .or_else(|e| store.find(&format!("platform-{name}")).map_err(|_| e))
        .map_err(|e| Failure::bad_input(e).hint("list platform plugins with `sqlmig plugin list`"))
}

/// A platform plugin loaded for a command: granted `granted` and its manifest's cloud access
/// (credentials and settings from `secrets`' `[cloud]` table or the environment).
pub struct LoadedPlatform {
    pub plugin: LoadedPlugin,
    /// The cloud values and HTTP backend its calls get.
    pub cloud: Services,
}

/// Loads `plugin` with `granted` plus its cloud access.
pub fn load(
    ctx: &Context,
    plugin: &InstalledPlugin,
    granted: CapabilitySet,
    secrets: Option<&Path>,
) -> Result<LoadedPlatform, Failure> {
    let config = ctx.config()?;
    let CloudAccess { grants, services } =
        cloud_access(plugin, &config, secrets).map_err(Failure::bad_input)?;
    let granted = CapabilitySet {
        credentials: grants.credentials,
        settings: grants.settings,
        http: granted.http.iter().cloned().chain(grants.http).collect(),
        ..granted
    };
    let runtime = ctx.runtime()?;
    let mut loaded =
        load_plugin(runtime, plugin, &config, &granted).map_err(|e| Failure::io(e.to_string()))?;
    loaded.attach_cloud(&services);
    Ok(LoadedPlatform {
        plugin: loaded,
        cloud: services,
    })
}

/// The inventory's platform name of a platform plugin: `aws-rds` for `platform-aws-rds`.
pub fn short_name(plugin: &str) -> String {
    plugin.trim_start_matches("platform-").to_string()
}
