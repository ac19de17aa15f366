//! Uploading backup files to the container: each file becomes a block blob in its database's
//! folder, sent as blocks in parallel, each with its MD5 (the service refuses a damaged block).
//! Stored blocks are recorded in the journal, so an upload interrupted by a crash sends only
//! what the service does not have yet; the block list is committed once all are there.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::journal::Journal;
use crate::capabilities::blob::BlobContainer as _;
use crate::storage::azure_blob::AzureContainer;
use crate::storage::copy::block_id;

/// A file to upload and the blob it becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadFile {
    pub local: PathBuf,
    pub blob: String,
}

/// How the upload went.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UploadStats {
    pub bytes: u64,
    pub seconds: f64,
    pub blocks_sent: u64,
    /// Blocks a previous, interrupted upload had already stored.
    pub blocks_skipped: u64,
}

/// Upload settings.
#[derive(Clone, Copy, Debug)]
pub struct UploadOptions {
    /// Bytes per block (Azure allows up to 4000 MiB; 8 MiB keeps memory small and retries cheap).
    pub block_size: usize,
    /// Blocks in flight at once, across files.
    pub concurrency: usize,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            block_size: 8 << 20,
            concurrency: 8,
        }
    }
}

/// What stops an upload.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{}: {error}", path.display())]
    File {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not a regular file (a link or a folder is not uploaded)", path.display())]
    NotAFile { path: std::path::PathBuf },
    /// The container refused or did not answer.
    #[error("{0}")]
    Storage(crate::capabilities::CapabilityError),
    #[error(transparent)]
    Journal(#[from] super::journal::JournalError),
}

impl UploadError {
    /// Worth trying again: the storage could not be reached or did not answer in time; a file
    /// that is not there or not a file, the service refusing, or the journal failing are not.
    pub fn transient(&self) -> bool {
        use crate::capabilities::CapabilityError;
        matches!(
            self,
            UploadError::Storage(CapabilityError::Unavailable(_) | CapabilityError::Timeout(_))
        )
    }
}

/// Uploads `files`, reporting bytes done and total through `progress`.
pub async fn upload(
    container: &AzureContainer,
    files: &[UploadFile],
    journal: Option<&Mutex<Journal>>,
    options: UploadOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<UploadStats, UploadError> {
    let started = Instant::now();
    let mut total = 0u64;
    let mut work = Vec::new();
    for f in files {
        // A link in the folder (planted by whoever else writes there) is not followed: the host
        // uploads the backup files themselves, never what a link points at.
        let file_error = |error| UploadError::File {
            path: f.local.clone(),
            error,
        };
        let meta = tokio::fs::symlink_metadata(&f.local)
            .await
            .map_err(file_error)?;
        if !meta.is_file() {
            return Err(UploadError::NotAFile {
                path: f.local.clone(),
            });
        }
        let size = meta.len();
        total += size;
        let blocks = size.div_ceil(options.block_size as u64).max(1);
        let stored = match journal {
            Some(j) => j.lock().unwrap().stored_blocks(&f.blob)?,
            None => Vec::new(),
        };
        for n in 0..blocks {
            let offset = n * options.block_size as u64;
            let len = (size - offset).min(options.block_size as u64);
            let id = block_id(n);
            let known = stored
                .iter()
                .find(|(b, s, _)| *b == id && *s == len)
                .map(|(_, _, m)| m.clone());
            work.push((f.clone(), id, offset, len, known));
        }
    }
    let done = AtomicU64::new(0);
    let sent = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    progress(0, total);
    let results: Vec<Result<(), UploadError>> = futures::stream::iter(work.iter())
        .map(|(f, id, offset, len, known)| {
            let (done, sent, skipped) = (&done, &sent, &skipped);
            async move {
                let file_error = |error| UploadError::File {
                    path: f.local.clone(),
                    error,
                };
                let mut file = tokio::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&f.local)
                    .await
                    .map_err(file_error)?;
                file.seek(std::io::SeekFrom::Start(*offset))
                    .await
                    .map_err(file_error)?;
                let mut data = vec![0u8; *len as usize];
                file.read_exact(&mut data).await.map_err(file_error)?;
                let md5: [u8; 16] = Md5::digest(&data).into();
                if known.as_deref() == Some(hex::encode(md5).as_str()) {
                    skipped.fetch_add(1, Ordering::Relaxed);
                } else {
                    container
                        .put_block_md5(&f.blob, id, data, md5)
                        .await
                        .map_err(UploadError::Storage)?;
                    if let Some(j) = journal {
                        j.lock()
                            .unwrap()
                            .block_stored(&f.blob, id, *len, &hex::encode(md5))?;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                let now = done.fetch_add(*len, Ordering::Relaxed) + len;
                progress(now, total);
                Ok(())
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    for f in files {
        let ids: Vec<String> = work
            .iter()
            .filter(|w| w.0.blob == f.blob)
            .map(|w| w.1.clone())
            .collect();
        container
            .commit_block_list(&f.blob, &ids)
            .await
            .map_err(UploadError::Storage)?;
        if let Some(j) = journal {
            j.lock().unwrap().forget_blocks(&f.blob)?;
        }
    }
    Ok(UploadStats {
        bytes: total,
        seconds: started.elapsed().as_secs_f64(),
        blocks_sent: sent.into_inner(),
        blocks_skipped: skipped.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::CapabilityError;

    #[test]
    fn only_storage_that_did_not_answer_is_tried_again() {
        let storage = |e| UploadError::Storage(e);
        assert!(storage(CapabilityError::Unavailable("503".into())).transient());
        assert!(storage(CapabilityError::Timeout("slow".into())).transient());
        assert!(!storage(CapabilityError::AccessDenied("403".into())).transient());
        assert!(
            !UploadError::NotAFile {
                path: "/backups/Sales.bak".into()
            }
            .transient()
        );
    }
}
