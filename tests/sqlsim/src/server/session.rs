//! One client connection: PRELOGIN, LOGIN7 with SQL authentication, then batches and RPCs until
//! the client leaves. Requests are read by their own task so an ATTENTION is seen while a batch
//! runs, and the connection's faults are applied on the way out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::Faults;
use crate::engine::catalog::activity::Connected;
use crate::engine::errors;
use crate::engine::{BatchResult, Engine, Outcome, Param, Session};
use crate::instance::Instance;
use crate::tds::packet::{Message, PacketType, read_message, write_message, write_unfinished};
use crate::tds::request::{Request, RpcCall, parse_batch, parse_rpc};
use crate::tds::tokens::{ServerMessage, Tokens, done};
use crate::tds::types::{COLLATION, Value};
use crate::tds::{login7, prelogin};

/// TDS 7.4, as LOGINACK reports it.
const TDS_74: u32 = 0x7400_0004;
/// Packet size before LOGIN7 negotiates one.
const INITIAL_PACKET: usize = 4096;
/// The SPID of the login exchange, before the session has one.
const SPID: u16 = 0;

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A session listed in the activity DMVs; unlisted when dropped.
struct Listed(Arc<Engine>, u16);

impl Drop for Listed {
    fn drop(&mut self) {
        self.0.close_session(self.1);
    }
}

fn protocol(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn done_only(status: u16) -> Tokens {
    let mut t = Tokens::new();
    t.done(status, 0, 0);
    t
}

fn error_response(e: &ServerMessage, server: &str) -> Tokens {
    let mut t = Tokens::new();
    t.message(e, server);
    t.done(done::ERROR, 0, 0);
    t
}

/// Serves one client.
pub async fn serve<R, W>(
    mut rd: R,
    wr: &mut W,
    engine: Arc<Engine>,
    faults: Faults,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin,
{
    let Some((mut session, packet_size)) = handshake(&mut rd, wr, &engine).await? else {
        return Ok(());
    };
    // Leaves sys.dm_exec_sessions however the connection ends (error, close, server restart).
    let _listed = Listed(engine.clone(), session.id);
    let spid = session.id;
    let server = engine.instance.server_name.clone();
    let (tx, mut rx) = mpsc::channel::<Message>(16);
    let read_task = tokio::spawn(async move {
        while let Ok(Some(m)) = read_message(&mut rd).await {
            if tx.send(m).await.is_err() {
                break;
            }
        }
    });
    // The reader owns half of the connection: end it with this session however the session
    // ends (closed, failed, or aborted by a stopping server), so the socket really closes.
    let _reader = AbortOnDrop(read_task.abort_handle());
    let mut pending: VecDeque<Message> = VecDeque::new();
    loop {
        let msg = match pending.pop_front() {
            Some(m) => m,
            None => match rx.recv().await {
                Some(m) => m,
                None => break,
            },
        };
        if let Some(d) = faults.delay() {
            tokio::time::sleep(d).await;
        }
        let tokens = match msg.kind {
            PacketType::SqlBatch | PacketType::Rpc => match faults.take_failure(&msg.payload) {
                Some(e) => error_response(&e, &server),
                None => {
                    run_watching_for_attention(&engine, &mut session, &msg, &mut rx, &mut pending)
                        .await?
                }
            },
            PacketType::Attention => done_only(done::ATTN),
            other => error_response(
                &errors::error(
                    50000,
                    16,
                    1,
                    format!("sqlsim does not simulate {other:?} requests"),
                ),
                &server,
            ),
        };
        if tokens.buf.first() == Some(&0x81) && faults.take_drop_mid_result() {
            // Half a response, then the connection is gone, as when a server fails mid-result.
            let half = &tokens.buf[..tokens.buf.len() / 2];
            write_unfinished(wr, PacketType::TabularResult, half, packet_size, spid).await?;
            wr.shutdown().await?;
            break;
        }
        write_message(
            wr,
            PacketType::TabularResult,
            &tokens.buf,
            packet_size,
            spid,
        )
        .await?;
        faults.count_sent(tokens.buf.len(), packet_size);
    }
    Ok(())
}

/// PRELOGIN and LOGIN7: the session and packet size, or `None` when the login failed (the
/// error was sent) or the client left.
async fn handshake<R, W>(
    rd: &mut R,
    wr: &mut W,
    engine: &Engine,
) -> std::io::Result<Option<(Session, usize)>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let inst = &engine.instance;
    let (major, minor, build) = inst.version;
    let Some(pre) = read_message(rd).await? else {
        return Ok(None);
    };
    if pre.kind != PacketType::PreLogin {
        return Err(protocol(format!("expected PRELOGIN, got {:?}", pre.kind)));
    }
    prelogin::parse(&pre.payload).map_err(protocol)?;
    let answer = prelogin::response(major, minor, build, prelogin::ENCRYPT_NOT_SUP);
    write_message(wr, PacketType::TabularResult, &answer, INITIAL_PACKET, 0).await?;

    let Some(msg) = read_message(rd).await? else {
        return Ok(None);
    };
    if msg.kind != PacketType::Login7 {
        return Err(protocol(format!("expected LOGIN7, got {:?}", msg.kind)));
    }
    let login = login7::parse(&msg.payload).map_err(protocol)?;
    let (session, packet_size) = match authenticate(engine, &login) {
        Ok(s) => s,
        Err(e) => {
            let t = error_response(&e, &inst.server_name);
            write_message(wr, PacketType::TabularResult, &t.buf, INITIAL_PACKET, 0).await?;
            return Ok(None);
        }
    };
    let mut t = Tokens::new();
    t.env_change(1, &session.database, "master");
    t.message(
        &errors::error(
            5701,
            0,
            1,
            format!("Changed database context to '{}'.", session.database),
        ),
        &inst.server_name,
    );
    t.env_change_collation(&COLLATION);
    t.env_change(2, "us_english", "");
    t.message(
        &errors::error(5703, 0, 1, "Changed language setting to us_english."),
        &inst.server_name,
    );
    t.login_ack(TDS_74, major, minor, build);
    t.env_change(4, &packet_size.to_string(), &INITIAL_PACKET.to_string());
    t.done(0, 0, 0);
    write_message(wr, PacketType::TabularResult, &t.buf, INITIAL_PACKET, SPID).await?;
    Ok(Some((session, packet_size)))
}

/// Runs a batch or RPC while listening for an ATTENTION; a cancelled request answers with the
/// DONE that acknowledges the attention, nothing else.
async fn run_watching_for_attention(
    engine: &Arc<Engine>,
    session: &mut Session,
    msg: &Message,
    rx: &mut mpsc::Receiver<Message>,
    pending: &mut VecDeque<Message>,
) -> std::io::Result<Tokens> {
    session.cancel = Arc::new(AtomicBool::new(false));
    let cancel = session.cancel.clone();
    let work = execute(engine, session, msg);
    tokio::pin!(work);
    let mut attention = false;
    let mut client_gone = false;
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            m = rx.recv(), if !attention && !client_gone => match m {
                Some(m) if m.kind == PacketType::Attention => {
                    attention = true;
                    cancel.store(true, Ordering::Relaxed);
                }
                Some(m) => pending.push_back(m),
                None => {
                    client_gone = true;
                    cancel.store(true, Ordering::Relaxed);
                }
            },
        }
    }?;
    Ok(if attention {
        done_only(done::ATTN)
    } else {
        result
    })
}

/// Runs a batch or RPC message and returns its response tokens.
async fn execute(
    engine: &Arc<Engine>,
    session: &mut Session,
    msg: &Message,
) -> std::io::Result<Tokens> {
    let inst = &engine.instance;
    Ok(match msg.kind {
        PacketType::SqlBatch => {
            let Request::Batch(sql) = parse_batch(&msg.payload).map_err(protocol)? else {
                unreachable!("parse_batch returns batches")
            };
            let result = run_blocking(engine, session, sql, Vec::new()).await;
            respond(&result, false, inst)
        }
        _ => match parse_rpc(&msg.payload).map_err(protocol)? {
            Request::Rpc(call) => rpc(engine, session, call).await,
            Request::Batch(_) => unreachable!("parse_rpc returns calls"),
        },
    })
}

/// Checks the login against the instance; the session and the negotiated packet size, or the
/// error SQL Server sends.
fn authenticate(engine: &Engine, login: &login7::Login) -> Result<(Session, usize), ServerMessage> {
    let failed = || {
        errors::error(
            18456,
            14,
            1,
            format!("Login failed for user '{}'.", login.user_name),
        )
    };
    if login.sspi {
        return Err(errors::error(
            18452,
            14,
            1,
            "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication.",
        ));
    }
    let known = engine
        .instance
        .logins
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(&login.user_name))
        .ok_or_else(failed)?;
    if known.password != login.password || known.disabled {
        return Err(failed());
    }
    let database = if login.database.is_empty() {
        "master".to_string()
    } else {
        engine.database(&login.database).ok_or_else(|| {
            errors::error(
                4060,
                11,
                1,
                format!(
                    "Cannot open database \"{}\" requested by the login. The login failed.",
                    login.database
                ),
            )
        })?
    };
    let packet_size = match login.packet_size {
        0 => INITIAL_PACKET,
        n => (n as usize).clamp(512, 32_767),
    };
    let session = engine.open_session(&Connected {
        login: &known.name,
        host_name: &login.host_name,
        program_name: &login.app_name,
        database: &database,
    });
    Ok((session, packet_size))
}

/// Runs a batch on a blocking thread (SQLite calls block).
async fn run_blocking(
    engine: &Arc<Engine>,
    session: &mut Session,
    sql: String,
    params: Vec<Param>,
) -> BatchResult {
    let engine = engine.clone();
    let mut s = session.clone();
    let (result, s) = tokio::task::spawn_blocking(move || {
        let r = engine.execute(&mut s, &sql, &params);
        (r, s)
    })
    .await
    .expect("the engine does not panic");
    *session = s;
    result
}

/// `sp_executesql @stmt, @params, @P1 = …` and friends.
async fn rpc(engine: &Arc<Engine>, session: &mut Session, call: RpcCall) -> Tokens {
    let inst = &engine.instance;
    if !call.proc_name.eq_ignore_ascii_case("sp_executesql") {
        let mut t = Tokens::new();
        t.message(
            &errors::error(
                2812,
                16,
                1,
                format!("Could not find stored procedure '{}'.", call.proc_name),
            ),
            &inst.server_name,
        );
        t.done_token(0xFE, done::ERROR, 0, 0);
        return t;
    }
    let mut params = call.params.into_iter();
    let sql = match params.next().map(|p| p.value) {
        Some(Value::Text(s)) => s,
        _ => String::new(),
    };
    let _declarations = params.next();
    let values: Vec<Param> = params
        .map(|p| Param {
            name: p.name,
            ty: Some(p.ty),
            value: p.value,
        })
        .collect();
    let before = session.database.clone();
    let mut result = run_blocking(engine, session, sql, values).await;
    session.end_sp_executesql(before, &mut result.outcomes);
    respond(&result, true, inst)
}

/// The tokens of a batch's or procedure's outcomes.
fn respond(result: &BatchResult, in_proc: bool, inst: &Instance) -> Tokens {
    let mut t = Tokens::new();
    let done_id = if in_proc { 0xFF } else { 0xFD };
    for o in &result.outcomes {
        match o {
            Outcome::Rows { columns, rows } => {
                t.col_metadata(columns);
                let mut sent = 0u64;
                for r in rows {
                    if let Err(e) = t.row(columns, r) {
                        t.message(&errors::error(e.number(), 16, 1, e.0), &inst.server_name);
                        t.done_token(done_id, done::ERROR | done::MORE, 0, 0);
                        return finish(t, in_proc, true);
                    }
                    sent += 1;
                }
                t.done_token(done_id, done::MORE | done::COUNT, 0xC1, sent);
            }
            Outcome::Count { cmd, rows } => {
                t.done_token(done_id, done::MORE | done::COUNT, *cmd, *rows)
            }
            Outcome::Done => t.done_token(done_id, done::MORE, 0, 0),
            Outcome::DatabaseChanged { old, new } => t.env_change(1, new, old),
            Outcome::Info(m) => t.message(m, &inst.server_name),
        }
    }
    if let Some(e) = &result.error {
        t.message(e, &inst.server_name);
        t.done_token(done_id, done::ERROR | done::MORE, 0, 0);
    }
    finish(t, in_proc, result.error.is_some())
}

/// Ends a response: the last DONE (or RETURNSTATUS and DONEPROC for an RPC).
fn finish(mut t: Tokens, in_proc: bool, failed: bool) -> Tokens {
    let status = if failed { done::ERROR } else { 0 };
    if in_proc {
        t.return_status(if failed { 1 } else { 0 });
        t.done_token(0xFE, status, 0, 0);
    } else {
        t.done(status, 0, 0);
    }
    t
}
