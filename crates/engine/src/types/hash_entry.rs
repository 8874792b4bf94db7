//! One field/value pair of a big (`hashtable`) hash, in one allocation.
//!
//! Redis's hash dict spends a dictEntry plus two sds strings per field: three allocations. A
//! [`Pair`] is a thin pointer to a single block `[LEB128 field length][field][LEB128 value
//! length][value]`, stored directly in a slot of the keyspace's [`Table`], so a pair costs its
//! block and an eight-byte slot. Replacing the value rebuilds the block.
//!
//! [`Table`]: crate::keyspace::table::Table

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

use super::hash_pack::{push_varint, read_len, varint_len};
use crate::keyspace::table::ThinEntry;

/// An owned field/value block (see the module docs).
#[repr(transparent)]
pub struct Pair(NonNull<u8>);

// A Pair owns its block like a Box<[u8]> would.
unsafe impl Send for Pair {}
unsafe impl Sync for Pair {}

impl Pair {
    pub fn new(field: &[u8], value: &[u8]) -> Pair {
        let mut head = Vec::with_capacity(10);
        push_varint(&mut head, field.len());
        let mut mid = Vec::with_capacity(10);
        push_varint(&mut mid, value.len());
        let size = head.len() + field.len() + mid.len() + value.len();
        let layout = Layout::from_size_align(size, 1).expect("pair size overflow");
        // SAFETY: size > 0 (two length bytes at least); every byte is written below.
        unsafe {
            let p = alloc(layout);
            let Some(p) = NonNull::new(p) else { std::alloc::handle_alloc_error(layout) };
            let mut at = p.as_ptr();
            for part in [&head[..], field, &mid[..], value] {
                std::ptr::copy_nonoverlapping(part.as_ptr(), at, part.len());
                at = at.add(part.len());
            }
            Pair(p)
        }
    }

    /// (field offset, field length, value offset, value length) inside the block.
    fn parts(&self) -> (usize, usize, usize, usize) {
        // SAFETY: the block holds two complete length prefixes, written by `new`.
        unsafe {
            let base = self.0.as_ptr();
            let (flen, n) = read_len(base);
            let (vlen, m) = read_len(base.add(n + flen));
            (n, flen, n + flen + m, vlen)
        }
    }

    /// Bytes this pair allocates.
    pub fn alloc_size(&self) -> usize {
        let (_, _, vat, vlen) = self.parts();
        vat + vlen
    }

    pub fn field(&self) -> &[u8] {
        let (fat, flen, _, _) = self.parts();
        // SAFETY: the field bytes lie inside the block, alive as long as self.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(fat), flen) }
    }

    pub fn value(&self) -> &[u8] {
        let (_, _, vat, vlen) = self.parts();
        // SAFETY: as in `field`.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(vat), vlen) }
    }

    /// Replaces the value (the block is rebuilt).
    pub fn set_value(&mut self, value: &[u8]) {
        let new = Pair::new(self.field(), value);
        *self = new;
    }

    /// Bytes a pair of these lengths allocates.
    pub fn size_for(field: usize, value: usize) -> usize {
        varint_len(field) + field + varint_len(value) + value
    }
}

impl Clone for Pair {
    fn clone(&self) -> Pair {
        Pair::new(self.field(), self.value())
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let size = self.alloc_size();
        // SAFETY: the block was allocated by `new` with this size and alignment 1.
        unsafe { dealloc(self.0.as_ptr(), Layout::from_size_align_unchecked(size, 1)) };
    }
}

// SAFETY: repr(transparent) over a non-null pointer; into_raw/from_raw move ownership.
unsafe impl ThinEntry for Pair {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Pair(raw)
    }
    fn key(&self) -> &[u8] {
        self.field()
    }
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}={:?}", String::from_utf8_lossy(self.field()), String::from_utf8_lossy(self.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_round_trips_and_rebuilds() {
        let mut p = Pair::new(b"field", b"value");
        assert_eq!(p.field(), b"field");
        assert_eq!(p.value(), b"value");
        assert_eq!(p.alloc_size(), 12);
        assert_eq!(Pair::size_for(5, 5), 12);
        let long = vec![b'v'; 300];
        p.set_value(&long);
        assert_eq!(p.field(), b"field");
        assert_eq!(p.value(), &long[..]);
        assert_eq!(p.alloc_size(), 1 + 5 + 2 + 300);
        let empty = Pair::new(b"", b"");
        assert_eq!((empty.field(), empty.value()), (&b""[..], &b""[..]));
        let c = p.clone();
        assert_eq!(c.value(), p.value());
    }
}
