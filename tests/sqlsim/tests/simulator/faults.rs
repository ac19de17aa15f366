//! Cancel and injected faults, each seen by tiberius as a real server's would be.

use std::time::{Duration, Instant};

use crate::common;

use common::{PW, SimClient, config, connect, run, server};

async fn client(port: u16) -> tiberius::Result<SimClient> {
    connect(config(port, "sa", PW)).await
}

async fn one(c: &mut SimClient, sql: &str) -> tiberius::Result<i32> {
    let row = c.simple_query(sql).await?.into_row().await?;
    Ok(row.and_then(|r| r.get::<i32, _>(0)).unwrap_or_default())
}

fn server_error(e: tiberius::error::Error) -> (u32, u8) {
    match e {
        tiberius::error::Error::Server(t) => (t.code(), t.class()),
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_long_query_is_cancelled_and_the_connection_goes_on() {
    let s = server().await;
    let mut c = client(s.addr.port()).await.unwrap();
    let started = Instant::now();
    // The client gives up on a 30-second WAITFOR after 200 ms, then cancels it on the server.
    let timed_out = tokio::time::timeout(
        Duration::from_millis(200),
        c.simple_query("WAITFOR DELAY '00:00:30'; SELECT 1"),
    )
    .await
    .is_err();
    assert!(timed_out, "the WAITFOR should still be running");
    c.cancel_query().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cancel did not stop the wait"
    );
    assert_eq!(one(&mut c, "SELECT 7").await.unwrap(), 7);
}

#[tokio::test]
async fn injected_errors_arrive_with_their_numbers_and_then_stop() {
    let s = server().await;
    let mut c = client(s.addr.port()).await.unwrap();
    s.faults().fail_next(2, 40613);
    for _ in 0..2 {
        let e = one(&mut c, "SELECT 1").await.unwrap_err();
        assert_eq!(server_error(e), (40613, 17));
    }
    assert_eq!(
        one(&mut c, "SELECT 1").await.unwrap(),
        1,
        "only the next two fail"
    );

    s.faults().fail_next(1, 1205);
    let e = c.execute("SELECT @P1", &[&1i32]).await.unwrap_err();
    assert_eq!(server_error(e), (1205, 13), "RPCs fail too");

    // Only the requests naming the text count, and they fail only as often as asked.
    s.faults().fail_next_naming("sys.databases", 2, 40613);
    assert_eq!(one(&mut c, "SELECT 2").await.unwrap(), 2);
    for _ in 0..2 {
        let e = one(&mut c, "SELECT COUNT(*) FROM sys.databases")
            .await
            .unwrap_err();
        assert_eq!(server_error(e), (40613, 17));
    }
    assert!(
        one(&mut c, "SELECT COUNT(*) FROM sys.databases")
            .await
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_result_is_an_io_error_and_others_survive() {
    let s = server().await;
    let mut victim = client(s.addr.port()).await.unwrap();
    let mut other = client(s.addr.port()).await.unwrap();
    s.faults().drop_mid_result();
    let sql =
        "WITH n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i FROM n";
    let err = match victim.simple_query(sql).await {
        Ok(stream) => stream.into_first_result().await.err(),
        Err(e) => Some(e),
    };
    let err = err.expect("a cut-off result is an error");
    assert!(
        matches!(
            err,
            tiberius::error::Error::Io { .. } | tiberius::error::Error::Protocol(_)
        ),
        "{err:?}"
    );
    assert_eq!(one(&mut other, "SELECT 3").await.unwrap(), 3);
}

#[tokio::test]
async fn delays_and_restarts_look_like_a_slow_then_failed_over_server() {
    let s = server().await;
    let mut c = client(s.addr.port()).await.unwrap();
    // Setup must succeed: the restart check below reads this row.
    run(
        &mut c,
        "CREATE TABLE dbo.Kept (x INT); INSERT INTO dbo.Kept VALUES (5)",
    )
    .await;

    s.faults().delay_responses(Some(Duration::from_millis(300)));
    let slow = tokio::time::timeout(Duration::from_millis(100), one(&mut c, "SELECT 1"))
        .await
        .is_err();
    assert!(slow, "the response is held back");
    // The client gave up mid-request; a fresh connection carries on.
    let mut c = client(s.addr.port()).await.unwrap();
    s.faults().clear();

    let port = s.addr.port();
    let s = s.restart().await.unwrap();
    assert_eq!(s.addr.port(), port);
    // The old connection is gone; a new one finds the data.
    assert!(one(&mut c, "SELECT 1").await.is_err());
    let mut c = client(port).await.unwrap();
    assert_eq!(one(&mut c, "SELECT x FROM dbo.Kept").await.unwrap(), 5);
}

#[tokio::test]
async fn a_server_stopped_mid_query_closes_the_connection_tls_ones_too() {
    let s = server().await;
    let mut strict = config(s.addr.port(), "sa", PW);
    strict.encryption(tiberius::EncryptionLevel::Strict);
    strict.trust_cert();
    let mut tls = connect(strict).await.unwrap();
    assert_eq!(one(&mut tls, "SELECT 1").await.unwrap(), 1);
    // The client waits for an answer when the server goes away, as when a server is killed
    // mid-collection.
    s.faults().delay_responses(Some(Duration::from_secs(2)));
    let waiting = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_secs(10), one(&mut tls, "SELECT 1")).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.stop().await;
    // It sees the connection end, not silence until its own timeout (tiberius waits 30 s for a
    // stalled result); the 10 s bound only catches that hang.
    let r = waiting.await.unwrap();
    assert!(matches!(r, Ok(Err(_))), "{r:?}");
}
