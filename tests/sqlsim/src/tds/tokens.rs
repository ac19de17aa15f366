//! Response tokens, written into one tabular-result message.

use super::types::{ColumnType, ConversionError, Value};
use super::utf16;

/// DONE status bits.
pub mod done {
    /// More results follow in this response.
    pub const MORE: u16 = 0x01;
    /// The statement failed.
    pub const ERROR: u16 = 0x02;
    /// The row count is valid.
    pub const COUNT: u16 = 0x10;
    /// Acknowledges an attention (cancel).
    pub const ATTN: u16 = 0x20;
}

/// CURCMD values of DONE tokens.
pub mod cmd {
    pub const SELECT: u16 = 0xC1;
    pub const INSERT: u16 = 0xC3;
    pub const DELETE: u16 = 0xC4;
    pub const UPDATE: u16 = 0xC5;
    pub const OTHER: u16 = 0x00;
}

/// A result column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMeta {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// A server message (ERROR or INFO token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerMessage {
    pub number: i32,
    pub state: u8,
    pub class: u8,
    pub text: String,
    pub procedure: String,
    pub line: i32,
}

/// A tabular-result message being built.
#[derive(Default)]
pub struct Tokens {
    pub buf: Vec<u8>,
}

fn b_varchar(s: &str, out: &mut Vec<u8>) {
    let u = utf16(s);
    out.push((u.len() / 2) as u8);
    out.extend_from_slice(&u);
}

fn us_varchar(s: &str, out: &mut Vec<u8>) {
    let u = utf16(s);
    out.extend_from_slice(&((u.len() / 2) as u16).to_le_bytes());
    out.extend_from_slice(&u);
}

impl Tokens {
    /// An empty message.
    pub fn new() -> Tokens {
        Tokens::default()
    }

    /// Length-prefixed token: id, u16 length, body.
    fn sized(&mut self, id: u8, body: &[u8]) {
        self.buf.push(id);
        self.buf
            .extend_from_slice(&(body.len() as u16).to_le_bytes());
        self.buf.extend_from_slice(body);
    }

    /// ENVCHANGE with string values (1 database, 2 language, 4 packet size).
    pub fn env_change(&mut self, kind: u8, new: &str, old: &str) {
        let mut body = vec![kind];
        b_varchar(new, &mut body);
        b_varchar(old, &mut body);
        self.sized(0xE3, &body);
    }

    /// ENVCHANGE 7: the SQL collation.
    pub fn env_change_collation(&mut self, collation: &[u8; 5]) {
        let mut body = vec![7, 5];
        body.extend_from_slice(collation);
        body.push(0);
        self.sized(0xE3, &body);
    }

    /// An INFO (class ≤ 10) or ERROR token.
    pub fn message(&mut self, m: &ServerMessage, server: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&m.number.to_le_bytes());
        body.push(m.state);
        body.push(m.class);
        us_varchar(&m.text, &mut body);
        b_varchar(server, &mut body);
        b_varchar(&m.procedure, &mut body);
        body.extend_from_slice(&m.line.to_le_bytes());
        self.sized(if m.class > 10 { 0xAA } else { 0xAB }, &body);
    }

    /// LOGINACK: the TDS version and the server's name and version.
    pub fn login_ack(&mut self, tds_version: u32, major: u8, minor: u8, build: u16) {
        let mut body = vec![1];
        body.extend_from_slice(&tds_version.to_be_bytes());
        b_varchar("Microsoft SQL Server", &mut body);
        body.extend_from_slice(&[major, minor]);
        body.extend_from_slice(&build.to_be_bytes());
        self.sized(0xAD, &body);
    }

    /// COLMETADATA.
    pub fn col_metadata(&mut self, cols: &[ColumnMeta]) {
        self.buf.push(0x81);
        self.buf
            .extend_from_slice(&(cols.len() as u16).to_le_bytes());
        for c in cols {
            self.buf.extend_from_slice(&0u32.to_le_bytes()); // user type
            // Flags: nullable (bit 0), updateable unknown (bits 2-3 = 2 on a real server).
            let flags: u16 = (c.nullable as u16) | 0x0008;
            self.buf.extend_from_slice(&flags.to_le_bytes());
            c.ty.type_info(&mut self.buf);
            b_varchar(&c.name, &mut self.buf);
        }
    }

    /// ROW: one value per column, encoded as the column's type.
    pub fn row(&mut self, cols: &[ColumnMeta], values: &[Value]) -> Result<(), ConversionError> {
        let mark = self.buf.len();
        self.buf.push(0xD1);
        for (c, v) in cols.iter().zip(values) {
            if let Err(e) = c.ty.encode(v, &mut self.buf) {
                self.buf.truncate(mark);
                return Err(e);
            }
        }
        Ok(())
    }

    /// DONE, DONEPROC (0xFE) or DONEINPROC (0xFF).
    pub fn done_token(&mut self, id: u8, status: u16, cur_cmd: u16, rows: u64) {
        self.buf.push(id);
        self.buf.extend_from_slice(&status.to_le_bytes());
        self.buf.extend_from_slice(&cur_cmd.to_le_bytes());
        self.buf.extend_from_slice(&rows.to_le_bytes());
    }

    /// DONE.
    pub fn done(&mut self, status: u16, cur_cmd: u16, rows: u64) {
        self.done_token(0xFD, status, cur_cmd, rows);
    }

    /// RETURNSTATUS.
    pub fn return_status(&mut self, status: i32) {
        self.buf.push(0x79);
        self.buf.extend_from_slice(&status.to_le_bytes());
    }
}
