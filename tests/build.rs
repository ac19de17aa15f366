//! Builds the test plugins in `tests/plugins` (their own workspace) into their own target dir, so
//! the nested cargo never waits on the outer build's lock, and exports their paths as constants.

use std::path::PathBuf;

#[path = "../build-support/nested_cargo.rs"]
mod nested_cargo;

const WASM_PLUGINS: &[&str] = &[
    "full",
    "hostile",
    "hostile-method",
    "hostile-rules",
    "wrong-api",
    "older-api",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("plugins");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: keep the plugins' builds beside.
    let target_dir = nested_cargo::target_root(&out_dir).join("test-plugins");

    println!("cargo:rerun-if-changed={}", workspace.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../plugin-sdk").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../wit").display()
    );

    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../build-support").display()
    );
    nested_cargo::require_wasm_target("the test plugins");
    nested_cargo::cargo_build(&workspace, &target_dir, Some("wasm32-wasip2"), WASM_PLUGINS);

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
    // The first-party plugins host/build.rs builds (and bundles): tests install them from there
    // as an operator installs a plugin shipped on its own.
    let bundled = nested_cargo::target_root(&out_dir).join("bundled-plugins/wasm32-wasip2/release");
    consts += &format!(
        "/// Where the first-party plugins' components are built.\npub const FIRST_PARTY_WASM_DIR: &str = {:?};\n",
        bundled.display().to_string()
    );
    consts += &format!(
        "/// The first-party plugins' sources (their plugin.toml).\npub const FIRST_PARTY_DIR: &str = {:?};\n",
        manifest_dir.join("../plugins").display().to_string()
    );
    std::fs::write(out_dir.join("test_plugins.rs"), consts).unwrap();
}
