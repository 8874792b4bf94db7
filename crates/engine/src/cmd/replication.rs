//! Replication commands. The master side: SYNC/PSYNC (always a full resynchronization),
//! REPLCONF; a replica (redis-server with `replicaof`, or a tool) gets an RDB snapshot and
//! then the stream of writes (see crate::replication). The replica side: REPLICAOF/SLAVEOF
//! (see crate::replication::replica). ROLE for both.

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::spec::{
    acl, CommandSpec, Group, ADMIN, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI, SENTINEL, STALE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

/// REPLICAOF's and SLAVEOF's arguments.
const REPLICAOF_ARGS: &str = "args=(host-port=(host port:integer)|no-one=(NO ONE))";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "replicaof",
        arity: 3,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE,
        handler: Some(replicaof),
        group: Group::Server,
        since: "5.0.0",
        summary: "Make the server a replica of another instance, or promote it as master.",
        complexity: "O(1)",
        args: REPLICAOF_ARGS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "slaveof",
        arity: 3,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE,
        handler: Some(replicaof),
        group: Group::Server,
        since: "1.0.0",
        summary: "Make the server a replica of another instance, or promote it as master.",
        complexity: "O(1)",
        args: REPLICAOF_ARGS,
        deprecated_since: Some("5.0.0"),
        replaced_by: Some("`REPLICAOF`"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sync",
        arity: 1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        handler: Some(sync),
        group: Group::Server,
        summary: "Internal command used for replication",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psync",
        arity: -3,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        handler: Some(psync),
        group: Group::Server,
        since: "2.8.0",
        summary: "Internal command used for replication",
        args: "replicationid offset:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "replconf",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        handler: Some(replconf),
        group: Group::Server,
        since: "3.0.0",
        summary: "An internal command for configuring the replication stream",
        complexity: "O(1)",
        syscmd: true,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: NOSCRIPT,
        acl: acl::CONNECTION,
        handler: Some(wait),
        group: Group::Generic,
        since: "3.0.0",
        summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:agg_min"],
        args: "numreplicas:integer timeout:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "role",
        arity: 1,
        flags: NOSCRIPT | LOADING | STALE | FAST | SENTINEL,
        acl: acl::ADMIN | acl::DANGEROUS,
        handler: Some(role),
        group: Group::Server,
        since: "2.8.12",
        summary: "Return the role of the instance in the context of replication",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
];

/// Starts a full resynchronization: the RDB payload now, the write stream afterwards.
fn full_sync(ctx: &mut Ctx, preamble: Option<String>) -> CmdResult {
    if ctx.client().has(flags::REPLICA) {
        return Ok(Reply::NoReply);
    }
    if !ctx.client().outbox.is_empty() {
        return Err(err("ERR SYNC and PSYNC are invalid with pending output"));
    }
    let image = crate::persist::serialize(ctx.srv, true)
        .map_err(|e| err(format!("ERR failed to create the RDB for replication: {e}")))?;
    let mut out = Vec::with_capacity(image.len() + 64);
    if let Some(p) = preamble {
        out.extend_from_slice(p.as_bytes());
    }
    out.extend_from_slice(format!("${}\r\n", image.len()).as_bytes());
    out.extend_from_slice(&image);
    crate::replication::attach_replica(ctx.srv, ctx.slot, true);
    ctx.srv.repl.sync_stats.full += 1;
    crate::log::notice(&format!("Synchronization with replica {} succeeded", ctx.client_ref().addr));
    Ok(Reply::Raw(out))
}

/// A replica whose own link is down has nothing consistent to offer (syncCommand).
fn check_master_link(ctx: &Ctx) -> Result<(), crate::error::Error> {
    if crate::replication::replica::link_down(ctx.srv) {
        return Err(err("NOMASTERLINK Can't SYNC while not connected with my master"));
    }
    Ok(())
}

fn sync(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if ctx.client_ref().has(flags::REPLICA) {
        return Ok(Reply::NoReply);
    }
    check_master_link(ctx)?;
    full_sync(ctx, None)
}

fn psync(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.client_ref().has(flags::REPLICA) {
        return Ok(Reply::NoReply);
    }
    check_master_link(ctx)?;
    let offset = args::int(args[2])?;
    if let Some(reply) = partial_sync(ctx, args[1], offset) {
        ctx.srv.repl.sync_stats.partial_ok += 1;
        return Ok(reply);
    }
    if args[1] != b"?" {
        ctx.srv.repl.sync_stats.partial_err += 1;
    }
    let preamble = format!("+FULLRESYNC {} {}\r\n", ctx.srv.process.replid, ctx.srv.repl.offset);
    full_sync(ctx, Some(preamble))
}

/// Redis's masterTryPartialResynchronization: the replica's history is ours (our replication
/// ID, or the previous one up to where it stopped being valid) and the backlog still holds
/// everything after `offset`: +CONTINUE and the missing bytes.
fn partial_sync(ctx: &mut Ctx, replid: &[u8], offset: i64) -> Option<Reply> {
    let srv = &*ctx.srv;
    let ours = replid == srv.process.replid.as_bytes()
        || (replid == srv.repl.replid2.as_bytes() && offset <= srv.repl.second_offset);
    if !ours {
        if replid != b"?" {
            crate::log::notice(&format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                String::from_utf8_lossy(replid),
                srv.process.replid,
                srv.repl.replid2
            ));
        }
        return None;
    }
    let Some(missing) = u64::try_from(offset).ok().and_then(|o| srv.repl.backlog.as_ref()?.since(o)) else {
        crate::log::notice(&format!(
            "Unable to partial resync with replica {} for lack of backlog (Replica request was: {offset}).",
            ctx.client_ref().addr
        ));
        return None;
    };
    let mut out = format!("+CONTINUE {}\r\n", srv.process.replid).into_bytes();
    out.extend_from_slice(&missing);
    crate::log::notice(&format!(
        "Partial resynchronization request from {} accepted. Sending {} bytes of backlog starting from offset {offset}.",
        ctx.client_ref().addr,
        missing.len()
    ));
    crate::replication::attach_replica(ctx.srv, ctx.slot, false);
    Some(Reply::Raw(out))
}

fn replconf(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(crate::error::Error::Syntax);
    }
    let mut i = 1;
    while i + 1 < args.len() {
        let (opt, val) = (args[i], args[i + 1]);
        if args::is(opt, "listening-port") {
            ctx.client().repl_listening_port = args::int(val)?.clamp(0, 65535) as u16;
        } else if args::is(opt, "ack") {
            // Acknowledgements carry no reply.
            let now = ctx.srv.fx.now_ms;
            let c = ctx.client();
            c.repl_ack_offset = args::int(val)?.max(0) as u64;
            c.repl_ack_ms = now;
            crate::replication::wait::serve_waiting(ctx.srv);
            return Ok(Reply::NoReply);
        } else if args::is(opt, "getack") {
            // Only our master asks; the ACK is its one reply.
            if ctx.client_ref().has(flags::MASTER) {
                crate::replication::replica::queue_ack(ctx.srv, ctx.slot);
            }
            return Ok(Reply::NoReply);
        } else if args::is(opt, "ip-address") || args::is(opt, "capa") || args::is(opt, "rdb-only") {
        } else {
            return Err(err(format!("ERR Unrecognized REPLCONF option: {}", String::from_utf8_lossy(opt))));
        }
        i += 2;
    }
    Ok(Reply::Ok)
}

/// WAIT numreplicas timeout: see crate::replication::wait.
fn wait(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if crate::replication::replica::is_replica(ctx.srv) {
        return Err(err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let numreplicas = args::int(args[1])?;
    let deadline = args::timeout_deadline(args[2], ctx.srv.fx.now_ms, false)?;
    let offset = ctx.client_ref().woff;
    let acked = crate::replication::wait::count_acks(ctx.srv, offset);
    // Inside MULTI (and scripts, where WAIT is refused anyway) it answers at once.
    if acked >= numreplicas || !ctx.can_block() {
        return Ok(Reply::Int(acked));
    }
    let state = crate::replication::wait::block_state(ctx.db, args, deadline, offset, numreplicas);
    ctx.block(state);
    crate::replication::wait::request_acks(ctx.srv);
    Ok(Reply::NoReply)
}

/// REPLICAOF host port | NO ONE (Redis's replicaofCommand).
fn replicaof(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.srv.config.bool("cluster-enabled") {
        return Err(err("ERR REPLICAOF not allowed in cluster mode."));
    }
    let who = {
        let c = ctx.client_ref();
        format!(
            "id={} addr={} laddr={} name={}",
            c.id,
            c.addr,
            c.laddr,
            String::from_utf8_lossy(c.name.as_deref().unwrap_or_default())
        )
    };
    if args::is(args[1], "no") && args::is(args[2], "one") {
        if crate::replication::replica::is_replica(ctx.srv) {
            crate::replication::replica::unset_master(ctx.srv);
            crate::log::notice(&format!("MASTER MODE enabled (user request from '{who}')"));
        }
        return Ok(Reply::Ok);
    }
    if ctx.client_ref().has(flags::REPLICA) {
        return Err(err("ERR Command is not valid when client is a replica."));
    }
    let port =
        args::int(args[2]).ok().filter(|p| (0..=65535).contains(p)).ok_or_else(|| err("ERR Invalid master port"))?
            as u16;
    let host = String::from_utf8_lossy(args[1]).into_owned();
    if let Some(link) = &ctx.srv.repl.master {
        if link.host.eq_ignore_ascii_case(&host) && link.port == port {
            crate::log::notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return Ok(Reply::status("OK Already connected to specified master"));
        }
    }
    crate::replication::replica::set_master(ctx.srv, &host, port);
    crate::log::notice(&format!("REPLICAOF {host}:{port} enabled (user request from '{who}')"));
    Ok(Reply::Ok)
}

fn role(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let srv = &*ctx.srv;
    if let Some(link) = &srv.repl.master {
        let offset = match link.client_id {
            Some(_) => link.applied_offset,
            None => -1,
        };
        return Ok(Reply::Array(vec![
            Reply::bulk_str("slave"),
            Reply::bulk_str(&link.host),
            Reply::Int(link.port as i64),
            Reply::bulk_str(link.state.role_name()),
            Reply::Int(offset),
        ]));
    }
    let replicas = srv
        .repl
        .replicas
        .iter()
        .filter_map(|id| srv.clients.slot_of(*id).and_then(|s| srv.clients.get(s)))
        .map(|c| {
            let ip = c.addr.rsplit_once(':').map_or(c.addr.as_str(), |(ip, _)| ip);
            Reply::Array(vec![
                Reply::bulk_str(ip),
                Reply::bulk_i64(c.repl_listening_port as i64),
                Reply::bulk_i64(c.repl_ack_offset as i64),
            ])
        })
        .collect();
    Ok(Reply::Array(vec![Reply::bulk_str("master"), Reply::Int(srv.repl.offset as i64), Reply::Array(replicas)]))
}
