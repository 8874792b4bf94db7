//! A 40-byte size class for key entries.
//!
//! jemalloc's small classes go 32, 48, 64: a key entry of 33–40 bytes (a 16-byte key with a
//! 16-byte value is 38) would waste 8–15 bytes in a 48-byte block, which is an eighth of the
//! memory of a keyspace of small strings. Entries of that size come from here instead:
//! 64 KiB chunks (aligned to their size, so a slot finds its chunk by masking its address)
//! cut into 40-byte slots, the first holding the chunk's header. Each chunk keeps a free list
//! threaded through its free slots; chunks with a free slot are on a doubly linked list, and
//! a chunk whose last entry goes is returned to the allocator (unless it is the only one with
//! room, to avoid churning a chunk at the boundary).
//!
//! Entries are freed on the engine's thread and on the lazy-free thread, so the state is
//! behind a mutex (uncontended in practice: one lock per entry allocation or free).
//!
//! used_memory counts the slots in use, like jemalloc's `allocated` counts regions in use and
//! not the free space of its slabs: [`crate::memory::adjust`] takes the chunk out of the
//! allocation counter and puts 40 bytes in per live entry.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};
use std::sync::Mutex;

/// The slot size: every entry of `MIN_SIZE..=SLOT` bytes is served from here.
pub const SLOT: usize = 40;
/// Smaller entries fit jemalloc's 32-byte class exactly.
pub const MIN_SIZE: usize = 33;
const CHUNK: usize = 64 * 1024;
const SLOTS_PER_CHUNK: usize = CHUNK / SLOT;

/// Whether an entry block of `size` bytes lives in the slab.
#[inline]
pub fn serves(size: usize) -> bool {
    (MIN_SIZE..=SLOT).contains(&size)
}

/// A chunk's first slot.
#[repr(C)]
struct Header {
    /// First free slot (previously used; its first 8 bytes point to the next), or null.
    free: *mut u8,
    /// Slots handed out and not yet freed.
    live: u32,
    /// Index of the first never-used slot.
    bump: u32,
    prev: *mut Header,
    next: *mut Header,
}

const _: () = assert!(std::mem::size_of::<Header>() <= SLOT);

struct State {
    /// Chunks with at least one free slot.
    partial: *mut Header,
    partial_len: usize,
}

// The raw pointers are only touched under the mutex.
unsafe impl Send for State {}

static STATE: Mutex<State> = Mutex::new(State { partial: ptr::null_mut(), partial_len: 0 });

fn chunk_layout() -> Layout {
    // CHUNK is a non-zero power of two: the layout is valid.
    Layout::from_size_align(CHUNK, CHUNK).unwrap_or_else(|_| Layout::new::<u8>())
}

impl State {
    unsafe fn push_partial(&mut self, h: *mut Header) {
        (*h).prev = ptr::null_mut();
        (*h).next = self.partial;
        if !self.partial.is_null() {
            (*self.partial).prev = h;
        }
        self.partial = h;
        self.partial_len += 1;
    }

    unsafe fn unlink(&mut self, h: *mut Header) {
        let (prev, next) = ((*h).prev, (*h).next);
        if prev.is_null() {
            self.partial = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*h).prev = ptr::null_mut();
        (*h).next = ptr::null_mut();
        self.partial_len -= 1;
    }

    unsafe fn new_chunk(&mut self) -> *mut Header {
        let layout = chunk_layout();
        let base = alloc(layout);
        if base.is_null() {
            handle_alloc_error(layout);
        }
        crate::memory::adjust(-(crate::memory::jemalloc_class(CHUNK) as i64));
        let h = base as *mut Header;
        h.write(Header { free: ptr::null_mut(), live: 0, bump: 1, prev: ptr::null_mut(), next: ptr::null_mut() });
        self.push_partial(h);
        h
    }
}

/// Whether the chunk is on the partial list (it has a free slot).
unsafe fn has_room(h: *const Header) -> bool {
    !(*h).free.is_null() || ((*h).bump as usize) < SLOTS_PER_CHUNK
}

/// A 40-byte, 8-aligned block.
pub fn alloc_slot() -> NonNull<u8> {
    let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: chunk headers and slots are only accessed under the lock; every pointer on the
    // partial list is a live chunk.
    unsafe {
        let h = if st.partial.is_null() { st.new_chunk() } else { st.partial };
        let slot = if !(*h).free.is_null() {
            let s = (*h).free;
            (*h).free = (s as *mut *mut u8).read();
            s
        } else {
            let s = (h as *mut u8).add((*h).bump as usize * SLOT);
            (*h).bump += 1;
            s
        };
        (*h).live += 1;
        if !has_room(h) {
            st.unlink(h);
        }
        crate::memory::adjust(SLOT as i64);
        NonNull::new_unchecked(slot)
    }
}

/// Returns a block from [`alloc_slot`].
///
/// # Safety
/// `p` must come from [`alloc_slot`] and not have been freed.
pub unsafe fn free_slot(p: NonNull<u8>) {
    let mut st = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let p = p.as_ptr();
    let h = p.map_addr(|a| a & !(CHUNK - 1)) as *mut Header;
    let was_full = !has_room(h);
    (p as *mut *mut u8).write((*h).free);
    (*h).free = p;
    (*h).live -= 1;
    crate::memory::adjust(-(SLOT as i64));
    if was_full {
        st.push_partial(h);
    }
    if (*h).live == 0 && st.partial_len > 1 {
        st.unlink(h);
        crate::memory::adjust(crate::memory::jemalloc_class(CHUNK) as i64);
        dealloc(h as *mut u8, chunk_layout());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_aligned_and_reused() {
        let mut held = Vec::new();
        for _ in 0..3 * SLOTS_PER_CHUNK {
            let p = alloc_slot();
            assert_eq!(p.as_ptr() as usize % 8, 0);
            // SAFETY: the slot is 40 bytes and ours.
            unsafe { ptr::write_bytes(p.as_ptr(), 0xab, SLOT) };
            held.push(p);
        }
        let mut addrs: Vec<usize> = held.iter().map(|p| p.as_ptr() as usize).collect();
        addrs.sort_unstable();
        assert!(addrs.windows(2).all(|w| w[1] - w[0] >= SLOT));
        for p in held.drain(..) {
            // SAFETY: each came from alloc_slot once.
            unsafe { free_slot(p) };
        }
        let again = alloc_slot();
        // SAFETY: as above.
        unsafe { free_slot(again) };
    }
}
