//! The first-party plugins of `plugins/`, built by `host/build.rs` and compiled into the binary,
//! so a fresh user has them without installing anything.

use super::manifest::Manifest;
use super::store::{InstalledPlugin, bundled_plugin};
use crate::runtime::versions;

// Defines `BUNDLED: &[(&str, &[u8])]`: each plugin's manifest text and component bytes.
include!(concat!(env!("OUT_DIR"), "/bundled_plugins.rs"));

/// The bundled plugins, as the store presents them.
pub fn plugins() -> Vec<InstalledPlugin> {
    BUNDLED
        .iter()
        .map(|(manifest, wasm)| {
            let manifest =
                Manifest::parse(manifest).expect("bundled manifests are checked by host/build.rs");
            // Bundled plugins are built from this repository's contract.
            bundled_plugin(manifest, wasm, versions::current_api())
        })
        .collect()
}
