//! Memory accounting shared by INFO memory, MEMORY STATS and (later) maxmemory.

use crate::server::Server;

/// The process's resident set size, from /proc (0 if unavailable).
pub fn process_rss() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else { return 0 };
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(0) as u64
}

/// Bytes held by client buffers (INFO mem_clients_normal).
pub fn clients_memory(srv: &Server) -> u64 {
    srv.clients
        .iter()
        .map(|c| (c.qbuf + c.qbuf_free + c.argv_mem + c.outbox.capacity() + c.obuf_bytes) as u64 + 1024)
        .sum()
}

/// Redis's used_memory_overhead: startup memory, client buffers, the keyspace tables.
pub fn overhead_bytes(srv: &Server) -> u64 {
    let tables: u64 = srv.dbs.iter().map(|d| d.table_overhead() as u64).sum();
    srv.used_memory_startup + clients_memory(srv) + tables
}

/// Redis's used_memory for maxmemory decisions: the allocator's figure, or the RSS when no
/// allocator probe is installed (tests, other allocators).
pub fn used_memory(srv: &Server) -> u64 {
    match srv.memory_probe {
        Some(probe) => probe().allocated,
        None => process_rss(),
    }
}
