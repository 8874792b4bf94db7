//! CLIENT and its subcommands: identity, listing, killing, pausing, reply modes.

use crate::client::{flags, Client};
use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, ADMIN, LOADING, NOSCRIPT, SENTINEL, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::server::Server;

const CONN: u64 = acl::CONNECTION;

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
        acl: CONN,
        handler: Some(handler),
        group: Group::Connection,
        since,
        summary,
        complexity: "O(1)",
        args,
        ..CommandSpec::DEFAULT
    }
}

static SUBCOMMANDS: &[CommandSpec] = &[
    sub("id", 2, NOSCRIPT | LOADING | STALE, client_id, "5.0.0", "Returns the client ID for the current connection", ""),
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..sub("info", 2, NOSCRIPT | LOADING | STALE, client_info, "6.2.0", "Returns information about the current client connection.", "")
    },
    CommandSpec {
        complexity: "O(N) where N is the number of client connections",
        tips: &["nondeterministic_output"],
        history: &[
            ("2.8.12", "Added unique client `id` field."),
            ("5.0.0", "Added optional `TYPE` filter."),
            ("6.0.0", "Added `user` field."),
            ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."),
            ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
            ("7.0.3", "Added `ssub` field."),
        ],
        ..sub("list", -2, ADMIN | NOSCRIPT | LOADING | STALE, client_list, "2.4.0", "Get the list of client connections", "TYPE normal_master_replica_pubsub=[NORMAL|MASTER|REPLICA|PUBSUB]{5.0.0} ID id=[client-id:integer...]{6.2.0}")
    },
    CommandSpec {
        complexity: "O(N) where N is the number of client connections",
        history: &[
            ("2.8.12", "Added new filter format."),
            ("2.8.12", "`ID` option."),
            ("3.2.0", "Added `master` type in for `TYPE` option."),
            ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."),
            ("6.2.0", "`LADDR` option."),
        ],
        ..sub("kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, client_kill, "2.4.0", "Kill the connection of a client", "filter=(ip:port:string{deprecated 2.8.12}|new-format=([ID client-id:integer]{2.8.12}|TYPE normal_master_slave_pubsub=[NORMAL|MASTER{3.2.0}|SLAVE|REPLICA{5.0.0}|PUBSUB]{2.8.12}|[USER username]|[ADDR ip:port:string]|[LADDR ip:port:string]{6.2.0}|[SKIPME yes/no])...)")
    },
    sub("setname", 3, NOSCRIPT | LOADING | STALE, client_setname, "2.6.9", "Set the current connection name", "connection-name"),
    sub("getname", 2, NOSCRIPT | LOADING | STALE, client_getname, "2.6.9", "Get the current connection name", ""),
    sub("reply", 3, NOSCRIPT | LOADING | STALE, client_reply, "3.2.0", "Instruct the server whether to reply to commands", "on_off_skip=(ON|OFF|SKIP)"),
    sub("no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, client_no_evict, "7.0.0", "Set client eviction mode for the current connection", "enabled=(ON|OFF)"),
    CommandSpec {
        history: &[("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")],
        ..sub("pause", -3, ADMIN | NOSCRIPT | LOADING | STALE, client_pause, "2.9.50", "Stop processing commands from clients for some time", "timeout:integer mode=[WRITE|ALL]{6.2.0}")
    },
    CommandSpec {
        complexity: "O(N) Where N is the number of paused clients",
        ..sub("unpause", 2, ADMIN | NOSCRIPT | LOADING | STALE, client_unpause, "6.2.0", "Resume processing of clients that were paused", "")
    },
    CommandSpec {
        complexity: "O(log N) where N is the number of client connections",
        ..sub("unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, client_unblock, "5.0.0", "Unblock a client blocked in a blocking command from a different connection", "client-id:integer timeout_error=[TIMEOUT|ERROR]")
    },
    CommandSpec {
        complexity: "O(1). Some options may introduce additional complexity.",
        ..sub("tracking", -3, NOSCRIPT | LOADING | STALE | SENTINEL, client_tracking, "6.0.0", "Enable or disable server assisted client side caching support", "status=(ON|OFF) [REDIRECT client-id:integer] [PREFIX prefix]... [BCAST] [OPTIN] [OPTOUT] [NOLOOP]")
    },
    sub("caching", 3, NOSCRIPT | LOADING | STALE | SENTINEL, client_caching, "6.0.0", "Instruct the server about tracking or not keys in the next request", "mode=(YES|NO)"),
    sub("getredir", 2, NOSCRIPT | LOADING | STALE | SENTINEL, client_getredir, "6.0.0", "Get tracking notifications redirection client ID if any", ""),
    sub("trackinginfo", 2, NOSCRIPT | LOADING | STALE | SENTINEL, client_trackinginfo, "6.2.0", "Return information about server assisted client side caching for the current connection", ""),
    CommandSpec {
        acl: CONN,
        ..sub("help", 2, LOADING | STALE, client_help, "5.0.0", "Show helpful text about the different subcommands", "")
    },
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "client",
    arity: -2,
    group: Group::Connection,
    since: "2.4.0",
    summary: "A container for client connection commands",
    complexity: "Depends on subcommand.",
    subcommands: SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

/// Redis's getClientType name: master, replica (not a monitor), pubsub or normal.
fn client_type(c: &Client) -> &'static str {
    if c.has(flags::MASTER) {
        "master"
    } else if c.has(flags::REPLICA) && !c.has(flags::MONITOR) {
        "replica"
    } else if c.has(flags::PUBSUB) {
        "pubsub"
    } else {
        "normal"
    }
}

/// Parses a client type for LIST/KILL filters (slave is replica).
fn parse_type(name: &[u8]) -> CmdResult<&'static str> {
    for (n, t) in
        [("normal", "normal"), ("slave", "replica"), ("replica", "replica"), ("pubsub", "pubsub"), ("master", "master")]
    {
        if args::is(name, n) {
            return Ok(t);
        }
    }
    Err(err(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name))))
}

/// One CLIENT LIST line (without the newline), Redis's catClientInfoString.
pub fn info_line(srv: &Server, c: &Client) -> String {
    let now = srv.fx.now_ms;
    let multi = c.multi.as_ref().map(|m| m.queue.len() as i64).filter(|_| c.has(flags::MULTI)).unwrap_or(-1);
    let multi_mem = c.multi.as_ref().map_or(0, |m| m.argv_bytes);
    // Output waiting to be written (queued by others, or held by the connection).
    let omem = c.outbox.len() + c.obuf_bytes;
    let tot_mem = omem + c.qbuf + c.qbuf_free + c.argv_mem + multi_mem + 1024;
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(c.name.as_deref().unwrap_or_default()),
        (now - c.created_ms) / 1000,
        (now - c.last_interaction_ms) / 1000,
        c.flag_letters(srv.fx.dirty_cas.contains(&c.id)),
        c.db,
        c.channels.len(),
        c.patterns.len(),
        c.shard_channels.len(),
        multi,
        c.qbuf,
        c.qbuf_free,
        c.argv_mem,
        multi_mem,
        1024,
        c.obuf_peak.min(1024 * 16),
        0,
        0,
        omem,
        tot_mem,
        c.last_cmd,
        c.user,
        crate::tracking::redirect_of(srv, c.slot),
        if c.resp3 { 3 } else { 2 }
    )
}

fn client_id(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.client().id as i64))
}

fn client_info(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let mut line = info_line(ctx.srv, ctx.client_ref());
    line.push('\n');
    Ok(Reply::Verbatim(line.into_bytes()))
}

fn client_list(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let srv = &*ctx.srv;
    let mut out = String::new();
    if args.len() == 4 && args::is(args[2], "type") {
        let wanted = parse_type(args[3])?;
        for id in srv.clients.ids_sorted() {
            let Some(c) = srv.clients.slot_of(id).and_then(|s| srv.clients.get(s)) else { continue };
            if client_type(c) == wanted && !c.has(flags::INTERNAL) {
                out.push_str(&info_line(srv, c));
                out.push('\n');
            }
        }
    } else if args.len() > 3 && args::is(args[2], "id") {
        for a in &args[3..] {
            let id = args::int_or(a, "ERR Invalid client ID")?;
            if let Some(c) = srv.clients.slot_of(id as u64).and_then(|s| srv.clients.get(s)) {
                out.push_str(&info_line(srv, c));
                out.push('\n');
            }
        }
    } else if args.len() != 2 {
        return Err(Error::Syntax);
    } else {
        for id in srv.clients.ids_sorted() {
            let Some(c) = srv.clients.slot_of(id).and_then(|s| srv.clients.get(s)) else { continue };
            if !c.has(flags::INTERNAL) {
                out.push_str(&info_line(srv, c));
                out.push('\n');
            }
        }
    }
    Ok(Reply::Verbatim(out.into_bytes()))
}

fn client_kill(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user: Option<&[u8]> = None;
    let mut ctype: Option<&str> = None;
    let mut id: Option<u64> = None;
    let mut skipme = true;
    if args.len() == 3 {
        addr = Some(args[2]);
        skipme = false;
    } else {
        let mut i = 2;
        while i < args.len() {
            let more = args.len() > i + 1;
            let opt = args[i];
            if args::is(opt, "id") && more {
                let n = args::int_or(args[i + 1], "ERR client-id should be greater than 0")?;
                if n < 1 {
                    return Err(err("ERR client-id should be greater than 0"));
                }
                id = Some(n as u64);
            } else if args::is(opt, "type") && more {
                ctype = Some(parse_type(args[i + 1])?);
            } else if args::is(opt, "addr") && more {
                addr = Some(args[i + 1]);
            } else if args::is(opt, "laddr") && more {
                laddr = Some(args[i + 1]);
            } else if args::is(opt, "user") && more {
                if ctx.srv.acl.user(args[i + 1]).is_none() {
                    return Err(err(format!("ERR No such user '{}'", String::from_utf8_lossy(args[i + 1]))));
                }
                user = Some(args[i + 1]);
            } else if args::is(opt, "skipme") && more {
                if args::is(args[i + 1], "yes") {
                    skipme = true;
                } else if args::is(args[i + 1], "no") {
                    skipme = false;
                } else {
                    return Err(Error::Syntax);
                }
            } else {
                return Err(Error::Syntax);
            }
            i += 2;
        }
    }
    let me = ctx.client().id;
    let victims: Vec<usize> = ctx
        .srv
        .clients
        .iter()
        .filter(|c| !c.has(flags::INTERNAL))
        .filter(|c| addr.is_none_or(|a| c.addr.as_bytes() == a))
        .filter(|c| laddr.is_none_or(|a| c.laddr.as_bytes() == a))
        .filter(|c| ctype.is_none_or(|t| client_type(c) == t))
        .filter(|c| id.is_none_or(|i| c.id == i))
        .filter(|c| user.is_none_or(|u| c.user.as_bytes() == u))
        .filter(|c| !(skipme && c.id == me))
        .map(|c| c.slot)
        .collect();
    let mut killed = 0;
    for slot in victims {
        if slot == ctx.slot {
            ctx.client().set(flags::CLOSE_AFTER_REPLY, true);
        } else {
            ctx.srv.free_client(slot);
        }
        killed += 1;
    }
    if args.len() == 3 {
        if killed == 0 {
            return Err(err("ERR No such client"));
        }
        return Ok(Reply::Ok);
    }
    Ok(Reply::Int(killed))
}

fn client_setname(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    crate::cmd::conn::set_client_name(ctx, args[2])?;
    Ok(Reply::Ok)
}

fn client_getname(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(match &ctx.client().name {
        Some(n) => Reply::bulk(n),
        None => Reply::Nil,
    })
}

fn client_reply(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let c = ctx.client();
    if args::is(args[2], "on") {
        c.reply_off = false;
        c.reply_skip = false;
        Ok(Reply::Ok)
    } else if args::is(args[2], "off") {
        c.reply_off = true;
        Ok(Reply::NoReply)
    } else if args::is(args[2], "skip") {
        if !c.reply_off {
            c.reply_skip_next = true;
        }
        Ok(Reply::NoReply)
    } else {
        Err(Error::Syntax)
    }
}

fn client_no_evict(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args::is(args[2], "on") {
        ctx.client().set(flags::NO_EVICT, true);
    } else if args::is(args[2], "off") {
        ctx.client().set(flags::NO_EVICT, false);
    } else {
        return Err(Error::Syntax);
    }
    Ok(Reply::Ok)
}

fn client_pause(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut writes_only = false;
    if args.len() == 4 {
        if args::is(args[3], "write") {
            writes_only = true;
        } else if !args::is(args[3], "all") {
            return Err(err("ERR CLIENT PAUSE mode must be WRITE or ALL"));
        }
    } else if args.len() > 4 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    let end = args::timeout_deadline(args[2], ctx.now_ms(), false)?;
    let now = ctx.now_ms();
    let pause = &mut ctx.srv.pause;
    if pause.until_ms > now {
        // An ongoing pause only gets stricter and longer (Redis's pauseClients).
        pause.writes_only &= writes_only;
        pause.until_ms = pause.until_ms.max(end);
    } else {
        pause.writes_only = writes_only;
        pause.until_ms = end;
    }
    // While paused, expired keys are hidden but not deleted (Redis's expireIfNeeded checks
    // checkClientPauseTimeoutAndReturnIfPaused); server::unpause turns deletion back on.
    ctx.srv.fx.lazy_expire = false;
    Ok(Reply::Ok)
}

fn client_unpause(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    crate::server::unpause(ctx.srv);
    Ok(Reply::Ok)
}

fn client_unblock(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 4 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    let mut with_error = false;
    if args.len() == 4 {
        if args::is(args[3], "error") {
            with_error = true;
        } else if !args::is(args[3], "timeout") {
            return Err(err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
        }
    }
    let id = args::int(args[2])?;
    let Some(slot) = ctx.srv.clients.slot_of(id as u64) else { return Ok(Reply::Int(0)) };
    let blocked_on_keys =
        ctx.srv.clients[slot].blocked.as_ref().is_some_and(|b| b.kind != crate::client::BlockKind::Pause);
    if blocked_on_keys && crate::blocking::unblock_by_request(ctx.srv, slot, with_error) {
        return Ok(Reply::Int(1));
    }
    Ok(Reply::Int(0))
}

fn client_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    ))
}

/// CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p]... [OPTIN] [OPTOUT] [NOLOOP],
/// with Redis's checks in Redis's order.
fn client_tracking(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut redirect: i64 = 0;
    let mut options = 0u32;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args[j];
        if args::is(opt, "redirect") && more {
            j += 1;
            if redirect != 0 {
                return Err(err("ERR A client can only redirect to a single other client"));
            }
            redirect = args::int(args[j])?;
            if u64::try_from(redirect).ok().and_then(|id| ctx.srv.clients.slot_of(id)).is_none() {
                return Err(err("ERR The client ID you want redirect to does not exist"));
            }
        } else if args::is(opt, "bcast") {
            options |= flags::TRACKING_BCAST;
        } else if args::is(opt, "optin") {
            options |= flags::TRACKING_OPTIN;
        } else if args::is(opt, "optout") {
            options |= flags::TRACKING_OPTOUT;
        } else if args::is(opt, "noloop") {
            options |= flags::TRACKING_NOLOOP;
        } else if args::is(opt, "prefix") && more {
            j += 1;
            prefixes.push(args[j]);
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if args::is(args[2], "on") {
        let bcast = options & flags::TRACKING_BCAST != 0;
        if !bcast && !prefixes.is_empty() {
            return Err(err("ERR PREFIX option requires BCAST mode to be enabled"));
        }
        let c = ctx.client_ref();
        if c.has(flags::TRACKING) && c.has(flags::TRACKING_BCAST) != bcast {
            return Err(err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if bcast && options & (flags::TRACKING_OPTIN | flags::TRACKING_OPTOUT) != 0 {
            return Err(err("ERR OPTIN and OPTOUT are not compatible with BCAST"));
        }
        if options & flags::TRACKING_OPTIN != 0 && options & flags::TRACKING_OPTOUT != 0 {
            return Err(err("ERR You can't specify both OPTIN mode and OPTOUT mode"));
        }
        if (options & flags::TRACKING_OPTIN != 0 && c.has(flags::TRACKING_OPTOUT))
            || (options & flags::TRACKING_OPTOUT != 0 && c.has(flags::TRACKING_OPTIN))
        {
            return Err(err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if bcast {
            crate::tracking::check_prefix_collisions(ctx.srv, ctx.slot, &prefixes)?;
        }
        crate::tracking::enable(ctx.srv, ctx.slot, redirect as u64, options, &prefixes);
    } else if args::is(args[2], "off") {
        crate::tracking::disable(ctx.srv, ctx.slot);
    } else {
        return Err(Error::Syntax);
    }
    Ok(Reply::Ok)
}

fn client_caching(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let c = ctx.client();
    if !c.has(flags::TRACKING) {
        return Err(err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    }
    if args::is(args[2], "yes") {
        if !c.has(flags::TRACKING_OPTIN) {
            return Err(err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if args::is(args[2], "no") {
        if !c.has(flags::TRACKING_OPTOUT) {
            return Err(err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(Error::Syntax);
    }
    c.set(flags::TRACKING_CACHING, true);
    Ok(Reply::Ok)
}

fn client_getredir(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(crate::tracking::redirect_of(ctx.srv, ctx.slot)))
}

fn client_trackinginfo(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(crate::tracking::info_reply(ctx.srv, ctx.slot))
}
