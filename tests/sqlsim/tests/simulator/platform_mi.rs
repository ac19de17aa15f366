//! An instance described as Azure SQL Managed Instance says so and refuses what MI refuses, with
//! MI's errors; the same statements are not refused on-prem.

use crate::common;

use common::{batch_error, config, connect, first_row, run};
use sqlsim::instance::{Instance, Platform};
use sqlsim::server::start;

async fn client(platform: Platform) -> (sqlsim::server::ServerHandle, common::SimClient) {
    let mut inst = Instance::default_with_sa("pw");
    inst.platform = platform;
    let s = start("127.0.0.1:0".parse().unwrap(), inst).await.unwrap();
    let c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    (s, c)
}

#[tokio::test]
async fn managed_instance_refuses_file_placement_disk_devices_and_log_backups() {
    let (_s, mut c) = client(Platform::Mi).await;
    let edition = first_row(&mut c, "SELECT SERVERPROPERTY('EngineEdition')").await;
    assert_eq!(edition.get::<i32, _>(0), Some(8));

    let e = batch_error(
        &mut c,
        "CREATE DATABASE Staging ON (NAME = Staging, FILENAME = 'D:\\Data\\Staging.mdf')",
    )
    .await;
    assert_eq!((e.code(), e.class()), (41918, 16));
    let e = batch_error(
        &mut c,
        "RESTORE DATABASE Sales2 FROM DISK = N'/var/opt/mssql/backup/Sales.bak'",
    )
    .await;
    assert_eq!(e.code(), 41902);
    assert!(e.message().contains("restore from URI backup device only"));
    let e = batch_error(
        &mut c,
        "RESTORE DATABASE Sales2 FROM URL = N'https://acct.blob.core.windows.net/c/Sales.bak' \
         WITH STATS = 5",
    )
    .await;
    assert_eq!(e.code(), 41901);
    assert!(e.message().contains("(stats)"), "{}", e.message());
    let e = batch_error(
        &mut c,
        "BACKUP LOG Sales TO URL = N'https://acct.blob.core.windows.net/c/Sales.trn'",
    )
    .await;
    assert_eq!(e.code(), 41904);
    let e = batch_error(&mut c, "EXEC xp_cmdshell 'whoami'").await;
    assert_eq!(e.code(), 41905);
    // Plain databases are fine.
    run(&mut c, "CREATE DATABASE Staging").await;
}

#[tokio::test]
async fn on_prem_does_not_refuse_what_only_mi_refuses() {
    let (_s, mut c) = client(Platform::Onprem).await;
    let edition = first_row(&mut c, "SELECT SERVERPROPERTY('EngineEdition')").await;
    assert_eq!(edition.get::<i32, _>(0), Some(3));
    let e = batch_error(
        &mut c,
        "RESTORE DATABASE Sales2 FROM DISK = N'/var/opt/mssql/backup/Sales.bak'",
    )
    .await;
    // sqlsim simulates RESTORE itself only from issue 7 on; what matters here is that the
    // refusal is not MI's.
    assert!(
        !(41900..42000).contains(&e.code()),
        "on-prem RESTORE FROM DISK is not an MI refusal: {e:?}"
    );
}
