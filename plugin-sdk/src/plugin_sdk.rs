//! Write sqlmig plugins.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` against the `sqlmig:plugin`
//! contract (`wit/` in the sqlmig repository). This crate gives you the generated bindings, a
//! [`Plugin`] trait whose every hook has a default answering `unsupported`, the
//! [`export_plugin!`] macro, typed access to SQL rows, and log and progress helpers.
//!
//! # A complete rules plugin
//!
//! ```no_run
//! use sqlmig_plugin_sdk::{export_plugin, parse_document, Error, Finding, FindingLevel, FindingScope, Plugin};
//! use serde::Deserialize;
//!
//! /// House rule: no database below compatibility level 130.
//! struct HouseRules;
//!
//! #[derive(Deserialize)]
//! struct Inventory { instances: Vec<Instance> }
//! #[derive(Deserialize)]
//! struct Instance { name: String, databases: Vec<Database> }
//! #[derive(Deserialize)]
//! struct Database { name: String, compatibility_level: u32 }
//!
//! impl Plugin for HouseRules {
//!     fn summary() -> &'static str { "Acme's house rules" }
//!
//!     fn assess(inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
//!         let inv: Inventory = parse_document(inventory, "inventory")?;
//!         let mut findings = Vec::new();
//!         for inst in &inv.instances {
//!             for db in inst.databases.iter().filter(|d| d.compatibility_level < 130) {
//!                 findings.push(Finding {
//!                     rule_id: "ACME0001".into(),
//!                     level: FindingLevel::Warning,
//!                     scope: FindingScope::Database,
//!                     instance: inst.name.clone(),
//!                     database: Some(db.name.clone()),
//!                     object: None, file: None, line: None,
//!                     title: "Compatibility level below 130".into(),
//!                     message: format!("{} runs at level {}", db.name, db.compatibility_level),
//!                     impact: "Acme supports only 130 and above.".into(),
//!                     remediation: "ALTER DATABASE … SET COMPATIBILITY_LEVEL = 160 after testing.".into(),
//!                     help_url: None,
//!                 });
//!             }
//!         }
//!         sqlmig_plugin_sdk::log::info(&format!("{} findings", findings.len()));
//!         Ok(findings)
//!     }
//! }
//!
//! export_plugin!(HouseRules);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`, write a `plugin.toml` beside the
//! `.wasm`, and install it with `sqlmig plugin install DIR`.

/// The inventory document (`sqlmig.inventory/1`) that platform plugins write and rule plugins
/// read.
pub use sqlmig_inventory as inventory;

/// Bindings generated from the contract. Most plugins need only the re-exports at the crate root.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_sqlmig_plugin",
        default_bindings_module: "sqlmig_plugin_sdk::bindings",
        generate_all,
    });
}

pub mod aws_sigv4;
pub mod backup_statement;
pub mod backups;
pub mod collect;
pub mod errors;
pub mod log;
pub mod method;
pub mod rows;
pub mod time;
pub mod tsql;
pub mod url;

pub use bindings::sqlmig::plugin::types::{
    Error, Finding, FindingLevel, FindingScope, LogLevel, PluginInfo, SqlErrorInfo,
};
pub use bindings::sqlmig::plugin::{blob, clock, credentials, fs, http, net, progress, sql, state};
pub use errors::{invalid_input, unsupported, with_advice};
pub use rows::{FromSqlValue, Row, Rows};

/// The contract version this SDK builds plugins against (the WIT's, read at build time).
pub const API_VERSION: &str = sqlmig_inventory::CONTRACT_VERSION;

/// A sqlmig plugin. Implement the hooks your manifest lists; the others answer `unsupported`.
/// Documents are JSON text with a `"schema"` field (see the contract's `document` type).
pub trait Plugin {
    /// A one-line summary, shown by `sqlmig plugin info`.
    fn summary() -> &'static str {
        ""
    }

    /// Platform plugins: find instances.
    fn discover(_request: &str) -> Result<String, Error> {
        Err(unsupported("discover"))
    }

    /// Platform plugins: snapshot an instance into an inventory document.
    fn collect(_request: &str) -> Result<String, Error> {
        Err(unsupported("collect"))
    }

    /// Rule plugins: findings over an inventory, with the operator's options (a JSON object).
    fn assess(_inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        Err(unsupported("assess"))
    }

    /// Method plugins: a migration plan.
    fn plan(_request: &str) -> Result<String, Error> {
        Err(unsupported("plan"))
    }

    /// Method plugins: one idempotent step.
    fn run_step(_step: &str) -> Result<String, Error> {
        Err(unsupported("run-step"))
    }

    /// Method plugins: the final switch.
    fn cutover(_request: &str) -> Result<String, Error> {
        Err(unsupported("cutover"))
    }

    /// Validation plugins: compare source and target.
    fn validate(_request: &str) -> Result<String, Error> {
        Err(unsupported("validate"))
    }
}

/// Parses a JSON document, turning a parse error into `invalid-input` naming `what` and the place.
pub fn parse_document<T: serde::de::DeserializeOwned>(doc: &str, what: &str) -> Result<T, Error> {
    // serde_path_to_error names where in the document it went wrong, not only the line.
    let de = &mut serde_json::Deserializer::from_str(doc);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        invalid_input(format!(
            "{what} document is not what this plugin expects: at {path}: {e}"
        ))
    })
}

/// Parses an inventory (`sqlmig.inventory/1`), refusing another version or a malformed one with
/// the JSON path of the problem.
pub fn parse_inventory(doc: &str) -> Result<inventory::Inventory, Error> {
    inventory::parse(doc, "inventory").map_err(|e| invalid_input(e.to_string()))
}

/// Exports a type implementing [`Plugin`] as the component's hooks. Use once per plugin crate.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty) => {
        const _: () = {
            struct __SqlmigPluginExport;

            impl $crate::bindings::exports::sqlmig::plugin::hooks::Guest for __SqlmigPluginExport {
                fn describe() -> $crate::PluginInfo {
                    $crate::PluginInfo {
                        name: env!("CARGO_PKG_NAME").to_string(),
                        version: env!("CARGO_PKG_VERSION").to_string(),
                        summary: <$ty as $crate::Plugin>::summary().to_string(),
                    }
                }
                fn discover(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::discover(&request)
                }
                fn collect(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::collect(&request)
                }
                fn assess(
                    inventory: String,
                    options: String,
                ) -> Result<Vec<$crate::Finding>, $crate::Error> {
                    <$ty as $crate::Plugin>::assess(&inventory, &options)
                }
                fn plan(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::plan(&request)
                }
                fn run_step(step: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::run_step(&step)
                }
                fn cutover(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::cutover(&request)
                }
                fn validate(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Plugin>::validate(&request)
                }
            }

            $crate::bindings::__export_sqlmig_plugin!(__SqlmigPluginExport with_types_in $crate::bindings);
        };
    };
}
