//! Plugins as files: the manifest (`plugin.toml`), the store of installed plugins, the plugins
//! bundled into the binary, loading one for a run, and writing a new one (`plugin new`).

pub mod bundled;
pub mod loader;
pub mod manifest;
pub mod scaffold;
pub mod store;

pub use loader::load_plugin;
pub use manifest::Manifest;
pub use store::{InstallOptions, InstalledPlugin, PluginStore};
