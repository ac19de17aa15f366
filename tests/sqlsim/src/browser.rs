//! SQL Server Browser ([MC-SQLR]) for a simulated instance: answers UDP 1434 on the instance's
//! address with its name, version and TCP port, so clients find named instances as they do on a
//! Windows host.

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::instance::Instance;

/// The Browser's UDP port.
pub const BROWSER_PORT: u16 = 1434;

/// CLNT_BCAST_EX, CLNT_UCAST_EX (every instance) and CLNT_UCAST_INST (one instance, by name).
const CLNT_BCAST_EX: u8 = 0x02;
const CLNT_UCAST_EX: u8 = 0x03;
const CLNT_UCAST_INST: u8 = 0x04;
const SVR_RESP: u8 = 0x05;

/// The SVR_RESP record of `instance` listening on TCP `port`.
pub fn record(instance: &Instance, port: u16) -> String {
    let (machine, name) = match instance.server_name.split_once('\\') {
        Some((m, i)) => (m, i),
        None => (instance.server_name.as_str(), "MSSQLSERVER"),
    };
    let (ma, mi, b) = instance.version;
    format!(
        "ServerName;{machine};InstanceName;{name};IsClustered;No;Version;{ma}.{mi}.{b}.0;tcp;{port};;"
    )
}

/// A running Browser responder.
pub struct Browser {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers Browser requests on `ip:1434` with `record` (from [`record`]).
pub async fn serve(ip: std::net::IpAddr, record: String) -> std::io::Result<Browser> {
    let sock = UdpSocket::bind((ip, BROWSER_PORT)).await?;
    let addr = sock.local_addr()?;
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            let wanted = match buf.first() {
                Some(&CLNT_BCAST_EX | &CLNT_UCAST_EX) => true,
                // The instance name, NUL-terminated.
                Some(&CLNT_UCAST_INST) => {
                    let name = String::from_utf8_lossy(&buf[1..n]);
                    let name = name.trim_end_matches('\0');
                    record
                        .to_ascii_lowercase()
                        .contains(&format!("instancename;{};", name.to_ascii_lowercase()))
                }
                _ => false,
            };
            if !wanted {
                continue;
            }
            let mut resp = vec![SVR_RESP];
            resp.extend_from_slice(&(record.len() as u16).to_le_bytes());
            resp.extend_from_slice(record.as_bytes());
            let _ = sock.send_to(&resp, from).await;
        }
    });
    Ok(Browser { addr, task })
}
