//! The `progress` capability: long work reported to the operator (a bar on a TTY). Always
//! available.

use super::CallContext;

/// Receives progress reports.
pub trait ProgressSink: Send + Sync {
    /// `done` of `total` units of work by `plugin`, with what it is doing.
    fn report(&self, plugin: &str, done: u64, total: Option<u64>, message: &str);
}

/// Passes the plugin's report on to the command's sink (the debug log when it has none).
pub fn report(cx: &CallContext, done: u64, total: Option<u64>, message: &str) {
    let message = cx.plugin_text(message);
    let msg = super::log::truncate(&message, 256);
    match &cx.services.progress {
        Some(sink) => sink.report(cx.plugin(), done, total, msg),
        None => tracing::debug!(plugin = %cx.plugin(), done, ?total, "{msg}"),
    }
}
