//! Per-connection state the engine needs: selected database, protocol, auth, transaction,
//! subscriptions, reply mode, and what CLIENT LIST shows. Connections (RESP sockets, REST
//! requests, the Lua caller) each have a [`Client`] in the registry, addressed by slot.

use std::collections::HashMap;
use std::sync::Arc;

/// Wakes the task serving a client (new async output, unblocked, killed).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

// Client flags shown by CLIENT LIST (Redis's CLIENT_*), and ours.
pub mod flags {
    pub const PUBSUB: u32 = 1 << 0;
    pub const MULTI: u32 = 1 << 1;
    pub const BLOCKED: u32 = 1 << 2;
    pub const DIRTY_EXEC: u32 = 1 << 3;
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 4;
    pub const CLOSE_ASAP: u32 = 1 << 5;
    pub const UNIX_SOCKET: u32 = 1 << 6;
    pub const NO_EVICT: u32 = 1 << 7;
    pub const MONITOR: u32 = 1 << 8;
    pub const TRACKING: u32 = 1 << 9;
    pub const UNBLOCKED: u32 = 1 << 10;
    /// Not a network client (Lua's fake client, REST requests).
    pub const INTERNAL: u32 = 1 << 11;
    pub const READONLY: u32 = 1 << 12;
    pub const NO_TOUCH: u32 = 1 << 13;
    /// Receives the replication stream (SYNC/PSYNC).
    pub const REPLICA: u32 = 1 << 14;
    /// The client scripts run their commands as (MONITOR shows it as `lua`).
    pub const SCRIPT: u32 = 1 << 20;
    /// Client-side caching options (Redis's CLIENT_TRACKING_*), see crate::tracking.
    pub const TRACKING_BROKEN_REDIR: u32 = 1 << 21;
    pub const TRACKING_BCAST: u32 = 1 << 22;
    pub const TRACKING_OPTIN: u32 = 1 << 23;
    pub const TRACKING_OPTOUT: u32 = 1 << 24;
    pub const TRACKING_CACHING: u32 = 1 << 25;
    pub const TRACKING_NOLOOP: u32 = 1 << 26;
    /// This server's master, sending the replication stream (see crate::replication::replica).
    pub const MASTER: u32 = 1 << 27;
}

/// A command queued by MULTI.
#[derive(Clone, Debug)]
pub struct Queued {
    pub args: Vec<Vec<u8>>,
}

#[derive(Default, Debug)]
pub struct MultiState {
    pub queue: Vec<Queued>,
    /// Bytes of queued arguments (CLIENT LIST multi-mem).
    pub argv_bytes: usize,
}

/// Why a client is blocked and how it will be served.
#[derive(Clone, Debug)]
pub struct BlockState {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline in ms since the epoch; 0 = forever.
    pub deadline_ms: i64,
    /// The blocking command's arguments, re-run when a key becomes ready.
    pub args: Vec<Vec<u8>>,
    /// Extra state a family needs (a stream ID resolved at block time…).
    pub extra: Vec<Vec<u8>>,
    /// What to reply on timeout (a null of the right kind).
    pub timeout_reply: crate::reply::Reply,
    /// The kind of wait: keys ("list"/"zset"/"stream"), or PAUSE/WAIT.
    pub kind: BlockKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    List,
    ZSet,
    Stream,
    Module,
    Wait,
    Pause,
}

pub struct Client {
    pub id: u64,
    pub slot: usize,
    pub flags: u32,
    pub db: usize,
    pub resp3: bool,
    pub name: Option<Vec<u8>>,
    pub authenticated: bool,
    pub user: String,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    pub last_cmd: &'static str,
    /// CLIENT REPLY OFF.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP was the last command: skip the next reply.
    pub reply_skip_next: bool,
    /// The current command's reply is skipped.
    pub reply_skip: bool,
    pub multi: Option<MultiState>,
    /// Keys this client WATCHes: (db, key). Their state lives in the database's
    /// [`Watcher`](crate::keyspace::Watcher) entries.
    pub watched: Vec<(usize, Vec<u8>)>,
    pub channels: HashMap<Vec<u8>, ()>,
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: HashMap<Vec<u8>, ()>,
    pub blocked: Option<BlockState>,
    /// While a blocked command is re-run to serve it, the state it saved when blocking.
    pub blocked_extra: Vec<Vec<u8>>,
    /// While a blocked command is re-run to serve it, the key that became ready (Redis
    /// serves a client blocked on several keys from the one that got data).
    pub served_key: Option<Vec<u8>>,
    /// Output produced for this client outside its own commands (pub/sub messages, a
    /// blocked command served by another client's write), waiting to be written.
    pub outbox: Vec<u8>,
    /// Requests received behind a command that blocked, handed over by the connection while
    /// it waits so that whoever unblocks the client can run them at once (a BLPOP
    /// ping-pong then runs in one hold of the engine, not one task wake-up per hop).
    pub parked_input: Vec<u8>,
    pub wake: Option<Waker>,
    /// Connection-side buffer sizes, refreshed by the connection for CLIENT LIST.
    pub qbuf: usize,
    pub qbuf_free: usize,
    pub argv_mem: usize,
    pub obuf_bytes: usize,
    pub obuf_peak: usize,
    /// When the output buffer went over the soft limit (ms), for client-output-buffer-limit.
    pub obuf_soft_since: Option<i64>,
    pub tot_net_in: u64,
    pub tot_net_out: u64,
    pub tot_cmds: u64,
    /// A replica's announced port (REPLCONF listening-port) and acknowledged offset.
    pub repl_listening_port: u16,
    pub repl_ack_offset: u64,
    /// When the replica last sent REPLCONF ACK (ms), for its lag.
    pub repl_ack_ms: i64,
    /// The replication offset right after this client's last write (WAIT waits for it).
    pub woff: u64,
}

impl Client {
    pub fn new(id: u64, slot: usize, now_ms: i64) -> Client {
        Client {
            id,
            slot,
            flags: 0,
            db: 0,
            resp3: false,
            name: None,
            authenticated: false,
            user: "default".into(),
            addr: String::new(),
            laddr: String::new(),
            fd: -1,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            reply_off: false,
            reply_skip_next: false,
            reply_skip: false,
            multi: None,
            watched: Vec::new(),
            channels: HashMap::new(),
            patterns: Vec::new(),
            shard_channels: HashMap::new(),
            blocked: None,
            blocked_extra: Vec::new(),
            served_key: None,
            outbox: Vec::new(),
            parked_input: Vec::new(),
            wake: None,
            qbuf: 0,
            qbuf_free: 0,
            argv_mem: 0,
            obuf_bytes: 0,
            obuf_peak: 0,
            obuf_soft_since: None,
            tot_net_in: 0,
            tot_net_out: 0,
            tot_cmds: 0,
            repl_listening_port: 0,
            repl_ack_offset: 0,
            repl_ack_ms: now_ms,
            woff: 0,
        }
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn set(&mut self, flag: u32, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }

    /// Asks the client's task to look at it again (output waiting, unblocked, killed).
    pub fn wake(&self) {
        if let Some(w) = &self.wake {
            w();
        }
    }

    /// Queues bytes for the client outside a reply to its own command.
    pub fn push_output(&mut self, bytes: &[u8]) {
        self.outbox.extend_from_slice(bytes);
        self.wake();
    }

    /// The flags column of CLIENT LIST.
    pub fn flag_letters(&self, dirty_cas: bool) -> String {
        let mut s = String::new();
        if self.has(flags::REPLICA) {
            s.push('S');
        }
        if self.has(flags::MASTER) {
            s.push('M');
        }
        if self.has(flags::MONITOR) {
            s.push('O');
        }
        if self.has(flags::PUBSUB) {
            s.push('P');
        }
        if self.has(flags::MULTI) {
            s.push('x');
        }
        if self.has(flags::BLOCKED) {
            s.push('b');
        }
        if self.has(flags::TRACKING) {
            s.push('t');
        }
        if self.has(flags::TRACKING_BROKEN_REDIR) {
            s.push('R');
        }
        if self.has(flags::TRACKING_BCAST) {
            s.push('B');
        }
        if dirty_cas {
            s.push('d');
        }
        if self.has(flags::CLOSE_AFTER_REPLY) {
            s.push('c');
        }
        if self.has(flags::UNBLOCKED) {
            s.push('u');
        }
        if self.has(flags::CLOSE_ASAP) {
            s.push('A');
        }
        if self.has(flags::UNIX_SOCKET) {
            s.push('U');
        }
        if self.has(flags::READONLY) {
            s.push('r');
        }
        if self.has(flags::NO_EVICT) {
            s.push('e');
        }
        if s.is_empty() {
            s.push('N');
        }
        s
    }
}

/// All clients, by slot (stable for a client's life) and by id.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    by_id: HashMap<u64, usize>,
    next_id: u64,
}

impl Clients {
    /// Registers a new client and returns its slot.
    pub fn add(&mut self, now_ms: i64) -> usize {
        self.next_id += 1;
        let id = self.next_id;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[slot] = Some(Box::new(Client::new(id, slot, now_ms)));
        self.by_id.insert(id, slot);
        slot
    }

    pub fn remove(&mut self, slot: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(slot)?.take()?;
        self.by_id.remove(&c.id);
        self.free.push(slot);
        Some(c)
    }

    pub fn get(&self, slot: usize) -> Option<&Client> {
        self.slots.get(slot)?.as_deref()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Client> {
        self.slots.get_mut(slot)?.as_deref_mut()
    }

    pub fn slot_of(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    pub fn by_id_mut(&mut self, id: u64) -> Option<&mut Client> {
        let slot = self.slot_of(id)?;
        self.get_mut(slot)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().filter_map(|c| c.as_deref())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().filter_map(|c| c.as_deref_mut())
    }

    /// Clients in id order (CLIENT LIST order).
    pub fn ids_sorted(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.by_id.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

impl std::ops::Index<usize> for Clients {
    type Output = Client;
    fn index(&self, slot: usize) -> &Client {
        self.get(slot).expect("client slot in use")
    }
}

impl std::ops::IndexMut<usize> for Clients {
    fn index_mut(&mut self, slot: usize) -> &mut Client {
        self.get_mut(slot).expect("client slot in use")
    }
}

/// Redis's checkClientOutputBufferLimits: true when the client's pending output passed the
/// hard limit, or stayed over the soft limit longer than allowed. Limits of 0 are off.
pub fn output_limit_reached(client: &mut Client, hard: u64, soft: u64, soft_seconds: u64, now_ms: i64) -> bool {
    let used = (client.outbox.len() + client.obuf_bytes) as u64;
    let over_hard = hard != 0 && used >= hard;
    let mut over_soft = soft != 0 && used >= soft;
    if over_soft {
        match client.obuf_soft_since {
            None => {
                client.obuf_soft_since = Some(now_ms);
                over_soft = false;
            }
            Some(since) => {
                if ((now_ms - since) / 1000) as u64 <= soft_seconds {
                    over_soft = false;
                }
            }
        }
    } else {
        client.obuf_soft_since = None;
    }
    over_hard || over_soft
}
