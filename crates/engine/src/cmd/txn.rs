//! Transactions (Redis's multi.c): MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatcher (commands are validated, then stored); EXEC runs the
//! queue through [`dispatch::call`] with the engine lock held, so nothing interleaves. A
//! WATCHed key modified by anyone marks the watcher in `Effects::dirty_cas`.

use crate::client::flags;
use crate::cmd::spec::{
    acl, key, CommandSpec, Group, KeySpec, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, SKIP_SLOWLOG, STALE,
};
use crate::cmd::table::Found;
use crate::ctx::Ctx;
use crate::dispatch;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::Watcher;
use crate::reply::Reply;
use crate::server::Server;

const TXN: u64 = acl::TRANSACTION;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        acl: TXN,
        handler: Some(multi),
        group: Group::Transactions,
        since: "1.2.0",
        summary: "Mark the start of a transaction block",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        acl: TXN,
        handler: Some(exec),
        group: Group::Transactions,
        since: "1.2.0",
        summary: "Execute all commands issued after MULTI",
        complexity: "Depends on commands in the transaction",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        acl: TXN,
        handler: Some(discard),
        group: Group::Transactions,
        since: "2.0.0",
        summary: "Discard all commands issued after MULTI",
        complexity: "O(N), when N is the number of queued commands",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        acl: TXN,
        key_specs: &[KeySpec::range(1, -1, 1, key::RO)],
        handler: Some(watch),
        group: Group::Transactions,
        since: "2.2.0",
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        complexity: "O(1) for every key.",
        args: "key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        acl: TXN,
        handler: Some(unwatch),
        group: Group::Transactions,
        since: "2.2.0",
        summary: "Forget about all watched keys",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
];

/// Drops all of a client's WATCHes and its dirty-CAS mark.
pub fn unwatch_all(srv: &mut Server, slot: usize) {
    let client = &mut srv.clients[slot];
    let id = client.id;
    for (db, key) in std::mem::take(&mut client.watched) {
        if let Some(watchers) = srv.dbs[db].watched.get_mut(&key) {
            watchers.retain(|w| w.client != id);
            if watchers.is_empty() {
                srv.dbs[db].watched.remove(&key);
            }
        }
    }
    srv.fx.dirty_cas.remove(&id);
}

/// Ends a transaction: queue dropped, flags cleared, WATCHes released.
pub fn discard_transaction(srv: &mut Server, slot: usize) {
    let client = &mut srv.clients[slot];
    client.multi = None;
    client.set(flags::MULTI | flags::DIRTY_EXEC, false);
    unwatch_all(srv, slot);
}

fn multi(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let client = ctx.client();
    if client.has(flags::MULTI) {
        return Err(err("ERR MULTI calls can not be nested"));
    }
    client.set(flags::MULTI, true);
    client.multi = Some(Default::default());
    Ok(Reply::Ok)
}

fn discard(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if !ctx.client().has(flags::MULTI) {
        return Err(err("ERR DISCARD without MULTI"));
    }
    discard_transaction(ctx.srv, ctx.slot);
    Ok(Reply::Ok)
}

/// Whether a WATCHed key that existed when watched has expired since (Redis's
/// isWatchedKeyExpired).
fn watched_key_expired(srv: &Server, slot: usize) -> bool {
    let now = srv.fx.now_ms;
    let id = srv.clients[slot].id;
    srv.clients[slot].watched.iter().any(|(db, key)| {
        let db = &srv.dbs[*db];
        let was_expired =
            db.watched.get(key).and_then(|ws| ws.iter().find(|w| w.client == id)).is_some_and(|w| w.expired);
        !was_expired && db.is_stale(key, now)
    })
}

fn exec(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let slot = ctx.slot;
    if !ctx.client().has(flags::MULTI) {
        return Err(err("ERR EXEC without MULTI"));
    }
    let id = ctx.client().id;
    let dirty_cas = ctx.srv.fx.dirty_cas.contains(&id) || watched_key_expired(ctx.srv, slot);
    if ctx.client().has(flags::DIRTY_EXEC) {
        discard_transaction(ctx.srv, slot);
        return Err(err("EXECABORT Transaction discarded because of previous errors."));
    }
    if dirty_cas {
        discard_transaction(ctx.srv, slot);
        return Ok(Reply::NilArray);
    }
    let queue = ctx.client().multi.take().map(|m| m.queue).unwrap_or_default();
    unwatch_all(ctx.srv, slot);
    let mut replies = Vec::with_capacity(queue.len());
    for queued in &queue {
        let args: Vec<&[u8]> = queued.args.iter().map(|a| a.as_slice()).collect();
        let reply = match ctx.srv.commands.lookup(&args) {
            Found::Command(cmd) => match crate::acl::check::check_exec(ctx.srv, slot, cmd, &args) {
                Some(e) => {
                    ctx.srv.count_error(e.code());
                    Reply::Error(e)
                }
                None => dispatch::call(ctx.srv, slot, cmd, &args, true),
            },
            _ => Reply::Error(Error::Syntax),
        };
        replies.push(reply);
    }
    discard_transaction(ctx.srv, slot);
    // The client's database may have changed with SELECT inside the transaction.
    ctx.db = ctx.client().db;
    Ok(Reply::Array(replies))
}

fn watch(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.client().has(flags::MULTI) {
        return Err(err("ERR WATCH inside MULTI is not allowed"));
    }
    let id = ctx.client().id;
    if ctx.srv.fx.dirty_cas.contains(&id) {
        return Ok(Reply::Ok);
    }
    let db = ctx.db;
    let now = ctx.now_ms();
    for key in &args[1..] {
        if ctx.client().watched.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        let expired = ctx.srv.dbs[db].is_stale(key, now);
        ctx.srv.dbs[db].watched.entry(key.to_vec()).or_default().push(Watcher { client: id, expired });
        ctx.client().watched.push((db, key.to_vec()));
    }
    Ok(Reply::Ok)
}

fn unwatch(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    unwatch_all(ctx.srv, ctx.slot);
    Ok(Reply::Ok)
}
