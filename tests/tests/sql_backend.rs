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
        let batch = stream.next_batch(4096).await.unwrap();
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
    assert_eq!(stream.next_batch(10).await.unwrap().len(), 10);
    let sets = c.query("SELECT 2 AS two", &[]).await.unwrap();
    assert_eq!(sets[0].rows[0][0], SqlValue::Int(2));
    let mut err = None;
    for _ in 0..100 {
        match stream.next_batch(1000).await {
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
}
