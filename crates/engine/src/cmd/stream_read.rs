//! XREAD and XREADGROUP (Redis's xreadCommand and serveClientsBlockedOnStreamKey).
//!
//! Both resolve an ID per stream (`$` is the stream's last ID at call time, `>` a group's
//! next undelivered entry), serve every stream that has something after it, and otherwise
//! block with BLOCK. A blocked client keeps what it resolved — the IDs, and its deadline —
//! in its block state (`extra`: 16 big-endian bytes per stream, then the deadline). When a
//! stream key is signalled ready (XADD, a group destroyed, the key deleted or replaced),
//! [`should_serve`] decides, for each waiter in arrival order, whether the command must run
//! again now: an XREAD when the stream's last ID passed its ID, an XREADGROUP when it passed
//! its group's last delivered ID — or at once, to report that the key or the group is gone.
//! The re-run replies with that one stream (at most COUNT entries, 1000 by default).
//!
//! XREADGROUP propagates what it did rather than itself: an XCLAIM per delivered entry, an
//! XGROUP SETID for NOACK reads, an XGROUP CREATECONSUMER for a consumer NOACK created.

use crate::client::{BlockKind, BlockState};
use crate::cmd::args;
use crate::cmd::spec::{acl, key, BeginSearch, CommandSpec, FindKeys, Group, KeySpec, BLOCKING, READONLY, WRITE};
use crate::cmd::stream::{entry_reply, id_reply, strict_id};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Lookup, ValueRef};
use crate::reply::Reply;
use crate::server::Server;
use crate::types::stream::{Stream, StreamId};
use crate::types::Object;

const STREAMS_KEYS: KeySpec = KeySpec {
    flags: key::RO | key::ACCESS,
    begin: BeginSearch::Keyword { keyword: "STREAMS", startfrom: 1 },
    find: FindKeys::Range { lastkey: -1, keystep: 1, limit: 2 },
    notes: None,
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xread",
        arity: -4,
        flags: BLOCKING | READONLY,
        acl: acl::STREAM,
        key_specs: &[STREAMS_KEYS],
        handler: Some(xread),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
        args: "[COUNT count:integer] [BLOCK milliseconds:integer] STREAMS streams=(key:key... id:string...)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xreadgroup",
        arity: -7,
        flags: BLOCKING | WRITE,
        acl: acl::STREAM,
        key_specs: &[KeySpec { begin: BeginSearch::Keyword { keyword: "STREAMS", startfrom: 4 }, ..STREAMS_KEYS }],
        handler: Some(xreadgroup),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
        args: "GROUP group_consumer=(group consumer) [COUNT count:integer] [BLOCK milliseconds:integer] [NOACK] STREAMS streams=(key:key... id:string...)",
        ..CommandSpec::DEFAULT
    },
];

/// COUNT when a blocked read is served without one.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// Parsed XREAD/XREADGROUP arguments.
struct ReadArgs<'a> {
    /// XREADGROUP's group and consumer.
    group: Option<(&'a [u8], &'a [u8])>,
    is_group_cmd: bool,
    /// BLOCK's deadline (0 = forever).
    block: Option<i64>,
    count: i64,
    noack: bool,
    keys: &'a [&'a [u8]],
    ids: &'a [&'a [u8]],
}

/// Parses the options in Redis's order (so the same bad request gets the same error).
fn parse_read<'a>(args: &'a [&'a [u8]], now_ms: i64) -> CmdResult<ReadArgs<'a>> {
    let is_group_cmd = args[0].len() == 10;
    let mut out = ReadArgs { group: None, is_group_cmd, block: None, count: 0, noack: false, keys: &[], ids: &[] };
    let mut streams_at = 0;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args[i];
        if args::is(o, "block") && more > 0 {
            i += 1;
            out.block = Some(args::timeout_deadline(args[i], now_ms, false)?);
        } else if args::is(o, "count") && more > 0 {
            i += 1;
            out.count = args::int(args[i])?.max(0);
        } else if args::is(o, "streams") && more > 0 {
            streams_at = i + 1;
            if (args.len() - streams_at) % 2 != 0 {
                return Err(err(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if args::is(o, "group") && more >= 2 {
            if !is_group_cmd {
                return Err(err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."));
            }
            out.group = Some((args[i + 1], args[i + 2]));
            i += 2;
        } else if args::is(o, "noack") {
            if !is_group_cmd {
                return Err(err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."));
            }
            out.noack = true;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(Error::Syntax);
    }
    if is_group_cmd && out.group.is_none() {
        return Err(err("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (args.len() - streams_at) / 2;
    out.keys = &args[streams_at..streams_at + n];
    out.ids = &args[streams_at + n..];
    Ok(out)
}

fn xread(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args)
}

fn xreadgroup(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args)
}

/// The stream at `key` (looked up as a read), mutable for group deliveries.
fn stream_at<'a>(ctx: &'a mut Ctx, key: &[u8], how: Lookup) -> CmdResult<Option<&'a mut Stream>> {
    match ctx.lookup(key, how) {
        None => Ok(None),
        Some(entry) => match entry.object_mut() {
            Some(Object::Stream(s)) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

fn nogroup_error(key: &[u8], group: &[u8]) -> Error {
    err(format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn read_generic(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    // The command itself is never propagated: group reads propagate their effects.
    ctx.propagate_as(&[]);
    let a = parse_read(args, ctx.now_ms())?;
    if let Some(served) = ctx.client_ref().served_key.clone() {
        if !ctx.client_ref().blocked_extra.is_empty() {
            return serve_blocked(ctx, args, &a, &served);
        }
    }
    let mut ids = Vec::with_capacity(a.keys.len());
    for (key, id_arg) in a.keys.iter().zip(a.ids) {
        let s = stream_at(ctx, key, Lookup::READ)?;
        if let Some((group, _)) = a.group {
            if !s.as_ref().is_some_and(|s| s.group(group).is_some()) {
                return Err(nogroup_error(key, group));
            }
        }
        let id = match *id_arg {
            b"$" if a.is_group_cmd => {
                return Err(err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            b"$" => s.map_or(StreamId::MIN, |s| s.last_id),
            b">" if !a.is_group_cmd => {
                return Err(err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            b">" => StreamId::MAX,
            other => strict_id(other)?,
        };
        ids.push(id);
    }
    let mut served: Vec<(Reply, Reply)> = Vec::new();
    for (i, key) in a.keys.iter().enumerate() {
        if let Some(entries) = serve_now(ctx, &a, key, ids[i])? {
            served.push((Reply::bulk(key), entries));
        }
    }
    if !served.is_empty() {
        return Ok(wrap(ctx.resp3(), served));
    }
    if let Some(deadline) = a.block {
        if !ctx.can_block() {
            return Ok(Reply::NilArray);
        }
        let mut extra: Vec<Vec<u8>> = ids.iter().map(|id| id.to_be_bytes().to_vec()).collect();
        extra.push(deadline.to_le_bytes().to_vec());
        block(ctx, args, a.keys, deadline, extra);
        return Ok(Reply::NoReply);
    }
    Ok(Reply::NilArray)
}

/// XREAD's reply: an array of `[key, entries]` in RESP2, a map in RESP3.
fn wrap(resp3: bool, served: Vec<(Reply, Reply)>) -> Reply {
    if resp3 {
        Reply::Map(served)
    } else {
        Reply::Array(served.into_iter().map(|(k, v)| Reply::Array(vec![k, v])).collect())
    }
}

/// Serves one stream synchronously if it has something after `gt`; None otherwise.
fn serve_now(ctx: &mut Ctx, a: &ReadArgs, key: &[u8], gt: StreamId) -> CmdResult<Option<Reply>> {
    let Some(s) = stream_at(ctx, key, Lookup::READ)? else { return Ok(None) };
    let mut gt = gt;
    let mut history = false;
    let serve = match a.group {
        Some((group, _)) => {
            let Some(g) = s.group(group) else { return Ok(None) };
            if gt != StreamId::MAX {
                history = true;
                true
            } else if !s.is_empty() && s.last_valid_id().is_some_and(|max| max > g.last_id) {
                gt = g.last_id;
                true
            } else {
                false
            }
        }
        None => !s.is_empty() && s.last_valid_id().is_some_and(|max| max > gt),
    };
    if !serve {
        return Ok(None);
    }
    // Redis's streamIncrID wraps past the last ID; the range is then empty anyway.
    let start = gt.incr().unwrap_or(StreamId::MIN);
    let count = a.count.max(0) as usize;
    let entries = match a.group {
        None => {
            let limit = if count == 0 { usize::MAX } else { count };
            Reply::Array(s.range(start, StreamId::MAX, false).take(limit).map(|e| entry_reply(&e)).collect())
        }
        Some((group, consumer)) => {
            let r = deliver(ctx, key, group, consumer, start, count, a.noack, history)?;
            ctx.dirty(1);
            r
        }
    };
    Ok(Some(entries))
}

/// A group read from `start`: the consumer's history, or new entries (Redis's
/// streamReplyWithRange with a group), with the consumer created if needed.
#[allow(clippy::too_many_arguments)]
fn deliver(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    history: bool,
) -> CmdResult<Reply> {
    let now = ctx.now_ms();
    let db = ctx.db;
    let propagating = ctx.srv.fx.propagating;
    let Some(s) = stream_at(ctx, key, Lookup::QUIET)? else { return Ok(Reply::Array(Vec::new())) };
    let Some(g) = s.group_mut(group) else { return Ok(Reply::Array(Vec::new())) };
    let (slot, created) = g.lookup_or_create(consumer, now);
    let mut entries = Vec::new();
    let mut claims: Vec<(StreamId, StreamId)> = Vec::new();
    let mut setid = None;
    if history {
        s.read_history(group, slot, start, count, now, |id, e| {
            entries.push(match e {
                Some(e) => entry_reply(e),
                None => Reply::Array(vec![id_reply(id), Reply::NilArray]),
            })
        });
    } else {
        let (_, advanced) = s.deliver_to_group(group, slot, start, count, noack, now, |e, last| {
            entries.push(entry_reply(e));
            if !noack && propagating {
                claims.push((e.id, last));
            }
        });
        if advanced && propagating {
            setid = s.group(group).map(|g| (g.last_id, g.entries_read));
        }
    }
    if created {
        ctx.srv.fx.dirty += 1;
        ctx.srv.fx.notify(notify::STREAM, "xgroup-createconsumer", db, key);
        if noack {
            ctx.also_propagate(&[b"XGROUP", b"CREATECONSUMER", key, group, consumer]);
        }
    }
    for (id, last) in claims {
        propagate_claim(ctx, key, group, consumer, &id.to_bytes(), now, 1, last);
    }
    if let Some((last, read)) = setid {
        propagate_setid(ctx, key, group, last, read);
    }
    Ok(Reply::Array(entries))
}

/// Redis's streamPropagateXCLAIM: an idempotent XCLAIM recreating one NACK (`id` as the
/// caller has it: XCLAIM passes its argument as typed).
#[allow(clippy::too_many_arguments)]
pub(super) fn propagate_claim(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    id: &[u8],
    delivery_time: i64,
    delivery_count: u64,
    last_id: StreamId,
) {
    let time = delivery_time.to_string();
    let count = delivery_count.to_string();
    let last = last_id.to_bytes();
    ctx.also_propagate(&[
        b"XCLAIM",
        key,
        group,
        consumer,
        b"0",
        id,
        b"TIME",
        time.as_bytes(),
        b"RETRYCOUNT",
        count.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        &last,
    ]);
}

/// Redis's streamPropagateGroupID: XGROUP SETID with the read counter.
pub(super) fn propagate_setid(ctx: &mut Ctx, key: &[u8], group: &[u8], last_id: StreamId, entries_read: i64) {
    let last = last_id.to_bytes();
    let read = entries_read.to_string();
    ctx.also_propagate(&[b"XGROUP", b"SETID", key, group, &last, b"ENTRIESREAD", read.as_bytes()]);
}

/// Blocks on the distinct keys, remembering what was resolved.
fn block(ctx: &mut Ctx, args: &[&[u8]], keys: &[&[u8]], deadline: i64, extra: Vec<Vec<u8>>) {
    let mut unique: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for key in keys {
        if !unique.iter().any(|k| k.as_slice() == *key) {
            unique.push(key.to_vec());
        }
    }
    let db = ctx.db;
    ctx.block(BlockState {
        db,
        keys: unique,
        deadline_ms: deadline,
        args: args.iter().map(|a| a.to_vec()).collect(),
        extra,
        timeout_reply: Reply::NilArray,
        kind: BlockKind::Stream,
    });
}

/// The ID a blocked reader waits after, for `key` (its first occurrence).
fn saved_id(extra: &[Vec<u8>], keys: &[&[u8]], key: &[u8]) -> Option<StreamId> {
    let i = keys.iter().position(|k| *k == key)?;
    let bytes: [u8; 16] = extra.get(i)?.as_slice().try_into().ok()?;
    Some(StreamId::from_be_bytes(&bytes))
}

/// Re-run of a blocked read for the key that became ready (Redis's
/// serveClientsBlockedOnStreamKey for one client).
fn serve_blocked(ctx: &mut Ctx, args: &[&[u8]], a: &ReadArgs, key: &[u8]) -> CmdResult {
    let extra = ctx.client_ref().blocked_extra.clone();
    let deadline = extra.last().and_then(|d| <[u8; 8]>::try_from(d.as_slice()).ok()).map_or(0, i64::from_le_bytes);
    let Some(mut gt) = saved_id(&extra, a.keys, key) else { return Ok(Reply::NoReply) };
    let stream = match ctx.lookup(key, Lookup::WRITE) {
        Some(e) => match e.as_object() {
            Some(Object::Stream(s)) => Some((s.last_id, a.group.map(|(g, _)| s.group(g).map(|g| g.last_id)))),
            _ => None,
        },
        None => None,
    };
    let Some((last_id, group_last)) = stream else {
        if a.group.is_some() {
            return Err(err("UNBLOCKED the stream key no longer exists"));
        }
        block(ctx, args, a.keys, deadline, extra);
        return Ok(Reply::NoReply);
    };
    if let Some(g) = group_last {
        match g {
            Some(id) => gt = id,
            None => return Err(err("NOGROUP the consumer group this client was blocked on no longer exists")),
        }
    }
    if last_id <= gt {
        block(ctx, args, a.keys, deadline, extra);
        return Ok(Reply::NoReply);
    }
    let start = gt.incr().unwrap_or(StreamId::MIN);
    let count = if a.count > 0 { a.count as usize } else { BLOCKED_DEFAULT_COUNT };
    let entries = match a.group {
        Some((group, consumer)) => deliver(ctx, key, group, consumer, start, count, a.noack, false)?,
        None => match stream_at(ctx, key, Lookup::QUIET)? {
            Some(s) => {
                Reply::Array(s.range(start, StreamId::MAX, false).take(count).map(|e| entry_reply(&e)).collect())
            }
            None => Reply::Array(Vec::new()),
        },
    };
    Ok(wrap(ctx.resp3(), vec![(Reply::bulk(key), entries)]))
}

/// Whether a client blocked in XREAD/XREADGROUP must be re-run now that `key` (in `db`) was
/// signalled: new entries after its ID, or — for XREADGROUP — its key or group gone.
pub fn should_serve(srv: &Server, db: usize, key: &[u8], slot: usize) -> bool {
    let Some(state) = srv.clients.get(slot).and_then(|c| c.blocked.as_ref()) else { return false };
    let argv: Vec<&[u8]> = state.args.iter().map(|a| a.as_slice()).collect();
    let Ok(a) = parse_read(&argv, srv.fx.now_ms) else { return false };
    let stream =
        srv.dbs[db].peek(key).filter(|e| !e.expire().is_some_and(|w| w <= srv.fx.now_ms)).and_then(|e| {
            match e.value() {
                ValueRef::Object(Object::Stream(s)) => Some(s),
                _ => None,
            }
        });
    let Some(s) = stream else { return a.group.is_some() };
    match a.group {
        Some((group, _)) => s.group(group).map_or(true, |g| s.last_id > g.last_id),
        None => saved_id(&state.extra, a.keys, key).is_some_and(|gt| s.last_id > gt),
    }
}
