//! A run of a plan as the operator starts it: the plan read and checked to stay within its
//! recorded inputs before any secret is read, the secrets read and checked (a SAS that cannot
//! serve, a refused login) before anything moves, the journal locked, the plugins loaded with
//! what the plan grants them, then the [`Executor`]. Or, dry, what the steps left would run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sqlmig_protocol::migration::{CONTAINER, Plan, Runner, SOURCE, StepKind, TARGET};

use super::authority;
use super::host_steps::HostContext;
use super::journal::{self, Journal};
use super::plan_file;
use super::run::{Executor, Retry, RunSummary};
use super::upload::UploadOptions;
use crate::capabilities::credentials::CloudValues;
use crate::capabilities::http::HttpBackend;
use crate::capabilities::state::SqliteStateStore;
use crate::capabilities::{CapabilitySet, Services};
use crate::cloud::CloudHttp;
use crate::credentials::{SecretFor, secret};
use crate::failure::Failure;
use crate::plugins::manifest::PluginKind;
use crate::session::Session;
use crate::sqlserver::source_target::{LoggedIn, Servers, Tls, log_in};
use crate::storage::azure_blob::{AzureBlobBackend, AzureContainer, ContainerAccess};
use crate::storage::sas;
use crate::terminal;

/// A plan read to be run: checked to stay within its recorded inputs, with its SHA-256 (the
/// journal's key) and the steps `--redo` asks to run again.
pub struct Runnable {
    pub plan: Plan,
    pub sha: String,
    pub redo: Vec<String>,
}

/// Reads the plan file `path` to run it: nothing connects before every step is known to stay
/// within the plan's recorded inputs. `redo` names steps to run again (each with the steps
/// after it in its sequence).
pub fn prepare(path: &Path, redo: &[String]) -> Result<Runnable, Failure> {
    let (plan, sha) = plan_file::read(path)?;
    authority::check_plan(&plan).map_err(|e| {
        Failure::bad_input(format!("{}: {e}", path.display())).hint(
            "the plan was edited or written by a faulty or hostile plugin: plan again with `sqlmig migrate plan`",
        )
    })?;
    let redo = steps_to_redo(&plan, redo)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", path.display())))?;
    Ok(Runnable { plan, sha, redo })
}

/// How the operator runs a plan.
pub struct RunOptions {
    /// The plan file (for messages).
    pub plan_file: PathBuf,
    pub journal: PathBuf,
    pub source_user: String,
    pub target_user: String,
    /// The secrets file; the environment otherwise.
    pub secrets: Option<PathBuf>,
    pub tls: Tls,
    pub retry: Retry,
    /// Blocks uploaded at once.
    pub upload_concurrency: usize,
    /// The command that started this run, without secrets, for `migrate status` to give as
    /// the way to resume it.
    pub run_command: String,
}

/// Runs what is left of `runnable` (journaled; a second run of the same plan is refused while
/// the first runs). Fails before anything runs when a secret is missing or cannot serve, a login
/// is refused, or the plugins cannot be loaded.
pub async fn run(
    session: &Session,
    runnable: Runnable,
    o: &RunOptions,
) -> Result<RunSummary, Failure> {
    let Runnable { plan, sha, redo } = runnable;
    let secrets = o.secrets.as_deref();
    let plan_file = o.plan_file.display().to_string();
    let servers = Servers {
        source: &plan.source.server,
        target: &plan.target.server,
        source_user: &o.source_user,
        target_user: &o.target_user,
        secrets,
        tls: o.tls,
        origin: &plan_file,
    };
    let passwords = servers.passwords()?;
    let sas =
        secret(SecretFor::Sas, "the container's SAS token", secrets).map_err(Failure::bad_input)?;
    // A SAS that cannot serve is named now, not as a backup's "operating system error 86".
    let now = chrono::Utc::now();
    let source_major = plan
        .source
        .product_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    let lacks = sas::shortfall(sas::Party::Source, sas.expose(), now, now, source_major);
    if !lacks.is_empty() {
        return Err(Failure::bad_input(format!(
            "the container's SAS ({}, or `{}` in the secrets file): {}",
            SecretFor::Sas.env_var(),
            SecretFor::Sas.file_key(),
            lacks.join("; ")
        ))
        .hint(format!(
            "make new ones with `sqlmig storage prepare --container-url {} --secrets FILE`; `sqlmig storage check --plan {}` checks them",
            plan.storage.container_url,
            o.plan_file.display()
        )));
    }
    // MI's Log Replay Service reads with a SAS of its own (read and list only): had before
    // anything runs, so a missing or writing one stops the run before anything moves.
    let lrs_sas = if plan
        .steps
        .iter()
        .any(|s| s.runner == Runner::Host && s.kind == StepKind::StartLogReplay)
    {
        Some(
            crate::cloud::lrs_sas(&plan.storage.container_url, secrets)
                .map_err(|e| Failure::bad_input(format!("{}: {e}", o.plan_file.display())))?,
        )
    } else {
        None
    };
    let LoggedIn { sql, passwords } = log_in(&servers, passwords).await?;
    let sql = Arc::new(sql);
    let access = ContainerAccess {
        url: plan.storage.container_url.clone(),
        sas: sas.clone(),
    };
    let container = AzureContainer::connect(&access)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", o.plan_file.display())))?;
    // Held until this run ends, however it ends: `migrate status` tells a running step from an
    // interrupted one by it, and a second run of the plan waits its turn.
    let _run = journal::RunLock::acquire(&o.journal).map_err(Failure::bad_input)?;
    let journal = Journal::open(&o.journal, &sha).map_err(Failure::bad_input)?;
    for id in &redo {
        journal.reset(id).map_err(Failure::io)?;
    }
    journal
        .set_meta("run_command", &o.run_command)
        .map_err(Failure::io)?;
    let journal = Arc::new(Mutex::new(journal));
    // A plan for a target resource talks to Azure Resource Manager: the token stays in the
    // host, and goes only to that resource and its databases.
    let management = plan.target.management_url.clone();
    let (cloud, token) = match (&management, &plan.target.resource_id) {
        (Some(origin), Some(resource)) => {
            let token = secret(SecretFor::AzureToken, "Azure Resource Manager", secrets)
                .map_err(Failure::bad_input)?;
            let http =
                CloudHttp::for_resource(origin, token.clone(), resource).map_err(Failure::io)?;
            (Some(Arc::new(http)), Some(token))
        }
        _ => (None, None),
    };
    let granted = CapabilitySet {
        sql: vec![SOURCE.into(), TARGET.into()],
        blob: vec![CONTAINER.into()],
        http: management.iter().cloned().collect(),
        state: true,
        ..Default::default()
    };
    let plugin = session.load(
        &session.plugin_of_kind(&plan.method, PluginKind::Method)?,
        &granted,
    )?;
    let state: Arc<SqliteStateStore> =
        Arc::new(SqliteStateStore::open(&o.journal).map_err(|e| Failure::io(e.to_string()))?);
    // Plugins read the container (backup headers, a cloud's copies) through the host: the SAS
    // stays here.
    let blob = || {
        Arc::new(AzureBlobBackend::new(BTreeMap::from([(
            CONTAINER.to_string(),
            access.clone(),
        )])))
    };
    // A source in a cloud backs up by its platform plugin's route: it reads the source, writes
    // the container (copies from its cloud's storage) and keeps its own state in the journal.
    let platform = match &plan.source_platform {
        Some(name) => {
            let loaded = session.load_platform(
                &session.platform(name)?,
                CapabilitySet {
                    sql: vec![SOURCE.into()],
                    blob: vec![CONTAINER.into()],
                    state: true,
                    ..Default::default()
                },
                secrets,
            )?;
            let services = Services {
                sql: Some(sql.clone()),
                blob: Some(blob()),
                state: Some(state.clone()),
                ..loaded.cloud.clone()
            };
            Some((Arc::new(loaded.plugin), services))
        }
        None => None,
    };
    let services = Services {
        sql: Some(sql.clone()),
        blob: Some(blob()),
        http: cloud.clone().map(|c| c as Arc<dyn HttpBackend>),
        state: Some(state),
        // The management endpoint the plan was made for, which the method's manifest asks for
        // as `$MANAGEMENT_URL`.
        cloud: management.as_deref().map(|origin| {
            Arc::new(CloudValues::settings([(
                authority::MANAGEMENT_URL_SETTING,
                origin,
            )]))
        }),
        ..Default::default()
    };
    let mut secrets_kept = passwords.to_vec();
    secrets_kept.push(sas.clone());
    secrets_kept.extend(token);
    secrets_kept.extend(lrs_sas.clone());
    // Uploads and servers' percent_complete as bars, on a terminal only.
    let bars = terminal::multi(session.quiet);
    let executor = Executor {
        host: HostContext {
            sql,
            cloud,
            container: Some(Arc::new(container)),
            sas,
            lrs_sas,
            mi_location: Default::default(),
            journal: journal.clone(),
            upload: UploadOptions {
                concurrency: o.upload_concurrency,
                ..Default::default()
            },
            bars: bars.clone(),
        },
        plan,
        plugin: Arc::new(plugin),
        services,
        platform,
        journal,
        retry: o.retry,
        quiet: session.quiet,
        bars,
        secrets: secrets_kept,
    };
    executor.run().await.map_err(Failure::io)
}

/// The steps `--redo` names, each with the steps after it in its sequence (its database's, or
/// the instance-wide ones); an id the plan does not hold is an error listing those it does.
fn steps_to_redo(plan: &Plan, redo: &[String]) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for wanted in redo {
        let Some(at) = plan.steps.iter().position(|s| &s.id == wanted) else {
            let known: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
            return Err(format!(
                "--redo {wanted}: the plan has no such step; its steps are {}",
                known.join(", ")
            ));
        };
        let database = &plan.steps[at].database;
        for s in plan.steps[at..].iter().filter(|s| &s.database == database) {
            if !ids.contains(&s.id) {
                ids.push(s.id.clone());
            }
        }
    }
    Ok(ids)
}

/// The steps of `runnable` left by the journal at `journal_path` and what each would run, as
/// text, without connecting to anything: what the host reaches with the operator's
/// credentials, then each step's T-SQL and blob operations.
pub fn preview(runnable: &Runnable, journal_path: &Path) -> Result<String, Failure> {
    let Runnable { plan, sha, redo } = runnable;
    let journal = if journal_path.exists() {
        Some(Journal::open(journal_path, sha).map_err(Failure::bad_input)?)
    } else {
        None
    };
    let mut out = String::from("# the host reaches, with your credentials:\n");
    for line in authority::reach(plan) {
        out.push_str(&format!("#   {line}\n"));
    }
    for s in &plan.steps {
        let state = match &journal {
            Some(j) => j.step(&s.id).map_err(Failure::io)?.state.as_str(),
            None => "pending",
        };
        if state == "done" && !redo.contains(&s.id) {
            out.push_str(&format!("# {} (done)\n", s.id));
            continue;
        }
        out.push_str(&format!("# {}: {}\n", s.id, s.description));
        // A host step shows what the host runs, resolved now; a plugin's step what it wrote.
        let preview = match s.runner {
            Runner::Host => authority::resolve(plan, s)
                .map(|a| authority::preview(&a))
                .map_err(Failure::bad_input)?,
            _ => s.preview.clone(),
        };
        for p in &preview {
            out.push_str(&format!("{p}\n"));
        }
    }
    Ok(out)
}
