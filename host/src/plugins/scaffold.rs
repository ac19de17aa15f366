//! `sqlmig plugin new --kind KIND NAME`: a plugin crate that builds and passes its own test as
//! written, for a rule pack or a source platform. The plugin SDK (and the inventory types and
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
}

impl Template {
    /// The kind as manifests write it.
    pub fn kind(self) -> &'static str {
        match self {
            Template::Rules => "rules",
            Template::Platform => "platform",
            Template::Validator => "validator",
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
        };
        format!(
            "name = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"{description}\"\n\
             api = \"^{api}\"\nkind = \"{kind}\"\n{rest}",
            api = sqlmig_inventory::CONTRACT_VERSION,
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

const LIB_RULES: &str = r##"//! {{NAME}}: house rules for sqlmig assess. Each rule reads the inventory (the same types
//! `sqlmig discover` writes, in `sqlmig_plugin_sdk::inventory`) and returns findings.

use sqlmig_plugin_sdk::inventory::{Database, Instance};
use sqlmig_plugin_sdk::{Error, Finding, FindingLevel, FindingScope, Rules, export_rules, parse_inventory};

struct HouseRules;

impl Rules for HouseRules {
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

export_rules!(HouseRules);

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str = r#"{"schema": "sqlmig.inventory/1", "instances": [{"name": "SQL01", "databases": [
        {"name": "master", "database_id": 1, "compatibility_level": 150, "recovery_model_desc": "SIMPLE"},
        {"name": "Sales", "database_id": 5, "compatibility_level": 150, "recovery_model_desc": "SIMPLE"},
        {"name": "Books", "database_id": 6, "compatibility_level": 150, "recovery_model_desc": "FULL"}]}]}"#;

    #[test]
    fn simple_recovery_user_databases_are_found() {
        let findings = HouseRules::assess(INVENTORY, "{}").expect("the inventory parses");
        let found: Vec<_> = findings.iter().map(|f| (f.rule_id.as_str(), f.database.as_deref())).collect();
        assert_eq!(found, [("{{RULE}}", Some("Sales"))]);
    }
}
"##;

const LIB_PLATFORM: &str = r##"//! {{NAME}}: a source platform for sqlmig discover. `discover` answers the servers the operator
//! named (`sqlmig discover --platform {{NAME}} --server HOST`) as instances to collect: replace it
//! with your platform's own way of listing them (its API, asked for under `http` in plugin.toml).
//! `collect` snapshots one instance into the inventory through the `sql` capability, with the
//! SDK's collector (the same queries the on-premises platform runs).

use sqlmig_plugin_sdk::inventory::discovery::{
    DISCOVER_REQUEST, DiscoverRequest, DiscoverResponse, FoundInstance,
};
use sqlmig_plugin_sdk::inventory::{Address, Confidence};
use sqlmig_plugin_sdk::{Error, Platform, export_platform, invalid_input, parse_document};

struct Servers;

impl Platform for Servers {
    fn summary() -> &'static str {
        "the servers of a source platform"
    }

    fn discover(request: &str) -> Result<String, Error> {
        let request: DiscoverRequest = parse_document(request, "discover request")?;
        let found = found(&request)?;
        Ok(serde_json::to_string(&found).expect("a discover answer serializes"))
    }

    fn collect(request: &str) -> Result<String, Error> {
        sqlmig_plugin_sdk::collect::run(request)
    }
}

/// The instances of the platform: here, the servers the operator named, on SQL Server's default
/// port unless they name one.
fn found(request: &DiscoverRequest) -> Result<DiscoverResponse, Error> {
    if request.schema != DISCOVER_REQUEST {
        return Err(invalid_input(format!(
            "discover request schema {:?}; this plugin reads {DISCOVER_REQUEST:?}",
            request.schema
        )));
    }
    let instances = request
        .servers
        .iter()
        .map(|s| FoundInstance {
            name: match &s.instance {
                Some(instance) => format!("{}\\{instance}", s.host),
                None => s.host.clone(),
            },
            address: Address {
                host: s.host.clone(),
                port: s.port.unwrap_or(1433),
                instance: s.instance.clone(),
            },
            confidence: Confidence::Listed,
            ..Default::default()
        })
        .collect();
    Ok(DiscoverResponse { instances })
}

export_platform!(Servers);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_servers_are_found_as_instances() {
        let request: DiscoverRequest = serde_json::from_str(
            r#"{"schema": "sqlmig.discover-request/1", "timeout_ms": 1000,
                "servers": [{"host": "sql01", "instance": "SALES"}, {"host": "sql02", "port": 14330}]}"#,
        )
        .unwrap();
        let found = found(&request).unwrap();
        let names: Vec<(&str, u16)> = found
            .instances
            .iter()
            .map(|i| (i.name.as_str(), i.address.port))
            .collect();
        assert_eq!(names, [("sql01\\SALES", 1433), ("sql02", 14330)]);
    }

    #[test]
    fn another_request_schema_is_refused() {
        let request = DiscoverRequest {
            schema: "sqlmig.discover-request/9".into(),
            ..Default::default()
        };
        assert!(found(&request).is_err());
    }
}
"##;

const LIB_VALIDATOR: &str = r##"//! {{NAME}}: a validator for sqlmig validate that compares each table's row count on the source
//! and the target. `sqlmig validate --plugin {{NAME}}` asks it, in turn, for the databases of each
//! side, each database pair's tables, and each table's data. Equal counts do not prove equal rows:
//! add your own comparisons (checksums, business totals) in `table_counts`.

use sqlmig_plugin_sdk::inventory::migration::{SOURCE, TARGET};
use sqlmig_plugin_sdk::inventory::validation::{
    Action, Answer, DatabasePair, SchemaComparison, SchemaDifference, TableComparison, TableSpec,
    VALIDATE_REQUEST, VALIDATE_RESULT, ValidateRequest, ValidateResult,
};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{first_result, quote_name};
use sqlmig_plugin_sdk::{Error, Validator, export_validator, invalid_input, parse_document};

struct RowCounts;

impl Validator for RowCounts {
    fn summary() -> &'static str {
        "row counts compared table by table"
    }

    fn validate(request: &str) -> Result<String, Error> {
        let req: ValidateRequest = parse_document(request, "validation request")?;
        if req.schema != VALIDATE_REQUEST {
            return Err(invalid_input(format!(
                "validation request schema {:?}; this plugin reads {VALIDATE_REQUEST:?}",
                req.schema
            )));
        }
        let (source, target) = (sql::connect(SOURCE)?, sql::connect(TARGET)?);
        let answer = match req.action {
            Action::Databases => Answer::Databases {
                source: databases(&source)?,
                target: databases(&target)?,
            },
            Action::Schema { database } => Answer::Schema(compare_tables(
                &tables(&source, &database.source)?,
                &tables(&target, &database.target)?,
            )),
            Action::Table { database, table, .. } => {
                Answer::Table(table_counts(&source, &target, &database, &table)?)
            }
        };
        Ok(serde_json::to_string(&ValidateResult {
            schema: VALIDATE_RESULT.into(),
            answer,
        })
        .expect("a validation result serializes"))
    }
}

/// The online user databases.
fn databases(conn: &Connection) -> Result<Vec<String>, Error> {
    let rows = first_result(
        conn,
        "SELECT name FROM sys.databases WHERE database_id > 4 AND state_desc = 'ONLINE' ORDER BY name",
        &[],
    )?;
    rows.iter().map(|r| r.get::<String>("name")).collect()
}

/// The user tables of `database`, as (schema, name).
fn tables(conn: &Connection, database: &str) -> Result<Vec<(String, String)>, Error> {
    let db = quote_name(database);
    let rows = first_result(
        conn,
        &format!(
            "SELECT s.name AS schema_name, t.name AS table_name FROM {db}.sys.tables AS t \
             JOIN {db}.sys.schemas AS s ON s.schema_id = t.schema_id \
             WHERE t.is_ms_shipped = 0 ORDER BY s.name, t.name"
        ),
        &[],
    )?;
    rows.iter()
        .map(|r| Ok((r.get::<String>("schema_name")?, r.get::<String>("table_name")?)))
        .collect()
}

/// The tables of each side compared: one missing on either side is a difference; those on both
/// are handed back for their data to be compared.
fn compare_tables(source: &[(String, String)], target: &[(String, String)]) -> SchemaComparison {
    let label = |(schema, name): &(String, String)| format!("{schema}.{name}");
    let mut out = SchemaComparison::default();
    out.compared.insert("tables".into(), source.len() as u64);
    for t in source {
        if target.contains(t) {
            out.tables.push(TableSpec {
                schema: t.0.clone(),
                name: t.1.clone(),
                ..Default::default()
            });
        } else {
            out.differences.push(SchemaDifference {
                kind: "table".into(),
                object: label(t),
                what: "missing on the target".into(),
                source: Some(label(t)),
                target: None,
            });
        }
    }
    for t in target.iter().filter(|t| !source.contains(t)) {
        out.differences.push(SchemaDifference {
            kind: "table".into(),
            object: label(t),
            what: "only on the target".into(),
            source: None,
            target: Some(label(t)),
        });
    }
    out
}

/// One table's rows counted on each side.
fn table_counts(
    source: &Connection,
    target: &Connection,
    database: &DatabasePair,
    table: &TableSpec,
) -> Result<TableComparison, Error> {
    let count = |conn: &Connection, db: &str| -> Result<u64, Error> {
        let statement = format!(
            "SELECT COUNT_BIG(*) AS n FROM {}.{}.{}",
            quote_name(db),
            quote_name(&table.schema),
            quote_name(&table.name)
        );
        let rows = first_result(conn, &statement, &[])?;
        let n: i64 = rows
            .iter()
            .next()
            .ok_or_else(|| invalid_input("COUNT_BIG returned no row"))?
            .get("n")?;
        Ok(n as u64)
    };
    Ok(counted(
        table,
        count(source, &database.source)?,
        count(target, &database.target)?,
    ))
}

/// The comparison of `table` with `rows_source` and `rows_target` rows.
fn counted(table: &TableSpec, rows_source: u64, rows_target: u64) -> TableComparison {
    TableComparison {
        table: table.label(),
        method: "row counts".into(),
        rows_source,
        rows_target,
        equal: rows_source == rows_target,
        notes: vec!["equal counts do not prove equal rows".into()],
        queries: 2,
        ..Default::default()
    }
}

export_validator!(RowCounts);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(schema: &str, name: &str) -> (String, String) {
        (schema.into(), name.into())
    }

    #[test]
    fn tables_on_one_side_only_are_differences() {
        let c = compare_tables(
            &[t("dbo", "Orders"), t("dbo", "Customers")],
            &[t("dbo", "Orders"), t("audit", "Log")],
        );
        let tables: Vec<String> = c.tables.iter().map(|t| t.label()).collect();
        assert_eq!(tables, ["dbo.Orders"]);
        let differences: Vec<(&str, &str)> = c
            .differences
            .iter()
            .map(|d| (d.object.as_str(), d.what.as_str()))
            .collect();
        assert_eq!(
            differences,
            [("dbo.Customers", "missing on the target"), ("audit.Log", "only on the target")]
        );
    }

    #[test]
    fn counts_that_differ_are_not_equal() {
        let table = TableSpec {
            schema: "dbo".into(),
            name: "Orders".into(),
            ..Default::default()
        };
        assert!(counted(&table, 10, 10).equal);
        assert!(!counted(&table, 10, 9).equal);
    }
}
"##;

const README: &str = r#"# {{NAME}}

A {{KIND}} plugin for sqlmig, written by `sqlmig plugin new --kind {{KIND}} {{NAME}}`.

```
cargo test                                      # its own tests, natively
rustup target add wasm32-wasip2                 # once
cargo build --release --target wasm32-wasip2    # the component
sqlmig plugin install .                         # finds target/wasm32-wasip2/release/*.wasm
{{USAGE}}
```

`src/lib.rs` holds the plugin; `plugin.toml` the manifest (bump `version` when you change it:
installing a newer version replaces the older one). The plugin is built for the contract's
`{{KIND}}` world and may use only what that world gives and the manifest asks for. `sdk/` is the
plugin SDK sqlmig wrote beside it; `sqlmig plugin new` in a newer sqlmig writes a newer one.
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
                .any(|f| f.ends_with("sdk/inventory/src/model.rs"))
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
    }
}
