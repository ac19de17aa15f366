//! Planning: the databases an inventory holds, chosen and named on the target, are handed to the
//! method plugin's `plan` hook; the host adds the move forecast (sizing) and writes plan.json.

use std::fmt::Write as _;

use sqlmig_inventory::migration::{
    BACKUP_OFFER, BACKUP_OFFER_REQUEST, BackupOffer, BackupOfferRequest, DatabaseToMove, PLAN,
    PLAN_REQUEST, Plan, PlanRequest, Runner, Side, StepKind, Storage,
};
use sqlmig_inventory::{CollectionStatus, Instance, Inventory};

use crate::capabilities::Services;
use crate::runtime::{HookCall, HookOutput, LoadedPlugin};
use crate::sizing::forecast::{Assumptions, Forecast, Moving, approx, forecast};

/// What the DBA asked to move.
pub struct PlanInputs<'a> {
    pub inventory: &'a Inventory,
    /// The instance, when the inventory holds several.
    pub instance: Option<&'a str>,
    /// Databases by name; all user databases when empty.
    pub databases: &'a [String],
    /// (source name, target name) pairs.
    pub renames: &'a [(String, String)],
    /// The source as SQL Server tools name it; the inventory's address when absent.
    pub source_server: Option<String>,
    pub target: Side,
    pub storage: Storage,
    pub parallelism: u32,
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// What stops a plan from being asked for: the operator's choice of instance and databases, or the
/// method plugin's answer.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the inventory has no instance {name}; it has: {has}")]
    NoSuchInstance { name: String, has: String },
    #[error("the inventory holds no instance that was collected")]
    NoCollectedInstance,
    #[error("the inventory holds {count} instances: choose one with --instance ({names})")]
    ChooseInstance { count: usize, names: String },
    #[error("{instance}: no user database {name:?}; it has: {has}")]
    NoSuchDatabase {
        instance: String,
        name: String,
        has: String,
    },
    #[error("{instance}: no user database to move")]
    NoDatabase { instance: String },
    #[error("--rename {from}: not among the databases moved")]
    RenameNotMoved { from: String },
    /// The plugin failed or refused the request (its own words).
    #[error(transparent)]
    Plugin(#[from] crate::runtime::PluginError),
    /// The plugin answered something that is not a plan.
    #[error("{plugin}: {detail}")]
    BadAnswer { plugin: String, detail: String },
}

impl PlanError {
    /// Whether the operator's input is at fault (exit 2) rather than the plugin (exit 3).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, PlanError::Plugin(_) | PlanError::BadAnswer { .. })
    }
}

/// The inventory instance to move from.
pub fn pick_instance<'a>(
    inv: &'a Inventory,
    name: Option<&str>,
) -> Result<&'a Instance, PlanError> {
    let usable: Vec<&Instance> = inv
        .instances
        .iter()
        .filter(|i| i.status != CollectionStatus::Failed)
        .collect();
    match name {
        Some(n) => inv
            .instances
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(n))
            .ok_or_else(|| PlanError::NoSuchInstance {
                name: n.to_string(),
                has: names(&inv.instances),
            }),
        None if usable.len() == 1 => Ok(usable[0]),
        None if usable.is_empty() => Err(PlanError::NoCollectedInstance),
        None => Err(PlanError::ChooseInstance {
            count: usable.len(),
            names: names(&inv.instances),
        }),
    }
}

fn names(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan request for `inputs`.
pub fn request(inputs: &PlanInputs) -> Result<PlanRequest, PlanError> {
    let inst = pick_instance(inputs.inventory, inputs.instance)?;
    let user: Vec<_> = inst.databases.iter().filter(|d| d.is_user()).collect();
    let chosen: Vec<_> = if inputs.databases.is_empty() {
        user.clone()
    } else {
        inputs
            .databases
            .iter()
            .map(|n| {
                user.iter()
                    .copied()
                    .find(|d| d.name.eq_ignore_ascii_case(n))
                    .ok_or_else(|| PlanError::NoSuchDatabase {
                        instance: inst.name.clone(),
                        name: n.clone(),
                        has: user
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            })
            .collect::<Result<_, _>>()?
    };
    if chosen.is_empty() {
        return Err(PlanError::NoDatabase {
            instance: inst.name.clone(),
        });
    }
    for (from, _) in inputs.renames {
        if !chosen.iter().any(|d| d.name.eq_ignore_ascii_case(from)) {
            return Err(PlanError::RenameNotMoved { from: from.clone() });
        }
    }
    let databases = chosen
        .iter()
        .map(|d| DatabaseToMove {
            name: d.name.clone(),
            target_name: inputs
                .renames
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(&d.name))
                .map_or_else(|| d.name.clone(), |(_, t)| t.clone()),
            size_mb: d.size_mb,
            recovery_model: d.recovery_model_desc.clone(),
        })
        .collect();
    let source_server = inputs.source_server.clone().unwrap_or_else(|| {
        let a = &inst.address;
        match &a.instance {
            Some(i) if a.port == 0 => format!("{}\\{i}", a.host),
            _ => format!("{},{}", a.host, a.port),
        }
    });
    Ok(PlanRequest {
        schema: PLAN_REQUEST.into(),
        source: Side {
            server: source_server,
            product_version: inst
                .server
                .as_ref()
                .map(|s| s.product_version.clone())
                .unwrap_or_default(),
            edition: inst
                .server
                .as_ref()
                .map(|s| s.edition.clone())
                .unwrap_or_default(),
            platform: if inst.platform.is_empty() {
                "onprem".into()
            } else {
                inst.platform.clone()
            },
            ..Default::default()
        },
        target: inputs.target.clone(),
        source_backup: None,
        storage: inputs.storage.clone(),
        databases,
        parallelism: inputs.parallelism,
        options: inputs.options.clone(),
    })
}

/// Asks the method plugin for the plan.
pub async fn ask_plugin(plugin: &LoadedPlugin, req: &PlanRequest) -> Result<Plan, PlanError> {
    let doc = serde_json::to_string(req).expect("a plan request serializes");
    let bad = |detail: String| PlanError::BadAnswer {
        plugin: plugin.label.clone(),
        detail,
    };
    let HookOutput::Document(d) = plugin
        .call(&Services::default(), HookCall::Plan(doc))
        .await?
    else {
        return Err(bad("plan answered no document".into()));
    };
    let plan: Plan = serde_json::from_str(&d)
        .map_err(|e| bad(format!("plan answered a malformed plan: {e}")))?;
    if plan.schema != PLAN {
        return Err(bad(format!(
            "answered {:?} for a plan; update the plugin",
            plan.schema
        )));
    }
    Ok(plan)
}

/// Asks the source's platform plugin how it would back `req`'s databases up into the container
/// (its `offer-backup` hook; `plan` on the 0.1 line): the offer the method plugin then plans with.
pub async fn ask_backup_offer(
    platform: &LoadedPlugin,
    plugin_name: &str,
    inst: &Instance,
    req: &PlanRequest,
    options: serde_json::Map<String, serde_json::Value>,
) -> Result<BackupOffer, crate::runtime::PluginError> {
    let offer_request = BackupOfferRequest {
        schema: BACKUP_OFFER_REQUEST.into(),
        instance: inst.name.clone(),
        cloud: inst.cloud.clone(),
        databases: req.databases.clone(),
        container_url: req.storage.container_url.clone(),
        options,
    };
    let doc = serde_json::to_string(&offer_request).expect("an offer request serializes");
    let failed = |detail: String| crate::runtime::PluginError::BadAnswer {
        plugin: platform.label.clone(),
        hook: "offer-backup",
        detail,
    };
    let HookOutput::Document(d) = platform
        .call(&Services::default(), HookCall::OfferBackup(doc))
        .await?
    else {
        return Err(failed("no document".into()));
    };
    let mut offer: BackupOffer =
        serde_json::from_str(&d).map_err(|e| failed(format!("not a backup offer: {e}")))?;
    if offer.schema != BACKUP_OFFER {
        return Err(failed(format!("{:?} for a backup offer", offer.schema)));
    }
    offer.plugin = plugin_name.to_string();
    Ok(offer)
}

/// What the databases of `plan` move, from the inventory: data size, and log rates from msdb's
/// log backup sizes per day (the day's average; the peak hour is the busiest day's average,
/// since backup history says nothing finer — `--perf` gives real peaks).
pub fn moving_from_inventory(inst: &Instance, plan: &Plan) -> Vec<Moving> {
    plan.databases
        .iter()
        .map(|p| {
            let db = inst.databases.iter().find(|d| d.name == p.name);
            let data_mb = db
                .map(|d| {
                    let rows: f64 = d
                        .files
                        .iter()
                        .filter(|f| f.type_desc == "ROWS")
                        .map(|f| f.size_mb)
                        .sum();
                    if rows > 0.0 { rows } else { d.size_mb }
                })
                .unwrap_or(p.size_mb);
            let days: Vec<f64> = db
                .map(|d| {
                    d.backups
                        .per_day
                        .iter()
                        .filter(|b| b.backup_type == "L")
                        .map(|b| b.size_bytes as f64 / 1048576.0 / 86400.0)
                        .collect()
                })
                .unwrap_or_default();
            Moving {
                database: p.name.clone(),
                data_mb,
                log_avg_mb_s: days.iter().sum::<f64>() / days.len().max(1) as f64,
                log_peak_mb_s: days.iter().copied().fold(0.0, f64::max),
            }
        })
        .collect()
}

/// The forecast put into the plan, and its steps' expected durations.
pub fn attach_forecast(
    plan: &mut Plan,
    moving: &[Moving],
    target_log_mb_s: f64,
    a: &Assumptions,
) -> Forecast {
    let f = forecast(moving, target_log_mb_s, a);
    for step in &mut plan.steps {
        let Some(d) = f.databases.iter().find(|d| d.database == step.database) else {
            continue;
        };
        step.expected_s = match step.kind {
            // The online method's full backup is the same work as the offline one's.
            StepKind::Backup | StepKind::BackupFull => Some(d.full_backup_s),
            StepKind::Upload => Some(d.upload_s),
            StepKind::Restore => Some(d.restore_s),
            _ => None,
        };
    }
    plan.forecast = Some(serde_json::to_value(&f).expect("a forecast serializes"));
    f
}

/// The plan as a DBA reads it.
pub fn render(plan: &Plan, forecast: Option<&Forecast>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan ({}): {} → {}",
        plan.method, plan.source.server, plan.target.server
    );
    let _ = writeln!(out, "  reaches, with your credentials:");
    for line in super::authority::reach(plan) {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(
        out,
        "  {} database(s), {} at a time",
        plan.databases.len(),
        plan.parallelism
    );
    for d in &plan.databases {
        let rename = if d.target_name != d.name {
            format!(" as {}", d.target_name)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  - {}{rename}: {:.0} MB, {} stripe(s), backup to {}",
            d.name, d.size_mb, d.stripes, d.backup_to
        );
    }
    let _ = writeln!(out, "\nSteps:");
    for (i, s) in plan.steps.iter().enumerate() {
        let expected = s
            .expected_s
            .map(|e| format!(" (≈ {})", approx(e)))
            .unwrap_or_default();
        let runner = match s.runner {
            Runner::Host => " [host]",
            Runner::Platform => " [source platform]",
            Runner::Plugin => "",
        };
        let _ = writeln!(
            out,
            "  {:>2}. {}: {}{expected}{runner}",
            i + 1,
            s.id,
            s.description
        );
        // What the host runs with the operator's credentials is shown in full.
        if s.runner == Runner::Host {
            for p in &s.preview {
                let _ = writeln!(out, "      {p}");
            }
        }
    }
    for n in &plan.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(a) = &plan.assessment {
        let _ = writeln!(
            out,
            "\nAssessed by {} for {}: {} warning(s)",
            a.by.join(", "),
            a.target,
            a.warnings.len()
        );
        for f in &a.accepted {
            let _ = writeln!(
                out,
                "  accepted (--accept {}): {} {}: {}",
                f.rule_id,
                f.level,
                f.database.as_deref().unwrap_or("(instance)"),
                f.message
            );
        }
    }
    if let Some(f) = forecast {
        // The plan's own method first; the other for comparison.
        let online = plan.steps.iter().any(|s| s.kind == StepKind::Cutover);
        let _ = writeln!(
            out,
            "\nForecast ({}): {}",
            if online { "online" } else { "offline" },
            f.summary_for(online)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_choices_are_bad_input_and_the_plugins_answers_are_not() {
        let inv: Inventory = serde_json::from_value(serde_json::json!({
            "schema": "sqlmig.inventory/1",
            "instances": [{"name": "SQL01"}, {"name": "SQL02"}]
        }))
        .unwrap();
        let err = pick_instance(&inv, None).unwrap_err();
        assert!(
            matches!(err, PlanError::ChooseInstance { count: 2, .. }),
            "{err}"
        );
        assert!(err.is_bad_input());
        let err = pick_instance(&inv, Some("SQL03")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the inventory has no instance SQL03; it has: SQL01, SQL02"
        );
        assert_eq!(pick_instance(&inv, Some("sql02")).unwrap().name, "SQL02");
        let answer = PlanError::BadAnswer {
            plugin: "method-x 1.0.0".into(),
            detail: "plan answered no document".into(),
        };
        assert!(!answer.is_bad_input());
    }
}
