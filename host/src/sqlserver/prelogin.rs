//! The TDS PRELOGIN probe ([MS-TDS] 2.2.6.5): one packet out, one back, and the server's version
//! is known without logging in — what tells a SQL Server from any other open port.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a server said in its PRELOGIN response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreloginInfo {
    /// `13.0.6300`: major.minor.build.
    pub version: String,
    /// ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP or ENCRYPT_REQ.
    pub encryption: &'static str,
}

/// Why a probe found no SQL Server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// Nothing accepted the connection (refused, unreachable, or no answer in time).
    Closed(String),
    /// The port is open but what answered is not TDS.
    NotTds(String),
}

const PRELOGIN: u8 = 0x12;
const TABULAR_RESULT: u8 = 0x04;

/// The PRELOGIN request: VERSION, ENCRYPTION (not supported: this is a probe), INSTOPT (empty),
/// THREADID, MARS off.
fn request() -> Vec<u8> {
    // (token, data)
    let options: [(u8, &[u8]); 5] = [
        (0x00, &[0, 0, 0, 0, 0, 0]),
        (0x01, &[0x02]),
        (0x02, &[0x00]),
        (0x03, &[0, 0, 0, 0]),
        (0x04, &[0x00]),
    ];
    let header_len = options.len() * 5 + 1;
    let mut head = Vec::new();
    let mut data = Vec::new();
    for (token, bytes) in options {
        head.push(token);
        head.extend_from_slice(&((header_len + data.len()) as u16).to_be_bytes());
        head.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        data.extend_from_slice(bytes);
    }
    head.push(0xFF);
    head.extend(data);
    let mut packet = vec![PRELOGIN, 0x01];
    packet.extend_from_slice(&((8 + head.len()) as u16).to_be_bytes());
    packet.extend_from_slice(&[0, 0, 1, 0]);
    packet.extend(head);
    packet
}

/// Why a PRELOGIN answer cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedPrelogin {
    #[error("PRELOGIN option list is cut short")]
    CutShort,
    #[error("a PRELOGIN option points outside the packet")]
    OutsidePacket,
    #[error("the PRELOGIN response has no VERSION")]
    NoVersion,
}

/// Parses a PRELOGIN response payload (after the 8-byte packet header).
pub fn parse_response(payload: &[u8]) -> Result<PreloginInfo, MalformedPrelogin> {
    let mut version = None;
    let mut encryption = None;
    let mut i = 0;
    while i < payload.len() && payload[i] != 0xFF {
        if i + 5 > payload.len() {
            return Err(MalformedPrelogin::CutShort);
        }
        let token = payload[i];
        let off = u16::from_be_bytes([payload[i + 1], payload[i + 2]]) as usize;
        let len = u16::from_be_bytes([payload[i + 3], payload[i + 4]]) as usize;
        let data = payload
            .get(off..off + len)
            .ok_or(MalformedPrelogin::OutsidePacket)?;
        match token {
            0x00 if len >= 4 => {
                let build = u16::from_be_bytes([data[2], data[3]]);
                version = Some(format!("{}.{}.{build}", data[0], data[1]));
            }
            0x01 if len >= 1 => {
                encryption = Some(match data[0] {
                    0x00 => "ENCRYPT_OFF",
                    0x01 => "ENCRYPT_ON",
                    0x02 => "ENCRYPT_NOT_SUP",
                    _ => "ENCRYPT_REQ",
                })
            }
            _ => {}
        }
        i += 5;
    }
    Ok(PreloginInfo {
        version: version.ok_or(MalformedPrelogin::NoVersion)?,
        encryption: encryption.unwrap_or("ENCRYPT_OFF"),
    })
}

/// Whether `host:port` accepts a TCP connection within `timeout`.
pub async fn tcp_open(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, ProbeError> {
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(ProbeError::Closed(e.to_string())),
        Err(_) => Err(ProbeError::Closed(format!("no answer within {timeout:?}"))),
    }
}

/// Sends PRELOGIN to `host:port` and reads the server's answer.
pub async fn probe(host: &str, port: u16, timeout: Duration) -> Result<PreloginInfo, ProbeError> {
    let mut tcp = tcp_open(host, port, timeout).await?;
    let exchange = async {
        tcp.write_all(&request()).await.map_err(|e| e.to_string())?;
        let mut header = [0u8; 8];
        tcp.read_exact(&mut header)
            .await
            .map_err(|e| e.to_string())?;
        if header[0] != TABULAR_RESULT {
            return Err(format!(
                "answered with packet type {:#04x}, not TDS",
                header[0]
            ));
        }
        let len = u16::from_be_bytes([header[2], header[3]]) as usize;
        if !(8..=4096).contains(&len) {
            return Err(format!(
                "a TDS packet length of {len} is not a PRELOGIN answer"
            ));
        }
        let mut payload = vec![0u8; len - 8];
        tcp.read_exact(&mut payload)
            .await
            .map_err(|e| e.to_string())?;
        parse_response(&payload).map_err(|e| e.to_string())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(e)) => Err(ProbeError::NotTds(e)),
        Err(_) => Err(ProbeError::NotTds(format!(
            "the port is open but nothing answered PRELOGIN within {timeout:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_a_well_formed_prelogin_packet() {
        let p = request();
        assert_eq!(p[0], PRELOGIN);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
        // Parsing our own request reads its zero version back.
        assert_eq!(parse_response(&p[8..]).unwrap().version, "0.0.0");
    }

    #[test]
    fn garbage_is_not_a_prelogin_response() {
        assert!(parse_response(&[0x00, 0x00]).is_err());
        assert!(parse_response(&[0x00, 0x00, 0x50, 0x00, 0x06, 0xFF]).is_err());
    }
}
