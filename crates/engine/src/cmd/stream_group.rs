//! Consumer group commands (Redis's t_stream.c): XGROUP and its subcommands, XACK,
//! XPENDING, XCLAIM and XAUTOCLAIM.
//!
//! Each follows Redis's order of checks (options, then the key, then the group), its
//! events and dirty counts. Claims propagate as idempotent `XCLAIM … FORCE JUSTID LASTID`
//! commands (one per entry, also for entries found deleted, which replicas then drop from
//! their PEL), never as themselves.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, LOADING, READONLY, STALE, WRITE};
use crate::cmd::stream::{
    create_stream, entry_reply, id_reply, loose_id, range_end, range_start, stream_read, stream_write, strict_id,
};
use crate::cmd::stream_read::{propagate_claim, propagate_setid};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::reply::Reply;
use crate::types::stream::{Stream, StreamId, INVALID_ENTRIES_READ};

const STREAM: u64 = acl::STREAM;

const fn group_sub(
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
        acl: STREAM,
        handler: Some(handler),
        group: Group::Stream,
        since,
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RW | key::INSERT)],
        history: &[("7.0.0", "Added the `entries_read` named argument.")],
        ..group_sub(
            "create",
            -5,
            WRITE | DENYOOM,
            xgroup_create,
            "5.0.0",
            "Create a consumer group.",
            "O(1)",
            "key:key groupname id=(id:string|new_id=\"$\") [MKSTREAM] [ENTRIESREAD entries_read:integer]",
        )
    },
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RW | key::INSERT)],
        ..group_sub(
            "createconsumer",
            5,
            WRITE | DENYOOM,
            xgroup_createconsumer,
            "6.2.0",
            "Create a consumer in a consumer group.",
            "O(1)",
            "key:key groupname consumername",
        )
    },
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RW | key::DELETE)],
        ..group_sub(
            "delconsumer",
            5,
            WRITE,
            xgroup_delconsumer,
            "5.0.0",
            "Delete a consumer from a consumer group.",
            "O(1)",
            "key:key groupname consumername",
        )
    },
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RW | key::DELETE)],
        ..group_sub(
            "destroy",
            4,
            WRITE,
            xgroup_destroy,
            "5.0.0",
            "Destroy a consumer group.",
            "O(N) where N is the number of entries in the group's pending entries list (PEL).",
            "key:key groupname",
        )
    },
    group_sub(
        "help",
        2,
        LOADING | STALE,
        xgroup_help,
        "5.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        "",
    ),
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RW | key::UPDATE)],
        history: &[("7.0.0", "Added the optional `entries_read` argument.")],
        ..group_sub(
            "setid",
            -5,
            WRITE,
            xgroup_setid,
            "5.0.0",
            "Set a consumer group to an arbitrary last delivered ID value.",
            "O(1)",
            "key:key groupname id=(id:string|new_id=\"$\") [ENTRIESREAD entries_read:integer]",
        )
    },
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xgroup",
        arity: -2,
        group: Group::Stream,
        since: "5.0.0",
        summary: "A container for consumer groups commands",
        complexity: "Depends on subcommand.",
        subcommands: XGROUP_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xack",
        arity: -4,
        flags: WRITE | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(xack),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
        complexity: "O(1) for each message ID processed.",
        args: "key:key group id:string...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xpending",
        arity: -3,
        flags: READONLY,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(xpending),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
        complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
        args: "key:key group filters=[[IDLE min-idle-time:integer]{6.2.0} start end count:integer [consumer]]",
        tips: &["nondeterministic_output"],
        history: &[("6.2.0", "Added the `IDLE` option and exclusive range intervals.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xclaim",
        arity: -6,
        flags: WRITE | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(xclaim),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
        complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
        args: "key:key group consumer min-idle-time id:string... [IDLE ms:integer] [TIME unix-time-milliseconds:unix-time] [RETRYCOUNT count:integer] [FORCE] [JUSTID] [LASTID id]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xautoclaim",
        arity: -6,
        flags: WRITE | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(xautoclaim),
        group: Group::Stream,
        since: "6.2.0",
        summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
        complexity: "O(1) if COUNT is small.",
        args: "key:key group consumer min-idle-time start [COUNT count:integer] [JUSTID]",
        tips: &["nondeterministic_output"],
        history: &[("7.0.0", "Added an element to the reply array, containing deleted entries the command cleared from the PEL")],
        ..CommandSpec::DEFAULT
    },
];

// ----- XGROUP -----

/// What every XGROUP subcommand but HELP checks first (Redis's xgroupCommand prologue).
struct GroupArgs {
    mkstream: bool,
    entries_read: i64,
    /// Whether the key holds a stream.
    exists: bool,
}

fn xgroup_prologue(ctx: &mut Ctx, args: &[&[u8]], needs_group: bool) -> CmdResult<GroupArgs> {
    let sub = args[1];
    let create = args::is(sub, "create");
    let setid = args::is(sub, "setid");
    let mut out = GroupArgs { mkstream: false, entries_read: INVALID_ENTRIES_READ, exists: false };
    let mut i = 5;
    while i < args.len() {
        if create && args::is(args[i], "mkstream") {
            out.mkstream = true;
            i += 1;
        } else if (create || setid) && args::is(args[i], "entriesread") && i + 1 < args.len() {
            out.entries_read = args::int(args[i + 1])?;
            if out.entries_read < 0 && out.entries_read != INVALID_ENTRIES_READ {
                return Err(err("ERR value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(args::subcommand_syntax_error(args[0], sub));
        }
    }
    let (key, group) = (args[2], args[3]);
    let s = stream_write(ctx, key)?;
    out.exists = s.is_some();
    if !out.mkstream {
        let Some(s) = s else {
            return Err(err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        };
        if needs_group && s.group(group).is_none() {
            return Err(err(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(group),
                String::from_utf8_lossy(key)
            )));
        }
    }
    Ok(out)
}

/// The stream the prologue found.
fn existing<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<&'a mut Stream> {
    stream_write(ctx, key)?.ok_or(Error::NoSuchKey)
}

fn xgroup_create(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let g = xgroup_prologue(ctx, args, false)?;
    if args.len() > 8 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let (key, group) = (args[2], args[3]);
    let id = if args[4] == b"$" {
        match stream_write(ctx, key)? {
            Some(s) => s.last_id,
            None => StreamId::MIN,
        }
    } else {
        strict_id(args[4])?
    };
    if !g.exists {
        create_stream(ctx, key);
        ctx.signal_modified(key);
    }
    if !existing(ctx, key)?.create_group(group, id, g.entries_read) {
        return Err(err("BUSYGROUP Consumer Group name already exists"));
    }
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-create", key);
    Ok(Reply::Ok)
}

fn xgroup_setid(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let g = xgroup_prologue(ctx, args, true)?;
    if args.len() != 5 && args.len() != 7 {
        return Err(args::subcommand_syntax_error(args[0], args[1]));
    }
    let (key, group) = (args[2], args[3]);
    let s = existing(ctx, key)?;
    let id = if args[4] == b"$" { s.last_id } else { loose_id(args[4], 0)? };
    if let Some(cg) = s.group_mut(group) {
        cg.last_id = id;
        cg.entries_read = g.entries_read;
    }
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-setid", key);
    Ok(Reply::Ok)
}

fn xgroup_destroy(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    xgroup_prologue(ctx, args, false)?;
    let (key, group) = (args[2], args[3]);
    if !existing(ctx, key)?.destroy_group(group) {
        return Ok(Reply::Int(0));
    }
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-destroy", key);
    // Clients blocked in XREADGROUP on this group get their -NOGROUP now.
    let (db, fx) = ctx.db_fx();
    db.signal_ready(fx, key);
    Ok(Reply::Int(1))
}

fn xgroup_createconsumer(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    xgroup_prologue(ctx, args, true)?;
    let (key, group, consumer) = (args[2], args[3], args[4]);
    let now = ctx.now_ms();
    let created = existing(ctx, key)?.group_mut(group).and_then(|g| g.create_consumer(consumer, now)).is_some();
    if created {
        ctx.dirty(1);
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Reply::Int(created as i64))
}

fn xgroup_delconsumer(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    xgroup_prologue(ctx, args, true)?;
    let (key, group, consumer) = (args[2], args[3], args[4]);
    let s = existing(ctx, key)?;
    let Some(g) = s.group_mut(group) else { return Ok(Reply::Int(0)) };
    let Some(slot) = g.find(consumer) else { return Ok(Reply::Int(0)) };
    let pending = g.delete_consumer(slot);
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
    Ok(Reply::Int(pending as i64))
}

fn xgroup_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    ))
}

// ----- XACK / XPENDING -----

fn xack(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, group) = (args[1], args[2]);
    match stream_read(ctx, key)? {
        Some(s) if s.group(group).is_some() => {}
        _ => return Ok(Reply::Int(0)),
    }
    // All or nothing: every ID is checked before any is acknowledged.
    let ids = args[3..].iter().map(|a| strict_id(a)).collect::<CmdResult<Vec<StreamId>>>()?;
    let Some(g) = stream_write(ctx, key)?.and_then(|s| s.group_mut(group)) else { return Ok(Reply::Int(0)) };
    let acked = ids.into_iter().filter(|&id| g.remove_pending(id).is_some()).count();
    ctx.dirty(acked as u64);
    Ok(Reply::Int(acked as i64))
}

fn nogroup(key: &[u8], group: &[u8]) -> Error {
    err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn xpending(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, group) = (args[1], args[2]);
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(Error::Syntax);
    }
    let mut range = None;
    if n >= 6 {
        let mut at = 3;
        let mut min_idle = 0;
        if args::is(args[3], "idle") {
            min_idle = args::int(args[4])?;
            if n < 8 {
                return Err(Error::Syntax);
            }
            at += 2;
        }
        let count = args::int(args[at + 2])?.max(0);
        let start = range_start(args[at])?;
        let end = range_end(args[at + 1])?;
        let consumer = args.get(at + 3).copied();
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ctx.now_ms();
    let s = stream_read(ctx, key)?;
    let Some(g) = s.and_then(|s| s.group(group)) else { return Err(nogroup(key, group)) };
    let Some((min_idle, start, end, count, consumer)) = range else {
        let (Some((first, _)), Some((last, _))) = (g.pel.first_key_value(), g.pel.last_key_value()) else {
            return Ok(Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]));
        };
        let owners: Vec<Reply> = g
            .consumers()
            .filter(|c| !c.pel.is_empty())
            .map(|c| Reply::Array(vec![Reply::bulk(&c.name), Reply::bulk_i64(c.pel.len() as i64)]))
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            id_reply(*first),
            id_reply(*last),
            Reply::Array(owners),
        ]));
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match g.find(name) {
            Some(slot) => Box::new(g.consumer(slot).pel.range(start..).copied()),
            None => return Ok(Reply::Array(Vec::new())),
        },
        None => Box::new(g.pel.range(start..).map(|(id, _)| *id)),
    };
    let mut out = Vec::new();
    let mut left = count;
    for id in ids {
        if left == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        left -= 1;
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::bulk(g.consumer_name(nack.consumer).unwrap_or_default()),
            Reply::Int((now - nack.delivery_time).max(0)),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Ok(Reply::Array(out))
}

// ----- XCLAIM / XAUTOCLAIM -----

/// The entry or its ID, as a claim replies it.
fn claimed_reply(s: &Stream, id: StreamId, justid: bool) -> Reply {
    if justid {
        return id_reply(id);
    }
    match s.get(id) {
        Some(e) => entry_reply(&e),
        None => Reply::NilArray,
    }
}

fn xclaim(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, group, consumer) = (args[1], args[2], args[3]);
    match stream_read(ctx, key)? {
        Some(s) if s.group(group).is_some() => {}
        _ => return Err(nogroup(key, group)),
    }
    let min_idle = args::int_or(args[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    // IDs run until the first argument that is not one; options follow.
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        match crate::types::stream::id::parse(
            args[j],
            crate::types::stream::ParseOpts { missing_seq: 0, strict: true, seq_auto: false },
        ) {
            Some(p) => ids.push((p.id, args[j])),
            None => break,
        }
        j += 1;
    }
    let now = ctx.now_ms();
    let mut delivery_time: i64 = -1;
    let mut retry_count: i64 = -1;
    let (mut force, mut justid) = (false, false);
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args[j];
        if args::is(opt, "force") {
            force = true;
        } else if args::is(opt, "justid") {
            justid = true;
        } else if args::is(opt, "idle") && more > 0 {
            j += 1;
            delivery_time = now - args::int_or(args[j], "ERR Invalid IDLE option argument for XCLAIM")?;
        } else if args::is(opt, "time") && more > 0 {
            j += 1;
            delivery_time = args::int_or(args[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if args::is(opt, "retrycount") && more > 0 {
            j += 1;
            retry_count = args::int_or(args[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if args::is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(args[j])?;
        } else {
            return Err(err(format!("ERR Unrecognized XCLAIM option '{}'", String::from_utf8_lossy(opt))));
        }
        j += 1;
    }
    ctx.propagate_as(&[]);
    let propagating = ctx.srv.fx.propagating;
    let db = ctx.db;
    let Some(s) = stream_write(ctx, key)? else { return Err(nogroup(key, group)) };
    let mut propagate_last = false;
    if let Some(g) = s.group_mut(group) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last = true;
        }
    }
    if delivery_time == -1 || delivery_time < 0 || delivery_time > now {
        delivery_time = now;
    }
    let mut replies = Vec::new();
    // Propagation: (id as typed, consumer, time, count, group last ID).
    let mut claims: Vec<(Vec<u8>, Vec<u8>, i64, u64, StreamId)> = Vec::new();
    let mut slot = None;
    let mut created_consumer = false;
    let mut dirty = 0u64;
    for (id, arg) in ids {
        let exists = s.contains(id);
        let Some(g) = s.group_mut(group) else { break };
        if !exists {
            if let Some(nack) = g.remove_pending(id) {
                if propagating {
                    claims.push((
                        arg.to_vec(),
                        owner_name(g, nack.consumer),
                        nack.delivery_time,
                        nack.delivery_count,
                        g.last_id,
                    ));
                }
                propagate_last = false;
                dirty += 1;
            }
            continue;
        }
        let mut fresh = false;
        if force && !g.pel.contains_key(&id) {
            g.create_unowned(id, now);
            fresh = true;
        }
        let Some(nack) = g.pel.get(&id).copied() else { continue };
        if !fresh && min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let to = match slot {
            Some(s) => s,
            None => {
                let (sl, created) = g.lookup_or_create(consumer, now);
                created_consumer |= created;
                slot = Some(sl);
                sl
            }
        };
        let last = g.last_id;
        let Some(nack) = g.claim(id, to) else { continue };
        nack.delivery_time = delivery_time;
        if retry_count >= 0 {
            nack.delivery_count = retry_count as u64;
        } else if !justid {
            nack.delivery_count = nack.delivery_count.wrapping_add(1);
        }
        let (time, count) = (nack.delivery_time, nack.delivery_count);
        replies.push(claimed_reply(s, id, justid));
        if propagating {
            claims.push((arg.to_vec(), consumer.to_vec(), time, count, last));
        }
        propagate_last = false;
        dirty += 1;
    }
    let setid = propagate_last.then(|| s.group(group).map(|g| (g.last_id, g.entries_read))).flatten();
    if created_consumer {
        ctx.srv.fx.dirty += 1;
        ctx.srv.fx.notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    for (id, owner, time, count, last) in claims {
        propagate_claim(ctx, key, group, &owner, &id, time, count, last);
    }
    if let Some((last, read)) = setid {
        propagate_setid(ctx, key, group, last, read);
        dirty += 1;
    }
    ctx.dirty(dirty);
    Ok(Reply::Array(replies))
}

/// A NACK owner's name (for propagating a NACK that is being dropped).
fn owner_name(g: &crate::types::stream::ConsumerGroup, slot: u32) -> Vec<u8> {
    g.consumer_name(slot).map(<[u8]>::to_vec).unwrap_or_default()
}

/// The largest COUNT XAUTOCLAIM accepts (Redis: LONG_MAX / sizeof(streamID)).
const AUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;

fn xautoclaim(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, group, consumer) = (args[1], args[2], args[3]);
    let min_idle = args::int_or(args[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = range_start(args[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args::is(args[j], "count") && more > 0 {
            count = args::int_or(args[j + 1], "ERR COUNT must be > 0")?;
            if !(1..=AUTOCLAIM_MAX_COUNT).contains(&count) {
                return Err(err("ERR COUNT must be > 0"));
            }
            j += 1;
        } else if args::is(args[j], "justid") {
            justid = true;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    match stream_read(ctx, key)? {
        Some(s) if s.group(group).is_some() => {}
        _ => return Err(nogroup(key, group)),
    }
    ctx.propagate_as(&[]);
    let now = ctx.now_ms();
    let db = ctx.db;
    let propagating = ctx.srv.fx.propagating;
    let Some(s) = stream_write(ctx, key)? else { return Err(nogroup(key, group)) };
    let mut attempts = count.saturating_mul(10);
    let mut replies = Vec::new();
    let mut deleted = Vec::new();
    let mut claims: Vec<(StreamId, Vec<u8>, i64, u64, StreamId)> = Vec::new();
    let mut slot = None;
    let mut created_consumer = false;
    let mut dirty = 0u64;
    let mut cursor = Some(start);
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(from) = cursor else { break };
        let Some(g) = s.group(group) else { break };
        let Some((&id, nack)) = g.pel.range(from..).next() else {
            cursor = None;
            break;
        };
        let nack = *nack;
        cursor = id.incr();
        if !s.contains(id) {
            let Some(g) = s.group_mut(group) else { break };
            if propagating {
                claims.push((id, owner_name(g, nack.consumer), nack.delivery_time, nack.delivery_count, g.last_id));
            }
            g.remove_pending(id);
            deleted.push(id_reply(id));
            dirty += 1;
            count -= 1;
            continue;
        }
        if min_idle != 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let Some(g) = s.group_mut(group) else { break };
        let to = match slot {
            Some(s) => s,
            None => {
                let (sl, created) = g.lookup_or_create(consumer, now);
                created_consumer |= created;
                slot = Some(sl);
                sl
            }
        };
        let last = g.last_id;
        let Some(n) = g.claim(id, to) else { continue };
        n.delivery_time = now;
        if !justid {
            n.delivery_count = n.delivery_count.wrapping_add(1);
        }
        let (time, dcount) = (n.delivery_time, n.delivery_count);
        replies.push(claimed_reply(s, id, justid));
        count -= 1;
        if propagating {
            claims.push((id, consumer.to_vec(), time, dcount, last));
        }
        dirty += 1;
    }
    // The cursor is the next pending ID after the last one looked at.
    let next = cursor
        .and_then(|from| s.group(group).and_then(|g| g.pel.range(from..).next().map(|(id, _)| *id)))
        .unwrap_or(StreamId::MIN);
    if created_consumer {
        ctx.srv.fx.dirty += 1;
        ctx.srv.fx.notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    for (id, owner, time, dcount, last) in claims {
        propagate_claim(ctx, key, group, &owner, &id.to_bytes(), time, dcount, last);
    }
    ctx.dirty(dirty);
    Ok(Reply::Array(vec![id_reply(next), Reply::Array(replies), Reply::Array(deleted)]))
}
