//! Discovery: the targets a DBA names (ranges, servers), the platform plugin's `discover` hook to
//! find instances, then `collect` on every instance that answered, several at once, into one
//! inventory. An instance that fails is kept in the inventory with its error; the rest still
//! get collected.

pub mod estate;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sqlmig_protocol::discovery::{
    COLLECT_REQUEST, CollectRequest, DISCOVER_REQUEST, DiscoverRequest, DiscoverResponse,
    FoundInstance, NamedServer, PERF_SNAPSHOT, PerfSnapshot, WORKLOAD_CAPTURE, WorkloadCapture,
};
use sqlmig_protocol::{Address, CollectionStatus, Confidence, Instance};

use crate::capabilities::{CapabilityError, Services};
use crate::runtime::{HookCall, HookOutput, LoadedPlugin, PluginError};
use crate::secret::{Secret, redact};
use crate::sqlserver::{Encrypt, Endpoint, ServerName, TdsBackend};

/// The SQL endpoint name a collect call gets for its instance.
pub const INSTANCE_ENDPOINT: &str = "instance";

/// The most addresses one `--scan` may expand to (a /16).
pub const MAX_SCAN_ADDRESSES: u64 = 65_536;

/// SQL Server Browser's port: in a scan's port list it means "ask the Browser" (UDP).
const BROWSER_PORT: u16 = 1434;

/// A parsed `--scan` value: `10.0.0.0/24`, `sql01`, `10.0.0.5`, each optionally `:PORT,PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    pub hosts: Vec<String>,
    /// TCP ports (1433 unless given).
    pub ports: Vec<u16>,
    /// Ask SQL Server Browser too (port 1434 listed, or no ports given).
    pub browse: bool,
    /// The range as written, which is also what the scan is granted.
    pub grant: String,
}

/// A command-line value that says nothing sqlmig can look for: the flag, the value, and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{flag} {spec}: {why}")]
pub struct BadSpec {
    pub flag: &'static str,
    pub spec: String,
    pub why: String,
}

/// What stops a `collect` from answering what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The plugin's hook failed: its error in the DBA's terms, the password taken out.
    #[error("{0}")]
    Failed(String),
    #[error("{plugin}: collect answered a malformed {what}: {error}")]
    Malformed {
        plugin: String,
        what: &'static str,
        error: serde_json::Error,
    },
    #[error("{plugin}: answered {schema:?} for a {what}; update the plugin")]
    OtherSchema {
        plugin: String,
        schema: String,
        what: &'static str,
    },
}

impl Scan {
    /// Parses a `--scan` value.
    pub fn parse(spec: &str) -> Result<Scan, BadSpec> {
        let spec = spec.trim();
        let bad = |why: String| BadSpec {
            flag: "--scan",
            spec: spec.to_string(),
            why,
        };
        let (range, ports) = match spec.rsplit_once(':') {
            Some((r, p)) if !r.contains(':') => (r, Some(p)),
            _ => (spec, None),
        };
        let (tcp, browse) = match ports {
            None => (vec![1433], true),
            Some(list) => {
                let mut tcp = Vec::new();
                let mut browse = false;
                for p in list.split(',') {
                    let port: u16 = p.trim().parse().ok().filter(|p| *p != 0).ok_or_else(|| {
                        bad(format!("{p:?} is not a port; write RANGE[:PORT,PORT], e.g. 10.0.0.0/24:1433,1434"))
                    })?;
                    if port == BROWSER_PORT {
                        browse = true;
                    } else {
                        tcp.push(port);
                    }
                }
                (tcp, browse)
            }
        };
        let hosts = match range.split_once('/') {
            Some((net, bits)) => {
                let net: Ipv4Addr = net.parse().map_err(|_| {
                    bad(format!(
                        "{net:?} is not an IPv4 address (ranges are IPv4 CIDR, e.g. 10.0.0.0/24)"
                    ))
                })?;
                let bits: u32 = bits
                    .parse()
                    .ok()
                    .filter(|b| *b <= 32)
                    .ok_or_else(|| bad(format!("/{bits} is not a prefix length (0–32)")))?;
                let size = 1u64 << (32 - bits);
                if size > MAX_SCAN_ADDRESSES {
                    return Err(bad(format!(
                        "{size} addresses; scan at most a /16 ({MAX_SCAN_ADDRESSES}) at a time"
                    )));
                }
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                let first = u32::from(net) & mask;
                // Network and broadcast addresses hold no hosts, except in /31 and /32.
                let (lo, hi) = if size > 2 { (1, size - 1) } else { (0, size) };
                (lo..hi)
                    .map(|i| Ipv4Addr::from(first + i as u32).to_string())
                    .collect()
            }
            None if range.is_empty() => {
                return Err(bad("it needs an address, host or range".into()));
            }
            None => vec![range.to_string()],
        };
        Ok(Scan {
            hosts,
            ports: tcp,
            browse,
            grant: range.to_string(),
        })
    }
}

/// How sqlmig logs in to each instance it collects.
#[derive(Clone, Debug)]
pub struct LoginSettings {
    pub user: String,
    pub password: Secret,
    pub encrypt: Encrypt,
    pub trust_server_certificate: bool,
    pub connect_timeout: Duration,
    /// Where to reach an address instead (`--connect-to`).
    pub connect_to: Vec<ConnectTo>,
}

/// `--connect-to HOST:PORT=ADDRESS:PORT`: an instance found at HOST:PORT is reached at
/// ADDRESS:PORT — through a tunnel, a bastion's forwarded port, or an address private DNS would
/// give — as curl's `--connect-to` does. Certificates are then checked against ADDRESS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTo {
    pub host: String,
    pub port: u16,
    pub to_host: String,
    pub to_port: u16,
}

impl ConnectTo {
    /// Parses `HOST:PORT=ADDRESS:PORT`.
    pub fn parse(spec: &str) -> Result<ConnectTo, BadSpec> {
        let bad = || BadSpec {
            flag: "--connect-to",
            spec: spec.to_string(),
            why: "write HOST:PORT=ADDRESS:PORT, e.g. \
                  sales.abc.eu-west-1.rds.amazonaws.com:1433=127.0.0.1:14330"
                .into(),
        };
        let (from, to) = spec.split_once('=').ok_or_else(bad)?;
        let split = |s: &str| -> Result<(String, u16), BadSpec> {
            let (h, p) = s.trim().rsplit_once(':').ok_or_else(bad)?;
            let port = p.parse().ok().filter(|p| *p != 0).ok_or_else(bad)?;
            if h.is_empty() {
                return Err(bad());
            }
            Ok((h.to_string(), port))
        };
        let ((host, port), (to_host, to_port)) = (split(from)?, split(to)?);
        Ok(ConnectTo {
            host,
            port,
            to_host,
            to_port,
        })
    }
}

impl LoginSettings {
    /// The endpoint of the instance listening at `address`, logged in to with these settings.
    pub fn endpoint(&self, address: &Address) -> Endpoint {
        let routed = self
            .connect_to
            .iter()
            .find(|c| c.host.eq_ignore_ascii_case(&address.host) && c.port == address.port);
        let server = match routed {
            Some(c) => ServerName {
                host: c.to_host.clone(),
                instance: None,
                port: Some(c.to_port),
            },
            None => ServerName {
                host: address.host.clone(),
                instance: address.instance.clone(),
                port: Some(address.port),
            },
        };
        let mut endpoint = Endpoint::new(server, &self.user, self.password.clone());
        endpoint.encrypt = self.encrypt;
        endpoint.trust_server_certificate = self.trust_server_certificate;
        endpoint.connect_timeout = self.connect_timeout;
        endpoint
    }
}

/// What the plugin is asked to look for.
pub fn request(scans: &[Scan], servers: &[ServerName], timeout: Duration) -> DiscoverRequest {
    let mut hosts: Vec<String> = Vec::new();
    let mut ports: Vec<u16> = Vec::new();
    let mut browse = false;
    for s in scans {
        hosts.extend(s.hosts.iter().cloned());
        ports.extend(&s.ports);
        browse |= s.browse;
    }
    // Overlapping ranges name a host twice: keep the first.
    let mut seen = std::collections::HashSet::new();
    hosts.retain(|h| seen.insert(h.clone()));
    ports.sort_unstable();
    ports.dedup();
    DiscoverRequest {
        schema: DISCOVER_REQUEST.into(),
        hosts,
        ports,
        browse,
        servers: servers
            .iter()
            .map(|s| NamedServer {
                host: s.host.clone(),
                instance: s.instance.clone(),
                port: s.port,
            })
            .collect(),
        timeout_ms: timeout.as_millis().min(u32::MAX as u128) as u32,
    }
}

/// Runs the plugin's `discover` hook.
pub async fn find(
    plugin: &LoadedPlugin,
    services: &Services,
    request: &DiscoverRequest,
) -> Result<Vec<FoundInstance>, PluginError> {
    let doc = serde_json::to_string(request).expect("a request serializes");
    match plugin.call(services, HookCall::Discover(doc)).await? {
        HookOutput::Document(d) => {
            let response: DiscoverResponse =
                serde_json::from_str(&d).map_err(|e| PluginError::BadAnswer {
                    plugin: plugin.label.clone(),
                    hook: "discover",
                    detail: format!("not a discover response: {e}"),
                })?;
            Ok(response.instances)
        }
        _ => Err(PluginError::BadAnswer {
            plugin: plugin.label.clone(),
            hook: "discover",
            detail: "no document".into(),
        }),
    }
}

/// How far collection is, for a progress display.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Collection of `name` started.
    Started { name: String },
    /// `name` finished: collected or failed.
    Finished {
        name: String,
        ok: bool,
        done: usize,
        total: usize,
    },
}

/// Collects every instance discovery could reach (TDS answered), `concurrency` at a time;
/// the others are recorded as failed with discovery's reason. Results keep discovery's order.
pub async fn collect(
    plugin: &LoadedPlugin,
    platform: &str,
    found: Vec<FoundInstance>,
    login: &LoginSettings,
    concurrency: usize,
    performance: Option<Duration>,
    on_progress: &(dyn Fn(Progress) + Sync),
) -> Vec<Instance> {
    let total = found.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    futures::stream::iter(found)
        .map(|f| {
            let done = &done;
            async move {
                on_progress(Progress::Started {
                    name: f.name.clone(),
                });
                // Something that answers (or a cloud lists) and has nothing against it.
                let result = if f.confidence >= Confidence::TdsAnswered && f.error.is_none() {
                    collect_one(plugin, platform, &f, login, performance).await
                } else {
                    Err(f
                        .error
                        .clone()
                        .unwrap_or_else(|| "no SQL Server answered".into()))
                };
                let inst = match result {
                    Ok(i) => i,
                    Err(e) => failed(platform, &f, &redact(&e, &[&login.password])),
                };
                on_progress(Progress::Finished {
                    name: f.name.clone(),
                    ok: inst.status != CollectionStatus::Failed,
                    done: done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                    total,
                });
                inst
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// The inventory entry of an instance that could not be collected.
pub fn failed(platform: &str, f: &FoundInstance, error: &str) -> Instance {
    Instance {
        name: f.name.clone(),
        address: f.address.clone(),
        platform: platform.to_string(),
        confidence: f.confidence,
        cloud: f.cloud.clone(),
        status: CollectionStatus::Failed,
        error: Some(error.to_string()),
        ..Default::default()
    }
}

async fn collect_one(
    plugin: &LoadedPlugin,
    platform: &str,
    f: &FoundInstance,
    login: &LoginSettings,
    performance: Option<Duration>,
) -> Result<Instance, String> {
    let request = CollectRequest {
        schema: COLLECT_REQUEST.into(),
        endpoint: INSTANCE_ENDPOINT.into(),
        instance: f.clone(),
        performance: performance.is_some(),
        performance_interval_ms: performance
            .map_or(0, |d| d.as_millis().min(u32::MAX as u128) as u32),
        perf_snapshot: false,
        workload_top: None,
    };
    let d = call_collect(plugin, f, login, &request).await?;
    let mut inst: Instance = sqlmig_protocol::parse_instance(&d).map_err(|e| {
        format!(
            "{}: collect answered a malformed instance: {e}",
            plugin.label
        )
    })?;
    inst.address = f.address.clone();
    inst.platform = platform.to_string();
    inst.confidence = Confidence::LoggedIn;
    // The plugin's own answer first: it adds what collecting learnt to discovery's description.
    inst.cloud = inst.cloud.or_else(|| f.cloud.clone());
    Ok(inst)
}

/// The instance's cumulative performance readings now (the plugin's `collect` hook asked for a
/// snapshot); errors in the DBA's terms, the password never in them.
pub async fn perf_snapshot(
    plugin: &LoadedPlugin,
    f: &FoundInstance,
    login: &LoginSettings,
) -> Result<PerfSnapshot, CollectError> {
    let snap: PerfSnapshot = ask(plugin, f, login, true, None, "performance snapshot").await?;
    check_schema(plugin, &snap.schema, PERF_SNAPSHOT, "performance snapshot")?;
    Ok(snap)
}

/// The instance's top `top` statements by total elapsed time (the plugin's `collect` hook
/// asked for a workload capture).
pub async fn workload_capture(
    plugin: &LoadedPlugin,
    f: &FoundInstance,
    login: &LoginSettings,
    top: u32,
) -> Result<WorkloadCapture, CollectError> {
    let capture: WorkloadCapture =
        ask(plugin, f, login, false, Some(top), "workload capture").await?;
    check_schema(
        plugin,
        &capture.schema,
        WORKLOAD_CAPTURE,
        "workload capture",
    )?;
    Ok(capture)
}

/// Asks the plugin's `collect` hook for something other than an inventory (a performance
/// snapshot, a workload capture) and reads its answer as `T`.
async fn ask<T: serde::de::DeserializeOwned>(
    plugin: &LoadedPlugin,
    f: &FoundInstance,
    login: &LoginSettings,
    perf_snapshot: bool,
    workload_top: Option<u32>,
    what: &'static str,
) -> Result<T, CollectError> {
    let request = CollectRequest {
        schema: COLLECT_REQUEST.into(),
        endpoint: INSTANCE_ENDPOINT.into(),
        instance: f.clone(),
        performance: false,
        performance_interval_ms: 0,
        perf_snapshot,
        workload_top,
    };
    let d = call_collect(plugin, f, login, &request)
        .await
        .map_err(|e| CollectError::Failed(redact(&e, &[&login.password])))?;
    serde_json::from_str(&d).map_err(|error| CollectError::Malformed {
        plugin: plugin.label.clone(),
        what,
        error,
    })
}

fn check_schema(
    plugin: &LoadedPlugin,
    schema: &str,
    expected: &str,
    what: &'static str,
) -> Result<(), CollectError> {
    if schema == expected {
        Ok(())
    } else {
        Err(CollectError::OtherSchema {
            plugin: plugin.label.clone(),
            schema: schema.to_string(),
            what,
        })
    }
}

/// Runs the plugin's `collect` hook for `f` with `request`, the instance's endpoint granted.
async fn call_collect(
    plugin: &LoadedPlugin,
    f: &FoundInstance,
    login: &LoginSettings,
    request: &CollectRequest,
) -> Result<String, String> {
    let endpoint = login.endpoint(&f.address);
    let services = Services {
        sql: Some(Arc::new(TdsBackend::new(BTreeMap::from([(
            INSTANCE_ENDPOINT.to_string(),
            endpoint,
        )])))),
        ..Default::default()
    };
    let doc = serde_json::to_string(request).expect("a request serializes");
    let out = plugin
        .call(&services, HookCall::Collect(doc))
        .await
        .map_err(|e| explain(e, &login.user))?;
    match out {
        HookOutput::Document(d) => Ok(d),
        _ => Err(format!("{}: collect answered no document", plugin.label)),
    }
}

/// A collect failure in the DBA's terms: a failed login says which login and what to check.
fn explain(e: PluginError, user: &str) -> String {
    if let PluginError::Failed {
        error: CapabilityError::Sql(info),
        ..
    } = &e
    {
        match info.number {
            18456 => {
                return format!(
                    "login failed for {user} (error 18456): check --user and its password"
                );
            }
            4060 => return format!("{} (error 4060)", info.message),
            _ => {}
        }
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::{ConnectTo, Scan};

    #[test]
    fn connect_to_routes_one_address_and_refuses_half_a_route() {
        let c =
            ConnectTo::parse("sales.abc.us-east-1.rds.amazonaws.com:1433=127.0.0.1:14330").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.to_host.as_str(), c.to_port),
            (
                "sales.abc.us-east-1.rds.amazonaws.com",
                1433,
                "127.0.0.1",
                14330
            )
        );
        for bad in ["sales:1433", "sales=127.0.0.1:1", ":1433=x:1", "a:0=b:1"] {
            let e = ConnectTo::parse(bad).unwrap_err();
            assert_eq!(e.flag, "--connect-to");
            assert!(e.to_string().contains("HOST:PORT=ADDRESS:PORT"), "{e}");
        }
    }

    #[test]
    fn scans_expand_ranges_and_read_ports() {
        let s = Scan::parse("10.0.0.0/30").unwrap();
        assert_eq!(s.hosts, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!((s.ports.clone(), s.browse), (vec![1433], true));
        let s = Scan::parse("127.0.0.0/20:1433,14330").unwrap();
        assert_eq!(s.hosts.len(), 4094);
        assert_eq!((s.ports.clone(), s.browse), (vec![1433, 14330], false));
        let s = Scan::parse("sql01:1434").unwrap();
        assert_eq!(
            (s.hosts.clone(), s.ports.clone(), s.browse),
            (vec!["sql01".to_string()], vec![], true)
        );
        assert_eq!(Scan::parse("10.0.0.7/32").unwrap().hosts, ["10.0.0.7"]);
        for bad in ["10.0.0.0/8", "10.0.0.0/33", "10.0.0/24", "sql01:abc", ""] {
            assert!(Scan::parse(bad).is_err(), "{bad}");
        }
    }
}
