//! The stream value type (Redis's t_stream.c data structure).
//!
//! Entries live in nodes: listpacks in Redis's exact stream layout ([`node`]), each holding
//! up to `stream-node-max-entries` entries or `stream-node-max-bytes` bytes, keyed by the
//! ID of their first entry (the master ID) in an ordered map. Redis indexes the nodes with
//! a radix tree; an ordered map has the same bounds (O(log n) seek, ordered walk both ways)
//! and the per-node cost is amortized over ~100 entries. Node boundaries are exactly
//! Redis's, so approximate trimming (`~`), which only drops whole nodes, removes the same
//! entries, and XINFO's `radix-tree-keys` matches.
//!
//! Deleting an entry flags it in place (a tombstone); a node goes when its last live entry
//! does. Besides the entries a stream keeps its length, the last generated ID, the first
//! live ID, the largest deleted ID and the count of entries ever added, from which consumer
//! group lag is computed as Redis 7.0 does ([`Stream::group_lag`]). Consumer groups are in
//! [`cgroup`]; RDB encoding in [`rdb`]; the commands an AOF rewrite emits in [`rewrite`].

pub mod cgroup;
pub mod id;
pub mod node;
pub mod rax;
pub mod rdb;
pub mod rewrite;
#[cfg(test)]
mod tests;

use std::collections::{btree_map, BTreeMap};

pub use cgroup::{Consumer, ConsumerGroup, Nack, INVALID_ENTRIES_READ};
pub use id::{ParseOpts, Parsed, StreamId};
use node::{EntryPos, Master, Pairs};

/// A node never grows past this, whatever the configuration (Redis's
/// STREAM_LISTPACK_MAX_SIZE: listpack lengths are 32-bit).
pub const NODE_MAX_SIZE: usize = 1 << 30;

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`; 0 = no limit).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_entries: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 4096, max_entries: 100 }
    }
}

/// Why an append failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the last one (Redis's EDOM).
    NotGreater,
    /// The fields and values are too large for a node (ERANGE).
    TooLarge,
    /// `<ms>-*` for the last ID's ms when its sequence is exhausted (Redis returns C_ERR
    /// without setting errno here).
    SeqExhausted,
}

/// How to trim (XADD/XTRIM's MAXLEN and MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct Trim {
    pub strategy: TrimStrategy,
    /// Only whole nodes (`~`).
    pub approx: bool,
    /// At most this many entries (0 = no limit).
    pub limit: i64,
}

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Vec<u8>>,
    length: u64,
    /// The last generated ID (0-0 if none yet).
    pub last_id: StreamId,
    /// The first live entry's ID (0-0 if empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted by XDEL (or set by XSETID).
    pub max_deleted_entry_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    groups: Option<Box<BTreeMap<Box<[u8]>, ConsumerGroup>>>,
}

/// One entry met while iterating.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub id: StreamId,
    /// The key of the node holding the entry.
    master_id: StreamId,
    node: &'a [u8],
    master: Master,
    pos: EntryPos,
}

impl<'a> Entry<'a> {
    pub fn deleted(&self) -> bool {
        self.pos.deleted()
    }

    /// Number of field-value pairs.
    pub fn field_count(&self) -> usize {
        self.pos.nfields
    }

    pub fn pairs(&self) -> Pairs<'a> {
        node::pairs(self.node, &self.master, &self.pos)
    }
}

/// Entries between two IDs (inclusive), forwards or backwards (Redis's streamIterator).
pub struct Iter<'a> {
    nodes: btree_map::Range<'a, StreamId, Vec<u8>>,
    rev: bool,
    start: StreamId,
    end: StreamId,
    skip_tombstones: bool,
    cur: Option<(StreamId, &'a [u8], Master, Option<usize>)>,
    done: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        loop {
            if self.done {
                return None;
            }
            let (master_id, data, master, at) = match self.cur {
                Some(c) => c,
                None => {
                    let next = if self.rev { self.nodes.next_back() } else { self.nodes.next() };
                    let Some((&key, data)) = next else {
                        self.done = true;
                        return None;
                    };
                    let m = node::master(data);
                    let at = if self.rev { node::last_entry(data) } else { node::first_entry(data, &m) };
                    let c = (key, data.as_slice(), m, at);
                    self.cur = Some(c);
                    c
                }
            };
            let Some(p) = at else {
                self.cur = None;
                continue;
            };
            let pos = node::entry_at(data, &master, master_id, p);
            let next = if self.rev { node::prev_entry(data, &pos) } else { node::next_entry(data, &pos) };
            self.cur = Some((master_id, data, master, next));
            if self.skip_tombstones && pos.deleted() {
                continue;
            }
            let id = pos.id;
            if !self.rev {
                if id < self.start {
                    continue;
                }
                if id > self.end {
                    self.done = true;
                    return None;
                }
            } else {
                if id > self.end {
                    continue;
                }
                if id < self.start {
                    self.done = true;
                    return None;
                }
            }
            return Some(Entry { id, master_id, node: data, master, pos });
        }
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes of the radix tree Redis would hold (XINFO's `radix-tree-nodes`).
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        rax::node_count(&keys)
    }

    /// Redis's streamAppendItem. `use_id` is the ID given to XADD (None for `*`); `now_ms`
    /// makes auto IDs.
    pub fn append(
        &mut self,
        pairs: &[&[u8]],
        use_id: Option<Parsed>,
        now_ms: u64,
        limits: Limits,
    ) -> Result<StreamId, AppendError> {
        let id = match use_id {
            Some(p) if p.seq_given => p.id,
            Some(p) if self.last_id.ms == p.id.ms => {
                if self.last_id.seq == u64::MAX {
                    return Err(AppendError::SeqExhausted);
                }
                StreamId::new(p.id.ms, self.last_id.seq + 1)
            }
            Some(p) => p.id,
            None if now_ms > self.last_id.ms => StreamId::new(now_ms, 0),
            None => self.last_id.incr().unwrap_or(StreamId::MIN),
        };
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let total: usize = pairs.iter().map(|p| p.len()).sum();
        if total > NODE_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = match limits.max_bytes {
            0 => NODE_MAX_SIZE,
            n if n > NODE_MAX_SIZE as u64 => NODE_MAX_SIZE,
            n => n as usize,
        };
        let mut target = None;
        if let Some(mut tail) = self.nodes.last_entry() {
            let data = tail.get_mut();
            let m = node::master(data);
            let full = data.len() + total >= max_bytes
                || (limits.max_entries > 0 && m.count.saturating_add(m.deleted) >= limits.max_entries);
            if full {
                // The node is complete: give back its growth room.
                data.shrink_to_fit();
            } else {
                target = Some(*tail.key());
            }
        }
        let master_id = match target {
            Some(k) => k,
            None => {
                self.nodes.insert(id, node::create(pairs, 64 + 2 * total));
                id
            }
        };
        if let Some(data) = self.nodes.get_mut(&master_id) {
            node::append(data, master_id, id, pairs);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries from `start` to `end` inclusive; backwards if `rev`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Iter<'_> {
        self.iter(start, end, rev, true)
    }

    fn iter(&self, start: StreamId, end: StreamId, rev: bool, skip_tombstones: bool) -> Iter<'_> {
        iter_nodes(&self.nodes, start, end, rev, skip_tombstones)
    }

    /// The live entry `id`, if present.
    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        self.range(id, id, false).next()
    }

    /// Whether the live entry `id` exists (Redis's streamEntryExists).
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The first or last ID (Redis's streamGetEdgeID): MAX (first) or MIN (last) if none.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        match self.iter(StreamId::MIN, StreamId::MAX, !first, skip_tombstones).next() {
            Some(e) => e.id,
            None if first => StreamId::MAX,
            None => StreamId::MIN,
        }
    }

    /// The last live ID (Redis's streamLastValidID), None if empty.
    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true).next().map(|e| e.id)
    }

    /// Redis's streamDeleteItem: tombstones the live entry `id`; false if absent. Found the
    /// way Redis's iterator finds it (the first live entry at or after `id` in node order),
    /// which matters only after XSETID moved the last ID below a tombstone.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((key, pos)) = self.get(id).map(|e| (e.master_id, e.pos)) else { return false };
        let Some(data) = self.nodes.get_mut(&key) else { return false };
        let m = node::master(data);
        if m.count <= 1 {
            self.nodes.remove(&key);
        } else {
            node::mark_deleted(data, &pos);
            node::set_counts(data, m.count - 1, m.deleted + 1);
        }
        self.length -= 1;
        true
    }

    /// XDEL's bookkeeping after deletions: the first ID and the largest deleted ID.
    pub fn note_deleted(&mut self, id: StreamId, was_first: bool) {
        if id > self.max_deleted_entry_id {
            self.max_deleted_entry_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if was_first {
            self.first_id = self.edge_id(true, true);
        }
    }

    /// Redis's streamTrim: removes entries from the head; returns how many.
    pub fn trim(&mut self, t: &Trim) -> i64 {
        let mut deleted: i64 = 0;
        loop {
            let Some((&key, data)) = self.nodes.first_key_value() else { break };
            if let TrimStrategy::MaxLen(max) = t.strategy {
                if self.length <= max {
                    break;
                }
            }
            let m = node::master(data);
            let entries = m.count;
            if t.limit > 0 && deleted + entries > t.limit {
                break;
            }
            let remove_node = match t.strategy {
                TrimStrategy::MaxLen(max) => self.length - entries as u64 >= max,
                TrimStrategy::MinId(min) => node::edge_id(data, key, false).is_some_and(|last| last < min),
            };
            if remove_node {
                self.nodes.remove(&key);
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if t.approx {
                break;
            }
            deleted += self.trim_within(key, &t.strategy);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true);
        }
        deleted
    }

    /// Tombstones the head entries of one node that the strategy removes.
    fn trim_within(&mut self, key: StreamId, strategy: &TrimStrategy) -> i64 {
        let Some(data) = self.nodes.get_mut(&key) else { return 0 };
        let m = node::master(data);
        let mut removed = 0;
        let mut at = node::first_entry(data, &m);
        while let Some(p) = at {
            let e = node::entry_at(data, &m, key, p);
            let stop = match strategy {
                TrimStrategy::MaxLen(max) => self.length <= *max,
                TrimStrategy::MinId(min) => e.id >= *min,
            };
            if stop {
                break;
            }
            if !e.deleted() {
                node::mark_deleted(data, &e);
                removed += 1;
                self.length -= 1;
            }
            at = node::next_entry(data, &e);
        }
        node::set_counts(data, m.count - removed, m.deleted + removed);
        removed
    }

    // ----- consumer groups -----

    pub fn group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, |g| g.len())
    }

    /// Groups in name order.
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &ConsumerGroup)> + '_ {
        self.groups.iter().flat_map(|g| g.iter().map(|(k, v)| (&**k, v)))
    }

    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.as_ref()?.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.as_mut()?.get_mut(name)
    }

    /// Redis's streamCreateCG: false if the name exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        let groups = self.groups.get_or_insert_with(Default::default);
        if groups.contains_key(name) {
            return false;
        }
        groups.insert(name.into(), ConsumerGroup::new(last_id, entries_read));
        true
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.as_mut().is_some_and(|g| g.remove(name).is_some())
    }

    fn counters(&self) -> Counters {
        Counters {
            length: self.length,
            first_id: self.first_id,
            last_id: self.last_id,
            max_deleted: self.max_deleted_entry_id,
            entries_added: self.entries_added,
        }
    }

    /// Redis's streamRangeHasTombstones (the caller knows `start` is below the last ID).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        self.counters().range_has_tombstones(start, end)
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`,
    /// or [`INVALID_ENTRIES_READ`] when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        self.counters().estimate_distance(id)
    }

    /// Redis's streamReplyWithCGLag: the entries not yet delivered to the group, or None.
    pub fn group_lag(&self, g: &ConsumerGroup) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, StreamId::MAX) {
            return Some((self.entries_added as i64).wrapping_sub(g.entries_read));
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| (self.entries_added as i64).wrapping_sub(read))
    }

    /// Delivers new entries to a group's consumer: the group part of Redis's
    /// streamReplyWithRange. Entries from `start` (at most `count`, 0 = all) advance the
    /// group's last ID and read counter and, unless `noack`, enter the PELs. `emit` sees
    /// each entry with the group's last ID after it. Returns (entries, whether the last ID
    /// moved forward).
    pub fn deliver_to_group(
        &mut self,
        group: &[u8],
        consumer: u32,
        start: StreamId,
        count: usize,
        noack: bool,
        now: i64,
        mut emit: impl FnMut(&Entry<'_>, StreamId),
    ) -> (usize, bool) {
        let mut emitted = 0;
        let mut advanced = false;
        let c = self.counters();
        let Some(groups) = self.groups.as_mut() else { return (0, false) };
        let Some(g) = groups.get_mut(group) else { return (0, false) };
        let iter = iter_nodes(&self.nodes, start, StreamId::MAX, false, true);
        for e in iter {
            if e.id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !c.range_has_tombstones(e.id, StreamId::MAX) {
                    g.entries_read += 1;
                } else if c.entries_added != 0 {
                    g.entries_read = c.estimate_distance(e.id);
                }
                g.last_id = e.id;
                if noack {
                    advanced = true;
                }
            }
            if !noack {
                g.deliver(e.id, consumer, now);
            }
            emit(&e, g.last_id);
            emitted += 1;
            if count != 0 && emitted == count {
                break;
            }
        }
        (emitted, advanced)
    }

    /// A consumer's history (Redis's streamReplyWithRangeFromConsumerPEL): its pending IDs
    /// from `start`, at most `count` (0 = all). `emit` gets each ID with its entry, or None
    /// if the entry was deleted meanwhile; found entries count as delivered again.
    pub fn read_history(
        &mut self,
        group: &[u8],
        consumer: u32,
        start: StreamId,
        count: usize,
        now: i64,
        mut emit: impl FnMut(StreamId, Option<&Entry<'_>>),
    ) -> usize {
        let Some(g) = self.groups.as_mut().and_then(|gs| gs.get_mut(group)) else { return 0 };
        let ids: Vec<StreamId> = {
            let pel = &g.consumer(consumer).pel;
            let it = pel.range(start..);
            if count == 0 {
                it.copied().collect()
            } else {
                it.take(count).copied().collect()
            }
        };
        for &id in &ids {
            let found = iter_nodes(&self.nodes, id, id, false, true).next();
            if found.is_some() {
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now;
                    n.delivery_count = n.delivery_count.wrapping_add(1);
                }
            }
            emit(id, found.as_ref());
        }
        ids.len()
    }

    /// Bytes allocated for the contents.
    pub fn memory_usage(&self) -> usize {
        // An ordered-map slot per node (key, value header, share of the tree node).
        let mut total = std::mem::size_of::<Stream>() + self.nodes.len() * 56;
        total += self.nodes.values().map(|n| n.capacity()).sum::<usize>();
        for (name, g) in self.groups() {
            total += name.len() + 40 + g.memory_usage();
        }
        total
    }

    /// Allocations freeing this value takes (Redis's lazyfreeGetFreeEffort for streams:
    /// the nodes, plus each group's PEL).
    pub fn free_effort(&self) -> usize {
        let mut effort = self.nodes.len().max(1);
        for (_, g) in self.groups() {
            effort += g.pel.len() + 1;
        }
        effort
    }

    // ----- raw access for persistence -----

    /// Nodes in order: (master ID, listpack bytes).
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = (StreamId, &[u8])> + '_ {
        self.nodes.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Adds a node read from outside (RDB, RESTORE); the caller validated it. False if a
    /// node with that key exists.
    pub fn insert_node(&mut self, master_id: StreamId, data: Vec<u8>) -> bool {
        match self.nodes.entry(master_id) {
            btree_map::Entry::Occupied(_) => false,
            btree_map::Entry::Vacant(v) => {
                v.insert(data);
                true
            }
        }
    }

    /// Sets the length read from outside.
    pub fn set_len(&mut self, length: u64) {
        self.length = length;
    }
}

/// Entries of `nodes` between two IDs (the node holding `start`, or the last node at or
/// below `end` backwards, is where Redis's iterator seeks first).
fn iter_nodes(
    nodes: &BTreeMap<StreamId, Vec<u8>>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    skip_tombstones: bool,
) -> Iter<'_> {
    let range = if !rev {
        match nodes.range(..=start).next_back() {
            Some((&k, _)) => nodes.range(k..),
            None => nodes.range(..),
        }
    } else {
        nodes.range(..=end)
    };
    Iter { nodes: range, rev, start, end, skip_tombstones, cur: None, done: false }
}

/// The counters behind read counters and lag, copied so they can be consulted while a
/// group is borrowed mutably.
#[derive(Clone, Copy)]
struct Counters {
    length: u64,
    first_id: StreamId,
    last_id: StreamId,
    max_deleted: StreamId,
    entries_added: u64,
}

impl Counters {
    fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return self.entries_added.wrapping_sub(self.length) as i64;
            }
            if id == self.first_id {
                return self.entries_added.wrapping_sub(self.length).wrapping_add(1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }
}
