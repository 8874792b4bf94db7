//! Memory accounting shared by INFO memory, MEMORY STATS and maxmemory.
//!
//! `used_memory` is Redis's zmalloc_used_memory: the bytes every live allocation really
//! occupies. The binary wraps its allocator in [`Counting`], which adds the allocator's size
//! class of each allocation to one relaxed atomic counter (as zmalloc does with
//! malloc_usable_size), so reading it before each command costs one load and maxmemory means
//! what it says. Without the wrapper (an embedded engine, the in-process test server) the
//! allocator probe's figure is used instead, and the process RSS when there is none.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::server::Server;

static USED: AtomicI64 = AtomicI64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// jemalloc's size class for a request (LG_QUANTUM 4, four classes per doubling): the bytes
/// an allocation of `size` really takes. Small sizes: 8, 16, then multiples of 16 up to 128;
/// above, each power-of-two range [2^k, 2^(k+1)) is split into four equal steps.
pub fn jemalloc_class(size: usize) -> usize {
    if size <= 8 {
        return 8;
    }
    if size <= 128 {
        return (size + 15) & !15;
    }
    let lg = usize::BITS - 1 - (size - 1).leading_zeros();
    let step = 1usize << (lg - 2);
    (size + step - 1) & !(step - 1)
}

fn charged(layout: &Layout) -> i64 {
    jemalloc_class(layout.size().max(layout.align())) as i64
}

/// A global allocator that counts the bytes held by live allocations (see the module docs).
pub struct Counting<A>(pub A);

// SAFETY: every call is forwarded to the inner allocator unchanged; only a counter is updated.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.0.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(charged(&layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.0.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(charged(&layout), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.dealloc(ptr, layout);
        USED.fetch_sub(charged(&layout), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = self.0.realloc(ptr, layout, new_size);
        if !p.is_null() {
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            USED.fetch_add(charged(&new) - charged(&layout), Ordering::Relaxed);
        }
        p
    }
}

impl<A> Counting<A> {
    /// Marks the counter as the source of used_memory; the binary calls it first thing.
    pub fn enable(&self) {
        COUNTING.store(true, Ordering::Relaxed);
    }
}

/// Corrects the counter for memory a sub-allocator manages itself (see keyspace/slab.rs):
/// its chunks are taken out and the blocks it hands out are put in.
pub fn adjust(delta: i64) {
    USED.fetch_add(delta, Ordering::Relaxed);
}

/// Bytes held by live allocations, if the process counts them.
pub fn counted() -> Option<u64> {
    COUNTING.load(Ordering::Relaxed).then(|| USED.load(Ordering::Relaxed).max(0) as u64)
}

/// Redis's used_memory: the counter when the allocator counts, else the probe's figure, else
/// (an embedded engine with neither, like the in-process test server) the process RSS.
pub fn used_memory(srv: &Server) -> u64 {
    match (counted(), srv.memory_probe) {
        (Some(n), _) => n,
        (None, Some(probe)) => probe().allocated,
        (None, None) => process_rss(),
    }
}

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
    srv.clients.iter().filter(|c| !c.has(crate::client::flags::REPLICA)).map(client_memory).sum()
}

/// Bytes held by replicas' buffers (INFO mem_clients_slaves).
pub fn replica_clients_memory(srv: &Server) -> u64 {
    srv.clients.iter().filter(|c| c.has(crate::client::flags::REPLICA)).map(client_memory).sum()
}

fn client_memory(c: &crate::client::Client) -> u64 {
    (c.qbuf + c.qbuf_free + c.argv_mem + c.outbox.capacity() + c.obuf_bytes) as u64 + 1024
}

/// Redis's freeMemoryGetNotCountedMemory: replica output buffers do not count towards
/// maxmemory (evicting keys to make room for the DELs sent to replicas would feed itself).
pub fn not_counted_for_evict(srv: &Server) -> u64 {
    srv.clients
        .iter()
        .filter(|c| c.has(crate::client::flags::REPLICA))
        .map(|c| (c.outbox.capacity() + c.obuf_bytes) as u64)
        .sum()
}

/// Redis's used_memory_overhead: startup memory, client buffers, the keyspace tables.
pub fn overhead_bytes(srv: &Server) -> u64 {
    srv.used_memory_startup + clients_memory(srv) + replica_clients_memory(srv) + tables_overhead(srv)
}

/// Bytes of the keyspace tables themselves (not the keys and values).
pub fn tables_overhead(srv: &Server) -> u64 {
    srv.dbs.iter().map(|d| d.table_overhead() as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::jemalloc_class;

    #[test]
    fn size_classes_are_jemallocs() {
        let cases = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (38, 48),
            (48, 48),
            (49, 64),
            (128, 128),
            (129, 160),
            (257, 320),
            (4097, 5120),
            (100_000, 114_688),
        ];
        for (size, class) in cases {
            assert_eq!(jemalloc_class(size), class, "{size}");
        }
    }
}
