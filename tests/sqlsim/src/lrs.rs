//! A test double of Azure SQL Managed Instance's **Log Replay Service** (LRS), the Azure Resource
//! Manager API that restores a folder of backups on MI and keeps restoring the log backups that
//! arrive, until a completion names the last one:
//!
//! - `PUT …/managedInstances/{mi}/databases/{db}` with `createMode: RestoreExternalBackup`,
//!   `storageContainerUri` (the folder), `storageContainerSasToken`, `autoCompleteRestore`,
//!   `lastBackupName` — starts it;
//! - `GET …/databases/{db}/restoreDetails/Default` — where it stands;
//! - `POST …/databases/{db}/completeRestore` with `lastBackupName` — restores up to that file and
//!   brings the database online;
//! - `DELETE …/databases/{db}` — stops it and drops the database being restored.
//!
//! Requests need `Authorization: Bearer <token>` (the token given at start; 401 otherwise). The
//! service reads the folder with the SAS, as MI does, and restores through the engine's own
//! restore (WITH NORECOVERY, which T-SQL on MI refuses). Test infrastructure, not Azure.

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

/// One database's replay.
#[derive(Default)]
struct Job {
    database: String,
    container: String,
    prefix: String,
    sas: String,
    status: String,
    complete_with: Option<String>,
    /// Files seen in the folder, with their sets (or why they cannot be restored).
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

    /// The database named in an ARM path, and what follows it.
    fn route(&self, method: &str, target: &str, body: &Value) -> (u16, Value) {
        let path = target.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some(i) = parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case("databases"))
        else {
            return arm_error(404, "ResourceNotFound", "no such resource");
        };
        let Some(db) = parts.get(i + 1).map(|d| http_double::percent_decode(d)) else {
            return arm_error(404, "ResourceNotFound", "no database in the path");
        };
        let rest: Vec<&str> = parts[i + 2..].to_vec();
        match (method, rest.as_slice()) {
            ("PUT", []) => self.start(&db, body),
            ("GET", ["restoreDetails", _]) => self.details(&db),
            ("POST", ["completeRestore"]) => match body["lastBackupName"].as_str() {
                Some(last) => {
                    let mut jobs = self.jobs.lock().unwrap();
                    match jobs.get_mut(&db.to_ascii_lowercase()) {
                        Some(j) => {
                            j.complete_with = Some(last.to_string());
                            (202, json!({}))
                        }
                        None => arm_error(
                            404,
                            "ResourceNotFound",
                            &format!("no restore of database {db} is running"),
                        ),
                    }
                }
                None => arm_error(
                    400,
                    "AutoCompleteMissingLastBackupName",
                    "completeRestore needs lastBackupName",
                ),
            },
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
        if p["createMode"].as_str() != Some("RestoreExternalBackup") {
            return arm_error(
                400,
                "InvalidParameterValue",
                "sqlsim's LRS takes createMode RestoreExternalBackup",
            );
        }
        let (Some(uri), Some(sas)) = (
            p["storageContainerUri"].as_str(),
            p["storageContainerSasToken"].as_str(),
        ) else {
            return arm_error(
                400,
                "InvalidParameterValue",
                "storageContainerUri and storageContainerSasToken are required",
            );
        };
        if self.engine.database(db).is_some() {
            return arm_error(
                409,
                "DatabaseAlreadyExists",
                &format!("Database '{db}' already exists."),
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
        let container = format!("http://{}/{}/{}", segments[0], segments[1], segments[2]);
        let prefix = segments.get(3).map(|f| format!("{f}/")).unwrap_or_default();
        let mut job = Job {
            database: db.to_string(),
            container,
            prefix,
            sas: sas.trim_start_matches('?').to_string(),
            status: "Restoring".into(),
            ..Job::default()
        };
        if p["autoCompleteRestore"].as_bool() == Some(true) {
            job.complete_with = p["lastBackupName"].as_str().map(str::to_string);
        }
        self.jobs
            .lock()
            .unwrap()
            .insert(db.to_ascii_lowercase(), job);
        (
            201,
            json!({ "name": db, "properties": { "status": "Creating", "createMode": "RestoreExternalBackup" } }),
        )
    }

    fn details(&self, db: &str) -> (u16, Value) {
        let jobs = self.jobs.lock().unwrap();
        let Some(j) = jobs.get(&db.to_ascii_lowercase()) else {
            return arm_error(
                400,
                "RestoreDetailsNotAvailableOrExpired",
                "Requested restore details are not available, or have expired.",
            );
        };
        let unrestorable: Vec<Value> = j
            .files
            .iter()
            .filter_map(|(n, f)| {
                f.as_ref()
                    .err()
                    .map(|why| json!({ "name": n, "reason": why }))
            })
            .collect();
        let sets = |kind: char| -> Vec<Value> {
            j.files
                .iter()
                .filter_map(|(n, f)| f.as_ref().ok().filter(|(i, _)| i.kind == kind).map(|(i, _)| (n, i)))
                .map(|(n, i)| json!({ "firstStripeName": n, "numberOfStripes": i.family_count, "firstLsn": i.first_lsn.to_string(), "lastLsn": i.last_lsn.to_string(), "restored": j.restored.contains(n) }))
                .collect()
        };
        let point = self.engine.restoring_point(&j.database);
        (
            200,
            json!({
                "name": "Default",
                "properties": {
                    "type": "LRSRestore",
                    "status": j.status,
                    "blockReason": j.error,
                    "lastUploadedFileName": j.files.keys().last(),
                    "lastRestoredFileName": j.restored.last(),
                    "lastRestoredFileTime": j.last_restored_at,
                    "currentRestoringFileName": j.current,
                    "numberOfFilesDetected": j.files.len(),
                    "numberOfFilesRestored": j.restored.len(),
                    "numberOfFilesUnrestorable": unrestorable.len(),
                    "unrestorableFiles": unrestorable,
                    "fullBackupSets": sets('D'),
                    "diffBackupSets": sets('I'),
                    "logBackupSets": sets('L'),
                    // Not in Azure's API: the LSN restored so far, for tests.
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
            for (blob, _) in listed.iter().filter(|(b, _)| !known.contains(b)) {
                let read = device::get_blob(&format!("{container}/{blob}"), &sas)
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
                    });
                self.with_job(&name, |j| {
                    j.files.insert(blob.clone(), read);
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
            // lastBackupName names a file of the folder; the blobs listed carry the folder.
            j.complete_with
                .clone()
                .filter(|last| {
                    j.restored
                        .iter()
                        .any(|r| r == last || r.ends_with(&format!("/{last}")))
                })
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
