//! One client connection: read, parse every complete request, run them with the engine
//! locked once, write all replies at once.
//!
//! The loop waits on four things: the socket becoming readable, the socket becoming writable
//! (while replies are pending), a wake-up from the engine (output queued for us by another
//! client — pub/sub, a served BLPOP — or a kill), and the deadline of a blocking command.
//! Reading continues while a command is blocked, so a client that disconnects is noticed.

use std::time::Duration;

use smallvec::SmallVec;
use spinel_engine::client::{flags, Waker};
use spinel_engine::dispatch;
use spinel_engine::log;
use spinel_engine::server::Server;
use spinel_resp::{Limits, Request, RequestParser};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::shared::SharedRef;
use crate::stream::Stream;

/// Bytes read per readiness event (Redis's PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;

pub struct Connection {
    shared: SharedRef,
    stream: Stream,
    slot: usize,
    id: u64,
    notify: std::sync::Arc<Notify>,
    inbuf: Vec<u8>,
    parser: RequestParser,
    out: Vec<u8>,
    written: usize,
    /// Stop reading and close once `out` is written (QUIT, protocol error).
    closing: bool,
    /// Blocked on a key (or postponed by CLIENT PAUSE): input waits.
    blocked: bool,
    block_deadline: Option<Instant>,
}

/// Why the loop ended.
enum Flow {
    Continue,
    Close,
}

impl Connection {
    /// Registers the client and serves it until it goes away.
    pub async fn serve(shared: SharedRef, stream: Stream, peer: String, local: String, unix: bool) {
        let notify = std::sync::Arc::new(Notify::new());
        let waker: Waker = {
            let n = notify.clone();
            std::sync::Arc::new(move || n.notify_one())
        };
        let fd = stream.raw_fd();
        let registered = {
            let mut srv = shared.lock();
            if let Some(reason) = refuse_reason(&srv, &peer, unix) {
                srv.stats.rejected_connections += 1;
                drop(srv);
                let _ = stream.try_write(reason.as_bytes());
                return;
            }
            let (slot, id) = srv.add_client(peer, local, fd, Some(waker));
            if unix {
                srv.clients[slot].set(flags::UNIX_SOCKET, true);
            }
            (slot, id)
        };
        let mut conn = Connection {
            shared,
            stream,
            slot: registered.0,
            id: registered.1,
            notify,
            inbuf: Vec::with_capacity(READ_CHUNK),
            parser: RequestParser::new(),
            out: Vec::with_capacity(READ_CHUNK),
            written: 0,
            closing: false,
            blocked: false,
            block_deadline: None,
        };
        conn.run().await;
        let mut srv = conn.shared.lock();
        if srv.clients.get(conn.slot).is_some_and(|c| c.id == conn.id) {
            srv.free_client(conn.slot);
        }
    }

    async fn run(&mut self) {
        loop {
            if self.flush().is_err() {
                return;
            }
            if self.closing && self.out.is_empty() {
                return;
            }
            let want_write = self.written < self.out.len();
            let deadline = self.block_deadline;
            let flow = tokio::select! {
                biased;
                _ = self.notify.notified() => self.on_wake(),
                ready = self.stream.readable(), if !self.closing => match ready {
                    Ok(()) => self.on_readable(),
                    Err(_) => Flow::Close,
                },
                ready = self.stream.writable(), if want_write => match ready {
                    Ok(()) => Flow::Continue,
                    Err(_) => Flow::Close,
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => self.on_timeout(),
            };
            if let Flow::Close = flow {
                let _ = self.flush();
                return;
            }
        }
    }

    /// Writes as much pending output as the socket takes now.
    fn flush(&mut self) -> std::io::Result<()> {
        while self.written < self.out.len() {
            match self.stream.try_write(&self.out[self.written..]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.written = 0;
        if self.out.capacity() > 1024 * 1024 {
            self.out.shrink_to(READ_CHUNK);
        }
        Ok(())
    }

    fn on_readable(&mut self) -> Flow {
        let mut srv_bytes = 0;
        loop {
            let wanted = self.parser.bytes_wanted(self.inbuf.len()).clamp(READ_CHUNK, 1024 * 1024);
            self.inbuf.reserve(wanted);
            let len = self.inbuf.len();
            let spare = self.inbuf.capacity() - len;
            // SAFETY: we only expose bytes `try_read` reports as written.
            unsafe { self.inbuf.set_len(len + spare) };
            let res = self.stream.try_read(&mut self.inbuf[len..]);
            match res {
                Ok(0) => {
                    self.inbuf.truncate(len);
                    return Flow::Close;
                }
                Ok(n) => {
                    self.inbuf.truncate(len + n);
                    srv_bytes += n;
                    if n < spare {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.inbuf.truncate(len);
                    break;
                }
                Err(_) => {
                    self.inbuf.truncate(len);
                    return Flow::Close;
                }
            }
        }
        if srv_bytes == 0 {
            return Flow::Continue;
        }
        let shared = self.shared.clone();
        let mut srv = shared.lock();
        srv.stats.total_net_input_bytes += srv_bytes as u64;
        srv.stats.total_reads_processed += 1;
        if !self.still_registered(&srv) {
            return Flow::Close;
        }
        if self.inbuf.len() as u64 > srv.tunables.query_buffer_limit {
            log::warning("Closing client that reached max query buffer length");
            srv.stats.client_qbuf_limit_disconnections += 1;
            return Flow::Close;
        }
        if self.blocked {
            return Flow::Continue;
        }
        self.process(&mut srv)
    }

    fn still_registered(&self, srv: &Server) -> bool {
        srv.clients.get(self.slot).is_some_and(|c| c.id == self.id && !c.has(flags::CLOSE_ASAP))
    }

    /// Runs every complete request in the input buffer (the engine is locked).
    fn process(&mut self, srv: &mut Server) -> Flow {
        let slot = self.slot;
        {
            // While the batch runs, CLIENT LIST shows the query buffer still holding it and only
            // the output not yet written, as Redis does.
            let c = &mut srv.clients[slot];
            c.qbuf = self.inbuf.len();
            c.qbuf_free = self.inbuf.capacity() - self.inbuf.len();
            c.obuf_bytes = self.out.len() - self.written;
        }
        loop {
            {
                let c = &srv.clients[slot];
                if c.blocked.is_some() || c.has(flags::CLOSE_AFTER_REPLY) || c.has(flags::CLOSE_ASAP) {
                    break;
                }
            }
            let limits = Limits {
                max_bulk_len: srv.tunables.proto_max_bulk_len,
                unauthenticated: dispatch::auth_required(srv, slot),
            };
            let Connection { parser, inbuf, out, .. } = self;
            match parser.next(inbuf, &limits) {
                Ok(None) => break,
                Ok(Some(Request::Empty)) => {}
                Ok(Some(Request::Multibulk(ranges))) => {
                    // Built in place (no move of the inline array).
                    let mut args: SmallVec<[&[u8]; 8]> = SmallVec::new();
                    args.extend(ranges.iter().map(|&(s, e)| &inbuf[s..e]));
                    if is_cross_protocol_attack(&args) {
                        return Flow::Close;
                    }
                    dispatch::process_into(srv, slot, &args, out);
                }
                Ok(Some(Request::Inline(owned))) => {
                    let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
                    if is_cross_protocol_attack(&args) {
                        return Flow::Close;
                    }
                    dispatch::process_into(srv, slot, &args, out);
                }
                Err(e) => {
                    let mut msg = b"ERR ".to_vec();
                    msg.extend_from_slice(&e.message());
                    spinel_resp::write::error(out, &msg);
                    log::verbose(&format!(
                        "Protocol error ({}) from client: id={}",
                        String::from_utf8_lossy(&e.message()),
                        self.id
                    ));
                    self.closing = true;
                    break;
                }
            }
            if srv.shutdown.is_some() {
                self.shared.shutdown.notify_one();
                return Flow::Close;
            }
        }
        let consumed = self.parser.consumed();
        if consumed > 0 {
            self.inbuf.drain(..consumed);
            self.parser.discard(consumed);
        }
        self.after_batch(srv)
    }

    /// Collects queued output and the client's state after running commands or a wake-up.
    fn after_batch(&mut self, srv: &mut Server) -> Flow {
        if !self.still_registered(srv) {
            return Flow::Close;
        }
        let now = srv.fx.now_ms;
        let c = &mut srv.clients[self.slot];
        if !c.outbox.is_empty() {
            if self.out.is_empty() {
                std::mem::swap(&mut self.out, &mut c.outbox);
            } else {
                self.out.extend_from_slice(&c.outbox);
                c.outbox.clear();
            }
        }
        c.last_interaction_ms = now;
        c.qbuf = self.inbuf.len();
        c.qbuf_free = self.inbuf.capacity() - self.inbuf.len();
        c.obuf_peak = c.obuf_peak.max(self.out.len() - self.written);
        if c.has(flags::CLOSE_AFTER_REPLY) {
            self.closing = true;
        }
        self.blocked = c.blocked.is_some();
        self.block_deadline = match &c.blocked {
            Some(b) if b.deadline_ms > 0 => {
                let wait = (b.deadline_ms - now).max(0) as u64;
                Some(Instant::now() + Duration::from_millis(wait))
            }
            _ => None,
        };
        srv.stats.total_writes_processed += u64::from(!self.out.is_empty());
        srv.stats.total_net_output_bytes += (self.out.len() - self.written) as u64;
        // Write what the socket takes now: the pending size CLIENT LIST and the output buffer
        // limits see is then what really waits, as Redis counts only unwritten output.
        if self.flush().is_err() {
            return Flow::Close;
        }
        srv.clients[self.slot].obuf_bytes = self.out.len() - self.written;
        Flow::Continue
    }

    /// The engine woke us: output queued by others, unblocked, or killed.
    fn on_wake(&mut self) -> Flow {
        let shared = self.shared.clone();
        let mut srv = shared.lock();
        if !self.still_registered(&srv) {
            return Flow::Close;
        }
        let was_blocked = self.blocked;
        if let Flow::Close = self.after_batch(&mut srv) {
            return Flow::Close;
        }
        if was_blocked && !self.blocked && !self.inbuf.is_empty() {
            return self.process(&mut srv);
        }
        Flow::Continue
    }

    /// The blocking command's timeout passed.
    fn on_timeout(&mut self) -> Flow {
        let shared = self.shared.clone();
        let mut srv = shared.lock();
        self.block_deadline = None;
        if !self.still_registered(&srv) {
            return Flow::Close;
        }
        if let Some(reply) = spinel_engine::blocking::timeout(&mut srv, self.slot) {
            let c = &srv.clients[self.slot];
            if !c.reply_off {
                reply.encode(&mut self.out, c.resp3);
            }
        }
        if let Flow::Close = self.after_batch(&mut srv) {
            return Flow::Close;
        }
        if !self.blocked && !self.inbuf.is_empty() {
            return self.process(&mut srv);
        }
        Flow::Continue
    }
}

/// Redis closes connections that look like HTTP requests sent to it (`POST`, `Host:`), a
/// cross-protocol scripting attack.
fn is_cross_protocol_attack(args: &[&[u8]]) -> bool {
    let Some(first) = args.first() else { return false };
    if first.eq_ignore_ascii_case(b"host:") || first.eq_ignore_ascii_case(b"post") {
        log::warning("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.");
        return true;
    }
    false
}

/// Why a new connection is refused (an error line to send before closing), if it is.
fn refuse_reason(srv: &Server, peer: &str, unix: bool) -> Option<String> {
    if srv.clients.len() as u64 >= srv.tunables.maxclients {
        return Some("-ERR max number of clients reached\r\n".into());
    }
    let loopback = unix || peer.starts_with("127.") || peer.starts_with("[::1]") || peer.starts_with("::1");
    if srv.tunables.protected_mode && !srv.tunables.requirepass_set && !loopback {
        return Some("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n".into());
    }
    None
}
