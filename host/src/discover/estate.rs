//! Discovering an estate as the operator asks it: the platform plugin loaded with exactly what
//! was named to probe (or its cloud's API), the instances it finds, then each collected into an
//! inventory — progress and failed instances reported on stderr unless quiet.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sqlmig_protocol::discovery::FoundInstance;
use sqlmig_protocol::{CollectionStatus, Confidence, Instance, Inventory};

use super::{ConnectTo, INSTANCE_ENDPOINT, LoginSettings, Progress, Scan, collect, find, request};
use crate::capabilities::net::SocketNet;
use crate::capabilities::{CapabilitySet, Services};
use crate::credentials::{SecretFor, secret};
use crate::failure::Failure;
use crate::runtime::LoadedPlugin;
use crate::session::{Session, platform_short_name};
use crate::sqlserver::{Encrypt, ServerName};
use crate::terminal;

/// What to discover, and how to log in to what is found.
pub struct DiscoverOptions {
    /// Ranges to scan.
    pub scans: Vec<Scan>,
    /// Servers by name.
    pub servers: Vec<ServerName>,
    /// The platform plugin (the `platform-` prefix may be left out).
    pub platform: String,
    /// The login to collect with; none only finds.
    pub user: Option<String>,
    /// The secrets file holding its password (and the cloud's credentials).
    pub secrets: Option<PathBuf>,
    pub encrypt: Encrypt,
    pub trust_server_certificate: bool,
    pub connect_timeout: Duration,
    /// Where to reach an address instead.
    pub connect_to: Vec<ConnectTo>,
    /// Instances collected at once (network probes: eight times as many).
    pub concurrency: usize,
    /// How long one network probe may wait.
    pub probe_timeout: Duration,
    /// Sample performance counters, this far apart, while collecting.
    pub performance: Option<Duration>,
}

impl Default for DiscoverOptions {
    /// Nothing named yet, on-prem, `sqlmig discover`'s defaults.
    fn default() -> Self {
        DiscoverOptions {
            scans: Vec::new(),
            servers: Vec::new(),
            platform: "platform-onprem".into(),
            user: None,
            secrets: None,
            encrypt: Encrypt::Strict,
            trust_server_certificate: false,
            connect_timeout: Duration::from_secs(15),
            connect_to: Vec::new(),
            concurrency: 8,
            probe_timeout: Duration::from_millis(1500),
            performance: None,
        }
    }
}

/// The instances found, with the platform plugin that found them (loaded, to collect them)
/// and the login to collect them with (none when only finding).
pub struct Located {
    pub plugin: LoadedPlugin,
    /// The inventory's name of the platform (`aws-rds`).
    pub platform: String,
    pub login: Option<LoginSettings>,
    pub found: Vec<FoundInstance>,
}

impl Located {
    /// The login to collect with.
    pub fn login(&self) -> Result<&LoginSettings, Failure> {
        self.login
            .as_ref()
            .ok_or_else(|| Failure::bad_input("collecting needs --user (the SQL login)"))
    }
}

/// Finds what `o` names through its platform plugin.
pub async fn locate(session: &Session, o: &DiscoverOptions) -> Result<Located, Failure> {
    let plugin = session.platform(&o.platform)?;
    // A plugin that probes the network needs to be told where; a cloud's plugin asks its API.
    let probes = !plugin.manifest.capabilities.net.is_empty();
    if probes && o.scans.is_empty() && o.servers.is_empty() {
        return Err(Failure::bad_input("nothing to discover")
            .hint("give --scan RANGE, --server NAME or --servers FILE"));
    }
    let login = match &o.user {
        Some(user) => Some(LoginSettings {
            user: user.clone(),
            password: secret(SecretFor::Login, user, o.secrets.as_deref())
                .map_err(Failure::bad_input)?,
            encrypt: o.encrypt,
            trust_server_certificate: o.trust_server_certificate,
            connect_timeout: o.connect_timeout.max(Duration::from_secs(1)),
            connect_to: o.connect_to.clone(),
        }),
        None => None,
    };
    // The plugin may probe exactly what the operator named, log in to the instance it is
    // collecting, and reach its cloud's API with the credentials it asks for: the operator
    // chose it by name for this.
    let granted = CapabilitySet {
        sql: vec![INSTANCE_ENDPOINT.into()],
        net: o
            .scans
            .iter()
            .map(|s| s.grant.clone())
            .chain(o.servers.iter().map(|s| s.host.clone()))
            .collect(),
        ..Default::default()
    };
    let loaded = session
        .load_platform(&plugin, granted, o.secrets.as_deref())?
        .plugin;
    let asked = request(&o.scans, &o.servers, o.probe_timeout);
    if !session.quiet && !probes {
        eprintln!("asking {} for its instances…", loaded.label);
    } else if !session.quiet {
        eprintln!(
            "probing {} address{} and {} named server{}…",
            asked.hosts.len(),
            if asked.hosts.len() == 1 { "" } else { "es" },
            o.servers.len(),
            if o.servers.len() == 1 { "" } else { "s" }
        );
    }
    let net_services = Services {
        net: Some(Arc::new(SocketNet {
            concurrency: o.concurrency * 8,
        })),
        ..Default::default()
    };
    let found = find(&loaded, &net_services, &asked)
        .await
        .map_err(Failure::plugin)?;
    if !session.quiet {
        eprintln!(
            "found {} instance{}",
            found.len(),
            if found.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Located {
        plugin: loaded,
        platform: platform_short_name(&plugin.manifest.name),
        login,
        found,
    })
}

/// Finds and collects what `o` names into an inventory (failed instances stay in it with
/// their error). Returns the login too, for callers that go on to query the instances.
pub async fn inventory(
    session: &Session,
    o: &DiscoverOptions,
) -> Result<(Inventory, LoginSettings), Failure> {
    let located = locate(session, o).await?;
    let login = located.login()?.clone();
    let Located {
        plugin,
        platform,
        found,
        ..
    } = located;
    let bar = terminal::bar(0, terminal::COLLECT, session.quiet);
    let progress = |p: Progress| {
        if let Progress::Finished {
            name,
            ok,
            done,
            total,
        } = p
        {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(if ok { name } else { format!("{name} (failed)") });
        }
    };
    let instances = collect(
        &plugin,
        &platform,
        found,
        &login,
        o.concurrency,
        o.performance,
        &progress,
    )
    .await;
    bar.finish_and_clear();
    let mut inventory = Inventory::new();
    inventory.generated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    inventory.generated_by = format!("sqlmig {} / {}", crate::HOST_VERSION, plugin.label);
    inventory.instances = instances;
    if !session.quiet {
        for i in &inventory.instances {
            match (&i.status, &i.error) {
                (CollectionStatus::Failed, Some(e)) => eprintln!("{}: failed: {e}", i.name),
                (CollectionStatus::Partial, _) => eprintln!(
                    "{}: collected with {} gap{} (see `sqlmig inventory show`)",
                    i.name,
                    i.gaps.len(),
                    if i.gaps.len() == 1 { "" } else { "s" }
                ),
                _ => {}
            }
        }
    }
    Ok((inventory, login))
}

/// The one instance `o` names (its first server), found: it must answer TDS.
pub async fn find_one(
    session: &Session,
    o: &DiscoverOptions,
) -> Result<(Located, FoundInstance), Failure> {
    let located = locate(session, o).await?;
    let Some(target) = located
        .found
        .iter()
        .find(|f| f.confidence >= Confidence::TdsAnswered)
        .cloned()
    else {
        let named = o.servers.first().map_or(String::new(), ToString::to_string);
        return Err(Failure::io(format!("{named}: no SQL Server answered")));
    };
    Ok((located, target))
}

/// The one instance `o` names, found and collected once (version, CPUs, databases).
pub async fn collect_one(
    session: &Session,
    o: &DiscoverOptions,
) -> Result<(Located, FoundInstance, Instance), Failure> {
    let (located, target) = find_one(session, o).await?;
    let mut collected = collect(
        &located.plugin,
        &located.platform,
        vec![target.clone()],
        located.login()?,
        1,
        None,
        &|_| {},
    )
    .await;
    let inst = collected.remove(0);
    if inst.status == CollectionStatus::Failed {
        return Err(Failure::io(format!(
            "{}: {}",
            inst.name,
            inst.error.clone().unwrap_or_default()
        )));
    }
    Ok((located, target, inst))
}
