//! Databases: keys, TTLs, expiry, access metadata, and the side effects of touching keys.
//!
//! A [`Db`] is a [`table::Table`] of [`entry::Entry`] blocks. A key's TTL lives in its block
//! and the table tag's flag bit marks keys that have one, so keys without a TTL pay nothing
//! for expiry and the active cycle samples TTL keys without touching the others.
//!
//! Everything a lookup or write must record besides the data itself — expired-key counts,
//! hits and misses, keyspace events to publish, WATCHed keys invalidated, the dirty counter —
//! goes into [`Effects`], which the dispatcher drains after each command.
//!
//! While a background snapshot runs (`persist::snapshot`), a database carries a
//! [`SnapshotHold`]: its table holds still, and every path that changes or removes a key in
//! a chain the snapshot has not reached yet first hands the key's current state to the
//! hold's [`Preserve`] sink, and marks the key so the snapshot skips it (keys created after
//! the snapshot started are marked too). That is copy-on-write at key granularity.

pub mod entry;
pub mod notify;
pub mod slab;
pub mod table;

use std::collections::{HashMap, HashSet};

pub use entry::{Entry, StrRef, Value, ValueRef};
pub use notify::KeyEvent;
use table::Table;

use crate::util::rand::Rng;

/// What a lookup is for, as Redis's LOOKUP_* flags.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Lookup(u8);

impl Lookup {
    /// A read: counts a hit or miss, fires `keymiss`, updates the access time.
    pub const READ: Lookup = Lookup(0);
    /// A write: no hit/miss stats or keymiss events.
    pub const WRITE: Lookup = Lookup(1);
    /// Don't update the access time (OBJECT, TYPE-like introspection).
    pub const NOTOUCH: Lookup = Lookup(2);
    /// Neither stats nor events nor access time (internal use).
    pub const QUIET: Lookup = Lookup(4 | 2);

    fn has(self, other: Lookup) -> bool {
        self.0 & other.0 == other.0
    }
}

/// How access metadata is kept: Redis's LRU clock, or LFU counters when the eviction policy
/// is an LFU one.
#[derive(Clone, Copy, Debug)]
pub enum AccessPolicy {
    Lru,
    Lfu { log_factor: u32, decay_time: u32 },
}

/// The initial LFU counter of a new key.
pub const LFU_INIT_VAL: u32 = 5;

#[derive(Default, Debug, Clone)]
pub struct KeyspaceStats {
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub evicted_keys: u64,
}

/// Side effects of touching keys during a command, drained by the dispatcher.
pub struct Effects {
    /// The command's clock (ms since the epoch), fixed for its duration as Redis fixes it.
    pub now_ms: i64,
    pub access: AccessPolicy,
    /// `notify-keyspace-events`, parsed.
    pub notify_flags: u32,
    pub events: Vec<KeyEvent>,
    pub stats: KeyspaceStats,
    /// Changes since the last save (Redis's `server.dirty`).
    pub dirty: u64,
    /// Clients whose WATCHed keys were modified (their EXEC will fail).
    pub dirty_cas: HashSet<u64>,
    /// Keys that became ready for clients blocked on them.
    pub ready_keys: Vec<(usize, Vec<u8>)>,
    pub rng: Rng,
    /// While false, expired keys are reported missing but not deleted (DEBUG SET-ACTIVE-EXPIRE
    /// does not affect this; replicas and `DEBUG` introspection use it).
    pub lazy_expire: bool,
    /// Replaying the AOF: nothing expires (Redis's keyIsExpired returns false while loading),
    /// so a command sequence replays as it first ran; expired keys go after loading.
    pub loading: bool,
    /// Whether writes are being collected for replicas or the AOF.
    pub propagating: bool,
    /// Writes of the current top-level command to propagate: (db, argv).
    pub propagate: Vec<(usize, Vec<Vec<u8>>)>,
    /// The argv the running command propagates instead of its own (Redis's
    /// rewriteClientCommandVector); `Some(vec![])` propagates nothing.
    pub rewrite: Option<Vec<Vec<u8>>>,
    /// `lazyfree-lazy-expire`: expired keys propagate as UNLINK rather than DEL.
    pub expire_unlink: bool,
    /// Whether modified keys are collected for client-side caching (see crate::tracking).
    pub tracking: bool,
    /// Keys modified while `tracking` is on, and whether a client's command modified them
    /// (false when they expired); drained after each command.
    pub tracking_keys: Vec<(Vec<u8>, bool)>,
}

impl Default for Effects {
    fn default() -> Self {
        Effects {
            now_ms: crate::util::time::now_ms(),
            access: AccessPolicy::Lru,
            notify_flags: 0,
            events: Vec::new(),
            stats: KeyspaceStats::default(),
            dirty: 0,
            dirty_cas: HashSet::new(),
            ready_keys: Vec::new(),
            rng: Rng::seeded(),
            lazy_expire: true,
            loading: false,
            propagating: false,
            propagate: Vec::new(),
            rewrite: None,
            expire_unlink: false,
            tracking: false,
            tracking_keys: Vec::new(),
        }
    }
}

impl Effects {
    /// Queues a keyspace event if its class is enabled (the check is all a disabled
    /// notification costs).
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if self.notify_flags & class != 0 && self.notify_flags & (notify::KEYSPACE | notify::KEYEVENT) != 0 {
            self.events.push(KeyEvent { class, event, db, key: key.to_vec() });
        }
    }

    /// Redis's LRU clock: seconds, 24 bits.
    pub fn lru_clock(&self) -> u32 {
        lru_clock_at(self.now_ms)
    }

    fn lfu_minutes(&self) -> u32 {
        ((self.now_ms / 1000 / 60) & 0xffff) as u32
    }

    /// The access field for a new key.
    pub fn initial_access(&self) -> u32 {
        match self.access {
            AccessPolicy::Lru => self.lru_clock(),
            AccessPolicy::Lfu { .. } => (self.lfu_minutes() << 8) | LFU_INIT_VAL,
        }
    }

    /// The LFU counter after decay (Redis's LFUDecrAndReturn).
    pub fn lfu_decayed(&self, field: u32) -> u32 {
        lfu_decayed_at(self.now_ms, self.access, field)
    }

    /// The access field after an access (LRU: now; LFU: decayed, then a logarithmic
    /// increment).
    pub fn touched_access(&mut self, field: u32) -> u32 {
        match self.access {
            AccessPolicy::Lru => self.lru_clock(),
            AccessPolicy::Lfu { log_factor, .. } => {
                let mut counter = self.lfu_decayed(field);
                if counter < 255 {
                    let r = self.rng.next_f64();
                    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                    if r < 1.0 / (base * log_factor as f64 + 1.0) {
                        counter += 1;
                    }
                }
                (self.lfu_minutes() << 8) | counter
            }
        }
    }

    /// Seconds since a key was last accessed, from its LRU field (Redis's
    /// estimateObjectIdleTime, in ms, divided by 1000 by callers that want seconds).
    pub fn idle_ms(&self, lru: u32) -> u64 {
        idle_ms_at(self.now_ms, lru)
    }
}

/// Redis's LRU clock at `now_ms`: seconds, 24 bits.
pub fn lru_clock_at(now_ms: i64) -> u32 {
    ((now_ms / 1000) & 0xff_ffff) as u32
}

/// Milliseconds since a key with LRU field `lru` was accessed (estimateObjectIdleTime).
pub fn idle_ms_at(now_ms: i64, lru: u32) -> u64 {
    let clock = lru_clock_at(now_ms);
    let secs = if clock >= lru { clock - lru } else { clock + (0xff_ffff - lru) };
    secs as u64 * 1000
}

/// The LFU counter of access field `field` after decay at `now_ms` (LFUDecrAndReturn).
pub fn lfu_decayed_at(now_ms: i64, access: AccessPolicy, field: u32) -> u32 {
    let AccessPolicy::Lfu { decay_time, .. } = access else { return field & 0xff };
    let ldt = field >> 8;
    let counter = field & 0xff;
    let now = ((now_ms / 1000 / 60) & 0xffff) as u32;
    let elapsed = if now >= ldt { now - ldt } else { 65535 - ldt + now };
    let periods = if decay_time > 0 { elapsed / decay_time } else { 0 };
    counter.saturating_sub(periods)
}

/// Receives the state of keys about to change while a snapshot runs.
pub trait Preserve: Send {
    fn preserve(&mut self, entry: &Entry);
    /// Moves what was preserved so far to `out`.
    fn drain_into(&mut self, out: &mut Vec<u8>);
}

/// A running snapshot's hold on a database (see the module docs).
pub struct SnapshotHold {
    /// The database number these keys had when the snapshot started (SWAPDB moves holds
    /// with the data).
    pub origin: usize,
    /// Walk positions below this have been saved; `u64::MAX` once the database is done.
    pub visited: u64,
    pub sink: Box<dyn Preserve>,
}

impl SnapshotHold {
    pub const DONE: u64 = u64::MAX;

    /// Before a key at `slot` changes: keeps its snapshot state unless the snapshot already
    /// has it (chain visited, or key marked).
    fn guard(&mut self, slot: &mut table::SlotMut<'_, Entry>) {
        if slot.position() >= self.visited && !slot.mark() {
            self.sink.preserve(slot.entry());
            slot.set_mark(true);
        }
    }

    /// After a key is created at `slot`: the snapshot must not pick it up.
    fn exclude(&self, slot: &mut table::SlotMut<'_, Entry>) {
        if slot.position() >= self.visited {
            slot.set_mark(true);
        }
    }
}

/// A client WATCHing a key, and whether the key was already expired (present but stale)
/// when it was watched: such a key being deleted is not a change (Redis's watchedKey).
#[derive(Clone, Copy, Debug)]
pub struct Watcher {
    pub client: u64,
    pub expired: bool,
}

/// One logical database (`SELECT n`).
#[derive(Default)]
pub struct Db {
    pub id: usize,
    table: Table<Entry>,
    /// Keys that have a TTL.
    expires: usize,
    /// Where the active expire cycle resumes.
    expire_cursor: u64,
    /// Average TTL of sampled keys (INFO keyspace `avg_ttl`), smoothed like Redis's.
    pub avg_ttl: i64,
    /// WATCHed keys and the clients watching them.
    pub watched: HashMap<Vec<u8>, Vec<Watcher>>,
    /// Keys that clients are blocked on (BLPOP and friends), with the waiting client ids in
    /// arrival order.
    pub blocking: HashMap<Vec<u8>, std::collections::VecDeque<u64>>,
    /// The running background snapshot's hold, if any (it moves with the data on SWAPDB).
    snapshot: Option<SnapshotHold>,
}

impl Db {
    pub fn new(id: usize) -> Db {
        Db { id, ..Db::default() }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn expires_count(&self) -> usize {
        self.expires
    }

    fn is_expired(entry: &Entry, now: i64) -> bool {
        entry.expire().is_some_and(|when| when <= now)
    }

    /// Deletes `key` because its TTL passed, with Redis's bookkeeping (stats, `expired`
    /// event, WATCH invalidation).
    fn expire_now(&mut self, fx: &mut Effects, key: &[u8]) {
        if let Some(old) = self.remove_entry(key) {
            self.signal_deleted_stream(fx, key, &old);
            if fx.propagating {
                let del: &[u8] = if fx.expire_unlink { b"UNLINK" } else { b"DEL" };
                fx.propagate.push((self.id, vec![del.to_vec(), key.to_vec()]));
            }
            fx.stats.expired_keys += 1;
            fx.notify(notify::EXPIRED, "expired", self.id, key);
            self.signal_modified_by(fx, key, false);
            // Not a change to the dataset for `dirty` (Redis's deleteExpiredKeyAndPropagate
            // leaves it alone): a read command that expires a key is not itself propagated,
            // only the DEL above is.
        }
    }

    /// Looks a key up, expiring it first if its TTL passed, and records the access.
    pub fn lookup(&mut self, fx: &mut Effects, key: &[u8], how: Lookup) -> Option<&mut Entry> {
        let now = fx.now_ms;
        let writing = how.has(Lookup::WRITE);
        let hold = if writing { self.snapshot.as_mut() } else { None };
        let found: Option<std::ptr::NonNull<Entry>> = self.table.get_mut(key).map(|mut slot| {
            if let Some(h) = hold {
                if !slot.entry().expire().is_some_and(|when| when <= now) {
                    h.guard(&mut slot);
                }
            }
            std::ptr::NonNull::from(slot.into_entry())
        });
        let found = match found {
            // SAFETY: the pointer comes from the table and nothing has modified it since.
            Some(p) if !fx.loading && unsafe { p.as_ref() }.expire().is_some_and(|when| when <= now) => {
                if fx.lazy_expire {
                    self.expire_now(fx, key);
                }
                None
            }
            other => other,
        };
        let counted = !how.has(Lookup::WRITE) && !how.has(Lookup::QUIET);
        match found {
            None => {
                if counted {
                    fx.stats.keyspace_misses += 1;
                    fx.notify(notify::KEY_MISS, "keymiss", self.id, key);
                }
                None
            }
            Some(mut p) => {
                if counted {
                    fx.stats.keyspace_hits += 1;
                }
                // SAFETY: still the entry found above; only counters changed since, and the
                // returned borrow is tied to `&mut self`.
                let entry = unsafe { p.as_mut() };
                if !how.has(Lookup::NOTOUCH) {
                    let access = fx.touched_access(entry.lru());
                    entry.set_lru(access);
                }
                Some(entry)
            }
        }
    }

    /// Whether the key exists (and is not expired), without side effects beyond expiring it.
    pub fn contains(&mut self, fx: &mut Effects, key: &[u8]) -> bool {
        self.lookup(fx, key, Lookup::QUIET).is_some()
    }

    /// Read-only peek that ignores TTLs entirely (for SCAN filtering, RDB saving, debugging).
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.table.get(key)
    }

    /// Adds a key that does not exist. Returns the stored entry.
    pub fn add(&mut self, fx: &mut Effects, key: &[u8], value: Value<'_>) -> &mut Entry {
        let entry = Entry::new(key, value, None, fx.initial_access());
        self.signal_ready(fx, key);
        fx.notify(notify::NEW, "new", self.id, key);
        self.before_insert();
        let mut slot = self.table.insert_new(entry, false);
        if let Some(h) = &self.snapshot {
            h.exclude(&mut slot);
        }
        slot.into_entry()
    }

    /// Adds a whole entry as a new key (RENAME, MOVE, COPY, RESTORE): like Redis's dbAdd,
    /// fires `new` and wakes clients blocked on the key.
    pub fn add_entry(&mut self, fx: &mut Effects, entry: Entry) {
        let key = entry.key().to_vec();
        self.insert_entry(entry);
        self.signal_ready(fx, &key);
        fx.notify(notify::NEW, "new", self.id, &key);
    }

    /// Inserts a whole entry whose key is absent, without events (loading).
    pub fn insert_entry(&mut self, entry: Entry) {
        let has_ttl = entry.expire().is_some();
        if has_ttl {
            self.expires += 1;
        }
        self.before_insert();
        let mut slot = self.table.insert_new(entry, has_ttl);
        if let Some(h) = &self.snapshot {
            h.exclude(&mut slot);
        }
    }

    /// A held table that has grown far past its fill releases the snapshot's hold: the
    /// remaining keys are preserved now, and the table may resize again.
    fn before_insert(&mut self) {
        if self.snapshot.is_some() && self.table.must_resize() {
            self.finish_snapshot_now();
        }
    }

    /// Starts a snapshot's hold (see the module docs). The table holds still from now on.
    pub fn hold_for_snapshot(&mut self, sink: Box<dyn Preserve>) {
        self.table.hold(true);
        self.snapshot = Some(SnapshotHold { origin: self.id, visited: 0, sink });
    }

    /// The snapshot's hold, for the walker.
    pub fn snapshot_hold(&mut self) -> Option<&mut SnapshotHold> {
        self.snapshot.as_mut()
    }

    /// The database number the running snapshot saves this data under.
    pub fn snapshot_origin(&self) -> Option<usize> {
        self.snapshot.as_ref().map(|h| h.origin)
    }

    /// Home chains the snapshot walks.
    pub fn snapshot_walk_len(&self) -> u64 {
        self.table.walk_len()
    }

    /// Visits the chain at walk position `pos` for the snapshot: `f` gets every entry not
    /// marked (marked ones were preserved or created since), and the position counts as
    /// visited afterwards.
    pub fn snapshot_visit(&mut self, pos: u64, mut f: impl FnMut(&Entry)) {
        self.table.visit_position(pos, |e, marked| {
            if !marked {
                f(e)
            }
        });
        if let Some(h) = &mut self.snapshot {
            h.visited = h.visited.max(pos + 1);
        }
    }

    /// Ends the hold: clears the marks of chains not visited (when abandoning a snapshot)
    /// and lets the table resize again. Returns the sink.
    pub fn release_snapshot(&mut self) -> Option<Box<dyn Preserve>> {
        let h = self.snapshot.take()?;
        if h.visited != SnapshotHold::DONE {
            for pos in h.visited..self.table.walk_len() {
                self.table.visit_position(pos, |_, _| {});
            }
        }
        self.table.hold(false);
        Some(h.sink)
    }

    /// Preserves every key the snapshot has not reached and marks the database done (its
    /// walker then only collects the preserved records).
    pub fn finish_snapshot_now(&mut self) {
        let Some(h) = &mut self.snapshot else { return };
        if h.visited == SnapshotHold::DONE {
            return;
        }
        let sink = &mut h.sink;
        for pos in h.visited..self.table.walk_len() {
            self.table.visit_position(pos, |e, marked| {
                if !marked {
                    sink.preserve(e)
                }
            });
        }
        h.visited = SnapshotHold::DONE;
        self.table.hold(false);
    }

    /// Redis's setKey: creates or overwrites `key`. The TTL is dropped unless `keep_ttl`.
    /// Callers fire their own keyspace event; this signals WATCH and blocked clients. A key
    /// whose TTL passed is expired first (with its event), as Redis's lookupKeyWrite would.
    pub fn set(&mut self, fx: &mut Effects, key: &[u8], value: Value<'_>, keep_ttl: bool) {
        let now = fx.now_ms;
        let mut expired = false;
        let hash = match self.table.get_mut_or_hash(key) {
            Ok(mut slot) => {
                if let Some(h) = &mut self.snapshot {
                    h.guard(&mut slot);
                }
                let had_ttl = slot.flag();
                if had_ttl && slot.entry().expire().is_some_and(|when| when <= now) {
                    expired = true;
                    None
                } else {
                    let entry = slot.entry();
                    let was_stream = is_stream(entry);
                    if was_stream && !self.blocking.is_empty() && self.blocking.contains_key(key) {
                        fx.ready_keys.push((self.id, key.to_vec()));
                    }
                    if keep_ttl || !had_ttl {
                        entry.set_value(value);
                        self.signal_modified(fx, key);
                        return;
                    }
                    let fresh = Entry::new(key, value, None, entry.lru());
                    *entry = fresh;
                    slot.set_flag(false);
                    self.expires -= 1;
                    self.signal_modified(fx, key);
                    return;
                }
            }
            Err(hash) => Some(hash),
        };
        if expired {
            self.expire_now(fx, key);
        }
        let entry = Entry::new(key, value, None, fx.initial_access());
        self.before_insert();
        let mut slot = match hash {
            Some(h) => self.table.insert_new_hashed(entry, h, false),
            None => self.table.insert_new(entry, false),
        };
        if let Some(h) = &self.snapshot {
            h.exclude(&mut slot);
        }
        self.signal_ready(fx, key);
        fx.notify(notify::NEW, "new", self.id, key);
        self.signal_modified(fx, key);
    }

    /// Removes a key, returning its entry. No events: callers decide what happened.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        if let Some(h) = &mut self.snapshot {
            if let Some(mut slot) = self.table.get_mut(key) {
                h.guard(&mut slot);
            }
        }
        let e = self.table.remove(key)?;
        if e.expire().is_some() {
            self.expires -= 1;
        }
        Some(e)
    }

    /// Removes a key as a command does (Redis's dbDelete without the WATCH signal): like
    /// [`Db::remove_entry`], and a stream leaving tells its XREADGROUP readers.
    pub fn take(&mut self, fx: &mut Effects, key: &[u8]) -> Option<Entry> {
        let old = self.remove_entry(key)?;
        self.signal_deleted_stream(fx, key, &old);
        Some(old)
    }

    /// Redis's dbDelete plus signalModifiedKey: true if the key existed.
    pub fn delete(&mut self, fx: &mut Effects, key: &[u8]) -> bool {
        if let Some(old) = self.remove_entry(key) {
            self.signal_deleted_stream(fx, key, &old);
            self.signal_modified(fx, key);
            true
        } else {
            false
        }
    }

    /// Sets the TTL (ms since the epoch) of an existing key.
    pub fn set_expire(&mut self, key: &[u8], when: i64) {
        if let Some(mut slot) = self.table.get_mut(key) {
            if let Some(h) = &mut self.snapshot {
                h.guard(&mut slot);
            }
            if !slot.flag() {
                self.expires += 1;
                slot.set_flag(true);
            }
            slot.entry().set_expire(Some(when));
        }
    }

    /// Removes a key's TTL; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        match self.table.get_mut(key) {
            Some(mut slot) if slot.flag() => {
                if let Some(h) = &mut self.snapshot {
                    h.guard(&mut slot);
                }
                slot.set_flag(false);
                slot.entry().set_expire(None);
                self.expires -= 1;
                true
            }
            _ => false,
        }
    }

    /// Replaces the value of an existing key in place (keeping TTL and access data).
    pub fn replace_value(&mut self, key: &[u8], value: Value<'_>) {
        if let Some(mut slot) = self.table.get_mut(key) {
            if let Some(h) = &mut self.snapshot {
                h.guard(&mut slot);
            }
            slot.entry().set_value(value);
        }
    }

    /// Redis's signalModifiedKey: invalidates WATCHes on the key and, when clients track
    /// keys, records it for invalidation messages.
    pub fn signal_modified(&mut self, fx: &mut Effects, key: &[u8]) {
        self.signal_modified_by(fx, key, true);
    }

    /// signal_modified, saying whether a client's command (rather than expiry) did it.
    fn signal_modified_by(&mut self, fx: &mut Effects, key: &[u8], by_client: bool) {
        if !self.watched.is_empty() {
            let present = self.table.get(key).is_some();
            if let Some(watchers) = self.watched.get_mut(key) {
                // Redis's touchWatchedKey.
                for w in watchers.iter_mut() {
                    if w.expired {
                        if !present {
                            // The stale key is gone: logically nothing changed.
                            w.expired = false;
                            continue;
                        }
                        // Redis stops at a watcher of a stale key still present.
                        break;
                    }
                    fx.dirty_cas.insert(w.client);
                }
            }
        }
        if fx.tracking {
            fx.tracking_keys.push((key.to_vec(), by_client));
        }
    }

    /// Whether `key` is present with a TTL that has passed (Redis's keyIsExpired).
    pub fn is_stale(&self, key: &[u8], now_ms: i64) -> bool {
        self.table.get(key).and_then(|e| e.expire()).is_some_and(|when| when <= now_ms)
    }

    /// Invalidates the WATCHes of this database's keys before it is emptied (FLUSHDB,
    /// FLUSHALL) or, for SWAPDB, replaced by `replaced_with` (Redis's
    /// touchAllWatchedKeysInDb): a key present in neither is untouched, and a key that was
    /// stale when watched and is gone (or stays stale) is logically unchanged.
    pub fn touch_all_watched(&mut self, fx: &mut Effects, replaced_with: Option<&Db>) {
        let now = fx.now_ms;
        let Db { watched, table, .. } = self;
        for (key, watchers) in watched.iter_mut() {
            let exists_here = table.get(key).is_some();
            let exists_there = replaced_with.is_some_and(|d| d.table.get(key).is_some());
            if !exists_here && !exists_there {
                continue;
            }
            let stale_there = replaced_with.is_some_and(|d| d.is_stale(key, now));
            for w in watchers.iter_mut() {
                if w.expired {
                    if !exists_there {
                        w.expired = false;
                        continue;
                    } else if stale_there {
                        continue;
                    }
                } else if !exists_here && stale_there {
                    // A missing key replaced by a stale one.
                    w.expired = true;
                    continue;
                }
                fx.dirty_cas.insert(w.client);
            }
        }
    }

    /// A stream went away (deleted, expired, overwritten): clients blocked in XREADGROUP on
    /// it are told (Redis signals the key ready whenever a stream leaves the keyspace).
    fn signal_deleted_stream(&mut self, fx: &mut Effects, key: &[u8], old: &Entry) {
        if is_stream(old) {
            self.signal_ready(fx, key);
        }
    }

    /// Before the database is emptied (FLUSHDB/FLUSHALL): signals the blocked-on keys that
    /// hold streams, so their XREADGROUP readers learn the key is gone.
    pub fn signal_blocked_streams(&mut self, fx: &mut Effects) {
        let keys: Vec<Vec<u8>> =
            self.blocking.keys().filter(|k| self.table.get(k).is_some_and(is_stream)).cloned().collect();
        for key in keys {
            fx.ready_keys.push((self.id, key));
        }
    }

    /// Tells clients blocked on `key` that it may now serve them.
    pub fn signal_ready(&mut self, fx: &mut Effects, key: &[u8]) {
        if !self.blocking.is_empty() && self.blocking.contains_key(key) {
            fx.ready_keys.push((self.id, key.to_vec()));
        }
    }

    /// A random key that is not expired (RANDOMKEY). Gives up on expired ones after 100
    /// tries like Redis does when all sampled keys are volatile and expired.
    pub fn random_key(&mut self, fx: &mut Effects) -> Option<Vec<u8>> {
        let mut tries = 0;
        loop {
            let rng = &mut fx.rng;
            let key = self.table.random(|| rng.next_u64())?.key().to_vec();
            let expired = self.table.get(&key).is_some_and(|e| Self::is_expired(e, fx.now_ms));
            if !expired {
                return Some(key);
            }
            tries += 1;
            if self.expires == self.len() && tries >= 100 {
                // Every key is volatile: return a logically expired key rather than loop.
                return Some(key);
            }
            if fx.lazy_expire {
                self.expire_now(fx, &key);
            }
        }
    }

    /// One SCAN step over the table; `f` sees each visited entry (expired ones included:
    /// the caller filters them like Redis does after collecting).
    pub fn scan(&self, cursor: u64, f: impl FnMut(&Entry, bool)) -> u64 {
        self.table.scan(cursor, f)
    }

    pub fn for_each(&self, mut f: impl FnMut(&Entry)) {
        self.table.for_each(|e, _| f(e));
    }

    /// Removes every key, returning the entries (to free them elsewhere if large).
    pub fn clear(&mut self) -> Vec<Entry> {
        self.finish_snapshot_now();
        self.expires = 0;
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        self.table.drain()
    }

    /// Swaps the data (not the watchers or blocked clients) with another database.
    pub fn swap_data(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.expire_cursor, &mut other.expire_cursor);
        std::mem::swap(&mut self.avg_ttl, &mut other.avg_ttl);
        std::mem::swap(&mut self.snapshot, &mut other.snapshot);
    }

    /// Whether the table is moving to a new size.
    pub fn is_rehashing(&self) -> bool {
        self.table.is_rehashing()
    }

    /// Samples up to `want` keys for eviction (only keys with a TTL if `volatile`), as Redis's
    /// dictGetSomeKeys on the main or the expires dict; `f` gets each sampled entry.
    pub fn sample_for_eviction(&self, rng: &mut Rng, want: usize, volatile: bool, f: impl FnMut(&Entry)) {
        let mut f = f;
        // Redis walks at most 10 buckets per wanted key; TTL keys are mixed with the others
        // here, so the walk is lengthened by how rare they are (bounded).
        let mut chains = want * 10;
        if volatile && self.expires > 0 {
            chains = (chains * self.len().div_ceil(self.expires)).min(want * 10 + 4096);
        }
        self.table.sample(|| rng.next_u64(), want, chains.max(1), volatile, |e, _| f(e));
    }

    /// Whether a key exists with a TTL (eviction candidates of volatile policies), ignoring
    /// whether the TTL passed.
    pub fn has_ttl(&self, key: &[u8]) -> bool {
        self.table.get_with_flag(key).is_some_and(|(_, flag)| flag)
    }

    /// A random key (with a TTL if `volatile`), for the random eviction policies.
    pub fn random_for_eviction(&self, rng: &mut Rng, volatile: bool) -> Option<Vec<u8>> {
        if !volatile {
            return self.table.random(|| rng.next_u64()).map(|e| e.key().to_vec());
        }
        let mut key = None;
        self.sample_for_eviction(rng, 1, true, |e| key = Some(e.key().to_vec()));
        key
    }

    /// Incremental rehashing from the cron: moves up to `chains` chains.
    pub fn rehash(&mut self, chains: usize) -> bool {
        self.table.rehash(chains)
    }

    pub fn reserve(&mut self, n: usize) {
        self.table.reserve(n);
    }

    /// Bytes used by the table structure (not the entries).
    pub fn table_overhead(&self) -> usize {
        self.table.allocated_bytes()
    }

    /// Samples up to `wanted` keys with a TTL, deleting the expired ones. Returns
    /// (sampled, expired, chains visited). Redis's activeExpireCycle inner loop.
    pub fn expire_sample(&mut self, fx: &mut Effects, wanted: usize, max_chains: usize) -> (usize, usize, usize) {
        if self.expires == 0 {
            return (0, 0, 0);
        }
        let now = fx.now_ms;
        let mut sampled = 0;
        let mut expired_keys: Vec<Vec<u8>> = Vec::new();
        let mut ttl_sum: i64 = 0;
        let mut ttl_samples: i64 = 0;
        let mut chains = 0;
        let mut cursor = self.expire_cursor;
        while sampled < wanted && chains < max_chains {
            cursor = self.table.scan(cursor, |e, flagged| {
                if flagged {
                    sampled += 1;
                    let when = e.expire().unwrap_or(i64::MAX);
                    if when <= now {
                        expired_keys.push(e.key().to_vec());
                    } else {
                        ttl_sum += when - now;
                        ttl_samples += 1;
                    }
                }
            });
            chains += 1;
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        let expired = expired_keys.len();
        for key in expired_keys {
            self.expire_now(fx, &key);
        }
        if ttl_samples > 0 {
            let avg = ttl_sum / ttl_samples;
            // Redis: db->avg_ttl = (db->avg_ttl/50)*49 + (avg_ttl/50).
            self.avg_ttl = if self.avg_ttl == 0 { avg } else { (self.avg_ttl / 50) * 49 + avg / 50 };
        }
        (sampled, expired, chains)
    }
}

fn is_stream(entry: &Entry) -> bool {
    matches!(entry.as_object(), Some(crate::types::Object::Stream(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx_at(now: i64) -> Effects {
        Effects { now_ms: now, ..Effects::default() }
    }

    #[test]
    fn lazy_expiry_hides_and_deletes_keys() {
        let mut db = Db::new(0);
        let mut fx = fx_at(1000);
        db.set(&mut fx, b"a", Value::Str(b"1"), false);
        db.set_expire(b"a", 1500);
        assert_eq!(db.expires_count(), 1);
        assert!(db.lookup(&mut fx, b"a", Lookup::READ).is_some());
        fx.now_ms = 1500;
        assert!(db.lookup(&mut fx, b"a", Lookup::READ).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_count(), 0);
        assert_eq!(fx.stats.expired_keys, 1);
        assert_eq!(fx.stats.keyspace_hits, 1);
        assert_eq!(fx.stats.keyspace_misses, 1);
    }

    #[test]
    fn set_drops_ttl_unless_kept() {
        let mut db = Db::new(0);
        let mut fx = fx_at(0);
        db.set(&mut fx, b"a", Value::Str(b"1"), false);
        db.set_expire(b"a", 100);
        db.set(&mut fx, b"a", Value::Str(b"2"), true);
        assert_eq!(db.peek(b"a").unwrap().expire(), Some(100));
        db.set(&mut fx, b"a", Value::Str(b"3"), false);
        assert_eq!(db.peek(b"a").unwrap().expire(), None);
        assert_eq!(db.expires_count(), 0);
    }

    #[test]
    fn active_sampling_finds_only_expired_ttl_keys() {
        let mut db = Db::new(0);
        let mut fx = fx_at(0);
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(&mut fx, k.as_bytes(), Value::Str(b"v"), false);
            if i % 10 == 0 {
                db.set_expire(k.as_bytes(), if i % 20 == 0 { 10 } else { 1_000_000 });
            }
        }
        fx.now_ms = 100;
        let mut total_expired = 0;
        for _ in 0..200 {
            let (_, expired, _) = db.expire_sample(&mut fx, 20, 400);
            total_expired += expired;
        }
        assert_eq!(total_expired, 50);
        assert_eq!(db.len(), 950);
        assert_eq!(db.expires_count(), 50);
    }
}
