//! The `sql` capability's real backend (tiberius over TDS, strict TLS) against sqlsim.

use std::collections::BTreeMap;

use sqlmig::capabilities::CapabilityError;
use sqlmig::capabilities::sql::{Param, SqlBackend, SqlValue};
use sqlmig::secret::Secret;
use sqlmig::sqlserver::{Encrypt, Endpoint, ServerName, TdsBackend};
use sqlsim::instance::Instance;
use sqlsim::server::{ServerHandle, start};

const PW: &str = "Backend-Passw0rd";

async fn sim() -> ServerHandle {
    start(
        "127.0.0.1:0".parse().unwrap(),
        Instance::default_with_sa(PW),
    )
    .await
    .unwrap()
}

fn endpoint(port: u16, password: &str) -> Endpoint {
    let mut e = Endpoint::new(
        ServerName::parse(&format!("127.0.0.1,{port}")).unwrap(),
        "sa",
        Secret::new(password),
    );
    e.encrypt = Encrypt::Strict;
    e.trust_server_certificate = true;
    e
}

fn backend(port: u16, password: &str) -> TdsBackend {
    TdsBackend::new(BTreeMap::from([(
        "source".to_string(),
        endpoint(port, password),
    )]))
}

fn p(name: &str, value: SqlValue) -> Param {
    Param {
        name: name.into(),
        value,
    }
}

#[tokio::test]
async fn named_parameters_of_each_type_round_trip_exactly() {
    let s = sim().await;
    let mut c = backend(s.addr.port(), PW).connect("source").await.unwrap();
    let sets = c
        .query(
            "SELECT @i AS i, @t AS t, @d AS d, @b AS b, @g AS g, @x AS x, @n AS n, '@i' AS literal",
            &[
                p("i", SqlValue::Int(9_007_199_254_740_993)),
                p("t", SqlValue::Text("Müller".into())),
                p("d", SqlValue::Decimal("-12345678901234.5678".into())),
                p("b", SqlValue::Bit(true)),
                p(
                    "g",
                    SqlValue::Guid("6F9619FF-8B86-D011-B42D-00C04FC964FF".into()),
                ),
                p("x", SqlValue::Binary(vec![0, 1, 255])),
                p("n", SqlValue::Null),
            ],
        )
        .await
        .unwrap();
    assert_eq!(sets.len(), 1);
    let names: Vec<&str> = sets[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["i", "t", "d", "b", "g", "x", "n", "literal"]);
    assert_eq!(
        sets[0].rows[0],
        vec![
            SqlValue::Int(9_007_199_254_740_993),
            SqlValue::Text("Müller".into()),
            SqlValue::Decimal("-12345678901234.5678".into()),
            SqlValue::Bit(true),
            SqlValue::Guid("6F9619FF-8B86-D011-B42D-00C04FC964FF".into()),
            SqlValue::Binary(vec![0, 1, 255]),
            SqlValue::Null,
            SqlValue::Text("@i".into()),
        ]
    );
}

#[tokio::test]
async fn batches_give_every_result_set_and_counts() {
    let s = sim().await;
    let mut c = backend(s.addr.port(), PW).connect("source").await.unwrap();
    let n = c
        .execute(
            "USE Sales; CREATE TABLE dbo.T (id INT, d DATE, m MONEY); \
             INSERT INTO dbo.T VALUES (1, '2024-02-29', 12.5), (2, NULL, 0.0001)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let sets = c
        // Each request is an sp_executesql call: the USE above ended with it.
        .query("SELECT id, d, m FROM Sales.dbo.T ORDER BY id; SELECT COUNT(*) AS n FROM Sales.dbo.T WHERE id > @min", &[p("min", SqlValue::Int(1))])
        .await
        .unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(
        sets[0].rows,
        vec![
            vec![
                SqlValue::Int(1),
                SqlValue::DateTime("2024-02-29".into()),
                SqlValue::Decimal("12.5000".into())
            ],
            vec![
                SqlValue::Int(2),
                SqlValue::Null,
                SqlValue::Decimal("0.0001".into())
            ],
        ]
    );
    assert_eq!(sets[0].columns[1].type_name, "date");
    assert_eq!(sets[1].rows, vec![vec![SqlValue::Int(1)]]);
}

#[tokio::test]
async fn streams_read_in_batches_and_give_the_connection_back() {
    let s = sim().await;
    let mut c = backend(s.addr.port(), PW).connect("source").await.unwrap();
    let sql = "WITH n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 25000) SELECT i, N'row ' + CAST(i AS NVARCHAR(10)) AS label FROM n";
    let mut stream = c.stream(sql, &[]).await.unwrap();
    assert_eq!(stream.columns()[1].name, "label");
    let mut total = 0;
    let mut last = SqlValue::Null;
    loop {
        let batch = stream.next_batch(4096, usize::MAX).await.unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 4096);
        total += batch.len();
        last = batch.last().unwrap()[0].clone();
    }
    assert_eq!(total, 25_000);
    assert_eq!(last, SqlValue::Int(25_000));
    // The connection is usable again.
    let sets = c.query("SELECT 1 AS one", &[]).await.unwrap();
    assert_eq!(sets[0].rows[0][0], SqlValue::Int(1));

    // Using the connection mid-stream ends the stream with an error saying why.
    let mut stream = c.stream(sql, &[]).await.unwrap();
    assert_eq!(stream.next_batch(10, usize::MAX).await.unwrap().len(), 10);
    let sets = c.query("SELECT 2 AS two", &[]).await.unwrap();
    assert_eq!(sets[0].rows[0][0], SqlValue::Int(2));
    let mut err = None;
    for _ in 0..100 {
        match stream.next_batch(1000, usize::MAX).await {
            Ok(rows) if rows.is_empty() => break,
            Ok(_) => continue,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(&err, Some(CapabilityError::InvalidInput(m)) if m.contains("another statement")),
        "{err:?}"
    );
}

#[tokio::test]
async fn failures_keep_their_numbers_and_never_the_password() {
    let s = sim().await;
    let err = backend(s.addr.port(), "wrong-Passw0rd")
        .connect("source")
        .await
        .err()
        .unwrap();
    match &err {
        CapabilityError::Sql(i) => assert_eq!((i.number, i.class), (18456, 14)),
        other => panic!("{other:?}"),
    }
    assert!(!format!("{err:?}{err}").contains("wrong-Passw0rd"));

    let mut c = backend(s.addr.port(), PW).connect("source").await.unwrap();
    match c.query("SELECT 1;\nSELECT * FROM dbo.Nope", &[]).await {
        Err(CapabilityError::Sql(i)) => assert_eq!((i.number, i.line), (208, 2)),
        other => panic!("{other:?}"),
    }
    let missing = backend(s.addr.port(), PW)
        .connect("target")
        .await
        .err()
        .unwrap();
    assert!(matches!(missing, CapabilityError::NotFound(m) if m.contains("source")));

    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = backend(closed, PW).connect("source").await.err().unwrap();
    assert!(matches!(err, CapabilityError::Unavailable(_)), "{err:?}");

    // Certificate validation is on unless the operator trusts the server.
    let mut strict = endpoint(s.addr.port(), PW);
    strict.trust_server_certificate = false;
    let err = TdsBackend::new(BTreeMap::from([("source".into(), strict)]))
        .connect("source")
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, CapabilityError::AccessDenied(m) if m.contains("--trust-server-certificate")),
        "{err:?}"
    );
    // What failed and sqlmig's flags; not the client library's advice to its programmers.
    let text = err.to_string();
    assert!(
        !text.contains("Config::") && !text.contains("To connect anyway"),
        "{text}"
    );
    assert!(text.contains("certificate"), "{text}");
}

/// `rows` rows of a quarter MiB each (a recursive CTE within SQL Server's default MAXRECURSION
/// of 100).
fn wide_rows(rows: u32) -> String {
    format!(
        "WITH n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         SELECT i, REPLICATE(CAST('x' AS varchar(max)), 262144) AS pad FROM n"
    )
}

/// A result larger than the reader's budget is not held: the host stops reading it, closes the
/// connection (it cannot take another statement before the rest is read) and says so; a stream
/// gives it in batches that fit.
#[tokio::test]
async fn a_result_past_the_budget_is_not_held() {
    let s = sim().await;
    let b = backend(s.addr.port(), PW);
    let mut c = b.connect("source").await.unwrap();
    let err = c
        .query_within(&wide_rows(24), &[], 4 << 20)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CapabilityError::LimitExceeded(m) if m.contains("4 MiB") && m.contains("stream")),
        "{err:?}"
    );
    let err = c.query("SELECT 1 AS one", &[]).await.unwrap_err();
    assert!(
        matches!(&err, CapabilityError::Unavailable(m) if m.contains("open a new connection")),
        "{err:?}"
    );

    let mut c = b.connect("source").await.unwrap();
    let mut stream = c.stream(&wide_rows(24), &[]).await.unwrap();
    let mut batches = Vec::new();
    loop {
        let batch = stream.next_batch(1000, 1 << 20).await.unwrap();
        if batch.is_empty() {
            break;
        }
        batches.push(batch.len());
    }
    assert_eq!(batches.iter().sum::<usize>(), 24);
    assert!(batches.iter().all(|&n| n <= 3), "{batches:?}");
    // One row larger than the budget alone.
    let mut stream = c.stream(&wide_rows(2), &[]).await.unwrap();
    let err = stream.next_batch(1000, 128 << 10).await.unwrap_err();
    assert!(
        matches!(&err, CapabilityError::LimitExceeded(m) if m.contains("one row")),
        "{err:?}"
    );
}

/// A plugin asking for a result larger than its memory limit gets `limit-exceeded` from the host,
/// which held no more of it than the limit; streamed, the same result arrives in batches the
/// plugin can hold.
#[tokio::test]
async fn a_plugin_cannot_make_the_host_hold_more_than_its_memory_limit() {
    use sqlmig::capabilities::{CapabilitySet, Services};
    use sqlmig::runtime::{HookCall, HookOutput, Limits};
    use sqlmig_tests::plugins::{FULL_MANIFEST, FULL_WASM};

    let s = sim().await;
    let services = Services {
        sql: Some(std::sync::Arc::new(backend(s.addr.port(), PW))),
        ..Default::default()
    };
    let limits = Limits {
        memory_mib: 8,
        ..Limits::default()
    };
    let granted = CapabilitySet {
        sql: vec!["source".into()],
        ..Default::default()
    };
    let p = sqlmig_tests::load(
        &sqlmig_tests::runtime(),
        FULL_WASM,
        FULL_MANIFEST,
        granted,
        limits,
    )
    .unwrap();
    let ask = |batch: Option<u32>| {
        let mut req = serde_json::json!({"query": wide_rows(48)});
        if let Some(b) = batch {
            req["batch"] = b.into();
        }
        HookCall::Validate(req.to_string())
    };
    // Read whole: refused by the host, not a trap in the plugin that took it all.
    let err = p.call(&services, ask(None)).await.unwrap_err().to_string();
    assert!(err.contains("more than 8 MiB"), "{err}");
    assert!(!err.contains("exceeded its memory limit"), "{err}");
    // Streamed: every row, a few MiB at a time.
    let out = p.call(&services, ask(Some(1000))).await.unwrap();
    let HookOutput::Document(d) = out else {
        panic!("{out:?}")
    };
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    let batches: Vec<u64> = serde_json::from_value(d["batches"].clone()).unwrap();
    assert_eq!(batches.iter().sum::<u64>(), 48, "{d}");
    assert!(batches.iter().all(|&n| n <= 8), "{d}");
}
