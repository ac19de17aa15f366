//! What the migration tests share: a blob container in Azurite with a SAS for it, and a source
//! discovered into an inventory through the real binary.

use std::path::Path;
use std::process::Output;

use sqlmig::secret::Secret;
use sqlmig::storage::azure_blob::{AzureContainer, ContainerAccess};
use sqlmig::storage::sas;
use sqlsim::server::ServerHandle;

use crate::azurite::{ACCOUNT, Azurite};
use crate::cli::{Sqlmig, stderr};
use crate::estate::SA_PASSWORD;

/// When the test SAS tokens expire.
pub const EXPIRY: &str = "2099-01-01T00:00:00Z";

/// Creates `container` (with an account SAS, as a DBA's setup would) and returns a SAS for it
/// that reads, adds, creates, writes, deletes and lists — what BACKUP TO URL and RESTORE need.
pub async fn container(az: &Azurite, container: &str) -> Secret {
    let admin = sas::account_sas(ACCOUNT, &az.key(), "rwdlac", EXPIRY).unwrap();
    AzureContainer::connect(&ContainerAccess {
        url: az.container_url(container),
        sas: admin,
    })
    .unwrap()
    .create_if_missing()
    .await
    .unwrap();
    sas::container_sas(ACCOUNT, container, &az.key(), "racwdl", EXPIRY).unwrap()
}

/// Runs `sqlmig ARGS` with `env` without blocking the runtime the simulated servers run on.
pub async fn run(s: &Sqlmig, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::from(s.command(args));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

/// Discovers `source` (as sa) into `inventory`.
pub async fn discover(s: &Sqlmig, source: &ServerHandle, inventory: &Path) {
    let server = format!("127.0.0.1,{}", source.addr.port());
    let args = [
        "discover",
        "--server",
        &server,
        "--user",
        "sa",
        "--trust-server-certificate",
        "--out",
        inventory.to_str().unwrap(),
    ];
    let out = run(s, &args, &[("SQLMIG_PASSWORD", SA_PASSWORD)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
