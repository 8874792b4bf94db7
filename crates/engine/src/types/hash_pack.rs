//! The `listpack` encoding of small hashes: every field and value in one packed buffer.
//!
//! Redis keeps a hash with few, short fields in a listpack: one allocation, elements one after
//! another, searched linearly. This buffer plays the same part with a simpler element format
//! that is only ever walked forwards: a LEB128 length, then the bytes. `f1`/`v1` costs three
//! bytes per element (a Redis listpack spends four), and the whole hash is that one buffer
//! after a two-number header (data length, pair count). Fields and values alternate, in insertion order, which is the order HGETALL,
//! HKEYS and HSCAN report, as Redis does for a listpack.
//!
//! The buffer is one block sized exactly to its contents, behind a thin pointer: a change
//! rebuilds it (Redis's listpack reallocates too), which keeps small hashes free of spare
//! capacity and the hash value itself pointer-sized.

use std::ptr::NonNull;

use super::tagged::{alloc_block, free_block, ThinBlock};

/// Bytes LEB128 takes for `n`.
pub(super) fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Appends `n` as LEB128.
pub(super) fn push_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 length at the start of `buf`: (value, bytes used). The buffers are ours, so
/// a malformed one is a bug; it reads as an empty element rather than past the end.
pub(super) fn read_varint(buf: &[u8]) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    for (i, &b) in buf.iter().enumerate() {
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (n, i + 1);
        }
        shift += 7;
    }
    (0, buf.len())
}

/// Reads a LEB128 length at `p`: (value, bytes used).
///
/// # Safety
/// `p` must point at a complete LEB128 number.
pub(super) unsafe fn read_len(p: *const u8) -> (usize, usize) {
    let mut n = 0usize;
    let mut i = 0;
    loop {
        let b = *p.add(i);
        n |= ((b & 0x7f) as usize) << (7 * i);
        i += 1;
        if b & 0x80 == 0 {
            return (n, i);
        }
    }
}

/// Field/value pairs packed in one buffer (see the module docs).
///
/// A thin pointer to one allocation `[LEB128 data length][LEB128 pair count][data]`, so a
/// hash value stays pointer-sized and a small hash costs a single exactly-sized block.
#[repr(transparent)]
pub struct PackedPairs(NonNull<u8>);

// PackedPairs owns its block like a Box<[u8]> would.
unsafe impl Send for PackedPairs {}
unsafe impl Sync for PackedPairs {}

/// Where a pair sits in the data.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Start of the field's length prefix.
    start: usize,
    /// Start of the value's length prefix.
    value_at: usize,
    /// One past the value's last byte.
    end: usize,
}

impl Default for PackedPairs {
    fn default() -> Self {
        PackedPairs::new()
    }
}

impl PackedPairs {
    pub fn new() -> PackedPairs {
        PackedPairs::from_data(&[], 0)
    }

    /// A block holding `data` (`pairs` pairs), as several slices laid end to end.
    fn from_parts(parts: &[&[u8]], pairs: usize) -> PackedPairs {
        let data_len: usize = parts.iter().map(|p| p.len()).sum();
        let mut head = Vec::with_capacity(20);
        push_varint(&mut head, data_len);
        push_varint(&mut head, pairs);
        let block = alloc_block(head.len() + data_len, |out| {
            let mut at = head.len();
            out[..at].copy_from_slice(&head);
            for p in parts {
                out[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
        });
        PackedPairs(block)
    }

    fn from_data(data: &[u8], pairs: usize) -> PackedPairs {
        PackedPairs::from_parts(&[data], pairs)
    }

    /// (data length, pair count, offset of the data).
    fn header(&self) -> (usize, usize, usize) {
        // SAFETY: the block starts with two complete LEB128 numbers, written by `from_parts`.
        unsafe {
            let p = self.0.as_ptr();
            let (data_len, n) = read_len(p);
            let (pairs, m) = read_len(p.add(n));
            (data_len, pairs, n + m)
        }
    }

    fn data(&self) -> &[u8] {
        let (len, _, at) = self.header();
        // SAFETY: the data follows the header inside the block, alive as long as self.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(at), len) }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.header().1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the block.
    pub fn bytes(&self) -> usize {
        let (len, _, at) = self.header();
        at + len
    }

    /// The element starting at `at` in `data`: (bytes, offset after it).
    fn element(data: &[u8], at: usize) -> (&[u8], usize) {
        let (len, n) = read_varint(&data[at..]);
        let start = at + n;
        let end = (start + len).min(data.len());
        (&data[start..end], end)
    }

    fn find(&self, field: &[u8]) -> Option<Slot> {
        let data = self.data();
        let mut at = 0;
        while at < data.len() {
            let (f, value_at) = Self::element(data, at);
            let (_, end) = Self::element(data, value_at);
            if f == field {
                return Some(Slot { start: at, value_at, end });
            }
            at = end;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|s| Self::element(self.data(), s.value_at).0)
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.find(field).is_some()
    }

    /// Rebuilds the block with `range` of the data replaced by `with`.
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8], pairs: usize) {
        let data = self.data();
        let new = PackedPairs::from_parts(&[&data[..range.start], with, &data[range.end..]], pairs);
        *self = new;
    }

    /// Sets a field, returning true if it was already there (its value is replaced in place).
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut encoded = Vec::with_capacity(field.len() + value.len() + 4);
        match self.find(field) {
            Some(slot) => {
                push_varint(&mut encoded, value.len());
                encoded.extend_from_slice(value);
                self.splice(slot.value_at..slot.end, &encoded, self.len());
                true
            }
            None => {
                push_varint(&mut encoded, field.len());
                encoded.extend_from_slice(field);
                push_varint(&mut encoded, value.len());
                encoded.extend_from_slice(value);
                let end = self.data().len();
                self.splice(end..end, &encoded, self.len() + 1);
                false
            }
        }
    }

    /// Appends a pair whose field is known to be absent.
    pub fn push_new(&mut self, field: &[u8], value: &[u8]) {
        let mut encoded = Vec::with_capacity(field.len() + value.len() + 4);
        push_varint(&mut encoded, field.len());
        encoded.extend_from_slice(field);
        push_varint(&mut encoded, value.len());
        encoded.extend_from_slice(value);
        let end = self.data().len();
        self.splice(end..end, &encoded, self.len() + 1);
    }

    /// Removes a field; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(slot) => {
                self.splice(slot.start..slot.end, &[], self.len() - 1);
                true
            }
            None => false,
        }
    }

    /// The pairs in order.
    pub fn iter(&self) -> PairIter<'_> {
        PairIter { data: self.data(), at: 0 }
    }
}

impl Clone for PackedPairs {
    fn clone(&self) -> PackedPairs {
        PackedPairs::from_data(self.data(), self.len())
    }
}

impl Drop for PackedPairs {
    fn drop(&mut self) {
        let size = self.bytes();
        // SAFETY: the block came from `alloc_block` with this size.
        unsafe { free_block(self.0, size) };
    }
}

// SAFETY: repr(transparent) over a pointer from `alloc_block` (2-aligned); every method that
// replaces the block allocates the new one the same way.
unsafe impl ThinBlock for PackedPairs {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        PackedPairs(raw)
    }
}

impl std::fmt::Debug for PackedPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

pub struct PairIter<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Iterator for PairIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.data.len() {
            return None;
        }
        let data: &'a [u8] = self.data;
        let (field, value_at) = PackedPairs::element(data, self.at);
        let (value, end) = PackedPairs::element(data, value_at);
        self.at = end;
        Some((field, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_replace_remove_keep_insertion_order() {
        let mut p = PackedPairs::new();
        assert!(!p.set(b"f1", b"v1"));
        assert!(!p.set(b"f2", b""));
        assert!(!p.set(b"", b"empty field"));
        assert_eq!(p.len(), 3);
        assert_eq!(p.bytes(), 2 + 3 + 3 + 3 + 1 + 1 + 1 + 11);
        assert_eq!(p.get(b"f2"), Some(&b""[..]));
        assert_eq!(p.get(b""), Some(&b"empty field"[..]));
        assert!(p.set(b"f1", b"a much longer value than before"));
        assert_eq!(p.get(b"f1"), Some(&b"a much longer value than before"[..]));
        let fields: Vec<&[u8]> = p.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec![&b"f1"[..], b"f2", b""]);
        assert!(p.remove(b"f2"));
        assert!(!p.remove(b"f2"));
        assert_eq!(p.len(), 2);
        assert!(p.get(b"f2").is_none());
        assert_eq!(p.iter().count(), 2);
    }

    #[test]
    fn long_elements_use_multibyte_lengths() {
        let mut p = PackedPairs::new();
        let big = vec![b'x'; 70_000];
        p.set(&big, &big);
        p.push_new(b"k", b"v");
        assert_eq!(p.get(&big).map(|v| v.len()), Some(70_000));
        assert_eq!(p.get(b"k"), Some(&b"v"[..]));
        assert!(p.remove(&big));
        assert_eq!(p.bytes(), 6);
    }
}
