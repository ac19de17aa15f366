//! Test doubles for the services behind capabilities: a scripted SQL endpoint, an in-memory
//! blob container, a canned HTTP responder and a progress recorder. They stand in for the real
//! backends only where a test checks the host's capability plumbing (grants, handles,
//! conversions), not the services themselves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlmig::capabilities::CapabilityError;
use sqlmig::capabilities::blob::{BlobBackend, BlobContainer, BlobItem};
use sqlmig::capabilities::http::{HttpBackend, HttpRequest, HttpResponse};
use sqlmig::capabilities::progress::ProgressSink;
use sqlmig::capabilities::sql::{
    Column, Param, RowSet, SqlBackend, SqlRowStream, SqlSession, SqlValue,
};

/// Statements a [`ScriptedSql`] was sent, with their parameters.
pub type SentStatements = Arc<Mutex<Vec<(String, Vec<Param>)>>>;
/// Blocks staged per (blob, block id).
type StagedBlocks = Arc<Mutex<BTreeMap<(String, String), Vec<u8>>>>;
/// One progress report: plugin, done, total, message.
pub type ProgressReport = (String, u64, Option<u64>, String);

/// A SQL endpoint named `source` answering every query with sys.databases-like rows, recording
/// what it was sent.
#[derive(Default)]
pub struct ScriptedSql {
    pub sent: SentStatements,
    /// Rows the stream query yields.
    pub stream_rows: u64,
}

struct Session {
    sent: SentStatements,
    stream_rows: u64,
}

struct Numbers {
    left: u64,
}

#[async_trait]
impl SqlBackend for ScriptedSql {
    async fn connect(&self, endpoint: &str) -> Result<Box<dyn SqlSession>, CapabilityError> {
        if endpoint != "source" {
            return Err(CapabilityError::NotFound(format!("endpoint '{endpoint}'")));
        }
        Ok(Box::new(Session {
            sent: self.sent.clone(),
            stream_rows: self.stream_rows,
        }))
    }
}

#[async_trait]
impl SqlSession for Session {
    async fn query_within(
        &mut self,
        statement: &str,
        params: &[Param],
        _max_bytes: usize,
    ) -> Result<Vec<RowSet>, CapabilityError> {
        self.sent
            .lock()
            .unwrap()
            .push((statement.to_string(), params.to_vec()));
        Ok(vec![RowSet {
            columns: vec![
                Column {
                    name: "name".into(),
                    type_name: "sysname".into(),
                    nullable: false,
                },
                Column {
                    name: "database_id".into(),
                    type_name: "int".into(),
                    nullable: false,
                },
            ],
            rows: vec![
                vec![SqlValue::Text("Sales".into()), SqlValue::Int(5)],
                vec![SqlValue::Text("HR".into()), SqlValue::Int(6)],
            ],
        }])
    }

    async fn execute(&mut self, statement: &str, params: &[Param]) -> Result<u64, CapabilityError> {
        self.sent
            .lock()
            .unwrap()
            .push((statement.to_string(), params.to_vec()));
        Ok(3)
    }

    async fn stream(
        &mut self,
        _statement: &str,
        _params: &[Param],
    ) -> Result<Box<dyn SqlRowStream>, CapabilityError> {
        Ok(Box::new(Numbers {
            left: self.stream_rows,
        }))
    }
}

#[async_trait]
impl SqlRowStream for Numbers {
    fn columns(&self) -> Vec<Column> {
        vec![Column {
            name: "n".into(),
            type_name: "bigint".into(),
            nullable: false,
        }]
    }

    async fn next_batch(
        &mut self,
        max_rows: u32,
        _max_bytes: usize,
    ) -> Result<Vec<Vec<SqlValue>>, CapabilityError> {
        let n = self.left.min(max_rows as u64);
        self.left -= n;
        Ok((0..n).map(|i| vec![SqlValue::Int(i as i64)]).collect())
    }
}

/// Blob containers in memory: staged blocks, committed blobs.
#[derive(Default, Clone)]
pub struct MemoryBlobs {
    pub blobs: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    staged: StagedBlocks,
}

#[async_trait]
impl BlobBackend for MemoryBlobs {
    async fn open(&self, name: &str) -> Result<Box<dyn BlobContainer>, CapabilityError> {
        if name != "backups" {
            return Err(CapabilityError::NotFound(format!("container '{name}'")));
        }
        Ok(Box::new(self.clone()))
    }
}

#[async_trait]
impl BlobContainer for MemoryBlobs {
    async fn put_block(&self, blob: &str, id: &str, data: Vec<u8>) -> Result<(), CapabilityError> {
        self.staged
            .lock()
            .unwrap()
            .insert((blob.to_string(), id.to_string()), data);
        Ok(())
    }

    async fn commit_block_list(&self, blob: &str, ids: &[String]) -> Result<(), CapabilityError> {
        let staged = self.staged.lock().unwrap();
        let mut content = Vec::new();
        for id in ids {
            let block = staged
                .get(&(blob.to_string(), id.clone()))
                .ok_or_else(|| CapabilityError::InvalidInput(format!("block {id} not staged")))?;
            content.extend_from_slice(block);
        }
        self.blobs.lock().unwrap().insert(blob.to_string(), content);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobItem>, CapabilityError> {
        Ok(self
            .blobs
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| BlobItem {
                name: k.clone(),
                size: v.len() as u64,
                blob_type: "BlockBlob".into(),
            })
            .collect())
    }

    async fn read_range(
        &self,
        blob: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, CapabilityError> {
        let blobs = self.blobs.lock().unwrap();
        let b = blobs
            .get(blob)
            .ok_or_else(|| CapabilityError::NotFound(blob.to_string()))?;
        let start = (offset as usize).min(b.len());
        let end = (start + len as usize).min(b.len());
        Ok(b[start..end].to_vec())
    }

    async fn delete(&self, blob: &str) -> Result<(), CapabilityError> {
        self.blobs.lock().unwrap().remove(blob);
        Ok(())
    }

    fn url(&self, blob: &str) -> String {
        format!("https://account.blob.core.windows.net/backups/{blob}")
    }
}

/// Answers every request with 200 and the URL it was sent, recording it.
#[derive(Default)]
pub struct EchoHttp {
    pub sent: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl HttpBackend for EchoHttp {
    async fn send_within(
        &self,
        req: HttpRequest,
        _max_body: usize,
    ) -> Result<HttpResponse, CapabilityError> {
        self.sent.lock().unwrap().push(req.url.clone());
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: req.url.into_bytes(),
        })
    }
}

/// Records progress reports.
#[derive(Default)]
pub struct RecordedProgress {
    pub reports: Mutex<Vec<ProgressReport>>,
}

impl ProgressSink for RecordedProgress {
    fn report(&self, plugin: &str, done: u64, total: Option<u64>, message: &str) {
        self.reports
            .lock()
            .unwrap()
            .push((plugin.to_string(), done, total, message.to_string()));
    }
}
