//! Sorted set algebra (Redis's zunionInterDiffGenericCommand): ZUNION, ZINTER, ZDIFF, their
//! STORE forms and ZINTERCARD, with WEIGHTS and AGGREGATE SUM|MIN|MAX.
//!
//! Inputs may be sorted sets or plain sets (whose members count with score 1). Results are
//! computed whole, sorted like a sorted set, then replied or stored; a stored result takes
//! the listpack encoding when it fits the thresholds, as Redis's
//! zsetConvertToListpackIfNeeded decides.

use std::collections::HashMap;

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, READONLY, WRITE};
use crate::cmd::zset::{limits, store, PairsReply};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::reply::Reply;
use crate::types::set::Set;
use crate::types::skiplist::cmp_elements;
use crate::types::zset::ZSet;
use crate::types::Object;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(1, key::RO | key::ACCESS)],
        handler: Some(zunion),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Add multiple sorted sets",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        args: "numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=(SUM|MIN|MAX)] [WITHSCORES]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(1, key::RO | key::ACCESS)],
        handler: Some(zinter),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Intersect multiple sorted sets",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        args: "numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=(SUM|MIN|MAX)] [WITHSCORES]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(1, key::RO | key::ACCESS)],
        handler: Some(zdiff),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Subtract multiple sorted sets",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        args: "numkeys:integer key:key... [WITHSCORES]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::keynum(2, key::RO | key::ACCESS)],
        handler: Some(zunionstore),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        args: "destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=(SUM|MIN|MAX)]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::keynum(2, key::RO | key::ACCESS)],
        handler: Some(zinterstore),
        group: Group::SortedSet,
        since: "2.0.0",
        summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        args: "destination:key numkeys:integer key:key... [WEIGHTS weight:integer...] [AGGREGATE aggregate=(SUM|MIN|MAX)]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: WRITE | DENYOOM,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::keynum(2, key::RO | key::ACCESS)],
        handler: Some(zdiffstore),
        group: Group::SortedSet,
        since: "6.2.0",
        summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        args: "destination:key numkeys:integer key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: READONLY,
        acl: acl::SORTEDSET,
        key_specs: &[KeySpec::keynum(1, key::RO | key::ACCESS)],
        handler: Some(zintercard),
        group: Group::SortedSet,
        since: "7.0.0",
        summary: "Intersect multiple sorted sets and return the cardinality of the result",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        args: "numkeys:integer key:key... [LIMIT limit:integer]",
        ..CommandSpec::DEFAULT
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's zunionInterAggregate (a SUM of +inf and -inf is 0, not NaN).
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

// Set inputs (members with score 1), read through the set type's accessors.
fn set_len(set: &Set) -> usize {
    set.len()
}

fn set_for_each(set: &Set, mut f: impl FnMut(&[u8])) {
    for member in set.members() {
        member.with_bytes(&mut f);
    }
}

fn set_contains(set: &Set, member: &[u8]) -> bool {
    set.contains(member)
}

/// One input of the operation.
#[derive(Clone, Copy)]
enum Source<'a> {
    Missing,
    ZSet(&'a ZSet),
    Set(&'a Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => set_len(s),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::Missing => {}
            Source::ZSet(z) => z.for_each(f),
            Source::Set(s) => set_for_each(s, |m| f(m, 1.0)),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => set_contains(s, member).then_some(1.0),
        }
    }
}

/// The parsed options.
struct Options {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: u64,
}

/// Redis's zunionInterDiffGenericCommand. `numkeys_idx` is where the key count is; `dst`
/// the destination of the STORE forms; `card_only` makes ZINTERCARD.
fn generic(
    ctx: &mut Ctx,
    args: &[&[u8]],
    numkeys_idx: usize,
    dst: Option<&[u8]>,
    op: Op,
    card_only: bool,
) -> CmdResult {
    let setnum = args::int(args[numkeys_idx])?;
    if setnum < 1 {
        return Err(err(format!("ERR at least 1 input key is needed for '{}' command", ctx.cmd.fullname)));
    }
    if setnum > (args.len() - numkeys_idx - 1) as i64 {
        return Err(Error::Syntax);
    }
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum as usize];
    // Look every input up (stats, expiry, type checks) before reading them together.
    let mut present = Vec::with_capacity(keys.len());
    for &k in keys {
        present.push(match ctx.lookup_read(k) {
            None => false,
            Some(e) => match e.as_object() {
                Some(Object::ZSet(_)) | Some(Object::Set(_)) => true,
                _ => return Err(Error::WrongType),
            },
        });
    }
    let opts = parse_options(&args[numkeys_idx + 1 + keys.len()..], keys.len(), op, dst.is_some(), card_only)?;
    let limits = limits(ctx);
    let resp3 = ctx.resp3();
    let db = &*ctx.db();
    let mut sources: Vec<(Source, f64)> = keys
        .iter()
        .zip(&present)
        .zip(&opts.weights)
        .map(|((&k, &here), &w)| {
            let src = match db.peek(k).filter(|_| here).and_then(|e| e.as_object()) {
                Some(Object::ZSet(z)) => Source::ZSet(z),
                Some(Object::Set(s)) => Source::Set(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    if op != Op::Diff {
        // Smallest first (a stable sort, as glibc's qsort is for these sizes).
        sources.sort_by_key(|(s, _)| s.len());
    }
    if card_only {
        return Ok(Reply::Int(inter_card(&sources, opts.limit) as i64));
    }
    let mut result = match op {
        Op::Inter => inter(&sources, opts.aggregate),
        Op::Union => union(&sources, opts.aggregate),
        Op::Diff => diff(&sources),
    };
    result.sort_by(|a, b| cmp_elements(a.1, &a.0, b.1, &b.0));
    let Some(dst) = dst else {
        let mut out = PairsReply::with_capacity(opts.withscores, resp3, result.len());
        for (m, s) in &result {
            out.push(m, *s);
        }
        return Ok(out.into_reply());
    };
    let n = result.len();
    if n > 0 {
        store(ctx, dst, ZSet::from_sorted(&result, limits));
        let event = match op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        ctx.notify(notify::ZSET, event, dst);
        ctx.dirty(1);
    } else if ctx.delete_key(dst) {
        ctx.notify(notify::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    Ok(Reply::Int(n as i64))
}

fn parse_options(rest: &[&[u8]], setnum: usize, op: Op, store: bool, card_only: bool) -> CmdResult<Options> {
    let mut o = Options { weights: vec![1.0; setnum], aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = 0;
    while j < rest.len() {
        let remaining = rest.len() - j;
        let a = rest[j];
        if op != Op::Diff && !card_only && remaining > setnum && args::is(a, "weights") {
            for (i, w) in rest[j + 1..j + 1 + setnum].iter().enumerate() {
                o.weights[i] = crate::util::num::parse_f64(w).ok_or_else(|| err("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && !card_only && remaining >= 2 && args::is(a, "aggregate") {
            let v = rest[j + 1];
            o.aggregate = if args::is(v, "sum") {
                Aggregate::Sum
            } else if args::is(v, "min") {
                Aggregate::Min
            } else if args::is(v, "max") {
                Aggregate::Max
            } else {
                return Err(Error::Syntax);
            };
            j += 2;
        } else if !store && !card_only && args::is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && args::is(a, "limit") {
            let limit =
                args::int(rest[j + 1]).ok().filter(|&l| l >= 0).ok_or_else(|| err("ERR LIMIT can't be negative"))?;
            o.limit = limit as u64;
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(o)
}

/// The weighted score of an element of a source (NaN from 0 * inf becomes 0).
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Calls `f` for each member of the smallest input present in all inputs, with its
/// aggregated score; stops when `f` returns false.
fn for_each_common(sources: &[(Source, f64)], aggregate: Aggregate, mut f: impl FnMut(&[u8], f64) -> bool) {
    let Some(((first, w0), rest)) = sources.split_first() else { return };
    if first.len() == 0 {
        return;
    }
    let mut go_on = true;
    first.for_each(|m, s| {
        if !go_on {
            return;
        }
        let mut score = weighted(s, *w0);
        for (src, w) in rest {
            match src.score(m) {
                Some(v) => aggregate.apply(&mut score, v * w),
                None => return,
            }
        }
        go_on = f(m, score);
    });
}

fn inter(sources: &[(Source, f64)], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    for_each_common(sources, aggregate, |m, s| {
        out.push((m.to_vec(), s));
        true
    });
    out
}

fn inter_card(sources: &[(Source, f64)], limit: u64) -> u64 {
    let mut n = 0;
    for_each_common(sources, Aggregate::Sum, |_, _| {
        n += 1;
        limit == 0 || n < limit
    });
    n
}

fn union(sources: &[(Source, f64)], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let largest = sources.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::with_capacity(largest);
    for (src, w) in sources {
        src.for_each(|m, s| {
            let score = weighted(s, *w);
            match acc.get_mut(m) {
                Some(target) => aggregate.apply(target, score),
                None => {
                    acc.insert(m.to_vec(), score);
                }
            }
        });
    }
    acc.into_iter().collect()
}

fn diff(sources: &[(Source, f64)]) -> Vec<(Vec<u8>, f64)> {
    let Some(((first, _), rest)) = sources.split_first() else { return Vec::new() };
    let mut out = Vec::new();
    first.for_each(|m, s| {
        if !rest.iter().any(|(src, _)| src.score(m).is_some()) {
            out.push((m.to_vec(), s));
        }
    });
    out
}

fn zunion(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 1, None, Op::Union, false)
}

fn zinter(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 1, None, Op::Inter, false)
}

fn zdiff(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 1, None, Op::Diff, false)
}

fn zunionstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 2, Some(args[1]), Op::Union, false)
}

fn zinterstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 2, Some(args[1]), Op::Inter, false)
}

fn zdiffstore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 2, Some(args[1]), Op::Diff, false)
}

fn zintercard(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    generic(ctx, args, 1, None, Op::Inter, true)
}
