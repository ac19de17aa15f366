//! The Azure SQL Managed Instance rule pack. Rules keep Microsoft's ids so reports line up with
//! what DBAs know from Microsoft's assessment; limits live in `limits.rs` as data.
//!
//! This is the pack's first cut: the rules whose evidence is plain catalog data. The catalogue to
//! cover is ../shared/MI_RULES.md.

mod catalog_rules;
mod limits;
mod rules;

use sqlmig_plugin_sdk::{Error, Finding, Plugin, export_plugin, log, parse_inventory};

struct RulesMi;

impl Plugin for RulesMi {
    fn summary() -> &'static str {
        "what blocks or changes on Azure SQL Managed Instance"
    }

    fn assess(inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        let inv = parse_inventory(inventory)?;
        let findings = rules::run_all(&inv);
        log::info(&format!(
            "{} findings over {} instances",
            findings.len(),
            inv.instances.len()
        ));
        Ok(findings)
    }
}

export_plugin!(RulesMi);
