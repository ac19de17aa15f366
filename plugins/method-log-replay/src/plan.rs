//! The plan: the source's credential for the container; per database a full backup, LRS started
//! on its folder, log shipping until the cutover is asked for, and the cutover.

use serde_json::{Value, json};
use sqlmig_plugin_sdk::backup_statement::{
    BLOCK_BLOB_MAX_MB, BackupStatement, DeviceType, MAX_STRIPES, block_blob_refusal, compresses,
    full_stripe_name, log_backup_pattern, lrs_folder, lrs_reserved_segment, tail_backup_name,
};
use sqlmig_plugin_sdk::method::{answer_plan, check_known, flag, number, text, watch_steps};
use sqlmig_plugin_sdk::protocol::migration::{
    BackupOffer, CredentialArgs, LogReplayArgs, PLAN, Plan, PlanRequest, PlannedDatabase, Runner,
    Step, StepKind,
};
use sqlmig_plugin_sdk::tsql::quote_name;
use sqlmig_plugin_sdk::{Error, invalid_input};

const OPTIONS: [&str; 8] = [
    "location",
    "standby_folder",
    "log_backup_interval_s",
    "replicate_round_s",
    "blob_max_mb",
    "compression",
    "collation",
    "base_full",
];

/// Plans a request.
pub fn run(request: &str) -> Result<String, Error> {
    answer_plan(request, plan)
}

/// The plan for `req`.
pub fn plan(req: &PlanRequest) -> Result<Plan, Error> {
    for moved in ["mi_resource", "management_url"] {
        if req.options.contains_key(moved) {
            return Err(invalid_input(format!(
                "option {moved} is no longer a method option: give the target's resource id with \
                 `sqlmig migrate plan --target-resource ID` (and a management endpoint other than \
                 Azure's with --management-url)"
            )));
        }
    }
    check_known(&req.options, &OPTIONS, "method-log-replay")?;
    let offer = req.source_backup.as_ref();
    if let Some(o) = offer
        && !(o.kinds.iter().any(|k| k == "full") && o.kinds.iter().any(|k| k == "log"))
    {
        return Err(invalid_input(format!(
            "the source's backups go through {} ({}), which ships no log backups ({}); move it \
             offline with method-backup-restore",
            o.plugin,
            o.route,
            o.kinds.join(", ")
        )));
    }
    // The host resolved and checked the target's resource: it is the operator's to give.
    if req.target.managed_database_url("").is_none() {
        return Err(invalid_input(
            "log replay calls Azure Resource Manager for the target: give its resource id with \
             `sqlmig migrate plan --target-resource /subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/managedInstances/NAME`",
        ));
    }
    let interval = number(&req.options, "log_backup_interval_s", 300.0)?;
    let round = number(&req.options, "replicate_round_s", 3600.0)?;
    if !(round > 0.0 && round <= 23.0 * 3600.0) {
        return Err(invalid_input(format!(
            "option replicate_round_s = {round}: give the seconds one call of the replicate step ships before handing back, above 0 and at most 82800 (a hook may run a day)"
        )));
    }
    let blob_max_mb = number(&req.options, "blob_max_mb", BLOCK_BLOB_MAX_MB)?;
    // Express and Web refuse COMPRESSION (error 1844).
    let compression = flag(&req.options, "compression", true)? && compresses(&req.source.edition);
    // A database in FULL recovery that never had a full backup (other than COPY_ONLY) has no
    // log chain: its first log backup fails (4214). With base_full the migration's full is
    // not COPY_ONLY, so it starts the chain (and becomes the base of later differentials).
    let base_full = flag(&req.options, "base_full", false)?;
    let collation = text(&req.options, "collation").unwrap_or("SQL_Latin1_General_CP1_CI_AS");
    let location = text(&req.options, "location");
    // The cutover's tail WITH STANDBY leaves the source read-only, to validate against after
    // the cutover; its undo file goes to this folder, as the source names it.
    let standby_folder = text(&req.options, "standby_folder")
        .map(|f| f.trim_end_matches(['/', '\\']).to_string())
        .filter(|f| !f.is_empty());
    if let Some(why) = block_blob_refusal(&req.source).filter(|_| offer.is_none()) {
        return Err(invalid_input(format!(
            "{why}: online migration here ships its backups that way; move it offline with method-backup-restore (backups to a folder, uploaded)"
        )));
    }
    let not_full: Vec<&str> = req
        .databases
        .iter()
        .filter(|d| !d.recovery_model.is_empty() && !d.recovery_model.eq_ignore_ascii_case("FULL"))
        .map(|d| d.name.as_str())
        .collect();
    if !not_full.is_empty() {
        return Err(invalid_input(format!(
            "log replay needs the FULL recovery model; not in it: {} (ALTER DATABASE … SET RECOVERY FULL, then a full backup)",
            not_full.join(", ")
        )));
    }
    if req.databases.is_empty() {
        return Err(invalid_input("no database to move"));
    }
    let container = req.storage.container_url.trim_end_matches('/');
    if let Some(segment) = lrs_reserved_segment(container) {
        return Err(invalid_input(format!(
            "the container URL names {segment:?}: MI's Log Replay Service refuses container and folder names with 'backup' or 'backups' in them; use another container (e.g. .../migration)"
        )));
    }
    let mut steps = vec![Step {
        id: "credential/source".into(),
        database: String::new(),
        kind: StepKind::CreateCredential,
        runner: Runner::Host,
        description: "give the source a credential (SAS) for the container".into(),
        args: json!(CredentialArgs {
            endpoint: "source".into()
        }),
        preview: vec![format!(
            "source: CREATE CREDENTIAL {} WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '***' (ALTER when it exists)",
            quote_name(container)
        )],
        expected_s: None,
        watch: None,
    }];
    let mut databases = Vec::new();
    for db in &req.databases {
        let stripes = ((db.size_mb / blob_max_mb).ceil() as u32).clamp(
            1,
            offer.map_or(MAX_STRIPES, |o| o.max_stripes.clamp(1, MAX_STRIPES)),
        );
        let dir = lrs_folder(&db.name);
        let folder_url = format!("{container}/{dir}");
        let database_url = req
            .target
            .managed_database_url(&db.target_name)
            .expect("checked above");
        let blobs: Vec<String> = (1..=stripes)
            .map(|n| full_stripe_name(&dir, n, stripes))
            .collect();
        let urls: Vec<String> = blobs.iter().map(|b| format!("{container}/{b}")).collect();
        let mut full =
            BackupStatement::new(&db.name, false, DeviceType::Url, urls.clone(), compression);
        full.copy_only = !base_full;
        full.format = true;
        // Each log backup's file is named when it is taken; the plan shows the pattern.
        let log = BackupStatement::new(&db.name, true, DeviceType::Url, Vec::new(), compression);
        let mut tail = BackupStatement::new(
            &db.name,
            true,
            DeviceType::Url,
            vec![format!("{folder_url}/{}", tail_backup_name(&dir))],
            false,
        );
        match &standby_folder {
            Some(folder) => {
                // The source's own separator: D:\Backups, /var/opt/mssql/backup.
                let sep = if folder.contains('\\') { '\\' } else { '/' };
                tail.standby = Some(format!("{folder}{sep}{dir}_undo.tuf"));
            }
            None => tail.norecovery = true,
        }
        tail.format = true;
        let common = json!({ "database": db.name, "target_name": db.target_name, "folder_url": folder_url, "folder": dir, "database_url": database_url });
        let with_args = |extra: Value| {
            let mut v = common.clone();
            for (k, x) in extra.as_object().expect("an object") {
                v[k] = x.clone();
            }
            v
        };
        steps.push(Step {
            id: format!("{}/backup-full", db.name),
            database: db.name.clone(),
            kind: StepKind::BackupFull,
            runner: Runner::Plugin,
            description: format!(
                "full backup of {} to its folder ({stripes} blob(s))",
                db.name
            ),
            preview: vec![format!("source: {}", full.preview())],
            args: with_args(json!({ "blobs": blobs, "backup": full })),
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/start-replay", db.name),
            database: db.name.clone(),
            kind: StepKind::StartLogReplay,
            runner: Runner::Host,
            description: format!("start MI's Log Replay Service for {} on {dir}", db.target_name),
            args: serde_json::to_value(LogReplayArgs {
                database: db.name.clone(),
                target_name: db.target_name.clone(),
                folder: dir.clone(),
                collation: collation.to_string(),
                location: location.map(str::to_string),
            })
            .expect("arguments serialize"),
            preview: vec![format!(
                "ARM: PUT {database_url} {{location: {}, properties: {{createMode: RestoreExternalBackup, storageContainerUri: {folder_url}, storageContainerSasToken: *** (read and list only), collation: {collation}, autoCompleteRestore: false}}}}",
                location.unwrap_or("the managed instance's")
            )],
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/replicate", db.name),
            database: db.name.clone(),
            kind: StepKind::Replicate,
            runner: Runner::Plugin,
            description: format!(
                "ship log backups of {} every {interval} s until the cutover is asked for",
                db.name
            ),
            preview: vec![
                format!(
                    "source, every {interval} s: {}",
                    log.with_devices(vec![format!("{folder_url}/{}", log_backup_pattern(&dir))])
                        .preview()
                ),
                format!("ARM: GET {database_url}/restoreDetails/Default (the lag)"),
            ],
            args: with_args(json!({ "interval_s": interval, "round_s": round, "log_backup": log })),
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/cutover", db.name),
            database: db.name.clone(),
            kind: StepKind::Cutover,
            runner: Runner::Plugin,
            description: format!(
                "cut {} over: tail of the log ({}), last restore, online on MI, rows compared",
                db.name,
                if tail.standby.is_some() {
                    "the source left read-only, in standby"
                } else {
                    "the source left restoring"
                }
            ),
            preview: vec![
                format!("source: {}", tail.preview()),
                format!(
                    "ARM: GET {database_url}/restoreDetails/Default until lastRestoredFileName is {}",
                    tail_backup_name(&dir)
                ),
                format!(
                    "ARM: POST {database_url}/completeRestore {{lastBackupName: {}}}",
                    tail_backup_name(&dir)
                ),
                format!(
                    "source and target: {} per table",
                    sqlmig_plugin_sdk::tsql::TABLE_SUMS_PREVIEW
                ),
            ],
            args: with_args(json!({ "tail_backup": tail })),
            expected_s: None,
            watch: None,
        });
        databases.push(PlannedDatabase {
            name: db.name.clone(),
            target_name: db.target_name.clone(),
            size_mb: db.size_mb,
            stripes,
            backup_to: "url".into(),
        });
    }
    let mut notes = vec![
        "the source's own log backup jobs must pause while this runs: a log backup taken elsewhere breaks the chain LRS restores".to_string(),
        "stop the application before `sqlmig migrate cutover`: the cutover compares the rows of both sides".to_string(),
        "MI's Log Replay Service reads the container with a SAS that only reads and lists (SQLMIG_LRS_SAS, or one sqlmig makes from SQLMIG_STORAGE_KEY); the source writes with SQLMIG_SAS".to_string(),
    ];
    if base_full {
        notes.push("base_full: the migration's full backup is not COPY_ONLY; it starts the log chain and becomes the base of the source's next differential backups".into());
    }
    if let Some(o) = offer {
        through_platform(&mut steps, &mut databases, o);
        notes[0] = format!(
            "{} ships the log backups its platform takes on its own; the last one shipped at the cutover is the first taken after `sqlmig migrate cutover`",
            o.plugin
        );
    }
    // The host shows the server's progress of backups and restores while they run.
    watch_steps(
        &mut steps,
        StepKind::BackupFull,
        "source",
        "BACKUP%",
        "database",
    );
    Ok(Plan {
        schema: PLAN.into(),
        method: "method-log-replay".into(),
        source: req.source.clone(),
        target: req.target.clone(),
        storage: req.storage.clone(),
        parallelism: req.parallelism.max(1),
        databases,
        steps,
        notes,
        forecast: None,
        source_platform: offer.map(|o| o.plugin.clone()),
        assessment: None,
    })
}

/// The steps for a source whose platform backs up by its own route (RDS: native backups and
/// its own log backups, through S3): the platform's plugin takes the full and ships the logs,
/// and at the cutover ships the first log backup taken after it was asked for, in place of a
/// tail-log backup; the method still starts the replay and completes it.
fn through_platform(steps: &mut Vec<Step>, databases: &mut [PlannedDatabase], o: &BackupOffer) {
    steps.retain(|s| s.id != "credential/source");
    let mut out = Vec::new();
    // The full's blobs, by database: the cutover reads them back to start the chain.
    let mut fulls = std::collections::BTreeMap::new();
    for mut s in steps.drain(..) {
        let route = o.parameters.clone();
        match s.kind {
            StepKind::BackupFull => {
                s.runner = Runner::Platform;
                s.kind = StepKind::Backup;
                s.args["type"] = json!("full");
                s.args["stripes"] = json!(s.args["blobs"].as_array().map_or(1, Vec::len));
                s.args["route"] = route;
                s.preview = vec![format!("{}: {}", o.plugin, o.route)];
                s.watch = None;
                fulls.insert(s.database.clone(), s.args["blobs"].clone());
            }
            StepKind::Replicate => {
                s.runner = Runner::Platform;
                s.kind = StepKind::ShipLogs;
                s.args["route"] = route;
                s.description = format!(
                    "ship the log backups the source's platform takes of {} into its folder until the cutover is asked for",
                    s.database
                );
                s.preview = vec![format!(
                    "{}: copy each new log backup of the platform's into {}",
                    o.plugin, s.args["folder"]
                )];
            }
            StepKind::Cutover => {
                out.push(Step {
                    id: format!("{}/final-log", s.database),
                    database: s.database.clone(),
                    kind: StepKind::FinalLog,
                    runner: Runner::Platform,
                    description: format!(
                        "ship the first log backup of {} taken after the cutover was asked for",
                        s.database
                    ),
                    args: json!({
                        "database": s.args["database"],
                        "folder": s.args["folder"],
                        "route": route,
                    }),
                    preview: vec![format!(
                        "{}: wait for the platform's next log backup, copy it into the folder",
                        o.plugin
                    )],
                    expected_s: None,
                    watch: None,
                });
                s.args["tail"] = json!("platform");
                s.args["blobs"] = fulls.get(&s.database).cloned().unwrap_or_default();
                s.preview.retain(|p| !p.starts_with("source: BACKUP LOG"));
                s.description = format!(
                    "cut {} over: the last log shipped restored, online on MI, rows compared",
                    s.database
                );
            }
            _ => {}
        }
        out.push(s);
    }
    *steps = out;
    for d in databases.iter_mut() {
        d.backup_to = "platform".into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlmig_plugin_sdk::protocol::migration::PLAN_REQUEST;
    use sqlmig_plugin_sdk::protocol::migration::{DatabaseToMove, Side, Storage};

    fn request(recovery: &str) -> PlanRequest {
        let options = serde_json::Map::new();
        PlanRequest {
            schema: PLAN_REQUEST.into(),
            source: Side {
                server: "sql01".into(),
                product_version: "15.0.4000.1".into(),
                platform: "onprem".into(),
                edition: "Enterprise Edition (64-bit)".into(),
                ..Default::default()
            },
            target: Side {
                server: "mi01".into(),
                platform: "mi".into(),
                resource_id: Some(
                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01"
                        .into(),
                ),
                management_url: Some("https://management.azure.com".into()),
                ..Default::default()
            },
            storage: Storage {
                container_url: "https://acct.blob.core.windows.net/migration".into(),
                ..Default::default()
            },
            databases: vec![DatabaseToMove {
                name: "Sales Q]".into(),
                target_name: "Sales Q]".into(),
                size_mb: 10.0,
                recovery_model: recovery.into(),
            }],
            parallelism: 1,
            options,
            source_backup: None,
        }
    }

    #[test]
    fn steps_and_urls() {
        let p = plan(&request("FULL")).unwrap();
        let kinds: Vec<&str> = p.steps.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "create-credential",
                "backup-full",
                "start-log-replay",
                "replicate",
                "cutover"
            ]
        );
        let url = p.steps[3].args["database_url"].as_str().unwrap();
        assert_eq!(p.steps[2].args["folder"], p.steps[3].args["folder"]);
        assert_eq!(
            url,
            "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01/databases/Sales%20Q%5D"
        );
        assert!(p.steps[1].preview[0].contains("BACKUP DATABASE [Sales Q]]] TO URL = N'https://acct.blob.core.windows.net/migration/Sales_Q_-"));
    }

    #[test]
    fn refuses_what_cannot_replay() {
        let err = |r: &PlanRequest| format!("{:?}", plan(r).map(|_| ()).unwrap_err());
        assert!(err(&request("SIMPLE")).contains("FULL recovery model"));
        let mut r = request("FULL");
        r.target.resource_id = None;
        assert!(err(&r).contains("--target-resource"));
        let mut r = request("FULL");
        r.options
            .insert("mi_resource".into(), json!("/subscriptions/…"));
        assert!(err(&r).contains("no longer a method option"));
        let mut r = request("FULL");
        for version in ["10.50.6000.34", "12.0.6024.0"] {
            r.source.product_version = version.into();
            assert!(err(&r).contains("2016 or later"), "{version}");
        }
        let mut r = request("FULL");
        r.source.edition = "Express Edition (64-bit)".into();
        assert!(err(&r).contains("not Express or Web"));
        let mut r = request("FULL");
        r.storage.container_url = "https://acct.blob.core.windows.net/sqlbackups".into();
        assert!(err(&r).contains("'backup' or 'backups'"));
        for round in [0.0, 86400.0] {
            let mut r = request("FULL");
            r.options.insert("replicate_round_s".into(), round.into());
            assert!(err(&r).contains("replicate_round_s"), "{round}");
        }
        let p = plan(&request("FULL")).unwrap();
        let replicate = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::Replicate)
            .unwrap();
        assert_eq!(replicate.args["round_s"], 3600.0);
        let full = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::BackupFull)
            .unwrap();
        assert!(
            full.args["backup"]["devices"][0]
                .as_str()
                .unwrap()
                .ends_with(full.args["blobs"][0].as_str().unwrap())
        );
    }

    /// The files LRS finds: `.bak` stripes and `.log` logs in one flat folder without its
    /// reserved word; block-blob sized transfers; a COPY_ONLY full unless base_full.
    #[test]
    fn files_and_statements_are_what_lrs_and_the_source_accept() {
        let mut r = request("FULL");
        r.databases[0].name = "NightlyBackups".into();
        r.databases[0].target_name = "NightlyBackups".into();
        let p = plan(&r).unwrap();
        let full = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::BackupFull)
            .unwrap();
        let folder = full.args["folder"].as_str().unwrap();
        assert!(!folder.to_ascii_lowercase().contains("backup"), "{folder}");
        for b in full.args["blobs"].as_array().unwrap() {
            let b = b.as_str().unwrap();
            assert!(b.ends_with(".bak") && b.matches('/').count() == 1, "{b}");
        }
        assert!(full.preview[0].contains("WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"), "{}", full.preview[0]);
        let replicate = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::Replicate)
            .unwrap();
        assert!(
            replicate.preview[0].contains("_log_NNNNNN.log' WITH COMPRESSION, CHECKSUM"),
            "{}",
            replicate.preview[0]
        );
        let cutover = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::Cutover)
            .unwrap();
        assert!(
            cutover.preview[0].contains("_tail.log' WITH CHECKSUM, NORECOVERY, FORMAT, INIT"),
            "{}",
            cutover.preview[0]
        );
        r.options.insert("base_full".into(), json!(true));
        let p = plan(&r).unwrap();
        let full = p
            .steps
            .iter()
            .find(|s| s.kind == StepKind::BackupFull)
            .unwrap();
        assert!(
            !full.preview[0].contains("COPY_ONLY"),
            "{}",
            full.preview[0]
        );
    }
}
