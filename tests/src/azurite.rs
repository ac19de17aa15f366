//! Azurite, the Azure Storage emulator (npm, pinned in tests/azurite/package-lock.json): started
//! per test on a free port with its own folder, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sqlmig::secret::Secret;

/// Azurite's well-known development account (public in Microsoft's documentation).
pub const ACCOUNT: &str = "devstoreaccount1";
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
        let mut child = Command::new(bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--location"])
            .arg(dir.path())
            .args(["--skipApiVersionCheck", "--disableTelemetry", "--silent"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Azurite (node must be installed)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Reads the port, then keeps draining so Azurite never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listens on http://127.0.0.1:").nth(1) {
                    let _ = tx.send(rest.trim().parse::<u16>().ok());
                }
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .expect("Azurite did not report its port within 60 s");
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
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
