//! The `blob` capability's real backend: Azure Blob Storage through `azure_storage_blob`, each
//! container reached with its SAS token. The token travels only in request URLs; every message
//! that could quote one is redacted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use azure_core::http::Url;
use azure_storage_blob::BlobContainerClient;
use azure_storage_blob::models::{
    BlobClientDownloadOptions, BlobContainerClientListBlobsOptions,
    BlockBlobClientCommitBlockListOptions, BlockListType, BlockLookupList,
};
use bytes::Bytes;
use futures::TryStreamExt;

use crate::capabilities::CapabilityError;
use crate::capabilities::blob::{BlobBackend, BlobContainer, BlobItem};
use crate::secret::{Secret, redact};

/// How to reach one container: its URL (no query) and a SAS token for it.
#[derive(Clone, Debug)]
pub struct ContainerAccess {
    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER` (or Azurite's
    /// `http://127.0.0.1:PORT/ACCOUNT/CONTAINER`).
    pub url: String,
    /// The SAS token (query string without `?`).
    pub sas: Secret,
}

/// Containers by the names plugins use for them.
#[derive(Clone, Debug, Default)]
pub struct AzureBlobBackend {
    containers: BTreeMap<String, ContainerAccess>,
}

impl AzureBlobBackend {
    /// A backend serving `containers`.
    pub fn new(containers: BTreeMap<String, ContainerAccess>) -> Self {
        AzureBlobBackend { containers }
    }
}

#[async_trait]
impl BlobBackend for AzureBlobBackend {
    async fn open(&self, name: &str) -> Result<Box<dyn BlobContainer>, CapabilityError> {
        let access = self.containers.get(name).ok_or_else(|| {
            CapabilityError::NotFound(format!("this command set up no container named '{name}'"))
        })?;
        Ok(Box::new(AzureContainer::connect(access)?))
    }
}

/// One container.
pub struct AzureContainer {
    client: BlobContainerClient,
    /// The container URL without credentials.
    url: Url,
    sas: Secret,
}

impl AzureContainer {
    /// A client for the container; nothing is sent yet.
    pub fn connect(access: &ContainerAccess) -> Result<AzureContainer, CapabilityError> {
        let url = Url::parse(access.url.trim_end_matches('/')).map_err(|e| {
            CapabilityError::InvalidInput(format!("container URL '{}': {e}", access.url))
        })?;
        if url.query().is_some() {
            return Err(CapabilityError::InvalidInput(format!(
                "container URL {}://{}{} carries a query; give the SAS token separately \
                 (SQLMIG_SAS or the secrets file), never in a URL",
                url.scheme(),
                url.host_str().unwrap_or_default(),
                url.path()
            )));
        }
        let mut signed = url.clone();
        signed.set_query(Some(access.sas.expose().trim_start_matches('?')));
        let client = BlobContainerClient::new(signed, None, None)
            .map_err(|e| CapabilityError::InvalidInput(redact(&e.to_string(), &[&access.sas])))?;
        Ok(AzureContainer {
            client,
            url,
            sas: access.sas.clone(),
        })
    }

    /// Creates the container unless it exists (needs a SAS allowed to create containers);
    /// true when it was created.
    pub async fn create_if_missing(&self) -> Result<bool, CapabilityError> {
        match self.client.create(None).await {
            Ok(_) => Ok(true),
            Err(e) if e.http_status().map(u16::from) == Some(409) => Ok(false),
            Err(e) => Err(self.error("create container", "", e)),
        }
    }

    /// Turns a service error into one a plugin can act on, never quoting the SAS.
    fn error(&self, op: &str, blob: &str, e: azure_core::Error) -> CapabilityError {
        let target = if blob.is_empty() {
            self.url.to_string()
        } else {
            format!("{}/{blob}", self.url)
        };
        let msg = redact(
            &format!("{op} {target}: {}", service_message(&e)),
            &[&self.sas],
        );
        match e.http_status().map(u16::from) {
            Some(401 | 403) => CapabilityError::AccessDenied(format!(
                "{msg} (the SAS token does not allow this: check its permissions, scope and expiry)"
            )),
            Some(404) => CapabilityError::NotFound(msg),
            Some(408) => CapabilityError::Timeout(msg),
            Some(s) if s >= 500 => CapabilityError::Unavailable(msg),
            Some(_) => CapabilityError::InvalidInput(msg),
            None => CapabilityError::Unavailable(msg),
        }
    }
}

impl AzureContainer {
    /// Stages a block with its MD5, which the service checks before storing it (a block
    /// damaged on the way is refused, not stored).
    pub async fn put_block_md5(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
        md5: [u8; 16],
    ) -> Result<(), CapabilityError> {
        let len = data.len() as u64;
        let options = azure_storage_blob::models::BlockBlobClientStageBlockOptions {
            transactional_content_md5: Some(md5.to_vec()),
            ..Default::default()
        };
        self.client
            .blob_client(blob)
            .block_blob_client()
            .stage_block(
                block_id.as_bytes(),
                len,
                Bytes::from(data).into(),
                Some(options),
            )
            .await
            .map(|_| ())
            .map_err(|e| self.error("put block", blob, e))
    }
}

#[async_trait]
impl BlobContainer for AzureContainer {
    async fn put_block(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
    ) -> Result<(), CapabilityError> {
        let len = data.len() as u64;
        self.client
            .blob_client(blob)
            .block_blob_client()
            .stage_block(block_id.as_bytes(), len, Bytes::from(data).into(), None)
            .await
            .map(|_| ())
            .map_err(|e| self.error("put block", blob, e))
    }

    async fn commit_block_list(&self, blob: &str, ids: &[String]) -> Result<(), CapabilityError> {
        self.commit_checked(blob, ids, None).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobItem>, CapabilityError> {
        let options = BlobContainerClientListBlobsOptions {
            prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
            ..Default::default()
        };
        let mut pager = self
            .client
            .list_blobs(Some(options))
            .map_err(|e| self.error("list", prefix, e))?;
        let mut out = Vec::new();
        while let Some(item) = pager
            .try_next()
            .await
            .map_err(|e| self.error("list", prefix, e))?
        {
            let props = item.properties.unwrap_or_default();
            out.push(BlobItem {
                name: item.name.unwrap_or_default(),
                size: props.content_length.unwrap_or(0),
                blob_type: props
                    .blob_type
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "BlockBlob".into()),
            });
        }
        Ok(out)
    }

    async fn read_range(
        &self,
        blob: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, CapabilityError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let options = BlobClientDownloadOptions {
            range: Some((offset..offset + len).into()),
            ..Default::default()
        };
        let result = self
            .client
            .blob_client(blob)
            .download(Some(options))
            .await
            .map_err(|e| self.error("read", blob, e))?;
        let bytes = result
            .body
            .collect()
            .await
            .map_err(|e| self.error("read", blob, e))?;
        Ok(bytes.to_vec())
    }

    async fn delete(&self, blob: &str) -> Result<(), CapabilityError> {
        self.client
            .blob_client(blob)
            .delete(None)
            .await
            .map(|_| ())
            .map_err(|e| self.error("delete", blob, e))
    }

    fn url(&self, blob: &str) -> String {
        let mut u = self.url.clone();
        if let Ok(mut segs) = u.path_segments_mut() {
            segs.extend(blob.split('/'));
        }
        u.to_string()
    }

    async fn staged_blocks(&self, blob: &str) -> Result<Vec<(String, u64)>, CapabilityError> {
        let list = match self
            .client
            .blob_client(blob)
            .block_blob_client()
            .get_block_list(BlockListType::Uncommitted, None)
            .await
        {
            Ok(r) => r
                .into_model()
                .map_err(|e| self.error("get block list", blob, e))?,
            // Nothing staged yet: the blob does not exist at all.
            Err(e) if e.http_status().map(u16::from) == Some(404) => return Ok(Vec::new()),
            Err(e) => return Err(self.error("get block list", blob, e)),
        };
        Ok(list
            .uncommitted_blocks
            .unwrap_or_default()
            .into_iter()
            .filter_map(|b| {
                let id = String::from_utf8(b.name?).ok()?;
                Some((id, u64::try_from(b.size.unwrap_or(0)).unwrap_or(0)))
            })
            .collect())
    }

    async fn put_block_checked(
        &self,
        blob: &str,
        block_id: &str,
        data: Vec<u8>,
        md5: [u8; 16],
    ) -> Result<(), CapabilityError> {
        self.put_block_md5(blob, block_id, data, md5).await
    }

    async fn commit_checked(
        &self,
        blob: &str,
        ids: &[String],
        md5: Option<[u8; 16]>,
    ) -> Result<(), CapabilityError> {
        let list = BlockLookupList {
            latest: Some(ids.iter().map(|i| i.as_bytes().to_vec()).collect()),
            ..Default::default()
        };
        let body = list
            .try_into()
            .map_err(|e: azure_core::Error| self.error("commit block list", blob, e))?;
        let options = BlockBlobClientCommitBlockListOptions {
            blob_content_md5: md5.map(|m| m.to_vec()),
            ..Default::default()
        };
        self.client
            .blob_client(blob)
            .block_blob_client()
            .commit_block_list(body, Some(options))
            .await
            .map(|_| ())
            .map_err(|e| self.error("commit block list", blob, e))
    }
}

/// The service's error code and the first line of its message, instead of its whole XML body.
fn service_message(e: &azure_core::Error) -> String {
    let text = e.to_string();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(
            text[start..end]
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        )
    };
    match (e.http_status().map(u16::from), tag("Code"), tag("Message")) {
        (Some(status), Some(code), Some(message)) => format!("{status} {code}: {message}"),
        _ => text,
    }
}
