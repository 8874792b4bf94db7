//! The boundary between persistence and the value types: for each collection type, which
//! RDB encoding it is saved in and how its contents reach the writers, and how a value read
//! in neutral form ([`Loaded`]) becomes a typed value again. This is the only file that
//! knows both sides.
//!
//! Saving writes what redis-server 7.0 writes for the same value:
//! * lists: QUICKLIST_2, the quicklist's own nodes (Redis listpacks, or plain nodes) copied;
//! * sets: an `intset` as SET_INTSET (Redis's intset layout, same width), a `hashtable` as SET;
//! * hashes: a `listpack` as HASH_LISTPACK (a Redis listpack built from the pairs, in their
//!   order), a `hashtable` as HASH;
//! * sorted sets: `objects_zset.rs` (ZSET_LISTPACK or ZSET_2);
//! * streams: `types/stream/rdb.rs` (STREAM_LISTPACKS_2, nodes copied).
//!
//! Loading picks encodings as Redis's rdbLoadObject does, which is not always what commands
//! would pick: a hash or sorted set read from a packed encoding (ziplist, listpack) stays
//! packed unless it has too many entries (long elements do not convert it), one read from a
//! plain encoding is packed only if it fits every threshold.

use std::io::{self, Write};

use super::rdb::write::RdbWriter;
use super::rdb::*;
use super::value::{Loaded, Source};
use crate::config::Config;
use crate::keyspace::Value;
use crate::server::Server;
use crate::types::hash::{Hash, HashLimits};
use crate::types::list::{List, Where};
use crate::types::set::{Set, SetElem, SetLimits};
use crate::types::zset::{Limits, ZSet};
use crate::types::{stream, Object};

/// The RDB type byte a collection is saved with.
pub fn rdb_type(o: &Object) -> u8 {
    match o {
        Object::List(_) => TYPE_LIST_QUICKLIST_2,
        Object::Hash(h) if h.encoding() == "listpack" => TYPE_HASH_LISTPACK,
        Object::Hash(_) => TYPE_HASH,
        Object::Set(s) if s.is_intset() => TYPE_SET_INTSET,
        Object::Set(_) => TYPE_SET,
        Object::ZSet(z) => super::objects_zset::rdb_type(z),
        Object::Stream(_) => stream::rdb::TYPE,
    }
}

/// Writes a collection's payload (what follows the type byte, or the key in a file).
pub fn write_payload<W: Write>(w: &mut RdbWriter<W>, o: &Object) -> io::Result<()> {
    match o {
        Object::List(l) => write_list(w, l),
        Object::Hash(h) => write_hash(w, h),
        Object::Set(s) => write_set(w, s),
        Object::ZSet(z) => super::objects_zset::write_payload(w, z),
        Object::Stream(s) => stream::rdb::write(w, s),
    }
}

/// QUICKLIST_2: the node count, then per node its container (1 plain, 2 packed) and bytes.
fn write_list<W: Write>(w: &mut RdbWriter<W>, l: &List) -> io::Result<()> {
    w.len(l.node_count() as u64)?;
    let mut result = Ok(());
    l.for_each_node(|plain, bytes| {
        if result.is_ok() {
            result = w.len(if plain { 1 } else { 2 }).and_then(|_| w.string(bytes));
        }
    });
    result
}

fn write_hash<W: Write>(w: &mut RdbWriter<W>, h: &Hash) -> io::Result<()> {
    if h.encoding() == "listpack" {
        let mut lp = super::encoding::listpack::Builder::new();
        h.for_each(|f, v| {
            lp.push(f);
            lp.push(v);
        });
        return w.string(&lp.finish());
    }
    w.len(h.len() as u64)?;
    let mut result = Ok(());
    h.for_each(|f, v| {
        if result.is_ok() {
            result = w.string(f).and_then(|_| w.string(v));
        }
    });
    result
}

fn write_set<W: Write>(w: &mut RdbWriter<W>, s: &Set) -> io::Result<()> {
    if let Some(blob) = s.intset_bytes() {
        return w.string(&blob);
    }
    w.len(s.len() as u64)?;
    for m in s.members() {
        match m {
            SetElem::Int(n) => w.string(itoa::Buffer::new().format(n).as_bytes())?,
            SetElem::Str(b) => w.string(b)?,
        }
    }
    Ok(())
}

/// Builds a typed value from a neutral one read from an RDB image or DUMP payload, choosing
/// encodings as Redis's loader does (see the module docs).
pub fn build_value(v: Loaded, config: &Config) -> Result<Value<'static>, RdbError> {
    let object = match v {
        Loaded::Str(s) => return Ok(Value::StrOwned(s)),
        Loaded::List(items) => {
            let mut l = List::new(config.int("list-max-listpack-size"), config.int("list-compress-depth"));
            for i in &items {
                l.push(Where::Tail, i);
            }
            Object::List(Box::new(l))
        }
        Loaded::Set(items) => {
            let limits = SetLimits::from_config(config);
            let mut s = if items.len() > limits.max_intset { Set::new_table() } else { Set::new_intset() };
            for m in &items {
                if !s.add(m, limits) {
                    return corrupt("Duplicate set members detected");
                }
            }
            Object::Set(s)
        }
        Loaded::Hash(pairs, source) => {
            let limits = HashLimits::from_config(config);
            let mut h = Hash::new();
            if pairs.len() > limits.max_entries {
                h.convert_to_table();
            }
            // A packed source stays packed whatever its elements' lengths.
            let add_limits = match source {
                Source::Packed => HashLimits { max_entries: usize::MAX, max_value: usize::MAX },
                Source::Plain => limits,
            };
            for (f, v) in &pairs {
                if h.set(f, v, add_limits) {
                    return corrupt("Duplicate hash fields detected");
                }
            }
            Object::Hash(h)
        }
        Loaded::ZSet(items, source) => {
            let limits = Limits {
                max_entries: config.int("zset-max-listpack-entries").max(0) as usize,
                max_value: config.int("zset-max-listpack-value").max(0) as usize,
            };
            let fits = match source {
                Source::Packed => items.len() <= limits.max_entries,
                Source::Plain => {
                    items.len() <= limits.max_entries && items.iter().all(|(m, _)| m.len() <= limits.max_value)
                }
            };
            let mut items = items;
            items.sort_by(|a, b| crate::types::skiplist::cmp_elements(a.1, &a.0, b.1, &b.0));
            if items.windows(2).any(|p| p[0].0 == p[1].0) {
                return corrupt("Duplicate zset fields detected");
            }
            let z = if fits { ZSet::listpack_from_sorted(&items) } else { ZSet::skiplist_from_sorted(&items) };
            Object::ZSet(z)
        }
        Loaded::Stream(s) => Object::Stream(s),
    };
    Ok(Value::Object(object))
}

/// A key's value in neutral form (AOF rewrites, tests). Streams are rewritten from the
/// typed value (`types/stream/rewrite.rs`); their neutral form is a copy.
pub fn to_loaded(o: &Object) -> Loaded {
    match o {
        Object::List(l) => Loaded::List(l.to_vecs()),
        Object::Set(s) => Loaded::Set(s.members().into_iter().map(SetElem::to_vec).collect()),
        Object::Hash(h) => {
            let mut pairs = Vec::with_capacity(h.len());
            h.for_each(|f, v| pairs.push((f.to_vec(), v.to_vec())));
            let source = if h.encoding() == "listpack" { Source::Packed } else { Source::Plain };
            Loaded::Hash(pairs, source)
        }
        Object::ZSet(z) => {
            let mut items = Vec::with_capacity(z.len());
            z.for_each(|m, s| items.push((m.to_vec(), s)));
            let source = if z.encoding() == "listpack" { Source::Packed } else { Source::Plain };
            Loaded::ZSet(items, source)
        }
        Object::Stream(s) => Loaded::Stream(s.clone()),
    }
}

/// Writes the function libraries: one RDB_OPCODE_FUNCTION2 record (the library's code) each.
pub fn write_functions<W: Write>(w: &mut RdbWriter<W>, srv: &Server) -> io::Result<()> {
    for lib in srv.scripts.functions.libraries.values() {
        w.byte(OPCODE_FUNCTION2)?;
        w.string(&lib.code)?;
    }
    Ok(())
}

/// The source of every function library (AOF rewrites as FUNCTION LOAD).
pub fn function_sources(srv: &Server) -> Vec<Vec<u8>> {
    srv.scripts.functions.libraries.values().map(|lib| lib.code.clone()).collect()
}

/// Loads one function library from its source code (compiling it). With `replace` (DEBUG
/// RELOAD MERGE) a library of the same name is replaced.
pub fn load_function(srv: &mut Server, code: Vec<u8>, replace: bool) -> Result<(), String> {
    srv.scripts.functions.load(&code, replace, 0).map(|_| ())
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
