//! The master side of replication: SYNC/PSYNC (always a full resynchronization), REPLCONF,
//! ROLE. A replica (redis-server with `replicaof`, or a tool) gets an RDB snapshot and then
//! the stream of writes (see crate::replication).

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::spec::{
    acl, CommandSpec, Group, ADMIN, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI, SENTINEL, STALE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

pub static COMMANDS: &[CommandSpec] = &[
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
    crate::replication::attach_replica(ctx.srv, ctx.slot);
    crate::log::notice(&format!("Synchronization with replica {} succeeded", ctx.client_ref().addr));
    Ok(Reply::Raw(out))
}

fn sync(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    full_sync(ctx, None)
}

fn psync(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    args::int(args[2])?;
    let preamble = format!("+FULLRESYNC {} {}\r\n", ctx.srv.process.replid, ctx.srv.repl.offset);
    full_sync(ctx, Some(preamble))
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
            ctx.client().repl_ack_offset = args::int(val)?.max(0) as u64;
            return Ok(Reply::NoReply);
        } else if args::is(opt, "getack") {
            return Ok(Reply::NoReply);
        } else if args::is(opt, "ip-address") || args::is(opt, "capa") || args::is(opt, "rdb-only") {
        } else {
            return Err(err(format!("ERR Unrecognized REPLCONF option: {}", String::from_utf8_lossy(opt))));
        }
        i += 2;
    }
    Ok(Reply::Ok)
}

fn role(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let srv = &*ctx.srv;
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
