//! FUNCTION (LOAD, LIST, DELETE, FLUSH, DUMP, RESTORE, STATS, KILL, HELP), FCALL and
//! FCALL_RO: Redis 7 function libraries. The library store is
//! [`crate::script::functions::FunctionStore`], in `Server::scripts`.

use crate::cmd::args;
use crate::cmd::spec::{
    acl, key, CommandSpec, Group, KeySpec, ALLOW_BUSY, DENYOOM, LOADING, MAY_REPLICATE, NOSCRIPT, NO_MANDATORY_KEYS,
    READONLY, SKIP_MONITOR, STALE, WRITE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;
use crate::script::functions::{self, RestorePolicy};
use crate::script::run::{self, Func, Invocation};

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "delete",
        arity: 3,
        flags: NOSCRIPT | WRITE,
        acl: acl::SCRIPTING,
        handler: Some(function_delete),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Delete a function by name",
        complexity: "O(1)",
        args: "library-name",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: NOSCRIPT,
        acl: acl::SCRIPTING,
        handler: Some(function_dump),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Dump all functions into a serialized binary payload",
        complexity: "O(N) where N is the number of functions",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flush",
        arity: -2,
        flags: NOSCRIPT | WRITE,
        acl: acl::SCRIPTING,
        handler: Some(function_flush),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Deleting all functions",
        complexity: "O(N) where N is the number of functions deleted",
        args: "async=[ASYNC|SYNC]",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        acl: acl::SCRIPTING,
        handler: Some(function_help),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "kill",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        acl: acl::SCRIPTING,
        handler: Some(function_kill),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Kill the function currently in execution.",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:one_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "list",
        arity: -2,
        flags: NOSCRIPT,
        acl: acl::SCRIPTING,
        handler: Some(function_list),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "List information about all the functions",
        complexity: "O(N) where N is the number of functions",
        args: "[LIBRARYNAME library-name-pattern] [WITHCODE]",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "load",
        arity: -3,
        flags: NOSCRIPT | WRITE | DENYOOM,
        acl: acl::SCRIPTING,
        handler: Some(function_load),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Create a function with the given arguments (name, code, description)",
        complexity: "O(1) (considering compilation time is redundant)",
        args: "[REPLACE] function-code",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore",
        arity: -3,
        flags: NOSCRIPT | WRITE | DENYOOM,
        acl: acl::SCRIPTING,
        handler: Some(function_restore),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Restore all the functions on the given payload",
        complexity: "O(N) where N is the number of functions on the payload",
        args: "serialized-value policy=[FLUSH|APPEND|REPLACE]",
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "stats",
        arity: 2,
        flags: NOSCRIPT | ALLOW_BUSY,
        acl: acl::SCRIPTING,
        handler: Some(function_stats),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Return information about the function currently running (name, description, duration)",
        complexity: "O(1)",
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        ..CommandSpec::DEFAULT
    },
];

const FCALL_KEYS: &[KeySpec] = &[KeySpec::keynum(2, key::RW | key::ACCESS | key::UPDATE)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const FCALL_RO_KEYS: &[KeySpec] = &[KeySpec::keynum(2, key::RO | key::ACCESS)
    .with_notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "function",
        arity: -2,
        group: Group::Scripting,
        since: "7.0.0",
        summary: "A container for function commands",
        complexity: "Depends on subcommand.",
        subcommands: SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "fcall",
        arity: -3,
        flags: NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE,
        acl: acl::SCRIPTING,
        key_specs: FCALL_KEYS,
        handler: Some(fcall),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Invoke a function",
        complexity: "Depends on the function that is executed.",
        args: "function numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "fcall_ro",
        arity: -3,
        flags: NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY,
        acl: acl::SCRIPTING,
        key_specs: FCALL_RO_KEYS,
        handler: Some(fcall_ro),
        group: Group::Scripting,
        since: "7.0.0",
        summary: "Invoke a read-only function",
        complexity: "Depends on the function that is executed.",
        args: "function numkeys:integer [key:key...] [arg...]",
        ..CommandSpec::DEFAULT
    },
];

fn fcall(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, args, true)
}

/// Redis's fcallCommandGeneric.
fn fcall_generic(ctx: &mut Ctx, args: &[&[u8]], ro: bool) -> CmdResult {
    // Monitors see the call before the commands it runs.
    crate::introspection::feed_monitors(ctx.srv, ctx.slot, args);
    let Some((_, f)) = ctx.srv.scripts.functions.find(args[1]) else {
        return Err(err("ERR Function not found"));
    };
    let (name, flags, fref) = (f.name.clone(), f.flags, f.fref);
    let numkeys = run::parse_numkeys(args, err("ERR Bad number of keys provided"))?;
    let inv = Invocation {
        eval: false,
        name: &name,
        flags,
        ro,
        keys: &args[3..3 + numkeys],
        args: &args[3 + numkeys..],
        command: args,
    };
    run::run(ctx, &inv, Func::Ref(fref))
}

fn function_load(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        if !args::is(args[pos], "replace") {
            return Err(err(format!("ERR Unknown option given: {}", String::from_utf8_lossy(args[pos]))));
        }
        replace = true;
        pos += 1;
    }
    let name = ctx
        .srv
        .scripts
        .functions
        .load(args[pos], replace, functions::LOAD_TIMEOUT_MS)
        .map_err(|e| err(format!("ERR {e}")))?;
    ctx.dirty(1);
    Ok(Reply::bulk_str(&name))
}

fn function_list(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if !with_code && args::is(a, "withcode") {
            with_code = true;
        } else if pattern.is_none() && args::is(a, "libraryname") {
            if i >= args.len() - 1 {
                return Err(err("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args[i]);
        } else {
            return Err(err(format!("ERR Unknown argument {}", String::from_utf8_lossy(a))));
        }
        i += 1;
    }
    let mut out = Vec::new();
    for lib in ctx.srv.scripts.functions.libraries.values() {
        if let Some(p) = pattern {
            if !crate::util::glob::matches(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let funcs = lib
            .functions
            .iter()
            .map(|f| {
                let flags = run::FLAG_NAMES
                    .iter()
                    .filter(|(bit, _)| f.flags & bit != 0)
                    .map(|(_, n)| Reply::Status((*n).into()))
                    .collect();
                Reply::Map(vec![
                    (Reply::bulk_str("name"), Reply::bulk_str(&f.name)),
                    (Reply::bulk_str("description"), f.desc.as_deref().map_or(Reply::Nil, Reply::bulk)),
                    (Reply::bulk_str("flags"), Reply::Set(flags)),
                ])
            })
            .collect();
        let mut entry = vec![
            (Reply::bulk_str("library_name"), Reply::bulk_str(&lib.name)),
            (Reply::bulk_str("engine"), Reply::bulk_str("LUA")),
            (Reply::bulk_str("functions"), Reply::Array(funcs)),
        ];
        if with_code {
            entry.push((Reply::bulk_str("library_code"), Reply::bulk(&lib.code)));
        }
        out.push(Reply::Map(entry));
    }
    Ok(Reply::Array(out))
}

fn function_delete(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if !ctx.srv.scripts.functions.delete(args[2]) {
        return Err(err("ERR Library not found"));
    }
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn function_flush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    if args.len() == 3 && !args::is(args[2], "sync") && !args::is(args[2], "async") {
        return Err(err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.srv.scripts.functions.clear();
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn function_dump(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let compress = ctx.srv.config.bool("rdbcompression");
    Ok(Reply::bulk_vec(functions::dump(&ctx.srv.scripts.functions, compress)))
}

fn function_restore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 4 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let policy = match args.get(3) {
        None => RestorePolicy::Append,
        Some(p) if args::is(p, "append") => RestorePolicy::Append,
        Some(p) if args::is(p, "replace") => RestorePolicy::Replace,
        Some(p) if args::is(p, "flush") => RestorePolicy::Flush,
        Some(_) => return Err(err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")),
    };
    let codes =
        functions::parse_dump(args[2], ctx.srv.skip_checksum_validation).map_err(|e| err(format!("ERR {e}")))?;
    functions::restore(&mut ctx.srv.scripts.functions, &codes, policy).map_err(|e| err(format!("ERR {e}")))?;
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn function_stats(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let watch = &ctx.srv.scripts.watch;
    if watch.is_running() {
        return Ok(watch.function_stats());
    }
    let (libraries, functions) = ctx.srv.scripts.library_counts();
    Ok(crate::script::busy::stats_reply(Reply::Nil, libraries, functions))
}

fn function_kill(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.srv.scripts.watch.kill(false)?;
    Ok(Reply::Ok)
}

const FUNCTION_HELP: &[&str] = &[
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
];

fn function_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(args[0], FUNCTION_HELP))
}
