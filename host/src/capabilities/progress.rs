//! The `progress` capability: long work reported to the operator (a bar on a TTY). Always
//! available.

use super::credentials::plugin_text;
use crate::runtime::bindings::v0_1::sqlmig::plugin::progress as wit;
use crate::runtime::instance::PluginState;

/// Receives progress reports.
pub trait ProgressSink: Send + Sync {
    /// `done` of `total` units of work by `plugin`, with what it is doing.
    fn report(&self, plugin: &str, done: u64, total: Option<u64>, message: &str);
}

impl wit::Host for PluginState {
    async fn report(
        &mut self,
        done: u64,
        total: Option<u64>,
        message: String,
    ) -> wasmtime::Result<()> {
        let message = plugin_text(self.call.services.cloud.as_deref(), &message);
        let msg = super::log::truncate(&message, 256);
        match &self.call.services.progress {
            Some(sink) => sink.report(&self.call.grants.plugin, done, total, msg),
            None => tracing::debug!(plugin = %self.call.grants.plugin, done, ?total, "{msg}"),
        }
        Ok(())
    }
}
