//! Propagation of writes (Redis's alsoPropagate / propagatePendingCommands) and the
//! replication stream sent to replicas attached with SYNC/PSYNC.
//!
//! While a command runs, the writes it makes are collected in `Effects::propagate` — its own
//! argument vector (or the rewritten one a handler chose, e.g. SET EX → SET PXAT), preceded by
//! DELs of keys that expired on access. After the top-level command the list is emitted,
//! wrapped in MULTI/EXEC when it holds more than one command, to every replica and to the
//! AOF (`persist::aof`). Nothing is collected when nobody consumes the stream.
//!
//! Once a replica attached, the stream also goes to the backlog ([`backlog`]) so a replica
//! that reconnects can continue with PSYNC; the offset (master_repl_offset) counts the bytes
//! of the stream, and only advances while there is a backlog or a replica, as in Redis.
//!
//! A replica does not build its replicas' stream from its own writes: it proxies the bytes
//! its master sends ([`feed_raw`], called by [`replica::apply_command`]), so every server of
//! a chain shares the master's replication ID and offsets. Its own writes (there are none but
//! the master's on a read-only replica) still go to its AOF.

pub mod backlog;
pub mod info;
pub mod replica;
pub mod wait;

use crate::client::{flags, Waker};
use crate::server::Server;

/// The replication side of the server.
#[derive(Default)]
pub struct Replication {
    /// Client ids of replicas receiving the stream.
    pub replicas: Vec<u64>,
    /// The database the stream last SELECTed (Redis's slaveseldb).
    pub selected_db: Option<usize>,
    /// Bytes emitted so far (master_repl_offset).
    pub offset: u64,
    /// When the last PING went to replicas (ms).
    pub last_ping_ms: i64,
    /// The master this server replicates, if it is a replica (see [`replica`]).
    pub master: Option<replica::MasterLink>,
    /// Counts REPLICAOF changes: a master link belongs to one epoch.
    pub epoch: u64,
    /// Wakes the network layer's link task when the master changes.
    pub link_wake: Option<Waker>,
    /// The previous replication ID and the offset from which it is no longer valid
    /// (master_replid2, second_repl_offset), set when a replica is promoted.
    pub replid2: String,
    pub second_offset: i64,
    /// The last `repl-backlog-size` bytes of the stream, once a replica attached (or this
    /// replica synced), for partial resynchronizations.
    pub backlog: Option<backlog::Backlog>,
    /// The master (or, after a demotion, this server's own history) a partial resync can
    /// continue from (Redis's cached_master).
    pub cached_master: Option<replica::CachedMaster>,
    pub sync_stats: SyncStats,
    /// Since when a master has had no replica (ms), for `repl-backlog-ttl`.
    pub no_replicas_since_ms: i64,
    /// A WAIT asked replicas for an acknowledgement (sent after the command).
    pub getack_pending: bool,
}

/// INFO stats sync_full, sync_partial_ok, sync_partial_err: resyncs served to replicas.
#[derive(Default, Clone, Copy, Debug)]
pub struct SyncStats {
    pub full: u64,
    pub partial_ok: u64,
    pub partial_err: u64,
}

impl Replication {
    pub fn new() -> Replication {
        Replication { replid2: "0".repeat(40), second_offset: -1, ..Default::default() }
    }
}

pub fn encode_command(out: &mut Vec<u8>, args: &[Vec<u8>]) {
    spinel_resp::write::array_header(out, args.len());
    for a in args {
        spinel_resp::write::bulk(out, a);
    }
}

/// Appends one command for database `db` to the stream (SELECT first when the database
/// changes), as Redis's replicationFeedSlaves.
pub fn feed(srv: &mut Server, db: Option<usize>, args: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    if let Some(db) = db {
        if srv.repl.selected_db != Some(db) {
            encode_command(&mut bytes, &[b"SELECT".to_vec(), db.to_string().into_bytes()]);
            srv.repl.selected_db = Some(db);
        }
    }
    encode_command(&mut bytes, args);
    send_to_replicas(srv, &bytes);
}

/// Appends bytes of our master's stream, as received, to our replicas' stream.
pub fn feed_raw(srv: &mut Server, bytes: &[u8]) {
    send_to_replicas(srv, bytes);
}

fn send_to_replicas(srv: &mut Server, bytes: &[u8]) {
    srv.repl.offset += bytes.len() as u64;
    if let Some(b) = &mut srv.repl.backlog {
        b.feed(bytes);
    }
    let ids = srv.repl.replicas.clone();
    for id in ids {
        if let Some(c) = srv.clients.by_id_mut(id) {
            c.push_output(bytes);
        }
    }
}

/// Emits the writes collected during a top-level command. `wrap` is false for callers that
/// must not wrap in MULTI/EXEC (the active expire cycle, commands touching arbitrary keys).
pub fn flush_pending(srv: &mut Server, wrap: bool) {
    let ops = std::mem::take(&mut srv.fx.propagate);
    if ops.is_empty() {
        return;
    }
    let transaction = wrap && ops.len() > 1;
    let (first_db, last_db) = (ops[0].0, ops[ops.len() - 1].0);
    if srv.aof.accepts() {
        let aof = &mut srv.aof;
        if transaction {
            aof.feed(first_db, &[b"MULTI".to_vec()]);
        }
        for (db, args) in &ops {
            aof.feed(*db, args);
        }
        if transaction {
            aof.feed(last_db, &[b"EXEC".to_vec()]);
        }
    }
    // A replica proxies its master's stream instead (replicationFeedSlaves returns early).
    if (srv.repl.replicas.is_empty() && srv.repl.backlog.is_none()) || srv.repl.master.is_some() {
        return;
    }
    if transaction {
        feed(srv, Some(first_db), &[b"MULTI".to_vec()]);
    }
    for (db, args) in ops {
        feed(srv, Some(db), &args);
    }
    if transaction {
        feed(srv, Some(last_db), &[b"EXEC".to_vec()]);
    }
}

/// Whether anything consumes propagated writes (replicas, the AOF).
pub fn refresh_propagating(srv: &mut Server) {
    srv.fx.propagating = !srv.repl.replicas.is_empty() || srv.repl.backlog.is_some() || srv.aof.accepts();
}

/// Creates the backlog if there is none; its next byte is the stream's next.
pub fn ensure_backlog(srv: &mut Server) {
    if srv.repl.backlog.is_none() {
        let size = srv.config.int("repl-backlog-size").max(1) as usize;
        srv.repl.backlog = Some(backlog::Backlog::new(size, srv.repl.offset));
        refresh_propagating(srv);
    }
}

/// After CONFIG SET: the backlog takes the new `repl-backlog-size`.
pub fn apply_config(srv: &mut Server) {
    let size = srv.config.int("repl-backlog-size").max(1) as usize;
    if let Some(b) = &mut srv.repl.backlog {
        b.resize(size);
    }
}

/// Attaches a client as a replica: from now on it receives the write stream. After a full
/// resync the stream restarts with a SELECT; a partial one (`full` false) continues the
/// stream the replica already has.
pub fn attach_replica(srv: &mut Server, slot: usize, full: bool) {
    let c = &mut srv.clients[slot];
    c.set(flags::REPLICA, true);
    let id = c.id;
    if !srv.repl.replicas.contains(&id) {
        if srv.repl.replicas.is_empty() {
            // The first PING comes one period after the first replica attaches.
            srv.repl.last_ping_ms = srv.fx.now_ms;
        }
        srv.repl.replicas.push(id);
    }
    if full {
        // The first command after a full sync starts with a SELECT.
        srv.repl.selected_db = None;
    }
    ensure_backlog(srv);
    refresh_propagating(srv);
}

/// Forgets a replica that disconnected.
pub fn detach_replica(srv: &mut Server, id: u64) {
    srv.repl.replicas.retain(|&r| r != id);
    if srv.repl.replicas.is_empty() {
        srv.repl.no_replicas_since_ms = crate::util::time::now_ms();
    }
    refresh_propagating(srv);
}

/// A master without replicas for `repl-backlog-ttl` seconds frees its backlog and takes a
/// new replication ID (its offsets stop advancing, so nobody may continue the old history).
fn expire_backlog(srv: &mut Server) {
    let ttl_ms = srv.config.int("repl-backlog-ttl").saturating_mul(1000);
    if !srv.repl.replicas.is_empty() || srv.repl.backlog.is_none() || srv.repl.master.is_some() || ttl_ms == 0 {
        return;
    }
    if srv.fx.now_ms - srv.repl.no_replicas_since_ms > ttl_ms {
        srv.process.replid = crate::server::random_hex(40);
        srv.repl.replid2 = "0".repeat(40);
        srv.repl.second_offset = -1;
        srv.repl.backlog = None;
        refresh_propagating(srv);
        crate::log::notice(&format!(
            "Replication backlog freed after {} seconds without connected replicas.",
            ttl_ms / 1000
        ));
    }
}

/// The replication cron: frees an unused backlog, PINGs replicas every
/// `repl-ping-replica-period` seconds so they see the link alive.
pub fn ping_replicas(srv: &mut Server) {
    expire_backlog(srv);
    // A replica's replicas get its master's PINGs through the proxied stream.
    if srv.repl.replicas.is_empty() || srv.repl.master.is_some() {
        return;
    }
    let period = srv.config.int("repl-ping-replica-period").max(1) * 1000;
    let now = srv.fx.now_ms;
    if now - srv.repl.last_ping_ms >= period {
        srv.repl.last_ping_ms = now;
        feed(srv, None, &[b"PING".to_vec()]);
    }
}
