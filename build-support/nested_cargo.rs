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

/// Makes sure the wasm32-wasip2 target is installed for the compiler building us. rustup applies
/// rust-toolchain.toml's `targets` only when it installs the toolchain, so a machine that already
/// had 1.95 lacks it: install it then (as `rustup target add` would), and stop with the command
/// to run only where rustup cannot.
pub fn require_wasm_target(what: &str) {
    if wasm_target_installed() {
        return;
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", "wasm32-wasip2"]);
    // The toolchain cargo was started with (rust-toolchain.toml's), not rustup's default.
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        add.args(["--toolchain", &toolchain]);
    }
    let added = add.status().is_ok_and(|s| s.success());
    if added && wasm_target_installed() {
        println!(
            "cargo:warning=installed the wasm32-wasip2 target (rustup target add wasm32-wasip2): \
             {what} are built for it"
        );
        return;
    }
    panic!(
        "the wasm32-wasip2 target is not installed, and {what} need it: \
         run `rustup target add wasm32-wasip2`"
    );
}

/// Whether the compiler's sysroot has the wasm32-wasip2 standard library.
fn wasm_target_installed() -> bool {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib/wasm32-wasip2")
        .is_dir()
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
