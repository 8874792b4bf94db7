//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
//!
//! The subscription state and delivery live in [`crate::pubsub`]; confirmations are push
//! replies (RESP3 `>`, RESP2 arrays), one per channel, sent even under CLIENT REPLY OFF.

use crate::client::flags;
use crate::cmd::args;
use crate::cmd::spec::{
    key, CommandSpec, Group, KeySpec, FAST, LOADING, MAY_REPLICATE, NOSCRIPT, PUBSUB, SENTINEL, STALE,
};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult};
use crate::pubsub::{self, Kind};
use crate::reply::Reply;

#[allow(clippy::too_many_arguments)]
const fn cmd(
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
        group: Group::Pubsub,
        since,
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

const SUB_FLAGS: u64 = PUBSUB | NOSCRIPT | LOADING | STALE;

static PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    cmd(
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_channels,
        "2.8.0",
        "List active channels",
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        "[pattern:pattern]",
    ),
    cmd(
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_numsub,
        "2.8.0",
        "Get the count of subscribers for channels",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        "[channel...]",
    ),
    cmd(
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        pubsub_numpat,
        "2.8.0",
        "Get the count of unique patterns pattern subscriptions",
        "O(1)",
        "",
    ),
    cmd(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardchannels,
        "7.0.0",
        "List active shard channels",
        "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
        "[pattern:pattern]",
    ),
    cmd(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardnumsub,
        "7.0.0",
        "Get the count of subscribers for shard channels",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        "[shardchannel...]",
    ),
    cmd(
        "help",
        2,
        LOADING | STALE,
        pubsub_help,
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        "",
    ),
];

pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "subscribe",
        -2,
        SUB_FLAGS | SENTINEL,
        subscribe,
        "2.0.0",
        "Listen for messages published to the given channels",
        "O(N) where N is the number of channels to subscribe to.",
        "channel...",
    ),
    cmd(
        "unsubscribe",
        -1,
        SUB_FLAGS | SENTINEL,
        unsubscribe,
        "2.0.0",
        "Stop listening for messages posted to the given channels",
        "O(N) where N is the number of clients already subscribed to a channel.",
        "[channel...]",
    ),
    cmd(
        "psubscribe",
        -2,
        SUB_FLAGS | SENTINEL,
        psubscribe,
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
        "O(N) where N is the number of patterns the client is already subscribed to.",
        "pattern=(pattern:pattern)...",
    ),
    cmd(
        "punsubscribe",
        -1,
        SUB_FLAGS | SENTINEL,
        punsubscribe,
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
        "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
        "[pattern:pattern...]",
    ),
    cmd(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL,
        publish,
        "2.0.0",
        "Post a message to a channel",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        "channel message",
    ),
    CommandSpec {
        key_specs: &[KeySpec::range(1, -1, 1, key::NOT_KEY)],
        ..cmd(
            "ssubscribe",
            -2,
            SUB_FLAGS,
            ssubscribe,
            "7.0.0",
            "Listen for messages published to the given shard channels",
            "O(N) where N is the number of shard channels to subscribe to.",
            "shardchannel...",
        )
    },
    CommandSpec {
        key_specs: &[KeySpec::range(1, -1, 1, key::NOT_KEY)],
        ..cmd(
            "sunsubscribe",
            -1,
            SUB_FLAGS,
            sunsubscribe,
            "7.0.0",
            "Stop listening for messages posted to the given shard channels",
            "O(N) where N is the number of clients already subscribed to a shard channel.",
            "[shardchannel...]",
        )
    },
    CommandSpec {
        key_specs: &[KeySpec::one(1, key::NOT_KEY)],
        ..cmd(
            "spublish",
            3,
            PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
            spublish,
            "7.0.0",
            "Post a message to a shard channel",
            "O(N) where N is the number of clients subscribed to the receiving shard channel.",
            "shardchannel message",
        )
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        group: Group::Pubsub,
        since: "2.8.0",
        summary: "A container for Pub/Sub commands",
        complexity: "Depends on subcommand.",
        subcommands: PUBSUB_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
];

/// Redis's CLIENT_DENY_BLOCKING check: inside a script or EXEC a client expects one reply per
/// command, so it cannot enter subscribed mode (SUBSCRIBE and PSUBSCRIBE are still allowed
/// in MULTI, for backward compatibility).
fn deny_blocking(ctx: &mut Ctx, name: &str, multi_ok: bool) -> CmdResult<()> {
    if ctx.nested && !(multi_ok && ctx.client().has(flags::MULTI)) {
        return Err(err(format!("ERR {name} isn't allowed for a DENY BLOCKING client")));
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    deny_blocking(ctx, "SUBSCRIBE", true)?;
    Ok(pubsub::subscribe(ctx.srv, ctx.slot, Kind::Channel, &args[1..]))
}

fn psubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    deny_blocking(ctx, "PSUBSCRIBE", true)?;
    Ok(pubsub::subscribe(ctx.srv, ctx.slot, Kind::Pattern, &args[1..]))
}

fn ssubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    deny_blocking(ctx, "SSUBSCRIBE", false)?;
    Ok(pubsub::subscribe(ctx.srv, ctx.slot, Kind::Shard, &args[1..]))
}

fn unsubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(pubsub::unsubscribe(ctx.srv, ctx.slot, Kind::Channel, &args[1..]))
}

fn punsubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(pubsub::unsubscribe(ctx.srv, ctx.slot, Kind::Pattern, &args[1..]))
}

fn sunsubscribe(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(pubsub::unsubscribe(ctx.srv, ctx.slot, Kind::Shard, &args[1..]))
}

fn publish_generic(ctx: &mut Ctx, args: &[&[u8]], sharded: bool) -> CmdResult {
    let receivers = pubsub::publish(ctx.srv, args[1], args[2], sharded);
    // Replicas get every message (Redis forces replication of PUBLISH).
    ctx.also_propagate(args);
    Ok(Reply::Int(receivers as i64))
}

fn publish(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    publish_generic(ctx, args, false)
}

fn spublish(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    publish_generic(ctx, args, true)
}

/// PUBSUB subcommands that take at most one pattern answer a syntax error otherwise.
fn optional_pattern<'a>(args: &[&'a [u8]]) -> CmdResult<Option<&'a [u8]>> {
    match args.len() {
        2 => Ok(None),
        3 => Ok(Some(args[2])),
        _ => Err(args::subcommand_syntax_error(args[0], args[1])),
    }
}

fn pubsub_channels(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pattern = optional_pattern(args)?;
    Ok(Reply::bulks(pubsub::channel_list(ctx.srv, pattern, false)))
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pattern = optional_pattern(args)?;
    Ok(Reply::bulks(pubsub::channel_list(ctx.srv, pattern, true)))
}

fn numsub_generic(ctx: &mut Ctx, args: &[&[u8]], sharded: bool) -> CmdResult {
    let mut out = Vec::with_capacity((args.len() - 2) * 2);
    for &channel in &args[2..] {
        out.push(Reply::bulk(channel));
        out.push(Reply::Int(pubsub::subscriber_count(ctx.srv, channel, sharded) as i64));
    }
    Ok(Reply::Array(out))
}

fn pubsub_numsub(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    numsub_generic(ctx, args, false)
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    numsub_generic(ctx, args, true)
}

fn pubsub_numpat(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.srv.pubsub.pattern_count() as i64))
}

fn pubsub_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    ))
}
