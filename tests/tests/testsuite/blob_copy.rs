//! The host's copy of another cloud's file into a container (`blob.copy-from`), against Azurite
//! and a local HTTP source serving byte ranges: the content arrives whole with its MD5; an
//! interrupted copy resumes sending only what is missing; a wrong MD5 commits nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlmig::capabilities::CapabilityError;
use sqlmig::capabilities::blob::BlobBackend;
use sqlmig::cloud::CloudHttp;
use sqlmig::storage::azure_blob::{AzureBlobBackend, ContainerAccess};
use sqlmig::storage::copy::{CopyOptions, CopySource, copy};
use sqlmig::storage::sas;
use sqlmig_tests::azurite::{ACCOUNT, Azurite, EXPIRY};
use sqlsim::http_double;
use tokio::net::TcpListener;

/// Serves `data` with Range support; after `fail_after` requests answers 500.
async fn source(data: Arc<Vec<u8>>, fail_after: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (data, count) = (data.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(Some(req)) = http_double::read_request(&mut sock).await else {
                    return;
                };
                if count.fetch_add(1, Ordering::SeqCst) >= fail_after {
                    let _ = http_double::respond(&mut sock, 500, "text/plain", &[], b"down").await;
                    return;
                }
                let range = req.header("range").unwrap_or_default().to_string();
                let (a, b) = range
                    .trim_start_matches("bytes=")
                    .split_once('-')
                    .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
                    .unwrap();
                let _ = http_double::respond(
                    &mut sock,
                    206,
                    "application/octet-stream",
                    &[("Content-Range", format!("bytes {a}-{b}/{}", data.len()))],
                    &data[a..=b],
                )
                .await;
            });
        }
    });
    (
        format!("http://{addr}/bucket/Sales_full_1-of-1.bak?X-Amz-Signature=s3cret"),
        served,
    )
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn container(az: &Azurite) -> Box<dyn sqlmig::capabilities::blob::BlobContainer> {
    az.create_container("backups").await;
    let token = sas::container_sas(ACCOUNT, "backups", &az.key(), "racwdl", EXPIRY).unwrap();
    AzureBlobBackend::new(BTreeMap::from([(
        "backups".to_string(),
        ContainerAccess {
            url: az.container_url("backups"),
            sas: token,
        },
    )]))
    .open("backups")
    .await
    .unwrap()
}

const OPTIONS: CopyOptions = CopyOptions {
    block_size: 1 << 20,
    concurrency: 4,
    tries: 1,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_arrives_whole_and_an_interrupted_one_resumes() {
    let az = Azurite::start();
    let c = container(&az).await;
    let http = CloudHttp::new(BTreeMap::new()).unwrap();
    let data: Arc<Vec<u8>> = Arc::new(
        (0..(10 << 20) + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect(),
    );
    let md5 = md5_hex(&data);

    // The source fails after 4 ranges: the copy stops, having committed nothing.
    let (url, _) = source(data.clone(), 4).await;
    let src = CopySource {
        url,
        headers: vec![],
        size: data.len() as u64,
        md5: Some(md5.clone()),
    };
    let err = copy(
        c.as_ref(),
        &http,
        "Sales/full.bak",
        &src,
        OPTIONS,
        &|_, _| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CapabilityError::Unavailable(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 500") && !text.contains("s3cret"),
        "{text}"
    );
    assert!(
        c.list("Sales/").await.unwrap().is_empty(),
        "nothing committed"
    );
    let staged = c.staged_blocks("Sales/full.bak").await.unwrap();
    assert!(staged.len() >= 3, "{staged:?}");

    // Called again, it sends only the missing blocks and the blob is the file.
    let (url, served) = source(data.clone(), usize::MAX).await;
    let src = CopySource { url, ..src };
    let report = copy(
        c.as_ref(),
        &http,
        "Sales/full.bak",
        &src,
        OPTIONS,
        &|d, t| assert!(d <= t),
    )
    .await
    .unwrap();
    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(report.blocks_sent + report.blocks_skipped, 11);
    assert_eq!(report.blocks_skipped as usize, staged.len());
    assert_eq!(served.load(Ordering::SeqCst), 11 - staged.len());
    // A resumed copy did not read the whole file, so it cannot vouch for its MD5.
    assert_eq!(report.md5, None);
    let back = c
        .read_range("Sales/full.bak", 0, data.len() as u64)
        .await
        .unwrap();
    assert!(back == *data, "the blob is the file");

    // In one go, the whole file's MD5 is checked and reported.
    let report = copy(
        c.as_ref(),
        &http,
        "Sales/again.bak",
        &src,
        OPTIONS,
        &|_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.md5.as_deref(), Some(md5.as_str()));
    assert_eq!(report.blocks_skipped, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_md5_commits_nothing_and_the_next_copy_starts_over() {
    let az = Azurite::start();
    let c = container(&az).await;
    let http = CloudHttp::new(BTreeMap::new()).unwrap();
    let data: Arc<Vec<u8>> = Arc::new(vec![42u8; 3 << 20]);
    let (url, _) = source(data.clone(), usize::MAX).await;
    let src = CopySource {
        url,
        headers: vec![],
        size: data.len() as u64,
        md5: Some("00000000000000000000000000000000".into()),
    };
    let err = copy(c.as_ref(), &http, "HR/full.bak", &src, OPTIONS, &|_, _| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing was committed"), "{err}");
    assert!(c.list("HR/").await.unwrap().is_empty());
    assert!(c.staged_blocks("HR/full.bak").await.unwrap().is_empty());
    let src = CopySource {
        md5: Some(md5_hex(&data)),
        ..src
    };
    let report = copy(c.as_ref(), &http, "HR/full.bak", &src, OPTIONS, &|_, _| {})
        .await
        .unwrap();
    assert_eq!((report.blocks_sent, report.blocks_skipped), (3, 0));
}
