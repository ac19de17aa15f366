//! The plan: the source's credential for the container; per database a full backup, LRS started
//! on its folder, log shipping until the cutover is asked for, and the cutover.

use serde_json::{Value, json};
use sqlmig_plugin_sdk::inventory::migration::{
    PLAN, Plan, PlanRequest, PlannedDatabase, Runner, Step,
};
use sqlmig_plugin_sdk::method::{answer_plan, check_known, flag, number, text, watch_steps};
use sqlmig_plugin_sdk::tsql::{blob_folder, literal, quote_name};
use sqlmig_plugin_sdk::{Error, invalid_input};

const DEFAULT_BLOB_MAX_MB: f64 = 195.0 * 1024.0;
const OPTIONS: [&str; 7] = [
    "mi_resource",
    "management_url",
    "log_backup_interval_s",
    "replicate_round_s",
    "blob_max_mb",
    "compression",
    "collation",
];

/// Plans a request.
pub fn run(request: &str) -> Result<String, Error> {
    answer_plan(request, plan)
}

/// The plan for `req`.
pub fn plan(req: &PlanRequest) -> Result<Plan, Error> {
    check_known(&req.options, &OPTIONS, "method-log-replay")?;
    if let Some(offer) = &req.source_backup {
        return Err(invalid_input(format!(
            "the source's backups go through {} ({}); this method ships log backups the source \
             writes to the container itself, so it cannot plan this source yet: move it offline \
             with method-backup-restore",
            offer.plugin, offer.route
        )));
    }
    let instance = text(&req.options, "mi_resource").ok_or_else(|| {
        invalid_input("option mi_resource is required: the target's Azure resource id, /subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/managedInstances/NAME")
    })?;
    if !instance
        .to_ascii_lowercase()
        .contains("/providers/microsoft.sql/managedinstances/")
    {
        return Err(invalid_input(format!(
            "option mi_resource {instance:?} is not a Managed Instance resource id"
        )));
    }
    let management = text(&req.options, "management_url")
        .unwrap_or("https://management.azure.com")
        .trim_end_matches('/');
    let interval = number(&req.options, "log_backup_interval_s", 300.0)?;
    let round = number(&req.options, "replicate_round_s", 3600.0)?;
    if !(round > 0.0 && round <= 23.0 * 3600.0) {
        return Err(invalid_input(format!(
            "option replicate_round_s = {round}: give the seconds one call of the replicate step ships before handing back, above 0 and at most 82800 (a hook may run a day)"
        )));
    }
    let blob_max_mb = number(&req.options, "blob_max_mb", DEFAULT_BLOB_MAX_MB)?;
    let compression = flag(&req.options, "compression", true)?;
    let collation = text(&req.options, "collation").unwrap_or("SQL_Latin1_General_CP1_CI_AS");
    let (major, _, build) = req.source.version();
    if major < 11 || (major == 11 && build < 3339) {
        return Err(invalid_input(format!(
            "the source is SQL Server {}: online migration needs BACKUP TO URL (2012 SP1 CU2 and later); use method-backup-restore",
            req.source.product_version
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
    let mut steps = vec![Step {
        id: "credential/source".into(),
        database: String::new(),
        kind: "create-credential".into(),
        runner: Runner::Host,
        description: "give the source a credential (SAS) for the container".into(),
        args: json!({ "endpoint": "source", "container_url": container }),
        preview: vec![format!(
            "source: CREATE CREDENTIAL {} WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '***' (ALTER when it exists)",
            quote_name(container)
        )],
        expected_s: None,
        watch: None,
    }];
    let mut databases = Vec::new();
    for db in &req.databases {
        let stripes = ((db.size_mb / blob_max_mb).ceil() as u32).clamp(1, 64);
        let dir = blob_folder(&db.name);
        let folder_url = format!("{container}/{dir}");
        let database_url = format!(
            "{management}{instance}/databases/{}",
            encode(&db.target_name)
        );
        let blobs: Vec<String> = (1..=stripes)
            .map(|n| format!("{dir}/{dir}_full_{n}of{stripes}.bak"))
            .collect();
        let urls: Vec<String> = blobs.iter().map(|b| format!("{container}/{b}")).collect();
        let with = if compression {
            "COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT"
        } else {
            "COPY_ONLY, CHECKSUM, FORMAT, INIT"
        };
        let devices = urls
            .iter()
            .map(|u| format!("URL = {}", literal(u)))
            .collect::<Vec<_>>()
            .join(", ");
        let common = json!({ "database": db.name, "target_name": db.target_name, "folder_url": folder_url, "folder": dir, "database_url": database_url, "compression": compression });
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
            kind: "backup-full".into(),
            runner: Runner::Plugin,
            description: format!(
                "full backup of {} to its folder ({stripes} blob(s))",
                db.name
            ),
            args: with_args(json!({ "urls": urls, "blobs": blobs })),
            preview: vec![format!(
                "source: BACKUP DATABASE {} TO {devices} WITH {with}",
                quote_name(&db.name)
            )],
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/start-replay", db.name),
            database: db.name.clone(),
            kind: "start-log-replay".into(),
            runner: Runner::Host,
            description: format!("start MI's Log Replay Service for {} on {dir}", db.target_name),
            args: with_args(json!({ "collation": collation })),
            preview: vec![format!(
                "ARM: PUT {database_url} {{createMode: RestoreExternalBackup, storageContainerUri: {folder_url}, storageContainerSasToken: ***, autoCompleteRestore: false}}"
            )],
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/replicate", db.name),
            database: db.name.clone(),
            kind: "replicate".into(),
            runner: Runner::Plugin,
            description: format!(
                "ship log backups of {} every {interval} s until the cutover is asked for",
                db.name
            ),
            args: with_args(json!({ "interval_s": interval, "round_s": round })),
            preview: vec![
                format!(
                    "source, every {interval} s: BACKUP LOG {} TO URL = {} WITH CHECKSUM",
                    quote_name(&db.name),
                    literal(&format!("{folder_url}/{dir}_log_NNNNNN.trn"))
                ),
                format!("ARM: GET {database_url}/restoreDetails/Default (the lag)"),
            ],
            expected_s: None,
            watch: None,
        });
        steps.push(Step {
            id: format!("{}/cutover", db.name),
            database: db.name.clone(),
            kind: "cutover".into(),
            runner: Runner::Plugin,
            description: format!(
                "cut {} over: tail of the log, last restore, online on MI, rows compared",
                db.name
            ),
            args: common.clone(),
            preview: vec![
                format!(
                    "source: BACKUP LOG {} TO URL = {} WITH NORECOVERY, CHECKSUM",
                    quote_name(&db.name),
                    literal(&format!("{folder_url}/{dir}_tail.trn"))
                ),
                format!(
                    "ARM: POST {database_url}/completeRestore {{lastBackupName: {dir}_tail.trn}}"
                ),
                "source and target: SELECT COUNT(*), CHECKSUM_AGG(BINARY_CHECKSUM(*)) per table"
                    .into(),
            ],
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
    // The host shows the server's progress of backups and restores while they run.
    watch_steps(&mut steps, "backup-full", "source", "BACKUP%", "database");
    Ok(Plan {
        schema: PLAN.into(),
        method: "method-log-replay".into(),
        source: req.source.clone(),
        target: req.target.clone(),
        storage: req.storage.clone(),
        parallelism: req.parallelism.max(1),
        databases,
        steps,
        notes: vec![
            "the source's own log backup jobs must pause while this runs: a log backup taken elsewhere breaks the chain LRS restores".into(),
            "stop the application before `sqlmig migrate cutover`: the cutover compares the rows of both sides".into(),
        ],
        forecast: None,
        source_platform: None,
    })
}

/// Percent-encodes a path segment.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlmig_plugin_sdk::inventory::migration::PLAN_REQUEST;
    use sqlmig_plugin_sdk::inventory::migration::{DatabaseToMove, Side, Storage};

    fn request(recovery: &str) -> PlanRequest {
        let mut options = serde_json::Map::new();
        options.insert(
            "mi_resource".into(),
            json!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01"
            ),
        );
        PlanRequest {
            schema: PLAN_REQUEST.into(),
            source: Side {
                server: "sql01".into(),
                product_version: "15.0.4000.1".into(),
                platform: "onprem".into(),
            },
            target: Side {
                server: "mi01".into(),
                product_version: String::new(),
                platform: "mi".into(),
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
        let url = p.steps[2].args["database_url"].as_str().unwrap();
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
        r.options.remove("mi_resource");
        assert!(err(&r).contains("mi_resource is required"));
        let mut r = request("FULL");
        r.source.product_version = "10.50.6000.34".into();
        assert!(err(&r).contains("2012 SP1 CU2"));
        for round in [0.0, 86400.0] {
            let mut r = request("FULL");
            r.options.insert("replicate_round_s".into(), round.into());
            assert!(err(&r).contains("replicate_round_s"), "{round}");
        }
        let p = plan(&request("FULL")).unwrap();
        let replicate = p.steps.iter().find(|s| s.kind == "replicate").unwrap();
        assert_eq!(replicate.args["round_s"], 3600.0);
        let full = p.steps.iter().find(|s| s.kind == "backup-full").unwrap();
        assert!(
            full.args["urls"][0]
                .as_str()
                .unwrap()
                .ends_with(full.args["blobs"][0].as_str().unwrap())
        );
    }
}
