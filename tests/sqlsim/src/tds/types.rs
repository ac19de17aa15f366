//! SQL Server column types as TDS describes them (TYPE_INFO in COLMETADATA) and how a value of
//! each is written in a ROW. Values come from SQLite, so each encoder accepts the storage classes
//! SQLite may hand back for that type (e.g. decimals as text, dates as ISO text).

use super::utf16;

/// The collation sqlsim reports: SQL_Latin1_General_CP1_CI_AS (LCID 0x0409, sort id 52).
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

/// A SQL Server column type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Bit,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Real,
    Float,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Numeric {
        precision: u8,
        scale: u8,
    },
    Money,
    SmallMoney,
    Date,
    Time {
        scale: u8,
    },
    DateTime,
    SmallDateTime,
    DateTime2 {
        scale: u8,
    },
    DateTimeOffset {
        scale: u8,
    },
    UniqueIdentifier,
    /// `None` length: (max).
    VarChar(Option<u16>),
    Char(u16),
    NVarChar(Option<u16>),
    NChar(u16),
    VarBinary(Option<u16>),
    Binary(u16),
}

/// A value as SQLite stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Why a value cannot be written as its column's type (conversion errors, as SQL Server's 245,
/// 8114 or 241 would report them).
#[derive(Debug, PartialEq, Eq)]
pub struct ConversionError(pub String);

type Enc = Result<(), ConversionError>;

/// How an integer out of its column type's range is reported (8115).
pub const ARITHMETIC_OVERFLOW: &str =
    "Arithmetic overflow error converting expression to data type";

impl ConversionError {
    /// SQL Server's number for it: 8115 for an arithmetic overflow, 8114 otherwise.
    pub fn number(&self) -> i32 {
        if self.0.starts_with(ARITHMETIC_OVERFLOW) {
            8115
        } else {
            8114
        }
    }
}

fn conv(value: &Value, ty: &ColumnType) -> ConversionError {
    ConversionError(format!(
        "Conversion failed when converting the value {value:?} to {}",
        ty.name()
    ))
}

impl ColumnType {
    /// SQL Server's name of the type, as `sys.types` and `sp_describe_first_result_set` show it.
    pub fn name(&self) -> String {
        match self {
            ColumnType::Bit => "bit".into(),
            ColumnType::TinyInt => "tinyint".into(),
            ColumnType::SmallInt => "smallint".into(),
            ColumnType::Int => "int".into(),
            ColumnType::BigInt => "bigint".into(),
            ColumnType::Real => "real".into(),
            ColumnType::Float => "float".into(),
            ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ColumnType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
            ColumnType::Money => "money".into(),
            ColumnType::SmallMoney => "smallmoney".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time { scale } => format!("time({scale})"),
            ColumnType::DateTime => "datetime".into(),
            ColumnType::SmallDateTime => "smalldatetime".into(),
            ColumnType::DateTime2 { scale } => format!("datetime2({scale})"),
            ColumnType::DateTimeOffset { scale } => format!("datetimeoffset({scale})"),
            ColumnType::UniqueIdentifier => "uniqueidentifier".into(),
            ColumnType::VarChar(n) => format!("varchar({})", len_name(*n)),
            ColumnType::Char(n) => format!("char({n})"),
            ColumnType::NVarChar(n) => format!("nvarchar({})", len_name(*n)),
            ColumnType::NChar(n) => format!("nchar({n})"),
            ColumnType::VarBinary(n) => format!("varbinary({})", len_name(*n)),
            ColumnType::Binary(n) => format!("binary({n})"),
        }
    }

    /// Parses a declared type such as `NVARCHAR(50)`, `decimal(18, 2)`, `varbinary(max)`.
    pub fn parse(decl: &str) -> Option<ColumnType> {
        let d = decl.trim().to_ascii_lowercase();
        let (base, args) = match d.split_once('(') {
            Some((b, rest)) => (b.trim().to_string(), rest.trim_end_matches(')').to_string()),
            None => (d.clone(), String::new()),
        };
        let nums: Vec<&str> = args
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let n = |i: usize, default: u16| -> Option<u16> {
            match nums.get(i) {
                None => Some(default),
                Some(s) => s.parse().ok(),
            }
        };
        let maxable = |default: u16| -> Option<Option<u16>> {
            match nums.first() {
                // (max), or (-1) as the engine keeps it in SQLite's declared types.
                Some(s) if *s == "max" || *s == "-1" => Some(None),
                _ => n(0, default).map(Some),
            }
        };
        Some(match base.as_str() {
            "bit" => ColumnType::Bit,
            "tinyint" => ColumnType::TinyInt,
            "smallint" => ColumnType::SmallInt,
            "int" | "integer" => ColumnType::Int,
            "bigint" => ColumnType::BigInt,
            "real" => ColumnType::Real,
            "float" => match n(0, 53)? {
                1..=24 => ColumnType::Real,
                _ => ColumnType::Float,
            },
            "decimal" | "dec" => ColumnType::Decimal {
                precision: n(0, 18)? as u8,
                scale: n(1, 0)? as u8,
            },
            // numeric_text: numeric stored as text in SQLite (exact beyond 15 digits, e.g. LSNs);
            // the "text" in the name gives the column SQLite's TEXT affinity.
            "numeric" | "numeric_text" => ColumnType::Numeric {
                precision: n(0, 18)? as u8,
                scale: n(1, 0)? as u8,
            },
            "money" => ColumnType::Money,
            "smallmoney" => ColumnType::SmallMoney,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time {
                scale: n(0, 7)? as u8,
            },
            "datetime" => ColumnType::DateTime,
            "smalldatetime" => ColumnType::SmallDateTime,
            "datetime2" => ColumnType::DateTime2 {
                scale: n(0, 7)? as u8,
            },
            "datetimeoffset" => ColumnType::DateTimeOffset {
                scale: n(0, 7)? as u8,
            },
            "uniqueidentifier" => ColumnType::UniqueIdentifier,
            "varchar" => ColumnType::VarChar(maxable(1)?),
            "char" => ColumnType::Char(n(0, 1)?),
            "nvarchar" | "sysname" => {
                if base == "sysname" {
                    ColumnType::NVarChar(Some(128))
                } else {
                    ColumnType::NVarChar(maxable(1)?)
                }
            }
            "nchar" => ColumnType::NChar(n(0, 1)?),
            "varbinary" => ColumnType::VarBinary(maxable(1)?),
            "binary" => ColumnType::Binary(n(0, 1)?),
            "text" => ColumnType::VarChar(None),
            "ntext" | "xml" => ColumnType::NVarChar(None),
            "image" => ColumnType::VarBinary(None),
            "timestamp" | "rowversion" => ColumnType::Binary(8),
            _ => return None,
        })
    }

    /// The TYPE_INFO bytes of the type.
    pub fn type_info(&self, out: &mut Vec<u8>) {
        match self {
            ColumnType::Bit => out.extend_from_slice(&[0x68, 1]),
            ColumnType::TinyInt => out.extend_from_slice(&[0x26, 1]),
            ColumnType::SmallInt => out.extend_from_slice(&[0x26, 2]),
            ColumnType::Int => out.extend_from_slice(&[0x26, 4]),
            ColumnType::BigInt => out.extend_from_slice(&[0x26, 8]),
            ColumnType::Real => out.extend_from_slice(&[0x6D, 4]),
            ColumnType::Float => out.extend_from_slice(&[0x6D, 8]),
            ColumnType::Decimal { precision, scale } => {
                out.extend_from_slice(&[0x6A, decimal_len(*precision), *precision, *scale])
            }
            ColumnType::Numeric { precision, scale } => {
                out.extend_from_slice(&[0x6C, decimal_len(*precision), *precision, *scale])
            }
            ColumnType::Money => out.extend_from_slice(&[0x6E, 8]),
            ColumnType::SmallMoney => out.extend_from_slice(&[0x6E, 4]),
            ColumnType::Date => out.push(0x28),
            ColumnType::Time { scale } => out.extend_from_slice(&[0x29, *scale]),
            ColumnType::DateTime => out.extend_from_slice(&[0x6F, 8]),
            ColumnType::SmallDateTime => out.extend_from_slice(&[0x6F, 4]),
            ColumnType::DateTime2 { scale } => out.extend_from_slice(&[0x2A, *scale]),
            ColumnType::DateTimeOffset { scale } => out.extend_from_slice(&[0x2B, *scale]),
            ColumnType::UniqueIdentifier => out.extend_from_slice(&[0x24, 16]),
            ColumnType::VarChar(n) => {
                out.push(0xA7);
                out.extend_from_slice(&n.unwrap_or(0xFFFF).to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            ColumnType::Char(n) => {
                out.push(0xAF);
                out.extend_from_slice(&n.to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            ColumnType::NVarChar(n) => {
                out.push(0xE7);
                out.extend_from_slice(&n.map(|c| c * 2).unwrap_or(0xFFFF).to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            ColumnType::NChar(n) => {
                out.push(0xEF);
                out.extend_from_slice(&(n * 2).to_le_bytes());
                out.extend_from_slice(&COLLATION);
            }
            ColumnType::VarBinary(n) => {
                out.push(0xA5);
                out.extend_from_slice(&n.unwrap_or(0xFFFF).to_le_bytes());
            }
            ColumnType::Binary(n) => {
                out.push(0xAD);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
    }

    /// Writes `value` as this type in a ROW token.
    pub fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Enc {
        let is_null = matches!(value, Value::Null);
        match self {
            ColumnType::VarChar(None)
            | ColumnType::NVarChar(None)
            | ColumnType::VarBinary(None) => {
                if is_null {
                    out.extend_from_slice(&u64::MAX.to_le_bytes());
                    return Ok(());
                }
                let bytes = self.var_bytes(value)?;
                plp(&bytes, out);
                return Ok(());
            }
            ColumnType::VarChar(Some(_))
            | ColumnType::Char(_)
            | ColumnType::NVarChar(Some(_))
            | ColumnType::NChar(_)
            | ColumnType::VarBinary(Some(_))
            | ColumnType::Binary(_) => {
                if is_null {
                    out.extend_from_slice(&0xFFFFu16.to_le_bytes());
                    return Ok(());
                }
                let bytes = self.var_bytes(value)?;
                out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
                out.extend_from_slice(&bytes);
                return Ok(());
            }
            _ => {}
        }
        if is_null {
            out.push(0);
            return Ok(());
        }
        match self {
            ColumnType::Bit => {
                out.extend_from_slice(&[1, (int(value, self)? != 0) as u8]);
            }
            ColumnType::TinyInt => {
                let v = ranged(int(value, self)?, 0, 255, self)?;
                out.extend_from_slice(&[1, v as u8]);
            }
            ColumnType::SmallInt => {
                let v = ranged(int(value, self)?, i16::MIN as i64, i16::MAX as i64, self)?;
                out.push(2);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            ColumnType::Int => {
                let v = ranged(int(value, self)?, i32::MIN as i64, i32::MAX as i64, self)?;
                out.push(4);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            ColumnType::BigInt => {
                out.push(8);
                out.extend_from_slice(&int(value, self)?.to_le_bytes());
            }
            ColumnType::Real => {
                out.push(4);
                out.extend_from_slice(&(float(value, self)? as f32).to_le_bytes());
            }
            ColumnType::Float => {
                out.push(8);
                out.extend_from_slice(&float(value, self)?.to_le_bytes());
            }
            ColumnType::Decimal { precision, scale } | ColumnType::Numeric { precision, scale } => {
                let n = scaled(value, *scale, self)?;
                let len = decimal_len(*precision);
                out.push(len);
                out.push(if n < 0 { 0 } else { 1 });
                out.extend_from_slice(&n.unsigned_abs().to_le_bytes()[..(len - 1) as usize]);
            }
            ColumnType::Money => {
                let n = scaled(value, 4, self)? as i64;
                out.push(8);
                out.extend_from_slice(&((n >> 32) as i32).to_le_bytes());
                out.extend_from_slice(&(n as u32).to_le_bytes());
            }
            ColumnType::SmallMoney => {
                let n = scaled(value, 4, self)? as i32;
                out.push(4);
                out.extend_from_slice(&n.to_le_bytes());
            }
            ColumnType::Date => {
                let (days, _, _) =
                    datetime_parts(&text(value, self)?, 0).ok_or_else(|| conv(value, self))?;
                out.push(3);
                out.extend_from_slice(&days.to_le_bytes()[..3]);
            }
            ColumnType::Time { scale } => {
                let t = text(value, self)?;
                let ticks = time_ticks(&t, *scale).ok_or_else(|| conv(value, self))?;
                let len = time_len(*scale);
                out.push(len);
                out.extend_from_slice(&ticks.to_le_bytes()[..len as usize]);
            }
            ColumnType::DateTime2 { scale } => {
                let (days, ticks, _) =
                    datetime_parts(&text(value, self)?, *scale).ok_or_else(|| conv(value, self))?;
                let tl = time_len(*scale);
                out.push(tl + 3);
                out.extend_from_slice(&ticks.to_le_bytes()[..tl as usize]);
                out.extend_from_slice(&days.to_le_bytes()[..3]);
            }
            ColumnType::DateTimeOffset { scale } => {
                let (days, ticks, offset) =
                    datetime_parts(&text(value, self)?, *scale).ok_or_else(|| conv(value, self))?;
                // The wire carries UTC plus the offset in minutes.
                let unit = 10u64.pow(*scale as u32);
                let day_units = 86_400 * unit;
                let total = days as i128 * day_units as i128 + ticks as i128
                    - offset as i128 * 60 * unit as i128;
                let (days, ticks) = (
                    total.div_euclid(day_units as i128) as u32,
                    total.rem_euclid(day_units as i128) as u64,
                );
                let tl = time_len(*scale);
                out.push(tl + 5);
                out.extend_from_slice(&ticks.to_le_bytes()[..tl as usize]);
                out.extend_from_slice(&days.to_le_bytes()[..3]);
                out.extend_from_slice(&offset.to_le_bytes());
            }
            ColumnType::DateTime => {
                let (days, ticks, _) =
                    datetime_parts(&text(value, self)?, 7).ok_or_else(|| conv(value, self))?;
                // Days since 1900-01-01 and 1/300 s since midnight.
                let days1900 = days as i64 - DAYS_0001_TO_1900;
                let three_hundredths = ((ticks as u128 * 300 + 5_000_000) / 10_000_000) as u32;
                out.push(8);
                out.extend_from_slice(&(days1900 as i32).to_le_bytes());
                out.extend_from_slice(&three_hundredths.to_le_bytes());
            }
            ColumnType::SmallDateTime => {
                let (days, ticks, _) =
                    datetime_parts(&text(value, self)?, 7).ok_or_else(|| conv(value, self))?;
                let days1900 = days as i64 - DAYS_0001_TO_1900;
                out.push(4);
                out.extend_from_slice(&(days1900 as u16).to_le_bytes());
                out.extend_from_slice(&((ticks / 600_000_000) as u16).to_le_bytes());
            }
            ColumnType::UniqueIdentifier => {
                let g = guid_bytes(&text(value, self)?).ok_or_else(|| conv(value, self))?;
                out.push(16);
                out.extend_from_slice(&g);
            }
            _ => unreachable!("variable-length types are handled above"),
        }
        Ok(())
    }

    /// The bytes of a character or binary value.
    fn var_bytes(&self, value: &Value) -> Result<Vec<u8>, ConversionError> {
        let unicode = matches!(self, ColumnType::NVarChar(_) | ColumnType::NChar(_));
        let binary = matches!(self, ColumnType::VarBinary(_) | ColumnType::Binary(_));
        let mut bytes = match value {
            Value::Blob(b) if binary => b.clone(),
            Value::Blob(b) => {
                let s = String::from_utf8_lossy(b).into_owned();
                if unicode { utf16(&s) } else { latin1(&s) }
            }
            Value::Text(s) if binary => s.as_bytes().to_vec(),
            other => {
                let s = match other {
                    Value::Text(s) => s.clone(),
                    Value::Integer(i) => i.to_string(),
                    Value::Real(f) => f.to_string(),
                    _ => unreachable!(),
                };
                if binary {
                    return Err(conv(value, self));
                }
                if unicode { utf16(&s) } else { latin1(&s) }
            }
        };
        // Fixed-length types are padded as SQL Server pads them.
        match self {
            ColumnType::Char(n) => bytes.resize(*n as usize, b' '),
            ColumnType::NChar(n) => {
                while bytes.len() < *n as usize * 2 {
                    bytes.extend_from_slice(&[b' ', 0]);
                }
            }
            ColumnType::Binary(n) => bytes.resize(*n as usize, 0),
            _ => {}
        }
        Ok(bytes)
    }
}

fn len_name(n: Option<u16>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "max".into())
}

/// Bytes a DECIMALN value takes for a precision (sign byte included).
pub fn decimal_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

/// Bytes a time part takes for a fractional-second scale.
fn time_len(scale: u8) -> u8 {
    match scale {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

/// PLP encoding: total length, then chunks, then a zero terminator.
fn plp(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    for chunk in bytes.chunks(8000) {
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&0u32.to_le_bytes());
}

/// Code page 1252 for the ASCII/Latin-1 range; anything else becomes `?` as SQL Server does.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
        .collect()
}

fn int(v: &Value, ty: &ColumnType) -> Result<i64, ConversionError> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Real(f) if f.fract() == 0.0 => Ok(*f as i64),
        Value::Text(s) => s.trim().parse().map_err(|_| conv(v, ty)),
        _ => Err(conv(v, ty)),
    }
}

/// `i` when `ty` holds it; SQL Server's 8115 names the type, not the value.
fn ranged(i: i64, lo: i64, hi: i64, ty: &ColumnType) -> Result<i64, ConversionError> {
    if i < lo || i > hi {
        Err(ConversionError(format!(
            "{ARITHMETIC_OVERFLOW} {}.",
            ty.name()
        )))
    } else {
        Ok(i)
    }
}

fn float(v: &Value, ty: &ColumnType) -> Result<f64, ConversionError> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(f) => Ok(*f),
        Value::Text(s) => s.trim().parse().map_err(|_| conv(v, ty)),
        _ => Err(conv(v, ty)),
    }
}

fn text(v: &Value, ty: &ColumnType) -> Result<String, ConversionError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(conv(v, ty)),
    }
}

/// A decimal value as an integer scaled by 10^scale (exact for text and integers).
fn scaled(v: &Value, scale: u8, ty: &ColumnType) -> Result<i128, ConversionError> {
    let s = match v {
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format!("{f:.*}", scale as usize),
        Value::Text(s) => s.trim().to_string(),
        _ => return Err(conv(v, ty)),
    };
    parse_scaled(&s, scale).ok_or_else(|| conv(v, ty))
}

/// `"-12.345"` at scale 2 → -1235 (rounded half away from zero, as SQL Server rounds).
pub fn parse_scaled(s: &str, scale: u8) -> Option<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    if !int_part
        .chars()
        .chain(frac.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut n: i128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let fd: Vec<u32> = frac.chars().map(|c| c.to_digit(10).unwrap()).collect();
    for i in 0..scale as usize {
        n = n
            .checked_mul(10)?
            .checked_add(*fd.get(i).unwrap_or(&0) as i128)?;
    }
    if fd.get(scale as usize).is_some_and(|d| *d >= 5) {
        n += 1;
    }
    Some(if neg { -n } else { n })
}

/// Days from 0001-01-01 to 1900-01-01.
const DAYS_0001_TO_1900: i64 = 693_595;

/// Days since 0001-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    // Howard Hinnant's algorithm, shifted to the 0001-01-01 epoch.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 306
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.fffffff]][ +HH:MM]` (or `T` between date and time) into
/// (days since 0001-01-01, time in 10^-scale seconds, offset in minutes).
pub fn datetime_parts(s: &str, scale: u8) -> Option<(u32, u64, i16)> {
    let s = s.trim();
    let (date, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let (time, offset) = split_offset(rest)?;
    let ticks = if time.is_empty() {
        0
    } else {
        time_ticks(time, scale)?
    };
    Some((u32::try_from(days).ok()?, ticks, offset))
}

/// Splits `HH:MM:SS.fff +05:30` into the time and the offset in minutes.
fn split_offset(rest: &str) -> Option<(&str, i16)> {
    let rest = rest.trim();
    if let Some(z) = rest.strip_suffix('Z') {
        return Some((z.trim(), 0));
    }
    // An offset starts with + or - after the time (never at position 0 of a time).
    if let Some(i) = rest.rfind(['+', '-']).filter(|i| *i > 0) {
        let (t, o) = rest.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (h, m) = o[1..].split_once(':')?;
        let minutes = h.trim().parse::<i16>().ok()? * 60 + m.trim().parse::<i16>().ok()?;
        return Some((t.trim(), sign * minutes));
    }
    Some((rest, 0))
}

/// `HH:MM[:SS[.fffffff]]` in units of 10^-scale seconds.
pub fn time_ticks(s: &str, scale: u8) -> Option<u64> {
    let mut parts = s.trim().split(':');
    let h: u64 = parts.next()?.parse().ok()?;
    let m: u64 = parts.next()?.parse().ok()?;
    let (sec, frac) = match parts.next() {
        Some(sp) => match sp.split_once('.') {
            Some((a, b)) => (a.parse::<u64>().ok()?, b),
            None => (sp.parse::<u64>().ok()?, ""),
        },
        None => (0, ""),
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let unit = 10u64.pow(scale as u32);
    let mut f = 0u64;
    for i in 0..scale as usize {
        f = f * 10
            + frac
                .chars()
                .nth(i)
                .and_then(|c| c.to_digit(10))
                .unwrap_or(0) as u64;
    }
    Some(((h * 60 + m) * 60 + sec) * unit + f)
}

/// The 16 wire bytes of a GUID string (first three groups little-endian, as SQL Server stores).
pub fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let hex: String = s
        .trim()
        .trim_matches(['{', '}'])
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_parse() {
        assert_eq!(
            ColumnType::parse("NVARCHAR(50)"),
            Some(ColumnType::NVarChar(Some(50)))
        );
        assert_eq!(
            ColumnType::parse("varbinary(max)"),
            Some(ColumnType::VarBinary(None))
        );
        assert_eq!(
            ColumnType::parse("decimal(18, 2)"),
            Some(ColumnType::Decimal {
                precision: 18,
                scale: 2
            })
        );
        assert_eq!(
            ColumnType::parse("datetime2"),
            Some(ColumnType::DateTime2 { scale: 7 })
        );
        assert_eq!(
            ColumnType::parse("sysname"),
            Some(ColumnType::NVarChar(Some(128)))
        );
        assert_eq!(ColumnType::parse("geography"), None);
    }

    #[test]
    fn decimals_scale_and_round_like_sql_server() {
        assert_eq!(parse_scaled("12.345", 2), Some(1235));
        assert_eq!(parse_scaled("-0.5", 0), Some(-1));
        assert_eq!(parse_scaled("7", 3), Some(7000));
        assert_eq!(parse_scaled("x", 0), None);
    }

    #[test]
    fn dates_count_days_from_year_one() {
        assert_eq!(days_from_civil(1, 1, 1), 0);
        assert_eq!(days_from_civil(1900, 1, 1), DAYS_0001_TO_1900);
        let (d, t, o) = datetime_parts("2024-02-29 13:45:30.1234567 +05:30", 7).unwrap();
        assert_eq!(d as i64, days_from_civil(2024, 2, 29));
        assert_eq!(t, ((13 * 60 + 45) * 60 + 30) * 10_000_000 + 1_234_567);
        assert_eq!(o, 330);
    }

    #[test]
    fn guids_use_sql_servers_byte_order() {
        let g = guid_bytes("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(
            g,
            [
                0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]
        );
    }
}
