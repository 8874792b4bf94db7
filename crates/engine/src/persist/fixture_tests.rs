//! RDB files written by real redis-server versions (tests/fixtures/rdb, made by
//! scripts/ci/rdb-fixtures.sh) and the Redis test suite's old-format assets (when the suite
//! is extracted in compat/), read back with their exact contents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::rdb::dataset::{parse, CollectSink};
use super::value::Loaded;
use crate::types::stream::{Stream, StreamId};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(path: &std::path::Path) -> CollectSink {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sink = CollectSink::default();
    parse(&data, &mut sink, true, 0).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    sink
}

fn s(x: &str) -> Vec<u8> {
    x.as_bytes().to_vec()
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn get<'a>(sink: &'a CollectSink, db: usize, key: &str) -> &'a (Loaded, Option<i64>) {
    sink.keys.get(&(db, s(key))).unwrap_or_else(|| panic!("missing {key}"))
}

fn as_set(v: &Loaded) -> Vec<Vec<u8>> {
    match v {
        Loaded::Set(m) => sorted(m.clone()),
        other => panic!("not a set: {other:?}"),
    }
}

fn as_hash(v: &Loaded) -> BTreeMap<Vec<u8>, Vec<u8>> {
    match v {
        Loaded::Hash(p, _) => p.iter().cloned().collect(),
        other => panic!("not a hash: {other:?}"),
    }
}

fn as_zset(v: &Loaded) -> BTreeMap<Vec<u8>, f64> {
    match v {
        Loaded::ZSet(p, _) => p.iter().cloned().collect(),
        other => panic!("not a zset: {other:?}"),
    }
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A stream's entries: ID and field/value pairs.
fn stream_entries(st: &Stream) -> Vec<(StreamId, Fields)> {
    let mut buf = (itoa::Buffer::new(), itoa::Buffer::new());
    st.range(StreamId::MIN, StreamId::MAX, false)
        .map(|e| (e.id, e.pairs().map(|(f, v)| (f.bytes(&mut buf.0).to_vec(), v.bytes(&mut buf.1).to_vec())).collect()))
        .collect()
}

/// The contents scripts/ci/rdb-fixtures.sh creates.
fn check_all_types(sink: &CollectSink) {
    assert_eq!(get(sink, 0, "str:int").0, Loaded::Str(s("12345")));
    assert_eq!(get(sink, 0, "str:neg").0, Loaded::Str(s("-42")));
    assert_eq!(*get(sink, 0, "str:embstr"), (Loaded::Str(s("hello world")), Some(4102444800000)));
    assert_eq!(get(sink, 0, "str:raw").0, Loaded::Str(s(&("x".repeat(100) + &"y".repeat(100)))));
    assert_eq!(get(sink, 0, "str:big").0, Loaded::Str(s("12345678901234567890")));
    assert_eq!(get(sink, 0, "str:empty").0, Loaded::Str(Vec::new()));
    assert_eq!(get(sink, 0, "str:bin").0, Loaded::Str(b"\x00\x01\xff\r\n".to_vec()));
    assert_eq!(get(sink, 0, "list:lp").0, Loaded::List(["a", "b", "c", "1", "2", "-3"].map(s).to_vec()));
    assert_eq!(get(sink, 0, "list:big").0, Loaded::List((0..1000).map(|i| s(&format!("v{i}"))).collect()));
    assert_eq!(get(sink, 0, "list:plain").0, Loaded::List(vec![s("small"), s(&"p".repeat(2000)), s("tail")]));
    assert_eq!(as_set(&get(sink, 0, "set:int").0), sorted(["1", "2", "3", "-5", "100000"].map(s).to_vec()));
    assert_eq!(as_set(&get(sink, 0, "set:str").0), sorted(["a", "b", "c"].map(s).to_vec()));
    assert_eq!(as_set(&get(sink, 0, "set:bigint").0), sorted((0..600).map(|i| s(&i.to_string())).collect()));
    let z = as_zset(&get(sink, 0, "zset:lp").0);
    assert_eq!(
        z,
        [("a", 1.0), ("b", 2.5), ("c", f64::NEG_INFINITY), ("d", f64::INFINITY)].map(|(m, x)| (s(m), x)).into()
    );
    let z = as_zset(&get(sink, 0, "zset:skip").0);
    assert_eq!(z.len(), 200);
    assert_eq!(z[&s("m7")], 2.1);
    assert_eq!(as_hash(&get(sink, 0, "hash:lp").0), [("f1", "v1"), ("f2", "2")].map(|(f, v)| (s(f), s(v))).into());
    let h = as_hash(&get(sink, 0, "hash:ht").0);
    assert_eq!(h.len(), 600);
    assert_eq!(h[&s("f599")], s("v599"));
    assert_eq!(as_hash(&get(sink, 0, "hash:long").0), [(s("f"), s(&"z".repeat(100)))].into());
    let Loaded::Stream(st) = &get(sink, 0, "stream:s").0 else { panic!("not a stream") };
    let entries = stream_entries(st);
    let ids: Vec<StreamId> = entries.iter().map(|e| e.0).collect();
    assert_eq!(ids, vec![StreamId::new(1, 1), StreamId::new(2, 1)]);
    assert_eq!(entries[1].1, vec![(s("c"), s("5"))]);
    assert_eq!((st.last_id, st.max_deleted_entry_id, st.entries_added), (StreamId::new(2, 1), StreamId::new(1, 2), 3));
    let (name, g) = st.groups().next().expect("a group");
    assert_eq!((name.to_vec(), g.last_id, g.entries_read), (s("g1"), StreamId::new(1, 1), -1));
    assert_eq!(g.consumers().map(|c| c.name.to_vec()).collect::<Vec<_>>(), vec![s("alice"), s("bob")]);
    assert_eq!(g.pel.len(), 1);
    let (id, nack) = g.pel.iter().next().expect("a pending entry");
    assert_eq!((*id, nack.delivery_count), (StreamId::new(1, 1), 1));
    assert_eq!(g.consumer_name(nack.consumer), Some(&b"alice"[..]));
    let Loaded::Stream(empty) = &get(sink, 0, "stream:empty").0 else { panic!("not a stream") };
    assert!(empty.is_empty());
    assert_eq!((empty.last_id, empty.group_count()), (StreamId::new(5, 5), 1));
    assert_eq!(get(sink, 5, "other").0, Loaded::Str(s("db5")));
    assert_eq!(sink.functions.len(), 1);
    assert!(sink.functions[0].starts_with(b"#!lua name=mylib"));
}

#[test]
fn redis_7_0_dump_with_every_type_and_encoding() {
    let sink = load(&root().join("tests/fixtures/rdb/redis-7.0.15.rdb"));
    check_all_types(&sink);
    assert_eq!(sink.keys.len(), 21);
}

/// Redis 7.4 writes RDB 12: listpack sets, STREAM_LISTPACKS_3, hashes with field TTLs.
#[test]
fn redis_7_4_dump_with_listpack_sets_streams_v3_and_field_ttls() {
    let sink = load(&root().join("tests/fixtures/rdb/redis-7.4.1.rdb"));
    check_all_types(&sink);
    assert_eq!(as_hash(&get(&sink, 0, "hash:ttl").0), [("f1", "v1"), ("f2", "v2")].map(|(f, v)| (s(f), s(v))).into());
    assert_eq!(as_hash(&get(&sink, 0, "hash:ttlbig").0).len(), 600);
    assert_eq!(sink.keys.len(), 23);
}

/// The Redis suite's assets: 2.x-era encodings (zipmap, ziplist, intset, linked lists).
#[test]
fn redis_suite_assets() {
    let assets = root().join("compat/redis-tests/tests/assets");
    if !assets.exists() {
        eprintln!("compat/redis-tests not extracted: skipping the Redis suite's RDB assets");
        return;
    }
    let enc = load(&assets.join("encodings.rdb"));
    let list = || ["1", "2", "3", "a", "b", "c", "100000", "6000000000"].map(s).to_vec();
    assert_eq!(get(&enc, 0, "list_zipped").0, Loaded::List(list()));
    assert_eq!(get(&enc, 0, "list").0, Loaded::List([list(), list(), list()].concat()));
    assert_eq!(get(&enc, 0, "number").0, Loaded::Str(s("10")));
    assert_eq!(as_set(&get(&enc, 0, "set_zipped_3").0).len(), 6);
    assert_eq!(
        as_set(&get(&enc, 0, "set").0),
        sorted(["1", "100000", "2", "3", "6000000000", "a", "b", "c"].map(s).to_vec())
    );
    assert_eq!(as_hash(&get(&enc, 0, "hash_zipped").0).len(), 3);
    assert_eq!(as_hash(&get(&enc, 0, "hash").0)[&s("eee")], s("5000000000"));
    assert_eq!(as_zset(&get(&enc, 0, "zset").0)[&s("bbbb")], 5000000000.0);
    assert_eq!(as_zset(&get(&enc, 0, "zset_zipped").0)[&s("c")], 3.0);
    assert_eq!(enc.keys.len(), 13);
    for name in ["hash-zipmap.rdb", "hash-ziplist.rdb", "list-quicklist.rdb", "zset-ziplist.rdb", "scriptbackup.rdb"] {
        load(&assets.join(name));
    }
    let empty = load(&assets.join("corrupt_empty_keys.rdb"));
    assert!(empty.keys.is_empty(), "empty keys are skipped");
    let data = std::fs::read(assets.join("corrupt_ziplist.rdb")).unwrap();
    assert!(parse(&data, &mut CollectSink::default(), true, 0).is_err());
}
