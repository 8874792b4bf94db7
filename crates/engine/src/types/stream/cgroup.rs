//! Consumer groups: the last delivered ID, the read counter, the pending entries list (PEL)
//! and the consumers with their own PELs.
//!
//! Redis shares one NACK between the group PEL and the owner's PEL through a pointer. Here
//! the group PEL owns the NACK, which names its owner by slot number, and each consumer keeps
//! the set of IDs it owns: acknowledging or moving an entry touches both, so the two views
//! stay exact. Consumers live in slots (a freed slot is reused) and are ordered by name in a
//! separate index, the order Redis's radix tree gives (byte order, a prefix first).

use std::collections::{BTreeMap, BTreeSet};

use super::id::StreamId;

/// `entries_read` when the group's read counter is not known.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// The owner of a NACK created by XCLAIM FORCE or loaded, before a consumer takes it.
const NO_OWNER: u32 = u32::MAX;

/// A delivered, not yet acknowledged entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Last delivery, ms since the epoch.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The owner's slot.
    pub consumer: u32,
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub name: Box<[u8]>,
    /// Last time the consumer was active (ms since the epoch).
    pub seen_time: i64,
    /// The IDs this consumer owns in the group PEL.
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug)]
pub struct ConsumerGroup {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Logical reads counter, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    names: BTreeMap<Box<[u8]>, u32>,
    slots: Vec<Option<Consumer>>,
    free: Vec<u32>,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            names: BTreeMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    pub fn consumer_count(&self) -> usize {
        self.names.len()
    }

    /// A consumer's slot by name.
    pub fn find(&self, name: &[u8]) -> Option<u32> {
        self.names.get(name).copied()
    }

    pub fn consumer(&self, slot: u32) -> &Consumer {
        match self.slots.get(slot as usize) {
            Some(Some(c)) => c,
            _ => unreachable!("consumer slot {slot} is empty"),
        }
    }

    /// The name of the consumer in `slot`, if there is one.
    pub fn consumer_name(&self, slot: u32) -> Option<&[u8]> {
        match self.slots.get(slot as usize) {
            Some(Some(c)) => Some(&c.name),
            _ => None,
        }
    }

    fn consumer_mut(&mut self, slot: u32) -> &mut Consumer {
        match self.slots.get_mut(slot as usize) {
            Some(Some(c)) => c,
            _ => unreachable!("consumer slot {slot} is empty"),
        }
    }

    /// Redis's streamLookupConsumer: the slot, refreshing the seen time when `now` is given.
    pub fn lookup(&mut self, name: &[u8], now: Option<i64>) -> Option<u32> {
        let slot = self.find(name)?;
        if let Some(now) = now {
            self.consumer_mut(slot).seen_time = now;
        }
        Some(slot)
    }

    /// Redis's streamCreateConsumer: None if the name exists.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> Option<u32> {
        if self.names.contains_key(name) {
            return None;
        }
        let consumer = Consumer { name: name.into(), seen_time: now, pel: BTreeSet::new() };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(consumer);
                s
            }
            None => {
                self.slots.push(Some(consumer));
                (self.slots.len() - 1) as u32
            }
        };
        self.names.insert(name.into(), slot);
        Some(slot)
    }

    /// The consumer named `name`, created if missing; the flag says it was created.
    pub fn lookup_or_create(&mut self, name: &[u8], now: i64) -> (u32, bool) {
        match self.lookup(name, Some(now)) {
            Some(slot) => (slot, false),
            None => (self.create_consumer(name, now).unwrap_or(0), true),
        }
    }

    /// Redis's streamDelConsumer: drops the consumer and its pending entries; returns how
    /// many it had.
    pub fn delete_consumer(&mut self, slot: u32) -> usize {
        let consumer = match self.slots.get_mut(slot as usize).and_then(Option::take) {
            Some(c) => c,
            None => return 0,
        };
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        self.names.remove(&consumer.name);
        self.free.push(slot);
        consumer.pel.len()
    }

    /// Consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> + '_ {
        self.names.values().map(move |&s| self.consumer(s))
    }

    /// Slots in name order.
    pub fn consumer_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.names.values().copied()
    }

    /// Records a delivery of `id` to `slot` (streamReplyWithRange's PEL step): a new NACK,
    /// or an existing one moved to this consumer with its time and count reset.
    pub fn deliver(&mut self, id: StreamId, slot: u32, now: i64) {
        let nack = Nack { delivery_time: now, delivery_count: 1, consumer: slot };
        if let Some(old) = self.pel.insert(id, nack) {
            if old.consumer != slot {
                self.disown(old.consumer, id);
            }
        }
        self.consumer_mut(slot).pel.insert(id);
    }

    /// Removes `id` from the PELs (XACK, or a claim of a deleted entry). Returns its NACK.
    pub fn remove_pending(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        self.disown(nack.consumer, id);
        Some(nack)
    }

    /// Drops `id` from the PEL of the consumer in `slot`, if there is one there.
    fn disown(&mut self, slot: u32, id: StreamId) {
        if let Some(Some(c)) = self.slots.get_mut(slot as usize) {
            c.pel.remove(&id);
        }
    }

    /// Redis's FORCE: a NACK without an owner yet (delivered now, once), claimed next.
    pub fn create_unowned(&mut self, id: StreamId, now: i64) {
        self.pel.insert(id, Nack { delivery_time: now, delivery_count: 1, consumer: NO_OWNER });
    }

    /// Gives the pending `id` to `slot` (XCLAIM/XAUTOCLAIM) and returns its NACK for the
    /// caller to update; None if `id` is not pending.
    pub fn claim(&mut self, id: StreamId, slot: u32) -> Option<&mut Nack> {
        let old = self.pel.get(&id)?.consumer;
        if old != slot {
            self.disown(old, id);
            self.consumer_mut(slot).pel.insert(id);
        }
        let nack = self.pel.get_mut(&id)?;
        nack.consumer = slot;
        Some(nack)
    }

    /// Inserts a loaded NACK whose owner is resolved later by [`Self::attach_loaded`].
    pub fn insert_loaded_nack(&mut self, id: StreamId, delivery_time: i64, delivery_count: u64) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        self.pel.insert(id, Nack { delivery_time, delivery_count, consumer: NO_OWNER });
        true
    }

    /// Gives a loaded NACK to its consumer; false if the ID is not in the group PEL or
    /// already has an owner (a payload naming two owners is corrupt).
    pub fn attach_loaded(&mut self, id: StreamId, slot: u32) -> bool {
        match self.pel.get_mut(&id) {
            Some(n) if n.consumer == NO_OWNER => n.consumer = slot,
            _ => return false,
        }
        self.consumer_mut(slot).pel.insert(id)
    }

    /// Whether every NACK has an owner (after loading).
    pub fn all_owned(&self) -> bool {
        self.pel.values().all(|n| n.consumer != NO_OWNER)
    }

    /// Sets a consumer's seen time (loading).
    pub fn set_seen_time(&mut self, slot: u32, when: i64) {
        self.consumer_mut(slot).seen_time = when;
    }

    /// Bytes allocated (approximate: nodes of the ordered maps are counted by entry).
    pub fn memory_usage(&self) -> usize {
        let mut total = std::mem::size_of::<ConsumerGroup>();
        total += self.pel.len() * (16 + std::mem::size_of::<Nack>() + 8);
        total += self.slots.capacity() * std::mem::size_of::<Option<Consumer>>();
        for c in self.consumers() {
            total += 2 * c.name.len() + 32 + c.pel.len() * 24;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> StreamId {
        StreamId::new(n, 0)
    }

    #[test]
    fn pel_views_stay_consistent() {
        let mut g = ConsumerGroup::new(StreamId::MIN, 0);
        let a = g.create_consumer(b"alice", 1).unwrap();
        let b = g.create_consumer(b"bob", 1).unwrap();
        assert!(g.create_consumer(b"alice", 2).is_none());
        g.deliver(id(1), a, 10);
        g.deliver(id(2), a, 10);
        g.deliver(id(2), b, 20);
        assert_eq!(g.consumer(a).pel.len(), 1);
        assert_eq!(g.consumer(b).pel.len(), 1);
        assert_eq!(g.pel[&id(2)], Nack { delivery_time: 20, delivery_count: 1, consumer: b });
        let n = g.claim(id(1), b).unwrap();
        n.delivery_count += 1;
        assert!(g.claim(id(9), b).is_none());
        assert_eq!(g.consumer(a).pel.len(), 0);
        assert_eq!(g.consumer(b).pel.len(), 2);
        assert!(g.remove_pending(id(1)).is_some());
        assert!(g.remove_pending(id(1)).is_none());
        assert_eq!(g.delete_consumer(b), 1);
        assert!(g.pel.is_empty());
        let names: Vec<&[u8]> = g.consumers().map(|c| &*c.name).collect();
        assert_eq!(names, vec![b"alice".as_slice()]);
        // A freed slot is reused.
        assert_eq!(g.create_consumer(b"carol", 3), Some(b));
    }

    #[test]
    fn consumers_are_in_radix_order() {
        let mut g = ConsumerGroup::new(StreamId::MIN, 0);
        for name in [&b"b"[..], b"ab", b"a", b"B"] {
            g.create_consumer(name, 0);
        }
        let names: Vec<&[u8]> = g.consumers().map(|c| &*c.name).collect();
        assert_eq!(names, vec![&b"B"[..], b"a", b"ab", b"b"]);
    }
}
