//! Sorted set commands, part one (Redis's t_zset.c): adding, removing and reading members,
//! ZSCAN and ZRANDMEMBER, plus what the other sorted-set command files share: the typed
//! lookups, the listpack thresholds, score and range parsing, and reply shapes.
//!
//! The family is split by responsibility: [`super::zset_range`] (ranges by rank, score and
//! lex, their counts, removals and ZRANGESTORE), [`super::zset_pop`] (ZPOP*, ZMPOP and the
//! blocking pops) and [`super::zset_setops`] (union, intersection, difference).
//! The value type and its encodings live in [`crate::types::zset`].

use crate::cmd::args;
use crate::cmd::keys::{parse_cursor, parse_scan_options};
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Lookup, Value};
use crate::reply::Reply;
use crate::types::zset::{AddFlags, LexBound, LexRange, Limits, ScoreRange, ZSet};
use crate::types::Object;
use crate::util::glob;
use crate::util::num::{format_f64, parse_f64};
use crate::util::rand::Rng;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: WRITE | DENYOOM | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(zadd),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Add one or more members to a sorted set, or update its score if it already exists",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        args: "key:key condition=[NX|XX]{3.0.2} comparison=[GT|LT]{6.2.0} [change=CH]{3.0.2} [increment=INCR]{3.0.2} score_member=(score:double member)...",
        history: &[("2.4.0", "Accepts multiple elements."), ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."), ("6.2.0", "Added the `GT` and `LT` options.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: WRITE | DENYOOM | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::ACCESS | key::UPDATE)],
        handler: Some(zincrby),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Increment the score of a member in a sorted set",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        args: "key:key increment:integer member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: WRITE | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(zrem),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Remove one or more members from a sorted set",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        args: "key:key member...",
        history: &[("2.4.0", "Accepts multiple elements.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO)],
        handler: Some(zcard),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Get the number of members in a sorted set",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zscore),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Get the score associated with the given member in a sorted set",
        complexity: "O(1)",
        args: "key:key member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zmscore),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Get the score associated with the given members in a sorted set",
        complexity: "O(N) where N is the number of members being requested.",
        args: "key:key member...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrank),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Determine the index of a member in a sorted set",
        complexity: "O(log(N))",
        args: "key:key member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrevrank),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
        complexity: "O(log(N))",
        args: "key:key member",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zscan),
        group: Group::SortedSet,
        since: "2.8.0",
        summary: "Incrementally iterate sorted sets elements and associated scores",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        args: "key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrandmember),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Get one or multiple random elements from a sorted set",
        complexity: "O(N) where N is the number of elements returned",
        args: "key:key options=[count:integer [WITHSCORES]]",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

/// The thresholds for the listpack encoding, from the configuration.
pub fn limits(ctx: &Ctx) -> Limits {
    ctx.srv.encoding.zset
}

/// The sorted set at `key`, looked up `how`: None if the key is missing, WRONGTYPE if it
/// holds another type.
pub fn zset_mut<'c>(ctx: &'c mut Ctx, key: &[u8], how: Lookup) -> CmdResult<Option<&'c mut ZSet>> {
    match ctx.lookup(key, how) {
        None => Ok(None),
        Some(e) => match e.object_mut() {
            Some(Object::ZSet(z)) => Ok(Some(z)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The sorted set at `key` for a read (Redis's lookupKeyRead + checkType).
pub fn zset_read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> CmdResult<Option<&'c ZSet>> {
    Ok(zset_mut(ctx, key, Lookup::READ)?.map(|z| &*z))
}

/// Stores `z` at `key` as a new value (Redis's setKey: any old value and TTL go).
pub fn store(ctx: &mut Ctx, key: &[u8], z: ZSet) {
    ctx.set_key(key, Value::Object(Object::ZSet(z)), false);
}

/// A score argument (Redis's getDoubleFromObjectOrReply: `string2d`).
pub fn parse_score(arg: &[u8]) -> CmdResult<f64> {
    parse_f64(arg).ok_or(Error::NotFloat)
}

/// C's `strtod` over a C string: leading whitespace, hex, `inf`/`infinity`, out-of-range
/// values (as ±HUGE_VAL or 0) are accepted; the whole string up to its first NUL must be
/// consumed. Returns None otherwise, and for NaN.
fn strtod_whole(s: &[u8]) -> Option<f64> {
    let s = &s[..memchr::memchr(0, s).unwrap_or(s.len())];
    let mut z = Vec::with_capacity(s.len() + 1);
    z.extend_from_slice(s);
    z.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `z` is NUL-terminated and outlives the call; strtod writes only `end`.
    let v = unsafe { libc::strtod(z.as_ptr() as *const libc::c_char, &mut end) };
    // SAFETY: strtod sets `end` inside `z`.
    let consumed = unsafe { end.offset_from(z.as_ptr() as *const libc::c_char) } as usize;
    (consumed == s.len() && !v.is_nan()).then_some(v)
}

fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.first() {
        Some(b'(') => strtod_whole(&arg[1..]).map(|v| (v, true)),
        _ => strtod_whole(arg).map(|v| (v, false)),
    }
}

/// Redis's zslParseRange: `min` and `max`, each optionally `(`-prefixed (exclusive).
pub fn parse_score_range(min: &[u8], max: &[u8]) -> CmdResult<ScoreRange> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
        _ => Err(err("ERR min or max is not a float")),
    }
}

/// Redis's zslParseLexRangeItem. Arguments are C strings to Redis: `+` and `-` may be
/// followed by a NUL and nothing else it would see.
fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    let alone = arg.get(1).is_none_or(|&c| c == 0);
    match arg.first()? {
        b'+' if alone => Some(LexBound::Max),
        b'-' if alone => Some(LexBound::Min),
        b'(' => Some(LexBound::Value { bytes: arg[1..].to_vec(), exclusive: true }),
        b'[' => Some(LexBound::Value { bytes: arg[1..].to_vec(), exclusive: false }),
        _ => None,
    }
}

/// Redis's zslParseLexRange.
pub fn parse_lex_range(min: &[u8], max: &[u8]) -> CmdResult<LexRange> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(err("ERR min or max not valid string range item")),
    }
}

/// Collects (member, score) pairs as a reply: a flat array in RESP2, [member, score] pairs in
/// RESP3 (Redis avoids a map so order is kept). Without scores, an array of members.
pub struct PairsReply {
    items: Vec<Reply>,
    withscores: bool,
    resp3: bool,
}

impl PairsReply {
    pub fn new(withscores: bool, resp3: bool) -> PairsReply {
        PairsReply { items: Vec::new(), withscores, resp3 }
    }

    pub fn with_capacity(withscores: bool, resp3: bool, n: usize) -> PairsReply {
        let per = if withscores && !resp3 { 2 } else { 1 };
        PairsReply { items: Vec::with_capacity(n.saturating_mul(per).min(1 << 20)), withscores, resp3 }
    }

    pub fn push(&mut self, member: &[u8], score: f64) {
        if !self.withscores {
            self.items.push(Reply::bulk(member));
        } else if self.resp3 {
            self.items.push(Reply::Array(vec![Reply::bulk(member), Reply::Double(score)]));
        } else {
            self.items.push(Reply::bulk(member));
            self.items.push(Reply::Double(score));
        }
    }

    pub fn into_reply(self) -> Reply {
        Reply::Array(self.items)
    }
}

/// Redis's d2string, as scores are written into a listpack: integral values within
/// ±2^62 print as integers, others as `%.17g`.
pub fn d2string(d: f64) -> Vec<u8> {
    if d.is_finite() && d != 0.0 && d.fract() == 0.0 && d.abs() <= (i64::MAX / 2) as f64 {
        return itoa::Buffer::new().format(d as i64).as_bytes().to_vec();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { b"-0".to_vec() } else { b"0".to_vec() };
    }
    format_f64(d)
}

fn zadd_generic(ctx: &mut Ctx, args: &[&[u8]], incr_command: bool) -> CmdResult {
    let key = args[1];
    let mut flags = AddFlags { incr: incr_command, ..AddFlags::default() };
    let mut ch = false;
    let mut idx = 2;
    while idx < args.len() {
        let opt = args[idx];
        if args::is(opt, "nx") {
            flags.nx = true;
        } else if args::is(opt, "xx") {
            flags.xx = true;
        } else if args::is(opt, "ch") {
            ch = true;
        } else if args::is(opt, "incr") {
            flags.incr = true;
        } else if args::is(opt, "gt") {
            flags.gt = true;
        } else if args::is(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let pairs = &args[idx..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(Error::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(err("ERR XX and NX options at the same time are not compatible"));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(err("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(err("ERR INCR option supports a single increment-element pair"));
    }
    // Every score is checked before anything changes: the command runs fully or not at all.
    let scores = pairs.chunks(2).map(|p| parse_score(p[0])).collect::<CmdResult<Vec<f64>>>()?;
    let limits = limits(ctx);
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut score = 0.0;
    let mut result = Ok(());
    if zset_mut(ctx, key, Lookup::WRITE)?.is_none() {
        if flags.xx {
            return Ok(zadd_reply(flags.incr, ch, 0, 0, 0, score));
        }
        let z = ZSet::new_for(pairs[1].len(), limits);
        ctx.add_key(key, Value::Object(Object::ZSet(z)));
    }
    if let Some(z) = zset_mut(ctx, key, Lookup::QUIET)? {
        for (pair, &s) in pairs.chunks(2).zip(&scores) {
            match z.add(s, pair[1], flags, limits) {
                Ok(r) => {
                    added += u64::from(r.added);
                    updated += u64::from(r.updated);
                    processed += u64::from(!r.nop);
                    score = r.score;
                }
                Err(_) => {
                    result = Err(err("ERR resulting score is not a number (NaN)"));
                    break;
                }
            }
        }
    }
    if added + updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
        ctx.dirty(added + updated);
    }
    result?;
    Ok(zadd_reply(flags.incr, ch, added, updated, processed, score))
}

fn zadd_reply(incr: bool, ch: bool, added: u64, updated: u64, processed: u64, score: f64) -> Reply {
    if incr {
        if processed > 0 {
            Reply::Double(score)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Int((if ch { added + updated } else { added }) as i64)
    }
}

/// ZADD (also GEOADD's worker, with its rewritten arguments).
pub fn zadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, args, false)
}

fn zincrby(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, args, true)
}

fn zrem(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(z) = zset_mut(ctx, key, Lookup::WRITE)? else { return Ok(Reply::Int(0)) };
    let mut deleted = 0;
    let mut emptied = false;
    for member in &args[2..] {
        if z.remove(member) {
            deleted += 1;
        }
        if z.is_empty() {
            emptied = true;
            break;
        }
    }
    if deleted > 0 {
        if emptied {
            ctx.delete_key(key);
        }
        ctx.notify(notify::ZSET, "zrem", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.signal_modified(key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

fn zcard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(zset_read(ctx, args[1])?.map_or(0, |z| z.len()) as i64))
}

fn zscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(match zset_read(ctx, args[1])?.and_then(|z| z.score(args[2])) {
        Some(s) => Reply::Double(s),
        None => Reply::Nil,
    })
}

fn zmscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let z = zset_read(ctx, args[1])?;
    let scores = args[2..].iter().map(|m| match z.and_then(|z| z.score(m)) {
        Some(s) => Reply::Double(s),
        None => Reply::Nil,
    });
    Ok(Reply::Array(scores.collect()))
}

fn zrank_generic(ctx: &mut Ctx, args: &[&[u8]], reverse: bool) -> CmdResult {
    let Some(z) = zset_read(ctx, args[1])? else { return Ok(Reply::Nil) };
    Ok(match z.rank(args[2]) {
        Some(r) if reverse => Reply::Int((z.len() - 1 - r) as i64),
        Some(r) => Reply::Int(r as i64),
        None => Reply::Nil,
    })
}

fn zrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, args, true)
}

fn zscan(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_cursor(args[2])?;
    let empty = || Reply::Array(vec![Reply::bulk(b"0"), Reply::Array(Vec::new())]);
    let Some(z) = zset_read(ctx, args[1])? else { return Ok(empty()) };
    let (count, pattern, _) = parse_scan_options(args, 3, false)?;
    let mut found: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    match z {
        ZSet::Listpack(_) => {
            // A listpack is returned whole; its scores as the listpack stores them.
            cursor = z.scan(0, |m, s| found.push((m.to_vec(), d2string(s))));
        }
        ZSet::Skiplist(_) => {
            // Redis counts replied items (a member and its score are two) against COUNT.
            let mut max_iterations = count.saturating_mul(10);
            loop {
                cursor = z.scan(cursor, |m, s| found.push((m.to_vec(), format_f64(s))));
                if cursor == 0 || max_iterations == 0 || found.len() * 2 >= count {
                    break;
                }
                max_iterations -= 1;
            }
        }
    }
    let mut items = Vec::with_capacity(found.len() * 2);
    for (member, score) in found {
        if pattern.is_some_and(|p| !glob::matches(p, &member, false)) {
            continue;
        }
        items.push(Reply::bulk_vec(member));
        items.push(Reply::bulk_vec(score));
    }
    Ok(Reply::Array(vec![Reply::bulk(cursor.to_string().as_bytes()), Reply::Array(items)]))
}

fn zrandmember(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() >= 3 {
        let count = args::int(args[2])?;
        if count == i64::MIN {
            return Err(err(format!("ERR value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)));
        }
        let withscores = match args.len() {
            3 => false,
            4 if args::is(args[3], "withscores") => true,
            _ => return Err(Error::Syntax),
        };
        if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
            return Err(err("ERR value is out of range"));
        }
        return zrandmember_count(ctx, args[1], count, withscores);
    }
    let (z, rng) = zset_read_with_rng(ctx, args[1])?;
    let Some(z) = z else { return Ok(Reply::Nil) };
    let pick = random_below(rng, z.len());
    Ok(match z.element_at(pick) {
        Some((m, _)) => Reply::bulk(m),
        None => Reply::Nil,
    })
}

/// The sorted set at `key` for a read, and the random generator beside it.
fn zset_read_with_rng<'c>(ctx: &'c mut Ctx, key: &[u8]) -> CmdResult<(Option<&'c ZSet>, &'c mut Rng)> {
    let (db, fx) = ctx.db_fx();
    let z = match db.lookup(fx, key, Lookup::READ) {
        None => None,
        Some(e) => match e.as_object() {
            Some(Object::ZSet(z)) => Some(z),
            _ => return Err(Error::WrongType),
        },
    };
    Ok((z, &mut fx.rng))
}

/// A uniform random index below `n` (0 when `n` is 0).
fn random_below(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n.max(1) as u64) as usize
}

/// ZRANDMEMBER with a count: with repetitions for a negative count, distinct members for a
/// positive one (the whole set when it asks for at least as many).
fn zrandmember_count(ctx: &mut Ctx, key: &[u8], count: i64, withscores: bool) -> CmdResult {
    let resp3 = ctx.resp3();
    let (z, rng) = zset_read_with_rng(ctx, key)?;
    let Some(z) = z else { return Ok(Reply::Array(Vec::new())) };
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let size = z.len();
    let wanted = count.unsigned_abs() as usize;
    let picks: Vec<usize> = if count < 0 || wanted == 1 {
        // Pushed one by one: a huge count must not be taken as an allocation size.
        let mut picks = Vec::new();
        for _ in 0..wanted {
            picks.push(random_below(rng, size));
        }
        picks
    } else if wanted >= size {
        (0..size).collect()
    } else {
        // Floyd's sampling: `wanted` distinct ranks, uniformly.
        let mut chosen = std::collections::HashSet::with_capacity(wanted);
        let mut order = Vec::with_capacity(wanted);
        for j in size - wanted..size {
            let t = random_below(rng, j + 1);
            let pick = if chosen.insert(t) { t } else { j };
            chosen.insert(pick);
            order.push(pick);
        }
        order
    };
    let mut out = PairsReply::with_capacity(withscores, resp3, picks.len());
    match z {
        ZSet::Listpack(lp) if picks.len() > 1 => {
            // One pass over the buffer instead of a scan per pick.
            let items: Vec<(&[u8], f64)> = lp.iter().map(|it| (it.member, it.score)).collect();
            for &i in &picks {
                if let Some(&(m, s)) = items.get(i) {
                    out.push(m, s);
                }
            }
        }
        _ => {
            for &i in &picks {
                if let Some((m, s)) = z.element_at(i) {
                    out.push(m, s);
                }
            }
        }
    }
    Ok(out.into_reply())
}

#[cfg(test)]
#[path = "zset_tests.rs"]
mod family_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ranges_parse_like_strtod() {
        let r = parse_score_range(b"(1.5", b"+inf").unwrap();
        assert_eq!((r.min, r.minex, r.max, r.maxex), (1.5, true, f64::INFINITY, false));
        assert!(parse_score_range(b" 1", b"2").is_ok());
        assert!(parse_score_range(b"1 ", b"2").is_err());
        assert!(parse_score_range(b"nan", b"2").is_err());
        assert!(parse_score_range(b"str", b"2").is_err());
        assert_eq!(parse_score_range(b"", b"(").unwrap().min, 0.0);
        assert_eq!(parse_score_range(b"1e400", b"0x10").unwrap().max, 16.0);
        assert_eq!(parse_score_range(b"1\0junk", b"2").unwrap().min, 1.0);
    }

    #[test]
    fn lex_ranges_parse_like_redis() {
        let r = parse_lex_range(b"-", b"[b").unwrap();
        assert_eq!(r.min, LexBound::Min);
        assert_eq!(r.max, LexBound::Value { bytes: b"b".to_vec(), exclusive: false });
        assert!(parse_lex_range(b"+x", b"[b").is_err());
        assert!(parse_lex_range(b"", b"[b").is_err());
        assert!(parse_lex_range(b"a", b"[b").is_err());
        assert_eq!(parse_lex_range(b"(", b"+").unwrap().min, LexBound::Value { bytes: vec![], exclusive: true });
    }

    #[test]
    fn d2string_matches_redis() {
        assert_eq!(d2string(1.0), b"1");
        assert_eq!(d2string(-0.0), b"-0");
        assert_eq!(d2string(1e17), b"100000000000000000");
        assert_eq!(d2string(1e19), b"1e+19");
        assert_eq!(d2string(0.1), b"0.10000000000000001");
        assert_eq!(d2string(f64::NEG_INFINITY), b"-inf");
    }
}
