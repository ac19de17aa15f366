//! Copying a file another cloud holds (S3, Cloud Storage) into a blob container, for a cloud's
//! platform plugin: ranged GETs through the `http` backend, several at once, each block staged
//! with its MD5 (the service refuses a block damaged on the way), the whole file's MD5 compared
//! with the source's before anything is committed. A copy interrupted by a crash, called again,
//! asks the service which blocks it already holds and sends only the rest.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use md5::{Digest, Md5};

use crate::capabilities::CapabilityError;
use crate::capabilities::blob::BlobContainer;
use crate::capabilities::http::{HttpBackend, HttpRequest};

/// Where the file is.
#[derive(Clone, Debug)]
pub struct CopySource {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub size: u64,
    /// Hex MD5 the source reports.
    pub md5: Option<String>,
}

/// What a copy did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub bytes: u64,
    pub blocks_sent: u64,
    pub blocks_skipped: u64,
    /// Hex MD5 of the whole file, when this call read all of it.
    pub md5: Option<String>,
}

/// How a copy runs.
#[derive(Clone, Copy, Debug)]
pub struct CopyOptions {
    /// Bytes per block.
    pub block_size: u64,
    /// Blocks in flight at once.
    pub concurrency: usize,
    /// Tries per block when the source or the service fails transiently.
    pub tries: u32,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            block_size: 8 << 20,
            concurrency: 8,
            tries: 4,
        }
    }
}

/// The id of block `n` (all ids of a blob have one length, as the service requires).
pub fn block_id(n: u64) -> String {
    format!("sqlmig-{n:010}")
}

/// `url` without its query, which may carry a pre-signed URL's signature and credential.
pub fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Copies `source` into `blob` of `container`, reporting bytes done through `progress`.
pub async fn copy(
    container: &dyn BlobContainer,
    http: &dyn HttpBackend,
    blob: &str,
    source: &CopySource,
    options: CopyOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<CopyReport, CapabilityError> {
    let staged: BTreeMap<String, u64> = container.staged_blocks(blob).await?.into_iter().collect();
    let block_size = options.block_size.max(1);
    let blocks = source.size.div_ceil(block_size).max(1);
    let ids: Vec<String> = (0..blocks).map(block_id).collect();
    let fetch = |n: u64| {
        let staged = &staged;
        async move {
            let offset = n * block_size;
            let len = (source.size - offset).min(block_size);
            let id = block_id(n);
            if len > 0 && staged.get(&id) == Some(&len) {
                return Ok::<_, CapabilityError>((len, None));
            }
            let data = get_range(http, source, offset, len, options.tries).await?;
            let md5: [u8; 16] = Md5::digest(&data).into();
            retry(options.tries, || {
                container.put_block_checked(blob, &id, data.clone(), md5)
            })
            .await?;
            Ok((len, Some(data)))
        }
    };
    let mut stream = futures::stream::iter(0..blocks)
        .map(fetch)
        .buffered(options.concurrency.max(1));
    // Blocks arrive in order, so the whole file's MD5 is computed as they come.
    let mut hasher = Some(Md5::new());
    let (mut done, mut sent, mut skipped) = (0u64, 0u64, 0u64);
    progress(0, source.size);
    while let Some(block) = stream.next().await {
        let (len, data) = block?;
        match data {
            Some(d) => {
                sent += 1;
                if let Some(h) = hasher.as_mut() {
                    h.update(&d);
                }
            }
            None => {
                skipped += 1;
                hasher = None;
            }
        }
        done += len;
        progress(done, source.size);
    }
    let md5 = hasher.map(|h| <[u8; 16]>::from(h.finalize()));
    if let (Some(got), Some(want)) = (&md5, &source.md5)
        && !hex::encode(got).eq_ignore_ascii_case(want.trim_matches('"'))
    {
        // Nothing is committed; an empty commit discards the staged blocks, so the next try
        // sends everything again instead of trusting them.
        let _ = container.commit_checked(blob, &[], None).await;
        let _ = container.delete(blob).await;
        return Err(CapabilityError::Unavailable(format!(
            "copying {} into {blob}: what arrived has MD5 {}, the source reports {want}; nothing \
             was committed: run the step again",
            shown(&source.url),
            hex::encode(got)
        )));
    }
    container.commit_checked(blob, &ids, md5).await?;
    Ok(CopyReport {
        bytes: source.size,
        blocks_sent: sent,
        blocks_skipped: skipped,
        md5: md5.map(hex::encode),
    })
}

/// `len` bytes from `offset` of the source, tried up to `tries` times.
async fn get_range(
    http: &dyn HttpBackend,
    source: &CopySource,
    offset: u64,
    len: u64,
    tries: u32,
) -> Result<Vec<u8>, CapabilityError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    retry(tries, || async {
        let mut headers = source.headers.clone();
        headers.push((
            "range".into(),
            format!("bytes={offset}-{}", offset + len - 1),
        ));
        let resp = http
            .send(HttpRequest {
                method: "GET".into(),
                url: source.url.clone(),
                headers,
                body: Vec::new(),
            })
            .await?;
        let whole = resp.status == 200 && offset == 0 && len == source.size;
        if resp.status != 206 && !whole {
            let said = String::from_utf8_lossy(&resp.body);
            let said = said.chars().take(300).collect::<String>();
            let msg = format!(
                "GET {} bytes {offset}-{}: HTTP {}: {said}",
                shown(&source.url),
                offset + len - 1,
                resp.status
            );
            return Err(match resp.status {
                401 | 403 => CapabilityError::AccessDenied(msg),
                404 => CapabilityError::NotFound(msg),
                408 | 429 | 500.. => CapabilityError::Unavailable(msg),
                _ => CapabilityError::InvalidInput(msg),
            });
        }
        if resp.body.len() as u64 != len {
            return Err(CapabilityError::Unavailable(format!(
                "GET {} bytes {offset}-{}: {} bytes arrived of {len}",
                shown(&source.url),
                offset + len - 1,
                resp.body.len()
            )));
        }
        Ok(resp.body)
    })
    .await
}

/// `op` tried up to `tries` times while it fails transiently (unavailable, timed out), waiting
/// longer each time.
async fn retry<T, F, Fut>(tries: u32, mut op: F) -> Result<T, CapabilityError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CapabilityError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(CapabilityError::Unavailable(_) | CapabilityError::Timeout(_))
                if attempt < tries.max(1) =>
            {
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_query() {
        assert_eq!(
            shown("https://b.s3.amazonaws.com/k.bak?X-Amz-Signature=abc&X-Amz-Credential=AKIA"),
            "https://b.s3.amazonaws.com/k.bak"
        );
        assert_eq!(block_id(7), "sqlmig-0000000007");
    }
}
