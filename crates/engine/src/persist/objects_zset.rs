//! Sorted sets in RDB files and DUMP payloads, as Redis 7.0 writes them:
//!
//! * a listpack-encoded set as `RDB_TYPE_ZSET_LISTPACK`: a Redis listpack blob holding
//!   member, score, member, score… (scores as Redis's d2string text, which the listpack
//!   stores as an integer when it is one);
//! * a skiplist-encoded set as `RDB_TYPE_ZSET_2`: the count, then each member and its binary
//!   double, from the greatest down (so loading inserts at the head).
//!
//! Reading every zset encoding (ZSET, ZSET_2, ziplist, listpack) is in `value.rs`, and the
//! choice of encoding on load in `objects.rs`.

use std::io::{self, Write};

use super::rdb::write::RdbWriter;
use super::rdb::{TYPE_ZSET_2, TYPE_ZSET_LISTPACK};
use crate::cmd::zset::d2string;
use crate::types::quicklist::listpack as lp;
use crate::types::zset::{Start, ZSet};

/// The type byte a sorted set is saved with.
pub fn rdb_type(z: &ZSet) -> u8 {
    match z {
        ZSet::Listpack(_) => TYPE_ZSET_LISTPACK,
        ZSet::Skiplist(_) => TYPE_ZSET_2,
    }
}

/// Writes a sorted set's payload (after the type byte).
pub fn write_payload<W: Write>(w: &mut RdbWriter<W>, z: &ZSet) -> io::Result<()> {
    match z {
        ZSet::Listpack(_) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::keyspace::Value;
    use crate::persist::rdb::read::RdbReader;
    use crate::persist::value::{read, ReadContext};
    use crate::types::zset::{AddFlags, Limits};
    use crate::types::Object;

    fn round_trip(z: &ZSet, config: &Config) -> ZSet {
        let mut w = RdbWriter::new(Vec::new(), true);
        write_payload(&mut w, z).unwrap();
        let bytes = w.into_inner();
        let loaded = read(&mut RdbReader::new(&bytes), rdb_type(z), ReadContext { now_ms: 0 }).unwrap();
        match crate::persist::objects::build_value(loaded, config).unwrap() {
            Value::Object(o) => match o {
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
}
