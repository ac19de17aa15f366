//! sqlsim's BACKUP and RESTORE as sqlmig meets them: its backup files read by sqlmig's own
//! header reader (`sqlmig backup inspect`, a gap named by its LSN range), and backups to Azure
//! blobs in Azurite restored on a Managed-Instance-mode sqlsim.

use sqlmig_tests::azurite::Azurite;
use sqlmig_tests::cli::Sqlmig;
use sqlsim::engine::{Engine, Session};
use sqlsim::instance::{Instance, Platform};
use sqlsim::tds::tokens::ServerMessage;
use sqlsim::tds::types::Value;

fn engine(platform: Platform) -> (Engine, Session) {
    let mut inst = Instance::default_with_sa("pw");
    inst.platform = platform;
    (Engine::new(inst).unwrap(), Session::new("sa", "master"))
}

fn run(e: &Engine, s: &mut Session, sql: &str) -> Vec<sqlsim::engine::Outcome> {
    let r = e.execute(s, sql, &[]);
    assert!(r.error.is_none(), "{sql}: {:?} {:?}", r.error, r.outcomes);
    r.outcomes
}

/// The first error a failing batch sent (SQL Server sends e.g. 3201, then 3013).
fn first_error(e: &Engine, s: &mut Session, sql: &str) -> ServerMessage {
    let r = e.execute(s, sql, &[]);
    let last = r
        .error
        .clone()
        .unwrap_or_else(|| panic!("{sql} should fail"));
    r.outcomes
        .into_iter()
        .find_map(|o| match o {
            sqlsim::engine::Outcome::Info(m) if m.class > 10 => Some(m),
            _ => None,
        })
        .unwrap_or(last)
}

fn rows(e: &Engine, s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    run(e, s, sql)
        .into_iter()
        .find_map(|o| match o {
            sqlsim::engine::Outcome::Rows { rows, .. } => Some(rows),
            _ => None,
        })
        .expect("a result set")
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn sqlmig_reads_sqlsim_backups_and_names_a_missing_log() {
    let (e, mut s) = engine(Platform::Onprem);
    let dir = tempfile::tempdir().unwrap();
    let file = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    run(
        &e,
        &mut s,
        "USE Sales; CREATE TABLE dbo.T (id INT PRIMARY KEY)",
    );
    run(
        &e,
        &mut s,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH CHECKSUM",
            file("Sales_full.bak")
        ),
    );
    for n in 1..=3 {
        run(&e, &mut s, &format!("INSERT INTO dbo.T VALUES ({n})"));
        run(
            &e,
            &mut s,
            &format!(
                "BACKUP LOG Sales TO DISK = '{}'",
                file(&format!("Sales_log{n}.trn"))
            ),
        );
    }
    // What the server says of each file is what sqlmig reads from it offline.
    let header = |name: &str| {
        let r = rows(
            &e,
            &mut Session::new("sa", "master"),
            &format!("RESTORE HEADERONLY FROM DISK = '{}'", file(name)),
        );
        (
            text(&r[0][11]),
            text(&r[0][12]),
            text(&r[0][13]),
            text(&r[0][14]),
        )
    };
    let sqlmig = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    let report = sqlmig.json(&[
        "backup",
        "inspect",
        dir.path().to_str().unwrap(),
        "-o",
        "json",
    ]);
    let backups = report["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 4);
    for b in backups {
        let name = std::path::Path::new(b["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (first, last, checkpoint, base) = header(&name);
        assert_eq!(b["database_name"], "Sales", "{name}");
        assert_eq!(b["server_name"], e.instance.server_name, "{name}");
        assert_eq!(
            b["backup_type"],
            if name.ends_with(".bak") {
                "full"
            } else {
                "log"
            },
            "{name}"
        );
        assert_eq!(
            (
                b["first_lsn"].as_str().unwrap(),
                b["last_lsn"].as_str().unwrap()
            ),
            (first.as_str(), last.as_str()),
            "{name}"
        );
        assert_eq!(b["checkpoint_lsn"].as_str().unwrap(), checkpoint, "{name}");
        assert_eq!(b["database_backup_lsn"].as_str().unwrap(), base, "{name}");
        assert_eq!(b["files"][1]["logical_name"], "Sales_log", "{name}");
    }
    let chain = &report["chains"][0];
    assert_eq!(chain["restore"].as_array().unwrap().len(), 4);
    assert_eq!(
        chain["restores_to"].as_str().unwrap(),
        header("Sales_log3.trn").1
    );

    // Without log 2 the chain stops at log 1: the missing range is log 2's.
    std::fs::remove_file(file("Sales_log2.trn")).unwrap();
    let (log1_last, log3_first) = (header("Sales_log1.trn").1, header("Sales_log3.trn").0);
    let report = sqlmig.json_with_code(
        &[
            "backup",
            "inspect",
            dir.path().to_str().unwrap(),
            "-o",
            "json",
        ],
        1,
    );
    let problem = &report["chains"][0]["problems"][0];
    assert_eq!(problem["kind"], "missing_logs");
    assert_eq!(problem["from_lsn"].as_str().unwrap(), log1_last);
    assert_eq!(problem["to_lsn"].as_str().unwrap(), log3_first);
    let message = report["chains"][0]["problem_messages"][0].as_str().unwrap();
    assert!(
        message.contains(&log1_last) && message.contains(&log3_first),
        "{message}"
    );
}

#[test]
fn backups_to_blob_restore_on_managed_instance() {
    let az = Azurite::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(az.create_container("backups"));
    let container = az.container_url("backups");
    let credential = |secret: &str| {
        format!(
            "CREATE CREDENTIAL [{container}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{secret}'"
        )
    };

    let (src, mut s) = engine(Platform::Onprem);
    run(&src, &mut s, &credential(token.expose()));
    run(
        &src,
        &mut s,
        "USE Sales; CREATE TABLE dbo.Orders (id INT PRIMARY KEY, note NVARCHAR(40))",
    );
    run(
        &src,
        &mut s,
        "DECLARE @i INT = 1; WHILE @i <= 300 BEGIN INSERT INTO dbo.Orders VALUES (@i, REPLICATE(N'n', 40)); SET @i = @i + 1; END",
    );
    let urls =
        format!("URL = '{container}/Sales/Sales_1.bak', URL = '{container}/Sales/Sales_2.bak'");
    run(
        &src,
        &mut s,
        &format!("BACKUP DATABASE Sales TO {urls} WITH COMPRESSION, CHECKSUM, FORMAT"),
    );
    // The blobs exist now: without FORMAT a second backup to them is refused.
    let e = first_error(
        &src,
        &mut s,
        &format!("BACKUP DATABASE Sales TO {urls} WITH COPY_ONLY"),
    );
    assert_eq!(e.number, 3271, "{}", e.text);

    let (mi, mut t) = engine(Platform::Mi);
    run(&mi, &mut t, &credential(token.expose()));
    // MI restores from URL, with every stripe, recovering at once; it refuses NORECOVERY.
    let e = first_error(
        &mi,
        &mut t,
        &format!("RESTORE DATABASE Sales FROM {urls} WITH NORECOVERY"),
    );
    assert_eq!(e.number, 41901);
    let e = first_error(
        &mi,
        &mut t,
        &format!("RESTORE DATABASE Sales2 FROM URL = '{container}/Sales/Sales_1.bak'"),
    );
    assert_eq!(e.number, 3132, "{}", e.text);
    run(&mi, &mut t, &format!("RESTORE DATABASE Sales2 FROM {urls}"));
    let r = rows(
        &mi,
        &mut t,
        "SELECT COUNT(*), SUM(id) FROM Sales2.dbo.Orders",
    );
    assert_eq!(
        (text(&r[0][0]), text(&r[0][1])),
        ("300".to_string(), (1..=300).sum::<i32>().to_string())
    );
    // An existing database is not overwritten on MI.
    assert_eq!(
        first_error(&mi, &mut t, &format!("RESTORE DATABASE Sales2 FROM {urls}")).number,
        1801
    );

    // A SAS that storage refuses: 3201 with the operating-system error SQL Server reports.
    let broken = token.expose().replace("sig=", "sig=AAAA");
    run(
        &mi,
        &mut t,
        &format!(
            "ALTER CREDENTIAL [{container}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{broken}'"
        ),
    );
    let e = first_error(&mi, &mut t, &format!("RESTORE DATABASE Sales3 FROM {urls}"));
    assert_eq!(e.number, 3201);
    assert!(e.text.contains("Operating system error 86"), "{}", e.text);
    assert!(
        !e.text.contains(&broken),
        "the secret stays out of the message"
    );
    // A missing blob.
    run(
        &mi,
        &mut t,
        &format!(
            "ALTER CREDENTIAL [{container}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{}'",
            token.expose()
        ),
    );
    let e = first_error(
        &mi,
        &mut t,
        &format!("RESTORE DATABASE Sales3 FROM URL = '{container}/Sales/none.bak'"),
    );
    assert!(
        e.number == 3201 && e.text.contains("Operating system error 2"),
        "{}",
        e.text
    );
}

#[test]
fn what_managed_instance_cannot_restore_is_refused_and_nothing_is_left() {
    use sqlsim::instance::{DatabaseFile, DatabaseSpec};
    let az = Azurite::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(az.create_container("refused"));
    let container = az.container_url("refused");
    let credential = format!(
        "CREATE CREDENTIAL [{container}] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '{}'",
        token.expose()
    );
    let file = |name: &str, type_desc: &str| DatabaseFile {
        name: name.into(),
        type_desc: type_desc.into(),
        physical_name: format!("/var/opt/mssql/data/{name}"),
        size_mb: 8,
        growth: 64,
        is_percent_growth: false,
    };
    let mut inst = Instance::default_with_sa("pw");
    let mut docs = DatabaseSpec::named("Docs");
    docs.files = vec![
        file("Docs", "ROWS"),
        file("Docs_log", "LOG"),
        file("Docs_fs", "FILESTREAM"),
    ];
    let mut logs = DatabaseSpec::named("TwoLogs");
    logs.files = vec![
        file("TwoLogs", "ROWS"),
        file("TwoLogs_log", "LOG"),
        file("TwoLogs_log2", "LOG"),
    ];
    inst.databases = vec![docs, logs];
    let src = Engine::new(inst).unwrap();
    let mut s = Session::new("sa", "master");
    run(&src, &mut s, &credential);
    for db in ["Docs", "TwoLogs"] {
        run(
            &src,
            &mut s,
            &format!("BACKUP DATABASE {db} TO URL = '{container}/{db}.bak' WITH CHECKSUM"),
        );
    }

    // A SQL Server restores the FILESTREAM database with its filegroup.
    let (other, mut o) = engine(Platform::Onprem);
    run(&other, &mut o, &credential);
    run(
        &other,
        &mut o,
        &format!("RESTORE DATABASE Docs FROM URL = '{container}/Docs.bak'"),
    );
    let groups = rows(
        &other,
        &mut o,
        "SELECT type_desc FROM Docs.sys.filegroups ORDER BY data_space_id",
    );
    assert_eq!(
        groups.iter().map(|r| text(&r[0])).collect::<Vec<_>>(),
        ["ROWS_FILEGROUP", "FILESTREAM_DATA_FILEGROUP"]
    );

    // Managed Instance does not (transact-sql-tsql-differences-sql-server.md), and keeps nothing.
    let (mi, mut t) = engine(Platform::Mi);
    run(&mi, &mut t, &credential);
    let e = first_error(
        &mi,
        &mut t,
        &format!("RESTORE DATABASE Docs FROM URL = '{container}/Docs.bak'"),
    );
    assert_eq!(
        (e.number, e.text.as_str()),
        (5591, "FILESTREAM feature is disabled.")
    );
    let e = first_error(
        &mi,
        &mut t,
        &format!("RESTORE DATABASE TwoLogs FROM URL = '{container}/TwoLogs.bak'"),
    );
    assert_eq!(e.number, 3013, "{}", e.text);
    assert!(e.text.contains("2 log files"), "{}", e.text);
    let left = rows(
        &mi,
        &mut t,
        "SELECT COUNT(*) FROM sys.databases WHERE name IN ('Docs', 'TwoLogs')",
    );
    assert_eq!(text(&left[0][0]), "0");
}

/// A tail taken WITH STANDBY leaves the source ONLINE, read-only and in standby
/// (backup-transact-sql.md: "leaves the database in read-only and STANDBY state"): it reads, it
/// refuses writes and further log backups, and STANDBY goes with BACKUP LOG only.
#[test]
fn a_standby_tail_leaves_the_database_read_only() {
    let (e, mut s) = engine(Platform::Onprem);
    let dir = tempfile::tempdir().unwrap();
    let file = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    run(
        &e,
        &mut s,
        "USE Sales; CREATE TABLE dbo.T (id INT PRIMARY KEY); INSERT INTO dbo.T VALUES (1)",
    );
    run(
        &e,
        &mut s,
        &format!("BACKUP DATABASE Sales TO DISK = '{}'", file("full.bak")),
    );
    let both = first_error(
        &e,
        &mut s,
        &format!(
            "BACKUP LOG Sales TO DISK = '{}' WITH NORECOVERY, STANDBY = '{}'",
            file("tail.trn"),
            file("undo.tuf")
        ),
    );
    assert_eq!(both.number, 3032, "{both:?}");
    let database = first_error(
        &e,
        &mut s,
        &format!(
            "BACKUP DATABASE Sales TO DISK = '{}' WITH STANDBY = '{}'",
            file("f2.bak"),
            file("undo.tuf")
        ),
    );
    assert_eq!(database.number, 3032, "{database:?}");
    run(
        &e,
        &mut s,
        &format!(
            "BACKUP LOG Sales TO DISK = '{}' WITH STANDBY = '{}'",
            file("tail.trn"),
            file("undo.tuf")
        ),
    );
    let state = rows(
        &e,
        &mut s,
        "SELECT state_desc, is_read_only, is_in_standby FROM sys.databases WHERE name = 'Sales'",
    );
    assert_eq!(
        state[0].iter().map(text).collect::<Vec<_>>(),
        ["ONLINE", "1", "1"],
        "{state:?}"
    );
    assert_eq!(
        text(&rows(&e, &mut s, "SELECT COUNT(*) FROM dbo.T")[0][0]),
        "1"
    );
    let write = first_error(&e, &mut s, "INSERT INTO dbo.T VALUES (2)");
    assert_eq!(write.number, 3906, "{write:?}");
    let again = first_error(
        &e,
        &mut s,
        &format!("BACKUP LOG Sales TO DISK = '{}'", file("more.trn")),
    );
    assert_eq!(again.number, 3098, "{again:?}");
    // RESTORE … WITH RECOVERY takes it back into use (docs/migrate.md says so).
    run(&e, &mut s, "USE master");
    run(&e, &mut s, "RESTORE DATABASE Sales WITH RECOVERY");
    run(&e, &mut s, "USE Sales; INSERT INTO dbo.T VALUES (2)");
    let state = rows(
        &e,
        &mut s,
        "SELECT is_read_only, is_in_standby FROM sys.databases WHERE name = 'Sales'",
    );
    assert_eq!(state[0].iter().map(text).collect::<Vec<_>>(), ["0", "0"]);
}
