//! Finding instances: SQL Server Browser for named instances, then TCP + PRELOGIN on every
//! candidate port. Confidence follows what answered, as dbatools' Find-DbaInstance grades it.

use std::collections::BTreeMap;

use sqlmig_plugin_sdk::net::{self, Target};
use sqlmig_plugin_sdk::protocol::discovery::{
    DISCOVER_REQUEST, DiscoverRequest, DiscoverResponse, FoundInstance,
};
use sqlmig_plugin_sdk::protocol::{Address, Confidence};
use sqlmig_plugin_sdk::{Error, invalid_input, log, parse_document};

/// SQL Server's default port.
const DEFAULT_PORT: u16 = 1433;

/// Runs a discover request.
pub fn run(request: &str) -> Result<String, Error> {
    let req: DiscoverRequest = parse_document(request, "discover request")?;
    if req.schema != DISCOVER_REQUEST {
        return Err(invalid_input(format!(
            "discover request schema {:?}; this plugin reads {DISCOVER_REQUEST:?}",
            req.schema
        )));
    }
    let found = discover(&req)?;
    log::info(&format!("found {} candidate instances", found.len()));
    Ok(serde_json::to_string(&DiscoverResponse { instances: found }).expect("serializes"))
}

/// A candidate port and what is known of it so far.
#[derive(Default)]
struct Candidate {
    instance: Option<String>,
    browser_version: Option<String>,
    /// The operator named it (`--server`): reported even when nothing answers.
    named: bool,
}

fn discover(req: &DiscoverRequest) -> Result<Vec<FoundInstance>, Error> {
    // (host, port) → what the Browser or the operator said about it; ordered for stable output.
    let mut candidates: BTreeMap<(String, u16), Candidate> = BTreeMap::new();
    for host in &req.hosts {
        for port in &req.ports {
            candidates.entry((host.clone(), *port)).or_default();
        }
    }
    // Named instances without a port are resolved through the Browser of their host.
    let mut browse_hosts: Vec<String> = if req.browse {
        req.hosts.clone()
    } else {
        Vec::new()
    };
    for s in &req.servers {
        match (s.port, &s.instance) {
            (Some(p), inst) => {
                let c = candidates.entry((s.host.clone(), p)).or_default();
                c.instance = inst.clone();
                c.named = true;
            }
            (None, Some(_)) => browse_hosts.push(s.host.clone()),
            (None, None) => {
                candidates
                    .entry((s.host.clone(), DEFAULT_PORT))
                    .or_default()
                    .named = true;
            }
        }
    }
    browse_hosts.sort();
    browse_hosts.dedup();
    let mut unresolved: Vec<FoundInstance> = Vec::new();
    if !browse_hosts.is_empty() {
        for b in net::browse(&browse_hosts, req.timeout_ms)? {
            let named = (!b.instance_name.eq_ignore_ascii_case("MSSQLSERVER"))
                .then(|| b.instance_name.clone());
            match b.tcp_port {
                Some(port) => {
                    let c = candidates.entry((b.host.clone(), port)).or_default();
                    c.instance = named.or(c.instance.take());
                    c.browser_version = Some(b.version.clone());
                }
                None => unresolved.push(FoundInstance {
                    name: display_name(&b.host, named.as_deref()),
                    address: Address {
                        host: b.host.clone(),
                        port: 0,
                        instance: named,
                    },
                    confidence: Confidence::PortOpen,
                    cloud: None,
                    version: Some(b.version.clone()),
                    error: Some("SQL Server Browser lists it without a TCP port".into()),
                }),
            }
        }
    }
    // Named servers whose instance the Browser did not list.
    for s in &req.servers {
        if s.port.is_none()
            && let Some(inst) = &s.instance
            && !candidates.iter().any(|((h, _), c)| {
                h == &s.host
                    && c.instance
                        .as_ref()
                        .is_some_and(|i| i.eq_ignore_ascii_case(inst))
            })
        {
            unresolved.push(FoundInstance {
                name: display_name(&s.host, Some(inst)),
                address: Address {
                    host: s.host.clone(),
                    port: 0,
                    instance: Some(inst.clone()),
                },
                confidence: Confidence::PortOpen,
                cloud: None,
                version: None,
                error: Some(format!(
                    "SQL Server Browser on {} did not list instance {inst}; give its port as {}\\{inst},PORT",
                    s.host, s.host
                )),
            });
        }
    }
    let targets: Vec<Target> = candidates
        .keys()
        .map(|(host, port)| Target {
            host: host.clone(),
            port: *port,
        })
        .collect();
    let probes = net::probe_tds(&targets, req.timeout_ms);
    let mut found = Vec::new();
    for (probe, ((host, port), c)) in probes.into_iter().zip(candidates) {
        let (confidence, error) = match (&probe.tds_version, probe.open) {
            (Some(_), _) => (Confidence::TdsAnswered, None),
            (None, true) => (
                Confidence::PortOpen,
                Some(
                    probe
                        .error
                        .map_or("no PRELOGIN answer".into(), |e| describe(&e)),
                ),
            ),
            // Closed: not an instance, unless the Browser or the operator said one is there.
            (None, false) if c.browser_version.is_some() || c.instance.is_some() || c.named => (
                Confidence::PortOpen,
                Some(probe.error.map_or("closed".into(), |e| describe(&e))),
            ),
            (None, false) => continue,
        };
        found.push(FoundInstance {
            name: display_name(&host, c.instance.as_deref()),
            address: Address {
                host,
                port,
                instance: c.instance,
            },
            confidence,
            cloud: None,
            version: probe.tds_version.or(c.browser_version),
            error,
        });
    }
    found.extend(unresolved);
    Ok(found)
}

fn display_name(host: &str, instance: Option<&str>) -> String {
    match instance {
        Some(i) => format!("{host}\\{i}"),
        None => host.to_string(),
    }
}

fn describe(e: &Error) -> String {
    match e {
        Error::AccessDenied(m)
        | Error::NotFound(m)
        | Error::Timeout(m)
        | Error::LimitExceeded(m)
        | Error::Unsupported(m)
        | Error::InvalidInput(m)
        | Error::Unavailable(m) => m.clone(),
        Error::SqlError(i) => format!("error {}: {}", i.number, i.message),
    }
}
