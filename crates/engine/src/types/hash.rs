//! The hash value type, with Redis 7.0's two encodings:
//!
//! * `listpack` ([`PackedPairs`]): every field and value in one buffer, searched linearly,
//!   while the hash has at most `hash-max-listpack-entries` fields and no field or value longer
//!   than `hash-max-listpack-value` bytes;
//! * `hashtable`: the keyspace's [`Table`] of [`Pair`]s (one allocation per field/value pair),
//!   once a threshold is crossed. Like Redis, a hash never converts back.
//!
//! Conversions happen exactly where Redis's t_hash.c makes them (before a write whose
//! arguments are too long, after a write that makes the hash too big), so OBJECT ENCODING
//! agrees with Redis for the same command history. HSCAN over a `hashtable` hash uses the
//! table's reverse-binary cursor and keeps Redis's SCAN guarantee across resizes; a `listpack`
//! hash is returned whole with cursor 0, as Redis does.

use super::hash_entry::Pair;
use super::hash_pack::PackedPairs;
use super::tagged::{Mut, Ref, Tagged};
use crate::keyspace::table::Table;
use crate::util::rand::Rng;

/// Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB.
const PACK_MAX_SAFE_BYTES: usize = 1 << 30;

/// The conversion thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HashLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl HashLimits {
    pub fn from_config(config: &crate::config::Config) -> HashLimits {
        HashLimits {
            max_entries: config.uint("hash-max-listpack-entries") as usize,
            max_value: config.uint("hash-max-listpack-value") as usize,
        }
    }
}

/// A field and its value, borrowed from a hash.
pub type FieldValue<'a> = (&'a [u8], &'a [u8]);

/// A hash value (see the module docs).
pub struct Hash {
    enc: Tagged<PackedPairs, PairTable>,
}

/// The `hashtable` encoding: the table and the bytes its pairs allocate.
struct PairTable {
    table: Table<Pair>,
    heap: usize,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::new()
    }
}

impl Hash {
    /// An empty hash; new hashes start as `listpack`, as Redis's createHashObject.
    pub fn new() -> Hash {
        Hash { enc: Tagged::small(PackedPairs::new()) }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self.enc.get() {
            Ref::Small(_) => "listpack",
            Ref::Big(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self.enc.get() {
            Ref::Small(p) => p.len(),
            Ref::Big(t) => t.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self.enc.get() {
            Ref::Small(p) => p.get(field),
            Ref::Big(t) => t.table.get(field).map(|e| e.value()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to `hashtable` (Redis's hashTypeConvertListpack); a no-op if it already is.
    pub fn convert_to_table(&mut self) {
        let Ref::Small(pack) = self.enc.get() else { return };
        let mut table = Table::new();
        table.reserve(pack.len());
        let mut heap = 0;
        for (f, v) in pack.iter() {
            let pair = Pair::new(f, v);
            heap += pair.alloc_size();
            table.insert_new(pair, false);
        }
        self.enc = Tagged::big(Box::new(PairTable { table, heap }));
    }

    /// Redis's hashTypeTryConversion: before writing `items` (fields and values), converts a
    /// `listpack` hash if one of them is longer than `max_value` or the buffer would pass 1 GB.
    pub fn prepare_for<'a>(&mut self, items: impl IntoIterator<Item = &'a [u8]>, limits: HashLimits) {
        let Ref::Small(pack) = self.enc.get() else { return };
        let mut sum = 0usize;
        for item in items {
            if item.len() > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(item.len());
        }
        if pack.bytes().saturating_add(sum) > PACK_MAX_SAFE_BYTES {
            self.convert_to_table();
        }
    }

    /// Redis's hashTypeSet: sets a field, converting first if the field or value is too long
    /// for a `listpack` and after if the hash has too many fields. True if the field existed.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if matches!(self.enc.get(), Ref::Small(_)) && (field.len() > limits.max_value || value.len() > limits.max_value)
        {
            self.convert_to_table();
        }
        match self.enc.get_mut() {
            Mut::Small(p) => {
                let updated = p.set(field, value);
                if p.len() > limits.max_entries {
                    self.convert_to_table();
                }
                updated
            }
            Mut::Big(t) => match t.table.get_mut(field) {
                Some(mut slot) => {
                    let pair = slot.entry();
                    t.heap -= pair.alloc_size();
                    pair.set_value(value);
                    t.heap += pair.alloc_size();
                    true
                }
                None => {
                    let pair = Pair::new(field, value);
                    t.heap += pair.alloc_size();
                    t.table.insert_new(pair, false);
                    false
                }
            },
        }
    }

    /// Removes a field; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.enc.get_mut() {
            Mut::Small(p) => p.remove(field),
            Mut::Big(t) => match t.table.remove(field) {
                Some(pair) => {
                    t.heap -= pair.alloc_size();
                    true
                }
                None => false,
            },
        }
    }

    /// Visits every pair (insertion order for `listpack`, table order for `hashtable`).
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        match self.enc.get() {
            Ref::Small(p) => p.iter().for_each(|(k, v)| f(k, v)),
            Ref::Big(t) => {
                let mut all: Vec<*const Pair> = Vec::with_capacity(t.table.len());
                t.table.for_each(|e, _| all.push(e as *const Pair));
                for e in all {
                    // SAFETY: the entries stay alive and unmoved while self is borrowed.
                    let e: &'a Pair = unsafe { &*e };
                    f(e.field(), e.value());
                }
            }
        }
    }

    /// Every pair, in [`Hash::for_each`] order.
    pub fn pairs(&self) -> Vec<FieldValue<'_>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|k, v| out.push((k, v)));
        out
    }

    /// One random pair (Redis's hashTypeRandomElement), None if the hash is empty.
    pub fn random_pair(&self, rng: &mut Rng) -> Option<FieldValue<'_>> {
        match self.enc.get() {
            Ref::Small(p) => {
                if p.is_empty() {
                    return None;
                }
                p.iter().nth(rng.below(p.len() as u64) as usize)
            }
            Ref::Big(t) => t.table.random_fair(|| rng.next_u64()).map(|e| (e.field(), e.value())),
        }
    }

    /// `count` random pairs, repetitions allowed (HRANDFIELD with a negative count): for a
    /// `listpack` the pairs are indexed once and picked uniformly, as lpRandomPairs does; for
    /// a `hashtable`, one fair pick per pair.
    pub fn random_pairs(&self, rng: &mut Rng, count: usize) -> Vec<FieldValue<'_>> {
        let mut out = Vec::with_capacity(count.min(1 << 16));
        if self.is_empty() {
            return out;
        }
        match self.enc.get() {
            Ref::Small(p) => {
                let all: Vec<_> = p.iter().collect();
                for _ in 0..count {
                    out.push(all[rng.below(all.len() as u64) as usize]);
                }
            }
            Ref::Big(t) => {
                for _ in 0..count {
                    if let Some(e) = t.table.random_fair(|| rng.next_u64()) {
                        out.push((e.field(), e.value()));
                    }
                }
            }
        }
        out
    }

    /// `count` distinct random pairs (HRANDFIELD with a positive count), with Redis's
    /// strategies: the whole hash when `count` covers it; when `count` is more than a third of
    /// the hash, all pairs minus random ones; otherwise ordered selection sampling for a
    /// `listpack` (lpRandomPairsUnique) or repeated fair picks for a `hashtable`.
    pub fn random_unique_pairs(&self, rng: &mut Rng, count: usize) -> Vec<FieldValue<'_>> {
        let size = self.len();
        if count >= size {
            return self.pairs();
        }
        if count.saturating_mul(3) > size {
            let mut all = self.pairs();
            while all.len() > count {
                let victim = rng.below(all.len() as u64) as usize;
                all.swap_remove(victim);
            }
            return all;
        }
        match self.enc.get() {
            Ref::Small(p) => {
                // Knuth's algorithm S: keep each pair with probability needed/remaining.
                let mut out = Vec::with_capacity(count);
                let mut remaining = size;
                for pair in p.iter() {
                    if out.len() == count {
                        break;
                    }
                    if (rng.below(remaining as u64) as usize) < count - out.len() {
                        out.push(pair);
                    }
                    remaining -= 1;
                }
                out
            }
            Ref::Big(t) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some(e) = t.table.random_fair(|| rng.next_u64()) else { break };
                    if seen.insert(e as *const Pair) {
                        out.push((e.field(), e.value()));
                    }
                }
                out
            }
        }
    }

    /// One HSCAN call: the pairs visited and the next cursor. A `listpack` hash is returned
    /// whole with cursor 0; a `hashtable` one is walked like Redis's scanGenericCommand does
    /// (until `count` pairs or 20 × `count` buckets).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<FieldValue<'_>>) {
        match self.enc.get() {
            Ref::Small(p) => (0, p.iter().collect()),
            Ref::Big(t) => {
                let mut found: Vec<*const Pair> = Vec::new();
                let mut cursor = cursor;
                let mut max_iterations = count.saturating_mul(20);
                loop {
                    cursor = t.table.scan(cursor, |e, _| found.push(e as *const Pair));
                    if cursor == 0 || max_iterations == 0 || found.len() >= count {
                        break;
                    }
                    max_iterations -= 1;
                }
                // SAFETY: the entries stay alive and unmoved while self is borrowed.
                let pairs = found.into_iter().map(|e| unsafe { &*e }).map(|e| (e.field(), e.value())).collect();
                (cursor, pairs)
            }
        }
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        match self.enc.get() {
            Ref::Small(p) => p.bytes(),
            Ref::Big(t) => std::mem::size_of::<PairTable>() + t.table.allocated_bytes() + t.heap,
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

impl Clone for Hash {
    /// A copy with the same encoding (Redis's hashTypeDup, for COPY).
    fn clone(&self) -> Hash {
        match self.enc.get() {
            Ref::Small(p) => Hash { enc: Tagged::small(p.clone()) },
            Ref::Big(t) => {
                let mut table = Table::new();
                table.reserve(t.table.len());
                t.table.for_each(|e, _| {
                    table.insert_new(e.clone(), false);
                });
                Hash { enc: Tagged::big(Box::new(PairTable { table, heap: t.heap })) }
            }
        }
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        self.for_each(|k, v| {
            m.entry(&String::from_utf8_lossy(k), &String::from_utf8_lossy(v));
        });
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HashLimits = HashLimits { max_entries: 4, max_value: 8 };

    #[test]
    fn converts_on_entries_and_value_length() {
        let mut h = Hash::new();
        for i in 0..4 {
            assert!(!h.set(format!("f{i}").as_bytes(), b"v", LIMITS));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(h.set(b"f0", b"w", LIMITS));
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", LIMITS);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert_eq!(h.get(b"f0"), Some(&b"w"[..]));

        let mut h = Hash::new();
        h.set(b"a", b"123456789", LIMITS);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.prepare_for([&b"a"[..], b"x"], LIMITS);
        assert_eq!(h.encoding(), "listpack");
        h.prepare_for([&b"123456789"[..]], LIMITS);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn table_encoding_operations_and_clone() {
        let mut h = Hash::new();
        h.convert_to_table();
        for i in 0..100 {
            h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), LIMITS);
        }
        assert!(h.set(b"f7", b"seven", LIMITS));
        assert!(h.remove(b"f8") && !h.remove(b"f8"));
        assert_eq!(h.len(), 99);
        let c = h.clone();
        assert_eq!(c.encoding(), "hashtable");
        assert_eq!(c.get(b"f7"), Some(&b"seven"[..]));
        assert!(c.memory_usage() > 0 && h.memory_usage() > 0);
        let mut seen = 0;
        let mut cursor = 0;
        loop {
            let (next, pairs) = h.scan(cursor, 10);
            seen += pairs.len();
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, 99);
    }

    #[test]
    fn random_strategies_return_distinct_members() {
        let mut rng = Rng::from_seed(1);
        for table in [false, true] {
            let mut h = Hash::new();
            if table {
                h.convert_to_table();
            }
            let big = HashLimits { max_entries: 512, max_value: 64 };
            for i in 0..30 {
                h.set(format!("f{i}").as_bytes(), b"v", big);
            }
            for count in [1, 5, 15, 29, 30, 40] {
                let got = h.random_unique_pairs(&mut rng, count);
                let distinct: std::collections::HashSet<_> = got.iter().map(|p| p.0).collect();
                assert_eq!(got.len(), count.min(30));
                assert_eq!(distinct.len(), got.len());
            }
            assert_eq!(h.random_pairs(&mut rng, 100).len(), 100);
            assert!(h.random_pair(&mut rng).is_some());
        }
    }
}
