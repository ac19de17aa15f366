//! Builds the first-party plugins in `plugins/` (their own workspace, for wasm32-wasip2) and
//! bundles them into the binary (`plugins::bundled`).

use std::path::PathBuf;

#[path = "../build-support/nested_cargo.rs"]
mod nested_cargo;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest_dir.parent().unwrap();
    let plugins = repo.join("plugins");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for watched in [
        "plugins",
        "plugin-sdk",
        "protocol",
        "backup-format",
        "mi-limits",
        "wit",
        "build-support",
    ] {
        println!("cargo:rerun-if-changed={}", repo.join(watched).display());
    }

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
        let target_dir = nested_cargo::target_root(&out_dir).join("bundled-plugins");
        nested_cargo::require_wasm_target("the bundled plugins");
        nested_cargo::cargo_build(&plugins, &target_dir, Some("wasm32-wasip2"), &[]);
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
    sdk_sources(repo, &out_dir);
    sdk_manifests(repo, &out_dir);
}

/// The SDK crates' manifests as a scaffolded plugin needs them: read from the real ones, with every
/// `workspace = true` replaced by the workspace's value and the dev-dependencies left out, so the
/// copy cannot drift from what the SDK builds with here.
fn sdk_manifests(repo: &std::path::Path, out_dir: &std::path::Path) {
    let read = |p: &std::path::Path| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let root = read(&repo.join("Cargo.toml"));
    let workspace = root["workspace"].as_table().unwrap();
    let ws_package = workspace["package"].as_table().unwrap();
    let ws_deps = workspace["dependencies"].as_table().unwrap();
    let inherits = |v: &toml::Value| v.get("workspace").and_then(|w| w.as_bool()) == Some(true);
    let mut entries = String::new();
    for krate in ["plugin-sdk", "protocol", "backup-format"] {
        let mut manifest = read(&repo.join(krate).join("Cargo.toml"));
        manifest.remove("dev-dependencies");
        let package = manifest["package"].as_table_mut().unwrap();
        for (key, value) in package.iter_mut() {
            if inherits(value) {
                *value = ws_package[key].clone();
            }
        }
        let description = package["description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        package.insert(
            "description".into(),
            format!("{description} (the copy sqlmig plugin new wrote; do not edit)").into(),
        );
        package.insert("publish".into(), false.into());
        if let Some(deps) = manifest
            .get_mut("dependencies")
            .and_then(|d| d.as_table_mut())
        {
            for (name, spec) in deps.iter_mut() {
                if !inherits(spec) {
                    continue;
                }
                // The workspace's spec (a version, or a table), with the member's features added.
                let mut resolved = match &ws_deps[name] {
                    toml::Value::String(v) => {
                        toml::Table::from_iter([("version".to_string(), v.clone().into())])
                    }
                    t => t.as_table().unwrap().clone(),
                };
                if let Some(extra) = spec.get("features").and_then(|f| f.as_array()) {
                    let features = resolved
                        .entry("features")
                        .or_insert_with(|| toml::Value::Array(Vec::new()))
                        .as_array_mut()
                        .unwrap();
                    features.extend(extra.iter().cloned());
                }
                *spec = toml::Value::Table(resolved);
            }
        }
        entries += &format!(
            "    ({:?}, {:?}),\n",
            format!("{krate}/Cargo.toml"),
            toml::to_string(&manifest).unwrap()
        );
    }
    std::fs::write(
        out_dir.join("sdk_manifests.rs"),
        format!("/// (path under sdk/, text) of each SDK crate's manifest.\npub static SDK_MANIFESTS: &[(&str, &str)] = &[\n{entries}];\n"),
    )
    .unwrap();
}

/// The plugin SDK's sources (plugin-sdk, inventory, backup-format, wit), embedded so `sqlmig plugin new` can
/// write a self-contained crate on any machine.
fn sdk_sources(repo: &std::path::Path, out_dir: &std::path::Path) {
    let mut entries = String::new();
    for (dir, ext) in [
        ("plugin-sdk/src", "rs"),
        ("protocol/src", "rs"),
        ("backup-format/src", "rs"),
        ("wit", "wit"),
    ] {
        // Modules may have submodules in folders of their own (`collect/queries.rs`).
        let mut files = Vec::new();
        let mut folders = vec![repo.join(dir)];
        while let Some(folder) = folders.pop() {
            for p in std::fs::read_dir(&folder)
                .unwrap()
                .flatten()
                .map(|e| e.path())
            {
                // The frozen older lines are the host's business, not a plugin's.
                if p.is_dir() && !p.ends_with("wit/frozen") {
                    folders.push(p);
                } else if p.extension().is_some_and(|e| e == ext) {
                    files.push(p);
                }
            }
        }
        files.sort();
        for f in files {
            let name = f
                .strip_prefix(repo)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            entries += &format!(
                "    ({name:?}, include_str!({:?})),\n",
                f.display().to_string()
            );
        }
    }
    std::fs::write(
        out_dir.join("sdk_sources.rs"),
        format!("/// (path in the repository, text) of each SDK source file.\npub static SDK_SOURCES: &[(&str, &str)] = &[\n{entries}];\n"),
    )
    .unwrap();
}
