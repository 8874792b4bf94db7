//! One member of a big (`hashtable`) set, as a single pointer-sized word.
//!
//! Redis's set dict spends a dictEntry and an sds string per member. A [`Member`] is stored
//! directly in a slot of the keyspace's [`Table`] and is either
//!
//! * **inline**: up to seven bytes (on 64-bit targets) kept inside the word itself, tagged by
//!   its lowest bit. Integers below ten million, short words and ids cost nothing but the slot;
//! * **boxed**: a pointer (always even: the block is 2-aligned) to `[LEB128 length][bytes]`.
//!
//! The table reads a member through `&Member`, which always refers to the word in its slot
//! (or a copy alive for the call), so an inline member's bytes can be borrowed from the word.
//!
//! [`Table`]: crate::keyspace::table::Table

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use super::hash_pack::{push_varint, read_len};
use crate::keyspace::table::ThinEntry;

const WORD: usize = std::mem::size_of::<usize>();
/// Longest member kept inline.
pub const INLINE_MAX: usize = WORD - 1;
/// Where an inline member's bytes start in the word's memory: the tag is the integer's low
/// byte, which comes first in memory on little-endian targets and last on big-endian ones.
const DATA_AT: usize = if cfg!(target_endian = "little") { 1 } else { 0 };
const TAG_AT: usize = if cfg!(target_endian = "little") { 0 } else { WORD - 1 };
const BLOCK_ALIGN: usize = 2;

/// A set member (see the module docs).
#[repr(transparent)]
pub struct Member(NonNull<u8>);

// A Member owns its block (if any) like a Box<[u8]> would.
unsafe impl Send for Member {}
unsafe impl Sync for Member {}

impl Member {
    pub fn new(bytes: &[u8]) -> Member {
        if bytes.len() <= INLINE_MAX {
            let mut word = [0u8; WORD];
            word[TAG_AT] = ((bytes.len() as u8) << 1) | 1;
            word[DATA_AT..DATA_AT + bytes.len()].copy_from_slice(bytes);
            let v = usize::from_ne_bytes(word);
            // The tag bit makes the word non-zero. It is never dereferenced, so it carries no
            // provenance.
            return Member(NonNull::new(std::ptr::without_provenance_mut(v)).expect("tagged word is non-zero"));
        }
        let mut head = Vec::with_capacity(10);
        push_varint(&mut head, bytes.len());
        let layout = Layout::from_size_align(head.len() + bytes.len(), BLOCK_ALIGN).expect("member size overflow");
        // SAFETY: size > 0; every byte is written below.
        unsafe {
            let p = alloc(layout);
            let Some(p) = NonNull::new(p) else { std::alloc::handle_alloc_error(layout) };
            std::ptr::copy_nonoverlapping(head.as_ptr(), p.as_ptr(), head.len());
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.as_ptr().add(head.len()), bytes.len());
            Member(p)
        }
    }

    fn word(&self) -> usize {
        self.0.as_ptr().addr()
    }

    fn is_inline(&self) -> bool {
        self.word() & 1 == 1
    }

    pub fn bytes(&self) -> &[u8] {
        if self.is_inline() {
            let len = (self.word() & 0xff) >> 1;
            // SAFETY: `self` is the word itself; its bytes after (or before) the tag hold the
            // member, and they live as long as the borrow of self.
            unsafe { std::slice::from_raw_parts((self as *const Member as *const u8).add(DATA_AT), len) }
        } else {
            // SAFETY: a boxed member's block starts with its length prefix.
            unsafe {
                let (len, n) = read_len(self.0.as_ptr());
                std::slice::from_raw_parts(self.0.as_ptr().add(n), len)
            }
        }
    }

    /// Heap bytes this member allocates (0 when inline).
    pub fn alloc_size(&self) -> usize {
        if self.is_inline() {
            0
        } else {
            // SAFETY: as in `bytes`.
            let (len, n) = unsafe { read_len(self.0.as_ptr()) };
            n + len
        }
    }

    /// Heap bytes a member of this length allocates.
    pub fn size_for(len: usize) -> usize {
        if len <= INLINE_MAX {
            0
        } else {
            super::hash_pack::varint_len(len) + len
        }
    }
}

impl Clone for Member {
    fn clone(&self) -> Member {
        if self.is_inline() {
            Member(self.0)
        } else {
            Member::new(self.bytes())
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.is_inline() {
            let size = self.alloc_size();
            // SAFETY: the block was allocated by `new` with this size and alignment.
            unsafe { dealloc(self.0.as_ptr(), Layout::from_size_align_unchecked(size, BLOCK_ALIGN)) };
        }
    }
}

// SAFETY: repr(transparent) over a non-null word; into_raw/from_raw move ownership.
unsafe impl ThinEntry for Member {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Member(raw)
    }
    fn key(&self) -> &[u8] {
        self.bytes()
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_boxed_members() {
        for s in [&b""[..], b"a", b"1234567", b"12345678", b"a somewhat longer member"] {
            let m = Member::new(s);
            assert_eq!(m.bytes(), s);
            assert_eq!(m.is_inline(), s.len() <= INLINE_MAX);
            assert_eq!(m.alloc_size(), Member::size_for(s.len()));
            let c = m.clone();
            assert_eq!(c.bytes(), s);
            // Through the raw round trip the table uses.
            let raw = m.into_raw();
            let back = unsafe { Member::from_raw(raw) };
            assert_eq!(back.bytes(), s);
        }
    }
}
