//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A HyperLogLog is a string value in Redis's byte format ([`crate::types::hll`]), modified in
//! place as a `raw` string. PFCOUNT of one key is a read-only command that still writes the
//! computed cardinality back into the header's cache (and counts a change so it propagates),
//! exactly as Redis does.

use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, ADMIN, DENYOOM, FAST, MAY_REPLICATE, READONLY, WRITE};
use crate::cmd::string::as_string;
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::keyspace::{Entry, StrRef, Value};
use crate::reply::Reply;
use crate::types::hll;

const HLL: u64 = acl::HYPERLOGLOG;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "pfadd",
        arity: -2,
        flags: WRITE | DENYOOM | FAST,
        acl: HLL,
        key_specs: &[KeySpec::one(1, key::RW | key::INSERT)],
        handler: Some(pfadd),
        group: Group::Hyperloglog,
        since: "2.8.9",
        summary: "Adds the specified elements to the specified HyperLogLog.",
        complexity: "O(1) to add every element.",
        args: "key:key [element]...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfcount",
        arity: -2,
        flags: READONLY | MAY_REPLICATE,
        acl: HLL,
        key_specs: &[KeySpec::range(1, -1, 1, key::RW | key::ACCESS).with_notes(
            "RW because it may change the internal representation of the key, and propagate to replicas",
        )],
        handler: Some(pfcount),
        group: Group::Hyperloglog,
        since: "2.8.9",
        summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
        args: "key:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfmerge",
        arity: -2,
        flags: WRITE | DENYOOM,
        acl: HLL,
        key_specs: &[
            KeySpec::one(1, key::RW | key::ACCESS | key::INSERT),
            KeySpec::range(2, -1, 1, key::RO | key::ACCESS),
        ],
        handler: Some(pfmerge),
        group: Group::Hyperloglog,
        since: "2.8.9",
        summary: "Merge N different HyperLogLogs into a single one.",
        complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
        args: "destkey:key sourcekey:key...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfdebug",
        arity: 3,
        flags: WRITE | DENYOOM | ADMIN,
        acl: HLL,
        key_specs: &[KeySpec::one(2, key::RW | key::ACCESS)],
        handler: Some(pfdebug),
        group: Group::Hyperloglog,
        since: "2.8.9",
        summary: "Internal commands for debugging HyperLogLog values",
        complexity: "N/A",
        args: "subcommand key:key",
        syscmd: true,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "pfselftest",
        arity: 1,
        flags: ADMIN,
        acl: HLL,
        handler: Some(pfselftest),
        group: Group::Hyperloglog,
        since: "2.8.9",
        summary: "An internal command for testing HyperLogLog values",
        complexity: "N/A",
        syscmd: true,
        ..CommandSpec::DEFAULT
    },
];

fn corrupted() -> Error {
    err("INVALIDOBJ Corrupted HLL object detected")
}

/// Redis's isHLLObjectOrReply: a string holding a well-formed HLL header, or an error.
fn check_hll(e: &Entry) -> CmdResult<()> {
    match as_string(e)? {
        StrRef::Bytes(b) if hll::is_valid(b) => Ok(()),
        _ => Err(err("WRONGTYPE Key is not a valid HyperLogLog string value.")),
    }
}

/// The HLL bytes of a key already checked with [`check_hll`].
fn hll_bytes(e: &Entry) -> &[u8] {
    match e.as_str() {
        Some(StrRef::Bytes(b)) => b,
        _ => &[],
    }
}

fn sparse_max_bytes(ctx: &Ctx) -> usize {
    ctx.srv.config.int("hll-sparse-max-bytes").max(0) as usize
}

/// The raw, modifiable bytes of a checked HLL key (Redis's dbUnshareStringValue).
fn hll_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<&'a mut Vec<u8>> {
    ctx.lookup_write(key).and_then(|e| e.raw_string_mut()).ok_or(Error::WrongType)
}

fn pfadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let max_bytes = sparse_max_bytes(ctx);
    let mut updated = 0u64;
    match ctx.lookup_write(key) {
        Some(e) => check_hll(e)?,
        None => {
            ctx.add_key(key, Value::Raw(hll::create()));
            updated += 1;
        }
    }
    let s = hll_mut(ctx, key)?;
    for ele in &args[2..] {
        match hll::add(s, ele, max_bytes) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(()) => return Err(corrupted()),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(s);
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    Ok(Reply::Int(i64::from(updated > 0)))
}

fn pfcount(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 2 {
        // The cardinality of the union, from a byte per register.
        let mut max = Box::new([0u8; hll::REGISTERS]);
        for key in &args[1..] {
            let Some(e) = ctx.lookup_read(key) else { continue };
            check_hll(e)?;
            hll::merge_into(&mut max, hll_bytes(e)).map_err(|_| corrupted())?;
        }
        return Ok(Reply::Int(hll::count_raw(&max) as i64));
    }
    let key = args[1];
    let Some(e) = ctx.lookup_read(key) else { return Ok(Reply::Int(0)) };
    check_hll(e)?;
    let Some(s) = e.raw_string_mut() else { return Err(Error::WrongType) };
    if let Some(card) = hll::cached(s) {
        return Ok(Reply::Int(card as i64));
    }
    let card = hll::count(s).ok_or_else(corrupted)?;
    hll::set_cached(s, card);
    // A read-only command, but the value changed: replicas must get the new cache too.
    ctx.signal_modified(key);
    ctx.dirty(1);
    Ok(Reply::Int(card as i64))
}

fn pfmerge(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut max = Box::new([0u8; hll::REGISTERS]);
    let mut use_dense = false;
    // The destination is merged too: PFMERGE adds the sources to what it holds.
    for key in &args[1..] {
        let Some(e) = ctx.lookup_read(key) else { continue };
        check_hll(e)?;
        let s = hll_bytes(e);
        use_dense |= hll::encoding(s) == hll::DENSE;
        hll::merge_into(&mut max, s).map_err(|_| corrupted())?;
    }
    let dest = args[1];
    if ctx.lookup_write(dest).is_none() {
        ctx.add_key(dest, Value::Raw(hll::create()));
    }
    let max_bytes = sparse_max_bytes(ctx);
    let s = hll_mut(ctx, dest)?;
    if use_dense {
        hll::sparse_to_dense(s).map_err(|_| corrupted())?;
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if hll::encoding(s) == hll::DENSE {
            hll::dense_raise(&mut s[hll::HDR_SIZE..], j, m);
        } else {
            // The destination was validated by the merge above, as in Redis.
            let _ = hll::sparse_set(s, j, m, max_bytes);
        }
    }
    hll::invalidate_cache(s);
    ctx.signal_modified(dest);
    ctx.notify(notify::STRING, "pfadd", dest);
    ctx.dirty(1);
    Ok(Reply::Ok)
}

fn pfdebug(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (sub, key) = (args[1], args[2]);
    match ctx.lookup_write(key) {
        None => return Err(err("ERR The specified key does not exist")),
        Some(e) => check_hll(e)?,
    }
    let s = hll_mut(ctx, key)?;
    if sub.eq_ignore_ascii_case(b"getreg") {
        let converted = hll::encoding(s) == hll::SPARSE;
        if converted {
            hll::sparse_to_dense(s).map_err(|_| corrupted())?;
        }
        let regs = &s[hll::HDR_SIZE..];
        let out = (0..hll::REGISTERS).map(|i| Reply::Int(hll::dense_get(regs, i) as i64)).collect();
        if converted {
            // Redis forces propagation of the encoding change.
            ctx.dirty(1);
        }
        Ok(Reply::Array(out))
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if hll::encoding(s) != hll::SPARSE {
            return Err(err("ERR HLL encoding is not sparse"));
        }
        Ok(Reply::bulk_vec(hll::decode(s).into_bytes()))
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        Ok(Reply::status(if hll::encoding(s) == hll::DENSE { "dense" } else { "sparse" }))
    } else if sub.eq_ignore_ascii_case(b"todense") {
        if hll::encoding(s) != hll::SPARSE {
            return Ok(Reply::Int(0));
        }
        hll::sparse_to_dense(s).map_err(|_| corrupted())?;
        ctx.dirty(1);
        Ok(Reply::Int(1))
    } else {
        Err(err(format!("ERR Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(sub))))
    }
}

fn pfselftest(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let mut rng = crate::util::rand::Rng::seeded();
    match hll::self_test(&mut rng, sparse_max_bytes(ctx)) {
        Ok(()) => Ok(Reply::Ok),
        Err(msg) => Err(err(format!("ERR {msg}"))),
    }
}
