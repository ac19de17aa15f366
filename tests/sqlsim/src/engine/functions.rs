//! T-SQL functions SQLite lacks, registered on the engine's connection: `BINARY_CHECKSUM`,
//! `CHECKSUM`, `CHECKSUM_AGG` and `HASHBYTES`, so checksums run in the database as on a server,
//! the conversion `CAST(x AS varbinary)` is made of, and int arithmetic's overflow.
//!
//! The checksum values are sqlsim's own (SQL Server's algorithm is not documented): a rotating
//! XOR over each value's bytes, order-sensitive across columns, so a changed value changes the
//! row's checksum, and `CHECKSUM_AGG` XORs row checksums as SQL Server's does. Like SQL Server's,
//! they read only the first 255 characters of a string.

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};
use sha2::{Digest, Sha256, Sha512};

/// Registers the functions on `conn`, as SQL Server `major` has them.
pub fn register(conn: &Connection, major: u8) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("BINARY_CHECKSUM", -1, flags, |ctx| Ok(checksum(ctx, false)))?;
    conn.create_scalar_function("CHECKSUM", -1, flags, |ctx| Ok(checksum(ctx, true)))?;
    conn.create_aggregate_function("CHECKSUM_AGG", 1, flags, XorAgg)?;
    conn.create_scalar_function("HASHBYTES", 2, flags, move |ctx| hashbytes(ctx, major))?;
    conn.create_scalar_function("SQLSIM_TO_BINARY", 1, flags, to_binary)?;
    conn.create_scalar_function("SQLSIM_INT", 1, flags, int_range)?;
    Ok(())
}

/// `CAST(x AS varbinary)`: a number's bytes, big-endian as SQL Server writes them (8 for an
/// integer or a float), text's bytes, a blob as it is.
fn to_binary(ctx: &Context) -> Result<Option<Vec<u8>>> {
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v.to_be_bytes().to_vec()),
        ValueRef::Real(v) => Some(v.to_be_bytes().to_vec()),
        ValueRef::Text(t) => Some(t.to_vec()),
        ValueRef::Blob(b) => Some(b.to_vec()),
    })
}

/// The characters of a string BINARY_CHECKSUM and CHECKSUM read (Microsoft's documentation of
/// BINARY_CHECKSUM: "up to 255 characters" of the string types, any length of varbinary(max)).
const STRING_CHARS_READ: usize = 255;

fn mix(h: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(h, |h, b| h.rotate_left(4) ^ *b as u32)
}

/// The checksum of a row of values; `fold_case` makes text compare as a case-insensitive
/// collation would (CHECKSUM), binary comparison otherwise (BINARY_CHECKSUM).
fn checksum(ctx: &Context, fold_case: bool) -> i64 {
    let mut h: u32 = 0;
    for i in 0..ctx.len() {
        h = h.rotate_left(4) ^ 0x5C; // column separator: (a, bc) differs from (ab, c)
        h = match ctx.get_raw(i) {
            ValueRef::Null => mix(h, &[0xFF]),
            ValueRef::Integer(v) => mix(h, &v.to_le_bytes()),
            ValueRef::Real(v) => mix(h, &v.to_le_bytes()),
            ValueRef::Text(t) => {
                // As on SQL Server, only a string's first 255 characters count (binary values
                // count whole): a change further on leaves the checksum as it was.
                let s: String = String::from_utf8_lossy(t)
                    .chars()
                    .take(STRING_CHARS_READ)
                    .collect();
                let s = if fold_case { s.to_lowercase() } else { s };
                let utf16: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
                mix(h, &utf16)
            }
            ValueRef::Blob(b) => mix(h, b),
        };
    }
    h as i32 as i64
}

/// CHECKSUM_AGG: XOR of the non-NULL integer values.
struct XorAgg;

impl Aggregate<Option<i64>, Option<i64>> for XorAgg {
    fn init(&self, _: &mut Context<'_>) -> Result<Option<i64>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<i64>) -> Result<()> {
        if let ValueRef::Integer(v) = ctx.get_raw(0) {
            *acc = Some(acc.unwrap_or(0) ^ (v as i32 as i64));
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Option<i64>>) -> Result<Option<i64>> {
        Ok(acc.flatten().map(|v| v as i32 as i64))
    }
}

/// HASHBYTES's input limit before SQL Server 2016 (hashbytes-transact-sql.md: "For SQL Server
/// 2014 and earlier, allowed input values are limited to 8000 bytes").
const HASHBYTES_LIMIT_BEFORE_2016: usize = 8000;

/// HASHBYTES('SHA2_256' | 'SHA2_512', value): text hashes as nvarchar (UTF-16LE) would. Before
/// 2012 there is no SHA2 (the server answers NULL for an algorithm it does not know); before
/// 2016 an input past 8,000 bytes is refused (8152: the page gives no number, SQL Server 2014
/// raises the truncation error).
fn hashbytes(ctx: &Context, major: u8) -> Result<Option<Vec<u8>>> {
    let algorithm = ctx.get::<String>(0)?.to_ascii_uppercase();
    let bytes = match ctx.get_raw(1) {
        ValueRef::Null => return Ok(None),
        ValueRef::Blob(b) => b.to_vec(),
        ValueRef::Text(t) => String::from_utf8_lossy(t)
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect(),
        ValueRef::Integer(v) => v.to_le_bytes().to_vec(),
        ValueRef::Real(v) => v.to_le_bytes().to_vec(),
    };
    if major < 11 && algorithm.starts_with("SHA2_") {
        return Ok(None);
    }
    if major < 13 && bytes.len() > HASHBYTES_LIMIT_BEFORE_2016 {
        return Err(Error::UserFunctionError(
            "Msg 8152: String or binary data would be truncated.".into(),
        ));
    }
    match algorithm.as_str() {
        "SHA2_256" => Ok(Some(Sha256::digest(&bytes).to_vec())),
        "SHA2_512" => Ok(Some(Sha512::digest(&bytes).to_vec())),
        other => Err(Error::UserFunctionError(
            format!("HASHBYTES algorithm '{other}' is not simulated (SHA2_256, SHA2_512)").into(),
        )),
    }
}

/// An int operation's result (`result_types::guard_int_arithmetic`): past int's range SQL
/// Server raises 8115 where SQLite would go on in 64 bits.
fn int_range(ctx: &Context) -> Result<rusqlite::types::Value> {
    let v: rusqlite::types::Value = ctx.get(0)?;
    if let rusqlite::types::Value::Integer(i) = v
        && i32::try_from(i).is_err()
    {
        return Err(rusqlite::Error::UserFunctionError(
            "Msg 8115: Arithmetic overflow error converting expression to data type int.".into(),
        ));
    }
    Ok(v)
}
