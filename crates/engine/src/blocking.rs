//! Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK…) and how they are served.
//!
//! A blocked client is registered under each key it waits for, in arrival order. A write that
//! may serve them (a push, an add, RENAME onto the key…) marks the key ready; after the
//! command, [`serve_ready_keys`] re-runs each waiting client's command, first come first
//! served, while the key can still serve them, and queues the reply in the client's outbox.
//! During the re-run the client's `served_key` names the key that became ready: a client
//! blocked on several keys is served from that one, as Redis serves it. The re-run is not a
//! new call in the stats (Redis counted it when it blocked); only its time and errors are
//! added.

use std::collections::VecDeque;

use crate::client::{flags, BlockKind, BlockState};
use crate::cmd::table::Command;
use crate::ctx::Ctx;
use crate::keyspace::ValueRef;
use crate::reply::Reply;
use crate::server::Server;

/// Registers the client as blocked on `state.keys`.
pub fn block_client(srv: &mut Server, slot: usize, state: BlockState) {
    let id = srv.clients[slot].id;
    let db = &mut srv.dbs[state.db];
    for key in &state.keys {
        db.blocking.entry(key.clone()).or_insert_with(VecDeque::new).push_back(id);
    }
    let client = &mut srv.clients[slot];
    client.set(flags::BLOCKED, true);
    client.blocked = Some(state);
    srv.blocked_clients += 1;
}

/// Removes the client's registrations; returns what it was waiting for, if blocked.
pub fn unblock(srv: &mut Server, slot: usize) -> Option<BlockState> {
    let client = srv.clients.get_mut(slot)?;
    let state = client.blocked.take()?;
    let id = client.id;
    client.set(flags::BLOCKED, false);
    let db = &mut srv.dbs[state.db];
    for key in &state.keys {
        if let Some(queue) = db.blocking.get_mut(key) {
            queue.retain(|&c| c != id);
            if queue.is_empty() {
                db.blocking.remove(key);
            }
        }
    }
    srv.blocked_clients -= 1;
    Some(state)
}

/// The client's timeout passed: unblocks it and returns the timeout reply to send, or None
/// if it was served meanwhile.
pub fn timeout(srv: &mut Server, slot: usize) -> Option<Reply> {
    let state = unblock(srv, slot)?;
    Some(timeout_reply(srv, state))
}

/// What a client gets when its wait ends unserved: the reply fixed when it blocked, or for
/// WAIT the number of replicas that acknowledged its offset by now.
fn timeout_reply(srv: &Server, state: BlockState) -> Reply {
    match state.kind {
        BlockKind::Wait => crate::replication::wait::timeout_reply(srv, &state),
        _ => state.timeout_reply,
    }
}

/// Whether `key` can serve a client blocked with `kind`: None when the key is gone (then
/// no list or zset client behind can be served either), else whether it has the type the
/// client waits for.
fn can_serve(srv: &Server, db: usize, key: &[u8], kind: BlockKind) -> Option<bool> {
    let entry = srv.dbs[db].peek(key)?;
    if entry.expire().is_some_and(|w| w <= srv.fx.now_ms) {
        return None;
    }
    let type_name = match entry.value() {
        ValueRef::Str(_) => "string",
        ValueRef::Object(o) => o.type_name(),
    };
    Some(match kind {
        BlockKind::List => type_name == "list",
        BlockKind::ZSet => type_name == "zset",
        BlockKind::Stream => type_name == "stream",
        BlockKind::Module | BlockKind::Wait | BlockKind::Pause => false,
    })
}

/// Serves clients blocked on keys that became ready, until no key is ready.
pub fn serve_ready_keys(srv: &mut Server) {
    while !srv.fx.ready_keys.is_empty() {
        let mut ready = std::mem::take(&mut srv.fx.ready_keys);
        ready.dedup();
        for (db, key) in ready {
            serve_key(srv, db, &key);
        }
        if !srv.fx.events.is_empty() {
            crate::pubsub::publish_keyspace_events(srv);
        }
    }
}

fn serve_key(srv: &mut Server, db: usize, key: &[u8]) {
    // As Redis's handleClientsBlockedOnKeys: clients are served against a time read now and
    // fixed while they are, and a key whose TTL passed meanwhile (a MULTI with DEBUG SLEEP)
    // is expired first, its DEL propagated, its waiters left blocked.
    srv.fx.now_ms = srv.clock.ms_at(crate::util::time::mono_ns());
    srv.dbs[db].contains(&mut srv.fx, key);
    let Some(queue) = srv.dbs[db].blocking.get(key) else { return };
    let waiting: Vec<u64> = queue.iter().copied().collect();
    for id in waiting {
        let Some(slot) = srv.clients.slot_of(id) else { continue };
        let Some(kind) = srv.clients[slot].blocked.as_ref().map(|b| b.kind) else { continue };
        if kind == BlockKind::Stream {
            // Stream readers are each served when the stream passed their ID, and
            // XREADGROUP readers also when their key or group went away.
            if !crate::cmd::stream_read::should_serve(srv, db, key, slot) {
                continue;
            }
        } else {
            match can_serve(srv, db, key, kind) {
                Some(true) => {}
                // A client waiting for another type is skipped, as Redis does.
                Some(false) => continue,
                // The key is gone: no list or zset reader can be served (a stream reader
                // further in the queue still may be told so).
                None => continue,
            }
        }
        srv.clients[slot].served_key = Some(key.to_vec());
        serve_client(srv, slot);
        if let Some(client) = srv.clients.get_mut(slot) {
            client.served_key = None;
        }
    }
}

/// Re-runs a blocked client's command now that a key is ready; queues its reply. A client
/// left unblocked with parked requests is queued for the connection layer to run them.
pub fn serve_client(srv: &mut Server, slot: usize) {
    serve_blocked_command(srv, slot);
    if let Some(c) = srv.clients.get(slot) {
        if c.blocked.is_none() && !c.parked_input.is_empty() {
            srv.unblocked_with_input.push(c.id);
        }
    }
}

fn serve_blocked_command(srv: &mut Server, slot: usize) {
    let Some(state) = unblock(srv, slot) else { return };
    let args: Vec<&[u8]> = state.args.iter().map(|a| a.as_slice()).collect();
    if state.kind == BlockKind::Pause {
        // A postponed command goes through every check again, as if just received.
        let mut out = Vec::new();
        crate::dispatch::process_into(srv, slot, &args, &mut out);
        if srv.clients.get(slot).is_some_and(|c| c.blocked.is_none()) {
            srv.clients[slot].push_output(&out);
        }
        return;
    }
    let saved_db = srv.clients[slot].db;
    srv.clients[slot].db = state.db;
    srv.clients[slot].blocked_extra = state.extra.clone();
    let reply = match srv.commands.lookup(&args) {
        crate::cmd::table::Found::Command(cmd) => rerun(srv, slot, cmd, &args),
        _ => return,
    };
    // What serving propagated (XREADGROUP's XCLAIMs) goes out now, as Redis's afterCommand
    // does for each served client.
    crate::replication::flush_pending(srv, true);
    let client = &mut srv.clients[slot];
    client.db = saved_db;
    client.blocked_extra.clear();
    if client.blocked.is_some() {
        // Still not servable: it blocked again (re-registered at the end of the queue).
        return;
    }
    let mut out = Vec::new();
    reply.encode(&mut out, client.resp3);
    client.push_output(&out);
}

/// Runs a blocked command again to serve it. Its call was counted when it blocked, so, as
/// Redis's updateStatsOnUnblock, this adds only its time and its errors to the stats.
fn rerun(srv: &mut Server, slot: usize, cmd: &'static Command, args: &[&[u8]]) -> Reply {
    let Some(handler) = cmd.spec.handler else { return Reply::NoReply };
    let start = std::time::Instant::now();
    let db = srv.clients[slot].db;
    let dirty_before = srv.fx.dirty;
    let outer_rewrite = srv.fx.rewrite.take();
    let mut ctx = Ctx { srv, slot, db, cmd, nested: false };
    let reply = handler(&mut ctx, args).unwrap_or_else(Reply::Error);
    let elapsed = start.elapsed();
    // A served command replicates on its own, right away (as Redis propagates each served
    // client in handleClientsBlockedOnKeys), as the command it chose (ZPOPMIN for BZPOPMIN).
    let rewrite = std::mem::replace(&mut srv.fx.rewrite, outer_rewrite);
    if srv.fx.propagating && srv.fx.dirty > dirty_before {
        match rewrite {
            Some(argv) if argv.is_empty() => {}
            Some(argv) => srv.fx.propagate.push((db, argv)),
            None => srv.fx.propagate.push((db, args.iter().map(|a| a.to_vec()).collect())),
        }
        crate::replication::flush_pending(srv, true);
    }
    srv.cmdstats[cmd.id].usec += elapsed.as_micros() as u64;
    if srv.clients.get(slot).is_some_and(|c| c.blocked.is_none()) {
        crate::introspection::slowlog_served(srv, slot, cmd, args, elapsed.as_micros() as u64);
    }
    let mut codes = Vec::new();
    reply.for_each_error(&mut |e| codes.push(e.code()));
    if !codes.is_empty() {
        srv.cmdstats[cmd.id].failed_calls += 1;
        for code in codes {
            srv.count_error(code);
        }
    }
    if srv.latency_tracking && srv.clients[slot].blocked.is_none() {
        srv.latency[cmd.id].record(elapsed.as_nanos() as u64);
    }
    reply
}

/// CLIENT UNBLOCK: unblocks with the timeout reply, or with an UNBLOCKED error (counted
/// against the blocked command, as Redis does).
pub fn unblock_by_request(srv: &mut Server, slot: usize, with_error: bool) -> bool {
    let Some(state) = unblock(srv, slot) else { return false };
    let reply = if with_error {
        let e = crate::error::err("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        srv.count_error(e.code());
        let args: Vec<&[u8]> = state.args.iter().map(|a| a.as_slice()).collect();
        if let crate::cmd::table::Found::Command(cmd) = srv.commands.lookup(&args) {
            srv.cmdstats[cmd.id].failed_calls += 1;
        }
        Reply::Error(e)
    } else {
        timeout_reply(srv, state)
    };
    let client = &mut srv.clients[slot];
    let mut out = Vec::new();
    reply.encode(&mut out, client.resp3);
    client.push_output(&out);
    true
}
