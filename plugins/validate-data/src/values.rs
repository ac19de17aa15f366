//! SQL values as the report shows them, compared as SQL Server would call them equal where the
//! wire form differs for equal values (a decimal's trailing zeros, a date's fractional digits).

use serde_json::{Value, json};
use sqlmig_plugin_sdk::sql::SqlValue;

/// The value for the report: JSON null, true/false, a number, or text (`0x…` for binary).
pub fn to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Bit(b) => json!(b),
        SqlValue::Int(i) => json!(i),
        SqlValue::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(json!(f.to_string()), Value::Number)
        }
        SqlValue::Decimal(s) | SqlValue::Text(s) | SqlValue::DateTime(s) | SqlValue::Guid(s) => {
            json!(s)
        }
        SqlValue::Binary(b) => json!(hex(b)),
    }
}

/// `0x` and the bytes in upper-case hex, as SQL Server prints binary.
pub fn hex(b: &[u8]) -> String {
    format!("0x{}", hex::encode_upper(b))
}

/// Whether two values are the same value. Text and binary compare exactly (case and trailing
/// spaces count: a case-insensitive collation would call `abc` and `ABC` equal, a migration
/// must not); floats compare exactly; decimals and dates by value, not by their text.
pub fn same(a: &SqlValue, b: &SqlValue) -> bool {
    match (a, b) {
        (SqlValue::Decimal(x), SqlValue::Decimal(y)) => trim_fraction(x) == trim_fraction(y),
        (SqlValue::DateTime(x), SqlValue::DateTime(y)) => trim_fraction(x) == trim_fraction(y),
        (SqlValue::Int(x), SqlValue::Decimal(y)) | (SqlValue::Decimal(y), SqlValue::Int(x)) => {
            trim_fraction(y) == x.to_string()
        }
        (SqlValue::Guid(x), SqlValue::Guid(y)) => x.eq_ignore_ascii_case(y),
        (SqlValue::Null, SqlValue::Null) => true,
        (SqlValue::Bit(x), SqlValue::Bit(y)) => x == y,
        (SqlValue::Int(x), SqlValue::Int(y)) => x == y,
        // Exactly: a float that lost its last bit on the way is a different value.
        (SqlValue::Float(x), SqlValue::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        (SqlValue::Text(x), SqlValue::Text(y)) => x == y,
        (SqlValue::Binary(x), SqlValue::Binary(y)) => x == y,
        _ => false,
    }
}

/// `12.500` → `12.5`, `3.000` → `3`; a date's `10:00:00.1200000` → `10:00:00.12`.
fn trim_fraction(s: &str) -> String {
    match s.rfind('.') {
        Some(dot) if s[dot + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let t = s.trim_end_matches('0');
            t.strip_suffix('.').unwrap_or(t).to_string()
        }
        _ => s.to_string(),
    }
}

/// Bytes a value took on the wire, near enough to count what a comparison moved.
pub fn wire_size(v: &SqlValue) -> u64 {
    match v {
        SqlValue::Null => 1,
        SqlValue::Bit(_) => 1,
        SqlValue::Int(_) | SqlValue::Float(_) => 8,
        SqlValue::Decimal(_) => 17,
        // nvarchar travels as UTF-16.
        SqlValue::Text(s) => 2 * s.chars().count() as u64 + 2,
        SqlValue::Binary(b) => b.len() as u64 + 2,
        SqlValue::DateTime(_) => 10,
        SqlValue::Guid(_) => 16,
    }
}

/// A key's values as one exact, hashable text.
pub fn key_text(values: &[SqlValue]) -> String {
    let parts: Vec<Value> = values
        .iter()
        .map(|v| match v {
            // Equal decimals and dates written differently must meet.
            SqlValue::Decimal(s) | SqlValue::DateTime(s) => json!(trim_fraction(s)),
            SqlValue::Guid(s) => json!(s.to_ascii_uppercase()),
            other => to_json(other),
        })
        .collect();
    Value::Array(parts).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_by_value_not_by_text() {
        let d = |s: &str| SqlValue::Decimal(s.into());
        assert!(same(&d("12.500"), &d("12.5")));
        assert!(same(&d("3.00"), &d("3")));
        assert!(!same(&d("3.01"), &d("3")));
        assert!(same(
            &SqlValue::DateTime("2024-01-01 10:00:00.1200000".into()),
            &SqlValue::DateTime("2024-01-01 10:00:00.12".into())
        ));
        // Case, trailing spaces, a float's last bit and NULL against '' all count.
        let t = |s: &str| SqlValue::Text(s.into());
        assert!(!same(&t("abc"), &t("ABC")));
        assert!(!same(&t("a "), &t("a")));
        assert!(!same(&SqlValue::Float(0.1 + 0.2), &SqlValue::Float(0.3)));
        assert!(!same(&SqlValue::Null, &t("")));
        assert_eq!(to_json(&SqlValue::Binary(vec![0, 0xAB])), json!("0x00AB"));
        assert_eq!(
            key_text(&[d("1.50"), t("x")]),
            key_text(&[d("1.5"), t("x")])
        );
    }
}
