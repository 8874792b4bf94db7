//! Server administration: INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN (MEMORY is in memory_cmd.rs).

use crate::cmd::args;
use crate::cmd::spec::{
    acl, CommandSpec, Group, ADMIN, ALLOW_BUSY, FAST, LOADING, NOSCRIPT, NO_MULTI, SENTINEL, STALE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::log;
use crate::reply::Reply;
use crate::server::{Server, ShutdownRequest};

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    handler: crate::cmd::spec::Handler,
    since: &'static str,
    summary: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        handler: Some(handler),
        group: Group::Server,
        since,
        summary,
        complexity: "O(1)",
        args,
        ..CommandSpec::DEFAULT
    }
}

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        complexity: "O(N) when N is the number of configuration parameters provided",
        history: &[("7.0.0", "Added the ability to pass multiple pattern parameters in one call")],
        ..sub(
            "get",
            -3,
            ADMIN | NOSCRIPT | LOADING | STALE,
            config_get,
            "2.0.0",
            "Get the values of configuration parameters",
            "parameter=(parameter)...",
        )
    },
    CommandSpec {
        complexity: "O(N) when N is the number of configuration parameters provided",
        history: &[("7.0.0", "Added the ability to set multiple parameters in one call.")],
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        ..sub(
            "set",
            -4,
            ADMIN | NOSCRIPT | LOADING | STALE,
            config_set,
            "2.0.0",
            "Set configuration parameters to the given values",
            "parameter_value=(parameter value)...",
        )
    },
    CommandSpec {
        ..sub(
            "resetstat",
            2,
            ADMIN | NOSCRIPT | LOADING | STALE,
            config_resetstat,
            "2.0.0",
            "Reset the stats returned by INFO",
            "",
        )
    },
    CommandSpec {
        ..sub(
            "rewrite",
            2,
            ADMIN | NOSCRIPT | LOADING | STALE,
            config_rewrite,
            "2.8.0",
            "Rewrite the configuration file with the in memory configuration",
            "",
        )
    },
    sub("help", 2, LOADING | STALE, config_help, "5.0.0", "Show helpful text about the different subcommands", ""),
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "info",
        arity: -1,
        flags: LOADING | STALE | SENTINEL,
        acl: acl::DANGEROUS,
        handler: Some(info),
        group: Group::Server,
        summary: "Get information and statistics about the server",
        complexity: "O(1)",
        args: "[section...]",
        history: &[("7.0.0", "Added support for taking multiple section arguments.")],
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config",
        arity: -2,
        group: Group::Server,
        since: "2.0.0",
        summary: "A container for server configuration commands",
        complexity: "Depends on subcommand.",
        subcommands: CONFIG_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        handler: Some(time),
        group: Group::Server,
        since: "2.6.0",
        summary: "Return the current server time",
        complexity: "O(1)",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY | SENTINEL,
        handler: Some(shutdown),
        group: Group::Server,
        summary: "Synchronously save the dataset to disk and then shut down the server",
        complexity:
            "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        args: "nosave_save=[NOSAVE|SAVE] [NOW]{7.0.0} [FORCE]{7.0.0} [ABORT]{7.0.0}",
        history: &[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")],
        ..CommandSpec::DEFAULT
    },
];

fn info(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sel = crate::info::Selection::from_args(&args[1..]);
    Ok(Reply::Verbatim(crate::info::generate(ctx.srv, &sel).into_bytes()))
}

fn config_get(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pairs = ctx.srv.config.get(&args[2..]);
    Ok(Reply::Map(pairs.into_iter().map(|(k, v)| (Reply::bulk(k.as_bytes()), Reply::bulk_vec(v))).collect()))
}

fn config_set(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() % 2 != 0 {
        return Err(Error::Syntax);
    }
    // Secrets are hidden from the slow log and MONITOR even if the command then fails.
    for (i, pair) in args[2..].chunks(2).enumerate() {
        if std::str::from_utf8(pair[0]).is_ok_and(|n| crate::config::Config::is_sensitive(&n.to_ascii_lowercase())) {
            crate::introspection::redact(ctx.srv, 2 + i * 2 + 1);
        }
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|p| (p[0], p[1])).collect();
    let names: Vec<&[u8]> = pairs.iter().map(|(name, _)| *name).collect();
    let backup = ctx.srv.config.get(&names);
    let listening = (ctx.srv.config.int("port"), ctx.srv.config.bind_addrs().to_vec());
    ctx.srv.config.set(&pairs).map_err(err)?;
    if let Err((name, e)) = apply_listeners(ctx.srv, &listening) {
        // Redis's restoreBackupConfig: every value of this CONFIG SET goes back, and the old
        // listeners are opened again.
        log::warning(&format!(
            "Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings."
        ));
        let restore: Vec<(&[u8], &[u8])> = backup.iter().map(|(n, v)| (n.as_bytes(), v.as_slice())).collect();
        let _ = ctx.srv.config.set(&restore);
        let (port, bind) = &listening;
        if let Some(rebind) = ctx.srv.rebind.clone() {
            if let Err(e) = rebind(bind, *port as u16) {
                log::warning(&e);
            }
        }
        return Err(err(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {e}")));
    }
    ctx.srv.apply_config();
    if pairs.iter().any(|(name, _)| name.eq_ignore_ascii_case(b"maxmemory")) {
        update_maxmemory(ctx.srv);
    }
    if let Err(e) = crate::persist::aof::config_changed(ctx.srv) {
        let _ = ctx.srv.config.set(&[(b"appendonly".as_slice(), b"no".as_slice())]);
        return Err(err(format!("ERR CONFIG SET failed (possibly related to argument 'appendonly') - {e}")));
    }
    Ok(Reply::Ok)
}

/// Redis's updatePort / applyBind: when `port` or `bind` changed, the network layer closes
/// the listeners and opens the new ones. Err: the config name and Redis's message.
fn apply_listeners(srv: &mut Server, (old_port, old_bind): &(i64, Vec<String>)) -> Result<(), (&'static str, String)> {
    let port = srv.config.int("port");
    let bind = srv.config.bind_addrs().to_vec();
    let Some(rebind) = srv.rebind.clone() else { return Ok(()) };
    let (name, message) = if bind != *old_bind {
        ("bind", "Failed to bind to specified addresses.")
    } else if port != *old_port {
        ("port", "Unable to listen on this port. Check server logs.")
    } else {
        return Ok(());
    };
    if let Err(e) = rebind(&bind, port as u16) {
        log::warning(&e);
        return Err((name, message.to_string()));
    }
    srv.process.tcp_port = port as u16;
    Ok(())
}

/// Redis's updateMaxmemory: warns when the new limit is below current usage, then starts the
/// eviction task (Redis's startEvictionTimeProc): keys go right after this command, not
/// during it, so a CONFIG SET inside MULTI leaves the rest of the transaction alone.
fn update_maxmemory(srv: &mut crate::server::Server) {
    let maxmemory = srv.evict.config.maxmemory;
    if maxmemory == 0 {
        return;
    }
    let used = crate::memory::used_memory(srv).saturating_sub(crate::memory::not_counted_for_evict(srv));
    if maxmemory < used {
        crate::log::warning(&format!(
            "WARNING: the new maxmemory value set via CONFIG SET ({maxmemory}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
        ));
    }
    crate::evict::start_eviction_task(srv);
}

/// CONFIG RESETSTAT: zeroes the statistics INFO reports (Redis's resetServerStats plus
/// command, error and latency stats).
pub fn reset_stats(srv: &mut crate::server::Server) {
    let pubsub_keep = 0;
    srv.stats = crate::server::Stats { pubsub_channels_messages: pubsub_keep, ..Default::default() };
    srv.fx.stats = Default::default();
    srv.repl.sync_stats = Default::default();
    for s in srv.cmdstats.iter_mut() {
        *s = Default::default();
    }
    for h in srv.latency.iter_mut() {
        *h = Default::default();
    }
    srv.errorstats.clear();
    srv.used_memory_peak = crate::memory::used_memory(srv);
    srv.evict.reset_stats();
    crate::lazyfree::reset_stats();
}

fn config_resetstat(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    reset_stats(ctx.srv);
    Ok(Reply::Ok)
}

fn config_rewrite(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    // Without an aclfile the users are written as `user` lines (Redis's rewriteConfigUserOption).
    let users: Vec<String> =
        crate::acl::config_lines(ctx.srv).iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
    ctx.srv.config.rewrite_with_users(Some(&users)).map_err(err)?;
    Ok(Reply::Ok)
}

fn config_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}

fn time(_ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let us = crate::util::time::now_us();
    Ok(Reply::Array(vec![Reply::bulk_i64(us / 1_000_000), Reply::bulk_i64(us % 1_000_000)]))
}

fn shutdown(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        if args::is(a, "nosave") {
            nosave = true;
        } else if args::is(a, "save") {
            save = true;
        } else if args::is(a, "now") {
            now = true;
        } else if args::is(a, "force") {
            force = true;
        } else if args::is(a, "abort") {
            abort = true;
        } else {
            return Err(Error::Syntax);
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return Err(Error::Syntax);
    }
    if abort {
        // Shutdowns here complete within the command, so none is ever in progress.
        return Err(err("ERR No shutdown in progress."));
    }
    if !now && ctx.nested {
        return Err(err("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client"));
    }
    let wants_save = if nosave { false } else { save || !ctx.srv.config.save_points().is_empty() };
    if let Err(e) = crate::persist::prepare_shutdown(ctx.srv, wants_save) {
        if !force {
            crate::log::warning(&format!("Error trying to save the DB, can't exit. ({e})"));
            return Err(err("ERR Errors trying to SHUTDOWN. Check logs."));
        }
    }
    ctx.srv.shutdown = Some(ShutdownRequest { save: Some(wants_save), now, force });
    Ok(Reply::NoReply)
}
