//! moto's server, the AWS emulator (PyPI, every dependency pinned in tests/python/requirements.txt,
//! installed by scripts/test into target/python-venv): started per test on a free port, killed
//! when dropped. Serves the RDS and S3 APIs the AWS platform plugin uses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};

use crate::service::{Announces, spawn_and_wait_for_port};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Moto {
    /// Starts moto and waits until it listens.
    pub fn start() -> Moto {
        let bin =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/python-venv/bin/moto_server");
        assert!(
            bin.exists(),
            "moto is not installed: run scripts/test, which creates target/python-venv from \
             tests/python/requirements.txt"
        );
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", "0"]);
        let (child, port) = spawn_and_wait_for_port(
            cmd,
            Announces::Stderr,
            "Running on http://127.0.0.1:",
            "moto_server",
        );
        Moto { child, port }
    }

    /// The endpoint URL, as `AWS_ENDPOINT_URL` takes it.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A minimal HTTP/1.1 request to `service` (`s3`, `rds`; moto routes by the credential scope
    /// of the Authorization header, and checks no signature): the status code and body.
    pub fn request(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: &str,
        content_type: &str,
    ) -> (u16, String) {
        let (status, body) = self.raw(service, method, path, body, content_type);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An S3 object's bytes (`/bucket/key`); panics unless moto answers 200.
    pub fn get_bytes(&self, path: &str) -> Vec<u8> {
        let (status, body) = self.raw("s3", "GET", path, "", "application/octet-stream");
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    fn raw(
        &self,
        service: &str,
        method: &str,
        path: &str,
        body: &str,
        content_type: &str,
    ) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {content_type}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(out.len());
        let head = String::from_utf8_lossy(&out[..split]).to_string();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out.get(split + 4..).unwrap_or_default().to_vec();
        (status, body)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
