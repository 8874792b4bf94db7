//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP).
//! The scripting engine itself is in [`crate::script`].

use crate::cmd::args;
use crate::cmd::spec::{
    acl, key, CommandSpec, Group, KeySpec, ALLOW_BUSY, LOADING, MAY_REPLICATE, NOSCRIPT, NO_MANDATORY_KEYS, READONLY,
    SKIP_MONITOR, STALE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::script::run::{self, Func, Invocation};
use crate::script::Sha;

const EVAL_KEYS_RW: &[KeySpec] = &[KeySpec::keynum(2, key::RW | key::ACCESS | key::UPDATE)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const EVALSHA_KEYS_RW: &[KeySpec] = &[KeySpec::keynum(2, key::RW | key::ACCESS | key::UPDATE)];
const EVAL_KEYS_RO: &[KeySpec] = &[KeySpec::keynum(2, key::RO | key::ACCESS)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const EVALSHA_KEYS_RO: &[KeySpec] = &[KeySpec::keynum(2, key::RO | key::ACCESS)];

const EVAL_FLAGS: u64 = NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE;
const EVAL_RO_FLAGS: u64 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY;

static SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "exists",
        arity: -3,
        flags: NOSCRIPT,
        acl: acl::SCRIPTING,
        handler: Some(script_exists),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Check existence of scripts in the script cache.",
        complexity:
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        args: "sha1...",
        tips: &["request_policy:all_shards", "response_policy:agg_logical_and"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flush",
        arity: -2,
        flags: NOSCRIPT,
        acl: acl::SCRIPTING,
        handler: Some(script_flush),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Remove all the scripts from the script cache.",
        complexity: "O(N) with N being the number of scripts in cache",
        args: "async=[ASYNC|SYNC]{6.2.0}",
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        history: &[("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        acl: acl::SCRIPTING,
        handler: Some(script_help),
        group: Group::Scripting,
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "kill",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        acl: acl::SCRIPTING,
        handler: Some(script_kill),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Kill the script currently in execution.",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "load",
        arity: 3,
        flags: NOSCRIPT | STALE,
        acl: acl::SCRIPTING,
        handler: Some(script_load),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Load the specified Lua script into the script cache.",
        complexity: "O(N) with N being the length in bytes of the script body.",
        args: "script",
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "eval",
        arity: -3,
        flags: EVAL_FLAGS,
        acl: acl::SCRIPTING,
        key_specs: EVAL_KEYS_RW,
        handler: Some(eval),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Execute a Lua script server side",
        complexity: "Depends on the script that is executed.",
        args: "script numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "evalsha",
        arity: -3,
        flags: EVAL_FLAGS,
        acl: acl::SCRIPTING,
        key_specs: EVALSHA_KEYS_RW,
        handler: Some(evalsha),
        group: Group::Scripting,
        since: "2.6.0",
        summary: "Execute a Lua script server side",
        complexity: "Depends on the script that is executed.",
        args: "sha1 numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "eval_ro",
        arity: -3,
        flags: EVAL_RO_FLAGS,
        acl: acl::SCRIPTING,
        key_specs: EVAL_KEYS_RO,
        handler: Some(eval_ro),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        complexity: "Depends on the script that is executed.",
        args: "script numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "evalsha_ro",
        arity: -3,
        flags: EVAL_RO_FLAGS,
        acl: acl::SCRIPTING,
        key_specs: EVALSHA_KEYS_RO,
        handler: Some(evalsha_ro),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Execute a read-only Lua script server side",
        complexity: "Depends on the script that is executed.",
        args: "sha1 numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "script",
        arity: -2,
        group: Group::Scripting,
        since: "2.6.0",
        summary: "A container for Lua scripts management commands",
        complexity: "Depends on subcommand.",
        subcommands: SCRIPT_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

const NOSCRIPT_ERROR: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

/// Redis's evalGenericCommand.
fn eval_generic(ctx: &mut Ctx, args: &[&[u8]], by_sha: bool, ro: bool) -> CmdResult {
    // Monitors see the script before the commands it runs.
    crate::introspection::feed_monitors(ctx.srv, ctx.slot, args);
    if by_sha && args[1].len() != 40 {
        return Err(err(NOSCRIPT_ERROR));
    }
    let numkeys = run::parse_numkeys(args, Error::NotInteger)?;
    let sha = if by_sha { Sha::parse(args[1]) } else { Some(Sha::of_body(args[1])) };
    let Some(sha) = sha else { return Err(err(NOSCRIPT_ERROR)) };
    let scripts = &mut ctx.srv.scripts;
    let flags = match scripts.scripts.get(sha.as_str()) {
        Some(script) => script.flags,
        None if by_sha => return Err(err(NOSCRIPT_ERROR)),
        None => {
            scripts.create_eval(args[1]).map_err(|e| err(format!("ERR {e}")))?;
            scripts.scripts.get(sha.as_str()).map_or(crate::script::run::EVAL_COMPAT_MODE, |s| s.flags)
        }
    };
    let fname = sha.function_name();
    let fname = std::ffi::CStr::from_bytes_with_nul(&fname).map_err(|_| err(NOSCRIPT_ERROR))?;
    let inv = Invocation {
        eval: true,
        name: sha.as_str(),
        flags,
        ro,
        keys: &args[3..3 + numkeys],
        args: &args[3 + numkeys..],
        command: args,
    };
    let reply = run::run(ctx, &inv, Func::Registry(fname));
    ctx.srv.lua_memory = ctx.srv.scripts.eval_vm_memory() as u64;
    reply
}

const SCRIPT_HELP: &[&str] = &[
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
];

fn script_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(args[0], SCRIPT_HELP))
}

fn script_flush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let valid = args.len() == 2 || (args.len() == 3 && (args::is(args[2], "sync") || args::is(args[2], "async")));
    if !valid {
        return Err(err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.srv.scripts.flush_eval();
    ctx.srv.lua_memory = ctx.srv.scripts.eval_vm_memory() as u64;
    Ok(Reply::Ok)
}

fn script_exists(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let scripts = &ctx.srv.scripts.scripts;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|sha| {
                let key = String::from_utf8_lossy(sha).to_ascii_lowercase();
                Reply::Int(scripts.contains_key(&key) as i64)
            })
            .collect(),
    ))
}

fn script_load(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sha = ctx.srv.scripts.create_eval(args[2]).map_err(|e| err(format!("ERR {e}")))?;
    Ok(Reply::bulk_str(&sha))
}

fn script_kill(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.srv.scripts.watch.kill(true)?;
    Ok(Reply::Ok)
}
