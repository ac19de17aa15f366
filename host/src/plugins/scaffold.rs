//! `sqlmig plugin new --kind KIND NAME`: a plugin crate that builds and passes its own tests as
//! written, for a rule pack, a source platform, a validator or a migration method (the
//! templates are the files in `scaffold/`). The plugin SDK (and the inventory types and
//! contract it uses) is written beside it under `sdk/`, from the copy embedded in this binary —
//! the sources as they are and the manifests derived from the real ones at build time — so the
//! crate needs nothing but Rust, the wasm32-wasip2 target and crates.io, not a checkout of sqlmig.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/sdk_sources.rs"));
include!(concat!(env!("OUT_DIR"), "/sdk_manifests.rs"));

/// Why a plugin could not be scaffolded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScaffoldError(pub String);

/// The kinds of plugin `plugin new` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// A rule pack for `sqlmig assess` (the `rules` world).
    Rules,
    /// A source platform for `sqlmig discover` (the `platform` world).
    Platform,
    /// A validator for `sqlmig validate --plugin` (the `validator` world).
    Validator,
    /// A migration method for `sqlmig migrate plan --method` (the `method` world).
    Method,
}

impl Template {
    /// The kind as manifests write it.
    pub fn kind(self) -> &'static str {
        match self {
            Template::Rules => "rules",
            Template::Platform => "platform",
            Template::Validator => "validator",
            Template::Method => "method",
        }
    }

    /// The manifest's description, hooks and capabilities.
    fn manifest(self, name: &str) -> String {
        let (description, rest) = match self {
            Template::Rules => (
                "House rules for Azure SQL Managed Instance migrations",
                "hooks = [\"describe\", \"assess\"]\n",
            ),
            Template::Platform => (
                "The servers of a source platform, for sqlmig discover",
                "hooks = [\"describe\", \"discover\", \"collect\"]\n\n\
                 [capabilities]\n\
                 # The instance `collect` snapshots: the host grants it for the server it connected to.\n\
                 sql = [\"instance\"]\n",
            ),
            Template::Validator => (
                "Source and target compared by row counts, for sqlmig validate",
                "hooks = [\"describe\", \"validate\"]\n\n\
                 [capabilities]\n\
                 # The two sides `sqlmig validate` connected to.\n\
                 sql = [\"source\", \"target\"]\n",
            ),
            Template::Method => (
                "Offline migration: COPY_ONLY full backup to URL, RESTORE FROM URL",
                "hooks = [\"describe\", \"plan\", \"run-step\"]\n\n\
                 [capabilities]\n\
                 # The migration's source and target: the host grants both when it runs the plan.\n\
                 sql = [\"source\", \"target\"]\n\n\
                 [limits]\n\
                 # A backup or a restore of a large database is one call: allow a day.\n\
                 timeout_secs = 86400\n",
            ),
        };
        format!(
            "name = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"{description}\"\n\
             api = \"^{api}\"\nkind = \"{kind}\"\n{rest}",
            api = sqlmig_protocol::CONTRACT_VERSION,
            kind = self.kind(),
        )
    }

    fn lib_rs(self, name: &str) -> String {
        let rule_prefix: String = name.to_ascii_uppercase().replace('-', "_");
        match self {
            Template::Rules => LIB_RULES
                .replace("{{RULE}}", &format!("{rule_prefix}_001"))
                .replace("{{NAME}}", name),
            Template::Platform => LIB_PLATFORM.replace("{{NAME}}", name),
            Template::Validator => LIB_VALIDATOR.replace("{{NAME}}", name),
            Template::Method => LIB_METHOD.replace("{{NAME}}", name),
        }
    }

    /// How a DBA runs what the plugin does, for its README.
    fn usage(self, name: &str) -> String {
        match self {
            Template::Rules => format!(
                "sqlmig assess --inventory inventory.json --rules rules-mi --rules {name}\n\
                 sqlmig rules test {name} --inventory fixture.json --expect expected.json   # offline checks"
            ),
            Template::Platform => {
                format!(
                    "sqlmig discover --platform {name} --server sql01 --user LOGIN --out inventory.json"
                )
            }
            Template::Validator => format!(
                "sqlmig validate --plugin {name} --source sql01 --target mi01.database.windows.net \
                 --source-user LOGIN --target-user LOGIN"
            ),
            Template::Method => format!(
                "sqlmig migrate plan --method {name} --inventory inventory.json --databases Sales \\\n  \
                 --target mi01.abc.database.windows.net --container-url https://ACCOUNT.blob.core.windows.net/migration --out plan.json\n\
                 sqlmig migrate run plan.json --source-user LOGIN --target-user LOGIN --secrets secrets.toml"
            ),
        }
    }
}

/// Writes a `template` plugin named `name` into `dir` (which must not exist or be empty) and
/// returns the files written.
pub fn new_plugin(
    dir: &Path,
    name: &str,
    template: Template,
) -> Result<Vec<PathBuf>, ScaffoldError> {
    check_name(name)?;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(ScaffoldError(format!(
            "{} exists and is not empty; choose a new folder (--dir) or name",
            dir.display()
        )));
    }
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), cargo_toml(name)),
        ("plugin.toml".into(), template.manifest(name)),
        ("src/lib.rs".into(), template.lib_rs(name)),
        (
            "README.md".into(),
            README
                .replace("{{NAME}}", name)
                .replace("{{KIND}}", template.kind())
                .replace("{{USAGE}}", &template.usage(name)),
        ),
        (".gitignore".into(), "/target\n".into()),
    ];
    for (path, text) in SDK_MANIFESTS.iter().chain(SDK_SOURCES) {
        files.push((format!("sdk/{path}"), text.to_string()));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| ScaffoldError(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| ScaffoldError(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

/// A plugin name: lower-case letters, digits and hyphens, starting with a letter (it becomes
/// the crate's and the component's name).
fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ScaffoldError(format!(
            "{name:?} is not a plugin name: use lower-case letters, digits and hyphens, starting with a letter (e.g. acme-rules)"
        )))
    }
}

fn cargo_toml(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
sqlmig-plugin-sdk = {{ path = "sdk/plugin-sdk" }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"

[profile.release]
opt-level = "s"
lto = true
strip = true

# Its own workspace, wherever the folder is.
[workspace]
"#
    )
}

const LIB_RULES: &str = include_str!("scaffold/rules.rs.txt");

const LIB_PLATFORM: &str = include_str!("scaffold/platform.rs.txt");

const LIB_VALIDATOR: &str = include_str!("scaffold/validator.rs.txt");

const LIB_METHOD: &str = include_str!("scaffold/method.rs.txt");

const README: &str = include_str!("scaffold/README.md.txt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_an_existing_folder_is_left_alone() {
        for bad in ["Acme", "1rules", "acme_rules", "acme-", ""] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let err = new_plugin(dir.path(), "acme-rules", Template::Rules).unwrap_err();
        assert!(err.0.contains("not empty"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn the_crate_carries_the_sdk_it_builds_against() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("acme-rules");
        let files = new_plugin(&target, "acme-rules", Template::Rules).unwrap();
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("sdk/plugin-sdk/src/plugin_sdk.rs"))
        );
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("sdk/protocol/src/model.rs"))
        );
        assert!(files.iter().any(|f| f.ends_with("sdk/wit/worlds.wit")));
        let lib = std::fs::read_to_string(target.join("src/lib.rs")).unwrap();
        assert!(lib.contains("\"ACME_RULES_001\""));
        let manifest = std::fs::read_to_string(target.join("plugin.toml")).unwrap();
        assert!(
            manifest.contains("name = \"acme-rules\"") && manifest.contains("kind = \"rules\"")
        );
    }

    /// The copied SDK's manifests are the real ones with the workspace's values filled in: no
    /// `workspace = true` left (a scaffolded crate has no workspace to inherit from), every real
    /// dependency kept.
    #[test]
    fn the_copied_manifests_are_the_real_ones_made_standalone() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert_eq!(SDK_MANIFESTS.len(), 3);
        for (path, copy) in SDK_MANIFESTS {
            assert!(!copy.contains("workspace"), "{path}: {copy}");
            let real: toml::Table =
                toml::from_str(&std::fs::read_to_string(root.join(path)).unwrap()).unwrap();
            let copy: toml::Table = toml::from_str(copy).unwrap();
            let deps = |t: &toml::Table| -> Vec<String> {
                t.get("dependencies")
                    .and_then(|d| d.as_table())
                    .map(|d| d.keys().cloned().collect())
                    .unwrap_or_default()
            };
            assert_eq!(deps(&real), deps(&copy), "{path}");
            assert!(copy.get("dev-dependencies").is_none(), "{path}");
        }
    }

    #[test]
    fn each_template_names_its_kind_and_world() {
        let m =
            crate::plugins::Manifest::parse(&Template::Platform.manifest("acme-cloud")).unwrap();
        assert_eq!(m.kind, crate::plugins::manifest::PluginKind::Platform);
        assert_eq!(m.check_world(crate::runtime::wit::World::Platform), Ok(()));
        let m = crate::plugins::Manifest::parse(&Template::Rules.manifest("acme-rules")).unwrap();
        assert_eq!(m.check_world(crate::runtime::wit::World::Rules), Ok(()));
        let m =
            crate::plugins::Manifest::parse(&Template::Validator.manifest("acme-counts")).unwrap();
        assert_eq!(m.check_world(crate::runtime::wit::World::Validator), Ok(()));
        let m = crate::plugins::Manifest::parse(&Template::Method.manifest("acme-move")).unwrap();
        assert_eq!(m.kind, crate::plugins::manifest::PluginKind::Method);
        assert_eq!(m.check_world(crate::runtime::wit::World::Method), Ok(()));
        assert_eq!(m.limits.timeout_secs, Some(86_400));
    }
}
