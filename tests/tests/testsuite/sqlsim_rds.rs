//! sqlsim's `rds` mode: RDS's native backup procedures write real backups to S3 (moto), which
//! sqlmig's own header reader reads back; the refusals RDS gives.

use std::sync::Arc;
use std::time::Duration;

use sqlmig_tests::moto::Moto;
use sqlsim::engine::{Engine, Outcome, Session};
use sqlsim::instance::{Instance, Platform, RdsSpec};
use sqlsim::tds::types::Value;

fn rds_engine(moto: &Moto, option: bool) -> Arc<Engine> {
    let mut inst = Instance::default_with_sa("pw");
    inst.platform = Platform::Rds;
    inst.rds = Some(RdsSpec {
        s3_endpoint: moto.endpoint(),
        backup_restore_option: option,
        log_backup_interval_ms: 300_000,
    });
    let e = Arc::new(Engine::new(inst).unwrap());
    e.share();
    let mut s = Session::new("sa", "Sales");
    let r = e.execute(
        &mut s,
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, amount DECIMAL(10,2));
         INSERT INTO dbo.Orders VALUES (1, 10.50), (2, 20.00), (3, 7.25);",
        &[],
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    e
}

/// The rows of the first result set, with its column names.
fn table(e: &Engine, sql: &str) -> (Vec<String>, Vec<Vec<Value>>) {
    // RDS's master user holds VIEW SERVER STATE, as sa does here.
    let mut s = Session::new("sa", "master");
    let r = e.execute(&mut s, sql, &[]);
    assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    r.outcomes
        .into_iter()
        .find_map(|o| match o {
            Outcome::Rows { columns, rows } => {
                Some((columns.into_iter().map(|c| c.name).collect(), rows))
            }
            _ => None,
        })
        .expect("a result set")
}

fn cell<'a>(cols: &[String], row: &'a [Value], name: &str) -> &'a Value {
    &row[cols
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("{name} in {cols:?}"))]
}

#[test]
fn rds_backup_database_writes_striped_backups_to_s3() {
    let moto = Moto::start();
    assert_eq!(
        moto.request("s3", "PUT", "/rds-backups", "", "application/xml")
            .0,
        200
    );
    let e = rds_engine(&moto, true);
    let (cols, rows) = table(
        &e,
        "exec msdb.dbo.rds_backup_database @source_db_name='Sales', \
         @s3_arn_to_backup_to='arn:aws:s3:::rds-backups/sqlmig/Sales_full_*.bak', \
         @type='FULL', @number_of_files=2",
    );
    let task_id = match cell(&cols, &rows[0], "task_id") {
        Value::Integer(i) => *i,
        v => panic!("{v:?}"),
    };
    assert_eq!(
        cell(&cols, &rows[0], "task_type"),
        &Value::Text("BACKUP_DB".into())
    );

    // Polled as a DBA does, until the task ends.
    let mut lifecycle = String::new();
    for _ in 0..200 {
        let (cols, rows) = table(
            &e,
            &format!("exec msdb.dbo.rds_task_status @task_id={task_id}"),
        );
        lifecycle = match cell(&cols, &rows[0], "lifecycle") {
            Value::Text(t) => t.clone(),
            v => panic!("{v:?}"),
        };
        if lifecycle == "SUCCESS" || lifecycle == "ERROR" {
            assert!(cols.contains(&"% complete".to_string()));
            let Value::Text(info) = cell(&cols, &rows[0], "task_info") else {
                panic!()
            };
            assert!(lifecycle == "SUCCESS", "{info}");
            assert!(info.contains("2 file(s) written"), "{info}");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(lifecycle, "SUCCESS");

    // Both stripes are in S3, named as RDS names them, and are SQL Server backups of Sales.
    let (status, listing) = moto.request(
        "s3",
        "GET",
        "/rds-backups?list-type=2&prefix=sqlmig/",
        "",
        "application/xml",
    );
    assert_eq!(status, 200);
    for key in [
        "sqlmig/Sales_full_1-of-2.bak",
        "sqlmig/Sales_full_2-of-2.bak",
    ] {
        assert!(listing.contains(key), "{listing}");
    }
    let body = moto.get_bytes("/rds-backups/sqlmig/Sales_full_1-of-2.bak");
    let file = sqlmig_backup_format::read_backup_head(body.as_slice()).unwrap();
    assert_eq!(file.sets[0].database_name, "Sales");
    assert_eq!(file.sets[0].backup_type.name(), "full");

    // Writing over it needs @overwrite_s3_backup_file=1: the task fails and says so.
    let (cols, rows) = table(
        &e,
        "exec msdb.dbo.rds_backup_database @source_db_name='Sales', \
         @s3_arn_to_backup_to='arn:aws:s3:::rds-backups/sqlmig/Sales_full_*.bak', @number_of_files=2",
    );
    let Value::Integer(id) = cell(&cols, &rows[0], "task_id") else {
        panic!()
    };
    let id = *id;
    let info = loop {
        let (cols, rows) = table(&e, &format!("exec msdb.dbo.rds_task_status @task_id={id}"));
        if let Value::Text(l) = cell(&cols, &rows[0], "lifecycle")
            && (l == "ERROR" || l == "SUCCESS")
        {
            assert_eq!(l, "ERROR");
            break cell(&cols, &rows[0], "task_info").clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(format!("{info:?}").contains("already exists"), "{info:?}");
}

#[test]
fn without_the_backup_option_rds_refuses() {
    let moto = Moto::start();
    let e = rds_engine(&moto, false);
    let mut s = Session::new("admin", "master");
    let r = e.execute(
        &mut s,
        "exec msdb.dbo.rds_backup_database @source_db_name='Sales', \
         @s3_arn_to_backup_to='arn:aws:s3:::b/x.bak'",
        &[],
    );
    let err = r.error.expect("refused");
    assert_eq!(err.number, 50000);
    assert!(
        err.text.contains("SQLSERVER_BACKUP_RESTORE"),
        "{}",
        err.text
    );

    let e = rds_engine(&moto, true);
    let r = e.execute(
        &mut s,
        "exec msdb.dbo.rds_backup_database @source_db_name='Sales', \
         @s3_arn_to_backup_to='arn:aws:s3:::b/x.bak', @number_of_files=3",
        &[],
    );
    assert!(r.error.unwrap().text.contains("asterisk"));
}

#[test]
fn rds_backs_logs_up_on_its_own_and_copies_them_to_s3() {
    let moto = Moto::start();
    assert_eq!(
        moto.request("s3", "PUT", "/rds-logs", "", "application/xml")
            .0,
        200
    );
    let mut inst = Instance::default_with_sa("pw");
    inst.platform = Platform::Rds;
    inst.rds = Some(RdsSpec {
        s3_endpoint: moto.endpoint(),
        backup_restore_option: true,
        log_backup_interval_ms: 150,
    });
    let e = Arc::new(Engine::new(inst).unwrap());
    e.share();
    // No full backup yet: RDS has no log chain to back up.
    std::thread::sleep(Duration::from_millis(400));
    let (_, rows) = table(
        &e,
        "SELECT * FROM msdb.dbo.rds_fn_list_tlog_backup_metadata('Sales')",
    );
    assert!(rows.is_empty(), "{rows:?}");

    let (cols, rows) = table(
        &e,
        "exec msdb.dbo.rds_backup_database @source_db_name='Sales', \
         @s3_arn_to_backup_to='arn:aws:s3:::rds-logs/full/Sales.bak'",
    );
    let Value::Integer(task) = cell(&cols, &rows[0], "task_id").clone() else {
        panic!()
    };
    wait_task(&e, task);
    let mut s = Session::new("admin", "Sales");
    let r = e.execute(
        &mut s,
        "CREATE TABLE dbo.T (id INT); INSERT INTO dbo.T VALUES (1), (2);",
        &[],
    );
    assert!(r.error.is_none());
    let logs = loop {
        let (cols, rows) = table(
            &e,
            "SELECT rds_backup_seq_id, starting_lsn, ending_lsn, backup_type FROM \
             msdb.dbo.rds_fn_list_tlog_backup_metadata('Sales') ORDER BY rds_backup_seq_id",
        );
        if rows.len() >= 2 {
            assert_eq!(cols[0], "rds_backup_seq_id");
            break rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The chain continues from one backup to the next.
    assert_eq!(format!("{:?}", logs[1][1]), format!("{:?}", logs[0][2]));

    // Where the log ends, as sys.dm_db_log_stats prints it (VLF:block:slot in hex): the LSN of
    // the last record (sys-dm-db-log-stats-transact-sql.md), where a backup's ending LSN is the
    // record after it (backupset-transact-sql.md, "the next log record after the backup set").
    // With no writes, the newest log backup holds the last record (its own) and ends past it;
    // the one before ends exactly at it, and so does not hold it. (Two more rounds first, so
    // that no write falls between the last two backups.)
    std::thread::sleep(Duration::from_millis(400));
    let (_, rows) = table(
        &e,
        "SELECT log_end_lsn, recovery_model FROM sys.dm_db_log_stats(DB_ID('Sales'))",
    );
    let Value::Text(end) = rows[0][0].clone() else {
        panic!("{rows:?}")
    };
    let parts: Vec<u128> = end
        .split(':')
        .map(|p| u128::from_str_radix(p, 16).unwrap())
        .collect();
    assert_eq!(parts.len(), 3, "{end}");
    let decimal = parts[0] * 1_000_000_000_000_000 + parts[1] * 100_000 + parts[2];
    let (_, after) = table(
        &e,
        "SELECT rds_backup_seq_id, starting_lsn, ending_lsn FROM \
         msdb.dbo.rds_fn_list_tlog_backup_metadata('Sales') ORDER BY rds_backup_seq_id",
    );
    let ending = |row: &Vec<Value>| -> u128 {
        format!("{:?}", row[2])
            .trim_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap()
    };
    let newest = after.iter().rev().find(|r| ending(r) > decimal);
    assert!(
        newest.is_some(),
        "a log backup holds the last record {end} = {decimal}"
    );
    let holding = after.iter().position(|r| ending(r) > decimal).unwrap();
    assert!(holding > 0, "{after:?}");
    assert_eq!(
        ending(&after[holding - 1]),
        decimal,
        "the backup before ends at the last record, not past it"
    );

    // Copying needs the S3 folder set up first.
    let mut s = Session::new("admin", "master");
    let r = e.execute(
        &mut s,
        "exec msdb.dbo.rds_tlog_backup_copy_to_S3 @db_name='Sales'",
        &[],
    );
    assert!(r.error.unwrap().text.contains("rds_tlog_copy_setup"));
    let r = e.execute(
        &mut s,
        "exec msdb.dbo.rds_tlog_copy_setup @target_s3_arn='arn:aws:s3:::rds-logs/tlogs'",
        &[],
    );
    assert!(r.error.is_none(), "{:?}", r.error);
    // Set once: RDS refuses the same ARN again, and shows the one it has.
    let r = e.execute(
        &mut s,
        "exec msdb.dbo.rds_tlog_copy_setup @target_s3_arn='arn:aws:s3:::rds-logs/tlogs'",
        &[],
    );
    assert!(
        r.error
            .unwrap()
            .text
            .contains("The target S3 ARN is already set to the provided value.")
    );
    let (_, shown) = table(
        &e,
        "exec rdsadmin.dbo.rds_show_configuration @name='target_s3_arn_for_tlog_copy'",
    );
    assert_eq!(
        format!("{:?}", shown[0][1]),
        format!("{:?}", Value::Text("arn:aws:s3:::rds-logs/tlogs".into()))
    );
    let Value::Integer(last) = logs[1][0].clone() else {
        panic!()
    };
    let (cols, rows) = table(
        &e,
        &format!(
            "exec msdb.dbo.rds_tlog_backup_copy_to_S3 @db_name='Sales', \
             @rds_backup_starting_seq_id=1, @rds_backup_ending_seq_id={last}"
        ),
    );
    let Value::Integer(copy) = cell(&cols, &rows[0], "task_id").clone() else {
        panic!()
    };
    wait_task(&e, copy);
    let (_, listing) = moto.request(
        "s3",
        "GET",
        "/rds-logs?list-type=2&prefix=tlogs/",
        "",
        "application/xml",
    );
    let keys: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .map(|k| k.split("</Key>").next().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{listing}");
    let body = moto.get_bytes(&format!("/rds-logs/{}", keys[0]));
    let file = sqlmig_backup_format::read_backup_head(body.as_slice()).unwrap();
    assert_eq!(file.sets[0].database_name, "Sales");
    assert_eq!(file.sets[0].backup_type.name(), "log");
}

/// Waits for RDS task `id` to succeed.
fn wait_task(e: &Engine, id: i64) {
    for _ in 0..200 {
        let (cols, rows) = table(e, &format!("exec msdb.dbo.rds_task_status @task_id={id}"));
        match cell(&cols, &rows[0], "lifecycle") {
            Value::Text(l) if l == "SUCCESS" => return,
            Value::Text(l) if l == "ERROR" => {
                panic!("{:?}", cell(&cols, &rows[0], "task_info"))
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("task {id} did not end");
}
