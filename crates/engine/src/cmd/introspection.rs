//! MONITOR, SLOWLOG and LATENCY: the commands that look at what the server has been doing.
//! The data they report is gathered in [`crate::introspection`] and [`crate::latency`].

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::spec::{CommandSpec, Group, ADMIN, LOADING, NOSCRIPT, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::reply::Reply;

#[allow(clippy::too_many_arguments)]
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    handler: crate::cmd::spec::Handler,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
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
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

const ALL_NODES: &str = "request_policy:all_nodes";

static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        tips: &[ALL_NODES, "nondeterministic_output"],
        history: &[("4.0.0", "Added client IP address, port and name to the reply.")],
        ..sub(
            "get",
            -2,
            ADMIN | LOADING | STALE,
            slowlog_get,
            "2.2.12",
            "Get the slow log's entries",
            "O(N) where N is the number of entries returned",
            "[count:integer]",
        )
    },
    CommandSpec {
        tips: &[ALL_NODES, "response_policy:agg_sum", "nondeterministic_output"],
        ..sub("len", 2, ADMIN | LOADING | STALE, slowlog_len, "2.2.12", "Get the slow log's length", "O(1)", "")
    },
    CommandSpec {
        tips: &[ALL_NODES, "response_policy:all_succeeded"],
        ..sub(
            "reset",
            2,
            ADMIN | LOADING | STALE,
            slowlog_reset,
            "2.2.12",
            "Clear all entries from the slow log",
            "O(N) where N is the number of entries in the slowlog",
            "",
        )
    },
    sub(
        "help",
        2,
        LOADING | STALE,
        slowlog_help,
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        "",
    ),
];

const LATENCY_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE;
const LATENCY_TIPS: &[&str] = &["nondeterministic_output", ALL_NODES, "response_policy:special"];

static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        tips: LATENCY_TIPS,
        ..sub(
            "doctor",
            2,
            LATENCY_FLAGS,
            latency_doctor,
            "2.8.13",
            "Return a human readable latency analysis report.",
            "O(1)",
            "",
        )
    },
    CommandSpec {
        tips: LATENCY_TIPS,
        ..sub(
            "graph",
            3,
            LATENCY_FLAGS,
            latency_graph,
            "2.8.13",
            "Return a latency graph for the event.",
            "O(1)",
            "event",
        )
    },
    CommandSpec {
        tips: LATENCY_TIPS,
        ..sub(
            "history",
            3,
            LATENCY_FLAGS,
            latency_history,
            "2.8.13",
            "Return timestamp-latency samples for the event.",
            "O(1)",
            "event",
        )
    },
    CommandSpec {
        tips: LATENCY_TIPS,
        ..sub(
            "latest",
            2,
            LATENCY_FLAGS,
            latency_latest,
            "2.8.13",
            "Return the latest latency samples for all events.",
            "O(1)",
            "",
        )
    },
    CommandSpec {
        tips: &[ALL_NODES, "response_policy:all_succeeded"],
        ..sub(
            "reset",
            -2,
            LATENCY_FLAGS,
            latency_reset,
            "2.8.13",
            "Reset latency data for one or more events.",
            "O(1)",
            "[event...]",
        )
    },
    CommandSpec {
        tips: LATENCY_TIPS,
        ..sub(
            "histogram",
            -2,
            LATENCY_FLAGS,
            latency_histogram,
            "7.0.0",
            "Return the cumulative distribution of latencies of a subset of commands or all.",
            "O(N) where N is the number of commands with latency information being retrieved.",
            "[command...]",
        )
    },
    sub(
        "help",
        2,
        LOADING | STALE,
        latency_help,
        "2.8.13",
        "Show helpful text about the different subcommands.",
        "O(1)",
        "",
    ),
];

pub static COMMANDS: &[CommandSpec] = &[
    sub(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        monitor,
        "1.0.0",
        "Listen for all requests received by the server in real time",
        "",
        "",
    ),
    CommandSpec {
        name: "slowlog",
        arity: -2,
        group: Group::Server,
        since: "2.2.12",
        summary: "A container for slow log commands",
        complexity: "Depends on subcommand.",
        subcommands: SLOWLOG_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "latency",
        arity: -2,
        group: Group::Server,
        since: "2.8.13",
        summary: "A container for latency diagnostics commands",
        complexity: "Depends on subcommand.",
        subcommands: LATENCY_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

fn monitor(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    // Inside EXEC a client expects one reply per command (Redis's CLIENT_DENY_BLOCKING).
    if ctx.nested {
        return Err(err("ERR MONITOR isn't allowed for DENY BLOCKING client"));
    }
    let c = ctx.client();
    // Already monitoring (or a replica): silently ignored, no reply at all.
    if c.has(flags::MONITOR) || c.has(flags::REPLICA) {
        return Ok(Reply::NoReply);
    }
    c.set(flags::MONITOR, true);
    let id = c.id;
    ctx.srv.introspection.monitors.push(id);
    Ok(Reply::Ok)
}

fn slowlog_get(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let log = &ctx.srv.introspection.slowlog;
    let mut count = 10;
    if args.len() == 3 {
        let n = args::int_or(args[2], "ERR count should be greater than or equal to -1")?;
        if n < -1 {
            return Err(err("ERR count should be greater than or equal to -1"));
        }
        count = if n == -1 { log.len() } else { n as usize };
    }
    Ok(log.get_reply(count))
}

fn slowlog_len(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.srv.introspection.slowlog.len() as i64))
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.srv.introspection.slowlog.reset();
    Ok(Reply::Ok)
}

fn slowlog_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    ))
}

fn now_s() -> i64 {
    crate::util::time::now_ms() / 1000
}

fn latency_doctor(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let srv = &*ctx.srv;
    let cfg = crate::introspection::latency_monitor::DoctorConfig {
        threshold: srv.introspection.latency_threshold(),
        slowlog_slower_than: srv.config.int("slowlog-log-slower-than"),
        hz: srv.tunables.hz,
    };
    Ok(Reply::Verbatim(srv.introspection.latency.doctor(&cfg, now_s()).into_bytes()))
}

fn latency_graph(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    match ctx.srv.introspection.latency.graph(args[2], now_s()) {
        Some(graph) => Ok(Reply::Verbatim(graph.into_bytes())),
        None => Err(err(format!("ERR No samples available for event '{}'", String::from_utf8_lossy(args[2])))),
    }
}

fn latency_history(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(ctx.srv.introspection.latency.history_reply(args[2]))
}

fn latency_latest(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(ctx.srv.introspection.latency.latest_reply())
}

fn latency_reset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let latency = &mut ctx.srv.introspection.latency;
    let resets =
        if args.len() == 2 { latency.reset(None) } else { args[2..].iter().map(|e| latency.reset(Some(e))).sum() };
    Ok(Reply::Int(resets as i64))
}

fn latency_histogram(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(crate::latency::histogram_reply(ctx.srv, &args[2..]))
}

fn latency_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    ))
}
