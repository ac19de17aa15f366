//! The `net` capability: probing for SQL Servers (TCP + TDS PRELOGIN, SQL Server Browser) at
//! addresses the operator granted. The host runs a plugin's list of probes concurrently, so a
//! scan of thousands of addresses is one call and bounded by the command's concurrency.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use super::{Capability, CapabilityError};
use crate::runtime::bindings::v0_1::sqlmig::plugin::net as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::Error as WitError;
use crate::runtime::instance::PluginState;
use crate::sqlserver::browser::BrowsedInstance;
use crate::sqlserver::prelogin::{self, ProbeError};

/// What answered at one target.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResult {
    pub open: bool,
    pub tds_version: Option<String>,
    pub error: Option<CapabilityError>,
}

/// Runs probes for the capability.
#[async_trait]
pub trait NetBackend: Send + Sync {
    /// TCP connect and PRELOGIN at each of `targets`, in order.
    async fn probe_tds(&self, targets: &[(String, u16)], timeout: Duration) -> Vec<ProbeResult>;
    /// The instances SQL Server Browser lists on each of `hosts` (hosts without one left out).
    async fn browse(&self, hosts: &[String], timeout: Duration) -> Vec<(String, BrowsedInstance)>;
}

/// Probes over the machine's network, `concurrency` at a time.
pub struct SocketNet {
    pub concurrency: usize,
}

#[async_trait]
impl NetBackend for SocketNet {
    async fn probe_tds(&self, targets: &[(String, u16)], timeout: Duration) -> Vec<ProbeResult> {
        futures::stream::iter(targets.iter().cloned())
            .map(|(host, port)| async move {
                match prelogin::probe(&host, port, timeout).await {
                    Ok(info) => ProbeResult {
                        open: true,
                        tds_version: Some(info.version),
                        error: None,
                    },
                    Err(ProbeError::Closed(e)) => ProbeResult {
                        open: false,
                        tds_version: None,
                        error: Some(CapabilityError::Unavailable(format!("{host}:{port}: {e}"))),
                    },
                    Err(ProbeError::NotTds(e)) => ProbeResult {
                        open: true,
                        tds_version: None,
                        error: Some(CapabilityError::Unsupported(format!(
                            "{host}:{port} is open but not SQL Server: {e}"
                        ))),
                    },
                }
            })
            .buffered(self.concurrency.max(1))
            .collect()
            .await
    }

    async fn browse(&self, hosts: &[String], timeout: Duration) -> Vec<(String, BrowsedInstance)> {
        let found: Vec<Vec<(String, BrowsedInstance)>> =
            futures::stream::iter(hosts.iter().cloned())
                .map(|host| async move {
                    crate::sqlserver::browser::instances(&host, timeout)
                        .await
                        .map(|list| list.into_iter().map(|i| (host.clone(), i)).collect())
                        .unwrap_or_default()
                })
                .buffered(self.concurrency.max(1))
                .collect()
                .await;
        found.into_iter().flatten().collect()
    }
}

/// Longest a single probe may wait, whatever the plugin asks.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

fn timeout(ms: u32) -> Duration {
    Duration::from_millis(ms.max(1).into()).min(MAX_TIMEOUT)
}

impl wit::Host for PluginState {
    async fn probe_tds(
        &mut self,
        targets: Vec<wit::Target>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Vec<wit::Probe>> {
        let mut answers: Vec<Option<wit::Probe>> = vec![None; targets.len()];
        let mut allowed = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            match self.call.grants.check(Capability::Net, &t.host) {
                Ok(()) => allowed.push((i, (t.host.clone(), t.port))),
                Err(e) => {
                    answers[i] = Some(wit::Probe {
                        host: t.host.clone(),
                        port: t.port,
                        open: false,
                        tds_version: None,
                        error: Some(e.into()),
                    })
                }
            }
        }
        let results = match self.call.services.net.clone() {
            Some(net) => {
                let list: Vec<(String, u16)> = allowed.iter().map(|(_, t)| t.clone()).collect();
                net.probe_tds(&list, timeout(timeout_ms)).await
            }
            None => allowed
                .iter()
                .map(|_| ProbeResult {
                    open: false,
                    tds_version: None,
                    error: Some(CapabilityError::Unavailable(
                        "this command does not probe the network".into(),
                    )),
                })
                .collect(),
        };
        for ((i, (host, port)), r) in allowed.into_iter().zip(results) {
            answers[i] = Some(wit::Probe {
                host,
                port,
                open: r.open,
                tds_version: r.tds_version,
                error: r.error.map(Into::into),
            });
        }
        Ok(answers
            .into_iter()
            .map(|a| a.expect("every target answered"))
            .collect())
    }

    async fn browse(
        &mut self,
        hosts: Vec<String>,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<Vec<wit::BrowsedInstance>, WitError>> {
        for h in &hosts {
            if let Err(e) = self.call.grants.check(Capability::Net, h) {
                return Ok(Err(e.into()));
            }
        }
        let Some(net) = self.call.services.net.clone() else {
            return Ok(Err(CapabilityError::Unavailable(
                "this command does not probe the network".into(),
            )
            .into()));
        };
        Ok(Ok(net
            .browse(&hosts, timeout(timeout_ms))
            .await
            .into_iter()
            .map(|(host, i)| wit::BrowsedInstance {
                host,
                server_name: i.server_name,
                instance_name: i.instance_name,
                version: i.version,
                tcp_port: i.tcp_port,
            })
            .collect()))
    }
}
