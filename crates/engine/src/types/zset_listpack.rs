//! The compact encoding of a small sorted set (what Redis calls `listpack`): every
//! (member, score) pair in order, packed in one buffer.
//!
//! Layout: a 4-byte little-endian element count, then per element the member length as
//! LEB128, the member bytes and the score. Integer scores (|s| ≤ 2^53, the common case)
//! are a LEB128 of their zigzag value shifted left by one, so 0‥31 take one byte; any other
//! double is a `0x01` byte followed by its 8 bytes. The low bit of the first score byte
//! tells the two apart. Scores round-trip exactly, except that -0.0 reads back as 0 (as
//! in Redis's listpack).
//!
//! Like Redis's listpack, lookups are linear scans and a change reallocates the buffer to its
//! exact new size and moves the tail (as Redis's lpInsert does); the encoding is only used while the set
//! is small (`zset-max-listpack-*`). The buffer is one block behind a thin pointer, its byte
//! length in a 4-byte prefix, so a small sorted set costs a single block without spare
//! capacity and the value itself stays pointer-sized.

use std::cmp::Ordering;
use std::ptr::NonNull;

use super::skiplist::cmp_elements;
use super::tagged::{alloc_block, free_block, realloc_block};

/// Bytes of the count header.
const HEADER: usize = 4;
/// Largest integer a score may be to use the integer form (every such integer is exact).
const MAX_INT_SCORE: f64 = 9_007_199_254_740_992.0;
const FLOAT_TAG: u8 = 0x01;
/// Bytes of the block's length prefix, before the count header.
const PREFIX: usize = 4;

/// The packed elements (see the module docs): a thin pointer to one block
/// `[buffer length: u32 LE][count: u32 LE][elements]`, where the buffer is the count header and
/// the elements (byte offsets below count from the buffer's start).
pub struct Listpack(NonNull<u8>);

// Listpack owns its block like a Box<[u8]> would.
unsafe impl Send for Listpack {}
unsafe impl Sync for Listpack {}

/// One decoded element and where it sits.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub member: &'a [u8],
    pub score: f64,
    /// Byte offset of the element.
    pub pos: usize,
    /// Byte offset just past it.
    pub end: usize,
}

fn varint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// Where encoded bytes go: a growing buffer, or a small one on the stack.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Room for a length prefix or a score (at most 10 bytes each).
#[derive(Default)]
struct Small {
    buf: [u8; 10],
    len: usize,
}

impl Small {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Sink for Small {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

fn put_varint(out: &mut impl Sink, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.put(&[byte]);
            return;
        }
        out.put(&[byte | 0x80]);
    }
}

/// Reads a LEB128 at `pos`: (value, bytes used). The buffer is our own encoding, so the
/// bytes are well formed.
fn get_varint(buf: &[u8], pos: usize) -> (u64, usize) {
    let mut n = 0u64;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let byte = buf[i];
        n |= u64::from(byte & 0x7f) << shift;
        i += 1;
        if byte & 0x80 == 0 {
            return (n, i - pos);
        }
        shift += 7;
    }
}

/// The integer form of a score, if it has one. -0.0 becomes 0, as in Redis, whose
/// listpack stores the score text "-0" as the integer 0.
fn int_score(score: f64) -> Option<i64> {
    (score.fract() == 0.0 && score.abs() <= MAX_INT_SCORE).then_some(score as i64)
}

fn put_score(out: &mut impl Sink, score: f64) {
    match int_score(score) {
        Some(i) => {
            let zigzag = ((i << 1) ^ (i >> 63)) as u64;
            put_varint(out, zigzag << 1);
        }
        None => {
            out.put(&[FLOAT_TAG]);
            out.put(&score.to_le_bytes());
        }
    }
}

fn score_len(score: f64) -> usize {
    match int_score(score) {
        Some(i) => varint_len((((i << 1) ^ (i >> 63)) as u64) << 1),
        None => 9,
    }
}

/// Reads a score at `pos`: (score, bytes used).
fn get_score(buf: &[u8], pos: usize) -> (f64, usize) {
    if buf[pos] & 1 == FLOAT_TAG {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[pos + 1..pos + 9]);
        (f64::from_le_bytes(b), 9)
    } else {
        let (v, n) = get_varint(buf, pos);
        let zigzag = v >> 1;
        let i = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
        (i as f64, n)
    }
}

/// Bytes an element takes.
pub fn element_len(member: &[u8], score: f64) -> usize {
    varint_len(member.len() as u64) + member.len() + score_len(score)
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Listpack {
    pub fn new() -> Listpack {
        Listpack::from_parts(&[], 0)
    }

    /// A block holding `count` elements whose encodings are `parts`, laid end to end.
    fn from_parts(parts: &[&[u8]], count: usize) -> Listpack {
        let len = HEADER + parts.iter().map(|p| p.len()).sum::<usize>();
        let block = alloc_block(PREFIX + len, |out| {
            out[..PREFIX].copy_from_slice(&(len as u32).to_le_bytes());
            out[PREFIX..PREFIX + HEADER].copy_from_slice(&(count as u32).to_le_bytes());
            let mut at = PREFIX + HEADER;
            for p in parts {
                out[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
        });
        Listpack(block)
    }

    /// A listpack holding `items`, which must be sorted and unique.
    pub fn from_sorted<'a>(items: impl IntoIterator<Item = (&'a [u8], f64)>, count_hint: usize) -> Listpack {
        let mut data = Vec::with_capacity(count_hint * 8);
        let mut n = 0;
        for (member, score) in items {
            put_varint(&mut data, member.len() as u64);
            data.extend_from_slice(member);
            put_score(&mut data, score);
            n += 1;
        }
        Listpack::from_parts(&[&data], n)
    }

    /// The count header and the elements.
    fn buf(&self) -> &[u8] {
        // SAFETY: the block starts with the buffer's length, and the buffer follows it, as
        // `from_parts` wrote them; it lives as long as self.
        unsafe {
            let p = self.0.as_ptr();
            let len = u32::from_le_bytes([*p, *p.add(1), *p.add(2), *p.add(3)]) as usize;
            std::slice::from_raw_parts(p.add(PREFIX), len)
        }
    }

    pub fn len(&self) -> usize {
        let b = self.buf();
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total bytes of the encoding (Redis's lpBytes counterpart).
    pub fn bytes(&self) -> usize {
        self.buf().len()
    }

    /// Bytes allocated.
    pub fn allocated_bytes(&self) -> usize {
        PREFIX + self.bytes()
    }

    /// The element at byte offset `pos` (an element boundary below `bytes()`).
    pub fn item_at(&self, pos: usize) -> Item<'_> {
        let buf = self.buf();
        let (len, n) = get_varint(buf, pos);
        let start = pos + n;
        let member_end = start + len as usize;
        let (score, sn) = get_score(buf, member_end);
        Item { member: &buf[start..member_end], score, pos, end: member_end + sn }
    }

    /// Elements in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { lp: self, pos: HEADER }
    }

    /// Elements in order from byte offset `pos`.
    pub fn iter_from(&self, pos: usize) -> Iter<'_> {
        Iter { lp: self, pos }
    }

    /// Byte offsets of every element, in order (for walking backwards).
    pub fn positions(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.iter().map(|it| it.pos));
        out
    }

    /// Byte offset of the element at 0-based index `index`, or the end.
    pub fn offset_of_index(&self, index: usize) -> usize {
        self.iter().nth(index).map_or(self.bytes(), |it| it.pos)
    }

    pub fn find(&self, member: &[u8]) -> Option<Item<'_>> {
        self.iter().find(|it| it.member == member)
    }

    /// 0-based index of `member`.
    pub fn index_of(&self, member: &[u8]) -> Option<usize> {
        self.iter().position(|it| it.member == member)
    }

    /// Inserts (member, score) at its place; the member must not be present.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let at = self
            .iter()
            .find(|it| cmp_elements(it.score, it.member, score, member) == Ordering::Greater)
            .map_or(self.bytes(), |it| it.pos);
        // The element's length prefix and score, encoded on the stack.
        let mut head = Small::default();
        put_varint(&mut head, member.len() as u64);
        let mut tail = Small::default();
        put_score(&mut tail, score);
        let old = self.bytes();
        let add = head.len + member.len() + tail.len;
        let count = self.len() + 1;
        // Grow in place where the allocator can (Redis's lpInsert reallocates too), move the
        // tail up and write the element into the gap.
        let base = self.resize(old + add);
        // SAFETY: the block now holds PREFIX + old + add bytes, the first PREFIX + old of them
        // the old contents; `at` is an element boundary, so at <= old.
        unsafe {
            let data = base.add(PREFIX);
            std::ptr::copy(data.add(at), data.add(at + add), old - at);
            let mut w = data.add(at);
            for part in [head.bytes(), member, tail.bytes()] {
                std::ptr::copy_nonoverlapping(part.as_ptr(), w, part.len());
                w = w.add(part.len());
            }
        }
        self.set_header(old + add, count);
    }

    /// Removes the elements in the byte range `from..to` (element boundaries), `count` of
    /// them.
    pub fn remove_span(&mut self, from: usize, to: usize, count: usize) {
        let old = self.bytes();
        let n = self.len() - count;
        // SAFETY: HEADER <= from <= to <= old, all inside the block's buffer.
        unsafe {
            let data = self.0.as_ptr().add(PREFIX);
            std::ptr::copy(data.add(to), data.add(from), old - to);
        }
        let new = old - (to - from);
        self.resize(new);
        self.set_header(new, n);
    }

    /// Reallocates the block for a buffer of `len` bytes, keeping the common prefix of the
    /// contents; the caller then fixes the header with [`Listpack::set_header`].
    fn resize(&mut self, len: usize) -> *mut u8 {
        let old = PREFIX + self.bytes();
        // SAFETY: the block was allocated with `old` bytes by `from_parts` or `resize`.
        self.0 = unsafe { realloc_block(self.0, old, PREFIX + len) };
        self.0.as_ptr()
    }

    /// Writes the buffer length and the element count.
    fn set_header(&mut self, len: usize, count: usize) {
        // SAFETY: the block holds at least PREFIX + HEADER bytes.
        unsafe {
            let p = self.0.as_ptr();
            std::ptr::copy_nonoverlapping((len as u32).to_le_bytes().as_ptr(), p, PREFIX);
            std::ptr::copy_nonoverlapping((count as u32).to_le_bytes().as_ptr(), p.add(PREFIX), HEADER);
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(it) => {
                let (from, to) = (it.pos, it.end);
                self.remove_span(from, to, 1);
                true
            }
            None => false,
        }
    }

    /// Removes the elements with 0-based indexes `start..=end`; returns how many.
    pub fn remove_index_range(&mut self, start: usize, end: usize) -> usize {
        let mut from = None;
        let mut to = HEADER;
        let mut count = 0;
        for (i, it) in self.iter().enumerate() {
            if i > end {
                break;
            }
            if i >= start {
                from.get_or_insert(it.pos);
                to = it.end;
                count += 1;
            }
        }
        if let Some(from) = from {
            self.remove_span(from, to, count);
        }
        count
    }

    /// Removes the run of elements starting at byte offset `from` while `in_range` holds
    /// for them; returns how many.
    pub fn remove_run(&mut self, from: usize, mut in_range: impl FnMut(&Item) -> bool) -> usize {
        let mut to = from;
        let mut count = 0;
        for it in self.iter_from(from) {
            if !in_range(&it) {
                break;
            }
            to = it.end;
            count += 1;
        }
        if count > 0 {
            self.remove_span(from, to, count);
        }
        count
    }
}

impl Drop for Listpack {
    fn drop(&mut self) {
        let size = PREFIX + self.bytes();
        // SAFETY: the block was allocated by `from_parts` with this size.
        unsafe { free_block(self.0, size) };
    }
}

impl Clone for Listpack {
    fn clone(&self) -> Listpack {
        let buf = self.buf();
        Listpack::from_parts(&[&buf[HEADER..]], self.len())
    }
}

impl PartialEq for Listpack {
    fn eq(&self, other: &Listpack) -> bool {
        self.buf() == other.buf()
    }
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|it| (String::from_utf8_lossy(it.member), it.score))).finish()
    }
}

pub struct Iter<'a> {
    lp: &'a Listpack,
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        if self.pos >= self.lp.bytes() {
            return None;
        }
        let it = self.lp.item_at(self.pos);
        self.pos = it.end;
        Some(it)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_exactly() {
        for s in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            31.0,
            -32.0,
            1e15,
            MAX_INT_SCORE,
            -MAX_INT_SCORE,
            MAX_INT_SCORE * 2.0,
            0.1,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let mut v = Vec::new();
            put_score(&mut v, s);
            assert_eq!(v.len(), score_len(s));
            let (back, n) = get_score(&v, 0);
            assert_eq!(n, v.len());
            let expected = if s == 0.0 { 0.0f64 } else { s };
            assert_eq!(back.to_bits(), expected.to_bits(), "{s}");
        }
        let mut v = Vec::new();
        put_score(&mut v, 7.0);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn matches_a_sorted_model_through_inserts_and_removals() {
        let mut lp = Listpack::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for step in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let member = format!("m{}", x % 97).into_bytes();
            let member = if x % 5 == 0 { member.repeat(40) } else { member };
            let score = if x % 3 == 0 { (x % 1000) as f64 / 8.0 } else { (x % 50) as f64 };
            if lp.remove(&member) {
                model.retain(|(_, m)| m != &member);
            } else if step % 7 != 0 {
                lp.insert(&member, score);
                model.push((score, member));
                model.sort_by(|a, b| cmp_elements(a.0, &a.1, b.0, &b.1));
            }
            if step % 50 == 0 && !model.is_empty() {
                let expected = model.len().saturating_sub(1).min(3);
                assert_eq!(lp.remove_index_range(1, 3), expected);
                model.drain(1..1 + expected);
            }
            let got: Vec<(f64, Vec<u8>)> = lp.iter().map(|it| (it.score, it.member.to_vec())).collect();
            assert_eq!(got, model);
            assert_eq!(lp.len(), model.len());
        }
        assert_eq!(lp.clone(), lp);
    }

    #[test]
    fn keeps_order_and_removes() {
        let mut lp = Listpack::new();
        lp.insert(b"b", 2.0);
        lp.insert(b"a", 2.0);
        lp.insert(b"z", -1.5);
        lp.insert(b"c", 10.0);
        let got: Vec<_> = lp.iter().map(|it| (it.member.to_vec(), it.score)).collect();
        assert_eq!(got, vec![(b"z".to_vec(), -1.5), (b"a".to_vec(), 2.0), (b"b".to_vec(), 2.0), (b"c".to_vec(), 10.0)]);
        assert_eq!(lp.len(), 4);
        assert_eq!(lp.index_of(b"b"), Some(2));
        assert!(lp.remove(b"a"));
        assert!(!lp.remove(b"a"));
        assert_eq!(lp.remove_index_range(1, 5), 2);
        assert_eq!(lp.len(), 1);
        assert_eq!(lp.find(b"z").unwrap().score, -1.5);
        let rebuilt = Listpack::from_sorted(lp.iter().map(|it| (it.member, it.score)), 1);
        assert_eq!(rebuilt, lp);
    }
}
