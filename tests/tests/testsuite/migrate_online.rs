//! Online migration end to end: a writer keeps inserting into the source while log backups are
//! shipped to Azurite and replayed by the Log Replay Service (sqlsim's double of it, on an
//! MI-mode sqlsim); `migrate cutover` takes the tail, and every row written before the cutover is
//! on the target — none lost, none doubled — with the downtime measured; replication runs in
//! rounds, each a hook call. A log backup taken outside sqlmig breaks the chain, and the run says
//! where it went; a foreign file in the folder, found by reading the files' headers, is named.

use std::path::PathBuf;
use std::time::Duration;

use sqlmig::secret::Secret;
use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Background, Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, serve};
use sqlmig_tests::migration::{self, journal_events};
use sqlsim::engine::{Outcome, Session};
use sqlsim::instance::{DatabaseSpec, Instance, Platform};
use sqlsim::lrs::LrsHandle;
use sqlsim::server::ServerHandle;
use sqlsim::tds::types::Value;

const TOKEN: &str = "test-arm-token";
const MI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi01";

fn one(server: &ServerHandle, sql: &str) -> String {
    let mut s = Session::new("sa", "master");
    let r = server.engine.execute(&mut s, sql, &[]);
    assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    r.outcomes
        .into_iter()
        .find_map(|o| match o {
            Outcome::Rows { rows, .. } => rows.into_iter().next().map(|r| match &r[0] {
                Value::Integer(i) => i.to_string(),
                other => format!("{other:?}"),
            }),
            _ => None,
        })
        .unwrap()
}

/// A source with Sales, an MI-mode target with the LRS double, a container, and a plan.
struct Online {
    az: Azurite,
    token: Secret,
    container_url: String,
    source: ServerHandle,
    target: ServerHandle,
    lrs: LrsHandle,
    s: Sqlmig,
    plan: PathBuf,
}

/// Sales has had a full backup (its log chain has begun, as a DBA's database's has) unless
/// `chain` is false.
async fn online(container: &str, options: &[&str], chain: bool) -> Online {
    let az = Azurite::start();
    let token = az.create_container(container).await;
    let mut src = Instance::default_with_sa(SA_PASSWORD);
    let mut sales = DatabaseSpec::named("Sales");
    sales.setup = vec!["CREATE TABLE dbo.Orders (id INT PRIMARY KEY, note NVARCHAR(40))".into()];
    let base = std::env::temp_dir().join(format!(
        "sqlmig-online-{container}-{}.bak",
        std::process::id()
    ));
    if chain {
        sales.setup.push(format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH FORMAT",
            base.display()
        ));
    }
    src.databases = vec![sales];
    let source = serve(src, "127.0.0.1", 0).await;
    let mut mi = Instance::default_with_sa(SA_PASSWORD);
    mi.platform = Platform::Mi;
    mi.databases.clear();
    let target = serve(mi, "127.0.0.1", 0).await;
    let lrs = sqlsim::lrs::serve("127.0.0.1:0".parse().unwrap(), target.engine.clone(), TOKEN)
        .await
        .unwrap();
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let inventory = s.home.path().join("inventory.json");
    let plan = s.home.path().join("plan.json");
    migration::discover(&s, &source, &inventory).await;
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container_url = az.container_url(container);
    let management = format!("http://{}", lrs.addr);
    let mut args = vec![
        "migrate",
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--method",
        "method-log-replay",
        "--target",
        &target_addr,
        "--container-url",
        &container_url,
        "--target-resource",
        MI,
        "--management-url",
        &management,
        "--option",
        "log_backup_interval_s=0.5",
        "--out",
        plan.to_str().unwrap(),
    ];
    for o in options {
        args.extend(["--option", o]);
    }
    let out = s.run(&args);
    assert_code(&out, 0);
    Online {
        az,
        token,
        container_url,
        source,
        target,
        lrs,
        s,
        plan,
    }
}

impl Online {
    /// `migrate run` in the background.
    fn start(&self) -> Background {
        let mut run =
            tokio::process::Command::from(self.s.command(&migration::migrate_run_args(&self.plan)));
        run.env("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD)
            .env("SQLMIG_TARGET_PASSWORD", SA_PASSWORD)
            .env("SQLMIG_SAS", self.token.expose())
            // LRS reads with a read+list SAS sqlmig makes from the account key.
            .env("SQLMIG_STORAGE_KEY", self.az.key().expose())
            .env("SQLMIG_AZURE_TOKEN", TOKEN);
        Background::spawn(run)
    }

    fn step(&self, id: &str) -> serde_json::Value {
        let status = self.s.json(&[
            "migrate",
            "status",
            self.plan.to_str().unwrap(),
            "-o",
            "json",
        ]);
        status["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|st| st["step"] == id)
            .unwrap()
            .clone()
    }

    /// Waits for a run to end well (exit 0) after its cutover; when it does not, fails showing
    /// what it printed and where the migration stands.
    async fn ends(&self, run: Background) -> std::process::Output {
        let out = self.within(run, Duration::from_secs(240)).await;
        if out.status.code() != Some(0) {
            panic!(
                "the run did not end well after the cutover: {:?}\nstdout:\n{}\nstderr:\n{}\nstatus:\n{}",
                out.status.code(),
                stdout(&out),
                stderr(&out),
                self.status_text()
            );
        }
        out
    }

    /// A run's output once it ends within `limit`; killed past it, failing with what it printed
    /// and where the migration stands.
    async fn within(&self, run: Background, limit: Duration) -> std::process::Output {
        run.output_within(limit).await.unwrap_or_else(|printed| {
            panic!(
                "the run did not end within {limit:?}; killed.\n{printed}\nstatus:\n{}",
                self.status_text()
            )
        })
    }

    /// `migrate status` as a DBA reads it (for a failing test's message).
    fn status_text(&self) -> String {
        let out = self
            .s
            .run(&["migrate", "status", self.plan.to_str().unwrap()]);
        format!("{}{}", stdout(&out), stderr(&out))
    }

    /// The target holds every row the writer wrote (ids 1..=total), each once.
    fn has_every_row_once(&self, total: u64) {
        let target = &self.target;
        assert_eq!(
            one(target, "SELECT COUNT(*) FROM Sales.dbo.Orders"),
            total.to_string()
        );
        assert_eq!(
            one(target, "SELECT COUNT(DISTINCT id) FROM Sales.dbo.Orders"),
            total.to_string()
        );
        assert_eq!(
            one(
                target,
                "SELECT SUM(CONVERT(BIGINT, id)) FROM Sales.dbo.Orders"
            ),
            (total * (total + 1) / 2).to_string()
        );
    }

    /// Waits for a run to stop with replication failed (exit 3); returns why it failed.
    async fn replication_stops(&self, run: Background) -> String {
        let out = self.within(run, Duration::from_secs(120)).await;
        assert_code(&out, 3);
        let rep = self.step("Sales/replicate");
        assert_eq!(rep["state"], "failed", "{rep}");
        rep["error"].as_str().unwrap().to_string()
    }

    /// The names of the blobs in the container.
    async fn blobs(&self) -> Vec<String> {
        use sqlmig::capabilities::blob::BlobContainer;
        use sqlmig::storage::azure_blob::{AzureContainer, ContainerAccess};
        AzureContainer::connect(&ContainerAccess {
            url: self.container_url.clone(),
            sas: self.token.clone(),
        })
        .unwrap()
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect()
    }

    /// `sqlmig validate` of Sales between source and target, as JSON: exit code and report.
    async fn validate(&self) -> (i32, serde_json::Value) {
        let (source, target) = (
            format!("127.0.0.1,{}", self.source.addr.port()),
            format!("127.0.0.1,{}", self.target.addr.port()),
        );
        let out = migration::run(
            &self.s,
            &[
                "validate",
                "--source",
                &source,
                "--target",
                &target,
                "--source-user",
                "sa",
                "--target-user",
                "sa",
                "--trust-server-certificate",
                "--databases",
                "Sales",
                "-o",
                "json",
            ],
            &[
                ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
                ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
            ],
        )
        .await;
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
        (out.status.code().unwrap(), report)
    }

    /// Waits until LRS restored `min` files.
    async fn wait_restored_files(&self, min: u64) {
        for _ in 0..600 {
            if migration::restored_files(self.lrs.addr, MI, TOKEN).await >= min {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("LRS restored fewer than {min} files");
    }

    /// Waits until replication runs and LRS restored `min` files; fails at once, saying where
    /// the migration stands, when `run` ends or its replication fails first.
    async fn wait_restored(&self, run: &mut Background, min: u64) {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(180) {
            let replicate = self.step("Sales/replicate");
            if replicate["state"] == "failed" || run.ended() {
                panic!(
                    "the run stopped before LRS restored {min} files: {replicate}\n{}",
                    self.status_text()
                );
            }
            if replicate["state"] == "running"
                && migration::restored_files(self.lrs.addr, MI, TOKEN).await >= min
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("log replay did not get going\n{}", self.status_text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_during_log_replay_all_arrive_and_the_cutover_downtime_is_measured() {
    // Each call of the replicate step hands back after 0.4 s and is called again, as a
    // replication longer than a hook's deadline does every hour.
    // Sales has never had a full backup: base_full lets the migration's full start its chain.
    let o = online(
        "online",
        &["replicate_round_s=0.4", "base_full=true"],
        false,
    )
    .await;
    let writer = migration::Writer::start(&o.source);
    let mut child = o.start();
    o.wait_restored(&mut child, 4).await; // the full and three log backups
    assert_eq!(
        o.target.engine.database("Sales"),
        None,
        "restoring, not online"
    );
    // While it replicates, status shows the lag: what was shipped, what MI restored, how far
    // behind.
    let rep = o.step("Sales/replicate");
    let lag = rep["progress"]["message"].as_str().unwrap_or_default();
    assert!(
        lag.starts_with("Sales: ")
            && lag.contains("log backups shipped (to LSN ")
            && lag.contains("MI restored to ")
            && lag.contains("; lag "),
        "{rep}"
    );
    // The target is still restoring: validate says so (not "no such database"), and what to do.
    let (code, report) = o.validate().await;
    assert_eq!(code, 3, "{report}");
    let why = report["databases"][0]["error"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("Sales is RESTORING on the target, not online")
            && why.contains("cut over first"),
        "{report}"
    );
    let table = o.s.run(&["migrate", "status", o.plan.to_str().unwrap()]);
    assert!(
        stdout(&table).contains("log backups shipped"),
        "{}",
        stdout(&table)
    );

    // The application stops; the cutover is asked for.
    let total = writer.stop().await;
    assert!(total > 50, "the writer wrote during replication: {total}");
    let out =
        o.s.run(&["migrate", "cutover", o.plan.to_str().unwrap(), "Sales"]);
    assert_code(&out, 0);
    let out = o.ends(child).await;
    o.has_every_row_once(total);
    // The running command showed it too.
    assert!(
        stderr(&out).contains("Sales/replicate: Sales: ") && stderr(&out).contains("; lag "),
        "{}",
        stderr(&out)
    );
    // The source waits, restoring (the tail was taken WITH NORECOVERY).
    assert_eq!(
        one(
            &o.source,
            "SELECT state_desc FROM sys.databases WHERE name = 'Sales'"
        ),
        "Text(\"RESTORING\")"
    );
    // So it cannot be validated against: the report says so, and how to validate after an
    // online cutover.
    let (code, report) = o.validate().await;
    assert_eq!(code, 3, "{report}");
    let why = report["databases"][0]["error"].as_str().unwrap_or_default();
    assert!(
        why.contains("Sales is RESTORING on the source, not online")
            && why.contains("--option standby_folder=FOLDER"),
        "{report}"
    );
    let cut = o.step("Sales/cutover");
    assert_eq!(cut["state"], "done", "{cut}");
    assert_eq!(cut["output"]["ok"], true, "{cut}");
    let downtime = cut["output"]["downtime_s"].as_f64().unwrap();
    assert!(downtime > 0.0 && downtime < 60.0, "{downtime}");
    assert!(
        cut["message"].as_str().unwrap().contains("of downtime"),
        "{cut}"
    );
    let rep = o.step("Sales/replicate");
    assert!(rep["output"]["log_backups"].as_u64().unwrap() >= 3, "{rep}");
    // Several rounds, one attempt: a round that hands back is neither a failure nor a restart.
    let journal_path = o.plan.with_extension("journal");
    assert_eq!(rep["attempts"], 1, "{rep}");
    assert!(
        journal_events(&journal_path, Some("Sales/replicate"), "round") >= 2,
        "{rep}"
    );
    eprintln!(
        "{total} rows written; {}; {}",
        rep["message"], cut["message"]
    );
    // The token and the SAS appear nowhere.
    let sig = o.token.expose().split("sig=").nth(1).unwrap().to_string();
    let journal = migration::journal_text(&o.plan.with_extension("journal"));
    for text in [stdout(&out), stderr(&out), journal] {
        assert!(!text.contains(&sig) && !text.contains(TOKEN));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_cutover_leaves_the_source_read_only_and_validate_finds_it_equal() {
    let o = online(
        "standby",
        &[
            "replicate_round_s=0.4",
            "standby_folder=/var/opt/mssql/undo/",
        ],
        true,
    )
    .await;
    let plan = std::fs::read_to_string(&o.plan).unwrap();
    assert!(
        plan.contains("STANDBY = N'/var/opt/mssql/undo/Sales-")
            && plan.contains("_undo.tuf'")
            && !plan.contains("NORECOVERY"),
        "{plan}"
    );
    let writer = migration::Writer::start(&o.source);
    let mut child = o.start();
    o.wait_restored(&mut child, 2).await;
    let total = writer.stop().await;
    let out =
        o.s.run(&["migrate", "cutover", o.plan.to_str().unwrap(), "Sales"]);
    assert_code(&out, 0);
    o.ends(child).await;
    o.has_every_row_once(total);
    // The source is read-only, in standby: nobody writes to it, and it can be read.
    assert_eq!(
        one(
            &o.source,
            "SELECT CONVERT(INT, is_in_standby) + CONVERT(INT, is_read_only) FROM sys.databases WHERE name = 'Sales' AND state_desc = 'ONLINE'"
        ),
        "2"
    );
    let mut sa = Session::new("sa", "Sales");
    let write =
        o.source
            .engine
            .execute(&mut sa, "INSERT INTO dbo.Orders VALUES (-1, N'late')", &[]);
    assert_eq!(write.error.map(|e| e.number), Some(3906));
    assert_eq!(o.step("Sales/cutover")["output"]["ok"], true);
    // Validated after the cutover: equal, schema and data.
    let (code, report) = o.validate().await;
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["equal"], true, "{report}");
    assert_eq!(
        report["databases"][0]["tables"][0]["rows_source"].as_u64(),
        Some(total),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_online_run_resumes_replication_and_the_cutover() {
    let o = online("killed", &[], true).await;
    let writer = migration::Writer::start(&o.source);
    let journal = o.plan.with_extension("journal");
    // Killed (SIGKILL) while shipping log backups…
    let mut run = o.start();
    o.wait_restored(&mut run, 3).await;
    run.kill().await;
    // …it goes on where it was, numbering on from the reserved numbers.
    let mut run = o.start();
    o.wait_restored(&mut run, 6).await;
    let total = writer.stop().await;
    let out =
        o.s.run(&["migrate", "cutover", o.plan.to_str().unwrap(), "Sales"]);
    assert_code(&out, 0);
    // …and killed again as soon as the cutover begins.
    let began = || journal_events(&journal, Some("Sales/cutover"), "begin") >= 1;
    let deadline = std::time::Instant::now() + sqlmig_tests::cli::DEADLINE;
    while !began() {
        assert!(
            !run.ended() || began(),
            "the run ended before its cutover began"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the cutover did not begin"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    run.kill().await;
    o.ends(o.start()).await;
    o.has_every_row_once(total);
    let cut = o.step("Sales/cutover");
    assert_eq!(
        (cut["state"].as_str(), cut["output"]["ok"].as_bool()),
        (Some("done"), Some(true)),
        "{cut}"
    );
    assert!(o.step("Sales/replicate")["attempts"].as_u64().unwrap() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cutover_is_taken_once_replication_began_and_shown_until_done() {
    let o = online("asked", &[], true).await;
    let plan = o.plan.to_str().unwrap();
    // The online full backup is estimated as the offline one is (one kind both sides share).
    let planned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&o.plan).unwrap()).unwrap();
    let full = planned["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "backup-full")
        .unwrap();
    assert!(full["expected_s"].as_f64().is_some(), "{full}");
    // Before any run: refused, saying what to do (a tail right after the full is no migration).
    let out = o.s.run(&["migrate", "cutover", plan, "Sales"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("the migration has not begun, so there is nothing to cut over yet")
            && stderr(&out).contains("sqlmig migrate run"),
        "{}",
        stderr(&out)
    );
    // Replicating, then the run dies: asked for now, it waits in the journal, and status says so.
    let mut run = o.start();
    o.wait_restored(&mut run, 2).await;
    run.kill().await;
    // Killed after recording how far the chain is checked and before recording which files got
    // it there: the rerun reads those files again and takes them as covered (seen failing with
    // the earlier plugin, which took them for strays in the folder).
    migration::forget_plugin_state(
        &o.plan.with_extension("journal"),
        "method-log-replay",
        "seen/Sales/",
    );
    let out = o.s.run(&["migrate", "cutover", plan, "Sales"]);
    assert_code(&out, 0);
    let cut = o.step("Sales/cutover");
    assert_eq!(cut["state"], "pending", "{cut}");
    assert!(
        cut["progress"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cutover asked for"),
        "{cut}"
    );
    let status = o.s.run(&["migrate", "status", plan]);
    assert!(
        stderr(&status).contains("rerun `sqlmig migrate run ")
            && stderr(&status).contains(
                " --source-user sa --target-user sa --trust-server-certificate` to resume"
            ),
        "{}",
        stderr(&status)
    );
    // The run started again acts on it; asked again, it is said to be done.
    o.ends(o.start()).await;
    assert_eq!(o.step("Sales/cutover")["state"], "done");
    let out = o.s.run(&["migrate", "cutover", plan, "Sales"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("Sales is cut over already: Sales online on the target"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_log_backup_taken_elsewhere_stops_replication_and_says_where_it_went() {
    let o = online("gap", &[], true).await;
    let mut child = o.start();
    o.wait_restored(&mut child, 2).await;
    // The source's own log backup job runs in the middle of the migration.
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("Sales_log_nightly.trn");
    let mut s = Session::new("sa", "master");
    let r = o
        .source
        .engine
        .execute(&mut s, "INSERT INTO Sales.dbo.Orders VALUES (1, N'x')", &[]);
    assert!(r.error.is_none());
    let r = o.source.engine.execute(
        &mut s,
        &format!("BACKUP LOG Sales TO DISK = '{}'", outside.display()),
        &[],
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    let why = o.replication_stops(child).await;
    assert!(
        why.contains("the log chain has a gap from LSN") && why.contains("Sales_log_nightly.trn"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_foreign_file_in_the_folder_stops_replication_naming_it() {
    let o = online("foreign", &[], true).await;
    let mut child = o.start();
    o.wait_restored(&mut child, 2).await;
    // Someone copies another database's log backup into the migration folder: msdb knows nothing
    // of it, but LRS would try to restore it. Only the files' own headers tell.
    let folder = o.blobs().await[0].split('/').next().unwrap().to_string();
    let mut s = Session::new("sa", "master");
    for sql in [
        "CREATE DATABASE Other".to_string(),
        "CREATE TABLE Other.dbo.T (id INT PRIMARY KEY)".to_string(),
        format!(
            "BACKUP DATABASE Other TO URL = '{}/elsewhere/Other_full.bak'",
            o.container_url
        ),
        "INSERT INTO Other.dbo.T VALUES (1)".to_string(),
        format!(
            "BACKUP LOG Other TO URL = '{}/{folder}/zz_Other_log.log'",
            o.container_url
        ),
    ] {
        let r = o.source.engine.execute(&mut s, &sql, &[]);
        assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    }
    let why = o.replication_stops(child).await;
    assert!(
        why.contains(&format!("blob {folder}/zz_Other_log.log"))
            && why.contains("holds a backup of Other")
            && why.contains("remove it from the folder"),
        "{why}"
    );
    // Migrating Sales again into the same container (a fresh journal): the folder holds the
    // first attempt's files, which LRS would restore too. Refused before the full backup.
    let fresh = o.plan.with_extension("again.journal");
    let mut again = tokio::process::Command::from(o.s.command(&[
        "migrate",
        "run",
        o.plan.to_str().unwrap(),
        "--journal",
        fresh.to_str().unwrap(),
        "--source-user",
        "sa",
        "--target-user",
        "sa",
        "--trust-server-certificate",
        "--tries",
        "1",
    ]));
    again
        .env("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD)
        .env("SQLMIG_TARGET_PASSWORD", SA_PASSWORD)
        .env("SQLMIG_SAS", o.token.expose())
        .env("SQLMIG_STORAGE_KEY", o.az.key().expose())
        .env("SQLMIG_AZURE_TOKEN", TOKEN);
    let out = sqlmig_tests::cli::output_within_async(again).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("Sales/backup-full: FAILED")
            && stderr(&out).contains(&format!("the container's folder {folder}/ already holds"))
            && stderr(&out).contains("plan into another container"),
        "{}",
        stderr(&out)
    );
}

/// An ARM call to the LRS double as sqlmig's host would make it: the status and the body.
async fn arm_call(
    lrs: &LrsHandle,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    use sqlmig::capabilities::http::{HttpBackend, HttpRequest};
    let client = sqlmig::cloud::CloudHttp::new(std::collections::BTreeMap::from([(
        format!("http://{}", lrs.addr),
        Secret::new(TOKEN),
    )]))
    .unwrap();
    let r = client
        .send(HttpRequest {
            method: method.into(),
            url: format!("http://{}{MI}{path}?api-version=2023-08-01", lrs.addr),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        })
        .await
        .unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or_default(),
    )
}

/// An ARM call's status and error code (empty when it succeeded).
async fn arm(lrs: &LrsHandle, method: &str, path: &str, body: serde_json::Value) -> (u16, String) {
    let (status, v) = arm_call(lrs, method, path, body).await;
    (
        status,
        v["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// The LRS double refuses what the product used to send (log-replay-service-overview.md, the
/// 2023-08-01 ARM spec): a start without `location`, with the source's writing SAS, on a
/// container named with the reserved word; a completion before anything was restored, or
/// naming a file that is not the last one restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lrs_double_refuses_what_the_service_refuses() {
    use sqlmig::storage::sas;
    let o = online("strict", &[], true).await;
    let folder = format!("{}/Sales-f", o.container_url);
    let read_list = sas::container_sas(
        "devstoreaccount1",
        "strict",
        &o.az.key(),
        "rl",
        "2099-01-01T00:00:00Z",
    )
    .unwrap();
    let start = |location: Option<&str>, uri: &str, token: &str| {
        let mut body = serde_json::json!({ "properties": {
            "createMode": "RestoreExternalBackup",
            "storageContainerUri": uri,
            "storageContainerSasToken": token,
            "collation": "SQL_Latin1_General_CP1_CI_AS",
            "autoCompleteRestore": false,
        }});
        if let Some(l) = location {
            body["location"] = l.into();
        }
        body
    };
    let db = "/databases/Sales";
    // What the product sent before: the writing SAS, no location.
    assert_eq!(
        arm(&o.lrs, "PUT", db, start(None, &folder, o.token.expose())).await,
        (400, "LocationRequired".into())
    );
    let region = Some(sqlsim::lrs::LOCATION);
    assert_eq!(
        arm(&o.lrs, "PUT", db, start(region, &folder, o.token.expose())).await,
        (400, "InvalidStorageContainerSasToken".into())
    );
    let reserved = format!("{}/SalesBackups", o.container_url);
    assert_eq!(
        arm(
            &o.lrs,
            "PUT",
            db,
            start(region, &reserved, read_list.expose())
        )
        .await,
        (400, "InvalidStorageContainerUri".into())
    );
    // What it sends now starts it; a completion before anything is restored is refused.
    assert_eq!(
        arm(
            &o.lrs,
            "PUT",
            db,
            start(region, &folder, read_list.expose())
        )
        .await
        .0,
        201
    );
    let complete = |last: &'static str| {
        arm(
            &o.lrs,
            "POST",
            "/databases/Sales/completeRestore",
            serde_json::json!({ "lastBackupName": last }),
        )
    };
    assert_eq!(
        complete("Sales_tail.log").await,
        (400, "ExternalBackupRestoreHasNotBeenStarted".into())
    );
    // A full backup arrives and is restored, a `.trn` beside it is not; a completion naming
    // another file is refused, one naming it is accepted, and the database comes online.
    let mut s = Session::new("sa", "master");
    for sql in [
        format!(
            "CREATE CREDENTIAL [{}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{}'",
            o.container_url,
            o.token.expose()
        ),
        format!("BACKUP DATABASE Sales TO URL = '{folder}/Sales_full.bak' WITH COPY_ONLY"),
        format!("BACKUP DATABASE Sales TO URL = '{folder}/Sales_full.trn' WITH COPY_ONLY, FORMAT"),
    ] {
        let r = o.source.engine.execute(&mut s, &sql, &[]);
        assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    }
    o.wait_restored_files(1).await;
    let details = "/databases/Sales/restoreDetails/Default";
    let mut unrestorable = serde_json::Value::Null;
    for _ in 0..100 {
        let (_, d) = arm_call(&o.lrs, "GET", details, serde_json::Value::Null).await;
        unrestorable = d["properties"]["unrestorableFiles"].clone();
        if unrestorable.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(unrestorable, serde_json::json!(["Sales_full.trn"]));
    assert_eq!(
        complete("Sales_tail.log").await,
        (400, "RequiredBackupIsNotLastRestored".into())
    );
    assert_eq!(complete("Sales_full.bak").await, (202, String::new()));
    for _ in 0..200 {
        if o.target.engine.database("Sales").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        o.target.engine.database("Sales").is_some(),
        "online after completion"
    );
    // Once online, neither its details nor another completion are of a restoring database.
    assert_eq!(
        arm(&o.lrs, "GET", details, serde_json::Value::Null).await,
        (400, "ManagedDatabaseNotInRestoringState".into())
    );
    assert_eq!(
        complete("Sales_full.bak").await,
        (400, "ManagedDatabaseNotInRestoringState".into())
    );
}

/// LRS needs a SAS of its own that reads and lists only: without one, or with the source's
/// writing SAS, the run stops before anything moves, saying what to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_run_without_a_read_list_sas_for_lrs_stops_before_anything_moves() {
    let o = online("nolrs", &[], true).await;
    let mut env = migration::run_env(o.token.expose());
    env.push(("SQLMIG_AZURE_TOKEN", TOKEN.to_string()));
    let out = migration::migrate_run(&o.s, &o.plan, &env).await;
    assert_code(&out, 2);
    let why = stderr(&out);
    assert!(
        why.contains("SQLMIG_LRS_SAS")
            && why.contains("SQLMIG_STORAGE_KEY")
            && why.contains("reads and lists only"),
        "{why}"
    );
    // The source's SAS, which writes, given for LRS: refused, the SAS itself never shown.
    env.push(("SQLMIG_LRS_SAS", o.token.expose().to_string()));
    let out = migration::migrate_run(&o.s, &o.plan, &env).await;
    assert_code(&out, 2);
    let why = stderr(&out);
    assert!(
        why.contains("SQLMIG_LRS_SAS cannot start") && why.contains("sp=rl"),
        "{why}"
    );
    let sig = o.token.expose().split("sig=").nth(1).unwrap().to_string();
    assert!(!why.contains(&sig) && !stdout(&out).contains(&sig));
    assert!(o.blobs().await.is_empty(), "nothing moved");
}

/// A database in FULL recovery that has never had a full backup has no log chain (its first
/// log backup fails with 4214): refused before its full is taken, saying what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_without_a_log_chain_is_refused_before_anything_moves() {
    let o = online("nochain", &[], false).await;
    let out = o.within(o.start(), Duration::from_secs(120)).await;
    assert_code(&out, 3);
    let full = o.step("Sales/backup-full");
    let why = full["error"].as_str().unwrap_or_default();
    assert!(
        full["state"] == "failed"
            && why.contains("has no log chain")
            && why.contains("4214")
            && why.contains("base_full=true"),
        "{full}"
    );
    assert!(o.blobs().await.is_empty(), "nothing moved");
}
