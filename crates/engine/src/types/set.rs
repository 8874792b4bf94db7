//! The set value type, with Redis 7.0's two encodings:
//!
//! * `intset` ([`IntSet`]): a sorted array of integers while every member is the canonical
//!   decimal form of an i64 and there are at most `set-max-intset-entries` members;
//! * `hashtable`: the keyspace's [`Table`] of [`Member`]s (short members inline in the slot,
//!   longer ones in one allocation each). Like Redis, a set never converts back, and 7.0 has no
//!   listpack sets.
//!
//! Sets that commands build from scratch (SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SPOP keeping
//! the remainder) start as `intset` and convert on the first member that needs it, exactly as
//! t_set.c builds them, so OBJECT ENCODING agrees with Redis. SSCAN over a `hashtable` set
//! keeps Redis's SCAN guarantee across resizes; an `intset` is returned whole with cursor 0.

use super::intset::IntSet;
use super::set_member::Member;
use super::tagged::{Mut, Ref, Tagged};
use crate::keyspace::table::Table;
use crate::util::num::parse_i64;
use crate::util::rand::Rng;

/// Redis caps intsets at 2^30 members whatever `set-max-intset-entries` says.
const INTSET_HARD_MAX: usize = 1 << 30;

/// The conversion threshold (`set-max-intset-entries`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetLimits {
    pub max_intset: usize,
}

impl SetLimits {
    pub fn from_config(config: &crate::config::Config) -> SetLimits {
        SetLimits { max_intset: (config.uint("set-max-intset-entries") as usize).min(INTSET_HARD_MAX) }
    }
}

/// A member as a set stores it: an integer of an `intset` or the bytes of a `hashtable` one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetElem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl SetElem<'_> {
    /// The member's bytes (integers in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            SetElem::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            SetElem::Str(s) => s.to_vec(),
        }
    }

    /// Calls `f` with the member's bytes, formatting an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            SetElem::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            SetElem::Str(s) => f(s),
        }
    }
}

/// A set value (see the module docs).
pub struct Set {
    enc: Tagged<IntSet, MemberTable>,
}

/// The `hashtable` encoding: the table and the heap bytes its members allocate.
struct MemberTable {
    table: Table<Member>,
    heap: usize,
}

impl MemberTable {
    fn new(reserve: usize) -> MemberTable {
        let mut table = Table::new();
        table.reserve(reserve);
        MemberTable { table, heap: 0 }
    }

    fn add(&mut self, member: &[u8]) -> bool {
        if self.table.get(member).is_some() {
            return false;
        }
        self.add_new(member);
        true
    }

    fn add_new(&mut self, member: &[u8]) {
        let m = Member::new(member);
        self.heap += m.alloc_size();
        self.table.insert_new(m, false);
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new_intset()
    }
}

impl Set {
    /// An empty `intset` (Redis's createIntsetObject).
    pub fn new_intset() -> Set {
        Set { enc: Tagged::small(IntSet::new()) }
    }

    /// An empty `hashtable` set (Redis's createSetObject).
    pub fn new_table() -> Set {
        Set { enc: Tagged::big(Box::new(MemberTable::new(0))) }
    }

    /// An empty set that can hold `first` (Redis's setTypeCreate): an `intset` if it is an
    /// integer, else a `hashtable`.
    pub fn for_member(first: &[u8]) -> Set {
        if parse_i64(first).is_some() {
            Set::new_intset()
        } else {
            Set::new_table()
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.enc.get() {
            Ref::Small(_) => "intset",
            Ref::Big(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self.enc.get() {
            Ref::Small(s) => s.len(),
            Ref::Big(t) => t.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An `intset`'s bytes in Redis's layout (RDB and DUMP save it as it is).
    pub fn intset_bytes(&self) -> Option<Vec<u8>> {
        match self.enc.get() {
            Ref::Small(s) => Some(s.to_redis_bytes()),
            Ref::Big(_) => None,
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.enc.get(), Ref::Small(_))
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self.enc.get() {
            Ref::Small(s) => parse_i64(member).is_some_and(|n| s.contains(n)),
            Ref::Big(t) => t.table.get(member).is_some(),
        }
    }

    pub fn contains_elem(&self, elem: SetElem<'_>) -> bool {
        match (self.enc.get(), elem) {
            (Ref::Small(s), SetElem::Int(n)) => s.contains(n),
            (_, e) => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Converts an `intset` to `hashtable` (Redis's setTypeConvert); a no-op otherwise.
    pub fn convert_to_table(&mut self) {
        let Ref::Small(s) = self.enc.get() else { return };
        let mut t = MemberTable::new(s.len());
        let mut buf = itoa::Buffer::new();
        for n in s.iter() {
            t.add_new(buf.format(n).as_bytes());
        }
        self.enc = Tagged::big(Box::new(t));
    }

    /// Redis's setTypeAdd: true if `member` was added. An `intset` converts when the member
    /// is not an integer or the set outgrows `max_intset`.
    pub fn add(&mut self, member: &[u8], limits: SetLimits) -> bool {
        match self.enc.get_mut() {
            Mut::Small(s) => match parse_i64(member) {
                Some(n) => {
                    if !s.insert(n) {
                        return false;
                    }
                    if s.len() > limits.max_intset {
                        self.convert_to_table();
                    }
                    true
                }
                None => {
                    self.convert_to_table();
                    let Mut::Big(t) = self.enc.get_mut() else { unreachable!("just converted") };
                    t.add_new(member);
                    true
                }
            },
            Mut::Big(t) => t.add(member),
        }
    }

    /// Adds a member given as a [`SetElem`] (integers need no formatting for an `intset`).
    pub fn add_elem(&mut self, elem: SetElem<'_>, limits: SetLimits) -> bool {
        match (self.enc.get_mut(), elem) {
            (Mut::Small(s), SetElem::Int(n)) => {
                if !s.insert(n) {
                    return false;
                }
                if s.len() > limits.max_intset {
                    self.convert_to_table();
                }
                true
            }
            (_, e) => e.with_bytes(|b| self.add(b, limits)),
        }
    }

    /// Redis's setTypeRemove: true if `member` was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.enc.get_mut() {
            Mut::Small(s) => parse_i64(member).is_some_and(|n| s.remove(n)),
            Mut::Big(t) => match t.table.remove(member) {
                Some(m) => {
                    t.heap -= m.alloc_size();
                    true
                }
                None => false,
            },
        }
    }

    pub fn remove_elem(&mut self, elem: SetElem<'_>) -> bool {
        match (self.enc.get_mut(), elem) {
            (Mut::Small(s), SetElem::Int(n)) => s.remove(n),
            (_, e) => e.with_bytes(|b| self.remove(b)),
        }
    }

    /// Every member: ascending for an `intset`, table order for a `hashtable`.
    pub fn members(&self) -> Vec<SetElem<'_>> {
        match self.enc.get() {
            Ref::Small(s) => s.iter().map(SetElem::Int).collect(),
            Ref::Big(t) => {
                let mut all: Vec<*const Member> = Vec::with_capacity(t.table.len());
                t.table.for_each(|m, _| all.push(m as *const Member));
                // SAFETY: the members stay alive and unmoved while self is borrowed.
                all.into_iter().map(|m| SetElem::Str(unsafe { &*m }.bytes())).collect()
            }
        }
    }

    /// One random member (Redis's setTypeRandomElement), None if empty.
    pub fn random(&self, rng: &mut Rng) -> Option<SetElem<'_>> {
        match self.enc.get() {
            Ref::Small(s) => {
                if s.is_empty() {
                    None
                } else {
                    Some(SetElem::Int(s.get(rng.below(s.len() as u64) as usize)))
                }
            }
            Ref::Big(t) => t.table.random_fair(|| rng.next_u64()).map(|m| SetElem::Str(m.bytes())),
        }
    }

    /// `count` distinct random members (SRANDMEMBER with a positive count), with Redis's
    /// strategies: the whole set when `count` covers it; all members minus random ones when
    /// `count` is more than a third of the set; otherwise random picks until enough are
    /// distinct.
    pub fn random_unique(&self, rng: &mut Rng, count: usize) -> Vec<SetElem<'_>> {
        let size = self.len();
        if count >= size {
            return self.members();
        }
        if count.saturating_mul(3) > size {
            let mut all = self.members();
            while all.len() > count {
                let victim = rng.below(all.len() as u64) as usize;
                all.swap_remove(victim);
            }
            return all;
        }
        let mut out = Vec::with_capacity(count);
        match self.enc.get() {
            Ref::Small(s) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                while out.len() < count {
                    let i = rng.below(size as u64) as usize;
                    if seen.insert(i) {
                        out.push(SetElem::Int(s.get(i)));
                    }
                }
            }
            Ref::Big(t) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                while out.len() < count {
                    let Some(m) = t.table.random_fair(|| rng.next_u64()) else { break };
                    if seen.insert(m as *const Member) {
                        out.push(SetElem::Str(m.bytes()));
                    }
                }
            }
        }
        out
    }

    /// Removes and returns `count` random members, 0 < `count` < len (SPOP with a count below
    /// the set's size), as Redis does: when few members go, each is a random pick removed in
    /// turn; when most go, the members that stay are picked into a new set (built like
    /// setTypeCreate would, so its encoding may change) and the old set's members are returned.
    pub fn pop_many(&mut self, rng: &mut Rng, count: usize, limits: SetLimits) -> Vec<Vec<u8>> {
        const SPOP_MOVE_STRATEGY_MUL: usize = 5;
        let size = self.len();
        let remaining = size.saturating_sub(count);
        if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) > count {
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                let Some(elem) = self.random(rng).map(|e| e.to_vec()) else { break };
                self.remove(&elem);
                out.push(elem);
            }
            return out;
        }
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let Some(elem) = self.random(rng).map(|e| e.to_vec()) else { break };
            let new = kept.get_or_insert_with(|| Set::for_member(&elem));
            new.add(&elem, limits);
            self.remove(&elem);
        }
        let popped = self.members().into_iter().map(|e| e.to_vec()).collect();
        *self = kept.unwrap_or_default();
        popped
    }

    /// One SSCAN call: the members visited and the next cursor. An `intset` is returned whole
    /// with cursor 0; a `hashtable` set is walked like Redis's scanGenericCommand does (until
    /// `count` members or 10 × `count` buckets).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<SetElem<'_>>) {
        match self.enc.get() {
            Ref::Small(s) => (0, s.iter().map(SetElem::Int).collect()),
            Ref::Big(t) => {
                let mut found: Vec<*const Member> = Vec::new();
                let mut cursor = cursor;
                let mut max_iterations = count.saturating_mul(10);
                loop {
                    cursor = t.table.scan(cursor, |m, _| found.push(m as *const Member));
                    if cursor == 0 || max_iterations == 0 || found.len() >= count {
                        break;
                    }
                    max_iterations -= 1;
                }
                // SAFETY: the members stay alive and unmoved while self is borrowed.
                (cursor, found.into_iter().map(|m| SetElem::Str(unsafe { &*m }.bytes())).collect())
            }
        }
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        match self.enc.get() {
            Ref::Small(s) => s.bytes(),
            Ref::Big(t) => std::mem::size_of::<MemberTable>() + t.table.allocated_bytes() + t.heap,
        }
    }

    /// Allocations freeing this value takes (Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        match self.enc.get() {
            Ref::Small(_) => 1,
            Ref::Big(t) => t.table.len(),
        }
    }
}

impl Clone for Set {
    /// A copy with the same encoding (Redis's setTypeDup, for COPY).
    fn clone(&self) -> Set {
        match self.enc.get() {
            Ref::Small(s) => Set { enc: Tagged::small(s.clone()) },
            Ref::Big(t) => {
                let mut table = Table::new();
                table.reserve(t.table.len());
                t.table.for_each(|m, _| {
                    table.insert_new(m.clone(), false);
                });
                Set { enc: Tagged::big(Box::new(MemberTable { table, heap: t.heap })) }
            }
        }
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.members().into_iter().map(|e| String::from_utf8_lossy(&e.to_vec()).into_owned()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SetLimits = SetLimits { max_intset: 4 };

    #[test]
    fn intset_converts_on_strings_and_size() {
        let mut s = Set::for_member(b"1");
        assert_eq!(s.encoding(), "intset");
        for m in [&b"1"[..], b"2", b"3", b"4"] {
            assert!(s.add(m, LIMITS));
        }
        assert!(!s.add(b"4", LIMITS));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"5", LIMITS));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"5") && s.contains(b"1") && !s.contains(b"01"));

        let mut s = Set::new_intset();
        s.add(b"10", LIMITS);
        assert!(s.add(b"x", LIMITS));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"10") && s.contains(b"x"));
        assert!(s.remove(b"10") && !s.remove(b"10"));
        assert_eq!(Set::for_member(b"010").encoding(), "hashtable");
        assert_eq!(Set::for_member(b"-7").encoding(), "intset");
    }

    #[test]
    fn pop_many_uses_both_strategies() {
        let big = SetLimits { max_intset: 512 };
        let mut rng = Rng::from_seed(5);
        for count in [2, 18] {
            let mut s = Set::new_table();
            for i in 0..20 {
                s.add(format!("{i}").as_bytes(), big);
            }
            let popped = s.pop_many(&mut rng, count, big);
            assert_eq!(popped.len(), count);
            assert_eq!(s.len(), 20 - count);
            for p in &popped {
                assert!(!s.contains(p));
            }
            if count == 18 {
                // The remainder was rebuilt from scratch: all integers, so an intset.
                assert_eq!(s.encoding(), "intset");
            }
        }
    }

    #[test]
    fn random_unique_and_clone() {
        let mut rng = Rng::from_seed(9);
        let big = SetLimits { max_intset: 512 };
        for table in [false, true] {
            let mut s = Set::new_intset();
            if table {
                s.convert_to_table();
            }
            for i in 0..50 {
                s.add(format!("{i}").as_bytes(), big);
            }
            for count in [1, 5, 20, 49, 50, 60] {
                let got = s.random_unique(&mut rng, count);
                let distinct: std::collections::HashSet<_> = got.iter().map(|e| e.to_vec()).collect();
                assert_eq!(got.len(), count.min(50));
                assert_eq!(distinct.len(), got.len());
            }
            let c = s.clone();
            assert_eq!(c.encoding(), s.encoding());
            assert_eq!(c.len(), 50);
            assert!(c.memory_usage() > 0);
        }
    }
}
