//! Where passwords and SAS tokens come from: an environment variable, a secrets file or a prompt
//! on the terminal — never the command line, where `ps` and shell history would show them.
//!
//! The secrets file is TOML, readable by its owner only:
//!
//! ```toml
//! password = "…"          # --user's password (discover, assess)
//! source_password = "…"   # --source-user's (migrate, validate)
//! target_password = "…"   # --target-user's
//! sas = "…"               # the blob container's SAS token (the source writes with it)
//! lrs_sas = "…"           # a read+list SAS for MI's Log Replay Service (online migration)
//! storage_key = "…"       # or the storage account's key, from which sqlmig makes that SAS
//! azure_token = "…"       # an Azure Resource Manager access token (online migration)
//!
//! [cloud]                  # credentials and settings cloud plugins ask for by name; a name
//! AWS_ACCESS_KEY_ID = "…"  # not here is read from the environment
//! AWS_SECRET_ACCESS_KEY = "…"
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde::Deserialize;

use crate::capabilities::credentials::CloudValues;
use crate::secret::Secret;

/// Which secret a command needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretFor {
    /// `--user`'s password.
    Login,
    /// `--source-user`'s password.
    Source,
    /// `--target-user`'s password.
    Target,
    /// The blob container's SAS token.
    Sas,
    /// A SAS token for MI's Log Replay Service, which reads and lists only.
    LrsSas,
    /// The storage account's key (sqlmig makes LRS's read+list SAS with it).
    StorageKey,
    /// An Azure Resource Manager bearer token (`az account get-access-token`).
    AzureToken,
}

impl SecretFor {
    /// The environment variable that may hold it.
    pub fn env_var(self) -> &'static str {
        match self {
            SecretFor::Login => "SQLMIG_PASSWORD",
            SecretFor::Source => "SQLMIG_SOURCE_PASSWORD",
            SecretFor::Target => "SQLMIG_TARGET_PASSWORD",
            SecretFor::Sas => "SQLMIG_SAS",
            SecretFor::LrsSas => "SQLMIG_LRS_SAS",
            SecretFor::StorageKey => "SQLMIG_STORAGE_KEY",
            SecretFor::AzureToken => "SQLMIG_AZURE_TOKEN",
        }
    }

    /// Its key in the secrets file.
    pub fn file_key(self) -> &'static str {
        match self {
            SecretFor::Login => "password",
            SecretFor::Source => "source_password",
            SecretFor::Target => "target_password",
            SecretFor::Sas => "sas",
            SecretFor::LrsSas => "lrs_sas",
            SecretFor::StorageKey => "storage_key",
            SecretFor::AzureToken => "azure_token",
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsFile {
    password: Option<String>,
    source_password: Option<String>,
    target_password: Option<String>,
    sas: Option<String>,
    lrs_sas: Option<String>,
    storage_key: Option<String>,
    azure_token: Option<String>,
    #[serde(default)]
    cloud: BTreeMap<String, String>,
}

/// Why no secret could be had; says where it may come from.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(pub String);

/// The secret `what` for `whom` (e.g. the login name, for the prompt): from the secrets file if
/// given, else the environment, else a prompt when stdin is a terminal.
pub fn secret(
    what: SecretFor,
    whom: &str,
    secrets_file: Option<&Path>,
) -> Result<Secret, SecretError> {
    if let Some(path) = secrets_file {
        return from_file(what, path)?.ok_or_else(|| {
            SecretError(format!(
                "{}: has no `{}`; add it, or leave out --secrets and set {}",
                path.display(),
                what.file_key(),
                what.env_var()
            ))
        });
    }
    if let Ok(v) = std::env::var(what.env_var())
        && !v.is_empty()
    {
        return Ok(Secret::new(v));
    }
    if std::io::stdin().is_terminal() {
        return prompt(&format!("Password for {whom}: "))
            .map_err(|e| SecretError(format!("cannot read the password: {e}")));
    }
    Err(SecretError(format!(
        "no password for {whom}: set {}, give --secrets FILE (key `{}`), or run on a terminal to be asked",
        what.env_var(),
        what.file_key()
    )))
}

/// The secret `what` where the secrets file (when given) or else the environment has it; never
/// prompts. For secrets a command can do without, or get another way.
pub fn optional_secret(
    what: SecretFor,
    secrets_file: Option<&Path>,
) -> Result<Option<Secret>, SecretError> {
    match secrets_file {
        Some(path) => from_file(what, path),
        None => Ok(std::env::var(what.env_var())
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)),
    }
}

fn from_file(what: SecretFor, path: &Path) -> Result<Option<Secret>, SecretError> {
    let file = read_secrets_file(path)?;
    Ok(match what {
        SecretFor::Login => file.password,
        SecretFor::Source => file.source_password,
        SecretFor::Target => file.target_password,
        SecretFor::Sas => file.sas,
        SecretFor::LrsSas => file.lrs_sas,
        SecretFor::StorageKey => file.storage_key,
        SecretFor::AzureToken => file.azure_token,
    }
    .map(Secret::new))
}

fn read_secrets_file(path: &Path) -> Result<SecretsFile, SecretError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| SecretError(format!("{}: cannot read it: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(SecretError(format!(
                "{}: readable by others (mode {:o}); a secrets file must be its owner's only: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| SecretError(format!("{}: cannot read it: {e}", path.display())))?;
    // toml's message quotes the offending line, which may hold a secret: say where, not what.
    toml::from_str(&text).map_err(|e| {
        let place = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                format!(" at line {line}")
            })
            .unwrap_or_default();
        SecretError(format!(
            "{}: not a secrets file{place}: keys are password, source_password, target_password, sas, lrs_sas, storage_key and azure_token, each a quoted string, and a [cloud] table of NAME = \"value\"",
            path.display()
        ))
    })
}

/// Sets `values` in the secrets file `path` (created owner-only when missing; its other keys
/// kept, its comments not), written whole or not at all.
pub fn write_secrets(path: &Path, values: &[(SecretFor, &Secret)]) -> Result<(), SecretError> {
    let mut table = if path.exists() {
        // The same checks as reading it: owner-only, and a secrets file.
        read_secrets_file(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| SecretError(format!("{}: cannot read it: {e}", path.display())))?;
        toml::from_str::<toml::Table>(&text)
            .map_err(|_| SecretError(format!("{}: not a secrets file", path.display())))?
    } else {
        toml::Table::new()
    };
    for (what, value) in values {
        table.insert(
            what.file_key().to_string(),
            toml::Value::String(value.expose().to_string()),
        );
    }
    let text = format!(
        "# sqlmig secrets (owner-readable only): docs/migrate.md\n{}",
        toml::to_string(&table).expect("a TOML table serializes")
    );
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| SecretError(format!("{}: cannot write it: {e}", path.display()));
    // A named temporary file is created 0600: the secrets are never readable by others.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// The values for a plugin's cloud `credentials` and `settings` names: the secrets file's
/// `[cloud]` table first, then the environment.
pub fn cloud_values(
    credentials: &[String],
    settings: &[String],
    secrets_file: Option<&Path>,
) -> Result<CloudValues, SecretError> {
    let file = match secrets_file {
        Some(path) => read_secrets_file(path)?.cloud,
        None => BTreeMap::new(),
    };
    Ok(CloudValues::resolve(credentials, settings, |name| {
        file.get(name).cloned().or_else(|| std::env::var(name).ok())
    }))
}

/// Reads a line from the terminal with echo off.
fn prompt(message: &str) -> std::io::Result<Secret> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{message}")?;
    stderr.flush()?;
    let _echo = EchoOff::new();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    writeln!(stderr)?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n'])))
}

/// Terminal echo off until dropped.
struct EchoOff {
    #[cfg(unix)]
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> EchoOff {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed termios they fill in.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) != 0 {
                    return EchoOff { saved: None };
                }
                let saved = t;
                t.c_lflag &= !libc::ECHO;
                libc::tcsetattr(0, libc::TCSANOW, &t);
                EchoOff { saved: Some(saved) }
            }
        }
        #[cfg(not(unix))]
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(t) = self.saved {
            // SAFETY: restores the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn cloud_values_come_from_the_file_before_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secrets.toml");
        std::fs::write(&f, "[cloud]\nTEST_CLOUD_KEY = \"from-file\"\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        // PATH is set in every test environment: a setting read from the environment.
        let v = cloud_values(&["TEST_CLOUD_KEY".into()], &["PATH".into()], Some(&f)).unwrap();
        assert_eq!(v.get("TEST_CLOUD_KEY"), Some("from-file"));
        assert_eq!(v.get("PATH"), std::env::var("PATH").ok().as_deref());
        assert_eq!(v.redact("key from-file"), "key ***");
    }

    #[test]
    fn the_secrets_file_must_be_private_and_well_formed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("secrets.toml");
        std::fs::write(&f, "password = \"Pa55word!\"\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = secret(SecretFor::Login, "sa", Some(&f))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("readable by others") && e.contains("chmod 600"),
            "{e}"
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            secret(SecretFor::Login, "sa", Some(&f)).unwrap().expose(),
            "Pa55word!"
        );
        let e = secret(SecretFor::Sas, "x", Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no `sas`"), "{e}");
        std::fs::write(&f, "password = Pa55word!\n").unwrap();
        let e = secret(SecretFor::Login, "sa", Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at line 1") && !e.contains("Pa55word"), "{e}");
    }
}
