//! The operator's configuration (`sqlmig.toml`) and where sqlmig keeps its files.
//!
//! ```toml
//! [limits]                      # the most any plugin may ask for
//! memory_mib = 4096
//!
//! [folders]                     # read-only folders plugins may be granted, by name
//! backups = "/srv/sql-backups"
//!
//! [plugins.rules-acme]
//! grants = { sql = ["source"], fs = ["backups"], state = true }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capabilities::CapabilitySet;
use crate::runtime::limits::LimitMaxima;

/// The operator's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The most a plugin's manifest may ask for.
    pub limits: LimitMaxima,
    /// Folders by the name plugins use for them.
    pub folders: BTreeMap<String, PathBuf>,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginConfig>,
}

/// What the operator allows one plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginConfig {
    /// Capabilities granted (the plugin must also ask for them).
    pub grants: CapabilitySet,
}

/// A configuration file that could not be used; names the file and the place.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl Config {
    /// Reads the config at `path`; a missing file is the default configuration.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: path.display().to_string(),
                    message: format!("cannot read: {e}"),
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError {
            path: path.display().to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        for (name, plugin) in &config.plugins {
            if let Some(why) = plugin.grants.reserved_name_problem() {
                return Err(ConfigError {
                    path: path.display().to_string(),
                    message: format!("[plugins.{name}.grants] grants {why}"),
                });
            }
        }
        Ok(config)
    }

    /// The settings for plugin `name` (defaults when the config has none).
    pub fn plugin(&self, name: &str) -> PluginConfig {
        self.plugins.get(name).cloned().unwrap_or_default()
    }
}

/// Where sqlmig keeps its files: `SQLMIG_HOME` puts all of them under one folder, otherwise the
/// platform's data, cache and config folders (XDG on Linux).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// Installed plugins live in `data/plugins`.
    pub data: PathBuf,
    /// Compiled components live in `cache/components`.
    pub cache: PathBuf,
    /// `sqlmig.toml`.
    pub config_file: PathBuf,
}

impl Paths {
    /// The paths for this user and environment.
    pub fn from_env() -> Paths {
        if let Some(home) = std::env::var_os("SQLMIG_HOME").filter(|h| !h.is_empty()) {
            return Paths::under(Path::new(&home));
        }
        let fallback = || std::env::temp_dir().join("sqlmig");
        Paths {
            data: dirs::data_dir()
                .map(|d| d.join("sqlmig"))
                .unwrap_or_else(fallback),
            cache: dirs::cache_dir()
                .map(|d| d.join("sqlmig"))
                .unwrap_or_else(fallback),
            config_file: dirs::config_dir()
                .map(|d| d.join("sqlmig"))
                .unwrap_or_else(fallback)
                .join("sqlmig.toml"),
        }
    }

    /// Everything under one folder.
    pub fn under(home: &Path) -> Paths {
        Paths {
            data: home.join("data"),
            cache: home.join("cache"),
            config_file: home.join("sqlmig.toml"),
        }
    }

    /// The folder of installed plugins.
    pub fn plugins_dir(&self) -> PathBuf {
        self.data.join("plugins")
    }

    /// The folder of compiled components.
    pub fn component_cache(&self) -> PathBuf {
        self.cache.join("components")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_config_is_default_and_bad_config_names_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sqlmig.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "[plugins.x]\ngrants = { sql = \"source\" }\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("sqlmig.toml") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn grants_are_read_per_plugin() {
        let c: Config = toml::from_str(
            "[folders]\nbackups = \"/b\"\n[plugins.rules-acme]\ngrants = { sql = [\"source\"], state = true }\n",
        )
        .unwrap();
        assert_eq!(c.plugin("rules-acme").grants.sql, vec!["source"]);
        assert!(c.plugin("rules-acme").grants.state);
        assert!(c.plugin("other").grants.is_empty());
        assert_eq!(c.folders["backups"], PathBuf::from("/b"));
    }
}
