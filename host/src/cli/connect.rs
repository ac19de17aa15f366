//! How the commands that talk to a source and a target reach them: the TLS flags they share and
//! the TDS backend serving the `source` and `target` endpoints, and the check of their logins.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use clap::Args;
use sqlmig_inventory::migration::{SOURCE, TARGET};

use super::Failure;
use crate::capabilities::sql::SqlBackend;
use crate::capabilities::{CapabilityError, SqlErrorInfo};
use crate::credentials::SecretFor;
use crate::secret::Secret;
use crate::sqlserver::{Encrypt, Endpoint, ServerName, TdsBackend};

/// How connections are encrypted.
#[derive(Clone, Debug, Args)]
pub struct TlsArgs {
    /// How connections are encrypted.
    #[arg(long, value_enum, default_value_t = Encrypt::Strict)]
    pub encrypt: Encrypt,
    /// Accept servers' self-signed certificates.
    #[arg(long)]
    pub trust_server_certificate: bool,
}

/// One side: the server as written, the login and its password.
pub struct Login<'a> {
    pub server: &'a str,
    pub user: &'a str,
    pub password: Secret,
}

/// A TDS backend serving `source` and `target`; a malformed server name is bad input naming
/// `origin` (the flag or file it came from) and the side.
pub fn source_and_target(
    source: Login,
    target: Login,
    tls: &TlsArgs,
    origin: &str,
) -> Result<TdsBackend, Failure> {
    let endpoint = |login: Login, side: &str| -> Result<Endpoint, Failure> {
        let name = ServerName::parse(login.server)
            .map_err(|e| Failure::bad_input(format!("{origin}: {side} {e}")))?;
        let mut e = Endpoint::new(name, login.user, login.password);
        e.encrypt = tls.encrypt;
        e.trust_server_certificate = tls.trust_server_certificate;
        e.connect_timeout = Duration::from_secs(30);
        Ok(e)
    };
    Ok(TdsBackend::new(BTreeMap::from([
        (SOURCE.to_string(), endpoint(source, "source")?),
        (TARGET.to_string(), endpoint(target, "target")?),
    ])))
}

/// Logs in to the source and the target before anything runs: a refused login (a wrong
/// password, a login that does not exist) is bad input naming the side and where its password
/// came from, and so is a connection the TLS settings refuse. Other failures are left to the
/// steps, which retry what is transient.
pub async fn check_logins(
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
