//! The activity DMVs show the live sessions and what they run; the services come from the
//! description.

use crate::common;

use std::time::Duration;

use common::{all_rows, first_row, sa, server, texts};
use sqlsim::instance::{Instance, Service};
use sqlsim::server::start;

#[tokio::test]
async fn requests_and_sessions_show_what_each_session_is_running() {
    let s = server().await;
    let mut watcher = sa(s.addr.port()).await;
    let mut busy = sa(s.addr.port()).await;
    let busy_spid = first_row(&mut busy, "SELECT @@SPID")
        .await
        .get::<i16, _>(0)
        .unwrap();
    let my_spid = first_row(&mut watcher, "SELECT @@SPID")
        .await
        .get::<i16, _>(0)
        .unwrap();
    assert_ne!(busy_spid, my_spid);
    assert!(
        busy_spid >= 51 && my_spid >= 51,
        "user sessions start at 51"
    );

    let waiting = tokio::spawn(async move {
        busy.simple_query("USE Sales; WAITFOR DELAY '00:00:01.500'")
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
        busy
    });
    // Wait until the other session's WAITFOR shows (it starts asynchronously).
    let mut seen = None;
    for _ in 0..100 {
        let rows = all_rows(
            &mut watcher,
            "SELECT r.session_id, r.command, r.status, r.wait_type, DB_NAME(r.database_id) \
             FROM sys.dm_exec_requests AS r ORDER BY r.session_id",
        )
        .await;
        if let Some(r) = rows.iter().find(|r| r.get::<i16, _>(0) == Some(busy_spid)) {
            // The batch's first statement (USE) may show for an instant before the WAITFOR
            // starts; the command follows the statement running, so look again.
            if r.get::<&str, _>(1) == Some("USE") {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            seen = Some((
                r.get::<&str, _>(1).unwrap().to_string(),
                r.get::<&str, _>(2).unwrap().to_string(),
                r.get::<&str, _>(3).map(str::to_string),
            ));
            // The watcher's own request is listed too, running its SELECT.
            let mine = rows.iter().find(|r| r.get::<i16, _>(0) == Some(my_spid));
            assert_eq!(mine.and_then(|r| r.get::<&str, _>(1)), Some("SELECT"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (command, status, wait) = seen.expect("the WAITFOR request appeared");
    // The statement running now, not the batch's first.
    assert_eq!(command, "WAITFOR");
    assert_eq!(status, "suspended");
    assert_eq!(wait.as_deref(), Some("WAITFOR"));
    let busy = waiting.await.unwrap();
    // Finished: no request, but the session stays, sleeping in the database it moved to.
    let row = first_row(
        &mut watcher,
        &format!(
            "SELECT s.status, s.login_name, DB_NAME(s.database_id), \
                    (SELECT COUNT(*) FROM sys.dm_exec_requests WHERE session_id = {busy_spid}) \
             FROM sys.dm_exec_sessions AS s WHERE s.session_id = {busy_spid}"
        ),
    )
    .await;
    assert_eq!(row.get::<&str, _>(0), Some("sleeping"));
    assert_eq!(row.get::<&str, _>(1), Some("sa"));
    assert_eq!(row.get::<&str, _>(2), Some("Sales"));
    assert_eq!(row.get::<i32, _>(3), Some(0));

    // A closed connection leaves the list once the server sees it go.
    drop(busy);
    let mut gone = false;
    for _ in 0..100 {
        let n = first_row(
            &mut watcher,
            &format!("SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE session_id = {busy_spid}"),
        )
        .await;
        if n.get::<i32, _>(0) == Some(0) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the closed session left sys.dm_exec_sessions");
}

#[tokio::test]
async fn services_default_to_the_engine_and_agent_or_come_from_the_description() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    let rows = all_rows(
        &mut c,
        "SELECT servicename, startup_type_desc, status_desc, service_account \
         FROM sys.dm_server_services ORDER BY servicename",
    )
    .await;
    let got = texts(&rows, 4);
    assert_eq!(
        got,
        vec![
            [
                "SQL Server (MSSQLSERVER)",
                "Automatic",
                "Running",
                "NT Service\\MSSQLSERVER"
            ],
            [
                "SQL Server Agent (MSSQLSERVER)",
                "Automatic",
                "Running",
                "NT Service\\SQLSERVERAGENT"
            ],
        ]
    );

    let mut inst = Instance::default_with_sa("pw");
    inst.server_name = "DB01\\ERP".into();
    inst.services = vec![Service {
        name: "SQL Server Agent (ERP)".into(),
        startup: "Manual".into(),
        status: "Stopped".into(),
        account: "CONTOSO\\svc_agent".into(),
        instant_file_initialization: false,
    }];
    let s = start("127.0.0.1:0".parse().unwrap(), inst).await.unwrap();
    let mut c = common::connect(common::config(s.addr.port(), "sa", "pw"))
        .await
        .unwrap();
    let agent = first_row(
        &mut c,
        "SELECT startup_type, status, status_desc, process_id FROM sys.dm_server_services",
    )
    .await;
    assert_eq!(agent.get::<i32, _>(0), Some(3));
    assert_eq!(agent.get::<i32, _>(1), Some(1));
    assert_eq!(agent.get::<&str, _>(2), Some("Stopped"));
    assert_eq!(agent.get::<i32, _>(3), None);
}
