//! Stream commands that add, read ranges, delete and trim (Redis's t_stream.c): XADD, XLEN,
//! XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, and the helpers the other stream families share
//! (ID parsing with Redis's errors, entry replies, typed lookups).
//!
//! XREAD/XREADGROUP are in [`super::stream_read`], consumer groups in
//! [`super::stream_group`], XINFO in [`super::stream_info`].
//!
//! Propagation follows Redis: XADD propagates the ID it generated and, after an
//! approximate trim, the exact length (or first ID) it trimmed to, so replicas and the AOF
//! end up with the same entries.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, FAST, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Value};
use crate::reply::Reply;
use crate::types::stream::{AppendError, Entry, Limits, ParseOpts, Parsed, Stream, StreamId, Trim, TrimStrategy};
use crate::types::Object;

const STREAM: u64 = acl::STREAM;
const ONE_KEY_RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, key::RW | key::UPDATE)];
const ONE_KEY_RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, key::RO | key::ACCESS)];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "xadd",
        arity: -5,
        flags: WRITE | DENYOOM | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)
            .with_notes("UPDATE instead of INSERT because of the optional trimming feature")],
        handler: Some(xadd),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Appends a new entry to a stream",
        complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
        args: "key:key [NOMKSTREAM]{6.2.0} trim=[strategy=(MAXLEN|MINID{6.2.0}) operator=[equal=\"=\"|approximately=\"~\"] threshold [LIMIT count:integer]{6.2.0}] id_or_auto=(auto_id=\"*\"|id:string) field_value=(field value)...",
        tips: &["nondeterministic_output"],
        history: &[
            ("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."),
            ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
        ],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xlen",
        arity: 2,
        flags: READONLY | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RO)],
        handler: Some(xlen),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return the number of entries in a stream",
        complexity: "O(1)",
        args: "key:key",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xrange",
        arity: -4,
        flags: READONLY,
        acl: STREAM,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(xrange),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval",
        complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        args: "key:key start end [COUNT count:integer]",
        history: &[("6.2.0", "Added exclusive ranges.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xrevrange",
        arity: -4,
        flags: READONLY,
        acl: STREAM,
        key_specs: ONE_KEY_RO_ACCESS,
        handler: Some(xrevrange),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
        args: "key:key end start [COUNT count:integer]",
        history: &[("6.2.0", "Added exclusive ranges.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xdel",
        arity: -3,
        flags: WRITE | FAST,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(xdel),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
        complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
        args: "key:key id:string...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xtrim",
        arity: -4,
        flags: WRITE,
        acl: STREAM,
        key_specs: &[KeySpec::one(1, key::RW | key::DELETE)],
        handler: Some(xtrim),
        group: Group::Stream,
        since: "5.0.0",
        summary: "Trims the stream to (approximately if '~' is passed) a certain size",
        complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
        args: "key:key trim=(strategy=(MAXLEN|MINID{6.2.0}) operator=[equal=\"=\"|approximately=\"~\"] threshold [LIMIT count:integer]{6.2.0})",
        tips: &["nondeterministic_output"],
        history: &[("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "xsetid",
        arity: -3,
        flags: WRITE | DENYOOM | FAST,
        acl: STREAM,
        key_specs: ONE_KEY_RW_UPDATE,
        handler: Some(xsetid),
        group: Group::Stream,
        since: "5.0.0",
        summary: "An internal command for replicating stream values",
        complexity: "O(1)",
        args: "key:key last-id [ENTRIESADDED entries_added:integer]{7.0.0} [MAXDELETEDID max_deleted_entry_id]{7.0.0}",
        history: &[("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments.")],
        ..CommandSpec::DEFAULT
    },
];

// ----- shared helpers -----

pub(super) const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// An ID argument with Redis's parse options; its error otherwise.
pub(super) fn parse_id(arg: &[u8], opts: ParseOpts) -> CmdResult<Parsed> {
    crate::types::stream::id::parse(arg, opts).ok_or_else(|| err(INVALID_ID))
}

/// Redis's streamParseStrictIDOrReply with a zero missing sequence: `-` and `+` rejected.
pub(super) fn strict_id(arg: &[u8]) -> CmdResult<StreamId> {
    Ok(parse_id(arg, ParseOpts { missing_seq: 0, strict: true, seq_auto: false })?.id)
}

/// Redis's streamParseIDOrReply: `-` and `+` allowed.
pub(super) fn loose_id(arg: &[u8], missing_seq: u64) -> CmdResult<StreamId> {
    Ok(parse_id(arg, ParseOpts { missing_seq, strict: false, seq_auto: false })?.id)
}

/// Redis's streamParseIntervalIDOrReply: `(id` is exclusive (and strict).
pub(super) fn interval_id(arg: &[u8], missing_seq: u64) -> CmdResult<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id(&arg[1..], ParseOpts { missing_seq, strict: true, seq_auto: false })?.id;
        return Ok((id, true));
    }
    Ok((loose_id(arg, missing_seq)?, false))
}

/// A range start: exclusive starts move to the next ID.
pub(super) fn range_start(arg: &[u8]) -> CmdResult<StreamId> {
    match interval_id(arg, 0)? {
        (id, true) => id.incr().ok_or_else(|| err("ERR invalid start ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// A range end: exclusive ends move to the previous ID.
pub(super) fn range_end(arg: &[u8]) -> CmdResult<StreamId> {
    match interval_id(arg, u64::MAX)? {
        (id, true) => id.decr().ok_or_else(|| err("ERR invalid end ID for the interval")),
        (id, false) => Ok(id),
    }
}

/// An ID as a bulk string, formatted on the stack (it fits the reply's inline buffer).
pub(super) fn id_reply(id: StreamId) -> Reply {
    let mut buf = [0u8; 41];
    let mut n = 0;
    for (i, part) in [id.ms, id.seq].into_iter().enumerate() {
        if i == 1 {
            buf[n] = b'-';
            n += 1;
        }
        let mut f = itoa::Buffer::new();
        let s = f.format(part).as_bytes();
        buf[n..n + s.len()].copy_from_slice(s);
        n += s.len();
    }
    Reply::bulk(&buf[..n])
}

/// `[id, [field, value, …]]`.
pub(super) fn entry_reply(e: &Entry<'_>) -> Reply {
    let mut fields = Vec::with_capacity(e.field_count() * 2);
    let mut buf = itoa::Buffer::new();
    for (f, v) in e.pairs() {
        fields.push(Reply::bulk(f.bytes(&mut buf)));
        fields.push(Reply::bulk(v.bytes(&mut buf)));
    }
    Reply::Array(vec![id_reply(e.id), Reply::Array(fields)])
}

/// The stream at `key` for a read (counts a hit or a miss).
pub(super) fn stream_read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a Stream>> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(entry) => match entry.as_object() {
            Some(Object::Stream(s)) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// The stream at `key` for a write.
pub(super) fn stream_write<'a>(ctx: &'a mut Ctx, key: &[u8]) -> CmdResult<Option<&'a mut Stream>> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(entry) => match entry.object_mut() {
            Some(Object::Stream(s)) => Ok(Some(s)),
            _ => Err(Error::WrongType),
        },
    }
}

/// Creates an empty stream at `key` (absent) and returns it.
pub(super) fn create_stream<'a>(ctx: &'a mut Ctx, key: &[u8]) -> &'a mut Stream {
    let entry = ctx.add_key(key, Value::Object(Object::Stream(Box::default())));
    match entry.object_mut() {
        Some(Object::Stream(s)) => s,
        _ => unreachable!("a stream was just stored"),
    }
}

/// The configured node limits.
pub(super) fn limits(ctx: &Ctx) -> Limits {
    ctx.srv.encoding.stream
}

// ----- XADD / XTRIM arguments -----

/// What XADD and XTRIM share (Redis's streamAddTrimArgs).
struct AddTrimArgs {
    /// The ID given to XADD (None for `*`).
    id: Option<Parsed>,
    no_mkstream: bool,
    trim: Option<Trim>,
    /// Index of the MAXLEN/MINID threshold (for rewriting after an approximate trim).
    threshold_at: usize,
    /// Index of the ID (XADD).
    id_at: usize,
}

/// Redis's streamParseAddOrTrimArgsOrReply.
fn parse_add_trim(ctx: &Ctx, args: &[&[u8]], xadd: bool) -> CmdResult<AddTrimArgs> {
    let mut out = AddTrimArgs { id: None, no_mkstream: false, trim: None, threshold_at: 0, id_at: args.len() };
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args[i];
        if xadd && opt == b"*" {
            break;
        } else if (args::is(opt, "maxlen") || args::is(opt, "minid")) && more > 0 {
            if strategy.is_some() {
                return Err(err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            let maxlen = args::is(opt, "maxlen");
            approx = false;
            let next = args[i + 1];
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let threshold = args[i + 1];
            strategy = Some(if maxlen {
                let n = args::int(threshold)?;
                if n < 0 {
                    return Err(err("ERR The MAXLEN argument must be >= 0."));
                }
                TrimStrategy::MaxLen(n as u64)
            } else {
                TrimStrategy::MinId(strict_id(threshold)?)
            });
            i += 1;
            out.threshold_at = i;
        } else if args::is(opt, "limit") && more > 0 {
            limit = args::int(args[i + 1])?;
            if limit < 0 {
                return Err(err("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && args::is(opt, "nomkstream") {
            out.no_mkstream = true;
        } else if xadd {
            out.id = Some(parse_id(opt, ParseOpts { missing_seq: 0, strict: true, seq_auto: true })?);
            break;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    out.id_at = i;
    if limit != 0 && strategy.is_none() {
        return Err(err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && strategy.is_none() {
        return Err(err("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if ctx.srv.loading {
        // Redis's mustObeyClient: a command from the AOF had its threshold rewritten to
        // where the trim really stopped, so its LIMIT no longer applies.
        limit = 0;
    } else if limit_given {
        if !approx {
            return Err(err("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if approx {
        // At most 100 nodes' worth of work per call unless told otherwise.
        limit = ctx.srv.encoding.stream.max_entries.saturating_mul(100);
        if limit <= 0 {
            limit = 10000;
        }
        limit = limit.min(1_000_000);
    } else {
        limit = 0;
    }
    out.trim = strategy.map(|strategy| Trim { strategy, approx, limit });
    Ok(out)
}

/// After an approximate trim, the propagated command says exactly where the stream was
/// trimmed to (`=` and the resulting length or first ID), as Redis rewrites it.
fn rewrite_trim(argv: &mut [Vec<u8>], s: &Stream, parsed: &AddTrimArgs) {
    let Some(t) = parsed.trim.filter(|t| t.approx) else { return };
    argv[parsed.threshold_at - 1] = b"=".to_vec();
    argv[parsed.threshold_at] = match t.strategy {
        TrimStrategy::MaxLen(_) => s.len().to_string().into_bytes(),
        TrimStrategy::MinId(_) => s.edge_id(true, false).to_bytes(),
    };
}

fn xadd(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let parsed = parse_add_trim(ctx, args, true)?;
    let fields_at = parsed.id_at + 1;
    if args.len() < fields_at + 2 || (args.len() - fields_at) % 2 == 1 {
        return Err(Error::WrongArity(ctx.cmd.fullname.into()));
    }
    if let Some(p) = parsed.id {
        if p.seq_given && p.id.is_zero() {
            return Err(err("ERR The ID specified in XADD must be greater than 0-0"));
        }
    }
    let key = args[1];
    let lim = limits(ctx);
    let now = ctx.now_ms().max(0) as u64;
    let propagating = ctx.srv.fx.propagating;
    let s = match stream_write(ctx, key)? {
        Some(s) => s,
        None if parsed.no_mkstream => return Ok(Reply::Nil),
        None => create_stream(ctx, key),
    };
    if s.last_id == StreamId::MAX {
        return Err(err("ERR The stream has exhausted the last possible ID, unable to add more items"));
    }
    let id = match s.append(&args[fields_at..], parsed.id, now, lim) {
        Ok(id) => id,
        Err(AppendError::NotGreater) => {
            return Err(err("ERR The ID specified in XADD is equal or smaller than the target stream top item"))
        }
        Err(AppendError::TooLarge | AppendError::SeqExhausted) => {
            return Err(err("ERR Elements are too large to be stored"))
        }
    };
    let trimmed = parsed.trim.map(|t| s.trim(&t)).unwrap_or(0);
    let propagated = propagating.then(|| {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        rewrite_trim(&mut argv, s, &parsed);
        if !parsed.id.is_some_and(|p| p.seq_given) {
            argv[parsed.id_at] = id.to_bytes();
        }
        argv
    });
    ctx.signal_modified(key);
    ctx.notify(notify::STREAM, "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    if let Some(argv) = propagated {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        ctx.propagate_as(&refs);
    }
    let (db, fx) = ctx.db_fx();
    db.signal_ready(fx, key);
    Ok(id_reply(id))
}

fn xtrim(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let parsed = parse_add_trim(ctx, args, false)?;
    let key = args[1];
    let propagating = ctx.srv.fx.propagating;
    let Some(s) = stream_write(ctx, key)? else { return Ok(Reply::Int(0)) };
    let Some(t) = parsed.trim else { return Ok(Reply::Int(0)) };
    let deleted = s.trim(&t);
    if deleted > 0 {
        let propagated = (propagating && t.approx).then(|| {
            let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
            rewrite_trim(&mut argv, s, &parsed);
            argv
        });
        ctx.notify(notify::STREAM, "xtrim", key);
        if let Some(argv) = propagated {
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            ctx.propagate_as(&refs);
        }
        ctx.signal_modified(key);
        ctx.dirty(deleted as u64);
    }
    Ok(Reply::Int(deleted))
}

fn xlen(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(stream_read(ctx, args[1])?.map_or(0, |s| s.len() as i64)))
}

/// Redis's xrangeGenericCommand.
fn xrange_generic(ctx: &mut Ctx, args: &[&[u8]], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (args[3], args[2]) } else { (args[2], args[3]) };
    let start = range_start(start_arg)?;
    let end = range_end(end_arg)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if args::is(args[j], "count") && j + 1 < args.len() {
            count = args::int(args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    let Some(s) = stream_read(ctx, args[1])? else { return Ok(Reply::Array(Vec::new())) };
    if count == 0 {
        return Ok(Reply::NilArray);
    }
    let limit = if count < 0 { usize::MAX } else { count as usize };
    Ok(Reply::Array(s.range(start, end, rev).take(limit).map(|e| entry_reply(&e)).collect()))
}

fn xrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    xrange_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    xrange_generic(ctx, args, true)
}

fn xdel(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(s) = stream_write(ctx, key)? else { return Ok(Reply::Int(0)) };
    // All IDs are checked first, so an invalid one deletes nothing.
    let ids = args[2..].iter().map(|a| strict_id(a)).collect::<CmdResult<Vec<StreamId>>>()?;
    let mut deleted = 0;
    let mut first_deleted = false;
    for &id in &ids {
        if s.delete(id) {
            if id == s.first_id {
                first_deleted = true;
            }
            if id > s.max_deleted_entry_id {
                s.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        s.note_deleted(s.max_deleted_entry_id, first_deleted);
        ctx.signal_modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    Ok(Reply::Int(deleted as i64))
}

fn xsetid(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let id = strict_id(args[2])?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args::is(args[i], "entriesadded") && more > 0 {
            entries_added = args::int(args[i + 1])?;
            if entries_added < 0 {
                return Err(err("ERR entries_added must be positive"));
            }
        } else if args::is(args[i], "maxdeletedid") && more > 0 {
            max_deleted = strict_id(args[i + 1])?;
            if id < max_deleted {
                return Err(err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
        } else {
            return Err(Error::Syntax);
        }
        i += 2;
    }
    let key = args[1];
    let Some(s) = stream_write(ctx, key)? else { return Err(Error::NoSuchKey) };
    if !s.is_empty() {
        if s.last_valid_id().is_some_and(|top| id < top) {
            return Err(err("ERR The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added != -1 && s.len() > entries_added as u64 {
            return Err(err("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_deleted.is_zero() {
        s.max_deleted_entry_id = max_deleted;
    }
    ctx.dirty(1);
    ctx.notify(notify::STREAM, "xsetid", key);
    Ok(Reply::Ok)
}
