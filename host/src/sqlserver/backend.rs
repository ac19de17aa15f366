//! The `sql` capability's real backend: TDS sessions through tiberius on the endpoints a command
//! set up. A streamed result runs on its own task that owns the connection until the stream ends
//! or the plugin uses the connection again (TDS runs one statement at a time per connection).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use futures::TryStreamExt;
use tiberius::{Query, QueryItem};
use tokio::sync::{mpsc, oneshot, watch};

use super::endpoint::{Endpoint, SqlClient, map_error};
use super::{params, values};
use crate::capabilities::CapabilityError;
use crate::capabilities::sql::{
    Column, Param, RowSet, SqlBackend, SqlRowStream, SqlSession, SqlValue, row_bytes, too_large,
};

/// Endpoints by the name plugins ask for (`source`, `target`, an instance name, …).
#[derive(Clone, Debug, Default)]
pub struct TdsBackend {
    endpoints: BTreeMap<String, Endpoint>,
}

impl TdsBackend {
    /// A backend serving `endpoints`.
    pub fn new(endpoints: BTreeMap<String, Endpoint>) -> TdsBackend {
        TdsBackend { endpoints }
    }
}

#[async_trait]
impl SqlBackend for TdsBackend {
    async fn connect(&self, endpoint: &str) -> Result<Box<dyn SqlSession>, CapabilityError> {
        let e = self.endpoints.get(endpoint).ok_or_else(|| {
            CapabilityError::NotFound(format!(
                "no SQL endpoint named '{endpoint}' (this command set up: {})",
                self.endpoints
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let client = e.connect().await?;
        Ok(Box::new(TdsSession {
            server: e.server.to_string(),
            client: Some(client),
            streaming: None,
            closed: None,
        }))
    }
}

/// A stream's task, holding the connection.
struct Streaming {
    /// Tells the task to stop reading (the connection is wanted for something else).
    stop: watch::Sender<bool>,
    /// The connection, back when the task ends.
    client: oneshot::Receiver<SqlClient>,
}

/// One logged-in connection.
struct TdsSession {
    server: String,
    client: Option<SqlClient>,
    streaming: Option<Streaming>,
    /// Why the connection was closed on purpose (a result past its limit was left unread).
    closed: Option<String>,
}

impl TdsSession {
    /// The connection, taken back from a stream still reading it.
    async fn client(&mut self) -> Result<&mut SqlClient, CapabilityError> {
        if let Some(s) = self.streaming.take() {
            let _ = s.stop.send(true);
            if let Ok(c) = s.client.await {
                self.client = Some(c);
            }
        }
        let (server, closed) = (&self.server, &self.closed);
        self.client.as_mut().ok_or_else(|| match closed {
            Some(why) => CapabilityError::Unavailable(format!(
                "the connection to {server} was closed: {why}; open a new connection"
            )),
            None => CapabilityError::Unavailable(format!("the connection to {server} was lost")),
        })
    }
}

/// `statement` with its parameters numbered and bound, ready for tiberius.
fn prepare(statement: &str, ps: &[Param]) -> Result<Query<'static>, CapabilityError> {
    let mut q = Query::new(params::number_params(statement, ps)?);
    for p in ps {
        values::bind(&mut q, &p.name, &p.value)?;
    }
    Ok(q)
}

fn columns(cols: &[tiberius::Column]) -> Vec<Column> {
    cols.iter()
        .map(|c| Column {
            name: c.name().to_string(),
            type_name: values::type_name(c.column_type()).to_string(),
            nullable: true,
        })
        .collect()
}

fn row_values(row: tiberius::Row) -> Result<Vec<SqlValue>, CapabilityError> {
    let types: Vec<_> = row.columns().iter().map(|c| c.column_type()).collect();
    row.into_iter()
        .zip(types)
        .map(|(data, ty)| values::from_column(&data, ty))
        .collect()
}

#[async_trait]
impl SqlSession for TdsSession {
    async fn query_within(
        &mut self,
        statement: &str,
        ps: &[Param],
        max_bytes: usize,
    ) -> Result<Vec<RowSet>, CapabilityError> {
        let q = prepare(statement, ps)?;
        let server = self.server.clone();
        let client = self.client().await?;
        let mut stream = q.query(client).await.map_err(|e| map_error(e, &server))?;
        let mut sets: Vec<RowSet> = Vec::new();
        let mut held = 0usize;
        while let Some(item) = stream.try_next().await.map_err(|e| map_error(e, &server))? {
            match item {
                QueryItem::Metadata(m) => sets.push(RowSet {
                    columns: columns(m.columns()),
                    rows: Vec::new(),
                }),
                QueryItem::Row(r) => {
                    let values = row_values(r)?;
                    held += row_bytes(&values);
                    if held > max_bytes {
                        // The rest is not read: the connection cannot take another statement
                        // before it is, so it is closed.
                        drop(stream);
                        self.client = None;
                        self.closed = Some("a result passed its limit and was left unread".into());
                        return Err(too_large("the result of this query", max_bytes));
                    }
                    match sets.last_mut() {
                        Some(set) => set.rows.push(values),
                        None => sets.push(RowSet {
                            columns: Vec::new(),
                            rows: vec![values],
                        }),
                    }
                }
            }
        }
        Ok(sets)
    }

    async fn execute(&mut self, statement: &str, ps: &[Param]) -> Result<u64, CapabilityError> {
        let q = prepare(statement, ps)?;
        let server = self.server.clone();
        let client = self.client().await?;
        let result = q.execute(client).await.map_err(|e| map_error(e, &server))?;
        Ok(result.total())
    }

    async fn stream(
        &mut self,
        statement: &str,
        ps: &[Param],
    ) -> Result<Box<dyn SqlRowStream>, CapabilityError> {
        let q = prepare(statement, ps)?;
        self.client().await?;
        let mut client = self.client.take().expect("client() made sure of it");
        let server = self.server.clone();
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let (back_tx, back_rx) = oneshot::channel();
        let (cols_tx, cols_rx) = oneshot::channel::<Result<Vec<Column>, CapabilityError>>();
        let (rows_tx, rows_rx) = mpsc::channel::<Result<Vec<Vec<SqlValue>>, CapabilityError>>(4);
        let stopped = Arc::new(AtomicBool::new(false));
        let stopped_by_session = stopped.clone();
        tokio::spawn(async move {
            let mut cols_tx = Some(cols_tx);
            let outcome: Result<(), CapabilityError> = async {
                let mut stream = q.query(&mut client).await.map_err(|e| map_error(e, &server))?;
                let mut chunk = Vec::with_capacity(CHUNK);
                let mut chunk_bytes = 0usize;
                while let Some(item) = stream.try_next().await.map_err(|e| map_error(e, &server))? {
                    match item {
                        QueryItem::Metadata(m) => match cols_tx.take() {
                            Some(tx) => {
                                let _ = tx.send(Ok(columns(m.columns())));
                            }
                            // One result per stream: a second one ends it.
                            None => break,
                        },
                        QueryItem::Row(r) => {
                            let values = row_values(r)?;
                            chunk_bytes += row_bytes(&values);
                            chunk.push(values);
                            if chunk.len() == CHUNK || chunk_bytes >= CHUNK_BYTES {
                                chunk_bytes = 0;
                                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                                tokio::select! {
                                    sent = rows_tx.send(Ok(full)) => if sent.is_err() { return Ok(()) },
                                    _ = stop_rx.changed() => {
                                        stopped_by_session.store(true, Ordering::Relaxed);
                                        return Ok(());
                                    }
                                }
                            }
                        }
                    }
                }
                if !chunk.is_empty() {
                    let _ = rows_tx.send(Ok(chunk)).await;
                }
                Ok(())
            }
            .await;
            match (outcome, cols_tx.take()) {
                (Err(e), Some(tx)) => {
                    let _ = tx.send(Err(e));
                }
                (Err(e), None) => {
                    let _ = rows_tx.send(Err(e)).await;
                }
                (Ok(()), Some(tx)) => {
                    let _ = tx.send(Ok(Vec::new()));
                }
                (Ok(()), None) => {}
            }
            let _ = back_tx.send(client);
        });
        self.streaming = Some(Streaming {
            stop: stop_tx,
            client: back_rx,
        });
        let columns = cols_rx.await.map_err(|_| {
            CapabilityError::Unavailable(format!("the connection to {} was lost", self.server))
        })??;
        Ok(Box::new(TdsRowStream {
            columns,
            rows: rows_rx,
            buffer: Vec::new(),
            stopped,
        }))
    }
}

/// Rows per message between the stream's task and the plugin.
const CHUNK: usize = 1000;
/// Bytes past which a message goes before it has [`CHUNK`] rows: with the channel's four
/// messages, what the task reads ahead stays near 20 MiB however wide the rows.
const CHUNK_BYTES: usize = 4 << 20;

/// A result being read by its task.
struct TdsRowStream {
    columns: Vec<Column>,
    rows: mpsc::Receiver<Result<Vec<Vec<SqlValue>>, CapabilityError>>,
    /// Rows received and not yet handed out, in reverse order (popped from the end).
    buffer: Vec<Vec<SqlValue>>,
    stopped: Arc<AtomicBool>,
}

#[async_trait]
impl SqlRowStream for TdsRowStream {
    fn columns(&self) -> Vec<Column> {
        self.columns.clone()
    }

    async fn next_batch(
        &mut self,
        max_rows: u32,
        max_bytes: usize,
    ) -> Result<Vec<Vec<SqlValue>>, CapabilityError> {
        let want = max_rows as usize;
        let mut out = Vec::with_capacity(want.min(CHUNK));
        let mut held = 0usize;
        while out.len() < want {
            if let Some(row) = self.buffer.pop() {
                let bytes = row_bytes(&row);
                if held + bytes > max_bytes {
                    if out.is_empty() {
                        return Err(too_large("one row of this result", max_bytes));
                    }
                    // The next batch starts with it.
                    self.buffer.push(row);
                    break;
                }
                held += bytes;
                out.push(row);
                continue;
            }
            match self.rows.recv().await {
                Some(Ok(mut chunk)) => {
                    chunk.reverse();
                    self.buffer = chunk;
                }
                Some(Err(e)) => return Err(e),
                None if self.stopped.load(Ordering::Relaxed) => {
                    return Err(CapabilityError::InvalidInput(
                        "the connection ran another statement before this result was read to its end; open a second connection to interleave".into(),
                    ));
                }
                None => break,
            }
        }
        Ok(out)
    }
}
