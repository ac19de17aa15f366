//! The rule packs an assessment runs, chosen as the operator named them (plugins, house-rules
//! `.toml` files, SQL Assessment API `.json` rulesets) or all that apply, and run over an
//! inventory: `sqlmig assess` and the plan's assessment gate both evaluate through here.

use std::path::Path;

use sqlmig_protocol::Inventory;

use super::assessment_api::{ProbeResults, Rulesets, live};
use super::engine::Outcome;
use super::house_rules::HouseRules;
use super::{RulePack, run};
use crate::capabilities::CapabilitySet;
use crate::discover::LoginSettings;
use crate::failure::Failure;
use crate::plugins::manifest::PluginKind;
use crate::session::Session;
use crate::sizing::limits::{Tier, UpdatePolicy};

/// The rule packs' options: the target's tier and update policy, by the limits table's ids
/// (the packs read them with the same crate).
pub fn pack_options(tier: Tier, policy: UpdatePolicy) -> String {
    serde_json::json!({
        "target": tier.id(),
        "update_policy": policy.id(),
    })
    .to_string()
}

/// Where SQL Assessment API rules get their T-SQL probe rows.
pub enum Probes {
    /// Nowhere: their rules are listed as not run.
    None,
    /// Captured results (`--probe-results`).
    Captured(ProbeResults),
    /// The inventory's servers, logged in to as `login` (collected with --server).
    Live(LoginSettings),
}

/// What the packs found, and what they are called.
pub struct Evaluated {
    /// The packs' labels, for the report's "assessed by".
    pub labels: Vec<String>,
    pub outcome: Outcome,
    /// The probe rows run live ([`Probes::Live`]), for the operator to keep.
    pub captured: Option<ProbeResults>,
}

/// Runs the rule packs `rules` names (plugin names, or house-rule `.toml` and ruleset `.json`
/// files) over `inventory` with `options` (JSON, [`pack_options`]); every installed or bundled
/// rule plugin when `rules` is empty, with the rules of the platform plugins of the inventory's
/// instances. Findings come back sorted.
pub async fn evaluate(
    session: &Session,
    rules: &[String],
    options: &str,
    probes: Probes,
    inventory: &Inventory,
    concurrency: usize,
) -> Result<Evaluated, Failure> {
    let store = session.store();
    let (files, names): (Vec<&String>, Vec<&String>) = rules.iter().partition(|r| {
        let r = r.to_ascii_lowercase();
        r.ends_with(".toml") || r.ends_with(".json")
    });
    let (json_files, toml_files): (Vec<&String>, Vec<&String>) = files
        .into_iter()
        .partition(|f| f.to_ascii_lowercase().ends_with(".json"));
    let house: Vec<HouseRules> = toml_files
        .iter()
        .map(|f| HouseRules::load(Path::new(f)).map_err(|e| Failure::bad_input(e.to_string())))
        .collect::<Result<_, _>>()?;
    let mut rulesets = Rulesets::default();
    for f in &json_files {
        rulesets
            .load(Path::new(f))
            .map_err(|e| Failure::bad_input(e.to_string()))?;
    }
    let chosen = if rules.is_empty() {
        store
            .available()
            .map_err(Failure::io)?
            .into_iter()
            .filter(|p| {
                // Rule packs, and the rules of the platforms the inventory's instances run on
                // (RDS's backup option, Cloud SQL's flags).
                let platform = p.manifest.kind == PluginKind::Platform
                    && inventory.instances.iter().any(|i| {
                        !i.platform.is_empty()
                            && p.manifest.name == format!("platform-{}", i.platform)
                    });
                (p.manifest.kind == PluginKind::Rules || platform) && p.manifest.has_hook("assess")
            })
            .collect()
    } else {
        let mut v = Vec::new();
        for name in names {
            let p = store.find(name).map_err(|e| {
                Failure::bad_input(e)
                    .hint("list rule packs with `sqlmig plugin list`; house rules are .toml files")
            })?;
            if !p.manifest.has_hook("assess") {
                return Err(Failure::bad_input(format!(
                    "plugin {name} has no assess hook: it is not a rule pack (its hooks: {})",
                    p.manifest.hooks.join(", ")
                )));
            }
            v.push(p);
        }
        v
    };
    if chosen.is_empty() && house.is_empty() && json_files.is_empty() {
        return Err(Failure::bad_input("no rule packs to run")
            .hint("install one with `sqlmig plugin install DIR`, or name one with --rules"));
    }
    let mut packs = Vec::new();
    for p in &chosen {
        packs.push(RulePack {
            plugin: session.load(p, &CapabilitySet::default())?,
            options: options.to_string(),
        });
    }
    let mut labels: Vec<String> = packs.iter().map(|p| p.plugin.label.clone()).collect();
    let mut outcome = run(&packs, inventory, concurrency).await;
    for h in &house {
        labels.push(h.label());
        outcome.findings.extend(h.run(inventory));
    }
    let mut captured = None;
    if !json_files.is_empty() {
        let results = match probes {
            Probes::None => None,
            Probes::Captured(r) => Some(r),
            Probes::Live(login) => {
                if !session.quiet {
                    eprintln!("running the rulesets' T-SQL probes…");
                }
                let rows = live::capture(&rulesets, inventory, &login).await;
                captured = Some(rows.clone());
                Some(rows)
            }
        };
        let (found, not_run) = rulesets.run(inventory, results.as_ref());
        labels.extend(rulesets.labels.iter().cloned());
        outcome.findings.extend(found);
        outcome.not_run = not_run;
    }
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(Evaluated {
        labels,
        outcome,
        captured,
    })
}
