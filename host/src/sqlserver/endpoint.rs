//! An endpoint: a server, the login sqlmig uses on it and how the connection is encrypted.
//! Connecting resolves a named instance through SQL Server Browser and maps every failure to an
//! error the DBA can act on; the password never appears in one.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::server_name::{DEFAULT_PORT, ServerName};
use crate::capabilities::{CapabilityError, SqlErrorInfo};
use crate::secret::Secret;

/// A tiberius client over TCP.
pub type SqlClient = tiberius::Client<Compat<TcpStream>>;

/// How the connection is encrypted (`--encrypt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Encrypt {
    /// TDS 8.0: TLS from the first byte, as Azure SQL Managed Instance allows and SQL Server
    /// 2022 offers.
    #[default]
    Strict,
    /// TLS after PRELOGIN; the server must support it.
    Mandatory,
    /// TLS if the server offers it (the login is encrypted either way when it can be).
    Optional,
}

/// A server sqlmig connects to, with the login it uses.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub server: ServerName,
    pub user: String,
    pub password: Secret,
    pub encrypt: Encrypt,
    /// Accept a certificate no trusted CA signed (self-signed, as most on-prem servers have).
    pub trust_server_certificate: bool,
    /// The database to log in to; the login's default when absent.
    pub database: Option<String>,
    /// How long connecting (TCP, TLS and login) may take.
    pub connect_timeout: Duration,
}

impl Endpoint {
    /// An endpoint for `server` with SQL authentication as `user`.
    pub fn new(server: ServerName, user: &str, password: Secret) -> Endpoint {
        Endpoint {
            server,
            user: user.to_string(),
            password,
            encrypt: Encrypt::default(),
            trust_server_certificate: false,
            database: None,
            connect_timeout: Duration::from_secs(15),
        }
    }

    /// The TCP port: the given one, the named instance's from SQL Server Browser, or 1433.
    pub async fn port(&self) -> Result<u16, CapabilityError> {
        if let Some(p) = self.server.port {
            return Ok(p);
        }
        let Some(instance) = &self.server.instance else {
            return Ok(DEFAULT_PORT);
        };
        let found = super::browser::instances(&self.server.host, self.connect_timeout).await?;
        found
            .iter()
            .find(|i| i.instance_name.eq_ignore_ascii_case(instance))
            .and_then(|i| i.tcp_port)
            .ok_or_else(|| {
                CapabilityError::NotFound(format!(
                    "SQL Server Browser on {} lists no TCP port for instance {instance} (it lists: {}); give the port as {}\\{instance},PORT",
                    self.server.host,
                    found
                        .iter()
                        .map(|i| i.instance_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.server.host
                ))
            })
    }

    /// Connects and logs in.
    pub async fn connect(&self) -> Result<SqlClient, CapabilityError> {
        let port = self.port().await?;
        let mut config = tiberius::Config::new();
        config.host(&self.server.host);
        config.port(port);
        config.application_name("sqlmig");
        config.authentication(tiberius::AuthMethod::sql_server(
            &self.user,
            self.password.expose(),
        ));
        config.encryption(match self.encrypt {
            Encrypt::Strict => tiberius::EncryptionLevel::Strict,
            Encrypt::Mandatory => tiberius::EncryptionLevel::Required,
            Encrypt::Optional => tiberius::EncryptionLevel::Off,
        });
        if self.trust_server_certificate {
            config.trust_cert();
        }
        if let Some(db) = &self.database {
            config.database(db);
        }
        let target = format!("{}:{port}", self.server.host);
        let attempt = async {
            let tcp = TcpStream::connect(&target).await.map_err(|e| {
                CapabilityError::Unavailable(format!("cannot reach {}: {e}", self.server))
            })?;
            tcp.set_nodelay(true).ok();
            tiberius::Client::connect(config, tcp.compat_write())
                .await
                .map_err(|e| map_error(e, &self.server.to_string()))
        };
        tokio::time::timeout(self.connect_timeout, attempt)
            .await
            .map_err(|_| {
                CapabilityError::Timeout(format!(
                    "connecting to {} took longer than {:?}",
                    self.server, self.connect_timeout
                ))
            })?
    }
}

/// A tiberius error as the contract's error, for a server named `server`.
pub fn map_error(e: tiberius::error::Error, server: &str) -> CapabilityError {
    use tiberius::error::Error as E;
    match e {
        E::Server(t) => CapabilityError::Sql(SqlErrorInfo {
            number: t.code() as i32,
            state: t.state(),
            class: t.class(),
            message: t.message().to_string(),
            procedure: Some(t.procedure().to_string()).filter(|p| !p.is_empty()),
            line: t.line(),
        }),
        E::Io { message, .. } => {
            CapabilityError::Unavailable(format!("connection to {server} failed: {message}"))
        }
        E::Tls(m) => {
            // tiberius follows what failed with advice for programs using it (`Config::…`);
            // a DBA needs sqlmig's flags instead. The whole text is in the debug log (-v).
            tracing::debug!(%server, "TLS: {m}");
            let what = m
                .split(" To connect anyway")
                .next()
                .unwrap_or(&m)
                .trim_end();
            CapabilityError::AccessDenied(format!(
                "TLS with {server} failed: {what} — a server with a self-signed certificate \
                 needs --trust-server-certificate; one without TLS support --encrypt optional"
            ))
        }
        E::Routing { host, port } => CapabilityError::Unsupported(format!(
            "{server} redirects to {host},{port}; connect to that address instead"
        )),
        other => CapabilityError::Unavailable(format!("{server}: {other}")),
    }
}
