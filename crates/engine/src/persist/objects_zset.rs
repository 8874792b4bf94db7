//! RDB encodings of sorted sets, as Redis 7.0 writes and reads them.
//!
//! * A listpack-encoded set is written as `RDB_TYPE_ZSET_LISTPACK`: a Redis listpack blob
//!   holding member, score, member, score… (scores as Redis's d2string text, which the
//!   listpack stores as an integer when it is one).
//! * A skiplist-encoded set is written as `RDB_TYPE_ZSET_2`: the count, then each member and
//!   its binary double, from the greatest down (so loading inserts at the head).
//!
//! Loading accepts those and the older `RDB_TYPE_ZSET` (text doubles), and picks the
//! encoding as Redis does: a loaded listpack stays one unless it has more members than
//! `zset-max-listpack-entries`; a loaded skiplist becomes a listpack when it fits both
//! thresholds. Sets stored as ziplists (RDB versions before 10) are not read yet.
//!
//! The type side is all in [`ZSet`]: elements in order (`for_each`, `walk`) for writing,
//! `from_unsorted` / `listpack_from_sorted` / `skiplist_from_sorted` for loading, so a
//! different RDB layer can reuse them as they are.

use std::io::{self, Write};

use super::rdb::read::RdbReader;
use super::rdb::write::RdbWriter;
use super::rdb::{corrupt, RdbError, TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_LISTPACK};
use crate::cmd::zset::d2string;
use crate::config::Config;
use crate::keyspace::Value;
use crate::types::quicklist::listpack::{self as lp, Elem};
use crate::types::skiplist::cmp_elements;
use crate::types::zset::{Limits, Start, ZSet};
use crate::types::Object;

/// Writes a sorted set's type byte and payload.
pub fn write<W: Write>(w: &mut RdbWriter<W>, z: &ZSet) -> io::Result<()> {
    match z {
        ZSet::Listpack(_) => {
            w.byte(TYPE_ZSET_LISTPACK)?;
            let mut blob = lp::new();
            let mut count = 0;
            z.for_each(|member, score| {
                count += 1;
                lp::push_back(&mut blob, member, count);
                count += 1;
                lp::push_back(&mut blob, &d2string(score), count);
            });
            w.string(&blob)
        }
        ZSet::Skiplist(_) => {
            w.byte(TYPE_ZSET_2)?;
            w.len(z.len() as u64)?;
            let mut result = Ok(());
            z.walk(Start::Rank(0), true, |member, score| {
                result = w.string(member).and_then(|_| w.binary_double(score));
                result.is_ok()
            });
            result
        }
    }
}

fn limits(config: &Config) -> Limits {
    Limits {
        max_entries: config.int("zset-max-listpack-entries").max(0) as usize,
        max_value: config.int("zset-max-listpack-value").max(0) as usize,
    }
}

/// Reads a sorted set of RDB type `kind` (one of the zset types).
pub fn read(r: &mut RdbReader<'_>, kind: u8, config: &Config) -> Result<Value<'static>, RdbError> {
    let limits = limits(config);
    let z = match kind {
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count()?;
            if n == 0 {
                return corrupt("Empty zset keys in RDB files are not supported");
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let member = r.string()?;
                let score = if kind == TYPE_ZSET { r.text_double()? } else { r.binary_double()? };
                if score.is_nan() {
                    return corrupt("Zset with NAN score detected");
                }
                items.push((member, score));
            }
            ZSet::from_unsorted(items, limits).or_else(|_| corrupt("Duplicate zset fields detected"))?
        }
        TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let items = listpack_pairs(&blob)?;
            if items.is_empty() {
                return corrupt("Empty zset keys in RDB files are not supported");
            }
            if items.windows(2).any(|w| cmp_elements(w[0].1, &w[0].0, w[1].1, &w[1].0).is_ge()) {
                return corrupt("Zset listpack integrity check failed.");
            }
            if items.len() > limits.max_entries {
                ZSet::skiplist_from_sorted(&items)
            } else {
                ZSet::listpack_from_sorted(&items)
            }
        }
        _ => return corrupt(format!("Unknown RDB encoding type {kind}")),
    };
    Ok(Value::Object(Box::new(Object::ZSet(z))))
}

/// The (member, score) pairs of a Redis zset listpack, checked.
fn listpack_pairs(blob: &[u8]) -> Result<Vec<(Vec<u8>, f64)>, RdbError> {
    let bad = || RdbError("Zset listpack integrity check failed.".into());
    let count = lp::validate(blob).ok_or_else(bad)?;
    if count % 2 != 0 {
        return Err(bad());
    }
    let mut items = Vec::with_capacity(count / 2);
    let mut p = lp::first(blob);
    while let Some(at) = p {
        let member = lp::get(blob, at).to_vec();
        let score_at = lp::next(blob, at).ok_or_else(bad)?;
        let score = match lp::get(blob, score_at) {
            Elem::Int(n) => n as f64,
            Elem::Str(s) => parse_listpack_score(s).ok_or_else(bad)?,
        };
        items.push((member, score));
        p = lp::next(blob, score_at);
    }
    Ok(items)
}

/// A score's text in a listpack (Redis's zzlStrtod, refusing what is not a number).
fn parse_listpack_score(s: &[u8]) -> Option<f64> {
    crate::util::num::parse_f64(s).filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::zset::AddFlags;

    fn round_trip(z: &ZSet, config: &Config) -> ZSet {
        let mut w = RdbWriter::new(Vec::new(), true);
        write(&mut w, z).unwrap();
        let bytes = w.into_inner();
        let mut r = RdbReader::new(&bytes[1..]);
        match read(&mut r, bytes[0], config).unwrap() {
            Value::Object(o) => match *o {
                Object::ZSet(z) => z,
                _ => panic!("not a zset"),
            },
            _ => panic!("not an object"),
        }
    }

    fn pairs(z: &ZSet) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        z.for_each(|m, s| out.push((m.to_vec(), s.to_bits())));
        out
    }

    #[test]
    fn both_encodings_round_trip() {
        let config = Config::new();
        let lim = Limits { max_entries: 128, max_value: 64 };
        let mut small = ZSet::new_for(1, lim);
        for (s, m) in [(1.5, "a"), (f64::NEG_INFINITY, "b"), (1e17, "123"), (0.1, "c"), (7.0, "d")] {
            small.add(s, m.as_bytes(), AddFlags::default(), lim).unwrap();
        }
        let back = round_trip(&small, &config);
        assert_eq!(back.encoding(), "listpack");
        assert_eq!(pairs(&back), pairs(&small));
        let big_lim = Limits { max_entries: 0, max_value: 0 };
        let mut big = ZSet::new_for(1, big_lim);
        for i in 0..300 {
            big.add((i % 17) as f64 * 0.25, format!("m{i}").as_bytes(), AddFlags::default(), big_lim).unwrap();
        }
        let back = round_trip(&big, &config);
        assert_eq!(back.encoding(), "skiplist");
        assert_eq!(pairs(&back), pairs(&big));
        // A small skiplist comes back as a listpack when it fits.
        let mut tiny = ZSet::new_for(1, big_lim);
        tiny.add(1.0, b"x", AddFlags::default(), big_lim).unwrap();
        assert_eq!(round_trip(&tiny, &config).encoding(), "listpack");
    }

    #[test]
    fn corrupt_payloads_are_refused() {
        let config = Config::new();
        let mut blob = lp::new();
        lp::push_back(&mut blob, b"a", 1);
        lp::push_back(&mut blob, b"notanumber", 2);
        let mut w = RdbWriter::new(Vec::new(), false);
        w.string(&blob).unwrap();
        let bytes = w.into_inner();
        assert!(read(&mut RdbReader::new(&bytes), TYPE_ZSET_LISTPACK, &config).is_err());
        let mut w = RdbWriter::new(Vec::new(), false);
        w.len(2).unwrap();
        for _ in 0..2 {
            w.string(b"dup").unwrap();
            w.binary_double(1.0).unwrap();
        }
        let bytes = w.into_inner();
        assert!(read(&mut RdbReader::new(&bytes), TYPE_ZSET_2, &config).is_err());
    }
}
