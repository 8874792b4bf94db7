//! Generic keyspace commands (Redis's db.c and expire.c): DEL, EXISTS, TYPE, KEYS, SCAN,
//! RENAME, MOVE, COPY, SWAPDB, FLUSH*, OBJECT, TTLs.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, FAST, READONLY, TOUCHES_ARBITRARY_KEYS, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Entry, Lookup, StrRef, ValueRef};
use crate::reply::Reply;
use crate::util::glob;

const KS: u64 = acl::KEYSPACE;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "del",
        arity: -2,
        flags: WRITE,
        acl: KS,
        key_specs: &[KeySpec::range(1, -1, 1, key::RM | key::DELETE)],
        handler: Some(del),
        group: Group::Generic,
        summary: "Delete a key",
        complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        args: "key:key...",
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: WRITE | FAST,
        acl: KS,
        key_specs: &[KeySpec::range(1, -1, 1, key::RM | key::DELETE)],
        handler: Some(unlink),
        group: Group::Generic,
        since: "4.0.0",
        summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        args: "key:key...",
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READONLY | FAST,
        acl: KS,
        key_specs: &[KeySpec::range(1, -1, 1, key::RO)],
        handler: Some(exists),
        group: Group::Generic,
        summary: "Determine if a key exists",
        complexity: "O(N) where N is the number of keys to check.",
        args: "key:key...",
        history: &[("3.0.3", "Accepts multiple `key` arguments.")],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: READONLY | FAST,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RO)],
        handler: Some(type_cmd),
        group: Group::Generic,
        summary: "Determine the type stored at key",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: READONLY,
        acl: KS | acl::DANGEROUS,
        handler: Some(keys),
        group: Group::Generic,
        summary: "Find all keys matching the given pattern",
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        args: "pattern:pattern",
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: READONLY | TOUCHES_ARBITRARY_KEYS,
        acl: KS,
        handler: Some(scan),
        group: Group::Generic,
        since: "2.8.0",
        summary: "Incrementally iterate the keys space",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        args: "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] [TYPE type]{6.0.0}",
        history: &[("6.0.0", "Added the `TYPE` subcommand.")],
        tips: &["nondeterministic_output", "request_policy:special"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: READONLY | TOUCHES_ARBITRARY_KEYS,
        acl: KS,
        handler: Some(randomkey),
        group: Group::Generic,
        summary: "Return a random key from the keyspace",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: WRITE,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE), KeySpec::one(2, key::OW | key::UPDATE)],
        handler: Some(rename),
        group: Group::Generic,
        summary: "Rename a key",
        complexity: "O(1)",
        args: "key:key newkey:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: WRITE | FAST,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE), KeySpec::one(2, key::OW | key::INSERT)],
        handler: Some(renamenx),
        group: Group::Generic,
        summary: "Rename a key, only if the new key does not exist",
        complexity: "O(1)",
        args: "key:key newkey:key",
        history: &[("3.2.0", "The command no longer returns an error when source and destination names are the same.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: WRITE | FAST,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(move_cmd),
        group: Group::Generic,
        summary: "Move a key to another database",
        complexity: "O(1)",
        args: "key:key db:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: WRITE | crate::cmd::spec::DENYOOM,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS), KeySpec::one(2, key::OW | key::UPDATE)],
        handler: Some(copy),
        group: Group::Generic,
        since: "6.2.0",
        summary: "Copy a key",
        complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        args: "source:key destination:key [DB destination-db:integer] [REPLACE]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: WRITE | FAST,
        acl: KS | acl::DANGEROUS,
        handler: Some(swapdb),
        group: Group::Server,
        since: "4.0.0",
        summary: "Swaps two Redis databases",
        complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        args: "index1:integer index2:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: READONLY | FAST,
        acl: KS,
        handler: Some(dbsize),
        group: Group::Server,
        summary: "Return the number of keys in the selected database",
        complexity: "O(1)",
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: WRITE,
        acl: KS | acl::DANGEROUS,
        handler: Some(flushdb),
        group: Group::Server,
        summary: "Remove all keys from the current database",
        complexity: "O(N) where N is the number of keys in the selected database",
        args: "async=[ASYNC{4.0.0}|SYNC{6.2.0}]",
        history: &[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: WRITE,
        acl: KS | acl::DANGEROUS,
        handler: Some(flushall),
        group: Group::Server,
        summary: "Remove all keys from all databases",
        complexity: "O(N) where N is the total number of keys in all databases",
        args: "async=[ASYNC{4.0.0}|SYNC{6.2.0}]",
        history: &[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "touch",
        arity: -2,
        flags: READONLY | FAST,
        acl: KS,
        key_specs: &[KeySpec::range(1, -1, 1, key::RO)],
        handler: Some(touch),
        group: Group::Generic,
        since: "3.2.1",
        summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        complexity: "O(N) where N is the number of keys that will be touched.",
        args: "key:key...",
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "object",
        arity: -2,
        group: Group::Generic,
        since: "2.2.3",
        summary: "A container for object introspection commands",
        complexity: "Depends on subcommand.",
        subcommands: OBJECT_SUBCOMMANDS,
        ..CommandSpec::DEFAULT
    },
    expire_spec("expire", Group::Generic, "1.0.0", expire, "Set a key's time to live in seconds", "key:key@0 seconds:integer condition=[NX|XX|GT|LT]{7.0.0}"),
    expire_spec("pexpire", Group::Generic, "2.6.0", pexpire, "Set a key's time to live in milliseconds", "key:key@0 milliseconds:integer condition=[NX|XX|GT|LT]{7.0.0}"),
    expire_spec("expireat", Group::Generic, "1.2.0", expireat, "Set the expiration for a key as a UNIX timestamp", "key:key@0 unix-time-seconds:unix-time condition=[NX|XX|GT|LT]{7.0.0}"),
    expire_spec("pexpireat", Group::Generic, "2.6.0", pexpireat, "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "key:key@0 unix-time-milliseconds:unix-time condition=[NX|XX|GT|LT]{7.0.0}"),
    CommandSpec {
        tips: &["nondeterministic_output"],
        history: &[("2.8.0", "Added the -2 reply.")],
        ..ttl_spec("ttl", "1.0.0", ttl, "Get the time to live for a key in seconds")
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        history: &[("2.8.0", "Added the -2 reply.")],
        ..ttl_spec("pttl", "2.6.0", pttl, "Get the time to live for a key in milliseconds")
    },
    ttl_spec("expiretime", "7.0.0", expiretime, "Get the expiration Unix timestamp for a key"),
    ttl_spec("pexpiretime", "7.0.0", pexpiretime, "Get the expiration Unix timestamp for a key in milliseconds"),
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: WRITE | FAST,
        acl: KS,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(persist),
        group: Group::Generic,
        since: "2.2.0",
        summary: "Remove the expiration from a key",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
];

const OBJECT_KEY: &[KeySpec] = &[KeySpec::one(2, key::RO)];
const EXPIRE_KEY: &[KeySpec] = &[KeySpec::one(1, key::RW | key::UPDATE)];
const TTL_KEY: &[KeySpec] = &[KeySpec::one(1, key::RO | key::ACCESS)];

const fn expire_spec(
    name: &'static str,
    group: Group,
    since: &'static str,
    handler: crate::cmd::spec::Handler,
    summary: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: -3,
        flags: WRITE | FAST,
        acl: KS,
        key_specs: EXPIRE_KEY,
        handler: Some(handler),
        group,
        since,
        summary,
        complexity: "O(1)",
        args,
        history: &[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")],
        ..CommandSpec::DEFAULT
    }
}

const fn ttl_spec(
    name: &'static str,
    since: &'static str,
    handler: crate::cmd::spec::Handler,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity: 2,
        flags: READONLY | FAST,
        acl: KS,
        key_specs: TTL_KEY,
        handler: Some(handler),
        group: Group::Generic,
        since,
        summary,
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    }
}

static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    object_sub("encoding", object_encoding, "Inspect the internal encoding of a Redis object"),
    object_sub("freq", object_freq, "Get the logarithmic access frequency counter of a Redis object"),
    object_sub("idletime", object_idletime, "Get the time since a Redis object was last accessed"),
    object_sub("refcount", object_refcount, "Get the number of references to the value of the key"),
    CommandSpec {
        name: "help",
        arity: 2,
        flags: crate::cmd::spec::LOADING | crate::cmd::spec::STALE,
        acl: KS,
        handler: Some(object_help),
        group: Group::Generic,
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
];

const fn object_sub(name: &'static str, handler: crate::cmd::spec::Handler, summary: &'static str) -> CommandSpec {
    CommandSpec {
        name,
        arity: 3,
        flags: READONLY,
        acl: KS,
        key_specs: OBJECT_KEY,
        handler: Some(handler),
        group: Group::Generic,
        since: if name.len() == 4 { "4.0.0" } else { "2.2.3" },
        summary,
        complexity: "O(1)",
        args: "key:key",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    }
}

/// The name TYPE reports for an entry.
pub fn type_name(entry: &Entry) -> &'static str {
    match entry.value() {
        ValueRef::Str(_) => "string",
        ValueRef::Object(o) => o.type_name(),
    }
}

/// The name OBJECT ENCODING reports.
pub fn encoding_name(entry: &Entry) -> &'static str {
    match entry.value() {
        ValueRef::Str(_) => entry.string_encoding().unwrap_or("raw"),
        ValueRef::Object(o) => o.encoding(),
    }
}

fn delete_keys(ctx: &mut Ctx, keys: &[&[u8]], lazy: bool) -> CmdResult {
    let mut deleted = 0;
    for key in keys {
        // Expire first so an expired key counts as absent (and fires `expired`).
        if ctx.lookup(key, Lookup::QUIET).is_none() {
            continue;
        }
        let (db, fx) = ctx.db_fx();
        if let Some(entry) = db.take(fx, key) {
            crate::lazyfree::free_entry(ctx.srv, entry, lazy);
            ctx.signal_modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
            deleted += 1;
        }
    }
    Ok(Reply::Int(deleted))
}

fn del(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lazy = ctx.srv.config.bool("lazyfree-lazy-user-del");
    delete_keys(ctx, &args[1..], lazy)
}

fn unlink(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    delete_keys(ctx, &args[1..], true)
}

/// Frees a value the server itself deleted (overwritten by RENAME, COPY…), lazily if
/// `lazyfree-lazy-server-del` says so.
fn free_server_del(srv: &mut crate::server::Server, entry: Entry) {
    let lazy = srv.config.bool("lazyfree-lazy-server-del");
    crate::lazyfree::free_entry(srv, entry, lazy);
}

fn exists(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut n = 0;
    for key in &args[1..] {
        if ctx.lookup(key, Lookup::NOTOUCH).is_some() {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

fn type_cmd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let name = match ctx.lookup(args[1], Lookup::NOTOUCH) {
        Some(e) => type_name(e),
        None => "none",
    };
    Ok(Reply::status(name))
}

fn keys(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let pattern = args[1];
    let all = pattern == b"*";
    let now = ctx.now_ms();
    let mut out = Vec::new();
    ctx.db().for_each(|e| {
        if (all || glob::matches(pattern, e.key(), false)) && !e.expire().is_some_and(|w| w <= now) {
            out.push(Reply::bulk(e.key()));
        }
    });
    Ok(Reply::Array(out))
}

/// Redis's parseScanCursorOrReply: `strtoul` semantics (sign allowed, leading zeros, an
/// empty string is 0).
pub fn parse_cursor(arg: &[u8]) -> CmdResult<u64> {
    let invalid = || err("ERR invalid cursor");
    if arg.first().is_some_and(|c| c.is_ascii_whitespace()) {
        return Err(invalid());
    }
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul consumed nothing: the end pointer is the start, which is "\0" only for "".
        return if arg.is_empty() { Ok(0) } else { Err(invalid()) };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(invalid());
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add((c - b'0') as u64)).ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// SCAN options shared with HSCAN, SSCAN and ZSCAN: (count, pattern, type).
pub fn parse_scan_options<'a>(
    args: &[&'a [u8]],
    first: usize,
    allow_type: bool,
) -> CmdResult<(usize, Option<&'a [u8]>, Option<&'a [u8]>)> {
    let mut count = 10usize;
    let mut pattern = None;
    let mut type_name = None;
    let mut i = first;
    while i < args.len() {
        let remaining = args.len() - i;
        if args::is(args[i], "count") && remaining >= 2 {
            let n = args::int(args[i + 1])?;
            if n < 1 {
                return Err(Error::Syntax);
            }
            count = n as usize;
            i += 2;
        } else if args::is(args[i], "match") && remaining >= 2 {
            pattern = if args[i + 1] == b"*" { None } else { Some(args[i + 1]) };
            i += 2;
        } else if allow_type && args::is(args[i], "type") && remaining >= 2 {
            type_name = Some(args[i + 1]);
            i += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok((count, pattern, type_name))
}

fn scan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_cursor(args[1])?;
    let (count, pattern, type_filter) = parse_scan_options(args, 2, true)?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut max_iterations = count * 10;
    loop {
        cursor = ctx.db().scan(cursor, |e, _| found.push(e.key().to_vec()));
        if cursor == 0 || max_iterations == 0 || found.len() >= count {
            break;
        }
        max_iterations -= 1;
    }
    let mut keys = Vec::with_capacity(found.len());
    for key in found {
        if let Some(p) = pattern {
            if !glob::matches(p, &key, false) {
                continue;
            }
        }
        if let Some(t) = type_filter {
            let name = ctx.lookup(&key, Lookup::NOTOUCH).map(|e| type_name(e)).unwrap_or("none");
            if !name.as_bytes().eq_ignore_ascii_case(t) {
                continue;
            }
        }
        if ctx.lookup(&key, Lookup::QUIET).is_none() {
            continue;
        }
        keys.push(Reply::bulk_vec(key));
    }
    Ok(Reply::Array(vec![Reply::bulk(cursor.to_string().as_bytes()), Reply::Array(keys)]))
}

fn randomkey(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let (db, fx) = ctx.db_fx();
    Ok(match db.random_key(fx) {
        Some(k) => Reply::bulk_vec(k),
        None => Reply::Nil,
    })
}

fn rename_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) -> CmdResult {
    let (from, to) = (args[1], args[2]);
    if ctx.lookup_write(from).is_none() {
        return Err(Error::NoSuchKey);
    }
    if from == to {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if ctx.lookup_write(to).is_some() {
        if nx {
            return Ok(Reply::Int(0));
        }
        let (db, fx) = ctx.db_fx();
        if let Some(old) = db.take(fx, to) {
            free_server_del(ctx.srv, old);
        }
    }
    let (db, fx) = ctx.db_fx();
    let Some(entry) = db.take(fx, from) else { return Err(Error::NoSuchKey) };
    let moved = entry.rekey(to);
    let (db, fx) = ctx.db_fx();
    db.add_entry(fx, moved);
    ctx.signal_modified(from);
    ctx.signal_modified(to);
    ctx.notify(notify::GENERIC, "rename_from", from);
    ctx.notify(notify::GENERIC, "rename_to", to);
    ctx.dirty(1);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn rename(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// A database index argument that must name an existing database.
fn db_index(ctx: &Ctx, arg: &[u8]) -> CmdResult<usize> {
    let id = args::int32(arg, None)?;
    if id < 0 || id as usize >= ctx.srv.dbs.len() {
        return Err(Error::DbIndexOutOfRange);
    }
    Ok(id as usize)
}

fn move_cmd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let dst = db_index(ctx, args[2])?;
    if dst == ctx.db {
        return Err(err("ERR source and destination objects are the same"));
    }
    if ctx.lookup_write(key).is_none() {
        return Ok(Reply::Int(0));
    }
    {
        let srv = &mut *ctx.srv;
        if srv.dbs[dst].lookup(&mut srv.fx, key, Lookup::WRITE).is_some() {
            return Ok(Reply::Int(0));
        }
    }
    let (db, fx) = ctx.db_fx();
    let Some(entry) = db.take(fx, key) else { return Ok(Reply::Int(0)) };
    let src = ctx.db;
    let srv = &mut *ctx.srv;
    srv.dbs[dst].add_entry(&mut srv.fx, entry);
    srv.dbs[src].signal_modified(&mut srv.fx, key);
    srv.dbs[dst].signal_modified(&mut srv.fx, key);
    srv.fx.notify(notify::GENERIC, "move_from", src, key);
    srv.fx.notify(notify::GENERIC, "move_to", dst, key);
    srv.fx.dirty += 1;
    Ok(Reply::Int(1))
}

fn copy(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (from, to) = (args[1], args[2]);
    let mut dst = ctx.db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        let additional = args.len() - j - 1;
        if args::is(args[j], "replace") {
            replace = true;
        } else if args::is(args[j], "db") && additional >= 1 {
            dst = db_index(ctx, args[j + 1])?;
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if dst == ctx.db && from == to {
        return Err(err("ERR source and destination objects are the same"));
    }
    let copy = match ctx.lookup_read(from) {
        None => return Ok(Reply::Int(0)),
        Some(e) => e.clone_as(to, e.expire()),
    };
    let srv = &mut *ctx.srv;
    if srv.dbs[dst].lookup(&mut srv.fx, to, Lookup::WRITE).is_some() {
        if !replace {
            return Ok(Reply::Int(0));
        }
        if let Some(old) = srv.dbs[dst].take(&mut srv.fx, to) {
            free_server_del(srv, old);
        }
    }
    srv.dbs[dst].add_entry(&mut srv.fx, copy);
    srv.dbs[dst].signal_modified(&mut srv.fx, to);
    srv.fx.notify(notify::GENERIC, "copy_to", dst, to);
    srv.fx.dirty += 1;
    Ok(Reply::Int(1))
}

fn swapdb(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let a = args::int32(args[1], Some("ERR invalid first DB index"))?;
    let b = args::int32(args[2], Some("ERR invalid second DB index"))?;
    let n = ctx.srv.dbs.len() as i32;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(Error::DbIndexOutOfRange);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        let srv = &mut *ctx.srv;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = srv.dbs.split_at_mut(hi);
        // Watchers of either database see their keys change (judged before the swap, as
        // Redis does); blocked clients may now be served.
        left[lo].touch_all_watched(&mut srv.fx, Some(&right[0]));
        right[0].touch_all_watched(&mut srv.fx, Some(&left[lo]));
        left[lo].swap_data(&mut right[0]);
        for id in [a, b] {
            let blocked: Vec<Vec<u8>> = srv.dbs[id].blocking.keys().cloned().collect();
            // Every waited-on key: present ones may serve their readers, and XREADGROUP
            // readers of a stream swapped away learn it is gone.
            for key in blocked {
                srv.fx.ready_keys.push((id, key));
            }
        }
    }
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn dbsize(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(ctx.db().len() as i64))
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC: true for async.
fn flush_mode(ctx: &Ctx, args: &[&[u8]]) -> CmdResult<bool> {
    match args.len() {
        1 => Ok(ctx.srv.config.bool("lazyfree-lazy-user-flush")),
        2 if args::is(args[1], "sync") => Ok(false),
        2 if args::is(args[1], "async") => Ok(true),
        _ => Err(Error::Syntax),
    }
}

/// Empties one database (Redis's emptyData for one db): watchers are invalidated.
pub fn flush_db(srv: &mut crate::server::Server, id: usize, lazy: bool) -> usize {
    srv.dbs[id].touch_all_watched(&mut srv.fx, None);
    srv.dbs[id].signal_blocked_streams(&mut srv.fx);
    let entries = srv.dbs[id].clear();
    let n = entries.len();
    crate::lazyfree::free_entries(srv, entries, lazy);
    n
}

fn flushdb(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    let n = flush_db(ctx.srv, ctx.db, lazy);
    crate::tracking::invalidate_on_flush(ctx.srv);
    ctx.dirty(n as u64 + 1);
    Ok(Reply::Ok)
}

fn flushall(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lazy = flush_mode(ctx, args)?;
    let mut n = 0;
    for id in 0..ctx.srv.dbs.len() {
        n += flush_db(ctx.srv, id, lazy);
    }
    crate::tracking::invalidate_on_flush(ctx.srv);
    ctx.dirty(n as u64 + 1);
    crate::persist::after_flushall(ctx.srv);
    Ok(Reply::Ok)
}

fn touch(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut n = 0;
    for key in &args[1..] {
        if ctx.lookup_read(key).is_some() {
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

fn object_lookup<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut Entry> {
    ctx.lookup(key, Lookup::QUIET)
}

fn object_encoding(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(match object_lookup(ctx, args[2]) {
        Some(e) => Reply::bulk_str(encoding_name(e)),
        None => Reply::Nil,
    })
}

fn lfu_policy(ctx: &Ctx) -> bool {
    matches!(ctx.srv.fx.access, crate::keyspace::AccessPolicy::Lfu { .. })
}

fn object_freq(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let Some(e) = object_lookup(ctx, args[2]) else { return Ok(Reply::Nil) };
    let field = e.lru();
    if !lfu {
        return Err(err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int(ctx.srv.fx.lfu_decayed(field) as i64))
}

fn object_idletime(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lfu = lfu_policy(ctx);
    let Some(e) = object_lookup(ctx, args[2]) else { return Ok(Reply::Nil) };
    let field = e.lru();
    if lfu {
        return Err(err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    Ok(Reply::Int((ctx.srv.fx.idle_ms(field) / 1000) as i64))
}

fn object_refcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let shared_ints = ctx.srv.config.int("maxmemory") == 0 || ctx.srv.evict.config.policy.access().is_none();
    Ok(match object_lookup(ctx, args[2]) {
        // Redis shares the integers 0..9999 (refcount INT_MAX) unless an LRU/LFU policy needs
        // per-object access data.
        Some(e) => match e.as_str() {
            Some(StrRef::Int(n)) if (0..10000).contains(&n) && shared_ints => Reply::Int(i32::MAX as i64),
            _ => Reply::Int(1),
        },
        None => Reply::Nil,
    })
}

fn object_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    ))
}

/// Redis's parseExtendedExpireArgumentsOrReply: NX XX GT LT.
fn parse_expire_flags(args: &[&[u8]]) -> CmdResult<(bool, bool, bool, bool)> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &args[3..] {
        if args::is(opt, "nx") {
            nx = true;
        } else if args::is(opt, "xx") {
            xx = true;
        } else if args::is(opt, "gt") {
            gt = true;
        } else if args::is(opt, "lt") {
            lt = true;
        } else {
            return Err(err(format!("ERR Unsupported option {}", String::from_utf8_lossy(opt))));
        }
    }
    if (nx && xx) || (nx && gt) || (nx && lt) {
        return Err(err("ERR NX and XX, GT or LT options at the same time are not compatible"));
    }
    if gt && lt {
        return Err(err("ERR GT and LT options at the same time are not compatible"));
    }
    Ok((nx, xx, gt, lt))
}

/// Redis's expireGenericCommand; `base` is added to the time (now for EXPIRE/PEXPIRE).
fn expire_generic(ctx: &mut Ctx, args: &[&[u8]], base: i64, seconds: bool) -> CmdResult {
    let key = args[1];
    let (nx, xx, gt, lt) = parse_expire_flags(args)?;
    let mut when = args::int(args[2])?;
    let invalid = || Error::InvalidExpire(ctx.cmd.fullname.to_string());
    if seconds {
        if when > i64::MAX / 1000 || when < i64::MIN / 1000 {
            return Err(invalid());
        }
        when *= 1000;
    }
    if when > i64::MAX - base {
        return Err(invalid());
    }
    when += base;
    let Some(entry) = ctx.lookup_write(key) else { return Ok(Reply::Int(0)) };
    let current = entry.expire();
    if (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c))
    {
        return Ok(Reply::Int(0));
    }
    if when <= ctx.now_ms() && !ctx.srv.loading {
        let lazy = ctx.srv.fx.expire_unlink;
        let (db, fx) = ctx.db_fx();
        if let Some(old) = db.take(fx, key) {
            crate::lazyfree::free_entry(ctx.srv, old, lazy);
        }
        ctx.propagate_as(&[if lazy { b"UNLINK" } else { b"DEL" }, key]);
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "del", key);
    } else {
        ctx.db().set_expire(key, when);
        // Propagated as PEXPIREAT with the absolute time, keeping the options.
        let when_text = when.to_string();
        let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, when_text.as_bytes()];
        argv.extend_from_slice(&args[3..]);
        ctx.propagate_as(&argv);
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "expire", key);
    }
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

fn expire(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    expire_generic(ctx, args, now, true)
}

fn pexpire(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    expire_generic(ctx, args, now, false)
}

fn expireat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 0, true)
}

fn pexpireat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, 0, false)
}

/// Redis's ttlGenericCommand.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], millis: bool, absolute: bool) -> CmdResult {
    let now = ctx.now_ms();
    let Some(entry) = ctx.lookup(key, Lookup::NOTOUCH) else { return Ok(Reply::Int(-2)) };
    Ok(Reply::Int(match entry.expire() {
        None => -1,
        Some(when) => {
            let ttl = if absolute { when } else { (when - now).max(0) };
            if millis {
                ttl
            } else {
                (ttl + 500) / 1000
            }
        }
    }))
}

fn ttl(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, false)
}

fn pttl(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, false)
}

fn expiretime(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, true)
}

fn persist(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    if ctx.lookup_write(key).is_none() {
        return Ok(Reply::Int(0));
    }
    if ctx.db().persist(key) {
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "persist", key);
        ctx.dirty(1);
        Ok(Reply::Int(1))
    } else {
        Ok(Reply::Int(0))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursor_parsing_is_strtoul() {
        assert_eq!(parse_cursor(b"0").unwrap(), 0);
        assert_eq!(parse_cursor(b"00012").unwrap(), 12);
        assert_eq!(parse_cursor(b"+5").unwrap(), 5);
        assert_eq!(parse_cursor(b"-1").unwrap(), u64::MAX);
        assert_eq!(parse_cursor(b"").unwrap(), 0);
        assert!(parse_cursor(b" 1").is_err());
        assert!(parse_cursor(b"1a").is_err());
        assert!(parse_cursor(b"99999999999999999999999").is_err());
    }
}
