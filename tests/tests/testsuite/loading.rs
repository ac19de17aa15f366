//! What the host refuses before running anything: garbage bytes, components built against a
//! contract line it does not implement; and the compiled-component cache.

use sqlmig::capabilities::Services;
use sqlmig::capabilities::{CapabilitySet, Grants};
use sqlmig::runtime::cache::CacheOutcome;
use sqlmig::runtime::wit::World;
use sqlmig::runtime::{HookCall, HookOutput};
use sqlmig::runtime::{Limits, LoadedPlugin, PluginError, Runtime};
use sqlmig_tests::plugins::{
    FULL_WASM, HOSTILE_METHOD_MANIFEST, HOSTILE_METHOD_WASM, HOSTILE_RULES_MANIFEST,
    HOSTILE_RULES_WASM, OLDER_API_MANIFEST, OLDER_API_WASM, WRONG_API_MANIFEST, WRONG_API_WASM,
};
use sqlmig_tests::{load, runtime};

fn grants(name: &str) -> Grants {
    Grants {
        plugin: format!("{name} 1.0.0"),
        plugin_name: name.into(),
        ..Default::default()
    }
}

#[test]
fn garbage_bytes_are_not_a_component() {
    let rt = runtime();
    let err = LoadedPlugin::load(
        &rt,
        b"MZ\x90\x00 not wasm at all",
        "junk.wasm",
        grants("junk"),
        Limits::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, PluginError::InvalidComponent { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("junk.wasm is not a valid WebAssembly component"),
        "{text}"
    );
}

#[test]
fn a_core_module_is_not_a_plugin_component() {
    let rt = runtime();
    // The smallest valid core wasm module: magic and version only.
    let module = b"\0asm\x01\0\0\0";
    let err = LoadedPlugin::load(&rt, module, "core.wasm", grants("core"), Limits::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, PluginError::InvalidComponent { .. }),
        "{err:?}"
    );
}

#[test]
fn a_newer_contract_line_is_refused_naming_both_versions() {
    let rt = runtime();
    let err = load(
        &rt,
        WRONG_API_WASM,
        WRONG_API_MANIFEST,
        CapabilitySet::default(),
        Limits::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(err, PluginError::IncompatibleApi { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("built against sqlmig:plugin@0.3.0"), "{text}");
    assert!(
        text.contains("supports sqlmig:plugin 0.2.x (>=0.2.0, <0.3.0), 0.1.x (>=0.1.0, <0.2.0)"),
        "{text}"
    );
}

/// The contract grew `credentials` in 0.1.1; a plugin built against 0.1.0 still links (its
/// imports and its hooks export resolve to the 0.1.1 names) and runs.
#[tokio::test]
async fn an_earlier_release_of_the_line_still_runs() {
    let rt = runtime();
    let p = load(
        &rt,
        OLDER_API_WASM,
        OLDER_API_MANIFEST,
        CapabilitySet::default(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(p.api.to_string(), "0.1.0");
    let out = p
        .call(
            &Services::default(),
            HookCall::Discover("{\"schema\":\"x/1\"}".into()),
        )
        .await
        .unwrap();
    let HookOutput::Document(doc) = out else {
        panic!("{out:?}")
    };
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["echo"]["schema"], "x/1");
    assert!(v["now"].as_u64().unwrap() > 1_700_000_000_000, "{doc}");
}

#[test]
fn the_second_load_comes_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(FULL_WASM).unwrap();
    let first = Runtime::new(Some(dir.path().to_path_buf())).unwrap();
    let p = LoadedPlugin::load(&first, &wasm, "full", grants("full"), Limits::default()).unwrap();
    assert_eq!(p.cache, CacheOutcome::Compiled);
    drop(first);
    // A new runtime (a new process, as far as the engine is concerned) finds it compiled.
    let second = Runtime::new(Some(dir.path().to_path_buf())).unwrap();
    let p = LoadedPlugin::load(&second, &wasm, "full", grants("full"), Limits::default()).unwrap();
    assert_eq!(p.cache, CacheOutcome::Hit);
    drop((p, second));

    // A damaged entry is dropped and recompiled, never trusted.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"damaged").unwrap();
    }
    let third = Runtime::new(Some(dir.path().to_path_buf())).unwrap();
    let p = LoadedPlugin::load(&third, &wasm, "full", grants("full"), Limits::default()).unwrap();
    assert_eq!(p.cache, CacheOutcome::Compiled);
}

/// The one entry in a cache folder.
fn only_entry(dir: &std::path::Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[cfg(unix)]
#[test]
fn precompiled_code_is_loaded_only_from_what_this_user_alone_could_write() {
    use std::os::unix::fs::{PermissionsExt, chown};
    let wasm = std::fs::read(FULL_WASM).unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cache");
    let load = || {
        let rt = Runtime::new(Some(dir.clone())).unwrap();
        LoadedPlugin::load(&rt, &wasm, "full", grants("full"), Limits::default())
            .unwrap()
            .cache
    };
    assert_eq!(load(), CacheOutcome::Compiled);
    assert_eq!(load(), CacheOutcome::Hit);
    let entry = only_entry(&dir);
    let good = std::fs::read(&entry).unwrap();
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };

    // An entry others can write, one another user owns, and a link: none is loaded.
    mode(&entry, 0o666);
    assert_eq!(load(), CacheOutcome::Compiled);
    let entry = only_entry(&dir);
    chown(&entry, Some(65534), Some(65534)).unwrap();
    assert_eq!(load(), CacheOutcome::Compiled);
    let entry = only_entry(&dir);
    let elsewhere = root.path().join("planted.cwasm");
    std::fs::write(&elsewhere, &good).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    assert_eq!(load(), CacheOutcome::Compiled);
    assert!(!only_entry(&dir).is_symlink());
    assert_eq!(load(), CacheOutcome::Hit);

    // A cache folder others can write, or below a folder others can write, is refused with
    // what to fix.
    mode(&dir, 0o770);
    let err = Runtime::new(Some(dir.clone())).err().unwrap().to_string();
    assert!(
        err.contains("can be written by other users") && err.contains("chmod go-w"),
        "{err}"
    );
    mode(&dir, 0o700);
    mode(root.path(), 0o777);
    let err = Runtime::new(Some(dir.clone())).err().unwrap().to_string();
    assert!(
        err.contains("the folder above it") && err.contains("chmod go-w"),
        "{err}"
    );
    mode(root.path(), 0o700);
    chown(&dir, Some(65534), Some(65534)).unwrap();
    let err = Runtime::new(Some(dir.clone())).err().unwrap().to_string();
    assert!(err.contains("belongs to user 65534"), "{err}");
}

/// A 0.2 component's world is read from the hooks it exports, and it links against exactly that
/// world's imports: a rules component importing `sql` does not link, naming the import; a method
/// asked for a hook its world has not answers `unsupported`, naming the hooks it has.
#[tokio::test]
async fn a_component_runs_in_the_world_it_was_built_for() {
    let rt = runtime();
    let err = load(
        &rt,
        HOSTILE_RULES_WASM,
        HOSTILE_RULES_MANIFEST,
        CapabilitySet::default(),
        Limits::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            PluginError::Instantiate {
                world: World::Rules,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("sqlmig:plugin/sql@0.2.0"), "{err}");

    let method = load(
        &rt,
        HOSTILE_METHOD_WASM,
        HOSTILE_METHOD_MANIFEST,
        CapabilitySet::default(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(method.world, World::Method);
    let err = method
        .call(
            &Services::default(),
            HookCall::Assess {
                inventory: "{}".into(),
                options: "{}".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a method plugin has no `assess` hook (its world exports describe, plan, run-step, cutover)"),
        "{err}"
    );
    let full = LoadedPlugin::load(
        &rt,
        &std::fs::read(FULL_WASM).unwrap(),
        "full",
        grants("full"),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(full.world, World::Plugin0_1);
}
