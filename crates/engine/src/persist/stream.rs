//! Streams in RDB form (types STREAM_LISTPACKS 1, 2 and 3): the entries live in listpacks
//! keyed by a 128-bit big-endian master ID, each listpack starting with a "master entry"
//! (live count, deleted count, the master field names) against which entries are delta
//! encoded; then the stream's metadata and its consumer groups with their pending entries
//! lists and consumers.
//!
//! [`StreamValue`] is the neutral form the stream type is built from and saved through.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::encoding::{listpack, Packed};
use super::rdb::read::RdbReader;
use super::rdb::write::RdbWriter;
use super::rdb::{corrupt, RdbError, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3};

/// A stream ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };

    /// The 16-byte big-endian form used as node keys and PEL keys.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<StreamId> {
        Some(StreamId {
            ms: u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
            seq: u64::from_be_bytes(b.get(8..16)?.try_into().ok()?),
        })
    }
}

/// One entry: its ID and field/value pairs in order.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamEntry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A pending entry of a consumer group.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub id: StreamId,
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// Index into the group's `consumers` of the owner.
    pub consumer: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Consumer {
    pub name: Vec<u8>,
    pub seen_time: i64,
    /// Redis 7.2's last successful interaction (the seen time for older files).
    pub active_time: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// XINFO's entries-read; -1 when unknown.
    pub entries_read: i64,
    /// Sorted by ID.
    pub pending: Vec<Pending>,
    pub consumers: Vec<Consumer>,
}

/// A whole stream, independent of how the stream type stores it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamValue {
    /// Live entries in ID order.
    pub entries: Vec<StreamEntry>,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: Vec<Group>,
}

/// `stream-node-max-bytes` and `stream-node-max-entries`, which shape the listpacks.
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits { max_bytes: 4096, max_entries: 100 }
    }
}

fn int(e: Option<&Packed<'_>>) -> Result<i64, RdbError> {
    match e {
        Some(Packed::Int(n)) => Ok(*n),
        _ => corrupt("Stream listpack integrity check failed."),
    }
}

/// Decodes one node listpack (streamValidateListpackIntegrity's checks), appending live
/// entries; returns (live, deleted) counts.
fn decode_node(master: StreamId, lp: &[u8], out: &mut Vec<StreamEntry>) -> Result<(u64, u64), RdbError> {
    let items = listpack::decode(lp).ok_or_else(|| RdbError::new("Stream listpack integrity check failed."))?;
    if items.is_empty() {
        return corrupt("Empty listpack inside stream");
    }
    let mut it = items.iter();
    let count = int(it.next())?;
    let deleted = int(it.next())?;
    let master_fields = int(it.next())?;
    if count < 0 || deleted < 0 || master_fields < 0 || master_fields as usize > items.len() {
        return corrupt("Stream listpack integrity check failed.");
    }
    let names: Vec<Packed<'_>> = it.by_ref().take(master_fields as usize).copied().collect();
    if names.len() != master_fields as usize || int(it.next())? != 0 {
        return corrupt("Stream listpack integrity check failed.");
    }
    let bad = || RdbError::new("Stream listpack integrity check failed.");
    let total = count.checked_add(deleted).ok_or_else(bad)?;
    let (mut live, mut dead) = (0u64, 0u64);
    for _ in 0..total {
        let flags = int(it.next())?;
        let ms = master.ms.wrapping_add(int(it.next())? as u64);
        let seq = master.seq.wrapping_add(int(it.next())? as u64);
        let same = flags & 2 != 0;
        let nfields = if same { master_fields } else { int(it.next())? };
        if nfields < 0 || nfields as usize > items.len() {
            return Err(bad());
        }
        let mut fields = Vec::with_capacity(nfields as usize);
        for j in 0..nfields as usize {
            let name = if same { *names.get(j).ok_or_else(bad)? } else { *it.next().ok_or_else(bad)? };
            let value = *it.next().ok_or_else(bad)?;
            fields.push((name.to_vec(), value.to_vec()));
        }
        let extra = if same { 3 } else { 3 + nfields + 1 };
        if int(it.next())? != nfields + extra {
            return Err(bad());
        }
        if flags & 1 != 0 {
            dead += 1;
        } else {
            live += 1;
            out.push(StreamEntry { id: StreamId { ms, seq }, fields });
        }
    }
    if it.next().is_some() || live != count as u64 || dead != deleted as u64 {
        return Err(bad());
    }
    Ok((live, dead))
}

fn read_id(r: &mut RdbReader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId { ms: r.len()?, seq: r.len()? })
}

fn raw_id(r: &mut RdbReader<'_>) -> Result<StreamId, RdbError> {
    StreamId::from_bytes(r.bytes(16)?).ok_or_else(|| RdbError::new("Stream PEL ID loading failed."))
}

/// Redis's streamEstimateDistanceFromFirstEverEntry, for groups in pre-7.0 files.
fn estimate_entries_read(s: &StreamValue, id: StreamId) -> i64 {
    if s.entries_added == 0 {
        return 0;
    }
    let len = s.entries.len() as u64;
    if len == 0 && id <= s.last_id {
        return s.entries_added as i64;
    }
    if id == s.last_id {
        return s.entries_added as i64;
    }
    if id > s.last_id {
        return -1;
    }
    if s.max_deleted_id == StreamId::ZERO || s.max_deleted_id < s.first_id {
        if id < s.first_id {
            return (s.entries_added - len) as i64;
        } else if id == s.first_id {
            return (s.entries_added - len + 1) as i64;
        }
    }
    -1
}

/// Reads a stream of RDB type `kind` (15, 19 or 21), with deep validation.
pub fn read(r: &mut RdbReader<'_>, kind: u8) -> Result<StreamValue, RdbError> {
    let mut s = StreamValue::default();
    let nodes = r.count()?;
    let mut last_master: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.blob()?;
        if key.len() != 16 {
            return corrupt("Stream node key entry is not the size of a stream ID");
        }
        let master = StreamId::from_bytes(&key).ok_or_else(|| RdbError::new("bad stream node key"))?;
        if last_master.is_some_and(|m| m >= master) {
            return corrupt("Listpack re-added with existing key");
        }
        last_master = Some(master);
        let lp = r.blob()?;
        decode_node(master, &lp, &mut s.entries)?;
    }
    if s.entries.windows(2).any(|w| w[0].id >= w[1].id) {
        return corrupt("Stream entries out of order");
    }
    let length = r.len()?;
    if length != s.entries.len() as u64 {
        return corrupt("Stream length inconsistent with rax entries");
    }
    s.last_id = read_id(r)?;
    if kind >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = read_id(r)?;
        s.max_deleted_id = read_id(r)?;
        s.entries_added = r.len()?;
    } else {
        s.entries_added = length;
        s.first_id = s.entries.first().map(|e| e.id).unwrap_or_default();
    }
    if s.entries.last().is_some_and(|e| e.id > s.last_id) {
        return corrupt("Stream last ID smaller than an entry");
    }
    let groups = r.count()?;
    let mut names = HashSet::new();
    for _ in 0..groups {
        let name = r.string()?;
        if !names.insert(name.clone()) {
            return corrupt(format!("Duplicated consumer group name {}", String::from_utf8_lossy(&name)));
        }
        let last_id = read_id(r)?;
        let entries_read =
            if kind >= TYPE_STREAM_LISTPACKS_2 { r.len()? as i64 } else { estimate_entries_read(&s, last_id) };
        let pel_size = r.count()?;
        let mut pending: Vec<Pending> = Vec::with_capacity(pel_size);
        let mut index: HashMap<StreamId, usize> = HashMap::with_capacity(pel_size);
        for _ in 0..pel_size {
            let id = raw_id(r)?;
            let delivery_time = r.millis()?;
            let delivery_count = r.len()?;
            if index.insert(id, pending.len()).is_some() {
                return corrupt("Duplicated global PEL entry loading stream consumer group");
            }
            pending.push(Pending { id, delivery_time, delivery_count, consumer: usize::MAX });
        }
        let nconsumers = r.count()?;
        let mut consumers = Vec::with_capacity(nconsumers);
        let mut cnames = HashSet::new();
        for c in 0..nconsumers {
            let cname = r.string()?;
            if !cnames.insert(cname.clone()) {
                return corrupt("Duplicate stream consumer detected.");
            }
            let seen_time = r.millis()?;
            let active_time = if kind >= TYPE_STREAM_LISTPACKS_3 { r.millis()? } else { seen_time };
            let owned = r.count()?;
            for _ in 0..owned {
                let id = raw_id(r)?;
                let Some(&at) = index.get(&id) else {
                    return corrupt("Consumer entry not found in group global PEL");
                };
                if pending[at].consumer != usize::MAX {
                    return corrupt("Duplicated consumer PEL entry  loading a stream consumer group");
                }
                pending[at].consumer = c;
            }
            consumers.push(Consumer { name: cname, seen_time, active_time });
        }
        if pending.iter().any(|p| p.consumer == usize::MAX) {
            return corrupt("Stream CG PEL entry without consumer");
        }
        pending.sort_by_key(|p| p.id);
        s.groups.push(Group { name, last_id, entries_read, pending, consumers });
    }
    Ok(s)
}

/// One node of a stream being written: its master ID and listpack.
pub struct Node {
    pub master: StreamId,
    pub listpack: Vec<u8>,
}

/// Packs entries into nodes the way XADD fills them: a new node when the current one has
/// `max_entries` entries or would pass `max_bytes`; the first entry's fields are the
/// master fields, and entries with the same fields store only their values.
pub fn build_nodes(entries: &[StreamEntry], limits: NodeLimits) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut current: Option<(StreamId, Vec<Vec<u8>>, listpack::Builder, usize)> = None;
    for e in entries {
        let size: usize = e.fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        if let Some((_, _, lp, n)) = &current {
            let max_bytes = if limits.max_bytes == 0 { 1 << 30 } else { limits.max_bytes };
            let full = lp.bytes() + size >= max_bytes || (limits.max_entries != 0 && *n >= limits.max_entries);
            if full {
                let (master, _, lp, n) = current.take().expect("checked above");
                nodes.push(finish_node(master, lp, n));
            }
        }
        let (master, names, lp, n) = current.get_or_insert_with(|| {
            let mut lp = listpack::Builder::new();
            lp.push_int(0);
            lp.push_int(0);
            lp.push_int(e.fields.len() as i64);
            for (f, _) in &e.fields {
                lp.push(f);
            }
            lp.push_int(0);
            (e.id, e.fields.iter().map(|(f, _)| f.clone()).collect(), lp, 0)
        });
        let same = names.len() == e.fields.len() && names.iter().zip(&e.fields).all(|(a, (b, _))| a == b);
        lp.push_int(if same { 2 } else { 0 });
        lp.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
        if !same {
            lp.push_int(e.fields.len() as i64);
        }
        for (f, v) in &e.fields {
            if !same {
                lp.push(f);
            }
            lp.push(v);
        }
        let nf = e.fields.len() as i64;
        lp.push_int(if same { nf + 3 } else { 2 * nf + 4 });
        *n += 1;
    }
    if let Some((master, _, lp, n)) = current {
        nodes.push(finish_node(master, lp, n));
    }
    nodes
}

/// Sets the master entry's live count (the first element) now that the node is complete.
fn finish_node(master: StreamId, lp: listpack::Builder, count: usize) -> Node {
    let bytes = lp.finish();
    // Rebuild with the right count: the count is the listpack's first element, whose
    // encoding size depends on its value, so it is re-encoded rather than patched.
    let items = listpack::decode(&bytes).unwrap_or_default();
    let mut fixed = listpack::Builder::new();
    fixed.push_int(count as i64);
    for e in items.iter().skip(1) {
        fixed.push_packed(*e);
    }
    Node { master, listpack: fixed.finish() }
}

/// Writes a stream payload in the RDB_TYPE_STREAM_LISTPACKS_2 layout (what 7.0 writes)
/// from nodes already in listpack form.
pub fn write_nodes<W: Write>(w: &mut RdbWriter<W>, s: &StreamValue, nodes: &[Node]) -> io::Result<()> {
    w.len(nodes.len() as u64)?;
    for n in nodes {
        w.string(&n.master.to_bytes())?;
        w.string(&n.listpack)?;
    }
    w.len(s.entries.len() as u64)?;
    for id in [s.last_id, s.first_id, s.max_deleted_id] {
        w.len(id.ms)?;
        w.len(id.seq)?;
    }
    w.len(s.entries_added)?;
    w.len(s.groups.len() as u64)?;
    for g in &s.groups {
        w.string(&g.name)?;
        w.len(g.last_id.ms)?;
        w.len(g.last_id.seq)?;
        w.len(g.entries_read as u64)?;
        w.len(g.pending.len() as u64)?;
        for p in &g.pending {
            w.raw(&p.id.to_bytes())?;
            w.millis(p.delivery_time)?;
            w.len(p.delivery_count)?;
        }
        w.len(g.consumers.len() as u64)?;
        for (i, c) in g.consumers.iter().enumerate() {
            w.string(&c.name)?;
            w.millis(c.seen_time)?;
            let owned: Vec<&Pending> = g.pending.iter().filter(|p| p.consumer == i).collect();
            w.len(owned.len() as u64)?;
            for p in owned {
                w.raw(&p.id.to_bytes())?;
            }
        }
    }
    Ok(())
}

/// Writes a stream payload (type 19), packing its entries into nodes.
pub fn write<W: Write>(w: &mut RdbWriter<W>, s: &StreamValue, limits: NodeLimits) -> io::Result<()> {
    write_nodes(w, s, &build_nodes(&s.entries, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StreamValue {
        let mut entries = Vec::new();
        for i in 0..250u64 {
            let fields = if i % 7 == 0 {
                vec![(b"other".to_vec(), i.to_string().into_bytes())]
            } else {
                vec![(b"a".to_vec(), i.to_string().into_bytes()), (b"b".to_vec(), b"x".repeat(i as usize % 50))]
            };
            entries.push(StreamEntry { id: StreamId { ms: 1000 + i / 3, seq: i % 3 }, fields });
        }
        let last_id = entries.last().unwrap().id;
        StreamValue {
            first_id: entries[0].id,
            entries,
            last_id,
            max_deleted_id: StreamId::ZERO,
            entries_added: 250,
            groups: vec![Group {
                name: b"g".to_vec(),
                last_id: StreamId { ms: 1010, seq: 0 },
                entries_read: 31,
                pending: vec![
                    Pending { id: StreamId { ms: 1000, seq: 1 }, delivery_time: 77, delivery_count: 2, consumer: 1 },
                    Pending { id: StreamId { ms: 1001, seq: 0 }, delivery_time: 78, delivery_count: 1, consumer: 0 },
                ],
                consumers: vec![
                    Consumer { name: b"alice".to_vec(), seen_time: 5, active_time: 5 },
                    Consumer { name: b"bob".to_vec(), seen_time: 6, active_time: 6 },
                ],
            }],
        }
    }

    #[test]
    fn round_trips_through_nodes() {
        let s = sample();
        let mut w = RdbWriter::new(Vec::new(), true);
        write(&mut w, &s, NodeLimits::default()).unwrap();
        let bytes = w.into_inner();
        let mut r = RdbReader::new(&bytes);
        let back = read(&mut r, TYPE_STREAM_LISTPACKS_2).unwrap();
        assert!(r.is_empty());
        assert_eq!(back, s);
        let nodes = build_nodes(&s.entries, NodeLimits::default());
        assert_eq!(nodes.len(), 3);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x21;
            let _ = read(&mut RdbReader::new(&bad), TYPE_STREAM_LISTPACKS_2);
            let _ = read(&mut RdbReader::new(&bytes[..i]), TYPE_STREAM_LISTPACKS_2);
        }
    }
}
