//! Resource limits a hook runs under: memory, fuel and wall-clock time.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Mebibytes, the unit DBAs read in limits.
const MIB: u64 = 1024 * 1024;

/// The limits one plugin's hooks run under, after the manifest's asks were checked against the
/// operator's maxima.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Linear memory across all of the component's memories, in MiB.
    pub memory_mib: u64,
    /// Fuel per hook call (roughly one unit per WebAssembly instruction).
    pub fuel: u64,
    /// Wall-clock time per hook call, in seconds.
    pub timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 256,
            fuel: 200_000_000_000,
            timeout_secs: 300,
        }
    }
}

impl Limits {
    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib.saturating_mul(MIB)).unwrap_or(usize::MAX)
    }

    /// The wall-clock limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// The most an operator lets any plugin ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitMaxima {
    pub memory_mib: u64,
    pub fuel: u64,
    pub timeout_secs: u64,
}

impl Default for LimitMaxima {
    fn default() -> Self {
        LimitMaxima {
            memory_mib: 4096,
            fuel: 10_000_000_000_000,
            timeout_secs: 24 * 3600,
        }
    }
}

/// A manifest's limit the host will not grant.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitRefused {
    #[error(
        "it asks for {what} = {asked}, above the operator's maximum of {max} (raise [limits] \
         {what} in sqlmig.toml to allow it)"
    )]
    AboveMaximum {
        what: &'static str,
        asked: u64,
        max: u64,
    },
    #[error("it asks for {what} = 0, which no hook can run in")]
    Zero { what: &'static str },
}

/// What a manifest may ask for; unset fields take the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitAsks {
    pub memory_mib: Option<u64>,
    pub fuel: Option<u64>,
    pub timeout_secs: Option<u64>,
}

impl LimitAsks {
    /// Resolves the asks against the defaults and the operator's maxima; an ask above a maximum
    /// is refused with both numbers named.
    pub fn resolve(&self, maxima: &LimitMaxima) -> Result<Limits, LimitRefused> {
        let d = Limits::default();
        let pick = |what: &'static str, ask: Option<u64>, default: u64, max: u64| {
            let value = ask.unwrap_or(default.min(max));
            if value > max {
                Err(LimitRefused::AboveMaximum {
                    what,
                    asked: value,
                    max,
                })
            } else if value == 0 {
                Err(LimitRefused::Zero { what })
            } else {
                Ok(value)
            }
        };
        Ok(Limits {
            memory_mib: pick(
                "memory_mib",
                self.memory_mib,
                d.memory_mib,
                maxima.memory_mib,
            )?,
            fuel: pick("fuel", self.fuel, d.fuel, maxima.fuel)?,
            timeout_secs: pick(
                "timeout_secs",
                self.timeout_secs,
                d.timeout_secs,
                maxima.timeout_secs,
            )?,
        })
    }
}

/// Enforces the memory limit and remembers a refused growth, so the error can say it was memory.
pub struct MemoryLimiter {
    limit: usize,
    /// Bytes currently held by all memories of the instance.
    total: usize,
    /// The size a growth asked for when it was refused.
    pub refused: Option<usize>,
}

impl MemoryLimiter {
    /// The bytes the instance may hold in all.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A limiter allowing `limit` bytes in total.
    pub fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            total: 0,
            refused: None,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total - current.min(self.total) + desired;
        if total > self.limit {
            self.refused = Some(total);
            return Ok(false);
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million is far beyond any honest plugin.
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn asks_within_maxima_are_granted_and_defaults_fill_the_rest() {
        let asks = LimitAsks {
            memory_mib: Some(512),
            ..Default::default()
        };
        let limits = asks.resolve(&LimitMaxima::default()).unwrap();
        assert_eq!(limits.memory_mib, 512);
        assert_eq!(limits.timeout_secs, Limits::default().timeout_secs);
    }

    #[test]
    fn asks_above_maxima_are_refused_with_both_numbers() {
        let asks = LimitAsks {
            memory_mib: Some(8192),
            ..Default::default()
        };
        let err = asks.resolve(&LimitMaxima::default()).unwrap_err();
        assert_eq!(
            err,
            LimitRefused::AboveMaximum {
                what: "memory_mib",
                asked: 8192,
                max: 4096
            }
        );
        assert!(
            err.to_string().contains("raise [limits] memory_mib"),
            "{err}"
        );
    }

    #[test]
    fn limiter_counts_all_memories_and_records_refusal() {
        let mut l = MemoryLimiter::new(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(!l.memory_growing(0, 60, None).unwrap());
        assert_eq!(l.refused, Some(120));
        assert!(l.memory_growing(60, 90, None).unwrap());
    }
}
