//! The `blob` capability: containers the operator granted. The backend (Azure Blob Storage)
//! holds the SAS token or key; plugins see names and bytes.

use async_trait::async_trait;
use wasmtime::component::Resource;

use super::{Capability, CapabilityError};
use crate::runtime::bindings::v0_1::sqlmig::plugin::blob as wit;
use crate::runtime::bindings::v0_1::sqlmig::plugin::types::Error as WitError;
use crate::runtime::instance::PluginState;

/// Why `name` cannot name a blob inside a container: Azure takes 1 to 1,024 characters and at
/// most 254 segments, and advises against names ending in `.` or `/` ("Naming and Referencing
/// Containers, Blobs, and Metadata"). Stricter than the service: no empty, `.` or `..` segment
/// (a URL parser folds `a/../b` into `b`, or climbs out of the container), no backslash (read
/// as `/`), no `?`, `#` or control character — so a name stays inside its container.
pub fn blob_name_problem(name: &str) -> Option<String> {
    let why = if name.is_empty() || name.chars().count() > 1024 {
        "is not 1 to 1,024 characters"
    } else if name.split('/').count() > 254 {
        "has more than 254 segments"
    } else if name.split('/').any(|s| matches!(s, "" | "." | "..")) {
        "has an empty, '.' or '..' segment"
    } else if name.ends_with('.') {
        "ends with a dot"
    } else if name.chars().any(|c| c.is_control() || "\\?#".contains(c)) {
        "holds a backslash, '?', '#' or a control character"
    } else {
        return None;
    };
    Some(format!("blob name {name:?} {why}"))
}

fn checked_name(name: &str) -> Result<(), WitError> {
    match blob_name_problem(name) {
        Some(why) => Err(CapabilityError::InvalidInput(why).into()),
        None => Ok(()),
    }
}

/// A blob in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobItem {
    pub name: String,
    pub size: u64,
    pub blob_type: String,
}

/// Opens containers by the name plugins use for them.
#[async_trait]
pub trait BlobBackend: Send + Sync {
    /// The container granted as `name`; `not-found` when the command set up no such container.
    async fn open(&self, name: &str) -> Result<Box<dyn BlobContainer>, CapabilityError>;
}

/// One container.
#[async_trait]
pub trait BlobContainer: Send + Sync {
    async fn put_block(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
    ) -> Result<(), CapabilityError>;
    async fn commit_block_list(&self, blob: &str, ids: &[String]) -> Result<(), CapabilityError>;
    async fn list(&self, prefix: &str) -> Result<Vec<BlobItem>, CapabilityError>;
    async fn read_range(
        &self,
        blob: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, CapabilityError>;
    async fn delete(&self, blob: &str) -> Result<(), CapabilityError>;
    /// The blob's URL without credentials.
    fn url(&self, blob: &str) -> String;
    /// Blocks staged for `blob` and not committed yet: (id, size). Lets an interrupted copy go
    /// on where it stopped; a backend that cannot tell answers none.
    async fn staged_blocks(&self, _blob: &str) -> Result<Vec<(String, u64)>, CapabilityError> {
        Ok(Vec::new())
    }
    /// Stages a block the service checks against `md5` before storing it.
    async fn put_block_checked(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
        _md5: [u8; 16],
    ) -> Result<(), CapabilityError> {
        self.put_block(blob, block_id, data).await
    }
    /// Commits `ids` as the blob, recording the whole content's `md5` when known.
    async fn commit_checked(
        &self,
        blob: &str,
        ids: &[String],
        _md5: Option<[u8; 16]>,
    ) -> Result<(), CapabilityError> {
        self.commit_block_list(blob, ids).await
    }
}

/// The resource behind a plugin's `container` handle.
pub struct ContainerHandle(Box<dyn BlobContainer>);

/// The largest block Azure accepts in one Put Block (4000 MiB is the service limit; the host
/// keeps plugins to 100 MiB so one call cannot pin gigabytes of host memory).
const MAX_BLOCK_BYTES: usize = 100 * 1024 * 1024;
/// The largest range one read may ask for.
const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

impl wit::Host for PluginState {
    async fn open(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<ContainerHandle>, WitError>> {
        if let Err(e) = self.call.grants.check(Capability::Blob, &name) {
            return Ok(Err(e.into()));
        }
        let Some(backend) = self.call.services.blob.clone() else {
            return Ok(Err(CapabilityError::Unavailable(format!(
                "this command set up no blob storage, so container '{name}' is not available"
            ))
            .into()));
        };
        match backend.open(&name).await {
            Ok(c) => Ok(Ok(self.table.push(ContainerHandle(c))?)),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl wit::HostContainer for PluginState {
    async fn put_block(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
        block_id: String,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), WitError>> {
        if let Err(e) = checked_name(&blob) {
            return Ok(Err(e));
        }
        if data.len() > MAX_BLOCK_BYTES {
            return Ok(Err(CapabilityError::LimitExceeded(format!(
                "block of {} bytes for blob '{blob}' is larger than the {MAX_BLOCK_BYTES} bytes \
                 one put-block may carry",
                data.len()
            ))
            .into()));
        }
        let c = &self.table.get(&c)?.0;
        Ok(c.put_block(&blob, &block_id, data)
            .await
            .map_err(Into::into))
    }

    async fn commit_block_list(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
        ids: Vec<String>,
    ) -> wasmtime::Result<Result<(), WitError>> {
        if let Err(e) = checked_name(&blob) {
            return Ok(Err(e));
        }
        let c = &self.table.get(&c)?.0;
        Ok(c.commit_block_list(&blob, &ids).await.map_err(Into::into))
    }

    async fn list(
        &mut self,
        c: Resource<ContainerHandle>,
        prefix: String,
    ) -> wasmtime::Result<Result<Vec<wit::BlobItem>, WitError>> {
        let c = &self.table.get(&c)?.0;
        Ok(c.list(&prefix)
            .await
            .map(|items| {
                items
                    .into_iter()
                    .map(|i| wit::BlobItem {
                        name: i.name,
                        size: i.size,
                        blob_type: i.blob_type,
                    })
                    .collect()
            })
            .map_err(Into::into))
    }

    async fn read_range(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Result<Vec<u8>, WitError>> {
        if let Err(e) = checked_name(&blob) {
            return Ok(Err(e));
        }
        if length > MAX_READ_BYTES {
            return Ok(Err(CapabilityError::LimitExceeded(format!(
                "a read of {length} bytes from blob '{blob}' is larger than the \
                 {MAX_READ_BYTES} bytes one read-range may return"
            ))
            .into()));
        }
        let c = &self.table.get(&c)?.0;
        Ok(c.read_range(&blob, offset, length)
            .await
            .map_err(Into::into))
    }

    async fn delete(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
    ) -> wasmtime::Result<Result<(), WitError>> {
        if let Err(e) = checked_name(&blob) {
            return Ok(Err(e));
        }
        let c = &self.table.get(&c)?.0;
        Ok(c.delete(&blob).await.map_err(Into::into))
    }

    async fn url(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
    ) -> wasmtime::Result<String> {
        Ok(self.table.get(&c)?.0.url(&blob))
    }

    async fn copy_from(
        &mut self,
        c: Resource<ContainerHandle>,
        blob: String,
        source: wit::CopySource,
    ) -> wasmtime::Result<Result<wit::CopyReport, WitError>> {
        if let Err(e) = checked_name(&blob) {
            return Ok(Err(e));
        }
        use crate::storage::copy::{self, CopyOptions, CopySource};
        // The source is fetched as the plugin's own request would be: only from hosts its
        // `http` grant allows.
        let origin = match super::http::origin_of(&source.url) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.into())),
        };
        if let Err(e) = self.check_http(&origin) {
            return Ok(Err(e.into()));
        }
        let Some(http) = self.call.services.http.clone() else {
            return Ok(Err(CapabilityError::Unavailable(
                "this command set up no outbound HTTP to copy from".into(),
            )
            .into()));
        };
        let progress = self.call.services.progress.clone();
        let plugin = self.call.grants.plugin.clone();
        let message = format!("copying {}", copy::shown(&source.url));
        let report = |done: u64, total: u64| {
            if let Some(p) = &progress {
                p.report(&plugin, done, Some(total), &message);
            }
        };
        let source = CopySource {
            url: source.url,
            headers: source.headers,
            size: source.size,
            md5: source.md5,
        };
        let c = &self.table.get(&c)?.0;
        let copied = copy::copy(
            c.as_ref(),
            http.as_ref(),
            &blob,
            &source,
            CopyOptions::default(),
            &report,
        )
        .await;
        Ok(copied
            .map(|r| wit::CopyReport {
                bytes: r.bytes,
                blocks_sent: r.blocks_sent,
                blocks_skipped: r.blocks_skipped,
                md5: r.md5,
            })
            .map_err(Into::into))
    }

    async fn drop(&mut self, c: Resource<ContainerHandle>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}
