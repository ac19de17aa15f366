//! Typed access to SQL results: `row.get::<i64>("database_id")?`.

use std::collections::HashMap;
use std::rc::Rc;

use crate::bindings::platform::sqlmig::plugin::sql::{Column, RowSet, SqlValue};
use crate::{Error, invalid_input};

/// A result set with columns looked up by name.
pub struct Rows {
    columns: Rc<Columns>,
    rows: Vec<Vec<SqlValue>>,
}

struct Columns {
    list: Vec<Column>,
    by_name: HashMap<String, usize>,
}

/// One row of a [`Rows`].
pub struct Row<'a> {
    columns: &'a Columns,
    values: &'a [SqlValue],
}

impl Rows {
    /// Wraps a result set.
    pub fn new(set: RowSet) -> Rows {
        let by_name = set
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.to_ascii_lowercase(), i))
            .collect();
        Rows {
            columns: Rc::new(Columns {
                list: set.columns,
                by_name,
            }),
            rows: set.rows,
        }
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns.list
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows in order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
}

impl<'a> Row<'a> {
    /// The value of column `name` (case-insensitive, as SQL Server compares names by default)
    /// converted to `T`; an error names the column and what it held.
    pub fn get<T: FromSqlValue>(&self, name: &str) -> Result<T, Error> {
        let i = *self
            .columns
            .by_name
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| {
                let names: Vec<&str> = self.columns.list.iter().map(|c| c.name.as_str()).collect();
                invalid_input(format!(
                    "no column '{name}' in the result (columns: {})",
                    names.join(", ")
                ))
            })?;
        T::from_sql(&self.values[i]).ok_or_else(|| {
            invalid_input(format!(
                "column '{name}' ({}) holds {}, which is not {}",
                self.columns.list[i].type_name,
                describe(&self.values[i]),
                T::EXPECTED
            ))
        })
    }

    /// The raw value of column `i`.
    pub fn value(&self, i: usize) -> Option<&SqlValue> {
        self.values.get(i)
    }
}

fn describe(v: &SqlValue) -> &'static str {
    match v {
        SqlValue::Null => "NULL",
        SqlValue::Bit(_) => "a bit",
        SqlValue::Int(_) => "an integer",
        SqlValue::Float(_) => "a float",
        SqlValue::Decimal(_) => "a decimal",
        SqlValue::Text(_) => "text",
        SqlValue::Binary(_) => "binary data",
        SqlValue::DateTime(_) => "a date/time",
        SqlValue::Guid(_) => "a uniqueidentifier",
    }
}

/// Conversion from a SQL value.
pub trait FromSqlValue: Sized {
    /// What the conversion expects, for error messages.
    const EXPECTED: &'static str;
    /// The value as `Self`, or `None` when it is of another kind.
    fn from_sql(v: &SqlValue) -> Option<Self>;
}

impl FromSqlValue for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Bit(b) => Some(*b as i64),
            // numeric(p, 0) such as backup sizes: whole numbers only.
            SqlValue::Decimal(d) => d.parse().ok(),
            _ => None,
        }
    }
}

impl FromSqlValue for i32 {
    const EXPECTED: &'static str = "a 32-bit integer";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        i64::from_sql(v).and_then(|i| i32::try_from(i).ok())
    }
}

impl FromSqlValue for u32 {
    const EXPECTED: &'static str = "a non-negative 32-bit integer";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        i64::from_sql(v).and_then(|i| u32::try_from(i).ok())
    }
}

impl FromSqlValue for bool {
    const EXPECTED: &'static str = "a bit";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Bit(b) => Some(*b),
            SqlValue::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}

impl FromSqlValue for f64 {
    const EXPECTED: &'static str = "a number";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Float(f) => Some(*f),
            SqlValue::Int(i) => Some(*i as f64),
            SqlValue::Decimal(d) => d.parse().ok(),
            _ => None,
        }
    }
}

impl FromSqlValue for String {
    const EXPECTED: &'static str = "text";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Text(s)
            | SqlValue::Decimal(s)
            | SqlValue::DateTime(s)
            | SqlValue::Guid(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl FromSqlValue for Vec<u8> {
    const EXPECTED: &'static str = "binary data";
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Binary(b) => Some(b.clone()),
            _ => None,
        }
    }
}

impl<T: FromSqlValue> FromSqlValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_sql(v: &SqlValue) -> Option<Self> {
        match v {
            SqlValue::Null => Some(None),
            other => T::from_sql(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Rows {
        Rows::new(RowSet {
            columns: vec![
                Column {
                    name: "database_id".into(),
                    type_name: "int".into(),
                    nullable: false,
                },
                Column {
                    name: "name".into(),
                    type_name: "sysname".into(),
                    nullable: true,
                },
            ],
            rows: vec![
                vec![SqlValue::Int(5), SqlValue::Text("Sales".into())],
                vec![SqlValue::Int(6), SqlValue::Null],
            ],
        })
    }

    #[test]
    fn typed_get_by_name_any_case() {
        let r = rows();
        let first = r.iter().next().unwrap();
        assert_eq!(first.get::<i64>("database_id").unwrap(), 5);
        assert_eq!(first.get::<String>("NAME").unwrap(), "Sales");
        let second = r.iter().nth(1).unwrap();
        assert_eq!(second.get::<Option<String>>("name").unwrap(), None);
    }

    #[test]
    fn errors_name_the_column() {
        let r = rows();
        let first = r.iter().next().unwrap();
        let e = first.get::<i64>("name").unwrap_err().to_string();
        assert!(e.contains("'name'") && e.contains("sysname"), "{e}");
        let e = first.get::<i64>("missing").unwrap_err().to_string();
        assert!(e.contains("database_id, name"), "{e}");
        let second = r.iter().nth(1).unwrap();
        assert!(second.get::<String>("name").is_err());
    }
}
