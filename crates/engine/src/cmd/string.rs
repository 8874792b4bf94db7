//! String commands (Redis's t_string.c): GET/SET and friends, counters, ranges, LCS.
//!
//! Strings are stored `int`, `embstr` or `raw` exactly as Redis would store them (see
//! [`crate::keyspace::entry`]), so counters never reparse text and OBJECT ENCODING agrees.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::keyspace::{Entry, StrRef, Value, ValueRef};
use crate::reply::Reply;
use crate::util::num::LongDouble;

const STRING: u64 = acl::STRING;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READONLY | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(get),
        group: Group::String,
        since: "1.0.0",
        summary: "Get the value of a key",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE | key::VARIABLE_FLAGS)
            .with_notes("RW and ACCESS due to the optional `GET` argument")],
        handler: Some(set),
        getkeys: Some(set_keys),
        group: Group::String,
        since: "1.0.0",
        summary: "Set the string value of a key",
        complexity: "O(1)",
        args: "key:key@0 value condition=[NX|XX]{2.6.12} [GET]{6.2.0} expiration=[(EX seconds:integer){2.6.12}|(PX milliseconds:integer){2.6.12}|(EXAT unix-time-seconds:unix-time){6.2.0}|(PXAT unix-time-milliseconds:unix-time){6.2.0}|KEEPTTL{6.0.0}]",
        history: &[
            ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
            ("6.0.0", "Added the `KEEPTTL` option."),
            ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
            ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::OW | key::INSERT)],
        handler: Some(setnx),
        group: Group::String,
        since: "1.0.0",
        summary: "Set the value of a key, only if the key does not exist",
        complexity: "O(1)",
        args: "key:key value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE)],
        handler: Some(setex),
        group: Group::String,
        since: "2.0.0",
        summary: "Set the value and expiration of a key",
        complexity: "O(1)",
        args: "key:key seconds:integer value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE)],
        handler: Some(psetex),
        group: Group::String,
        since: "2.6.0",
        summary: "Set the value and expiration in milliseconds of a key",
        complexity: "O(1)",
        args: "key:key milliseconds:integer value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(getset),
        group: Group::String,
        since: "1.0.0",
        summary: "Set the string value of a key and return its old value",
        complexity: "O(1)",
        args: "key:key value",
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`SET` with the `!GET` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: WRITE | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::DELETE)],
        handler: Some(getdel),
        group: Group::String,
        since: "6.2.0",
        summary: "Get the value of a key and delete the key",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: WRITE | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)
            .with_notes("RW and UPDATE because it changes the TTL")],
        handler: Some(getex),
        group: Group::String,
        since: "6.2.0",
        summary: "Get the value of a key and optionally set its expiration",
        complexity: "O(1)",
        args: "key:key expiration=[EX seconds:integer|PX milliseconds:integer|EXAT unix-time-seconds:unix-time|PXAT unix-time-milliseconds:unix-time|PERSIST]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        acl: STRING,
        key_specs: &[KeySpec::range(1, -1, 1, key::RO | key::ACCESS)],
        handler: Some(mget),
        group: Group::String,
        since: "1.0.0",
        summary: "Get the values of all the given keys",
        complexity: "O(N) where N is the number of keys to retrieve.",
        args: "key:key...",
        tips: &["request_policy:multi_shard"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::range(1, -1, 2, key::OW | key::UPDATE)],
        handler: Some(mset),
        group: Group::String,
        since: "1.0.1",
        summary: "Set multiple keys to multiple values",
        complexity: "O(N) where N is the number of keys to set.",
        args: "key_value=(key:key@0 value)...",
        tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::range(1, -1, 2, key::OW | key::INSERT)],
        handler: Some(msetnx),
        group: Group::String,
        since: "1.0.1",
        summary: "Set multiple keys to multiple values, only if none of the keys exist",
        complexity: "O(N) where N is the number of keys to set.",
        args: "key_value=(key:key@0 value)...",
        tips: &["request_policy:multi_shard", "response_policy:agg_min"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(append),
        group: Group::String,
        since: "2.0.0",
        summary: "Append a value to a key",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        args: "key:key value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: READONLY | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RO)],
        handler: Some(strlen),
        group: Group::String,
        since: "2.2.0",
        summary: "Get the length of the value stored in a key",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(incr),
        group: Group::String,
        since: "1.0.0",
        summary: "Increment the integer value of a key by one",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(decr),
        group: Group::String,
        since: "1.0.0",
        summary: "Decrement the integer value of a key by one",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(incrby),
        group: Group::String,
        since: "1.0.0",
        summary: "Increment the integer value of a key by the given amount",
        complexity: "O(1)",
        args: "key:key increment:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(decrby),
        group: Group::String,
        since: "1.0.0",
        summary: "Decrement the integer value of a key by the given number",
        complexity: "O(1)",
        args: "key:key decrement:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE | DENYOOM | FAST,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(incrbyfloat),
        group: Group::String,
        since: "2.6.0",
        summary: "Increment the float value of a key by the given amount",
        complexity: "O(1)",
        args: "key:key increment:double",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getrange",
        arity: 4,
        flags: READONLY,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(getrange),
        group: Group::String,
        since: "2.4.0",
        summary: "Get a substring of the string stored at a key",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        args: "key:key start:integer end:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: READONLY,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(getrange),
        group: Group::String,
        since: "1.0.0",
        summary: "Get a substring of the string stored at a key",
        complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
        args: "key:key start:integer end:integer",
        deprecated_since: Some("2.0.0"),
        replaced_by: Some("`GETRANGE`"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: WRITE | DENYOOM,
        acl: STRING,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(setrange),
        group: Group::String,
        since: "2.2.0",
        summary: "Overwrite part of a string at key starting at the specified offset",
        complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
        args: "key:key offset:integer value",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: READONLY,
        acl: STRING,
        key_specs: &[KeySpec::range(1, 1, 1, key::RO | key::ACCESS)],
        handler: Some(lcs),
        group: Group::String,
        since: "7.0.0",
        summary: "Find longest common substring",
        complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        args: "key1:key@0 key2:key@0 [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]",
        ..CommandSpec::DEFAULT
    },
];

/// The string at `entry`, or WRONGTYPE.
pub fn as_string(entry: &Entry) -> CmdResult<StrRef<'_>> {
    match entry.value() {
        ValueRef::Str(s) => Ok(s),
        ValueRef::Object(_) => Err(Error::WrongType),
    }
}

/// A string value read for a reply: the bytes as a bulk reply, or nil.
fn get_reply(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    match ctx.lookup_read(key) {
        None => Ok(Reply::Nil),
        Some(e) => Ok(str_reply(as_string(e)?)),
    }
}

pub fn str_reply(s: StrRef<'_>) -> Reply {
    match s {
        StrRef::Int(n) => Reply::bulk_i64(n),
        StrRef::Bytes(b) => Reply::bulk(b),
    }
}

/// Redis's checkStringLength: a string may not grow past proto-max-bulk-len.
pub fn check_length(ctx: &Ctx, len: u64) -> CmdResult<()> {
    if len > ctx.srv.config.int("proto-max-bulk-len") as u64 {
        return Err(err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

fn get(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    get_reply(ctx, args[1])
}

/// Options shared by SET and GETEX.
#[derive(Default)]
struct ExtendedOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The expire argument and whether it is in ms, absolute.
    expire: Option<(&'a [u8], bool, bool)>,
}

/// Redis's parseExtendedStringArgumentsOrReply, for SET (`for_set`) or GETEX.
fn parse_extended<'a>(args: &[&'a [u8]], for_set: bool) -> CmdResult<ExtendedOpts<'a>> {
    let mut o = ExtendedOpts::default();
    let mut j = if for_set { 3 } else { 2 };
    while j < args.len() {
        let opt = args[j];
        let next = args.get(j + 1).copied();
        let has_expire = o.expire.is_some();
        if for_set && args::is(opt, "NX") && !o.xx {
            o.nx = true;
        } else if for_set && args::is(opt, "XX") && !o.nx {
            o.xx = true;
        } else if for_set && args::is(opt, "GET") {
            o.get = true;
        } else if for_set && args::is(opt, "KEEPTTL") && !o.persist && !has_expire {
            o.keepttl = true;
        } else if !for_set && args::is(opt, "PERSIST") && !has_expire && !o.keepttl {
            o.persist = true;
        } else if !o.keepttl && !o.persist && !has_expire && next.is_some() && is_expire_opt(opt).is_some() {
            let (ms, abs) = is_expire_opt(opt).unwrap_or((false, false));
            o.expire = Some((next.unwrap_or_default(), ms, abs));
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// EX/PX/EXAT/PXAT → (milliseconds unit, absolute).
fn is_expire_opt(opt: &[u8]) -> Option<(bool, bool)> {
    if args::is(opt, "EX") {
        Some((false, false))
    } else if args::is(opt, "PX") {
        Some((true, false))
    } else if args::is(opt, "EXAT") {
        Some((false, true))
    } else if args::is(opt, "PXAT") {
        Some((true, true))
    } else {
        None
    }
}

/// Redis's getExpireMillisecondsOrReply: an absolute expire time in ms.
fn expire_ms(ctx: &Ctx, arg: &[u8], millis: bool, absolute: bool) -> CmdResult<i64> {
    let mut v = args::int(arg)?;
    let name = ctx.cmd.fullname;
    if v <= 0 || (!millis && v > i64::MAX / 1000) {
        return Err(Error::InvalidExpire(name.into()));
    }
    if !millis {
        v *= 1000;
    }
    if !absolute {
        v = v.checked_add(ctx.now_ms()).ok_or_else(|| Error::InvalidExpire(name.into()))?;
    }
    if v <= 0 {
        return Err(Error::InvalidExpire(name.into()));
    }
    Ok(v)
}

/// Redis's setGenericCommand. `expire` is an absolute ms time.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &ExtendedOpts,
    expire: Option<i64>,
    ok_reply: Reply,
    abort_reply: Reply,
) -> CmdResult {
    let mut old = None;
    if opts.get {
        old = Some(get_reply(ctx, key)?);
    }
    if opts.nx || opts.xx {
        let found = ctx.lookup_write(key).is_some();
        if (opts.nx && found) || (opts.xx && !found) {
            return Ok(old.unwrap_or(abort_reply));
        }
    }
    ctx.set_key(key, Value::Str(value), opts.keepttl);
    ctx.dirty(1);
    ctx.notify(notify::STRING, "set", key);
    if let Some(when) = expire {
        ctx.db().set_expire(key, when);
        // An absolute time replicates the same expiry whenever it is applied.
        ctx.propagate_as(&[b"SET", key, value, b"PXAT", when.to_string().as_bytes()]);
        ctx.notify(notify::GENERIC, "expire", key);
    }
    Ok(old.unwrap_or(ok_reply))
}

/// SET's key and its real access flags (Redis's setGetKeys): the spec's are the union
/// (`VARIABLE_FLAGS`); without `GET` the old value is only overwritten.
fn set_keys(args: &[&[u8]]) -> Vec<(usize, u64)> {
    let get = args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
    let flags = if get { key::RW | key::ACCESS | key::UPDATE } else { key::OW | key::UPDATE };
    vec![(1, flags)]
}

fn set(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let opts = parse_extended(args, true)?;
    let expire = match opts.expire {
        Some((arg, ms, abs)) => Some(expire_ms(ctx, arg, ms, abs)?),
        None => None,
    };
    if opts.get && expire.is_none() {
        // Replicas don't need GET: propagate the command without it.
        let without_get: Vec<&[u8]> =
            args.iter().enumerate().filter(|(i, a)| *i < 3 || !args::is(a, "GET")).map(|(_, a)| *a).collect();
        ctx.propagate_as(&without_get);
    }
    set_generic(ctx, args[1], args[2], &opts, expire, Reply::Ok, Reply::Nil)
}

fn setnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let opts = ExtendedOpts { nx: true, ..Default::default() };
    set_generic(ctx, args[1], args[2], &opts, None, Reply::Int(1), Reply::Int(0))
}

fn setex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let when = expire_ms(ctx, args[2], false, false)?;
    set_generic(ctx, args[1], args[3], &ExtendedOpts::default(), Some(when), Reply::Ok, Reply::Nil)
}

fn psetex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let when = expire_ms(ctx, args[2], true, false)?;
    set_generic(ctx, args[1], args[3], &ExtendedOpts::default(), Some(when), Reply::Ok, Reply::Nil)
}

fn getset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let old = get_reply(ctx, args[1])?;
    ctx.set_key(args[1], Value::Str(args[2]), false);
    ctx.notify(notify::STRING, "set", args[1]);
    ctx.dirty(1);
    Ok(old)
}

fn getdel(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let reply = get_reply(ctx, args[1])?;
    if matches!(reply, Reply::Nil) {
        return Ok(reply);
    }
    ctx.delete_key(args[1]);
    ctx.propagate_as(&[b"DEL", args[1]]);
    ctx.notify(notify::GENERIC, "del", args[1]);
    ctx.dirty(1);
    Ok(reply)
}

fn getex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let opts = parse_extended(args, false)?;
    let key = args[1];
    let reply = match ctx.lookup_read(key) {
        None => return Ok(Reply::Nil),
        Some(e) => str_reply(as_string(e)?),
    };
    let expire = match opts.expire {
        Some((arg, ms, abs)) => Some((expire_ms(ctx, arg, ms, abs)?, abs)),
        None => None,
    };
    match expire {
        Some((when, true)) if when <= ctx.now_ms() => {
            ctx.delete_key(key);
            let del: &[u8] = if ctx.srv.fx.expire_unlink { b"UNLINK" } else { b"DEL" };
            ctx.propagate_as(&[del, key]);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        Some((when, _)) => {
            ctx.db().set_expire(key, when);
            ctx.propagate_as(&[b"PEXPIREAT", key, when.to_string().as_bytes()]);
            ctx.signal_modified(key);
            ctx.notify(notify::GENERIC, "expire", key);
            ctx.dirty(1);
        }
        None if opts.persist => {
            if ctx.db().persist(key) {
                ctx.signal_modified(key);
                ctx.propagate_as(&[b"PERSIST", key]);
                ctx.notify(notify::GENERIC, "persist", key);
                ctx.dirty(1);
            }
        }
        None => {}
    }
    Ok(reply)
}

fn mget(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut out = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        out.push(match ctx.lookup_read(key) {
            Some(e) => match e.value() {
                ValueRef::Str(s) => str_reply(s),
                ValueRef::Object(_) => Reply::Nil,
            },
            None => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
}

fn mset_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    if nx {
        for pair in args[1..].chunks(2) {
            if ctx.lookup_write(pair[0]).is_some() {
                return Ok(Reply::Int(0));
            }
        }
    }
    for pair in args[1..].chunks(2) {
        ctx.set_key(pair[0], Value::Str(pair[1]), false);
        ctx.notify(notify::STRING, "set", pair[0]);
    }
    ctx.dirty(((args.len() - 1) / 2) as u64);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn mset(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, true)
}

fn append(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, extra) = (args[1], args[2]);
    let current_len = match ctx.lookup_write(key) {
        None => None,
        Some(e) => Some(as_string(e)?.len()),
    };
    let new_len = match current_len {
        None => {
            ctx.add_key(key, Value::Str(extra));
            extra.len()
        }
        Some(len) => {
            check_length(ctx, (len + extra.len()) as u64)?;
            let Some(raw) = ctx.lookup_write(key).and_then(|e| e.raw_string_mut()) else {
                return Err(Error::WrongType);
            };
            raw.extend_from_slice(extra);
            raw.len()
        }
    };
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "append", key);
    ctx.dirty(1);
    Ok(Reply::Int(new_len as i64))
}

fn strlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(match ctx.lookup_read(args[1]) {
        None => 0,
        Some(e) => as_string(e)?.len() as i64,
    }))
}

/// Redis's incrDecrCommand.
fn incr_by(ctx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let current = match ctx.lookup_write(key) {
        None => 0,
        Some(e) => match as_string(e)? {
            StrRef::Int(n) => n,
            StrRef::Bytes(b) => spinel_resp::parse_i64(b).ok_or(Error::NotInteger)?,
        },
    };
    let value = current.checked_add(by).ok_or(Error::Overflow)?;
    ctx.set_key(key, Value::Int(value), true);
    ctx.notify(notify::STRING, "incrby", key);
    ctx.dirty(1);
    Ok(Reply::Int(value))
}

fn incr(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    incr_by(ctx, args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    incr_by(ctx, args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let by = args::int(args[2])?;
    incr_by(ctx, args[1], by)
}

fn decrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let by = args::int(args[2])?;
    if by == i64::MIN {
        return Err(err("ERR decrement would overflow"));
    }
    incr_by(ctx, args[1], -by)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let current = match ctx.lookup_write(key) {
        None => LongDouble::from_i64(0),
        Some(e) => match as_string(e)? {
            StrRef::Int(n) => LongDouble::from_i64(n),
            StrRef::Bytes(b) => LongDouble::parse(b).ok_or(Error::NotFloat)?,
        },
    };
    let incr = LongDouble::parse(args[2]).ok_or(Error::NotFloat)?;
    let sum = current.checked_add(&incr).ok_or_else(|| err("ERR increment would produce NaN or Infinity"))?;
    let text = sum.to_human();
    ctx.set_key(key, Value::Str(&text), true);
    // Replicas must not redo the float arithmetic: they get the result.
    ctx.propagate_as(&[b"SET", key, &text, b"KEEPTTL"]);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    ctx.dirty(1);
    Ok(Reply::bulk_vec(text))
}

/// GETRANGE/SUBSTR's index arithmetic: the byte range, or None for an empty result.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

fn getrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let start = args::int(args[2])?;
    let end = args::int(args[3])?;
    let Some(e) = ctx.lookup_read(args[1]) else { return Ok(Reply::bulk(b"")) };
    let s = as_string(e)?;
    let mut buf = itoa::Buffer::new();
    let bytes = s.bytes(&mut buf);
    Ok(match clamp_range(start, end, bytes.len()) {
        Some((a, b)) => Reply::bulk(&bytes[a..=b]),
        None => Reply::bulk(b""),
    })
}

fn setrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (key, value) = (args[1], args[3]);
    let offset = args::int(args[2])?;
    if offset < 0 {
        return Err(err("ERR offset is out of range"));
    }
    let offset = offset as usize;
    let existing = match ctx.lookup_write(key) {
        None => None,
        Some(e) => Some(as_string(e)?.len()),
    };
    match existing {
        None => {
            if value.is_empty() {
                return Ok(Reply::Int(0));
            }
            check_length(ctx, (offset + value.len()) as u64)?;
            ctx.add_key(key, Value::Raw(Vec::new()));
        }
        Some(len) => {
            if value.is_empty() {
                return Ok(Reply::Int(len as i64));
            }
            check_length(ctx, (offset + value.len()) as u64)?;
        }
    }
    let Some(raw) = ctx.lookup_write(key).and_then(|e| e.raw_string_mut()) else { return Err(Error::WrongType) };
    if raw.len() < offset + value.len() {
        raw.resize(offset + value.len(), 0);
    }
    raw[offset..offset + value.len()].copy_from_slice(value);
    let len = raw.len();
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "setrange", key);
    ctx.dirty(1);
    Ok(Reply::Int(len as i64))
}

fn lcs(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut values: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut wrong_type = false;
    for (i, key) in args[1..3].iter().enumerate() {
        if let Some(e) = ctx.lookup_read(key) {
            match e.as_str() {
                Some(s) => values[i] = s.to_vec(),
                None => wrong_type = true,
            }
        }
    }
    if wrong_type {
        return Err(err("ERR The specified keys must contain string values"));
    }
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args::is(args[j], "IDX") {
            getidx = true;
        } else if args::is(args[j], "LEN") {
            getlen = true;
        } else if args::is(args[j], "WITHMATCHLEN") {
            withmatchlen = true;
        } else if args::is(args[j], "MINMATCHLEN") && more > 0 {
            minmatchlen = args::int(args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(err("ERR If you want both the length and indexes, please just use IDX."));
    }
    let (a, b) = (&values[0], &values[1]);
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.srv.config.int("proto-max-bulk-len") as u64 {
        return Err(err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let w = blen + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=alen {
        for jj in 1..=blen {
            table[i * w + jj] = if a[i - 1] == b[jj - 1] {
                table[(i - 1) * w + jj - 1] + 1
            } else {
                table[(i - 1) * w + jj].max(table[i * w + jj - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    if getlen {
        return Ok(Reply::Int(total as i64));
    }
    let mut idx = total as usize;
    let mut result = vec![0u8; idx];
    let mut matches = Vec::new();
    let (mut i, mut jj) = (alen, blen);
    // Ranges are tracked backwards; `arange_start == alen` means "no range open".
    let (mut as_, mut ae, mut bs, mut be) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && jj > 0 {
        let mut emit = false;
        if a[i - 1] == b[jj - 1] {
            result[idx - 1] = a[i - 1];
            if as_ == alen {
                as_ = i - 1;
                ae = i - 1;
                bs = jj - 1;
                be = jj - 1;
            } else if as_ == i && bs == jj {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            jj -= 1;
        } else {
            if table[(i - 1) * w + jj] > table[i * w + jj - 1] {
                i -= 1;
            } else {
                jj -= 1;
            }
            if as_ != alen {
                emit = true;
            }
        }
        let match_len = ae.wrapping_sub(as_).wrapping_add(1) as i64;
        if emit {
            if getidx && (minmatchlen == 0 || match_len >= minmatchlen) {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                    Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(match_len));
                }
                matches.push(Reply::Array(m));
            }
            as_ = alen;
        }
    }
    if getidx {
        return Ok(Reply::Map(vec![
            (Reply::bulk(b"matches"), Reply::Array(matches)),
            (Reply::bulk(b"len"), Reply::Int(total as i64)),
        ]));
    }
    Ok(Reply::bulk_vec(result))
}

#[cfg(test)]
mod tests {
    use super::clamp_range;

    #[test]
    fn getrange_index_rules() {
        assert_eq!(clamp_range(0, 3, 5), Some((0, 3)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(-1, -5, 5), None);
        assert_eq!(clamp_range(0, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(clamp_range(-100, -100, 5), Some((0, 0)));
    }
}
