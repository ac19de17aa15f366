//! Azurite, the Azure Storage emulator (npm, pinned in tests/azurite/package-lock.json): started
//! per test on a free port with its own folder, killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command};

use sqlmig::secret::Secret;

use crate::service::{Announces, spawn_and_wait_for_port};

/// Azurite's well-known development account (public in Microsoft's documentation).
pub const ACCOUNT: &str = "devstoreaccount1";
/// When the test SAS tokens expire.
pub const EXPIRY: &str = "2099-01-01T00:00:00Z";

/// Azurite's well-known development account key (public; not a secret of anyone's).
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service.
pub struct Azurite {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Azurite {
    /// Starts Azurite and waits until it listens.
    pub fn start() -> Azurite {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("azurite/node_modules/.bin/azurite-blob");
        assert!(
            bin.exists(),
            "Azurite is not installed: run `npm ci --prefix tests/azurite` (scripts/test does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--location"])
            .arg(dir.path())
            .args(["--skipApiVersionCheck", "--disableTelemetry", "--silent"]);
        let (child, port) = spawn_and_wait_for_port(
            cmd,
            Announces::Stdout,
            "listens on http://127.0.0.1:",
            "Azurite (node must be installed)",
        );
        Azurite {
            child,
            port,
            _dir: dir,
        }
    }

    /// The URL of a container (Azurite puts the account in the path).
    pub fn container_url(&self, container: &str) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}/{container}", self.port)
    }

    /// The account key.
    pub fn key(&self) -> Secret {
        Secret::new(KEY)
    }

    /// Creates `container` (with an account SAS, as a DBA's setup would) and returns a SAS for
    /// it that reads, adds, creates, writes, deletes and lists — what BACKUP TO URL and RESTORE
    /// need.
    pub async fn create_container(&self, container: &str) -> Secret {
        use sqlmig::storage::azure_blob::{AzureContainer, ContainerAccess};
        use sqlmig::storage::sas;
        let admin = sas::account_sas(ACCOUNT, &self.key(), "rwdlac", EXPIRY).unwrap();
        AzureContainer::connect(&ContainerAccess {
            url: self.container_url(container),
            sas: admin,
        })
        .unwrap()
        .create_if_missing()
        .await
        .unwrap();
        sas::container_sas(ACCOUNT, container, &self.key(), "racwdl", EXPIRY).unwrap()
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
