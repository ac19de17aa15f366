//! The `clock` capability: wall-clock time and a host-side sleep, so a plugin polling a restore
//! waits without burning fuel. Sleeps end at the hook's deadline.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::CallContext;

/// Milliseconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Waits `millis`, or until the call's deadline if that comes first.
pub async fn sleep(cx: &CallContext, millis: u64) {
    let remaining = cx.deadline.saturating_duration_since(Instant::now());
    tokio::time::sleep(Duration::from_millis(millis).min(remaining)).await;
}
