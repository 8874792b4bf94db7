//! The socket side of being a replica: one task per server that keeps a link with the master
//! named by REPLICAOF / `replicaof` (Redis's connectWithMaster, syncWithMaster,
//! readSyncBulkPayload and the master client's read handler).
//!
//! The task sleeps until the engine has a master (REPLICAOF wakes it), then runs a *session*:
//! connect, handshake (PING, AUTH with `masteruser`/`masterauth`, REPLCONF listening-port,
//! ip-address, capa eof capa psync2, PSYNC ? -1), read the RDB payload (`$<len>` or the
//! diskless `$EOF:<mark>` form), load it, then apply the command stream, sending
//! REPLCONF ACK every second and when the master asks (GETACK). Every engine call carries the
//! session's epoch (see spinel_engine::replication::replica), so a session the master moved
//! away from can no longer change anything; the task drops it as soon as it notices, and
//! otherwise retries a failed session once a second, as Redis's replication cron does.
//!
//! With a history to continue (a cached master, see the engine's replica module) the
//! handshake asks PSYNC <replid> <offset>; +CONTINUE skips the payload.

use std::sync::Arc;
use std::time::Duration;

use spinel_engine::log;
use spinel_engine::replication::encode_command;
use spinel_engine::replication::replica::{self, LinkState, LinkTarget};
use spinel_engine::server::Server;
use spinel_resp::{Limits, Request, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::shared::SharedRef;

/// Bytes read at a time from the master.
const READ_CHUNK: usize = 16 * 1024;

/// Length of the diskless payload's end mark (`$EOF:<40 bytes>`).
const EOF_MARK_LEN: usize = 40;

/// Lets REPLICAOF wake the link task; returns what the task waits on.
pub fn install(srv: &mut Server) -> Arc<Notify> {
    let wake = Arc::new(Notify::new());
    let w = wake.clone();
    srv.repl.link_wake = Some(Arc::new(move || w.notify_one()));
    wake
}

/// The link task: runs sessions with the current master for as long as the server lives.
pub async fn run(shared: SharedRef, wake: Arc<Notify>) {
    loop {
        let target = replica::link_target(&*shared.lock_async().await);
        let Some(target) = target else {
            wake.notified().await;
            continue;
        };
        let epoch = target.epoch;
        let outcome = tokio::select! {
            r = session(&shared, &target) => r,
            _ = master_changed(&shared, &wake, epoch) => Ok(()),
        };
        let changed = {
            let mut srv = shared.lock_async().await;
            if let Err(e) = &outcome {
                if replica::current(&srv, epoch) {
                    log::warning(e);
                }
            }
            replica::link_lost(&mut srv, epoch);
            !replica::current(&srv, epoch)
        };
        if !changed {
            // Redis's replication cron retries once a second; a new REPLICAOF goes at once.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = wake.notified() => {}
            }
        }
    }
}

/// Resolves once REPLICAOF moved away from the master of `epoch`.
async fn master_changed(shared: &SharedRef, wake: &Notify, epoch: u64) {
    loop {
        wake.notified().await;
        if !replica::current(&*shared.lock_async().await, epoch) {
            return;
        }
    }
}

/// Moves the link to `state`, or fails if the master changed meanwhile.
async fn enter(shared: &SharedRef, epoch: u64, state: LinkState) -> Result<(), String> {
    if replica::set_state(&mut *shared.lock_async().await, epoch, state) {
        Ok(())
    } else {
        Err("the master changed".into())
    }
}

/// One connection with the master, from connect to the link going down (an Err says why).
async fn session(shared: &SharedRef, target: &LinkTarget) -> Result<(), String> {
    let epoch = target.epoch;
    enter(shared, epoch, LinkState::Connecting).await?;
    let timeout = Duration::from_secs(target.timeout_secs);
    let stream = tokio::time::timeout(timeout, TcpStream::connect((target.host.as_str(), target.port)))
        .await
        .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
        .map_err(|e| format!("Unable to connect to MASTER: {e}"))?;
    let _ = stream.set_nodelay(true);
    log::notice("MASTER <-> REPLICA sync started");
    let mut link = Link { stream, buf: Vec::new(), timeout, last_data: Instant::now() };
    enter(shared, epoch, LinkState::Handshake).await?;
    handshake(&mut link, target).await?;
    match psync(&mut link, target).await? {
        Resync::Full { replid, offset } => {
            enter(shared, epoch, LinkState::Transfer).await?;
            let image = read_payload(&mut link, shared, epoch).await?;
            let mut srv = shared.lock_async().await;
            replica::finish_full_sync(&mut srv, epoch, &replid, offset, &image)?;
        }
        Resync::Continue { replid } => {
            let mut srv = shared.lock_async().await;
            replica::finish_partial_sync(&mut srv, epoch, replid.as_deref())?;
        }
    }
    // The first ACK puts us online on a master that sent the payload diskless.
    let ack = replica::ack_command(&*shared.lock_async().await);
    link.send(&ack).await?;
    apply_stream(&mut link, shared, epoch).await
}

/// The socket to the master with what was read and not consumed yet.
struct Link {
    stream: TcpStream,
    buf: Vec<u8>,
    /// `repl-timeout`: the longest the master may stay silent.
    timeout: Duration,
    /// When the master last sent something.
    last_data: Instant,
}

impl Link {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream.write_all(bytes).await.map_err(|e| format!("Error writing to MASTER: {e}"))
    }

    /// Reads more bytes into `buf`; fails on EOF, an error or `repl-timeout` of silence.
    /// Cancel-safe (the ACK timer interrupts it): bytes are appended only once read.
    async fn fill(&mut self) -> Result<usize, String> {
        self.buf.reserve(READ_CHUNK);
        let deadline = self.last_data + self.timeout;
        let n = match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => return Err("MASTER timeout: no data nor PING received...".into()),
            Ok(Err(e)) => return Err(format!("Error reading from MASTER: {e}")),
            Ok(Ok(0)) => return Err("Connection with master lost (EOF)".into()),
            Ok(Ok(n)) => n,
        };
        self.last_data = Instant::now();
        Ok(n)
    }

    /// One reply line, without its line ending.
    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(text.trim_end_matches(['\r', '\n']).to_string());
            }
            self.fill().await?;
        }
    }

    /// Sends a command and reads its one-line reply.
    async fn command(&mut self, args: &[&[u8]]) -> Result<String, String> {
        let mut out = Vec::new();
        encode_command(&mut out, &args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
        self.send(&out).await?;
        self.read_line().await
    }
}

/// PING, AUTH, REPLCONF (Redis's syncWithMaster up to PSYNC).
async fn handshake(link: &mut Link, target: &LinkTarget) -> Result<(), String> {
    let pong = link.command(&[b"PING"]).await?;
    // An error about authentication is fine: AUTH follows.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if let Some((user, pass)) = &target.auth {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(u) = user {
            args.push(u.as_bytes());
        }
        args.push(pass);
        let reply = link.command(&args).await?;
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port = target.listening_port.to_string();
    let reply = link.command(&[b"REPLCONF", b"listening-port", port.as_bytes()]).await?;
    if reply.starts_with('-') {
        log::notice(&format!("(Non critical) Master does not understand REPLCONF listening-port: {reply}"));
    }
    if let Some(ip) = &target.announce_ip {
        let reply = link.command(&[b"REPLCONF", b"ip-address", ip.as_bytes()]).await?;
        if reply.starts_with('-') {
            log::notice(&format!("(Non critical) Master does not understand REPLCONF ip-address: {reply}"));
        }
    }
    let reply = link.command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]).await?;
    if reply.starts_with('-') {
        log::notice(&format!("(Non critical) Master does not understand REPLCONF capa: {reply}"));
    }
    Ok(())
}

/// How the master answered PSYNC.
enum Resync {
    /// +FULLRESYNC: its replication ID and offset; the payload follows.
    Full { replid: String, offset: i64 },
    /// +CONTINUE [replid]: the stream goes on from our offset.
    Continue { replid: Option<String> },
}

/// PSYNC <cached replid> <offset+1> when there is a history to continue, else PSYNC ? -1.
async fn psync(link: &mut Link, target: &LinkTarget) -> Result<Resync, String> {
    let (replid, offset) = match &target.continue_from {
        Some((id, offset)) => {
            log::notice(&format!("Trying a partial resynchronization (request {id}:{offset})."));
            (id.clone(), offset.to_string())
        }
        None => {
            log::notice("Partial resynchronization not possible (no cached master)");
            ("?".to_string(), "-1".to_string())
        }
    };
    let mut reply = link.command(&[b"PSYNC", replid.as_bytes(), offset.as_bytes()]).await?;
    // Empty lines keep the connection alive until the master replies.
    while reply.is_empty() {
        reply = link.read_line().await?;
    }
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split(' ');
        let replid = parts.next().unwrap_or_default().to_string();
        let offset = parts.next().and_then(|o| o.parse::<i64>().ok());
        return match offset {
            Some(offset) if replid.len() == 40 => {
                log::notice(&format!("Full resync from master: {replid}:{offset}"));
                Ok(Resync::Full { replid, offset })
            }
            _ => Err(format!("Master replied with wrong +FULLRESYNC syntax: {reply}")),
        };
    }
    if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        log::notice("Successful partial resynchronization with master.");
        let id = rest.trim();
        return Ok(Resync::Continue { replid: (id.len() == 40).then(|| id.to_string()) });
    }
    if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!("Master is currently unable to PSYNC but should be in the future: {reply}"));
    }
    Err(format!("Unexpected reply to PSYNC from master: {reply}"))
}

/// Reads the RDB payload that follows +FULLRESYNC: `$<len>\r\n` and that many bytes, or
/// `$EOF:<mark>\r\n`, the bytes, and the mark again. Newlines before it are the master's
/// keep-alives while it prepares the snapshot.
async fn read_payload(link: &mut Link, shared: &SharedRef, epoch: u64) -> Result<Vec<u8>, String> {
    let header = loop {
        let line = link.read_line().await?;
        if !line.is_empty() {
            break line;
        }
    };
    let Some(spec) = header.strip_prefix('$') else {
        return Err(format!(
            "Bad protocol from MASTER, the first byte is not '$' (we received '{header}'), are you sure the host and port are right?"
        ));
    };
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes().to_vec();
        if mark.len() != EOF_MARK_LEN {
            return Err(format!("Bad EOF mark from MASTER: '{header}'"));
        }
        log::notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        let mut last_report = Instant::now();
        while !link.buf.ends_with(&mark) {
            link.fill().await?;
            if last_report.elapsed() >= Duration::from_millis(100) {
                last_report = Instant::now();
                replica::transfer_progress(&mut *shared.lock_async().await, epoch, -1, link.buf.len() as i64);
            }
        }
        let mut image = std::mem::take(&mut link.buf);
        image.truncate(image.len() - EOF_MARK_LEN);
        return Ok(image);
    }
    let size: usize = spec.parse().map_err(|_| format!("Bad payload length from MASTER: '{header}'"))?;
    log::notice(&format!("MASTER <-> REPLICA sync: receiving {size} bytes from master to disk"));
    let mut last_report = Instant::now();
    link.buf.reserve(size.saturating_sub(link.buf.len()).min(64 << 20));
    while link.buf.len() < size {
        link.fill().await?;
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            let read = link.buf.len().min(size) as i64;
            replica::transfer_progress(&mut *shared.lock_async().await, epoch, size as i64, read);
        }
    }
    let rest = link.buf.split_off(size);
    Ok(std::mem::replace(&mut link.buf, rest))
}

/// Applies the master's command stream until the link fails or the master changes; ACKs
/// the applied offset every second.
async fn apply_stream(link: &mut Link, shared: &SharedRef, epoch: u64) -> Result<(), String> {
    let mut parser = RequestParser::new();
    let mut ack_tick = tokio::time::interval(Duration::from_secs(1));
    ack_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = link.buf.len();
    loop {
        if pending > 0 {
            let reply = {
                let mut srv = shared.lock_async().await;
                replica::stream_read(&mut srv, epoch, pending);
                apply_buffered(&mut srv, epoch, &mut parser, &mut link.buf)?;
                replica::take_output(&mut srv, epoch)
            };
            if !reply.is_empty() {
                link.send(&reply).await?;
            }
            pending = 0;
        }
        let event = tokio::select! {
            read = link.fill() => Event::Read(read?),
            _ = ack_tick.tick() => Event::Ack,
        };
        match event {
            Event::Read(n) => pending = n,
            Event::Ack => {
                let ack = {
                    let srv = shared.lock_async().await;
                    if !replica::current(&srv, epoch) {
                        return Ok(());
                    }
                    replica::ack_command(&srv)
                };
                link.send(&ack).await?;
            }
        }
    }
}

/// What woke the stream loop.
enum Event {
    Read(usize),
    Ack,
}

/// Runs every complete command in `buf` as the master client (the engine is locked) and
/// drops the bytes consumed. Their AOF writes go out when the lock guard is released.
fn apply_buffered(srv: &mut Server, epoch: u64, parser: &mut RequestParser, buf: &mut Vec<u8>) -> Result<(), String> {
    let limits = Limits { max_bulk_len: i64::MAX, unauthenticated: false };
    let result = loop {
        let start = parser.consumed();
        let args: Vec<Vec<u8>> = match parser.next(buf, &limits) {
            Ok(None) => break Ok(()),
            Ok(Some(Request::Empty)) => continue,
            Ok(Some(Request::Multibulk(ranges))) => ranges.iter().map(|&(s, e)| buf[s..e].to_vec()).collect(),
            Ok(Some(Request::Inline(owned))) => owned,
            Err(e) => {
                break Err(format!("Protocol error from MASTER: {}", String::from_utf8_lossy(&e.message())));
            }
        };
        let end = parser.consumed();
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        if !replica::apply_command(srv, epoch, &refs, &buf[start..end]) {
            break Err("Connection with master lost (the master client was closed)".into());
        }
    };
    let consumed = parser.consumed();
    if consumed > 0 {
        buf.drain(..consumed);
        parser.discard(consumed);
    }
    result
}
