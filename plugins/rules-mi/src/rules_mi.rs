//! The Azure SQL Managed Instance rule pack. Rules keep Microsoft's ids so reports line up with
//! what DBAs know from Microsoft's assessment; limits live in `limits.rs` as data.
//!
//! Catalog rules read the inventory's catalog data; text rules read T-SQL (module definitions,
//! job steps, server triggers, script files) through sqlparser's tokenizer and parser.

mod agent;
mod backups;
mod connectivity;
mod guards;
mod limits;
mod rule;
mod rules;
mod scan;
mod security;
mod server_config;
mod storage;
mod syntax;
mod text_scan;
mod text_sources;
mod tsql;

use sqlmig_plugin_sdk::{Error, Finding, Rules, export_rules, log, parse_inventory};

struct RulesMi;

/// What the operator may set (`sqlmig assess --target --update-policy`), by the ids of
/// `sqlmig_mi_limits`.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Options {
    /// `mi-gp` (default), `mi-gp-nextgen` or `mi-bc`.
    target: Option<String>,
    /// `sql-server-2022` (default), `sql-server-2025` or `always-up-to-date`.
    update_policy: Option<String>,
}

impl Options {
    fn target(&self) -> Result<limits::Target, Error> {
        Ok(limits::Target {
            tier: by_id(
                self.target.as_deref(),
                limits::Tier::GeneralPurpose,
                &limits::Tier::ALL,
                |t| t.id(),
                "target",
            )?,
            policy: by_id(
                self.update_policy.as_deref(),
                limits::UpdatePolicy::DEFAULT,
                &limits::UpdatePolicy::ALL,
                |p| p.id(),
                "update policy",
            )?,
        })
    }
}

/// The one of `all` whose id is `id` (`default` when none is given); an unknown id is invalid
/// input listing the ids there are.
fn by_id<T: Copy>(
    id: Option<&str>,
    default: T,
    all: &[T],
    id_of: impl Fn(T) -> &'static str,
    what: &str,
) -> Result<T, Error> {
    let Some(id) = id else {
        return Ok(default);
    };
    all.iter()
        .copied()
        .find(|t| id_of(*t) == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = all.iter().map(|t| id_of(*t)).collect();
            Error::InvalidInput(format!(
                "rules-mi: unknown {what} {id:?}; use {}",
                ids.join(", ")
            ))
        })
}

impl Rules for RulesMi {
    fn summary() -> &'static str {
        "what blocks or changes on Azure SQL Managed Instance"
    }

    fn assess(inventory: &str, options: &str) -> Result<Vec<Finding>, Error> {
        let inv = parse_inventory(inventory)?;
        let options: Options = serde_json::from_str(options)
            .map_err(|e| Error::InvalidInput(format!("rules-mi options: {e}")))?;
        let target = options.target()?;
        let findings = rules::run_all(&inv, &target);
        log::info(&format!(
            "{} findings over {} instances",
            findings.len(),
            inv.instances.len()
        ));
        Ok(findings)
    }
}

export_rules!(RulesMi);

#[cfg(test)]
mod text_scan_tests;
