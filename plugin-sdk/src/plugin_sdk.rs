//! Write sqlmig plugins.
//!
//! A plugin is a WebAssembly component built for `wasm32-wasip2` against the `sqlmig:plugin`
//! contract (`wit/` in the sqlmig repository). This crate gives you the generated bindings, a
//! trait per plugin kind — [`Platform`], [`Method`], [`Rules`], [`Validator`] — whose optional hooks
//! default to answering `unsupported`, an export macro per kind ([`export_rules!`] …), typed access to
//! SQL rows, and log and progress helpers. Each kind is built against its own world of the contract
//! and may import only what that world gives: a rule pack reads the inventory it is handed and
//! cannot reach SQL, storage, the network, files or credentials.
//!
//! # A complete rules plugin
//!
//! ```no_run
//! use sqlmig_plugin_sdk::{export_rules, parse_document, Error, Finding, FindingLevel, FindingScope, Rules};
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
//! impl Rules for HouseRules {
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
//! export_rules!(HouseRules);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`, write a `plugin.toml` beside the
//! `.wasm`, and install it with `sqlmig plugin install DIR`.

/// The inventory document (`sqlmig.inventory/1`) that platform plugins write and rule plugins
/// read.
pub use sqlmig_protocol as protocol;

/// Bindings generated from the contract, a module per kind's world. The `platform` world imports
/// every capability, so its module defines them; the other worlds' modules reuse those. Most
/// plugins need only the re-exports at the crate root and their kind's trait and export macro.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    /// The `platform` world: every capability, the platform hooks.
    pub mod platform {
        wit_bindgen::generate!({
            path: "../wit",
            world: "platform",
            pub_export_macro: true,
            export_macro_name: "__export_platform",
            default_bindings_module: "sqlmig_plugin_sdk::bindings::platform",
            generate_all,
        });
    }

    /// The `method` world.
    pub mod method {
        wit_bindgen::generate!({
            path: "../wit",
            world: "method",
            pub_export_macro: true,
            export_macro_name: "__export_method",
            default_bindings_module: "sqlmig_plugin_sdk::bindings::method",
            with: {
                "sqlmig:plugin/types@0.2.0": super::platform::sqlmig::plugin::types,
                "sqlmig:plugin/sql@0.2.0": super::platform::sqlmig::plugin::sql,
                "sqlmig:plugin/blob@0.2.0": super::platform::sqlmig::plugin::blob,
                "sqlmig:plugin/http@0.2.0": super::platform::sqlmig::plugin::http,
                "sqlmig:plugin/fs@0.2.0": super::platform::sqlmig::plugin::fs,
                "sqlmig:plugin/state@0.2.0": super::platform::sqlmig::plugin::state,
                "sqlmig:plugin/credentials@0.2.0": super::platform::sqlmig::plugin::credentials,
                "sqlmig:plugin/log@0.2.0": super::platform::sqlmig::plugin::log,
                "sqlmig:plugin/progress@0.2.0": super::platform::sqlmig::plugin::progress,
                "sqlmig:plugin/clock@0.2.0": super::platform::sqlmig::plugin::clock,
            },
        });
    }

    /// The `rules` world: no SQL, storage, network, files or credentials.
    pub mod rules {
        wit_bindgen::generate!({
            path: "../wit",
            world: "rules",
            pub_export_macro: true,
            export_macro_name: "__export_rules",
            default_bindings_module: "sqlmig_plugin_sdk::bindings::rules",
            with: {
                "sqlmig:plugin/types@0.2.0": super::platform::sqlmig::plugin::types,
                "sqlmig:plugin/log@0.2.0": super::platform::sqlmig::plugin::log,
                "sqlmig:plugin/progress@0.2.0": super::platform::sqlmig::plugin::progress,
                "sqlmig:plugin/clock@0.2.0": super::platform::sqlmig::plugin::clock,
            },
        });
    }

    /// The `validator` world: SQL only.
    pub mod validator {
        wit_bindgen::generate!({
            path: "../wit",
            world: "validator",
            pub_export_macro: true,
            export_macro_name: "__export_validator",
            default_bindings_module: "sqlmig_plugin_sdk::bindings::validator",
            with: {
                "sqlmig:plugin/types@0.2.0": super::platform::sqlmig::plugin::types,
                "sqlmig:plugin/sql@0.2.0": super::platform::sqlmig::plugin::sql,
                "sqlmig:plugin/log@0.2.0": super::platform::sqlmig::plugin::log,
                "sqlmig:plugin/progress@0.2.0": super::platform::sqlmig::plugin::progress,
                "sqlmig:plugin/clock@0.2.0": super::platform::sqlmig::plugin::clock,
            },
        });
    }
}

#[cfg(feature = "aws")]
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

pub use bindings::platform::sqlmig::plugin::types::{
    Error, Finding, FindingLevel, FindingScope, LogLevel, PluginInfo, SqlErrorInfo,
};
/// The capabilities. A plugin may call only those its kind's world imports and its manifest asks
/// for: sqlmig refuses to load a rules plugin that calls `sql`, for one.
pub use bindings::platform::sqlmig::plugin::{
    blob, clock, credentials, fs, http, net, progress, sql, state,
};
pub use errors::{invalid_input, unsupported, with_advice};
pub use rows::{FromSqlValue, Row, Rows};

/// The contract version this SDK builds plugins against (the WIT's, read at build time).
pub const API_VERSION: &str = sqlmig_protocol::CONTRACT_VERSION;

/// A source platform plugin (`kind = "platform"`). Implement the hooks your manifest lists; the
/// others answer `unsupported`. Documents are JSON text with a `"schema"` field.
pub trait Platform {
    /// A one-line summary, shown by `sqlmig plugin info`.
    fn summary() -> &'static str {
        ""
    }

    /// Find instances.
    fn discover(_request: &str) -> Result<String, Error> {
        Err(unsupported("discover"))
    }

    /// Snapshot an instance into an inventory document.
    fn collect(_request: &str) -> Result<String, Error> {
        Err(unsupported("collect"))
    }

    /// Findings only this platform can raise, over an inventory, with the operator's options.
    fn assess(_inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        Err(unsupported("assess"))
    }

    /// How this platform backs databases up into the migration's container (a backup offer).
    fn offer_backup(_request: &str) -> Result<String, Error> {
        Err(unsupported("offer-backup"))
    }

    /// One idempotent step of the platform's backup route.
    fn run_step(_step: &str) -> Result<String, Error> {
        Err(unsupported("run-step"))
    }
}

/// A migration method plugin (`kind = "method"`).
pub trait Method {
    /// A one-line summary, shown by `sqlmig plugin info`.
    fn summary() -> &'static str {
        ""
    }

    /// A migration plan.
    fn plan(_request: &str) -> Result<String, Error> {
        Err(unsupported("plan"))
    }

    /// One idempotent step.
    fn run_step(_step: &str) -> Result<String, Error> {
        Err(unsupported("run-step"))
    }

    /// The final switch.
    fn cutover(_request: &str) -> Result<String, Error> {
        Err(unsupported("cutover"))
    }
}

/// A rule pack (`kind = "rules"`): findings over an inventory, and nothing else to reach.
pub trait Rules {
    /// A one-line summary, shown by `sqlmig plugin info`.
    fn summary() -> &'static str {
        ""
    }

    /// Findings over an inventory, with the operator's options (a JSON object).
    fn assess(inventory: &str, options: &str) -> Result<Vec<Finding>, Error>;
}

/// A validator (`kind = "validate"`): compares source and target over SQL.
pub trait Validator {
    /// A one-line summary, shown by `sqlmig plugin info`.
    fn summary() -> &'static str {
        ""
    }

    /// Compare source and target.
    fn validate(request: &str) -> Result<String, Error>;
}

/// The plugin's `describe` answer: its crate's name and version, and `summary`.
#[doc(hidden)]
#[macro_export]
macro_rules! __describe {
    ($summary:expr) => {
        $crate::PluginInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: $summary.to_string(),
        }
    };
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
pub fn parse_inventory(doc: &str) -> Result<protocol::Inventory, Error> {
    protocol::parse(doc, "inventory").map_err(|e| invalid_input(e.to_string()))
}

/// Exports a type implementing [`Platform`] as the component's hooks. Use once per plugin crate.
#[macro_export]
macro_rules! export_platform {
    ($ty:ty) => {
        const _: () = {
            struct __SqlmigExport;
            use $crate::bindings::platform::exports::sqlmig::plugin::platform_hooks::Guest;
            impl Guest for __SqlmigExport {
                fn describe() -> $crate::PluginInfo {
                    $crate::__describe!(<$ty as $crate::Platform>::summary())
                }
                fn discover(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Platform>::discover(&request)
                }
                fn collect(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Platform>::collect(&request)
                }
                fn assess(
                    inventory: String,
                    options: String,
                ) -> Result<Vec<$crate::Finding>, $crate::Error> {
                    <$ty as $crate::Platform>::assess(&inventory, &options)
                }
                fn offer_backup(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Platform>::offer_backup(&request)
                }
                fn run_step(step: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Platform>::run_step(&step)
                }
            }
            $crate::bindings::platform::__export_platform!(
                __SqlmigExport with_types_in $crate::bindings::platform
            );
        };
    };
}

/// Exports a type implementing [`Method`] as the component's hooks. Use once per plugin crate.
#[macro_export]
macro_rules! export_method {
    ($ty:ty) => {
        const _: () = {
            struct __SqlmigExport;
            use $crate::bindings::method::exports::sqlmig::plugin::method_hooks::Guest;
            impl Guest for __SqlmigExport {
                fn describe() -> $crate::PluginInfo {
                    $crate::__describe!(<$ty as $crate::Method>::summary())
                }
                fn plan(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Method>::plan(&request)
                }
                fn run_step(step: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Method>::run_step(&step)
                }
                fn cutover(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Method>::cutover(&request)
                }
            }
            $crate::bindings::method::__export_method!(
                __SqlmigExport with_types_in $crate::bindings::method
            );
        };
    };
}

/// Exports a type implementing [`Rules`] as the component's hooks. Use once per plugin crate.
#[macro_export]
macro_rules! export_rules {
    ($ty:ty) => {
        const _: () = {
            struct __SqlmigExport;
            use $crate::bindings::rules::exports::sqlmig::plugin::rules_hooks::Guest;
            impl Guest for __SqlmigExport {
                fn describe() -> $crate::PluginInfo {
                    $crate::__describe!(<$ty as $crate::Rules>::summary())
                }
                fn assess(
                    inventory: String,
                    options: String,
                ) -> Result<Vec<$crate::Finding>, $crate::Error> {
                    <$ty as $crate::Rules>::assess(&inventory, &options)
                }
            }
            $crate::bindings::rules::__export_rules!(
                __SqlmigExport with_types_in $crate::bindings::rules
            );
        };
    };
}

/// Exports a type implementing [`Validator`] as the component's hooks. Use once per plugin crate.
#[macro_export]
macro_rules! export_validator {
    ($ty:ty) => {
        const _: () = {
            struct __SqlmigExport;
            use $crate::bindings::validator::exports::sqlmig::plugin::validator_hooks::Guest;
            impl Guest for __SqlmigExport {
                fn describe() -> $crate::PluginInfo {
                    $crate::__describe!(<$ty as $crate::Validator>::summary())
                }
                fn validate(request: String) -> Result<String, $crate::Error> {
                    <$ty as $crate::Validator>::validate(&request)
                }
            }
            $crate::bindings::validator::__export_validator!(
                __SqlmigExport with_types_in $crate::bindings::validator
            );
        };
    };
}
