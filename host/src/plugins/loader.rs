//! Loading a plugin for a run: the manifest's asks meet the operator's grants and maxima.

use crate::capabilities::{CapabilitySet, Grants};
use crate::config::Config;
use crate::runtime::{LoadedPlugin, PluginError, Runtime};

use super::store::InstalledPlugin;

/// Loads `plugin` with the grants the operator's config gives it plus `granted_by_command`
/// (what the command line itself grants, such as the endpoints it connected to), under limits
/// resolved against the operator's maxima.
pub fn load_plugin(
    runtime: &Runtime,
    plugin: &InstalledPlugin,
    config: &Config,
    granted_by_command: &CapabilitySet,
) -> Result<LoadedPlugin, PluginError> {
    let m = &plugin.manifest;
    let limits = m
        .limits
        .resolve(&config.limits)
        .map_err(|error| PluginError::LimitRefused {
            plugin: m.label(),
            error,
        })?;
    let mut granted = config.plugin(&m.name).grants;
    granted.sql.extend(granted_by_command.sql.iter().cloned());
    granted.blob.extend(granted_by_command.blob.iter().cloned());
    granted.http.extend(granted_by_command.http.iter().cloned());
    granted.net.extend(granted_by_command.net.iter().cloned());
    granted.fs.extend(granted_by_command.fs.iter().cloned());
    granted.state |= granted_by_command.state;
    granted
        .credentials
        .extend(granted_by_command.credentials.iter().cloned());
    granted
        .settings
        .extend(granted_by_command.settings.iter().cloned());
    let grants = Grants {
        plugin: m.label(),
        plugin_name: m.name.clone(),
        asked: m.capabilities.clone(),
        granted,
    };
    let wasm = plugin.wasm().map_err(|e| PluginError::InvalidComponent {
        plugin: m.label(),
        source_name: "plugin.wasm".into(),
        detail: e.to_string(),
    })?;
    let loaded = LoadedPlugin::load(runtime, &wasm, &m.label(), grants, limits)?;
    m.check_world(loaded.world)
        .map_err(|error| PluginError::NotItsKind {
            plugin: m.label(),
            error,
        })?;
    Ok(loaded)
}
