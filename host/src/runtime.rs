//! The WebAssembly runtime: one engine per process, the plugin contract's bindings, limits,
//! the compiled-component cache and API version checks.

pub mod cache;
pub mod engine;
pub mod error;
pub mod instance;
pub mod limits;
pub mod versions;
pub mod wit;

pub use engine::Runtime;
pub use error::PluginError;
pub use instance::{HookCall, HookOutput, LoadedPlugin};
pub use limits::Limits;
