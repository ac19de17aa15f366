//! The 0.1 line, frozen (`wit/frozen/0.1/`, sqlmig:plugin@0.1.1): one world, `plugin`, importing
//! every capability and exporting every hook. Plugins built against 0.1.0 or 0.1.1 keep running;
//! their capability calls go to the same capability modules as 0.2's, and their findings and
//! plugin info are turned into the newest line's.

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::runtime::instance::{HookCall, HookOutput};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/frozen/0.1",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/sql.connection": crate::capabilities::sql::ConnectionHandle,
            "sqlmig:plugin/sql.row-stream": crate::capabilities::sql::RowStreamHandle,
            "sqlmig:plugin/blob.container": crate::capabilities::blob::ContainerHandle,
        },
    });
}

use bindings::sqlmig::plugin as w;

// Brings `PluginState`, `CapabilityError` and `cap` (the capability modules) into scope.
super::glue::host_glue!();

/// The version of the frozen line (its WIT's, read at build time).
pub const VERSION: &str =
    sqlmig_protocol::package_version(include_str!("../../../../wit/frozen/0.1/types.wit"));

/// Adds 0.1's imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    bindings::Plugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)
}

/// A 0.1 component, pre-linked.
pub struct Pre(bindings::PluginPre<PluginState>);

type Latest = super::since_v0_2::PluginInfo;

fn info(i: w::types::PluginInfo) -> Latest {
    Latest {
        name: i.name,
        version: i.version,
        summary: i.summary,
    }
}

fn findings(f: Vec<w::types::Finding>) -> Vec<super::Finding> {
    use super::{FindingLevel as L, FindingScope as S};
    use w::types::{FindingLevel, FindingScope};
    f.into_iter()
        .map(|f| super::Finding {
            rule_id: f.rule_id,
            level: match f.level {
                FindingLevel::Issue => L::Issue,
                FindingLevel::Warning => L::Warning,
                FindingLevel::Info => L::Info,
            },
            scope: match f.scope {
                FindingScope::Instance => S::Instance,
                FindingScope::Database => S::Database,
                FindingScope::Object => S::Object,
            },
            instance: f.instance,
            database: f.database,
            object: f.object,
            file: f.file,
            line: f.line,
            title: f.title,
            message: f.message,
            impact: f.impact,
            remediation: f.remediation,
            help_url: f.help_url,
        })
        .collect()
}

type HookResult = wasmtime::Result<Result<HookOutput, CapabilityError>>;

fn output<T>(r: Result<T, w::types::Error>, into: impl FnOnce(T) -> HookOutput) -> HookResult {
    Ok(r.map(into).map_err(Into::into))
}

impl Pre {
    /// Checks `pre`'s exports against the 0.1 world.
    pub fn new(pre: InstancePre<PluginState>) -> wasmtime::Result<Pre> {
        Ok(Pre(bindings::PluginPre::new(pre)?))
    }

    /// Instantiates and calls one hook.
    pub async fn call(&self, store: &mut Store<PluginState>, call: HookCall) -> HookResult {
        use HookOutput::Document as Doc;
        let plugin = self.0.instantiate_async(&mut *store).await?;
        let hooks = plugin.sqlmig_plugin_hooks();
        match call {
            HookCall::Describe => Ok(Ok(HookOutput::Info(info(
                hooks.call_describe(store).await?,
            )))),
            HookCall::Discover(d) => output(hooks.call_discover(store, &d).await?, Doc),
            HookCall::Collect(d) => output(hooks.call_collect(store, &d).await?, Doc),
            HookCall::Assess { inventory, options } => {
                output(hooks.call_assess(store, &inventory, &options).await?, |f| {
                    HookOutput::Findings(findings(f))
                })
            }
            HookCall::Plan(d) | HookCall::OfferBackup(d) => {
                output(hooks.call_plan(store, &d).await?, Doc)
            }
            HookCall::RunStep(d) => output(hooks.call_run_step(store, &d).await?, Doc),
            HookCall::Cutover(d) => output(hooks.call_cutover(store, &d).await?, Doc),
            HookCall::Validate(d) => output(hooks.call_validate(store, &d).await?, Doc),
        }
    }
}
