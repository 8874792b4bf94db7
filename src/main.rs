//! The `spinel` binary: jemalloc as the allocator, wrapped so that every allocation is
//! counted (used_memory and maxmemory; see spinel_engine::memory), then the server.

use spinel_engine::memory::Counting;
use spinel_engine::server::MemoryStats;

#[global_allocator]
static GLOBAL: Counting<tikv_jemallocator::Jemalloc> = Counting(tikv_jemallocator::Jemalloc);

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

unsafe extern "C" fn append_stats(opaque: *mut libc::c_void, text: *const libc::c_char) {
    // SAFETY: `opaque` is the String passed by `malloc_stats`; jemalloc passes C strings.
    let out = &mut *(opaque as *mut String);
    out.push_str(&std::ffi::CStr::from_ptr(text).to_string_lossy());
}

/// jemalloc's statistics report (MEMORY MALLOC-STATS).
fn malloc_stats() -> String {
    let mut out = String::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append_stats),
            &mut out as *mut String as *mut libc::c_void,
            std::ptr::null(),
        )
    };
    out
}

/// Returns dirty pages of every arena to the system (MEMORY PURGE), as Redis's jemalloc_purge.
fn malloc_purge() {
    // MALLCTL_ARENAS_ALL is 4096.
    let name = c"arena.4096.purge";
    // SAFETY: a valid control name with no old or new value.
    unsafe {
        tikv_jemalloc_sys::mallctl(name.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0)
    };
}

fn main() {
    GLOBAL.enable();
    spinel_server::main_with(spinel_server::Options {
        memory_probe: Some(jemalloc_stats),
        malloc_stats: Some(malloc_stats),
        malloc_purge: Some(malloc_purge),
    });
}
