//! TDS packets: an 8-byte header (type, status, big-endian length, SPID, packet id, window) and
//! a payload; a message is one or more packets, the last with END_OF_MESSAGE set.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Header length.
pub const HEADER: usize = 8;
/// Status bit: last packet of the message.
pub const END_OF_MESSAGE: u8 = 0x01;
/// Status bit on a client packet: discard the message being sent (attention on a partial one).
pub const IGNORE: u8 = 0x02;

/// Message types (the header's first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    SqlBatch,
    Rpc,
    TabularResult,
    Attention,
    BulkLoad,
    TransactionManager,
    Login7,
    PreLogin,
    Other(u8),
}

impl PacketType {
    /// The type of a header byte.
    pub fn from_byte(b: u8) -> PacketType {
        match b {
            0x01 => PacketType::SqlBatch,
            0x03 => PacketType::Rpc,
            0x04 => PacketType::TabularResult,
            0x06 => PacketType::Attention,
            0x07 => PacketType::BulkLoad,
            0x0E => PacketType::TransactionManager,
            0x10 => PacketType::Login7,
            0x12 => PacketType::PreLogin,
            other => PacketType::Other(other),
        }
    }

    /// The header byte of the type.
    pub fn byte(self) -> u8 {
        match self {
            PacketType::SqlBatch => 0x01,
            PacketType::Rpc => 0x03,
            PacketType::TabularResult => 0x04,
            PacketType::Attention => 0x06,
            PacketType::BulkLoad => 0x07,
            PacketType::TransactionManager => 0x0E,
            PacketType::Login7 => 0x10,
            PacketType::PreLogin => 0x12,
            PacketType::Other(b) => b,
        }
    }
}

/// One client message, reassembled from its packets.
#[derive(Debug)]
pub struct Message {
    pub kind: PacketType,
    pub payload: Vec<u8>,
}

/// Reads one packet: its type, status and payload. `Ok(None)` at a clean end of stream.
pub async fn read_packet<R: AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<(PacketType, u8, Vec<u8>)>> {
    let mut header = [0u8; HEADER];
    match r.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u16::from_be_bytes([header[2], header[3]]) as usize;
    if len < HEADER {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("TDS packet length {len} is shorter than its header"),
        ));
    }
    let mut payload = vec![0u8; len - HEADER];
    r.read_exact(&mut payload).await?;
    Ok(Some((PacketType::from_byte(header[0]), header[1], payload)))
}

/// Reads packets until END_OF_MESSAGE and returns the message. `Ok(None)` at end of stream.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Message>> {
    let mut payload = Vec::new();
    let mut kind = None;
    loop {
        let Some((t, status, chunk)) = read_packet(r).await? else {
            return Ok(None);
        };
        // An attention can arrive between the packets of nothing else; it is its own message.
        if t == PacketType::Attention {
            return Ok(Some(Message {
                kind: t,
                payload: chunk,
            }));
        }
        kind.get_or_insert(t);
        payload.extend_from_slice(&chunk);
        if status & IGNORE != 0 {
            payload.clear();
        }
        if status & END_OF_MESSAGE != 0 {
            return Ok(Some(Message {
                kind: kind.unwrap_or(t),
                payload,
            }));
        }
    }
}

/// Writes `payload` as a message of `kind`, split into packets of at most `packet_size` bytes.
pub async fn write_message<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: PacketType,
    payload: &[u8],
    packet_size: usize,
    spid: u16,
) -> std::io::Result<()> {
    write_packets(w, kind, payload, packet_size, spid, true).await
}

/// Writes the start of a message that never ends (no END_OF_MESSAGE): what a client sees of a
/// response when the server dies in the middle of it.
pub async fn write_unfinished<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: PacketType,
    payload: &[u8],
    packet_size: usize,
    spid: u16,
) -> std::io::Result<()> {
    write_packets(w, kind, payload, packet_size, spid, false).await
}

async fn write_packets<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: PacketType,
    payload: &[u8],
    packet_size: usize,
    spid: u16,
    finished: bool,
) -> std::io::Result<()> {
    let room = packet_size.saturating_sub(HEADER).max(1);
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(room).collect()
    };
    let last = chunks.len() - 1;
    let mut out = Vec::with_capacity(payload.len() + HEADER * chunks.len());
    for (i, chunk) in chunks.into_iter().enumerate() {
        let len = (chunk.len() + HEADER) as u16;
        out.push(kind.byte());
        out.push(if i == last && finished {
            END_OF_MESSAGE
        } else {
            0
        });
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&spid.to_be_bytes());
        out.push(((i + 1) % 256) as u8);
        out.push(0);
        out.extend_from_slice(chunk);
    }
    w.write_all(&out).await?;
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_splits_into_packets_and_reassembles() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_message(&mut wire, PacketType::TabularResult, &payload, 4096, 51)
            .await
            .unwrap();
        assert_eq!(wire.len(), payload.len() + 3 * HEADER, "three packets");
        assert_eq!(wire[1], 0, "first packet is not the last");
        let mut r = &wire[..];
        let m = read_message(&mut r).await.unwrap().unwrap();
        assert_eq!(m.kind, PacketType::TabularResult);
        assert_eq!(m.payload, payload);
        assert!(read_message(&mut r).await.unwrap().is_none());
    }
}
