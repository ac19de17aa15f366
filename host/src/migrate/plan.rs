//! Planning: the databases an inventory holds, chosen and named on the target, are handed to the
//! method plugin's `plan` hook; the host adds the move forecast (sizing) and writes plan.json.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sqlmig_protocol::migration::{
    BACKUP_OFFER, BACKUP_OFFER_REQUEST, BackupOffer, BackupOfferRequest, DatabaseToMove, PLAN,
    PLAN_REQUEST, Plan, PlanRequest, Runner, Side, StepKind, Storage,
};
use sqlmig_protocol::{CollectionStatus, Instance, Inventory};

use super::authority;
use super::gate::{self, Passed};
use crate::capabilities::{CapabilitySet, Services};
use crate::failure::Failure;
use crate::plugins::manifest::PluginKind;
use crate::runtime::{HookCall, HookOutput, LoadedPlugin};
use crate::session::Session;
use crate::sizing::forecast::{Assumptions, Forecast, Moving, approx, forecast};
use crate::sizing::limits::{self, Hardware, Tier, UpdatePolicy};
use crate::sizing::perf_file::PerfFile;
use crate::sqlserver::ServerName;

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

/// What the operator asked of `sqlmig migrate plan`, each value as its flag gave it.
pub struct PlanOptions {
    /// The inventory file (for messages).
    pub inventory_file: PathBuf,
    pub instance: Option<String>,
    /// Databases by name; all user databases when empty.
    pub databases: Vec<String>,
    /// (source name, target name) pairs.
    pub renames: Vec<(String, String)>,
    /// The source as SQL Server tools name it; the inventory's address when absent.
    pub source: Option<String>,
    pub target: String,
    pub target_platform: String,
    /// The target MI's Azure resource id (methods that call Azure Resource Manager).
    pub target_resource: Option<String>,
    /// Azure Resource Manager's endpoint; Azure's public cloud's when absent.
    pub management_url: Option<String>,
    pub container_url: String,
    /// A folder the source backs up to, as the source names it.
    pub source_folder: Option<String>,
    /// The same folder as this machine reads it.
    pub local_folder: Option<String>,
    /// The method plugin.
    pub method: String,
    /// Databases moved at once.
    pub parallel: u32,
    /// The method's options.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The source platform plugin's options for its backup route.
    pub source_options: serde_json::Map<String, serde_json::Value>,
    pub tier: Tier,
    pub hardware: Hardware,
    pub vcores: u32,
    pub update_policy: UpdatePolicy,
    /// An assessment file to judge by; the rule packs run now when absent.
    pub assessment: Option<PathBuf>,
    /// Rules whose findings the operator has dealt with.
    pub accept: Vec<String>,
    /// The secrets file whose `[cloud]` table holds the source platform's credentials.
    pub secrets: Option<PathBuf>,
    /// A performance collection for log-rate peaks.
    pub perf: Option<PathBuf>,
}

/// A plan made: the plan (forecast and assessment in it), its forecast, and what the
/// assessment let through with warnings.
pub struct Planned {
    pub plan: Plan,
    pub forecast: Forecast,
    pub assessed: Passed,
}

/// Makes the plan `o` asks for from `inventory`: the inputs checked, the source platform's
/// backup route (when its plugin offers one), the method plugin's steps — checked to stay
/// within the operator's inputs, with the host's previews — then the assessment gate and the
/// forecast. Bad input, a refusing gate or a plan reaching outside its inputs fails with
/// nothing made.
pub async fn make(
    session: &Session,
    inventory: &Inventory,
    o: &PlanOptions,
) -> Result<Planned, Failure> {
    let container_url = o.container_url.trim_end_matches('/').to_string();
    if let Some(why) = authority::container_url_problem(&container_url) {
        return Err(Failure::bad_input(format!("--container-url: {why}")));
    }
    if let Some(why) = o
        .target_resource
        .as_deref()
        .and_then(authority::resource_id_problem)
    {
        return Err(Failure::bad_input(format!("--target-resource: {why}")));
    }
    let management_url = o.target_resource.as_ref().map(|_| {
        o.management_url
            .as_deref()
            .unwrap_or(authority::AZURE_MANAGEMENT_URL)
            .trim_end_matches('/')
            .to_string()
    });
    if let Some(why) = management_url
        .as_deref()
        .and_then(authority::management_url_problem)
    {
        return Err(Failure::bad_input(format!("--management-url: {why}")));
    }
    if !limits::vcores(o.tier, o.hardware).contains(&o.vcores) {
        return Err(Failure::bad_input(format!(
            "--target-vcores {}: {} on {} comes with {:?} vCores",
            o.vcores,
            o.tier.label(),
            o.hardware.label(),
            limits::vcores(o.tier, o.hardware)
        )));
    }
    // Recorded as an absolute path: the host reads uploads from it whatever the run's folder.
    let local_folder = match (&o.local_folder, &o.source_folder) {
        (Some(folder), _) => Some(
            std::path::absolute(folder)
                .map_err(|e| Failure::bad_input(format!("--local-folder {folder}: {e}")))?
                .display()
                .to_string(),
        ),
        // The source's folder, when this machine reads it at the same path (a share mounted
        // alike); `D:\Backups` is no path here.
        (None, Some(folder)) if Path::new(folder).is_absolute() => Some(folder.clone()),
        (None, _) => None,
    };
    let target =
        ServerName::parse(&o.target).map_err(|e| Failure::bad_input(format!("--target {e}")))?;
    if let Some(s) = &o.source {
        ServerName::parse(s).map_err(|e| Failure::bad_input(format!("--source {e}")))?;
    }
    let inputs = PlanInputs {
        inventory,
        instance: o.instance.as_deref(),
        databases: &o.databases,
        renames: &o.renames,
        source_server: o.source.clone(),
        target: Side {
            server: target.to_string(),
            platform: o.target_platform.clone(),
            resource_id: o.target_resource.clone(),
            management_url,
            ..Default::default()
        },
        storage: Storage {
            container_url,
            source_folder: o.source_folder.clone(),
            local_folder,
        },
        parallelism: o.parallel,
        options: o.options.clone(),
    };
    let mut req = request(&inputs)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", o.inventory_file.display())))?;
    let inst = pick_instance(inventory, o.instance.as_deref()).map_err(Failure::bad_input)?;
    req.source_backup = source_backup_offer(session, o, inst, &req).await?;
    let plugin = session.load(
        &session.plugin_of_kind(&o.method, PluginKind::Method)?,
        &CapabilitySet::default(),
    )?;
    let mut plan = ask_plugin(&plugin, &req).await.map_err(|e| match e {
        PlanError::Plugin(e) => Failure::plugin(e),
        e if e.is_bad_input() => Failure::bad_input(e),
        e => Failure::io(e),
    })?;
    // The plugin planned; what the host will do with the operator's authority is the host's.
    plan.method = o.method.clone();
    authority::check_answer(&req, &plan)
        .and_then(|()| authority::check_plan(&plan))
        .and_then(|()| authority::with_host_previews(&mut plan))
        .map_err(|e| {
            Failure::bad_input(format!("{}: {e}", o.method))
                .hint("nothing was written: a method plugin that plans outside what you gave is faulty or hostile; update or remove it (sqlmig plugin remove NAME)")
        })?;
    let databases: Vec<String> = plan.databases.iter().map(|d| d.name.clone()).collect();
    let assessed = gate::assess_plan(
        session,
        inventory,
        &inst.name,
        &databases,
        &gate::GateOptions {
            file: o.assessment.as_deref(),
            tier: o.tier,
            policy: o.update_policy,
            accept: &o.accept,
        },
    )
    .await?;
    plan.assessment = Some(assessed.record.clone());
    let moving = match &o.perf {
        Some(p) => {
            let all = PerfFile::read(p).map_err(Failure::bad_input)?.moving(95.0);
            plan.databases
                .iter()
                .filter_map(|d| all.iter().find(|m| m.database == d.name).cloned())
                .collect()
        }
        None => moving_from_inventory(inst, &plan),
    };
    let forecast = attach_forecast(
        &mut plan,
        &moving,
        limits::log_rate_mib_s(o.tier, o.hardware, o.vcores),
        // The run moves `parallel` databases at once: so does the forecast.
        &Assumptions {
            parallel: o.parallel,
            ..Assumptions::default()
        },
    );
    Ok(Planned {
        plan,
        forecast,
        assessed,
    })
}

/// The backup route of the source's platform, when its plugin offers one: a cloud whose
/// instances cannot write to the container themselves.
async fn source_backup_offer(
    session: &Session,
    o: &PlanOptions,
    inst: &Instance,
    req: &PlanRequest,
) -> Result<Option<BackupOffer>, Failure> {
    let platform_name = if inst.platform.is_empty() {
        "onprem"
    } else {
        inst.platform.as_str()
    };
    // A platform whose plugin offers no route (on-prem; one not installed here) backs up to
    // the container itself.
    let installed = match session.platform(platform_name) {
        Ok(p) if p.manifest.offers_backup() => p,
        _ if o.source_options.is_empty() => return Ok(None),
        _ => {
            return Err(Failure::bad_input(format!(
                "--source-option: the source's platform ({platform_name}) takes no options: its \
                 instances back up to the container themselves"
            )));
        }
    };
    let loaded =
        session.load_platform(&installed, CapabilitySet::default(), o.secrets.as_deref())?;
    let offer = ask_backup_offer(
        &loaded.plugin,
        &installed.manifest.name,
        inst,
        req,
        o.source_options.clone(),
    )
    .await
    .map_err(Failure::plugin)?;
    Ok(Some(offer))
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
