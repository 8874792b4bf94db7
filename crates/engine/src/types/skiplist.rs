//! The ordered half of a big sorted set: Redis's skiplist with spans, in one allocation per
//! member.
//!
//! Elements are ordered by score, then by member bytes (memcmp, shorter first), exactly as
//! Redis's `zskiplist`. Every forward link carries a *span* (how many elements it skips), so
//! the rank of an element and the element at a rank are found in O(log n), as ZRANK,
//! ZRANGE by index and ZREMRANGEBYRANK need.
//!
//! A node is a single block: score and backward link (16 bytes), a level byte, then `level`
//! forward links and `level` 32-bit spans (unaligned, to waste no padding), the member
//! length as LEB128 and the member bytes; a level-1 node with a 14-byte member fits 48
//! bytes. The member is stored once: the member→node index of the sorted set
//! ([`super::zset`]) points at these same nodes rather than copying the member (Redis
//! shares one sds between its dict and its skiplist for the same reason). Spans are 32-bit:
//! a sorted set would need more than 4 billion members (hundreds of GB) to overflow them.
//!
//! Nodes never move while linked, so a node pointer stays valid until the node is removed;
//! a score update that changes a node's position relinks the same node.

use std::alloc::{alloc, dealloc, Layout};
use std::cmp::Ordering;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::zset::{LexRange, ScoreRange};

/// Redis's ZSKIPLIST_MAXLEVEL.
pub const MAX_LEVEL: usize = 32;

/// A node's fixed head: its level byte, links, spans and member follow it in the same
/// block. Nodes are only touched through raw pointers (the block is larger than the type).
#[repr(C)]
pub struct Node {
    score: f64,
    backward: *mut Node,
}

/// Offset of the level byte; the forward links follow it (unaligned), then the spans.
const LEVEL_AT: usize = std::mem::size_of::<Node>();
const LINKS_AT: usize = LEVEL_AT + 1;

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn node_size(level: usize, len: usize) -> usize {
    LINKS_AT + level * 12 + varint_len(len) + len
}

fn node_layout(level: usize, len: usize) -> Layout {
    // The member came in a request already held in memory, so the size fits an isize.
    Layout::from_size_align(node_size(level, len), 8)
        .unwrap_or_else(|_| std::alloc::handle_alloc_error(Layout::new::<Node>()))
}

/// Allocates an unlinked node.
fn create_node(level: usize, score: f64, member: &[u8]) -> NonNull<Node> {
    let layout = node_layout(level, member.len());
    // SAFETY: the layout is non-zero sized; every byte read later is written here.
    unsafe {
        let Some(p) = NonNull::new(alloc(layout) as *mut Node) else { std::alloc::handle_alloc_error(layout) };
        let x = p.as_ptr();
        ptr::write(x, Node { score, backward: ptr::null_mut() });
        *(x as *mut u8).add(LEVEL_AT) = level as u8;
        for i in 0..level {
            set_fwd(x, i, ptr::null_mut());
            set_span(x, i, 0);
        }
        let mut at = (x as *mut u8).add(LINKS_AT + level * 12);
        let mut n = member.len();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                *at = byte;
                at = at.add(1);
                break;
            }
            *at = byte | 0x80;
            at = at.add(1);
        }
        ptr::copy_nonoverlapping(member.as_ptr(), at, member.len());
        p
    }
}

/// Frees an unlinked node.
///
/// # Safety
/// `x` must come from `create_node` and not be used afterwards.
unsafe fn destroy(x: *mut Node) {
    let layout = node_layout(level_of(x), member_of(x).len());
    dealloc(x as *mut u8, layout);
}

/// # Safety
/// `x` must be a live node.
unsafe fn level_of(x: *mut Node) -> usize {
    *(x as *const u8).add(LEVEL_AT) as usize
}

/// The member bytes of a node.
///
/// # Safety
/// `x` must be a live node; the slice must not outlive it.
unsafe fn member_of<'a>(x: *mut Node) -> &'a [u8] {
    let mut at = (x as *const u8).add(LINKS_AT + level_of(x) * 12);
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let byte = *at;
        at = at.add(1);
        len |= ((byte & 0x7f) as usize) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    std::slice::from_raw_parts(at, len)
}

/// # Safety
/// `x` must be a live node.
unsafe fn score_of(x: *mut Node) -> f64 {
    (*x).score
}

/// Bytes a node allocates.
///
/// # Safety
/// `x` must be a live node.
unsafe fn alloc_size(x: *mut Node) -> usize {
    node_size(level_of(x), member_of(x).len())
}

/// The member bytes of a node held elsewhere (the member index).
///
/// # Safety
/// The node must stay linked for as long as the slice is used.
pub unsafe fn node_member<'a>(n: NonNull<Node>) -> &'a [u8] {
    member_of(n.as_ptr())
}

/// # Safety
/// `x` must be a live node with more than `i` levels.
unsafe fn fwd(x: *mut Node, i: usize) -> *mut Node {
    ptr::read_unaligned((x as *const u8).add(LINKS_AT + i * 8) as *const *mut Node)
}

/// # Safety
/// As for `fwd`.
unsafe fn set_fwd(x: *mut Node, i: usize, to: *mut Node) {
    ptr::write_unaligned((x as *mut u8).add(LINKS_AT + i * 8) as *mut *mut Node, to);
}

/// # Safety
/// As for `fwd`.
unsafe fn span(x: *mut Node, i: usize) -> usize {
    ptr::read_unaligned((x as *const u8).add(LINKS_AT + level_of(x) * 8 + i * 4) as *const u32) as usize
}

/// # Safety
/// As for `fwd`.
unsafe fn set_span(x: *mut Node, i: usize, v: usize) {
    ptr::write_unaligned((x as *mut u8).add(LINKS_AT + level_of(x) * 8 + i * 4) as *mut u32, v as u32);
}

/// Orders (score, member) pairs as the skiplist does.
pub fn cmp_elements(score_a: f64, member_a: &[u8], score_b: f64, member_b: &[u8]) -> Ordering {
    match score_a.partial_cmp(&score_b) {
        Some(Ordering::Equal) | None => member_a.cmp(member_b),
        Some(o) => o,
    }
}

/// Whether the node sorts before (score, member).
///
/// # Safety
/// `p` must be a live node.
unsafe fn before(p: *mut Node, score: f64, member: &[u8]) -> bool {
    score_of(p) < score || ((*p).score == score && member_of(p) < member)
}

static SEED: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

pub struct Skiplist {
    header: NonNull<Node>,
    tail: *mut Node,
    length: usize,
    level: usize,
    rng: u64,
    /// Bytes of the linked nodes and the header.
    bytes: usize,
}

// The skiplist owns its nodes like a Box would; there is no interior mutability.
unsafe impl Send for Skiplist {}
unsafe impl Sync for Skiplist {}

type Path = [*mut Node; MAX_LEVEL];

impl Default for Skiplist {
    fn default() -> Self {
        Self::new()
    }
}

impl Skiplist {
    pub fn new() -> Skiplist {
        let seed = SEED.fetch_add(0x9e37_79b9_7f4a_7c15, AtomicOrdering::Relaxed) ^ crate::util::time::now_ms() as u64;
        let header = create_node(MAX_LEVEL, 0.0, b"");
        // SAFETY: just created.
        let bytes = unsafe { alloc_size(header.as_ptr()) };
        Skiplist { header, tail: ptr::null_mut(), length: 0, level: 1, rng: seed | 1, bytes }
    }

    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    fn head(&self) -> *mut Node {
        self.header.as_ptr()
    }

    /// Redis's zslRandomLevel: each extra level with probability 1/4.
    fn random_level(&mut self) -> usize {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let mut r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let mut level = 1;
        while level < MAX_LEVEL && r & 3 == 0 {
            level += 1;
            r >>= 2;
        }
        level
    }

    /// Finds, for every level, the last node before (score, member), and the rank crossed
    /// to reach it.
    fn find_path(&self, score: f64, member: &[u8], update: &mut Path, rank: &mut [usize; MAX_LEVEL]) {
        let mut x = self.head();
        // SAFETY: walking live nodes of this list.
        unsafe {
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || !before(next, score, member) {
                        break;
                    }
                    rank[i] += span(x, i);
                    x = next;
                }
                update[i] = x;
            }
        }
    }

    /// Links an unlinked node at its place (Redis's zslInsert after the node is created).
    ///
    /// # Safety
    /// `x` must be a live, unlinked node whose (score, member) is not in the list.
    #[allow(clippy::needless_range_loop)] // several arrays walked by level
    unsafe fn link(&mut self, x: *mut Node) {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        self.find_path(score_of(x), member_of(x), &mut update, &mut rank);
        let level = level_of(x);
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = self.head();
                set_span(self.head(), i, self.length);
            }
            self.level = level;
        }
        for i in 0..level {
            set_fwd(x, i, fwd(update[i], i));
            set_fwd(update[i], i, x);
            set_span(x, i, span(update[i], i) - (rank[0] - rank[i]));
            set_span(update[i], i, (rank[0] - rank[i]) + 1);
        }
        for i in level..self.level {
            set_span(update[i], i, span(update[i], i) + 1);
        }
        self.bytes += alloc_size(x);
        (*x).backward = if update[0] == self.head() { ptr::null_mut() } else { update[0] };
        let next = fwd(x, 0);
        if next.is_null() {
            self.tail = x;
        } else {
            (*next).backward = x;
        }
        self.length += 1;
    }

    /// Inserts (score, member), which must not be present. Returns the new node.
    pub fn insert(&mut self, score: f64, member: &[u8]) -> NonNull<Node> {
        let level = self.random_level();
        let node = create_node(level, score, member);
        // SAFETY: a fresh unlinked node.
        unsafe { self.link(node.as_ptr()) };
        node
    }

    /// Redis's zslDeleteNode: unlinks `x` given the path to it.
    ///
    /// # Safety
    /// `x` must be linked and `update` the path found for it.
    #[allow(clippy::needless_range_loop)]
    unsafe fn unlink(&mut self, x: *mut Node, update: &Path) {
        for i in 0..self.level {
            if fwd(update[i], i) == x {
                set_span(update[i], i, span(update[i], i) + span(x, i) - 1);
                set_fwd(update[i], i, fwd(x, i));
            } else {
                set_span(update[i], i, span(update[i], i) - 1);
            }
        }
        let next = fwd(x, 0);
        if next.is_null() {
            self.tail = (*x).backward;
        } else {
            (*next).backward = (*x).backward;
        }
        while self.level > 1 && fwd(self.head(), self.level - 1).is_null() {
            self.level -= 1;
        }
        self.length -= 1;
        self.bytes -= alloc_size(x);
    }

    /// The path to the node holding exactly (score, member), if there is one.
    fn locate(&self, score: f64, member: &[u8], update: &mut Path) -> Option<*mut Node> {
        let mut rank = [0usize; MAX_LEVEL];
        self.find_path(score, member, update, &mut rank);
        // SAFETY: update[0] is a live node (or the header).
        let x = unsafe { fwd(update[0], 0) };
        // SAFETY: x is live when non-null.
        (!x.is_null() && unsafe { (*x).score == score && member_of(x) == member }).then_some(x)
    }

    /// Unlinks the node holding (score, member) and returns it; the caller frees it with
    /// [`Skiplist::free`] once nothing refers to it.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<NonNull<Node>> {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let x = self.locate(score, member, &mut update)?;
        // SAFETY: x was found linked, with its path.
        unsafe { self.unlink(x, &update) };
        NonNull::new(x)
    }

    /// Unlinks a node of this list; the caller frees it with [`Skiplist::free`].
    ///
    /// # Safety
    /// `node` must be linked in this list.
    pub unsafe fn unlink_node(&mut self, node: NonNull<Node>) {
        let x = node.as_ptr();
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let member: &[u8] = &*(member_of(x) as *const [u8]);
        self.find_path(score_of(x), member, &mut update, &mut rank);
        debug_assert!(fwd(update[0], 0) == x);
        self.unlink(x, &update);
    }

    /// Frees a node returned by [`Skiplist::remove`].
    ///
    /// # Safety
    /// The node must be unlinked and no longer referenced.
    pub unsafe fn free(node: NonNull<Node>) {
        destroy(node.as_ptr());
    }

    /// Changes the score of `node` (linked, currently scored `score_of(node)`), moving it if
    /// its position changes (Redis's zslUpdateScore, reusing the node).
    pub fn update_score(&mut self, node: NonNull<Node>, new_score: f64) {
        let x = node.as_ptr();
        // SAFETY: the caller guarantees `node` is linked in this list.
        unsafe {
            let back = (*x).backward;
            let next = fwd(x, 0);
            if (back.is_null() || score_of(back) < new_score) && (next.is_null() || score_of(next) > new_score) {
                (*x).score = new_score;
                return;
            }
            let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
            let mut rank = [0usize; MAX_LEVEL];
            let member: &[u8] = &*(member_of(x) as *const [u8]);
            self.find_path(score_of(x), member, &mut update, &mut rank);
            self.unlink(x, &update);
            (*x).score = new_score;
            for i in 0..level_of(x) {
                set_fwd(x, i, ptr::null_mut());
                set_span(x, i, 0);
            }
            self.link(x);
        }
    }

    /// The 1-based rank of (score, member), or 0 if absent (Redis's zslGetRank).
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        let mut rank = 0;
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null()
                        || cmp_elements(score_of(next), member_of(next), score, member) == Ordering::Greater
                    {
                        break;
                    }
                    rank += span(x, i);
                    x = next;
                }
                if x != self.head() && (*x).score == score && member_of(x) == member {
                    return rank;
                }
            }
        }
        0
    }

    /// The node at a 1-based rank (Redis's zslGetElementByRank).
    pub fn by_rank(&self, rank: usize) -> Option<NonNull<Node>> {
        let mut traversed = 0;
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || traversed + span(x, i) > rank {
                        break;
                    }
                    traversed += span(x, i);
                    x = next;
                }
                if traversed == rank {
                    return NonNull::new(x).filter(|_| x != self.head());
                }
            }
        }
        None
    }

    pub fn first(&self) -> Option<NonNull<Node>> {
        // SAFETY: the header is live.
        NonNull::new(unsafe { fwd(self.head(), 0) })
    }

    pub fn last(&self) -> Option<NonNull<Node>> {
        NonNull::new(self.tail)
    }

    /// The next node in order.
    pub fn next(&self, node: NonNull<Node>) -> Option<NonNull<Node>> {
        // SAFETY: nodes handed out by this list are live while it is borrowed.
        NonNull::new(unsafe { fwd(node.as_ptr(), 0) })
    }

    /// The previous node in order.
    pub fn prev(&self, node: NonNull<Node>) -> Option<NonNull<Node>> {
        // SAFETY: as in `next`.
        NonNull::new(unsafe { (*node.as_ptr()).backward })
    }

    /// The score of a node of this list.
    pub fn score(&self, node: NonNull<Node>) -> f64 {
        // SAFETY: nodes handed out by this list are live while it is borrowed.
        unsafe { score_of(node.as_ptr()) }
    }

    /// The member of a node of this list.
    pub fn member(&self, node: NonNull<Node>) -> &[u8] {
        // SAFETY: as in `score`; the slice lives no longer than the borrow of the list.
        unsafe { member_of(node.as_ptr()) }
    }

    #[cfg(test)]
    fn node_size_of(&self, node: NonNull<Node>) -> usize {
        // SAFETY: nodes handed out by this list are live while it is borrowed.
        unsafe { alloc_size(node.as_ptr()) }
    }

    /// Redis's zslIsInRange: whether some element may be in the range.
    fn score_range_possible(&self, range: &ScoreRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(l), Some(f)) => range.gte_min(self.score(l)) && range.lte_max(self.score(f)),
            _ => false,
        }
    }

    /// The first node with a score in the range (Redis's zslFirstInRange).
    pub fn first_in_range(&self, range: &ScoreRange) -> Option<NonNull<Node>> {
        if !self.score_range_possible(range) {
            return None;
        }
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || range.gte_min(score_of(next)) {
                        break;
                    }
                    x = next;
                }
            }
            let x = fwd(x, 0);
            (!x.is_null() && range.lte_max(score_of(x))).then(|| NonNull::new_unchecked(x))
        }
    }

    /// The last node with a score in the range (Redis's zslLastInRange).
    pub fn last_in_range(&self, range: &ScoreRange) -> Option<NonNull<Node>> {
        if !self.score_range_possible(range) {
            return None;
        }
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || !range.lte_max(score_of(next)) {
                        break;
                    }
                    x = next;
                }
            }
            (x != self.head() && range.gte_min(score_of(x))).then(|| NonNull::new_unchecked(x))
        }
    }

    fn lex_range_possible(&self, range: &LexRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(l), Some(f)) => range.gte_min(self.member(l)) && range.lte_max(self.member(f)),
            _ => false,
        }
    }

    /// The first node whose member is in the lex range (Redis's zslFirstInLexRange).
    pub fn first_in_lex_range(&self, range: &LexRange) -> Option<NonNull<Node>> {
        if !self.lex_range_possible(range) {
            return None;
        }
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || range.gte_min(member_of(next)) {
                        break;
                    }
                    x = next;
                }
            }
            let x = fwd(x, 0);
            (!x.is_null() && range.lte_max(member_of(x))).then(|| NonNull::new_unchecked(x))
        }
    }

    /// The last node whose member is in the lex range (Redis's zslLastInLexRange).
    pub fn last_in_lex_range(&self, range: &LexRange) -> Option<NonNull<Node>> {
        if !self.lex_range_possible(range) {
            return None;
        }
        let mut x = self.head();
        // SAFETY: walking live nodes.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || !range.lte_max(member_of(next)) {
                        break;
                    }
                    x = next;
                }
            }
            (x != self.head() && range.gte_min(member_of(x))).then(|| NonNull::new_unchecked(x))
        }
    }

    /// Unlinks the nodes from `x` on while `keep_going` holds for them, given the path to
    /// `x`; `removed` sees each member before its node is freed. Returns how many went.
    ///
    /// # Safety
    /// `update` must be the path to `x` (or to the null after the last node).
    unsafe fn delete_run(
        &mut self,
        mut x: *mut Node,
        update: &Path,
        mut keep_going: impl FnMut(*mut Node, usize) -> bool,
        mut removed: impl FnMut(&[u8]),
    ) -> usize {
        let mut n = 0;
        while !x.is_null() && keep_going(x, n) {
            let next = fwd(x, 0);
            self.unlink(x, update);
            removed(member_of(x));
            destroy(x);
            n += 1;
            x = next;
        }
        n
    }

    /// Removes every element with a score in the range (Redis's zslDeleteRangeByScore).
    pub fn delete_range_by_score(&mut self, range: &ScoreRange, removed: impl FnMut(&[u8])) -> usize {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut x = self.head();
        // SAFETY: walking live nodes; the path is the one to the first node in range.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || range.gte_min(score_of(next)) {
                        break;
                    }
                    x = next;
                }
                update[i] = x;
            }
            let first = fwd(x, 0);
            self.delete_run(first, &update, |n, _| range.lte_max(score_of(n)), removed)
        }
    }

    /// Removes every element whose member is in the lex range (Redis's zslDeleteRangeByLex).
    pub fn delete_range_by_lex(&mut self, range: &LexRange, removed: impl FnMut(&[u8])) -> usize {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut x = self.head();
        // SAFETY: as in `delete_range_by_score`.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || range.gte_min(member_of(next)) {
                        break;
                    }
                    x = next;
                }
                update[i] = x;
            }
            let first = fwd(x, 0);
            self.delete_run(first, &update, |n, _| range.lte_max(member_of(n)), removed)
        }
    }

    /// Removes the elements with 1-based ranks `start..=end` (Redis's zslDeleteRangeByRank).
    pub fn delete_range_by_rank(&mut self, start: usize, end: usize, removed: impl FnMut(&[u8])) -> usize {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut traversed = 0;
        let mut x = self.head();
        // SAFETY: as in `delete_range_by_score`.
        unsafe {
            for i in (0..self.level).rev() {
                loop {
                    let next = fwd(x, i);
                    if next.is_null() || traversed + span(x, i) >= start {
                        break;
                    }
                    traversed += span(x, i);
                    x = next;
                }
                update[i] = x;
            }
            let first = fwd(x, 0);
            let count = end + 1 - start.min(end + 1);
            self.delete_run(first, &update, |_, n| n < count, removed)
        }
    }

    /// Bytes allocated by the linked nodes and the header.
    pub fn allocated_bytes(&self) -> usize {
        self.bytes
    }

    /// Checks the links and spans (tests).
    #[cfg(test)]
    pub fn check(&self) {
        unsafe {
            let mut count = 0;
            let mut x = fwd(self.head(), 0);
            let mut prev: *mut Node = ptr::null_mut();
            while !x.is_null() {
                assert_eq!((*x).backward, prev);
                if !prev.is_null() {
                    assert_eq!(
                        cmp_elements(score_of(prev), member_of(prev), score_of(x), member_of(x)),
                        Ordering::Less
                    );
                }
                count += 1;
                prev = x;
                x = fwd(x, 0);
            }
            assert_eq!(count, self.length);
            let mut bytes = self.node_size_of(self.header);
            let mut n = self.first();
            while let Some(p) = n {
                bytes += self.node_size_of(p);
                n = self.next(p);
            }
            assert_eq!(bytes, self.bytes);
            assert_eq!(prev, self.tail);
            // Every level's spans add up to the position of each node.
            for i in 0..self.level {
                let mut pos = 0;
                let mut x = self.head();
                loop {
                    let next = fwd(x, i);
                    if next.is_null() {
                        break;
                    }
                    pos += span(x, i);
                    assert_eq!(self.rank(score_of(next), member_of(next)), pos);
                    x = next;
                }
            }
        }
    }
}

impl Drop for Skiplist {
    fn drop(&mut self) {
        // SAFETY: we own every node; each is freed once.
        unsafe {
            let mut x = fwd(self.head(), 0);
            while !x.is_null() {
                let next = fwd(x, 0);
                destroy(x);
                x = next;
            }
            destroy(self.head());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn ranks_spans_and_updates_stay_consistent() {
        let mut sl = Skiplist::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rng = Rng(12345);
        for step in 0..4000 {
            let member = format!("m{}", rng.next() % 500).into_bytes();
            let score = (rng.next() % 50) as f64;
            let pos = model.iter().position(|(_, m)| *m == member);
            match (pos, rng.next() % 3) {
                (None, _) => {
                    sl.insert(score, &member);
                    model.push((score, member));
                }
                (Some(i), 0) => {
                    let (s, m) = model.remove(i);
                    let node = sl.remove(s, &m).expect("present");
                    unsafe { Skiplist::free(node) };
                }
                (Some(i), _) => {
                    let old = model[i].0;
                    let mut path = [ptr::null_mut(); MAX_LEVEL];
                    let node = sl.locate(old, &member, &mut path).unwrap();
                    sl.update_score(NonNull::new(node).unwrap(), score);
                    model[i].0 = score;
                }
            }
            if step % 97 == 0 {
                sl.check();
            }
        }
        sl.check();
        model.sort_by(|a, b| cmp_elements(a.0, &a.1, b.0, &b.1));
        for (i, (s, m)) in model.iter().enumerate() {
            assert_eq!(sl.rank(*s, m), i + 1);
            let n = sl.by_rank(i + 1).unwrap();
            assert_eq!(sl.member(n), &m[..]);
        }
        assert!(sl.by_rank(model.len() + 1).is_none());
        assert!(sl.by_rank(0).is_none());
        let n = sl.delete_range_by_rank(2, 5, |_| {});
        assert_eq!(n, 4);
        sl.check();
        let range = ScoreRange { min: 10.0, max: 20.0, minex: true, maxex: false };
        let expected = model[5..].iter().filter(|(s, _)| *s > 10.0 && *s <= 20.0).count()
            + model[..1].iter().filter(|(s, _)| *s > 10.0 && *s <= 20.0).count();
        assert_eq!(sl.delete_range_by_score(&range, |_| {}), expected);
        sl.check();
    }
}
