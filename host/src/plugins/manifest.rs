//! `plugin.toml`: what a plugin is, which contract versions it works with, which hooks it
//! implements, what it asks for and the limits it needs.

use std::path::Path;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::capabilities::CapabilitySet;
use crate::runtime::instance::HOOKS;
use crate::runtime::limits::LimitAsks;
use crate::runtime::versions;

/// The file name of a plugin's manifest.
pub const MANIFEST_FILE: &str = "plugin.toml";
/// The file name of a plugin's component.
pub const COMPONENT_FILE: &str = "plugin.wasm";

/// A parsed and checked `plugin.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lowercase letters, digits and dashes: `rules-acme`.
    pub name: String,
    /// The plugin's own semver version.
    pub version: Version,
    /// One line saying what it does.
    #[serde(default)]
    pub description: String,
    /// The `sqlmig:plugin` versions it works with, e.g. `^0.1`.
    pub api: VersionReq,
    /// What the plugin is for; commands load only plugins of their kind.
    #[serde(default)]
    pub kind: PluginKind,
    /// The hooks it implements.
    pub hooks: Vec<String>,
    /// What it asks for.
    #[serde(default)]
    pub capabilities: CapabilitySet,
    /// The limits it needs, when more than the defaults.
    #[serde(default)]
    pub limits: LimitAsks,
}

/// A plugin's kind, as its manifest's `kind` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// Reads a source platform: discover, collect, and its own backup route (`platform-*`).
    Platform,
    /// Plans and runs migrations (`method-*`).
    Method,
    /// Assesses inventories (`rules-*`).
    Rules,
    /// Compares a migrated database with its source (`validate-*`).
    Validate,
    /// Another kind (tests' plugins), or none (empty): listed, loaded by no command above.
    #[serde(untagged)]
    Other(String),
}

impl Default for PluginKind {
    fn default() -> Self {
        PluginKind::Other(String::new())
    }
}

impl PluginKind {
    /// The kind as manifests write it (empty for none).
    pub fn as_str(&self) -> &str {
        match self {
            PluginKind::Platform => "platform",
            PluginKind::Method => "method",
            PluginKind::Rules => "rules",
            PluginKind::Validate => "validate",
            PluginKind::Other(s) => s,
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a manifest was refused: names the file and the place.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ManifestError {
    pub path: String,
    pub message: String,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let err = |message: String| ManifestError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        Manifest::parse(&text).map_err(err)
    }

    /// Parses and checks manifest text; the error says where and what to do.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = toml::from_str(text).map_err(|e| {
            let e = e.to_string();
            e.trim_end().replace('\n', "\n  ")
        })?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        let valid_name = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.name.starts_with('-');
        if !valid_name {
            return Err(format!(
                "name '{}' must be 1-64 lowercase letters, digits or dashes (e.g. rules-acme)",
                self.name
            ));
        }
        if !versions::requirement_supported(&self.api) {
            return Err(format!(
                "api = \"{}\" admits no contract version this sqlmig {} supports ({}); \
                 the plugin needs a different sqlmig",
                self.api,
                crate::HOST_VERSION,
                versions::supported_range()
            ));
        }
        if self.hooks.is_empty() {
            return Err(format!(
                "hooks is empty: list the hooks the plugin implements (any of {})",
                HOOKS.join(", ")
            ));
        }
        for h in &self.hooks {
            if !HOOKS.contains(&h.as_str()) {
                return Err(format!(
                    "hooks lists '{h}', which is not a hook (hooks: {})",
                    HOOKS.join(", ")
                ));
            }
        }
        if let Some(why) = self.capabilities.reserved_name_problem() {
            return Err(format!("[capabilities] asks for {why}"));
        }
        Ok(())
    }

    /// `name version`.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    /// Whether the manifest lists `hook`.
    pub fn has_hook(&self, hook: &str) -> bool {
        self.hooks.iter().any(|h| h == hook)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "rules-acme"
version = "1.2.0"
api = "^0.1"
hooks = ["assess"]
[capabilities]
sql = ["source"]
[limits]
memory_mib = 512
"#;

    #[test]
    fn a_good_manifest_parses() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.label(), "rules-acme 1.2.0");
        assert_eq!(m.capabilities.sql, vec!["source"]);
        assert_eq!(m.limits.memory_mib, Some(512));
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = Manifest::parse("name = \"x\"\nversion = 1.2.0\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_fields_and_hooks_are_refused() {
        let err = Manifest::parse(&GOOD.replace("hooks = [\"assess\"]", "hooks = [\"asses\"]"))
            .unwrap_err();
        assert!(err.contains("'asses'"), "{err}");
        let err = Manifest::parse(&format!("{GOOD}\n[extra]\nx = 1\n")).unwrap_err();
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn unsupported_api_range_names_both_sides() {
        let err = Manifest::parse(&GOOD.replace("^0.1", "^0.2")).unwrap_err();
        assert!(err.contains("^0.2") && err.contains("0.1.x"), "{err}");
    }

    #[test]
    fn bad_names_are_refused() {
        let err = Manifest::parse(&GOOD.replace("rules-acme", "../evil")).unwrap_err();
        assert!(err.contains("lowercase"), "{err}");
    }
}
