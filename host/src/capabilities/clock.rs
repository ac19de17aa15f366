//! The `clock` capability: wall-clock time and a host-side sleep, so a plugin polling a restore
//! waits without burning fuel. Sleeps end at the hook's deadline.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::runtime::bindings::v0_1::sqlmig::plugin::clock as wit;
use crate::runtime::instance::PluginState;

impl wit::Host for PluginState {
    async fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0))
    }

    async fn sleep(&mut self, millis: u64) -> wasmtime::Result<()> {
        let remaining = self.call.deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(Duration::from_millis(millis).min(remaining)).await;
        Ok(())
    }
}
