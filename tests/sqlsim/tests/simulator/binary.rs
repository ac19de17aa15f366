//! The `sqlsim` binary: first stdout line names the address; a client logs in there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common;

use common::{config, connect, first_row};

/// Starts the binary on a free port with `args`; its first stdout line must name the address.
fn spawn_sqlsim(args: &[&str]) -> (std::process::Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlsim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
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
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    (child, port)
}

#[tokio::test]
async fn the_binary_prints_its_address_and_serves_the_default_instance() {
    let (mut child, port) = spawn_sqlsim(&["--sa-password", "Pw-for-test1"]);
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

#[tokio::test]
async fn the_estate_fixture_is_served_with_its_content() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/instances/onprem-2016-estate.json"
    );
    let (mut child, port) = spawn_sqlsim(&["--fixture", fixture]);
    let mut c = connect(config(port, "sa", "Estate-Passw0rd"))
        .await
        .unwrap();
    let v = first_row(
        &mut c,
        "SELECT SERVERPROPERTY('ProductVersion'), @@SERVERNAME",
    )
    .await;
    assert_eq!(v.get::<&str, _>(0), Some("13.0.6300.0"));
    assert_eq!(v.get::<&str, _>(1), Some("SQLPROD01\\SALES"));
    let orders = first_row(&mut c, "SELECT COUNT(*), SUM(Total) FROM Sales.dbo.Orders").await;
    assert_eq!(orders.get::<i32, _>(0), Some(4));
    let procs = first_row(&mut c, "USE Sales; SELECT COUNT(*) FROM sys.procedures").await;
    assert_eq!(procs.get::<i32, _>(0), Some(3));
    let logs = first_row(
        &mut c,
        "SELECT COUNT(*) FROM sys.master_files f JOIN sys.databases d ON d.database_id = f.database_id
         WHERE d.name = 'Legacy' AND f.type_desc = 'LOG'",
    )
    .await;
    assert_eq!(logs.get::<i32, _>(0), Some(2));
    let unsafe_clr = first_row(
        &mut c,
        "SELECT name FROM Legacy.sys.assemblies WHERE permission_set_desc = 'UNSAFE_ACCESS' \
         AND is_user_defined = 1",
    )
    .await;
    assert_eq!(unsafe_clr.get::<&str, _>(0), Some("LegacyFileIO"));
    let orphan = first_row(
        &mut c,
        "SELECT dp.name FROM Sales.sys.database_principals dp \
         LEFT JOIN sys.server_principals sp ON sp.sid = dp.sid \
         WHERE dp.authentication_type = 1 AND dp.principal_id > 4 AND sp.sid IS NULL",
    )
    .await;
    assert_eq!(orphan.get::<&str, _>(0), Some("report_old"));
    // The application login cannot read DMVs.
    let mut app = connect(config(port, "app_sales", "App-Passw0rd"))
        .await
        .unwrap();
    assert!(
        app.simple_query("SELECT cpu_count FROM sys.dm_os_sys_info")
            .await
            .is_err()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `--platform mi --lrs ADDR`: an empty managed instance and, on a second line, its Log Replay
/// Service endpoint, which answers only the bearer token it was given.
#[tokio::test]
async fn a_managed_instance_with_its_lrs_endpoint_starts_empty() {
    use std::io::{Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlsim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--platform",
            "mi",
            "--lrs",
            "127.0.0.1:0",
        ])
        .args(["--sa-password", "Pw-for-test1", "--arm-token", "tok-1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let port: u16 = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    let lrs = second
        .trim()
        .strip_prefix("sqlsim LRS listening on http://")
        .unwrap_or_else(|| panic!("unexpected second line: {second}"))
        .to_string();
    let mut c = connect(config(port, "sa", "Pw-for-test1")).await.unwrap();
    let row = first_row(
        &mut c,
        "SELECT SERVERPROPERTY('EngineEdition'), (SELECT COUNT(*) FROM sys.databases WHERE database_id > 4)",
    )
    .await;
    assert_eq!(row.get::<i32, _>(0), Some(8));
    assert_eq!(row.get::<i32, _>(1), Some(0), "no user database");
    let status = |token: &str| {
        let mut s = std::net::TcpStream::connect(&lrs).unwrap();
        write!(
            s,
            "GET /subscriptions/s/resourceGroups/g/providers/Microsoft.Sql/managedInstances/mi/databases/Sales/operations?api-version=2023-08-01 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply.split(' ').nth(1).unwrap_or("").to_string()
    };
    assert_eq!(status("wrong"), "401");
    assert_ne!(status("tok-1"), "401");
    child.kill().unwrap();
    child.wait().unwrap();

    // The endpoint plays Managed Instance's service only.
    let out = Command::new(env!("CARGO_BIN_EXE_sqlsim"))
        .args(["--listen", "127.0.0.1:0", "--lrs", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--platform mi"));
}

/// A fixture for a new managed instance needs no version or edition: the default update
/// policy's SQL Server 2022.
#[tokio::test]
async fn a_minimal_managed_instance_fixture_is_served() {
    let dir = std::env::temp_dir().join(format!("sqlsim-mi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("mi.json");
    std::fs::write(
        &f,
        r#"{"server_name": "MI01", "platform": "mi", "logins": [{"name": "sa", "password": "Pw-for-test2", "sysadmin": true}], "databases": []}"#,
    )
    .unwrap();
    let (mut child, port) = spawn_sqlsim(&["--fixture", f.to_str().unwrap()]);
    let mut c = connect(config(port, "sa", "Pw-for-test2")).await.unwrap();
    let v = first_row(&mut c, "SELECT SERVERPROPERTY('ProductMajorVersion')").await;
    assert_eq!(v.get::<&str, _>(0), Some("16"));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
