//! Hash commands (Redis's t_hash.c): HSET and friends, counters, HRANDFIELD, HSCAN.
//!
//! The value type and its encodings live in [`crate::types::hash`]; this file parses
//! arguments, looks keys up with the right side effects (read lookups count hits and misses,
//! write lookups don't), and fires the keyspace events, WATCH invalidations and dirty counts
//! each command fires in Redis, in the same order.

use crate::cmd::args;
use crate::cmd::keys::{parse_cursor, parse_scan_options};
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Entry, Lookup, Value};
use crate::reply::Reply;
use crate::types::hash::{Hash, HashLimits};
use crate::types::Object;
use crate::util::glob;
use crate::util::num::{parse_i64, LongDouble};

const HASH: u64 = acl::HASH;
const ONE_KEY_RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, key::RW | key::UPDATE)];
const ONE_KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, key::RO | key::ACCESS)];
const ONE_KEY_RO: &[KeySpec] = &[KeySpec::one(1, key::RO)];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RW_UPDATE,
        handler: Some(hset),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Set the string value of a hash field",
        complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        args: "key:key field_value=(field value)...",
        history: &[("4.0.0", "Accepts multiple `field` and `value` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: HASH,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(hsetnx),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Set the value of a hash field, only if the field does not exist",
        complexity: "O(1)",
        args: "key:key field value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READONLY | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hget),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get the value of a hash field",
        complexity: "O(1)",
        args: "key:key field",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READONLY | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hmget),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get the values of all the given hash fields",
        complexity: "O(N) where N is the number of fields being requested.",
        args: "key:key field...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RW_UPDATE,
        handler: Some(hmset),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Set multiple hash fields to multiple values",
        complexity: "O(N) where N is the number of fields being set.",
        args: "key:key field_value=(field value)...",
        deprecated_since: Some("4.0.0"),
        replaced_by: Some("`HSET` with multiple field-value pairs"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: WRITE | FAST,
        acl: HASH,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(hdel),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Delete one or more hash fields",
        complexity: "O(N) where N is the number of fields to be removed.",
        args: "key:key field...",
        history: &[("2.4.0", "Accepts multiple `field` arguments.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READONLY | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RO,
        handler: Some(hlen),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get the number of fields in a hash",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READONLY | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RO,
        handler: Some(hstrlen),
        group: Group::Hash,
        since: "3.2.0",
        summary: "Get the length of the value of a hash field",
        complexity: "O(1)",
        args: "key:key field",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READONLY | FAST,
        acl: HASH,
        key_specs: ONE_KEY_RO,
        handler: Some(hexists),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Determine if a hash field exists",
        complexity: "O(1)",
        args: "key:key field",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: READONLY,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hkeys),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get all the fields in a hash",
        complexity: "O(N) where N is the size of the hash.",
        args: "key:key",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: READONLY,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hvals),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get all the values in a hash",
        complexity: "O(N) where N is the size of the hash.",
        args: "key:key",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: READONLY,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hgetall),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Get all the fields and values in a hash",
        complexity: "O(N) where N is the size of the hash.",
        args: "key:key",
        tips: &["nondeterministic_output_order"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: HASH,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(hincrby),
        group: Group::Hash,
        since: "2.0.0",
        summary: "Increment the integer value of a hash field by the given number",
        complexity: "O(1)",
        args: "key:key field increment:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: HASH,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(hincrbyfloat),
        group: Group::Hash,
        since: "2.6.0",
        summary: "Increment the float value of a hash field by the given amount",
        complexity: "O(1)",
        args: "key:key field increment:double",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: READONLY,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hrandfield),
        group: Group::Hash,
        since: "6.2.0",
        summary: "Get one or multiple random fields from a hash",
        complexity: "O(N) where N is the number of fields returned",
        args: "key:key options=[count:integer [WITHVALUES]]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: READONLY,
        acl: HASH,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(hscan),
        group: Group::Hash,
        since: "2.8.0",
        summary: "Incrementally iterate hash fields and associated values",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        args: "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

/// The hash inside an entry, or WRONGTYPE.
fn as_hash(entry: &mut Entry) -> CmdResult<&mut Hash> {
    match entry.object_mut() {
        Some(Object::Hash(h)) => Ok(h),
        _ => Err(Error::WrongType),
    }
}

/// Redis's lookupKeyRead + checkType: the hash at `key`, None if there is none.
fn read_hash<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Hash>> {
    match ctx.lookup_read(key) {
        Some(e) => as_hash(e).map(Some),
        None => Ok(None),
    }
}

/// Redis's lookupKeyWrite + checkType: the hash at `key`, None if there is none.
fn write_hash<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Hash>> {
    match ctx.lookup_write(key) {
        Some(e) => as_hash(e).map(Some),
        None => Ok(None),
    }
}

/// Redis's hashTypeLookupWriteOrCreate: the hash at `key`, created empty if absent.
fn hash_or_create<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<&'a mut Hash> {
    if write_hash(ctx, key)?.is_none() {
        ctx.set_key(key, Value::Object(Object::Hash(Hash::new())), false);
    }
    // The key exists now; a quiet lookup has no further side effects.
    match ctx.lookup(key, Lookup::QUIET) {
        Some(e) => as_hash(e),
        None => Err(err("ERR internal error: hash vanished")),
    }
}

fn limits(ctx: &Ctx) -> HashLimits {
    ctx.srv.encoding.hash
}

/// HSET and HMSET: sets the pairs, returning how many fields were created.
fn set_pairs(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult<i64> {
    if args.len() % 2 == 1 {
        return Err(Error::WrongArity(ctx.cmd.fullname.to_string()));
    }
    let limits = limits(ctx);
    let key = args[1];
    let hash = hash_or_create(ctx, key)?;
    hash.prepare_for(args[2..].iter().copied(), limits);
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        if !hash.set(pair[0], pair[1], limits) {
            created += 1;
        }
    }
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hset", key);
    ctx.dirty(((args.len() - 2) / 2) as u64);
    Ok(created)
}

fn hset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_pairs(ctx, args).map(Reply::Int)
}

fn hmset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    set_pairs(ctx, args).map(|_| Reply::Ok)
}

fn hsetnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let limits = limits(ctx);
    let key = args[1];
    let hash = hash_or_create(ctx, key)?;
    if hash.contains(args[2]) {
        return Ok(Reply::Int(0));
    }
    hash.prepare_for([args[2], args[3]], limits);
    hash.set(args[2], args[3], limits);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hset", key);
    ctx.dirty(1);
    Ok(Reply::Int(1))
}

fn hget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(match read_hash(ctx, args[1])? {
        Some(h) => h.get(args[2]).map_or(Reply::Nil, Reply::bulk),
        None => Reply::Nil,
    })
}

fn hmget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let hash = read_hash(ctx, args[1])?;
    let fields = &args[2..];
    Ok(Reply::Array(match hash {
        Some(h) => fields.iter().map(|f| h.get(f).map_or(Reply::Nil, Reply::bulk)).collect(),
        None => fields.iter().map(|_| Reply::Nil).collect(),
    }))
}

fn hdel(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(hash) = write_hash(ctx, key)? else { return Ok(Reply::Int(0)) };
    let mut deleted = 0;
    let mut emptied = false;
    for field in &args[2..] {
        if hash.remove(field) {
            deleted += 1;
            if hash.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    ctx.elements_removed(key, notify::HASH, "hdel", deleted as usize, emptied);
    Ok(Reply::Int(deleted))
}

fn hlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(read_hash(ctx, args[1])?.map_or(0, |h| h.len() as i64)))
}

fn hstrlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(read_hash(ctx, args[1])?.and_then(|h| h.get(args[2])).map_or(0, |v| v.len() as i64)))
}

fn hexists(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(read_hash(ctx, args[1])?.is_some_and(|h| h.contains(args[2])) as i64))
}

/// HKEYS, HVALS, HGETALL (Redis's genericHgetallCommand): a map for fields and values, an
/// array otherwise.
fn hgetall_generic(ctx: &mut Ctx, key: &[u8], fields: bool, values: bool) -> CmdResult {
    let Some(hash) = read_hash(ctx, key)? else {
        return Ok(if fields && values { Reply::Map(Vec::new()) } else { Reply::Array(Vec::new()) });
    };
    let pairs = hash.pairs();
    Ok(if fields && values {
        Reply::Map(pairs.into_iter().map(|(f, v)| (Reply::bulk(f), Reply::bulk(v))).collect())
    } else {
        Reply::Array(pairs.into_iter().map(|(f, v)| Reply::bulk(if fields { f } else { v })).collect())
    })
}

fn hkeys(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], true, false)
}

fn hvals(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], false, true)
}

fn hgetall(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], true, true)
}

fn hincrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let incr = args::int(args[3])?;
    let limits = limits(ctx);
    let key = args[1];
    let hash = hash_or_create(ctx, key)?;
    let current = match hash.get(args[2]) {
        Some(v) => parse_i64(v).ok_or_else(|| err("ERR hash value is not an integer"))?,
        None => 0,
    };
    let value = current.checked_add(incr).ok_or(Error::Overflow)?;
    hash.set(args[2], itoa::Buffer::new().format(value).as_bytes(), limits);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrby", key);
    ctx.dirty(1);
    Ok(Reply::Int(value))
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let incr = LongDouble::parse(args[3]).ok_or(Error::NotFloat)?;
    // Adding zero fails exactly when the operand is NaN or infinite.
    if incr.checked_add(&LongDouble::from_i64(0)).is_none() {
        return Err(err("ERR value is NaN or Infinity"));
    }
    let limits = limits(ctx);
    let key = args[1];
    let hash = hash_or_create(ctx, key)?;
    let current = match hash.get(args[2]) {
        Some(v) => LongDouble::parse(v).ok_or_else(|| err("ERR hash value is not a float"))?,
        None => LongDouble::from_i64(0),
    };
    let value = current.checked_add(&incr).ok_or_else(|| err("ERR increment would produce NaN or Infinity"))?;
    let text = value.to_human();
    hash.set(args[2], &text, limits);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    ctx.dirty(1);
    Ok(Reply::bulk_vec(text))
}

/// One field (and its value) of an HRANDFIELD reply: RESP3 nests each pair in an array,
/// RESP2 flattens them.
fn push_field(out: &mut Vec<Reply>, pair: (&[u8], &[u8]), with_values: bool, resp3: bool) {
    let (f, v) = pair;
    if !with_values {
        out.push(Reply::bulk(f));
    } else if resp3 {
        out.push(Reply::Array(vec![Reply::bulk(f), Reply::bulk(v)]));
    } else {
        out.push(Reply::bulk(f));
        out.push(Reply::bulk(v));
    }
}

fn hrandfield(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() < 3 {
        let srv = &mut *ctx.srv;
        let Some(e) = srv.dbs[ctx.db].lookup(&mut srv.fx, args[1], Lookup::READ) else { return Ok(Reply::Nil) };
        let hash = as_hash(e)?;
        return Ok(hash.random_pair(&mut srv.fx.rng).map_or(Reply::Nil, |(f, _)| Reply::bulk(f)));
    }
    let l = args::int(args[2])?;
    if l == i64::MIN {
        return Err(err(format!("ERR value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)));
    }
    let mut with_values = false;
    if args.len() > 4 || (args.len() == 4 && !args::is(args[3], "withvalues")) {
        return Err(Error::Syntax);
    } else if args.len() == 4 {
        with_values = true;
        if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            return Err(err("ERR value is out of range"));
        }
    }
    let resp3 = ctx.resp3();
    let srv = &mut *ctx.srv;
    let Some(e) = srv.dbs[ctx.db].lookup(&mut srv.fx, args[1], Lookup::READ) else {
        return Ok(Reply::Array(Vec::new()));
    };
    let hash = as_hash(e)?;
    let rng = &mut srv.fx.rng;
    let count = l.unsigned_abs() as usize;
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    // Negative count (or 1): independent picks, repetitions allowed, random order.
    let pairs = if l < 0 || count == 1 { hash.random_pairs(rng, count) } else { hash.random_unique_pairs(rng, count) };
    let mut out = Vec::with_capacity(pairs.len() * if with_values && !resp3 { 2 } else { 1 });
    for p in pairs {
        push_field(&mut out, p, with_values, resp3);
    }
    Ok(Reply::Array(out))
}

fn hscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    let Some(hash) = read_hash(ctx, args[1])? else {
        return Ok(Reply::Array(vec![Reply::bulk(b"0"), Reply::Array(Vec::new())]));
    };
    // Options are parsed once the key is known to be a hash, as Redis does.
    let (count, pattern, _) = parse_scan_options(args, 3, false)?;
    let (next, pairs) = hash.scan(cursor, count);
    let mut out = Vec::with_capacity(pairs.len() * 2);
    for (f, v) in pairs {
        if pattern.is_some_and(|p| !glob::matches(p, f, false)) {
            continue;
        }
        out.push(Reply::bulk(f));
        out.push(Reply::bulk(v));
    }
    Ok(Reply::Array(vec![Reply::bulk(itoa::Buffer::new().format(next).as_bytes()), Reply::Array(out)]))
}

/// An in-process server for command tests that need the engine's insides (keyspace events,
/// which the integration tests cannot observe without pub/sub).
#[cfg(test)]
pub(crate) mod testing {
    use crate::config::Config;
    use crate::reply::Reply;
    use crate::server::Server;

    pub struct Engine {
        pub srv: Server,
        slot: usize,
    }

    impl Engine {
        pub fn new() -> Engine {
            let mut srv = Server::new(Config::new());
            let (slot, _) = srv.add_client("127.0.0.1:1".into(), "127.0.0.1:2".into(), -1, None);
            let mut e = Engine { srv, slot };
            let (r, _) = e.run("config set notify-keyspace-events KEA");
            assert_eq!(r, Reply::Ok, "CONFIG SET");
            e
        }

        /// Runs a command (arguments split on spaces) and returns its reply and the keyspace
        /// events it queued, as "event key".
        pub fn run(&mut self, line: &str) -> (Reply, Vec<String>) {
            self.srv.fx.events.clear();
            let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            self.srv.fx.now_ms = crate::util::time::now_ms();
            // Not `process`: it publishes (and so drains) the events after the command.
            let reply = crate::dispatch::call_internal(&mut self.srv, self.slot, &args);
            let events = self
                .srv
                .fx
                .events
                .drain(..)
                .map(|e| format!("{} {}", e.event, String::from_utf8_lossy(&e.key)))
                .collect();
            (reply, events)
        }

        /// Checks each command's keyspace events against what redis-server 7.0.15 fired.
        pub fn expect_events(&mut self, script: &[(&str, &[&str])]) {
            for (line, expected) in script {
                let (reply, events) = self.run(line);
                assert!(!reply.is_error(), "{line}: {reply:?}");
                assert_eq!(events, *expected, "events of {line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Engine;

    /// Recorded from redis-server 7.0.15 with `notify-keyspace-events KEA`.
    #[test]
    fn keyspace_events_match_redis() {
        Engine::new().expect_events(&[
            ("hset h a 1 b 2", &["hset h"]),
            ("hset h a 1", &["hset h"]),
            ("hsetnx h a 2", &[]),
            ("hsetnx h c 3", &["hset h"]),
            ("hmset h d 4", &["hset h"]),
            ("hdel h zz", &[]),
            ("hdel h a b c d", &["hdel h", "del h"]),
            ("hincrby h2 x 1", &["hincrby h2"]),
            ("hincrbyfloat h2 y 1.5", &["hincrbyfloat h2"]),
            ("hdel h2 x y", &["hdel h2", "del h2"]),
            ("hget nokey a", &[]),
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
        assert_eq!(dirty(&mut e, "hset h a 1 b 2 a 3"), 3);
        assert_eq!(dirty(&mut e, "hsetnx h a 1"), 0);
        assert_eq!(dirty(&mut e, "hdel h a b zz"), 2);
        assert_eq!(dirty(&mut e, "hincrby h n 5"), 1);
    }
}
