//! `sqlmig plugin new --kind rules NAME`: a rules-plugin crate that builds and passes its own
//! test as written. The plugin SDK (and the inventory types and contract it uses) is written
//! beside it under `sdk/`, from the copy embedded in this binary, so the crate needs nothing but
//! Rust, the wasm32-wasip2 target and crates.io — not a checkout of sqlmig.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/sdk_sources.rs"));

/// Why a plugin could not be scaffolded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScaffoldError(pub String);

/// The crates' dependency versions, as sqlmig's workspace pins them.
const WIT_BINDGEN: &str = "0.61";

/// Writes a rules plugin named `name` into `dir` (which must not exist or be empty) and returns
/// the files written.
pub fn new_rules_plugin(dir: &Path, name: &str) -> Result<Vec<PathBuf>, ScaffoldError> {
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
    let rule_prefix: String = name.to_ascii_uppercase().replace('-', "_");
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), cargo_toml(name)),
        ("plugin.toml".into(), plugin_toml(name)),
        (
            "src/lib.rs".into(),
            LIB_RS
                .replace("{{RULE}}", &format!("{rule_prefix}_001"))
                .replace("{{NAME}}", name),
        ),
        ("README.md".into(), README.replace("{{NAME}}", name)),
        (".gitignore".into(), "/target\n".into()),
        (
            "sdk/plugin-sdk/Cargo.toml".into(),
            SDK_CARGO.replace("{{WIT_BINDGEN}}", WIT_BINDGEN),
        ),
        ("sdk/inventory/Cargo.toml".into(), INVENTORY_CARGO.into()),
        (
            "sdk/backup-format/Cargo.toml".into(),
            BACKUP_FORMAT_CARGO.into(),
        ),
    ];
    for (path, text) in SDK_SOURCES {
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

fn plugin_toml(name: &str) -> String {
    format!(
        r#"name = "{name}"
version = "0.1.0"
description = "House rules for Azure SQL Managed Instance migrations"
api = "^0.1"
kind = "rules"
hooks = ["describe", "assess"]
"#
    )
}

const SDK_CARGO: &str = r#"[package]
name = "sqlmig-plugin-sdk"
description = "Write sqlmig plugins (the copy sqlmig plugin new wrote; do not edit)"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
path = "src/plugin_sdk.rs"

[dependencies]
wit-bindgen = "{{WIT_BINDGEN}}"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
sqlmig-inventory = { path = "../inventory" }
sqlmig-backup-format = { path = "../backup-format" }
serde_path_to_error = "0.1"
sha2 = "0.10"
hex = "0.4"
"#;

const BACKUP_FORMAT_CARGO: &str = r#"[package]
name = "sqlmig-backup-format"
description = "Reads SQL Server backup headers (the copy sqlmig plugin new wrote; do not edit)"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
path = "src/backup_format.rs"

[dependencies]
serde = { version = "1", features = ["derive"] }
"#;

const INVENTORY_CARGO: &str = r#"[package]
name = "sqlmig-inventory"
description = "The sqlmig inventory types (the copy sqlmig plugin new wrote; do not edit)"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
path = "src/inventory.rs"

[features]
schema = []

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_path_to_error = "0.1"
"#;

const LIB_RS: &str = r##"//! {{NAME}}: house rules for sqlmig assess. Each rule reads the inventory (the same types
//! `sqlmig discover` writes, in `sqlmig_plugin_sdk::inventory`) and returns findings.

use sqlmig_plugin_sdk::inventory::{Database, Instance};
use sqlmig_plugin_sdk::{Error, Finding, FindingLevel, FindingScope, Plugin, export_plugin, parse_inventory};

struct Rules;

impl Plugin for Rules {
    fn summary() -> &'static str {
        "house rules for Azure SQL Managed Instance migrations"
    }

    fn assess(inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        let inv = parse_inventory(inventory)?;
        let mut findings = Vec::new();
        for inst in &inv.instances {
            for db in inst.databases.iter().filter(|d| d.is_user()) {
                simple_recovery(inst, db, &mut findings);
            }
        }
        Ok(findings)
    }
}

/// {{RULE}}: the online migration method replays log backups, which SIMPLE recovery does not
/// keep. Replace it with your own rules; add one function per rule.
fn simple_recovery(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    if db.recovery_model_desc.eq_ignore_ascii_case("SIMPLE") {
        out.push(Finding {
            rule_id: "{{RULE}}".into(),
            level: FindingLevel::Warning,
            scope: FindingScope::Database,
            instance: inst.name.clone(),
            database: Some(db.name.clone()),
            object: None,
            file: None,
            line: None,
            title: "Database in SIMPLE recovery".into(),
            message: format!("{} uses SIMPLE recovery", db.name),
            impact: "The online (log replay) migration needs log backups, which SIMPLE recovery does not keep.".into(),
            remediation: "ALTER DATABASE … SET RECOVERY FULL, then take a full backup.".into(),
            help_url: None,
        });
    }
}

export_plugin!(Rules);

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str = r#"{"schema": "sqlmig.inventory/1", "instances": [{"name": "SQL01", "databases": [
        {"name": "master", "database_id": 1, "compatibility_level": 150, "recovery_model_desc": "SIMPLE"},
        {"name": "Sales", "database_id": 5, "compatibility_level": 150, "recovery_model_desc": "SIMPLE"},
        {"name": "Books", "database_id": 6, "compatibility_level": 150, "recovery_model_desc": "FULL"}]}]}"#;

    #[test]
    fn simple_recovery_user_databases_are_found() {
        let findings = Rules::assess(INVENTORY, "{}").expect("the inventory parses");
        let found: Vec<_> = findings.iter().map(|f| (f.rule_id.as_str(), f.database.as_deref())).collect();
        assert_eq!(found, [("{{RULE}}", Some("Sales"))]);
    }
}
"##;

const README: &str = r#"# {{NAME}}

A rules plugin for sqlmig, written by `sqlmig plugin new --kind rules {{NAME}}`.

```
cargo test                                      # the rules' own tests, natively
rustup target add wasm32-wasip2                 # once
cargo build --release --target wasm32-wasip2    # the component
sqlmig plugin install .                         # finds target/wasm32-wasip2/release/*.wasm
sqlmig assess --inventory inventory.json --rules rules-mi --rules {{NAME}}
sqlmig rules test {{NAME}} --inventory fixture.json --expect expected.json   # offline checks
```

`src/lib.rs` holds the rules; `plugin.toml` the manifest (bump `version` when you change them:
installing a newer version replaces the older one). `sdk/` is the plugin SDK sqlmig wrote
beside it; `sqlmig plugin new` in a newer sqlmig writes a newer one.
"#;

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
        let err = new_rules_plugin(dir.path(), "acme-rules").unwrap_err();
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
        let files = new_rules_plugin(&target, "acme-rules").unwrap();
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("sdk/plugin-sdk/src/plugin_sdk.rs"))
        );
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("sdk/inventory/src/model.rs"))
        );
        assert!(files.iter().any(|f| f.ends_with("sdk/wit/hooks.wit")));
        let lib = std::fs::read_to_string(target.join("src/lib.rs")).unwrap();
        assert!(lib.contains("\"ACME_RULES_001\""));
        let manifest = std::fs::read_to_string(target.join("plugin.toml")).unwrap();
        assert!(
            manifest.contains("name = \"acme-rules\"") && manifest.contains("kind = \"rules\"")
        );
    }

    /// The copied SDK's manifests depend on what the real crates depend on (a dependency added
    /// to the SDK and not to its copy breaks every scaffolded plugin's build).
    #[test]
    fn the_copied_manifests_name_every_dependency_of_the_real_ones() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (path, copy) in [
            ("plugin-sdk/Cargo.toml", SDK_CARGO),
            ("inventory/Cargo.toml", INVENTORY_CARGO),
            ("backup-format/Cargo.toml", BACKUP_FORMAT_CARGO),
        ] {
            let real: toml::Table =
                toml::from_str(&std::fs::read_to_string(root.join(path)).unwrap()).unwrap();
            let copy: toml::Table = toml::from_str(copy).unwrap();
            let names = |t: &toml::Table| -> Vec<String> {
                // Optional ones serve features the copy does not build.
                t.get("dependencies")
                    .and_then(|d| d.as_table())
                    .map(|d| {
                        d.iter()
                            .filter(|(_, v)| {
                                v.get("optional").and_then(|o| o.as_bool()) != Some(true)
                            })
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let copied = names(&copy);
            for dep in names(&real) {
                assert!(
                    copied.contains(&dep),
                    "{dep} is missing from the copy of {path}"
                );
            }
        }
    }
}
