//! Upload throughput: sqlmig's parallel block upload (MD5 per block) against the physical
//! limits of this machine (reading the files, pushing bytes over loopback) and against Azure's own
//! Python SDK (`azure-storage-blob`, `max_concurrency` set, MD5 per block too), uploading the same
//! files to the same Azurite. Figures go to docs/benchmarks.md.
//!
//! Run: `cargo bench -p sqlmig-tests --bench upload` (sets up the Python SDK in target/bench-venv
//! from tests/bench/requirements.txt, pinned, on first run).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sqlmig::migrate::upload::{UploadFile, UploadOptions, upload};
use sqlmig::storage::azure_blob::{AzureContainer, ContainerAccess};

use sqlmig_tests::azurite::Azurite;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FILES: usize = 4;
const FILE_MB: usize = 64;
const BLOCK: usize = 8 << 20;
const CONCURRENCY: usize = 8;
const RUNS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Files of incompressible bytes (a backup that is already compressed looks like this).
fn write_files(dir: &Path) -> Vec<PathBuf> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..FILES)
        .map(|i| {
            let mut data = vec![0u8; FILE_MB << 20];
            for chunk in data.chunks_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            let path = dir.join(format!("Sales_full_{}of{FILES}.bak", i + 1));
            std::fs::write(&path, &data).unwrap();
            path
        })
        .collect()
}

fn disk_read(files: &[PathBuf]) -> f64 {
    let started = Instant::now();
    let mut total = 0usize;
    for f in files {
        total += std::fs::read(f).unwrap().len();
    }
    total as f64 / 1048576.0 / started.elapsed().as_secs_f64()
}

/// Bytes pushed through loopback TCP by CONCURRENCY connections into a sink.
async fn loopback(total: usize) -> f64 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 1 << 20];
                while sock.read(&mut buf).await.unwrap_or(0) > 0 {}
            });
        }
    });
    let per = total / CONCURRENCY;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                let chunk = vec![7u8; 1 << 20];
                for _ in 0..per / chunk.len() {
                    s.write_all(&chunk).await.unwrap();
                }
                s.shutdown().await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    total as f64 / 1048576.0 / started.elapsed().as_secs_f64()
}

/// The Python SDK in target/bench-venv, installed from the pinned requirements when missing.
fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = root.join("target/bench-venv");
    let py = venv.join("bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import azure.storage.blob"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap()
                .success()
        );
        let req = root.join("tests/bench/requirements.txt");
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&req)
            .status()
            .unwrap();
        assert!(pip.success(), "pip install -r {}", req.display());
    }
    py
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = write_files(dir.path());
    let total = FILES * (FILE_MB << 20);
    let mb = total as f64 / 1048576.0;
    let disk = median((0..RUNS).map(|_| disk_read(&files)).collect());
    let net = rt.block_on(async { median(futures_collect(RUNS, || loopback(total)).await) });

    let az = Azurite::start();
    let url = az.container_url("bench");
    let token = rt.block_on(az.create_container("bench"));
    let container = AzureContainer::connect(&ContainerAccess {
        url: url.clone(),
        sas: token.clone(),
    })
    .unwrap();
    let uploads: Vec<UploadFile> = files
        .iter()
        .map(|f| UploadFile {
            local: f.clone(),
            blob: format!("sqlmig/{}", f.file_name().unwrap().to_str().unwrap()),
        })
        .collect();
    let options = UploadOptions {
        block_size: BLOCK,
        concurrency: CONCURRENCY,
    };
    let ours = median(
        (0..RUNS)
            .map(|_| {
                let stats = rt
                    .block_on(upload(&container, &uploads, None, options, &|_, _| {}))
                    .unwrap();
                mb / stats.seconds
            })
            .collect(),
    );

    let py = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/upload_python.py");
    let theirs = median(
        (0..RUNS)
            .map(|_| {
                let out = Command::new(&py)
                    .arg(&script)
                    .args([url.as_str(), &BLOCK.to_string(), &CONCURRENCY.to_string()])
                    .args(&files)
                    .env("BENCH_SAS", token.expose())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                mb / v["seconds"].as_f64().unwrap()
            })
            .collect(),
    );
    println!(
        "upload of {FILES} files × {FILE_MB} MiB, {} MiB blocks, {CONCURRENCY} at once, median of {RUNS}:",
        BLOCK >> 20
    );
    println!("  disk read (page cache)          {disk:>8.0} MB/s");
    println!("  loopback TCP, {CONCURRENCY} connections     {net:>8.0} MB/s");
    println!("  sqlmig upload to Azurite        {ours:>8.1} MB/s");
    println!("  azure-storage-blob (Python)     {theirs:>8.1} MB/s");
    println!("  ratio sqlmig / Python SDK       {:>8.2}", ours / theirs);
}

/// Runs `f` `n` times, one after another.
async fn futures_collect<F, Fut>(n: usize, f: F) -> Vec<f64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(f().await);
    }
    out
}
