//! `sqlmig migrate plan/run/status` end to end, offline method: three databases of a sqlsim
//! source (one striped by the plan's per-blob rule, one whose name holds `]` and a quote) backed
//! up to Azurite and restored on a Managed-Instance-mode sqlsim, every row arriving; a rerun
//! does nothing twice; the SAS appears nowhere; a stripe lost before the restore is named by the
//! header check and `--redo` takes the backup again.

use std::path::Path;

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, serve};
use sqlmig_tests::migration::{self, file_text, journal_events, journal_state, run};
use sqlsim::engine::{Outcome, Session};
use sqlsim::instance::{DatabaseFile, DatabaseSpec, Instance, Platform};
use sqlsim::server::ServerHandle;
use sqlsim::tds::types::Value;

const ODD: &str = "O'Brien]x";

fn rows_setup(table: &str, n: u32) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE dbo.{table} (id INT PRIMARY KEY, name NVARCHAR(60), amount DECIMAL(12,2))"
        ),
        format!(
            "DECLARE @i INT = 1; WHILE @i <= {n} BEGIN INSERT INTO dbo.{table} VALUES (@i, N'row ' + CONVERT(NVARCHAR(10), @i), @i * 1.25); SET @i = @i + 1; END"
        ),
    ]
}

fn source_instance() -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.server_name = "SQL01".into();
    let mut sales = DatabaseSpec::named("Sales");
    sales.setup = rows_setup("Orders", 200);
    // A note longer than the 255 characters BINARY_CHECKSUM reads of a string.
    sales.setup.extend([
        "CREATE TABLE dbo.Notes (id INT PRIMARY KEY, body NVARCHAR(MAX))".to_string(),
        "INSERT INTO dbo.Notes VALUES (1, REPLICATE(CONVERT(NVARCHAR(MAX), N'x'), 300))"
            .to_string(),
        // A table of more rows than COUNT's int holds (declared: the double stores three).
        "CREATE TABLE dbo.Readings (id BIGINT PRIMARY KEY, v INT)".to_string(),
        "INSERT INTO dbo.Readings VALUES (1, 10), (2, 20), (3, 30)".to_string(),
    ]);
    sales
        .declared_rows
        .insert("dbo.Readings".into(), 3_000_000_000);
    let mut big = DatabaseSpec::named("Big");
    big.setup = rows_setup("Events", 1500);
    // A database larger than one blob may hold under the plan's rule (blob_max_mb=200 below).
    big.files = vec![
        DatabaseFile {
            name: "Big".into(),
            type_desc: "ROWS".into(),
            physical_name: "/var/opt/mssql/data/Big.mdf".into(),
            size_mb: 450,
            growth: 64,
            is_percent_growth: false,
        },
        DatabaseFile {
            name: "Big_log".into(),
            type_desc: "LOG".into(),
            physical_name: "/var/opt/mssql/data/Big_log.ldf".into(),
            size_mb: 64,
            growth: 64,
            is_percent_growth: false,
        },
    ];
    let mut odd = DatabaseSpec::named(ODD);
    odd.setup = rows_setup("T", 50);
    inst.databases = vec![sales, big, odd];
    inst
}

fn target_instance() -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.platform = Platform::Mi;
    inst.server_name = "MI01".into();
    inst.databases.clear();
    inst
}

/// (rows, checksum) of a table, from the server's own engine.
fn sums(server: &ServerHandle, db: &str, table: &str) -> (String, String) {
    let mut s = Session::new("sa", "master");
    let sql = format!(
        "SELECT COUNT(*), CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM [{}].dbo.{table}",
        db.replace(']', "]]")
    );
    let r = server.engine.execute(&mut s, &sql, &[]);
    assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    let row = r
        .outcomes
        .into_iter()
        .find_map(|o| match o {
            Outcome::Rows { rows, .. } => rows.into_iter().next(),
            _ => None,
        })
        .unwrap();
    let text = |v: &Value| match v {
        Value::Integer(i) => i.to_string(),
        other => format!("{other:?}"),
    };
    (text(&row[0]), text(&row[1]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_migration_of_three_databases_lands_every_row() {
    let az = Azurite::start();
    let token = az.create_container("migration").await;
    let source = serve(source_instance(), "127.0.0.1", 0).await;
    let target = serve(target_instance(), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let dir = s.home.path();
    let inventory = dir.join("inventory.json");
    let plan = dir.join("plan.json");
    let target_addr = format!("127.0.0.1,{}", target.addr.port());

    migration::discover(&s, &source, &inventory).await;

    let container = az.container_url("migration");
    let out = migration::plan(
        &s,
        &inventory,
        &target_addr,
        &container,
        &["--option", "blob_max_mb=200"],
        &plan,
    )
    .await;
    assert_code(&out, 0);
    let shown = stderr(&out);
    assert!(
        shown.contains("Big: 514 MB, 3 stripe(s), backup to url"),
        "{shown}"
    );
    assert!(shown.contains("Sales: 16 MB, 1 stripe(s)"), "{shown}");
    assert!(
        shown.contains("Forecast (offline): ≈"),
        "the plan shows the move forecast: {shown}"
    );
    let planned: serde_json::Value = serde_json::from_str(&file_text(&plan)).unwrap();
    assert_eq!(
        planned["forecast"]["databases"].as_array().unwrap().len(),
        3
    );

    // Dry run: the T-SQL with names quoted, nothing run, no secret needed.
    let out = run(
        &s,
        &["migrate", "run", plan.to_str().unwrap(), "--dry-run"],
        &[],
    )
    .await;
    assert_code(&out, 0);
    let preview = stdout(&out);
    assert!(
        preview.contains("RESTORE DATABASE [O'Brien]]x] FROM URL = N'"),
        "{preview}"
    );
    assert!(preview.contains("SECRET = '***'"), "{preview}");
    assert_eq!(target.engine.database(ODD), None);

    let env = migration::run_env(token.expose());
    let migrate = migration::migrate_run_args(&plan);
    let out = migration::run_with(&s, &migrate, &env).await;
    assert_code(&out, 0);
    for (db, table) in [("Sales", "Orders"), ("Big", "Events"), (ODD, "T")] {
        assert_eq!(sums(&target, db, table), sums(&source, db, table), "{db}");
    }
    assert_eq!(sums(&target, "Big", "Events").0, "1500");

    // Status: every step done, the verification's counts recorded.
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    let steps = status["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2 + 3 * 3);
    assert!(steps.iter().all(|st| st["state"] == "done"), "{status}");
    let verify = steps.iter().find(|st| st["step"] == "Big/verify").unwrap();
    assert_eq!(verify["output"]["tables"][0]["rows"], 1500);
    // Counted past int's range on both sides (COUNT would stop the verification with 8115).
    let verify = steps
        .iter()
        .find(|st| st["step"] == "Sales/verify")
        .unwrap();
    let readings = verify["output"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "dbo.Readings")
        .unwrap_or_else(|| panic!("{verify}"));
    assert_eq!(readings["rows"], 3_000_000_000i64);

    // A second run finds everything done and runs nothing again.
    let out = migration::run_with(&s, &migrate, &env).await;
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("0 step(s) run, 11 done earlier"),
        "{}",
        stderr(&out)
    );

    // The verification reads long strings whole: a note changed past its 255th character on
    // the target is found (BINARY_CHECKSUM alone reads no further).
    let mut t = Session::new("sa", "master");
    let r = target.engine.execute(
        &mut t,
        "UPDATE Sales.dbo.Notes SET body = REPLICATE(CONVERT(NVARCHAR(MAX), N'x'), 299) + N'y'",
        &[],
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    let mut redo = migrate.to_vec();
    redo.extend(["--redo", "Sales/verify"]);
    let out = migration::run_with(&s, &redo, &env).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("dbo.Notes: checksums differ"),
        "{}",
        stderr(&out)
    );

    // The SAS is nowhere: not in the plan, the journal, or what was printed.
    let sig = token.expose().split("sig=").nth(1).unwrap().to_string();
    assert!(!file_text(&plan).contains(&sig));
    assert!(!migration::journal_text(&dir.join("plan.journal")).contains(&sig));
    assert!(!stderr(&out).contains(&sig) && !stdout(&out).contains(&sig));
}

/// Restores recorded on the target for `db` (the restore ran that many times).
fn restores(server: &ServerHandle, db: &str) -> String {
    let mut s = Session::new("sa", "master");
    let sql = format!(
        "SELECT COUNT(*) FROM msdb.dbo.restorehistory WHERE destination_database_name = N'{}'",
        db.replace('\'', "''")
    );
    let r = server.engine.execute(&mut s, &sql, &[]);
    r.outcomes
        .into_iter()
        .find_map(|o| match o {
            Outcome::Rows { rows, .. } => rows.into_iter().next().map(|r| format!("{:?}", r[0])),
            _ => None,
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_run_resumes_to_the_same_end_without_redoing_work() {
    let az = Azurite::start();
    let token = az.create_container("kill").await;
    let source = serve(source_instance(), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let inventory = s.home.path().join("inventory.json");
    migration::discover(&s, &source, &inventory).await;
    let env = [
        ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
        ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
        ("SQLMIG_SAS", token.expose()),
    ];

    let (mut interrupted, mut mid_step) = (0, 0);
    // Kill points: at the first credential, in the first backup, the second database's backup,
    // a restore, and a verification (steps begun so far, of 11).
    for (round, kill_at) in [1u32, 3, 5, 7, 10].into_iter().enumerate() {
        let target = serve(target_instance(), "127.0.0.1", 0).await;
        let plan = s.home.path().join(format!("plan{round}.json"));
        let target_addr = format!("127.0.0.1,{}", target.addr.port());
        let container = az.container_url("kill");
        let out = migration::plan(
            &s,
            &inventory,
            &target_addr,
            &container,
            &["--option", "blob_max_mb=200", "--parallel", "1"],
            &plan,
        )
        .await;
        assert_code(&out, 0);
        let mut args = migration::migrate_run_args(&plan).to_vec();
        args.push("-q");
        let mut cmd = tokio::process::Command::from(s.command(&args));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // The target answers slowly until the kill: a test thread the machine holds back for
        // a moment still kills the run before it has finished the steps after `kill_at`.
        target
            .faults()
            .delay_responses(Some(std::time::Duration::from_millis(50)));
        let mut child = cmd.kill_on_drop(true).spawn().unwrap();
        // Wait until the run has begun step `kill_at` (counted in the journal), then kill it.
        let journal = plan.with_extension("journal");
        let deadline = std::time::Instant::now() + sqlmig_tests::cli::DEADLINE;
        loop {
            if journal_events(&journal, None, "begin") >= kill_at {
                break;
            }
            if let Some(ended) = child.try_wait().unwrap() {
                let begun = journal_events(&journal, None, "begin");
                panic!(
                    "round {round}: the run ended ({ended}) with {begun} step(s) begun, before the kill at {kill_at}"
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: the run did not begin step {kill_at}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let _ = child.start_kill(); // SIGKILL: no cleanup, as a crash
        let _ = child.wait().await;
        target.faults().delay_responses(None);
        let before = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
        let states: Vec<&str> = before["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| st["state"].as_str().unwrap())
            .collect();
        if states.iter().any(|st| *st != "done") {
            interrupted += 1;
        }
        // Nothing runs any more: a step cut short says so, and how to go on.
        assert!(!states.contains(&"running"), "round {round}: {before}");
        assert_eq!(before["running"], false, "round {round}");
        if states.contains(&"interrupted") {
            mid_step += 1;
            let table = s.run(&["migrate", "status", plan.to_str().unwrap()]);
            assert!(
                stderr(&table).contains(&format!(
                    "interrupted: the run stopped mid-step; rerun `sqlmig migrate run {} --source-user sa --target-user sa --trust-server-certificate` to resume",
                    plan.display()
                )),
                "{}",
                stderr(&table)
            );
        }

        let out = run(&s, &args, &env).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            stderr(&out)
        );
        for (db, table) in [("Sales", "Orders"), ("Big", "Events"), (ODD, "T")] {
            assert_eq!(
                sums(&target, db, table),
                sums(&source, db, table),
                "round {round}: {db}"
            );
            assert_eq!(
                restores(&target, db),
                "Integer(1)",
                "round {round}: {db} was restored once"
            );
        }
        let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
        let steps = status["steps"].as_array().unwrap();
        assert!(
            steps.iter().all(|st| st["state"] == "done"),
            "round {round}: {status}"
        );
        // A step is begun again only when the kill interrupted it: at most twice.
        assert!(
            steps.iter().all(|st| st["attempts"].as_u64().unwrap() <= 2),
            "round {round}: {status}"
        );
    }
    // Every kill interrupted its run, most in the middle of a step.
    assert!(
        interrupted == 5 && mid_step >= 3,
        "interrupted {interrupted}, mid-step {mid_step}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_permanent_error_stops_the_run_and_transient_ones_are_retried() {
    let m = SalesMove::plan("faults", &[]).await;
    let (s, plan, source, target) = (&m.s, &m.plan, &m.source, &m.target);
    let env = m.env();
    let mut args = m.run_args();
    args.extend(["--retry-wait", "20", "--tries", "4"]);

    // A permission error on the source is not retried: the run stops before touching anything.
    source.faults().fail_next(1, 262);
    let out = run(s, &args, &env).await;
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("credential/source: FAILED") && err.contains("262"),
        "{err}"
    );
    assert!(err.contains("1 step(s) failed, 4 not run"), "{err}");
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    let state = |status: &serde_json::Value, id: &str| {
        let st = status["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["step"] == id)
            .unwrap()
            .clone();
        (
            st["state"].as_str().unwrap().to_string(),
            st["attempts"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        state(&status, "credential/source"),
        ("failed".to_string(), 1)
    );
    assert_eq!(state(&status, "Sales/backup"), ("pending".to_string(), 0));
    assert_eq!(target.engine.database("Sales"), None);

    // The cause gone, the same command goes on; a failover on the target (40613, twice) is
    // retried with backoff and the step succeeds on its third try.
    target.faults().fail_next(2, 40613);
    let out = run(s, &args, &env).await;
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("credential/target: SQL Server error 40613") && err.contains("retrying in"),
        "{err}"
    );
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    assert_eq!(state(&status, "credential/source"), ("done".to_string(), 2));
    assert_eq!(state(&status, "credential/target"), ("done".to_string(), 3));
    assert_eq!(
        sums(target, "Sales", "Orders"),
        sums(source, "Sales", "Orders")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_backup_shows_how_far_it_is() {
    let mut slow = source_instance();
    // A slow backup device: the backup takes a few seconds.
    slow.backup_device_kb_per_s = Some(96);
    let m = SalesMove::plan_from(slow, "progress", &[]).await;
    let out = run(&m.s, &m.run_args(), &m.env()).await;
    assert_code(&out, 0);
    // Not a terminal: a line per tenth reached, read from the server's sys.dm_exec_requests.
    let shown: Vec<u32> = stderr(&out)
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("Sales/backup: ")?
                .strip_suffix('%')?
                .parse()
                .ok()
        })
        .collect();
    assert!(
        shown.len() >= 2 && shown.windows(2).all(|w| w[0] < w[1]),
        "{shown:?}\n{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_source_older_than_2012_sp1_cu2_backs_up_to_its_folder_and_the_host_uploads() {
    let az = Azurite::start();
    let token = az.create_container("legacy").await;
    let mut old = source_instance();
    old.version = (10, 50, 6000); // SQL Server 2008 R2 SP3: no BACKUP TO URL
    let source = serve(old, "127.0.0.1", 0).await;
    let target = serve(target_instance(), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let inventory = s.home.path().join("inventory.json");
    let plan = s.home.path().join("plan.json");
    // The share the source writes to; here this machine reads it at the same path.
    let share = tempfile::tempdir().unwrap();
    migration::discover(&s, &source, &inventory).await;
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("legacy");
    let base = [
        "migrate",
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--databases",
        "Big",
        "--target",
        &target_addr,
        "--container-url",
        &container,
        "--option",
        "blob_max_mb=200",
        "--out",
        plan.to_str().unwrap(),
    ];
    // Without a folder the plan says what it needs.
    let out = run(&s, &base, &[]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--source-folder"), "{}", stderr(&out));
    let out = run(
        &s,
        &[
            &base[..],
            &["--source-folder", share.path().to_str().unwrap()],
        ]
        .concat(),
        &[],
    )
    .await;
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Big: 514 MB, 3 stripe(s), backup to disk"),
        "{}",
        stderr(&out)
    );
    let env = [
        ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
        ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
        ("SQLMIG_SAS", token.expose()),
    ];
    let out = run(
        &s,
        &[
            "migrate",
            "run",
            plan.to_str().unwrap(),
            "--source-user",
            "sa",
            "--target-user",
            "sa",
            "--trust-server-certificate",
        ],
        &env,
    )
    .await;
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Big/upload: uploaded 3 file(s)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        sums(&target, "Big", "Events"),
        sums(&source, "Big", "Events")
    );
    // The three stripes were written to the share, and uploaded from it.
    let files = std::fs::read_dir(share.path()).unwrap().count();
    assert_eq!(files, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stripe_lost_before_the_restore_is_named_and_redo_takes_the_backup_again() {
    use sqlmig::capabilities::blob::BlobContainer;
    use sqlmig::storage::azure_blob::{AzureContainer, ContainerAccess};
    let m = SalesMove::plan("lost", &["--option", "blob_max_mb=10"]).await;
    let (s, plan, source, target) = (&m.s, &m.plan, &m.source, &m.target);
    let journal = plan.with_extension("journal");
    let env = m.env();
    let args = m.run_args();
    let (token, container) = (m.token.clone(), m.container.clone());

    // A step the plan does not have: refused before anything runs, the plan's steps listed.
    let mut bad = args.to_vec();
    bad.extend(["--redo", "Sales/bakup"]);
    let out = run(s, &bad, &env).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("--redo Sales/bakup: the plan has no such step; its steps are credential/source, credential/target, Sales/backup"),
        "{}",
        stderr(&out)
    );
    assert!(!journal.exists(), "nothing was begun");

    // The second stripe disappears between the backup and the restore: a first run stops at
    // the restore's first question to the target, the stripe is deleted, and a rerun goes on.
    target.faults().fail_requests_naming(
        "SELECT state_desc FROM sys.databases",
        916,
        14,
        "The server principal \"sa\" is not able to access the database \"master\" under the current security context.",
    );
    let mut once = args.to_vec();
    once.extend(["--tries", "1"]);
    let out = run(s, &once, &env).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("Sales/restore: FAILED"),
        "{}",
        stderr(&out)
    );
    assert_eq!(journal_state(&journal, "Sales/backup"), "done");
    target.faults().clear();
    let blobs = AzureContainer::connect(&ContainerAccess {
        url: container.clone(),
        sas: token.clone(),
    })
    .unwrap();
    let lost = blobs
        .list("")
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.name.ends_with("_full_2of2.bak"))
        .expect("two stripes")
        .name;
    blobs.delete(&lost).await.unwrap();
    let out = run(s, &args, &env).await;
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("Sales/restore: FAILED")
            && err.contains(&format!("blob {lost} is not in the container"))
            && err.contains("--redo Sales/backup"),
        "{err}"
    );
    assert_eq!(target.engine.database("Sales"), None, "nothing restored");

    // Following the advice: the backup is taken again, and the rest follows.
    let mut redo = args.to_vec();
    redo.extend(["--redo", "Sales/backup"]);
    let out = run(s, &redo, &env).await;
    assert_code(&out, 0);
    assert_eq!(
        sums(target, "Sales", "Orders"),
        sums(source, "Sales", "Orders")
    );
    assert_eq!(journal_state(&journal, "Sales/verify"), "done");
    assert_eq!(restores(target, "Sales"), "Integer(1)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_restore_leaves_nothing_a_rerun_takes_for_done() {
    let m = SalesMove::plan("halfway", &[]).await;
    let (s, plan, source, target) = (&m.s, &m.plan, &m.source, &m.target);
    let journal = plan.with_extension("journal");
    let env = m.env();
    let mut args = m.run_args();
    args.extend(["--tries", "1"]);
    let on_target = |sql: &str| migration::first_value(target, sql);
    let sales_rows = "SELECT COUNT(*) FROM sys.databases WHERE name = N'Sales'";

    // The storage gives out half way through the restore, which leaves Sales RESTORING: the
    // step drops it and says so.
    target.engine.fail_next_restore_midway(
        3201,
        "Cannot open backup device. Operating system error 12007.",
    );
    let out = run(s, &args, &env).await;
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("Sales/restore: FAILED")
            && err.contains("3201")
            && err.contains("Sales: the failed restore left it RESTORING; dropped it, so a rerun restores it again"),
        "{err}"
    );
    assert_eq!(on_target(sales_rows), "[Integer(0)]", "nothing left behind");

    // A run killed while the restore had begun, and meanwhile somebody made a Sales on the
    // target: ONLINE, but no restore of this backup made it, so it is not taken for done.
    target
        .faults()
        .delay_responses(Some(std::time::Duration::from_secs(2)));
    let mut cmd = tokio::process::Command::from(s.command(&args));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.kill_on_drop(true).spawn().unwrap();
    let mut waited = 0;
    while journal_events(&journal, Some("Sales/restore"), "begin") < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
        assert!(waited < 6000, "the restore did not begin again");
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    target.faults().delay_responses(None);
    let mut sa = Session::new("sa", "master");
    let made = target.engine.execute(&mut sa, "CREATE DATABASE Sales", &[]);
    assert!(made.error.is_none(), "{:?}", made.error);
    let out = run(s, &args, &env).await;
    assert_code(&out, 3);
    let err = stderr(&out);
    assert!(
        err.contains("the target has a database [Sales] (ONLINE) that is not this plan's restore: the target's msdb has no restore of it"),
        "{err}"
    );
    assert_ne!(journal_state(&journal, "Sales/restore"), "done");

    // Dropped by the DBA, the same command restores it; a crash after the restore finished is
    // recognised by the restore history.
    let dropped = target.engine.execute(&mut sa, "DROP DATABASE Sales", &[]);
    assert!(dropped.error.is_none(), "{:?}", dropped.error);
    let out = run(s, &args, &env).await;
    assert_code(&out, 0);
    assert_eq!(
        sums(target, "Sales", "Orders"),
        sums(source, "Sales", "Orders")
    );
    assert_eq!(restores(target, "Sales"), "Integer(1)");
    let out = run(s, &[&args[..], &["--redo", "Sales/restore"]].concat(), &env).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("the target already has a database [Sales] (ONLINE)"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn storage_prepare_makes_the_container_and_tokens_check_accepts_and_the_run_uses() {
    let az = Azurite::start();
    let source = serve(source_instance(), "127.0.0.1", 0).await;
    let target = serve(target_instance(), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let dir = s.home.path();
    let (inventory, plan, secrets) = (
        dir.join("inventory.json"),
        dir.join("plan.json"),
        dir.join("secrets.toml"),
    );
    let container = az.container_url("moving");
    let key = [("SQLMIG_STORAGE_KEY", sqlmig_tests::azurite::KEY)];

    // Without the account key: refused, saying where it comes from; nothing written.
    let prepare = [
        "storage",
        "prepare",
        "--container-url",
        &container,
        "--secrets",
        secrets.to_str().unwrap(),
    ];
    let out = run(&s, &prepare, &[]).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("no storage account key: set SQLMIG_STORAGE_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(!secrets.exists());
    // A key that is not the account's: said so, not blamed on a SAS.
    let wrong = [(
        "SQLMIG_STORAGE_KEY",
        "d3Jvbmcga2V5IG9mIDMyIGJ5dGVzIGxlbmd0aCEhIQ==",
    )];
    let out = run(&s, &prepare, &wrong).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the storage account refused the key in SQLMIG_STORAGE_KEY"),
        "{}",
        stderr(&out)
    );
    assert!(!secrets.exists());

    // The DBA's secrets file holds the passwords; prepare adds the tokens, keeps the rest.
    std::fs::write(
        &secrets,
        format!("source_password = \"{SA_PASSWORD}\"\ntarget_password = \"{SA_PASSWORD}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&s, &prepare, &key).await;
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains(&format!("{container}: created")),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(&secrets).unwrap();
    assert!(
        written.contains("source_password")
            && written.contains("sas = \"sv=")
            && written.contains("lrs_sas = \"sv="),
        "{written}"
    );
    assert!(
        written.contains("sp=rwdl") && written.contains("sp=rl"),
        "{written}"
    );
    assert!(
        !written.contains(sqlmig_tests::azurite::KEY),
        "the key is never written"
    );
    assert_eq!(
        std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for text in [stdout(&out), stderr(&out)] {
        assert!(!text.contains("sig="), "no token on the console: {text}");
    }
    // Again: the container is there already, and new tokens replace the old.
    let out = run(&s, &prepare, &key).await;
    assert_code(&out, 0);
    assert!(stdout(&out).contains("already there"), "{}", stdout(&out));

    // A plan into it; check accepts the tokens for it, and the run uses them.
    migration::discover(&s, &source, &inventory).await;
    plan_sales(&s, &inventory, &target, &container, &plan, &[]).await;
    let check = [
        "storage",
        "check",
        "--plan",
        plan.to_str().unwrap(),
        "--secrets",
        secrets.to_str().unwrap(),
    ];
    let out = run(&s, &[&check[..], &["-o", "json"]].concat(), &[]).await;
    assert_code(&out, 0);
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(checked["ok"], true, "{checked}");
    let tokens: Vec<(&str, &str)> = checked["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["grants"].as_str().unwrap()))
        .collect();
    assert_eq!(tokens, [("sas", "rwdl"), ("lrs_sas", "rl")], "{checked}");
    let mut run_args = migration::migrate_run_args(&plan).to_vec();
    run_args.extend(["--secrets", secrets.to_str().unwrap()]);
    let out = run(&s, &run_args, &[]).await;
    assert_code(&out, 0);
    assert_eq!(
        sums(&target, "Sales", "Orders"),
        sums(&source, "Sales", "Orders")
    );

    // Tokens that fall short are named with what they lack: read-only, expired, another
    // container's.
    let read_only = sqlmig::storage::sas::container_sas(
        sqlmig_tests::azurite::ACCOUNT,
        "moving",
        &az.key(),
        "rl",
        sqlmig_tests::azurite::EXPIRY,
    )
    .unwrap();
    let expired = sqlmig::storage::sas::container_sas(
        sqlmig_tests::azurite::ACCOUNT,
        "moving",
        &az.key(),
        "rwdl",
        "2020-01-01T00:00:00Z",
    )
    .unwrap();
    let elsewhere = sqlmig::storage::sas::container_sas(
        sqlmig_tests::azurite::ACCOUNT,
        "other",
        &az.key(),
        "rwdl",
        sqlmig_tests::azurite::EXPIRY,
    )
    .unwrap();
    let check = ["storage", "check", "--plan", plan.to_str().unwrap()];
    for (token, says) in [
        (
            &read_only,
            "sas: it grants sp=\"rl\"; BACKUP TO URL needs at least read, write and list: w missing",
        ),
        (&expired, "sas: it expired at 2020-01-01 00:00 UTC"),
        (&elsewhere, "sas: the container refused it"),
    ] {
        let out = run(&s, &check, &[("SQLMIG_SAS", token.expose())]).await;
        assert_code(&out, 1);
        assert!(stdout(&out).contains(says), "{says}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("sqlmig storage prepare"),
            "{}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_logins_and_tokens_stop_the_run_before_anything_runs_and_a_fixed_sas_is_used() {
    let m = SalesMove::plan("preflight", &[]).await;
    let (s, plan, source, target) = (&m.s, &m.plan, &m.source, &m.target);
    let journal = plan.with_extension("journal");
    let args = m.run_args();
    let env = |sas: &str, target_password: &str| {
        vec![
            ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD.to_string()),
            ("SQLMIG_TARGET_PASSWORD", target_password.to_string()),
            ("SQLMIG_SAS", sas.to_string()),
        ]
    };
    let good = m.token.expose().to_string();

    // A wrong target password: named with the side and where it came from; nothing run.
    let out = migration::run_with(s, &args, &env(&good, "not-it")).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the target refused the login sa")
            && stderr(&out)
                .contains("check --target-user and its password (SQLMIG_TARGET_PASSWORD)"),
        "{}",
        stderr(&out)
    );
    assert!(!journal.exists(), "nothing begun");

    // An expired SAS: named, with how to make new ones; nothing run.
    let expired = sqlmig::storage::sas::container_sas(
        sqlmig_tests::azurite::ACCOUNT,
        "preflight",
        &sqlmig::secret::Secret::new(sqlmig_tests::azurite::KEY),
        "rwdl",
        "2020-01-01T00:00:00Z",
    )
    .unwrap();
    let out = migration::run_with(s, &args, &env(expired.expose(), SA_PASSWORD)).await;
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the container's SAS (SQLMIG_SAS, or `sas` in the secrets file): it expired at 2020-01-01 00:00 UTC")
            && stderr(&out).contains("sqlmig storage prepare"),
        "{}",
        stderr(&out)
    );
    assert!(!journal.exists(), "nothing begun");

    // A SAS the storage refuses (signed for another container) fails the backup; with the
    // right one, the same command goes on — the credentials are set again with it.
    let elsewhere = sqlmig::storage::sas::container_sas(
        sqlmig_tests::azurite::ACCOUNT,
        "another",
        &sqlmig::secret::Secret::new(sqlmig_tests::azurite::KEY),
        "rwdl",
        sqlmig_tests::azurite::EXPIRY,
    )
    .unwrap();
    let mut once = args.clone();
    once.extend(["--tries", "1"]);
    let out = migration::run_with(s, &once, &env(elsewhere.expose(), SA_PASSWORD)).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("Sales/backup: FAILED"),
        "{}",
        stderr(&out)
    );
    let out = migration::run_with(s, &args, &env(&good, SA_PASSWORD)).await;
    assert_code(&out, 0);
    assert_eq!(
        sums(target, "Sales", "Orders"),
        sums(source, "Sales", "Orders")
    );
}

/// `migrate plan` of Sales from `inventory` to `target` through `container` into `plan`, with
/// `extra` arguments; it must succeed.
async fn plan_sales(
    s: &Sqlmig,
    inventory: &Path,
    target: &ServerHandle,
    container: &str,
    plan: &Path,
    extra: &[&str],
) {
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let mut args = vec![
        "migrate",
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--databases",
        "Sales",
        "--target",
        &target_addr,
        "--container-url",
        container,
        "--out",
        plan.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = run(s, &args, &[]).await;
    assert_code(&out, 0);
}

/// Sales planned for an offline move from a sqlsim source to an MI-mode sqlsim through Azurite.
struct SalesMove {
    _az: Azurite,
    token: sqlmig::secret::Secret,
    container: String,
    source: ServerHandle,
    target: ServerHandle,
    s: Sqlmig,
    plan: std::path::PathBuf,
}

impl SalesMove {
    /// Discovers the usual source and plans Sales into container `name`, with `extra` plan
    /// arguments.
    async fn plan(name: &str, extra: &[&str]) -> SalesMove {
        SalesMove::plan_from(source_instance(), name, extra).await
    }

    /// The same from the source `instance`.
    async fn plan_from(instance: Instance, name: &str, extra: &[&str]) -> SalesMove {
        let az = Azurite::start();
        let token = az.create_container(name).await;
        let source = serve(instance, "127.0.0.1", 0).await;
        let target = serve(target_instance(), "127.0.0.1", 0).await;
        let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
        let inventory = s.home.path().join("inventory.json");
        let plan = s.home.path().join("plan.json");
        migration::discover(&s, &source, &inventory).await;
        let container = az.container_url(name);
        plan_sales(&s, &inventory, &target, &container, &plan, extra).await;
        SalesMove {
            _az: az,
            token,
            container,
            source,
            target,
            s,
            plan,
        }
    }

    /// The passwords and the SAS, as `migrate run` reads them.
    fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
            ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
            ("SQLMIG_SAS", self.token.expose()),
        ]
    }

    /// `migrate run PLAN` as sa on both sides.
    fn run_args(&self) -> Vec<&str> {
        migration::migrate_run_args(&self.plan).to_vec()
    }
}

/// One source per SQL Server version sqlmig supports, as its version and edition answer: what
/// each refuses (functions, views, syntax, BACKUP options) is sqlsim's `surface` and BACKUP rules.
const VERSIONS: &[((u8, u8, u16), &str)] = &[
    ((10, 50, 6000), "Standard Edition (64-bit)"), // 2008 R2 SP3
    ((11, 0, 7001), "Enterprise Edition (64-bit)"), // 2012 SP4
    ((12, 0, 6024), "Standard Edition (64-bit)"),  // 2014 SP3
    ((13, 0, 6300), "Enterprise Edition (64-bit)"), // 2016 SP3
    ((14, 0, 3456), "Express Edition (64-bit)"),   // 2017 CU31
    ((15, 0, 4345), "Standard Edition (64-bit)"),  // 2019 CU25
    (
        (16, 0, 4135),
        "Enterprise Edition: Core-based Licensing (64-bit)",
    ), // 2022 CU14
];

fn versioned_source(version: (u8, u8, u16), edition: &str) -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.server_name = format!("SQL{}", version.0);
    inst.version = version;
    inst.edition = edition.into();
    let mut app = DatabaseSpec::named("App");
    // Compatibility levels a server of that version creates databases at.
    app.compatibility_level = match version.0 {
        10 => 100,
        v => v as u32 * 10,
    };
    app.setup = vec![
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, customer NVARCHAR(60), \
         amount DECIMAL(12,2), placed DATETIME2(3), note NVARCHAR(MAX), photo VARBINARY(MAX))"
            .into(),
        "DECLARE @i INT = 1; WHILE @i <= 120 BEGIN INSERT INTO dbo.Orders VALUES (@i, \
         N'customer ' + CONVERT(NVARCHAR(10), @i), @i * 1.25, '2024-01-02 03:04:05.678', \
         REPLICATE(CONVERT(NVARCHAR(MAX), N'n'), 300 + @i), CONVERT(VARBINARY(MAX), @i)); \
         SET @i = @i + 1; END"
            .into(),
        "CREATE VIEW dbo.LargeOrders AS SELECT id, amount FROM dbo.Orders WHERE amount > 100"
            .into(),
        "CREATE PROCEDURE dbo.GetOrder @id INT AS SELECT id, amount FROM dbo.Orders WHERE id = @id"
            .into(),
    ];
    inst.databases = vec![app];
    inst
}

/// The version matrix: discover → assess → migrate (offline) → validate against a source of each
/// version from SQL Server 2008 R2 to 2022, one after another in one test (a shared Azurite), so
/// that a query or statement one version lacks fails here, not at a customer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_supported_version_is_discovered_assessed_migrated_and_validated() {
    let az = Azurite::start();
    for &(version, edition) in VERSIONS {
        let label = format!("{}.{}.{} {edition}", version.0, version.1, version.2);
        let container = format!("v{}", version.0);
        let token = az.create_container(&container).await;
        let source = serve(versioned_source(version, edition), "127.0.0.1", 0).await;
        let target = serve(target_instance(), "127.0.0.1", 0).await;
        let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
        let dir = s.home.path();
        let inventory = dir.join("inventory.json");
        let plan = dir.join("plan.json");
        let share = tempfile::tempdir().unwrap();

        // Discover: everything collected, nothing left as a gap.
        migration::discover(&s, &source, &inventory).await;
        let inv: serde_json::Value = serde_json::from_str(&file_text(&inventory)).unwrap();
        let instance = &inv["instances"][0];
        assert_eq!(
            (
                &instance["status"],
                instance["gaps"].as_array().map_or(0, Vec::len)
            ),
            (&serde_json::json!("complete"), 0),
            "{label}: {}",
            instance["gaps"]
        );

        // Assess: the database is assessed (ready or not, by the rules, not by a failure).
        let out = run(
            &s,
            &[
                "assess",
                "--inventory",
                inventory.to_str().unwrap(),
                "-o",
                "json",
            ],
            &[],
        )
        .await;
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{label}: {}",
            stderr(&out)
        );
        let assessed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let dbs = assessed["readiness"][0]["databases"].as_array().unwrap();
        assert!(
            dbs.iter().any(|d| d["name"] == "App"),
            "{label}: {assessed}"
        );

        // Migrate: plan (backup to URL from 2016 on, TO DISK and upload before it and on Express),
        // run, and every row on the target.
        let target_addr = format!("127.0.0.1,{}", target.addr.port());
        let out = migration::plan(
            &s,
            &inventory,
            &target_addr,
            &az.container_url(&container),
            &["--source-folder", share.path().to_str().unwrap()],
            &plan,
        )
        .await;
        assert_code(&out, 0);
        let to_url = version.0 >= 13 && !edition.starts_with("Express");
        let route = if to_url {
            "backup to url"
        } else {
            "backup to disk"
        };
        assert!(stderr(&out).contains(route), "{label}: {}", stderr(&out));
        let out = migration::migrate_run(&s, &plan, &migration::run_env(token.expose())).await;
        assert_code(&out, 0);
        assert_eq!(
            sums(&target, "App", "Orders"),
            sums(&source, "App", "Orders"),
            "{label}"
        );

        // Validate: schema and data equal, exit 0.
        let source_addr = format!("127.0.0.1,{}", source.addr.port());
        let out = run(
            &s,
            &[
                "validate",
                "--source",
                &source_addr,
                "--target",
                &target_addr,
                "--source-user",
                "sa",
                "--target-user",
                "sa",
                "--trust-server-certificate",
                "--databases",
                "App",
                "-o",
                "json",
            ],
            &[
                ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
                ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
            ],
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{label}: {}{}",
            stderr(&out),
            stdout(&out)
        );
    }
}
