//! Builds the first-party plugins in `plugins/` (their own workspace, for wasm32-wasip2) into
//! their own target dir and bundles them into the binary (`plugins::bundled`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest_dir.parent().unwrap();
    let plugins = repo.join("plugins");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed={}", plugins.display());
    println!(
        "cargo:rerun-if-changed={}",
        repo.join("plugin-sdk").display()
    );
    println!("cargo:rerun-if-changed={}", repo.join("wit").display());

    let mut crates: Vec<PathBuf> = std::fs::read_dir(&plugins)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("plugin.toml").is_file() && p.join("Cargo.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    crates.sort();

    let mut entries = String::new();
    if !crates.is_empty() {
        let target_dir = out_dir
            .ancestors()
            .nth(4)
            .expect("OUT_DIR lies inside the target dir")
            .join("bundled-plugins");
        build(&plugins, &target_dir);
        for dir in &crates {
            let name = dir.file_name().unwrap().to_string_lossy().replace('-', "_");
            let wasm = target_dir
                .join("wasm32-wasip2/release")
                .join(format!("{name}.wasm"));
            let manifest = dir.join("plugin.toml");
            entries += &format!(
                "    (include_str!({:?}), include_bytes!({:?})),\n",
                manifest.display().to_string(),
                wasm.display().to_string()
            );
        }
    }
    std::fs::write(
        out_dir.join("bundled_plugins.rs"),
        format!("static BUNDLED: &[(&str, &[u8])] = &[\n{entries}];\n"),
    )
    .unwrap();
}

fn build(workspace: &Path, target_dir: &Path) {
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
            "the wasm32-wasip2 target is not installed, and the bundled plugins need it: \
             run `rustup target add wasm32-wasip2`"
        );
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    // The outer build's settings (flags, profile, jobserver) must not leak inward.
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
    let status = cmd.status().expect("run cargo for the bundled plugins");
    assert!(
        status.success(),
        "building the plugins in {} failed",
        workspace.display()
    );
}
