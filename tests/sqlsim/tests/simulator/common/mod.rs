//! What sqlsim's tests share: a server on a free port and tiberius clients for it.

#![allow(dead_code)] // each test file uses a different part

use sqlsim::instance::Instance;
use sqlsim::server::{ServerHandle, start};
use tiberius::error::{Error, TokenError};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, Row};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// The `sa` password of the test instance.
pub const PW: &str = "S3cret!pw";

/// A tiberius client of sqlsim.
pub type SimClient = Client<Compat<TcpStream>>;

/// The default instance on a free loopback port.
pub async fn server() -> ServerHandle {
    start(
        "127.0.0.1:0".parse().unwrap(),
        Instance::default_with_sa(PW),
    )
    .await
    .unwrap()
}

/// A client configuration for `user`/`pw` at `port`, unencrypted.
pub fn config(port: u16, user: &str, pw: &str) -> Config {
    let mut c = Config::new();
    c.host("127.0.0.1");
    c.port(port);
    c.authentication(AuthMethod::sql_server(user, pw));
    c.encryption(EncryptionLevel::NotSupported);
    c
}

/// Connects with `c`.
pub async fn connect(c: Config) -> tiberius::Result<SimClient> {
    let tcp = TcpStream::connect(c.get_addr()).await?;
    tcp.set_nodelay(true)?;
    Client::connect(c, tcp.compat_write()).await
}

/// `sa` connected to the server at `port`.
pub async fn sa(port: u16) -> SimClient {
    connect(config(port, "sa", PW)).await.unwrap()
}

/// The first row of a batch.
pub async fn first_row(c: &mut SimClient, sql: &str) -> Row {
    c.simple_query(sql)
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .expect("the query returned a row")
}

/// Every row of a batch's first result.
pub async fn all_rows(c: &mut SimClient, sql: &str) -> Vec<Row> {
    c.simple_query(sql)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
}

/// Runs a batch and reads all its results.
pub async fn run(c: &mut SimClient, sql: &str) {
    c.simple_query(sql)
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
}

/// The server error that ended `sql`, however early tiberius reports it.
pub async fn batch_error(c: &mut SimClient, sql: &str) -> TokenError {
    let err = match c.simple_query(sql).await {
        Ok(stream) => stream
            .into_results()
            .await
            .expect_err("the batch should fail"),
        Err(e) => e,
    };
    match err {
        Error::Server(e) => e,
        other => panic!("{sql}: {other:?}"),
    }
}

/// The first `n` columns of each row as text, for comparing listings.
pub fn texts(rows: &[Row], n: usize) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            (0..n)
                .map(|i| r.get::<&str, _>(i).unwrap_or("NULL").to_string())
                .collect()
        })
        .collect()
}
