//! `sqlmig assess --server`: collect from a live server (sqlsim serving the 2016 estate) and
//! assess in one command, keeping the inventory with --save-inventory.

use sqlmig_tests::cli::{Sqlmig, stderr};
use sqlmig_tests::estate::{SA_PASSWORD, fixture, serve};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_is_collected_then_assessed() {
    let _server = serve(fixture("onprem-2016-estate.json"), "127.77.9.2", 1433).await;
    let s = sqlmig();
    let saved = s.home.path().join("collected.json");
    let mut cmd = tokio::process::Command::from(s.command(&[
        "assess",
        "--server",
        "127.77.9.2",
        "--user",
        "sa",
        "--trust-server-certificate",
        "--save-inventory",
        saved.to_str().unwrap(),
        "-o",
        "json",
    ]));
    cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1), "blocked: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inventory"], "server 127.77.9.2");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    // The estate's blockers, read over TDS: catalog and module text alike.
    for rule in [
        "LinkedServerWithNonSQLProvider",
        "MultipleLogFiles",
        "FileStream",
        "XpCmdshell",
        "RAISERROR",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
    // The inventory was kept, and assessing it offline says the same.
    let offline = s.json_with_code(
        &[
            "assess",
            "--inventory",
            saved.to_str().unwrap(),
            "-o",
            "json",
        ],
        1,
    );
    assert_eq!(offline["findings"], report["findings"]);
}

#[test]
fn a_server_without_a_user_is_bad_input() {
    let s = sqlmig();
    let out = s.run(&["assess", "--server", "127.77.9.3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--user"), "{}", stderr(&out));
}
