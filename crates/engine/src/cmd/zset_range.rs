//! Sorted set ranges (Redis's zrangeGenericCommand and friends): ZRANGE with BYSCORE, BYLEX,
//! REV and LIMIT, its older forms (ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX),
//! ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the ZREMRANGEBY* removals.
//!
//! One parser and one walk serve every form, as in Redis: the forms differ only in which
//! options they accept, and a range result goes either to the client or into a new sorted
//! set for ZRANGESTORE (sized like Redis sizes it: by the range length when known).

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::cmd::zset::{limits, parse_lex_range, parse_score_range, store, zset_mut, zset_read, PairsReply};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Lookup};
use crate::reply::Reply;
use crate::types::zset::{AddFlags, LexRange, Limits, ScoreRange, Start, ZSet};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrange),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Return a range of members in a sorted set",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        args: "key:key start stop sortby=[BYSCORE|BYLEX]{6.2.0} [REV]{6.2.0} [LIMIT offset_count=(offset:integer count:integer)]{6.2.0} [WITHSCORES]",
        history: &[("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: WRITE | DENYOOM,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::one(2, key::RO | key::ACCESS)],
        handler: Some(zrangestore),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Store a range of members from sorted set into another key",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        args: "dst:key src:key min max sortby=[BYSCORE|BYLEX] [REV] [LIMIT offset_count=(offset:integer count:integer)]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrevrange),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        args: "key:key start:integer stop:integer [WITHSCORES]",
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrangebyscore),
        group: Group::SortedSet,
        since: "1.0.5",
        summary: "Return a range of members in a sorted set, by score",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key min:double max:double [WITHSCORES]{2.0.0} [LIMIT offset_count=(offset:integer count:integer)]",
        history: &[("2.0.0", "Added the `WITHSCORES` modifier.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `BYSCORE` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrevrangebyscore),
        group: Group::SortedSet,
        since: "2.2.0",
        summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key max:double min:double [WITHSCORES] [LIMIT offset_count=(offset:integer count:integer)]",
        history: &[("2.1.6", "`min` and `max` can be exclusive.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` and `BYSCORE` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrangebylex),
        group: Group::SortedSet,
        since: "2.8.9",
        summary: "Return a range of members in a sorted set, by lexicographical range",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key min max [LIMIT offset_count=(offset:integer count:integer)]",
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `BYLEX` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zrevrangebylex),
        group: Group::SortedSet,
        since: "2.8.9",
        summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        args: "key:key max min [LIMIT offset_count=(offset:integer count:integer)]",
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`ZRANGE` with the `REV` and `BYLEX` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zcount),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Count the members in a sorted set with scores within the given values",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key min:double max:double",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: READONLY | FAST,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(zlexcount),
        group: Group::SortedSet,
        since: "2.8.9",
        summary: "Count the number of members in a sorted set between a given lexicographical range",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        args: "key:key min max",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: WRITE,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(zremrangebyrank),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Remove all members in a sorted set within the given indexes",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key start:integer stop:integer",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: WRITE,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(zremrangebyscore),
        group: Group::SortedSet,
        since: "1.2.0",
        summary: "Remove all members in a sorted set within the given scores",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key min:double max:double",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: WRITE,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(zremrangebylex),
        group: Group::SortedSet,
        since: "2.8.9",
        summary: "Remove all members in a sorted set between the given lexicographical range",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        args: "key:key min max",
        ..CommandSpec::DEFAULT
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// Where range results go.
enum Sink {
    Client(PairsReply),
    Store(ZSet, Limits),
}

impl Sink {
    fn emit(&mut self, member: &[u8], score: f64) {
        match self {
            Sink::Client(r) => r.push(member, score),
            Sink::Store(z, limits) => {
                // A range never yields a NaN score or a repeated member.
                let _ = z.add(score, member, AddFlags::default(), *limits);
            }
        }
    }
}

/// The parsed range.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Redis's zrangeGenericCommand. `first` is the index of the source key; `dst` is
/// ZRANGESTORE's destination.
fn zrange_generic(
    ctx: &mut Ctx,
    args: &[&[u8]],
    first: usize,
    dst: Option<&[u8]>,
    mut rangetype: RangeType,
    mut direction: Direction,
) -> CmdResult {
    let key = args[first];
    let (mut minidx, mut maxidx) = (first + 1, first + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = first + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if dst.is_none() && args::is(a, "withscores") {
            withscores = true;
        } else if args::is(a, "limit") && left >= 2 {
            offset = args::int(args[j + 1])?;
            limit = args::int(args[j + 2])?;
            j += 2;
        } else if direction == Direction::Auto && args::is(a, "rev") {
            direction = Direction::Reverse;
        } else if rangetype == RangeType::Auto && args::is(a, "bylex") {
            rangetype = RangeType::Lex;
        } else if rangetype == RangeType::Auto && args::is(a, "byscore") {
            rangetype = RangeType::Score;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    if direction == Direction::Auto {
        direction = Direction::Forward;
    }
    if rangetype == RangeType::Auto {
        rangetype = RangeType::Rank;
    }
    if limit != -1 && rangetype == RangeType::Rank {
        return Err(err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if withscores && rangetype == RangeType::Lex {
        return Err(err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let reverse = direction == Direction::Reverse;
    if reverse && rangetype != RangeType::Rank {
        // The range is given as max, min.
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let range = match rangetype {
        RangeType::Score => Range::Score(parse_score_range(args[minidx], args[maxidx])?),
        RangeType::Lex => Range::Lex(parse_lex_range(args[minidx], args[maxidx])?),
        _ => Range::Rank(args::int(args[minidx])?, args::int(args[maxidx])?),
    };
    let resp3 = ctx.resp3();
    let limits = limits(ctx);
    let Some(z) = zset_read(ctx, key)? else {
        return match dst {
            Some(dst) => Ok(finish_store(ctx, dst, ZSet::default())),
            None => Ok(Reply::Array(Vec::new())),
        };
    };
    let mut sink = match dst {
        Some(_) => {
            let known_len = match range {
                Range::Rank(start, end) => Some(rank_span(z.len(), start, end).map_or(0, |(_, n)| n)),
                _ => None,
            };
            Sink::Store(ZSet::new_for_len(known_len, limits), limits)
        }
        None => Sink::Client(PairsReply::new(withscores, resp3)),
    };
    match &range {
        Range::Rank(start, end) => {
            if let Some((start, count)) = rank_span(z.len(), *start, *end) {
                let mut left = count;
                z.walk(Start::Rank(start), reverse, |m, s| {
                    sink.emit(m, s);
                    left -= 1;
                    left > 0
                });
            }
        }
        Range::Score(r) => {
            if !(offset > 0 && offset as u64 >= z.len() as u64) {
                walk_limited(z, Start::Score(r), reverse, offset, limit, &mut sink, |_, s| {
                    if reverse {
                        r.gte_min(s)
                    } else {
                        r.lte_max(s)
                    }
                });
            }
        }
        Range::Lex(r) => {
            walk_limited(z, Start::Lex(r), reverse, offset, limit, &mut sink, |m, _| {
                if reverse {
                    r.gte_min(m)
                } else {
                    r.lte_max(m)
                }
            });
        }
    }
    Ok(match (sink, dst) {
        (Sink::Store(z, _), Some(dst)) => finish_store(ctx, dst, z),
        (Sink::Client(r), _) => r.into_reply(),
        (Sink::Store(..), None) => Reply::Array(Vec::new()),
    })
}

/// Redis's rank sanitizing: (first rank, count) of `start..=end` over `len` elements,
/// negative indexes counting from the end; None when the range is empty.
pub fn rank_span(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// The walk of a BYSCORE / BYLEX range: skip `offset` elements from the first in range,
/// then emit while `in_range` holds, at most `limit` (negative: no limit). A negative offset
/// skips everything, as Redis's `while (offset--)` does.
fn walk_limited(
    z: &ZSet,
    start: Start<'_>,
    reverse: bool,
    offset: i64,
    limit: i64,
    sink: &mut Sink,
    mut in_range: impl FnMut(&[u8], f64) -> bool,
) {
    if offset < 0 || limit == 0 {
        return;
    }
    let mut skip = offset;
    let mut left = limit;
    z.walk(start, reverse, |m, s| {
        if skip > 0 {
            skip -= 1;
            return true;
        }
        if !in_range(m, s) {
            return false;
        }
        sink.emit(m, s);
        left -= 1;
        left != 0
    });
}

/// ZRANGESTORE's end: stores a non-empty result, or deletes the destination.
fn finish_store(ctx: &mut Ctx, dst: &[u8], z: ZSet) -> Reply {
    let n = z.len();
    if n > 0 {
        store(ctx, dst, z);
        ctx.notify(notify::ZSET, "zrangestore", dst);
        ctx.dirty(1);
    } else if ctx.delete_key(dst) {
        ctx.notify(notify::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    Reply::Int(n as i64)
}

fn zrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Auto, Direction::Auto)
}

fn zrangestore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args[1]), RangeType::Auto, Direction::Auto)
}

fn zrevrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Rank, Direction::Reverse)
}

fn zrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Direction::Forward)
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Direction::Reverse)
}

fn zrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Direction::Forward)
}

fn zrevrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Direction::Reverse)
}

fn zcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let range = parse_score_range(args[2], args[3])?;
    Ok(Reply::Int(zset_read(ctx, args[1])?.map_or(0, |z| z.count_in_score_range(&range)) as i64))
}

fn zlexcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let range = parse_lex_range(args[2], args[3])?;
    Ok(Reply::Int(zset_read(ctx, args[1])?.map_or(0, |z| z.count_in_lex_range(&range)) as i64))
}

/// Redis's zremrangeGenericCommand.
fn zremrange_generic(ctx: &mut Ctx, args: &[&[u8]], range: Range, event: &'static str) -> CmdResult {
    let key = args[1];
    let Some(z) = zset_mut(ctx, key, Lookup::WRITE)? else { return Ok(Reply::Int(0)) };
    let deleted = match range {
        Range::Rank(start, end) => match rank_span(z.len(), start, end) {
            Some((start, count)) => z.remove_rank_range(start, start + count - 1),
            None => return Ok(Reply::Int(0)),
        },
        Range::Score(r) => z.remove_score_range(&r),
        Range::Lex(r) => z.remove_lex_range(&r),
    };
    let emptied = z.is_empty();
    if emptied {
        ctx.delete_key(key);
    }
    if deleted > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, event, key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.dirty(deleted as u64);
    Ok(Reply::Int(deleted as i64))
}

fn zremrangebyrank(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let range = Range::Rank(args::int(args[2])?, args::int(args[3])?);
    zremrange_generic(ctx, args, range, "zremrangebyrank")
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let range = Range::Score(parse_score_range(args[2], args[3])?);
    zremrange_generic(ctx, args, range, "zremrangebyscore")
}

fn zremrangebylex(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let range = Range::Lex(parse_lex_range(args[2], args[3])?);
    zremrange_generic(ctx, args, range, "zremrangebylex")
}

#[cfg(test)]
mod tests {
    use super::rank_span;

    #[test]
    fn rank_spans_sanitize_like_redis() {
        assert_eq!(rank_span(4, 0, -1), Some((0, 4)));
        assert_eq!(rank_span(4, -5, 1), Some((0, 2)));
        assert_eq!(rank_span(4, 5, -1), None);
        assert_eq!(rank_span(4, 0, -5), None);
        assert_eq!(rank_span(4, 1, 10), Some((1, 3)));
        assert_eq!(rank_span(0, 0, -1), None);
        assert_eq!(rank_span(4, i64::MIN, i64::MAX), Some((0, 4)));
    }
}
