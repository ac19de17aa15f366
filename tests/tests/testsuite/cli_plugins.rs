//! `sqlmig plugin install/list/info/remove` and `--version`, driven through the real binary.

use sqlmig_tests::cli::stderr;
use std::path::Path;

use serde_json::Value;
use sqlmig_tests::plugins::{
    FULL_MANIFEST, FULL_WASM, HOSTILE_METHOD_MANIFEST, HOSTILE_METHOD_WASM, HOSTILE_RULES_MANIFEST,
    HOSTILE_RULES_WASM, WRONG_API_MANIFEST, WRONG_API_WASM,
};

/// A sqlmig with its own empty home, and the plugin folders tests install from.
struct Sqlmig(sqlmig_tests::cli::Sqlmig);

impl std::ops::Deref for Sqlmig {
    type Target = sqlmig_tests::cli::Sqlmig;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Sqlmig {
    fn new() -> Sqlmig {
        Sqlmig(sqlmig_tests::cli::Sqlmig::new(env!(
            "CARGO_BIN_EXE_sqlmig-under-test"
        )))
    }
}

/// The installed (not bundled) plugins of a `plugin list -o json`.
fn installed(list: Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|p| p["origin"] == "installed")
        .cloned()
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn version_names_the_host_and_the_plugin_api() {
    let out = Sqlmig::new().run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "sqlmig 0.1.0 (plugin API sqlmig:plugin 0.2.x (>=0.2.0, <0.3.0), 0.1.x (>=0.1.0, <0.2.0))"
    );
}

#[test]
fn install_list_info_remove_round_trip() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| t);

    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "people's output goes to stderr");
    assert!(stderr(&out).contains("installed full 0.1.0 (built against sqlmig:plugin@0.1.1)"));

    let list = installed(sq.json(&["plugin", "list", "-o", "json"]));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "full");
    assert_eq!(list[0]["api"], "0.1.1");
    assert_eq!(list[0]["origin"], "installed");
    assert_eq!(list[0]["capabilities"][0], "sql:source");
    assert_eq!(list[0]["hooks"].as_array().unwrap().len(), 8);

    let table = sq.run(&["plugin", "list"]);
    let text = String::from_utf8_lossy(&table.stdout);
    // Columns are aligned: the header and each row start their fields at the same places.
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "VERSION", "API", "ORIGIN"], "{text}");
    assert_eq!(rows[1], ["full", "0.1.0", "0.1.1", "installed"], "{text}");
    assert!(
        rows.contains(&vec!["rules-mi", "0.1.0", "0.2.0", "bundled"]),
        "{text}"
    );
    let origin_at = text.lines().next().unwrap().find("ORIGIN").unwrap();
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l[origin_at..].starts_with("installed")
                || l[origin_at..].starts_with("bundled")),
        "{text}"
    );

    let info = sq.json(&["plugin", "info", "full", "-o", "json"]);
    assert_eq!(info["summary"], "uses every capability");
    assert_eq!(info["limits"]["memory_mib"], 256);
    assert_eq!(info["sha256"].as_str().unwrap().len(), 64);

    let out = sq.run(&["plugin", "remove", "full", "-o", "json"]);
    assert!(out.status.success());
    let removed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(removed["removed"][0], "0.1.0");
    assert!(installed(sq.json(&["plugin", "list", "-o", "json"])).is_empty());
}

#[test]
fn info_shows_the_operators_grants() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| t);
    assert!(sq.run(&["plugin", "install", s(&dir)]).status.success());
    std::fs::write(
        sq.home.path().join("sqlmig.toml"),
        "[plugins.full]\ngrants = { sql = [\"source\"], state = true }\n",
    )
    .unwrap();
    let info = sq.json(&["plugin", "info", "full", "-o", "json"]);
    assert_eq!(info["granted"], serde_json::json!(["sql:source", "state"]));
}

#[test]
fn a_newer_version_replaces_the_older_and_a_downgrade_needs_force() {
    let sq = Sqlmig::new();
    let v1 = sq.plugin_dir("v1", FULL_MANIFEST, FULL_WASM, |t| t);
    let v2 = sq.plugin_dir("v2", FULL_MANIFEST, FULL_WASM, |t| {
        t.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
    });
    assert!(sq.run(&["plugin", "install", s(&v1)]).status.success());
    let out = sq.run(&["plugin", "install", s(&v2)]);
    assert!(stderr(&out).contains("replacing 0.1.0"), "{}", stderr(&out));
    let list = installed(sq.json(&["plugin", "list", "-o", "json"]));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["version"], "0.2.0");

    let out = sq.run(&["plugin", "install", s(&v1)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("full 0.2.0 is installed; installing 0.1.0 would downgrade it"));
    let out = sq.run(&["plugin", "install", "--force", s(&v1)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        sq.json(&["plugin", "list", "-o", "json"])[0]["version"],
        "0.1.0"
    );
}

#[test]
fn a_malformed_manifest_is_refused_naming_file_and_line() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("bad", FULL_MANIFEST, FULL_WASM, |t| {
        t.replace("api = \"^0.1\"", "api = ^0.1")
    });
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("bad/plugin.toml") && err.contains("line 4"),
        "{err}"
    );
    assert!(
        !sq.home.path().join("data/plugins/full").exists(),
        "nothing half-installed"
    );
}

#[test]
fn garbage_wasm_is_refused() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("junk", FULL_MANIFEST, FULL_WASM, |t| t);
    std::fs::write(dir.join("plugin.wasm"), b"this is not webassembly").unwrap();
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("plugin full 0.1.0") && err.contains("is not a valid WebAssembly component"),
        "{err}"
    );
    assert!(installed(sq.json(&["plugin", "list", "-o", "json"])).is_empty());
}

#[test]
fn an_incompatible_api_is_refused_naming_both_versions() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("wa", WRONG_API_MANIFEST, WRONG_API_WASM, |t| t);
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("sqlmig:plugin@0.3.0") && err.contains("0.2.x") && err.contains("0.1.x"),
        "{err}"
    );

    // A manifest range that admits no supported version is refused before the component is read.
    let dir = sq.plugin_dir("future", FULL_MANIFEST, FULL_WASM, |t| {
        t.replace("^0.1", "^0.3")
    });
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("api = \"^0.3\"") && err.contains("0.1.x"),
        "{err}"
    );
}

#[test]
fn unknown_names_and_bad_config_are_bad_input() {
    let sq = Sqlmig::new();
    let out = sq.run(&["plugin", "remove", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no plugin named 'nope' is installed"));

    let out = sq.run(&["plugin", "info", "nope"]);
    assert_eq!(out.status.code(), Some(2));

    let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| t);
    assert!(sq.run(&["plugin", "install", s(&dir)]).status.success());
    std::fs::write(
        sq.home.path().join("sqlmig.toml"),
        "[plugins.full]\ngrant = 1\n",
    )
    .unwrap();
    let out = sq.run(&["plugin", "info", "full"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("sqlmig.toml") && err.contains("grant"),
        "{err}"
    );

    let out = sq.run(&["plugin", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

/// sqlmig's own secrets are never a plugin's: a manifest asking for one (as a credential, a
/// setting or a `$NAME` host) is refused at install, and so is a config granting one; an
/// installed plugin's other cloud asks are the operator's to grant, and install says so.
#[test]
fn a_plugin_cannot_ask_for_or_be_granted_sqlmigs_own_secrets() {
    let sq = Sqlmig::new();
    for (what, edit) in [
        ("setting", "settings = [\"TEST_REGION\", \"SQLMIG_SAS\"]"),
        ("credential", "credentials = [\"sqlmig_azure_token\"]"),
        (
            "host",
            "settings = [\"TEST_REGION\"]\nhttp = [\"$SQLMIG_SOURCE_PASSWORD\"]",
        ),
    ] {
        let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| {
            t.lines()
                .filter(|l| {
                    !l.starts_with("settings")
                        && !l.starts_with("credentials")
                        && !l.starts_with("http")
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
                + edit
                + "\n"
        });
        let out = sq.run(&["plugin", "install", s(&dir)]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("names beginning SQLMIG_ are sqlmig's own secrets"),
            "{what}: {}",
            stderr(&out)
        );
        assert!(installed(sq.json(&["plugin", "list", "-o", "json"])).is_empty());
    }
    let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| t);
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: full asks for cloud access it has not been granted")
            && stderr(&out)
                .contains("credentials = [\"TEST_SECRET\"], settings = [\"TEST_REGION\"]"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        sq.home.path().join("sqlmig.toml"),
        "[plugins.full.grants]\nsettings = [\"TEST_REGION\", \"SQLMIG_TARGET_PASSWORD\"]\n",
    )
    .unwrap();
    let out = sq.run(&["plugin", "info", "full"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("sqlmig.toml: [plugins.full.grants] grants 'SQLMIG_TARGET_PASSWORD'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_can_go_to_a_file() {
    let sq = Sqlmig::new();
    let file = sq.home.path().join("plugins.json");
    let out = sq.run(&["plugin", "list", "-o", "json", "--out", s(&file)]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(v.is_array());

    // --out means JSON even without -o json.
    let out = sq.run(&["plugin", "info", "rules-mi", "--out", s(&file)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["name"], "rules-mi");
}

#[test]
fn bundled_plugins_are_there_on_a_fresh_home_and_a_newer_install_overrides_them() {
    let sq = Sqlmig::new();
    let list = sq.json(&["plugin", "list", "-o", "json"]);
    let bundled: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "rules-mi")
        .collect();
    assert_eq!(bundled.len(), 1);
    assert_eq!(bundled[0]["origin"], "bundled");
    assert_eq!(bundled[0]["kind"], "rules");

    let out = sq.run(&["plugin", "remove", "rules-mi"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bundled with sqlmig and cannot be removed"));

    // A newer rules-mi, built from the bundled component with its version raised.
    let b = sqlmig::plugins::bundled::plugins()
        .into_iter()
        .find(|p| p.manifest.name == "rules-mi")
        .unwrap();
    let dir = sq.home.path().join("src/rules-mi-next");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = toml_with_version(&b.manifest, "0.9.0");
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.join("plugin.wasm"), b.wasm().unwrap()).unwrap();
    assert!(sq.run(&["plugin", "install", s(&dir)]).status.success());
    let info = sq.json(&["plugin", "info", "rules-mi", "-o", "json"]);
    assert_eq!(info["version"], "0.9.0");
    assert_eq!(info["origin"], "installed");

    // Removing the installed one brings the bundled one back.
    assert!(sq.run(&["plugin", "remove", "rules-mi"]).status.success());
    let info = sq.json(&["plugin", "info", "rules-mi", "-o", "json"]);
    assert_eq!(info["origin"], "bundled");
}

fn toml_with_version(m: &sqlmig::plugins::Manifest, version: &str) -> String {
    let mut m = m.clone();
    m.version = version.parse().unwrap();
    toml::to_string(&m).unwrap()
}

/// sqlmig runs plugins only as sandboxed components: a shared library beside a manifest is not
/// installed, and the refusal says what a plugin is.
#[test]
fn a_shared_library_is_not_a_plugin() {
    let sq = Sqlmig::new();
    let dir = sq.home.path().join("src").join("vendor");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(FULL_MANIFEST, dir.join("plugin.toml")).unwrap();
    std::fs::write(dir.join("plugin.so"), b"\x7fELF not a component").unwrap();
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no component (.wasm)") && err.contains("a plugin is a WebAssembly component"),
        "{err}"
    );
    assert!(installed(sq.json(&["plugin", "list", "-o", "json"])).is_empty());
}

#[cfg(unix)]
#[test]
fn an_installed_plugin_another_user_could_have_replaced_is_not_run() {
    use std::os::unix::fs::PermissionsExt;
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("full", FULL_MANIFEST, FULL_WASM, |t| t);
    assert!(sq.run(&["plugin", "install", s(&dir)]).status.success());
    assert!(sq.run(&["plugin", "info", "full"]).status.success());
    // The installed component, made writable by anyone.
    let wasm = sq.home.path().join("data/plugins/full/0.1.0/plugin.wasm");
    std::fs::set_permissions(&wasm, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = sq.run(&["plugin", "info", "full"]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("other users can write it") && err.contains("reinstall"),
        "{err}"
    );
}

/// 0.2 gives each kind its own world: a rule pack that reaches for `sql` (which the rules world
/// does not import) and a component built for another kind than its manifest says are refused at
/// install, each by name, and nothing is installed.
#[test]
fn a_plugin_may_import_only_what_its_kind_world_gives() {
    let sq = Sqlmig::new();
    let dir = sq.plugin_dir("hr", HOSTILE_RULES_MANIFEST, HOSTILE_RULES_WASM, |t| t);
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("hostile-rules 0.1.0: cannot be linked as a rules plugin")
            && err.contains("sqlmig:plugin/sql@0.2.0")
            && err.contains("wit/worlds.wit"),
        "{err}"
    );

    // A method component whose manifest says it is a rule pack.
    let dir = sq.plugin_dir("liar", HOSTILE_METHOD_MANIFEST, HOSTILE_METHOD_WASM, |t| {
        t.replace("kind = \"method\"", "kind = \"rules\"")
    });
    let out = sq.run(&["plugin", "install", s(&dir)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("kind = \"rules\", but the component was built for the method world")
            && err.contains("set kind = \"method\""),
        "{err}"
    );
    assert!(installed(sq.json(&["plugin", "list", "-o", "json"])).is_empty());
}
