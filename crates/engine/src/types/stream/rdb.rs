//! Streams in RDB files and DUMP payloads, as Redis 7.0 writes them (RDB_TYPE_STREAM_LISTPACKS_2)
//! and as Redis 5-7.4 wrote them (types 15, 19 and 21) when reading.
//!
//! ```text
//! nodes: len, then per node: string(16-byte big-endian master ID), string(listpack)
//! len(length) len(last ms) len(last seq)
//! [v2+: len(first ms) len(first seq) len(max-deleted ms) len(max-deleted seq) len(entries-added)]
//! groups: len, then per group: string(name) len(last ms) len(last seq) [v2+: len(entries-read)]
//!   PEL: len, per entry: raw 16-byte ID, millis(delivery time), len(delivery count)
//!   consumers: len, per consumer: string(name) millis(seen time) [v3: millis(active time)]
//!     PEL: len, per entry: raw 16-byte ID (resolved against the group PEL)
//! ```
//!
//! Nodes are copied as they are (our nodes are Redis's bytes) after the same deep
//! validation Redis applies to untrusted payloads.

use std::io::{self, Write};

use super::id::StreamId;
use super::{node, Stream};
use crate::persist::rdb::read::RdbReader;
use crate::persist::rdb::write::RdbWriter;
use crate::persist::rdb::{corrupt, RdbError, TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3};

/// The type byte we write.
pub const TYPE: u8 = TYPE_STREAM_LISTPACKS_2;

/// Whether `kind` is a stream type we read.
pub fn is_stream_type(kind: u8) -> bool {
    matches!(kind, TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3)
}

/// Writes the payload that follows the type byte [`TYPE`].
pub fn write<W: Write>(w: &mut RdbWriter<W>, s: &Stream) -> io::Result<()> {
    w.len(s.node_count() as u64)?;
    for (key, data) in s.nodes() {
        w.string(&key.to_be_bytes())?;
        w.string(data)?;
    }
    w.len(s.len())?;
    write_id(w, s.last_id)?;
    write_id(w, s.first_id)?;
    write_id(w, s.max_deleted_entry_id)?;
    w.len(s.entries_added)?;
    w.len(s.group_count() as u64)?;
    for (name, g) in s.groups() {
        w.string(name)?;
        write_id(w, g.last_id)?;
        // A long long saved as an unsigned length: -1 (unknown) wraps as in Redis.
        w.len(g.entries_read as u64)?;
        w.len(g.pel.len() as u64)?;
        for (id, nack) in &g.pel {
            w.raw(&id.to_be_bytes())?;
            w.millis(nack.delivery_time)?;
            w.len(nack.delivery_count)?;
        }
        w.len(g.consumer_count() as u64)?;
        for c in g.consumers() {
            w.string(&c.name)?;
            w.millis(c.seen_time)?;
            w.len(c.pel.len() as u64)?;
            for id in &c.pel {
                w.raw(&id.to_be_bytes())?;
            }
        }
    }
    Ok(())
}

fn write_id<W: Write>(w: &mut RdbWriter<W>, id: StreamId) -> io::Result<()> {
    w.len(id.ms)?;
    w.len(id.seq)
}

fn read_id(r: &mut RdbReader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId::new(r.len()?, r.len()?))
}

fn read_raw_id(r: &mut RdbReader<'_>) -> Result<StreamId, RdbError> {
    let mut b = [0u8; 16];
    b.copy_from_slice(r.bytes(16)?);
    Ok(StreamId::from_be_bytes(&b))
}

/// Reads a stream payload of RDB type `kind` (15, 19 or 21).
pub fn read(r: &mut RdbReader<'_>, kind: u8) -> Result<Stream, RdbError> {
    let mut s = Stream::new();
    let nodes = r.count()?;
    for _ in 0..nodes {
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) else {
            return corrupt("Stream node key entry is not the size of a stream ID");
        };
        let data = r.string()?;
        if !node::validate(&data) {
            return corrupt("Stream listpack integrity check failed.");
        }
        if data.len() <= crate::types::quicklist::listpack::HDR + 1 {
            return corrupt("Empty listpack inside stream");
        }
        if !s.insert_node(StreamId::from_be_bytes(&key), data) {
            return corrupt("Listpack re-added with existing key");
        }
    }
    s.set_len(r.len()?);
    s.last_id = read_id(r)?;
    if kind == TYPE_STREAM_LISTPACKS {
        // Before 7.0: no counters. Redis starts them from what the stream holds.
        s.max_deleted_entry_id = StreamId::MIN;
        s.entries_added = s.len();
        s.first_id = s.edge_id(true, true);
    } else {
        s.first_id = read_id(r)?;
        s.max_deleted_entry_id = read_id(r)?;
        s.entries_added = r.len()?;
    }
    if s.len() > 0 && s.node_count() == 0 {
        return corrupt("Stream length inconsistent with rax entries");
    }
    let groups = r.count()?;
    for _ in 0..groups {
        let name = r.string()?;
        let last_id = read_id(r)?;
        let entries_read = if kind == TYPE_STREAM_LISTPACKS { s.estimate_distance(last_id) } else { r.len()? as i64 };
        if !s.create_group(&name, last_id, entries_read) {
            return corrupt(format!("Duplicated consumer group name {}", String::from_utf8_lossy(&name)));
        }
        read_group_body(r, &mut s, &name, kind)?;
    }
    Ok(s)
}

/// A group's PEL and consumers.
fn read_group_body(r: &mut RdbReader<'_>, s: &mut Stream, name: &[u8], kind: u8) -> Result<(), RdbError> {
    let Some(g) = s.group_mut(name) else { return corrupt("consumer group vanished while loading") };
    let pel = r.count()?;
    for _ in 0..pel {
        let id = read_raw_id(r)?;
        let time = r.millis()?;
        let count = r.len()?;
        if !g.insert_loaded_nack(id, time, count) {
            return corrupt("Duplicated global PEL entry loading stream consumer group");
        }
    }
    let consumers = r.count()?;
    for _ in 0..consumers {
        let cname = r.string()?;
        let Some(slot) = g.create_consumer(&cname, 0) else {
            return corrupt("Duplicate stream consumer detected.");
        };
        g.set_seen_time(slot, r.millis()?);
        if kind == TYPE_STREAM_LISTPACKS_3 {
            // 7.2's active time; 7.0 has no such field.
            r.millis()?;
        }
        let owned = r.count()?;
        for _ in 0..owned {
            let id = read_raw_id(r)?;
            if !g.attach_loaded(id, slot) {
                return corrupt("Consumer entry not found in group global PEL, or duplicated");
            }
        }
    }
    if !g.all_owned() {
        return corrupt("Stream CG PEL entry without consumer");
    }
    Ok(())
}
