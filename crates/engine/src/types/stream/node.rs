//! One node of a stream: a listpack in Redis's exact stream layout, keyed in the stream's
//! index by its master ID.
//!
//! ```text
//! master entry: count | deleted | num-fields | field_1 … field_N | 0
//! each entry:   flags | ms-diff | seq-diff | [num-fields | field_1 | value_1 …] | lp-count
//!               (SAMEFIELDS flag: only the values, the fields are the master's)
//! ```
//!
//! IDs are stored as differences from the master ID (the node key), so consecutive IDs
//! take a byte or two. `lp-count` is the number of listpack elements of the entry before
//! it, which lets a reader walk the node backwards. Deleted entries stay in place with the
//! DELETED flag (tombstones) until their whole node goes; the master's counters say how
//! many entries are live and deleted.
//!
//! Keeping Redis's bytes gives the same memory profile and node boundaries (node size limits
//! count these bytes), and lets RDB/DUMP move nodes as they are.

use super::id::StreamId;
use crate::types::quicklist::listpack::{self as lp, Elem, Encoded};

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// The element count stored in a listpack header that means "count them".
const COUNT_UNKNOWN: usize = u16::MAX as usize;

/// Redis's lpGetIntegerIfValid: an integer element, or a string holding one.
pub fn int_at(node: &[u8], p: usize) -> Option<i64> {
    match lp::get(node, p) {
        Elem::Int(v) => Some(v),
        Elem::Str(s) => crate::util::num::parse_i64(s),
    }
}

/// An integer element of a node we built or validated.
fn int(node: &[u8], p: usize) -> i64 {
    int_at(node, p).unwrap_or(0)
}

/// The offset of the element after the one at `p` (which must not be the EOF byte).
pub fn adv(node: &[u8], p: usize) -> usize {
    p + lp::entry_size(node, p)
}

/// The header's element count, or None when it says "unknown".
fn header_count(node: &[u8]) -> usize {
    u16::from_le_bytes([node[4], node[5]]) as usize
}

/// Rewrites the header after `added` elements were appended (an unknown count stays
/// unknown, as Redis's lpInsert leaves it).
fn bump_count(node: &mut [u8], added: usize) {
    let n = header_count(node);
    let count = if n == COUNT_UNKNOWN { COUNT_UNKNOWN } else { n + added };
    lp::set_header(node, count);
}

/// The element count to pass to listpack functions (they only store it).
fn elem_count(node: &[u8]) -> usize {
    header_count(node)
}

/// The master entry of a node.
#[derive(Clone, Copy, Debug)]
pub struct Master {
    /// Live entries.
    pub count: i64,
    /// Entries flagged deleted.
    pub deleted: i64,
    pub nfields: usize,
    /// Offset of the first master field.
    pub fields_start: usize,
    /// Offset of the master's zero terminator (the element before the first entry).
    pub terminator: usize,
}

pub fn master(node: &[u8]) -> Master {
    let p_count = lp::HDR;
    let p_deleted = adv(node, p_count);
    let p_nfields = adv(node, p_deleted);
    let nfields = int(node, p_nfields).max(0) as usize;
    let fields_start = adv(node, p_nfields);
    let mut p = fields_start;
    for _ in 0..nfields {
        p = adv(node, p);
    }
    Master { count: int(node, p_count), deleted: int(node, p_deleted), nfields, fields_start, terminator: p }
}

/// A new node whose master fields are the fields of `pairs` (field, value, field, value…),
/// with no entries yet. `capacity` is the allocation to start with.
pub fn create(pairs: &[&[u8]], capacity: usize) -> Vec<u8> {
    let mut node = Vec::with_capacity(capacity.max(lp::HDR + 16));
    node.extend_from_slice(&[0; lp::HDR]);
    Encoded::int(0).write_to(&mut node);
    Encoded::int(0).write_to(&mut node);
    Encoded::int((pairs.len() / 2) as i64).write_to(&mut node);
    for field in pairs.iter().step_by(2) {
        Encoded::new(field).write_to(&mut node);
    }
    Encoded::int(0).write_to(&mut node);
    node.push(lp::EOF);
    lp::set_header(&mut node, 4 + pairs.len() / 2);
    node
}

/// Whether the entry's fields are exactly the master's, in order.
fn same_fields(node: &[u8], m: &Master, pairs: &[&[u8]]) -> bool {
    if pairs.len() / 2 != m.nfields {
        return false;
    }
    let mut p = m.fields_start;
    let mut buf = itoa::Buffer::new();
    for field in pairs.iter().step_by(2) {
        if lp::get(node, p).bytes(&mut buf) != *field {
            return false;
        }
        p = adv(node, p);
    }
    true
}

/// Sets the master's live and deleted counters.
pub fn set_counts(node: &mut Vec<u8>, count: i64, deleted: i64) {
    let n = elem_count(node);
    lp::replace_int(node, lp::HDR, count, n);
    let p_deleted = adv(node, lp::HDR);
    lp::replace_int(node, p_deleted, deleted, n);
}

/// Appends an entry (the node part of Redis's streamAppendItem). The caller checked the
/// node limits and that `id` is above every ID in the node.
pub fn append(node: &mut Vec<u8>, master_id: StreamId, id: StreamId, pairs: &[&[u8]]) {
    let m = master(node);
    let same = same_fields(node, &m, pairs);
    let n = elem_count(node);
    lp::replace_int(node, lp::HDR, m.count + 1, n);
    let nfields = pairs.len() / 2;
    let flags = if same { FLAG_SAMEFIELDS } else { 0 };
    let mut elems = 4 + nfields;
    if !same {
        elems += nfields + 1;
    }
    // Room for the whole entry at once, growing geometrically: appends stay amortized O(1)
    // and the node is shrunk to its exact size once it is full.
    let data: usize = pairs.iter().map(|p| p.len() + 11).sum();
    node.reserve(data + 40);
    node.pop(); // EOF
    Encoded::int(flags).write_to(node);
    Encoded::int(id.ms.wrapping_sub(master_id.ms) as i64).write_to(node);
    Encoded::int(id.seq.wrapping_sub(master_id.seq) as i64).write_to(node);
    if !same {
        Encoded::int(nfields as i64).write_to(node);
    }
    for pair in pairs.chunks(2) {
        if !same {
            Encoded::new(pair[0]).write_to(node);
        }
        Encoded::new(pair[1]).write_to(node);
    }
    Encoded::int((elems - 1) as i64).write_to(node);
    node.push(lp::EOF);
    bump_count(node, elems);
}

/// Where an entry sits in its node.
#[derive(Clone, Copy, Debug)]
pub struct EntryPos {
    /// Offset of the flags element.
    pub at: usize,
    pub flags: i64,
    pub id: StreamId,
    pub nfields: usize,
    /// Offset of the first field (or first value, with SAMEFIELDS).
    pub data: usize,
    /// Offset of the lp-count element ending the entry.
    pub end: usize,
}

impl EntryPos {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    pub fn same_fields(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }
}

/// Reads the entry whose flags are at `p`.
pub fn entry_at(node: &[u8], m: &Master, master_id: StreamId, p: usize) -> EntryPos {
    let flags = int(node, p);
    let q = adv(node, p);
    let ms = master_id.ms.wrapping_add(int(node, q) as u64);
    let q = adv(node, q);
    let seq = master_id.seq.wrapping_add(int(node, q) as u64);
    let mut q = adv(node, q);
    let same = flags & FLAG_SAMEFIELDS != 0;
    let nfields = if same {
        m.nfields
    } else {
        let n = int(node, q).max(0) as usize;
        q = adv(node, q);
        n
    };
    let data = q;
    let skip = if same { nfields } else { nfields * 2 };
    for _ in 0..skip {
        q = adv(node, q);
    }
    EntryPos { at: p, flags, id: StreamId { ms, seq }, nfields, data, end: q }
}

/// The first entry's flags offset, if the node has entries (tombstones included).
pub fn first_entry(node: &[u8], m: &Master) -> Option<usize> {
    let p = adv(node, m.terminator);
    (node[p] != lp::EOF).then_some(p)
}

/// The entry after `e`, if any.
pub fn next_entry(node: &[u8], e: &EntryPos) -> Option<usize> {
    let p = adv(node, e.end);
    (node[p] != lp::EOF).then_some(p)
}

/// The flags offset of the entry whose lp-count element is at `count_at`, or None if that
/// element is the master's terminator.
fn entry_before(node: &[u8], count_at: usize) -> Option<usize> {
    let back = int(node, count_at);
    if back <= 0 {
        return None;
    }
    let mut p = count_at;
    for _ in 0..back {
        p = lp::prev(node, p)?;
    }
    Some(p)
}

/// The last entry's flags offset, if the node has entries (tombstones included).
pub fn last_entry(node: &[u8]) -> Option<usize> {
    entry_before(node, lp::last(node)?)
}

/// The entry before `e`, if any.
pub fn prev_entry(node: &[u8], e: &EntryPos) -> Option<usize> {
    entry_before(node, lp::prev(node, e.at)?)
}

/// Flags an entry deleted in place (the flags element keeps its one-byte encoding).
pub fn mark_deleted(node: &mut Vec<u8>, e: &EntryPos) {
    let n = elem_count(node);
    lp::replace_int(node, e.at, e.flags | FLAG_DELETED, n);
}

/// An entry's field-value pairs.
pub struct Pairs<'a> {
    node: &'a [u8],
    field: usize,
    value: usize,
    same: bool,
    left: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (Elem<'a>, Elem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let f = lp::get(self.node, self.field);
        if self.same {
            let v = lp::get(self.node, self.value);
            self.field = adv(self.node, self.field);
            self.value = adv(self.node, self.value);
            Some((f, v))
        } else {
            let vp = adv(self.node, self.field);
            let v = lp::get(self.node, vp);
            self.field = adv(self.node, vp);
            Some((f, v))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

pub fn pairs<'a>(node: &'a [u8], m: &Master, e: &EntryPos) -> Pairs<'a> {
    if e.same_fields() {
        Pairs { node, field: m.fields_start, value: e.data, same: true, left: e.nfields }
    } else {
        Pairs { node, field: e.data, value: 0, same: false, left: e.nfields }
    }
}

/// Redis's streamValidateListpackIntegrity (deep): the listpack itself, then the stream
/// layout of every entry. A node that passes can be walked without going out of bounds.
pub fn validate(node: &[u8]) -> bool {
    let Some(elems) = lp::validate(node) else { return false };
    // Collect element offsets once; every check below indexes into them.
    let mut offs = Vec::with_capacity(elems);
    let mut p = lp::HDR;
    while node[p] != lp::EOF {
        offs.push(p);
        p = adv(node, p);
    }
    let mut i = 0;
    let next_int = |i: &mut usize| -> Option<i64> {
        let v = int_at(node, *offs.get(*i)?)?;
        *i += 1;
        Some(v)
    };
    let Some(count) = next_int(&mut i) else { return false };
    let Some(deleted) = next_int(&mut i) else { return false };
    let Some(master_fields) = next_int(&mut i) else { return false };
    if master_fields < 0 || count < 0 || deleted < 0 {
        return false;
    }
    i = match i.checked_add(master_fields as usize) {
        Some(v) => v,
        None => return false,
    };
    if next_int(&mut i) != Some(0) {
        return false;
    }
    let Some(mut entries) = count.checked_add(deleted) else { return false };
    while entries > 0 {
        entries -= 1;
        let Some(flags) = next_int(&mut i) else { return false };
        if next_int(&mut i).is_none() || next_int(&mut i).is_none() {
            return false;
        }
        let mut fields = master_fields;
        let mut extra = 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            let Some(n) = next_int(&mut i) else { return false };
            if n < 0 {
                return false;
            }
            fields = n;
            i = match i.checked_add(n as usize) {
                Some(v) => v,
                None => return false,
            };
            extra = match fields.checked_add(4) {
                Some(v) => v,
                None => return false,
            };
        }
        i = match i.checked_add(fields as usize) {
            Some(v) => v,
            None => return false,
        };
        if fields.checked_add(extra).is_none() || next_int(&mut i) != Some(fields + extra) {
            return false;
        }
    }
    i == offs.len()
}

/// The first or last entry ID of a node, tombstones included (Redis's lpGetEdgeStreamID).
pub fn edge_id(node: &[u8], master_id: StreamId, first: bool) -> Option<StreamId> {
    let m = master(node);
    let p = if first { first_entry(node, &m)? } else { last_entry(node)? };
    Some(entry_at(node, &m, master_id, p).id)
}
