//! The `log` capability: plugin messages into the host's log, tagged with the plugin. Always
//! available; messages are truncated so a plugin cannot flood the log with one call.

use super::credentials::plugin_text;
use crate::runtime::bindings::v0_1::sqlmig::plugin::log as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::LogLevel;
use crate::runtime::instance::PluginState;

/// Longest message kept, in bytes.
const MAX_MESSAGE: usize = 4096;

/// `message` cut to at most `max` bytes on a character boundary.
pub fn truncate(message: &str, max: usize) -> &str {
    if message.len() <= max {
        return message;
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

impl wit::Host for PluginState {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        let plugin = &self.call.grants.plugin;
        let message = plugin_text(self.call.services.cloud.as_deref(), &message);
        let msg = truncate(&message, MAX_MESSAGE);
        match level {
            LogLevel::Trace => tracing::trace!(target: "plugin", %plugin, "{msg}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", %plugin, "{msg}"),
            LogLevel::Info => tracing::info!(target: "plugin", %plugin, "{msg}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", %plugin, "{msg}"),
            LogLevel::Error => tracing::error!(target: "plugin", %plugin, "{msg}"),
        }
        Ok(())
    }
}
