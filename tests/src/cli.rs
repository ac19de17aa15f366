//! Running the `sqlmig` binary as a DBA would, with a home of its own.

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// How long any one sqlmig command of a test may take before the test kills it and fails:
/// far past the slowest (a whole migration on a slow machine), so it only trips on a hang,
/// which then fails its test with what the command printed instead of stalling the suite.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// Runs `cmd` to its end, as `Command::output` does, within [`DEADLINE`]; past it the process is
/// killed and the caller panics, showing the command and what it printed so far.
pub fn output_within(cmd: Command) -> Output {
    output_before(cmd, DEADLINE)
}

/// [`output_within`] with a deadline of `limit`.
fn output_before(cmd: Command, limit: Duration) -> Output {
    let what = shown(&cmd);
    let cmd = tokio::process::Command::from(cmd);
    // On a runtime of its own on a thread of its own: callers are often tests' async tasks,
    // whose runtime cannot be blocked on from inside.
    let ended = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move { Background::spawn(cmd).output_within(limit).await })
    })
    .join()
    .unwrap();
    ended_within(ended, &what, limit)
}

/// The output of a command that ended within `limit`, or the failure of the test that ran it.
fn ended_within(ended: Result<Output, String>, what: &str, limit: Duration) -> Output {
    ended.unwrap_or_else(|printed| {
        panic!("{what} did not end within {limit:?}; killed. It printed:\n{printed}")
    })
}

/// A command as a failing test shows it: the program and its arguments, never its environment
/// (where the tests' passwords and tokens are).
fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`output_within`] for a command run beside the simulated servers (without blocking their
/// runtime); the process is killed if the test ends first.
pub async fn output_within_async(cmd: tokio::process::Command) -> Output {
    let what = shown(cmd.as_std());
    ended_within(
        Background::spawn(cmd).output_within(DEADLINE).await,
        &what,
        DEADLINE,
    )
}

/// A command running in the background beside the test: its output read as it comes (a pipe
/// left full would stop it), killed when dropped, so a failing test leaves nothing running.
pub struct Background {
    child: tokio::process::Child,
    out: Drained,
    err: Drained,
}

/// A pipe read to its end as it fills.
struct Drained {
    buf: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drained {
    fn start(mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Drained {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let into = buf.clone();
        let reader = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
                into.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Drained { buf, reader }
    }

    /// What was read: all of it, or what there is after 2 s when a process the command left
    /// behind still holds the pipe open.
    async fn take(self) -> Vec<u8> {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.reader).await;
        std::mem::take(&mut *self.buf.lock().unwrap())
    }
}

impl Background {
    /// Starts `cmd`, its stdout and stderr captured.
    pub fn spawn(mut cmd: tokio::process::Command) -> Background {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", shown(cmd.as_std())));
        let out = Drained::start(child.stdout.take().expect("piped"));
        let err = Drained::start(child.stderr.take().expect("piped"));
        Background { child, out, err }
    }

    /// True once the process has ended.
    pub fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Kills it (SIGKILL) and waits for it to be gone.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Its output once it ends within `limit`; past it, it is killed and what it printed is the
    /// error.
    pub async fn output_within(mut self, limit: Duration) -> Result<Output, String> {
        let ended = tokio::time::timeout(limit, self.child.wait()).await;
        if ended.is_err() {
            self.kill().await;
        }
        let (stdout, stderr) = (self.out.take().await, self.err.take().await);
        match ended {
            Ok(status) => Ok(Output {
                status: status.unwrap(),
                stdout,
                stderr,
            }),
            Err(_) => Err(format!(
                "stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            )),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_command_past_its_deadline_is_killed_and_named_with_what_it_printed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30"])
            .env("SQLMIG_PASSWORD", "not-shown");
        let started = Instant::now();
        let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            output_before(cmd, Duration::from_millis(300))
        }))
        .expect_err("past its deadline");
        let message = failure.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with("sh -c echo started; sleep 30 did not end within 300ms; killed")
                && message.contains("started")
                && !message.contains("not-shown"),
            "{message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "killed, not waited for"
        );
    }

    #[test]
    fn a_command_within_its_deadline_gives_its_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = output_before(cmd, Duration::from_secs(60));
        assert_eq!(
            (out.status.code(), stdout(&out), stderr(&out)),
            (Some(3), "out\n".to_string(), "err\n".to_string())
        );
    }
}
