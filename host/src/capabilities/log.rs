//! The `log` capability: plugin messages into the host's log, tagged with the plugin. Always
//! available; messages are truncated so a plugin cannot flood the log with one call.

use tracing::Level;

use super::CallContext;

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

/// Writes the plugin's `message` into the host's log at `level`, tagged with the plugin.
pub fn log(cx: &CallContext, level: Level, message: &str) {
    let plugin = cx.plugin();
    let message = cx.plugin_text(message);
    let msg = truncate(&message, MAX_MESSAGE);
    match level {
        Level::TRACE => tracing::trace!(target: "plugin", %plugin, "{msg}"),
        Level::DEBUG => tracing::debug!(target: "plugin", %plugin, "{msg}"),
        Level::INFO => tracing::info!(target: "plugin", %plugin, "{msg}"),
        Level::WARN => tracing::warn!(target: "plugin", %plugin, "{msg}"),
        Level::ERROR => tracing::error!(target: "plugin", %plugin, "{msg}"),
    }
}
