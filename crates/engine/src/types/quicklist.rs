//! Redis's quicklist: a list stored as a sequence of nodes, each a [`listpack`] of several
//! elements (or, for an element at least the packed threshold, a "plain" node holding just
//! its bytes). Interior nodes may be LZF-compressed ([`lzf`]).
//!
//! The bounds are Redis 7.0's, so lists take the same memory and have the same nodes:
//! * `list-max-listpack-size` (the *fill*): negative -1..-5 limits a node to 4, 8, 16, 32 or
//!   64 KiB; positive limits its entry count (and then its size to 8 KiB, the safety limit).
//! * `list-compress-depth`: how many nodes at each end stay uncompressed (0: none is
//!   compressed). A node smaller than 48 bytes, or that LZF shrinks by less than 8 bytes,
//!   stays as it is.
//! * the packed threshold (DEBUG QUICKLIST-PACKED-THRESHOLD, 1 GiB by default).
//!
//! Nodes live in a `VecDeque` instead of a doubly linked list: pushes and pops at either end
//! are O(1), finding an index walks node counts from the nearer end (O(nodes), as Redis
//! does), and inserting a node in the middle moves node headers (32 bytes each, a few per
//! thousand elements). Reads of a compressed node decompress into a temporary buffer and
//! leave the list unchanged; writes decompress the node and compress it again afterwards.

pub mod listpack;
pub mod lzf;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use listpack::Elem;
use listpack::HDR;

/// Elements at least this long get a plain node of their own (Redis's packed_threshold).
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);
const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;

/// Node size limits for fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest multi-element node when the fill is an entry count.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Over-estimate of an entry's overhead when checking whether it fits.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
const MIN_COMPRESS_BYTES: usize = 48;
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Limits of the 16-bit fill and compress fields.
pub const FILL_MAX: i64 = 32767;
pub const COMPRESS_MAX: i64 = 65535;

/// Sets the packed threshold (Redis's quicklistisSetPackedThreshold): 0 restores the
/// default; values above 4 GiB - 1 MiB are refused.
pub fn set_packed_threshold(sz: u64) -> bool {
    if sz > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let sz = if sz == 0 { DEFAULT_PACKED_THRESHOLD } else { sz as usize };
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

fn is_large(sz: usize) -> bool {
    #[cfg(test)]
    if let Some(t) = TEST_THRESHOLD.with(|t| t.get()) {
        return sz >= t;
    }
    sz >= PACKED_THRESHOLD.load(Ordering::Relaxed)
}

// Unit tests set a per-thread threshold so that tests running in parallel don't share one.
#[cfg(test)]
thread_local! {
    static TEST_THRESHOLD: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    Head,
    Tail,
}

const PLAIN: u8 = 1;
const COMPRESSED: u8 = 2;

#[derive(Clone, Debug)]
struct Node {
    /// A listpack; a plain node's element; or, compressed, the uncompressed size (u32 LE)
    /// followed by the LZF stream.
    data: Vec<u8>,
    count: u32,
    flags: u8,
}

impl Node {
    fn packed(value: &[u8]) -> Node {
        Node { data: listpack::with_one(value), count: 1, flags: 0 }
    }

    fn plain(value: &[u8]) -> Node {
        Node { data: value.to_vec(), count: 1, flags: PLAIN }
    }

    fn from_listpack(lp: Vec<u8>, count: usize) -> Node {
        Node { data: lp, count: count as u32, flags: 0 }
    }

    fn is_plain(&self) -> bool {
        self.flags & PLAIN != 0
    }

    fn is_compressed(&self) -> bool {
        self.flags & COMPRESSED != 0
    }

    /// Uncompressed size in bytes (Redis's node->sz).
    fn sz(&self) -> usize {
        if self.is_compressed() {
            u32::from_le_bytes([self.data[0], self.data[1], self.data[2], self.data[3]]) as usize
        } else {
            self.data.len()
        }
    }

    /// The uncompressed bytes.
    fn raw(&self) -> Cow<'_, [u8]> {
        if !self.is_compressed() {
            return Cow::Borrowed(&self.data);
        }
        // Our own compressor wrote this stream, so it always decodes.
        Cow::Owned(lzf::decompress(&self.data[4..], self.sz()).unwrap_or_default())
    }

    fn decompress(&mut self) {
        if self.is_compressed() {
            self.data = self.raw().into_owned();
            self.flags &= !COMPRESSED;
        }
    }

    /// Compresses the node if that saves enough (Redis's __quicklistCompressNode).
    fn compress(&mut self) {
        let sz = self.data.len();
        if self.is_compressed() || sz < MIN_COMPRESS_BYTES || sz > u32::MAX as usize {
            return;
        }
        let Some(stream) = lzf::compress(&self.data, sz - MIN_COMPRESS_IMPROVE) else { return };
        let mut data = Vec::with_capacity(4 + stream.len());
        data.extend_from_slice(&(sz as u32).to_le_bytes());
        data.extend_from_slice(&stream);
        self.data = data;
        self.flags |= COMPRESSED;
    }

    /// Redis's _quicklistNodeAllowInsert: whether an element of `sz` bytes may join.
    fn allow_insert(&self, fill: i32, sz: usize) -> bool {
        if self.is_plain() || is_large(sz) {
            return false;
        }
        let new_sz = self.sz() + sz + SIZE_ESTIMATE_OVERHEAD;
        if meets_size_level(new_sz, fill) {
            true
        } else if new_sz > SIZE_SAFETY_LIMIT {
            false
        } else {
            (self.count as i64) < fill as i64
        }
    }
}

/// Whether `sz` fits the size limit a negative fill sets.
fn meets_size_level(sz: usize, fill: i32) -> bool {
    if fill >= 0 {
        return false;
    }
    match OPTIMIZATION_LEVEL.get((-fill - 1) as usize) {
        Some(&limit) => sz <= limit,
        None => false,
    }
}

/// Redis's _quicklistNodeAllowMerge.
fn allow_merge(a: &Node, b: &Node, fill: i32) -> bool {
    if a.is_plain() || b.is_plain() {
        return false;
    }
    // Redis approximates the merged size by removing one listpack header and trailer.
    let merged = (a.sz() + b.sz()).saturating_sub(11);
    if meets_size_level(merged, fill) {
        true
    } else if merged > SIZE_SAFETY_LIMIT {
        false
    } else {
        (a.count + b.count) as i64 <= fill as i64
    }
}

/// A list value.
#[derive(Clone, Debug)]
pub struct QuickList {
    nodes: VecDeque<Node>,
    count: usize,
    fill: i32,
    compress: u32,
}

impl QuickList {
    /// An empty list with the given fill and compress depth (clamped like Redis's
    /// quicklistSetOptions).
    pub fn new(fill: i64, compress: i64) -> QuickList {
        QuickList {
            nodes: VecDeque::new(),
            count: 0,
            fill: fill.clamp(-5, FILL_MAX) as i32,
            compress: compress.clamp(0, COMPRESS_MAX) as u32,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Bytes allocated for the contents: node headers and node data.
    pub fn memory_usage(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.data.capacity()).sum::<usize>()
    }

    /// Allocations freeing this value takes (Redis counts quicklist nodes).
    pub fn free_effort(&self) -> usize {
        self.nodes.len()
    }

    /// Pushes an element at one end (Redis's quicklistPush).
    pub fn push(&mut self, at: Where, value: &[u8]) {
        let fill = self.fill;
        let large = is_large(value.len());
        let end = match at {
            Where::Head => self.nodes.front_mut(),
            Where::Tail => self.nodes.back_mut(),
        };
        match end {
            Some(node) if !large && node.allow_insert(fill, value.len()) => {
                node.decompress();
                let count = node.count as usize + 1;
                match at {
                    Where::Head => listpack::push_front(&mut node.data, value, count),
                    Where::Tail => listpack::push_back(&mut node.data, value, count),
                }
                node.count += 1;
            }
            end => {
                // The end node is complete: give back the growth reserve it will not use.
                if let Some(node) = end {
                    node.data.shrink_to_fit();
                }
                let node = if large { Node::plain(value) } else { Node::packed(value) };
                // Most lists have one node: don't reserve room for more until needed.
                if self.nodes.capacity() == 0 {
                    self.nodes.reserve_exact(1);
                }
                match at {
                    Where::Head => self.nodes.push_front(node),
                    Where::Tail => self.nodes.push_back(node),
                }
                self.fix_compression(None);
            }
        }
        self.count += 1;
    }

    /// Pops an element from one end.
    pub fn pop(&mut self, at: Where) -> Option<Vec<u8>> {
        let ni = match at {
            Where::Head => 0,
            Where::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(ni)?;
        node.decompress();
        let value;
        if node.is_plain() || node.count == 1 {
            value =
                if node.is_plain() { std::mem::take(&mut node.data) } else { listpack::get(&node.data, HDR).to_vec() };
            self.nodes.remove(ni);
            self.fix_compression(None);
        } else {
            let lp = &mut node.data;
            let p = match at {
                Where::Head => HDR,
                Where::Tail => listpack::last(lp)?,
            };
            value = listpack::get(lp, p).to_vec();
            node.count -= 1;
            listpack::delete(lp, p, 1, node.count as usize);
        }
        self.count -= 1;
        Some(value)
    }

    /// The node holding element `index` (< len) and the element's position in it.
    fn locate(&self, index: usize) -> (usize, usize) {
        if index < self.count / 2 {
            let mut acc = 0;
            for (i, node) in self.nodes.iter().enumerate() {
                let c = node.count as usize;
                if index < acc + c {
                    return (i, index - acc);
                }
                acc += c;
            }
        } else {
            let mut acc = self.count;
            for (i, node) in self.nodes.iter().enumerate().rev() {
                acc -= node.count as usize;
                if index >= acc {
                    return (i, index - acc);
                }
            }
        }
        (self.nodes.len().saturating_sub(1), 0)
    }

    /// Visits elements starting at `start` towards the tail (or the head if `reverse`) while
    /// `f` returns true.
    pub fn scan(&self, start: usize, reverse: bool, mut f: impl FnMut(Elem<'_>) -> bool) {
        if start >= self.count {
            return;
        }
        let (mut ni, local) = self.locate(start);
        let mut first_local = Some(local);
        loop {
            let node = &self.nodes[ni];
            let raw = node.raw();
            if node.is_plain() {
                if !f(Elem::Str(&raw)) {
                    return;
                }
            } else {
                let lp: &[u8] = &raw;
                let mut p = match first_local {
                    Some(l) => listpack::seek(lp, node.count as usize, l as i64),
                    None if reverse => listpack::last(lp),
                    None => listpack::first(lp),
                };
                while let Some(q) = p {
                    if !f(listpack::get(lp, q)) {
                        return;
                    }
                    p = if reverse { listpack::prev(lp, q) } else { listpack::next(lp, q) };
                }
            }
            first_local = None;
            if reverse {
                if ni == 0 {
                    return;
                }
                ni -= 1;
            } else {
                ni += 1;
                if ni >= self.nodes.len() {
                    return;
                }
            }
        }
    }

    /// Calls `f` with element `index` (negative: from the tail); false if out of range.
    pub fn with_index<R>(&self, index: i64, f: impl FnOnce(Elem<'_>) -> R) -> Option<R> {
        let idx = if index < 0 { self.count as i64 + index } else { index };
        if idx < 0 || idx as usize >= self.count {
            return None;
        }
        let mut f = Some(f);
        let mut out = None;
        self.scan(idx as usize, false, |e| {
            if let Some(f) = f.take() {
                out = Some(f(e));
            }
            false
        });
        out
    }

    /// Every element as owned bytes, head to tail (tests, debugging).
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.count);
        self.scan(0, false, |e| {
            out.push(e.to_vec());
            true
        });
        out
    }

    /// Replaces element `index` (negative: from the tail); false if out of range. Redis's
    /// quicklistReplaceEntry: in place within a packed node, otherwise the new element is
    /// inserted after the old one, which is then deleted.
    pub fn replace(&mut self, index: i64, value: &[u8]) -> bool {
        let idx = if index < 0 { self.count as i64 + index } else { index };
        if idx < 0 || idx as usize >= self.count {
            return false;
        }
        let idx = idx as usize;
        let (ni, local) = self.locate(idx);
        let large = is_large(value.len());
        let node = &mut self.nodes[ni];
        if !node.is_plain() && !large {
            node.decompress();
            let count = node.count as usize;
            if let Some(p) = listpack::seek(&node.data, count, local as i64) {
                listpack::replace(&mut node.data, p, value, count);
            }
            self.fix_compression(Some(ni..=ni));
        } else if node.is_plain() && large {
            node.data = value.to_vec();
            node.flags = PLAIN;
            self.fix_compression(Some(ni..=ni));
        } else {
            self.insert_at(ni, local, true, value);
            self.del_range(idx, 1);
        }
        true
    }

    /// Inserts `value` before or after the first element equal to `pivot`; false if there
    /// is none (LINSERT).
    pub fn insert_by_pivot(&mut self, pivot: &[u8], after: bool, value: &[u8]) -> bool {
        let pivot_int = listpack::string_to_i64(pivot);
        let mut found = None;
        'nodes: for (ni, node) in self.nodes.iter().enumerate() {
            let raw = node.raw();
            if node.is_plain() {
                if *raw == *pivot {
                    found = Some((ni, 0));
                    break;
                }
                continue;
            }
            let mut p = listpack::first(&raw);
            let mut local = 0;
            while let Some(q) = p {
                if listpack::get(&raw, q).matches(pivot, pivot_int) {
                    found = Some((ni, local));
                    break 'nodes;
                }
                local += 1;
                p = listpack::next(&raw, q);
            }
        }
        let Some((ni, local)) = found else { return false };
        self.insert_at(ni, local, after, value);
        true
    }

    /// Redis's _quicklistInsert: inserts next to element `local` of node `ni`.
    fn insert_at(&mut self, ni: usize, local: usize, after: bool, value: &[u8]) {
        let fill = self.fill;
        let sz = value.len();
        let node = &self.nodes[ni];
        let full = !node.allow_insert(fill, sz);
        let plain = node.is_plain();
        let at_tail = after && local + 1 == node.count as usize;
        let at_head = !after && local == 0;
        let avail_next = at_tail && self.nodes.get(ni + 1).is_some_and(|n| n.allow_insert(fill, sz));
        let avail_prev = at_head && ni > 0 && self.nodes[ni - 1].allow_insert(fill, sz);
        self.count += 1;
        if is_large(sz) {
            if plain || at_tail || at_head {
                let at = if after { ni + 1 } else { ni };
                self.nodes.insert(at, Node::plain(value));
                self.fix_compression(Some(at..=at));
            } else {
                let new_at = self.split_node(ni, local, after);
                // The plain node goes between the two halves.
                let at = if after { new_at } else { new_at + 1 };
                self.nodes.insert(at, Node::plain(value));
                self.fix_compression(Some(ni.min(at)..=ni.max(at) + 1));
            }
            return;
        }
        if !full {
            let node = &mut self.nodes[ni];
            node.decompress();
            let count = node.count as usize + 1;
            let target = if after { local + 1 } else { local };
            let p = listpack::seek(&node.data, node.count as usize, target as i64)
                .unwrap_or_else(|| listpack::eof(&node.data));
            listpack::insert(&mut node.data, p, value, count);
            node.count += 1;
            self.fix_compression(Some(ni..=ni));
        } else if avail_next {
            let next = &mut self.nodes[ni + 1];
            next.decompress();
            next.count += 1;
            listpack::push_front(&mut next.data, value, next.count as usize);
            self.fix_compression(Some(ni + 1..=ni + 1));
        } else if avail_prev {
            let prev = &mut self.nodes[ni - 1];
            prev.decompress();
            prev.count += 1;
            listpack::push_back(&mut prev.data, value, prev.count as usize);
            self.fix_compression(Some(ni - 1..=ni - 1));
        } else if at_tail || at_head {
            let at = if after { ni + 1 } else { ni };
            self.nodes.insert(at, Node::packed(value));
            self.fix_compression(Some(at..=at));
        } else {
            let new_at = self.split_node(ni, local, after);
            let new = &mut self.nodes[new_at];
            new.count += 1;
            if after {
                listpack::push_front(&mut new.data, value, new.count as usize);
            } else {
                listpack::push_back(&mut new.data, value, new.count as usize);
            }
            let center = if after { ni } else { ni + 1 };
            let touched = self.merge_around(center);
            self.fix_compression(Some(touched));
        }
    }

    /// Redis's _quicklistSplitNode: splits node `ni` around its element `local`. With
    /// `after`, the node keeps elements up to `local` and a new node after it takes the
    /// rest; otherwise a new node before it takes the elements before `local`. Returns the
    /// new node's index.
    fn split_node(&mut self, ni: usize, local: usize, after: bool) -> usize {
        let node = &mut self.nodes[ni];
        node.decompress();
        let count = node.count as usize;
        let cut = if after { local + 1 } else { local };
        let lp = &node.data;
        let end = listpack::eof(lp);
        let at = listpack::seek(lp, count, cut as i64).unwrap_or(end);
        let left = listpack::from_body(listpack::body(lp, HDR, at), cut);
        let right = listpack::from_body(listpack::body(lp, at, end), count - cut);
        if after {
            *node = Node::from_listpack(left, cut);
            self.nodes.insert(ni + 1, Node::from_listpack(right, count - cut));
            ni + 1
        } else {
            *node = Node::from_listpack(right, count - cut);
            self.nodes.insert(ni, Node::from_listpack(left, cut));
            ni
        }
    }

    /// Merges nodes `a` and `a + 1` into `a` if their sizes allow.
    fn try_merge(&mut self, a: usize) -> bool {
        let (Some(x), Some(y)) = (self.nodes.get(a), self.nodes.get(a + 1)) else { return false };
        if !allow_merge(x, y, self.fill) {
            return false;
        }
        let Some(second) = self.nodes.remove(a + 1) else { return false };
        let second_raw = second.raw();
        let first = &mut self.nodes[a];
        first.decompress();
        let body_end = listpack::eof(&second_raw);
        let count = first.count as usize + second.count as usize;
        let eof = listpack::eof(&first.data);
        first.data.truncate(eof);
        first.data.extend_from_slice(&second_raw[HDR..body_end]);
        first.data.push(listpack::EOF);
        listpack::set_header(&mut first.data, count);
        first.count = count as u32;
        true
    }

    /// Redis's _quicklistMergeNodes around `center`; returns the range of nodes that may
    /// have changed.
    fn merge_around(&mut self, mut center: usize) -> RangeInclusive<usize> {
        let lo = center.saturating_sub(2);
        if center >= 2 && self.try_merge(center - 2) {
            center -= 1;
        }
        if center + 2 < self.nodes.len() {
            self.try_merge(center + 1);
        }
        if center >= 1 && self.try_merge(center - 1) {
            center -= 1;
        }
        self.try_merge(center);
        let hi = (center + 1).min(self.nodes.len().saturating_sub(1));
        lo.min(hi)..=hi
    }

    /// Deletes `n` elements starting at `start` (Redis's quicklistDelRange).
    pub fn del_range(&mut self, start: usize, n: usize) {
        if start >= self.count {
            return;
        }
        let n = n.min(self.count - start);
        if n == 0 {
            return;
        }
        let (mut ni, local) = self.locate(start);
        let mut left = n;
        let mut touched: Option<RangeInclusive<usize>> = None;
        // A partial first node.
        let c = self.nodes[ni].count as usize;
        if local > 0 || left < c {
            let take = (c - local).min(left);
            self.delete_in_node(ni, local, take);
            touched = Some(ni..=ni);
            left -= take;
            ni += 1;
        }
        // Whole nodes.
        let mut end = ni;
        while left > 0 && end < self.nodes.len() && self.nodes[end].count as usize <= left {
            left -= self.nodes[end].count as usize;
            end += 1;
        }
        self.nodes.drain(ni..end);
        // A partial last node.
        if left > 0 && ni < self.nodes.len() {
            self.delete_in_node(ni, 0, left);
            touched = Some(touched.map_or(ni, |t| *t.start())..=ni);
        }
        self.count -= n;
        self.fix_compression(touched);
    }

    /// Deletes `take` elements from `local` on inside node `ni` (not all of them).
    fn delete_in_node(&mut self, ni: usize, local: usize, take: usize) {
        let node = &mut self.nodes[ni];
        node.decompress();
        let count = node.count as usize;
        if let Some(p) = listpack::seek(&node.data, count, local as i64) {
            listpack::delete(&mut node.data, p, take, count - take);
            node.count -= take as u32;
        }
    }

    /// Removes up to `limit` (0: all) elements equal to `needle`, from the head or from the
    /// tail; returns how many (LREM).
    pub fn remove_matching(&mut self, needle: &[u8], limit: usize, from_tail: bool) -> usize {
        let needle_int = listpack::string_to_i64(needle);
        let mut removed = 0;
        let mut ni = if from_tail { self.nodes.len() } else { 0 };
        loop {
            if from_tail {
                if ni == 0 {
                    break;
                }
                ni -= 1;
            } else if ni >= self.nodes.len() {
                break;
            }
            let want = if limit == 0 { usize::MAX } else { limit - removed };
            let gone = self.remove_in_node(ni, needle, needle_int, want, from_tail);
            removed += gone;
            if gone > 0 {
                if self.nodes[ni].count == 0 {
                    self.nodes.remove(ni);
                } else {
                    self.compress_if_interior(ni);
                    if !from_tail {
                        ni += 1;
                    }
                }
            } else if !from_tail {
                ni += 1;
            }
            if limit != 0 && removed >= limit {
                break;
            }
        }
        self.count -= removed;
        if removed > 0 {
            self.fix_compression(None);
        }
        removed
    }

    /// Removes up to `want` matches inside node `ni`; returns how many.
    fn remove_in_node(&mut self, ni: usize, needle: &[u8], needle_int: Option<i64>, want: usize, back: bool) -> usize {
        let node = &mut self.nodes[ni];
        if node.is_plain() {
            if *node.raw() == *needle && want > 0 {
                node.count = 0;
                return 1;
            }
            return 0;
        }
        // Look before decompressing: most nodes hold no match.
        let any = {
            let raw = node.raw();
            let mut p = listpack::first(&raw);
            let mut hit = false;
            while let Some(q) = p {
                if listpack::get(&raw, q).matches(needle, needle_int) {
                    hit = true;
                    break;
                }
                p = listpack::next(&raw, q);
            }
            hit
        };
        if !any {
            return 0;
        }
        node.decompress();
        let mut removed = 0;
        let mut p = if back { listpack::last(&node.data) } else { listpack::first(&node.data) };
        while let Some(q) = p {
            if removed == want {
                break;
            }
            if listpack::get(&node.data, q).matches(needle, needle_int) {
                let before = listpack::prev(&node.data, q);
                node.count -= 1;
                listpack::delete(&mut node.data, q, 1, node.count as usize);
                removed += 1;
                p = if back { before } else { (node.data[q] != listpack::EOF).then_some(q) };
            } else {
                p = if back { listpack::prev(&node.data, q) } else { listpack::next(&node.data, q) };
            }
        }
        removed
    }

    fn is_interior(&self, i: usize) -> bool {
        let d = self.compress as usize;
        d > 0 && self.nodes.len() > 2 * d && i >= d && i < self.nodes.len() - d
    }

    fn compress_if_interior(&mut self, i: usize) {
        if self.is_interior(i) {
            self.nodes[i].compress();
        }
    }

    /// Redis's __quicklistCompress: the `compress` nodes at each end stay uncompressed, the
    /// first node inside that depth on each side is compressed, and so are the `touched`
    /// nodes if they are inside.
    fn fix_compression(&mut self, touched: Option<RangeInclusive<usize>>) {
        let depth = self.compress as usize;
        if depth == 0 {
            return;
        }
        let n = self.nodes.len();
        if n <= 2 * depth {
            for node in self.nodes.iter_mut() {
                node.decompress();
            }
            return;
        }
        for i in 0..depth {
            self.nodes[i].decompress();
            self.nodes[n - 1 - i].decompress();
        }
        self.nodes[depth].compress();
        self.nodes[n - 1 - depth].compress();
        if let Some(range) = touched {
            for i in range {
                if i < n {
                    self.compress_if_interior(i);
                }
            }
        }
    }

    /// Visits every node's uncompressed bytes: (plain, bytes) where bytes are a listpack or
    /// a plain node's element (for DUMP/RDB).
    pub fn for_each_node(&self, mut f: impl FnMut(bool, &[u8])) {
        for node in &self.nodes {
            f(node.is_plain(), &node.raw());
        }
    }

    /// Appends a node from a listpack read from outside (RDB, RESTORE), after validating
    /// it; false if it is malformed. Empty listpacks are skipped, as Redis does.
    pub fn append_listpack(&mut self, lp: Vec<u8>) -> bool {
        let Some(count) = listpack::validate(&lp) else { return false };
        if count == 0 {
            return true;
        }
        if let Some(last) = self.nodes.back_mut() {
            last.data.shrink_to_fit();
        }
        self.nodes.push_back(Node::from_listpack(lp, count));
        self.count += count;
        self.fix_compression(None);
        true
    }

    /// Appends a plain node holding `value` (RDB's plain quicklist nodes).
    pub fn append_plain(&mut self, value: Vec<u8>) {
        self.nodes.push_back(Node { data: value, count: 1, flags: PLAIN });
        self.count += 1;
        self.fix_compression(None);
    }
}

#[cfg(test)]
#[path = "quicklist/tests.rs"]
mod tests;
