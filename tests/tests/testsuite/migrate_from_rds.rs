//! Leaving Amazon RDS, offline: the instance is found through the RDS API (moto) and collected
//! through a forwarded port; the plan takes RDS's backup route (native backup to S3, copied into
//! the container by the host); an RDS-mode sqlsim backs up to moto's S3 and an MI-mode sqlsim
//! restores from Azurite, every row arriving. The AWS credentials and the pre-signed URLs appear
//! in no file and no output.

use std::path::Path;
use std::process::Output;

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, serve};
use sqlmig_tests::migration::{
    self, file_text, first_value, mi_target, migrate_run, migrate_run_args, run_env, run_with,
};
use sqlmig_tests::moto::Moto;
use sqlsim::engine::Session;
use sqlsim::instance::{DatabaseSpec, Instance, Platform, RdsSpec};
use sqlsim::server::ServerHandle;

const KEY_ID: &str = "AKIASQLMIGRDSMOVE001";
const SECRET: &str = "rdsMove/Secret+Access+Key+sqlmig0000001";
const TOKEN: &str = "IQoJb3JpZ2luX2VjsqlmigRDSsessionTOKEN";

fn form(moto: &Moto, body: &str) -> String {
    let (status, answer) = moto.request(
        "rds",
        "POST",
        "/",
        &format!("Version=2014-10-31&{body}"),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(status, 200, "{body}: {answer}");
    answer
}

/// An RDS instance `sales` in moto whose option group has SQLSERVER_BACKUP_RESTORE when
/// `native_backups`, and the bucket its backups go to.
fn aws_estate(moto: &Moto, native_backups: bool) {
    assert_eq!(
        moto.request("s3", "PUT", "/rds-backups", "", "application/xml")
            .0,
        200
    );
    form(
        moto,
        "Action=CreateOptionGroup&OptionGroupName=sqlmig-og&EngineName=sqlserver-se\
         &MajorEngineVersion=15.00&OptionGroupDescription=native+backups",
    );
    if native_backups {
        form(
            moto,
            "Action=ModifyOptionGroup&OptionGroupName=sqlmig-og&ApplyImmediately=true\
             &OptionsToInclude.OptionConfiguration.1.OptionName=SQLSERVER_BACKUP_RESTORE",
        );
    }
    form(
        moto,
        "Action=CreateDBInstance&DBInstanceIdentifier=sales&Engine=sqlserver-se\
         &DBInstanceClass=db.m5.large&MasterUsername=admin&MasterUserPassword=Adm1nPassw0rd\
         &AllocatedStorage=100&OptionGroupName=sqlmig-og",
    );
}

fn rds_source(moto: &Moto) -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.platform = Platform::Rds;
    inst.server_name = "EC2AMAZ-SALES".into();
    inst.rds = Some(RdsSpec {
        s3_endpoint: moto.endpoint(),
        backup_restore_option: true,
        log_backup_interval_ms: 300_000,
    });
    let mut sales = DatabaseSpec::named("Sales");
    sales.setup = vec![
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, customer NVARCHAR(60), amount DECIMAL(12,2))".into(),
        "DECLARE @i INT = 1; WHILE @i <= 400 BEGIN INSERT INTO dbo.Orders VALUES (@i, N'customer ' + CONVERT(NVARCHAR(10), @i), @i * 2.5); SET @i = @i + 1; END".into(),
    ];
    // RDS's own administration database, on every instance: never moved.
    inst.databases = vec![sales, DatabaseSpec::named("rdsadmin")];
    inst
}

/// `(rows, checksum)` of dbo.Orders in `db`.
fn sums(server: &ServerHandle, db: &str) -> String {
    first_value(
        server,
        &format!("SELECT COUNT(*), CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM [{db}].dbo.Orders"),
    )
}

fn aws_env(moto: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
        ("AWS_SESSION_TOKEN", TOKEN.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("SQLMIG_LOG", "debug".into()),
    ]
}

/// Discovers `sales` through the RDS API and collects it through a forwarded port.
async fn discover(s: &Sqlmig, moto: &Moto, source: &ServerHandle, inventory: &Path) -> Output {
    let mut env = aws_env(moto);
    let out = run_with(
        s,
        &["discover", "--platform", "aws-rds", "--list", "-o", "json"],
        &env,
    )
    .await;
    assert_code(&out, 0);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = listed["instances"][0]["address"]["host"]
        .as_str()
        .unwrap()
        .to_string();
    let route = format!("{host}:1433=127.0.0.1:{}", source.addr.port());
    env.push(("SQLMIG_PASSWORD", SA_PASSWORD.into()));
    let args = [
        "discover",
        "--platform",
        "aws-rds",
        "--user",
        "sa",
        "--trust-server-certificate",
        "--connect-to",
        &route,
        "--out",
        inventory.to_str().unwrap(),
    ];
    run_with(s, &args, &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_migration_from_rds_goes_through_s3_and_lands_every_row() {
    let moto = Moto::start();
    aws_estate(&moto, true);
    let az = Azurite::start();
    let sas = az.create_container("migration").await;
    let source = serve(rds_source(&moto), "127.0.0.1", 0).await;
    let target = serve(mi_target(), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let dir = s.home.path();
    let (inventory, plan) = (dir.join("inventory.json"), dir.join("plan.json"));

    let out = discover(&s, &moto, &source, &inventory).await;
    assert_code(&out, 0);
    let inv: serde_json::Value = serde_json::from_str(&file_text(&inventory)).unwrap();
    let inst = &inv["instances"][0];
    assert_eq!(inst["platform"], "aws-rds");
    assert_eq!(
        inst["cloud"]["properties"]["SQLSERVER_BACKUP_RESTORE"],
        "true"
    );
    let dbs: Vec<&str> = inst["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        dbs.contains(&"Sales") && !dbs.contains(&"rdsadmin"),
        "{dbs:?}"
    );

    let source_addr = format!("127.0.0.1,{}", source.addr.port());
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("migration");
    let env = aws_env(&moto);
    let out = migration::plan_with(
        &s,
        &inventory,
        &target_addr,
        &container,
        &[
            "--source",
            &source_addr,
            "--source-option",
            "s3_bucket=rds-backups",
        ],
        &plan,
        &env,
    )
    .await;
    assert_code(&out, 0);
    let shown = stderr(&out);
    assert!(shown.contains("backup to platform"), "{shown}");
    assert!(
        shown.contains("Sales/backup") && shown.contains("[source platform]"),
        "{shown}"
    );

    let mut env = aws_env(&moto);
    env.extend(run_env(sas.expose()));
    let out = migrate_run(&s, &plan, &env).await;
    assert_code(&out, 0);
    assert_eq!(sums(&target, "Sales"), sums(&source, "Sales"));
    assert!(sums(&target, "Sales").contains("Integer(400)"));
    assert_eq!(target.engine.database("rdsadmin"), None);

    // The backup went through S3, as RDS writes it.
    let (_, listing) = moto.request(
        "s3",
        "GET",
        "/rds-backups?list-type=2",
        "",
        "application/xml",
    );
    assert!(listing.contains("_full.bak</Key>"), "{listing}");
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    let backup = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["step"] == "Sales/backup")
        .unwrap()
        .clone();
    assert_eq!(backup["state"], "done", "{status}");
    assert!(backup["output"]["files"][0]["md5"].is_string(), "{backup}");

    // No AWS credential and no pre-signed URL anywhere.
    let everything = [
        file_text(&plan),
        file_text(&inventory),
        migration::journal_text(&dir.join("plan.journal")),
        stdout(&out),
        stderr(&out),
    ]
    .join("\n");
    for leak in [SECRET, TOKEN, "X-Amz-Signature", "X-Amz-Credential"] {
        assert!(!everything.contains(leak), "{leak} leaked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_native_backups_or_a_bucket_the_plan_says_what_to_do() {
    let moto = Moto::start();
    aws_estate(&moto, false);
    let source = serve(rds_source(&moto), "127.0.0.1", 0).await;
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let inventory = s.home.path().join("inventory.json");
    assert_code(&discover(&s, &moto, &source, &inventory).await, 0);
    let env = aws_env(&moto);
    let plan = |extra: &'static [&'static str]| {
        let mut args = vec![
            "migrate",
            "plan",
            "--inventory",
            inventory.to_str().unwrap(),
            "--target",
            "mi.example,1433",
            "--container-url",
            "http://127.0.0.1:1/acct/c",
        ];
        args.extend(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let no_bucket = plan(&[]);
    let args: Vec<&str> = no_bucket.iter().map(String::as_str).collect();
    let out = run_with(&s, &args, &env).await;
    assert_code(&out, 2);
    assert!(stderr(&out).contains("s3_bucket=NAME"), "{}", stderr(&out));

    // The assessment says so first: RDS's own rules run for RDS instances.
    let out = run_with(
        &s,
        &[
            "assess",
            "--inventory",
            inventory.to_str().unwrap(),
            "-o",
            "json",
        ],
        &env,
    )
    .await;
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        a["rule_packs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("platform-aws-rds")),
        "{a}"
    );
    let native = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "RdsNativeBackupDisabled")
        .unwrap_or_else(|| panic!("{a}"));
    assert_eq!(native["level"], "issue");
    assert!(native["message"].as_str().unwrap().contains("sqlmig-og"));

    let with_bucket = plan(&["--source-option", "s3_bucket=rds-backups"]);
    let args: Vec<&str> = with_bucket.iter().map(String::as_str).collect();
    let out = run_with(&s, &args, &env).await;
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("no SQLSERVER_BACKUP_RESTORE") && err.contains("sqlmig-og"),
        "{err}"
    );
}

const ARM_TOKEN: &str = "rds-online-arm-token";
const MI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01";

/// Online from RDS: the full through S3, then the log backups RDS takes on its own (every 0.3 s
/// here, five minutes on RDS) shipped into the folder while a writer keeps inserting; after
/// `migrate cutover`, the first log backup RDS took after it is the last restored, and every row
/// arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn online_migration_from_rds_ships_rds_log_backups_and_cuts_over_with_nothing_lost() {
    use sqlmig_tests::migration::{Writer, restored_files};

    let moto = Moto::start();
    aws_estate(&moto, true);
    let az = Azurite::start();
    let sas = az.create_container("online").await;
    let mut src = rds_source(&moto);
    src.rds.as_mut().unwrap().log_backup_interval_ms = 300;
    src.databases[0].setup =
        vec!["CREATE TABLE dbo.Orders (id INT PRIMARY KEY, note NVARCHAR(40))".into()];
    let source = serve(src, "127.0.0.1", 0).await;
    let target = serve(mi_target(), "127.0.0.1", 0).await;
    let lrs = sqlsim::lrs::serve(
        "127.0.0.1:0".parse().unwrap(),
        target.engine.clone(),
        ARM_TOKEN,
    )
    .await
    .unwrap();
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let dir = s.home.path();
    let (inventory, plan) = (dir.join("inventory.json"), dir.join("plan.json"));
    assert_code(&discover(&s, &moto, &source, &inventory).await, 0);

    let source_addr = format!("127.0.0.1,{}", source.addr.port());
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("online");
    let management = format!("http://{}", lrs.addr);
    let out = run_with(
        &s,
        &[
            "migrate",
            "plan",
            "--inventory",
            inventory.to_str().unwrap(),
            "--method",
            "method-log-replay",
            "--source",
            &source_addr,
            "--target",
            &target_addr,
            "--container-url",
            &container,
            "--target-resource",
            MI,
            "--management-url",
            &management,
            "--option",
            "log_backup_interval_s=0.5",
            "--option",
            "replicate_round_s=0.4",
            "--source-option",
            "s3_bucket=rds-backups",
            "--out",
            plan.to_str().unwrap(),
        ],
        &aws_env(&moto),
    )
    .await;
    assert_code(&out, 0);
    let shown = stderr(&out);
    assert!(
        shown.contains("Sales/final-log") && shown.contains("[source platform]"),
        "{shown}"
    );
    assert!(!shown.contains("credential/source"), "{shown}");

    let writer = Writer::start(&source);
    let mut env = aws_env(&moto);
    env.extend(run_env(sas.expose()));
    env.push(("SQLMIG_AZURE_TOKEN", ARM_TOKEN.to_string()));
    // LRS reads with a SAS of its own, read and list only.
    let read_list = sqlmig::storage::sas::container_sas(
        "devstoreaccount1",
        "online",
        &az.key(),
        "rl",
        "2099-01-01T00:00:00Z",
    )
    .unwrap();
    env.push(("SQLMIG_LRS_SAS", read_list.expose().to_string()));
    let mut run = tokio::process::Command::from(s.command(&migrate_run_args(&plan)));
    for (k, v) in &env {
        run.env(k, v);
    }
    let mut child = sqlmig_tests::cli::Background::spawn(run);

    // The full and at least three of RDS's log backups restored while the writer writes.
    let mut restored = 0;
    for _ in 0..900 {
        restored = restored_files(lrs.addr, MI, ARM_TOKEN).await;
        if restored >= 4 {
            break;
        }
        if child.ended() {
            let out = child
                .output_within(sqlmig_tests::cli::DEADLINE)
                .await
                .expect("ended");
            panic!(
                "the run ended with {restored} file(s) restored:\n{}",
                stderr(&out)
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        restored >= 4,
        "log replay did not get going: {restored} file(s)"
    );
    assert_eq!(
        target.engine.database("Sales"),
        None,
        "restoring, not online"
    );

    // The application stops; the cutover is asked for. MI fails over as the cutover looks for
    // Sales online: the step is tried again, and finds the whole chain checked already.
    let total = writer.stop().await;
    assert!(total > 50, "the writer wrote during replication: {total}");
    target
        .faults()
        .fail_next_naming("SELECT state_desc FROM sys.databases", 1, 40613);
    let out = s.run(&["migrate", "cutover", plan.to_str().unwrap(), "Sales"]);
    assert_code(&out, 0);
    let out = child
        .output_within(std::time::Duration::from_secs(240))
        .await
        .unwrap_or_else(|printed| panic!("the run did not end after the cutover:\n{printed}"));
    assert_code(&out, 0);

    let count = |sql: &str| first_value(&target, sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM Sales.dbo.Orders"),
        format!("[Integer({total})]")
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT id) FROM Sales.dbo.Orders"),
        format!("[Integer({total})]")
    );
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    let step = |id: &str| {
        status["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["step"] == id)
            .unwrap_or_else(|| panic!("{id}: {status}"))
            .clone()
    };
    let fin = step("Sales/final-log");
    assert_eq!(fin["state"], "done", "{fin}");
    assert!(
        fin["message"]
            .as_str()
            .unwrap()
            .contains("after the cutover was asked for")
            && fin["output"]["ending_lsn"].is_string(),
        "{fin}"
    );
    // Chosen by the source's end of log at the cutover (sys.dm_db_log_stats), not by the clock.
    assert!(
        !stderr(&out).contains("sys.dm_db_log_stats is not readable"),
        "{}",
        stderr(&out)
    );
    let cut = step("Sales/cutover");
    assert_eq!(cut["output"]["ok"], true, "{cut}");
    assert_eq!(cut["attempts"], 2, "{cut}");
    assert_eq!(
        cut["output"]["tail"], fin["output"]["last_file"],
        "{cut} {fin}"
    );
    // RDS's source stays online (no tail-log backup is possible there).
    let mut sess = Session::new("sa", "master");
    let r = source.engine.execute(
        &mut sess,
        "SELECT state_desc FROM sys.databases WHERE name = 'Sales'",
        &[],
    );
    assert!(format!("{:?}", r.outcomes).contains("ONLINE"));

    let everything = [
        file_text(&plan),
        migration::journal_text(&dir.join("plan.journal")),
        stdout(&out),
        stderr(&out),
    ]
    .join("\n");
    let sig = sas.expose().split("sig=").nth(1).unwrap().to_string();
    for leak in [SECRET, TOKEN, ARM_TOKEN, "X-Amz-Signature", sig.as_str()] {
        assert!(!everything.contains(leak), "{leak} leaked");
    }
}
