//! Asked and granted: a capability is usable only when both the plugin's manifest asks for it and
//! the operator grants it. A denial names the capability and the side that is missing.

use serde::{Deserialize, Serialize};

use super::CapabilityError;

/// The capabilities that need asking and granting (log, progress and clock are always there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// A SQL Server endpoint, by name.
    Sql,
    /// A blob container, by name.
    Blob,
    /// An outbound HTTP host.
    Http,
    /// A host or address to probe for SQL Servers.
    Net,
    /// A read-only folder, by name.
    Fs,
    /// Durable key-value state.
    State,
    /// A cloud credential or setting, by name.
    Credentials,
}

impl Capability {
    /// The manifest/config key of the capability.
    pub fn key(self) -> &'static str {
        match self {
            Capability::Sql => "sql",
            Capability::Blob => "blob",
            Capability::Http => "http",
            Capability::Net => "net",
            Capability::Fs => "fs",
            Capability::State => "state",
            Capability::Credentials => "credentials",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Capability::Sql => "endpoint",
            Capability::Blob => "container",
            Capability::Http => "host",
            Capability::Net => "address",
            Capability::Fs => "folder",
            Capability::State => "",
            Capability::Credentials => "name",
        }
    }
}

/// A set of capabilities, as a manifest asks for them or an operator grants them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapabilitySet {
    /// SQL endpoint names (`source`, `target`).
    pub sql: Vec<String>,
    /// Blob container names.
    pub blob: Vec<String>,
    /// HTTP hosts: `host`, `host:port`, `*.suffix`; `http://host` allows plain HTTP to it;
    /// `$NAME` is the origin of the cloud setting `NAME`'s value (an endpoint the operator chose).
    pub http: Vec<String>,
    /// Where network probes may go: `*`, a host name, an IP address or a CIDR range
    /// (`10.0.0.0/24`).
    pub net: Vec<String>,
    /// Folder names.
    pub fs: Vec<String>,
    /// Durable state.
    pub state: bool,
    /// Cloud credentials by name (`AWS_SECRET_ACCESS_KEY`): secret values, taken back out of
    /// whatever the plugin hands on.
    pub credentials: Vec<String>,
    /// Cloud settings by name (`AWS_REGION`, `AWS_ENDPOINT_URL`): plain values, read like
    /// credentials.
    pub settings: Vec<String>,
}

impl CapabilitySet {
    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.sql.is_empty()
            && self.blob.is_empty()
            && self.http.is_empty()
            && self.net.is_empty()
            && self.fs.is_empty()
            && !self.state
            && self.credentials.is_empty()
            && self.settings.is_empty()
    }

    /// Why the set cannot be asked for or granted: it names one of sqlmig's own secrets (any
    /// `SQLMIG_…` name: the logins' passwords, the SAS tokens, the storage key, the ARM token)
    /// as a credential, a setting or a `$NAME` host. Those stay in the host, whoever asks.
    pub fn reserved_name_problem(&self) -> Option<String> {
        let http_settings = self.http.iter().filter_map(|h| h.strip_prefix('$'));
        let name = self
            .credentials
            .iter()
            .chain(&self.settings)
            .map(String::as_str)
            .chain(http_settings)
            .find(|n| is_reserved(n))?;
        Some(format!(
            "'{name}': names beginning SQLMIG_ are sqlmig's own secrets (passwords, SAS tokens, \
             keys, access tokens) and are never given to a plugin"
        ))
    }

    /// Short names of what the set holds, for listings: `sql:source`, `state`.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (cap, names) in [
            (Capability::Sql, &self.sql),
            (Capability::Blob, &self.blob),
            (Capability::Http, &self.http),
            (Capability::Net, &self.net),
            (Capability::Fs, &self.fs),
            (Capability::Credentials, &self.credentials),
        ] {
            out.extend(names.iter().map(|n| format!("{}:{n}", cap.key())));
        }
        if self.state {
            out.push("state".into());
        }
        out.extend(self.settings.iter().map(|n| format!("settings:{n}")));
        out
    }

    fn allows(&self, cap: Capability, name: &str) -> bool {
        match cap {
            Capability::Sql => self.sql.iter().any(|n| n == name || n == "*"),
            Capability::Blob => self.blob.iter().any(|n| n == name || n == "*"),
            Capability::Fs => self.fs.iter().any(|n| n == name || n == "*"),
            Capability::Http => self.http.iter().any(|p| host_matches(p, name)),
            Capability::Net => self.net.iter().any(|p| address_matches(p, name)),
            Capability::State => self.state,
            Capability::Credentials => self
                .credentials
                .iter()
                .chain(&self.settings)
                .any(|n| n == name || n == "*"),
        }
    }
}

/// Whether `name` is one of sqlmig's own (`SQLMIG_…`, in any case): never a plugin's to read.
pub fn is_reserved(name: &str) -> bool {
    name.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("SQLMIG_"))
}

/// Whether a net grant (`*`, host, IP, CIDR) admits host `target`.
fn address_matches(pattern: &str, target: &str) -> bool {
    use std::net::IpAddr;
    let pattern = pattern.trim();
    if pattern == "*" || pattern.eq_ignore_ascii_case(target) {
        return true;
    }
    let Ok(ip) = target.trim_matches(['[', ']']).parse::<IpAddr>() else {
        return false;
    };
    let Some((net, bits)) = pattern.split_once('/') else {
        return pattern.parse::<IpAddr>() == Ok(ip);
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Whether an allow-list entry admits `target`, given as `scheme://host:port`.
fn host_matches(pattern: &str, target: &str) -> bool {
    let (t_scheme, t_hostport) = target.split_once("://").unwrap_or(("https", target));
    let (p_scheme, p_hostport) = match pattern.split_once("://") {
        Some((s, rest)) => (s, rest),
        None => ("https", pattern),
    };
    if !p_scheme.eq_ignore_ascii_case(t_scheme) {
        return false;
    }
    let (t_host, t_port) = split_port(t_hostport, t_scheme);
    // An entry without a port means the scheme's default port; `:*` any port.
    let (p_host, p_port) = match p_hostport.rsplit_once(':') {
        Some((h, "*")) => (h, None),
        _ => {
            let (h, p) = split_port(p_hostport, p_scheme);
            (h, Some(p))
        }
    };
    if p_port.is_some_and(|p| p != t_port) {
        return false;
    }
    let t_host = t_host.to_ascii_lowercase();
    let p_host = p_host.to_ascii_lowercase();
    match p_host.strip_prefix("*.") {
        Some(suffix) => t_host.ends_with(&format!(".{suffix}")),
        None => t_host == p_host,
    }
}

fn split_port<'a>(hostport: &'a str, scheme: &str) -> (&'a str, String) {
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
            (h, p.to_string())
        }
        _ => (
            hostport,
            if scheme.eq_ignore_ascii_case("http") {
                "80".into()
            } else {
                "443".into()
            },
        ),
    }
}

/// What one plugin asked for and what the operator granted it, checked on every use.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// `name version` of the plugin, for messages.
    pub plugin: String,
    /// The plugin name as configuration keys use it.
    pub plugin_name: String,
    /// From the manifest's `[capabilities]`.
    pub asked: CapabilitySet,
    /// From the operator's config and the command line.
    pub granted: CapabilitySet,
}

impl Grants {
    /// These grants with each `$NAME` http entry replaced by the origin of the setting's value
    /// (dropped when the operator set none).
    pub fn with_endpoints(&self, cloud: &super::credentials::CloudValues) -> Grants {
        let expand = |set: &CapabilitySet| {
            let mut set = set.clone();
            set.http = set
                .http
                .iter()
                .filter_map(|p| match p.strip_prefix('$') {
                    Some(name) => cloud
                        .get(name)
                        .and_then(|url| super::http::origin_of(url).ok()),
                    None => Some(p.clone()),
                })
                .collect();
            set
        };
        Grants {
            plugin: self.plugin.clone(),
            plugin_name: self.plugin_name.clone(),
            asked: expand(&self.asked),
            granted: expand(&self.granted),
        }
    }

    /// `Ok` when `name` of `cap` is both asked for and granted; otherwise `access-denied` saying
    /// which side is missing and how to fix it.
    pub fn check(&self, cap: Capability, name: &str) -> Result<(), CapabilityError> {
        let thing = if cap == Capability::State {
            "capability state".to_string()
        } else {
            format!("capability {} {} '{name}'", cap.key(), cap.what())
        };
        if !self.asked.allows(cap, name) {
            return Err(CapabilityError::AccessDenied(format!(
                "{thing} is not asked for by plugin {}: its manifest (plugin.toml [capabilities] {}) \
                 must list it",
                self.plugin,
                cap.key()
            )));
        }
        if !self.granted.allows(cap, name) {
            // Credentials and settings are read through one capability; each is granted by its
            // own key.
            let key = if cap == Capability::Credentials
                && self.asked.settings.iter().any(|s| s == name)
            {
                "settings"
            } else {
                cap.key()
            };
            let example = if cap == Capability::State {
                "state = true".to_string()
            } else {
                format!("{key} = [\"{name}\"]")
            };
            return Err(CapabilityError::AccessDenied(format!(
                "{thing} is not granted to plugin {} by the operator: grant it in sqlmig.toml \
                 under [plugins.{}.grants] with {example}",
                self.plugin, self.plugin_name
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(asked: CapabilitySet, granted: CapabilitySet) -> Grants {
        Grants {
            plugin: "rules-acme 1.2.0".into(),
            plugin_name: "rules-acme".into(),
            asked,
            granted,
        }
    }

    #[test]
    fn asked_and_granted_is_allowed() {
        let set = CapabilitySet {
            sql: vec!["source".into()],
            ..Default::default()
        };
        assert!(
            grants(set.clone(), set)
                .check(Capability::Sql, "source")
                .is_ok()
        );
    }

    #[test]
    fn an_ungranted_setting_is_named_with_its_own_key_and_reserved_names_are_refused() {
        let asked = CapabilitySet {
            credentials: vec!["AWS_SECRET_ACCESS_KEY".into()],
            settings: vec!["AWS_REGION".into()],
            ..Default::default()
        };
        let g = grants(asked.clone(), CapabilitySet::default());
        let setting = g.check(Capability::Credentials, "AWS_REGION").unwrap_err();
        assert!(
            setting
                .to_string()
                .contains("with settings = [\"AWS_REGION\"]"),
            "{setting}"
        );
        let credential = g
            .check(Capability::Credentials, "AWS_SECRET_ACCESS_KEY")
            .unwrap_err();
        assert!(
            credential
                .to_string()
                .contains("with credentials = [\"AWS_SECRET_ACCESS_KEY\"]"),
            "{credential}"
        );
        assert_eq!(asked.reserved_name_problem(), None);
        for reserved in [
            CapabilitySet {
                settings: vec!["SQLMIG_SAS".into()],
                ..Default::default()
            },
            CapabilitySet {
                credentials: vec!["Sqlmig_Azure_Token".into()],
                ..Default::default()
            },
            CapabilitySet {
                http: vec!["$SQLMIG_STORAGE_KEY".into()],
                ..Default::default()
            },
        ] {
            assert!(reserved.reserved_name_problem().is_some(), "{reserved:?}");
        }
    }

    #[test]
    fn missing_ask_names_the_manifest() {
        let granted = CapabilitySet {
            sql: vec!["source".into()],
            ..Default::default()
        };
        let err = grants(CapabilitySet::default(), granted)
            .check(Capability::Sql, "source")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not asked for by plugin rules-acme 1.2.0"),
            "{err}"
        );
        assert!(err.contains("capability sql endpoint 'source'"), "{err}");
    }

    #[test]
    fn missing_grant_names_the_operator_and_the_fix() {
        let asked = CapabilitySet {
            blob: vec!["backups".into()],
            ..Default::default()
        };
        let err = grants(asked, CapabilitySet::default())
            .check(Capability::Blob, "backups")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not granted to plugin rules-acme 1.2.0 by the operator"),
            "{err}"
        );
        assert!(err.contains("[plugins.rules-acme.grants]"), "{err}");
    }

    #[test]
    fn net_grants_match_ranges_addresses_and_names() {
        assert!(address_matches("10.0.0.0/24", "10.0.0.77"));
        assert!(!address_matches("10.0.0.0/24", "10.0.1.1"));
        assert!(address_matches("127.0.0.0/8", "127.1.2.3"));
        assert!(address_matches("0.0.0.0/0", "192.168.1.1"));
        assert!(address_matches("192.168.1.5", "192.168.1.5"));
        assert!(address_matches("SQL01", "sql01"));
        assert!(!address_matches("sql01", "sql02"));
        assert!(!address_matches("10.0.0.0/24", "sql01"));
        assert!(address_matches("fd00::/64", "fd00::1"));
        assert!(!address_matches("10.0.0.0/33", "10.0.0.1"));
    }

    #[test]
    fn endpoint_settings_expand_to_their_origin() {
        use crate::capabilities::credentials::CloudValues;
        let set = CapabilitySet {
            http: vec![
                "*.amazonaws.com".into(),
                "$AWS_ENDPOINT_URL".into(),
                "$UNSET".into(),
            ],
            ..Default::default()
        };
        let cloud = CloudValues::resolve(&[], &["AWS_ENDPOINT_URL".into()], |_| {
            Some("http://127.0.0.1:5000/".into())
        });
        let g = grants(set.clone(), set).with_endpoints(&cloud);
        assert_eq!(g.granted.http, ["*.amazonaws.com", "http://127.0.0.1:5000"]);
        assert!(g.check(Capability::Http, "http://127.0.0.1:5000").is_ok());
        assert!(g.check(Capability::Http, "http://127.0.0.1:5001").is_err());
    }

    #[test]
    fn http_patterns_match_hosts_ports_and_schemes() {
        assert!(host_matches(
            "rds.us-east-1.amazonaws.com",
            "https://rds.us-east-1.amazonaws.com"
        ));
        assert!(host_matches(
            "*.amazonaws.com",
            "https://s3.amazonaws.com:443"
        ));
        assert!(!host_matches(
            "*.amazonaws.com",
            "https://amazonaws.com.evil.example"
        ));
        assert!(!host_matches("api.example.com", "http://api.example.com"));
        assert!(host_matches(
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000"
        ));
        assert!(!host_matches(
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5001"
        ));
        // No port is the scheme's default port, not every port; `:*` is every port.
        assert!(!host_matches("http://127.0.0.1", "http://127.0.0.1:5001"));
        assert!(host_matches("http://127.0.0.1", "http://127.0.0.1"));
        assert!(!host_matches(
            "*.amazonaws.com",
            "https://s3.amazonaws.com:8443"
        ));
        assert!(host_matches("http://127.0.0.1:*", "http://127.0.0.1:5001"));
        assert!(!host_matches("http://127.0.0.1:*", "http://127.0.0.2:5001"));
    }
}
