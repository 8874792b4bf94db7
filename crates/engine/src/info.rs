//! INFO: every section and field redis-server 7.0 prints, from the engine's real counters.
//! Subsystems that are idle in Spinel's current state report what Redis reports when idle
//! (no replicas connected, no fork running).

use std::fmt::Write;

use crate::server::Server;

/// The sections INFO prints without arguments.
pub const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections to print (Redis's genInfoSectionDict).
pub struct Selection {
    pub names: Vec<String>,
    pub all: bool,
    pub everything: bool,
}

impl Selection {
    pub fn from_args(args: &[&[u8]]) -> Selection {
        let mut sel = Selection { names: Vec::new(), all: false, everything: false };
        if args.is_empty() {
            sel.names = DEFAULT_SECTIONS.iter().map(|s| s.to_string()).collect();
            return sel;
        }
        for a in args {
            let name = String::from_utf8_lossy(a).to_lowercase();
            match name.as_str() {
                "default" => sel.names.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
                "all" => sel.all = true,
                "everything" => {
                    sel.all = true;
                    sel.everything = true;
                }
                _ => sel.names.push(name),
            }
        }
        sel
    }

    fn wants(&self, section: &str) -> bool {
        self.all || self.names.iter().any(|n| n == section)
    }
}

/// `1.00M`-style sizes (Redis's bytesToHuman).
pub fn bytes_to_human(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / 1024f64.powi(3))
    } else if n < 1024u64.pow(5) {
        format!("{:.2}T", d / 1024f64.powi(4))
    } else if n < 1024u64.pow(6) {
        format!("{:.2}P", d / 1024f64.powi(5))
    } else {
        format!("{n}B")
    }
}

fn uname() -> (String, String, String) {
    // SAFETY: uname fills a zeroed struct of C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return ("Linux".into(), String::new(), String::new());
        }
        let s = |f: &[libc::c_char]| std::ffi::CStr::from_ptr(f.as_ptr()).to_string_lossy().into_owned();
        (s(&u.sysname), s(&u.release), s(&u.machine))
    }
}

fn total_system_memory() -> u64 {
    // SAFETY: sysinfo fills a zeroed struct.
    unsafe {
        let mut si: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut si) == 0 {
            si.totalram as u64 * si.mem_unit as u64
        } else {
            0
        }
    }
}

/// (sys, user) CPU time of the process, and of this thread, as `sec.usec` strings.
fn cpu_times() -> [(String, String); 2] {
    let fmt = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
    // SAFETY: getrusage fills zeroed structs.
    unsafe {
        let mut proc_usage: libc::rusage = std::mem::zeroed();
        let mut thread_usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut proc_usage);
        libc::getrusage(libc::RUSAGE_THREAD, &mut thread_usage);
        [(fmt(proc_usage.ru_stime), fmt(proc_usage.ru_utime)), (fmt(thread_usage.ru_stime), fmt(thread_usage.ru_utime))]
    }
}

/// The INFO text for the selected sections.
pub fn generate(srv: &Server, sel: &Selection) -> String {
    let mut out = String::new();
    let mut sections = 0;
    let mut header = |out: &mut String, title: &str| {
        if sections > 0 {
            out.push_str("\r\n");
        }
        sections += 1;
        let _ = write!(out, "# {title}\r\n");
    };
    let now_ms = srv.fx.now_ms;
    if sel.wants("server") {
        header(&mut out, "Server");
        server_section(srv, &mut out, now_ms);
    }
    if sel.wants("clients") {
        header(&mut out, "Clients");
        clients_section(srv, &mut out);
    }
    if sel.wants("memory") {
        header(&mut out, "Memory");
        memory_section(srv, &mut out);
    }
    if sel.wants("persistence") {
        header(&mut out, "Persistence");
        persistence_section(srv, &mut out);
    }
    if sel.wants("stats") {
        header(&mut out, "Stats");
        stats_section(srv, &mut out);
    }
    if sel.wants("replication") {
        header(&mut out, "Replication");
        replication_section(srv, &mut out);
    }
    if sel.wants("cpu") {
        header(&mut out, "CPU");
        let [(sys, user), (tsys, tuser)] = cpu_times();
        let _ = write!(
            out,
            "used_cpu_sys:{sys}\r\nused_cpu_user:{user}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{tsys}\r\nused_cpu_user_main_thread:{tuser}\r\n"
        );
    }
    if sel.wants("module_list") || sel.names.iter().any(|n| n == "modules") {
        header(&mut out, "Modules");
    }
    if sel.wants("commandstats") {
        header(&mut out, "Commandstats");
        let mut cmds: Vec<_> = srv
            .commands
            .iter_all()
            .filter(|c| {
                srv.cmdstats[c.id].calls > 0
                    || srv.cmdstats[c.id].rejected_calls > 0
                    || srv.cmdstats[c.id].failed_calls > 0
            })
            .collect();
        cmds.sort_by_key(|c| c.fullname);
        for c in cmds {
            let s = &srv.cmdstats[c.id];
            let per_call = if s.calls > 0 { s.usec as f64 / s.calls as f64 } else { 0.0 };
            let _ = write!(
                out,
                "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                c.fullname, s.calls, s.usec, per_call, s.rejected_calls, s.failed_calls
            );
        }
    }
    if sel.wants("errorstats") {
        header(&mut out, "Errorstats");
        for (code, count) in &srv.errorstats {
            let _ = write!(out, "errorstat_{code}:count={count}\r\n");
        }
    }
    if sel.wants("latencystats") {
        header(&mut out, "Latencystats");
        if srv.config.bool("latency-tracking") {
            crate::latency::info_latencystats(srv, &mut out);
        }
    }
    if sel.wants("cluster") {
        header(&mut out, "Cluster");
        out.push_str("cluster_enabled:0\r\n");
    }
    if sel.wants("keyspace") {
        header(&mut out, "Keyspace");
        for db in &srv.dbs {
            if !db.is_empty() || db.expires_count() > 0 {
                let _ = write!(
                    out,
                    "db{}:keys={},expires={},avg_ttl={}\r\n",
                    db.id,
                    db.len(),
                    db.expires_count(),
                    db.avg_ttl
                );
            }
        }
    }
    out
}

fn server_section(srv: &Server, out: &mut String, now_ms: i64) {
    let (sys, release, machine) = uname();
    let uptime = (now_ms - srv.process.start_ms) / 1000;
    let hz = srv.config.int("hz");
    let _ = write!(
        out,
        "redis_version:{}\r\nspinel_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
        crate::REDIS_VERSION,
        crate::SPINEL_VERSION,
        sys,
        release,
        machine,
        srv.process.pid,
        srv.process.run_id,
        srv.process.tcp_port,
        crate::util::time::now_us(),
        uptime,
        uptime / 86400,
        hz,
        hz,
        srv.fx.lru_clock(),
        srv.process.executable,
        srv.config.config_file().map(|p| p.display().to_string()).unwrap_or_default(),
    );
}

fn clients_section(srv: &Server, out: &mut String) {
    let mut max_in = 0;
    let mut max_out = 0;
    let mut normal = 0;
    for c in srv.clients.iter() {
        if c.has(crate::client::flags::INTERNAL) {
            continue;
        }
        normal += 1;
        max_in = max_in.max(c.qbuf + c.qbuf_free);
        max_out = max_out.max(c.obuf_peak);
    }
    let _ = write!(
        out,
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
        normal,
        srv.config.int("maxclients"),
        max_in,
        max_out,
        srv.blocked_clients,
        srv.tracking.tracking_clients,
        srv.clients.iter().filter(|c| c.blocked.as_ref().is_some_and(|b| b.deadline_ms > 0)).count(),
    );
}

fn memory_section(srv: &Server, out: &mut String) {
    let mem = srv.memory();
    let used = crate::memory::used_memory(srv);
    let peak = srv.used_memory_peak.max(used);
    let startup = srv.used_memory_startup;
    let overhead = crate::memory::overhead_bytes(srv);
    let dataset = used.saturating_sub(overhead);
    let net = used.saturating_sub(startup).max(1);
    let rss = mem.resident_rss;
    let maxmemory = srv.config.int("maxmemory") as u64;
    let frag = if used > 0 { rss as f64 / used as f64 } else { 0.0 };
    let alloc_frag = if mem.allocated > 0 { mem.active as f64 / mem.allocated as f64 } else { 0.0 };
    let alloc_rss = if mem.active > 0 { mem.resident as f64 / mem.active as f64 } else { 0.0 };
    let rss_overhead = if mem.resident > 0 { rss as f64 / mem.resident as f64 } else { 0.0 };
    let total_sys = total_system_memory();
    let lua = srv.scripts.eval_vm_memory() as u64;
    let vm_functions = srv.scripts.functions.vm.memory() as u64;
    let scripts_eval = srv.scripts.eval_scripts_memory() as u64;
    let cached = srv.scripts.scripts.len();
    let (nlibraries, nfunctions) = srv.scripts.library_counts();
    let functions_mem = srv.scripts.functions.memory_overhead() as u64;
    let _ = write!(
        out,
        "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{overhead}\r\nused_memory_startup:{startup}\r\nused_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\ntotal_system_memory:{total_sys}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{cached}\r\nnumber_of_functions:{nfunctions}\r\nnumber_of_libraries:{nlibraries}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions_mem}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\nmaxmemory:{maxmemory}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{alloc_frag:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{alloc_rss:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{rss_overhead:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{frag:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:{}\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:{}\r\nmem_clients_slaves:{}\r\nmem_clients_normal:{}\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:jemalloc-5.3.0\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
        bytes_to_human(used),
        bytes_to_human(rss),
        bytes_to_human(peak),
        used as f64 * 100.0 / peak.max(1) as f64,
        dataset as f64 * 100.0 / net as f64,
        mem.allocated,
        mem.active,
        mem.resident,
        bytes_to_human(total_sys),
        bytes_to_human(lua),
        lua + vm_functions,
        bytes_to_human(lua + vm_functions),
        scripts_eval + functions_mem,
        bytes_to_human(scripts_eval + functions_mem),
        bytes_to_human(maxmemory),
        srv.config.enum_name("maxmemory-policy"),
        mem.active.saturating_sub(mem.allocated),
        mem.resident as i64 - mem.active as i64,
        rss as i64 - mem.resident as i64,
        rss as i64 - used as i64,
        crate::memory::not_counted_for_evict(srv),
        crate::memory::not_counted_for_evict(srv),
        crate::memory::replica_clients_memory(srv),
        crate::memory::clients_memory(srv),
        crate::lazyfree::pending_objects(),
        crate::lazyfree::freed_objects(),
    );
}

fn persistence_section(srv: &Server, out: &mut String) {
    crate::persist::info::section(srv, out);
}

fn stats_section(srv: &Server, out: &mut String) {
    let s = &srv.stats;
    let (tracking_keys, tracking_items, tracking_prefixes) = crate::tracking::totals(srv);
    let k = &srv.fx.stats;
    let crate::replication::SyncStats { full: sync_full, partial_ok: sync_partial_ok, partial_err: sync_partial_err } =
        srv.repl.sync_stats;
    let _ = write!(
        out,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{sync_full}\r\nsync_partial_ok:{sync_partial_ok}\r\nsync_partial_err:{sync_partial_err}\r\nexpired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:{}\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
        s.total_connections_received,
        s.total_commands_processed,
        srv.instantaneous.ops_per_sec(),
        s.total_net_input_bytes,
        s.total_net_output_bytes,
        srv.instantaneous.input_kbps(),
        srv.instantaneous.output_kbps(),
        s.rejected_connections,
        k.expired_keys,
        k.expired_stale_perc * 100.0,
        k.expired_time_cap_reached_count,
        k.expire_cycle_cpu_milliseconds,
        k.evicted_keys,
        s.evicted_clients,
        srv.evict.exceeded_times_ms().0,
        srv.evict.exceeded_times_ms().1,
        k.keyspace_hits,
        k.keyspace_misses,
        srv.pubsub.channels.len(),
        srv.pubsub.pattern_count(),
        srv.pubsub.shard_channels.len(),
        srv.migrate.len(),
        tracking_keys,
        tracking_items,
        tracking_prefixes,
        s.unexpected_error_replies,
        s.total_error_replies,
        s.dump_payload_sanitizations,
        s.total_reads_processed,
        s.total_writes_processed,
    );
}

fn replication_section(srv: &Server, out: &mut String) {
    crate::replication::info::section(srv, out);
}

#[cfg(test)]
mod tests {
    use super::bytes_to_human;

    #[test]
    fn human_sizes_like_redis() {
        assert_eq!(bytes_to_human(100), "100B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1536 * 1024), "1.50M");
        assert_eq!(bytes_to_human(3 * 1024 * 1024 * 1024), "3.00G");
    }
}
