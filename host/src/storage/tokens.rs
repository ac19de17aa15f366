//! A migration's SAS tokens: made from the storage account's key with the container they are
//! for (`sqlmig storage prepare`), and checked against what each party needs before a run
//! (`sqlmig storage check`).

use crate::capabilities::CapabilityError;
use crate::capabilities::blob::BlobContainer;
use crate::credentials::SecretFor;
use crate::secret::Secret;

use super::azure_blob::{AzureContainer, ContainerAccess};
use super::sas::{self, Grants, KeyNotBase64, Party};

/// What `prepare` made.
pub struct Prepared {
    /// Whether the container was created (false: it was there).
    pub created: bool,
    /// When the tokens expire (`YYYY-MM-DDTHH:MM:SSZ`).
    pub expiry: String,
    /// The source's and sqlmig's token: read, write, delete, list.
    pub source: Secret,
    /// The Log Replay Service's token: read and list only.
    pub log_replay: Secret,
}

/// What stops `prepare`.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("the storage account key does not sign: {0}")]
    Key(#[from] KeyNotBase64),
    /// The account refused what the key signed: the key is not the account's current one, or
    /// the account does not allow Shared Key authorization.
    #[error("the storage account refused the key: creating {url} was not authorized")]
    KeyRefused { url: String },
    #[error("cannot create {url}: {error}")]
    Create { url: String, error: CapabilityError },
}

fn utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates `container` of `account` at `url` when missing (with an account SAS that lives an
/// hour: a container's own cannot create it) and makes the two parties' container SAS tokens,
/// valid `days`.
pub async fn prepare(
    url: &str,
    account: &str,
    container: &str,
    key: &Secret,
    days: u32,
) -> Result<Prepared, PrepareError> {
    let now = chrono::Utc::now();
    let admin = sas::account_sas(account, key, "cw", &utc(now + chrono::Duration::hours(1)))?;
    let created = AzureContainer::connect(&ContainerAccess {
        url: url.to_string(),
        sas: admin,
    })
    .map_err(|error| PrepareError::Create {
        url: url.to_string(),
        error,
    })?
    .create_if_missing()
    .await
    .map_err(|error| match error {
        CapabilityError::AccessDenied(_) => PrepareError::KeyRefused {
            url: url.to_string(),
        },
        error => PrepareError::Create {
            url: url.to_string(),
            error,
        },
    })?;
    let expiry = utc(now + chrono::Duration::days(i64::from(days)));
    let make = |permissions| sas::container_sas(account, container, key, permissions, &expiry);
    let (source, log_replay) = (make("rwdl")?, make("rl")?);
    Ok(Prepared {
        created,
        expiry,
        source,
        log_replay,
    })
}

/// A token to check: its name in the secrets file, the party it is for, and its value when set.
pub struct TokenToCheck {
    pub key: &'static str,
    pub party: Party,
    pub token: Option<Secret>,
}

/// What a check found of one token.
pub struct TokenCheck {
    pub key: &'static str,
    pub party: Party,
    /// What it grants, when set.
    pub grants: Option<Grants>,
    /// Not set, and made from the storage account's key at run time.
    pub made_at_run: bool,
    /// What it lacks for its party, in words; empty when it serves.
    pub problems: Vec<String>,
}

/// Checks each token for its party: permissions, scope, expiry before `until`, length for a
/// source of major version `source_major`, and that it reaches the container at `url` (listing
/// is the one operation both parties may do). A missing token serves when sqlmig can make it
/// from the account's key (`key_set`).
pub async fn check(
    url: &str,
    tokens: Vec<TokenToCheck>,
    key_set: bool,
    until: chrono::DateTime<chrono::Utc>,
    source_major: Option<u32>,
) -> Vec<TokenCheck> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for TokenToCheck { key, party, token } in tokens {
        let (grants, mut problems) = match &token {
            Some(t) => (
                Some(sas::grants(t.expose())),
                sas::shortfall(party, t.expose(), now, until, source_major),
            ),
            None if key_set => (None, Vec::new()),
            None => (
                None,
                vec![format!(
                    "missing: an online plan needs it (set {}, or {} for sqlmig to make one)",
                    SecretFor::LrsSas.env_var(),
                    SecretFor::StorageKey.env_var()
                )],
            ),
        };
        if let Some(t) = &token
            && problems.is_empty()
        {
            let listed = match AzureContainer::connect(&ContainerAccess {
                url: url.to_string(),
                sas: Secret::new(t.expose().trim_start_matches('?')),
            }) {
                Ok(c) => c.list("").await.map(|l| l.len()),
                Err(e) => Err(e),
            };
            if let Err(e) = listed {
                problems.push(format!("the container refused it: {e}"));
            }
        }
        out.push(TokenCheck {
            key,
            party,
            made_at_run: token.is_none() && problems.is_empty(),
            grants,
            problems,
        });
    }
    out
}
