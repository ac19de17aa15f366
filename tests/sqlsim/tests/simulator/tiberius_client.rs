//! sqlsim as tiberius, the client sqlmig uses, sees it: login, errors with SQL Server's numbers,
//! several result sets, parameters, large messages.

use crate::common;

use common::{PW, config, connect, first_row, server};
use tiberius::EncryptionLevel;

#[tokio::test]
async fn login_and_a_first_query() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    let row = first_row(&mut c, "SELECT 1 AS one, DB_NAME() AS db").await;
    assert_eq!(row.get::<i32, _>("one"), Some(1));
    assert_eq!(row.get::<&str, _>("db"), Some("master"));
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_error_18456() {
    let s = server().await;
    let err = connect(config(s.addr.port(), "sa", "wrong"))
        .await
        .err()
        .unwrap();
    match err {
        tiberius::error::Error::Server(e) => {
            assert_eq!(e.code(), 18456);
            assert_eq!(e.class(), 14);
            assert_eq!(e.message(), "Login failed for user 'sa'.");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn three_result_sets_in_one_batch() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    let sets = c
        .simple_query("SELECT 1 AS a; SELECT N'two' AS b UNION ALL SELECT N'deux'; SELECT 3.5 AS c")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    assert_eq!(sets.len(), 3);
    assert_eq!(sets[0][0].get::<i32, _>(0), Some(1));
    assert_eq!(sets[1].len(), 2);
    assert_eq!(sets[1][1].get::<&str, _>(0), Some("deux"));
    // 3.5 is a numeric(2,1) constant, as a server types it.
    assert_eq!(
        sets[2][0].get::<tiberius::numeric::Numeric, _>(0),
        Some(tiberius::numeric::Numeric::new_with_scale(35, 1))
    );
}

#[tokio::test]
async fn a_missing_table_is_error_208_with_number_class_and_line() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    // The first statement succeeds; the error of the third line arrives with the results.
    let stream = c
        .simple_query("SELECT 1;\n\nSELECT * FROM dbo.NoSuchTable;")
        .await
        .unwrap();
    match stream.into_results().await.err().unwrap() {
        tiberius::error::Error::Server(e) => {
            assert_eq!(e.code(), 208);
            assert_eq!(e.class(), 16);
            assert_eq!(e.line(), 3);
            assert_eq!(e.message(), "Invalid object name 'dbo.NoSuchTable'.");
        }
        other => panic!("{other:?}"),
    }
    // The connection is still usable after the error.
    let row = c
        .simple_query("SELECT 2")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap();
    assert_eq!(row.unwrap().get::<i32, _>(0), Some(2));
}

#[tokio::test]
async fn sp_executesql_with_parameters() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    let row = c
        .query(
            "SELECT @P1 + 1 AS n, @P2 AS s, @P3 AS f",
            &[&41i32, &"grüße", &2.25f64],
        )
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>("n"), Some(42));
    assert_eq!(row.get::<&str, _>("s"), Some("grüße"));
    assert_eq!(row.get::<f64, _>("f"), Some(2.25));
}

/// "Changes in database context last only to the end of the sp_executesql statement"
/// (sp-executesql-transact-sql.md): tiberius' `execute` and `query` are sp_executesql calls, so
/// a USE sent alone changes nothing for the next one; a batch (`simple_query`) keeps it.
#[tokio::test]
async fn a_use_inside_sp_executesql_ends_with_the_call() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    c.execute("USE Sales", &[]).await.unwrap();
    assert_eq!(
        first_row(&mut c, "SELECT DB_NAME() AS db")
            .await
            .get::<&str, _>("db"),
        Some("master")
    );
    let row = c
        .query("USE Sales; SELECT DB_NAME() AS db", &[])
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<&str, _>("db"), Some("Sales"));
    // A batch is no sp_executesql call: its USE stays.
    c.simple_query("USE Sales")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    assert_eq!(
        first_row(&mut c, "SELECT DB_NAME() AS db")
            .await
            .get::<&str, _>("db"),
        Some("Sales")
    );
    s.stop().await;
}

#[tokio::test]
async fn tables_created_over_tds_hold_their_rows() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    c.simple_query("USE Sales; CREATE TABLE dbo.Orders (id INT NOT NULL PRIMARY KEY, total DECIMAL(10,2), note NVARCHAR(MAX))")
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    let n = c
        .execute(
            "INSERT INTO dbo.Orders (id, total, note) VALUES (@P1, @P2, @P3)",
            &[&1i32, &"12.34", &"first"],
        )
        .await
        .unwrap();
    assert_eq!(n.total(), 1);
    let row = first_row(&mut c, "SELECT id, total, note FROM Orders").await;
    assert_eq!(row.get::<i32, _>("id"), Some(1));
    assert_eq!(row.get::<&str, _>("note"), Some("first"));
    let total: tiberius::numeric::Numeric = row.get("total").unwrap();
    assert_eq!(total.to_string(), "12.34");
}

#[tokio::test]
async fn a_64_kib_batch_and_a_large_result_cross_many_packets() {
    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    let filler = "x".repeat(64 * 1024);
    let sql = format!("SELECT N'{filler}' AS big, LEN(N'{filler}') AS n");
    let row = first_row(&mut c, &sql).await;
    assert_eq!(row.get::<&str, _>("big").map(str::len), Some(64 * 1024));
    assert_eq!(row.get::<i32, _>("n"), Some(64 * 1024));
}

#[tokio::test]
async fn sp_executesql_parameters_of_each_type_come_back_typed() {
    use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
    use tiberius::Uuid;
    use tiberius::numeric::Numeric;

    let s = server().await;
    let mut c = connect(config(s.addr.port(), "sa", PW)).await.unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let time = NaiveTime::from_hms_nano_opt(13, 14, 15, 123_456_700).unwrap();
    let dt: NaiveDateTime = date.and_time(time);
    let dto = FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .from_local_datetime(&dt)
        .unwrap();
    let guid = Uuid::parse_str("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
    let dec = Numeric::new_with_scale(-123_456, 3);
    let bin: &[u8] = &[0, 1, 2, 254, 255];
    let row = c
        .query(
            "SELECT @P1 AS b, @P2 AS u8, @P3 AS i16, @P4 AS i32, @P5 AS i64, @P6 AS f32, \
             @P7 AS f64, @P8 AS s, @P9 AS bin, @P10 AS g, @P11 AS dec, @P12 AS d, @P13 AS t, \
             @P14 AS dt2, @P15 AS dto, @P16 AS n",
            &[
                &true,
                &200u8,
                &-32_000i16,
                &-2_000_000_000i32,
                &9_000_000_000_000i64,
                &1.5f32,
                &-2.25f64,
                &"ünïcödé",
                &bin,
                &guid,
                &dec,
                &date,
                &time,
                &dt,
                &dto,
                &Option::<i32>::None,
            ],
        )
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<bool, _>("b"), Some(true));
    assert_eq!(row.get::<u8, _>("u8"), Some(200));
    assert_eq!(row.get::<i16, _>("i16"), Some(-32_000));
    assert_eq!(row.get::<i32, _>("i32"), Some(-2_000_000_000));
    assert_eq!(row.get::<i64, _>("i64"), Some(9_000_000_000_000));
    assert_eq!(row.get::<f32, _>("f32"), Some(1.5));
    assert_eq!(row.get::<f64, _>("f64"), Some(-2.25));
    assert_eq!(row.get::<&str, _>("s"), Some("ünïcödé"));
    assert_eq!(row.get::<&[u8], _>("bin"), Some(bin));
    assert_eq!(row.get::<Uuid, _>("g"), Some(guid));
    assert_eq!(
        row.get::<Numeric, _>("dec").map(|n| n.to_string()),
        Some("-123.456".into())
    );
    assert_eq!(row.get::<NaiveDate, _>("d"), Some(date));
    assert_eq!(row.get::<NaiveTime, _>("t"), Some(time));
    assert_eq!(row.get::<NaiveDateTime, _>("dt2"), Some(dt));
    assert_eq!(
        row.get::<chrono::DateTime<FixedOffset>, _>("dto"),
        Some(dto)
    );
    assert_eq!(row.get::<i32, _>("n"), None);
}

#[tokio::test]
async fn strict_tls_carries_the_same_conversation() {
    let s = server().await;
    let mut cfg = config(s.addr.port(), "sa", PW);
    cfg.encryption(EncryptionLevel::Strict);
    cfg.trust_cert();
    let mut c = connect(cfg).await.unwrap();
    let row = c
        .query("SELECT @P1 AS s", &[&"über TLS"])
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<&str, _>("s"), Some("über TLS"));

    // A wrong password over TLS is still 18456.
    let mut bad = config(s.addr.port(), "sa", "nope");
    bad.encryption(EncryptionLevel::Strict);
    bad.trust_cert();
    match connect(bad).await.err().unwrap() {
        tiberius::error::Error::Server(e) => assert_eq!(e.code(), 18456),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_validates_rejects_the_self_signed_certificate() {
    let s = server().await;
    let mut cfg = config(s.addr.port(), "sa", PW);
    cfg.encryption(EncryptionLevel::Strict);
    let err = connect(cfg).await.err().unwrap();
    assert!(
        matches!(
            err,
            tiberius::error::Error::Tls(_) | tiberius::error::Error::Io { .. }
        ),
        "{err:?}"
    );
}
