//! Persistence commands: SAVE, BGSAVE, LASTSAVE.

use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, ADMIN, FAST, LOADING, NOSCRIPT, NO_ASYNC_LOADING, NO_MULTI, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
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
    if ctx.srv.persistence.bgsave_in_progress {
        return Err(err("ERR Background save already in progress"));
    }
    crate::persist::save(ctx.srv).map_err(|_| Error::Msg("ERR".into()))?;
    Ok(Reply::Ok)
}

fn bgsave(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 1 {
        if args.len() != 2 || !args::is(args[1], "schedule") {
            return Err(Error::Syntax);
        }
        if ctx.srv.persistence.bgsave_in_progress {
            return Err(err("ERR Background save already in progress"));
        }
    }
    crate::persist::bgsave(ctx.srv).map_err(|e| err(format!("ERR {e}")))?;
    Ok(Reply::status("Background saving started"))
}

fn lastsave(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.srv.persistence.last_save_time))
}
