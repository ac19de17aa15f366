//! sqlsim as tiberius, the client sqlmig uses, sees it: login, errors with SQL Server's numbers,
//! several result sets, parameters, large messages.

use sqlsim::instance::Instance;
use sqlsim::server::{ServerHandle, start};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const PW: &str = "S3cret!pw";

async fn server() -> ServerHandle {
    start(
        "127.0.0.1:0".parse().unwrap(),
        Instance::default_with_sa(PW),
    )
    .await
    .unwrap()
}

fn config(s: &ServerHandle, user: &str, pw: &str) -> Config {
    let mut c = Config::new();
    c.host("127.0.0.1");
    c.port(s.addr.port());
    c.authentication(AuthMethod::sql_server(user, pw));
    c.encryption(EncryptionLevel::NotSupported);
    c
}

async fn connect(c: Config) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let tcp = TcpStream::connect(c.get_addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(c, tcp.compat_write()).await
}

#[tokio::test]
async fn login_and_a_first_query() {
    let s = server().await;
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
    let row = c
        .simple_query("SELECT 1 AS one, DB_NAME() AS db")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>("one"), Some(1));
    assert_eq!(row.get::<&str, _>("db"), Some("master"));
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_error_18456() {
    let s = server().await;
    let err = connect(config(&s, "sa", "wrong")).await.err().unwrap();
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
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
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
    assert_eq!(sets[2][0].get::<f64, _>(0), Some(3.5));
}

#[tokio::test]
async fn a_missing_table_is_error_208_with_number_class_and_line() {
    let s = server().await;
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
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
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
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

#[tokio::test]
async fn tables_created_over_tds_hold_their_rows() {
    let s = server().await;
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
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
    let row = c
        .simple_query("SELECT id, total, note FROM Orders")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>("id"), Some(1));
    assert_eq!(row.get::<&str, _>("note"), Some("first"));
    let total: tiberius::numeric::Numeric = row.get("total").unwrap();
    assert_eq!(total.to_string(), "12.34");
}

#[tokio::test]
async fn a_64_kib_batch_and_a_large_result_cross_many_packets() {
    let s = server().await;
    let mut c = connect(config(&s, "sa", PW)).await.unwrap();
    let filler = "x".repeat(64 * 1024);
    let sql = format!("SELECT N'{filler}' AS big, LEN(N'{filler}') AS n");
    let row = c
        .simple_query(sql)
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<&str, _>("big").map(str::len), Some(64 * 1024));
    assert_eq!(row.get::<i32, _>("n"), Some(64 * 1024));
}
