//! DUMP, RESTORE (and RESTORE-ASKING): a value serialized in Redis's payload format
//! (`persist::dump`), restorable here or in redis-server.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, ASKING, DENYOOM, READONLY, WRITE};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::notify;
use crate::persist::dump::{self, Refused};
use crate::reply::Reply;

const RESTORE_ARGS: &str = "key:key ttl:integer serialized-value:string [replace=REPLACE]{3.0.0} [absttl=ABSTTL]{5.0.0} [IDLETIME seconds:integer]{5.0.0} [FREQ frequency:integer]{5.0.0}";
const RESTORE_HISTORY: &[(&str, &str)] = &[
    ("3.0.0", "Added the `REPLACE` modifier."),
    ("5.0.0", "Added the `ABSTTL` modifier."),
    ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
];
const RESTORE_COMPLEXITY: &str = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "dump",
        arity: 2,
        flags: READONLY,
        acl: acl::KEYSPACE,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(dump_command),
        group: Group::Generic,
        summary: "Return a serialized version of the value stored at the specified key.",
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
        args: "key:key",
        since: "2.6.0",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore",
        arity: -4,
        flags: WRITE | DENYOOM,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE)],
        handler: Some(restore),
        group: Group::Generic,
        summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
        complexity: RESTORE_COMPLEXITY,
        args: RESTORE_ARGS,
        since: "2.6.0",
        history: RESTORE_HISTORY,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "restore-asking",
        arity: -4,
        flags: WRITE | DENYOOM | ASKING,
        acl: acl::KEYSPACE | acl::DANGEROUS,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE)],
        handler: Some(restore),
        group: Group::Server,
        summary: "An internal command for migrating keys in a cluster",
        complexity: RESTORE_COMPLEXITY,
        args: RESTORE_ARGS,
        since: "3.0.0",
        history: RESTORE_HISTORY,
        syscmd: true,
        ..CommandSpec::DEFAULT
    },
];

fn dump_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let compress = ctx.srv.config.bool("rdbcompression");
    let Some(e) = ctx.lookup_read(args[1]) else { return Ok(Reply::Nil) };
    let payload = dump::create(e, compress).map_err(|e| err(format!("ERR {e}")))?;
    Ok(Reply::Bulk(payload.into()))
}

/// RESTORE's options after the payload.
struct Options {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

fn options(args: &[&[u8]]) -> CmdResult<Options> {
    let mut o = Options { replace: false, absttl: false, idle: None, freq: None };
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = args[j];
        if args::is(a, "replace") {
            o.replace = true;
        } else if args::is(a, "absttl") {
            o.absttl = true;
        } else if args::is(a, "idletime") && more >= 1 && o.freq.is_none() {
            let v = args::int(args[j + 1])?;
            if v < 0 {
                return Err(err("ERR Invalid IDLETIME value, must be >= 0"));
            }
            o.idle = Some(v);
            j += 1;
        } else if args::is(a, "freq") && more >= 1 && o.idle.is_none() {
            let v = args::int(args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(err("ERR Invalid FREQ value, must be >= 0 and <= 255"));
            }
            o.freq = Some(v);
            j += 1;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn restore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let o = options(args)?;
    let key = args[1];
    if !o.replace && ctx.lookup_write(key).is_some() {
        return Err(err("BUSYKEY Target key name already exists."));
    }
    let mut ttl = args::int(args[2])?;
    if ttl < 0 {
        return Err(err("ERR Invalid TTL value, must be >= 0"));
    }
    let skip_crc = ctx.srv.skip_checksum_validation;
    let body = dump::verify(args[3], skip_crc).map_err(|_| err("ERR DUMP payload version or checksum are wrong"))?;
    let now = ctx.now_ms();
    let loaded = dump::parse(body, now).map_err(|r| {
        if let Refused::BadFormat(why) = &r {
            crate::log::warning(&format!("Bad data format in RESTORE payload: {why}"));
        }
        err("ERR Bad data format")
    })?;
    // `clients` sanitizes payloads except from users flagged skip-sanitize-payload.
    let deep = match ctx.srv.config.enum_name("sanitize-dump-payload") {
        "yes" => true,
        "clients" => !crate::acl::skips_payload_sanitization(ctx.srv, ctx.slot),
        _ => false,
    };
    if deep {
        ctx.srv.stats.dump_payload_sanitizations += 1;
    }
    let value =
        crate::persist::objects::build_value(loaded, &ctx.srv.config).map_err(|_| err("ERR Bad data format"))?;
    let deleted = o.replace && ctx.delete_key(key);
    if ttl != 0 && !o.absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now && !ctx.srv.loading {
        if deleted {
            ctx.propagate_as(&[b"DEL", key]);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        return Ok(Reply::Ok);
    }
    let lfu = matches!(ctx.srv.fx.access, crate::keyspace::AccessPolicy::Lfu { .. });
    let lru_clock = ctx.srv.fx.lru_clock();
    let minutes = ((now / 60_000) & 0xffff) as u32;
    let e = ctx.add_key(key, value);
    match (lfu, o.freq, o.idle) {
        (true, Some(f), _) => e.set_lru((minutes << 8) | f as u32),
        (false, _, Some(idle)) => {
            let idle = idle.min(0xff_ffff) as u32;
            let abs = if lru_clock >= idle { lru_clock - idle } else { lru_clock + 0xff_ffff - idle };
            e.set_lru(abs);
        }
        _ => {}
    }
    if ttl != 0 {
        ctx.db().set_expire(key, ttl);
        if !o.absttl {
            let abs = ttl.to_string();
            let mut argv: Vec<&[u8]> = args.to_vec();
            argv[2] = abs.as_bytes();
            argv.push(b"ABSTTL");
            ctx.propagate_as(&argv);
        }
    }
    ctx.signal_modified(key);
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.dirty(1);
    Ok(Reply::Ok)
}
