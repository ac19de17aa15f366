//! Shared pieces of sqlmig's end-to-end tests: the test plugins' paths, loading helpers and test
//! doubles for the services behind capabilities.

pub mod azurite;
pub mod cli;
pub mod doubles;
pub mod estate;
pub mod migration;
pub mod moto;
pub mod service;

/// Paths of the test plugins built by `build.rs`.
pub mod plugins {
    include!(concat!(env!("OUT_DIR"), "/test_plugins.rs"));
}

use std::path::Path;

use sqlmig::capabilities::{CapabilitySet, Grants};
use sqlmig::plugins::Manifest;
use sqlmig::runtime::{Limits, LoadedPlugin, PluginError, Runtime};

/// A runtime without a disk cache.
pub fn runtime() -> Runtime {
    Runtime::new(None).expect("create the runtime")
}

/// Reads a test plugin's manifest.
pub fn manifest(path: &str) -> Manifest {
    Manifest::read(Path::new(path)).expect("test manifests are valid")
}

/// Loads a test plugin with what its manifest asks for, `granted` by the operator, and `limits`.
pub fn load(
    rt: &Runtime,
    wasm: &str,
    manifest_path: &str,
    granted: CapabilitySet,
    limits: Limits,
) -> Result<LoadedPlugin, PluginError> {
    let m = manifest(manifest_path);
    let bytes = std::fs::read(wasm).expect("test plugin built");
    let grants = Grants {
        plugin: m.label(),
        plugin_name: m.name.clone(),
        asked: m.capabilities.clone(),
        granted,
    };
    LoadedPlugin::load(rt, &bytes, wasm, grants, limits)
}
