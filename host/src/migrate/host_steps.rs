//! The steps the host runs itself because they need what plugins never see: the SAS token
//! (`create-credential`, `start-log-replay`), the ARM token (`start-log-replay`) and local files
//! (`upload`). Each acts only on what the plan recorded of the operator's inputs
//! (`authority::resolve`).

use std::sync::{Arc, Mutex};

use indicatif::MultiProgress;
use serde_json::{Value, json};
use sqlmig_protocol::migration::{Plan, Step};

use super::authority::{self, HostAction};
use super::journal::Journal;
use super::run::StepFailure;
use super::upload::{UploadFile, UploadOptions, upload};
use crate::capabilities::sql::{Param, SqlBackend, SqlValue};
use crate::secret::{Secret, redact};
use crate::sqlserver::quote_name;
use crate::storage::azure_blob::AzureContainer;
use crate::terminal;

/// What host steps work with.
pub struct HostContext {
    pub sql: Arc<dyn SqlBackend>,
    /// Azure Resource Manager, for online plans (the token is in it).
    pub cloud: Option<Arc<crate::cloud::CloudHttp>>,
    pub container: Option<Arc<AzureContainer>>,
    /// The source's SAS: it writes backups with it.
    pub sas: Secret,
    /// The SAS MI's Log Replay Service reads with (read and list only), for online plans.
    pub lrs_sas: Option<Secret>,
    /// The managed instance's region, read once for all the plan's databases (they are on the
    /// one instance the plan names).
    pub mi_location: tokio::sync::OnceCell<String>,
    pub journal: Arc<Mutex<Journal>>,
    pub upload: UploadOptions,
    /// Where the upload's bar is drawn (on a terminal only).
    pub bars: MultiProgress,
}

/// Runs a host step of `plan`, resolved against the plan's recorded inputs (never a server,
/// URL or path of the step's own).
pub async fn run(
    ctx: &HostContext,
    plan: &Plan,
    step: &Step,
) -> Result<(String, Value), StepFailure> {
    let action =
        authority::resolve(plan, step).map_err(|e| StepFailure::permanent(e.to_string()))?;
    match action {
        HostAction::Credential {
            endpoint,
            container_url,
        } => create_credential(ctx, endpoint, &container_url).await,
        HostAction::Upload { files, .. } => upload_files(ctx, &step.database, files).await,
        HostAction::StartLogReplay {
            database_url,
            folder_url,
            target_name,
            collation,
            location,
        } => {
            start_log_replay(
                ctx,
                &database_url,
                &folder_url,
                &target_name,
                &collation,
                location,
            )
            .await
        }
    }
}

/// CREATE (or ALTER) CREDENTIAL [container URL] WITH IDENTITY = 'SHARED ACCESS SIGNATURE',
/// SECRET = '…': CREDENTIAL statements take no parameters, so the name is a quoted identifier
/// and the secret an escaped literal; the statement is never logged and errors are redacted.
async fn create_credential(
    ctx: &HostContext,
    endpoint: &str,
    container_url: &str,
) -> Result<(String, Value), StepFailure> {
    let redacted =
        |e: crate::capabilities::CapabilityError| StepFailure::from_capability(&e, &[&ctx.sas]);
    let mut session = ctx.sql.connect(endpoint).await.map_err(redacted)?;
    let sets = session
        .query(
            "SELECT COUNT(*) AS n FROM sys.credentials WHERE name = @name",
            &[Param {
                name: "name".into(),
                value: SqlValue::Text(container_url.to_string()),
            }],
        )
        .await
        .map_err(redacted)?;
    let exists = matches!(sets.first().and_then(|s| s.rows.first()).and_then(|r| r.first()), Some(SqlValue::Int(n)) if *n > 0);
    let verb = if exists { "ALTER" } else { "CREATE" };
    let secret = ctx.sas.expose().trim_start_matches('?').replace('\'', "''");
    let statement = format!(
        "{verb} CREDENTIAL {} WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{secret}'",
        quote_name(container_url)
    );
    session.execute(&statement, &[]).await.map_err(redacted)?;
    Ok((
        format!("{endpoint} has a credential for {container_url}"),
        json!({ "endpoint": endpoint, "altered": exists }),
    ))
}

async fn upload_files(
    ctx: &HostContext,
    database: &str,
    files: Vec<UploadFile>,
) -> Result<(String, Value), StepFailure> {
    let container = ctx.container.as_ref().ok_or_else(|| {
        StepFailure::permanent(
            "the upload needs the container: give --container-url and its SAS".to_string(),
        )
    })?;
    let bar = ctx.bars.add(terminal::counter(0, terminal::UPLOAD));
    bar.set_prefix(database.to_string());
    let report = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let stats = upload(container, &files, Some(&ctx.journal), ctx.upload, &report)
        .await
        .map_err(|e| {
            let message = redact(&e.to_string(), &[&ctx.sas]);
            if e.transient() {
                StepFailure::transient(message)
            } else {
                StepFailure::permanent(message)
            }
        })?;
    bar.finish_and_clear();
    let mb = stats.bytes as f64 / 1048576.0;
    Ok((
        format!(
            "uploaded {} file(s), {mb:.1} MB in {:.1} s ({:.1} MB/s){}",
            files.len(),
            stats.seconds,
            mb / stats.seconds.max(1e-6),
            if stats.blocks_skipped > 0 {
                format!(", {} block(s) already stored", stats.blocks_skipped)
            } else {
                String::new()
            }
        ),
        json!({ "bytes": stats.bytes, "seconds": stats.seconds, "blocks_sent": stats.blocks_sent, "blocks_skipped": stats.blocks_skipped }),
    ))
}

/// Starts MI's Log Replay Service on the database's folder; a replay an earlier attempt started
/// is left running (asking its restore details tells whether there is one).
async fn start_log_replay(
    ctx: &HostContext,
    database_url: &str,
    folder_url: &str,
    target_name: &str,
    collation: &str,
    location: Option<String>,
) -> Result<(String, Value), StepFailure> {
    use crate::capabilities::http::{HttpBackend, HttpRequest};
    let cloud = ctx.cloud.as_ref().ok_or_else(|| {
        StepFailure::permanent("an online plan needs Azure Resource Manager: set SQLMIG_AZURE_TOKEN (az account get-access-token)".to_string())
    })?;
    let details = cloud
        .send(HttpRequest {
            method: "GET".into(),
            url: sqlmig_protocol::migration::arm::restore_details(database_url),
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await
        .map_err(|e| StepFailure::from_capability(&e, &[&ctx.sas]))?;
    if details.status == 200 {
        return Ok((
            format!("log replay of {target_name} was already running"),
            json!({ "resumed": true }),
        ));
    }
    let sas = ctx.lrs_sas.as_ref().ok_or_else(|| {
        StepFailure::permanent(
            "starting log replay needs a read+list SAS for LRS: set SQLMIG_LRS_SAS or SQLMIG_STORAGE_KEY".to_string(),
        )
    })?;
    let location = match location {
        Some(l) => l,
        None => ctx
            .mi_location
            .get_or_try_init(|| crate::cloud::instance_location(cloud, database_url))
            .await
            .map_err(arm_failure)?
            .clone(),
    };
    crate::cloud::start_log_replay(cloud, database_url, folder_url, sas, collation, &location)
        .await
        .map_err(arm_failure)?;
    Ok((
        format!("log replay of {target_name} started on {folder_url}"),
        json!({ "folder_url": folder_url, "location": location }),
    ))
}

/// A failed ARM call as the step's failure: tried again when ARM was unreachable, slow,
/// throttling or failing (by the error's type), not when it refused.
fn arm_failure(e: crate::cloud::ArmError) -> StepFailure {
    if e.transient() {
        StepFailure::transient(e.to_string())
    } else {
        StepFailure::permanent(e.to_string())
    }
}
