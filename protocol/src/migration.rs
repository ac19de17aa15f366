//! The documents between the host's migrate engine and a method plugin: what to move (`plan`
//! request), the plan (`sqlmig.plan/1`, written to plan.json), one step to run (`run-step`) and
//! what it did. Secrets never appear in them: the host holds passwords and SAS tokens, and runs
//! the steps that need one itself (`runner: host`).

use serde::{Deserialize, Serialize};

/// The `schema` of a plan request.
pub const PLAN_REQUEST: &str = "sqlmig.plan-request/1";
/// The `schema` of a plan.
pub const PLAN: &str = "sqlmig.plan/1";
/// The `schema` of a step request.
pub const STEP_REQUEST: &str = "sqlmig.step-request/1";
/// The `schema` of a step's result.
pub const STEP_RESULT: &str = "sqlmig.step-result/1";
/// The `schema` of the request a source's platform plugin answers with its backup route.
pub const BACKUP_OFFER_REQUEST: &str = "sqlmig.backup-offer-request/1";
/// The `schema` of a platform plugin's backup route.
pub const BACKUP_OFFER: &str = "sqlmig.backup-offer/1";

/// The SQL endpoint name of the source in plugin calls.
pub const SOURCE: &str = "source";
/// The SQL endpoint name of the target in plugin calls.
pub const TARGET: &str = "target";
/// The blob container's name in plugin calls.
pub const CONTAINER: &str = "backups";

/// The plugin-state key under which `sqlmig migrate cutover` records when the cutover of
/// `database` was asked for (milliseconds since the epoch, as text), in the scope of the plan's
/// method and of its source platform.
pub fn cutover_key(database: &str) -> String {
    format!("cutover/{database}")
}

/// One side of the move.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// As SQL Server tools name it: `HOST[\INSTANCE][,PORT]`.
    pub server: String,
    /// `13.0.6300.0`; empty when not known.
    #[serde(default)]
    pub product_version: String,
    /// `onprem`, `rds`, `cloudsql`, `mi`.
    #[serde(default)]
    pub platform: String,
    /// `SERVERPROPERTY('Edition')`: `Standard Edition (64-bit)`; empty when not known. What
    /// a source's backups may use follows from it (Express and Web neither compress nor back
    /// up to URL).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub edition: String,
    /// The target's Azure resource id
    /// (`/subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/managedInstances/NAME`), for
    /// methods that call Azure Resource Manager; as the operator gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The Azure Resource Manager origin those calls go to (`https://management.azure.com`),
    /// set with `resource_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_url: Option<String>,
}

impl Side {
    /// (major, minor, build) of the product version; zeros when unknown.
    pub fn version(&self) -> (u32, u32, u32) {
        let mut parts = self
            .product_version
            .split('.')
            .map(|p| p.parse().unwrap_or(0));
        (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        )
    }

    /// The ARM URL of the managed database `database` on this target
    /// (`{management_url}{resource_id}/databases/{database}`, the name percent-encoded), when the
    /// operator gave the target's resource id.
    pub fn managed_database_url(&self, database: &str) -> Option<String> {
        let management = self.management_url.as_deref()?.trim_end_matches('/');
        let instance = self.resource_id.as_deref()?;
        let mut name = String::with_capacity(database.len());
        for b in database.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    name.push(b as char)
                }
                _ => name.push_str(&format!("%{b:02X}")),
            }
        }
        Some(format!("{management}{instance}/databases/{name}"))
    }
}

/// The Azure Resource Manager API version sqlmig speaks to `Microsoft.Sql` managed instances and
/// their databases (azure-rest-api-specs `specification/sql/resource-manager/Microsoft.Sql/
/// stable/2023-08-01`): the host's calls and the method plugins' alike.
pub const ARM_API_VERSION: &str = "2023-08-01";

/// The URLs of the ARM operations on a managed database (`database_url`, from
/// [`Side::managed_database_url`]) that a migration uses, each with its API version.
pub mod arm {
    use super::ARM_API_VERSION;

    /// `GET`/`PUT` of the resource itself (a database, or the instance it is under).
    pub fn resource(url: &str) -> String {
        format!("{url}?api-version={ARM_API_VERSION}")
    }

    /// `GET`: the Log Replay Service's progress (ManagedDatabaseRestoreDetails.json).
    pub fn restore_details(database_url: &str) -> String {
        format!("{database_url}/restoreDetails/Default?api-version={ARM_API_VERSION}")
    }

    /// `POST`: completes the Log Replay Service's restore (ManagedDatabases.json,
    /// `completeRestore`).
    pub fn complete_restore(database_url: &str) -> String {
        format!("{database_url}/completeRestore?api-version={ARM_API_VERSION}")
    }
}

/// Where backups go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storage {
    /// The container's URL, without a SAS (`https://acct.blob.core.windows.net/backups`).
    pub container_url: String,
    /// A folder the source server writes backups to (`BACKUP … TO DISK`), as the source sees it,
    /// for sources that cannot back up to a URL; the host uploads from `local_folder`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_folder: Option<String>,
    /// The same folder as this machine sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_folder: Option<String>,
}

/// A database to move.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabaseToMove {
    pub name: String,
    /// Its name on the target (the same unless renamed).
    pub target_name: String,
    /// Data and log size.
    pub size_mb: f64,
    #[serde(default)]
    pub recovery_model: String,
}

/// What the host asks a method plugin to plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub schema: String,
    pub source: Side,
    pub target: Side,
    pub storage: Storage,
    pub databases: Vec<DatabaseToMove>,
    /// Databases moved at once.
    pub parallelism: u32,
    /// The method's own options (`sqlmig migrate plan --option key=value`).
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The source's platform backs databases up by its own route (the source cannot write to
    /// the container): backups are `runner: platform` steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup: Option<BackupOffer>,
}

/// Who runs a step: the method plugin (`run-step`), the host (steps that need a secret or local
/// files: `create-credential`, `upload`), or the source's platform plugin (a backup by its
/// cloud's own route, which lands the files in the container).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runner {
    #[default]
    Plugin,
    Host,
    Platform,
}

/// What the host asks a source's platform plugin (its `plan` hook) before planning: how would
/// it back these databases up into the container?
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupOfferRequest {
    pub schema: String,
    /// The source instance, as the inventory has it.
    pub instance: String,
    /// What its cloud's API said of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<crate::CloudResource>,
    pub databases: Vec<DatabaseToMove>,
    /// The container the backups must land in.
    pub container_url: String,
    /// The operator's options for the platform (`sqlmig migrate plan --source-option k=v`).
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// A source platform's backup route: how its plugin lands native backups in the container when
/// the source cannot write there itself (RDS through S3, Cloud SQL through Cloud Storage).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupOffer {
    pub schema: String,
    /// The platform plugin that runs the backups (set by the host).
    #[serde(default)]
    pub plugin: String,
    /// One line for the plan: `rds_backup_database to s3://bucket/prefix, copied to the container`.
    pub route: String,
    /// The backup types it takes: `full`, `diff`, `log`.
    pub kinds: Vec<String>,
    /// The most files one backup may be striped over.
    pub max_stripes: u32,
    /// The route's settled parameters, handed back in each backup step's `route` argument.
    #[serde(default)]
    pub parameters: serde_json::Value,
}

/// One idempotent step.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique in the plan: `Sales/backup`.
    pub id: String,
    /// The database it works on (empty for instance-wide steps).
    #[serde(default)]
    pub database: String,
    /// What it does.
    pub kind: StepKind,
    #[serde(default)]
    pub runner: Runner,
    /// One line for people.
    pub description: String,
    /// The step's parameters (no secrets).
    #[serde(default)]
    pub args: serde_json::Value,
    /// The T-SQL or blob operations it will run, for `--dry-run` (values shown as written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<String>,
    /// Expected duration, from the forecast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_s: Option<f64>,
    /// A server-side operation whose progress the host shows while the step runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<Watch>,
}

/// What a step does: the kinds the first-party methods and platforms plan, shared by the plugins
/// that plan and run them and the host that estimates, watches and runs some of them. In a plan
/// each is its kebab-case name; a kind another method plugin invents is kept as written
/// (`Other`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// A SAS credential for the container on an endpoint (host-run).
    CreateCredential,
    /// A database's full backup (offline), or a platform's backup of either type.
    Backup,
    /// The full backup that begins a log replay (online).
    BackupFull,
    /// Backup files uploaded from the local folder (host-run).
    Upload,
    /// RESTORE FROM URL on the target.
    Restore,
    /// Row counts and checksums compared.
    Verify,
    /// MI's Log Replay Service started on the database's folder (host-run).
    StartLogReplay,
    /// Log backups shipped until the cutover is asked for.
    Replicate,
    /// A platform's own log backups shipped until the cutover.
    ShipLogs,
    /// A platform's first log backup after the cutover was asked for.
    FinalLog,
    /// The tail, the last restore, the database online on the target.
    Cutover,
    /// A kind sqlmig does not know.
    #[serde(untagged)]
    Other(String),
}

impl StepKind {
    /// The kind as plans write it.
    pub fn as_str(&self) -> &str {
        match self {
            StepKind::CreateCredential => "create-credential",
            StepKind::Backup => "backup",
            StepKind::BackupFull => "backup-full",
            StepKind::Upload => "upload",
            StepKind::Restore => "restore",
            StepKind::Verify => "verify",
            StepKind::StartLogReplay => "start-log-replay",
            StepKind::Replicate => "replicate",
            StepKind::ShipLogs => "ship-logs",
            StepKind::FinalLog => "final-log",
            StepKind::Cutover => "cutover",
            StepKind::Other(s) => s,
        }
    }
}

impl From<&str> for StepKind {
    /// The kind a plan's name stands for (`Other` when sqlmig knows no such kind).
    fn from(name: &str) -> Self {
        serde_json::from_value(serde_json::Value::String(name.to_string()))
            .unwrap_or_else(|_| StepKind::Other(name.to_string()))
    }
}

impl Default for StepKind {
    fn default() -> Self {
        StepKind::Other(String::new())
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The arguments of a `create-credential` step (`runner: host`): the endpoint (`source` or
/// `target`) that gets a SAS credential for the plan's container. The host names the
/// credential after `storage.container_url` and supplies the SAS; a plan cannot point it
/// anywhere else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialArgs {
    pub endpoint: String,
}

/// The arguments of an `upload` step (`runner: host`): files of the plan's
/// `storage.local_folder`, by name, each uploaded to the blob of the same position in `blobs`
/// (names inside the plan's container).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadArgs {
    pub files: Vec<String>,
    pub blobs: Vec<String>,
}

/// The arguments of a `start-log-replay` step (`runner: host`): MI's Log Replay Service
/// restores `database` as `target_name` from `folder` (inside the plan's container). The host
/// makes the ARM call to the target's resource (`Side::managed_database_url`) with the
/// operator's token and the read+list SAS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogReplayArgs {
    pub database: String,
    pub target_name: String,
    pub folder: String,
    pub collation: String,
    /// The instance's region, when the operator gave it; read from the instance otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// What to watch in `sys.dm_exec_requests` while a step runs: the request whose command matches
/// `command` (a LIKE pattern, `BACKUP%`) on `database`, at `endpoint`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    pub endpoint: String,
    pub command: String,
    pub database: String,
}

/// A database in the plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannedDatabase {
    pub name: String,
    pub target_name: String,
    pub size_mb: f64,
    /// Blobs the full backup is striped over.
    pub stripes: u32,
    /// `url` (BACKUP TO URL) or `disk` (TO DISK, then uploaded).
    pub backup_to: String,
}

/// A plan: what runs, in which order (steps of a database in order; databases in parallel).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: String,
    /// The method plugin that planned it and runs its steps.
    pub method: String,
    pub source: Side,
    pub target: Side,
    pub storage: Storage,
    pub parallelism: u32,
    pub databases: Vec<PlannedDatabase>,
    pub steps: Vec<Step>,
    /// What the planner wants the DBA to know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The move forecast (sizing), as the host computed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<serde_json::Value>,
    /// The platform plugin that runs the plan's `runner: platform` steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_platform: Option<String>,
    /// What the assessment said of the planned databases when the host planned (methods leave
    /// it empty; the host fills it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<PlanAssessment>,
}

/// The assessment a plan was made against: which rules ran for which target, the warnings shown,
/// and the findings the DBA accepted (`--accept RULE`), kept so a reviewer sees who let what
/// through.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanAssessment {
    /// The rule packs that ran (`rules-mi 0.3.0`), or the assessment file read.
    pub by: Vec<String>,
    /// The target tier assessed for (`mi-gp`).
    pub target: String,
    /// The rules named with `--accept`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_rules: Vec<String>,
    /// The issues and warnings those rules raised, let through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<PlanFinding>,
    /// Warnings on the planned databases, shown when planning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PlanFinding>,
}

/// A finding as a plan keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFinding {
    pub rule_id: String,
    /// `issue` or `warning`.
    pub level: String,
    /// The database, or none for the instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub message: String,
}

/// What the host asks a method plugin to run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRequest {
    pub schema: String,
    pub step: Step,
    /// 1 on the first try; more after a crash or a transient failure.
    pub attempt: u32,
    /// True when an earlier attempt started and was not seen to finish (a crash): the step must
    /// find out what that attempt did before doing it again.
    #[serde(default)]
    pub resumed: bool,
}

/// What a step did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub schema: String,
    /// One line for people.
    pub message: String,
    /// What later steps or the report may need (row counts, LSNs, …).
    #[serde(default)]
    pub output: serde_json::Value,
    /// The step is not finished: it handed back before its hook's deadline (a replication
    /// that runs for days does so every hour) and the host calls it again at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub again: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_kinds_read_and_write_their_plan_names() {
        for (name, kind) in [
            ("backup-full", StepKind::BackupFull),
            ("start-log-replay", StepKind::StartLogReplay),
            ("create-credential", StepKind::CreateCredential),
            ("sync-logins", StepKind::Other("sync-logins".into())),
        ] {
            let read: StepKind = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(read, kind);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
            assert_eq!(StepKind::from(name), kind);
            assert_eq!(kind.as_str(), name);
        }
    }
}
