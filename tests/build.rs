//! Builds the test plugins in `tests/plugins` (their own workspace) into their own target dir, so
//! the nested cargo never waits on the outer build's lock, and exports their paths as constants.

use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_PLUGINS: &[&str] = &["full", "hostile", "wrong-api"];
const NATIVE_PLUGINS: &[&str] = &["native-good", "native-future"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("plugins");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: keep the plugins' builds beside.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .expect("OUT_DIR lies inside the target dir")
        .join("test-plugins");

    println!("cargo:rerun-if-changed={}", workspace.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../plugin-sdk").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../wit").display()
    );

    require_wasm_target();
    cargo_build(&workspace, &target_dir, Some("wasm32-wasip2"), WASM_PLUGINS);
    cargo_build(&workspace, &target_dir, None, NATIVE_PLUGINS);

    let mut consts = String::new();
    for name in WASM_PLUGINS {
        let wasm = target_dir
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let manifest = workspace.join(name).join("plugin.toml");
        let ident = name.replace('-', "_").to_uppercase();
        consts += &format!(
            "/// The `{name}` test plugin's component.\npub const {ident}_WASM: &str = {:?};\n",
            wasm.display().to_string()
        );
        consts += &format!(
            "/// The `{name}` test plugin's manifest.\npub const {ident}_MANIFEST: &str = {:?};\n",
            manifest.display().to_string()
        );
    }
    for name in NATIVE_PLUGINS {
        let lib = target_dir
            .join("release")
            .join(format!("lib{}.so", name.replace('-', "_")));
        let ident = name.replace('-', "_").to_uppercase();
        consts += &format!(
            "/// The `{name}` native test plugin.\npub const {ident}_LIB: &str = {:?};\n",
            lib.display().to_string()
        );
        let manifest = workspace.join(name).join("plugin.toml");
        consts += &format!(
            "/// The `{name}` native test plugin's manifest.\npub const {ident}_MANIFEST: &str = {:?};\n",
            manifest.display().to_string()
        );
    }
    std::fs::write(out_dir.join("test_plugins.rs"), consts).unwrap();
}

fn require_wasm_target() {
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
            "the wasm32-wasip2 target is not installed, and the test plugins need it: \
             run `rustup target add wasm32-wasip2`"
        );
    }
}

fn cargo_build(workspace: &Path, target_dir: &Path, target: Option<&str>, packages: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
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
            || key == "RUSTFLAGS"
            || key == "RUSTC_WRAPPER"
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key == "RUSTDOCFLAGS"
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("run cargo for the test plugins");
    assert!(
        status.success(),
        "building the test plugins in {} failed (see the output above)",
        workspace.display()
    );
}
