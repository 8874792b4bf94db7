//! FUNCTION: Redis 7 function libraries. The library store lives in `Server::functions`.

use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, NOSCRIPT, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

static SUBCOMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "flush",
    arity: -2,
    flags: WRITE | NOSCRIPT,
    acl: acl::SCRIPTING,
    handler: Some(function_flush),
    group: Group::Scripting,
    since: "7.0.0",
    summary: "Deletes all libraries and functions.",
    complexity: "O(N) where N is the number of functions deleted",
    args: "flush-type=[ASYNC|SYNC]",
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    ..CommandSpec::DEFAULT
}];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "function",
    arity: -2,
    group: Group::Scripting,
    since: "7.0.0",
    summary: "A container for function commands.",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

fn function_flush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    if args.len() == 3 && !args::is(args[2], "sync") && !args::is(args[2], "async") {
        return Err(err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.srv.functions.clear();
    ctx.dirty(1);
    Ok(Reply::Ok)
}
