//! The `spinel` binary: jemalloc as the allocator (its statistics feed INFO memory and
//! maxmemory), then the server.

use spinel_engine::server::MemoryStats;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's view of memory: refreshed by advancing its epoch, as Redis does.
fn jemalloc_stats() -> MemoryStats {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    MemoryStats {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
        retained: stats::retained::read().unwrap_or(0) as u64,
        resident_rss: 0,
    }
}

fn main() {
    spinel_server::main_with(spinel_server::Options { memory_probe: Some(jemalloc_stats) });
}
