//! What an operation run for the operator works within: where sqlmig keeps its files, the
//! operator's configuration, and the process's one plugin runtime, made when a plugin is first
//! loaded. Plugins are found and loaded here, each checked to be the kind the operation runs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::capabilities::{CapabilitySet, Services};
use crate::cloud::{CloudAccess, cloud_access};
use crate::config::{Config, Paths};
use crate::failure::Failure;
use crate::plugins::load_plugin;
use crate::plugins::manifest::PluginKind;
use crate::plugins::store::{InstalledPlugin, PluginStore};
use crate::runtime::{HookCall, HookOutput, Limits, LoadedPlugin, Runtime};

/// The files, configuration and plugin runtime an operation works within.
pub struct Session {
    pub paths: Paths,
    /// The operator's sqlmig.toml (it need not exist).
    pub config_file: PathBuf,
    /// No progress or notes on stderr, errors only.
    pub quiet: bool,
    /// Made when an operation first loads a plugin, and shared after that: one per process.
    runtime: OnceLock<Runtime>,
    /// The configuration, read once: an operation loading several plugins reads it for each.
    config: OnceLock<Config>,
}

/// A platform plugin loaded for an operation, with the cloud values and HTTP backend its calls
/// get.
pub struct LoadedPlatform {
    pub plugin: LoadedPlugin,
    pub cloud: Services,
}

impl Session {
    /// A session over `paths`, reading the configuration from `config_file`.
    pub fn new(paths: Paths, config_file: PathBuf, quiet: bool) -> Session {
        Session {
            paths,
            config_file,
            quiet,
            runtime: OnceLock::new(),
            config: OnceLock::new(),
        }
    }

    /// The operator's configuration, read when first asked for; a malformed file is bad input.
    pub fn config(&self) -> Result<&Config, Failure> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let read = Config::load(&self.config_file).map_err(Failure::bad_input)?;
        Ok(self.config.get_or_init(|| read))
    }

    /// The process's plugin runtime (engine, linkers, compiled-component cache).
    pub fn runtime(&self) -> Result<&Runtime, Failure> {
        if let Some(r) = self.runtime.get() {
            return Ok(r);
        }
        let made = Runtime::new(Some(self.paths.component_cache()))
            .map_err(|e| Failure::io(format!("cannot start the plugin runtime: {e:#}")))?;
        Ok(self.runtime.get_or_init(|| made))
    }

    /// The installed and bundled plugins.
    pub fn store(&self) -> PluginStore {
        PluginStore::new(self.paths.plugins_dir())
    }

    /// Loads `plugin` granted `granted` (and what the configuration grants it).
    pub fn load(
        &self,
        plugin: &InstalledPlugin,
        granted: &CapabilitySet,
    ) -> Result<LoadedPlugin, Failure> {
        load_plugin(self.runtime()?, plugin, self.config()?, granted)
            .map_err(|e| Failure::io(e.to_string()))
    }

    /// The plugin `name`, which must be of `kind`; bad input naming both otherwise.
    pub fn plugin_of_kind(&self, name: &str, kind: PluginKind) -> Result<InstalledPlugin, Failure> {
        let plugin = self
            .store()
            .find(name)
            .map_err(|e| Failure::bad_input(e).hint(list_hint(&kind)))?;
        of_kind(plugin, name, kind)
    }

    /// The installed or bundled platform plugin `name`, with or without its `platform-` prefix.
    pub fn platform(&self, name: &str) -> Result<InstalledPlugin, Failure> {
        let store = self.store();
        let kind = PluginKind::Platform;
        let plugin = store
            .find(name)
            .or_else(|e| store.find(&format!("platform-{name}")).map_err(|_| e))
            .map_err(|e| Failure::bad_input(e).hint(list_hint(&kind)))?;
        of_kind(plugin, name, kind)
    }

    /// Loads the platform plugin `plugin` granted `granted` plus its cloud access: what a
    /// bundled plugin's manifest asks, what the configuration grants an installed one
    /// ([`cloud_access`]), with credentials and settings from `secrets`' `[cloud]` table or the
    /// environment.
    pub fn load_platform(
        &self,
        plugin: &InstalledPlugin,
        granted: CapabilitySet,
        secrets: Option<&Path>,
    ) -> Result<LoadedPlatform, Failure> {
        let CloudAccess { grants, services } =
            cloud_access(plugin, self.config()?, secrets).map_err(Failure::bad_input)?;
        let granted = CapabilitySet {
            credentials: grants.credentials,
            settings: grants.settings,
            http: granted.http.iter().cloned().chain(grants.http).collect(),
            ..granted
        };
        let mut loaded = self.load(plugin, &granted)?;
        loaded.attach_cloud(&services);
        Ok(LoadedPlatform {
            plugin: loaded,
            cloud: services,
        })
    }
}

/// `plugin` (asked for as `name`) when it is of `kind`; bad input naming both otherwise.
fn of_kind(
    plugin: InstalledPlugin,
    name: &str,
    kind: PluginKind,
) -> Result<InstalledPlugin, Failure> {
    if plugin.manifest.kind == kind {
        return Ok(plugin);
    }
    Err(Failure::bad_input(format!(
        "{name} is {}, not {}",
        plugin.manifest.kind.role(),
        kind.role()
    ))
    .hint(list_hint(&kind)))
}

fn list_hint(kind: &PluginKind) -> String {
    format!("list {} plugins with `sqlmig plugin list`", kind.as_str())
}

/// What a plugin says of itself (`describe`), and the limits its hooks run under.
pub struct Described {
    pub summary: String,
    pub limits: Limits,
}

impl Session {
    /// Starts `plugin` and asks it to describe itself: proves it loads and runs (in the sandbox,
    /// like every hook).
    pub async fn describe(&self, plugin: &InstalledPlugin) -> Result<Described, Failure> {
        let loaded = self.load(plugin, &CapabilitySet::default())?;
        let summary = match loaded
            .call(&Services::default(), HookCall::Describe)
            .await
            .map_err(|e| Failure::io(e.to_string()))?
        {
            HookOutput::Info(i) => i.summary,
            _ => String::new(),
        };
        Ok(Described {
            summary,
            limits: loaded.limits.clone(),
        })
    }
}

/// The inventory's platform name of a platform plugin: `aws-rds` for `platform-aws-rds`.
pub fn platform_short_name(plugin: &str) -> String {
    plugin.trim_start_matches("platform-").to_string()
}
