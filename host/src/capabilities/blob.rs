//! The `blob` capability: containers the operator granted. The backend (Azure Blob Storage)
//! holds the SAS token or key; plugins see names and bytes.

use async_trait::async_trait;

use super::{CallContext, Capability, CapabilityError};
use crate::storage::copy::{self, CopyOptions, CopyReport, CopySource};

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

fn checked_name(name: &str) -> Result<(), CapabilityError> {
    match blob_name_problem(name) {
        Some(why) => Err(CapabilityError::InvalidInput(why)),
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

/// Opens the container granted as `name`.
pub async fn open(cx: &CallContext, name: &str) -> Result<ContainerHandle, CapabilityError> {
    cx.grants.check(Capability::Blob, name)?;
    let Some(backend) = cx.services.blob.clone() else {
        return Err(CapabilityError::Unavailable(format!(
            "this command set up no blob storage, so container '{name}' is not available"
        )));
    };
    Ok(ContainerHandle(backend.open(name).await?))
}

impl ContainerHandle {
    /// Stages one block of `blob`.
    pub async fn put_block(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
    ) -> Result<(), CapabilityError> {
        checked_name(blob)?;
        if data.len() > MAX_BLOCK_BYTES {
            return Err(CapabilityError::LimitExceeded(format!(
                "block of {} bytes for blob '{blob}' is larger than the {MAX_BLOCK_BYTES} bytes \
                 one put-block may carry",
                data.len()
            )));
        }
        self.0.put_block(blob, block_id, data).await
    }

    /// Commits the staged blocks `ids`, in order, as `blob`.
    pub async fn commit_block_list(
        &self,
        blob: &str,
        ids: &[String],
    ) -> Result<(), CapabilityError> {
        checked_name(blob)?;
        self.0.commit_block_list(blob, ids).await
    }

    /// The blobs whose names begin with `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<BlobItem>, CapabilityError> {
        self.0.list(prefix).await
    }

    /// `length` bytes of `blob` from `offset`.
    pub async fn read_range(
        &self,
        blob: &str,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, CapabilityError> {
        checked_name(blob)?;
        if length > MAX_READ_BYTES {
            return Err(CapabilityError::LimitExceeded(format!(
                "a read of {length} bytes from blob '{blob}' is larger than the \
                 {MAX_READ_BYTES} bytes one read-range may return"
            )));
        }
        self.0.read_range(blob, offset, length).await
    }

    /// Deletes `blob`.
    pub async fn delete(&self, blob: &str) -> Result<(), CapabilityError> {
        checked_name(blob)?;
        self.0.delete(blob).await
    }

    /// The URL SQL Server is given for `blob` (without any token).
    pub fn url(&self, blob: &str) -> String {
        self.0.url(blob)
    }

    /// Copies `source` into `blob`, fetched as the plugin's own request would be: only from hosts
    /// its `http` grant allows. Progress goes to the command's sink.
    pub async fn copy_from(
        &self,
        cx: &CallContext,
        blob: &str,
        source: CopySource,
    ) -> Result<CopyReport, CapabilityError> {
        checked_name(blob)?;
        super::http::check_origin(cx, &super::http::origin_of(&source.url)?)?;
        let Some(http) = cx.services.http.clone() else {
            return Err(CapabilityError::Unavailable(
                "this command set up no outbound HTTP to copy from".into(),
            ));
        };
        let progress = cx.services.progress.clone();
        let message = format!("copying {}", copy::shown(&source.url));
        let report = |done: u64, total: u64| {
            if let Some(p) = &progress {
                p.report(cx.plugin(), done, Some(total), &message);
            }
        };
        copy::copy(
            self.0.as_ref(),
            http.as_ref(),
            blob,
            &source,
            CopyOptions::default(),
            &report,
        )
        .await
    }
}
