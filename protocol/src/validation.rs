//! The documents between `sqlmig validate` and a validation plugin (`validate` hook): the host
//! asks for the databases, then each database's schema comparison (which also names the tables
//! to compare), then each table's data comparison, several tables at once. The plugin reaches
//! both servers through the `sql` capability (endpoints `source` and `target`); the servers
//! compute the checksums, and only aggregates, boundaries and the rows of small differing
//! ranges cross the wire.

use serde::{Deserialize, Serialize};

/// The `schema` of a validation request.
pub const VALIDATE_REQUEST: &str = "sqlmig.validate-request/1";
/// The `schema` of a validation answer.
pub const VALIDATE_RESULT: &str = "sqlmig.validate-result/1";

/// A request to the `validate` hook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidateRequest {
    pub schema: String,
    #[serde(flatten)]
    pub action: Action,
}

/// What the host asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The user databases on each side.
    Databases,
    /// One database pair's schema, compared object by object.
    Schema { database: DatabasePair },
    /// One table's data.
    Table {
        database: DatabasePair,
        table: TableSpec,
        options: DataOptions,
    },
}

/// A database on the source and its name on the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabasePair {
    pub source: String,
    pub target: String,
}

/// How data is compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Row counts only.
    Counts,
    /// Counts and checksums per key range, computed by the servers; ranges that differ are
    /// split until small, then their rows compared.
    #[default]
    Checksum,
    /// Every row read from both sides and compared value by value (certain; moves the table).
    Full,
}

/// What the range checksums are made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hash {
    /// `CHECKSUM_AGG(BINARY_CHECKSUM(…))`: fast; a change can, rarely, leave it equal.
    #[default]
    Checksum,
    /// Each column through `HASHBYTES('SHA2_256', …)` first: slower, near certain.
    Sha2,
}

/// The options of a table comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataOptions {
    pub mode: Mode,
    #[serde(default)]
    pub hash: Hash,
    /// Stop after naming this many differing rows.
    pub max_diffs: u64,
    /// A range of at most this many rows is compared row by row instead of split further.
    pub leaf_rows: u64,
    /// Stop (saying so) once the clock passes this, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub deadline_ms: Option<u64>,
}

/// A table to compare: its columns present on both sides and its key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    pub schema: String,
    pub name: String,
    /// The key's columns in order (the primary key, else a unique index on non-null columns);
    /// empty for a table without one.
    pub key: Vec<String>,
    /// The columns compared (on both sides), in the source's order.
    pub columns: Vec<ColumnSpec>,
}

impl TableSpec {
    /// `schema.name`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// A column compared, with its type on each side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    /// The type as T-SQL writes it on the source: `nvarchar(40)`, `decimal(10,2)`.
    pub source_type: String,
    /// The same on the target.
    pub target_type: String,
}

/// The plugin's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValidateResult {
    pub schema: String,
    #[serde(flatten)]
    pub answer: Answer,
}

/// An answer, by the action asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Answer {
    /// The online user databases of each side, by name.
    Databases {
        source: Vec<String>,
        target: Vec<String>,
    },
    Schema(SchemaComparison),
    Table(TableComparison),
}

/// One database pair's schema compared.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaComparison {
    /// Objects compared, by kind (`tables`, `columns`, `indexes`, `modules`, …).
    pub compared: std::collections::BTreeMap<String, u64>,
    /// What differs, object by object.
    pub differences: Vec<SchemaDifference>,
    /// The tables on both sides, ready for data comparison.
    pub tables: Vec<TableSpec>,
}

/// One schema difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDifference {
    /// `database`, `table`, `column`, `index`, `key`, `constraint`, `module`, `user`,
    /// `role_member`, `permission`.
    pub kind: String,
    /// The object: `dbo.Orders`, `dbo.Orders.note`, `dbo.Orders IX_Orders_Note`.
    pub object: String,
    /// What differs, in words.
    pub what: String,
    /// The source's side (absent when the object is only on the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The target's side (absent when the object is missing there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// One table's data compared.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableComparison {
    /// `schema.name`.
    pub table: String,
    /// How it was compared, in words (`checksums of key ranges, split where they differed`).
    pub method: String,
    pub rows_source: u64,
    pub rows_target: u64,
    /// Proven equal by the method used.
    pub equal: bool,
    /// Rows that differ, by key.
    pub differences: Vec<RowDifference>,
    /// More rows differ than were named (`max_diffs` reached).
    #[serde(default)]
    pub truncated: bool,
    /// Why the comparison stopped before it was finished (the time budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// What the reader should know (no key, columns left out, types that differ).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Queries run, on both sides together.
    pub queries: u64,
    /// Rows read across the wire, both sides together.
    pub rows_read: u64,
    /// Bytes of values read across the wire, both sides together.
    pub bytes_read: u64,
}

/// A row that differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowDifference {
    pub kind: RowDifferenceKind,
    /// The key's columns and values.
    pub key: Vec<(String, serde_json::Value)>,
    /// For a changed row, the columns that differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnDifference>,
}

/// How a row differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowDifferenceKind {
    /// On the source, not on the target.
    Missing,
    /// On the target, not on the source.
    Extra,
    /// On both, with different values.
    Changed,
}

/// A column of a changed row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDifference {
    pub column: String,
    pub source: serde_json::Value,
    pub target: serde_json::Value,
}
