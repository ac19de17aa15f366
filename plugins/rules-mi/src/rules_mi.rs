//! The Azure SQL Managed Instance rule pack. Rules keep Microsoft's ids so reports line up with
//! what DBAs know from Microsoft's assessment; limits live in `limits.rs` as data.
//!
//! Catalog rules read the inventory's catalog data; text rules read T-SQL (module definitions,
//! job steps, server triggers, script files) through sqlparser's tokenizer and parser.

mod catalog_rules;
mod catalog_rules_b;
mod guards;
mod limits;
mod rules;
mod text_rules;
mod text_rules_b;
mod text_sources;
mod tsql;

use sqlmig_plugin_sdk::{Error, Finding, Plugin, export_plugin, log, parse_inventory};

struct RulesMi;

/// What the operator may set (`sqlmig assess --target`).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Options {
    /// `mi-gp` (default) or `mi-bc`.
    target: Option<String>,
}

impl Plugin for RulesMi {
    fn summary() -> &'static str {
        "what blocks or changes on Azure SQL Managed Instance"
    }

    fn assess(inventory: &str, options: &str) -> Result<Vec<Finding>, Error> {
        let inv = parse_inventory(inventory)?;
        let options: Options = serde_json::from_str(options)
            .map_err(|e| Error::InvalidInput(format!("rules-mi options: {e}")))?;
        let tier = limits::tier(options.target.as_deref()).ok_or_else(|| {
            Error::InvalidInput(format!(
                "rules-mi: unknown target {:?}; use mi-gp or mi-bc",
                options.target.unwrap_or_default()
            ))
        })?;
        let findings = rules::run_all(&inv, &tier);
        log::info(&format!(
            "{} findings over {} instances",
            findings.len(),
            inv.instances.len()
        ));
        Ok(findings)
    }
}

export_plugin!(RulesMi);

#[cfg(test)]
mod text_rules_tests;
