//! The `net` capability: probing for SQL Servers (TCP + TDS PRELOGIN, SQL Server Browser) at
//! addresses the operator granted. The host runs a plugin's list of probes concurrently, so a
//! scan of thousands of addresses is one call and bounded by the command's concurrency.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use super::{CallContext, Capability, CapabilityError};
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

/// What answered at one target a plugin asked about.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub host: String,
    pub port: u16,
    pub result: ProbeResult,
}

/// TCP connect and PRELOGIN at each of `targets`, in order; a target outside the grant answers
/// `access-denied` on its own, so one stray address does not hide the others' answers.
pub async fn probe_tds(
    cx: &CallContext,
    targets: Vec<(String, u16)>,
    timeout_ms: u32,
) -> Vec<Probe> {
    let closed = |error| ProbeResult {
        open: false,
        tds_version: None,
        error: Some(error),
    };
    let mut answers: Vec<Option<ProbeResult>> = vec![None; targets.len()];
    let mut allowed = Vec::new();
    for (i, (host, port)) in targets.iter().enumerate() {
        match cx.grants.check(Capability::Net, host) {
            Ok(()) => allowed.push((i, (host.clone(), *port))),
            Err(e) => answers[i] = Some(closed(e)),
        }
    }
    let list: Vec<(String, u16)> = allowed.iter().map(|(_, t)| t.clone()).collect();
    let results = match cx.services.net.clone() {
        Some(net) => net.probe_tds(&list, timeout(timeout_ms)).await,
        None => list
            .iter()
            .map(|_| {
                closed(CapabilityError::Unavailable(
                    "this command does not probe the network".into(),
                ))
            })
            .collect(),
    };
    for ((i, _), r) in allowed.into_iter().zip(results) {
        answers[i] = Some(r);
    }
    targets
        .into_iter()
        .zip(answers)
        .map(|((host, port), a)| Probe {
            host,
            port,
            result: a.expect("every target answered"),
        })
        .collect()
}

/// The instances SQL Server Browser lists on each of `hosts`, all of which must be granted.
pub async fn browse(
    cx: &CallContext,
    hosts: &[String],
    timeout_ms: u32,
) -> Result<Vec<(String, BrowsedInstance)>, CapabilityError> {
    for h in hosts {
        cx.grants.check(Capability::Net, h)?;
    }
    let Some(net) = cx.services.net.clone() else {
        return Err(CapabilityError::Unavailable(
            "this command does not probe the network".into(),
        ));
    };
    Ok(net.browse(hosts, timeout(timeout_ms)).await)
}
