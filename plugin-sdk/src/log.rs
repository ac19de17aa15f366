//! Log and progress helpers: messages go to the operator's log, tagged with the plugin's name.

use crate::LogLevel;
use crate::bindings::platform::sqlmig::plugin::{log as wit_log, progress as wit_progress};

/// Logs at trace level.
pub fn trace(message: &str) {
    wit_log::log(LogLevel::Trace, message);
}

/// Logs at debug level.
pub fn debug(message: &str) {
    wit_log::log(LogLevel::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    wit_log::log(LogLevel::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    wit_log::log(LogLevel::Warn, message);
}

/// Logs at error level.
pub fn error(message: &str) {
    wit_log::log(LogLevel::Error, message);
}

/// Reports `done` of `total` units of work (`None` when the total is unknown).
pub fn progress(done: u64, total: Option<u64>, message: &str) {
    wit_progress::report(done, total, message);
}
