//! The plan: per database a backup (to URL, or to disk and an upload), a restore and a
//! verification, after the credentials both servers need for the container.

use serde_json::json;
use sqlmig_plugin_sdk::backup_statement::{
    BLOCK_BLOB_MAX_MB, BackupStatement, DeviceType, MAX_STRIPES, block_blob_refusal, compresses,
    full_stripe_file, full_stripe_name,
};
use sqlmig_plugin_sdk::protocol::migration::{
    CredentialArgs, PLAN, Plan, PlanRequest, PlannedDatabase, Runner, Step, StepKind, UploadArgs,
};
use sqlmig_plugin_sdk::{Error, invalid_input};

use sqlmig_plugin_sdk::method::{answer_plan, check_known, flag, number, watch_steps};
use sqlmig_plugin_sdk::tsql::{blob_folder as folder, literal, quote_name};

/// Plans a request.
pub fn run(request: &str) -> Result<String, Error> {
    answer_plan(request, plan)
}

/// The plan for `req`.
pub fn plan(req: &PlanRequest) -> Result<Plan, Error> {
    check_known(
        &req.options,
        &["blob_max_mb", "compression", "verify"],
        "method-backup-restore",
    )?;
    let blob_max_mb = number(&req.options, "blob_max_mb", BLOCK_BLOB_MAX_MB)?;
    // Express and Web refuse COMPRESSION (error 1844): asked for or not, it is left out there.
    let compression = flag(&req.options, "compression", true)? && compresses(&req.source.edition);
    let verify = flag(&req.options, "verify", true)?;
    if req.databases.is_empty() {
        return Err(invalid_input("no database to move"));
    }
    let offer = req.source_backup.as_ref();
    if let Some(o) = offer
        && !o.kinds.iter().any(|k| k == "full")
    {
        return Err(invalid_input(format!(
            "{} offers no full backup of the source ({}); this method needs one",
            o.plugin,
            o.kinds.join(", ")
        )));
    }
    let refusal = block_blob_refusal(&req.source);
    let to_url = refusal.is_none();
    if let Some(why) = refusal.filter(|_| {
        offer.is_none()
            && (req.storage.source_folder.is_none() || req.storage.local_folder.is_none())
    }) {
        return Err(invalid_input(format!(
            "{why}: give a folder it writes to and this machine reads (--source-folder, --local-folder), and sqlmig uploads the files"
        )));
    }
    let container = req.storage.container_url.trim_end_matches('/');
    let mut steps = vec![credential_step("source"), credential_step("target")];
    if !to_url || offer.is_some() {
        // The source writes to its folder or its cloud's storage; the target still reads the
        // container.
        steps.remove(0);
    }
    let max_stripes = offer.map_or(MAX_STRIPES, |o| o.max_stripes.clamp(1, MAX_STRIPES));
    let mut databases = Vec::new();
    let mut notes = Vec::new();
    for db in &req.databases {
        let stripes = ((db.size_mb / blob_max_mb).ceil() as u32).clamp(1, max_stripes);
        if db.size_mb / f64::from(stripes) > blob_max_mb {
            notes.push(format!("{}: {stripes} stripes of more than {blob_max_mb} MB each (at most {max_stripes} files per backup)", db.name));
        }
        let dir = folder(&db.name);
        let names: Vec<String> = (1..=stripes)
            .map(|n| full_stripe_name(&dir, n, stripes))
            .collect();
        let urls: Vec<String> = names.iter().map(|n| format!("{container}/{n}")).collect();
        // A copy-only full: the source's own backup chain is left as it was.
        let full = |to: DeviceType, devices: Vec<String>| {
            let mut b = BackupStatement::new(&db.name, false, to, devices, compression);
            b.copy_only = true;
            b.format = true;
            b
        };
        if let Some(o) = offer {
            steps.push(Step {
                id: format!("{}/backup", db.name),
                database: db.name.clone(),
                kind: StepKind::Backup,
                runner: Runner::Platform,
                description: format!(
                    "back up {} into {stripes} blob(s) by {}'s route",
                    db.name, o.plugin
                ),
                args: json!({
                    "database": db.name,
                    "type": "full",
                    "stripes": stripes,
                    "blobs": names,
                    "route": o.parameters,
                }),
                preview: vec![format!("{}: {} → {}", o.plugin, o.route, names.join(", "))],
                expected_s: None,
                watch: None,
            });
        } else if to_url {
            let backup = full(DeviceType::Url, urls.clone());
            steps.push(Step {
                id: format!("{}/backup", db.name),
                database: db.name.clone(),
                kind: StepKind::Backup,
                runner: Runner::Plugin,
                description: format!("back up {} to {stripes} blob(s)", db.name),
                preview: vec![format!("source: {}", backup.preview())],
                args: json!({ "database": db.name, "backup": backup }),
                expected_s: None,
                watch: None,
            });
        } else {
            let source_folder = req
                .storage
                .source_folder
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches(['/', '\\']);
            let sep = if source_folder.contains('\\') {
                '\\'
            } else {
                '/'
            };
            let files: Vec<String> = (1..=stripes)
                .map(|n| format!("{source_folder}{sep}{}", full_stripe_file(&dir, n, stripes)))
                .collect();
            // By name: the host reads them from the operator's local folder.
            let local: Vec<String> = (1..=stripes)
                .map(|n| full_stripe_file(&dir, n, stripes))
                .collect();
            let backup = full(DeviceType::Disk, files);
            steps.push(Step {
                id: format!("{}/backup", db.name),
                database: db.name.clone(),
                kind: StepKind::Backup,
                runner: Runner::Plugin,
                description: format!(
                    "back up {} to {stripes} file(s) in {source_folder}",
                    db.name
                ),
                preview: vec![format!("source: {}", backup.preview())],
                args: json!({ "database": db.name, "backup": backup }),
                expected_s: None,
                watch: None,
            });
            steps.push(Step {
                id: format!("{}/upload", db.name),
                database: db.name.clone(),
                kind: StepKind::Upload,
                runner: Runner::Host,
                description: format!("upload {stripes} file(s) of {} to the container", db.name),
                args: json!(UploadArgs {
                    files: local,
                    blobs: names.clone(),
                }),
                // The host, which runs it, shows what it reads and writes.
                preview: Vec::new(),
                expected_s: None,
                watch: None,
            });
        }
        let devices = urls
            .iter()
            .map(|u| format!("URL = {}", literal(u)))
            .collect::<Vec<_>>()
            .join(", ");
        steps.push(Step {
            id: format!("{}/restore", db.name),
            database: db.name.clone(),
            kind: StepKind::Restore,
            runner: Runner::Plugin,
            description: format!("restore {} on the target as {}", db.name, db.target_name),
            args: json!({ "database": db.name, "target_name": db.target_name, "urls": urls, "blobs": names }),
            preview: vec![
                format!("blob: read the header of each of {stripes} blob(s): one full backup of {}", quote_name(&db.name)),
                format!(
                    "target: RESTORE DATABASE {} FROM {devices}",
                    quote_name(&db.target_name)
                ),
            ],
            expected_s: None,
            watch: None,
        });
        if verify {
            steps.push(Step {
                id: format!("{}/verify", db.name),
                database: db.name.clone(),
                kind: StepKind::Verify,
                runner: Runner::Plugin,
                description: format!(
                    "compare row counts and checksums of {} and {}",
                    db.name, db.target_name
                ),
                args: json!({ "database": db.name, "target_name": db.target_name }),
                preview: vec![format!(
                    "source and target: {} per table of {} / {}",
                    sqlmig_plugin_sdk::tsql::TABLE_SUMS_PREVIEW,
                    quote_name(&db.name),
                    quote_name(&db.target_name)
                )],
                expected_s: None,
                watch: None,
            });
        }
        databases.push(PlannedDatabase {
            name: db.name.clone(),
            target_name: db.target_name.clone(),
            size_mb: db.size_mb,
            stripes,
            backup_to: match (offer, to_url) {
                (Some(_), _) => "platform",
                (None, true) => "url",
                (None, false) => "disk",
            }
            .into(),
        });
    }
    // The host shows the server's progress of backups and restores while they run.
    watch_steps(
        &mut steps,
        StepKind::Backup,
        "source",
        "BACKUP%",
        "database",
    );
    watch_steps(
        &mut steps,
        StepKind::Restore,
        "target",
        "RESTORE%",
        "target_name",
    );
    Ok(Plan {
        schema: PLAN.into(),
        method: "method-backup-restore".into(),
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

fn credential_step(endpoint: &str) -> Step {
    Step {
        id: format!("credential/{endpoint}"),
        database: String::new(),
        kind: StepKind::CreateCredential,
        runner: Runner::Host,
        description: format!("give the {endpoint} a credential (SAS) for the container"),
        args: json!(CredentialArgs {
            endpoint: endpoint.into()
        }),
        // The host, which runs it, shows what it runs.
        preview: Vec::new(),
        expected_s: None,
        watch: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlmig_plugin_sdk::protocol::migration::PLAN_REQUEST;
    use sqlmig_plugin_sdk::protocol::migration::{DatabaseToMove, Side, Storage};

    fn request(version: &str, sizes: &[(&str, f64)]) -> PlanRequest {
        PlanRequest {
            schema: PLAN_REQUEST.into(),
            source: Side {
                server: "sql01".into(),
                product_version: version.into(),
                platform: "onprem".into(),
                edition: "Standard Edition (64-bit)".into(),
                ..Default::default()
            },
            target: Side {
                server: "mi".into(),
                product_version: "12.0.2000.8".into(),
                platform: "mi".into(),
                ..Default::default()
            },
            storage: Storage {
                container_url: "https://acct.blob.core.windows.net/backups/".into(),
                ..Default::default()
            },
            databases: sizes
                .iter()
                .map(|(n, s)| DatabaseToMove {
                    name: n.to_string(),
                    target_name: n.to_string(),
                    size_mb: *s,
                    recovery_model: "FULL".into(),
                })
                .collect(),
            parallelism: 2,
            options: Default::default(),
            source_backup: None,
        }
    }

    #[test]
    fn a_platform_route_runs_the_backup_and_the_source_needs_no_credential() {
        use sqlmig_plugin_sdk::protocol::migration::BackupOffer;
        let mut req = request("15.0.4345.5", &[("Sales", 3000.0)]);
        req.options.insert("blob_max_mb".into(), json!(100));
        req.source_backup = Some(BackupOffer {
            plugin: "platform-aws-rds".into(),
            route: "rds_backup_database to s3://b/p/".into(),
            kinds: vec!["full".into(), "diff".into()],
            max_stripes: 10,
            parameters: json!({"s3_bucket": "b", "s3_prefix": "p"}),
            ..Default::default()
        });
        let p = plan(&req).unwrap();
        assert_eq!(p.source_platform.as_deref(), Some("platform-aws-rds"));
        assert!(!p.steps.iter().any(|s| s.id == "credential/source"));
        assert!(p.steps.iter().any(|s| s.id == "credential/target"));
        let backup = p.steps.iter().find(|s| s.id == "Sales/backup").unwrap();
        assert_eq!(backup.runner, Runner::Platform);
        // 30 stripes by size, but RDS writes at most 10 files.
        assert_eq!(backup.args["stripes"], 10);
        assert_eq!(backup.args["blobs"].as_array().unwrap().len(), 10);
        assert_eq!(backup.args["route"]["s3_bucket"], "b");
        assert_eq!(p.databases[0].backup_to, "platform");
        assert!(
            p.notes.iter().any(|n| n.contains("at most 10 files")),
            "{:?}",
            p.notes
        );

        req.source_backup.as_mut().unwrap().kinds = vec!["log".into()];
        assert!(plan(&req).is_err());
    }

    #[test]
    fn stripes_follow_size_and_names_stay_quoted() {
        let mut req = request(
            "15.0.4000.1",
            &[("Small", 10.0), ("Big", 500.0), ("O'Brien]x", 1.0)],
        );
        req.options.insert("blob_max_mb".into(), json!(200));
        let p = plan(&req).unwrap();
        let stripes: Vec<u32> = p.databases.iter().map(|d| d.stripes).collect();
        assert_eq!(stripes, [1, 3, 1]);
        let kinds: Vec<&str> = p.steps.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(&kinds[..2], ["create-credential", "create-credential"]);
        let backup = p.steps.iter().find(|s| s.id == "Big/backup").unwrap();
        let watch = backup.watch.as_ref().expect("backups are watched");
        assert_eq!(
            (
                watch.endpoint.as_str(),
                watch.command.as_str(),
                watch.database.as_str()
            ),
            ("source", "BACKUP%", "Big")
        );
        assert!(
            p.steps
                .iter()
                .find(|s| s.id == "Big/verify")
                .unwrap()
                .watch
                .is_none()
        );
        assert_eq!(
            backup.args["backup"]["devices"].as_array().unwrap().len(),
            3
        );
        assert!(
            backup.args["backup"]["devices"][2]
                .as_str()
                .unwrap()
                .starts_with("https://acct.blob.core.windows.net/backups/Big-")
        );
        let restore = p
            .steps
            .iter()
            .find(|s| s.id == "O'Brien]x/restore")
            .unwrap();
        assert!(
            restore.preview[1].contains("RESTORE DATABASE [O'Brien]]x] FROM URL = N'"),
            "{}",
            restore.preview[1]
        );
        // The headers are read back by blob name, the same files the URLs name.
        let blob = restore.args["blobs"][0].as_str().unwrap();
        assert!(
            restore.args["urls"][0]
                .as_str()
                .unwrap()
                .ends_with(&format!("/backups/{blob}")),
            "{blob}"
        );
        assert_eq!(restore.args["database"], "O'Brien]x");
    }

    #[test]
    fn old_sources_back_up_to_a_folder_that_is_uploaded() {
        let mut req = request("10.50.6000.34", &[("Sales", 10.0)]);
        assert!(
            plan(&req)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
                .unwrap_err()
                .contains("--source-folder")
        );
        req.storage.source_folder = Some("D:\\Backups".into());
        req.storage.local_folder = Some("/mnt/backups".into());
        let p = plan(&req).unwrap();
        let kinds: Vec<&str> = p.steps.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["create-credential", "backup", "upload", "restore", "verify"]
        );
        assert!(
            p.steps[1].args["backup"]["devices"][0]
                .as_str()
                .unwrap()
                .starts_with("D:\\Backups\\Sales-")
        );
        assert!(p.steps[1].preview[0].contains("TO DISK = N'D:\\Backups\\Sales-"));
    }

    /// The statements each kind of source is shown, and runs, are ones it accepts.
    #[test]
    fn backups_are_what_each_version_and_edition_accepts() {
        let preview =
            |p: &Plan, id: &str| p.steps.iter().find(|s| s.id == id).unwrap().preview[0].clone();
        // 300 GB on 2019 Standard: two block blobs with 4 MB transfers and 64 KB blocks.
        let p = plan(&request("15.0.4345.5", &[("Big", 300.0 * 1024.0)])).unwrap();
        assert_eq!(p.databases[0].stripes, 2);
        let big = preview(&p, "Big/backup");
        assert!(
            big.starts_with("source: BACKUP DATABASE [Big] TO URL = N'"),
            "{big}"
        );
        assert!(
            big.ends_with("WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"),
            "{big}"
        );
        // 2014 cannot back up to block blobs: to a folder, then uploaded.
        let mut old = request("12.0.6024.0", &[("Sales", 300.0 * 1024.0)]);
        assert!(format!("{:?}", plan(&old).unwrap_err()).contains("2016 or later"));
        old.storage.source_folder = Some("D:\\Backups".into());
        old.storage.local_folder = Some("/mnt/backups".into());
        let p = plan(&old).unwrap();
        let sales = preview(&p, "Sales/backup");
        assert!(sales.contains("TO DISK = N'D:\\Backups\\Sales-"), "{sales}");
        assert!(
            !sales.contains("URL") && !sales.contains("MAXTRANSFERSIZE"),
            "{sales}"
        );
        assert!(p.steps.iter().any(|s| s.id == "Sales/upload"));
        assert!(!p.steps.iter().any(|s| s.id == "credential/source"));
        // Express: no URL and no COMPRESSION, whatever the option says.
        let mut express = old.clone();
        express.source.product_version = "15.0.2000.5".into();
        express.source.edition = "Express Edition (64-bit)".into();
        express.options.insert("compression".into(), json!(true));
        let p = plan(&express).unwrap();
        let sales = preview(&p, "Sales/backup");
        assert!(
            sales.contains("TO DISK") && !sales.contains("COMPRESSION"),
            "{sales}"
        );
        // The step runs the statement the preview shows.
        let step = p.steps.iter().find(|s| s.id == "Sales/backup").unwrap();
        let b: BackupStatement = serde_json::from_value(step.args["backup"].clone()).unwrap();
        assert_eq!(format!("source: {}", b.preview()), sales);
    }

    #[test]
    fn bad_options_are_named() {
        let mut req = request("15.0.4000.1", &[("Sales", 10.0)]);
        req.options.insert("stripes".into(), json!(4));
        assert!(
            plan(&req)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
                .unwrap_err()
                .contains("unknown option stripes")
        );
        let mut req = request("15.0.4000.1", &[("Sales", 10.0)]);
        req.options.insert("blob_max_mb".into(), json!("lots"));
        assert!(
            plan(&req)
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
                .unwrap_err()
                .contains("blob_max_mb")
        );
    }
}
