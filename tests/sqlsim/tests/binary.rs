//! The `sqlsim` binary: first stdout line names the address; a client logs in there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod common;

use common::{config, connect, first_row};

#[tokio::test]
async fn the_binary_prints_its_address_and_serves_the_default_instance() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlsim"))
        .args(["--listen", "127.0.0.1:0", "--sa-password", "Pw-for-test1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("sqlsim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();

    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    let mut client = connect(config(port, "sa", "Pw-for-test1")).await.unwrap();
    let row = first_row(&mut client, "SELECT name FROM (SELECT 'Sales' AS name) x").await;
    assert_eq!(row.get::<&str, _>(0), Some("Sales"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_bad_fixture_is_refused_with_its_path_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("sqlsim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("broken.json");
    std::fs::write(&f, "{ not json").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sqlsim"))
        .args(["--fixture", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}
