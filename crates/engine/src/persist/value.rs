//! One value of an RDB file or DUMP payload, read into a neutral form ([`Loaded`]) that does
//! not depend on how the value types store their data, and validated as Redis's deep
//! sanitization does (every encoding fully parsed, duplicates and NaN scores refused).
//!
//! Every encoding Redis has written since 2.4 is read here: plain lists/sets/hashes/zsets,
//! zipmap, ziplist, intset, listpack, quicklist (ziplist and listpack nodes), streams, and
//! 7.4's hashes with field TTLs.

use std::collections::HashSet;

use super::encoding::{intset, listpack, ziplist, zipmap, Packed};
use super::rdb::read::{module_name, RdbReader};
use super::rdb::*;
use crate::types::stream::{self, Stream};

/// Which kind of encoding a hash or sorted set was read from: Redis's loader keeps a packed
/// one (ziplist, listpack) packed unless it has too many entries, and packs a plain one only
/// if it fits every threshold (see `objects.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Plain,
    Packed,
}

/// A value in neutral form. Streams are read straight into the stream type, whose nodes are
/// Redis's own listpacks (`types/stream/rdb.rs`).
#[derive(Debug, Clone)]
pub enum Loaded {
    Str(Vec<u8>),
    /// Elements head to tail.
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>, Source),
    /// Members with scores, in no particular order.
    ZSet(Vec<(Vec<u8>, f64)>, Source),
    Stream(Box<Stream>),
}

/// Equal contents (the source encoding does not count; streams compare as saved).
impl PartialEq for Loaded {
    fn eq(&self, other: &Loaded) -> bool {
        match (self, other) {
            (Loaded::Str(a), Loaded::Str(b)) => a == b,
            (Loaded::List(a), Loaded::List(b)) | (Loaded::Set(a), Loaded::Set(b)) => a == b,
            (Loaded::Hash(a, _), Loaded::Hash(b, _)) => a == b,
            (Loaded::ZSet(a, _), Loaded::ZSet(b, _)) => a == b,
            (Loaded::Stream(a), Loaded::Stream(b)) => {
                let save = |s: &Stream| {
                    let mut w = super::rdb::write::RdbWriter::new(Vec::new(), false);
                    stream::rdb::write(&mut w, s).map(|_| w.into_inner()).ok()
                };
                save(a) == save(b)
            }
            _ => false,
        }
    }
}

impl Loaded {
    /// The TYPE name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Loaded::Str(_) => "string",
            Loaded::List(_) => "list",
            Loaded::Set(_) => "set",
            Loaded::Hash(..) => "hash",
            Loaded::ZSet(..) => "zset",
            Loaded::Stream(_) => "stream",
        }
    }
}

/// What reading needs from the server: the clock (for 7.4 hash field TTLs).
#[derive(Clone, Copy, Debug)]
pub struct ReadContext {
    pub now_ms: i64,
}

fn strings(items: Vec<Packed<'_>>) -> Vec<Vec<u8>> {
    items.into_iter().map(Packed::to_vec).collect()
}

fn no_dups<'a>(items: impl Iterator<Item = &'a [u8]>, what: &str) -> Result<(), RdbError> {
    let mut seen = HashSet::new();
    for i in items {
        if !seen.insert(i) {
            return corrupt(format!("Duplicate {what} detected"));
        }
    }
    Ok(())
}

fn pairs<T>(items: Vec<T>, what: &str) -> Result<Vec<(T, T)>, RdbError> {
    if items.len() % 2 != 0 {
        return corrupt(format!("{what} with an odd number of elements"));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

fn hash_of(items: Vec<Packed<'_>>, what: &str) -> Result<Loaded, RdbError> {
    let pairs = pairs(strings(items), what)?;
    no_dups(pairs.iter().map(|(f, _)| f.as_slice()), "hash fields")?;
    non_empty(Loaded::Hash(pairs, Source::Packed))
}

fn zset_of(items: Vec<Packed<'_>>, what: &str) -> Result<Loaded, RdbError> {
    let mut out = Vec::with_capacity(items.len() / 2);
    for (m, s) in pairs(items, what)? {
        let score = s.to_score().ok_or_else(|| RdbError::new(format!("{what} with a bad score")))?;
        out.push((m.to_vec(), score));
    }
    no_dups(out.iter().map(|(m, _)| m.as_slice()), "zset members")?;
    non_empty(Loaded::ZSet(out, Source::Packed))
}

fn non_empty(v: Loaded) -> Result<Loaded, RdbError> {
    let empty = match &v {
        Loaded::List(l) | Loaded::Set(l) => l.is_empty(),
        Loaded::Hash(h, _) => h.is_empty(),
        Loaded::ZSet(z, _) => z.is_empty(),
        Loaded::Str(_) | Loaded::Stream(_) => false,
    };
    if empty {
        Err(RdbError::empty_key())
    } else {
        Ok(v)
    }
}

/// Reads the value of RDB type `kind` (the type byte was already read).
pub fn read(r: &mut RdbReader<'_>, kind: u8, ctx: ReadContext) -> Result<Loaded, RdbError> {
    match kind {
        TYPE_STRING => Ok(Loaded::Str(r.string()?)),
        TYPE_LIST => {
            let n = r.count()?;
            let items = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
            non_empty(Loaded::List(items))
        }
        TYPE_SET => {
            let n = r.count()?;
            let items = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
            no_dups(items.iter().map(Vec::as_slice), "set members")?;
            non_empty(Loaded::Set(items))
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let score = if kind == TYPE_ZSET_2 { r.binary_double()? } else { r.text_double()? };
                if score.is_nan() {
                    return corrupt("Zset with NAN score detected");
                }
                items.push((m, score));
            }
            no_dups(items.iter().map(|(m, _)| m.as_slice()), "zset fields")?;
            non_empty(Loaded::ZSet(items, Source::Plain))
        }
        TYPE_HASH => {
            let n = r.count()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push((r.string()?, r.string()?));
            }
            no_dups(items.iter().map(|(f, _)| f.as_slice()), "hash fields")?;
            non_empty(Loaded::Hash(items, Source::Plain))
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => read_quicklist(r, kind),
        TYPE_HASH_ZIPMAP => {
            let blob = r.blob()?;
            let items = zipmap::decode(&blob).ok_or_else(|| RdbError::new("Zipmap integrity check failed."))?;
            let pairs: Vec<(Vec<u8>, Vec<u8>)> = items.into_iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            no_dups(pairs.iter().map(|(f, _)| f.as_slice()), "hash zipmap fields")?;
            // Redis converts a zipmap's pairs like a plain hash's (any long element converts).
            non_empty(Loaded::Hash(pairs, Source::Plain))
        }
        TYPE_LIST_ZIPLIST => {
            let blob = r.blob()?;
            let items = ziplist::decode(&blob).ok_or_else(|| RdbError::new("List ziplist integrity check failed."))?;
            non_empty(Loaded::List(strings(items)))
        }
        TYPE_SET_INTSET => {
            let blob = r.blob()?;
            let ints = intset::decode(&blob).ok_or_else(|| RdbError::new("Intset integrity check failed."))?;
            Ok(Loaded::Set(ints.into_iter().map(|n| itoa::Buffer::new().format(n).as_bytes().to_vec()).collect()))
        }
        TYPE_SET_LISTPACK => {
            let blob = r.blob()?;
            let items = listpack::decode(&blob).ok_or_else(|| RdbError::new("Set listpack integrity check failed."))?;
            let items = strings(items);
            no_dups(items.iter().map(Vec::as_slice), "set members")?;
            non_empty(Loaded::Set(items))
        }
        TYPE_ZSET_ZIPLIST => {
            let blob = r.blob()?;
            let items = ziplist::decode(&blob).ok_or_else(|| RdbError::new("Zset ziplist integrity check failed."))?;
            zset_of(items, "Zset ziplist")
        }
        TYPE_ZSET_LISTPACK => {
            let blob = r.blob()?;
            let items =
                listpack::decode(&blob).ok_or_else(|| RdbError::new("Zset listpack integrity check failed."))?;
            zset_of(items, "Zset listpack")
        }
        TYPE_HASH_ZIPLIST => {
            let blob = r.blob()?;
            let items = ziplist::decode(&blob).ok_or_else(|| RdbError::new("Hash ziplist integrity check failed."))?;
            hash_of(items, "Hash ziplist")
        }
        TYPE_HASH_LISTPACK => {
            let blob = r.blob()?;
            let items =
                listpack::decode(&blob).ok_or_else(|| RdbError::new("Hash listpack integrity check failed."))?;
            hash_of(items, "Hash listpack")
        }
        TYPE_HASH_METADATA_PRE_GA | TYPE_HASH_METADATA => read_hash_with_ttls(r, kind, ctx),
        TYPE_HASH_LISTPACK_EX_PRE_GA | TYPE_HASH_LISTPACK_EX => {
            if kind == TYPE_HASH_LISTPACK_EX {
                r.millis()?;
            }
            let blob = r.blob()?;
            let items =
                listpack::decode(&blob).ok_or_else(|| RdbError::new("Hash listpack integrity check failed."))?;
            if items.len() % 3 != 0 {
                return corrupt("Hash listpack integrity check failed.");
            }
            let mut out = Vec::with_capacity(items.len() / 3);
            for t in items.chunks_exact(3) {
                let ttl = match t[2] {
                    Packed::Int(n) => n,
                    Packed::Str(_) => return corrupt("Hash listpack integrity check failed."),
                };
                if ttl == 0 || ttl > ctx.now_ms {
                    out.push((t[0].to_vec(), t[1].to_vec()));
                }
            }
            no_dups(out.iter().map(|(f, _)| f.as_slice()), "hash fields")?;
            non_empty(Loaded::Hash(out, Source::Packed))
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            Ok(Loaded::Stream(Box::new(stream::rdb::read(r, kind)?)))
        }
        TYPE_MODULE_PRE_GA => corrupt("Pre-release module format not supported"),
        TYPE_MODULE_2 => {
            let id = r.len()?;
            corrupt(format!(
                "The RDB file contains module data I can't load: no matching module type '{}'",
                module_name(id)
            ))
        }
        _ => corrupt(format!("Unknown RDB encoding type {kind}")),
    }
}

/// QUICKLIST (ziplist nodes) and QUICKLIST_2 (listpack or plain nodes). Empty nodes are
/// skipped as Redis does; a list left empty is an empty key.
fn read_quicklist(r: &mut RdbReader<'_>, kind: u8) -> Result<Loaded, RdbError> {
    let nodes = r.count()?;
    let mut items = Vec::new();
    for _ in 0..nodes {
        let container = if kind == TYPE_LIST_QUICKLIST_2 { r.len()? } else { 2 };
        let blob = r.blob()?;
        if blob.is_empty() {
            return corrupt("Quicklist node is empty");
        }
        match container {
            1 => items.push(blob.into_owned()),
            2 if kind == TYPE_LIST_QUICKLIST_2 => {
                let lp = listpack::decode(&blob).ok_or_else(|| RdbError::new("Listpack integrity check failed."))?;
                items.extend(strings(lp));
            }
            2 => {
                let zl = ziplist::decode(&blob).ok_or_else(|| RdbError::new("Ziplist integrity check failed."))?;
                items.extend(strings(zl));
            }
            _ => return corrupt("Quicklist integrity check failed."),
        }
    }
    non_empty(Loaded::List(items))
}

/// 7.4's hashes with field TTLs (HASH_METADATA): fields whose TTL has passed are dropped;
/// the others are kept without their TTL (hash field expiry is a 7.4 feature).
fn read_hash_with_ttls(r: &mut RdbReader<'_>, kind: u8, ctx: ReadContext) -> Result<Loaded, RdbError> {
    let min_expire = if kind == TYPE_HASH_METADATA { r.millis()? as u64 } else { 0 };
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ttl = r.len()?;
        let expire_at = match (kind, ttl) {
            (_, 0) => 0,
            (TYPE_HASH_METADATA, t) => t.wrapping_add(min_expire).wrapping_sub(1),
            (_, t) => t,
        };
        let field = r.string()?;
        let value = r.string()?;
        if expire_at == 0 || expire_at as i64 > ctx.now_ms {
            out.push((field, value));
        }
    }
    no_dups(out.iter().map(|(f, _)| f.as_slice()), "hash fields")?;
    non_empty(Loaded::Hash(out, Source::Plain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::rdb::write::RdbWriter;

    fn ctx() -> ReadContext {
        ReadContext { now_ms: 1_000_000 }
    }

    fn read_bytes(kind: u8, payload: &[u8]) -> Result<Loaded, RdbError> {
        read(&mut RdbReader::new(payload), kind, ctx())
    }

    fn blob(b: &[u8]) -> Vec<u8> {
        let mut w = RdbWriter::new(Vec::new(), false);
        w.string(b).unwrap();
        w.into_inner()
    }

    #[test]
    fn packed_forms_decode_and_refuse_duplicates() {
        let zl = ziplist::tests::build(&[Packed::Str(b"f"), Packed::Int(1), Packed::Str(b"g"), Packed::Str(b"v")]);
        assert_eq!(
            read_bytes(TYPE_HASH_ZIPLIST, &blob(&zl)).unwrap(),
            Loaded::Hash(vec![(b"f".to_vec(), b"1".to_vec()), (b"g".to_vec(), b"v".to_vec())], Source::Packed)
        );
        let dup = ziplist::tests::build(&[Packed::Str(b"f"), Packed::Int(1), Packed::Str(b"f"), Packed::Str(b"v")]);
        assert!(read_bytes(TYPE_HASH_ZIPLIST, &blob(&dup)).is_err());
        let zs = listpack::encode([&b"a"[..], b"1.5", b"b", b"inf"]);
        assert_eq!(
            read_bytes(TYPE_ZSET_LISTPACK, &blob(&zs)).unwrap(),
            Loaded::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), f64::INFINITY)], Source::Packed)
        );
        let nan = listpack::encode([&b"a"[..], b"nan"]);
        assert!(read_bytes(TYPE_ZSET_LISTPACK, &blob(&nan)).is_err());
        let empty = listpack::encode(std::iter::empty());
        assert!(read_bytes(TYPE_HASH_LISTPACK, &blob(&empty)).unwrap_err().empty_key);
        let is = intset::encode(&[-3, 7]);
        assert_eq!(read_bytes(TYPE_SET_INTSET, &blob(&is)).unwrap(), Loaded::Set(vec![b"-3".to_vec(), b"7".to_vec()]));
    }

    #[test]
    fn hash_field_ttls_drop_expired_fields() {
        let lp = {
            let mut b = listpack::Builder::new();
            for (f, v, ttl) in [("a", "1", 0), ("b", "2", 5), ("c", "3", 2_000_000)] {
                b.push(f.as_bytes());
                b.push(v.as_bytes());
                b.push_int(ttl);
            }
            b.finish()
        };
        let mut payload = 5i64.to_le_bytes().to_vec();
        payload.extend(blob(&lp));
        assert_eq!(
            read_bytes(TYPE_HASH_LISTPACK_EX, &payload).unwrap(),
            Loaded::Hash(vec![(b"a".to_vec(), b"1".to_vec()), (b"c".to_vec(), b"3".to_vec())], Source::Packed)
        );
    }
}
