//! `sqlmig plugin new`: the crate it writes passes its own tests, builds for wasm32-wasip2,
//! installs from its folder, and does its kind's work — a rule pack's finding appears in an
//! assessment, a platform discovers and collects a server, a validator counts rows, a method
//! migrates a database and refuses to take a database it finds after a cut-off restore for its
//! own — the README's steps, run as a new plugin author would.

use std::path::Path;
use std::process::Command;

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, fixture, serve};
use sqlmig_tests::migration::{self, first_value, run};
use sqlsim::instance::{DatabaseSpec, Instance, Platform};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory.json");
/// The scaffold's build output, kept between runs (the crate itself is new each time).
const BUILD_CACHE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scaffold-test");

/// Runs cargo in the plugin's folder as its author would: no target dir or flags of ours.
fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

#[test]
fn a_scaffolded_rules_plugin_builds_installs_and_reports() {
    let s = sqlmig();
    scaffold_build_install(&s, "rules", "acme-rules", 1);
    let report = s.json_with_code(
        &[
            "assess",
            "--inventory",
            EXAMPLE,
            "--rules",
            "acme-rules",
            "-o",
            "json",
        ],
        0,
    );
    assert_eq!(
        report["rule_packs"],
        serde_json::json!(["acme-rules 0.1.0"])
    );
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["rule_id"], "ACME_RULES_001");
    assert_eq!(findings[0]["instance"], "SQLOLD01");
    assert_eq!(findings[0]["database"], "Inventory");
}

/// Writes a `kind` plugin `name` with `plugin new`, then runs its tests (`tests` of them) and
/// builds it as its README says, and installs it.
fn scaffold_build_install(s: &Sqlmig, kind: &str, name: &str, tests: usize) {
    let dir = s.home.path().join(name);
    let out = s.run(&[
        "plugin",
        "new",
        "--kind",
        kind,
        name,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("wrote the {kind} plugin {name}")));
    std::fs::create_dir_all(BUILD_CACHE).unwrap();
    std::os::unix::fs::symlink(BUILD_CACHE, dir.join("target")).unwrap();
    let test = cargo(&dir, &["test"]);
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(
        String::from_utf8_lossy(&test.stdout).contains(&format!("test result: ok. {tests} passed")),
        "{}",
        String::from_utf8_lossy(&test.stdout)
    );
    let build = cargo(&dir, &["build", "--release", "--target", "wasm32-wasip2"]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = s.run(&["plugin", "install", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_platform_plugin_discovers_and_collects_a_server() {
    let s = sqlmig();
    scaffold_build_install(&s, "platform", "acme-cloud", 2);
    let _server = serve(fixture("onprem-2022.json"), "127.77.9.9", 1433).await;
    let inventory = s.home.path().join("inventory.json");
    let mut cmd = tokio::process::Command::from(s.command(&[
        "discover",
        "--platform",
        "acme-cloud",
        "--server",
        "127.77.9.9",
        "--user",
        "sa",
        "--trust-server-certificate",
        "--out",
        inventory.to_str().unwrap(),
    ]));
    cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&inventory).unwrap()).unwrap();
    let instance = &inv["instances"][0];
    assert_eq!(instance["address"]["host"], "127.77.9.9", "{inv:#}");
    assert_eq!(inv["generated_by"], "sqlmig 0.1.0 / acme-cloud 0.1.0");
    assert!(
        !instance["databases"].as_array().unwrap().is_empty(),
        "the collector read the catalog: {inv:#}"
    );
}

/// A server holding Shop with its `orders` rows.
async fn shop(platform: Platform, orders: u32) -> sqlsim::server::ServerHandle {
    let mut instance = Instance::default_with_sa(SA_PASSWORD);
    instance.platform = platform;
    instance.databases = vec![DatabaseSpec {
        setup: vec![
            "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, total DECIMAL(10,2) NOT NULL)".into(),
            format!(
                "DECLARE @i INT = 1; WHILE @i <= {orders} BEGIN INSERT INTO dbo.Orders VALUES (@i, @i * 1.25); SET @i = @i + 1; END"
            ),
        ],
        ..DatabaseSpec::named("Shop")
    }];
    serve(instance, "127.0.0.1", 0).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scaffolded_validator_compares_row_counts() {
    let s = sqlmig();
    scaffold_build_install(&s, "validator", "acme-counts", 2);
    let source = shop(Platform::Onprem, 70).await;
    let target = shop(Platform::Mi, 69).await;
    let (source, target) = (
        format!("127.0.0.1,{}", source.addr.port()),
        format!("127.0.0.1,{}", target.addr.port()),
    );
    let out = run(
        &s,
        &[
            "validate",
            "--plugin",
            "acme-counts",
            "--source",
            &source,
            "--target",
            &target,
            "--source-user",
            "sa",
            "--target-user",
            "sa",
            "--trust-server-certificate",
            "-o",
            "json",
        ],
        &[
            ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
            ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
        ],
    )
    .await;
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let orders = &report["databases"][0]["tables"][0];
    assert_eq!(orders["table"], "dbo.Orders", "{report:#}");
    assert_eq!(
        (
            orders["rows_source"].as_u64(),
            orders["rows_target"].as_u64()
        ),
        (Some(70), Some(69))
    );
    assert_eq!(orders["equal"], false);
    assert_eq!(report["equal"], false);
}

/// Marks `step` as begun and never seen to end in the plan's journal: a run killed after the
/// step's work and before its end was recorded.
fn cut_off(plan: &Path, step: &str) {
    let journal = rusqlite::Connection::open(plan.with_extension("journal")).unwrap();
    let changed = journal
        .execute("UPDATE steps SET state = 'running' WHERE id = ?1", [step])
        .unwrap();
    assert_eq!(changed, 1, "{step}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scaffolded_method_migrates_and_reruns_a_cut_off_restore() {
    let s = sqlmig();
    scaffold_build_install(&s, "method", "acme-move", 2);
    let az = Azurite::start();
    let token = az.create_container("acme").await;
    let source = shop(Platform::Onprem, 70).await;
    let target = serve(migration::mi_target(), "127.0.0.1", 0).await;
    let inventory = s.home.path().join("inventory.json");
    let plan = s.home.path().join("plan.json");
    migration::discover(&s, &source, &inventory).await;
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("acme");
    let out = migration::plan(
        &s,
        &inventory,
        &target_addr,
        &container,
        &["--method", "acme-move"],
        &plan,
    )
    .await;
    assert_code(&out, 0);
    let env = migration::run_env(token.expose());
    let out = migration::migrate_run(&s, &plan, &env).await;
    assert_code(&out, 0);
    let rows = "SELECT COUNT(*) FROM Shop.dbo.Orders";
    assert_eq!(first_value(&target, rows), first_value(&source, rows));
    let restores =
        "SELECT COUNT(*) FROM msdb.dbo.restorehistory WHERE destination_database_name = N'Shop'";
    assert_eq!(first_value(&target, restores), "[Integer(1)]");

    // Killed after the restore, before its end was journaled: the rerun is told so and does
    // not take the database it finds for its own work (it may be another of that name) …
    cut_off(&plan, "Shop/restore");
    let out = migration::migrate_run(&s, &plan, &env).await;
    assert_code(&out, 3);
    assert!(
        stderr(&out).contains("the target has a database [Shop] (ONLINE) and the earlier attempt of this restore was cut off"),
        "{}",
        stderr(&out)
    );
    // … and once the operator drops it as told, the same command restores it anew.
    let mut session = sqlsim::engine::Session::new("sa", "master");
    let r = target
        .engine
        .execute(&mut session, "DROP DATABASE Shop", &[]);
    assert!(r.error.is_none(), "{:?}", r.error);
    let out = migration::migrate_run(&s, &plan, &env).await;
    assert_code(&out, 0);
    assert_eq!(first_value(&target, rows), first_value(&source, rows));
    assert_eq!(first_value(&target, restores), "[Integer(2)]");
    let status = s.json(&["migrate", "status", plan.to_str().unwrap(), "-o", "json"]);
    assert!(
        status["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|st| st["state"] == "done"),
        "{status}"
    );
}

#[test]
fn bad_names_and_occupied_folders_are_refused() {
    let s = sqlmig();
    let out = s.run(&["plugin", "new", "--kind", "rules", "Acme Rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a plugin name"),
        "{}",
        stderr(&out)
    );
    let taken = s.home.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let out = s.run(&[
        "plugin",
        "new",
        "--kind",
        "rules",
        "acme",
        "--dir",
        taken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    // Installing a crate folder before building it says what to run.
    let fresh = s.home.path().join("fresh");
    assert_eq!(
        s.run(&[
            "plugin",
            "new",
            "--kind",
            "rules",
            "fresh",
            "--dir",
            fresh.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    let out = s.run(&["plugin", "install", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cargo build --release --target wasm32-wasip2"),
        "{}",
        stderr(&out)
    );
}
