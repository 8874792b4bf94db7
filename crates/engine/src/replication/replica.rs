//! The replica side of replication: the state of the link with our master (Redis's
//! masterhost, repl_state, server.master) and the engine half of each step the network layer's
//! link task takes (crates/server/src/replica_link.rs).
//!
//! The engine stays synchronous and owns no socket. REPLICAOF only records the new master and
//! bumps an *epoch*; the link task notices (it is woken through `Replication::link_wake`),
//! connects, does the handshake and reads the RDB payload, then calls in here under the
//! engine lock: [`finish_full_sync`] to load the image and create the master client,
//! [`apply_command`] for each command of the stream. Every call carries the epoch the task
//! started with, so a task still talking to an old master after REPLICAOF changed it (or after
//! REPLICAOF NO ONE) cannot touch the dataset: its calls are refused and it starts over.
//!
//! The master client is an engine client flagged `MASTER`: its commands go through the normal
//! `dispatch::process` path (so they are counted, propagated to the AOF and shown by MONITOR),
//! they may write on a read-only replica, their replies are dropped, and only REPLCONF ACK
//! goes back (queued in the client's outbox for the task to send). Commands are proxied to
//! our own replicas byte for byte, as Redis does, so a sub-replica sees the master's offsets.
//!
//! When a live link goes (or REPLICAOF moves to another master, or a master is demoted) the
//! history reached so far is kept as a [`CachedMaster`]: the next handshake asks to continue
//! it (PSYNC <replid> <offset+1>), and a master that still has the bytes in its backlog
//! answers +CONTINUE ([`finish_partial_sync`]) instead of sending a new snapshot.

use crate::client::flags;
use crate::server::Server;

/// Where the link with the master stands (Redis's repl_state, the handshake states folded
/// into one as ROLE and INFO show them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (REPL_STATE_CONNECT).
    Connect,
    /// The TCP connection is being made.
    Connecting,
    /// PING, AUTH, REPLCONF, PSYNC.
    Handshake,
    /// Receiving the RDB payload.
    Transfer,
    /// Receiving the command stream.
    Connected,
}

impl LinkState {
    /// The state as ROLE names it.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The master we replicate (present while `replicaof` is set).
#[derive(Debug)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Changes with every REPLICAOF: calls from a link task of another epoch are refused.
    pub epoch: u64,
    /// The master client's id while the link is up.
    pub client_id: Option<u64>,
    /// Offset of the stream received so far (slave_read_repl_offset).
    pub read_offset: i64,
    /// Offset of the stream applied so far, outside transactions (the master client's
    /// reploff: what ACKs report).
    pub applied_offset: i64,
    /// Offset through the last command processed, a transaction's commands included.
    pub processed_offset: i64,
    /// Bytes of a transaction being applied: proxied to our replicas once it is complete, as
    /// Redis proxies only applied bytes (a replica attaching meanwhile never sees half of it).
    pub unproxied: Vec<u8>,
    /// Last data from the master (ms), for master_last_io_seconds_ago.
    pub last_io_ms: i64,
    /// When the link went down (ms), 0 if it never was up.
    pub down_since_ms: i64,
    /// RDB payload size (-1: EOF-marked, unknown) and bytes read so far while in `Transfer`.
    pub transfer_size: i64,
    pub transfer_read: i64,
    pub transfer_last_io_ms: i64,
}

/// A replication history this server can continue (Redis's cached_master): its ID, the
/// offset applied, and the database the stream was in.
#[derive(Clone, Debug)]
pub struct CachedMaster {
    pub replid: String,
    pub offset: i64,
    pub db: usize,
}

/// What the link task needs to connect and do the handshake.
#[derive(Clone, Debug)]
pub struct LinkTarget {
    pub host: String,
    pub port: u16,
    pub epoch: u64,
    /// `masteruser` (if set) and `masterauth`.
    pub auth: Option<(Option<String>, Vec<u8>)>,
    /// REPLCONF listening-port: `replica-announce-port`, else our port.
    pub listening_port: u16,
    /// REPLCONF ip-address: `replica-announce-ip`.
    pub announce_ip: Option<String>,
    /// `repl-timeout` in seconds.
    pub timeout_secs: u64,
    /// PSYNC's arguments to continue a cached history: its ID and the next offset wanted.
    pub continue_from: Option<(String, i64)>,
}

/// Whether this server is a replica (Redis's `server.masterhost != NULL`).
pub fn is_replica(srv: &Server) -> bool {
    srv.repl.master.is_some()
}

/// Whether the link with the master is down (MASTERDOWN, master_link_status).
pub fn link_down(srv: &Server) -> bool {
    srv.repl.master.as_ref().is_some_and(|m| m.state != LinkState::Connected)
}

/// Whether `slot` is our master's client (Redis's mustObeyClient, without the AOF client).
pub fn is_master_client(srv: &Server, slot: usize) -> bool {
    srv.clients.get(slot).is_some_and(|c| c.has(flags::MASTER))
}

/// The master client's slot, if the link is up and still of `epoch`.
fn master_slot(srv: &Server, epoch: u64) -> Option<usize> {
    let link = srv.repl.master.as_ref().filter(|m| m.epoch == epoch)?;
    srv.clients.slot_of(link.client_id?)
}

/// The database our master's stream is in (the master client's), if the link is up.
pub fn master_db(srv: &Server) -> Option<usize> {
    let id = srv.repl.master.as_ref()?.client_id?;
    srv.clients.get(srv.clients.slot_of(id)?).map(|c| c.db)
}

/// Disconnects the master client, if any, keeping the history it reached for a partial
/// resync (Redis's replicationCacheMaster).
fn free_master_client(srv: &mut Server) {
    let Some(link) = srv.repl.master.as_mut() else { return };
    let Some(id) = link.client_id.take() else { return };
    let offset = link.applied_offset;
    if let Some(slot) = srv.clients.slot_of(id) {
        let db = srv.clients[slot].db;
        srv.repl.cached_master = Some(CachedMaster { replid: srv.process.replid.clone(), offset, db });
        srv.free_client(slot);
    }
}

/// Disconnects every replica (Redis's disconnectSlaves): they reconnect and resync.
pub fn disconnect_replicas(srv: &mut Server) {
    for id in srv.repl.replicas.clone() {
        if let Some(slot) = srv.clients.slot_of(id) {
            srv.free_client(slot);
        }
    }
}

/// Clients blocked on keys get an error and are closed when the instance becomes a replica
/// (Redis's disconnectAllBlockedClients): the keys they wait on now change only as the
/// master says.
fn disconnect_blocked_clients(srv: &mut Server) {
    let blocked: Vec<usize> = srv
        .clients
        .iter()
        .filter(|c| c.blocked.as_ref().is_some_and(|b| b.kind != crate::client::BlockKind::Pause))
        .map(|c| c.slot)
        .collect();
    for slot in blocked {
        crate::blocking::unblock(srv, slot);
        let e = crate::error::err(
            "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
        );
        srv.count_error(e.code());
        let c = &mut srv.clients[slot];
        let mut out = Vec::new();
        crate::reply::Reply::Error(e).encode(&mut out, c.resp3);
        c.set(flags::CLOSE_AFTER_REPLY, true);
        c.push_output(&out);
    }
}

/// Keys expire on a replica only when the master says so (a DEL in the stream); reads of
/// keys past their TTL see nothing meanwhile. A pause also stops deletion: both must be over.
pub fn refresh_lazy_expire(srv: &mut Server) {
    srv.fx.lazy_expire = !is_replica(srv) && srv.pause.until_ms == 0;
}

fn wake_link_task(srv: &Server) {
    if let Some(w) = &srv.repl.link_wake {
        w();
    }
}

/// REPLICAOF host port (Redis's replicationSetMaster): forget the current master, close
/// clients blocked on keys, and let the link task connect to the new one. Our own replicas
/// stay connected.
pub fn set_master(srv: &mut Server, host: &str, port: u16) {
    // Dropping a live link counts as the link going down (replicationHandleMasterDisconnection).
    let down_since_ms = match &srv.repl.master {
        Some(m) if m.state == LinkState::Connected => crate::util::time::now_ms(),
        Some(m) => m.down_since_ms,
        None => 0,
    };
    let was_master = srv.repl.master.is_none();
    free_master_client(srv);
    disconnect_blocked_clients(srv);
    if was_master {
        // A demoted master may continue its own history with the new master
        // (replicationCacheMasterUsingMyself).
        srv.repl.cached_master = Some(CachedMaster {
            replid: srv.process.replid.clone(),
            offset: srv.repl.offset as i64,
            db: srv.repl.selected_db.unwrap_or(0),
        });
    }
    srv.repl.epoch += 1;
    srv.repl.master = Some(MasterLink {
        host: host.to_string(),
        port,
        state: LinkState::Connect,
        epoch: srv.repl.epoch,
        client_id: None,
        read_offset: 0,
        applied_offset: 0,
        processed_offset: 0,
        unproxied: Vec::new(),
        last_io_ms: 0,
        down_since_ms,
        transfer_size: -1,
        transfer_read: 0,
        transfer_last_io_ms: 0,
    });
    srv.config.set_replicaof(Some((host, port)));
    refresh_lazy_expire(srv);
    crate::log::notice(&format!("Connecting to MASTER {host}:{port}"));
    wake_link_task(srv);
}

/// REPLICAOF NO ONE (Redis's replicationUnsetMaster): become a master with a new replication
/// ID (the old one becomes the secondary ID), keeping the data. Replicas are disconnected so
/// they learn the new ID.
pub fn unset_master(srv: &mut Server) {
    if !is_replica(srv) {
        return;
    }
    free_master_client(srv);
    srv.repl.cached_master = None;
    srv.repl.master = None;
    srv.repl.epoch += 1;
    srv.config.set_replicaof(None);
    srv.repl.replid2 = std::mem::replace(&mut srv.process.replid, crate::server::random_hex(40));
    srv.repl.second_offset = srv.repl.offset as i64 + 1;
    disconnect_replicas(srv);
    srv.repl.selected_db = None;
    srv.repl.no_replicas_since_ms = crate::util::time::now_ms();
    refresh_lazy_expire(srv);
    wake_link_task(srv);
}

/// What the link task should connect to, if this server is a replica.
pub fn link_target(srv: &Server) -> Option<LinkTarget> {
    let link = srv.repl.master.as_ref()?;
    let auth = srv.config.string("masterauth").filter(|p| !p.is_empty()).map(|pass| {
        let user = srv.config.string("masteruser").filter(|u| !u.is_empty()).map(str::to_string);
        (user, pass.as_bytes().to_vec())
    });
    let announced = srv.config.int("replica-announce-port");
    Some(LinkTarget {
        host: link.host.clone(),
        port: link.port,
        epoch: link.epoch,
        auth,
        listening_port: if announced != 0 { announced as u16 } else { srv.process.tcp_port },
        announce_ip: srv.config.string("replica-announce-ip").filter(|s| !s.is_empty()).map(str::to_string),
        timeout_secs: srv.config.int("repl-timeout").max(1) as u64,
        continue_from: srv.repl.cached_master.as_ref().map(|c| (c.replid.clone(), c.offset + 1)),
    })
}

/// Whether the link of `epoch` is still the one wanted.
pub fn current(srv: &Server, epoch: u64) -> bool {
    srv.repl.master.as_ref().is_some_and(|m| m.epoch == epoch)
}

/// Moves the link of `epoch` to `state`; false if that link is no longer wanted.
pub fn set_state(srv: &mut Server, epoch: u64, state: LinkState) -> bool {
    let now = srv.fx.now_ms.max(crate::util::time::now_ms());
    match srv.repl.master.as_mut().filter(|m| m.epoch == epoch) {
        Some(link) => {
            if state == LinkState::Transfer {
                link.transfer_size = -1;
                link.transfer_read = 0;
                link.transfer_last_io_ms = now;
            }
            link.state = state;
            true
        }
        None => false,
    }
}

/// Records progress of the RDB transfer (INFO master_sync_*).
pub fn transfer_progress(srv: &mut Server, epoch: u64, size: i64, read: i64) {
    let now = crate::util::time::now_ms();
    if let Some(link) = srv.repl.master.as_mut().filter(|m| m.epoch == epoch) {
        link.transfer_size = size;
        link.transfer_read = read;
        link.transfer_last_io_ms = now;
    }
}

/// The link of `epoch` failed or was closed (Redis's replicationHandleMasterDisconnection):
/// back to `Connect`, the master client goes, the link task tries again.
pub fn link_lost(srv: &mut Server, epoch: u64) {
    if !current(srv, epoch) {
        return;
    }
    let was_up = srv.repl.master.as_ref().is_some_and(|m| m.state == LinkState::Connected);
    free_master_client(srv);
    let now = crate::util::time::now_ms();
    if let Some(link) = srv.repl.master.as_mut() {
        link.state = LinkState::Connect;
        if was_up {
            link.down_since_ms = now;
        }
    }
    if was_up {
        crate::log::notice("Connection with master lost.");
    }
}

/// The RDB payload of a full resync arrived (Redis's readSyncBulkPayload): our replicas are
/// disconnected (they must resync against the new data), the dataset is replaced by the
/// image, the master's replication ID and offset become ours, and the master client is
/// created. An AOF in use is rewritten from the new data.
pub fn finish_full_sync(srv: &mut Server, epoch: u64, replid: &str, offset: i64, image: &[u8]) -> Result<(), String> {
    if !current(srv, epoch) {
        return Err("the master changed".into());
    }
    disconnect_replicas(srv);
    crate::log::notice("MASTER <-> REPLICA sync: Flushing old data");
    for id in 0..srv.dbs.len() {
        crate::cmd::keys::flush_db(srv, id, false);
    }
    crate::tracking::invalidate_on_flush(srv);
    crate::log::notice("MASTER <-> REPLICA sync: Loading DB in memory");
    let stream_db = crate::persist::load_replica_image(srv, image).map_err(|e| {
        crate::log::warning(&format!("Failed trying to load the MASTER synchronization DB from socket: {e}"));
        for id in 0..srv.dbs.len() {
            crate::cmd::keys::flush_db(srv, id, false);
        }
        e
    })?;
    srv.process.replid = replid.to_string();
    srv.repl.offset = offset.max(0) as u64;
    srv.repl.replid2 = "0".repeat(40);
    srv.repl.second_offset = -1;
    srv.repl.selected_db = None;
    srv.repl.cached_master = None;
    srv.repl.backlog = None;
    super::ensure_backlog(srv);
    create_master_client(srv, stream_db, offset);
    if srv.aof.accepts() {
        crate::persist::aof::stop(srv);
        if let Err(e) = crate::persist::aof::start(srv) {
            crate::log::warning(&format!("Failed enabling the AOF after successful master synchronization! ({e})"));
        }
    }
    crate::log::notice("MASTER <-> REPLICA sync: Finished with success");
    Ok(())
}

/// The master client of a link that just came up, in database `db`, at stream `offset`.
fn create_master_client(srv: &mut Server, db: usize, offset: i64) {
    let db = if db < srv.dbs.len() { db } else { 0 };
    let now = crate::util::time::now_ms();
    let slot = srv.clients.add(now);
    let id = {
        let c = &mut srv.clients[slot];
        c.set(flags::MASTER, true);
        c.authenticated = true;
        c.db = db;
        if let Some(link) = &srv.repl.master {
            c.addr = format!("{}:{}", link.host, link.port);
        }
        c.id
    };
    if let Some(link) = srv.repl.master.as_mut() {
        link.client_id = Some(id);
        link.state = LinkState::Connected;
        link.read_offset = offset;
        link.applied_offset = offset;
        link.processed_offset = offset;
        link.unproxied.clear();
        link.last_io_ms = now;
        link.down_since_ms = 0;
    }
}

/// The master answered +CONTINUE: the cached history goes on with the stream that follows
/// (Redis's replicationResurrectCachedMaster). A new replication ID from the master (it was
/// promoted meanwhile) becomes ours, the old one our secondary ID, and our replicas are
/// disconnected to learn it.
pub fn finish_partial_sync(srv: &mut Server, epoch: u64, new_replid: Option<&str>) -> Result<(), String> {
    if !current(srv, epoch) {
        return Err("the master changed".into());
    }
    let Some(cached) = srv.repl.cached_master.take() else {
        return Err("Master accepted a partial resynchronization we did not ask for".into());
    };
    if let Some(id) = new_replid.filter(|id| *id != cached.replid) {
        srv.repl.replid2 = std::mem::replace(&mut srv.process.replid, id.to_string());
        srv.repl.second_offset = cached.offset + 1;
        crate::log::notice(&format!("Master replication ID changed to {id}"));
        disconnect_replicas(srv);
    }
    super::ensure_backlog(srv);
    create_master_client(srv, cached.db, cached.offset);
    crate::log::notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    Ok(())
}

/// Counts bytes received on the stream (before they are applied).
pub fn stream_read(srv: &mut Server, epoch: u64, bytes: usize) {
    let now = crate::util::time::now_ms();
    if let Some(link) = srv.repl.master.as_mut().filter(|m| m.epoch == epoch) {
        link.read_offset += bytes as i64;
        link.last_io_ms = now;
    }
}

/// Runs one command of the master's stream (`raw` is its bytes as received) as the master
/// client, then proxies it to our replicas. False if the link of `epoch` is gone.
///
/// Keys past their TTL still exist for the master client (Redis's expireIfNeeded returns
/// "not expired" for it): the master sends the DEL when it expires them.
pub fn apply_command(srv: &mut Server, epoch: u64, args: &[&[u8]], raw: &[u8]) -> bool {
    let Some(slot) = master_slot(srv, epoch) else { return false };
    let keep_expired = std::mem::replace(&mut srv.fx.loading, true);
    let _ = crate::dispatch::process(srv, slot, args);
    srv.fx.loading = keep_expired;
    let now = srv.fx.now_ms;
    let in_multi = srv.clients.get_mut(slot).is_some_and(|c| {
        c.last_interaction_ms = now;
        c.has(flags::MULTI)
    });
    let Some(link) = srv.repl.master.as_mut() else { return true };
    link.processed_offset += raw.len() as i64;
    if in_multi {
        link.unproxied.extend_from_slice(raw);
        return true;
    }
    link.applied_offset = link.processed_offset;
    if link.unproxied.is_empty() {
        super::feed_raw(srv, raw);
    } else {
        let mut bytes = std::mem::take(&mut link.unproxied);
        bytes.extend_from_slice(raw);
        super::feed_raw(srv, &bytes);
    }
    true
}

/// The bytes to send back to the master (ACKs asked by REPLCONF GETACK), taken from the
/// master client's outbox.
pub fn take_output(srv: &mut Server, epoch: u64) -> Vec<u8> {
    match master_slot(srv, epoch) {
        Some(slot) => std::mem::take(&mut srv.clients[slot].outbox),
        None => Vec::new(),
    }
}

/// REPLCONF ACK <applied offset>, as the replica sends it every second and on GETACK.
pub fn ack_command(srv: &Server) -> Vec<u8> {
    let offset = srv.repl.master.as_ref().map_or(0, |m| m.applied_offset);
    let mut out = Vec::new();
    super::encode_command(&mut out, &[b"REPLCONF".to_vec(), b"ACK".to_vec(), offset.to_string().into_bytes()]);
    out
}

/// REPLCONF GETACK from the master: queue an ACK for the link task to send.
pub fn queue_ack(srv: &mut Server, slot: usize) {
    let ack = ack_command(srv);
    srv.clients[slot].outbox.extend_from_slice(&ack);
}
