//! The TDS server: a tokio listener with one task per connection (`session`), fault controls a
//! test uses to make it fail the way a real server or network does, and restart.

mod session;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::engine::{Engine, errors};
use crate::instance::Instance;
use crate::tds::tokens::ServerMessage;

/// Faults a test injects.
#[derive(Default)]
struct FaultState {
    /// Errors the next requests fail with, one per request.
    fail_next: VecDeque<ServerMessage>,
    /// The next response carrying rows stops halfway and the connection closes.
    drop_mid_result: bool,
    /// Every response waits this long first.
    delay: Option<Duration>,
    /// Requests whose text holds a text fail with its error.
    refuse_naming: Vec<Refusal>,
    /// Bytes sent to clients in responses to their requests, TDS packet headers included.
    bytes_sent: u64,
}

/// Requests naming `needle` (UTF-16, the way TDS carries T-SQL) fail with `error`: `left` more
/// times, or every time when `None`.
struct Refusal {
    needle: Vec<u8>,
    error: ServerMessage,
    left: Option<usize>,
}

/// The fault controls of a running server, shared by its connections, and the count of bytes
/// its responses carried.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<FaultState>>);

impl Faults {
    /// The next `n` requests fail with SQL Server error `number`, with the real text and class
    /// for the errors sqlmig retries (see [`known_error`]).
    pub fn fail_next(&self, n: usize, number: i32) {
        let m = known_error(number);
        self.0
            .lock()
            .unwrap()
            .fail_next
            .extend(std::iter::repeat_n(m, n));
    }

    /// Every request whose T-SQL holds `text` fails with error `number` of `class` saying
    /// `message` — a database the login cannot open (916), say, while the others answer.
    pub fn fail_requests_naming(&self, text: &str, number: i32, class: u8, message: &str) {
        self.refuse_naming(text, errors::error(number, class, 1, message), None);
    }

    /// The next `n` requests whose T-SQL holds `text` fail with SQL Server error `number` (as
    /// [`fail_next`](Self::fail_next) gives it), and later ones answer: a failover met by one
    /// statement of a step, whatever else its client asks meanwhile.
    pub fn fail_next_naming(&self, text: &str, n: usize, number: i32) {
        self.refuse_naming(text, known_error(number), Some(n));
    }

    fn refuse_naming(&self, text: &str, error: ServerMessage, left: Option<usize>) {
        let needle: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        self.0.lock().unwrap().refuse_naming.push(Refusal {
            needle,
            error,
            left,
        });
    }

    /// The next response with rows stops halfway and the connection drops.
    pub fn drop_mid_result(&self) {
        self.0.lock().unwrap().drop_mid_result = true;
    }

    /// Every response is delayed by `d` (`None` clears it).
    pub fn delay_responses(&self, d: Option<Duration>) {
        self.0.lock().unwrap().delay = d;
    }

    /// Clears every fault (the byte count stays).
    pub fn clear(&self) {
        let mut state = self.0.lock().unwrap();
        let sent = state.bytes_sent;
        *state = FaultState::default();
        state.bytes_sent = sent;
    }

    /// Bytes sent to clients in responses so far (what a client read over the wire).
    pub fn bytes_sent(&self) -> u64 {
        self.0.lock().unwrap().bytes_sent
    }

    fn count_sent(&self, payload: usize, packet_size: usize) {
        // Each packet carries an 8-byte header.
        let packets = payload
            .div_ceil(packet_size.saturating_sub(8).max(1))
            .max(1);
        self.0.lock().unwrap().bytes_sent += (payload + 8 * packets) as u64;
    }

    fn delay(&self) -> Option<Duration> {
        self.0.lock().unwrap().delay
    }

    fn take_failure(&self, payload: &[u8]) -> Option<ServerMessage> {
        let mut state = self.0.lock().unwrap();
        let named = state.refuse_naming.iter().position(|r| {
            r.left != Some(0)
                && payload
                    .windows(r.needle.len())
                    .any(|w| w == r.needle.as_slice())
        });
        if let Some(i) = named {
            let refusal = &mut state.refuse_naming[i];
            if let Some(left) = refusal.left.as_mut() {
                *left -= 1;
            }
            return Some(refusal.error.clone());
        }
        state.fail_next.pop_front()
    }

    fn take_drop_mid_result(&self) -> bool {
        std::mem::take(&mut self.0.lock().unwrap().drop_mid_result)
    }
}

/// The class and text SQL Server (or Azure SQL) sends with an error sqlmig must handle.
pub fn known_error(number: i32) -> ServerMessage {
    let (class, text) = match number {
        40613 => (
            17,
            "Database 'Sales' on server 'sqlsim' is not currently available. Please retry the connection later. If the problem persists, contact customer support, and provide them the session tracing ID of '00000000-0000-0000-0000-000000000000'.",
        ),
        1205 => (
            13,
            "Transaction (Process ID 51) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.",
        ),
        40501 => (
            20,
            "The service is currently busy. Retry the request after 10 seconds. Incident ID: 0. Code: 0.",
        ),
        49918 => (
            16,
            "Cannot process request. Not enough resources to process request. The service is currently busy.",
        ),
        10928 => (
            20,
            "Resource ID : 1. The request limit for the database is 100 and has been reached.",
        ),
        _ => (16, "sqlsim: injected fault."),
    };
    errors::error(number, class, 1, text)
}

/// A running server.
pub struct ServerHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data.
    pub engine: Arc<Engine>,
    faults: Faults,
    /// The PEM of the self-signed certificate TLS clients see.
    pub certificate_pem: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// The fault controls.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Bytes this server's responses carried to clients so far, TDS headers included.
    pub fn bytes_sent(&self) -> u64 {
        self.faults.bytes_sent()
    }

    /// Stops accepting and ends every connection; the data stays in the engine it returns.
    pub async fn stop(self) -> Arc<Engine> {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.engine
    }

    /// Stops and starts again on the same address with the same data, as a restarted or
    /// failed-over server comes back; open connections are lost.
    pub async fn restart(self) -> std::io::Result<ServerHandle> {
        let addr = self.addr;
        let faults = self.faults.clone();
        let engine = self.stop().await;
        listen(addr, engine, faults).await
    }
}

/// Starts a server for `instance` on `addr` (port 0 picks a free one).
pub async fn start(addr: SocketAddr, instance: Instance) -> std::io::Result<ServerHandle> {
    let engine =
        Arc::new(Engine::new(instance).map_err(|e| std::io::Error::other(format!("engine: {e}")))?);
    listen(addr, engine, Faults::default()).await
}

async fn listen(
    addr: SocketAddr,
    engine: Arc<Engine>,
    faults: Faults,
) -> std::io::Result<ServerHandle> {
    engine.share();
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tls, certificate_pem) = crate::tls::acceptor().map_err(std::io::Error::other)?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(
        listener,
        engine.clone(),
        faults.clone(),
        tls,
        stopped,
    ));
    Ok(ServerHandle {
        addr,
        engine,
        faults,
        certificate_pem,
        stop,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    engine: Arc<Engine>,
    faults: Faults,
    tls: tokio_rustls::TlsAcceptor,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let engine = engine.clone();
                let faults = faults.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    if let Err(e) = serve_stream(stream, tls, engine, faults).await {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                });
            }
        }
    }
    connections.abort_all();
}

/// Serves a connection in the clear, or inside TLS when the client opens with a TLS handshake
/// (TDS 8.0 strict encryption).
async fn serve_stream(
    stream: tokio::net::TcpStream,
    tls: tokio_rustls::TlsAcceptor,
    engine: Arc<Engine>,
    faults: Faults,
) -> std::io::Result<()> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 0 {
        return Ok(());
    }
    if first[0] == crate::tls::TLS_HANDSHAKE {
        let tls_stream = tls.accept(stream).await?;
        let (rd, mut wr) = tokio::io::split(tls_stream);
        session::serve(rd, &mut wr, engine, faults).await
    } else {
        let (rd, mut wr) = stream.into_split();
        session::serve(rd, &mut wr, engine, faults).await
    }
}
