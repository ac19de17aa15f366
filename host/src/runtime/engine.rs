//! The one `wasmtime::Engine` of the process, its epoch ticker, the linker holding every host
//! import, and the compiled-component cache.

use std::path::PathBuf;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use super::bindings::v0_1;
use super::cache::{CacheOutcome, ComponentCache};
use super::instance::PluginState;

/// How often the epoch advances; a hook's deadline is checked at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The plugin runtime: engine, linker and cache. Create one per process and share it.
pub struct Runtime {
    engine: Engine,
    linker: Linker<PluginState>,
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

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        v0_1::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;

        let cache = match cache_dir {
            Some(dir) => Some(ComponentCache::open(dir)?),
            None => None,
        };
        Ok(Runtime {
            engine,
            linker,
            cache,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker with WASI and the contract's imports.
    pub fn linker(&self) -> &Linker<PluginState> {
        &self.linker
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
