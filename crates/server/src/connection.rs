//! One client connection: read, parse every complete request, run them with the engine
//! locked once, write all replies at once.
//!
//! The loop waits on four things: the socket becoming readable, the socket becoming writable
//! (while replies are pending), a wake-up from the engine (output queued for us by another
//! client — pub/sub, a served BLPOP — or a kill), and the deadline of a blocking command.
//! Reading continues while a command is blocked, so a client that disconnects is noticed.
//!
//! A script command (EVAL, FCALL… or an EXEC of them) runs inline like any command, holding
//! the engine until it ends. Once it passes `busy-reply-threshold` the runtime moves to
//! another thread (see crate::shared) and the other connections answer `-BUSY` themselves
//! (see [`Shared::lock_for_commands`]).

use std::time::Duration;

use smallvec::SmallVec;
use spinel_engine::client::{flags, Waker};
use spinel_engine::dispatch;
use spinel_engine::log;
use spinel_engine::script::busy::{BusyOutcome, Rejection};
use spinel_engine::server::Server;
use spinel_resp::{Limits, Request, RequestParser};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::shared::{Access, Shared, SharedRef};
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
    /// Input bytes read but not yet counted in the stats (counted under the lock).
    unaccounted_input: u64,
    /// What happened to the client while a script was busy (refused requests, MULTI,
    /// aborted EXEC), applied in order once the engine is free.
    busy_rejections: Vec<BusyEvent>,
    /// The client was in a transaction after its last batch (MULTI and EXEC are answered
    /// while a script is busy, as Redis does).
    in_multi: bool,
    /// The protocol and parser limits of the last batch, for answering while a script is
    /// busy (they cannot change meanwhile: only this client's commands change them).
    resp3: bool,
    limits: Limits,
    /// A request read while a script was busy that needs the engine: it runs first.
    deferred: Option<Vec<Vec<u8>>>,
    /// (peer, local address, unix socket) until the client is added to the engine.
    pending_registration: Option<(String, String, bool)>,
    /// Handling a wake-up: the reply is written only once the other woken connections have
    /// run (see `run`).
    in_wake_cascade: bool,
}

/// A change to the client decided while a script held the engine.
enum BusyEvent {
    /// A refused request: counted, and it flags an open transaction.
    Rejected(Rejection),
    /// MULTI was accepted.
    Multi,
    /// EXEC was refused: the transaction is discarded.
    Discard,
}

/// What to do next.
enum Flow {
    Continue,
    Close,
}

/// What woke the loop.
enum Event {
    Wake,
    Readable,
    Timeout,
    Continue,
    Close,
}

/// Whether running `args` may run a script, which then gets a thread of its own. A cheap
/// test on the name first: it runs for every command.
fn runs_script(srv: &Server, slot: usize, args: &[&[u8]]) -> bool {
    let Some(name) = args.first() else { return false };
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    let script_name = |n: &[u8]| {
        matches!(n.len(), 4 | 5 | 7 | 8 | 10)
            && ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"]
                .iter()
                .any(|s| n.eq_ignore_ascii_case(s.as_bytes()))
    };
    let client = &srv.clients[slot];
    if name.len() == 4 && is("exec") {
        return client
            .multi
            .as_ref()
            .is_some_and(|m| m.queue.iter().any(|q| q.args.first().is_some_and(|n| script_name(n))));
    }
    script_name(name) && !client.has(flags::MULTI)
}

/// Runs one request (the engine is locked). A script command (EVAL, FCALL, an EXEC of them)
/// runs here too, on the runtime thread, marked in the script watch for its whole run: if it
/// passes `busy-reply-threshold`, the Lua hook hands this thread's share of the runtime to
/// another thread (`Shared::new`), and the other connections — finding the engine held by a
/// script — answer -BUSY, SCRIPT KILL and SHUTDOWN NOSAVE meanwhile.
fn process_command(shared: &Shared, srv: &mut Server, slot: usize, args: &[&[u8]], out: &mut Vec<u8>) {
    if !runs_script(srv, slot, args) {
        dispatch::process_into(srv, slot, args, out);
        return;
    }
    shared.script.hop_start();
    dispatch::process_into(srv, slot, args, out);
    if shared.script.take_shutdown() {
        srv.shutdown = Some(spinel_engine::server::ShutdownRequest { save: Some(false), now: true, force: true });
    }
    shared.script_thread_done();
}

impl Connection {
    /// Registers the client and serves it until it goes away. While another client's
    /// script is busy the registration waits (the engine is needed), but the connection is
    /// already answered (-BUSY, SCRIPT KILL…), as Redis accepts clients during a script.
    pub async fn serve(shared: SharedRef, stream: Stream, peer: String, local: String, unix: bool) {
        let notify = std::sync::Arc::new(Notify::new());
        let mut conn = Connection {
            shared: shared.clone(),
            stream,
            slot: usize::MAX,
            id: 0,
            notify,
            inbuf: Vec::with_capacity(READ_CHUNK),
            parser: RequestParser::new(),
            out: Vec::with_capacity(READ_CHUNK),
            written: 0,
            closing: false,
            blocked: false,
            block_deadline: None,
            unaccounted_input: 0,
            busy_rejections: Vec::new(),
            in_multi: false,
            resp3: false,
            limits: Limits { max_bulk_len: 512 * 1024 * 1024, unauthenticated: false },
            deferred: None,
            in_wake_cascade: false,
            pending_registration: Some((peer, local, unix)),
        };
        let refused = match shared.lock_for_commands().await {
            Access::Locked(mut srv) => !conn.register(&mut srv),
            Access::Busy => false,
        };
        if refused {
            return;
        }
        conn.run().await;
        if conn.pending_registration.is_none() {
            let mut srv = shared.lock_async().await;
            if srv.clients.get(conn.slot).is_some_and(|c| c.id == conn.id) {
                srv.free_client(conn.slot);
            }
        }
    }

    /// Adds the client to the engine (once). False if the connection is refused (max
    /// clients, protected mode): the reason was written and the connection must close.
    fn register(&mut self, srv: &mut Server) -> bool {
        let Some((peer, local, unix)) = self.pending_registration.take() else { return true };
        if let Some(reason) = refuse_reason(srv, &peer, unix) {
            srv.stats.rejected_connections += 1;
            let _ = self.stream.try_write(reason.as_bytes());
            return false;
        }
        let n = self.notify.clone();
        let waker: Waker = std::sync::Arc::new(move || n.notify_one());
        let (slot, id) = srv.add_client(peer, local, self.stream.raw_fd(), Some(waker));
        if unix {
            srv.clients[slot].set(flags::UNIX_SOCKET, true);
        }
        self.slot = slot;
        self.id = id;
        self.limits.unauthenticated = dispatch::auth_required(srv, slot);
        self.limits.max_bulk_len = srv.tunables.proto_max_bulk_len;
        true
    }

    async fn run(&mut self) {
        loop {
            if self.in_wake_cascade && self.written < self.out.len() {
                // A wake-up is usually one hop of a cascade of blocked clients serving each
                // other (a BLPOP ping-pong, pipelined pops against pipelined pushes). Let the
                // other woken connections run first; if they wake us again, that is handled
                // before writing, so a cascade costs one write per client — as in Redis, where
                // it all runs in one event-loop iteration — instead of one per hop.
                tokio::task::yield_now().await;
                let notify = self.notify.clone();
                let notified = notify.notified();
                tokio::pin!(notified);
                if notified.as_mut().enable() {
                    if let Flow::Close = self.on_wake().await {
                        let _ = self.flush();
                        return;
                    }
                    continue;
                }
            }
            self.in_wake_cascade = false;
            if self.flush().is_err() {
                return;
            }
            if self.closing && self.out.is_empty() {
                return;
            }
            let want_write = self.written < self.out.len();
            let deadline = self.block_deadline;
            let event = tokio::select! {
                biased;
                _ = self.notify.notified() => Event::Wake,
                ready = self.stream.readable(), if !self.closing => match ready {
                    Ok(()) => Event::Readable,
                    Err(_) => Event::Close,
                },
                ready = self.stream.writable(), if want_write => match ready {
                    Ok(()) => Event::Continue,
                    Err(_) => Event::Close,
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => Event::Timeout,
            };
            let flow = match event {
                Event::Wake => self.on_wake().await,
                Event::Readable => self.on_readable().await,
                Event::Timeout => self.on_timeout().await,
                Event::Continue => Flow::Continue,
                Event::Close => Flow::Close,
            };
            if let Flow::Close = flow {
                let _ = self.flush();
                return;
            }
        }
    }

    /// Runs the commands waiting in the input buffer: with the engine locked, a script on a
    /// thread of its own, or — while another client's script is busy — without the engine.
    async fn run_pending(&mut self) -> Flow {
        loop {
            let shared = self.shared.clone();
            let done = match shared.lock_for_commands().await {
                Access::Locked(mut srv) => Some(self.process_locked(&mut srv)),
                Access::Busy => self.process_busy(),
            };
            return match done {
                Some(flow) => flow,
                // A command that needs the engine: wait for the script to end.
                None => {
                    let mut srv = shared.lock_async().await;
                    self.process_locked(&mut srv)
                }
            };
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

    async fn on_readable(&mut self) -> Flow {
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
        self.unaccounted_input += srv_bytes as u64;
        if self.blocked {
            // Only the stats and the query buffer limit: the input waits for the unblock.
            let shared = self.shared.clone();
            let mut srv = shared.lock_async().await;
            let flow = self.account(&mut srv);
            if let Flow::Continue = flow {
                self.park_input(&mut srv);
            }
            return flow;
        }
        self.run_pending().await
    }

    /// Counts the input read so far and checks the query buffer limit and that the client
    /// still exists (the engine is locked).
    fn account(&mut self, srv: &mut Server) -> Flow {
        if !self.register(srv) {
            return Flow::Close;
        }
        if self.still_registered(srv) {
            self.unpark_input(srv);
        }
        if self.unaccounted_input > 0 {
            srv.stats.total_net_input_bytes += self.unaccounted_input;
            srv.stats.total_reads_processed += 1;
            self.unaccounted_input = 0;
        }
        for event in self.busy_rejections.drain(..) {
            let Some(c) = srv.clients.get_mut(self.slot) else { continue };
            match event {
                BusyEvent::Multi => {
                    c.set(flags::MULTI, true);
                    c.multi = Some(Default::default());
                }
                BusyEvent::Discard => spinel_engine::cmd::txn::discard_transaction(srv, self.slot),
                BusyEvent::Rejected(r) => {
                    if c.has(flags::MULTI) {
                        c.set(flags::DIRTY_EXEC, true);
                    }
                    srv.count_error(r.code);
                    if let Some(id) = r.cmd_id {
                        srv.cmdstats[id].rejected_calls += 1;
                    }
                }
            }
        }
        if !self.still_registered(srv) {
            return Flow::Close;
        }
        if self.inbuf.len() as u64 > srv.tunables.query_buffer_limit {
            log::warning("Closing client that reached max query buffer length");
            srv.stats.client_qbuf_limit_disconnections += 1;
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Accounts, then runs the waiting commands (the engine is locked).
    fn process_locked(&mut self, srv: &mut Server) -> Flow {
        if let Flow::Close = self.account(srv) {
            return Flow::Close;
        }
        if self.blocked {
            return Flow::Continue;
        }
        if let Some(args) = self.deferred.take() {
            let refs: SmallVec<[&[u8]; 16]> = args.iter().map(|a| a.as_slice()).collect();
            process_command(&self.shared, srv, self.slot, &refs, &mut self.out);
        }
        self.process(srv)
    }

    /// Answers the waiting commands while another client's script is busy (Redis's
    /// processCommand during processEventsWhileBlocked). None: a command needs the engine.
    fn process_busy(&mut self) -> Option<Flow> {
        if self.blocked {
            return Some(Flow::Continue);
        }
        let table = spinel_engine::cmd::table::commands();
        let mut flow = Some(Flow::Continue);
        loop {
            let Connection { parser, inbuf, out, .. } = self;
            let args: Vec<Vec<u8>> = match parser.next(inbuf, &self.limits) {
                Ok(None) => break,
                Ok(Some(Request::Empty)) => continue,
                Ok(Some(Request::Multibulk(ranges))) => ranges.iter().map(|&(s, e)| inbuf[s..e].to_vec()).collect(),
                Ok(Some(Request::Inline(owned))) => owned,
                Err(e) => {
                    let mut msg = b"ERR ".to_vec();
                    msg.extend_from_slice(&e.message());
                    spinel_resp::write::error(out, &msg);
                    self.closing = true;
                    break;
                }
            };
            let outcome = {
                let refs: SmallVec<[&[u8]; 16]> = args.iter().map(|a| a.as_slice()).collect();
                if is_cross_protocol_attack(&refs) {
                    return Some(Flow::Close);
                }
                let unauthenticated = if self.pending_registration.is_some() {
                    self.shared.script.requirepass()
                } else {
                    self.limits.unauthenticated
                };
                let outcome = self.shared.script.handle(table, &refs, unauthenticated);
                self.busy_transaction(&refs, outcome)
            };
            match outcome {
                BusyOutcome::Reply(reply, rejection) => {
                    reply.encode(&mut self.out, self.resp3);
                    self.busy_rejections.extend(rejection.map(BusyEvent::Rejected));
                }
                BusyOutcome::Close(reply) => {
                    reply.encode(&mut self.out, self.resp3);
                    self.closing = true;
                    break;
                }
                BusyOutcome::Shutdown => {
                    self.shared.shutdown.notify_one();
                    flow = Some(Flow::Close);
                    break;
                }
                BusyOutcome::Wait => {
                    self.deferred = Some(args);
                    flow = None;
                    break;
                }
            }
        }
        let consumed = self.parser.consumed();
        if consumed > 0 {
            self.inbuf.drain(..consumed);
            self.parser.discard(consumed);
        }
        flow
    }

    /// MULTI and EXEC while a script is busy (Redis's processCommand then): MULTI is allowed
    /// and opens the transaction; a refused EXEC aborts it (execCommandAbort).
    fn busy_transaction(&mut self, args: &[&[u8]], outcome: BusyOutcome) -> BusyOutcome {
        let is = |name: &str| args.first().is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        match outcome {
            BusyOutcome::Wait if is("multi") && args.len() == 1 => {
                if self.in_multi {
                    return BusyOutcome::Reply(
                        spinel_engine::reply::Reply::Error(spinel_engine::error::err(
                            "ERR MULTI calls can not be nested",
                        )),
                        None,
                    );
                }
                self.in_multi = true;
                self.busy_rejections.push(BusyEvent::Multi);
                BusyOutcome::Reply(spinel_engine::reply::Reply::Ok, None)
            }
            BusyOutcome::Reply(spinel_engine::reply::Reply::Error(e), rejection) if self.in_multi && is("exec") => {
                // The transaction is flagged and discarded; only EXECABORT is counted.
                self.busy_rejections.push(BusyEvent::Discard);
                let cmd_id = rejection.and_then(|r| r.cmd_id);
                self.in_multi = false;
                let m = e.message();
                let text = m.strip_prefix('-').unwrap_or(&m);
                let e = spinel_engine::error::err(format!("EXECABORT Transaction discarded because of: {text}"));
                let code = e.code();
                BusyOutcome::Reply(spinel_engine::reply::Reply::Error(e), Some(Rejection { cmd_id, code }))
            }
            other => other,
        }
    }

    fn still_registered(&self, srv: &Server) -> bool {
        srv.clients.get(self.slot).is_some_and(|c| c.id == self.id && !c.has(flags::CLOSE_ASAP))
    }

    /// Runs every complete request in the input buffer (the engine is locked).
    fn process(&mut self, srv: &mut Server) -> Flow {
        let slot = self.slot;
        let shared = self.shared.clone();
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
            self.limits = limits;
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
                    process_command(&shared, srv, slot, &args, out);
                }
                Ok(Some(Request::Inline(owned))) => {
                    let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
                    if is_cross_protocol_attack(&args) {
                        return Flow::Close;
                    }
                    process_command(&shared, srv, slot, &args, out);
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
        self.park_input(srv);
        run_unblocked(&self.shared, srv);
        if !self.still_registered(srv) {
            return Flow::Close;
        }
        if srv.clients[self.slot].blocked.is_none() {
            self.unpark_input(srv);
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
        self.resp3 = c.resp3;
        self.in_multi = c.has(flags::MULTI);
        c.qbuf = self.inbuf.len() + c.parked_input.len();
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
        // limits see is then what really waits, as Redis counts only unwritten output. The
        // AOF is written first (Redis's beforeSleep order): no reply leaves before its write
        // is in the AOF.
        spinel_engine::persist::aof::before_unlock(srv);
        if !self.in_wake_cascade && self.flush().is_err() {
            return Flow::Close;
        }
        srv.clients[self.slot].obuf_bytes = self.out.len() - self.written;
        Flow::Continue
    }

    /// While the client is blocked, hands the requests behind the blocking one to the engine
    /// (`Client::parked_input`), so that the write that unblocks it can run them too.
    fn park_input(&mut self, srv: &mut Server) {
        let c = &mut srv.clients[self.slot];
        if c.blocked.is_none() || self.inbuf.is_empty() {
            return;
        }
        if c.parked_input.is_empty() {
            std::mem::swap(&mut c.parked_input, &mut self.inbuf);
        } else {
            c.parked_input.extend_from_slice(&self.inbuf);
            self.inbuf.clear();
        }
        // The parser's positions referred to the bytes just handed over.
        self.parser = RequestParser::new();
    }

    /// Takes parked requests back, with anything read since in front of nothing else: the
    /// parked bytes came first. Whatever the engine ran of them is gone from the buffer.
    fn unpark_input(&mut self, srv: &mut Server) {
        let c = &mut srv.clients[self.slot];
        if c.parked_input.is_empty() {
            return;
        }
        let mut parked = std::mem::take(&mut c.parked_input);
        parked.extend_from_slice(&self.inbuf);
        self.inbuf = parked;
        self.parser = RequestParser::new();
    }

    /// The engine woke us: output queued by others, unblocked, or killed.
    async fn on_wake(&mut self) -> Flow {
        self.in_wake_cascade = true;
        let shared = self.shared.clone();
        let flow = {
            let mut srv = shared.lock_async().await;
            if !self.still_registered(&srv) {
                return Flow::Close;
            }
            if let Flow::Close = self.after_batch(&mut srv) {
                return Flow::Close;
            }
            // Requests may wait: behind a command that was unblocked, or left by the engine
            // when it ran this client's parked requests (see `run_unblocked`).
            if !self.blocked && !self.inbuf.is_empty() {
                self.process(&mut srv)
            } else {
                Flow::Continue
            }
        };
        flow
    }

    /// The blocking command's timeout passed.
    async fn on_timeout(&mut self) -> Flow {
        let shared = self.shared.clone();
        let flow = {
            let mut srv = shared.lock_async().await;
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
                self.process(&mut srv)
            } else {
                Flow::Continue
            }
        };
        flow
    }
}

/// Runs the parked requests of the clients that commands just unblocked (Redis's
/// processUnblockedClients), in the order they were served, until none is left: each may
/// unblock others. A client's requests run until it blocks again or one needs its connection
/// (a script, which may need a thread of its own; an inline request; a protocol error; more
/// bytes): the rest stays parked, and its connection — woken by the output — takes it back.
fn run_unblocked(shared: &Shared, srv: &mut Server) {
    let mut next = 0;
    while next < srv.unblocked_with_input.len() {
        let id = srv.unblocked_with_input[next];
        next += 1;
        if let Some(slot) = srv.clients.slot_of(id) {
            run_parked(shared, srv, slot);
        }
        if srv.shutdown.is_some() {
            shared.shutdown.notify_one();
            break;
        }
    }
    srv.unblocked_with_input.clear();
}

/// Runs one unblocked client's parked requests (see [`run_unblocked`]). Replies go to the
/// client's outbox after what is already there, and before output pushed meanwhile, as a
/// batch on its own connection orders them.
fn run_parked(shared: &Shared, srv: &mut Server, slot: usize) {
    let c = &mut srv.clients[slot];
    if c.blocked.is_some() || c.parked_input.is_empty() || c.has(flags::CLOSE_AFTER_REPLY) || c.has(flags::CLOSE_ASAP) {
        return;
    }
    let input = std::mem::take(&mut c.parked_input);
    let mut out = std::mem::take(&mut c.outbox);
    let mut parser = RequestParser::new();
    let mut consumed = 0;
    loop {
        let c = &srv.clients[slot];
        if c.blocked.is_some() || c.has(flags::CLOSE_AFTER_REPLY) || c.has(flags::CLOSE_ASAP) || srv.shutdown.is_some()
        {
            break;
        }
        let limits = Limits {
            max_bulk_len: srv.tunables.proto_max_bulk_len,
            unauthenticated: dispatch::auth_required(srv, slot),
        };
        match parser.next(&input, &limits) {
            Ok(Some(Request::Empty)) => consumed = parser.consumed(),
            Ok(Some(Request::Multibulk(ranges))) => {
                let mut args: SmallVec<[&[u8]; 8]> = SmallVec::new();
                args.extend(ranges.iter().map(|&(s, e)| &input[s..e]));
                if is_cross_protocol_attack(&args) || runs_script(srv, slot, &args) {
                    break;
                }
                process_command(shared, srv, slot, &args, &mut out);
                consumed = parser.consumed();
            }
            _ => break,
        }
    }
    let Some(c) = srv.clients.get_mut(slot) else { return };
    c.parked_input = input;
    c.parked_input.drain(..consumed);
    out.extend_from_slice(&c.outbox);
    c.outbox = out;
    c.wake();
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
