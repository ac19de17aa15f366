//! What can go wrong when a plugin is loaded or a hook runs. Every message names the plugin,
//! the hook and the limit or capability involved, so a DBA knows whose fault it is.

use crate::capabilities::CapabilityError;

/// A plugin failure. It fails only the plugin's own hook; the host and other plugins go on.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The file is not a WebAssembly component (or not one this engine can compile).
    #[error("plugin {plugin}: {source_name} is not a valid WebAssembly component: {detail}")]
    InvalidComponent {
        plugin: String,
        source_name: String,
        detail: String,
    },
    /// The component does not speak the `sqlmig:plugin` contract at all.
    #[error(
        "plugin {plugin}: the component exports no sqlmig:plugin hooks; build it with sqlmig-plugin-sdk"
    )]
    NotAPlugin { plugin: String },
    /// Built against a contract version this host does not implement.
    #[error(
        "plugin {plugin} was built against sqlmig:plugin@{plugin_api}, but this sqlmig {host} \
         supports sqlmig:plugin {supported}; rebuild the plugin against a supported plugin-sdk \
         or use a sqlmig that supports {plugin_api}"
    )]
    IncompatibleApi {
        plugin: String,
        plugin_api: String,
        host: String,
        supported: String,
    },
    /// Linking failed: the component imports what its world does not give (a rules plugin
    /// asking for `sql`) or lacks an export its world requires.
    #[error(
        "plugin {plugin}: cannot be linked as a {} plugin: {detail}; a plugin may import only \
         what its kind's world gives (wit/worlds.wit)",
        world.name()
    )]
    Instantiate {
        plugin: String,
        world: crate::runtime::wit::World,
        detail: String,
    },
    /// Its limits exceed the operator's maxima.
    #[error("plugin {plugin}: {error}")]
    LimitRefused {
        plugin: String,
        error: super::limits::LimitRefused,
    },
    /// Its component was built for another kind's world than its manifest says.
    #[error("plugin {plugin}: {error}")]
    NotItsKind {
        plugin: String,
        error: crate::plugins::manifest::WorldMismatch,
    },
    /// The hook grew memory past the limit.
    #[error("plugin {plugin}: hook {hook} exceeded its memory limit of {limit_mib} MiB")]
    MemoryLimit {
        plugin: String,
        hook: &'static str,
        limit_mib: u64,
    },
    /// The hook used up its fuel.
    #[error(
        "plugin {plugin}: hook {hook} exceeded its fuel limit of {fuel} instructions \
         (a runaway loop, or raise [limits] fuel in plugin.toml)"
    )]
    FuelLimit {
        plugin: String,
        hook: &'static str,
        fuel: u64,
    },
    /// The hook ran past its wall-clock deadline.
    #[error("plugin {plugin}: hook {hook} exceeded its time limit of {secs} s")]
    TimeLimit {
        plugin: String,
        hook: &'static str,
        secs: u64,
    },
    /// The hook trapped (a panic, an unreachable, a bad memory access).
    #[error("plugin {plugin}: hook {hook} crashed: {detail}")]
    Trap {
        plugin: String,
        hook: &'static str,
        detail: String,
    },
    /// The plugin does not implement the hook.
    #[error("plugin {plugin}: hook {hook} is not supported by this plugin ({message})")]
    Unsupported {
        plugin: String,
        hook: &'static str,
        message: String,
    },
    /// The hook answered something the host cannot use (not the document it asked for): the
    /// plugin's fault, not the operator's input.
    #[error(
        "plugin {plugin}: hook {hook} answered what this sqlmig cannot use: {detail}; update the plugin"
    )]
    BadAnswer {
        plugin: String,
        hook: &'static str,
        detail: String,
    },
    /// The hook returned an error.
    #[error("plugin {plugin}: hook {hook} failed: {error}")]
    Failed {
        plugin: String,
        hook: &'static str,
        error: CapabilityError,
    },
}
