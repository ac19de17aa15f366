//! Client requests: SQL batches and RPC calls (`sp_executesql` and named procedures) with their
//! typed parameters, decoded into SQLite-storable values.

use super::from_utf16;
use super::types::{ColumnType, Value, days_from_civil};

/// A decoded request.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// A SQL batch.
    Batch(String),
    /// An RPC call.
    Rpc(RpcCall),
}

/// An RPC call: the procedure (by name or well-known id) and its parameters.
#[derive(Debug, PartialEq)]
pub struct RpcCall {
    pub proc_name: String,
    pub params: Vec<RpcParam>,
}

/// A parameter.
#[derive(Debug, PartialEq)]
pub struct RpcParam {
    /// Name with its `@`, or empty for positional ones.
    pub name: String,
    pub output: bool,
    pub ty: ColumnType,
    pub value: Value,
}

/// A cursor over a payload; every read names what was missing.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or_else(|| format!("request truncated at byte {}", self.at))?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }
    fn done(&self) -> bool {
        self.at >= self.b.len()
    }
}

/// Skips ALL_HEADERS (a u32 total length that counts itself), when present.
fn skip_all_headers(r: &mut Reader) -> Result<(), String> {
    let total = r.u32()? as usize;
    if total < 4 {
        return Err("ALL_HEADERS length is shorter than itself".into());
    }
    r.take(total - 4)?;
    Ok(())
}

/// Decodes a SQL batch payload.
pub fn parse_batch(payload: &[u8]) -> Result<Request, String> {
    let mut r = Reader { b: payload, at: 0 };
    skip_all_headers(&mut r)?;
    Ok(Request::Batch(from_utf16(&payload[r.at..])))
}

/// Well-known procedure ids.
fn proc_by_id(id: u16) -> &'static str {
    match id {
        1 => "sp_cursor",
        2 => "sp_cursoropen",
        7 => "sp_cursorclose",
        10 => "sp_executesql",
        11 => "sp_prepare",
        12 => "sp_execute",
        13 => "sp_prepexec",
        15 => "sp_unprepare",
        _ => "sp_unknown",
    }
}

/// Decodes an RPC payload (one call; batched calls are not used by tiberius).
pub fn parse_rpc(payload: &[u8]) -> Result<Request, String> {
    let mut r = Reader { b: payload, at: 0 };
    skip_all_headers(&mut r)?;
    let name_len = r.u16()?;
    let proc_name = if name_len == 0xFFFF {
        proc_by_id(r.u16()?).to_string()
    } else {
        from_utf16(r.take(name_len as usize * 2)?)
    };
    let _options = r.u16()?;
    let mut params = Vec::new();
    while !r.done() {
        let name_chars = r.u8()? as usize;
        let name = from_utf16(r.take(name_chars * 2)?);
        let status = r.u8()?;
        let (ty, value) = read_typed_value(&mut r)?;
        params.push(RpcParam {
            name,
            output: status & 0x01 != 0,
            ty,
            value,
        });
    }
    Ok(Request::Rpc(RpcCall { proc_name, params }))
}

/// Reads a TYPE_INFO and the value that follows it.
fn read_typed_value(r: &mut Reader) -> Result<(ColumnType, Value), String> {
    let t = r.u8()?;
    match t {
        // Fixed-length types.
        0x30 => Ok((ColumnType::TinyInt, Value::Integer(r.u8()? as i64))),
        0x34 => Ok((ColumnType::SmallInt, Value::Integer(r.u16()? as i16 as i64))),
        0x38 => Ok((ColumnType::Int, Value::Integer(r.u32()? as i32 as i64))),
        0x7F => Ok((ColumnType::BigInt, Value::Integer(r.u64()? as i64))),
        0x32 => Ok((ColumnType::Bit, Value::Integer((r.u8()? != 0) as i64))),
        0x3B => Ok((
            ColumnType::Real,
            Value::Real(f32::from_bits(r.u32()?) as f64),
        )),
        0x3E => Ok((ColumnType::Float, Value::Real(f64::from_bits(r.u64()?)))),
        0x1F => Ok((ColumnType::NVarChar(Some(1)), Value::Null)),
        0x26 => {
            let max = r.u8()?;
            let ty = match max {
                1 => ColumnType::TinyInt,
                2 => ColumnType::SmallInt,
                4 => ColumnType::Int,
                _ => ColumnType::BigInt,
            };
            let v = match r.u8()? {
                0 => Value::Null,
                1 => Value::Integer(r.u8()? as i64),
                2 => Value::Integer(r.u16()? as i16 as i64),
                4 => Value::Integer(r.u32()? as i32 as i64),
                8 => Value::Integer(r.u64()? as i64),
                n => return Err(format!("INTN value of {n} bytes")),
            };
            Ok((ty, v))
        }
        0x68 => {
            r.u8()?;
            let v = match r.u8()? {
                0 => Value::Null,
                _ => Value::Integer((r.u8()? != 0) as i64),
            };
            Ok((ColumnType::Bit, v))
        }
        0x6D => {
            let max = r.u8()?;
            let v = match r.u8()? {
                0 => Value::Null,
                4 => Value::Real(f32::from_bits(r.u32()?) as f64),
                8 => Value::Real(f64::from_bits(r.u64()?)),
                n => return Err(format!("FLTN value of {n} bytes")),
            };
            Ok((
                if max == 4 {
                    ColumnType::Real
                } else {
                    ColumnType::Float
                },
                v,
            ))
        }
        0x6A | 0x6C => {
            r.u8()?;
            let precision = r.u8()?;
            let scale = r.u8()?;
            let len = r.u8()? as usize;
            let v = if len == 0 {
                Value::Null
            } else {
                let sign = r.u8()?;
                let mut mag = [0u8; 16];
                mag[..len - 1].copy_from_slice(r.take(len - 1)?);
                let n = u128::from_le_bytes(mag);
                Value::Text(format_scaled(n, scale, sign == 0))
            };
            let ty = if t == 0x6A {
                ColumnType::Decimal { precision, scale }
            } else {
                ColumnType::Numeric { precision, scale }
            };
            Ok((ty, v))
        }
        0x6E => {
            let max = r.u8()?;
            let v = match r.u8()? {
                0 => Value::Null,
                4 => Value::Text(format_scaled_signed(r.u32()? as i32 as i128, 4)),
                8 => {
                    let hi = r.u32()? as i32 as i64;
                    let lo = r.u32()? as u64;
                    Value::Text(format_scaled_signed(((hi << 32) | lo as i64) as i128, 4))
                }
                n => return Err(format!("MONEYN value of {n} bytes")),
            };
            Ok((
                if max == 4 {
                    ColumnType::SmallMoney
                } else {
                    ColumnType::Money
                },
                v,
            ))
        }
        0x24 => {
            r.u8()?;
            let v = match r.u8()? {
                0 => Value::Null,
                16 => Value::Text(guid_text(r.take(16)?)),
                n => return Err(format!("GUID value of {n} bytes")),
            };
            Ok((ColumnType::UniqueIdentifier, v))
        }
        0x28 => {
            let v = match r.u8()? {
                0 => Value::Null,
                _ => Value::Text(date_text(u24(r.take(3)?))),
            };
            Ok((ColumnType::Date, v))
        }
        0x29 => {
            let scale = r.u8()?;
            let v = match r.u8()? as usize {
                0 => Value::Null,
                n => Value::Text(time_text(uint(r.take(n)?), scale)),
            };
            Ok((ColumnType::Time { scale }, v))
        }
        0x2A => {
            let scale = r.u8()?;
            let v = match r.u8()? as usize {
                0 => Value::Null,
                n => {
                    let t = uint(r.take(n - 3)?);
                    let d = u24(r.take(3)?);
                    Value::Text(format!("{} {}", date_text(d), time_text(t, scale)))
                }
            };
            Ok((ColumnType::DateTime2 { scale }, v))
        }
        0x2B => {
            let scale = r.u8()?;
            let v = match r.u8()? as usize {
                0 => Value::Null,
                n => {
                    let t = uint(r.take(n - 5)?);
                    let d = u24(r.take(3)?);
                    let off = r.u16()? as i16;
                    Value::Text(offset_text(d, t, scale, off))
                }
            };
            Ok((ColumnType::DateTimeOffset { scale }, v))
        }
        0x6F => {
            let max = r.u8()?;
            let v = match r.u8()? {
                0 => Value::Null,
                8 => {
                    let days = r.u32()? as i32 as i64;
                    let ticks300 = r.u32()? as u64;
                    let d = (days + 693_595) as u32;
                    // 1/300 s to milliseconds, rounded as SQL Server shows them (.000/.003/.007).
                    let t = (ticks300 * 10 + 1) / 3;
                    Value::Text(format!("{} {}", date_text(d), time_text(t, 3)))
                }
                4 => {
                    let days = r.u16()? as i64;
                    let mins = r.u16()? as u64;
                    let d = (days + 693_595) as u32;
                    Value::Text(format!("{} {}", date_text(d), time_text(mins * 60, 0)))
                }
                n => return Err(format!("DATETIMN value of {n} bytes")),
            };
            Ok((
                if max == 4 {
                    ColumnType::SmallDateTime
                } else {
                    ColumnType::DateTime
                },
                v,
            ))
        }
        0xA7 | 0xAF | 0xE7 | 0xEF | 0xA5 | 0xAD => {
            let max = r.u16()?;
            let unicode = matches!(t, 0xE7 | 0xEF);
            let binary = matches!(t, 0xA5 | 0xAD);
            if !binary {
                r.take(5)?; // collation
            }
            let bytes = if max == 0xFFFF {
                read_plp(r)?
            } else {
                match r.u16()? {
                    0xFFFF => None,
                    n => Some(r.take(n as usize)?.to_vec()),
                }
            };
            let chars = if max == 0xFFFF {
                None
            } else if unicode {
                Some(max / 2)
            } else {
                Some(max)
            };
            let ty = match t {
                0xA7 => ColumnType::VarChar(chars),
                0xAF => ColumnType::Char(max),
                0xE7 => ColumnType::NVarChar(chars),
                0xEF => ColumnType::NChar(max / 2),
                0xA5 => ColumnType::VarBinary(chars),
                _ => ColumnType::Binary(max),
            };
            let v = match bytes {
                None => Value::Null,
                Some(b) if binary => Value::Blob(b),
                Some(b) if unicode => Value::Text(from_utf16(&b)),
                Some(b) => Value::Text(b.iter().map(|c| *c as char).collect()),
            };
            Ok((ty, v))
        }
        other => Err(format!(
            "parameter of TDS type 0x{other:02X} is not supported by sqlsim"
        )),
    }
}

/// A PLP value: `None` for NULL.
fn read_plp(r: &mut Reader) -> Result<Option<Vec<u8>>, String> {
    let total = r.u64()?;
    if total == u64::MAX {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let n = r.u32()? as usize;
        if n == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(r.take(n)?);
    }
}

fn u24(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], 0])
}

fn uint(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(a)
}

fn format_scaled(n: u128, scale: u8, negative: bool) -> String {
    let s = n.to_string();
    let scale = scale as usize;
    let body = if scale == 0 {
        s
    } else {
        let padded = format!("{s:0>width$}", width = scale + 1);
        let (i, f) = padded.split_at(padded.len() - scale);
        format!("{i}.{f}")
    };
    if negative && n != 0 {
        format!("-{body}")
    } else {
        body
    }
}

fn format_scaled_signed(n: i128, scale: u8) -> String {
    format_scaled(n.unsigned_abs(), scale, n < 0)
}

/// The date of a day count since 0001-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 306;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn date_text(days: u32) -> String {
    let (y, m, d) = civil_from_days(days as i64);
    debug_assert_eq!(days_from_civil(y, m, d), days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

fn time_text(ticks: u64, scale: u8) -> String {
    let unit = 10u64.pow(scale as u32);
    let secs = ticks / unit;
    let frac = ticks % unit;
    let base = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if scale == 0 {
        base
    } else {
        format!("{base}.{frac:0width$}", width = scale as usize)
    }
}

/// A datetimeoffset's local time with its offset (the wire carries UTC).
fn offset_text(days: u32, ticks: u64, scale: u8, offset: i16) -> String {
    let unit = 10i128.pow(scale as u32);
    let day_units = 86_400 * unit;
    let total = days as i128 * day_units + ticks as i128 + offset as i128 * 60 * unit;
    let (d, t) = (total.div_euclid(day_units), total.rem_euclid(day_units));
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    format!(
        "{} {} {sign}{:02}:{:02}",
        date_text(d as u32),
        time_text(t as u64, scale),
        o / 60,
        o % 60
    )
}

/// A GUID's canonical text from its wire bytes.
fn guid_text(b: &[u8]) -> String {
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tds::types::{ColumnType, Value};

    fn round_trip(ty: ColumnType, v: Value) -> (ColumnType, Value) {
        let mut b = Vec::new();
        ty.type_info(&mut b);
        ty.encode(&v, &mut b).unwrap();
        let mut r = Reader { b: &b, at: 0 };
        read_typed_value(&mut r).unwrap()
    }

    #[test]
    fn values_survive_encode_then_decode() {
        let cases = [
            (ColumnType::Int, Value::Integer(-42)),
            (ColumnType::BigInt, Value::Integer(i64::MIN)),
            (ColumnType::Float, Value::Real(1.5)),
            (
                ColumnType::Decimal {
                    precision: 18,
                    scale: 2,
                },
                Value::Text("-1234.56".into()),
            ),
            (
                ColumnType::Money,
                Value::Text("922337203685477.5807".into()),
            ),
            (ColumnType::Date, Value::Text("2024-02-29".into())),
            (
                ColumnType::DateTime2 { scale: 7 },
                Value::Text("1999-12-31 23:59:59.9999999".into()),
            ),
            (
                ColumnType::DateTimeOffset { scale: 3 },
                Value::Text("2024-01-01 00:30:00.000 +05:30".into()),
            ),
            (
                ColumnType::Time { scale: 4 },
                Value::Text("12:00:01.1234".into()),
            ),
            (
                ColumnType::DateTime,
                Value::Text("2000-01-01 12:00:00.000".into()),
            ),
            (
                ColumnType::UniqueIdentifier,
                Value::Text("00112233-4455-6677-8899-AABBCCDDEEFF".into()),
            ),
            (ColumnType::NVarChar(Some(10)), Value::Text("Grüße".into())),
            (ColumnType::NVarChar(None), Value::Text("x".repeat(20_000))),
            (ColumnType::VarBinary(None), Value::Blob(vec![1, 2, 3])),
            (ColumnType::Int, Value::Null),
            (ColumnType::NVarChar(None), Value::Null),
        ];
        for (ty, v) in cases {
            let (ty2, v2) = round_trip(ty.clone(), v.clone());
            assert_eq!(v2, v, "{ty:?}");
            assert_eq!(ty2, ty);
        }
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [0i64, 1, 59, 365, 693_595, 738_000, 3_652_058] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
