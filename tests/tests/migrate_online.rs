//! Online migration end to end: a writer keeps inserting into the source while log backups are
//! shipped to Azurite and replayed by the Log Replay Service (sqlsim's double of it, on an
//! MI-mode sqlsim); `migrate cutover` takes the tail, and every row written before the cutover is
//! on the target — none lost, none doubled — with the downtime measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Sqlmig, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, serve};
use sqlmig_tests::migration;
use sqlsim::engine::{Outcome, Session};
use sqlsim::instance::{DatabaseSpec, Instance, Platform};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_during_log_replay_all_arrive_and_the_cutover_downtime_is_measured() {
    let az = Azurite::start();
    let token = migration::container(&az, "online").await;

    let mut src = Instance::default_with_sa(SA_PASSWORD);
    let mut sales = DatabaseSpec::named("Sales");
    sales.setup = vec!["CREATE TABLE dbo.Orders (id INT PRIMARY KEY, note NVARCHAR(40))".into()];
    src.databases = vec![sales];
    let source = serve(src, "127.0.0.1", 0).await;
    let mut mi = Instance::default_with_sa(SA_PASSWORD);
    mi.platform = Platform::Mi;
    mi.databases.clear();
    let target = serve(mi, "127.0.0.1", 0).await;
    let lrs = sqlsim::lrs::serve("127.0.0.1:0".parse().unwrap(), target.engine.clone(), TOKEN)
        .await
        .unwrap();

    // A writer inserts rows one by one, throughout.
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (engine, written, stop) = (source.engine.clone(), written.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            let mut s = Session::new("sa", "Sales");
            while !stop.load(Ordering::Relaxed) {
                let n = written.load(Ordering::Relaxed) + 1;
                let r = engine.execute(
                    &mut s,
                    &format!("INSERT INTO dbo.Orders VALUES ({n}, N'order {n}')"),
                    &[],
                );
                assert!(r.error.is_none(), "insert {n}: {:?}", r.error);
                written.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let inventory = s.home.path().join("inventory.json");
    let plan = s.home.path().join("plan.json");
    migration::discover(&s, &source, &inventory).await;
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("online");
    let management = format!("management_url=http://{}", lrs.addr);
    let mi_option = format!("mi_resource={MI}");
    let out = s.run(&[
        "migrate",
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--method",
        "method-log-replay",
        "--target",
        &target_addr,
        "--container-url",
        &container,
        "--option",
        &mi_option,
        "--option",
        &management,
        "--option",
        "log_backup_interval_s=0.5",
        "--out",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let mut run = tokio::process::Command::from(s.command(&[
        "migrate",
        "run",
        plan.to_str().unwrap(),
        "--source-user",
        "sa",
        "--target-user",
        "sa",
        "--trust-server-certificate",
    ]));
    run.env("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD)
        .env("SQLMIG_TARGET_PASSWORD", SA_PASSWORD)
        .env("SQLMIG_SAS", token.expose())
        .env("SQLMIG_AZURE_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = run.spawn().unwrap();

    // Replication runs while the writer writes: wait for several log backups restored on MI.
    let restored = |min: u64| {
        let s = &s;
        let plan = &plan;
        async move {
            for _ in 0..600 {
                let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
                let replicate = status["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|st| st["step"] == "Sales/replicate")
                    .unwrap()
                    .clone();
                if replicate["state"] == "running"
                    && one_restored(&lrs_details(lrs.addr).await) >= min
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("log replay did not get going");
        }
    };
    restored(4).await; // the full and three log backups
    assert_eq!(
        target.engine.database("Sales"),
        None,
        "restoring, not online"
    );

    // The application stops; the cutover is asked for.
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let total = written.load(Ordering::Relaxed);
    assert!(total > 50, "the writer wrote during replication: {total}");
    let out = s.run(&["migrate", "cutover", plan.to_str().unwrap(), "Sales"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the run ends after the cutover")
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );

    // Every row, once.
    assert_eq!(
        one(&target, "SELECT COUNT(*) FROM Sales.dbo.Orders"),
        total.to_string()
    );
    assert_eq!(
        one(&target, "SELECT COUNT(DISTINCT id) FROM Sales.dbo.Orders"),
        total.to_string()
    );
    assert_eq!(
        one(
            &target,
            "SELECT SUM(CONVERT(BIGINT, id)) FROM Sales.dbo.Orders"
        ),
        (total * (total + 1) / 2).to_string()
    );
    // The source waits, restoring (the tail was taken WITH NORECOVERY).
    assert_eq!(
        one(
            &source,
            "SELECT state_desc FROM sys.databases WHERE name = 'Sales'"
        ),
        "Text(\"RESTORING\")"
    );
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    let cut = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["step"] == "Sales/cutover")
        .unwrap()
        .clone();
    assert_eq!(cut["state"], "done", "{status}");
    assert_eq!(cut["output"]["ok"], true, "{cut}");
    let downtime = cut["output"]["downtime_s"].as_f64().unwrap();
    assert!(downtime > 0.0 && downtime < 60.0, "{downtime}");
    assert!(
        cut["message"].as_str().unwrap().contains("of downtime"),
        "{cut}"
    );
    let rep = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["step"] == "Sales/replicate")
        .unwrap()
        .clone();
    assert!(rep["output"]["log_backups"].as_u64().unwrap() >= 3, "{rep}");
    eprintln!(
        "{total} rows written; {}; {}",
        rep["message"], cut["message"]
    );
    // The token and the SAS appear nowhere.
    let sig = token.expose().split("sig=").nth(1).unwrap().to_string();
    for text in [
        stdout(&out),
        stderr(&out),
        String::from_utf8_lossy(&std::fs::read(plan.with_extension("journal")).unwrap())
            .into_owned(),
    ] {
        assert!(!text.contains(&sig) && !text.contains(TOKEN));
    }
}

async fn lrs_details(addr: std::net::SocketAddr) -> serde_json::Value {
    let url =
        format!("http://{addr}{MI}/databases/Sales/restoreDetails/Default?api-version=2023-08-01");
    let client = sqlmig::cloud::CloudHttp::new(std::collections::BTreeMap::from([(
        format!("http://{addr}"),
        sqlmig::secret::Secret::new(TOKEN),
    )]))
    .unwrap();
    use sqlmig::capabilities::http::{HttpBackend, HttpRequest};
    match client
        .send(HttpRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await
    {
        Ok(r) if r.status == 200 => serde_json::from_slice(&r.body).unwrap_or_default(),
        _ => serde_json::Value::Null,
    }
}

fn one_restored(details: &serde_json::Value) -> u64 {
    details["properties"]["numberOfFilesRestored"]
        .as_u64()
        .unwrap_or(0)
}
