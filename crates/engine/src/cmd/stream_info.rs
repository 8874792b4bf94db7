//! XINFO STREAM, GROUPS, CONSUMERS and HELP (Redis's xinfoCommand): maps in RESP3, flat
//! arrays in RESP2, with Redis's field order.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, LOADING, READONLY, STALE};
use crate::cmd::stream::{entry_reply, id_reply, stream_read};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::types::stream::{ConsumerGroup, Stream, StreamId, INVALID_ENTRIES_READ};

const KEY2: &[KeySpec] = &[KeySpec::one(2, key::RO | key::ACCESS)];

static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "consumers",
        arity: 4,
        flags: READONLY,
        acl: acl::STREAM,
        key_specs: KEY2,
        handler: Some(xinfo_consumers),
        group: Group::Stream,
        since: "5.0.0",
        summary: "List the consumers in a consumer group",
        complexity: "O(1)",
        args: "key:key groupname",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "groups",
        arity: 3,
        flags: READONLY,
        acl: acl::STREAM,
        key_specs: KEY2,
        handler: Some(xinfo_groups),
        group: Group::Stream,
        since: "5.0.0",
        summary: "List the consumer groups of a stream",
        complexity: "O(1)",
        args: "key:key",
        history: &[("7.0.0", "Added the `entries-read` and `lag` fields")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        acl: acl::STREAM,
        handler: Some(xinfo_help),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "stream",
        arity: -3,
        flags: READONLY,
        acl: acl::STREAM,
        key_specs: KEY2,
        handler: Some(xinfo_stream),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Get information about a stream",
        complexity: "O(1)",
        args: "key:key [FULL full=([COUNT count:integer])]",
        history: &[
            ("6.0.0", "Added the `FULL` modifier."),
            (
                "7.0.0",
                "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
            ),
        ],
        ..CommandSpec::DEFAULT
    },
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "xinfo",
    arity: -2,
    group: Group::Stream,
    since: "5.0.0",
    summary: "A container for stream introspection commands",
    complexity: "Depends on subcommand.",
    subcommands: XINFO_SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(name), value)
}

/// The stream at the key, or `ERR no such key`.
fn existing<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<&'a Stream> {
    stream_read(ctx, key)?.ok_or(Error::NoSuchKey)
}

fn entries_read(g: &ConsumerGroup) -> Reply {
    if g.entries_read == INVALID_ENTRIES_READ {
        Reply::Nil
    } else {
        Reply::Int(g.entries_read)
    }
}

fn lag(s: &Stream, g: &ConsumerGroup) -> Reply {
    s.group_lag(g).map_or(Reply::Nil, Reply::Int)
}

fn xinfo_consumers(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, group) = (args[2], args[3]);
    let now = ctx.now_ms();
    let s = existing(ctx, key)?;
    let Some(g) = s.group(group) else {
        return Err(err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group),
            String::from_utf8_lossy(key)
        )));
    };
    Ok(Reply::Array(
        g.consumers()
            .map(|c| {
                Reply::Map(vec![
                    field("name", Reply::bulk(&c.name)),
                    field("pending", Reply::Int(c.pel.len() as i64)),
                    field("idle", Reply::Int((now - c.seen_time).max(0))),
                ])
            })
            .collect(),
    ))
}

fn xinfo_groups(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let s = existing(ctx, args[2])?;
    Ok(Reply::Array(
        s.groups()
            .map(|(name, g)| {
                Reply::Map(vec![
                    field("name", Reply::bulk(name)),
                    field("consumers", Reply::Int(g.consumer_count() as i64)),
                    field("pending", Reply::Int(g.pel.len() as i64)),
                    field("last-delivered-id", id_reply(g.last_id)),
                    field("entries-read", entries_read(g)),
                    field("lag", lag(s, g)),
                ])
            })
            .collect(),
    ))
}

fn xinfo_stream(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let s = existing(ctx, args[2])?;
    let opts = &args[3..];
    let syntax = || args::subcommand_syntax_error(args[0], args[1]);
    let full = match opts.len() {
        0 => None,
        1 | 3 => {
            if !args::is(opts[0], "full") {
                return Err(syntax());
            }
            let mut count = 10;
            if opts.len() == 3 {
                if !args::is(opts[1], "count") {
                    return Err(syntax());
                }
                count = args::int(opts[2])?;
                if count < 0 {
                    count = 10;
                }
            }
            Some(count as usize)
        }
        _ => return Err(syntax()),
    };
    let mut m = vec![
        field("length", Reply::Int(s.len() as i64)),
        field("radix-tree-keys", Reply::Int(s.node_count() as i64)),
        field("radix-tree-nodes", Reply::Int(s.radix_tree_nodes() as i64)),
        field("last-generated-id", id_reply(s.last_id)),
        field("max-deleted-entry-id", id_reply(s.max_deleted_entry_id)),
        field("entries-added", Reply::Int(s.entries_added as i64)),
        field("recorded-first-entry-id", id_reply(s.first_id)),
    ];
    let Some(count) = full else {
        let edge = |rev| s.range(StreamId::MIN, StreamId::MAX, rev).next().map_or(Reply::Nil, |e| entry_reply(&e));
        m.push(field("groups", Reply::Int(s.group_count() as i64)));
        m.push(field("first-entry", edge(false)));
        m.push(field("last-entry", edge(true)));
        return Ok(Reply::Map(m));
    };
    let limit = if count == 0 { usize::MAX } else { count };
    let entries = s.range(StreamId::MIN, StreamId::MAX, false).take(limit).map(|e| entry_reply(&e)).collect();
    m.push(field("entries", Reply::Array(entries)));
    let groups = s.groups().map(|(name, g)| full_group(s, name, g, limit)).collect();
    m.push(field("groups", Reply::Array(groups)));
    Ok(Reply::Map(m))
}

/// One group of XINFO STREAM FULL.
fn full_group(s: &Stream, name: &[u8], g: &ConsumerGroup, limit: usize) -> Reply {
    let pending = g
        .pel
        .iter()
        .take(limit)
        .map(|(id, n)| {
            Reply::Array(vec![
                id_reply(*id),
                Reply::bulk(g.consumer_name(n.consumer).unwrap_or_default()),
                Reply::Int(n.delivery_time),
                Reply::Int(n.delivery_count as i64),
            ])
        })
        .collect();
    let consumers = g
        .consumers()
        .map(|c| {
            let owned = c
                .pel
                .iter()
                .take(limit)
                .filter_map(|id| g.pel.get(id).map(|n| (id, n)))
                .map(|(id, n)| {
                    Reply::Array(vec![id_reply(*id), Reply::Int(n.delivery_time), Reply::Int(n.delivery_count as i64)])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::bulk(&c.name)),
                field("seen-time", Reply::Int(c.seen_time)),
                field("pel-count", Reply::Int(c.pel.len() as i64)),
                field("pending", Reply::Array(owned)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::bulk(name)),
        field("last-delivered-id", id_reply(g.last_id)),
        field("entries-read", entries_read(g)),
        field("lag", lag(s, g)),
        field("pel-count", Reply::Int(g.pel.len() as i64)),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}

fn xinfo_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    ))
}
