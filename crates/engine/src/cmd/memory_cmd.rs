//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE (Redis's memoryCommand, object.c).
//!
//! The figures come from [`crate::memory`]: used_memory is the counted allocations, the
//! allocator figures from jemalloc's statistics (through the probes the binary installs).
//! Ratios are computed in single precision, as Redis's `struct redisMemOverhead` keeps them,
//! so the doubles in the reply print like Redis's.

use crate::cmd::args;
use crate::cmd::spec::{key, CommandSpec, Group, KeySpec, LOADING, READONLY, STALE};
use crate::ctx::Ctx;
use crate::error::{CmdResult, Error};
use crate::reply::Reply;
use crate::server::Server;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u64,
    handler: crate::cmd::spec::Handler,
    summary: &'static str,
    complexity: &'static str,
    args: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        handler: Some(handler),
        group: Group::Server,
        since: "4.0.0",
        summary,
        complexity,
        args,
        ..CommandSpec::DEFAULT
    }
}

const DIAG_TIPS: &[&str] = &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"];

static MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { tips: DIAG_TIPS, ..sub("doctor", 2, 0, memory_doctor, "Outputs memory problems report", "O(1)", "") },
    sub("help", 2, LOADING | STALE, memory_help, "Show helpful text about the different subcommands", "O(1)", ""),
    CommandSpec {
        tips: DIAG_TIPS,
        ..sub(
            "malloc-stats",
            2,
            0,
            memory_malloc_stats,
            "Show allocator internal stats",
            "Depends on how much memory is allocated, could be slow",
            "",
        )
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..sub(
            "purge",
            2,
            0,
            memory_purge,
            "Ask the allocator to release memory",
            "Depends on how much memory is allocated, could be slow",
            "",
        )
    },
    CommandSpec { tips: DIAG_TIPS, ..sub("stats", 2, 0, memory_stats, "Show memory usage details", "O(1)", "") },
    CommandSpec {
        key_specs: &[KeySpec::one(2, key::RO)],
        ..sub(
            "usage",
            -3,
            READONLY,
            memory_usage,
            "Estimate the memory usage of a key",
            "O(N) where N is the number of samples.",
            "key:key [SAMPLES count:integer]",
        )
    },
];

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "memory",
    arity: -2,
    group: Group::Server,
    since: "4.0.0",
    summary: "A container for memory diagnostics commands",
    complexity: "Depends on subcommand.",
    subcommands: MEMORY_SUBCOMMANDS,
    ..CommandSpec::DEFAULT
}];

fn memory_usage(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut j = 3;
    while j < args.len() {
        if args::is(args[j], "samples") && j + 1 < args.len() {
            if args::int(args[j + 1])? < 0 {
                return Err(Error::Syntax);
            }
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    // Sizes are kept exactly (every element is counted), so SAMPLES only bounds the work in
    // Redis; the answer here is the exact one whatever it says. The 8 bytes are the key's
    // table slot.
    Ok(match ctx.db().peek(args[2]) {
        Some(e) => Reply::Int((e.memory_usage() + 8) as i64),
        None => Reply::Nil,
    })
}

fn memory_help(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    Ok(args::help_reply(
        args[0],
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    ))
}

/// Redis's struct redisMemOverhead.
struct Overhead {
    peak_allocated: u64,
    total_allocated: u64,
    startup_allocated: u64,
    clients_slaves: u64,
    clients_normal: u64,
    lua_caches: u64,
    /// (db, main table overhead, expires overhead) for databases with keys.
    dbs: Vec<(usize, u64, u64)>,
    overhead_total: u64,
    total_keys: u64,
    bytes_per_key: u64,
    dataset: u64,
    dataset_perc: f32,
    peak_perc: f32,
    allocator_allocated: u64,
    allocator_active: u64,
    allocator_resident: u64,
    allocator_frag: f32,
    allocator_frag_bytes: i64,
    allocator_rss: f32,
    allocator_rss_bytes: i64,
    rss_extra: f32,
    rss_extra_bytes: i64,
    total_frag: f32,
    total_frag_bytes: i64,
}

fn ratio(a: u64, b: u64) -> f32 {
    if b == 0 {
        0.0
    } else {
        a as f32 / b as f32
    }
}

/// Redis's getMemoryOverheadData.
fn overhead(srv: &Server) -> Overhead {
    let used = crate::memory::used_memory(srv);
    let mem = srv.memory();
    let rss = mem.resident_rss;
    let startup = srv.used_memory_startup;
    let clients_slaves = crate::memory::replica_clients_memory(srv);
    let clients_normal = crate::memory::clients_memory(srv);
    let mut total = startup + clients_slaves + clients_normal + srv.lua_memory;
    let mut dbs = Vec::new();
    let mut total_keys = 0u64;
    for db in srv.dbs.iter().filter(|d| !d.is_empty()) {
        total_keys += db.len() as u64;
        // Keys with a TTL keep it in their own block: the expires "table" costs nothing.
        let main = db.table_overhead() as u64;
        total += main;
        dbs.push((db.id, main, 0));
    }
    let net = if used > startup { used - startup } else { 1 };
    let dataset = used.saturating_sub(total);
    let peak = srv.used_memory_peak.max(used);
    Overhead {
        peak_allocated: peak,
        total_allocated: used,
        startup_allocated: startup,
        clients_slaves,
        clients_normal,
        lua_caches: srv.lua_memory,
        dbs,
        overhead_total: total,
        total_keys,
        bytes_per_key: net.checked_div(total_keys).unwrap_or(0),
        dataset,
        dataset_perc: dataset as f32 * 100.0 / net as f32,
        peak_perc: used as f32 * 100.0 / peak.max(1) as f32,
        allocator_allocated: mem.allocated,
        allocator_active: mem.active,
        allocator_resident: mem.resident,
        allocator_frag: ratio(mem.active, mem.allocated),
        allocator_frag_bytes: mem.active as i64 - mem.allocated as i64,
        allocator_rss: ratio(mem.resident, mem.active),
        allocator_rss_bytes: mem.resident as i64 - mem.active as i64,
        rss_extra: ratio(rss, mem.resident),
        rss_extra_bytes: rss as i64 - mem.resident as i64,
        total_frag: ratio(rss, used),
        total_frag_bytes: rss as i64 - used as i64,
    }
}

fn memory_stats(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let o = overhead(ctx.srv);
    let int = |name: &str, v: i64| (Reply::bulk(name.as_bytes()), Reply::Int(v));
    let dbl = |name: &str, v: f32| (Reply::bulk(name.as_bytes()), Reply::Double(v as f64));
    let mut m = vec![
        int("peak.allocated", o.peak_allocated as i64),
        int("total.allocated", o.total_allocated as i64),
        int("startup.allocated", o.startup_allocated as i64),
        int("replication.backlog", 0),
        int("clients.slaves", o.clients_slaves as i64),
        int("clients.normal", o.clients_normal as i64),
        int("cluster.links", 0),
        int("aof.buffer", 0),
        int("lua.caches", o.lua_caches as i64),
        int("functions.caches", 0),
    ];
    for (id, main, expires) in &o.dbs {
        let inner = vec![
            int("overhead.hashtable.main", *main as i64),
            int("overhead.hashtable.expires", *expires as i64),
            int("overhead.hashtable.slot-to-keys", 0),
        ];
        m.push((Reply::bulk(format!("db.{id}").as_bytes()), Reply::Map(inner)));
    }
    m.extend([
        int("overhead.total", o.overhead_total as i64),
        int("keys.count", o.total_keys as i64),
        int("keys.bytes-per-key", o.bytes_per_key as i64),
        int("dataset.bytes", o.dataset as i64),
        dbl("dataset.percentage", o.dataset_perc),
        dbl("peak.percentage", o.peak_perc),
        int("allocator.allocated", o.allocator_allocated as i64),
        int("allocator.active", o.allocator_active as i64),
        int("allocator.resident", o.allocator_resident as i64),
        dbl("allocator-fragmentation.ratio", o.allocator_frag),
        int("allocator-fragmentation.bytes", o.allocator_frag_bytes),
        dbl("allocator-rss.ratio", o.allocator_rss),
        int("allocator-rss.bytes", o.allocator_rss_bytes),
        dbl("rss-overhead.ratio", o.rss_extra),
        int("rss-overhead.bytes", o.rss_extra_bytes),
        dbl("fragmentation", o.total_frag),
        int("fragmentation.bytes", o.total_frag_bytes),
    ]);
    Ok(Reply::Map(m))
}

/// Redis's getMemoryDoctorReport.
fn doctor_report(srv: &Server) -> String {
    let o = overhead(srv);
    let mut issues: Vec<&str> = Vec::new();
    if o.total_allocated < 5 << 20 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string();
    }
    if ratio(o.peak_allocated, o.total_allocated) > 1.5 {
        issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if o.total_frag > 1.4 && o.total_frag_bytes > 10 << 20 {
        issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n");
    }
    if o.allocator_frag > 1.1 && o.allocator_frag_bytes > 10 << 20 {
        issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
    }
    if o.allocator_rss > 1.1 && o.allocator_rss_bytes > 10 << 20 {
        issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
    }
    if o.rss_extra > 1.1 && o.rss_extra_bytes > 10 << 20 {
        issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
    }
    let replicas = srv.repl.replicas.len() as u64;
    let clients = (srv.clients.iter().count() as u64).saturating_sub(replicas).max(1);
    if replicas > 0 && o.clients_slaves > 10 << 20 {
        issues.push(" * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n");
    }
    if o.clients_normal / clients > 200 * 1024 {
        issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string();
    }
    let mut s = String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for i in issues {
        s.push_str(i);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

fn memory_doctor(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(Reply::Verbatim(doctor_report(ctx.srv).into_bytes()))
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    Ok(match ctx.srv.malloc_stats {
        Some(f) => Reply::Verbatim(f().into_bytes()),
        None => Reply::bulk(b"Stats not supported for the current allocator"),
    })
}

fn memory_purge(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    // Without an allocator hook (Redis built without jemalloc) there is nothing to purge.
    if let Some(f) = ctx.srv.malloc_purge {
        f();
    }
    Ok(Reply::Ok)
}
