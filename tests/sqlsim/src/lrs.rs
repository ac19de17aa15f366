//! A test double of Azure SQL Managed Instance's **Log Replay Service** (LRS), the Azure Resource
//! Manager API that restores a folder of backups on MI and keeps restoring the log backups that
//! arrive, until a completion names the last one. It holds the product to what Microsoft's pages
//! and the ARM spec (`Microsoft.Sql/stable/2023-08-01`) say, stricter where they are unclear
//! (`docs/fidelity.md` has a row for each rule and the test that proves it):
//!
//! - `GET …/managedInstances/{mi}` — the instance, with its `location`;
//! - `PUT …/managedInstances/{mi}/databases/{db}` with `location` (required by the
//!   ManagedDatabase schema; the instance's own), `createMode: RestoreExternalBackup`,
//!   `storageContainerUri` (the folder), `storageContainerSasToken` (Read and List only, for the
//!   whole container, not from a stored access policy, no leading `?`), `collation`,
//!   `autoCompleteRestore`, `lastBackupName` — starts it; a container or folder named with the
//!   reserved words `backup`/`backups` is refused;
//! - `GET …/databases/{db}/restoreDetails/Default` — where it stands, with the 2023-08-01
//!   fields only (`ManagedDatabaseNotInRestoringState` once the database is online);
//! - `POST …/databases/{db}/completeRestore` with `lastBackupName` — accepted only when that file
//!   is the last one restored (`RequiredBackupIsNotLastRestored` otherwise), then the database
//!   is brought online;
//! - `DELETE …/databases/{db}` — stops it and drops the database being restored.
//!
//! Only `.bak`, `.log` and `.diff` files in the folder itself are restored; others (a `.trn`, a
//! nested folder) are listed as unrestorable. Requests need `Authorization: Bearer <token>`
//! (the token given at start; 401 otherwise). The service reads the folder with the SAS, as MI
//! does, and restores through the engine's own restore (WITH NORECOVERY, which T-SQL on MI
//! refuses). Test infrastructure, not Azure.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::engine::Engine;
use crate::engine::backup::device;
use crate::engine::backup::media::{self, SetInfo};
use crate::http_double;

/// The region of the simulated managed instance: its ARM `location`, which a database's PUT must
/// repeat.
pub const LOCATION: &str = "westeurope";

/// The file extensions LRS restores (log-replay-service-overview.md: "Only database `.bak`,
/// `.log`, and `.diff` files are supported by LRS").
const EXTENSIONS: [&str; 3] = [".bak", ".log", ".diff"];

/// One database's replay.
#[derive(Default)]
struct Job {
    database: String,
    container: String,
    prefix: String,
    sas: String,
    status: String,
    /// The last file, once a completion (or autoCompleteRestore) named it.
    complete_with: Option<String>,
    /// Files seen in the folder, by name within it, with their sets (or why they cannot be
    /// restored).
    files: BTreeMap<String, Result<(SetInfo, Vec<u8>), String>>,
    restored: Vec<String>,
    current: Option<String>,
    last_restored_at: Option<String>,
    error: Option<String>,
}

/// The service's state, shared by its handlers and its worker.
#[derive(Clone)]
pub struct Lrs {
    engine: Arc<Engine>,
    token: String,
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

/// A running service.
pub struct LrsHandle {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LrsHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves LRS for `engine` (an MI-mode instance) on `addr`, accepting `token`.
pub async fn serve(
    addr: SocketAddr,
    engine: Arc<Engine>,
    token: &str,
) -> std::io::Result<LrsHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let lrs = Lrs {
        engine,
        token: token.to_string(),
        jobs: Arc::default(),
    };
    let worker = lrs.clone();
    let task = tokio::spawn(async move {
        let work = tokio::spawn(async move {
            loop {
                let w = worker.clone();
                let _ = tokio::task::spawn_blocking(move || w.tick()).await;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                break;
            };
            let l = lrs.clone();
            tokio::spawn(async move {
                let _ = l.connection(sock).await;
            });
        }
        work.abort();
    });
    Ok(LrsHandle { addr, task })
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn arm_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": { "code": code, "message": message } }),
    )
}

/// Why LRS would not start with `sas`, if it would not. log-replay-service-overview.md: "must
/// be generated for the entire Azure Blob Storage container, and it must have Read and List
/// permissions only … if you grant Read, List, and Write permissions, LRS won't be able to
/// start"; "SAS tokens created with permissions that are set through defining a stored access
/// policy isn't supported"; log-replay-service-migrate.md: "Don't include the question mark".
/// The pages give no error code for these: the codes are the double's own.
pub fn sas_refusal(sas: &str) -> Option<(&'static str, String)> {
    if sas.starts_with('?') {
        return Some((
            "InvalidStorageContainerSasToken",
            "storageContainerSasToken starts with '?': give the token without the question mark"
                .into(),
        ));
    }
    let param = |name: &str| {
        sas.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| http_double::percent_decode(v))
        })
    };
    if param("si").is_some() {
        return Some((
            "InvalidStorageContainerSasToken",
            "SAS tokens from a stored access policy (si=) are not supported; give Read and List in the token itself".into(),
        ));
    }
    if let Some(sr) = param("sr")
        && sr != "c"
    {
        return Some((
            "InvalidStorageContainerSasToken",
            format!(
                "the SAS token is for a {sr:?} resource; LRS needs one for the entire container (sr=c)"
            ),
        ));
    }
    let sp = param("sp").unwrap_or_default();
    let mut perms: Vec<char> = sp.chars().collect();
    perms.sort_unstable();
    perms.dedup();
    if perms != ['l', 'r'] {
        return Some((
            "InvalidStorageContainerSasToken",
            format!(
                "the SAS token grants {sp:?}; LRS starts only with Read and List permissions (sp=rl), nothing more"
            ),
        ));
    }
    None
}

/// Why LRS would not read the folder at `uri`: log-replay-service-overview.md, "The backup URI
/// path should not have the container name or the folder name as keywords `backup` or
/// `backups`" (the newer page: "can't contain `backup` or `Backup`"). Stricter: any segment
/// containing the word, in any case. `segments` are the container and the folders.
fn uri_refusal(segments: &[&str]) -> Option<String> {
    segments
        .iter()
        .find(|s| s.to_ascii_lowercase().contains("backup"))
        .map(|s| {
            format!(
                "storageContainerUri names {s:?}: 'backup' and 'backups' are reserved keywords in LRS's container and folder names; rename it"
            )
        })
}

impl Lrs {
    async fn connection(&self, mut sock: TcpStream) -> std::io::Result<()> {
        let Some(req) = http_double::read_request(&mut sock).await? else {
            return Ok(());
        };
        let (status, value) =
            if req.header("authorization") != Some(format!("Bearer {}", self.token).as_str()) {
                arm_error(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing or invalid.",
                )
            } else {
                let engine_work = self.clone();
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let (method, target) = (req.method, req.target);
                tokio::task::spawn_blocking(move || engine_work.route(&method, &target, &body))
                    .await
                    .unwrap_or_else(|_| arm_error(500, "InternalServerError", "the request failed"))
            };
        http_double::respond(
            &mut sock,
            status,
            "application/json",
            &[],
            value.to_string().as_bytes(),
        )
        .await
    }

    /// The resource named in an ARM path, and what follows it.
    fn route(&self, method: &str, target: &str, body: &Value) -> (u16, Value) {
        let path = target.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some(i) = parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case("databases"))
        else {
            return match (
                method,
                parts
                    .iter()
                    .rposition(|p| p.eq_ignore_ascii_case("managedInstances")),
            ) {
                ("GET", Some(m)) if m + 2 == parts.len() => (
                    200,
                    json!({
                        "id": path,
                        "name": parts[m + 1],
                        "location": LOCATION,
                        "type": "Microsoft.Sql/managedInstances",
                        "properties": { "state": "Ready" },
                    }),
                ),
                _ => arm_error(404, "ResourceNotFound", &format!("{method} {path}")),
            };
        };
        let Some(db) = parts.get(i + 1).map(|d| http_double::percent_decode(d)) else {
            return arm_error(404, "ResourceNotFound", "no database in the path");
        };
        let rest: Vec<&str> = parts[i + 2..].to_vec();
        match (method, rest.as_slice()) {
            ("PUT", []) => self.start(&db, body),
            ("GET", ["restoreDetails", _]) => self.details(&db),
            ("POST", ["completeRestore"]) => self.complete(&db, body),
            ("DELETE", []) => {
                self.jobs.lock().unwrap().remove(&db.to_ascii_lowercase());
                let mut s = crate::engine::Session::new("sa", "master");
                let _ = self.engine.execute(
                    &mut s,
                    &format!("DROP DATABASE IF EXISTS [{}]", db.replace(']', "]]")),
                    &[],
                );
                (200, json!({}))
            }
            _ => arm_error(404, "ResourceNotFound", &format!("{method} {path}")),
        }
    }

    fn start(&self, db: &str, body: &Value) -> (u16, Value) {
        let p = &body["properties"];
        // ManagedDatabase (a TrackedResource) has "required": ["location"].
        match body["location"].as_str() {
            None => {
                return arm_error(
                    400,
                    "LocationRequired",
                    "The location property is required for this definition.",
                );
            }
            Some(l) if !l.eq_ignore_ascii_case(LOCATION) => {
                return arm_error(
                    400,
                    "InvalidResourceLocation",
                    &format!(
                        "The database's location '{l}' is not its managed instance's ('{LOCATION}')."
                    ),
                );
            }
            Some(_) => {}
        }
        if p["createMode"].as_str() != Some("RestoreExternalBackup") {
            return arm_error(
                400,
                "InvalidParameterValue",
                "sqlsim's LRS takes createMode RestoreExternalBackup",
            );
        }
        // "RestoreExternalBackup: … Collation, StorageContainerUri and StorageContainerSasToken
        // must be specified."
        let Some(uri) = p["storageContainerUri"].as_str() else {
            return arm_error(
                400,
                "MissingStorageContainerUri",
                "storageContainerUri is required for createMode RestoreExternalBackup.",
            );
        };
        let Some(sas) = p["storageContainerSasToken"].as_str() else {
            return arm_error(
                400,
                "MissingStorageContainerSasToken",
                "storageContainerSasToken is required for createMode RestoreExternalBackup.",
            );
        };
        if p["collation"].as_str().is_none() {
            return arm_error(
                400,
                "MissingCollation",
                "collation is required for createMode RestoreExternalBackup.",
            );
        }
        if let Some((code, why)) = sas_refusal(sas) {
            return arm_error(400, code, &why);
        }
        let auto = p["autoCompleteRestore"].as_bool() == Some(true);
        let last = p["lastBackupName"].as_str();
        if auto && last.is_none() {
            return arm_error(
                400,
                "AutoCompleteMissingLastBackupName",
                "Auto complete restore request must have lastBackupName parameter provided.",
            );
        }
        if let Some(last) = last
            && !last.is_ascii()
        {
            return arm_error(
                400,
                "LastBackupNameHasNonAsciiCharacter",
                "Only ASCII characters are allowed in lastBackupName.",
            );
        }
        if self.engine.database(db).is_some()
            || self
                .jobs
                .lock()
                .unwrap()
                .contains_key(&db.to_ascii_lowercase())
        {
            return arm_error(
                409,
                "ManagedDatabaseNameInUse",
                &format!("Database '{db}' already exists on the managed instance."),
            );
        }
        // http://host/account/container[/folder]: the container, and the folder within it.
        let rest = uri
            .trim_end_matches('/')
            .strip_prefix("http://")
            .unwrap_or(uri);
        let segments: Vec<&str> = rest.splitn(4, '/').collect();
        if segments.len() < 3 {
            return arm_error(
                400,
                "InvalidParameterValue",
                "storageContainerUri must name a container",
            );
        }
        let named: Vec<&str> = std::iter::once(segments[2])
            .chain(segments.get(3).into_iter().flat_map(|f| f.split('/')))
            .collect();
        if let Some(why) = uri_refusal(&named) {
            return arm_error(400, "InvalidStorageContainerUri", &why);
        }
        let container = format!("http://{}/{}/{}", segments[0], segments[1], segments[2]);
        let prefix = segments.get(3).map(|f| format!("{f}/")).unwrap_or_default();
        let job = Job {
            database: db.to_string(),
            container,
            prefix,
            sas: sas.to_string(),
            status: "Restoring".into(),
            complete_with: if auto { last.map(str::to_string) } else { None },
            ..Job::default()
        };
        self.jobs
            .lock()
            .unwrap()
            .insert(db.to_ascii_lowercase(), job);
        (
            201,
            json!({ "name": db, "location": LOCATION, "properties": { "status": "Creating", "createMode": "RestoreExternalBackup" } }),
        )
    }

    /// completeRestore: the ARM spec's error list for it names the refusals.
    fn complete(&self, db: &str, body: &Value) -> (u16, Value) {
        let Some(last) = body["lastBackupName"].as_str() else {
            return arm_error(
                400,
                "InvalidDatabaseCompleteRestoreRequestLastBackupName",
                "The lastBackupName of the complete restore request is missing or invalid.",
            );
        };
        let mut jobs = self.jobs.lock().unwrap();
        let Some(j) = jobs.get_mut(&db.to_ascii_lowercase()) else {
            return arm_error(
                404,
                "ResourceNotFound",
                &format!("no restore of database {db} is running"),
            );
        };
        if j.status == "Completed" {
            return arm_error(
                400,
                "ManagedDatabaseNotInRestoringState",
                "Managed database is not in Restoring state.",
            );
        }
        if j.complete_with.is_some() {
            return arm_error(
                400,
                "ExternalBackupAlreadySignaledToComplete",
                "Completion of the restore has already been requested.",
            );
        }
        let Some(restored) = j.restored.last() else {
            return arm_error(
                400,
                "ExternalBackupRestoreHasNotBeenStarted",
                "The restore can only be completed once the restore has started.",
            );
        };
        if restored != last {
            return arm_error(
                400,
                "RequiredBackupIsNotLastRestored",
                "Migration cannot be completed because provided backup file name is not the name of the last backup file that is restored.",
            );
        }
        j.complete_with = Some(last.to_string());
        (202, json!({}))
    }

    /// restoreDetails with the 2023-08-01 schema's fields (ManagedDatabaseRestoreDetails.json);
    /// the `sqlsim…` fields are the double's own, for tests.
    fn details(&self, db: &str) -> (u16, Value) {
        let jobs = self.jobs.lock().unwrap();
        let Some(j) = jobs.get(&db.to_ascii_lowercase()) else {
            return arm_error(
                400,
                "RestoreDetailsNotAvailableOrExpired",
                "Requested restore details are not available, or have expired.",
            );
        };
        if j.status == "Completed" {
            return arm_error(
                400,
                "ManagedDatabaseNotInRestoringState",
                "Managed database is not in Restoring state.",
            );
        }
        let unrestorable: Vec<&String> = j
            .files
            .iter()
            .filter(|(_, f)| f.is_err())
            .map(|(n, _)| n)
            .collect();
        let reasons: Vec<Value> = j
            .files
            .iter()
            .filter_map(|(n, f)| {
                f.as_ref()
                    .err()
                    .map(|why| json!({ "name": n, "reason": why }))
            })
            .collect();
        let point = self.engine.restoring_point(&j.database);
        let usable = j.files.values().filter(|f| f.is_ok()).count();
        (
            200,
            json!({
                "name": "Default",
                "type": "Microsoft.Sql/managedInstances/databases/restoreDetails",
                "properties": {
                    "status": j.status,
                    "blockReason": j.error,
                    "lastUploadedFileName": j.files.keys().last(),
                    // The double does not learn when a file arrived.
                    "lastUploadedFileTime": Value::Null,
                    "lastRestoredFileName": j.restored.last(),
                    "lastRestoredFileTime": j.last_restored_at,
                    "currentRestoringFileName": j.current,
                    "percentCompleted": if usable == 0 { 0.0 } else { j.restored.len() as f64 * 100.0 / usable as f64 },
                    "numberOfFilesDetected": j.files.len(),
                    "unrestorableFiles": unrestorable,
                    // Not in Azure's API: for tests.
                    "sqlsimFilesRestored": j.restored.len(),
                    "sqlsimUnrestorableReasons": reasons,
                    "sqlsimRestoredLsn": point.map(|p| p.to_string()),
                }
            }),
        )
    }

    /// One round of the worker: read what arrived in each folder, restore what applies, complete.
    fn tick(&self) {
        let names: Vec<String> = self.jobs.lock().unwrap().keys().cloned().collect();
        for name in names {
            let (container, prefix, sas, known) = {
                let jobs = self.jobs.lock().unwrap();
                let Some(j) = jobs.get(&name) else { continue };
                if j.status != "Restoring" {
                    continue;
                }
                (
                    j.container.clone(),
                    j.prefix.clone(),
                    j.sas.clone(),
                    j.files.keys().cloned().collect::<Vec<_>>(),
                )
            };
            let listed = match device::list_blobs(&container, &sas, &prefix) {
                Ok(l) => l,
                Err(e) => {
                    self.with_job(&name, |j| {
                        j.error = Some(format!("cannot list the folder: {}", e.text))
                    });
                    continue;
                }
            };
            for (blob, _) in listed {
                let file = blob[prefix.len()..].to_string();
                if known.contains(&file) {
                    continue;
                }
                let read = if file.contains('/') {
                    Err("a nested folder: LRS restores the database's folder only, flat".into())
                } else if !EXTENSIONS
                    .iter()
                    .any(|e| file.to_ascii_lowercase().ends_with(e))
                {
                    Err(format!(
                        "not a {} file: LRS restores only those",
                        EXTENSIONS.join(", ")
                    ))
                } else {
                    device::get_blob(&format!("{container}/{blob}"), &sas)
                        .map_err(|e| e.text)
                        .and_then(|bytes| media::read_sets(&bytes).map_err(|e| e.0))
                        .and_then(|mut sets| {
                            if sets.len() != 1 {
                                return Err(format!(
                                    "{} backup sets in one file: LRS restores files with one",
                                    sets.len()
                                ));
                            }
                            let s = sets.remove(0);
                            Ok((s.info, s.data))
                        })
                };
                self.with_job(&name, |j| {
                    j.files.insert(file, read);
                });
            }
            self.restore_what_applies(&name);
        }
    }

    fn with_job(&self, name: &str, f: impl FnOnce(&mut Job)) {
        if let Some(j) = self.jobs.lock().unwrap().get_mut(name) {
            f(j);
        }
    }

    /// Restores, in chain order, every file that applies now; completes when asked and the
    /// last file is in.
    fn restore_what_applies(&self, name: &str) {
        loop {
            let next = {
                let jobs = self.jobs.lock().unwrap();
                let Some(j) = jobs.get(name) else { return };
                let pending: Vec<(&String, &SetInfo, &Vec<u8>)> = j
                    .files
                    .iter()
                    .filter(|(n, _)| !j.restored.contains(n))
                    .filter_map(|(n, f)| f.as_ref().ok().map(|(i, d)| (n, i, d)))
                    .collect();
                let point = self.engine.restoring_point(&j.database);
                let pick = match point {
                    None if j.restored.is_empty() => pending
                        .iter()
                        .filter(|p| p.1.kind == 'D')
                        .max_by_key(|p| p.1.last_lsn),
                    None => None,
                    Some(point) => pending
                        .iter()
                        .filter(|p| {
                            p.1.kind == 'L' && p.1.first_lsn <= point && point < p.1.last_lsn
                        })
                        .max_by_key(|p| p.1.last_lsn),
                };
                pick.map(|(n, i, d)| ((*n).clone(), (*i).clone(), (*d).clone(), j.database.clone()))
            };
            let Some((file, info, data, database)) = next else {
                break;
            };
            self.with_job(name, |j| j.current = Some(file.clone()));
            let result = self.engine.lrs_apply(&database, &info, &data);
            self.with_job(name, |j| {
                j.current = None;
                match result {
                    Ok(()) => {
                        j.restored.push(file.clone());
                        j.last_restored_at = Some(now());
                    }
                    Err(e) => {
                        j.files
                            .insert(file.clone(), Err(format!("error {}: {}", e.number, e.text)));
                    }
                }
            });
        }
        let complete = {
            let jobs = self.jobs.lock().unwrap();
            let Some(j) = jobs.get(name) else { return };
            j.complete_with
                .clone()
                .filter(|last| j.restored.last() == Some(last))
                .map(|_| j.database.clone())
        };
        if let Some(database) = complete {
            let result = self.engine.lrs_recover(&database);
            self.with_job(name, |j| match result {
                Ok(()) => j.status = "Completed".into(),
                Err(e) => {
                    j.status = "Failed".into();
                    j.error = Some(format!("error {}: {}", e.number, e.text));
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_read_and_list_sas_for_the_whole_container_starts_lrs() {
        assert!(sas_refusal("sv=2022-11-02&sr=c&sp=rl&se=x&sig=y").is_none());
        assert!(sas_refusal("sv=2019-02-02&ss=b&srt=sco&sp=lr&sig=y").is_none());
        for refused in [
            "sv=2022-11-02&sr=c&sp=racwdl&sig=y",
            "sv=2022-11-02&sr=c&sp=rwl&sig=y",
            "sv=2022-11-02&sr=c&sp=r&sig=y",
            "sv=2022-11-02&sr=b&sp=rl&sig=y",
            "sv=2022-11-02&sr=c&si=policy1&sig=y",
            "?sv=2022-11-02&sr=c&sp=rl&sig=y",
        ] {
            assert!(sas_refusal(refused).is_some(), "{refused}");
        }
    }

    #[test]
    fn reserved_words_in_the_container_or_folder_are_refused() {
        assert!(uri_refusal(&["migration", "Sales-1a2b3c4d"]).is_none());
        assert!(uri_refusal(&["backups", "Sales"]).is_some());
        assert!(uri_refusal(&["migration", "SalesBackup"]).is_some());
    }
}
