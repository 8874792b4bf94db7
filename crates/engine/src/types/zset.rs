//! The sorted set value: Redis's two encodings and the operations the commands need.
//!
//! * `listpack` ([`Listpack`]): every (member, score) in one ordered buffer, while the set
//!   has at most `zset-max-listpack-entries` members of at most `zset-max-listpack-value`
//!   bytes. Linear operations over a small buffer beat pointers there.
//! * `skiplist` ([`SkipSet`]): a [`Skiplist`] with spans for order, ranks and ranges in
//!   O(log n), and a member→node index in the keyspace's own hash table (so ZSCAN gets
//!   Redis's SCAN guarantee). The index holds thin pointers to the skiplist nodes, which
//!   carry the member and score: one allocation per member, nothing copied.
//!
//! Conversions happen where Redis does them: listpack→skiplist when an add crosses a
//! threshold, and skiplist→listpack only when a whole result is stored (ZUNIONSTORE and
//! friends size the destination by the result; ZRANGESTORE by the range length).

use std::fmt;
use std::ptr::NonNull;

use super::skiplist::{cmp_elements, node_member, Node, Skiplist};
use super::zset_listpack::{element_len, Item, Listpack};
use crate::keyspace::table::{Table, ThinEntry};

/// Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GiB.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// The thresholds `zset-max-listpack-entries` / `zset-max-listpack-value`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// A score interval (Redis's zrangespec); `minex`/`maxex` make an end exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// Ranges that can never hold anything.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, or a string, inclusive (`[`) or exclusive (`(`).
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    Value {
        bytes: Vec<u8>,
        exclusive: bool,
    },
}

impl LexBound {
    /// Compares a member with this bound (Redis's sdscmplex with the member first).
    fn cmp_member(&self, member: &[u8]) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match self {
            LexBound::Min => Greater,
            LexBound::Max => Less,
            LexBound::Value { bytes, .. } => member.cmp(bytes),
        }
    }

    /// `-` and `+` are exclusive in Redis's representation.
    fn exclusive(&self) -> bool {
        match self {
            LexBound::Min | LexBound::Max => true,
            LexBound::Value { exclusive, .. } => *exclusive,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            LexBound::Min => 0,
            LexBound::Value { .. } => 1,
            LexBound::Max => 2,
        }
    }
}

/// A member interval (Redis's zlexrangespec).
#[derive(Clone, Debug, PartialEq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn gte_min(&self, member: &[u8]) -> bool {
        let c = self.min.cmp_member(member);
        if self.min.exclusive() {
            c.is_gt()
        } else {
            c.is_ge()
        }
    }

    pub fn lte_max(&self, member: &[u8]) -> bool {
        let c = self.max.cmp_member(member);
        if self.max.exclusive() {
            c.is_lt()
        } else {
            c.is_le()
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.gte_min(member) && self.lte_max(member)
    }

    /// Ranges that can never hold anything (min above max, or equal with an open end).
    pub fn is_empty(&self) -> bool {
        use std::cmp::Ordering;
        let cmp = match (&self.min, &self.max) {
            (LexBound::Value { bytes: a, .. }, LexBound::Value { bytes: b, .. }) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

/// ZADD's conditions (Redis's ZADD_IN_*).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What an add did (Redis's ZADD_OUT_*), and the resulting score.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AddResult {
    pub added: bool,
    pub updated: bool,
    /// Nothing was done because of NX, XX, GT or LT.
    pub nop: bool,
    pub score: f64,
}

/// A member appears twice in elements given to build a set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuplicateMember;

/// The increment made the score NaN (or the score was NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NanScore;

/// Where a walk over the set starts.
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// At a 0-based rank counted in the walk's direction.
    Rank(usize),
    /// At the first element in the score range (the last one when walking in reverse).
    Score(&'a ScoreRange),
    /// At the first element in the lex range (the last one when walking in reverse).
    Lex(&'a LexRange),
}

/// A pointer into the skiplist, as the member index stores it.
#[repr(transparent)]
pub struct NodeRef(NonNull<Node>);

// The index shares nodes owned by the skiplist beside it; both move together.
unsafe impl Send for NodeRef {}
unsafe impl Sync for NodeRef {}

impl NodeRef {
    fn member(&self) -> &[u8] {
        // SAFETY: an index entry exists only while its node is linked in the skiplist.
        unsafe { node_member(self.0) }
    }
}

// SAFETY: repr(transparent) over a non-null pointer; a NodeRef owns nothing, so dropping
// one (when the table drains) frees nothing.
unsafe impl ThinEntry for NodeRef {
    fn into_raw(self) -> NonNull<u8> {
        self.0.cast()
    }

    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        NodeRef(raw.cast())
    }

    fn key(&self) -> &[u8] {
        self.member()
    }
}

/// The big encoding: order in the skiplist, members in the index.
pub struct SkipSet {
    // Declared first so it is dropped first: draining the index must not outlive nodes
    // (it does not read them, but keep the order obviously safe).
    index: Table<NodeRef>,
    list: Skiplist,
}

impl SkipSet {
    pub fn new() -> SkipSet {
        SkipSet { index: Table::new(), list: Skiplist::new() }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn find(&self, member: &[u8]) -> Option<NonNull<Node>> {
        self.index.get(member).map(|r| r.0)
    }

    /// Inserts a member known to be absent.
    fn insert_new(&mut self, score: f64, member: &[u8]) {
        let node = self.list.insert(score, member);
        self.index.insert_new(NodeRef(node), false);
    }

    /// Removes a linked node from both structures and frees it.
    fn remove_node(&mut self, node: NonNull<Node>) {
        let member: *const [u8] = self.list.member(node);
        // SAFETY: the node is alive until freed below; the index and list only read it.
        unsafe {
            self.index.remove(&*member);
            self.list.unlink_node(node);
            Skiplist::free(node);
        }
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(node) => {
                self.remove_node(node);
                true
            }
            None => false,
        }
    }

    fn allocated_bytes(&self) -> usize {
        std::mem::size_of::<SkipSet>() + self.list.allocated_bytes() + self.index.allocated_bytes()
    }
}

impl Default for SkipSet {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for SkipSet {
    fn clone(&self) -> SkipSet {
        let mut copy = SkipSet::new();
        copy.index.reserve(self.len());
        // From the greatest down: each insert lands at the head, so it is O(1) (as Redis's
        // zsetDup does).
        let mut x = self.list.last();
        while let Some(n) = x {
            copy.insert_new(self.list.score(n), self.list.member(n));
            x = self.list.prev(n);
        }
        copy
    }
}

/// A sorted set value.
#[derive(Clone)]
pub enum ZSet {
    Listpack(Listpack),
    Skiplist(Box<SkipSet>),
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZSet({}, {} members)", self.encoding(), self.len())
    }
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Listpack::new())
    }
}

impl ZSet {
    /// An empty set in the encoding Redis picks for a ZADD whose first member is
    /// `first_len` bytes long.
    pub fn new_for(first_len: usize, limits: Limits) -> ZSet {
        if limits.max_entries == 0 || limits.max_value < first_len {
            ZSet::Skiplist(Box::default())
        } else {
            ZSet::Listpack(Listpack::new())
        }
    }

    /// An empty set for a result of `len` elements whose length is known up front
    /// (ZRANGESTORE's destination); None when unknown.
    pub fn new_for_len(len: Option<usize>, limits: Limits) -> ZSet {
        match len {
            Some(n) if n > limits.max_entries => ZSet::Skiplist(Box::default()),
            _ => ZSet::Listpack(Listpack::new()),
        }
    }

    /// A set built from unique elements sorted in set order, in the encoding Redis ends up
    /// with after zsetConvertToListpackIfNeeded on a computed result.
    pub fn from_sorted(items: &[(Vec<u8>, f64)], limits: Limits) -> ZSet {
        let max_len = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let total: usize = items.iter().map(|(m, _)| m.len()).sum();
        if items.len() <= limits.max_entries && max_len <= limits.max_value && total <= LISTPACK_MAX_SAFETY_SIZE {
            Self::listpack_from_sorted(items)
        } else {
            Self::skiplist_from_sorted(items)
        }
    }

    /// A set from elements in any order (as an RDB file holds them), in the encoding Redis
    /// converts a loaded set to; Err if a member appears twice.
    pub fn from_unsorted(mut items: Vec<(Vec<u8>, f64)>, limits: Limits) -> Result<ZSet, DuplicateMember> {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        if items.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(DuplicateMember);
        }
        items.sort_by(|a, b| cmp_elements(a.1, &a.0, b.1, &b.0));
        Ok(Self::from_sorted(&items, limits))
    }

    /// A listpack holding unique elements sorted in set order.
    pub fn listpack_from_sorted(items: &[(Vec<u8>, f64)]) -> ZSet {
        ZSet::Listpack(Listpack::from_sorted(items.iter().map(|(m, s)| (m.as_slice(), *s)), items.len()))
    }

    /// A skiplist holding unique elements sorted in set order.
    pub fn skiplist_from_sorted(items: &[(Vec<u8>, f64)]) -> ZSet {
        let mut s = SkipSet::new();
        s.index.reserve(items.len());
        // From the greatest down: each insert lands at the head.
        for (m, score) in items.iter().rev() {
            s.insert_new(*score, m);
        }
        ZSet::Skiplist(Box::new(s))
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len(),
            ZSet::Skiplist(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.allocated_bytes(),
            ZSet::Skiplist(s) => s.allocated_bytes(),
        }
    }

    /// Allocations freeing this value takes (Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        match self {
            ZSet::Listpack(_) => 1,
            ZSet::Skiplist(s) => s.len(),
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp.find(member).map(|it| it.score),
            ZSet::Skiplist(s) => s.find(member).map(|n| s.list.score(n)),
        }
    }

    /// Converts a listpack to the skiplist encoding.
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut s = SkipSet::new();
            s.index.reserve(lp.len());
            for it in lp.iter() {
                s.insert_new(it.score, it.member);
            }
            *self = ZSet::Skiplist(Box::new(s));
        }
    }

    /// Redis's zsetAdd: adds or updates `member` under `flags`, converting to a skiplist
    /// when the listpack would cross a threshold.
    pub fn add(&mut self, score: f64, member: &[u8], flags: AddFlags, limits: Limits) -> Result<AddResult, NanScore> {
        if score.is_nan() {
            return Err(NanScore);
        }
        let mut out = AddResult { score, ..AddResult::default() };
        if let ZSet::Listpack(lp) = self {
            match lp.find(member).map(|it| it.score) {
                Some(cur) => {
                    let Some(new) = Self::next_score(cur, score, flags, &mut out)? else { return Ok(out) };
                    if new != cur {
                        lp.remove(member);
                        lp.insert(member, new);
                        out.updated = true;
                    }
                    return Ok(out);
                }
                None if flags.xx => {
                    out.nop = true;
                    return Ok(out);
                }
                None => {
                    let too_big = lp.len() + 1 > limits.max_entries
                        || member.len() > limits.max_value
                        || lp.bytes() + member.len() > LISTPACK_MAX_SAFETY_SIZE;
                    if !too_big {
                        lp.insert(member, score);
                        out.added = true;
                        return Ok(out);
                    }
                    self.convert_to_skiplist();
                }
            }
        }
        let ZSet::Skiplist(s) = self else { unreachable!("converted above") };
        match s.find(member) {
            Some(node) => {
                let cur = s.list.score(node);
                let Some(new) = Self::next_score(cur, score, flags, &mut out)? else { return Ok(out) };
                if new != cur {
                    s.list.update_score(node, new);
                    out.updated = true;
                }
                Ok(out)
            }
            None if flags.xx => {
                out.nop = true;
                Ok(out)
            }
            None => {
                s.insert_new(score, member);
                out.added = true;
                Ok(out)
            }
        }
    }

    /// The score an existing member gets, or None when NX/GT/LT leave it alone.
    fn next_score(cur: f64, score: f64, flags: AddFlags, out: &mut AddResult) -> Result<Option<f64>, NanScore> {
        if flags.nx {
            out.nop = true;
            return Ok(None);
        }
        let new = if flags.incr { score + cur } else { score };
        if new.is_nan() {
            return Err(NanScore);
        }
        if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
            out.nop = true;
            return Ok(None);
        }
        out.score = new;
        Ok(Some(new))
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSet::Listpack(lp) => lp.remove(member),
            ZSet::Skiplist(s) => s.remove(member),
        }
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(lp) => lp.index_of(member),
            ZSet::Skiplist(s) => {
                let node = s.find(member)?;
                s.list.rank(s.list.score(node), s.list.member(node)).checked_sub(1)
            }
        }
    }

    /// The element at a 0-based ascending rank.
    pub fn element_at(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(lp) => lp.iter().nth(rank).map(|it| (it.member, it.score)),
            ZSet::Skiplist(s) => s.list.by_rank(rank + 1).map(|n| (s.list.member(n), s.list.score(n))),
        }
    }

    /// Visits elements from `start` onwards (descending if `rev`) while `f` returns true.
    pub fn walk(&self, start: Start<'_>, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        match self {
            ZSet::Listpack(lp) => {
                if !rev {
                    let from = match start {
                        Start::Rank(r) => Some(lp.offset_of_index(r)),
                        Start::Score(range) => lp_first_in_score_range(lp, range).map(|it| it.pos),
                        Start::Lex(range) => lp_first_in_lex_range(lp, range).map(|it| it.pos),
                    };
                    let Some(from) = from else { return };
                    for it in lp.iter_from(from) {
                        if !f(it.member, it.score) {
                            return;
                        }
                    }
                } else {
                    let positions = lp.positions();
                    // Redis's zzlLastInRange / zzlLastInLexRange: the last element within
                    // the max, if it is also within the min.
                    let first = match start {
                        Start::Rank(r) => positions.len().checked_sub(r + 1),
                        Start::Score(range) => lp_score_range_possible(lp, range)
                            .then(|| positions.iter().rposition(|&p| range.lte_max(lp.item_at(p).score)))
                            .flatten()
                            .filter(|&i| range.gte_min(lp.item_at(positions[i]).score)),
                        Start::Lex(range) => lp_lex_range_possible(lp, range)
                            .then(|| positions.iter().rposition(|&p| range.lte_max(lp.item_at(p).member)))
                            .flatten()
                            .filter(|&i| range.gte_min(lp.item_at(positions[i]).member)),
                    };
                    let Some(first) = first else { return };
                    for &p in positions[..=first].iter().rev() {
                        let it = lp.item_at(p);
                        if !f(it.member, it.score) {
                            return;
                        }
                    }
                }
            }
            ZSet::Skiplist(s) => {
                let list = &s.list;
                let mut x = match (start, rev) {
                    (Start::Rank(r), false) => list.by_rank(r + 1),
                    (Start::Rank(r), true) => list.len().checked_sub(r).and_then(|rank| list.by_rank(rank)),
                    (Start::Score(range), false) => list.first_in_range(range),
                    (Start::Score(range), true) => list.last_in_range(range),
                    (Start::Lex(range), false) => list.first_in_lex_range(range),
                    (Start::Lex(range), true) => list.last_in_lex_range(range),
                };
                while let Some(n) = x {
                    if !f(list.member(n), list.score(n)) {
                        return;
                    }
                    x = if rev { list.prev(n) } else { list.next(n) };
                }
            }
        }
    }

    /// Visits every element in ascending order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        self.walk(Start::Rank(0), false, |m, s| {
            f(m, s);
            true
        });
    }

    /// How many elements have a score in the range (ZCOUNT).
    pub fn count_in_score_range(&self, range: &ScoreRange) -> usize {
        match self {
            ZSet::Listpack(lp) => lp_first_in_score_range(lp, range)
                .map_or(0, |first| lp.iter_from(first.pos).take_while(|it| range.lte_max(it.score)).count()),
            ZSet::Skiplist(s) => Self::count_by_ranks(s, s.list.first_in_range(range), s.list.last_in_range(range)),
        }
    }

    /// How many members are in the lex range (ZLEXCOUNT).
    pub fn count_in_lex_range(&self, range: &LexRange) -> usize {
        match self {
            ZSet::Listpack(lp) => lp_first_in_lex_range(lp, range)
                .map_or(0, |first| lp.iter_from(first.pos).take_while(|it| range.lte_max(it.member)).count()),
            ZSet::Skiplist(s) => {
                Self::count_by_ranks(s, s.list.first_in_lex_range(range), s.list.last_in_lex_range(range))
            }
        }
    }

    fn count_by_ranks(s: &SkipSet, first: Option<NonNull<Node>>, last: Option<NonNull<Node>>) -> usize {
        let rank_of = |n: NonNull<Node>| s.list.rank(s.list.score(n), s.list.member(n));
        match (first, last) {
            (Some(f), Some(l)) => (rank_of(l) + 1).saturating_sub(rank_of(f)),
            _ => 0,
        }
    }

    /// Removes the elements with 0-based ranks `start..=end` (valid ranks); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.remove_index_range(start, end),
            ZSet::Skiplist(s) => {
                let SkipSet { index, list } = &mut **s;
                list.delete_range_by_rank(start + 1, end + 1, |m| {
                    index.remove(m);
                })
            }
        }
    }

    /// Removes the elements with a score in the range; returns how many.
    pub fn remove_score_range(&mut self, range: &ScoreRange) -> usize {
        match self {
            ZSet::Listpack(lp) => match lp_first_in_score_range(lp, range).map(|it| it.pos) {
                Some(from) => lp.remove_run(from, |it| range.lte_max(it.score)),
                None => 0,
            },
            ZSet::Skiplist(s) => {
                if range.is_empty() {
                    return 0;
                }
                let SkipSet { index, list } = &mut **s;
                list.delete_range_by_score(range, |m| {
                    index.remove(m);
                })
            }
        }
    }

    /// Removes the members in the lex range; returns how many.
    pub fn remove_lex_range(&mut self, range: &LexRange) -> usize {
        match self {
            ZSet::Listpack(lp) => match lp_first_in_lex_range(lp, range).map(|it| it.pos) {
                Some(from) => lp.remove_run(from, |it| range.lte_max(it.member)),
                None => 0,
            },
            ZSet::Skiplist(s) => {
                if range.is_empty() {
                    return 0;
                }
                let SkipSet { index, list } = &mut **s;
                list.delete_range_by_lex(range, |m| {
                    index.remove(m);
                })
            }
        }
    }

    /// Removes and returns the lowest (or highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        match self {
            ZSet::Listpack(lp) => {
                let it = if max { lp.iter().last()? } else { lp.iter().next()? };
                let out = (it.member.to_vec(), it.score);
                let (from, to) = (it.pos, it.end);
                lp.remove_span(from, to, 1);
                Some(out)
            }
            ZSet::Skiplist(s) => {
                let n = if max { s.list.last()? } else { s.list.first()? };
                let out = (s.list.member(n).to_vec(), s.list.score(n));
                s.remove_node(n);
                Some(out)
            }
        }
    }

    /// One step of ZSCAN over the skiplist encoding's index (Redis's dictScan); the
    /// listpack encoding is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(lp) => {
                lp.iter().for_each(|it| f(it.member, it.score));
                0
            }
            ZSet::Skiplist(s) => s.index.scan(cursor, |r, _| f(s.list.member(r.0), s.list.score(r.0))),
        }
    }

    /// Bytes a listpack element takes (for callers estimating sizes).
    pub fn listpack_element_len(member: &[u8], score: f64) -> usize {
        element_len(member, score)
    }
}

/// Redis's zzlIsInRange: whether some element may have a score in the range.
fn lp_score_range_possible(lp: &Listpack, range: &ScoreRange) -> bool {
    if range.is_empty() {
        return false;
    }
    match (lp.iter().last(), lp.iter().next()) {
        (Some(last), Some(first)) => range.gte_min(last.score) && range.lte_max(first.score),
        _ => false,
    }
}

/// Redis's zzlIsInLexRange.
fn lp_lex_range_possible(lp: &Listpack, range: &LexRange) -> bool {
    if range.is_empty() {
        return false;
    }
    match (lp.iter().last(), lp.iter().next()) {
        (Some(last), Some(first)) => range.gte_min(last.member) && range.lte_max(first.member),
        _ => false,
    }
}

/// Redis's zzlFirstInRange: the first element within the min, if it is also within the max.
fn lp_first_in_score_range<'a>(lp: &'a Listpack, range: &ScoreRange) -> Option<Item<'a>> {
    if !lp_score_range_possible(lp, range) {
        return None;
    }
    lp.iter().find(|it| range.gte_min(it.score)).filter(|it| range.lte_max(it.score))
}

/// Redis's zzlFirstInLexRange.
fn lp_first_in_lex_range<'a>(lp: &'a Listpack, range: &LexRange) -> Option<Item<'a>> {
    if !lp_lex_range_possible(lp, range) {
        return None;
    }
    lp.iter().find(|it| range.gte_min(it.member)).filter(|it| range.lte_max(it.member))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_entries: 4, max_value: 8 };

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::new();
        z.for_each(|m, s| out.push((m.to_vec(), s)));
        out
    }

    fn add(z: &mut ZSet, s: f64, m: &str) -> AddResult {
        z.add(s, m.as_bytes(), AddFlags::default(), SMALL).unwrap()
    }

    #[test]
    fn converts_past_thresholds_and_keeps_order() {
        let mut z = ZSet::new_for(1, SMALL);
        for (i, m) in ["d", "c", "b", "a"].iter().enumerate() {
            assert!(add(&mut z, i as f64 % 2.0, m).added);
        }
        assert_eq!(z.encoding(), "listpack");
        let before = members(&z);
        add(&mut z, 5.0, "e");
        assert_eq!(z.encoding(), "skiplist");
        let mut expected = before;
        expected.push((b"e".to_vec(), 5.0));
        assert_eq!(members(&z), expected);
        let mut y = ZSet::new_for(1, SMALL);
        add(&mut y, 1.0, "toolongmember");
        assert_eq!(y.encoding(), "skiplist");
        assert_eq!(ZSet::new_for(9, SMALL).encoding(), "skiplist");
    }

    #[test]
    fn both_encodings_answer_alike() {
        let big = Limits { max_entries: 0, max_value: 0 };
        let mut a = ZSet::new_for(1, SMALL);
        let mut b = ZSet::new_for(1, big);
        let lim = Limits { max_entries: 1000, max_value: 64 };
        for i in 0..40 {
            let m = format!("m{}", (i * 7) % 40);
            let s = (i % 5) as f64;
            a.add(s, m.as_bytes(), AddFlags::default(), lim).unwrap();
            b.add(s, m.as_bytes(), AddFlags::default(), big).unwrap();
        }
        assert_eq!((a.encoding(), b.encoding()), ("listpack", "skiplist"));
        assert_eq!(members(&a), members(&b));
        let r = ScoreRange { min: 1.0, max: 3.0, minex: true, maxex: false };
        assert_eq!(a.count_in_score_range(&r), b.count_in_score_range(&r));
        let lex = LexRange {
            min: LexBound::Value { bytes: b"m1".to_vec(), exclusive: false },
            max: LexBound::Value { bytes: b"m3".to_vec(), exclusive: true },
        };
        // Lex ranges are only meaningful when all scores are equal (as in Redis).
        let (mut la, mut lb) = (ZSet::new_for(1, lim), ZSet::new_for(1, big));
        for i in 0..40 {
            let m = format!("m{}", (i * 7) % 40);
            la.add(0.0, m.as_bytes(), AddFlags::default(), lim).unwrap();
            lb.add(0.0, m.as_bytes(), AddFlags::default(), big).unwrap();
        }
        assert_eq!(la.count_in_lex_range(&lex), 22);
        assert_eq!(lb.count_in_lex_range(&lex), 22);
        for rev in [false, true] {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            la.walk(Start::Lex(&lex), rev, |m, _| {
                x.push(m.to_vec());
                true
            });
            lb.walk(Start::Lex(&lex), rev, |m, _| {
                y.push(m.to_vec());
                true
            });
            assert_eq!(x, y);
        }
        assert_eq!(la.remove_lex_range(&lex), lb.remove_lex_range(&lex));
        assert_eq!(members(&la), members(&lb));
        for rev in [false, true] {
            for start in [Start::Rank(3), Start::Score(&r)] {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                a.walk(start, rev, |m, s| {
                    x.push((m.to_vec(), s));
                    x.len() < 7
                });
                b.walk(start, rev, |m, s| {
                    y.push((m.to_vec(), s));
                    y.len() < 7
                });
                assert_eq!(x, y);
            }
        }
        for m in ["m3", "m17", "nope"] {
            assert_eq!(a.rank(m.as_bytes()), b.rank(m.as_bytes()));
        }
        let c = b.clone();
        assert_eq!(members(&c), members(&b));
        assert_eq!(a.remove_score_range(&r), b.remove_score_range(&r));
        assert_eq!(a.remove_rank_range(2, 4), b.remove_rank_range(2, 4));
        assert_eq!(a.pop(true), b.pop(true));
        assert_eq!(a.pop(false), b.pop(false));
        assert_eq!(members(&a), members(&b));
        assert_eq!(members(&c).len(), 40);
    }

    #[test]
    fn add_flags_follow_zsetadd() {
        let mut z = ZSet::default();
        let lim = Limits { max_entries: 128, max_value: 64 };
        z.add(10.0, b"x", AddFlags::default(), lim).unwrap();
        let gt = AddFlags { gt: true, ..AddFlags::default() };
        assert!(z.add(5.0, b"x", gt, lim).unwrap().nop);
        let incr = AddFlags { incr: true, ..AddFlags::default() };
        assert_eq!(z.add(2.5, b"x", incr, lim).unwrap().score, 12.5);
        z.add(f64::INFINITY, b"x", AddFlags::default(), lim).unwrap();
        assert_eq!(z.add(f64::NEG_INFINITY, b"x", incr, lim), Err(NanScore));
        let lex = LexRange { min: LexBound::Max, max: LexBound::Min };
        assert!(lex.is_empty());
        let all = LexRange { min: LexBound::Min, max: LexBound::Max };
        assert!(!all.is_empty() && all.contains(b""));
    }
}
