//! Popping the lowest or highest members: ZPOPMIN, ZPOPMAX, ZMPOP and the blocking forms
//! BZPOPMIN, BZPOPMAX and BZMPOP (Redis's genericZpopCommand and
//! blockingGenericZpopCommand).
//!
//! A blocking pop that finds nothing registers the client on its keys
//! ([`crate::blocking`]); when a write makes one of them a non-empty sorted set, the command
//! runs again and pops from that key (the client's `served_key`), first come first served.
//! Inside MULTI or a script it replies as on timeout instead of blocking.

use crate::client::{BlockKind, BlockState};
use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, BLOCKING, FAST, NOSCRIPT, WRITE};
use crate::cmd::zset::zset_mut;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Lookup};
use crate::reply::Reply;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: WRITE | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(zpopmin),
        group: Group::SortedSet,
        since: "5.0.0",
        summary: "Remove and return members with the lowest scores in a sorted set",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "key:key [count:integer]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: WRITE | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(zpopmax),
        group: Group::SortedSet,
        since: "5.0.0",
        summary: "Remove and return members with the highest scores in a sorted set",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "key:key [count:integer]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: WRITE,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(zmpop),
        group: Group::SortedSet,
        since: "7.0.0",
        summary: "Remove and return members with scores in a sorted set",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "numkeys:integer key:key... where=(MIN|MAX) [COUNT count:integer]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: WRITE | NOSCRIPT | FAST | BLOCKING,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::range(1, -2, 1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(bzpopmin),
        group: Group::SortedSet,
        since: "5.0.0",
        summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key... timeout:double",
        history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: WRITE | NOSCRIPT | FAST | BLOCKING,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::range(1, -2, 1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(bzpopmax),
        group: Group::SortedSet,
        since: "5.0.0",
        summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key... timeout:double",
        history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: WRITE | BLOCKING,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(2, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(bzmpop),
        group: Group::SortedSet,
        since: "7.0.0",
        summary: "Remove and return members with scores in a sorted set or block until one is available",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        args: "timeout:double numkeys:integer key:key... where=(MIN|MAX) [COUNT count:integer]",
        ..CommandSpec::DEFAULT
    },
];

/// How a pop replies (Redis's emitkey / use_nested_array / reply_nil_when_empty).
#[derive(Clone, Copy)]
struct Shape {
    /// The key name comes first (blocking pops, ZMPOP).
    emit_key: bool,
    /// [member, score] pairs instead of a flat list.
    nested: bool,
    /// A null array (not an empty one) when nothing was popped.
    nil_when_empty: bool,
}

/// Redis's genericZpopCommand: pops up to `count` (None: a single pop) from the first of
/// `keys` that exists.
fn pop_generic(ctx: &mut Ctx, keys: &[&[u8]], max: bool, count: Option<u64>, shape: Shape) -> CmdResult {
    let mut found = None;
    for &key in keys {
        if zset_mut(ctx, key, Lookup::WRITE)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        return Ok(if shape.nil_when_empty { Reply::NilArray } else { Reply::Array(Vec::new()) });
    };
    if count == Some(0) {
        return Ok(Reply::Array(Vec::new()));
    }
    let wanted = count.unwrap_or(1);
    let mut popped = Vec::new();
    if let Some(z) = zset_mut(ctx, key, Lookup::QUIET)? {
        while (popped.len() as u64) < wanted {
            match z.pop(max) {
                Some(p) => popped.push(p),
                None => break,
            }
        }
    }
    let emptied = zset_mut(ctx, key, Lookup::QUIET)?.is_none_or(|z| z.is_empty());
    if !popped.is_empty() {
        ctx.dirty(popped.len() as u64);
        ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        ctx.signal_modified(key);
        if shape.emit_key {
            // The multi-key and blocking forms replicate as the plain pop on the key used.
            let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            match count {
                Some(_) => {
                    let n = popped.len().to_string();
                    ctx.propagate_as(&[name, key, n.as_bytes()]);
                }
                None => ctx.propagate_as(&[name, key]),
            }
        }
    }
    if emptied {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    let mut items = Vec::with_capacity(popped.len() * 2 + 1);
    for (member, score) in popped {
        if shape.nested {
            items.push(Reply::Array(vec![Reply::bulk_vec(member), Reply::Double(score)]));
        } else {
            items.push(Reply::bulk_vec(member));
            items.push(Reply::Double(score));
        }
    }
    Ok(match (shape.emit_key, shape.nested) {
        (false, _) => Reply::Array(items),
        (true, false) => {
            items.insert(0, Reply::bulk(key));
            Reply::Array(items)
        }
        (true, true) => Reply::Array(vec![Reply::bulk(key), Reply::Array(items)]),
    })
}

fn zpop_min_max(ctx: &mut Ctx, args: &[&[u8]], max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(Error::Syntax);
    }
    let count = match args.get(2) {
        // Redis's getPositiveLongFromObjectOrReply: one message for both failures.
        Some(a) => Some(args::int(a).ok().filter(|&n| n >= 0).ok_or(Error::NotPositive)? as u64),
        None => None,
    };
    let nested = ctx.resp3() && count.is_some();
    pop_generic(ctx, &args[1..2], max, count, Shape { emit_key: false, nested, nil_when_empty: false })
}

fn zpopmin(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zpop_min_max(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zpop_min_max(ctx, args, true)
}

/// Redis's blockingGenericZpopCommand: pops from the first non-empty key, or blocks.
fn blocking_pop(
    ctx: &mut Ctx,
    args: &[&[u8]],
    keys: &[&[u8]],
    timeout: &[u8],
    max: bool,
    count: Option<u64>,
    shape: Shape,
) -> CmdResult {
    let now = ctx.now_ms();
    let mut deadline = args::timeout_deadline(timeout, now, true)?;
    // Served after blocking: pop from the key that became ready, and keep the first
    // deadline if the command has to block again.
    let ready = ctx.client().served_key.take();
    if let Some(saved) = ctx.client_ref().blocked_extra.first() {
        if let Ok(bytes) = <[u8; 8]>::try_from(saved.as_slice()) {
            deadline = i64::from_le_bytes(bytes);
        }
    }
    let candidates: Vec<&[u8]> = match &ready {
        Some(k) if keys.contains(&k.as_slice()) => vec![k.as_slice()],
        _ => keys.to_vec(),
    };
    for key in candidates {
        match zset_mut(ctx, key, Lookup::WRITE)? {
            Some(z) if !z.is_empty() => return pop_generic(ctx, &[key], max, count, shape),
            _ => continue,
        }
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    let db = ctx.db;
    let mut unique: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for k in keys {
        if !unique.iter().any(|u| u == k) {
            unique.push(k.to_vec());
        }
    }
    ctx.block(BlockState {
        db,
        keys: unique,
        deadline_ms: deadline,
        args: args.iter().map(|a| a.to_vec()).collect(),
        extra: vec![deadline.to_le_bytes().to_vec()],
        timeout_reply: Reply::NilArray,
        kind: BlockKind::ZSet,
    });
    Ok(Reply::NoReply)
}

fn bzpop_min_max(ctx: &mut Ctx, args: &[&[u8]], max: bool) -> CmdResult {
    let last = args.len() - 1;
    let shape = Shape { emit_key: true, nested: false, nil_when_empty: false };
    blocking_pop(ctx, args, &args[1..last], args[last], max, None, shape)
}

fn bzpopmin(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bzpop_min_max(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    bzpop_min_max(ctx, args, true)
}

/// Parsed ZMPOP / BZMPOP arguments: keys, MAX?, count.
fn parse_mpop<'a>(args: &[&'a [u8]], numkeys_idx: usize) -> CmdResult<(Vec<&'a [u8]>, bool, u64)> {
    let numkeys = args::int(args[numkeys_idx])
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| err("ERR numkeys should be greater than 0"))?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_idx + 1))
        .filter(|&i| i < args.len())
        .ok_or(Error::Syntax)?;
    let max = if args::is(args[where_idx], "min") {
        false
    } else if args::is(args[where_idx], "max") {
        true
    } else {
        return Err(Error::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && args::is(args[j], "count") && more > 0 {
            j += 1;
            let n =
                args::int(args[j]).ok().filter(|&n| n >= 1).ok_or_else(|| err("ERR count should be greater than 0"))?;
            count = Some(n as u64);
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok((args[numkeys_idx + 1..where_idx].to_vec(), max, count.unwrap_or(1)))
}

const MPOP_SHAPE: Shape = Shape { emit_key: true, nested: true, nil_when_empty: true };

fn zmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 1)?;
    pop_generic(ctx, &keys, max, Some(count), MPOP_SHAPE)
}

fn bzmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (keys, max, count) = parse_mpop(args, 2)?;
    blocking_pop(ctx, args, &keys, args[1], max, Some(count), MPOP_SHAPE)
}
