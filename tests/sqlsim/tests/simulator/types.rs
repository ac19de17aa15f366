//! Every column type sqlmig reads, written with T-SQL literals and read back by tiberius exactly:
//! 100,000 rows of mixed types in one result.

use crate::common;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use common::{PW, config, connect, server};
use tiberius::Uuid;
use tiberius::numeric::Numeric;

const ROWS: i64 = 100_000;

/// The expected values of row `i`, as (T-SQL literals, Rust values) derive from `i`.
fn literals(i: i64) -> String {
    let day = 1 + i % 28;
    let us = (i % 1_000_000) * 10; // 100 ns units, 7 digits
    let dec = format!("{}.{:03}", i / 8, (i % 8) * 125);
    let money = format!("{}.{:04}", i, i % 10_000);
    let bin = if i % 5 == 0 {
        "NULL".to_string()
    } else {
        format!("0x{:08X}", i)
    };
    let text_null = if i % 3 == 0 {
        "NULL".to_string()
    } else {
        format!("N'{}'", "x".repeat((i % 17) as usize))
    };
    format!(
        "({i}, {bit}, {tiny}, {small}, {int}, {big}, {dec}, {flt}, {real}, {money}, \
         '2024-02-{day:02}', '13:45:{sec:02}.{frac:07}', '2021-06-{day:02} 08:09:10.{ms:03}', \
         '2021-06-{day:02} 08:09:10.{frac:07}', '2021-06-{day:02} 08:09:10.{frac:07} +05:30', \
         '{guid}', 'ascii {i}', 'pad', N'Grüße {i} ✓', N'nchar', {bin}, 0x0A0B, {text_null})",
        bit = i % 2,
        tiny = i % 256,
        small = i % 30000 - 15000,
        int = i * 7 - 300_000,
        big = i * 1_000_000_007,
        flt = i as f64 * 0.5,
        real = i as f64 * 0.25,
        sec = i % 60,
        frac = us,
        ms = [0, 3, 7][(i % 3) as usize] + 10 * (i % 50),
        guid = guid(i),
    )
}

fn guid(i: i64) -> String {
    format!("{:08X}-0000-4000-8000-{:012X}", i, i * 31)
}

#[tokio::test]
async fn a_hundred_thousand_rows_of_mixed_types_read_back_exactly() {
    let s = server().await;
    let mut cfg = config(s.addr.port(), "sa", PW);
    cfg.database("Sales");
    let mut c = connect(cfg).await.unwrap();

    c.simple_query(
        "CREATE TABLE dbo.AllTypes (id BIGINT NOT NULL PRIMARY KEY, b BIT, ti TINYINT, si SMALLINT, \
         i INT, bi BIGINT, d DECIMAL(18,3), f FLOAT, r REAL, m MONEY, dt DATE, t TIME(7), \
         dtm DATETIME, dt2 DATETIME2(7), dto DATETIMEOFFSET(7), g UNIQUEIDENTIFIER, vc VARCHAR(50), \
         c CHAR(5), nvc NVARCHAR(100), nc NCHAR(6), vb VARBINARY(16), bn BINARY(4), nmax NVARCHAR(MAX))",
    )
    .await
    .unwrap()
    .into_results()
    .await
    .unwrap();
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(1000) {
        let values: Vec<String> = chunk.iter().map(|i| literals(*i)).collect();
        let sql = format!("INSERT INTO dbo.AllTypes VALUES {}", values.join(", "));
        let done = c.execute(sql, &[]).await.unwrap();
        assert_eq!(done.total(), chunk.len() as u64);
    }

    let rows = c
        .simple_query("SELECT * FROM dbo.AllTypes ORDER BY id")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), ROWS as usize);
    let offset = FixedOffset::east_opt(5 * 3600 + 30 * 60).unwrap();
    for (n, row) in rows.iter().enumerate() {
        let i = n as i64;
        let day = (1 + i % 28) as u32;
        let frac = (i % 1_000_000) * 10;
        assert_eq!(row.get::<i64, _>("id"), Some(i));
        assert_eq!(row.get::<bool, _>("b"), Some(i % 2 == 1));
        assert_eq!(row.get::<u8, _>("ti"), Some((i % 256) as u8));
        assert_eq!(row.get::<i16, _>("si"), Some((i % 30000 - 15000) as i16));
        assert_eq!(row.get::<i32, _>("i"), Some((i * 7 - 300_000) as i32));
        assert_eq!(row.get::<i64, _>("bi"), Some(i * 1_000_000_007));
        let d: Numeric = row.get("d").unwrap();
        assert_eq!(
            d.to_string(),
            format!("{}.{:03}", i / 8, (i % 8) * 125),
            "row {i}"
        );
        assert_eq!(row.get::<f64, _>("f"), Some(i as f64 * 0.5));
        assert_eq!(row.get::<f32, _>("r"), Some(i as f32 * 0.25));
        assert_eq!(
            row.get::<f64, _>("m"),
            Some(i as f64 + (i % 10_000) as f64 / 10_000.0)
        );
        assert_eq!(
            row.get::<NaiveDate, _>("dt"),
            NaiveDate::from_ymd_opt(2024, 2, day)
        );
        let t = NaiveTime::from_hms_nano_opt(13, 45, (i % 60) as u32, (frac * 100) as u32).unwrap();
        assert_eq!(row.get::<NaiveTime, _>("t"), Some(t));
        let ms = [0, 3, 7][(i % 3) as usize] + 10 * (i % 50);
        let dtm: NaiveDateTime = row.get("dtm").unwrap();
        let want = NaiveDate::from_ymd_opt(2021, 6, day)
            .unwrap()
            .and_hms_milli_opt(8, 9, 10, ms as u32)
            .unwrap();
        assert!(
            (dtm - want).num_milliseconds().abs() <= 1,
            "row {i}: {dtm} vs {want}"
        );
        let dt2 = NaiveDate::from_ymd_opt(2021, 6, day)
            .unwrap()
            .and_hms_nano_opt(8, 9, 10, (frac * 100) as u32)
            .unwrap();
        assert_eq!(row.get::<NaiveDateTime, _>("dt2"), Some(dt2));
        let dto = offset.from_local_datetime(&dt2).unwrap();
        assert_eq!(
            row.get::<chrono::DateTime<FixedOffset>, _>("dto"),
            Some(dto)
        );
        assert_eq!(
            row.get::<Uuid, _>("g"),
            Some(Uuid::parse_str(&guid(i)).unwrap())
        );
        assert_eq!(
            row.get::<&str, _>("vc"),
            Some(format!("ascii {i}").as_str())
        );
        assert_eq!(row.get::<&str, _>("c"), Some("pad  "));
        assert_eq!(
            row.get::<&str, _>("nvc"),
            Some(format!("Grüße {i} ✓").as_str())
        );
        assert_eq!(row.get::<&str, _>("nc"), Some("nchar "));
        let vb = row.get::<&[u8], _>("vb");
        if i % 5 == 0 {
            assert_eq!(vb, None);
        } else {
            assert_eq!(vb, Some(&(i as u32).to_be_bytes()[..]));
        }
        assert_eq!(row.get::<&[u8], _>("bn"), Some(&[0x0A, 0x0B, 0, 0][..]));
        let nmax = row.get::<&str, _>("nmax");
        if i % 3 == 0 {
            assert_eq!(nmax, None);
        } else {
            assert_eq!(nmax, Some("x".repeat((i % 17) as usize).as_str()));
        }
    }
    s.stop().await;
}
