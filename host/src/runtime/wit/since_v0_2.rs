//! The 0.2 line (`wit/`, sqlmig:plugin@0.2.0): a world per plugin kind. The `platform` world
//! imports every capability, so its bindings define them; the other worlds' bindings reuse those
//! (`with`), so one `Host` impl per capability serves all four.

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::{World, WorldError};
use crate::runtime::instance::{HookCall, HookOutput};

mod platform {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "platform",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/sql.connection": crate::capabilities::sql::ConnectionHandle,
            "sqlmig:plugin/sql.row-stream": crate::capabilities::sql::RowStreamHandle,
            "sqlmig:plugin/blob.container": crate::capabilities::blob::ContainerHandle,
        },
    });
}

mod method {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "method",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/types": super::platform::sqlmig::plugin::types,
            "sqlmig:plugin/sql": super::platform::sqlmig::plugin::sql,
            "sqlmig:plugin/blob": super::platform::sqlmig::plugin::blob,
            "sqlmig:plugin/http": super::platform::sqlmig::plugin::http,
            "sqlmig:plugin/fs": super::platform::sqlmig::plugin::fs,
            "sqlmig:plugin/state": super::platform::sqlmig::plugin::state,
            "sqlmig:plugin/credentials": super::platform::sqlmig::plugin::credentials,
            "sqlmig:plugin/log": super::platform::sqlmig::plugin::log,
            "sqlmig:plugin/progress": super::platform::sqlmig::plugin::progress,
            "sqlmig:plugin/clock": super::platform::sqlmig::plugin::clock,
        },
    });
}

mod rules {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "rules",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/types": super::platform::sqlmig::plugin::types,
            "sqlmig:plugin/log": super::platform::sqlmig::plugin::log,
            "sqlmig:plugin/progress": super::platform::sqlmig::plugin::progress,
            "sqlmig:plugin/clock": super::platform::sqlmig::plugin::clock,
        },
    });
}

mod validator {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "validator",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/types": super::platform::sqlmig::plugin::types,
            "sqlmig:plugin/sql": super::platform::sqlmig::plugin::sql,
            "sqlmig:plugin/log": super::platform::sqlmig::plugin::log,
            "sqlmig:plugin/progress": super::platform::sqlmig::plugin::progress,
            "sqlmig:plugin/clock": super::platform::sqlmig::plugin::clock,
        },
    });
}

use platform::sqlmig::plugin as w;

// Brings `PluginState`, `CapabilityError` and `cap` (the capability modules) into scope.
super::glue::host_glue!();

pub use w::types::{Finding, FindingLevel, FindingScope, PluginInfo};

/// The world whose hooks interface a 0.2 component exports (`sqlmig:plugin/rules-hooks@0.2.0`).
pub fn world_from_exports(exports: &[String]) -> Result<World, WorldError> {
    let prefix = format!("{}/", crate::runtime::versions::API_PACKAGE);
    let worlds: Vec<World> = exports
        .iter()
        .filter_map(|name| name.strip_prefix(&prefix))
        .filter_map(|rest| match rest.split('@').next() {
            Some("platform-hooks") => Some(World::Platform),
            Some("method-hooks") => Some(World::Method),
            Some("rules-hooks") => Some(World::Rules),
            Some("validator-hooks") => Some(World::Validator),
            _ => None,
        })
        .collect();
    match worlds.as_slice() {
        [world] => Ok(*world),
        [] => Err(WorldError::NoHooks),
        several => Err(WorldError::SeveralKinds(several.to_vec())),
    }
}

/// Adds the imports of `world` (a 0.2 world) to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>, world: World) -> wasmtime::Result<()> {
    match world {
        World::Platform => platform::Platform::add_to_linker::<_, HasSelf<_>>(linker, |s| s),
        World::Method => method::Method::add_to_linker::<_, HasSelf<_>>(linker, |s| s),
        World::Rules => rules::Rules::add_to_linker::<_, HasSelf<_>>(linker, |s| s),
        World::Validator => validator::Validator::add_to_linker::<_, HasSelf<_>>(linker, |s| s),
        World::Plugin0_1 => unreachable!("0.1 has its own module"),
    }
}

/// A 0.2 component pre-linked for its world.
pub enum Pre {
    Platform(platform::PlatformPre<PluginState>),
    Method(method::MethodPre<PluginState>),
    Rules(rules::RulesPre<PluginState>),
    Validator(validator::ValidatorPre<PluginState>),
}

type HookResult = wasmtime::Result<Result<HookOutput, CapabilityError>>;

/// A hook's own answer as the host keeps it.
fn output<T>(r: Result<T, w::types::Error>, into: fn(T) -> HookOutput) -> HookResult {
    Ok(r.map(into).map_err(Into::into))
}

impl Pre {
    /// The world the component was built for.
    pub fn world(&self) -> World {
        match self {
            Pre::Platform(_) => World::Platform,
            Pre::Method(_) => World::Method,
            Pre::Rules(_) => World::Rules,
            Pre::Validator(_) => World::Validator,
        }
    }

    /// Checks `pre`'s exports against `world`.
    pub fn new(pre: InstancePre<PluginState>, world: World) -> wasmtime::Result<Pre> {
        Ok(match world {
            World::Platform => Pre::Platform(platform::PlatformPre::new(pre)?),
            World::Method => Pre::Method(method::MethodPre::new(pre)?),
            World::Rules => Pre::Rules(rules::RulesPre::new(pre)?),
            World::Validator => Pre::Validator(validator::ValidatorPre::new(pre)?),
            World::Plugin0_1 => unreachable!("0.1 has its own module"),
        })
    }

    /// Instantiates and calls one hook of the component's world (the caller has checked the
    /// world has it).
    pub async fn call(&self, store: &mut Store<PluginState>, call: HookCall) -> HookResult {
        use HookOutput::{Document as Doc, Findings, Info};
        match self {
            Pre::Platform(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                let hooks = plugin.sqlmig_plugin_platform_hooks();
                match call {
                    HookCall::Describe => Ok(Ok(Info(hooks.call_describe(store).await?))),
                    HookCall::Discover(d) => output(hooks.call_discover(store, &d).await?, Doc),
                    HookCall::Collect(d) => output(hooks.call_collect(store, &d).await?, Doc),
                    HookCall::Assess { inventory, options } => output(
                        hooks.call_assess(store, &inventory, &options).await?,
                        Findings,
                    ),
                    HookCall::OfferBackup(d) => {
                        output(hooks.call_offer_backup(store, &d).await?, Doc)
                    }
                    HookCall::RunStep(d) => output(hooks.call_run_step(store, &d).await?, Doc),
                    other => unreachable!("{} is not a platform hook", other.hook()),
                }
            }
            Pre::Method(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                let hooks = plugin.sqlmig_plugin_method_hooks();
                match call {
                    HookCall::Describe => Ok(Ok(Info(hooks.call_describe(store).await?))),
                    HookCall::Plan(d) => output(hooks.call_plan(store, &d).await?, Doc),
                    HookCall::RunStep(d) => output(hooks.call_run_step(store, &d).await?, Doc),
                    HookCall::Cutover(d) => output(hooks.call_cutover(store, &d).await?, Doc),
                    other => unreachable!("{} is not a method hook", other.hook()),
                }
            }
            Pre::Rules(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                let hooks = plugin.sqlmig_plugin_rules_hooks();
                match call {
                    HookCall::Describe => Ok(Ok(Info(hooks.call_describe(store).await?))),
                    HookCall::Assess { inventory, options } => output(
                        hooks.call_assess(store, &inventory, &options).await?,
                        Findings,
                    ),
                    other => unreachable!("{} is not a rules hook", other.hook()),
                }
            }
            Pre::Validator(pre) => {
                let plugin = pre.instantiate_async(&mut *store).await?;
                let hooks = plugin.sqlmig_plugin_validator_hooks();
                match call {
                    HookCall::Describe => Ok(Ok(Info(hooks.call_describe(store).await?))),
                    HookCall::Validate(d) => output(hooks.call_validate(store, &d).await?, Doc),
                    other => unreachable!("{} is not a validator hook", other.hook()),
                }
            }
        }
    }
}
