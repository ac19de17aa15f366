//! The Cloud SQL platform plugin against the Admin API double: the project's SQL Server
//! instances listed with the operator's access token (handed to the plugin by name, never
//! shown), and a refused token explained.

use std::process::Output;

use sqlmig_tests::cli::{Sqlmig, assert_code, stderr, stdout};
use sqlsim::cloudsql_api::{self, ApiInstance, CloudSqlApiHandle};

const TOKEN: &str = "ya29.a0AfB_sqlmig-test-access-token-0123456789";
const PROJECT: &str = "acme-data";

async fn api() -> CloudSqlApiHandle {
    cloudsql_api::serve(
        "127.0.0.1:0".parse().unwrap(),
        TOKEN,
        PROJECT,
        vec![
            ApiInstance::runnable("sales", "SQLSERVER_2019_STANDARD", "10.20.0.5"),
            ApiInstance::runnable("orders-mysql", "MYSQL_8_0", "10.20.0.6"),
            ApiInstance::runnable("hr", "SQLSERVER_2022_ENTERPRISE", "10.20.0.7"),
        ],
    )
    .await
    .unwrap()
}

/// Runs sqlmig (off the runtime's threads, so the double keeps serving) with the Google
/// variables pointing at `api`.
async fn run(sqlmig: &Sqlmig, api: &CloudSqlApiHandle, token: &str, args: &[&str]) -> Output {
    let mut c = sqlmig.command(args);
    c.env("GOOGLE_OAUTH_ACCESS_TOKEN", token)
        .env("GOOGLE_CLOUD_PROJECT", PROJECT)
        .env("CLOUDSDK_API_ENDPOINT_OVERRIDES_SQL", api.url())
        .env("SQLMIG_LOG", "debug");
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_lists_the_sql_servers_cloud_sql_runs_and_not_the_mysql_one() {
    let api = api().await;
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let args = [
        "discover",
        "--platform",
        "gcp-cloudsql",
        "--list",
        "-o",
        "json",
    ];
    let out = run(&sqlmig, &api, TOKEN, &args).await;
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let instances = v["instances"].as_array().unwrap();
    let names: Vec<&str> = instances
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sales", "hr"], "{v:#}");
    assert_eq!(instances[0]["address"]["host"], "10.20.0.5");
    assert_eq!(instances[0]["address"]["port"], 1433);
    assert_eq!(instances[0]["version"], "15.0");
    assert_eq!(instances[0]["cloud"]["service"], "gcp-cloudsql");
    assert_eq!(instances[1]["cloud"]["engine"], "SQLSERVER_2022_ENTERPRISE");
    let everything = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !everything.contains(TOKEN),
        "the token leaked:\n{everything}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_says_how_to_get_a_new_one() {
    let api = api().await;
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let wrong = "ya29.expired-token-of-yesterday";
    let out = run(
        &sqlmig,
        &api,
        wrong,
        &["discover", "--platform", "gcp-cloudsql", "--list"],
    )
    .await;
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("401") && err.contains("gcloud auth print-access-token"),
        "{err}"
    );
    assert!(!err.contains(wrong), "{err}");
}
