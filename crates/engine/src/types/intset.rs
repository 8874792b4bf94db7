//! The `intset` encoding of small all-integer sets, as Redis's intset.c lays it out: a sorted
//! array of integers in the narrowest width (16, 32 or 64 bits) that holds every member.
//!
//! Adding a member that needs a wider type upgrades the whole array (and, like Redis, an
//! intset never downgrades). Lookups are binary searches; an insertion or removal moves the
//! tail and rebuilds the block at its exact size (Redis's intsetResize reallocates too). The
//! value is a thin pointer, so a set stays two words.

use std::ptr::NonNull;

use super::tagged::{alloc_block, free_block, ThinBlock};

/// Header bytes: the member width, then the member count as a little-endian u32.
const HEADER: usize = 5;

/// A sorted array of distinct integers (see the module docs): a thin pointer to one block
/// `[width][count: u32 LE][members, little-endian, width bytes each]`.
#[repr(transparent)]
pub struct IntSet(NonNull<u8>);

// IntSet owns its block like a Box<[u8]> would.
unsafe impl Send for IntSet {}
unsafe impl Sync for IntSet {}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::new()
    }
}

fn width_for(x: i64) -> usize {
    if i16::try_from(x).is_ok() {
        2
    } else if i32::try_from(x).is_ok() {
        4
    } else {
        8
    }
}

fn encode(x: i64, width: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..width].copy_from_slice(&x.to_le_bytes()[..width]);
    out
}

fn decode(bytes: &[u8]) -> i64 {
    match *bytes {
        [a, b] => i16::from_le_bytes([a, b]) as i64,
        [a, b, c, d] => i32::from_le_bytes([a, b, c, d]) as i64,
        [a, b, c, d, e, f, g, h] => i64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::build(2, 0, |_| {})
    }

    /// A block for `len` members of `width` bytes, filled by `fill` (which gets the members'
    /// bytes to write, already sized).
    fn build(width: usize, len: usize, fill: impl FnOnce(&mut [u8])) -> IntSet {
        let block = alloc_block(HEADER + len * width, |out| {
            out[0] = width as u8;
            out[1..HEADER].copy_from_slice(&(len as u32).to_le_bytes());
            fill(&mut out[HEADER..]);
        });
        IntSet(block)
    }

    fn block(&self) -> &[u8] {
        // SAFETY: the header is always there; the members follow it, as `build` wrote them.
        unsafe {
            let p = self.0.as_ptr();
            let len = u32::from_le_bytes([*p.add(1), *p.add(2), *p.add(3), *p.add(4)]) as usize;
            std::slice::from_raw_parts(p, HEADER + len * (*p as usize))
        }
    }

    fn members(&self) -> &[u8] {
        &self.block()[HEADER..]
    }

    pub fn len(&self) -> usize {
        self.members().len() / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes per member.
    pub fn width(&self) -> usize {
        self.block()[0] as usize
    }

    /// Bytes the block takes.
    pub fn bytes(&self) -> usize {
        self.block().len()
    }

    /// Redis's own layout of this intset (an RDB SET_INTSET payload): the width and count as
    /// little-endian u32s, then the members as they are stored here.
    pub fn to_redis_bytes(&self) -> Vec<u8> {
        let members = self.members();
        let mut out = Vec::with_capacity(8 + members.len());
        out.extend_from_slice(&(self.width() as u32).to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        out.extend_from_slice(members);
        out
    }

    /// The member at `pos` (< len), in ascending order.
    pub fn get(&self, pos: usize) -> i64 {
        let w = self.width();
        decode(&self.members()[pos * w..(pos + 1) * w])
    }

    /// Where `x` is (Ok) or would go (Err).
    fn search(&self, x: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&x) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, x: i64) -> bool {
        width_for(x) <= self.width() && self.search(x).is_ok()
    }

    /// Adds `x`; false if it was already a member.
    pub fn insert(&mut self, x: i64) -> bool {
        let len = self.len();
        let w = self.width();
        if width_for(x) > w {
            // A value that needs a wider type is below or above every current member.
            let nw = width_for(x);
            let old = self.members();
            let new = IntSet::build(nw, len + 1, |out| {
                let shift = usize::from(x < 0);
                for i in 0..len {
                    let v = decode(&old[i * w..(i + 1) * w]);
                    out[(i + shift) * nw..(i + shift + 1) * nw].copy_from_slice(&encode(v, nw)[..nw]);
                }
                let at = if x < 0 { 0 } else { len };
                out[at * nw..(at + 1) * nw].copy_from_slice(&encode(x, nw)[..nw]);
            });
            *self = new;
            return true;
        }
        let Err(pos) = self.search(x) else { return false };
        let old = self.members();
        let new = IntSet::build(w, len + 1, |out| {
            out[..pos * w].copy_from_slice(&old[..pos * w]);
            out[pos * w..(pos + 1) * w].copy_from_slice(&encode(x, w)[..w]);
            out[(pos + 1) * w..].copy_from_slice(&old[pos * w..]);
        });
        *self = new;
        true
    }

    /// Removes `x`; false if it was not a member.
    pub fn remove(&mut self, x: i64) -> bool {
        if width_for(x) > self.width() {
            return false;
        }
        let Ok(pos) = self.search(x) else { return false };
        self.remove_index(pos);
        true
    }

    /// Removes the member at `pos` (< len). Like Redis, the width never shrinks.
    pub fn remove_index(&mut self, pos: usize) {
        let (len, w) = (self.len(), self.width());
        if pos >= len {
            return;
        }
        let old = self.members();
        let new = IntSet::build(w, len - 1, |out| {
            out[..pos * w].copy_from_slice(&old[..pos * w]);
            out[pos * w..].copy_from_slice(&old[(pos + 1) * w..]);
        });
        *self = new;
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.members().chunks_exact(self.width()).map(decode)
    }
}

impl Clone for IntSet {
    fn clone(&self) -> IntSet {
        let members = self.members();
        IntSet::build(self.width(), self.len(), |out| out.copy_from_slice(members))
    }
}

impl Drop for IntSet {
    fn drop(&mut self) {
        let size = self.bytes();
        // SAFETY: the block came from `alloc_block` with this size.
        unsafe { free_block(self.0, size) };
    }
}

// SAFETY: repr(transparent) over a pointer from `alloc_block` (2-aligned); every method that
// replaces the block allocates the new one the same way.
unsafe impl ThinBlock for IntSet {
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        IntSet(raw)
    }
}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_upgrades_width() {
        let mut s = IntSet::new();
        assert!(s.insert(5));
        assert!(s.insert(-3));
        assert!(!s.insert(5));
        assert_eq!(s.width(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width(), 4);
        assert!(s.insert(-5_000_000_000));
        assert_eq!(s.width(), 8);
        assert!(s.insert(1));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-5_000_000_000, -3, 1, 5, 70_000]);
        assert!(s.contains(70_000) && !s.contains(2));
        assert!(s.remove(-3) && !s.remove(-3));
        assert_eq!(s.len(), 4);
        assert_eq!(s.bytes(), 5 + 32);
        // Never downgrades.
        assert!(s.remove(-5_000_000_000));
        assert_eq!(s.width(), 8);
    }

    #[test]
    fn out_of_width_lookups_miss() {
        let mut s = IntSet::new();
        s.insert(1);
        assert!(!s.contains(i64::MAX));
        assert!(!s.contains(i64::MIN));
        assert!(!s.remove(100_000));
    }
}
