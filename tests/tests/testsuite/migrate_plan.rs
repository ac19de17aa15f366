//! `sqlmig migrate plan` from an inventory without any server: the move forecast matches a hand
//! calculation, and bad input is refused naming what is wrong (exit 2, nothing written).

use sqlmig_protocol::{
    Address, BackupDay, BackupHistory, CollectionStatus, Database, DatabaseFile, Instance,
    Inventory, Server,
};
use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn file(name: &str, kind: &str, mb: f64) -> DatabaseFile {
    DatabaseFile {
        name: name.into(),
        type_desc: kind.into(),
        size_mb: mb,
        ..Default::default()
    }
}

/// SQL01 (2019) with Sales: 10,240 MB of data, 1,024 MB of log, and two days of log backups
/// of 8,437.5 MB and 16,875 MB — 0.1 and 0.2 MB/s over a day.
fn inventory() -> Inventory {
    let day = |date: &str, mb: f64| BackupDay {
        date: date.into(),
        backup_type: "L".into(),
        count: 96,
        size_bytes: (mb * 1048576.0) as u64,
        first_lsn: "1".into(),
        last_lsn: "2".into(),
    };
    let sales = Database {
        name: "Sales".into(),
        database_id: 5,
        state_desc: "ONLINE".into(),
        recovery_model_desc: "FULL".into(),
        compatibility_level: 150,
        size_mb: 11_264.0,
        files: vec![
            file("Sales", "ROWS", 10_240.0),
            file("Sales_log", "LOG", 1_024.0),
        ],
        backups: BackupHistory {
            per_day: vec![
                day("2026-11-26", 0.1 * 86400.0),
                day("2026-11-27", 0.2 * 86400.0),
            ],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut inv = Inventory::new();
    inv.instances.push(Instance {
        name: "SQL01".into(),
        address: Address {
            host: "sql01".into(),
            port: 1433,
            instance: None,
        },
        platform: "onprem".into(),
        status: CollectionStatus::Complete,
        server: Some(Server {
            product_version: "15.0.4360.2".into(),
            major_version: 15,
            ..Default::default()
        }),
        databases: vec![sales],
        ..Default::default()
    });
    inv
}

#[test]
fn the_plan_shows_the_forecast_a_hand_calculation_gives() {
    let s = sqlmig();
    let inv = s.home.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&inventory()).unwrap()).unwrap();
    let args = [
        "migrate",
        "plan",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi01,1433",
        "--container-url",
        "https://acct.blob.core.windows.net/backups",
    ];
    let plan = s.json(&[&args[..], &["-o", "json"]].concat());
    // Hand calculation, with the defaults (backup 200 MB/s, upload and restore 100 MB/s, backup
    // as large as the data, log backups every 300 s, 60 s of recovery) and General Purpose
    // 8 vCores (log limit 4.5 × 8 = 36 MiB/s, resource-limits.md, so replay runs at 36 MB/s):
    //   full backup 10,240 / 200 = 51.2 s; upload and restore 10,240 / 100 = 102.4 s each;
    //   initial sync 256 s; log average (0.1 + 0.2) / 2 = 0.15 MB/s, peak 0.2 MB/s;
    //   backlog 0.15 × 256 = 38.4 MB, caught up at 36 − 0.15 MB/s: 38.4 / 35.85 = 1.07 s;
    //   tail 0.2 × 300 = 60 MB: 60/200 + 60/100 + 60/36 + 60 = 62.57 s of downtime.
    let f = &plan["forecast"];
    let d = &f["databases"][0];
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-6;
    assert!(close(&d["full_backup_s"], 51.2), "{d}");
    assert!(
        close(&d["upload_s"], 102.4) && close(&d["restore_s"], 102.4),
        "{d}"
    );
    assert!(close(&d["initial_sync_s"], 256.0), "{d}");
    // Offline: the sync and the 60 s recovery.
    assert!(close(&f["offline_downtime_s"], 316.0), "{f}");
    assert!(close(&d["catch_up_s"], 38.4 / 35.85), "{d}");
    assert!(
        close(&d["cutover_downtime_s"], 0.3 + 0.6 + 60.0 / 36.0 + 60.0),
        "{d}"
    );
    assert!(close(&f["target_log_mb_s"], 36.0));
    // Steps carry their expected durations.
    let backup = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "Sales/backup")
        .unwrap();
    assert!(close(&backup["expected_s"], 51.2));
    // And the console shows the forecast.
    let out = s.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "Forecast (offline): ≈ 5 min downtime, the databases offline from backup to restored (online would be ≈ 4 min to sync, ≈ 1 min downtime at cutover)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("Sales/backup: back up Sales to 1 blob(s) (≈ 51 s)"),
        "{}",
        stdout(&out)
    );
    // Business Critical on premium-series writes log at 12 MiB/s per vCore: 96 on 8.
    let bc = s.json(
        &[
            &args[..],
            &[
                "--target-tier",
                "mi-bc",
                "--target-hardware",
                "premium-series",
                "-o",
                "json",
            ],
        ]
        .concat(),
    );
    assert!(close(&bc["forecast"]["target_log_mb_s"], 96.0), "{bc}");
    // A size the tier does not have is bad input, naming the sizes it has.
    let out = s.run(&[&args[..], &["--target-vcores", "6"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--target-vcores 6: General Purpose on standard-series (Gen5) comes with [4, 8, 16, 24, 32, 40, 64, 80] vCores"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_plans_and_inputs_are_refused_by_name() {
    let s = sqlmig();
    let inv = s.home.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&inventory()).unwrap()).unwrap();
    let out_file = s.home.path().join("plan.json");
    let base = [
        "migrate",
        "plan",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi01",
        "--out",
        out_file.to_str().unwrap(),
    ];
    let refused = |extra: &[&str], says: &str| {
        let out = s.run(&[&base[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("SECRETSIG"), "a SAS is never echoed");
        assert!(!out_file.exists(), "nothing written on bad input");
    };
    let url = [
        "--container-url",
        "https://acct.blob.core.windows.net/backups",
    ];
    refused(
        &[&url[..], &["--databases", "Nope"]].concat(),
        "no user database \"Nope\"; it has: Sales",
    );
    refused(
        &[&url[..], &["--option", "stripes=4"]].concat(),
        "unknown option stripes",
    );
    refused(
        &[&url[..], &["--rename", "HR=People"]].concat(),
        "--rename HR: not among the databases moved",
    );
    refused(
        &[
            "--container-url",
            "https://acct.blob.core.windows.net/backups?sv=1&sig=SECRETSIG",
        ],
        "'https://acct.blob.core.windows.net/backups?…' carries a query",
    );
    refused(
        &[&url[..], &["--instance", "SQL99"]].concat(),
        "no instance SQL99; it has: SQL01",
    );

    // A file that is not a plan, for run and status.
    let junk = s.home.path().join("junk.json");
    std::fs::write(&junk, r#"{"schema": "sqlmig.plan/1", "steps": 3}"#).unwrap();
    for cmd in [
        vec!["migrate", "run", junk.to_str().unwrap(), "--dry-run"],
        vec!["migrate", "status", junk.to_str().unwrap()],
    ] {
        let out = s.run(&cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(
            stderr(&out).contains("junk.json: not a plan"),
            "{}",
            stderr(&out)
        );
    }
    // Run without logins.
    let good = s.home.path().join("good.json");
    let out = s.run(&[&base[..6], &url[..], &["--out", good.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = s.run(&["migrate", "run", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--source-user and --target-user"),
        "{}",
        stderr(&out)
    );
    // A plan never run: every step pending, and said so.
    let status = s.run(&["migrate", "status", good.to_str().unwrap()]);
    assert!(
        stdout(&status).contains("Sales/backup       pending  0"),
        "{}",
        stdout(&status)
    );
}

/// `inventory()` with Documents (FILESTREAM data: MI does not restore it) and Legacy (level 90:
/// a warning, MI runs 100 and up).
fn inventory_with_findings() -> Inventory {
    let mut inv = inventory();
    let sales = inv.instances[0].databases[0].clone();
    let documents = Database {
        name: "Documents".into(),
        database_id: 6,
        files: vec![
            file("Documents", "ROWS", 100.0),
            file("Documents_log", "LOG", 10.0),
            file("Documents_fs", "FILESTREAM", 500.0),
        ],
        ..sales.clone()
    };
    let legacy = Database {
        name: "Legacy".into(),
        database_id: 7,
        compatibility_level: 90,
        files: vec![
            file("Legacy", "ROWS", 100.0),
            file("Legacy_log", "LOG", 10.0),
        ],
        ..sales
    };
    inv.instances[0].databases.extend([documents, legacy]);
    inv
}

#[test]
fn the_plan_is_made_against_the_assessment() {
    let s = sqlmig();
    let inv = s.home.path().join("inventory.json");
    std::fs::write(
        &inv,
        serde_json::to_string(&inventory_with_findings()).unwrap(),
    )
    .unwrap();
    let out_file = s.home.path().join("plan.json");
    let base = [
        "migrate",
        "plan",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi01",
        "--container-url",
        "https://acct.blob.core.windows.net/backups",
        "--out",
        out_file.to_str().unwrap(),
    ];
    // Every database: Documents' FILESTREAM data blocks, named with its fix; nothing written.
    let out = s.run(&base);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the assessment blocks the plan for General Purpose (mi-gp) (1 issue):")
            && err.contains(
                "SQL01/Documents [FileStream]: Documents has FILESTREAM data in Documents_fs"
            )
            && err.contains("fix: Move the FILESTREAM data to Azure Blob Storage")
            && err.contains("--accept RULE"),
        "{err}"
    );
    assert!(!out_file.exists(), "nothing written when blocked");

    // Without Documents: planned, Legacy's warning shown and recorded.
    let out = s.run(&[&base[..], &["--databases", "Sales,Legacy"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: SQL01/Legacy [DbCompatLevelLowerThan100]"),
        "{}",
        stderr(&out)
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let a = &plan["assessment"];
    assert_eq!(a["target"], "mi-gp", "{a}");
    assert!(a["by"][0].as_str().unwrap().starts_with("rules-mi "), "{a}");
    assert_eq!(
        a["warnings"][0]["rule_id"], "DbCompatLevelLowerThan100",
        "{a}"
    );
    assert!(a.get("accepted").is_none(), "{a}");

    // The DBA deals with the level and says so: let through, no longer a warning, recorded.
    let out = s.run(
        &[
            &base[..],
            &[
                "--databases",
                "Sales,Legacy",
                "--accept",
                "DbCompatLevelLowerThan100",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("warning: SQL01/Legacy"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("accepted (--accept DbCompatLevelLowerThan100): warning Legacy"),
        "{}",
        stderr(&out)
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let a = &plan["assessment"];
    assert_eq!(a["accepted_rules"][0], "DbCompatLevelLowerThan100", "{a}");
    assert_eq!(a["accepted"][0]["database"], "Legacy", "{a}");
    assert_eq!(a["accepted"][0]["level"], "warning", "{a}");
    std::fs::remove_file(&out_file).unwrap();

    // A rule named by mistake is not recorded as a decision.
    let out = s.run(
        &[
            &base[..],
            &["--databases", "Sales", "--accept", "FileStrem"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--accept FileStrem: no issue or warning"),
        "{}",
        stderr(&out)
    );
    assert!(!out_file.exists());

    // From an assessment file: the same refusal; one made for another tier is refused.
    let assessment = s.home.path().join("assessment.json");
    let a = s.run(&[
        "assess",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi-bc",
        "-o",
        "json",
        "--out",
        assessment.to_str().unwrap(),
    ]);
    assert_eq!(a.status.code(), Some(1), "{}", stderr(&a));
    let with_file = [&base[..], &["--assessment", assessment.to_str().unwrap()]].concat();
    let out = s.run(&with_file);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was assessed for mi-bc, the plan is for mi-gp"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&[&with_file[..], &["--target-tier", "mi-bc"]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SQL01/Documents [FileStream]"),
        "{}",
        stderr(&out)
    );
    let out = s.run(
        &[
            &with_file[..],
            &["--target-tier", "mi-bc", "--databases", "Sales"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert!(
        plan["assessment"]["by"][0]
            .as_str()
            .unwrap()
            .ends_with("assessment.json"),
        "{}",
        plan["assessment"]
    );
}

/// An instance of `version` and `edition` with one FULL-recovery database `db` of `mb`.
fn source(name: &str, version: &str, edition: &str, db: &str, mb: f64) -> Instance {
    Instance {
        name: name.into(),
        address: Address {
            host: name.to_ascii_lowercase(),
            port: 1433,
            instance: None,
        },
        platform: "onprem".into(),
        status: CollectionStatus::Complete,
        server: Some(Server {
            product_version: version.into(),
            major_version: version.split('.').next().unwrap().parse().unwrap(),
            edition: edition.into(),
            ..Default::default()
        }),
        databases: vec![Database {
            name: db.into(),
            database_id: 5,
            state_desc: "ONLINE".into(),
            recovery_model_desc: "FULL".into(),
            size_mb: mb,
            files: vec![file(db, "ROWS", mb)],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The plan's backup statements for a 300 GB database on 2019, a 2014 source and an Express
/// source are ones those servers accept (each run on a simulated server of that version and
/// edition, which refuses what the real one refuses), and `--dry-run` prints them as planned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_source_is_planned_a_backup_it_accepts() {
    use sqlsim::engine::{Engine, Session};
    use sqlsim::instance::DatabaseSpec;
    let s = sqlmig();
    let az = sqlmig_tests::azurite::Azurite::start();
    let sas = az.create_container("migration").await;
    let container = az.container_url("migration");
    let folder = tempfile::tempdir().unwrap();
    let mut inv = Inventory::new();
    inv.instances = vec![
        source(
            "SQL19",
            "15.0.4360.2",
            "Standard Edition (64-bit)",
            "Big",
            300.0 * 1024.0,
        ),
        source(
            "SQL14",
            "12.0.6024.0",
            "Standard Edition (64-bit)",
            "Sales",
            300.0 * 1024.0,
        ),
        source(
            "EXPRESS",
            "15.0.2000.5",
            "Express Edition (64-bit)",
            "Shop",
            2048.0,
        ),
    ];
    let path = s.home.path().join("inventory.json");
    std::fs::write(&path, serde_json::to_string(&inv).unwrap()).unwrap();
    for (inst, version, edition, db, mb) in [
        (
            "SQL19",
            (15, 0, 4360),
            "Standard Edition (64-bit)",
            "Big",
            300 * 1024,
        ),
        (
            "SQL14",
            (12, 0, 6024),
            "Standard Edition (64-bit)",
            "Sales",
            300 * 1024,
        ),
        (
            "EXPRESS",
            (15, 0, 2000),
            "Express Edition (64-bit)",
            "Shop",
            2048,
        ),
    ] {
        let plan_path = s.home.path().join(format!("{inst}.json"));
        let out = s.run(&[
            "migrate",
            "plan",
            "--inventory",
            path.to_str().unwrap(),
            "--instance",
            inst,
            "--target",
            "mi01,1433",
            "--container-url",
            &container,
            "--source-folder",
            folder.path().to_str().unwrap(),
            "--out",
            plan_path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{inst}: {}", stderr(&out));
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
        let step = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["kind"] == "backup")
            .unwrap();
        let statement = step["preview"][0]
            .as_str()
            .unwrap()
            .strip_prefix("source: ")
            .unwrap()
            .to_string();
        match inst {
            "SQL19" => {
                assert_eq!(plan["databases"][0]["stripes"], 2, "{inst}");
                assert!(
                    statement.contains(&format!("TO URL = N'{container}/Big-")),
                    "{statement}"
                );
                assert!(statement.ends_with("WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536"), "{statement}");
            }
            "SQL14" => {
                assert!(
                    statement.contains("TO DISK = N'") && !statement.contains("URL"),
                    "{statement}"
                );
                assert!(statement.contains("COMPRESSION"), "{statement}");
            }
            _ => {
                assert!(statement.contains("TO DISK = N'"), "{statement}");
                assert!(
                    !statement.contains("COMPRESSION") && !statement.contains("URL"),
                    "{statement}"
                );
            }
        }
        // --dry-run prints the statement the step runs.
        let out = s.run(&["migrate", "run", plan_path.to_str().unwrap(), "--dry-run"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&statement),
            "{inst}: {}",
            stdout(&out)
        );
        // A server of that version and edition takes it.
        let mut spec = DatabaseSpec::named(db);
        spec.files = vec![sqlsim::instance::DatabaseFile {
            name: db.into(),
            type_desc: "ROWS".into(),
            physical_name: format!("/data/{db}.mdf"),
            size_mb: mb,
            growth: 64,
            is_percent_growth: false,
        }];
        let mut server = sqlsim::instance::Instance::default_with_sa("Sa-Passw0rd!");
        server.version = version;
        server.edition = edition.into();
        server.databases = vec![spec];
        let engine = Engine::new(server).unwrap();
        let mut session = Session::new("sa", "master");
        let credential = format!(
            "CREATE CREDENTIAL [{container}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{}'",
            sas.expose()
        );
        assert!(
            engine
                .execute(&mut session, &credential, &[])
                .error
                .is_none()
        );
        let r = engine.execute(&mut session, &statement, &[]);
        assert!(r.error.is_none(), "{inst}: {statement}: {:?}", r.error);
        // What the product planned before is refused there: COMPRESSION on Express, a URL
        // before 2016, a 300 GB stripe at the default 1 MB MAXTRANSFERSIZE.
        let before = match inst {
            "SQL19" => format!(
                "BACKUP DATABASE [Big] TO URL = N'{container}/old/Big_full.bak' WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT"
            ),
            "SQL14" => format!(
                "BACKUP DATABASE [Sales] TO URL = N'{container}/old/Sales_full.bak' WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT"
            ),
            _ => format!(
                "BACKUP DATABASE [Shop] TO DISK = N'{}/old.bak' WITH COPY_ONLY, COMPRESSION, CHECKSUM, FORMAT, INIT",
                folder.path().display()
            ),
        };
        // The server's messages: the reason, then 3013 "terminating abnormally".
        let r = engine.execute(&mut session, &before, &[]);
        let mut numbers: Vec<i32> = r
            .outcomes
            .iter()
            .filter_map(|o| match o {
                sqlsim::engine::Outcome::Info(m) => Some(m.number),
                _ => None,
            })
            .collect();
        numbers.extend(r.error.map(|e| e.number));
        let why = match inst {
            "SQL19" => 3202,
            "SQL14" => 3289,
            _ => 1844,
        };
        assert_eq!(numbers, [why, 3013], "{inst}: {before}");
    }
}

/// A loopback listener that takes connections and answers none: where a hostile plan would send
/// the operator's logins, SAS, token or files. Counts what reached it.
fn listener() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = l.local_addr().unwrap().to_string();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(conn);
        }
    });
    (at, hits)
}

const MI: &str =
    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01";

/// A method plugin chooses steps, not where the host connects: each way the hostile method plugin
/// points the host's authority elsewhere is refused by `migrate plan` naming what it changed,
/// nothing is written, and nothing reaches the listener.
#[test]
fn a_method_plugin_cannot_point_the_hosts_authority_elsewhere() {
    use sqlmig_tests::plugins::{HOSTILE_METHOD_MANIFEST, HOSTILE_METHOD_WASM};
    let s = sqlmig();
    s.install_test_plugin(
        "hostile-method",
        HOSTILE_METHOD_MANIFEST,
        HOSTILE_METHOD_WASM,
    );
    let inv = s.home.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&inventory()).unwrap()).unwrap();
    let (at, hits) = listener();
    let private = s.home.path().join("id_ed25519");
    std::fs::write(&private, "PRIVATE KEY").unwrap();
    let folder = tempfile::tempdir().unwrap();
    let out_file = s.home.path().join("plan.json");
    // The operator's management endpoint: another port than the listener's.
    let management = "http://127.0.0.1:1";
    let plan = |attack: &str| {
        s.run(&[
            "migrate",
            "plan",
            "--inventory",
            inv.to_str().unwrap(),
            "--target",
            "mi01",
            "--container-url",
            "https://acct.blob.core.windows.net/migration",
            "--local-folder",
            folder.path().to_str().unwrap(),
            "--target-resource",
            MI,
            "--management-url",
            management,
            "--method",
            "hostile-method",
            "--option",
            &format!("attack={attack}"),
            "--option",
            &format!("at={at}"),
            "--option",
            &format!("file={}", private.display()),
            "--out",
            out_file.to_str().unwrap(),
        ])
    };
    for (attack, says) in [
        ("container", "with storage container \"http://127.0.0.1:"),
        ("source-server", "with source server \"127.0.0.1,"),
        ("target-server", "with target server \"127.0.0.1,"),
        (
            "management",
            "with target resource Some(\"http://127.0.0.1:",
        ),
        (
            "platform",
            "with the source platform Some(\"platform-aws-rds\") where you gave None",
        ),
        ("credential-url", "unknown field `container_url`"),
        (
            "credential-endpoint",
            "step credential/target: endpoint \"127.0.0.1,",
        ),
        ("upload-path", "step Sales/upload: files: \""),
        (
            "upload-parent",
            "files: \"../loot\" is not a plain file name",
        ),
        (
            "upload-blob",
            "blob name \"../other-container/loot.bak\" has an empty, '.' or '..' segment",
        ),
        (
            "lrs-url",
            "step Sales/start-replay: the arguments of a start-log-replay step: unknown field `database_url`",
        ),
        ("lrs-folder", "folder: blob name \"../other-container\""),
        (
            "lrs-database",
            "target_name \"SomeoneElsesDb\": the plan restores Sales as \"Sales\"",
        ),
        ("watch", "step Sales/restore: watch.endpoint \"127.0.0.1,"),
        (
            "runner",
            "step Sales/upload: a upload step is the host's to run",
        ),
    ] {
        let out = plan(attack);
        assert_eq!(out.status.code(), Some(2), "{attack}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("hostile-method"), "{attack}: {err}");
        assert!(err.contains(says), "{attack}: {err}");
        assert!(!out_file.exists(), "{attack}: nothing written");
    }
    // The same plugin planning within what was given is accepted: it was each attack that was
    // refused. The plan shows everything the host reaches, and the host's own previews.
    let out = plan("none");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stderr(&out);
    for line in [
        "source  SQL Server sql01,1433",
        "target  SQL Server mi01",
        "storage https://acct.blob.core.windows.net/migration (SAS from SQLMIG_SAS)",
        &format!(
            "ARM     {management} (token from SQLMIG_AZURE_TOKEN, only for {MI} and its databases)"
        ),
        "target: CREATE CREDENTIAL [https://acct.blob.core.windows.net/migration] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '***'",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }

    // Hand-edited plans: `migrate run` (and --dry-run) refuses each before connecting or
    // reading a secret, naming the step and what is wrong.
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let upload = serde_json::json!({
        "id": "Sales/upload", "database": "Sales", "kind": "upload", "runner": "host",
        "description": "upload", "args": { "files": [private.to_str().unwrap()], "blobs": ["loot.bak"] }
    });
    let replay = serde_json::json!({
        "id": "Sales/start-replay", "database": "Sales", "kind": "start-log-replay", "runner": "host",
        "description": "start", "args": { "database": "Sales", "target_name": "Sales", "folder": "x",
            "collation": "c", "database_url": format!("http://{at}{MI}/databases/Sales") }
    });
    type Edit<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "credential URL",
            Box::new(|p| p["steps"][0]["args"]["container_url"] = format!("http://{at}/c").into()),
            "step credential/target: the arguments of a create-credential step: unknown field `container_url`",
        ),
        (
            "upload of a private file",
            Box::new(move |p| p["steps"].as_array_mut().unwrap().push(upload.clone())),
            "step Sales/upload: files: \"",
        ),
        (
            "log replay URL",
            Box::new(move |p| p["steps"].as_array_mut().unwrap().push(replay.clone())),
            "unknown field `database_url`",
        ),
        (
            "container with a SAS",
            Box::new(|p| {
                p["storage"]["container_url"] = "https://acct.blob.core.windows.net/m?sig=x".into()
            }),
            "storage.container_url: 'https://acct.blob.core.windows.net/m?…' carries a query",
        ),
        (
            "watch",
            Box::new(|p| {
                p["steps"][1]["watch"] = serde_json::json!({"endpoint": "http://x", "command": "R%", "database": "Sales"})
            }),
            "step Sales/restore: watch.endpoint \"http://x\"",
        ),
        (
            "database",
            Box::new(|p| p["steps"][1]["database"] = "master".into()),
            "step Sales/restore: database \"master\" is not one the plan moves",
        ),
    ];
    for (what, edit, says) in edits {
        let mut p = good.clone();
        edit(&mut p);
        let edited = s.home.path().join("edited.json");
        std::fs::write(&edited, serde_json::to_vec(&p).unwrap()).unwrap();
        // As `migrate plan` writes a plan: its owner's alone.
        std::fs::set_permissions(&edited, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        for dry in [false, true] {
            let mut args = vec![
                "migrate",
                "run",
                edited.to_str().unwrap(),
                "--source-user",
                "sa",
                "--target-user",
                "sa",
            ];
            if dry {
                args.push("--dry-run");
            }
            let out = s
                .command(&args)
                .env("SQLMIG_SOURCE_PASSWORD", "x")
                .env("SQLMIG_TARGET_PASSWORD", "x")
                .env("SQLMIG_SAS", "sv=2022&sig=x")
                .env("SQLMIG_AZURE_TOKEN", "token")
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{what}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("edited.json"),
                "{what}: {}",
                stderr(&out)
            );
        }
    }
    // A plan another user could have rewritten is not run, however it reads.
    let shared = s.home.path().join("shared.json");
    std::fs::copy(&out_file, &shared).unwrap();
    std::fs::set_permissions(&shared, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let out = s
        .command(&["migrate", "run", shared.to_str().unwrap(), "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("other users can write it (mode 666)")
            && stderr(&out).contains("chmod go-w"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the listener"
    );
}
