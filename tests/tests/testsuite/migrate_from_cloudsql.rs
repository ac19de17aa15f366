//! Leaving Google Cloud SQL, offline: the instance is found through the Admin API double and
//! collected through a forwarded port; the plan takes Cloud SQL's backup route (a striped BAK
//! export to Cloud Storage, copied into the container by the host); a cloudsql-mode sqlsim
//! exports through the double and an MI-mode sqlsim restores from Azurite, every row arriving.
//! The access token appears in no file and no output.

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlmig_tests::estate::{SA_PASSWORD, serve};
use sqlmig_tests::migration::{
    self, file_text, first_value, mi_target, migrate_run, run_env, run_with,
};
use sqlsim::cloudsql_api::{self, ApiInstance, CloudSqlApiHandle};
use sqlsim::instance::{DatabaseSpec, Instance, Platform};
use sqlsim::server::ServerHandle;

const TOKEN: &str = "ya29.a0sqlmig-cloudsql-move-access-token-77";
const PROJECT: &str = "acme-data";

fn cloudsql_source() -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.platform = Platform::Cloudsql;
    inst.server_name = "SALES-CLOUDSQL".into();
    let mut sales = DatabaseSpec::named("Sales");
    sales.setup = vec![
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, customer NVARCHAR(60), amount DECIMAL(12,2))".into(),
        "DECLARE @i INT = 1; WHILE @i <= 500 BEGIN INSERT INTO dbo.Orders VALUES (@i, N'customer ' + CONVERT(NVARCHAR(10), @i), @i * 0.75); SET @i = @i + 1; END".into(),
    ];
    inst.databases = vec![sales];
    inst
}

fn sums(server: &ServerHandle) -> String {
    first_value(
        server,
        "SELECT COUNT(*), CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM Sales.dbo.Orders",
    )
}

fn google_env(api: &CloudSqlApiHandle) -> Vec<(&'static str, String)> {
    vec![
        ("GOOGLE_OAUTH_ACCESS_TOKEN", TOKEN.into()),
        ("GOOGLE_CLOUD_PROJECT", PROJECT.into()),
        ("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL", api.url()),
        ("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", api.url()),
        ("SQLMIG_LOG", "debug".into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offline_migration_from_cloud_sql_exports_through_storage_and_lands_every_row() {
    let az = Azurite::start();
    let sas = az.create_container("migration").await;
    let source = serve(cloudsql_source(), "127.0.0.1", 0).await;
    let target = serve(mi_target(), "127.0.0.1", 0).await;
    let api = cloudsql_api::serve(
        "127.0.0.1:0".parse().unwrap(),
        TOKEN,
        PROJECT,
        vec![
            ApiInstance::runnable("sales", "SQLSERVER_2019_STANDARD", "10.20.0.5")
                .serving(source.engine.clone()),
            ApiInstance::runnable("orders-pg", "POSTGRES_15", "10.20.0.6"),
        ],
    )
    .await
    .unwrap();
    let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let dir = s.home.path();
    let (inventory, plan) = (dir.join("inventory.json"), dir.join("plan.json"));
    let mut env = google_env(&api);
    env.push(("SQLMIG_PASSWORD", SA_PASSWORD.into()));

    let route = format!("10.20.0.5:1433=127.0.0.1:{}", source.addr.port());
    let out = run_with(
        &s,
        &[
            "discover",
            "--platform",
            "gcp-cloudsql",
            "--user",
            "sa",
            "--trust-server-certificate",
            "--connect-to",
            &route,
            "--out",
            inventory.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_code(&out, 0);
    let inv: serde_json::Value = serde_json::from_str(&file_text(&inventory)).unwrap();
    assert_eq!(inv["instances"].as_array().unwrap().len(), 1, "{inv:#}");
    assert_eq!(inv["instances"][0]["platform"], "gcp-cloudsql");
    assert_eq!(inv["instances"][0]["cloud"]["id"], "sales");

    let source_addr = format!("127.0.0.1,{}", source.addr.port());
    let target_addr = format!("127.0.0.1,{}", target.addr.port());
    let container = az.container_url("migration");
    let out = migration::plan_with(
        &s,
        &inventory,
        &target_addr,
        &container,
        &[
            "--source",
            &source_addr,
            "--source-option",
            "gcs_bucket=exports",
            // Small blobs, so the export is striped.
            "--option",
            "blob_max_mb=6",
        ],
        &plan,
        &env,
    )
    .await;
    assert_code(&out, 0);
    let shown = stderr(&out);
    assert!(shown.contains("3 stripe(s), backup to platform"), "{shown}");

    env.extend(run_env(sas.expose()));
    let out = migrate_run(&s, &plan, &env).await;
    assert_code(&out, 0);
    assert_eq!(sums(&target), sums(&source));
    assert!(sums(&target).contains("Integer(500)"));

    // The export went through Cloud Storage, striped in three.
    let objects = api.objects("exports");
    assert_eq!(objects.len(), 3, "{objects:?}");
    assert!(
        objects
            .iter()
            .all(|(o, n)| o.contains("_full_1.bak_") && *n > 0),
        "{objects:?}"
    );

    let everything = [
        file_text(&plan),
        file_text(&inventory),
        migration::journal_text(&dir.join("plan.journal")),
        stdout(&out),
        stderr(&out),
    ]
    .join("\n");
    assert!(!everything.contains(TOKEN), "the access token leaked");
}
