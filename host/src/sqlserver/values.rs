//! Values between the contract and tiberius: result values in the contract's exact forms
//! (decimals and money as text, dates in ISO 8601), parameters bound with SQL Server types.

use tiberius::{ColumnData, ColumnType, FromSql, Query};

use crate::capabilities::CapabilityError;
use crate::capabilities::sql::SqlValue;

/// SQL Server's name for a result column's type, as far as the TDS metadata tells it.
pub fn type_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Null => "null",
        ColumnType::Bit | ColumnType::Bitn => "bit",
        ColumnType::Int1 => "tinyint",
        ColumnType::Int2 => "smallint",
        ColumnType::Int4 | ColumnType::Intn => "int",
        ColumnType::Int8 => "bigint",
        ColumnType::Datetime4 => "smalldatetime",
        ColumnType::Float4 => "real",
        ColumnType::Float8 | ColumnType::Floatn => "float",
        ColumnType::Money => "money",
        ColumnType::Money4 => "smallmoney",
        ColumnType::Datetime | ColumnType::Datetimen => "datetime",
        ColumnType::Guid => "uniqueidentifier",
        ColumnType::Decimaln => "decimal",
        ColumnType::Numericn => "numeric",
        ColumnType::Daten => "date",
        ColumnType::Timen => "time",
        ColumnType::Datetime2 => "datetime2",
        ColumnType::DatetimeOffsetn => "datetimeoffset",
        ColumnType::BigVarBin => "varbinary",
        ColumnType::BigVarChar => "varchar",
        ColumnType::BigBinary => "binary",
        ColumnType::BigChar => "char",
        ColumnType::NVarchar => "nvarchar",
        ColumnType::NChar => "nchar",
        ColumnType::Xml => "xml",
        ColumnType::Udt => "udt",
        ColumnType::Text => "text",
        ColumnType::Image => "image",
        ColumnType::NText => "ntext",
        ColumnType::SSVariant => "sql_variant",
    }
}

fn conversion(e: tiberius::error::Error) -> CapabilityError {
    CapabilityError::Unsupported(format!("a result value could not be read: {e}"))
}

/// A result value in the contract's form. `column` says money from float, which TDS does not.
pub fn from_column(
    data: &ColumnData<'static>,
    column: ColumnType,
) -> Result<SqlValue, CapabilityError> {
    use SqlValue as V;
    let text = |s: Option<String>| s.map_or(V::Null, V::DateTime);
    Ok(match data {
        ColumnData::U8(v) => v.map_or(V::Null, |x| V::Int(x.into())),
        ColumnData::I16(v) => v.map_or(V::Null, |x| V::Int(x.into())),
        ColumnData::I32(v) => v.map_or(V::Null, |x| V::Int(x.into())),
        ColumnData::I64(v) => v.map_or(V::Null, V::Int),
        ColumnData::F32(v) => v.map_or(V::Null, |x| V::Float(x.into())),
        ColumnData::F64(v) => match (v, column) {
            (None, _) => V::Null,
            // Money has four decimals exactly; print it so.
            (Some(x), ColumnType::Money | ColumnType::Money4) => V::Decimal(format!("{x:.4}")),
            (Some(x), _) => V::Float(*x),
        },
        ColumnData::Bit(v) => v.map_or(V::Null, V::Bit),
        ColumnData::String(v) => v.as_ref().map_or(V::Null, |s| V::Text(s.to_string())),
        ColumnData::Guid(v) => v.map_or(V::Null, |g| V::Guid(g.to_string().to_uppercase())),
        ColumnData::Binary(v) => v.as_ref().map_or(V::Null, |b| V::Binary(b.to_vec())),
        ColumnData::Numeric(v) => {
            v.map_or(V::Null, |n| V::Decimal(decimal_text(n.value(), n.scale())))
        }
        ColumnData::Xml(v) => v.as_ref().map_or(V::Null, |x| V::Text(x.to_string())),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => text(
            chrono::NaiveDateTime::from_sql(data)
                .map_err(conversion)?
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        ),
        ColumnData::Date(_) => text(
            chrono::NaiveDate::from_sql(data)
                .map_err(conversion)?
                .map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        ColumnData::Time(_) => text(
            chrono::NaiveTime::from_sql(data)
                .map_err(conversion)?
                .map(|t| t.format("%H:%M:%S%.f").to_string()),
        ),
        ColumnData::DateTimeOffset(_) => text(
            chrono::DateTime::<chrono::FixedOffset>::from_sql(data)
                .map_err(conversion)?
                .map(|d| d.to_rfc3339()),
        ),
    })
}

/// Binds `value` as the next parameter of `q`.
pub fn bind(q: &mut Query<'_>, name: &str, value: &SqlValue) -> Result<(), CapabilityError> {
    match value {
        SqlValue::Null => q.bind(Option::<String>::None),
        SqlValue::Bit(b) => q.bind(*b),
        SqlValue::Int(i) => q.bind(*i),
        SqlValue::Float(f) => q.bind(*f),
        SqlValue::Decimal(s) => q.bind(decimal(s).ok_or_else(|| {
            CapabilityError::InvalidInput(format!(
                "parameter @{name}: {s:?} is not a decimal number (digits, one point, up to 38 digits)"
            ))
        })?),
        SqlValue::Text(s) => q.bind(s.clone()),
        SqlValue::Binary(b) => q.bind(b.clone()),
        // SQL Server converts ISO 8601 text to the column's date type exactly.
        SqlValue::DateTime(s) => q.bind(s.clone()),
        SqlValue::Guid(s) => q.bind(tiberius::Uuid::parse_str(s).map_err(|_| {
            CapabilityError::InvalidInput(format!("parameter @{name}: {s:?} is not a GUID"))
        })?),
    }
    Ok(())
}

/// A TDS numeric as SQL Server prints it: `-12.340` for scale 3, `42` for scale 0 (tiberius's
/// Display writes `42.0` there, which is not the value's text).
fn decimal_text(value: i128, scale: u8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// `-12.340` as a TDS numeric (value and scale), exactly.
fn decimal(s: &str) -> Option<tiberius::numeric::Numeric> {
    let (neg, digits) = match s.trim().strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.trim().trim_start_matches('+')),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        || int.len() + frac.len() > 38
    {
        return None;
    }
    let value: i128 = format!("{int}{frac}").parse().ok()?;
    Some(tiberius::numeric::Numeric::new_with_scale(
        if neg { -value } else { value },
        frac.len() as u8,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_bind_exactly() {
        let n = decimal("-12.340").unwrap();
        assert_eq!(n.to_string(), "-12.340");
        assert_eq!(
            decimal("99999999999999999999.99").unwrap().to_string(),
            "99999999999999999999.99"
        );
        for bad in ["", ".", "1e5", "1.2.3", "abc"] {
            assert!(decimal(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numerics_print_as_the_server_does() {
        assert_eq!(decimal_text(41_000_000_012_300_001, 0), "41000000012300001");
        assert_eq!(decimal_text(-12340, 3), "-12.340");
        assert_eq!(decimal_text(5, 4), "0.0005");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(0, 0), "0");
    }

    #[test]
    fn money_prints_its_four_decimals() {
        let v = from_column(&ColumnData::F64(Some(12.5)), ColumnType::Money).unwrap();
        assert_eq!(v, SqlValue::Decimal("12.5000".into()));
        let v = from_column(&ColumnData::F64(Some(12.5)), ColumnType::Floatn).unwrap();
        assert_eq!(v, SqlValue::Float(12.5));
    }
}
