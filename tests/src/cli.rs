//! Running the `sqlmig` binary as a DBA would, with a home of its own.

use std::process::{Command, Output};

use serde_json::Value;

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

    /// Runs it with `args` and returns what happened.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
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
