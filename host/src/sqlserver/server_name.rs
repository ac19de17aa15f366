//! `HOST[\INSTANCE][,PORT]`, the way SQL Server tools name a server.

use std::fmt;

/// A server as a DBA writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerName {
    pub host: String,
    /// The named instance; its port comes from SQL Server Browser unless `port` is given.
    pub instance: Option<String>,
    pub port: Option<u16>,
}

/// SQL Server's default port.
pub const DEFAULT_PORT: u16 = 1433;

/// Why text is not a server name.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerNameError {
    #[error("an empty server name; write HOST[\\INSTANCE][,PORT]")]
    Empty,
    #[error("{0:?}: the instance name after \\ is empty")]
    EmptyInstance(String),
    #[error("{0:?}: the host is empty; write HOST[\\INSTANCE][,PORT]")]
    EmptyHost(String),
    #[error("{name:?}: {port:?} is not a TCP port (1–65535)")]
    BadPort { name: String, port: String },
}

impl ServerName {
    /// Parses `HOST`, `HOST,PORT`, `HOST\INSTANCE`, `HOST\INSTANCE,PORT` (also `tcp:` prefixed
    /// and `HOST:PORT`, which people type too).
    pub fn parse(s: &str) -> Result<ServerName, ServerNameError> {
        let s = s.trim();
        let s = s.strip_prefix("tcp:").unwrap_or(s);
        if s.is_empty() {
            return Err(ServerNameError::Empty);
        }
        let (rest, port) = match s.rsplit_once(',') {
            Some((r, p)) => (r, Some(parse_port(p, s)?)),
            None => match s.rsplit_once(':') {
                // `host:port`, but not an IPv6 address.
                Some((r, p)) if !r.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => {
                    (r, Some(parse_port(p, s)?))
                }
                _ => (s, None),
            },
        };
        let (host, instance) = match rest.split_once('\\') {
            Some((h, i)) if !i.is_empty() => (h, Some(i.to_string())),
            Some(_) => return Err(ServerNameError::EmptyInstance(s.to_string())),
            None => (rest, None),
        };
        if host.is_empty() {
            return Err(ServerNameError::EmptyHost(s.to_string()));
        }
        let host = match host {
            "." | "(local)" | "localhost" => "localhost",
            h => h,
        };
        Ok(ServerName {
            host: host.to_string(),
            instance: instance.filter(|i| !i.eq_ignore_ascii_case("MSSQLSERVER")),
            port,
        })
    }
}

fn parse_port(p: &str, whole: &str) -> Result<u16, ServerNameError> {
    p.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| ServerNameError::BadPort {
            name: whole.to_string(),
            port: p.to_string(),
        })
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host)?;
        if let Some(i) = &self.instance {
            write!(f, "\\{i}")?;
        }
        if let Some(p) = self.port {
            write!(f, ",{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ServerName;

    fn parsed(s: &str) -> (String, Option<String>, Option<u16>) {
        let n = ServerName::parse(s).unwrap();
        (n.host, n.instance, n.port)
    }

    #[test]
    fn the_forms_dbas_write() {
        assert_eq!(parsed("sql01"), ("sql01".into(), None, None));
        assert_eq!(parsed("sql01,14330"), ("sql01".into(), None, Some(14330)));
        assert_eq!(
            parsed("SQL01\\SALES"),
            ("SQL01".into(), Some("SALES".into()), None)
        );
        assert_eq!(
            parsed("tcp:10.0.0.5\\SALES,1500"),
            ("10.0.0.5".into(), Some("SALES".into()), Some(1500))
        );
        assert_eq!(
            parsed("127.0.0.2:1433"),
            ("127.0.0.2".into(), None, Some(1433))
        );
        assert_eq!(parsed(".\\MSSQLSERVER"), ("localhost".into(), None, None));
        assert_eq!(
            ServerName::parse("SQL01\\SALES,1500").unwrap().to_string(),
            "SQL01\\SALES,1500"
        );
    }

    #[test]
    fn nonsense_is_refused_with_the_form_to_use() {
        for bad in [
            "",
            "sql01,0",
            "sql01,70000",
            "sql01,abc",
            "\\SALES",
            "sql01\\",
        ] {
            assert!(ServerName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
