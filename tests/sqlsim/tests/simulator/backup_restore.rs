//! BACKUP and RESTORE through tiberius: LSNs that follow the work, log chains and their errors,
//! differentials, stripes, tail-log backups, HEADERONLY/FILELISTONLY — on files (blob URLs are
//! exercised with Azurite in the sqlmig-tests crate).

use crate::common;

use common::{all_rows, batch_error, first_row, run, sa, server};
use tiberius::numeric::Numeric;

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_string()
}

async fn count(c: &mut common::SimClient, db: &str) -> i32 {
    first_row(c, &format!("SELECT COUNT(*) AS n FROM [{db}].dbo.T"))
        .await
        .get::<i32, _>("n")
        .unwrap()
}

/// (FirstLSN, LastLSN, CheckpointLSN, DatabaseBackupLSN) of a backup file's first set.
async fn lsns(c: &mut common::SimClient, file: &str) -> (u128, u128, u128, u128) {
    let row = first_row(c, &format!("RESTORE HEADERONLY FROM DISK = '{file}'")).await;
    let n = |col: &str| row.get::<Numeric, _>(col).unwrap().value() as u128;
    (
        n("FirstLSN"),
        n("LastLSN"),
        n("CheckpointLSN"),
        n("DatabaseBackupLSN"),
    )
}

#[tokio::test]
async fn full_and_log_backups_restore_every_row_in_order() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "USE Sales; CREATE TABLE dbo.T (id INT PRIMARY KEY, v NVARCHAR(50)); INSERT INTO dbo.T VALUES (1, N'a'), (2, N'b')").await;
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH CHECKSUM, INIT",
            path(&dir, "full.bak")
        ),
    )
    .await;
    run(&mut c, "INSERT INTO Sales.dbo.T VALUES (3, N'c')").await;
    // A log backup that fails on its device truncates nothing (SMO's Backup.LogTruncation: by
    // default "the log is backed up, and is then truncated"): log 1 still follows the full and
    // carries row 3.
    let missing = path(&dir, "no such folder/log0.trn");
    let e = batch_error(&mut c, &format!("BACKUP LOG Sales TO DISK = '{missing}'")).await;
    assert_eq!(e.code(), 3201, "{}", e.message());
    run(
        &mut c,
        &format!(
            "BACKUP LOG Sales TO DISK = '{}' WITH INIT",
            path(&dir, "log1.trn")
        ),
    )
    .await;
    run(&mut c, "INSERT INTO Sales.dbo.T VALUES (4, N'd'), (5, N'e'); UPDATE Sales.dbo.T SET v = N'z' WHERE id = 1").await;
    run(
        &mut c,
        &format!(
            "BACKUP LOG Sales TO DISK = '{}' WITH INIT",
            path(&dir, "log2.trn")
        ),
    )
    .await;

    // LSNs: the logs chain, each ends later than it starts, and they depend on the full.
    let full = lsns(&mut c, &path(&dir, "full.bak")).await;
    let log1 = lsns(&mut c, &path(&dir, "log1.trn")).await;
    let log2 = lsns(&mut c, &path(&dir, "log2.trn")).await;
    assert!(
        full.0 < full.1 && log1.0 <= full.1 && full.1 < log1.1,
        "{full:?} {log1:?}"
    );
    assert_eq!(log2.0, log1.1, "log 2 starts where log 1 ends");
    assert!(
        log2.1 > log2.0 + 2,
        "three rows and an update moved the LSN on: {log2:?}"
    );
    assert_eq!(log1.3, full.2, "logs depend on the full's checkpoint");
    assert_eq!(full.3, 0, "the first full depends on nothing");

    // Restore under another name: full, then the logs, NORECOVERY until the last.
    let restore = |what: &str, file: &str, recovery: &str| {
        format!(
            "RESTORE {what} [Sales copy] FROM DISK = '{}' WITH {recovery}",
            path(&dir, file)
        )
    };
    run(&mut c, &restore("DATABASE", "full.bak", "NORECOVERY")).await;
    let state = first_row(
        &mut c,
        "SELECT state_desc FROM sys.databases WHERE name = 'Sales copy'",
    )
    .await;
    assert_eq!(state.get::<&str, _>(0), Some("RESTORING"));
    assert_eq!(batch_error(&mut c, "USE [Sales copy]").await.code(), 927);
    // Out of order: log 2 before log 1 is too recent (4305).
    let e = batch_error(&mut c, &restore("LOG", "log2.trn", "NORECOVERY")).await;
    assert_eq!(e.code(), 4305, "{}", e.message());
    assert!(e.message().contains(&log2.0.to_string()), "{}", e.message());
    run(&mut c, &restore("LOG", "log1.trn", "NORECOVERY")).await;
    // Log 1 again is too early (4326).
    assert_eq!(
        batch_error(&mut c, &restore("LOG", "log1.trn", "NORECOVERY"))
            .await
            .code(),
        4326
    );
    run(&mut c, &restore("LOG", "log2.trn", "RECOVERY")).await;
    assert_eq!(count(&mut c, "Sales copy").await, 5);
    let v = first_row(&mut c, "SELECT v FROM [Sales copy].dbo.T WHERE id = 1").await;
    assert_eq!(v.get::<&str, _>(0), Some("z"));
    let state = first_row(
        &mut c,
        "SELECT state_desc FROM sys.databases WHERE name = 'Sales copy'",
    )
    .await;
    assert_eq!(state.get::<&str, _>(0), Some("ONLINE"));
    // A recovered database takes no more logs.
    assert_eq!(
        batch_error(&mut c, &restore("LOG", "log2.trn", "RECOVERY"))
            .await
            .code(),
        3117
    );
    // Restoring over an existing database needs REPLACE (the tail was not backed up).
    assert_eq!(
        batch_error(
            &mut c,
            &format!(
                "RESTORE DATABASE Sales FROM DISK = '{}'",
                path(&dir, "full.bak")
            )
        )
        .await
        .code(),
        3159
    );
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE [Sales copy] FROM DISK = '{}' WITH REPLACE",
            path(&dir, "full.bak")
        ),
    )
    .await;
    assert_eq!(count(&mut c, "Sales copy").await, 2);
    // msdb kept the history.
    let rows = all_rows(
        &mut c,
        "SELECT type FROM msdb.dbo.backupset WHERE database_name = 'Sales' ORDER BY backup_set_id",
    )
    .await;
    let types: Vec<_> = rows
        .iter()
        .map(|r| r.get::<&str, _>(0).unwrap().to_string())
        .collect();
    // The backups first; each restore then recorded the set it restored (restorehistory
    // points at it), as a server's msdb does.
    assert_eq!(&types[..3], ["D", "L", "L"], "{types:?}");
    let restored = all_rows(
        &mut c,
        "SELECT COUNT(*) FROM msdb.dbo.restorehistory AS rh JOIN msdb.dbo.backupset AS bs ON bs.backup_set_id = rh.backup_set_id WHERE bs.database_name = 'Sales'",
    )
    .await;
    assert_eq!(restored[0].get::<i32, _>(0), Some(types.len() as i32 - 3));
}

#[tokio::test]
async fn differentials_stripes_and_tail_of_the_log() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = sa(s.addr.port()).await;
    run(
        &mut c,
        "USE Sales; CREATE TABLE dbo.T (id INT, v VARBINARY(MAX))",
    )
    .await;
    // No full yet: no log or differential backup.
    assert_eq!(
        batch_error(
            &mut c,
            &format!("BACKUP LOG Sales TO DISK = '{}'", path(&dir, "x.trn"))
        )
        .await
        .code(),
        4214
    );
    assert_eq!(
        batch_error(
            &mut c,
            &format!(
                "BACKUP DATABASE Sales TO DISK = '{}' WITH DIFFERENTIAL",
                path(&dir, "x.dif")
            )
        )
        .await
        .code(),
        3035
    );
    // A table without a key, big enough to span pages; a striped full.
    run(&mut c, "DECLARE @i INT = 1; WHILE @i <= 40 BEGIN INSERT INTO Sales.dbo.T VALUES (@i, CONVERT(VARBINARY(MAX), REPLICATE('x', 3000))); SET @i = @i + 1; END").await;
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}', DISK = '{}' WITH FORMAT",
            path(&dir, "f1.bak"),
            path(&dir, "f2.bak")
        ),
    )
    .await;
    run(&mut c, "DELETE FROM Sales.dbo.T WHERE id <= 10").await;
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH DIFFERENTIAL, INIT",
            path(&dir, "d.dif")
        ),
    )
    .await;
    run(&mut c, "INSERT INTO Sales.dbo.T VALUES (100, 0x01)").await;
    // The tail: the source is left RESTORING.
    run(
        &mut c,
        &format!(
            "BACKUP LOG Sales TO DISK = '{}' WITH NORECOVERY, INIT",
            path(&dir, "tail.trn")
        ),
    )
    .await;
    assert_eq!(batch_error(&mut c, "USE Sales").await.code(), 927);
    assert_eq!(
        batch_error(&mut c, "INSERT INTO Sales.dbo.T VALUES (101, 0x02)")
            .await
            .code(),
        208
    );

    // One stripe alone is refused.
    let e = batch_error(
        &mut c,
        &format!(
            "RESTORE DATABASE Moved FROM DISK = '{}' WITH NORECOVERY",
            path(&dir, "f1.bak")
        ),
    )
    .await;
    assert_eq!(e.code(), 3132, "{}", e.message());
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE Moved FROM DISK = '{}', DISK = '{}' WITH NORECOVERY",
            path(&dir, "f2.bak"),
            path(&dir, "f1.bak")
        ),
    )
    .await;
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE Moved FROM DISK = '{}' WITH NORECOVERY",
            path(&dir, "d.dif")
        ),
    )
    .await;
    run(
        &mut c,
        &format!(
            "RESTORE LOG Moved FROM DISK = '{}' WITH NORECOVERY",
            path(&dir, "tail.trn")
        ),
    )
    .await;
    run(&mut c, "RESTORE DATABASE Moved WITH RECOVERY").await;
    let row = first_row(
        &mut c,
        "SELECT COUNT(*), SUM(id), SUM(DATALENGTH(v)) FROM Moved.dbo.T",
    )
    .await;
    assert_eq!(row.get::<i32, _>(0), Some(31));
    assert_eq!(row.get::<i32, _>(1), Some((11..=40).sum::<i32>() + 100));
    assert_eq!(row.get::<i32, _>(2), Some(30 * 3000 + 1));
    // A differential on a database restored from another full is refused (3136).
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE Other FROM DISK = '{}', DISK = '{}' WITH NORECOVERY",
            path(&dir, "f1.bak"),
            path(&dir, "f2.bak")
        ),
    )
    .await;
    run(&mut c, "RESTORE DATABASE Other WITH RECOVERY").await;
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Other TO DISK = '{}' WITH INIT",
            path(&dir, "o.bak")
        ),
    )
    .await;
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE Other2 FROM DISK = '{}' WITH NORECOVERY",
            path(&dir, "o.bak")
        ),
    )
    .await;
    assert_eq!(
        batch_error(
            &mut c,
            &format!(
                "RESTORE DATABASE Other2 FROM DISK = '{}' WITH NORECOVERY",
                path(&dir, "d.dif")
            )
        )
        .await
        .code(),
        3136
    );
    // A log backup is not a database backup.
    assert_eq!(
        batch_error(
            &mut c,
            &format!(
                "RESTORE DATABASE Other3 FROM DISK = '{}'",
                path(&dir, "tail.trn")
            )
        )
        .await
        .code(),
        3135
    );
}

#[tokio::test]
async fn headers_file_lists_and_bad_devices() {
    let s = server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = sa(s.addr.port()).await;
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH NAME = 'nightly'",
            path(&dir, "s.bak")
        ),
    )
    .await;
    // Without INIT a second backup is appended as set 2.
    run(
        &mut c,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH COPY_ONLY",
            path(&dir, "s.bak")
        ),
    )
    .await;
    let rows = all_rows(
        &mut c,
        &format!("RESTORE HEADERONLY FROM DISK = '{}'", path(&dir, "s.bak")),
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<&str, _>("BackupName"), Some("nightly"));
    assert_eq!(rows[0].get::<&str, _>("DatabaseName"), Some("Sales"));
    assert_eq!(rows[1].get::<i16, _>("Position"), Some(2));
    assert_eq!(rows[1].get::<bool, _>("IsCopyOnly"), Some(true));
    let files = all_rows(
        &mut c,
        &format!("RESTORE FILELISTONLY FROM DISK = '{}'", path(&dir, "s.bak")),
    )
    .await;
    let types: Vec<_> = files
        .iter()
        .map(|r| r.get::<&str, _>("Type").unwrap().to_string())
        .collect();
    assert_eq!(types, ["D", "L"]);
    run(
        &mut c,
        &format!(
            "RESTORE DATABASE Second FROM DISK = '{}' WITH FILE = 2",
            path(&dir, "s.bak")
        ),
    )
    .await;

    let e = batch_error(
        &mut c,
        &format!(
            "RESTORE DATABASE X FROM DISK = '{}'",
            path(&dir, "missing.bak")
        ),
    )
    .await;
    assert_eq!(e.code(), 3201);
    assert!(
        e.message().contains("missing.bak") && e.message().contains("Operating system error 2"),
        "{}",
        e.message()
    );
    std::fs::write(dir.path().join("junk.bak"), b"not a backup at all").unwrap();
    assert_eq!(
        batch_error(
            &mut c,
            &format!(
                "RESTORE HEADERONLY FROM DISK = '{}'",
                path(&dir, "junk.bak")
            )
        )
        .await
        .code(),
        3241
    );
    // A URL without a credential for it.
    let e = batch_error(
        &mut c,
        "RESTORE DATABASE X FROM URL = 'http://127.0.0.1:9/devstoreaccount1/c/x.bak'",
    )
    .await;
    assert_eq!(e.code(), 3201);
    assert!(
        e.message().contains("Operating system error 50"),
        "{}",
        e.message()
    );
    assert_eq!(
        batch_error(&mut c, "BACKUP DATABASE Nope TO DISK = 'x.bak'")
            .await
            .code(),
        911
    );
    assert_eq!(
        batch_error(&mut c, "BACKUP DATABASE Sales TO TAPE = 'x'")
            .await
            .code(),
        102
    );
}

#[tokio::test]
async fn credentials_hold_a_secret_that_is_never_shown() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "CREATE CREDENTIAL [http://127.0.0.1:10000/devstoreaccount1/backups] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = 'sv=2021&sig=TOPSECRET'").await;
    let row = first_row(
        &mut c,
        "SELECT name, credential_identity FROM sys.credentials WHERE name LIKE 'http%'",
    )
    .await;
    assert_eq!(row.get::<&str, _>(1), Some("SHARED ACCESS SIGNATURE"));
    assert_eq!(batch_error(&mut c, "CREATE CREDENTIAL [http://127.0.0.1:10000/devstoreaccount1/backups] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = 'x'").await.code(), 15025);
    run(&mut c, "ALTER CREDENTIAL [http://127.0.0.1:10000/devstoreaccount1/backups] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = 'sv=2&sig=NEW'").await;
    run(
        &mut c,
        "DROP CREDENTIAL [http://127.0.0.1:10000/devstoreaccount1/backups]",
    )
    .await;
    assert_eq!(
        batch_error(&mut c, "DROP CREDENTIAL [nope]").await.code(),
        15151
    );
}

/// A server whose backup devices write 512 KB/s, so a backup of [`FILL`] runs long enough to
/// be watched; Sales has an empty dbo.T; two sa sessions.
async fn slow_backups() -> (
    sqlsim::server::ServerHandle,
    tempfile::TempDir,
    common::SimClient,
    common::SimClient,
) {
    let mut inst = sqlsim::instance::Instance::default_with_sa(common::PW);
    inst.backup_device_kb_per_s = Some(512);
    let s = sqlsim::server::start("127.0.0.1:0".parse().unwrap(), inst)
        .await
        .unwrap();
    let mut a = sa(s.addr.port()).await;
    let b = sa(s.addr.port()).await;
    run(
        &mut a,
        "USE Sales; CREATE TABLE dbo.T (id INT, v VARBINARY(MAX))",
    )
    .await;
    (s, tempfile::tempdir().unwrap(), a, b)
}

/// 300 KB into Sales.dbo.T.
const FILL: &str = "DECLARE @i INT = 1; WHILE @i <= 100 BEGIN INSERT INTO Sales.dbo.T VALUES (@i, CONVERT(VARBINARY(MAX), REPLICATE('x', 3000))); SET @i = @i + 1; END";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percent_complete_rises_while_a_backup_runs() {
    let (_server, dir, mut a, mut b) = slow_backups().await;
    run(&mut a, FILL).await;
    let file = path(&dir, "slow.bak");
    let backup = tokio::spawn(async move {
        run(&mut a, &format!("BACKUP DATABASE Sales TO DISK = '{file}'")).await;
    });
    let mut seen = Vec::new();
    while !backup.is_finished() {
        let rows = all_rows(
            &mut b,
            "SELECT percent_complete, DB_NAME(database_id) AS db FROM sys.dm_exec_requests WHERE command = 'BACKUP DATABASE'",
        )
        .await;
        if let Some(r) = rows.first() {
            seen.push(r.get::<f32, _>(0).unwrap());
            // The request names the database it backs up, not the session's (master).
            assert_eq!(r.get::<&str, _>("db"), Some("Sales"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    backup.await.unwrap();
    assert!(seen.iter().any(|p| *p > 0.0 && *p < 100.0), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "percent_complete only rises: {seen:?}"
    );
}

/// Two log backups of a database run one after the other: the second, asked for while the
/// first writes, starts where the first ends (a client that went away leaves its backup to run
/// to its end, and the next one must not race it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_backups_of_a_database_run_one_after_the_other() {
    let (_server, dir, mut a, mut b) = slow_backups().await;
    run(
        &mut a,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}'",
            path(&dir, "full.bak")
        ),
    )
    .await;
    run(&mut a, FILL).await;
    let first = path(&dir, "log1.trn");
    let slow = first.clone();
    let backup = tokio::spawn(async move {
        run(&mut a, &format!("BACKUP LOG Sales TO DISK = '{slow}'")).await;
        a
    });
    // Asked for once the first is under way.
    loop {
        let rows = all_rows(
            &mut b,
            "SELECT 1 FROM sys.dm_exec_requests WHERE command = 'BACKUP LOG'",
        )
        .await;
        if !rows.is_empty() {
            break;
        }
        assert!(
            !backup.is_finished(),
            "the first backup ended before it was seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    run(
        &mut b,
        &format!("BACKUP LOG Sales TO DISK = '{}'", path(&dir, "log2.trn")),
    )
    .await;
    let mut a = backup.await.unwrap();
    let log1 = lsns(&mut a, &first).await;
    let log2 = lsns(&mut a, &path(&dir, "log2.trn")).await;
    assert_eq!(
        log2.0, log1.1,
        "log 2 starts where log 1 ends: {log1:?} {log2:?}"
    );
}
