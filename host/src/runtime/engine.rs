//! The one `wasmtime::Engine` of the process, its epoch ticker, a linker per world of the
//! contract (each holding exactly the imports its world gives), and the compiled-component cache.

use std::path::PathBuf;
use std::time::Duration;

use std::collections::HashMap;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

use super::cache::{CacheOutcome, ComponentCache};
use super::instance::PluginState;
use super::wit::{self, World};

/// How often the epoch advances; a hook's deadline is checked at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The plugin runtime: engine, linkers and cache. Create one per process and share it.
pub struct Runtime {
    engine: Engine,
    linkers: HashMap<World, Linker<PluginState>>,
    cache: Option<ComponentCache>,
}

impl Runtime {
    /// A runtime caching compiled components in `cache_dir` (none: compile every time).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true);
        let engine = Engine::new(&config)?;
        spawn_epoch_ticker(&engine);

        let linkers = World::ALL
            .into_iter()
            .map(|w| Ok((w, wit::linker(&engine, w)?)))
            .collect::<wasmtime::Result<_>>()?;

        let cache = match cache_dir {
            Some(dir) => Some(ComponentCache::open(dir)?),
            None => None,
        };
        Ok(Runtime {
            engine,
            linkers,
            cache,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker with WASI and the imports `world` gives.
    pub fn linker(&self, world: World) -> &Linker<PluginState> {
        &self.linkers[&world]
    }

    /// Compiles `wasm`, or loads it from the cache when it was compiled before.
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<(Component, CacheOutcome)> {
        match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, wasm),
            None => Ok((Component::new(&self.engine, wasm)?, CacheOutcome::Compiled)),
        }
    }
}

/// Advances the engine's epoch from a small thread for as long as the engine lives. A thread, not
/// a tokio task, so the deadline holds even when every runtime worker is busy in wasm.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("sqlmig-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker thread");
}
