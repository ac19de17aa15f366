//! What a plan may make the host do with the operator's authority (logins, the SAS, the ARM
//! token, local files).
//!
//! The operator's inputs — the source and target servers, the container, the local folder, the
//! target's Azure resource and management endpoint — are recorded in the plan as the host
//! resolved them (`source`, `target`, `storage`). Steps the host runs act only on those: a method
//! plugin chooses among them (`source` or `target`) and names databases, files and blobs inside
//! them, never a server, URL or path. `migrate plan` refuses a plugin's plan that changes the
//! recorded inputs; `migrate plan` and `migrate run` refuse a plan whose host steps reach outside
//! them, naming the step and the field, before anything connects.

use std::path::{Path, PathBuf};

use sqlmig_protocol::migration::{
    CredentialArgs, LogReplayArgs, Plan, PlanRequest, Runner, SOURCE, Step, StepKind, TARGET,
    UploadArgs,
};

use super::upload::UploadFile;
use crate::capabilities::blob::blob_name_problem;
use crate::capabilities::http::origin_of;
use crate::sqlserver::{ServerName, quote_name};

/// Azure Resource Manager's endpoint in Azure's public cloud.
pub const AZURE_MANAGEMENT_URL: &str = "https://management.azure.com";

/// A host step as the host will run it, every server, URL and path taken from the plan's
/// recorded inputs.
#[derive(Clone, Debug, PartialEq)]
pub enum HostAction {
    /// CREATE (or ALTER) CREDENTIAL named after the container, with the SAS, at `endpoint`.
    Credential {
        endpoint: &'static str,
        container_url: String,
    },
    /// Files of the local folder uploaded to blobs of the container.
    Upload {
        container_url: String,
        files: Vec<UploadFile>,
    },
    /// The ARM call that starts MI's Log Replay Service on a folder of the container.
    StartLogReplay {
        database_url: String,
        folder_url: String,
        target_name: String,
        collation: String,
        location: Option<String>,
    },
}

/// `create-credential`, `upload`, `start-log-replay`: the step kinds the host runs.
pub const HOST_STEP_KINDS: [StepKind; 3] = [
    StepKind::CreateCredential,
    StepKind::Upload,
    StepKind::StartLogReplay,
];

/// Why a container URL cannot be one (it must be `http(s)://HOST[:PORT]/PATH` with no user,
/// query or fragment).
pub fn container_url_problem(url: &str) -> Option<String> {
    if let Err(e) = origin_of(url) {
        return Some(e.to_string());
    }
    let parsed = url::Url::parse(url).ok()?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        // The query is a SAS more often than not: the message shows the URL without it.
        let mut shown = parsed.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        return Some(format!(
            "'{shown}?…' carries a query or fragment (not shown: it may be a SAS): give the container's URL without its SAS (the SAS comes from SQLMIG_SAS or --secrets; sqlmig storage prepare writes one)"
        ));
    }
    if parsed.path().trim_matches('/').is_empty() {
        return Some(format!("'{url}' names no container"));
    }
    None
}

/// The setting a method plugin's manifest names (`http = ["$MANAGEMENT_URL"]`) to reach the
/// management endpoint its plan was made for (`migrate plan --management-url`): the operator points
/// it elsewhere (a sovereign cloud, a test double) the way `$AWS_ENDPOINT_URL` points RDS's.
pub const MANAGEMENT_URL_SETTING: &str = "MANAGEMENT_URL";

/// Why `url` cannot be a management endpoint (it must be an origin: `https://HOST[:PORT]`).
pub fn management_url_problem(url: &str) -> Option<String> {
    match origin_of(url) {
        Err(e) => Some(e.to_string()),
        Ok(origin) if origin != url.trim_end_matches('/') => Some(format!(
            "'{url}' is more than an origin: give scheme, host and port only ({origin})"
        )),
        Ok(_) => None,
    }
}

/// Why `id` is not a Managed Instance's resource id
/// (`/subscriptions/S/resourceGroups/G/providers/Microsoft.Sql/managedInstances/NAME`).
pub fn resource_id_problem(id: &str) -> Option<String> {
    let segments: Vec<&str> = id
        .strip_prefix('/')
        .unwrap_or_default()
        .split('/')
        .collect();
    let shape = [
        "subscriptions",
        "",
        "resourceGroups",
        "",
        "providers",
        "Microsoft.Sql",
        "managedInstances",
        "",
    ];
    let fits = id.starts_with('/')
        && segments.len() == shape.len()
        && segments.iter().zip(shape).all(|(s, want)| {
            let named = !s.is_empty()
                && !matches!(*s, "." | "..")
                && s.chars()
                    .all(|c| !c.is_control() && !c.is_whitespace() && !"?#%\\".contains(c));
            named && (want.is_empty() || s.eq_ignore_ascii_case(want))
        });
    (!fits).then(|| {
        format!(
            "'{id}' is not a Managed Instance's resource id: write /subscriptions/ID/resourceGroups/GROUP/providers/Microsoft.Sql/managedInstances/NAME (az sql mi show --query id)"
        )
    })
}

/// Why the host refuses a plan, a plugin's answer or a plan file alike: where, and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The plugin's answer changed what the operator gave.
    #[error(
        "answered a plan with {what} {answered} where you gave {asked}. A method plugin may not \
         choose where the host connects or what it reads"
    )]
    ChangedInput {
        what: &'static str,
        asked: String,
        answered: String,
    },
    /// A recorded input is malformed.
    #[error("{field}: {why}")]
    Input { field: &'static str, why: String },
    /// A step reaches outside the plan's inputs, or cannot be resolved against them.
    #[error("step {step}: {why}")]
    Step { step: String, why: String },
}

/// A plugin's plan for `req`: refused when it changes what the operator gave (servers,
/// container, folders, target resource, the source platform's route).
pub fn check_answer(req: &PlanRequest, plan: &Plan) -> Result<(), Refusal> {
    fn same<T: PartialEq + std::fmt::Debug>(
        what: &'static str,
        asked: &T,
        answered: &T,
    ) -> Result<(), Refusal> {
        if asked == answered {
            return Ok(());
        }
        Err(Refusal::ChangedInput {
            what,
            asked: format!("{asked:?}"),
            answered: format!("{answered:?}"),
        })
    }
    same("source server", &req.source.server, &plan.source.server)?;
    same("target server", &req.target.server, &plan.target.server)?;
    same(
        "target resource",
        &req.target.managed_database_url(""),
        &plan.target.managed_database_url(""),
    )?;
    // Each alone too: a resource id without its endpoint has no URL to compare.
    same(
        "target resource id",
        &req.target.resource_id,
        &plan.target.resource_id,
    )?;
    same(
        "management endpoint",
        &req.target.management_url,
        &plan.target.management_url,
    )?;
    same(
        "storage container",
        &req.storage.container_url,
        &plan.storage.container_url,
    )?;
    same(
        "local folder",
        &req.storage.local_folder,
        &plan.storage.local_folder,
    )?;
    same(
        "source folder",
        &req.storage.source_folder,
        &plan.storage.source_folder,
    )?;
    same(
        "the source platform",
        &req.source_backup.as_ref().map(|o| o.plugin.clone()),
        &plan.source_platform,
    )
}

/// Checks the whole plan: its recorded inputs are well formed, and every step stays within them
/// (host steps resolve, watches name the source or the target, steps name planned databases).
pub fn check_plan(plan: &Plan) -> Result<(), Refusal> {
    let input = |field: &'static str, why: String| Refusal::Input { field, why };
    for (field, side) in [
        ("source.server", &plan.source),
        ("target.server", &plan.target),
    ] {
        ServerName::parse(&side.server).map_err(|e| input(field, e.to_string()))?;
    }
    if let Some(why) = container_url_problem(&plan.storage.container_url) {
        return Err(input("storage.container_url", why));
    }
    if let Some(folder) = &plan.storage.local_folder
        && !Path::new(folder).is_absolute()
    {
        return Err(input(
            "storage.local_folder",
            format!("{folder:?} is not an absolute path"),
        ));
    }
    match (&plan.target.resource_id, &plan.target.management_url) {
        (None, None) => {}
        (Some(id), Some(url)) => {
            if let Some(why) = resource_id_problem(id) {
                return Err(input("target.resource_id", why));
            }
            if let Some(why) = management_url_problem(url) {
                return Err(input("target.management_url", why));
            }
        }
        _ => {
            return Err(input(
                "target",
                "resource_id and management_url go together: plan again with --target-resource"
                    .into(),
            ));
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for step in &plan.steps {
        let at = |why: String| Refusal::Step {
            step: step.id.clone(),
            why,
        };
        if !ids.insert(step.id.as_str()) {
            return Err(at("the plan holds two steps of this id".into()));
        }
        if !step.database.is_empty() && !plan.databases.iter().any(|d| d.name == step.database) {
            return Err(at(format!(
                "database {:?} is not one the plan moves",
                step.database
            )));
        }
        if let Some(w) = &step.watch
            && w.endpoint != SOURCE
            && w.endpoint != TARGET
        {
            return Err(at(format!(
                "watch.endpoint {:?}: a step watches the source or the target",
                w.endpoint
            )));
        }
        match step.runner {
            Runner::Host => {
                resolve(plan, step)?;
            }
            Runner::Platform if plan.source_platform.is_none() => {
                return Err(at(
                    "it is for the source's platform plugin, and the plan names none (source_platform)".into(),
                ));
            }
            _ if HOST_STEP_KINDS.contains(&step.kind) => {
                return Err(at(format!(
                    "a {} step is the host's to run (runner: host)",
                    step.kind
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The host step `step` of `plan`, resolved against the plan's recorded inputs.
pub fn resolve(plan: &Plan, step: &Step) -> Result<HostAction, Refusal> {
    resolve_step(plan, step).map_err(|why| Refusal::Step {
        step: step.id.clone(),
        why,
    })
}

/// [`resolve`], the reason of a refusal in words.
fn resolve_step(plan: &Plan, step: &Step) -> Result<HostAction, String> {
    fn args<T: serde::de::DeserializeOwned>(step: &Step) -> Result<T, String> {
        serde_json::from_value(step.args.clone()).map_err(|e| {
            format!(
                "the arguments of a {} step: {e} (the host takes only the names it resolves itself; plan again with this sqlmig)",
                step.kind
            )
        })
    }
    let container_url = plan.storage.container_url.trim_end_matches('/').to_string();
    match &step.kind {
        StepKind::CreateCredential => {
            let a: CredentialArgs = args(step)?;
            let endpoint = match a.endpoint.as_str() {
                SOURCE => SOURCE,
                TARGET => TARGET,
                other => {
                    return Err(format!(
                        "endpoint {other:?}: a credential is created on the source or the target"
                    ));
                }
            };
            Ok(HostAction::Credential {
                endpoint,
                container_url,
            })
        }
        StepKind::Upload => {
            let a: UploadArgs = args(step)?;
            let folder = plan.storage.local_folder.as_deref().ok_or(
                "an upload reads the local folder, and the plan has none (plan again with --local-folder)",
            )?;
            if a.files.len() != a.blobs.len() || a.files.is_empty() {
                return Err(format!(
                    "{} file(s) for {} blob(s): an upload names each file's blob",
                    a.files.len(),
                    a.blobs.len()
                ));
            }
            let mut files = Vec::new();
            for (file, blob) in a.files.iter().zip(&a.blobs) {
                if let Some(why) = file_name_problem(file) {
                    return Err(format!(
                        "files: {file:?} {why}: an upload names files of the local folder ({folder})"
                    ));
                }
                if let Some(why) = blob_name_problem(blob) {
                    return Err(format!("blobs: {why}"));
                }
                files.push(UploadFile {
                    local: PathBuf::from(folder).join(file),
                    blob: blob.clone(),
                });
            }
            Ok(HostAction::Upload {
                container_url,
                files,
            })
        }
        StepKind::StartLogReplay => {
            let a: LogReplayArgs = args(step)?;
            let planned = plan
                .databases
                .iter()
                .find(|d| d.name == a.database && d.name == step.database)
                .ok_or_else(|| {
                    format!(
                        "database {:?} is not the step's planned database {:?}",
                        a.database, step.database
                    )
                })?;
            if planned.target_name != a.target_name || a.target_name.chars().all(|c| c == '.') {
                return Err(format!(
                    "target_name {:?}: the plan restores {} as {:?}",
                    a.target_name, planned.name, planned.target_name
                ));
            }
            if let Some(why) = blob_name_problem(&a.folder) {
                return Err(format!("folder: {why}"));
            }
            let database_url = plan
                .target
                .managed_database_url(&a.target_name)
                .ok_or("log replay calls Azure Resource Manager, and the plan records no target resource (plan again with --target-resource)")?;
            Ok(HostAction::StartLogReplay {
                database_url,
                folder_url: format!("{container_url}/{}", a.folder.trim_end_matches('/')),
                target_name: a.target_name,
                collation: a.collation,
                location: a.location,
            })
        }
        other => Err(format!(
            "the host runs no step of kind {other} (it runs {}); the plan is from another sqlmig",
            HOST_STEP_KINDS.map(|k| k.to_string()).join(", ")
        )),
    }
}

/// Why `name` is not a plain file name (one path component, no link to a parent).
fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        Some("is not 1 to 255 characters")
    } else if name.contains(['/', '\\', '\0']) || matches!(name, "." | "..") {
        Some("is not a plain file name")
    } else {
        None
    }
}

/// What the host will run for `action`, as `migrate plan` and `--dry-run` show it.
pub fn preview(action: &HostAction) -> Vec<String> {
    match action {
        HostAction::Credential {
            endpoint,
            container_url,
        } => vec![format!(
            "{endpoint}: CREATE CREDENTIAL {} WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '***' (the SAS; ALTER when it exists)",
            quote_name(container_url)
        )],
        HostAction::Upload {
            container_url,
            files,
        } => files
            .iter()
            .map(|f| {
                format!(
                    "blob: put {} as {container_url}/{} (staged blocks, MD5 per block)",
                    f.local.display(),
                    f.blob
                )
            })
            .collect(),
        HostAction::StartLogReplay {
            database_url,
            folder_url,
            collation,
            location,
            ..
        } => vec![format!(
            "ARM: PUT {database_url} {{location: {}, properties: {{createMode: RestoreExternalBackup, storageContainerUri: {folder_url}, storageContainerSasToken: *** (read and list only), collation: {collation}, autoCompleteRestore: false}}}} (with the ARM token)",
            location.as_deref().unwrap_or("the managed instance's")
        )],
    }
}

/// The plan with each host step's preview written by the host from what it will run.
pub fn with_host_previews(plan: &mut Plan) -> Result<(), Refusal> {
    let previews: Vec<Option<Vec<String>>> = plan
        .steps
        .iter()
        .map(|s| match s.runner {
            Runner::Host => resolve(plan, s).map(|a| Some(preview(&a))),
            _ => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    for (step, p) in plan.steps.iter_mut().zip(previews) {
        if let Some(p) = p {
            step.preview = p;
        }
    }
    Ok(())
}

/// Everything the run reaches with the operator's authority, one line each.
pub fn reach(plan: &Plan) -> Vec<String> {
    let mut lines = vec![
        format!(
            "source  SQL Server {} (login --source-user, SQLMIG_SOURCE_PASSWORD)",
            plan.source.server
        ),
        format!(
            "target  SQL Server {} (login --target-user, SQLMIG_TARGET_PASSWORD)",
            plan.target.server
        ),
        format!(
            "storage {} (SAS from SQLMIG_SAS)",
            plan.storage.container_url
        ),
    ];
    if plan.steps.iter().any(|s| s.kind == StepKind::Upload) {
        lines.push(format!(
            "files   read from {}",
            plan.storage.local_folder.as_deref().unwrap_or("(none)")
        ));
    }
    if let (Some(url), Some(id)) = (&plan.target.management_url, &plan.target.resource_id) {
        lines.push(format!(
            "ARM     {url} (token from SQLMIG_AZURE_TOKEN, only for {id} and its databases)"
        ));
    }
    if let Some(p) = &plan.source_platform {
        lines.push(format!(
            "cloud   what the {p} plugin is granted (its manifest's credentials and hosts)"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_and_management_urls_are_checked_by_shape() {
        let good =
            "/subscriptions/0000/resourceGroups/rg-1/providers/Microsoft.Sql/managedInstances/mi01";
        assert_eq!(resource_id_problem(good), None);
        assert_eq!(resource_id_problem(&good.to_lowercase()), None);
        for bad in [
            "",
            "subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01/databases/x",
            "/subscriptions/0000/resourceGroups/../providers/Microsoft.Sql/managedInstances/mi01",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01?x=1",
            "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/m%2F",
        ] {
            assert!(resource_id_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(management_url_problem("https://management.azure.com"), None);
        assert_eq!(management_url_problem("http://127.0.0.1:8080/"), None);
        for bad in [
            "https://management.azure.com/subscriptions",
            "https://evil.example\\.azure.com",
            "https://user@management.azure.com",
            "ftp://management.azure.com",
        ] {
            assert!(management_url_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(
            container_url_problem("https://acct.blob.core.windows.net/migration"),
            None
        );
        for bad in [
            "https://acct.blob.core.windows.net/",
            "https://acct.blob.core.windows.net/c?sv=2022&sig=x",
            "https://acct.blob.core.windows.net/c#x",
        ] {
            assert!(container_url_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn file_names_are_one_component() {
        assert_eq!(file_name_problem("Sales_full_1of2.bak"), None);
        for bad in ["", ".", "..", "../x", "/etc/passwd", "a\\b", "a/b"] {
            assert!(file_name_problem(bad).is_some(), "{bad}");
        }
    }
}
