//! T-SQL string and date functions SQLite lacks, registered on the engine's connection:
//! `QUOTENAME`, `LEFT`, `RIGHT`, `CHARINDEX`, `GETDATE`/`SYSDATETIME`/`GETUTCDATE`, `DATEADD`,
//! `DATEDIFF`, `DATALENGTH` and `FULLTEXTSERVICEPROPERTY`. Dates are the text sqlsim stores them as
//! (`YYYY-MM-DD hh:mm:ss.fff`); the server's clock is UTC. A date part arrives as text (the
//! rewriter turns `DATEDIFF(HH, …)`'s bare word into `'HH'`).

use chrono::{DateTime, Datelike, Months, NaiveDateTime, TimeDelta};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};

const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// Registers the functions on `conn`.
pub fn register(conn: &Connection) -> Result<()> {
    let pure = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let clock = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("QUOTENAME", -1, pure, quotename)?;
    conn.create_scalar_function("LEFT", 2, pure, |ctx| substring(ctx, true))?;
    conn.create_scalar_function("RIGHT", 2, pure, |ctx| substring(ctx, false))?;
    conn.create_scalar_function("CHARINDEX", -1, pure, charindex)?;
    for name in ["GETDATE", "SYSDATETIME", "GETUTCDATE", "SYSUTCDATETIME"] {
        conn.create_scalar_function(name, 0, clock, |_| {
            Ok(now().format(DATE_FORMAT).to_string())
        })?;
    }
    conn.create_scalar_function("DATEADD", 3, pure, dateadd)?;
    conn.create_scalar_function("DATALENGTH", 1, pure, datalength)?;
    conn.create_scalar_function("DATEDIFF", 3, pure, datediff)?;
    conn.create_scalar_function("REPLICATE", 2, pure, |ctx| {
        let s: Option<String> = ctx.get(0)?;
        let n: Option<i64> = ctx.get(1)?;
        // SQL Server: NULL for a NULL argument or a negative count.
        Ok(match (s, n) {
            (Some(s), Some(n)) if n >= 0 => Some(s.repeat(n as usize)),
            _ => None,
        })
    })?;
    conn.create_scalar_function("FULLTEXTSERVICEPROPERTY", 1, pure, |ctx| {
        // Full-text search is not installed on sqlsim's instances.
        let prop = ctx.get::<String>(0)?.to_ascii_lowercase();
        Ok(match prop.as_str() {
            "isfulltextinstalled" | "loadosresources" | "resourceusage" => Some(0),
            "verifysignature" => Some(1),
            _ => None,
        })
    })?;
    Ok(())
}

/// The server's clock (UTC).
pub(super) fn now() -> NaiveDateTime {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos())
        .unwrap_or_default()
        .naive_utc()
}

fn text(ctx: &Context, i: usize) -> Option<String> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(v.to_string()),
        ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    }
}

/// QUOTENAME(name[, quote]): `[a]]b]` for `a]b`; NULL past 128 characters, as on a server.
fn quotename(ctx: &Context) -> Result<Option<String>> {
    let Some(name) = text(ctx, 0) else {
        return Ok(None);
    };
    if name.chars().count() > 128 {
        return Ok(None);
    }
    let quote = if ctx.len() > 1 { text(ctx, 1) } else { None };
    let (open, close) = match quote.as_deref().and_then(|q| q.chars().next()) {
        None | Some('[') | Some(']') => ('[', ']'),
        Some('"') => ('"', '"'),
        Some('\'') => ('\'', '\''),
        Some('(') | Some(')') => ('(', ')'),
        Some('<') | Some('>') => ('<', '>'),
        Some('{') | Some('}') => ('{', '}'),
        Some('`') => ('`', '`'),
        Some(_) => return Ok(None),
    };
    let doubled = name.replace(close, &format!("{close}{close}"));
    Ok(Some(format!("{open}{doubled}{close}")))
}

/// LEFT / RIGHT: the first or last `n` characters.
fn substring(ctx: &Context, left: bool) -> Result<Option<String>> {
    let (Some(s), Ok(n)) = (text(ctx, 0), ctx.get::<i64>(1)) else {
        return Ok(None);
    };
    if n < 0 {
        return Err(Error::UserFunctionError(
            "Invalid length parameter passed to the LEFT or RIGHT function.".into(),
        ));
    }
    let chars: Vec<char> = s.chars().collect();
    let n = (n as usize).min(chars.len());
    Ok(Some(if left {
        chars[..n].iter().collect()
    } else {
        chars[chars.len() - n..].iter().collect()
    }))
}

/// CHARINDEX(find, in[, start]): 1-based position, 0 when absent; case-insensitive, as the
/// default collation compares.
fn charindex(ctx: &Context) -> Result<Option<i64>> {
    let (Some(find), Some(within)) = (text(ctx, 0), text(ctx, 1)) else {
        return Ok(None);
    };
    let start = if ctx.len() > 2 {
        ctx.get::<i64>(2).unwrap_or(1).max(1) as usize
    } else {
        1
    };
    let hay: Vec<char> = within.to_lowercase().chars().collect();
    let needle: Vec<char> = find.to_lowercase().chars().collect();
    if needle.is_empty() || needle.len() > hay.len() {
        return Ok(Some(0));
    }
    let found =
        (start - 1..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()] == needle[..]);
    Ok(Some(found.map_or(0, |i| i as i64 + 1)))
}

fn date(ctx: &Context, i: usize) -> Option<NaiveDateTime> {
    let s = text(ctx, i)?;
    let s = s.trim().replace('T', " ");
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&format!("{s} 00:00:00"), "%Y-%m-%d %H:%M:%S"))
        .ok()
}

/// A date part's canonical name (`HH` → hour).
fn part(ctx: &Context) -> Result<&'static str> {
    let p = text(ctx, 0).unwrap_or_default().to_ascii_lowercase();
    Ok(match p.as_str() {
        "year" | "yy" | "yyyy" => "year",
        "quarter" | "qq" | "q" => "quarter",
        "month" | "mm" | "m" => "month",
        "day" | "dd" | "d" | "dayofyear" | "dy" | "y" | "weekday" | "dw" | "w" => "day",
        "week" | "wk" | "ww" => "week",
        "hour" | "hh" => "hour",
        "minute" | "mi" | "n" => "minute",
        "second" | "ss" | "s" => "second",
        "millisecond" | "ms" => "millisecond",
        other => {
            return Err(Error::UserFunctionError(
                format!("'{other}' is not a recognized datepart option.").into(),
            ));
        }
    })
}

/// DATALENGTH: the bytes a value takes — text as nvarchar (two bytes a UTF-16 unit), binary as
/// is, numbers as bigint/float.
fn datalength(ctx: &Context) -> Result<Option<i64>> {
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).encode_utf16().count() as i64 * 2),
        ValueRef::Blob(b) => Some(b.len() as i64),
        ValueRef::Integer(_) | ValueRef::Real(_) => Some(8),
    })
}

/// DATEADD(part, n, date).
fn dateadd(ctx: &Context) -> Result<Option<String>> {
    let part = part(ctx)?;
    let (Ok(n), Some(d)) = (ctx.get::<i64>(1), date(ctx, 2)) else {
        return Ok(None);
    };
    let months = |m: i64| {
        if m >= 0 {
            d.checked_add_months(Months::new(m as u32))
        } else {
            d.checked_sub_months(Months::new((-m) as u32))
        }
    };
    let moved = match part {
        "year" => months(n * 12),
        "quarter" => months(n * 3),
        "month" => months(n),
        "week" => d.checked_add_signed(TimeDelta::days(7 * n)),
        "day" => d.checked_add_signed(TimeDelta::days(n)),
        "hour" => d.checked_add_signed(TimeDelta::hours(n)),
        "minute" => d.checked_add_signed(TimeDelta::minutes(n)),
        "second" => d.checked_add_signed(TimeDelta::seconds(n)),
        _ => d.checked_add_signed(TimeDelta::milliseconds(n)),
    };
    Ok(moved.map(|m| m.format(DATE_FORMAT).to_string()))
}

/// DATEDIFF(part, start, end): the number of part boundaries crossed, as SQL Server counts.
fn datediff(ctx: &Context) -> Result<Option<i64>> {
    let part = part(ctx)?;
    let (Some(a), Some(b)) = (date(ctx, 1), date(ctx, 2)) else {
        return Ok(None);
    };
    let floor = |d: NaiveDateTime, unit: i64| d.and_utc().timestamp().div_euclid(unit);
    let months = |d: NaiveDateTime| d.year() as i64 * 12 + d.month0() as i64;
    Ok(Some(match part {
        "year" => (b.year() - a.year()) as i64,
        "quarter" => months(b) / 3 - months(a) / 3,
        "month" => months(b) - months(a),
        // Weeks start on Sunday (the us_english default); 1970-01-04 was a Sunday.
        "week" => (floor(b, 86_400) + 3).div_euclid(7) - (floor(a, 86_400) + 3).div_euclid(7),
        "day" => floor(b, 86_400) - floor(a, 86_400),
        "hour" => floor(b, 3_600) - floor(a, 3_600),
        "minute" => floor(b, 60) - floor(a, 60),
        "second" => floor(b, 1) - floor(a, 1),
        _ => (b - a).num_milliseconds(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(conn: &Connection, sql: &str) -> rusqlite::types::Value {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn string_and_date_functions_answer_as_tsql_does() {
        use rusqlite::types::Value::{Integer, Null, Text};
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert_eq!(one(&conn, "SELECT QUOTENAME('a]b')"), Text("[a]]b]".into()));
        assert_eq!(
            one(&conn, "SELECT QUOTENAME('x', '''')"),
            Text("'x'".into())
        );
        assert_eq!(one(&conn, "SELECT QUOTENAME(NULL)"), Null);
        assert_eq!(
            one(&conn, "SELECT LEFT('abcdef', 2) || RIGHT('abcdef', 3)"),
            Text("abdef".into())
        );
        assert_eq!(one(&conn, "SELECT LEFT('ab', 9)"), Text("ab".into()));
        assert_eq!(
            one(&conn, "SELECT CHARINDEX('%d', 'Error: %d, Severity')"),
            Integer(8)
        );
        assert_eq!(one(&conn, "SELECT CHARINDEX('zz', 'abc')"), Integer(0));
        assert_eq!(one(&conn, "SELECT CHARINDEX('b', 'abcb', 3)"), Integer(4));
        assert_eq!(
            one(
                &conn,
                "SELECT DATEADD('day', -7, '2026-11-28 10:00:00.000')"
            ),
            Text("2026-11-21 10:00:00.000".into())
        );
        assert_eq!(
            one(
                &conn,
                "SELECT DATEADD('month', 1, '2026-01-31 00:00:00.000')"
            ),
            Text("2026-02-28 00:00:00.000".into())
        );
        // Boundaries crossed, not elapsed time: 23:59 → 00:01 is one day and one hour.
        assert_eq!(
            one(
                &conn,
                "SELECT DATEDIFF('dd', '2026-11-27 23:59:00', '2026-11-28 00:01:00')"
            ),
            Integer(1)
        );
        assert_eq!(
            one(
                &conn,
                "SELECT DATEDIFF('HH', '2026-11-27 23:59:00', '2026-11-28 00:01:00')"
            ),
            Integer(1)
        );
        assert_eq!(
            one(&conn, "SELECT DATEDIFF('year', '2025-12-31', '2026-01-01')"),
            Integer(1)
        );
        assert!(
            conn.query_row(
                "SELECT DATEDIFF('fortnight', '2025-12-31', '2026-01-01')",
                [],
                |r| r.get::<_, i64>(0)
            )
            .is_err()
        );
        let today: String = conn
            .query_row("SELECT GETDATE()", [], |r| r.get(0))
            .unwrap();
        assert_eq!(today.len(), 23, "{today}");
        assert_eq!(
            one(
                &conn,
                "SELECT FULLTEXTSERVICEPROPERTY('IsFulltextInstalled')"
            ),
            Integer(0)
        );
    }
}
