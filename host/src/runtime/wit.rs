//! The contract's lines as the host speaks them: one module per line holding its bindings and
//! every `Host` impl of its imports (the way Zed keeps `since_vX` modules), and what is common to
//! them: which world a component was built for, a linker per world, and calling a hook.
//!
//! Adding a capability touches its module in `capabilities/`, the WIT (`wit/capabilities.wit`
//! and the worlds that may import it in `wit/worlds.wit`), [`glue`] (its `Host` impl) and its
//! entry in `capabilities::grants` — nothing in `runtime` besides.

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

use super::instance::{HookCall, HookOutput, PluginState};
use crate::capabilities::CapabilityError;
use crate::plugins::manifest::PluginKind;

mod glue;
pub mod since_v0_1;
pub mod since_v0_2;

/// The host-side findings and plugin info: the newest line's types (older lines' are converted).
pub use since_v0_2::{Finding, FindingLevel, FindingScope, PluginInfo};

/// Why a component's world cannot be told.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error(
        "it exports none of the 0.2 hooks interfaces (platform-hooks, method-hooks, rules-hooks, \
         validator-hooks); build it with the SDK's export macro for its kind"
    )]
    NoHooks,
    #[error("it exports the hooks of several kinds ({}); a plugin is of one kind", names(.0))]
    SeveralKinds(Vec<World>),
}

fn names(worlds: &[World]) -> String {
    worlds
        .iter()
        .map(|w| w.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The world a component was built for: its contract line and, from 0.2 on, its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum World {
    /// 0.1's one world: every import, every hook; the kind is the manifest's word.
    Plugin0_1,
    /// 0.2 `platform`.
    Platform,
    /// 0.2 `method`.
    Method,
    /// 0.2 `rules`.
    Rules,
    /// 0.2 `validator`.
    Validator,
}

impl World {
    /// Every world this host runs.
    pub const ALL: [World; 5] = [
        World::Plugin0_1,
        World::Platform,
        World::Method,
        World::Rules,
        World::Validator,
    ];

    /// The plugin kind the world is for (`None`: 0.1, whose one world serves every kind).
    pub fn kind(self) -> Option<PluginKind> {
        match self {
            World::Plugin0_1 => None,
            World::Platform => Some(PluginKind::Platform),
            World::Method => Some(PluginKind::Method),
            World::Rules => Some(PluginKind::Rules),
            World::Validator => Some(PluginKind::Validate),
        }
    }

    /// The world as the WIT names it, with its line.
    pub fn name(self) -> &'static str {
        match self {
            World::Plugin0_1 => "plugin (0.1)",
            World::Platform => "platform",
            World::Method => "method",
            World::Rules => "rules",
            World::Validator => "validator",
        }
    }

    /// The hooks a component of this world exports, in contract order.
    pub fn hooks(self) -> &'static [&'static str] {
        match self {
            World::Plugin0_1 => &[
                "describe", "discover", "collect", "assess", "plan", "run-step", "cutover",
                "validate",
            ],
            World::Platform => &[
                "describe",
                "discover",
                "collect",
                "assess",
                "offer-backup",
                "run-step",
            ],
            World::Method => &["describe", "plan", "run-step", "cutover"],
            World::Rules => &["describe", "assess"],
            World::Validator => &["describe", "validate"],
        }
    }
}

/// The world of a component built against `line`'s contract, read from the hooks interface it
/// exports.
pub fn world_of(
    engine: &Engine,
    component: &Component,
    line: &semver::Version,
) -> Result<World, WorldError> {
    if line.major == 0 && line.minor == 1 {
        return Ok(World::Plugin0_1);
    }
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    since_v0_2::world_from_exports(&exports)
}

/// A linker holding WASI and exactly the imports `world` gives: a component asking for more does
/// not link.
pub fn linker(engine: &Engine, world: World) -> wasmtime::Result<Linker<PluginState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    match world {
        World::Plugin0_1 => since_v0_1::add_to_linker(&mut linker)?,
        w => since_v0_2::add_to_linker(&mut linker, w)?,
    }
    Ok(linker)
}

/// A component pre-linked for its world, ready to be instantiated per call.
pub enum Pre {
    V0_1(since_v0_1::Pre),
    V0_2(since_v0_2::Pre),
}

impl Pre {
    /// Pre-links `component` for `world` with `linker` (from [`linker`] for the same world).
    pub fn new(
        linker: &Linker<PluginState>,
        component: &Component,
        world: World,
    ) -> wasmtime::Result<Pre> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match world {
            World::Plugin0_1 => Pre::V0_1(since_v0_1::Pre::new(pre)?),
            w => Pre::V0_2(since_v0_2::Pre::new(pre, w)?),
        })
    }

    /// Instantiates the component in `store` and calls one hook. Outer error: a trap; inner
    /// error: the hook's own answer (`unsupported`, without instantiating, for a hook the
    /// component's world has not).
    pub async fn call(
        &self,
        store: &mut Store<PluginState>,
        call: HookCall,
    ) -> wasmtime::Result<Result<HookOutput, CapabilityError>> {
        let world = match self {
            Pre::V0_1(_) => World::Plugin0_1,
            Pre::V0_2(pre) => pre.world(),
        };
        // 0.1 answers a backup offer from `plan`.
        let hook = match (world, &call) {
            (World::Plugin0_1, HookCall::OfferBackup(_)) => "plan",
            _ => call.hook(),
        };
        if !world.hooks().contains(&hook) {
            return Ok(Err(not_in_world(world, call.hook())));
        }
        match self {
            Pre::V0_1(pre) => pre.call(store, call).await,
            Pre::V0_2(pre) => pre.call(store, call).await,
        }
    }
}

/// The answer for a hook `world` has not.
fn not_in_world(world: World, hook: &str) -> CapabilityError {
    CapabilityError::Unsupported(format!(
        "a {} plugin has no `{hook}` hook (its world exports {})",
        world.name(),
        world.hooks().join(", ")
    ))
}
