//! A loaded plugin and the calling of its hooks: every call gets a fresh store and instance, its
//! own limits and a WASI context built from nothing, so a plugin that misbehaves fails only that
//! call and leaves nothing behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use semver::Version;
use wasmtime::component::{Component, ResourceTable};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::cache::CacheOutcome;
use super::engine::Runtime;
use super::error::PluginError;
use super::limits::{Limits, MemoryLimiter};
use super::versions;
use super::wit::{self, World};
use crate::capabilities::credentials::{CloudValues, plugin_text};
use crate::capabilities::{CallContext, CapabilityError, Grants, Services};

pub use super::wit::{Finding, FindingLevel, FindingScope, PluginInfo};

/// How much of a plugin's stderr (panic messages) is kept for the error report.
const STDERR_CAPTURE: usize = 64 * 1024;
/// Extra time given past the deadline before an await in a host call is abandoned.
const DEADLINE_GRACE: Duration = Duration::from_millis(500);

/// The data of a plugin's store.
pub struct PluginState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) call: CallContext,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Marks a trap raised because the hook's wall-clock deadline passed.
#[derive(Debug)]
struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline passed")
    }
}

impl std::error::Error for DeadlinePassed {}

/// A hook call with its input.
#[derive(Clone, Debug)]
pub enum HookCall {
    Describe,
    Discover(String),
    Collect(String),
    Assess {
        inventory: String,
        options: String,
    },
    Plan(String),
    /// A platform's backup offer (0.2 `offer-backup`; 0.1 platforms answered it from `plan`).
    OfferBackup(String),
    RunStep(String),
    Cutover(String),
    Validate(String),
}

impl HookCall {
    /// The hook's name as the contract spells it.
    pub fn hook(&self) -> &'static str {
        match self {
            HookCall::Describe => "describe",
            HookCall::Discover(_) => "discover",
            HookCall::Collect(_) => "collect",
            HookCall::Assess { .. } => "assess",
            HookCall::Plan(_) => "plan",
            HookCall::OfferBackup(_) => "offer-backup",
            HookCall::RunStep(_) => "run-step",
            HookCall::Cutover(_) => "cutover",
            HookCall::Validate(_) => "validate",
        }
    }
}

/// Every hook name, in contract order.
pub const HOOKS: &[&str] = &[
    "describe",
    "discover",
    "collect",
    "assess",
    "plan",
    "offer-backup",
    "run-step",
    "cutover",
    "validate",
];

/// What a hook returned.
#[derive(Clone, Debug)]
pub enum HookOutput {
    Info(PluginInfo),
    Document(String),
    Findings(Vec<Finding>),
}

impl HookOutput {
    /// The output as the host may show and keep it: credential values in `cloud` as `***`,
    /// and findings' text without terminal control characters ([`plugin_text`]).
    fn redacted(self, cloud: Option<&CloudValues>) -> HookOutput {
        match self {
            HookOutput::Document(d) => HookOutput::Document(match cloud {
                Some(c) => c.redact(&d),
                None => d,
            }),
            HookOutput::Findings(f) => HookOutput::Findings(
                f.into_iter()
                    .map(|mut f| {
                        f.message = plugin_text(cloud, &f.message);
                        f.impact = plugin_text(cloud, &f.impact);
                        f
                    })
                    .collect(),
            ),
            info => info,
        }
    }
}

/// A hook's error as the host may show it ([`plugin_text`]).
fn redact_error(e: CapabilityError, cloud: Option<&CloudValues>) -> CapabilityError {
    let message = plugin_text(cloud, e.message());
    e.with_message(message)
}

/// A plugin compiled, version-checked and pre-linked, ready to have its hooks called.
pub struct LoadedPlugin {
    /// `name version`, as messages show it.
    pub label: String,
    /// The contract version the component was built against.
    pub api: Version,
    /// The world it was built for (from 0.2 on, its kind).
    pub world: World,
    /// The limits its hooks run under.
    pub limits: Limits,
    /// Whether compilation was skipped thanks to the cache.
    pub cache: CacheOutcome,
    grants: Arc<Grants>,
    /// Cloud credentials and outbound HTTP every call gets unless the caller brings its own.
    cloud: Services,
    engine: wasmtime::Engine,
    pre: wit::Pre,
}

impl LoadedPlugin {
    /// Compiles (or loads from the cache) `wasm`, checks the contract version it was built
    /// against, and pre-links it. Nothing of the plugin runs here.
    pub fn load(
        runtime: &Runtime,
        wasm: &[u8],
        source_name: &str,
        grants: Grants,
        limits: Limits,
    ) -> Result<LoadedPlugin, PluginError> {
        let label = grants.plugin.clone();
        let (component, cache) =
            runtime
                .compile(wasm)
                .map_err(|e| PluginError::InvalidComponent {
                    plugin: label.clone(),
                    source_name: source_name.to_string(),
                    detail: format!("{e:#}"),
                })?;
        let api = check_api(runtime, &component, &label)?;
        let world = wit::world_of(runtime.engine(), &component, &api).map_err(|e| {
            PluginError::InvalidComponent {
                plugin: label.clone(),
                source_name: source_name.to_string(),
                detail: e.to_string(),
            }
        })?;
        let pre = wit::Pre::new(runtime.linker(world), &component, world).map_err(|e| {
            PluginError::Instantiate {
                plugin: label.clone(),
                world,
                detail: format!("{e:#}"),
            }
        })?;
        Ok(LoadedPlugin {
            label,
            api,
            world,
            limits,
            cache,
            grants: Arc::new(grants),
            cloud: Services::default(),
            engine: runtime.engine().clone(),
            pre,
        })
    }

    /// Gives every later call the cloud values and HTTP backend in `cloud` (a cloud platform's
    /// credentials, for the whole command), unless a call's services bring their own.
    pub fn attach_cloud(&mut self, cloud: &Services) {
        self.cloud.cloud = cloud.cloud.clone();
        self.cloud.http = cloud.http.clone();
    }

    /// Calls one hook in a fresh instance under the plugin's limits.
    pub async fn call(
        &self,
        services: &Services,
        call: HookCall,
    ) -> Result<HookOutput, PluginError> {
        let mut services = services.clone();
        if services.cloud.is_none() {
            services.cloud = self.cloud.cloud.clone();
        }
        if services.http.is_none() {
            services.http = self.cloud.http.clone();
        }
        let services = &services;
        let hook = call.hook();
        let timeout = self.limits.timeout();
        let deadline = Instant::now() + timeout;
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        // Nothing inherited: no env, args, preopens or sockets; stdout discarded, stderr kept for
        // panic messages.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = PluginState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(self.limits.memory_bytes()),
            call: CallContext {
                grants: self.grants.clone(),
                services: services.clone(),
                deadline,
                memory_limit: self.limits.memory_bytes(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store
            .set_fuel(self.limits.fuel)
            .expect("fuel is enabled on the engine");
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(wasmtime::Error::new(DeadlinePassed))
            } else {
                // Yield so the executor can run other work (and notice cancellation).
                Ok(UpdateDeadline::Yield(1))
            }
        });

        let outcome =
            tokio::time::timeout(timeout + DEADLINE_GRACE, self.pre.call(&mut store, call)).await;
        let limiter_refused = store.data().limiter.refused.is_some();
        let result = match outcome {
            Ok(r) => r,
            Err(_) => {
                return Err(PluginError::TimeLimit {
                    plugin: self.label.clone(),
                    hook,
                    secs: self.limits.timeout_secs,
                });
            }
        };
        // What the plugin hands on goes to reports, plans, journals and the terminal: no
        // credential value may ride along, whatever the plugin did with it, nor a control
        // sequence.
        let cloud = services.cloud.as_deref();
        let result = result.map(|r| {
            r.map(|o| o.redacted(cloud))
                .map_err(|e| redact_error(e, cloud))
        });
        match result {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(match e {
                CapabilityError::Unsupported(message) => PluginError::Unsupported {
                    plugin: self.label.clone(),
                    hook,
                    message,
                },
                error => PluginError::Failed {
                    plugin: self.label.clone(),
                    hook,
                    error,
                },
            }),
            Err(e) => Err(self.classify_trap(
                hook,
                e,
                limiter_refused,
                &stderr,
                services.cloud.as_deref(),
            )),
        }
    }

    /// Turns a trap into the error that says which limit or fault it was.
    fn classify_trap(
        &self,
        hook: &'static str,
        e: wasmtime::Error,
        memory_refused: bool,
        stderr: &MemoryOutputPipe,
        cloud: Option<&CloudValues>,
    ) -> PluginError {
        let plugin = self.label.clone();
        if e.downcast_ref::<DeadlinePassed>().is_some()
            || matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt))
        {
            return PluginError::TimeLimit {
                plugin,
                hook,
                secs: self.limits.timeout_secs,
            };
        }
        if matches!(e.downcast_ref::<Trap>(), Some(Trap::OutOfFuel)) {
            return PluginError::FuelLimit {
                plugin,
                hook,
                fuel: self.limits.fuel,
            };
        }
        if memory_refused {
            return PluginError::MemoryLimit {
                plugin,
                hook,
                limit_mib: self.limits.memory_mib,
            };
        }
        let said = String::from_utf8_lossy(&stderr.contents())
            .trim()
            .to_string();
        // A panic message is the plugin's text like any other.
        let said = plugin_text(cloud, &said);
        let trap = match e.downcast_ref::<Trap>() {
            Some(t) => t.to_string(),
            None => format!("{e:#}"),
        };
        let detail = if said.is_empty() {
            trap
        } else {
            // The last lines carry the panic message; earlier output is the plugin's own noise.
            let tail: Vec<&str> = said.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("{trap}; the plugin said: {}", tail.join(" | "))
        };
        PluginError::Trap {
            plugin,
            hook,
            detail,
        }
    }
}

/// Reads the contract version of a compiled component and refuses one this host cannot run.
fn check_api(
    runtime: &Runtime,
    component: &Component,
    label: &str,
) -> Result<Version, PluginError> {
    let api = versions::component_api_version(runtime.engine(), component)
        .map_err(|e| PluginError::InvalidComponent {
            plugin: label.to_string(),
            source_name: "component".into(),
            detail: e.to_string(),
        })?
        .ok_or_else(|| PluginError::NotAPlugin {
            plugin: label.to_string(),
        })?;
    if versions::compatible_line(&api).is_none() {
        return Err(PluginError::IncompatibleApi {
            plugin: label.to_string(),
            plugin_api: api.to_string(),
            host: crate::HOST_VERSION.to_string(),
            supported: versions::supported_range(),
        });
    }
    Ok(api)
}
