//! The source and the target as a migration or a validation reaches them: the TDS backend
//! serving the `source` and `target` endpoints, and the check of both logins before anything runs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sqlmig_protocol::migration::{SOURCE, TARGET};

use super::{Encrypt, Endpoint, ServerName, TdsBackend};
use crate::capabilities::sql::SqlBackend;
use crate::capabilities::{CapabilityError, SqlErrorInfo};
use crate::credentials::{SecretFor, secret};
use crate::failure::Failure;
use crate::secret::Secret;

/// How both connections are encrypted.
#[derive(Clone, Copy, Debug)]
pub struct Tls {
    pub encrypt: Encrypt,
    /// Accept servers' self-signed certificates.
    pub trust_server_certificate: bool,
}

/// The source and the target an operation reaches, and how.
pub struct Servers<'a> {
    /// The source as SQL Server tools name it (HOST[\\INSTANCE][,PORT]).
    pub source: &'a str,
    pub target: &'a str,
    pub source_user: &'a str,
    pub target_user: &'a str,
    /// The secrets file holding both passwords; the environment otherwise.
    pub secrets: Option<&'a Path>,
    pub tls: Tls,
    /// Where the server names came from (a plan file, "the command line"), for messages.
    pub origin: &'a str,
}

/// Both sides logged in to.
pub struct LoggedIn {
    /// Serves the `source` and `target` endpoints.
    pub sql: TdsBackend,
    /// The source's and the target's passwords, for the caller to keep out of what it writes.
    pub passwords: [Secret; 2],
}

impl Servers<'_> {
    /// The source's and the target's passwords, from the secrets file or the environment; a
    /// missing one is bad input naming where it was looked for.
    pub fn passwords(&self) -> Result<[Secret; 2], Failure> {
        Ok([
            secret(SecretFor::Source, self.source_user, self.secrets)
                .map_err(Failure::bad_input)?,
            secret(SecretFor::Target, self.target_user, self.secrets)
                .map_err(Failure::bad_input)?,
        ])
    }
}

/// Makes the backend serving `source` and `target` with `passwords` ([`Servers::passwords`])
/// and logs in to each ([`check_logins`]). A malformed server name (naming `origin` and the
/// side) or a refused login is bad input, before anything runs.
pub async fn log_in(s: &Servers<'_>, passwords: [Secret; 2]) -> Result<LoggedIn, Failure> {
    let [source_password, target_password] = passwords;
    let endpoint = |server: &str, user: &str, password: &Secret, side: &str| {
        let name = ServerName::parse(server)
            .map_err(|e| Failure::bad_input(format!("{}: {side} {e}", s.origin)))?;
        let mut e = Endpoint::new(name, user, password.clone());
        e.encrypt = s.tls.encrypt;
        e.trust_server_certificate = s.tls.trust_server_certificate;
        e.connect_timeout = Duration::from_secs(30);
        Ok::<_, Failure>(e)
    };
    let sql = TdsBackend::new(BTreeMap::from([
        (
            SOURCE.to_string(),
            endpoint(s.source, s.source_user, &source_password, "source")?,
        ),
        (
            TARGET.to_string(),
            endpoint(s.target, s.target_user, &target_password, "target")?,
        ),
    ]));
    check_logins(&sql, s.source_user, s.target_user, s.secrets).await?;
    Ok(LoggedIn {
        sql,
        passwords: [source_password, target_password],
    })
}

/// Logs in to the source and the target before anything runs: a refused login (a wrong
/// password, a login that does not exist) is bad input naming the side and where its password
/// came from, and so is a connection the TLS settings refuse. Other failures are left to the
/// steps, which retry what is transient.
async fn check_logins(
    sql: &dyn SqlBackend,
    source_user: &str,
    target_user: &str,
    secrets: Option<&Path>,
) -> Result<(), Failure> {
    for (endpoint, user, which) in [
        (SOURCE, source_user, SecretFor::Source),
        (TARGET, target_user, SecretFor::Target),
    ] {
        match sql.connect(endpoint).await {
            // 18456: login failed; 18452: a login from an untrusted domain.
            Err(
                e @ CapabilityError::Sql(SqlErrorInfo {
                    number: 18456 | 18452,
                    ..
                }),
            ) => {
                let from = match secrets {
                    Some(f) => format!("`{}` in {}", which.file_key(), f.display()),
                    None => which.env_var().to_string(),
                };
                return Err(Failure::bad_input(format!(
                    "the {endpoint} refused the login {user}: {e}"
                ))
                .hint(format!(
                    "check --{endpoint}-user and its password ({from}); nothing was run"
                )));
            }
            // The connection itself refused (TLS): its message says which flag fixes it.
            Err(CapabilityError::AccessDenied(m)) => {
                return Err(
                    Failure::bad_input(format!("the {endpoint}: {m}")).hint("nothing was run")
                );
            }
            _ => {}
        }
    }
    Ok(())
}
