//! Shared by the build scripts that build plugin workspaces (host/build.rs for the bundled
//! plugins, tests/build.rs for the test plugins): a nested cargo with its own target dir, so it
//! never waits on the outer build's lock, and with the outer build's settings kept out.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `<target>` for a build script's OUT_DIR (`<target>/<profile>/build/<pkg>-<hash>/out`).
pub fn target_root(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR lies inside the target dir")
        .to_path_buf()
}

/// Stops the build with the exact command to run when the wasm32-wasip2 target is missing.
pub fn require_wasm_target(what: &str) {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if !Path::new(&sysroot)
        .join("lib/rustlib/wasm32-wasip2")
        .is_dir()
    {
        panic!(
            "the wasm32-wasip2 target is not installed, and {what} need it: \
             run `rustup target add wasm32-wasip2`"
        );
    }
}

/// `cargo build --release` of `packages` (all when empty) in `workspace`, for `target` (the host
/// when `None`), into `target_dir`.
pub fn cargo_build(workspace: &Path, target_dir: &Path, target: Option<&str>, packages: &[&str]) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace)
        .args(["build", "--release", "--target-dir"])
        .arg(target_dir);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    for p in packages {
        cmd.args(["-p", p]);
    }
    // The outer build's settings (flags, profile, jobserver, target) must not leak inward.
    for (key, _) in std::env::vars() {
        if (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || matches!(
                key.as_str(),
                "RUSTFLAGS" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "RUSTDOCFLAGS"
            )
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("run cargo for a plugin workspace");
    assert!(
        status.success(),
        "building the plugins in {} failed (see the output above)",
        workspace.display()
    );
}
