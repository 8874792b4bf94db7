//! Spinel's own hash table: cache-line buckets, incremental rehash, Redis's SCAN guarantee.
//!
//! Why not `HashMap`: `SCAN` must return every key that exists for the whole scan even if the
//! table grows or shrinks in between, and a resize must never stall the server. Redis gets
//! both from its dict (power-of-two tables, a reverse-binary cursor, incremental rehashing);
//! this table keeps those properties with a denser layout in the spirit of Valkey 8.1:
//!
//! * A bucket is one 64-byte cache line: a metadata byte, seven one-byte tags, seven
//!   pointer-sized slots. A tag holds seven bits of the key's hash (so most non-matching
//!   entries are rejected without touching them) and one flag bit the owner may use (the
//!   keyspace marks keys that carry a TTL, so expiry can sample them without dereferencing).
//! * When a bucket is full its last slot becomes a pointer to a child bucket. An entry
//!   therefore always lives in its *home* bucket's chain: that is what makes the cursor valid.
//! * Growing or shrinking allocates the new table and then moves one home chain at a time,
//!   a few per write and a little in the background cron, while lookups check both tables.
//!
//! Entries are thin owned pointers ([`ThinEntry`]); the table never looks inside them except
//! through [`ThinEntry::key`].
//!
//! For background snapshots (BGSAVE without fork, see `persist::snapshot`) the table can
//! *hold still*: [`Table::hold`] stops resizing and rehashing so every key keeps its home
//! chain, chains are numbered in a fixed walk order ([`Table::walk_len`], [`SlotMut::position`],
//! [`Table::visit_position`]), and a second tag bit (the *mark*) records keys the snapshot
//! has already taken care of. A table past four times its normal fill while held reports
//! [`Table::must_resize`] so its owner can finish the snapshot early and let it grow.

use std::hash::BuildHasher;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

/// Entry slots in a bucket.
pub const SLOTS: usize = 7;
/// `meta` bit saying slot 6 holds a child bucket instead of an entry.
const CHAINED: u8 = 0x80;
/// The owner's flag bit in a tag.
const FLAG: u8 = 0x80;
/// The snapshot mark (see the module docs).
const MARK: u8 = 0x40;
const TAG_MASK: u8 = 0x3f;
/// Average entries per bucket at which the table doubles.
const MAX_FILL: usize = SLOTS;
/// The table shrinks when it is fuller than this percentage of nothing... i.e. below 10 %.
const MIN_FILL_PERCENT: usize = 10;
/// A table starts with one bucket: a small big-encoded collection (a set of a few strings)
/// then costs one 64-byte line for up to seven entries, where four would cost 256 bytes.
const MIN_BUCKETS: usize = 1;

/// An owned, pointer-sized value the table can hold.
///
/// # Safety
/// Implementors must be `#[repr(transparent)]` over a non-null pointer, so that a slot holding
/// the pointer can be viewed as the value; `into_raw`/`from_raw` must round-trip ownership.
pub unsafe trait ThinEntry: Sized {
    fn into_raw(self) -> NonNull<u8>;
    /// # Safety
    /// `raw` must come from `into_raw` and be owned by the caller.
    unsafe fn from_raw(raw: NonNull<u8>) -> Self;
    fn key(&self) -> &[u8];
}

#[repr(C, align(64))]
struct Bucket {
    /// Bits 0–6: slot in use. Bit 7: [`CHAINED`].
    meta: u8,
    tags: [u8; SLOTS],
    slots: [*mut u8; SLOTS],
}

impl Bucket {
    const EMPTY: Bucket = Bucket { meta: 0, tags: [0; SLOTS], slots: [ptr::null_mut(); SLOTS] };

    fn chained(&self) -> bool {
        self.meta & CHAINED != 0
    }

    /// Entry slots usable in this bucket (the last one may hold the child pointer).
    fn capacity(&self) -> usize {
        if self.chained() {
            SLOTS - 1
        } else {
            SLOTS
        }
    }

    fn used(&self, i: usize) -> bool {
        self.meta & (1 << i) != 0
    }

    fn child(&self) -> Option<NonNull<Bucket>> {
        if self.chained() {
            NonNull::new(self.slots[SLOTS - 1] as *mut Bucket)
        } else {
            None
        }
    }

    fn free_slot(&self) -> Option<usize> {
        (0..self.capacity()).find(|&i| !self.used(i))
    }

    fn is_empty(&self) -> bool {
        self.meta & !CHAINED == 0
    }
}

/// One power-of-two array of home buckets (a boxed slice: its length never changes).
struct Array {
    buckets: Box<[Bucket]>,
}

impl Array {
    fn with_buckets(n: usize) -> Array {
        Array { buckets: (0..n).map(|_| Bucket::EMPTY).collect() }
    }

    fn mask(&self) -> u64 {
        (self.buckets.len() as u64).wrapping_sub(1)
    }
}

/// Where an entry sits: enough to read, replace or remove it.
#[derive(Clone, Copy)]
struct Location {
    bucket: NonNull<Bucket>,
    slot: usize,
    /// Its home chain in walk order.
    position: u64,
}

/// Mutable access to a stored entry and its tag's flag bit.
pub struct SlotMut<'a, E> {
    entry: &'a mut E,
    tag: &'a mut u8,
    position: u64,
}

impl<'a, E> SlotMut<'a, E> {
    pub fn entry(&mut self) -> &mut E {
        self.entry
    }
    pub fn into_entry(self) -> &'a mut E {
        self.entry
    }
    pub fn flag(&self) -> bool {
        *self.tag & FLAG != 0
    }
    pub fn set_flag(&mut self, on: bool) {
        if on {
            *self.tag |= FLAG;
        } else {
            *self.tag &= !FLAG;
        }
    }
    /// The snapshot mark.
    pub fn mark(&self) -> bool {
        *self.tag & MARK != 0
    }
    pub fn set_mark(&mut self, on: bool) {
        if on {
            *self.tag |= MARK;
        } else {
            *self.tag &= !MARK;
        }
    }
    /// The entry's home chain in walk order (meaningful while the table is held).
    pub fn position(&self) -> u64 {
        self.position
    }
}

pub struct Table<E: ThinEntry> {
    /// `arrays[0]` is the table; while rehashing, entries move from it to `arrays[1]`.
    arrays: [Array; 2],
    /// Next home bucket of `arrays[0]` to move while rehashing, [`NOT_REHASHING`] if none
    /// (a sentinel rather than an Option: big hashes, sets and sorted sets each own a table,
    /// and this keeps the struct at 56 bytes).
    rehash_at: usize,
    len: usize,
    /// While set, the table neither resizes nor rehashes (see [`Table::hold`]).
    held: bool,
    _owns: PhantomData<E>,
}

// The table owns its entries like a `Vec<E>` would.
unsafe impl<E: ThinEntry + Send> Send for Table<E> {}
unsafe impl<E: ThinEntry + Sync> Sync for Table<E> {}

const NOT_REHASHING: usize = usize::MAX;

/// The hasher every table uses, seeded once per process (as Redis's dict hash seed is):
/// a per-table seed would cost a word in every big collection.
static HASHER: std::sync::LazyLock<foldhash::fast::FixedState> =
    std::sync::LazyLock::new(|| foldhash::fast::FixedState::with_seed(random_seed()));

fn tag_of(hash: u64) -> u8 {
    (hash >> 58) as u8 & TAG_MASK
}

/// A per-process random seed so clients cannot aim keys at one bucket.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5350_494e_454c);
    h.finish()
}

impl<E: ThinEntry> Default for Table<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: ThinEntry> Table<E> {
    const ASSERT_THIN: () = assert!(std::mem::size_of::<E>() == std::mem::size_of::<*mut u8>());

    pub fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let _ = Self::ASSERT_THIN;
        Table {
            arrays: [Array::with_buckets(0), Array::with_buckets(0)],
            rehash_at: NOT_REHASHING,
            len: 0,
            held: false,
            _owns: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx().is_some()
    }

    /// Home buckets in the main table (and in the target table while rehashing).
    pub fn bucket_counts(&self) -> (usize, usize) {
        (self.arrays[0].buckets.len(), self.arrays[1].buckets.len())
    }

    pub fn hash(&self, key: &[u8]) -> u64 {
        HASHER.hash_one(key)
    }

    /// Next home bucket of `arrays[0]` to move, while rehashing.
    fn rehash_idx(&self) -> Option<usize> {
        (self.rehash_at != NOT_REHASHING).then_some(self.rehash_at)
    }

    /// Views a slot's pointer as the entry it owns.
    ///
    /// # Safety
    /// The slot must be in use.
    unsafe fn entry_at<'a>(slot: *const *mut u8) -> &'a E {
        &*(slot as *const E)
    }

    /// Bucket array bases for a lookup whose result is only read.
    fn read_bases(&self) -> [*mut Bucket; 2] {
        [self.arrays[0].buckets.as_ptr() as *mut Bucket, self.arrays[1].buckets.as_ptr() as *mut Bucket]
    }

    /// Bucket array bases for a lookup whose result is written through: derived from `&mut`
    /// so the writes are allowed (a pointer made from `&self` may only read).
    fn write_bases(&mut self) -> [*mut Bucket; 2] {
        [self.arrays[0].buckets.as_mut_ptr(), self.arrays[1].buckets.as_mut_ptr()]
    }

    /// Finds `key`, walking chains from `bases` (from [`Self::read_bases`] or
    /// [`Self::write_bases`], which decides what the location may be used for).
    fn locate(&self, bases: [*mut Bucket; 2], key: &[u8], hash: u64) -> Option<Location> {
        let tag = tag_of(hash);
        for (t, array) in self.arrays.iter().enumerate() {
            if array.buckets.is_empty() {
                continue;
            }
            let idx = (hash & array.mask()) as usize;
            if t == 0 && self.rehash_idx().is_some_and(|r| idx < r) {
                continue;
            }
            // SAFETY: idx is within the array, so the pointer is in bounds and non-null.
            let mut bucket = unsafe { NonNull::new_unchecked(bases[t].add(idx)) };
            let position = self.position_of(t, idx);
            loop {
                // SAFETY: buckets in a chain are owned by the table and alive.
                let b = unsafe { bucket.as_ref() };
                for i in 0..b.capacity() {
                    if b.used(i) && b.tags[i] & TAG_MASK == tag {
                        // SAFETY: the slot is in use.
                        let e = unsafe { Self::entry_at(&b.slots[i]) };
                        if e.key() == key {
                            return Some(Location { bucket, slot: i, position });
                        }
                    }
                }
                match b.child() {
                    Some(child) => bucket = child,
                    None => break,
                }
            }
            if self.rehash_idx().is_none() {
                break;
            }
        }
        None
    }

    pub fn get(&self, key: &[u8]) -> Option<&E> {
        let loc = self.locate(self.read_bases(), key, self.hash(key))?;
        // SAFETY: the location was just found in use; the borrow of self keeps it alive.
        Some(unsafe { Self::entry_at(&loc.bucket.as_ref().slots[loc.slot]) })
    }

    /// The entry's flag bit (see the module docs), if the key is present.
    pub fn get_with_flag(&self, key: &[u8]) -> Option<(&E, bool)> {
        let loc = self.locate(self.read_bases(), key, self.hash(key))?;
        // SAFETY: as in `get`.
        unsafe {
            let b = loc.bucket.as_ref();
            Some((Self::entry_at(&b.slots[loc.slot]), b.tags[loc.slot] & FLAG != 0))
        }
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<SlotMut<'_, E>> {
        self.rehash_step();
        let bases = self.write_bases();
        let loc = self.locate(bases, key, self.hash(key))?;
        Some(self.slot_mut(loc))
    }

    fn slot_mut(&mut self, loc: Location) -> SlotMut<'_, E> {
        // SAFETY: the location is in use and we hold `&mut self`.
        unsafe {
            let b = &mut *loc.bucket.as_ptr();
            SlotMut {
                entry: &mut *(&mut b.slots[loc.slot] as *mut *mut u8 as *mut E),
                tag: &mut b.tags[loc.slot],
                position: loc.position,
            }
        }
    }

    /// Walk-order number of home chain `idx` of array `t`: while rehashing, the chains not
    /// yet moved from the old array come first, then the new array's.
    fn position_of(&self, t: usize, idx: usize) -> u64 {
        match (t, self.rehash_idx()) {
            (0, Some(r)) => (idx - r) as u64,
            (0, None) => idx as u64,
            (_, r) => (self.arrays[0].buckets.len() - r.unwrap_or(0) + idx) as u64,
        }
    }

    /// The (array, home index) at walk position `pos`.
    fn at_position(&self, pos: u64) -> Option<(usize, usize)> {
        let start = self.rehash_idx().unwrap_or(0);
        let first = self.arrays[0].buckets.len().saturating_sub(start) as u64;
        if pos < first {
            Some((0, start + pos as usize))
        } else if self.rehash_idx().is_some() && pos - first < self.arrays[1].buckets.len() as u64 {
            Some((1, (pos - first) as usize))
        } else {
            None
        }
    }

    /// Number of home chains in walk order.
    pub fn walk_len(&self) -> u64 {
        let first = self.arrays[0].buckets.len() - self.rehash_idx().unwrap_or(0);
        let second = if self.rehash_idx().is_some() { self.arrays[1].buckets.len() } else { 0 };
        (first + second) as u64
    }

    /// Stops (or resumes) resizing and rehashing, so keys stay in their home chains and walk
    /// positions stay valid.
    pub fn hold(&mut self, on: bool) {
        self.held = on;
    }

    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether a held table has grown so far past its normal fill (4×) that lookups would
    /// suffer: its owner should release it.
    pub fn must_resize(&self) -> bool {
        let buckets = self.arrays[0].buckets.len() + self.arrays[1].buckets.len();
        self.held && buckets > 0 && self.len + 1 > Self::capacity_for(buckets) * 4
    }

    /// Calls `f` with every entry of the home chain at walk position `pos` and whether it is
    /// marked, then clears the marks of that chain.
    pub fn visit_position(&mut self, pos: u64, mut f: impl FnMut(&E, bool)) {
        let Some((t, idx)) = self.at_position(pos) else { return };
        let mut bucket: *mut Bucket = &mut self.arrays[t].buckets[idx];
        // SAFETY: we walk a chain we own with exclusive access.
        unsafe {
            loop {
                let b = &mut *bucket;
                for i in 0..b.capacity() {
                    if b.used(i) {
                        f(Self::entry_at(&b.slots[i]), b.tags[i] & MARK != 0);
                        b.tags[i] &= !MARK;
                    }
                }
                match b.child() {
                    Some(child) => bucket = child.as_ptr(),
                    None => break,
                }
            }
        }
    }

    /// Finds `key`, or returns its hash so the caller can insert without hashing again.
    pub fn get_mut_or_hash(&mut self, key: &[u8]) -> Result<SlotMut<'_, E>, u64> {
        self.rehash_step();
        let hash = self.hash(key);
        let bases = self.write_bases();
        match self.locate(bases, key, hash) {
            Some(loc) => Ok(self.slot_mut(loc)),
            None => Err(hash),
        }
    }

    /// Adds an entry whose key is not in the table, returning access to it.
    pub fn insert_new(&mut self, entry: E, flag: bool) -> SlotMut<'_, E> {
        let hash = self.hash(entry.key());
        self.insert_new_hashed(entry, hash, flag)
    }

    /// [`Table::insert_new`] with the key's hash already computed (by `get_mut_or_hash`).
    pub fn insert_new_hashed(&mut self, entry: E, hash: u64, flag: bool) -> SlotMut<'_, E> {
        debug_assert!(self.get(entry.key()).is_none());
        self.grow_if_needed();
        self.rehash_step();
        let t = usize::from(self.rehash_idx().is_some());
        let tag = tag_of(hash) | if flag { FLAG } else { 0 };
        let mut loc = Self::place(&mut self.arrays[t], hash, tag, entry.into_raw());
        loc.position = self.position_of(t, (hash & self.arrays[t].mask()) as usize);
        self.len += 1;
        self.slot_mut(loc)
    }

    /// Stores a raw entry in its home chain, chaining a new bucket when the chain is full.
    fn place(array: &mut Array, hash: u64, tag: u8, raw: NonNull<u8>) -> Location {
        let idx = (hash & array.mask()) as usize;
        let mut bucket = NonNull::from(&mut array.buckets[idx]);
        loop {
            // SAFETY: chain buckets are owned by the table; we have exclusive access.
            let b = unsafe { &mut *bucket.as_ptr() };
            if let Some(i) = b.free_slot() {
                b.meta |= 1 << i;
                b.tags[i] = tag;
                b.slots[i] = raw.as_ptr();
                return Location { bucket, slot: i, position: 0 };
            }
            match b.child() {
                Some(child) => bucket = child,
                None => {
                    // Full and unchained: the last slot's entry moves to a new child bucket.
                    let last = SLOTS - 1;
                    let mut child = Box::new(Bucket::EMPTY);
                    child.meta = 0b11;
                    child.tags[0] = b.tags[last];
                    child.slots[0] = b.slots[last];
                    child.tags[1] = tag;
                    child.slots[1] = raw.as_ptr();
                    let child = NonNull::from(Box::leak(child));
                    b.meta = (b.meta & !(1 << last)) | CHAINED;
                    b.tags[last] = 0;
                    b.slots[last] = child.as_ptr() as *mut u8;
                    return Location { bucket: child, slot: 1, position: 0 };
                }
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<E> {
        self.rehash_step();
        let hash = self.hash(key);
        let bases = self.write_bases();
        let loc = self.locate(bases, key, hash)?;
        // SAFETY: the location is in use; ownership moves out of the slot.
        let raw = unsafe {
            let b = &mut *loc.bucket.as_ptr();
            b.meta &= !(1 << loc.slot);
            b.tags[loc.slot] = 0;
            std::mem::replace(&mut b.slots[loc.slot], ptr::null_mut())
        };
        self.len -= 1;
        self.compact_chain(hash);
        self.shrink_if_needed();
        // SAFETY: the pointer came from `into_raw` and now belongs to us alone.
        Some(unsafe { E::from_raw(NonNull::new_unchecked(raw)) })
    }

    /// Frees empty child buckets in the home chain of `hash` (in both arrays).
    fn compact_chain(&mut self, hash: u64) {
        for array in &mut self.arrays {
            if array.buckets.is_empty() {
                continue;
            }
            let idx = (hash & array.mask()) as usize;
            let mut parent: *mut Bucket = &mut array.buckets[idx];
            // SAFETY: we walk the chain we own with exclusive access.
            unsafe {
                while let Some(child) = (*parent).child() {
                    let c = child.as_ptr();
                    if (*c).is_empty() {
                        let last = SLOTS - 1;
                        if (*c).chained() {
                            (*parent).slots[last] = (*c).slots[last];
                        } else {
                            (*parent).slots[last] = ptr::null_mut();
                            (*parent).meta &= !CHAINED;
                        }
                        drop(Box::from_raw(c));
                    } else {
                        parent = c;
                    }
                }
            }
        }
    }

    fn capacity_for(buckets: usize) -> usize {
        buckets * MAX_FILL
    }

    fn grow_if_needed(&mut self) {
        if self.rehash_idx().is_some() || (self.held && !self.arrays[0].buckets.is_empty()) {
            return;
        }
        let buckets = self.arrays[0].buckets.len();
        if buckets == 0 {
            self.arrays[0] = Array::with_buckets(MIN_BUCKETS);
        } else if self.len + 1 > Self::capacity_for(buckets) {
            self.start_rehash(buckets * 2);
        }
    }

    fn shrink_if_needed(&mut self) {
        if self.rehash_idx().is_some() || self.held {
            return;
        }
        let buckets = self.arrays[0].buckets.len();
        if buckets > MIN_BUCKETS && self.len * 100 < Self::capacity_for(buckets) * MIN_FILL_PERCENT {
            let mut target = MIN_BUCKETS;
            while Self::capacity_for(target) / 2 < self.len {
                target *= 2;
            }
            if target < buckets {
                self.start_rehash(target);
            }
        }
    }

    /// Makes room for `n` entries in all, growing once instead of step by step.
    pub fn reserve(&mut self, n: usize) {
        if self.rehash_idx().is_some() || self.held {
            return;
        }
        let mut target = self.arrays[0].buckets.len().max(MIN_BUCKETS);
        while Self::capacity_for(target) < n {
            target *= 2;
        }
        if self.arrays[0].buckets.is_empty() {
            self.arrays[0] = Array::with_buckets(target);
        } else if target > self.arrays[0].buckets.len() {
            self.start_rehash(target);
        }
    }

    fn start_rehash(&mut self, buckets: usize) {
        self.arrays[1] = Array::with_buckets(buckets);
        self.rehash_at = 0;
    }

    /// One step of incremental rehashing: moves one home chain (visiting at most ten empty
    /// buckets to find it), as every write does.
    pub fn rehash_step(&mut self) {
        self.rehash(1);
    }

    /// Moves up to `chains` home chains to the new table. Returns true if rehashing remains.
    pub fn rehash(&mut self, chains: usize) -> bool {
        let Some(mut idx) = self.rehash_idx() else { return false };
        if self.held {
            return true;
        }
        let mut empty_visits = chains * 10;
        let mut moved = 0;
        let old_len = self.arrays[0].buckets.len();
        while moved < chains && idx < old_len {
            let home = std::mem::replace(&mut self.arrays[0].buckets[idx], Bucket::EMPTY);
            idx += 1;
            if home.is_empty() && !home.chained() {
                empty_visits -= 1;
                if empty_visits == 0 {
                    break;
                }
                continue;
            }
            self.move_chain(home);
            moved += 1;
        }
        if idx >= old_len {
            self.arrays.swap(0, 1);
            self.arrays[1] = Array::with_buckets(0);
            self.rehash_at = NOT_REHASHING;
            false
        } else {
            self.rehash_at = idx;
            true
        }
    }

    fn move_chain(&mut self, home: Bucket) {
        let mut current = home;
        loop {
            for i in 0..current.capacity() {
                if current.used(i) {
                    let raw = current.slots[i];
                    // SAFETY: slot in use.
                    let hash = self.hash(unsafe { Self::entry_at(&raw) }.key());
                    let tag = tag_of(hash) | (current.tags[i] & (FLAG | MARK));
                    // SAFETY: non-null because in use.
                    Self::place(&mut self.arrays[1], hash, tag, unsafe { NonNull::new_unchecked(raw) });
                }
            }
            match current.child() {
                // SAFETY: the child was leaked from a Box by `place`; we take it back.
                Some(child) => current = *unsafe { Box::from_raw(child.as_ptr()) },
                None => break,
            }
        }
    }

    /// Redis's reverse-binary cursor scan: calls `f` for every entry of the home chains
    /// visited by this step (with the entry's flag bit), returning the next cursor (0 when the
    /// scan is complete). Every entry present for the whole scan is reported at least once.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&E, bool)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mut v = cursor;
        match self.rehash_idx() {
            None => {
                let a = &self.arrays[0];
                let m0 = a.mask();
                self.visit_chain(a, (v & m0) as usize, &mut f);
                v |= !m0;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
            }
            Some(_) => {
                let (small, large) = if self.arrays[0].buckets.len() <= self.arrays[1].buckets.len() {
                    (&self.arrays[0], &self.arrays[1])
                } else {
                    (&self.arrays[1], &self.arrays[0])
                };
                let (m0, m1) = (small.mask(), large.mask());
                self.visit_chain(small, (v & m0) as usize, &mut f);
                loop {
                    self.visit_chain(large, (v & m1) as usize, &mut f);
                    v |= !m1;
                    v = v.reverse_bits().wrapping_add(1).reverse_bits();
                    if v & (m0 ^ m1) == 0 {
                        break;
                    }
                }
            }
        }
        v
    }

    fn visit_chain(&self, array: &Array, idx: usize, f: &mut impl FnMut(&E, bool)) {
        let Some(home) = array.buckets.get(idx) else { return };
        let mut bucket = home;
        loop {
            for i in 0..bucket.capacity() {
                if bucket.used(i) {
                    // SAFETY: slot in use.
                    f(unsafe { Self::entry_at(&bucket.slots[i]) }, bucket.tags[i] & FLAG != 0);
                }
            }
            match bucket.child() {
                // SAFETY: chain buckets live as long as the table borrow.
                Some(child) => bucket = unsafe { &*child.as_ptr() },
                None => break,
            }
        }
    }

    /// Visits every entry (with its flag bit).
    pub fn for_each(&self, mut f: impl FnMut(&E, bool)) {
        for array in &self.arrays {
            for idx in 0..array.buckets.len() {
                self.visit_chain(array, idx, &mut f);
            }
        }
    }

    /// A uniformly chosen home bucket's chain, then a uniformly chosen entry in it: the same
    /// (slightly unfair) sampling as Redis's `dictGetRandomKey`. `rand` yields random `u64`s.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<&E> {
        if self.len == 0 {
            return None;
        }
        let start = self.rehash_idx().unwrap_or(0);
        let sizes = (self.arrays[0].buckets.len(), self.arrays[1].buckets.len());
        let span = sizes.0 + sizes.1 - start;
        loop {
            let pick = start + (rand() % span as u64) as usize;
            let (array, idx) = if pick < sizes.0 { (&self.arrays[0], pick) } else { (&self.arrays[1], pick - sizes.0) };
            let mut count = 0;
            self.visit_chain(array, idx, &mut |_, _| count += 1);
            if count == 0 {
                continue;
            }
            let mut target = (rand() % count as u64) as usize;
            let mut found = None;
            self.visit_chain(array, idx, &mut |e, _| {
                if target == 0 && found.is_none() {
                    found = Some(e as *const E);
                }
                target = target.wrapping_sub(1);
            });
            // SAFETY: the pointer refers to an entry alive for the borrow of self.
            return found.map(|p| unsafe { &*p });
        }
    }

    /// A random entry chosen as Redis's `dictGetFairRandomKey` does: up to 20 entries are
    /// gathered from consecutive home chains starting at a random one, and one of those is
    /// picked uniformly. Fairer than [`Table::random`] when chain lengths differ (a table of
    /// 20 entries or fewer is gathered whole, so the pick is exactly uniform). Used by
    /// SRANDMEMBER, SPOP and HRANDFIELD, whose distribution clients test.
    pub fn random_fair(&self, mut rand: impl FnMut() -> u64) -> Option<&E> {
        const SAMPLE: usize = 20;
        if self.len == 0 {
            return None;
        }
        let start = self.rehash_idx().unwrap_or(0);
        let sizes = (self.arrays[0].buckets.len(), self.arrays[1].buckets.len());
        let span = sizes.0 + sizes.1 - start;
        let mut pick = (rand() % span as u64) as usize;
        let mut found: Vec<*const E> = Vec::with_capacity(SAMPLE + SLOTS);
        for _ in 0..span {
            let p = start + pick;
            let (array, idx) = if p < sizes.0 { (&self.arrays[0], p) } else { (&self.arrays[1], p - sizes.0) };
            self.visit_chain(array, idx, &mut |e, _| found.push(e as *const E));
            if found.len() >= SAMPLE {
                break;
            }
            pick = (pick + 1) % span;
        }
        let chosen = *found.get((rand() % found.len().max(1) as u64) as usize)?;
        // SAFETY: the pointer refers to an entry alive for the borrow of self.
        Some(unsafe { &*chosen })
    }

    /// Redis's dictGetSomeKeys, for eviction: walks consecutive home chains from a random one,
    /// calling `f` for up to `want` entries (only flagged ones if `flagged_only`), visiting at
    /// most `max_chains` chains. After a run of empty chains longer than `want` it jumps to a
    /// new random chain, as Redis does, so a sparse table still yields spread-out samples.
    pub fn sample(
        &self,
        mut rand: impl FnMut() -> u64,
        want: usize,
        max_chains: usize,
        flagged_only: bool,
        mut f: impl FnMut(&E, bool),
    ) {
        if self.len == 0 || want == 0 {
            return;
        }
        let start = self.rehash_idx().unwrap_or(0);
        let sizes = (self.arrays[0].buckets.len(), self.arrays[1].buckets.len());
        let span = sizes.0 + sizes.1 - start;
        let mut pick = (rand() % span as u64) as usize;
        let (mut found, mut empty_run) = (0usize, 0usize);
        for _ in 0..max_chains {
            let p = start + pick;
            let (array, idx) = if p < sizes.0 { (&self.arrays[0], p) } else { (&self.arrays[1], p - sizes.0) };
            let before = found;
            self.visit_chain(array, idx, &mut |e, flag| {
                if found < want && (flag || !flagged_only) {
                    found += 1;
                    f(e, flag);
                }
            });
            if found >= want {
                return;
            }
            if found == before {
                empty_run += 1;
                if empty_run >= 5 && empty_run > want {
                    pick = (rand() % span as u64) as usize;
                    empty_run = 0;
                    continue;
                }
            } else {
                empty_run = 0;
            }
            pick = (pick + 1) % span;
        }
    }

    /// Calls `f` for entries whose flag bit is set, walking home chains from `cursor` and
    /// stopping after `max_chains` chains; returns the cursor to continue from (0 = wrapped).
    /// Used to sample keys with a TTL without dereferencing the others.
    pub fn scan_flagged(&self, cursor: u64, max_chains: usize, mut f: impl FnMut(&E)) -> u64 {
        let mut v = cursor;
        for _ in 0..max_chains {
            v = self.scan(v, |e, flagged| {
                if flagged {
                    f(e)
                }
            });
            if v == 0 {
                break;
            }
        }
        v
    }

    /// Removes every entry, returning them (FLUSHDB, or to hand values to a background
    /// freer).
    pub fn drain(&mut self) -> Vec<E> {
        self.drain_with_flags().into_iter().map(|(e, _)| e).collect()
    }

    fn drain_with_flags(&mut self) -> Vec<(E, bool)> {
        let mut out = Vec::with_capacity(self.len);
        for array in &mut self.arrays {
            for home in array.buckets.iter_mut() {
                let mut current = std::mem::replace(home, Bucket::EMPTY);
                loop {
                    for i in 0..current.capacity() {
                        if current.used(i) {
                            // SAFETY: in-use slots own their entry.
                            let e = unsafe { E::from_raw(NonNull::new_unchecked(current.slots[i])) };
                            out.push((e, current.tags[i] & FLAG != 0));
                        }
                    }
                    match current.child() {
                        // SAFETY: the child was leaked from a Box by `place`.
                        Some(child) => current = *unsafe { Box::from_raw(child.as_ptr()) },
                        None => break,
                    }
                }
            }
        }
        self.arrays = [Array::with_buckets(0), Array::with_buckets(0)];
        self.rehash_at = NOT_REHASHING;
        self.len = 0;
        self.held = false;
        out
    }

    /// Removes entries for which `keep` returns false.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut E) -> bool) {
        let all = self.drain_with_flags();
        self.reserve(all.len());
        for (mut e, flag) in all {
            if keep(&mut e) {
                self.insert_new(e, flag);
            }
        }
    }

    /// Bytes the table itself allocates (buckets and chain buckets, not entries).
    pub fn allocated_bytes(&self) -> usize {
        let mut children = 0;
        for array in &self.arrays {
            for b in &array.buckets {
                let mut c = b.child();
                while let Some(p) = c {
                    children += 1;
                    // SAFETY: live chain bucket.
                    c = unsafe { p.as_ref() }.child();
                }
            }
        }
        (self.arrays[0].buckets.len() + self.arrays[1].buckets.len() + children) * std::mem::size_of::<Bucket>()
    }
}

impl<E: ThinEntry> Drop for Table<E> {
    fn drop(&mut self) {
        drop(self.drain());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// A boxed key, enough to exercise the table.
    #[repr(transparent)]
    struct TestEntry(NonNull<Vec<u8>>);

    unsafe impl ThinEntry for TestEntry {
        fn into_raw(self) -> NonNull<u8> {
            let p = self.0.cast();
            std::mem::forget(self);
            p
        }
        unsafe fn from_raw(raw: NonNull<u8>) -> Self {
            TestEntry(raw.cast())
        }
        fn key(&self) -> &[u8] {
            unsafe { self.0.as_ref() }
        }
    }

    impl Drop for TestEntry {
        fn drop(&mut self) {
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }

    fn entry(k: &[u8]) -> TestEntry {
        TestEntry(NonNull::from(Box::leak(Box::new(k.to_vec()))))
    }

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
    fn small_tables_are_small() {
        // Every big hash, set and sorted set owns a table: keep its header and first
        // allocation small.
        assert!(std::mem::size_of::<Table<TestEntry>>() <= 56);
        let mut t: Table<TestEntry> = Table::new();
        for k in [&b"a"[..], b"b", b"c", b"d"] {
            t.insert_new(entry(k), false);
        }
        assert_eq!(t.bucket_counts(), (1, 0));
        assert_eq!(t.allocated_bytes(), 64);
    }

    #[test]
    fn behaves_like_a_map_through_growth_shrink_and_chains() {
        let mut t: Table<TestEntry> = Table::new();
        let mut model: HashSet<Vec<u8>> = HashSet::new();
        let mut rng = Rng(88172645463325252);
        for round in 0..60_000u64 {
            let k = format!("k{}", rng.next() % 5000).into_bytes();
            let op = rng.next() % 10;
            if op < 6 || round < 20_000 {
                if model.insert(k.clone()) {
                    t.insert_new(entry(&k), k.len() % 2 == 0);
                }
            } else {
                let removed = t.remove(&k).map(|e| e.key().to_vec());
                assert_eq!(removed.is_some(), model.remove(&k));
            }
            assert_eq!(t.len(), model.len());
            if round % 997 == 0 {
                for k in &model {
                    let (e, flag) = t.get_with_flag(k).expect("present");
                    assert_eq!(e.key(), &k[..]);
                    assert_eq!(flag, k.len() % 2 == 0);
                }
            }
        }
        // Remove nearly all: the table shrinks and stays consistent.
        let keys: Vec<_> = model.iter().cloned().collect();
        for k in &keys[5..] {
            assert!(t.remove(k).is_some());
        }
        while t.rehash(100) {}
        assert_eq!(t.len(), 5);
        assert!(t.bucket_counts().0 <= 8);
        for k in &keys[..5] {
            assert!(t.get(k).is_some());
        }
    }

    #[test]
    fn scan_returns_every_stable_key_across_resizes() {
        let mut t: Table<TestEntry> = Table::new();
        for i in 0..2000 {
            t.insert_new(entry(format!("stable{i}").as_bytes()), false);
        }
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = t.scan(cursor, |e, _| *seen.entry(e.key().to_vec()).or_default() += 1);
            // Grow then shrink the table while the scan is in flight.
            step += 1;
            if step < 40 {
                for j in 0..300 {
                    t.insert_new(entry(format!("tmp{step}_{j}").as_bytes()), false);
                }
            } else if step < 80 {
                for j in 0..300 {
                    t.remove(format!("tmp{}_{j}", step - 39).as_bytes());
                }
            }
            t.rehash(3);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(seen.contains_key(format!("stable{i}").as_bytes()), "missed stable{i}");
        }
    }

    #[test]
    fn random_and_flagged_sampling() {
        let mut t: Table<TestEntry> = Table::new();
        assert!(t.random(|| 1).is_none());
        for i in 0..100 {
            t.insert_new(entry(format!("{i}").as_bytes()), i % 10 == 0);
        }
        let mut rng = Rng(7);
        let mut hits = HashSet::new();
        for _ in 0..5000 {
            hits.insert(t.random(|| rng.next()).unwrap().key().to_vec());
        }
        assert_eq!(hits.len(), 100);
        let mut flagged = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = t.scan_flagged(cursor, 3, |e| flagged.push(e.key().to_vec()));
            if cursor == 0 {
                break;
            }
        }
        flagged.sort();
        assert_eq!(flagged.len(), 10);
        let mut s = t.get_mut(b"10").unwrap();
        assert!(s.flag());
        s.set_flag(false);
        assert!(!t.get_with_flag(b"10").unwrap().1);
        assert_eq!(t.drain().len(), 100);
        assert!(t.is_empty());
    }

    #[test]
    fn fair_random_is_uniform_on_small_tables() {
        let mut t: Table<TestEntry> = Table::new();
        assert!(t.random_fair(|| 1).is_none());
        for i in 0..10 {
            t.insert_new(entry(format!("{i}").as_bytes()), false);
        }
        let mut rng = Rng(99);
        let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
        for _ in 0..10_000 {
            *counts.entry(t.random_fair(|| rng.next()).unwrap().key().to_vec()).or_default() += 1;
        }
        assert_eq!(counts.len(), 10);
        // Every key near its expected 1000 (chains of unequal length must not matter).
        assert!(counts.values().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    }
}
