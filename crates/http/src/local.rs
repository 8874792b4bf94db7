//! Running REST commands in this process's engine.
//!
//! Each request registers an internal client (`flags::INTERNAL`, authenticated: the token was
//! its authentication) and sends its commands through `dispatch::process`, the path RESP
//! commands take, with the engine locked. The client is freed at the end, or by a guard if
//! the HTTP client goes away while the request waits.
//!
//! REST is stateless, so connection-state commands are refused ([`STATEFUL`]). A blocking
//! command does not wait: if it blocks, its timeout reply is taken at once (as inside MULTI).
//! CLIENT PAUSE is honoured: a paused command waits, with the lock released, until the engine
//! serves it and wakes the request.

use std::sync::Arc;

use spinel_engine::client::{flags, BlockKind, Waker};
use spinel_engine::cmd::spec;
use spinel_engine::cmd::table::Found;
use spinel_engine::dispatch;
use spinel_engine::reply::Reply;
use spinel_engine::server::Server;
use spinel_resp::Frame;
use tokio::sync::Notify;

use crate::auth::{Access, Tokens};
use crate::json::{self, Encoding};
use crate::request::Args;
use crate::Engine;

/// Commands that only make sense on a connection, refused over REST.
pub const STATEFUL: &[&str] = &[
    "select",
    "auth",
    "hello",
    "client",
    "quit",
    "reset",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "monitor",
    "sync",
    "psync",
];

/// How a request wants its results.
#[derive(Clone, Copy, Debug, Default)]
pub struct Format {
    pub enc: Encoding,
    /// `Upstash-Response-Format: resp2`: raw RESP2 bytes instead of JSON.
    pub resp2: bool,
}

/// One command's outcome, already encoded: a JSON value (or RESP2 bytes) when `ok`, else the
/// error message (or its RESP2 error line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub ok: bool,
    pub bytes: Vec<u8>,
}

/// What running a request produced.
#[derive(Debug)]
pub enum Outcome {
    Items(Vec<Item>),
    /// The whole request failed (EXECABORT, an unreachable backend): status and message.
    Fail(u16, String),
}

impl Item {
    pub fn error(message: &str, fmt: Format) -> Item {
        if fmt.resp2 {
            let mut out = Vec::new();
            spinel_resp::write::error(&mut out, message.as_bytes());
            Item { ok: false, bytes: out }
        } else {
            Item { ok: false, bytes: message.as_bytes().to_vec() }
        }
    }

    pub fn from_reply(r: &Reply, fmt: Format) -> Item {
        let mut out = Vec::new();
        match r {
            Reply::Error(e) if !fmt.resp2 => return Item { ok: false, bytes: e.message().as_bytes().to_vec() },
            _ if fmt.resp2 => r.encode(&mut out, false),
            _ => json::reply(&mut out, r, fmt.enc),
        }
        Item { ok: !r.is_error(), bytes: out }
    }

    pub fn from_frame(f: &Frame, fmt: Format) -> Item {
        let mut out = Vec::new();
        match f {
            Frame::Error(e) if !fmt.resp2 => return Item { ok: false, bytes: e.clone() },
            _ if fmt.resp2 => f.encode(&mut out, false),
            _ => json::frame(&mut out, f, fmt.enc),
        }
        Item { ok: !matches!(f, Frame::Error(_)), bytes: out }
    }
}

/// Why a command is refused before it runs (stateless rules, read-only tokens).
pub fn refusal(srv: &Server, access: Access, args: &Args) -> Option<String> {
    // Compared without copying the name: this runs for every command.
    let name = args.first()?;
    if let Some(stateful) = STATEFUL.iter().find(|s| s.as_bytes().eq_ignore_ascii_case(name)) {
        return Some(format!("ERR Command is not allowed over the REST API: '{stateful}'"));
    }
    if access == Access::ReadOnly {
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        if let Found::Command(cmd) = srv.commands.lookup(&refs) {
            if cmd.flags & (spec::WRITE | spec::ADMIN | spec::MAY_REPLICATE) != 0 {
                return Some(format!(
                    "NOPERM this user has no permissions to run the '{}' command or its subcommand",
                    cmd.fullname
                ));
            }
        }
    }
    None
}

/// Tokens from the configuration, re-parsed only when the configured text changes.
struct TokenCache {
    raw: (Option<Vec<u8>>, Option<Vec<u8>>),
    tokens: Tokens,
}

pub struct Local {
    pub engine: Arc<dyn Engine>,
    /// Accepted while `http-token` is not set.
    generated: Vec<u8>,
    cache: std::sync::Mutex<TokenCache>,
}

/// The per-request client, freed on drop unless [`ClientGuard::free`] already did it.
struct ClientGuard {
    engine: Arc<dyn Engine>,
    slot: usize,
    id: u64,
    notify: Arc<Notify>,
    live: bool,
}

impl ClientGuard {
    fn register(engine: &Arc<dyn Engine>, srv: &mut Server, peer: &str) -> ClientGuard {
        let notify = Arc::new(Notify::new());
        let waker: Waker = {
            let n = notify.clone();
            Arc::new(move || n.notify_one())
        };
        let (slot, id) = srv.add_client(peer.to_string(), String::new(), -1, Some(waker));
        let c = &mut srv.clients[slot];
        c.set(flags::INTERNAL, true);
        c.authenticated = true;
        ClientGuard { engine: engine.clone(), slot, id, notify, live: true }
    }

    fn registered(&self, srv: &Server) -> bool {
        srv.clients.get(self.slot).is_some_and(|c| c.id == self.id && !c.has(flags::CLOSE_ASAP))
    }

    /// Frees the client (the engine is locked by the caller).
    fn free(&mut self, srv: &mut Server) {
        if self.live && srv.clients.get(self.slot).is_some_and(|c| c.id == self.id) {
            srv.free_client(self.slot);
        }
        self.live = false;
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        if self.live {
            // Only reached when the request future is dropped while waiting, never with the
            // lock held.
            let engine = self.engine.clone();
            let mut srv = engine.lock();
            self.free(&mut srv);
        }
    }
}

/// One step of a command.
enum Step {
    Done(Item),
    /// Held back by CLIENT PAUSE: its reply will come in the client's outbox.
    Paused,
}

impl Local {
    pub fn new(engine: Arc<dyn Engine>, generated: String) -> Local {
        Local {
            engine,
            generated: generated.into_bytes(),
            cache: std::sync::Mutex::new(TokenCache { raw: (None, None), tokens: Tokens::default() }),
        }
    }

    /// The access `token` grants, reading the configured tokens (CONFIG SET may change them).
    /// Also returns the engine's write counter for the sync token.
    pub fn authenticate(&self, token: &[u8]) -> (Option<Access>, u64) {
        let srv = self.engine.lock();
        let rw = srv.config.string_bytes("http-token");
        let ro = srv.config.string_bytes("http-readonly-token");
        let dirty = srv.fx.dirty;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.raw.0.as_deref() != rw || cache.raw.1.as_deref() != ro {
            cache.raw = (rw.map(<[u8]>::to_vec), ro.map(<[u8]>::to_vec));
            cache.tokens = Tokens::parse(rw.unwrap_or_default(), ro.unwrap_or_default());
        }
        drop(srv);
        let mut access = cache.tokens.check(token);
        // The generated token stands in for `http-token` while none is configured.
        if cache.tokens.read_write.is_empty() && crate::auth::ct_eq(&self.generated, token) {
            access = Some(Access::ReadWrite);
        }
        (access, dirty)
    }

    /// Runs one command or a pipeline (not atomic: a paused command releases the lock).
    /// Returns the outcome and the write counter after it.
    pub async fn run(&self, peer: &str, access: Access, cmds: &[Args], fmt: Format) -> (Outcome, u64) {
        let mut items = Vec::with_capacity(cmds.len());
        let mut paused = false;
        // The client is registered and, unless CLIENT PAUSE holds a command back, freed under
        // one lock.
        let mut guard = {
            let mut srv = self.engine.lock();
            let mut guard = ClientGuard::register(&self.engine, &mut srv, peer);
            if let Some(done) = advance(&mut srv, &mut guard, access, cmds, fmt, &mut items, &mut paused) {
                return done;
            }
            guard
        };
        loop {
            guard.notify.notified().await;
            let mut srv = self.engine.lock();
            if let Some(done) = advance(&mut srv, &mut guard, access, cmds, fmt, &mut items, &mut paused) {
                return done;
            }
        }
    }

    /// Runs a transaction: MULTI, the commands, EXEC, with the lock held throughout (unless
    /// CLIENT PAUSE holds the EXEC back, which Redis does too).
    pub async fn run_multi(&self, peer: &str, access: Access, cmds: &[Args], fmt: Format) -> (Outcome, u64) {
        let mut guard = {
            let mut srv = self.engine.lock();
            let mut guard = ClientGuard::register(&self.engine, &mut srv, peer);
            match queue_transaction(&mut srv, guard.slot, access, cmds, fmt) {
                Some(outcome) => {
                    guard.free(&mut srv);
                    return (outcome, srv.fx.dirty);
                }
                None => guard,
            }
        };
        loop {
            guard.notify.notified().await;
            let mut srv = self.engine.lock();
            if !guard.registered(&srv) {
                return (Outcome::Fail(500, "ERR the REST client was killed".into()), srv.fx.dirty);
            }
            if let Some(frame) = take_served_frame(&mut srv, guard.slot) {
                let outcome = exec_outcome_frame(&frame, fmt);
                guard.free(&mut srv);
                return (outcome, srv.fx.dirty);
            }
        }
    }
}

/// Runs the commands of [`Local::run`] from the first one without an item, until one is held
/// back by CLIENT PAUSE (`None`, `paused` set) or all are done (the outcome, client freed).
fn advance(
    srv: &mut Server,
    guard: &mut ClientGuard,
    access: Access,
    cmds: &[Args],
    fmt: Format,
    items: &mut Vec<Item>,
    paused: &mut bool,
) -> Option<(Outcome, u64)> {
    if !guard.registered(srv) {
        while items.len() < cmds.len() {
            items.push(Item::error("ERR the REST client was killed", fmt));
        }
        *paused = false;
    } else if *paused {
        if let Some(item) = take_served(srv, guard.slot, fmt) {
            items.push(item);
            *paused = false;
        }
    }
    while !*paused && items.len() < cmds.len() {
        match step(srv, guard.slot, access, &cmds[items.len()], fmt) {
            Step::Done(item) => items.push(item),
            Step::Paused => *paused = true,
        }
    }
    if *paused {
        return None;
    }
    guard.free(srv);
    Some((Outcome::Items(std::mem::take(items)), srv.fx.dirty))
}

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// Queues and executes a transaction. None when EXEC was held back by CLIENT PAUSE.
fn queue_transaction(srv: &mut Server, slot: usize, access: Access, cmds: &[Args], fmt: Format) -> Option<Outcome> {
    dispatch::process(srv, slot, &[b"MULTI"]);
    let mut refused = false;
    for args in cmds {
        if refusal(srv, access, args).is_some() {
            refused = true;
            break;
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        dispatch::process(srv, slot, &refs);
    }
    if refused {
        dispatch::process(srv, slot, &[b"DISCARD"]);
        return Some(Outcome::Fail(400, EXECABORT.into()));
    }
    let reply = dispatch::process(srv, slot, &[b"EXEC"]);
    srv.clients[slot].outbox.clear();
    match reply {
        Reply::Array(replies) => Some(Outcome::Items(replies.iter().map(|r| Item::from_reply(r, fmt)).collect())),
        Reply::Error(e) => Some(Outcome::Fail(400, e.message().into_owned())),
        Reply::NoReply if paused(srv, slot) => None,
        other => Some(Outcome::Items(vec![Item::from_reply(&other, fmt)])),
    }
}

fn exec_outcome_frame(frame: &Frame, fmt: Format) -> Outcome {
    match frame {
        Frame::Array(items) => Outcome::Items(items.iter().map(|f| Item::from_frame(f, fmt)).collect()),
        Frame::Error(e) => Outcome::Fail(400, String::from_utf8_lossy(e).into_owned()),
        other => Outcome::Items(vec![Item::from_frame(other, fmt)]),
    }
}

fn paused(srv: &Server, slot: usize) -> bool {
    srv.clients.get(slot).and_then(|c| c.blocked.as_ref()).is_some_and(|b| b.kind == BlockKind::Pause)
}

/// Runs one command of a request.
fn step(srv: &mut Server, slot: usize, access: Access, args: &Args, fmt: Format) -> Step {
    if let Some(why) = refusal(srv, access, args) {
        return Step::Done(Item::error(&why, fmt));
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut reply = dispatch::process(srv, slot, &refs);
    if matches!(reply, Reply::NoReply) && srv.clients[slot].blocked.is_some() {
        if paused(srv, slot) {
            return Step::Paused;
        }
        // A blocking command found nothing to serve it: REST does not wait.
        reply = spinel_engine::blocking::timeout(srv, slot).unwrap_or(Reply::NoReply);
    }
    // Output queued for the client itself (keyspace events it could not subscribe to) is
    // not part of a REST reply.
    srv.clients[slot].outbox.clear();
    Step::Done(Item::from_reply(&reply, fmt))
}

/// The reply of a paused command once the engine served it, decoded from the outbox. A
/// command that blocked on keys once unpaused gets its timeout reply, as in [`step`].
fn take_served_frame(srv: &mut Server, slot: usize) -> Option<Frame> {
    if paused(srv, slot) {
        return None;
    }
    let mut out = std::mem::take(&mut srv.clients.get_mut(slot)?.outbox);
    if out.is_empty() && srv.clients[slot].blocked.is_some() {
        if let Some(reply) = spinel_engine::blocking::timeout(srv, slot) {
            reply.encode(&mut out, false);
        }
    }
    match Frame::decode(&out) {
        Ok(Some((frame, _))) => Some(frame),
        _ => Some(Frame::Null),
    }
}

fn take_served(srv: &mut Server, slot: usize, fmt: Format) -> Option<Item> {
    take_served_frame(srv, slot).map(|f| Item::from_frame(&f, fmt))
}
