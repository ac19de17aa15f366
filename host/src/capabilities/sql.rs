//! The `sql` capability: connections to endpoints the operator granted. The backend (tiberius
//! over TDS) holds the credentials; plugins see only results.

use async_trait::async_trait;

use super::{CallContext, Capability, CapabilityError};

/// A value in a parameter or result row.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Bit(bool),
    Int(i64),
    Float(f64),
    Decimal(String),
    Text(String),
    Binary(Vec<u8>),
    DateTime(String),
    Guid(String),
}

/// A named parameter (`@name`).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub value: SqlValue,
}

/// A result column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub type_name: String,
    pub nullable: bool,
}

/// One result set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowSet {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// Opens sessions on named endpoints.
#[async_trait]
pub trait SqlBackend: Send + Sync {
    /// A session on `endpoint`; `not-found` when the command set up no such endpoint.
    async fn connect(&self, endpoint: &str) -> Result<Box<dyn SqlSession>, CapabilityError>;
}

/// One open connection.
#[async_trait]
pub trait SqlSession: Send + Sync {
    /// Every result set of a parameterized batch.
    async fn query(
        &mut self,
        statement: &str,
        params: &[Param],
    ) -> Result<Vec<RowSet>, CapabilityError> {
        self.query_within(statement, params, usize::MAX).await
    }
    /// Every result set of a parameterized batch, read only while the values held stay within
    /// `max_bytes` ([`value_bytes`]): past it, `limit-exceeded`, and the connection is closed
    /// (the rest of the result is not read).
    async fn query_within(
        &mut self,
        statement: &str,
        params: &[Param],
        max_bytes: usize,
    ) -> Result<Vec<RowSet>, CapabilityError>;
    /// Rows affected by a statement.
    async fn execute(&mut self, statement: &str, params: &[Param]) -> Result<u64, CapabilityError>;
    /// A single large result read in batches.
    async fn stream(
        &mut self,
        statement: &str,
        params: &[Param],
    ) -> Result<Box<dyn SqlRowStream>, CapabilityError>;
}

/// A result read in batches.
#[async_trait]
pub trait SqlRowStream: Send + Sync {
    /// The result's columns.
    fn columns(&self) -> Vec<Column>;
    /// Up to `max_rows` rows, fewer once they hold `max_bytes` ([`value_bytes`]; at least one
    /// row, and `limit-exceeded` for a row larger than that alone); empty when done.
    async fn next_batch(
        &mut self,
        max_rows: u32,
        max_bytes: usize,
    ) -> Result<Vec<Vec<SqlValue>>, CapabilityError>;
}

/// About the bytes a value holds on the host (and will in the plugin's memory).
pub fn value_bytes(v: &SqlValue) -> usize {
    match v {
        SqlValue::Text(s) | SqlValue::Decimal(s) | SqlValue::DateTime(s) | SqlValue::Guid(s) => {
            s.len() + 16
        }
        SqlValue::Binary(b) => b.len() + 16,
        SqlValue::Null | SqlValue::Bit(_) | SqlValue::Int(_) | SqlValue::Float(_) => 16,
    }
}

/// The bytes of a row.
pub fn row_bytes(row: &[SqlValue]) -> usize {
    row.iter().map(value_bytes).sum::<usize>() + 16
}

/// `limit-exceeded` for a result past a plugin's memory limit.
pub fn too_large(what: &str, max_bytes: usize) -> CapabilityError {
    CapabilityError::LimitExceeded(format!(
        "{what} holds more than {} MiB, more than the plugin's memory limit allows: read it \
         in batches with stream (next-batch), or ask for less",
        max_bytes >> 20
    ))
}

/// The resource behind a plugin's `connection` handle.
pub struct ConnectionHandle(Box<dyn SqlSession>);

/// The resource behind a plugin's `row-stream` handle.
pub struct RowStreamHandle(Box<dyn SqlRowStream>);

/// Rows per batch a plugin may ask for at once, so one call cannot ask the host for gigabytes.
const MAX_BATCH_ROWS: u32 = 10_000;

/// Opens a connection to `endpoint`, when the plugin asks for it and the operator granted it.
pub async fn connect(
    cx: &CallContext,
    endpoint: &str,
) -> Result<ConnectionHandle, CapabilityError> {
    cx.grants.check(Capability::Sql, endpoint)?;
    let Some(backend) = cx.services.sql.clone() else {
        return Err(CapabilityError::Unavailable(format!(
            "this command opened no SQL connections, so endpoint '{endpoint}' is not available"
        )));
    };
    Ok(ConnectionHandle(backend.connect(endpoint).await?))
}

impl ConnectionHandle {
    /// Every result set of `statement`, refused when it would not fit in the plugin's memory:
    /// the host holds no more for it.
    pub async fn query(
        &mut self,
        cx: &CallContext,
        statement: &str,
        params: &[Param],
    ) -> Result<Vec<RowSet>, CapabilityError> {
        self.0
            .query_within(statement, params, cx.memory_limit)
            .await
    }

    /// Rows affected by `statement`.
    pub async fn execute(
        &mut self,
        statement: &str,
        params: &[Param],
    ) -> Result<u64, CapabilityError> {
        self.0.execute(statement, params).await
    }

    /// The rows of `statement`, read batch by batch.
    pub async fn stream(
        &mut self,
        statement: &str,
        params: &[Param],
    ) -> Result<RowStreamHandle, CapabilityError> {
        Ok(RowStreamHandle(self.0.stream(statement, params).await?))
    }
}

impl RowStreamHandle {
    /// The stream's columns.
    pub fn columns(&self) -> Vec<Column> {
        self.0.columns()
    }

    /// Up to `max_rows` more rows (none: the end).
    pub async fn next_batch(
        &mut self,
        cx: &CallContext,
        max_rows: u32,
    ) -> Result<Vec<Vec<SqlValue>>, CapabilityError> {
        // A batch is lowered into the plugin's memory beside what it already holds: a quarter of
        // its limit leaves room for that and for what the plugin makes of the rows.
        self.0
            .next_batch(max_rows.clamp(1, MAX_BATCH_ROWS), cx.memory_limit / 4)
            .await
    }
}
