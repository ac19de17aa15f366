//! `sqlmig plugin new --kind rules`: the crate it writes passes its own test, builds for
//! wasm32-wasip2, installs from its folder, and its finding appears in an assessment — the
//! README's steps, run as a new rule author would.

use std::path::Path;
use std::process::Command;

use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/inventory.json");
/// The scaffold's build output, kept between runs (the crate itself is new each time).
const BUILD_CACHE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/scaffold-test");

/// Runs cargo in the plugin's folder as its author would: no target dir or flags of ours.
fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

#[test]
fn a_scaffolded_rules_plugin_builds_installs_and_reports() {
    let s = sqlmig();
    let dir = s.home.path().join("acme-rules");
    let out = s.run(&[
        "plugin",
        "new",
        "--kind",
        "rules",
        "acme-rules",
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("wrote the rules plugin acme-rules"));
    std::fs::create_dir_all(BUILD_CACHE).unwrap();
    std::os::unix::fs::symlink(BUILD_CACHE, dir.join("target")).unwrap();

    let test = cargo(&dir, &["test"]);
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(String::from_utf8_lossy(&test.stdout).contains("test result: ok. 1 passed"));
    let build = cargo(&dir, &["build", "--release", "--target", "wasm32-wasip2"]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );

    // `plugin install .` finds the component under target/.
    let out = s.run(&["plugin", "install", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = s.json_with_code(
        &[
            "assess",
            "--inventory",
            EXAMPLE,
            "--rules",
            "acme-rules",
            "-o",
            "json",
        ],
        0,
    );
    assert_eq!(
        report["rule_packs"],
        serde_json::json!(["acme-rules 0.1.0"])
    );
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["rule_id"], "ACME_RULES_001");
    assert_eq!(findings[0]["instance"], "SQLOLD01");
    assert_eq!(findings[0]["database"], "Inventory");
}

#[test]
fn bad_names_and_occupied_folders_are_refused() {
    let s = sqlmig();
    let out = s.run(&["plugin", "new", "--kind", "rules", "Acme Rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a plugin name"),
        "{}",
        stderr(&out)
    );
    let taken = s.home.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let out = s.run(&[
        "plugin",
        "new",
        "--kind",
        "rules",
        "acme",
        "--dir",
        taken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    // Installing a crate folder before building it says what to run.
    let fresh = s.home.path().join("fresh");
    assert_eq!(
        s.run(&[
            "plugin",
            "new",
            "--kind",
            "rules",
            "fresh",
            "--dir",
            fresh.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    let out = s.run(&["plugin", "install", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cargo build --release --target wasm32-wasip2"),
        "{}",
        stderr(&out)
    );
}
