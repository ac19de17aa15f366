//! `plugin.toml`: what a plugin is, which contract versions it works with, which hooks it
//! implements, what it asks for and the limits it needs.

use std::path::Path;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::capabilities::CapabilitySet;
use crate::runtime::instance::HOOKS;
use crate::runtime::limits::LimitAsks;
use crate::runtime::versions;
use crate::runtime::wit::World;

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

/// Why a component does not fit its manifest.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WorldMismatch {
    #[error(
        "kind = \"{}\", but the component was built for the {} world; set kind = \"{}\" or build \
         it with the SDK's export macro for a {} plugin",
        manifest.as_str(),
        world.name(),
        world.kind().map(|k| k.as_str().to_string()).unwrap_or_default(),
        manifest.as_str()
    )]
    Kind { manifest: PluginKind, world: World },
    #[error(
        "hooks lists '{hook}', which the {} world has not (it has {})",
        world.name(),
        world.hooks().join(", ")
    )]
    Hook { hook: String, world: World },
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
    #[serde(alias = "validator")]
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

    /// What a plugin of this kind is, as messages name it ("a migration method").
    pub fn role(&self) -> String {
        match self {
            PluginKind::Platform => "a platform plugin".into(),
            PluginKind::Method => "a migration method".into(),
            PluginKind::Rules => "a rule pack".into(),
            PluginKind::Validate => "a validation plugin".into(),
            PluginKind::Other(s) if s.is_empty() => "a plugin of no kind".into(),
            PluginKind::Other(s) => format!("a {s} plugin"),
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a manifest's text.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestProblem {
    /// Not TOML, or not a manifest's fields (toml's message, with the line).
    #[error("{0}")]
    Syntax(String),
    #[error("name '{0}' must be 1-64 lowercase letters, digits or dashes (e.g. rules-acme)")]
    Name(String),
    #[error(
        "api = \"{api}\" admits no contract version this sqlmig {host} supports ({supported}); \
         the plugin needs a different sqlmig",
        host = crate::HOST_VERSION,
        supported = versions::supported_range()
    )]
    Api { api: semver::VersionReq },
    #[error("hooks is empty: list the hooks the plugin implements (any of {})", HOOKS.join(", "))]
    NoHooks,
    #[error("hooks lists '{0}', which is not a hook (hooks: {hooks})", hooks = HOOKS.join(", "))]
    NotAHook(String),
    /// It asks for one of sqlmig's own secrets.
    #[error("[capabilities] asks for {0}")]
    Reserved(String),
}

/// Why a manifest was refused: names the file and the place.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{}: cannot read: {error}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    Refused {
        path: std::path::PathBuf,
        problem: ManifestProblem,
    },
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|error| ManifestError::Unreadable {
            path: path.to_path_buf(),
            error,
        })?;
        Manifest::parse(&text).map_err(|problem| ManifestError::Refused {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Parses and checks manifest text; the error says where and what to do.
    pub fn parse(text: &str) -> Result<Manifest, ManifestProblem> {
        let m: Manifest = toml::from_str(text).map_err(|e| {
            let e = e.to_string();
            ManifestProblem::Syntax(e.trim_end().replace('\n', "\n  "))
        })?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<(), ManifestProblem> {
        let valid_name = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !self.name.starts_with('-');
        if !valid_name {
            return Err(ManifestProblem::Name(self.name.clone()));
        }
        if !versions::requirement_supported(&self.api) {
            return Err(ManifestProblem::Api {
                api: self.api.clone(),
            });
        }
        if self.hooks.is_empty() {
            return Err(ManifestProblem::NoHooks);
        }
        if let Some(h) = self.hooks.iter().find(|h| !HOOKS.contains(&h.as_str())) {
            return Err(ManifestProblem::NotAHook(h.clone()));
        }
        if let Some(why) = self.capabilities.reserved_name_problem() {
            return Err(ManifestProblem::Reserved(why));
        }
        Ok(())
    }

    /// `name version`.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    /// Refuses a component built for another kind's world than the manifest's `kind` (0.2 on;
    /// 0.1's one world serves every kind), and a manifest listing a hook the world has not.
    pub fn check_world(&self, world: World) -> Result<(), WorldMismatch> {
        if let Some(kind) = world.kind()
            && kind != self.kind
        {
            return Err(WorldMismatch::Kind {
                manifest: self.kind.clone(),
                world,
            });
        }
        if let Some(h) = self
            .hooks
            .iter()
            .find(|h| !world.hooks().contains(&h.as_str()))
        {
            return Err(WorldMismatch::Hook {
                hook: h.clone(),
                world,
            });
        }
        Ok(())
    }

    /// Whether the plugin offers a backup route (`offer-backup`; a 0.1 platform's `plan`).
    pub fn offers_backup(&self) -> bool {
        self.has_hook("offer-backup")
            || (self.kind == PluginKind::Platform && self.has_hook("plan"))
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
        let err = Manifest::parse("name = \"x\"\nversion = 1.2.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_fields_and_hooks_are_refused() {
        let err = Manifest::parse(&GOOD.replace("hooks = [\"assess\"]", "hooks = [\"asses\"]"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'asses'"), "{err}");
        let err = Manifest::parse(&format!("{GOOD}\n[extra]\nx = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn unsupported_api_range_names_both_sides() {
        let err = Manifest::parse(&GOOD.replace("^0.1", "^0.3"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("^0.3") && err.contains("0.2.x") && err.contains("0.1.x"),
            "{err}"
        );
    }

    #[test]
    fn a_component_must_be_of_the_manifests_kind_and_have_its_hooks() {
        let m = Manifest::parse(&format!("kind = \"rules\"\n{GOOD}")).unwrap();
        assert_eq!(m.check_world(World::Rules), Ok(()));
        // 0.1's one world serves every kind.
        assert_eq!(m.check_world(World::Plugin0_1), Ok(()));
        let err = m.check_world(World::Method).unwrap_err().to_string();
        assert!(
            err.contains("kind = \"rules\", but the component was built for the method world"),
            "{err}"
        );
        // `validator` is the world's word for the `validate` kind.
        let m = Manifest::parse(&format!("kind = \"validator\"\n{GOOD}")).unwrap();
        assert_eq!(m.kind, PluginKind::Validate);
        let err = m.check_world(World::Validator).unwrap_err().to_string();
        assert!(
            err.contains("hooks lists 'assess', which the validator world has not"),
            "{err}"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        let err = Manifest::parse(&GOOD.replace("rules-acme", "../evil"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lowercase"), "{err}");
    }
}
