//! Set commands (Redis's t_set.c): membership, random members and pops, SMOVE, the set
//! algebra (SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD) and SSCAN.
//!
//! The value type and its encodings live in [`crate::types::set`]. The algebra follows
//! t_set.c step for step where it shows: SINTER walks the smallest set, SDIFF picks between
//! Redis's two algorithms by the same estimate, and result sets are built from an empty
//! `intset` so their encoding is the one Redis would report. Replies are RESP3 sets where Redis
//! sends sets (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count) and arrays elsewhere.

use crate::cmd::args;
use crate::cmd::keys::{parse_cursor, parse_scan_options};
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Entry, Lookup, Value};
use crate::reply::Reply;
use crate::types::set::{Set, SetElem, SetLimits};
use crate::types::Object;
use crate::util::glob;

const SET: u64 = acl::SET;
const ONE_KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, key::RO | key::ACCESS)];
const ONE_KEY_RO: &[KeySpec] = &[KeySpec::one(1, key::RO)];
const ALL_KEYS_RO_ACCESS: &[KeySpec] = &[KeySpec::range(1, -1, 1, key::RO | key::ACCESS)];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(sadd),
        group: Group::Set,
        since: "1.0.0",
        summary: "Add one or more members to a set",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        args: "key:key member...",
        history: &[("2.4.0", "Accepts multiple `member` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE | FAST,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(srem),
        group: Group::Set,
        since: "1.0.0",
        summary: "Remove one or more members from a set",
        complexity: "O(N) where N is the number of members to be removed.",
        args: "key:key member...",
        history: &[("2.4.0", "Accepts multiple `member` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READONLY | FAST,
        acl: SET,
        key_specs: ONE_KEY_RO,
        handler: Some(sismember),
        group: Group::Set,
        since: "1.0.0",
        summary: "Determine if a given value is a member of a set",
        complexity: "O(1)",
        args: "key:key member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READONLY | FAST,
        acl: SET,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(smismember),
        group: Group::Set,
        since: "6.2.0",
        summary: "Returns the membership associated with the given elements for a set",
        complexity: "O(N) where N is the number of elements being checked for membership",
        args: "key:key member...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        acl: SET,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(sinter),
        group: Group::Set,
        since: "1.0.0",
        summary: "Get all the members in a set",
        complexity: "O(N) where N is the set cardinality.",
        args: "key:key",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READONLY | FAST,
        acl: SET,
        key_specs: ONE_KEY_RO,
        handler: Some(scard),
        group: Group::Set,
        since: "1.0.0",
        summary: "Get the number of members in a set",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE | FAST,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(spop),
        group: Group::Set,
        since: "1.0.0",
        summary: "Remove and return one or multiple random members from a set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        args: "key:key@0 [count:integer]{3.2.0}",
        history: &[("3.2.0", "Added the `count` argument.")],
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        acl: SET,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(srandmember),
        group: Group::Set,
        since: "1.0.0",
        summary: "Get one or multiple random members from a set",
        complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        args: "key:key@0 [count:integer]{2.6.0}",
        history: &[("2.6.0", "Added the optional `count` argument.")],
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE | FAST,
        acl: SET,
        key_specs: &[
            KeySpec::one(1, key::RW | key::ACCESS | key::DELETE),
            KeySpec::one(2, key::RW | key::INSERT),
        ],
        handler: Some(smove),
        group: Group::Set,
        since: "1.0.0",
        summary: "Move a member from one set to another",
        complexity: "O(1)",
        args: "source:key destination:key member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        acl: SET,
        key_specs: ALL_KEYS_RO_ACCESS,
        handler: Some(sinter),
        group: Group::Set,
        since: "1.0.0",
        summary: "Intersect multiple sets",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        args: "key:key...",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: READONLY,
        acl: SET,
        key_specs: &[KeySpec::keynum(1, key::RO | key::ACCESS)],
        handler: Some(sintercard),
        group: Group::Set,
        since: "7.0.0",
        summary: "Intersect multiple sets and return the cardinality of the result",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        args: "numkeys:integer key:key... [LIMIT limit:integer]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        acl: SET,
        key_specs: ALL_KEYS_RO_ACCESS,
        handler: Some(sunion),
        group: Group::Set,
        since: "1.0.0",
        summary: "Add multiple sets",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        args: "key:key...",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        acl: SET,
        key_specs: ALL_KEYS_RO_ACCESS,
        handler: Some(sdiff),
        group: Group::Set,
        since: "1.0.0",
        summary: "Subtract multiple sets",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        args: "key:key...",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE), KeySpec::range(2, -1, 1, key::RO | key::ACCESS)],
        handler: Some(sinterstore),
        group: Group::Set,
        since: "1.0.0",
        summary: "Intersect multiple sets and store the resulting set in a key",
        complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
        args: "destination:key key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::range(2, -1, 1, key::RO | key::ACCESS)],
        handler: Some(sunionstore),
        group: Group::Set,
        since: "1.0.0",
        summary: "Add multiple sets and store the resulting set in a key",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        args: "destination:key key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: SET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::range(2, -1, 1, key::RO | key::ACCESS)],
        handler: Some(sdiffstore),
        group: Group::Set,
        since: "1.0.0",
        summary: "Subtract multiple sets and store the resulting set in a key",
        complexity: "O(N) where N is the total number of elements in all given sets.",
        args: "destination:key key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        flags: READONLY,
        acl: SET,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(sscan),
        group: Group::Set,
        since: "2.8.0",
        summary: "Incrementally iterate Set elements",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        args: "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

/// The set inside an entry, or WRONGTYPE.
fn as_set(entry: &mut Entry) -> CmdResult<&mut Set> {
    match entry.object_mut() {
        Some(Object::Set(s)) => Ok(s),
        _ => Err(Error::WrongType),
    }
}

/// The set inside an entry, if it is one.
fn set_ref(entry: &Entry) -> Option<&Set> {
    match entry.as_object() {
        Some(Object::Set(s)) => Some(s),
        _ => None,
    }
}

/// Lookup (with `how`'s side effects) + checkType: the set at `key`, None if there is none.
fn lookup_set<'a>(ctx: &'a mut Ctx, key: &[u8], how: Lookup) -> CmdResult<Option<&'a mut Set>> {
    match ctx.lookup(key, how) {
        Some(e) => as_set(e).map(Some),
        None => Ok(None),
    }
}

fn limits(ctx: &Ctx) -> SetLimits {
    ctx.srv.encoding.set
}

fn elem_reply(e: SetElem<'_>) -> Reply {
    match e {
        SetElem::Int(n) => Reply::bulk_i64(n),
        SetElem::Str(s) => Reply::bulk(s),
    }
}

fn store_set(ctx: &mut Ctx, key: &[u8], set: Set) {
    ctx.set_key(key, Value::Object(Object::Set(set)), false);
}

/// Redis's dbDelete of a STORE destination (lazily freed per `lazyfree-lazy-server-del`),
/// with its bookkeeping: true if the key was there.
fn delete_destination(ctx: &mut Ctx, key: &[u8]) -> bool {
    let Some(old) = ctx.db().remove_entry(key) else { return false };
    let lazy = ctx.srv.config.bool("lazyfree-lazy-server-del");
    crate::lazyfree::free_entry(ctx.srv, old, lazy);
    ctx.dirty(1);
    ctx.signal_modified(key);
    ctx.notify(notify::GENERIC, "del", key);
    true
}

fn sadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let limits = limits(ctx);
    let key = args[1];
    if lookup_set(ctx, key, Lookup::WRITE)?.is_none() {
        store_set(ctx, key, Set::for_member(args[2]));
    }
    let Some(set) = lookup_set(ctx, key, Lookup::QUIET)? else { return Err(err("ERR internal error: set vanished")) };
    let added = args[2..].iter().filter(|m| set.add(m, limits)).count();
    if added > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.dirty(added as u64);
    Ok(Reply::Int(added as i64))
}

fn srem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(set) = lookup_set(ctx, key, Lookup::WRITE)? else { return Ok(Reply::Int(0)) };
    let mut deleted = 0;
    let mut emptied = false;
    for m in &args[2..] {
        if set.remove(m) {
            deleted += 1;
            if set.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    ctx.elements_removed(key, notify::SET, "srem", deleted as usize, emptied);
    Ok(Reply::Int(deleted))
}

fn smove(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let src_found = ctx.lookup_write(src).map(|e| set_ref(e).is_some());
    let dst_found = ctx.lookup_write(dst).map(|e| set_ref(e).is_some());
    // A missing source answers 0 before any type check, as Redis does.
    let Some(src_is_set) = src_found else { return Ok(Reply::Int(0)) };
    if !src_is_set || dst_found == Some(false) {
        return Err(Error::WrongType);
    }
    if src == dst {
        let is_member = lookup_set(ctx, src, Lookup::QUIET)?.is_some_and(|s| s.contains(member));
        return Ok(Reply::Int(is_member as i64));
    }
    let limits = limits(ctx);
    let Some(src_set) = lookup_set(ctx, src, Lookup::QUIET)? else { return Ok(Reply::Int(0)) };
    if !src_set.remove(member) {
        return Ok(Reply::Int(0));
    }
    let src_emptied = src_set.is_empty();
    ctx.notify(notify::SET, "srem", src);
    if src_emptied {
        ctx.delete_key(src);
        ctx.notify(notify::GENERIC, "del", src);
    }
    if dst_found.is_none() {
        store_set(ctx, dst, Set::for_member(member));
    }
    ctx.signal_modified(src);
    ctx.dirty(1);
    let added = lookup_set(ctx, dst, Lookup::QUIET)?.is_some_and(|s| s.add(member, limits));
    if added {
        ctx.dirty(1);
        ctx.signal_modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    Ok(Reply::Int(1))
}

fn sismember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(lookup_set(ctx, args[1], Lookup::READ)?.is_some_and(|s| s.contains(args[2])) as i64))
}

fn smismember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let set = lookup_set(ctx, args[1], Lookup::READ)?;
    let set = set.as_deref();
    Ok(Reply::Array(args[2..].iter().map(|m| Reply::Int(set.is_some_and(|s| s.contains(m)) as i64)).collect()))
}

fn scard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(lookup_set(ctx, args[1], Lookup::READ)?.map_or(0, |s| s.len() as i64)))
}

fn spop(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() == 3 {
        return spop_with_count(ctx, args);
    } else if args.len() > 3 {
        return Err(Error::Syntax);
    }
    let key = args[1];
    let srv = &mut *ctx.srv;
    let Some(e) = srv.dbs[ctx.db].lookup(&mut srv.fx, key, Lookup::WRITE) else { return Ok(Reply::Nil) };
    let set = as_set(e)?;
    let Some(elem) = set.random(&mut srv.fx.rng).map(|e| e.to_vec()) else { return Ok(Reply::Nil) };
    set.remove(&elem);
    let emptied = set.is_empty();
    // Replicated as the SREM of what was popped: replicas must not pick at random.
    ctx.propagate_as(&[b"SREM", key, &elem]);
    ctx.notify(notify::SET, "spop", key);
    if emptied {
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.signal_modified(key);
    ctx.dirty(1);
    Ok(Reply::bulk_vec(elem))
}

/// Redis's getPositiveLongFromObjectOrReply without a custom message.
fn positive_count(arg: &[u8]) -> CmdResult<usize> {
    match args::int(arg) {
        Ok(n) if n >= 0 => Ok(n as usize),
        _ => Err(Error::NotPositive),
    }
}

fn spop_with_count(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let count = positive_count(args[2])?;
    let key = args[1];
    let limits = limits(ctx);
    let Some(set) = lookup_set(ctx, key, Lookup::WRITE)? else { return Ok(Reply::Set(Vec::new())) };
    if count == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    let size = set.len();
    ctx.notify(notify::SET, "spop", key);
    ctx.dirty(count.min(size) as u64);
    if count >= size {
        // Redis answers with SUNION of the key (a read lookup), then deletes it.
        let reply = set_algebra(ctx, &[key], None, Op::Union)?;
        ctx.propagate_as(&[b"DEL", key]);
        ctx.delete_key(key);
        ctx.notify(notify::GENERIC, "del", key);
        ctx.signal_modified(key);
        return Ok(reply);
    }
    let srv = &mut *ctx.srv;
    let Some(e) = srv.dbs[ctx.db].lookup(&mut srv.fx, key, Lookup::QUIET) else { return Ok(Reply::Set(Vec::new())) };
    let popped = as_set(e)?.pop_many(&mut srv.fx.rng, count, limits);
    // One SREM per element, as Redis propagates it (alsoPropagate); SPOP itself is not
    // propagated (an empty rewrite).
    for elem in &popped {
        ctx.also_propagate(&[b"SREM", key, elem]);
    }
    ctx.propagate_as(&[]);
    ctx.signal_modified(key);
    Ok(Reply::Set(popped.into_iter().map(Reply::bulk_vec).collect()))
}

fn srandmember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(Error::Syntax);
    }
    let count = match args.get(2) {
        Some(arg) => {
            let l = args::int(arg)?;
            if l == i64::MIN {
                return Err(err(format!(
                    "ERR value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )));
            }
            Some(l)
        }
        None => None,
    };
    let srv = &mut *ctx.srv;
    let found = srv.dbs[ctx.db].lookup(&mut srv.fx, args[1], Lookup::READ);
    let Some(l) = count else {
        let Some(e) = found else { return Ok(Reply::Nil) };
        return Ok(as_set(e)?.random(&mut srv.fx.rng).map_or(Reply::Nil, elem_reply));
    };
    let Some(e) = found else { return Ok(Reply::Array(Vec::new())) };
    let set = as_set(e)?;
    let rng = &mut srv.fx.rng;
    let n = l.unsigned_abs() as usize;
    if n == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    if l < 0 || n == 1 {
        // Independent picks, repetitions allowed.
        let mut out = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            match set.random(rng) {
                Some(e) => out.push(elem_reply(e)),
                None => break,
            }
        }
        return Ok(Reply::Array(out));
    }
    Ok(Reply::Array(set.random_unique(rng, n).into_iter().map(elem_reply).collect()))
}

/// Looks up every key with read side effects and checks types, as t_set.c does before any
/// algebra. Returns which keys hold a set.
fn lookup_all(ctx: &mut Ctx, keys: &[&[u8]]) -> CmdResult<Vec<bool>> {
    let mut present = Vec::with_capacity(keys.len());
    for key in keys {
        present.push(lookup_set(ctx, key, Lookup::READ)?.is_some());
    }
    Ok(present)
}

/// SINTER, SMEMBERS, SINTERSTORE and SINTERCARD (Redis's sinterGenericCommand). `limit` 0 is
/// no limit.
fn sinter_generic(ctx: &mut Ctx, keys: &[&[u8]], dst: Option<&[u8]>, card_only: bool, limit: usize) -> CmdResult {
    let present = lookup_all(ctx, keys)?;
    if present.contains(&false) {
        // An intersection with an empty set is empty.
        return Ok(match dst {
            Some(dst) => {
                delete_destination(ctx, dst);
                Reply::Int(0)
            }
            None if card_only => Reply::Int(0),
            None => Reply::Set(Vec::new()),
        });
    }
    let limits = limits(ctx);
    let db = &ctx.srv.dbs[ctx.db];
    let mut sets: Vec<&Set> = keys.iter().filter_map(|k| db.peek(k).and_then(set_ref)).collect();
    if sets.len() != keys.len() {
        return Err(Error::WrongType);
    }
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let mut found: Vec<SetElem<'_>> = Vec::new();
    let mut cardinality = 0usize;
    for elem in first.members() {
        let in_all = sets[1..].iter().all(|s| std::ptr::eq(*s, first) || s.contains_elem(elem));
        if !in_all {
            continue;
        }
        cardinality += 1;
        if card_only {
            if limit != 0 && cardinality >= limit {
                break;
            }
        } else {
            found.push(elem);
        }
    }
    if card_only {
        return Ok(Reply::Int(cardinality as i64));
    }
    let Some(dst) = dst else { return Ok(Reply::Set(found.into_iter().map(elem_reply).collect())) };
    let mut result = Set::new_intset();
    for elem in found {
        result.add_elem(elem, limits);
    }
    Ok(store_result(ctx, dst, result, "sinterstore"))
}

/// Stores a STORE command's result, or deletes the destination if the result is empty.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &'static str) -> Reply {
    let n = result.len();
    if n > 0 {
        store_set(ctx, dst, result);
        ctx.notify(notify::SET, event, dst);
        ctx.dirty(1);
    } else {
        delete_destination(ctx, dst);
    }
    Reply::Int(n as i64)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// SUNION, SDIFF and their STORE forms (Redis's sunionDiffGenericCommand).
fn set_algebra(ctx: &mut Ctx, keys: &[&[u8]], dst: Option<&[u8]>, op: Op) -> CmdResult {
    let present = lookup_all(ctx, keys)?;
    let limits = limits(ctx);
    let db = &ctx.srv.dbs[ctx.db];
    let mut sets: Vec<Option<&Set>> =
        keys.iter().zip(&present).map(|(k, &p)| if p { db.peek(k).and_then(set_ref) } else { None }).collect();
    // The same key given again (the same object in Redis) makes a difference empty.
    let same_set = sets[0].is_some() && keys[1..].contains(&keys[0]);
    let mut result = Set::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for elem in s.members() {
                    result.add_elem(elem, limits);
                }
            }
        }
        Op::Diff if same_set => {}
        Op::Diff => {
            if let Some(first) = sets[0] {
                // Algorithm 1 costs |first| per set, algorithm 2 the sum of all sizes; the
                // first gets a head start for its better constants.
                let present_sets = sets.iter().flatten().count();
                let algo_one = first.len() * present_sets / 2;
                let algo_two: usize = sets.iter().flatten().map(|s| s.len()).sum();
                if algo_one <= algo_two {
                    sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
                    for elem in first.members() {
                        if !sets[1..].iter().flatten().any(|s| s.contains_elem(elem)) {
                            result.add_elem(elem, limits);
                        }
                    }
                } else {
                    for (j, s) in sets.iter().enumerate() {
                        let Some(s) = s else { continue };
                        for elem in s.members() {
                            if j == 0 {
                                result.add_elem(elem, limits);
                            } else {
                                result.remove_elem(elem);
                            }
                        }
                        if result.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
    }
    match dst {
        None => Ok(Reply::Set(result.members().into_iter().map(elem_reply).collect())),
        Some(dst) => {
            let event = if op == Op::Union { "sunionstore" } else { "sdiffstore" };
            Ok(store_result(ctx, dst, result, event))
        }
    }
}

fn sinter(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    sinter_generic(ctx, &args[1..], None, false, 0)
}

fn sinterstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    sinter_generic(ctx, &args[2..], Some(args[1]), false, 0)
}

fn sintercard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let numkeys = match args::int(args[1]) {
        Ok(n) if n >= 1 => n as usize,
        _ => return Err(err("ERR numkeys should be greater than 0")),
    };
    if numkeys > args.len() - 2 {
        return Err(err("ERR Number of keys can't be greater than number of args"));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args::is(args[j], "limit") && more > 0 {
            j += 1;
            limit = match args::int(args[j]) {
                Ok(n) if n >= 0 => n as usize,
                _ => return Err(err("ERR LIMIT can't be negative")),
            };
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    sinter_generic(ctx, &args[2..2 + numkeys], None, true, limit)
}

fn sunion(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_algebra(ctx, &args[1..], None, Op::Union)
}

fn sunionstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_algebra(ctx, &args[2..], Some(args[1]), Op::Union)
}

fn sdiff(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_algebra(ctx, &args[1..], None, Op::Diff)
}

fn sdiffstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_algebra(ctx, &args[2..], Some(args[1]), Op::Diff)
}

fn sscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    let Some(set) = lookup_set(ctx, args[1], Lookup::READ)? else {
        return Ok(Reply::Array(vec![Reply::bulk(b"0"), Reply::Array(Vec::new())]));
    };
    // Options are parsed once the key is known to be a set, as Redis does.
    let (count, pattern, _) = parse_scan_options(args, 3, false)?;
    let (next, members) = set.scan(cursor, count);
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        if let Some(p) = pattern {
            if !m.with_bytes(|b| glob::matches(p, b, false)) {
                continue;
            }
        }
        out.push(elem_reply(m));
    }
    Ok(Reply::Array(vec![Reply::bulk(itoa::Buffer::new().format(next).as_bytes()), Reply::Array(out)]))
}

#[cfg(test)]
mod tests {
    use crate::cmd::hash::testing::Engine;

    /// Recorded from redis-server 7.0.15 with `notify-keyspace-events KEA`.
    #[test]
    fn keyspace_events_match_redis() {
        Engine::new().expect_events(&[
            ("sadd s 1 2 3", &["sadd s"]),
            ("sadd s 1", &[]),
            ("srem s 9", &[]),
            ("srem s 1 2 3", &["srem s", "del s"]),
            ("sadd s 1 2 3 a", &["sadd s"]),
            ("spop s", &["spop s"]),
            ("spop s 1", &["spop s"]),
            ("spop s 10", &["spop s", "del s"]),
            ("sadd s2 a b c d e f g h i j", &["sadd s2"]),
            ("spop s2 8", &["spop s2"]),
            ("sadd m1 a", &["sadd m1"]),
            ("sadd m2 b", &["sadd m2"]),
            ("smove m1 m2 a", &["srem m1", "del m1", "sadd m2"]),
            ("smove m2 m3 b", &["srem m2", "sadd m3"]),
            ("sadd x 1 2", &["sadd x"]),
            ("sadd y 2 3", &["sadd y"]),
            ("sinterstore d x y", &["sinterstore d"]),
            ("sunionstore d x y", &["sunionstore d"]),
            ("sdiffstore d x y", &["sdiffstore d"]),
            ("sdiffstore d x x", &["del d"]),
            ("sinterstore d x nokey", &[]),
            ("set d v", &["set d"]),
            ("sinterstore d x nokey", &["del d"]),
            ("sunionstore e nokey", &[]),
            ("sinter x nokey", &[]),
        ]);
    }

    #[test]
    fn dirty_counts_changes_like_redis() {
        let mut e = Engine::new();
        let dirty = |e: &mut Engine, line: &str| {
            let before = e.srv.fx.dirty;
            e.run(line);
            e.srv.fx.dirty - before
        };
        assert_eq!(dirty(&mut e, "sadd s 1 2 3 4 5 6"), 6);
        assert_eq!(dirty(&mut e, "sadd s 1 7"), 1);
        assert_eq!(dirty(&mut e, "spop s 3"), 3);
        assert_eq!(dirty(&mut e, "spop s 10"), 4);
        assert_eq!(dirty(&mut e, "sadd a x"), 1);
        assert_eq!(dirty(&mut e, "sadd b x"), 1);
        assert_eq!(dirty(&mut e, "smove a b x"), 1);
        assert_eq!(dirty(&mut e, "smove b c x"), 2);
        assert_eq!(dirty(&mut e, "sunionstore d c"), 1);
        assert_eq!(dirty(&mut e, "sinterstore d c nokey"), 1);
        assert_eq!(dirty(&mut e, "sinterstore d c nokey"), 0);
    }
}
