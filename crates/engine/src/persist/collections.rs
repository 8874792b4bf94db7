//! Writing collection payloads in the encodings redis-server 7.0 writes: QUICKLIST_2 lists,
//! intset or plain sets, listpack or plain hashes and sorted sets, STREAM_LISTPACKS_2.
//!
//! These functions take elements, not a particular in-memory representation: each value
//! type hands its elements over (see `objects.rs`), and types that already hold Redis-format
//! listpacks can pass them through [`ListNode`] unchanged. The type byte is written by the
//! caller (it precedes the key in a file); [`rdb_type`]-style helpers say which it is.

use std::io::{self, Write};

use super::encoding::{intset, listpack, score_text};
use super::rdb::write::RdbWriter;
use super::rdb::*;
use super::stream::{NodeLimits, StreamValue};
use super::value::Loaded;

/// The configuration that decides encodings (Redis's *-max-* settings).
#[derive(Clone, Copy, Debug)]
pub struct EncodingLimits {
    pub list_fill: i64,
    pub hash_entries: usize,
    pub hash_value: usize,
    pub set_intset_entries: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
    pub stream: NodeLimits,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            list_fill: -2,
            hash_entries: 512,
            hash_value: 64,
            set_intset_entries: 512,
            zset_entries: 128,
            zset_value: 64,
            stream: NodeLimits::default(),
        }
    }
}

impl EncodingLimits {
    pub fn from_config(c: &crate::config::Config) -> EncodingLimits {
        let size = |name: &str| c.int(name).max(0) as usize;
        EncodingLimits {
            list_fill: c.int("list-max-listpack-size"),
            hash_entries: size("hash-max-listpack-entries"),
            hash_value: size("hash-max-listpack-value"),
            set_intset_entries: size("set-max-intset-entries"),
            zset_entries: size("zset-max-listpack-entries"),
            zset_value: size("zset-max-listpack-value"),
            stream: NodeLimits {
                max_bytes: size("stream-node-max-bytes"),
                max_entries: size("stream-node-max-entries"),
            },
        }
    }
}

/// One quicklist node as written to the file.
#[derive(Clone, Copy, Debug)]
pub enum ListNode<'a> {
    /// A listpack of elements.
    Packed(&'a [u8]),
    /// A listpack kept LZF-compressed in memory (written as is, with its plain size).
    Compressed { lzf: &'a [u8], plain_len: usize },
    /// A single large element stored on its own.
    Plain(&'a [u8]),
}

/// A QUICKLIST_2 payload: node count, then (container, blob) per node.
pub fn write_quicklist<'a, W: Write>(
    w: &mut RdbWriter<W>,
    nodes: impl ExactSizeIterator<Item = ListNode<'a>>,
) -> io::Result<()> {
    w.len(nodes.len() as u64)?;
    for node in nodes {
        match node {
            ListNode::Plain(b) => {
                w.len(1)?;
                w.string(b)?;
            }
            ListNode::Packed(lp) => {
                w.len(2)?;
                w.string(lp)?;
            }
            ListNode::Compressed { lzf, plain_len } => {
                w.len(2)?;
                w.lzf_blob(lzf, plain_len)?;
            }
        }
    }
    Ok(())
}

/// Redis's SIZE_SAFETY_LIMIT: a count-limited node never grows past 8 KiB.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Elements at least this big get a plain node (Redis's default packed threshold, 1 GiB).
const PACKED_THRESHOLD: usize = 1 << 30;

/// Packs list elements into quicklist nodes as `list-max-listpack-size` shapes them
/// (negative: a byte budget of 4 KiB·2^(-fill-1); positive: an element count).
pub fn pack_list<'a>(elements: impl IntoIterator<Item = &'a [u8]>, fill: i64) -> Vec<(bool, Vec<u8>)> {
    let byte_limit = match fill {
        f if f < 0 => 4096usize << ((-f - 1).min(4) as usize),
        _ => SIZE_SAFETY_LIMIT,
    };
    let count_limit = if fill > 0 { fill as usize } else { usize::MAX };
    let mut nodes = Vec::new();
    let mut current = listpack::Builder::new();
    for e in elements {
        if e.len() >= PACKED_THRESHOLD {
            if !current.is_empty() {
                nodes.push((false, std::mem::take(&mut current).finish()));
            }
            nodes.push((true, e.to_vec()));
            continue;
        }
        let grows = e.len() + 11;
        if !current.is_empty() && (current.len() >= count_limit || current.bytes() + grows > byte_limit) {
            nodes.push((false, std::mem::take(&mut current).finish()));
        }
        current.push(e);
    }
    if !current.is_empty() {
        nodes.push((false, current.finish()));
    }
    nodes
}

/// An intset payload (RDB_TYPE_SET_INTSET) of ascending integers.
pub fn write_intset<W: Write>(w: &mut RdbWriter<W>, sorted: &[i64]) -> io::Result<()> {
    w.string(&intset::encode(sorted))
}

/// A count followed by strings (RDB_TYPE_SET, RDB_TYPE_LIST).
pub fn write_strings<'a, W: Write>(
    w: &mut RdbWriter<W>,
    len: usize,
    items: impl IntoIterator<Item = &'a [u8]>,
) -> io::Result<()> {
    w.len(len as u64)?;
    for i in items {
        w.string(i)?;
    }
    Ok(())
}

/// A listpack of field/value pairs (RDB_TYPE_HASH_LISTPACK).
pub fn write_hash_listpack<'a, W: Write>(
    w: &mut RdbWriter<W>,
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> io::Result<()> {
    let mut lp = listpack::Builder::new();
    for (f, v) in pairs {
        lp.push(f);
        lp.push(v);
    }
    w.string(&lp.finish())
}

/// A count and field/value pairs (RDB_TYPE_HASH).
pub fn write_hash<'a, W: Write>(
    w: &mut RdbWriter<W>,
    len: usize,
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> io::Result<()> {
    w.len(len as u64)?;
    for (f, v) in pairs {
        w.string(f)?;
        w.string(v)?;
    }
    Ok(())
}

/// A listpack of member/score pairs in rank order (RDB_TYPE_ZSET_LISTPACK).
pub fn write_zset_listpack<'a, W: Write>(
    w: &mut RdbWriter<W>,
    ranked: impl IntoIterator<Item = (&'a [u8], f64)>,
) -> io::Result<()> {
    let mut lp = listpack::Builder::new();
    for (m, s) in ranked {
        lp.push(m);
        lp.push(&score_text(s));
    }
    w.string(&lp.finish())
}

/// A count and member/binary-score pairs, highest rank first as Redis writes them so the
/// loader inserts at the head (RDB_TYPE_ZSET_2).
pub fn write_zset<'a, W: Write>(
    w: &mut RdbWriter<W>,
    len: usize,
    ranked_descending: impl IntoIterator<Item = (&'a [u8], f64)>,
) -> io::Result<()> {
    w.len(len as u64)?;
    for (m, s) in ranked_descending {
        w.string(m)?;
        w.binary_double(s)?;
    }
    Ok(())
}

/// Sorts zset members by (score, member), Redis's order.
pub fn rank_order(items: &mut [(Vec<u8>, f64)]) {
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
}

/// Writes a neutral value in the encoding Redis would hold it in under `limits`; returns
/// the RDB type byte to put before the key. (Used where no typed object exists: tests,
/// and values converted through [`Loaded`].)
pub fn write_loaded<W: Write>(w: &mut RdbWriter<W>, v: &Loaded, limits: &EncodingLimits) -> io::Result<u8> {
    match v {
        Loaded::Str(s) => {
            w.string(s)?;
            Ok(TYPE_STRING)
        }
        Loaded::List(items) => {
            let nodes = pack_list(items.iter().map(Vec::as_slice), limits.list_fill);
            let nodes = nodes.iter().map(|(plain, b)| if *plain { ListNode::Plain(b) } else { ListNode::Packed(b) });
            write_quicklist(w, nodes)?;
            Ok(TYPE_LIST_QUICKLIST_2)
        }
        Loaded::Set(items) => {
            let ints: Option<Vec<i64>> = items.iter().map(|m| spinel_resp::parse_i64(m)).collect();
            match ints {
                Some(mut ints) if items.len() <= limits.set_intset_entries => {
                    ints.sort_unstable();
                    write_intset(w, &ints)?;
                    Ok(TYPE_SET_INTSET)
                }
                _ => {
                    write_strings(w, items.len(), items.iter().map(Vec::as_slice))?;
                    Ok(TYPE_SET)
                }
            }
        }
        Loaded::Hash(pairs) => {
            let small = pairs.len() <= limits.hash_entries
                && pairs.iter().all(|(f, v)| f.len() <= limits.hash_value && v.len() <= limits.hash_value);
            let it = pairs.iter().map(|(f, v)| (f.as_slice(), v.as_slice()));
            if small {
                write_hash_listpack(w, it)?;
                Ok(TYPE_HASH_LISTPACK)
            } else {
                write_hash(w, pairs.len(), it)?;
                Ok(TYPE_HASH)
            }
        }
        Loaded::ZSet(items) => {
            let mut ranked = items.clone();
            rank_order(&mut ranked);
            let small = ranked.len() <= limits.zset_entries && ranked.iter().all(|(m, _)| m.len() <= limits.zset_value);
            if small {
                write_zset_listpack(w, ranked.iter().map(|(m, s)| (m.as_slice(), *s)))?;
                Ok(TYPE_ZSET_LISTPACK)
            } else {
                write_zset(w, ranked.len(), ranked.iter().rev().map(|(m, s)| (m.as_slice(), *s)))?;
                Ok(TYPE_ZSET_2)
            }
        }
        Loaded::Stream(s) => {
            write_stream(w, s, limits.stream)?;
            Ok(TYPE_STREAM_LISTPACKS_2)
        }
    }
}

/// A stream payload (RDB_TYPE_STREAM_LISTPACKS_2).
pub fn write_stream<W: Write>(w: &mut RdbWriter<W>, s: &StreamValue, limits: NodeLimits) -> io::Result<()> {
    super::stream::write(w, s, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::rdb::read::RdbReader;
    use crate::persist::value::{read, ReadContext};

    fn round_trip(v: &Loaded, limits: &EncodingLimits) -> (u8, Loaded) {
        let mut w = RdbWriter::new(Vec::new(), true);
        let kind = write_loaded(&mut w, v, limits).unwrap();
        let bytes = w.into_inner();
        let mut r = RdbReader::new(&bytes);
        let back = read(&mut r, kind, ReadContext { now_ms: 0 }).unwrap();
        assert!(r.is_empty());
        (kind, back)
    }

    #[test]
    fn every_type_round_trips_in_both_encodings() {
        let limits = EncodingLimits::default();
        let s = |x: &str| x.as_bytes().to_vec();
        let big: Vec<Vec<u8>> = (0..2000).map(|i| format!("element-{i}").into_bytes()).collect();
        let cases = vec![
            (Loaded::List(vec![s("a"), s("1"), s("-70000"), vec![b'z'; 9000]]), TYPE_LIST_QUICKLIST_2),
            (Loaded::List(big.clone()), TYPE_LIST_QUICKLIST_2),
            (Loaded::Set(vec![s("3"), s("-1"), s("2")]), TYPE_SET_INTSET),
            (Loaded::Set(vec![s("x"), s("1")]), TYPE_SET),
            (Loaded::Hash(vec![(s("f"), s("v")), (s("n"), s("12"))]), TYPE_HASH_LISTPACK),
            (Loaded::Hash(big.iter().map(|e| (e.clone(), e.clone())).collect()), TYPE_HASH),
            (Loaded::ZSet(vec![(s("a"), 1.0), (s("b"), 0.5), (s("c"), f64::NEG_INFINITY)]), TYPE_ZSET_LISTPACK),
            (Loaded::ZSet(big.iter().enumerate().map(|(i, e)| (e.clone(), i as f64 / 3.0)).collect()), TYPE_ZSET_2),
        ];
        for (v, expected_kind) in cases {
            let (kind, back) = round_trip(&v, &limits);
            assert_eq!(kind, expected_kind);
            match (&v, &back) {
                (Loaded::Set(a), Loaded::Set(b)) => {
                    let (mut a, mut b) = (a.clone(), b.clone());
                    a.sort();
                    b.sort();
                    assert_eq!(a, b);
                }
                (Loaded::ZSet(a), Loaded::ZSet(b)) => {
                    let (mut a, mut b) = (a.clone(), b.clone());
                    rank_order(&mut a);
                    rank_order(&mut b);
                    assert_eq!(a, b);
                }
                _ => assert_eq!(v, back),
            }
        }
    }

    #[test]
    fn list_nodes_respect_fill() {
        let items: Vec<Vec<u8>> = (0..100).map(|i| format!("{i:05}").into_bytes()).collect();
        let nodes = pack_list(items.iter().map(Vec::as_slice), 10);
        assert_eq!(nodes.len(), 10);
        let nodes = pack_list(items.iter().map(Vec::as_slice), -1);
        assert!(nodes.iter().all(|(_, lp)| lp.len() <= 4096));
    }
}
