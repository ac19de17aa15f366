//! SQL Server Browser ([MC-SQLR]): one UDP datagram to port 1434 lists a host's instances with
//! their TCP ports, which is how named instances are found and reached.

use std::time::Duration;

use tokio::net::UdpSocket;

use crate::capabilities::CapabilityError;

/// The Browser's UDP port.
pub const BROWSER_PORT: u16 = 1434;

/// An instance the Browser listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowsedInstance {
    pub server_name: String,
    /// `MSSQLSERVER` for the default instance.
    pub instance_name: String,
    pub version: String,
    pub is_clustered: bool,
    /// Absent when the instance does not listen on TCP.
    pub tcp_port: Option<u16>,
}

/// CLNT_UCAST_EX: "every instance on this host".
const CLNT_UCAST_EX: u8 = 0x03;
/// SVR_RESP.
const SVR_RESP: u8 = 0x05;

/// Why a datagram is not a SQL Server Browser answer.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedBrowserAnswer {
    #[error("not a SQL Server Browser response")]
    NotSvrResp,
    #[error("the Browser response is shorter than it says")]
    CutShort,
    #[error("a Browser record without ServerName/InstanceName: {0:?}")]
    RecordWithoutNames(String),
}

/// Parses a SVR_RESP datagram: `ServerName;X;InstanceName;Y;IsClustered;No;Version;V;tcp;1433;;…`.
pub fn parse_response(datagram: &[u8]) -> Result<Vec<BrowsedInstance>, MalformedBrowserAnswer> {
    if datagram.len() < 3 || datagram[0] != SVR_RESP {
        return Err(MalformedBrowserAnswer::NotSvrResp);
    }
    let size = u16::from_le_bytes([datagram[1], datagram[2]]) as usize;
    let body = datagram
        .get(3..3 + size)
        .ok_or(MalformedBrowserAnswer::CutShort)?;
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for record in text.split(";;").filter(|r| !r.trim().is_empty()) {
        let parts: Vec<&str> = record.split(';').collect();
        let get = |key: &str| {
            parts
                .chunks(2)
                .find(|kv| kv[0].eq_ignore_ascii_case(key))
                .and_then(|kv| kv.get(1).copied())
        };
        let (Some(server), Some(instance)) = (get("ServerName"), get("InstanceName")) else {
            return Err(MalformedBrowserAnswer::RecordWithoutNames(
                record.to_string(),
            ));
        };
        out.push(BrowsedInstance {
            server_name: server.to_string(),
            instance_name: instance.to_string(),
            version: get("Version").unwrap_or_default().to_string(),
            is_clustered: get("IsClustered").is_some_and(|v| v.eq_ignore_ascii_case("Yes")),
            tcp_port: get("tcp").and_then(|p| p.parse().ok()),
        });
    }
    Ok(out)
}

/// The instances SQL Server Browser on `host` lists; `not-found` if nothing answers in time.
pub async fn instances(
    host: &str,
    timeout: Duration,
) -> Result<Vec<BrowsedInstance>, CapabilityError> {
    let unavailable = |e: std::io::Error| {
        CapabilityError::Unavailable(format!("SQL Server Browser on {host}: {e}"))
    };
    let target = tokio::net::lookup_host((host, BROWSER_PORT))
        .await
        .map_err(unavailable)?
        .next()
        .ok_or_else(|| CapabilityError::NotFound(format!("{host} has no address")))?;
    let bind = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind).await.map_err(unavailable)?;
    // A connected socket hears the ICMP "port unreachable" of a host without a Browser at once,
    // instead of waiting out the timeout.
    sock.connect(target).await.map_err(unavailable)?;
    sock.send(&[CLNT_UCAST_EX]).await.map_err(unavailable)?;
    let mut buf = vec![0u8; 65_535];
    let n = match tokio::time::timeout(timeout, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => n,
        // ICMP port unreachable shows up as a receive error on Linux: nobody listens.
        Ok(Err(_)) | Err(_) => {
            return Err(CapabilityError::NotFound(format!(
                "no SQL Server Browser answered on {host} (UDP {BROWSER_PORT})"
            )));
        }
    };
    parse_response(&buf[..n]).map_err(|e| CapabilityError::Unavailable(format!("{host}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_with_their_ports() {
        let text = "ServerName;SQL01;InstanceName;MSSQLSERVER;IsClustered;No;Version;16.0.4135.4;tcp;1433;;\
                    ServerName;SQL01;InstanceName;SALES;IsClustered;No;Version;13.0.6300.2;tcp;50123;np;\\\\SQL01\\pipe\\MSSQL$SALES\\sql\\query;;";
        let mut d = vec![SVR_RESP];
        d.extend_from_slice(&(text.len() as u16).to_le_bytes());
        d.extend_from_slice(text.as_bytes());
        let got = parse_response(&d).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].instance_name, "SALES");
        assert_eq!(got[1].tcp_port, Some(50123));
        assert_eq!(got[0].version, "16.0.4135.4");
        assert!(parse_response(&[0x01, 0, 0]).is_err());
    }
}
