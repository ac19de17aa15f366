//! The `sql` capability: connections to endpoints the operator granted. The backend (tiberius
//! over TDS) holds the credentials; plugins see only results.

use async_trait::async_trait;
use wasmtime::component::Resource;

use super::{Capability, CapabilityError};
use crate::runtime::bindings::v0_1::sqlmig::plugin::sql as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::Error as WitError;
use crate::runtime::instance::PluginState;

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

impl From<wit::SqlValue> for SqlValue {
    fn from(v: wit::SqlValue) -> Self {
        match v {
            wit::SqlValue::Null => SqlValue::Null,
            wit::SqlValue::Bit(b) => SqlValue::Bit(b),
            wit::SqlValue::Int(i) => SqlValue::Int(i),
            wit::SqlValue::Float(f) => SqlValue::Float(f),
            wit::SqlValue::Decimal(s) => SqlValue::Decimal(s),
            wit::SqlValue::Text(s) => SqlValue::Text(s),
            wit::SqlValue::Binary(b) => SqlValue::Binary(b),
            wit::SqlValue::DateTime(s) => SqlValue::DateTime(s),
            wit::SqlValue::Guid(s) => SqlValue::Guid(s),
        }
    }
}

impl From<SqlValue> for wit::SqlValue {
    fn from(v: SqlValue) -> Self {
        match v {
            SqlValue::Null => wit::SqlValue::Null,
            SqlValue::Bit(b) => wit::SqlValue::Bit(b),
            SqlValue::Int(i) => wit::SqlValue::Int(i),
            SqlValue::Float(f) => wit::SqlValue::Float(f),
            SqlValue::Decimal(s) => wit::SqlValue::Decimal(s),
            SqlValue::Text(s) => wit::SqlValue::Text(s),
            SqlValue::Binary(b) => wit::SqlValue::Binary(b),
            SqlValue::DateTime(s) => wit::SqlValue::DateTime(s),
            SqlValue::Guid(s) => wit::SqlValue::Guid(s),
        }
    }
}

fn params(ps: Vec<wit::Param>) -> Vec<Param> {
    ps.into_iter()
        .map(|p| Param {
            name: p.name,
            value: p.value.into(),
        })
        .collect()
}

fn wit_columns(cols: Vec<Column>) -> Vec<wit::Column> {
    cols.into_iter()
        .map(|c| wit::Column {
            name: c.name,
            type_name: c.type_name,
            nullable: c.nullable,
        })
        .collect()
}

fn wit_rows(rows: Vec<Vec<SqlValue>>) -> Vec<Vec<wit::SqlValue>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(Into::into).collect())
        .collect()
}

impl wit::Host for PluginState {
    async fn connect(
        &mut self,
        endpoint: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, WitError>> {
        if let Err(e) = self.call.grants.check(Capability::Sql, &endpoint) {
            return Ok(Err(e.into()));
        }
        let Some(backend) = self.call.services.sql.clone() else {
            return Ok(Err(CapabilityError::Unavailable(format!(
                "this command opened no SQL connections, so endpoint '{endpoint}' is not available"
            ))
            .into()));
        };
        match backend.connect(&endpoint).await {
            Ok(session) => Ok(Ok(self.table.push(ConnectionHandle(session))?)),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl wit::HostConnection for PluginState {
    async fn query(
        &mut self,
        conn: Resource<ConnectionHandle>,
        statement: String,
        ps: Vec<wit::Param>,
    ) -> wasmtime::Result<Result<Vec<wit::RowSet>, WitError>> {
        // What the plugin asks for must fit in its memory: the host holds no more for it.
        let budget = self.limiter.limit();
        let session = &mut self.table.get_mut(&conn)?.0;
        Ok(session
            .query_within(&statement, &params(ps), budget)
            .await
            .map(|sets| {
                sets.into_iter()
                    .map(|s| wit::RowSet {
                        columns: wit_columns(s.columns),
                        rows: wit_rows(s.rows),
                    })
                    .collect()
            })
            .map_err(Into::into))
    }

    async fn execute(
        &mut self,
        conn: Resource<ConnectionHandle>,
        statement: String,
        ps: Vec<wit::Param>,
    ) -> wasmtime::Result<Result<u64, WitError>> {
        let session = &mut self.table.get_mut(&conn)?.0;
        Ok(session
            .execute(&statement, &params(ps))
            .await
            .map_err(Into::into))
    }

    async fn stream(
        &mut self,
        conn: Resource<ConnectionHandle>,
        statement: String,
        ps: Vec<wit::Param>,
    ) -> wasmtime::Result<Result<Resource<RowStreamHandle>, WitError>> {
        let session = &mut self.table.get_mut(&conn)?.0;
        match session.stream(&statement, &params(ps)).await {
            Ok(s) => Ok(Ok(self.table.push(RowStreamHandle(s))?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn drop(&mut self, conn: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

impl wit::HostRowStream for PluginState {
    async fn columns(
        &mut self,
        stream: Resource<RowStreamHandle>,
    ) -> wasmtime::Result<Vec<wit::Column>> {
        Ok(wit_columns(self.table.get(&stream)?.0.columns()))
    }

    async fn next_batch(
        &mut self,
        stream: Resource<RowStreamHandle>,
        max_rows: u32,
    ) -> wasmtime::Result<Result<Vec<Vec<wit::SqlValue>>, WitError>> {
        // A batch is lowered into the plugin's memory beside what it already holds: a quarter of
        // its limit leaves room for that and for what the plugin makes of the rows.
        let budget = self.limiter.limit() / 4;
        let s = &mut self.table.get_mut(&stream)?.0;
        Ok(s.next_batch(max_rows.clamp(1, MAX_BATCH_ROWS), budget)
            .await
            .map(wit_rows)
            .map_err(Into::into))
    }

    async fn drop(&mut self, stream: Resource<RowStreamHandle>) -> wasmtime::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}
