//! The ordered half of a big sorted set: Redis's skiplist with spans, in one allocation per
//! member.
//!
//! Elements are ordered by score, then by member bytes (memcmp, shorter first), exactly as
//! Redis's `zskiplist`. Every forward link carries a *span* (how many elements it skips), so
//! the rank of an element and the element at a rank are found in O(log n), as ZRANK,
//! ZRANGE by index and ZREMRANGEBYRANK need.
//!
//! A node is a single block: a 24-byte head (score, backward link, member length and level),
//! then `level` forward pointers, `level` 32-bit spans and the member bytes. The member is
//! stored once: the member→node index of the sorted set ([`super::zset`]) points at these
//! same nodes rather than copying the member (Redis shares one sds between its dict and
//! its skiplist for the same reason). Spans are 32-bit: a sorted set would need more than
//! 4 billion members (hundreds of GB) to overflow them.
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

/// A node's fixed head; its links, spans and member follow it in the same block.
#[repr(C)]
pub struct Node {
    score: f64,
    backward: *mut Node,
    /// Level in the low 8 bits, member length above.
    meta: u64,
}

const HEAD: usize = std::mem::size_of::<Node>();

impl Node {
    fn layout(level: usize, len: usize) -> Layout {
        // A member length comes from a request that was already held in memory, so the sum
        // cannot overflow isize in practice; fall back to a minimal layout would be wrong,
        // hence the explicit check.
        let size = HEAD + level * 12 + len;
        Layout::from_size_align(size, 8).unwrap_or_else(|_| std::alloc::handle_alloc_error(Layout::new::<Node>()))
    }

    /// Allocates an unlinked node.
    fn create(level: usize, score: f64, member: &[u8]) -> NonNull<Node> {
        let layout = Self::layout(level, member.len());
        // SAFETY: the layout is non-zero sized; every field read later is written here.
        unsafe {
            let Some(p) = NonNull::new(alloc(layout) as *mut Node) else { std::alloc::handle_alloc_error(layout) };
            ptr::write(
                p.as_ptr(),
                Node { score, backward: ptr::null_mut(), meta: (member.len() as u64) << 8 | level as u64 },
            );
            for i in 0..level {
                *Self::forward_slot(p.as_ptr(), i) = ptr::null_mut();
                *Self::span_slot(p.as_ptr(), i) = 0;
            }
            ptr::copy_nonoverlapping(member.as_ptr(), Self::member_ptr(p.as_ptr()), member.len());
            p
        }
    }

    /// Frees an unlinked node.
    ///
    /// # Safety
    /// `p` must come from `create` and not be used afterwards.
    unsafe fn destroy(p: *mut Node) {
        let layout = Self::layout((*p).level(), (*p).len());
        dealloc(p as *mut u8, layout);
    }

    fn level(&self) -> usize {
        (self.meta & 0xff) as usize
    }

    fn len(&self) -> usize {
        (self.meta >> 8) as usize
    }

    /// Bytes this node allocates.
    pub fn allocation_size(&self) -> usize {
        HEAD + self.level() * 12 + self.len()
    }

    pub fn score(&self) -> f64 {
        self.score
    }

    pub fn member(&self) -> &[u8] {
        // SAFETY: the member bytes follow the links in the node's block.
        unsafe { std::slice::from_raw_parts(Self::member_ptr(self as *const Node as *mut Node), self.len()) }
    }

    /// # Safety
    /// `p` must be a live node and `i < level`.
    unsafe fn forward_slot(p: *mut Node, i: usize) -> *mut *mut Node {
        (p as *mut u8).add(HEAD + i * 8) as *mut *mut Node
    }

    /// # Safety
    /// As for `forward_slot`.
    unsafe fn span_slot(p: *mut Node, i: usize) -> *mut u32 {
        (p as *mut u8).add(HEAD + (*p).level() * 8 + i * 4) as *mut u32
    }

    /// # Safety
    /// `p` must be a live node.
    unsafe fn member_ptr(p: *mut Node) -> *mut u8 {
        (p as *mut u8).add(HEAD + (*p).level() * 12)
    }
}

/// # Safety
/// `p` must be a live node with more than `i` levels.
unsafe fn fwd(p: *mut Node, i: usize) -> *mut Node {
    *Node::forward_slot(p, i)
}

/// # Safety
/// As for `fwd`.
unsafe fn set_fwd(p: *mut Node, i: usize, to: *mut Node) {
    *Node::forward_slot(p, i) = to;
}

/// # Safety
/// As for `fwd`.
unsafe fn span(p: *mut Node, i: usize) -> usize {
    *Node::span_slot(p, i) as usize
}

/// # Safety
/// As for `fwd`.
unsafe fn set_span(p: *mut Node, i: usize, v: usize) {
    *Node::span_slot(p, i) = v as u32;
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
    (*p).score < score || ((*p).score == score && (*p).member() < member)
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
        let header = Node::create(MAX_LEVEL, 0.0, b"");
        // SAFETY: just created.
        let bytes = unsafe { header.as_ref() }.allocation_size();
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
    unsafe fn link(&mut self, x: *mut Node) {
        let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        self.find_path((*x).score, (*x).member(), &mut update, &mut rank);
        let level = (*x).level();
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
        self.bytes += (*x).allocation_size();
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
        let node = Node::create(level, score, member);
        // SAFETY: a fresh unlinked node.
        unsafe { self.link(node.as_ptr()) };
        node
    }

    /// Redis's zslDeleteNode: unlinks `x` given the path to it.
    ///
    /// # Safety
    /// `x` must be linked and `update` the path found for it.
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
        self.bytes -= (*x).allocation_size();
    }

    /// The path to the node holding exactly (score, member), if there is one.
    fn locate(&self, score: f64, member: &[u8], update: &mut Path) -> Option<*mut Node> {
        let mut rank = [0usize; MAX_LEVEL];
        self.find_path(score, member, update, &mut rank);
        // SAFETY: update[0] is a live node (or the header).
        let x = unsafe { fwd(update[0], 0) };
        // SAFETY: x is live when non-null.
        (!x.is_null() && unsafe { (*x).score == score && (*x).member() == member }).then_some(x)
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
        let member: &[u8] = &*((*x).member() as *const [u8]);
        self.find_path((*x).score, member, &mut update, &mut rank);
        debug_assert!(fwd(update[0], 0) == x);
        self.unlink(x, &update);
    }

    /// Frees a node returned by [`Skiplist::remove`].
    ///
    /// # Safety
    /// The node must be unlinked and no longer referenced.
    pub unsafe fn free(node: NonNull<Node>) {
        Node::destroy(node.as_ptr());
    }

    /// Changes the score of `node` (linked, currently scored `(*node).score`), moving it if
    /// its position changes (Redis's zslUpdateScore, reusing the node).
    pub fn update_score(&mut self, node: NonNull<Node>, new_score: f64) {
        let x = node.as_ptr();
        // SAFETY: the caller guarantees `node` is linked in this list.
        unsafe {
            let back = (*x).backward;
            let next = fwd(x, 0);
            if (back.is_null() || (*back).score < new_score) && (next.is_null() || (*next).score > new_score) {
                (*x).score = new_score;
                return;
            }
            let mut update: Path = [ptr::null_mut(); MAX_LEVEL];
            let mut rank = [0usize; MAX_LEVEL];
            let member: &[u8] = &*((*x).member() as *const [u8]);
            self.find_path((*x).score, member, &mut update, &mut rank);
            self.unlink(x, &update);
            (*x).score = new_score;
            for i in 0..(*x).level() {
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
                        || cmp_elements((*next).score, (*next).member(), score, member) == Ordering::Greater
                    {
                        break;
                    }
                    rank += span(x, i);
                    x = next;
                }
                if x != self.head() && (*x).score == score && (*x).member() == member {
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

    /// Borrows a node of this list.
    pub fn node(&self, node: NonNull<Node>) -> &Node {
        // SAFETY: nodes handed out by this list are live while it is borrowed.
        unsafe { &*node.as_ptr() }
    }

    /// Redis's zslIsInRange: whether some element may be in the range.
    fn score_range_possible(&self, range: &ScoreRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(l), Some(f)) => range.gte_min(self.node(l).score) && range.lte_max(self.node(f).score),
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
                    if next.is_null() || range.gte_min((*next).score) {
                        break;
                    }
                    x = next;
                }
            }
            let x = fwd(x, 0);
            (!x.is_null() && range.lte_max((*x).score)).then(|| NonNull::new_unchecked(x))
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
                    if next.is_null() || !range.lte_max((*next).score) {
                        break;
                    }
                    x = next;
                }
            }
            (x != self.head() && range.gte_min((*x).score)).then(|| NonNull::new_unchecked(x))
        }
    }

    fn lex_range_possible(&self, range: &LexRange) -> bool {
        if range.is_empty() {
            return false;
        }
        match (self.last(), self.first()) {
            (Some(l), Some(f)) => range.gte_min(self.node(l).member()) && range.lte_max(self.node(f).member()),
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
                    if next.is_null() || range.gte_min((*next).member()) {
                        break;
                    }
                    x = next;
                }
            }
            let x = fwd(x, 0);
            (!x.is_null() && range.lte_max((*x).member())).then(|| NonNull::new_unchecked(x))
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
                    if next.is_null() || !range.lte_max((*next).member()) {
                        break;
                    }
                    x = next;
                }
            }
            (x != self.head() && range.gte_min((*x).member())).then(|| NonNull::new_unchecked(x))
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
        mut keep_going: impl FnMut(&Node, usize) -> bool,
        mut removed: impl FnMut(&[u8]),
    ) -> usize {
        let mut n = 0;
        while !x.is_null() && keep_going(&*x, n) {
            let next = fwd(x, 0);
            self.unlink(x, update);
            removed((*x).member());
            Node::destroy(x);
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
                    if next.is_null() || range.gte_min((*next).score) {
                        break;
                    }
                    x = next;
                }
                update[i] = x;
            }
            let first = fwd(x, 0);
            self.delete_run(first, &update, |n, _| range.lte_max(n.score), removed)
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
                    if next.is_null() || range.gte_min((*next).member()) {
                        break;
                    }
                    x = next;
                }
                update[i] = x;
            }
            let first = fwd(x, 0);
            self.delete_run(first, &update, |n, _| range.lte_max(n.member()), removed)
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
                        cmp_elements((*prev).score, (*prev).member(), (*x).score, (*x).member()),
                        Ordering::Less
                    );
                }
                count += 1;
                prev = x;
                x = fwd(x, 0);
            }
            assert_eq!(count, self.length);
            let mut bytes = self.node(self.header).allocation_size();
            let mut n = self.first();
            while let Some(p) = n {
                bytes += self.node(p).allocation_size();
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
                    assert_eq!(self.rank((*next).score, (*next).member()), pos);
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
                Node::destroy(x);
                x = next;
            }
            Node::destroy(self.head());
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
            assert_eq!(sl.node(n).member(), &m[..]);
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
