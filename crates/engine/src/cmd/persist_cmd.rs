//! Persistence commands: SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF.

use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, ADMIN, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::persist::snapshot::Purpose;
use crate::reply::Reply;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "save",
        arity: 1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        handler: Some(save),
        group: Group::Server,
        summary: "Synchronously save the dataset to disk",
        complexity: "O(N) where N is the total number of keys in all databases",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgsave",
        arity: -1,
        flags: ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        handler: Some(bgsave),
        group: Group::Server,
        summary: "Asynchronously save the dataset to disk",
        complexity: "O(1)",
        args: "[SCHEDULE]{3.2.2}",
        history: &[("3.2.2", "Added the `SCHEDULE` option.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bgrewriteaof",
        arity: 1,
        flags: NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        handler: Some(bgrewriteaof),
        group: Group::Server,
        summary: "Asynchronously rewrite the append-only file",
        complexity: "O(1)",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        acl: acl::ADMIN | acl::DANGEROUS,
        handler: Some(lastsave),
        group: Group::Server,
        summary: "Get the UNIX time stamp of the last successful save to disk",
        complexity: "O(1)",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

fn save(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if ctx.srv.persistence.bgsave_in_progress() {
        return Err(err("ERR Background save already in progress"));
    }
    crate::persist::save(ctx.srv).map_err(|_| Error::Msg("ERR".into()))?;
    Ok(Reply::Ok)
}

fn bgsave(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut schedule = false;
    if args.len() > 1 {
        if args.len() == 2 && args::is(args[1], "schedule") {
            schedule = true;
        } else {
            return Err(Error::Syntax);
        }
    }
    let p = &mut ctx.srv.persistence;
    if p.bgsave_in_progress() {
        return Err(err("ERR Background save already in progress"));
    }
    if p.snapshot.is_some() || ctx.nested {
        if schedule || ctx.nested {
            p.bgsave_scheduled = true;
            return Ok(Reply::status("Background saving scheduled"));
        }
        return Err(err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    }
    crate::persist::bgsave(ctx.srv).map_err(|_| Error::Msg("ERR".into()))?;
    Ok(Reply::status("Background saving started"))
}

fn bgrewriteaof(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let job = ctx.srv.persistence.snapshot.as_ref().map(|j| j.purpose);
    if job == Some(Purpose::AofBase) {
        return Err(err("ERR Background append only file rewriting already in progress"));
    }
    if job.is_some() || ctx.nested {
        ctx.srv.aof.rewrite_scheduled = true;
        ctx.srv.aof.rewrites_consecutive_failures = 0;
        return Ok(Reply::status("Background append only file rewriting scheduled"));
    }
    crate::persist::aof::rewrite::start(ctx.srv).map_err(|_| {
        err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
    })?;
    Ok(Reply::status("Background append only file rewriting started"))
}

fn lastsave(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.srv.persistence.last_save_time))
}
