//! The documents between the host and a platform plugin: what to look for (`discover`), what was
//! found, and which instance to snapshot (`collect`, answered with an inventory [`Instance`]).
//!
//! [`Instance`]: crate::Instance

use serde::{Deserialize, Serialize};

use crate::{Address, Confidence};

/// The `schema` of a discover request.
pub const DISCOVER_REQUEST: &str = "sqlmig.discover-request/1";
/// The `schema` of a collect request.
pub const COLLECT_REQUEST: &str = "sqlmig.collect-request/1";

/// Where to look.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    pub schema: String,
    /// Hosts to probe on `ports` (a scanned range, expanded by the host).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// TCP ports to probe on each of `hosts`.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Ask SQL Server Browser (UDP 1434) on each host for named instances.
    #[serde(default)]
    pub browse: bool,
    /// Servers the operator named (`--server`, `--servers`): looked up even when not in a range.
    #[serde(default)]
    pub servers: Vec<NamedServer>,
    /// How long one probe may wait.
    pub timeout_ms: u32,
}

/// A server as the operator named it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedServer {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// What discovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverResponse {
    pub instances: Vec<FoundInstance>,
}

/// A place where a SQL Server listens, or may.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundInstance {
    /// `HOST[\INSTANCE]`.
    pub name: String,
    pub address: Address,
    pub confidence: Confidence,
    /// The version PRELOGIN or the Browser reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the confidence is not higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which instance to snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectRequest {
    pub schema: String,
    /// The SQL endpoint the host granted for this instance.
    pub endpoint: String,
    /// The instance as discovery found it.
    pub instance: FoundInstance,
    /// Also sample performance counters.
    #[serde(default)]
    pub performance: bool,
    /// How far apart the two counter samples are (rates are their difference over it).
    #[serde(default = "default_interval")]
    pub performance_interval_ms: u32,
}

fn default_interval() -> u32 {
    10_000
}
