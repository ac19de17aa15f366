//! Running the `sqlmig` binary as a DBA would, with a home of its own.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any one sqlmig command of a test may take before the test kills it and fails:
/// far past the slowest (a whole migration on a slow machine), so it only trips on a hang,
/// which then fails its test with what the command printed instead of stalling the suite.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// Runs `cmd` to its end, as `Command::output` does, within [`DEADLINE`]; past it the process is
/// killed and the caller panics, showing the command and what it printed so far.
pub fn output_within(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{cmd:?} did not end within {DEADLINE:?}; killed. It printed:\n{}\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// [`output_within`] for a command run beside the simulated servers (without blocking their
/// runtime); the process is killed if the test ends first.
pub async fn output_within_async(mut cmd: tokio::process::Command) -> Output {
    cmd.kill_on_drop(true);
    let what = format!("{cmd:?}");
    tokio::time::timeout(DEADLINE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what} did not end within {DEADLINE:?}; killed"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A sqlmig with its own empty home (plugins, cache, config).
pub struct Sqlmig {
    pub home: tempfile::TempDir,
    binary: &'static str,
}

impl Sqlmig {
    /// The binary at `binary` (a test's `env!("CARGO_BIN_EXE_sqlmig-under-test")`: cargo sets
    /// it only for test targets) with a fresh home.
    pub fn new(binary: &'static str) -> Sqlmig {
        Sqlmig {
            home: tempfile::tempdir().unwrap(),
            binary,
        }
    }

    /// The command, ready to run with `args`; the caller may add env or stdin.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.binary);
        c.args(args)
            .env("SQLMIG_HOME", self.home.path())
            .env_remove("SQLMIG_CONFIG")
            .env_remove("SQLMIG_PASSWORD");
        c
    }

    /// A plugin folder from a test plugin, with its manifest edited by `edit`.
    pub fn plugin_dir(
        &self,
        name: &str,
        manifest: &str,
        wasm: &str,
        edit: impl Fn(String) -> String,
    ) -> std::path::PathBuf {
        let dir = self.home.path().join("src").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(manifest).unwrap();
        std::fs::write(dir.join("plugin.toml"), edit(text)).unwrap();
        std::fs::copy(wasm, dir.join("plugin.wasm")).unwrap();
        dir
    }

    /// Installs the test plugin `name` (its manifest and component as built).
    pub fn install_test_plugin(&self, name: &str, manifest: &str, wasm: &str) {
        let dir = self.plugin_dir(name, manifest, wasm, |t| t);
        let out = self.run(&["plugin", "install", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }

    /// Runs it with `args` and returns what happened.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        output_within(cmd)
    }

    /// Runs it with `args`, which must exit with `code`, and parses its JSON output.
    pub fn json_with_code(&self, args: &[&str], code: i32) -> Value {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs it with `args`, which must succeed, and parses its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_with_code(args, 0)
    }
}

/// A process's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A process's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that a process exited with `code`, showing what it wrote when it did not.
#[track_caller]
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}
