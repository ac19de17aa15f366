//! Running rule packs: every pack over every collected instance, several at once (each call its
//! own sandboxed instance), findings gathered and sorted. A pack that fails on an instance is
//! reported with its error; the other packs and instances still run.

use futures::StreamExt;
use serde::Serialize;
use sqlmig_protocol::{CollectionStatus, Inventory};

use super::assessment_api::NotRun;
use super::findings::Finding;
use crate::capabilities::Services;
use crate::runtime::{HookCall, HookOutput, LoadedPlugin};

/// A rule plugin and the operator's options for it (a JSON object).
pub struct RulePack {
    pub plugin: LoadedPlugin,
    pub options: String,
}

/// A rule pack that could not assess an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PackFailure {
    pub rule_pack: String,
    pub instance: String,
    pub error: String,
}

/// What the packs found.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub failures: Vec<PackFailure>,
    /// Rules that could not run (SQL Assessment API rules whose probes cannot run here).
    pub not_run: Vec<NotRun>,
}

/// Runs `packs` over the collected instances of `inventory`, `concurrency` calls at a time.
pub async fn run(packs: &[RulePack], inventory: &Inventory, concurrency: usize) -> Outcome {
    // One document per instance: packs see the inventory format they expect, and instances are
    // assessed side by side.
    let documents: Vec<(String, String)> = inventory
        .instances
        .iter()
        .filter(|i| i.status != CollectionStatus::Failed)
        .map(|i| {
            let one = Inventory {
                instances: vec![i.clone()],
                ..inventory.clone()
            };
            (
                i.name.clone(),
                serde_json::to_string(&one).expect("an inventory serializes"),
            )
        })
        .collect();
    let calls = packs
        .iter()
        .flat_map(|p| documents.iter().map(move |d| (p, d)));
    let results: Vec<Result<Vec<Finding>, PackFailure>> = futures::stream::iter(calls)
        .map(|(pack, (instance, doc))| async move {
            let call = HookCall::Assess {
                inventory: doc.clone(),
                options: pack.options.clone(),
            };
            let fail = |error: String| PackFailure {
                rule_pack: pack.plugin.label.clone(),
                instance: instance.clone(),
                error,
            };
            match pack.plugin.call(&Services::default(), call).await {
                Ok(HookOutput::Findings(found)) => Ok(found
                    .into_iter()
                    .map(|f| Finding::from_plugin(f, &pack.plugin.label))
                    .collect()),
                Ok(_) => Err(fail("assess answered no findings".into())),
                Err(e) => Err(fail(e.to_string())),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut out = Outcome::default();
    for r in results {
        match r {
            Ok(mut f) => out.findings.append(&mut f),
            Err(e) => out.failures.push(e),
        }
    }
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out.failures
        .sort_by(|a, b| (&a.rule_pack, &a.instance).cmp(&(&b.rule_pack, &b.instance)));
    out
}
