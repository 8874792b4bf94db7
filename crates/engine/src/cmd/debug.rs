//! DEBUG: the introspection and fault-injection subcommands the Redis test suite and
//! operators use. Families with their own DEBUG needs (lists, HyperLogLog…) add theirs here.

use sha1::{Digest, Sha1};

use crate::cmd::args;
use crate::cmd::spec::{acl, CommandSpec, Group, ADMIN, LOADING, NOSCRIPT, PROTECTED, STALE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{Entry, StrRef, Value, ValueRef};
use crate::reply::Reply;
use crate::server::Server;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "debug",
    arity: -2,
    flags: ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    acl: acl::DANGEROUS,
    handler: Some(debug),
    group: Group::Server,
    summary: "A container for debugging commands",
    complexity: "Depends on subcommand.",
    syscmd: true,
    ..CommandSpec::DEFAULT
}];

const HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-LEN",
    "    Run a fuzz tester against the stringmatchlen() function.",
];

fn debug(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = String::from_utf8_lossy(args[1]).to_lowercase();
    let argc = args.len();
    match (sub.as_str(), argc) {
        ("help", 2) => Ok(args::help_reply(args[0], HELP)),
        ("log", 3) => {
            crate::log::warning(&format!("DEBUG LOG: {}", String::from_utf8_lossy(args[2])));
            Ok(Reply::Ok)
        }
        ("error", 3) => Err(err(String::from_utf8_lossy(args[2]).into_owned())),
        ("sleep", 3) => {
            let secs = crate::util::num::parse_f64(args[2]).unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Ok(Reply::Ok)
        }
        ("set-active-expire", 3) => {
            ctx.srv.active_expire_enabled = args::int(args[2])? != 0;
            Ok(Reply::Ok)
        }
        ("pause-cron", 3) => {
            ctx.srv.cron_paused = args::int(args[2])? != 0;
            Ok(Reply::Ok)
        }
        ("change-repl-id", 2) => {
            ctx.srv.process.replid = crate::server::random_hex(40);
            Ok(Reply::Ok)
        }
        ("protocol", 3) => protocol(ctx, args[2]),
        ("set-disable-deny-scripts", 3) => {
            ctx.srv.scripts.deny_disabled = args::int(args[2])? != 0;
            Ok(Reply::Ok)
        }
        ("object", 3) => object(ctx, args[2]),
        ("populate", 3..=5) => populate(ctx, args),
        ("digest", 2) => Ok(Reply::status_owned(hex(&dataset_digest(ctx.srv)))),
        ("digest-value", _) => {
            let mut out = Vec::new();
            for key in &args[2..] {
                let d = ctx.db().peek(key).map(value_digest).unwrap_or([0; 20]);
                out.push(Reply::status_owned(hex(&d)));
            }
            Ok(Reply::Array(out))
        }
        ("reload", _) => reload(ctx, &args[2..]),
        ("loadaof", 2) => loadaof(ctx),
        ("aof-flush-sleep", 3) => {
            ctx.srv.aof.flush_sleep_us = args::int(args[2])?.max(0) as u64;
            Ok(Reply::Ok)
        }
        ("set-skip-checksum-validation", 3) => {
            ctx.srv.skip_checksum_validation = args::int(args[2])? != 0;
            Ok(Reply::Ok)
        }
        ("quicklist-packed-threshold", _) => crate::cmd::debug_list::quicklist_packed_threshold(ctx, args),
        ("stringmatch-len", 2) => Ok(Reply::status("Apparently Redis did not crash: test passed")),
        _ => Err(args::subcommand_syntax_error(args[0], args[1])),
    }
}

fn protocol(ctx: &mut Ctx, name: &[u8]) -> CmdResult {
    let name = String::from_utf8_lossy(name).to_lowercase();
    Ok(match name.as_str() {
        "string" => Reply::bulk(b"Hello World"),
        "integer" => Reply::Int(12345),
        "double" => Reply::Double(3.141),
        "bignum" => Reply::BigNumber(b"1234567999999999999999999999999999999".to_vec()),
        "null" => Reply::Nil,
        "array" => Reply::Array((0..3).map(Reply::Int).collect()),
        "set" => Reply::Set((0..3).map(Reply::Int).collect()),
        "map" => Reply::Map((0..3).map(|j| (Reply::Int(j), Reply::Bool(j == 1))).collect()),
        "attrib" => Reply::Attribute(
            vec![(Reply::bulk(b"key-popularity"), Reply::Array(vec![Reply::bulk(b"key:123"), Reply::Int(90)]))],
            Box::new(Reply::bulk(b"Some real reply following the attribute")),
        ),
        "push" => {
            if !ctx.resp3() {
                return Err(err("ERR RESP2 is not supported by this command"));
            }
            Reply::Multi(vec![
                Reply::Push(vec![Reply::bulk(b"server-cpu-usage"), Reply::Int(42)]),
                Reply::bulk(b"Some real reply following the push reply"),
            ])
        }
        "true" => Reply::Bool(true),
        "false" => Reply::Bool(false),
        "verbatim" => Reply::Verbatim(b"This is a verbatim\nstring".to_vec()),
        _ => return Err(err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")),
    })
}

fn object(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let lfu = matches!(ctx.srv.fx.access, crate::keyspace::AccessPolicy::Lfu { .. });
    let compress = ctx.srv.config.bool("rdbcompression");
    let srv = &*ctx.srv;
    let Some(e) = srv.dbs[ctx.db].peek(key) else { return Err(Error::NoSuchKey) };
    let encoding = crate::cmd::keys::encoding_name(e);
    let mut w = crate::persist::rdb::write::RdbWriter::new(Vec::new(), compress);
    let serialized = match crate::persist::rdb::dataset::write_value(&mut w, e) {
        Ok(()) => w.into_inner().len().saturating_sub(1),
        Err(_) => 0,
    };
    let lru = e.lru();
    let idle = if lfu { 0 } else { srv.fx.idle_ms(lru) / 1000 };
    let address = e as *const Entry as usize;
    let extra = crate::cmd::debug_extra::object_details(e);
    Ok(Reply::status_owned(format!(
        "Value at:0x{address:x} refcount:1 encoding:{encoding} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}{extra}"
    )))
}

fn populate(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let count = args::int(args[2])?;
    if count < 0 {
        return Err(Error::NotPositive);
    }
    let prefix: &[u8] = args.get(3).copied().unwrap_or(b"key");
    let size = match args.get(4) {
        Some(a) => {
            let n = args::int(a)?;
            if n < 0 {
                return Err(Error::NotPositive);
            }
            Some(n as usize)
        }
        None => None,
    };
    ctx.db().reserve(count as usize);
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        let text = format!("value:{j}").into_bytes();
        let value = match size {
            None => text,
            Some(n) => {
                let mut v = vec![0u8; n];
                let m = n.min(text.len());
                v[..m].copy_from_slice(&text[..m]);
                v
            }
        };
        ctx.add_key(&key, Value::StrOwned(value));
        ctx.signal_modified(&key);
    }
    Ok(Reply::Ok)
}

fn reload(ctx: &mut Ctx, opts: &[&[u8]]) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        if args::is(o, "merge") {
            merge = true;
        } else if args::is(o, "noflush") {
            flush = false;
        } else if args::is(o, "nosave") {
            save = false;
        } else {
            return Err(err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
        }
    }
    if save {
        crate::persist::save(ctx.srv).map_err(|_| Error::Msg("ERR".into()))?;
    }
    if flush {
        empty_all(ctx);
    }
    crate::persist::reload(ctx.srv, merge).map_err(|e| {
        crate::log::warning(&e);
        err("ERR Error trying to load the RDB dump")
    })?;
    crate::log::warning("DB reloaded by DEBUG RELOAD");
    Ok(Reply::Ok)
}

/// Empties every database and the function libraries (Redis's emptyData for DEBUG
/// RELOAD/LOADAOF).
fn empty_all(ctx: &mut Ctx) {
    for id in 0..ctx.srv.dbs.len() {
        crate::cmd::keys::flush_db(ctx.srv, id, false);
    }
    ctx.srv.scripts.functions.clear();
}

/// DEBUG LOADAOF: writes the AOF buffer, empties the dataset and replays the AOF.
fn loadaof(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.aof.is_on() {
        crate::persist::aof::flush(ctx.srv, true);
    }
    empty_all(ctx);
    crate::persist::aof::load::reload(ctx.srv).map_err(|e| {
        crate::log::warning(&e);
        err("ERR Error trying to load the AOF")
    })?;
    ctx.srv.persistence.dirty_at_last_save = ctx.srv.fx.dirty;
    // Redis zeroes its dirty counter here so that DEBUG LOADAOF itself is neither written to
    // the AOF nor replicated.
    ctx.srv.fx.rewrite = Some(Vec::new());
    crate::log::warning("Append Only File loaded by DEBUG LOADAOF");
    Ok(Reply::Ok)
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest of one value, independent of how it is stored (same after a reload).
pub fn value_digest(e: &Entry) -> [u8; 20] {
    let mut h = Sha1::new();
    match e.value() {
        ValueRef::Str(StrRef::Int(n)) => {
            h.update(b"string");
            h.update(n.to_string().as_bytes());
        }
        ValueRef::Str(StrRef::Bytes(b)) => {
            h.update(b"string");
            h.update(b);
        }
        ValueRef::Object(o) => {
            h.update(o.type_name().as_bytes());
            crate::cmd::debug_extra::digest_object(o, &mut h);
        }
    }
    if let Some(when) = e.expire() {
        h.update(b"!!expire!!");
        h.update(when.to_le_bytes());
    }
    h.finalize().into()
}

/// A digest of the whole dataset: per-key digests XORed (so order does not matter), mixed
/// with the database number (Redis's computeDatasetDigest in spirit; empty gives zeros).
pub fn dataset_digest(srv: &Server) -> [u8; 20] {
    let mut total = [0u8; 20];
    for db in &srv.dbs {
        if db.is_empty() {
            continue;
        }
        let mut acc = [0u8; 20];
        db.for_each(|e| {
            let mut h = Sha1::new();
            h.update(e.key());
            h.update(value_digest(e));
            let d: [u8; 20] = h.finalize().into();
            for i in 0..20 {
                acc[i] ^= d[i];
            }
        });
        let mut h = Sha1::new();
        h.update((db.id as u64).to_le_bytes());
        h.update(acc);
        let d: [u8; 20] = h.finalize().into();
        for i in 0..20 {
            total[i] ^= d[i];
        }
    }
    total
}
