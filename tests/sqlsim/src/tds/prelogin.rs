//! PRELOGIN: the client says what it wants (version, encryption, instance, MARS); the server
//! answers with its version and the encryption it will do.

/// Option tokens.
const VERSION: u8 = 0x00;
const ENCRYPTION: u8 = 0x01;
const INSTOPT: u8 = 0x02;
const THREADID: u8 = 0x03;
const MARS: u8 = 0x04;
const TERMINATOR: u8 = 0xFF;

/// ENCRYPT_NOT_SUP: this server does not encrypt after PRELOGIN (TDS 8.0 strict TLS is
/// negotiated before PRELOGIN instead).
pub const ENCRYPT_NOT_SUP: u8 = 0x02;

/// What the client asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ClientPrelogin {
    pub encryption: Option<u8>,
    pub instance: Option<String>,
    pub mars: bool,
}

/// Parses a PRELOGIN payload.
pub fn parse(payload: &[u8]) -> Result<ClientPrelogin, String> {
    let mut out = ClientPrelogin::default();
    let mut i = 0;
    loop {
        let token = *payload
            .get(i)
            .ok_or("PRELOGIN ends before its terminator")?;
        if token == TERMINATOR {
            break;
        }
        let entry = payload
            .get(i + 1..i + 5)
            .ok_or("PRELOGIN option table is truncated")?;
        let off = u16::from_be_bytes([entry[0], entry[1]]) as usize;
        let len = u16::from_be_bytes([entry[2], entry[3]]) as usize;
        let data = payload
            .get(off..off + len)
            .ok_or("PRELOGIN option points outside the message")?;
        match token {
            ENCRYPTION => out.encryption = data.first().copied(),
            INSTOPT => {
                let name: Vec<u8> = data.iter().take_while(|b| **b != 0).copied().collect();
                out.instance = Some(String::from_utf8_lossy(&name).into_owned());
            }
            MARS => out.mars = data.first() == Some(&1),
            _ => {}
        }
        i += 5;
    }
    Ok(out)
}

/// The server's answer: its version (major, minor, build), the encryption it does, no MARS.
pub fn response(major: u8, minor: u8, build: u16, encryption: u8) -> Vec<u8> {
    let fields: [(u8, Vec<u8>); 5] = [
        (VERSION, {
            let mut v = vec![major, minor];
            v.extend_from_slice(&build.to_be_bytes());
            v.extend_from_slice(&0u16.to_be_bytes());
            v
        }),
        (ENCRYPTION, vec![encryption]),
        (INSTOPT, vec![0]),
        (THREADID, vec![]),
        (MARS, vec![0]),
    ];
    let mut table = Vec::new();
    let mut data = Vec::new();
    let mut offset = (fields.len() * 5 + 1) as u16;
    for (token, bytes) in &fields {
        table.push(*token);
        table.extend_from_slice(&offset.to_be_bytes());
        table.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        offset += bytes.len() as u16;
        data.extend_from_slice(bytes);
    }
    table.push(TERMINATOR);
    table.extend_from_slice(&data);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_parses_back() {
        let r = response(16, 0, 4135, ENCRYPT_NOT_SUP);
        let p = parse(&r).unwrap();
        assert_eq!(p.encryption, Some(ENCRYPT_NOT_SUP));
        assert_eq!(p.instance.as_deref(), Some(""));
        assert!(!p.mars);
    }

    #[test]
    fn truncated_messages_are_errors() {
        assert!(parse(&[0x00, 0x00]).is_err());
        assert!(parse(&[0x01, 0x00, 0x20, 0x00, 0x01, 0xFF]).is_err());
    }
}
