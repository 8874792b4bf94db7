//! Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (Redis's t_list.c and
//! blocked.c).
//!
//! With data present they behave as their non-blocking forms. Otherwise the client blocks
//! on the keys (see [`crate::blocking`]) unless it may not (inside MULTI or a script), when
//! it gets the timeout reply at once. When a push makes a key ready, the blocked command
//! runs again with that key recorded as the client's `served_key`: it then pops from that
//! key only, as Redis serves a client from the key that got data, not from the first of its
//! keys. A timeout answers with a null array, for BLMOVE too, as Redis does.

use crate::client::{BlockKind, BlockState};
use crate::cmd::args;
use crate::cmd::list::{list_mut, lmove_generic, parse_mpop, parse_where, pop_one, pop_range_with_key, MpopArgs};
use crate::cmd::spec::{
    acl, key, BeginSearch, CommandSpec, FindKeys, Group, KeySpec, BLOCKING, DENYOOM, NOSCRIPT, WRITE,
};
use crate::ctx::Ctx;
use crate::error::CmdResult;
use crate::reply::Reply;
use crate::types::list::Where;

const LIST: u64 = acl::LIST;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "blpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        acl: LIST,
        key_specs: &[KeySpec::range(1, -2, 1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(blpop),
        group: Group::List,
        since: "2.0.0",
        summary: "Remove and get the first element in a list, or block until one is available",
        complexity: "O(N) where N is the number of provided keys.",
        args: "key:key... timeout:double",
        history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "brpop",
        arity: -3,
        flags: WRITE | NOSCRIPT | BLOCKING,
        acl: LIST,
        key_specs: &[KeySpec::range(1, -2, 1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(brpop),
        group: Group::List,
        since: "2.0.0",
        summary: "Remove and get the last element in a list, or block until one is available",
        complexity: "O(N) where N is the number of provided keys.",
        args: "key:key... timeout:double",
        history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "blmove",
        arity: 6,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE), KeySpec::one(2, key::RW | key::INSERT)],
        handler: Some(blmove),
        group: Group::List,
        since: "6.2.0",
        summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
        complexity: "O(1)",
        args: "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT) timeout:double",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "brpoplpush",
        arity: 4,
        flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE), KeySpec::one(2, key::RW | key::INSERT)],
        handler: Some(brpoplpush),
        group: Group::List,
        since: "2.2.0",
        summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
        complexity: "O(1)",
        args: "source:key destination:key timeout:double",
        history: &[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "blmpop",
        arity: -5,
        flags: WRITE | BLOCKING,
        acl: LIST,
        key_specs: &[KeySpec {
            flags: key::RW | key::ACCESS | key::DELETE,
            begin: BeginSearch::Index(2),
            find: FindKeys::Keynum { keynumidx: 0, firstkey: 1, keystep: 1 },
            notes: None,
        }],
        handler: Some(blmpop),
        group: Group::List,
        since: "7.0.0",
        summary: "Pop elements from a list, or block until one is available",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        args: "timeout:double numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]",
        ..CommandSpec::DEFAULT
    },
];

/// The key that became ready, when this run serves a blocked client.
fn served_key(ctx: &Ctx) -> Option<Vec<u8>> {
    ctx.client_ref().served_key.clone()
}

/// Blocks the client on `keys` until `deadline_ms` (0: forever).
fn block_on(ctx: &mut Ctx, args: &[&[u8]], keys: &[&[u8]], deadline_ms: i64) {
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
        deadline_ms,
        args: args.iter().map(|a| a.to_vec()).collect(),
        extra: Vec::new(),
        timeout_reply: Reply::NilArray,
        kind: BlockKind::List,
    });
}

/// Redis's blockingPopGenericCommand: `count` None for BLPOP/BRPOP (a `[key, element]`
/// reply), Some for BLMPOP (`[key, [elements]]`).
fn blocking_pop(
    ctx: &mut Ctx,
    args: &[&[u8]],
    keys: &[&[u8]],
    at: Where,
    timeout: &[u8],
    count: Option<i64>,
) -> CmdResult {
    let deadline = args::timeout_deadline(timeout, ctx.now_ms(), true)?;
    let served = served_key(ctx);
    let candidates: Vec<&[u8]> = match &served {
        Some(k) => keys.iter().copied().filter(|key| *key == k.as_slice()).take(1).collect(),
        None => keys.to_vec(),
    };
    for key in candidates {
        match list_mut(ctx, key)? {
            Some(list) if !list.is_empty() => {}
            _ => continue,
        }
        if let Some(count) = count {
            return pop_range_with_key(ctx, key, at, count);
        }
        if let Some(value) = pop_one(ctx, key, at)? {
            return Ok(Reply::Array(vec![Reply::bulk(key), Reply::bulk_vec(value)]));
        }
    }
    if !ctx.can_block() {
        return Ok(Reply::NilArray);
    }
    block_on(ctx, args, keys, deadline);
    Ok(Reply::NoReply)
}

fn blpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let last = args.len() - 1;
    blocking_pop(ctx, args, &args[1..last], Where::Head, args[last], None)
}

fn brpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let last = args.len() - 1;
    blocking_pop(ctx, args, &args[1..last], Where::Tail, args[last], None)
}

fn blmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let MpopArgs { keys, at, count } = parse_mpop(args, 2)?;
    blocking_pop(ctx, args, keys, at, args[1], Some(count))
}

/// Redis's blmoveGenericCommand.
fn blmove_generic(ctx: &mut Ctx, args: &[&[u8]], from: Where, to: Where, timeout: &[u8]) -> CmdResult {
    let deadline = args::timeout_deadline(timeout, ctx.now_ms(), true)?;
    let (src, dst) = (args[1], args[2]);
    if list_mut(ctx, src)?.is_some() {
        return lmove_generic(ctx, src, dst, from, to);
    }
    if !ctx.can_block() {
        return Ok(Reply::Nil);
    }
    block_on(ctx, args, &[src], deadline);
    Ok(Reply::NoReply)
}

fn blmove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let from = parse_where(args[3])?;
    let to = parse_where(args[4])?;
    blmove_generic(ctx, args, from, to, args[5])
}

fn brpoplpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    blmove_generic(ctx, args, Where::Tail, Where::Head, args[3])
}
