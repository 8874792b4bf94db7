//! Every type saved from its typed value and read back, in both encodings, with the
//! encoding chosen on load as Redis chooses it.

use super::*;
use crate::persist::rdb::read::RdbReader;
use crate::persist::value::{read, ReadContext};

fn object(v: Loaded, config: &Config) -> Object {
    match build_value(v, config).unwrap() {
        Value::Object(o) => o,
        _ => panic!("not an object"),
    }
}

/// Saves `o`, reads it back; returns the type byte and the neutral form read.
fn save_and_read(o: &Object) -> (u8, Loaded) {
    let mut w = RdbWriter::new(Vec::new(), true);
    write_payload(&mut w, o).unwrap();
    let bytes = w.into_inner();
    let mut r = RdbReader::new(&bytes);
    let kind = rdb_type(o);
    let back = read(&mut r, kind, ReadContext { now_ms: 0 }).unwrap();
    assert!(r.is_empty());
    (kind, back)
}

fn sorted<T: Clone, F: FnMut(&T, &T) -> std::cmp::Ordering>(v: &[T], f: F) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort_by(f);
    v
}

#[test]
fn every_type_round_trips_in_both_encodings() {
    let config = Config::new();
    let s = |x: &str| x.as_bytes().to_vec();
    let big: Vec<Vec<u8>> = (0..2000).map(|i| format!("element-{i}").into_bytes()).collect();
    let cases = vec![
        (Loaded::List(vec![s("a"), s("1"), s("-70000"), vec![b'z'; 9000]]), TYPE_LIST_QUICKLIST_2, "quicklist"),
        (Loaded::List(big.clone()), TYPE_LIST_QUICKLIST_2, "quicklist"),
        (Loaded::Set(vec![s("3"), s("-1"), s("70000"), s("2")]), TYPE_SET_INTSET, "intset"),
        (Loaded::Set(vec![s("x"), s("1")]), TYPE_SET, "hashtable"),
        (Loaded::Hash(vec![(s("f"), s("v")), (s("n"), s("12"))], Source::Plain), TYPE_HASH_LISTPACK, "listpack"),
        (Loaded::Hash(big.iter().map(|e| (e.clone(), e.clone())).collect(), Source::Plain), TYPE_HASH, "hashtable"),
        (
            Loaded::ZSet(vec![(s("a"), 1.0), (s("b"), 0.5), (s("c"), f64::NEG_INFINITY)], Source::Plain),
            TYPE_ZSET_LISTPACK,
            "listpack",
        ),
        (
            Loaded::ZSet(big.iter().enumerate().map(|(i, e)| (e.clone(), i as f64 / 3.0)).collect(), Source::Plain),
            TYPE_ZSET_2,
            "skiplist",
        ),
    ];
    for (v, expected_kind, encoding) in cases {
        let o = object(v.clone(), &config);
        assert_eq!(o.encoding(), encoding, "{v:?}");
        let (kind, back) = save_and_read(&o);
        assert_eq!(kind, expected_kind);
        match (&v, &back) {
            (Loaded::Set(a), Loaded::Set(b)) => assert_eq!(sorted(a, Ord::cmp), sorted(b, Ord::cmp)),
            (Loaded::Hash(a, _), Loaded::Hash(b, _)) => {
                assert_eq!(sorted(a, |x, y| x.0.cmp(&y.0)), sorted(b, |x, y| x.0.cmp(&y.0)))
            }
            (Loaded::ZSet(a, _), Loaded::ZSet(b, _)) => {
                let order = |x: &(Vec<u8>, f64), y: &(Vec<u8>, f64)| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0));
                assert_eq!(sorted(a, order), sorted(b, order))
            }
            _ => assert_eq!(v, back),
        }
    }
}

#[test]
fn load_keeps_packed_sources_packed_as_redis_does() {
    let config = Config::new();
    let long = vec![b'x'; 100];
    // A packed hash with a long value stays a listpack; a plain one converts.
    let packed = object(Loaded::Hash(vec![(b"f".to_vec(), long.clone())], Source::Packed), &config);
    assert_eq!(packed.encoding(), "listpack");
    let plain = object(Loaded::Hash(vec![(b"f".to_vec(), long.clone())], Source::Plain), &config);
    assert_eq!(plain.encoding(), "hashtable");
    let packed = object(Loaded::ZSet(vec![(long.clone(), 1.0)], Source::Packed), &config);
    assert_eq!(packed.encoding(), "listpack");
    let plain = object(Loaded::ZSet(vec![(long, 1.0)], Source::Plain), &config);
    assert_eq!(plain.encoding(), "skiplist");
    // Too many entries converts either way.
    let many: Vec<_> = (0..200).map(|i| (format!("m{i}").into_bytes(), i as f64)).collect();
    assert_eq!(object(Loaded::ZSet(many, Source::Packed), &config).encoding(), "skiplist");
    let dup = Loaded::Set(vec![b"1".to_vec(), b"1".to_vec()]);
    assert!(build_value(dup, &config).is_err());
}
