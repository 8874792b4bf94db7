//! List commands (Redis's t_list.c) that never block: pushes, pops, ranges, LINSERT, LSET,
//! LREM, LTRIM, LPOS, LMOVE/RPOPLPUSH, LMPOP. The blocking variants are in
//! [`super::list_blocking`] and share the helpers here.
//!
//! Each command checks its arguments and the key's type in Redis's order (so the same
//! invalid request gets the same error), fires the keyspace events Redis fires, and deletes
//! a list when its last element goes (with a `del` event).

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Value};
use crate::reply::Reply;
use crate::types::list::{Elem, List, Where};
use crate::types::Object;

const LIST: u64 = acl::LIST;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(lpush),
        group: Group::List,
        since: "1.0.0",
        summary: "Prepend one or multiple elements to a list",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: "key:key element...",
        history: &[("2.4.0", "Accepts multiple `element` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(rpush),
        group: Group::List,
        since: "1.0.0",
        summary: "Append one or multiple elements to a list",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: "key:key element...",
        history: &[("2.4.0", "Accepts multiple `element` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(lpushx),
        group: Group::List,
        since: "2.2.0",
        summary: "Prepend an element to a list, only if the list exists",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: "key:key element...",
        history: &[("4.0.0", "Accepts multiple `element` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(rpushx),
        group: Group::List,
        since: "2.2.0",
        summary: "Append an element to a list, only if the list exists",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: "key:key element...",
        history: &[("4.0.0", "Accepts multiple `element` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: WRITE | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(lpop),
        group: Group::List,
        since: "1.0.0",
        summary: "Remove and get the first elements in a list",
        complexity: "O(N) where N is the number of elements returned",
        args: "key:key@0 [count:integer]{6.2.0}",
        history: &[("6.2.0", "Added the `count` argument.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: WRITE | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(rpop),
        group: Group::List,
        since: "1.0.0",
        summary: "Remove and get the last elements in a list",
        complexity: "O(N) where N is the number of elements returned",
        args: "key:key@0 [count:integer]{6.2.0}",
        history: &[("6.2.0", "Added the `count` argument.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: READONLY | FAST,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RO)],
        handler: Some(llen),
        group: Group::List,
        since: "1.0.0",
        summary: "Get the length of a list",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: READONLY,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(lrange),
        group: Group::List,
        since: "1.0.0",
        summary: "Get a range of elements from a list",
        complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
        args: "key:key start:integer stop:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: READONLY,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(lindex),
        group: Group::List,
        since: "1.0.0",
        summary: "Get an element from a list by its index",
        complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
        args: "key:key index:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: WRITE | DENYOOM,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(lset),
        group: Group::List,
        since: "1.0.0",
        summary: "Set the value of an element in a list by its index",
        complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
        args: "key:key index:integer element",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: WRITE | DENYOOM,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(linsert),
        group: Group::List,
        since: "2.2.0",
        summary: "Insert an element before or after another element in a list",
        complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
        args: "key:key where=(BEFORE|AFTER) pivot element",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: WRITE,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(lrem),
        group: Group::List,
        since: "1.0.0",
        summary: "Remove elements from a list",
        complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
        args: "key:key count:integer element",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: WRITE,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(ltrim),
        group: Group::List,
        since: "1.0.0",
        summary: "Trim a list to the specified range",
        complexity: "O(N) where N is the number of elements to be removed by the operation.",
        args: "key:key start:integer stop:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: READONLY,
        acl: LIST,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(lpos),
        group: Group::List,
        since: "6.0.6",
        summary: "Return the index of matching elements on a list",
        complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
        args: "key:key element [RANK rank:integer] [COUNT num-matches:integer] [MAXLEN len:integer]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: WRITE | DENYOOM,
        acl: LIST,
        key_specs: &[
            KeySpec::one(1, key::RW | key::ACCESS | key::DELETE),
            KeySpec::one(2, key::RW | key::INSERT),
        ],
        handler: Some(lmove),
        group: Group::List,
        since: "6.2.0",
        summary: "Pop an element from a list, push it to another list and return it",
        complexity: "O(1)",
        args: "source:key destination:key wherefrom=(LEFT|RIGHT) whereto=(LEFT|RIGHT)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: WRITE | DENYOOM,
        acl: LIST,
        key_specs: &[
            KeySpec::one(1, key::RW | key::ACCESS | key::DELETE),
            KeySpec::one(2, key::RW | key::INSERT),
        ],
        handler: Some(rpoplpush),
        group: Group::List,
        since: "1.2.0",
        summary: "Remove the last element in a list, prepend it to another list and return it",
        complexity: "O(1)",
        args: "source:key destination:key",
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`LMOVE` with the `RIGHT` and `LEFT` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: WRITE,
        acl: LIST,
        key_specs: &[KeySpec::keynum(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(lmpop),
        group: Group::List,
        since: "7.0.0",
        summary: "Pop elements from a list",
        complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
        args: "numkeys:integer key:key... where=(LEFT|RIGHT) [COUNT count:integer]",
        ..CommandSpec::DEFAULT
    },
];

/// A new, empty list with the server's current list settings.
pub(super) fn new_list(ctx: &Ctx) -> List {
    let e = &ctx.srv.encoding;
    List::new(e.list_max_listpack_size, e.list_compress_depth)
}

/// The list at `key` for a write: None if the key is missing, WRONGTYPE for another type.
pub(super) fn list_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut List>> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(entry) => match entry.object_mut() {
            Some(Object::List(list)) => Ok(Some(list)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The list at `key` for a read (counts a hit or a miss).
fn list_read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a List>> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(entry) => match entry.as_object() {
            Some(Object::List(list)) => Ok(Some(list)),
            _ => Err(Error::WrongType),
        },
    }
}

pub(super) fn elem_reply(e: Elem<'_>) -> Reply {
    match e {
        Elem::Int(n) => Reply::bulk_i64(n),
        Elem::Str(s) => Reply::bulk(s),
    }
}

/// LEFT or RIGHT (Redis's getListPositionFromObjectOrReply).
pub(super) fn parse_where(arg: &[u8]) -> CmdResult<Where> {
    if args::is(arg, "right") {
        Ok(Where::Tail)
    } else if args::is(arg, "left") {
        Ok(Where::Head)
    } else {
        Err(Error::Syntax)
    }
}

/// Redis's getRangeLongFromObjectOrReply with a message for every failure.
fn long_in_range(arg: &[u8], min: i64, msg: &'static str) -> CmdResult<i64> {
    match args::int(arg) {
        Ok(n) if n >= min => Ok(n),
        _ => Err(err(msg)),
    }
}

/// Redis's addListRangeReply: elements `start..=end` (negative: from the tail), reversed
/// if asked.
fn range_reply(list: &List, start: i64, end: i64, reverse: bool) -> Reply {
    let llen = list.len() as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return Reply::Array(Vec::new());
    }
    if end >= llen {
        end = llen - 1;
    }
    let n = (end - start + 1) as usize;
    let mut out = Vec::with_capacity(n);
    let from = if reverse { end } else { start };
    list.scan(from as usize, reverse, |e| {
        out.push(elem_reply(e));
        out.len() < n
    });
    Reply::Array(out)
}

fn pop_event(at: Where) -> &'static str {
    match at {
        Where::Head => "lpop",
        Where::Tail => "rpop",
    }
}

fn push_event(at: Where) -> &'static str {
    match at {
        Where::Head => "lpush",
        Where::Tail => "rpush",
    }
}

/// Redis's listElementsRemoved: the pop event, deleting the emptied key (`del` event),
/// WATCH invalidation, the dirty counter.
pub(super) fn elements_removed(ctx: &mut Ctx, key: &[u8], at: Where, count: usize) {
    ctx.notify(notify::LIST, pop_event(at), key);
    let emptied = matches!(list_mut(ctx, key), Ok(Some(l)) if l.is_empty());
    if emptied {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.signal_modified(key);
    ctx.dirty(count as u64);
}

/// Pops up to `count` elements from one end of the list at `key` (which exists) and
/// returns them in pop order.
fn pop_range(ctx: &mut Ctx, key: &[u8], at: Where, count: i64) -> CmdResult<(Reply, usize)> {
    let Some(list) = list_mut(ctx, key)? else { return Ok((Reply::Array(Vec::new()), 0)) };
    let llen = list.len() as i64;
    let n = count.min(llen);
    let reply = match at {
        Where::Head => range_reply(list, 0, n - 1, false),
        Where::Tail => range_reply(list, -n, -1, true),
    };
    let start = match at {
        Where::Head => 0,
        Where::Tail => (llen - n) as usize,
    };
    list.del_range(start, n as usize);
    elements_removed(ctx, key, at, n as usize);
    Ok((reply, n as usize))
}

/// Redis's listPopRangeAndReplyWithKey: `[key, [elements]]`. LMPOP and BLMPOP replicate as
/// the `[LR]POP key count` of what was popped.
pub(super) fn pop_range_with_key(ctx: &mut Ctx, key: &[u8], at: Where, count: i64) -> CmdResult {
    let (elements, popped) = pop_range(ctx, key, at, count)?;
    let n = itoa::Buffer::new().format(popped).as_bytes().to_vec();
    ctx.propagate_as(&[pop_name(at), key, &n]);
    Ok(Reply::Array(vec![Reply::bulk(key), elements]))
}

/// The non-blocking pop a blocking or multi-key pop replicates as.
pub(super) fn pop_name(at: Where) -> &'static [u8] {
    match at {
        Where::Head => b"LPOP",
        Where::Tail => b"RPOP",
    }
}

/// Pops one element from the list at `key` (which exists and is not empty).
pub(super) fn pop_one(ctx: &mut Ctx, key: &[u8], at: Where) -> CmdResult<Option<Vec<u8>>> {
    let value = list_mut(ctx, key)?.and_then(|l| l.pop(at));
    if value.is_some() {
        elements_removed(ctx, key, at, 1);
    }
    Ok(value)
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX (`xx`: only into an existing list).
fn push_generic(ctx: &mut Ctx, args: &[&[u8]], at: Where, xx: bool) -> CmdResult {
    let key = args[1];
    let len = match list_mut(ctx, key)? {
        Some(list) => {
            for value in &args[2..] {
                list.push(at, value);
            }
            list.len()
        }
        None if xx => return Ok(Reply::Int(0)),
        None => {
            let mut list = new_list(ctx);
            for value in &args[2..] {
                list.push(at, value);
            }
            let len = list.len();
            ctx.add_key(key, Value::Object(Object::List(Box::new(list))));
            len
        }
    };
    ctx.dirty((args.len() - 2) as u64);
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, push_event(at), key);
    Ok(Reply::Int(len as i64))
}

fn lpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, Where::Head, false)
}

fn rpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, Where::Tail, false)
}

fn lpushx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, Where::Head, true)
}

fn rpushx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, Where::Tail, true)
}

/// LPOP/RPOP with an optional count (Redis's popGenericCommand).
fn pop_generic(ctx: &mut Ctx, args: &[&[u8]], at: Where) -> CmdResult {
    if args.len() > 3 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    let count = match args.get(2) {
        Some(arg) => Some(long_in_range(arg, 0, "ERR value is out of range, must be positive")?),
        None => None,
    };
    let key = args[1];
    let Some(list) = list_mut(ctx, key)? else {
        return Ok(if count.is_some() { Reply::NilArray } else { Reply::Nil });
    };
    match count {
        None => {
            let value = list.pop(at);
            let reply = value.map_or(Reply::Nil, Reply::bulk_vec);
            elements_removed(ctx, key, at, 1);
            Ok(reply)
        }
        Some(0) => Ok(Reply::Array(Vec::new())),
        Some(n) => Ok(pop_range(ctx, key, at, n)?.0),
    }
}

fn lpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, Where::Head)
}

fn rpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, Where::Tail)
}

fn llen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(list_read(ctx, args[1])?.map_or(0, |l| l.len() as i64)))
}

fn lrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let start = args::int(args[2])?;
    let end = args::int(args[3])?;
    Ok(match list_read(ctx, args[1])? {
        Some(list) => range_reply(list, start, end, false),
        None => Reply::Array(Vec::new()),
    })
}

fn lindex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(list) = list_read(ctx, args[1])? else { return Ok(Reply::Nil) };
    let index = args::int(args[2])?;
    Ok(list.with_index(index, elem_reply).unwrap_or(Reply::Nil))
}

fn lset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(list) = list_mut(ctx, key)? else { return Err(Error::NoSuchKey) };
    let index = args::int(args[2])?;
    if !list.replace(index, args[3]) {
        return Err(err("ERR index out of range"));
    }
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "lset", key);
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn linsert(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let after = if args::is(args[2], "after") {
        true
    } else if args::is(args[2], "before") {
        false
    } else {
        return Err(Error::Syntax);
    };
    let key = args[1];
    let Some(list) = list_mut(ctx, key)? else { return Ok(Reply::Int(0)) };
    if !list.insert_by_pivot(args[3], after, args[4]) {
        return Ok(Reply::Int(-1));
    }
    let len = list.len();
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "linsert", key);
    ctx.dirty(1);
    Ok(Reply::Int(len as i64))
}

fn lrem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let count = args::int(args[2])?;
    let key = args[1];
    let Some(list) = list_mut(ctx, key)? else { return Ok(Reply::Int(0)) };
    // Redis negates the count; LONG_MIN stays negative and so never limits the removals.
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(args[3], limit, count < 0);
    let emptied = list.is_empty();
    if removed > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::LIST, "lrem", key);
    }
    if emptied {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.dirty(removed as u64);
    Ok(Reply::Int(removed as i64))
}

fn ltrim(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let start = args::int(args[2])?;
    let end = args::int(args[3])?;
    let key = args[1];
    let Some(list) = list_mut(ctx, key)? else { return Ok(Reply::Ok) };
    let llen = list.len() as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    let (ltrim, rtrim) = if start > end || start >= llen {
        (llen, 0)
    } else {
        if end >= llen {
            end = llen - 1;
        }
        (start, llen - end - 1)
    };
    list.del_range(0, ltrim as usize);
    let remaining = list.len();
    list.del_range(remaining - rtrim as usize, rtrim as usize);
    let emptied = list.is_empty();
    ctx.notify(notify::LIST, "ltrim", key);
    if emptied {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.signal_modified(key);
    ctx.dirty((ltrim + rtrim) as u64);
    Ok(Reply::Ok)
}

fn lpos(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let element = args[2];
    let mut rank: i64 = 1;
    let mut count: i64 = -1; // -1: no COUNT option
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if args::is(args[j], "rank") && more {
            j += 1;
            rank = args::int(args[j])?;
            if rank == 0 {
                return Err(err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if args::is(args[j], "count") && more {
            j += 1;
            count = long_in_range(args[j], 0, "ERR COUNT can't be negative")?;
        } else if args::is(args[j], "maxlen") && more {
            j += 1;
            maxlen = long_in_range(args[j], 0, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let reverse = rank < 0;
    // A negative rank counts from the tail. Redis negates LONG_MIN into itself (so every
    // match qualifies and the COUNT test below wraps, never stopping early): wrapping
    // arithmetic reproduces that.
    let rank = if reverse { rank.wrapping_neg() } else { rank };
    let Some(list) = list_read(ctx, args[1])? else {
        return Ok(if count != -1 { Reply::Array(Vec::new()) } else { Reply::Nil });
    };
    let llen = list.len() as i64;
    let needle_int = crate::types::quicklist::listpack::string_to_i64(element);
    let mut found = Vec::new();
    let mut index: i64 = 0;
    let mut matches: i64 = 0;
    let start = if reverse { list.len().saturating_sub(1) } else { 0 };
    list.scan(start, reverse, |e| {
        if maxlen != 0 && index >= maxlen {
            return false;
        }
        let mut more = true;
        if e.matches(element, needle_int) {
            matches += 1;
            if matches >= rank {
                found.push(if reverse { llen - index - 1 } else { index });
                if count == -1 || (count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count) {
                    more = false;
                }
            }
        }
        index += 1;
        more
    });
    if count != -1 {
        return Ok(Reply::Array(found.into_iter().map(Reply::Int).collect()));
    }
    Ok(found.first().map_or(Reply::Nil, |&i| Reply::Int(i)))
}

/// Redis's lmoveHandlePush plus the pop side: moves one element from `src` (a non-empty
/// list) to `dst`, with Redis's events in Redis's order.
pub(super) fn lmove_element(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: Where, to: Where) -> CmdResult {
    // The destination's type is checked before anything moves.
    list_mut(ctx, dst)?;
    let Some(value) = list_mut(ctx, src)?.and_then(|l| l.pop(from)) else { return Ok(Reply::Nil) };
    match list_mut(ctx, dst)? {
        Some(list) => list.push(to, &value),
        None => {
            let mut list = new_list(ctx);
            list.push(to, &value);
            ctx.add_key(dst, Value::Object(Object::List(Box::new(list))));
        }
    }
    ctx.signal_modified(dst);
    ctx.notify(notify::LIST, push_event(to), dst);
    ctx.notify(notify::LIST, pop_event(from), src);
    let emptied = matches!(list_mut(ctx, src), Ok(Some(l)) if l.is_empty());
    if emptied {
        ctx.delete_key(src);
        ctx.notify(notify::GENERIC, "del", src);
    }
    ctx.signal_modified(src);
    ctx.dirty(1);
    Ok(Reply::bulk_vec(value))
}

/// Redis's lmoveGenericCommand.
pub(super) fn lmove_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: Where, to: Where) -> CmdResult {
    match list_mut(ctx, src)? {
        None => Ok(Reply::Nil),
        Some(list) if list.is_empty() => Ok(Reply::Nil),
        Some(_) => lmove_element(ctx, src, dst, from, to),
    }
}

fn lmove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let from = parse_where(args[3])?;
    let to = parse_where(args[4])?;
    lmove_generic(ctx, args[1], args[2], from, to)
}

fn rpoplpush(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    lmove_generic(ctx, args[1], args[2], Where::Tail, Where::Head)
}

/// LMPOP/BLMPOP arguments: the keys, the end, the count.
pub(super) struct MpopArgs<'a> {
    pub keys: &'a [&'a [u8]],
    pub at: Where,
    pub count: i64,
}

/// Redis's lmpopGenericCommand parsing; `numkeys_idx` is where numkeys is.
pub(super) fn parse_mpop<'a>(args: &'a [&'a [u8]], numkeys_idx: usize) -> CmdResult<MpopArgs<'a>> {
    let numkeys = long_in_range(args[numkeys_idx], 1, "ERR numkeys should be greater than 0")?;
    let where_idx =
        (numkeys as u64).checked_add(numkeys_idx as u64 + 1).filter(|&i| i < args.len() as u64).ok_or(Error::Syntax)?
            as usize;
    let at = parse_where(args[where_idx])?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count == -1 && args::is(args[j], "count") && j + 1 < args.len() {
            j += 1;
            count = long_in_range(args[j], 1, "ERR count should be greater than 0")?;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(MpopArgs { keys: &args[numkeys_idx + 1..where_idx], at, count: if count == -1 { 1 } else { count } })
}

/// Pops from the first non-empty list among `keys`; None if all are empty or missing.
fn mpop_first(ctx: &mut Ctx, keys: &[&[u8]], at: Where, count: i64) -> CmdResult<Option<Reply>> {
    for key in keys {
        match list_mut(ctx, key)? {
            Some(list) if !list.is_empty() => return Ok(Some(pop_range_with_key(ctx, key, at, count)?)),
            _ => continue,
        }
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    Ok(mpop_first(ctx, m.keys, m.at, m.count)?.unwrap_or(Reply::NilArray))
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
