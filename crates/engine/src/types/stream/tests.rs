//! Stream type tests: node layout against bytes Redis writes, iteration both ways,
//! deletion, trimming, counters and RDB round trips.

use super::*;

fn at(ms: u64, seq: u64) -> Option<Parsed> {
    Some(Parsed { id: StreamId::new(ms, seq), seq_given: true })
}

fn add(s: &mut Stream, ms: u64, seq: u64, pairs: &[&[u8]]) -> StreamId {
    s.append(pairs, at(ms, seq), 0, Limits::default()).unwrap()
}

fn ids(it: impl Iterator<Item = StreamId>) -> Vec<(u64, u64)> {
    it.map(|id| (id.ms, id.seq)).collect()
}

fn values(e: &Entry<'_>) -> Vec<Vec<u8>> {
    e.pairs().flat_map(|(f, v)| [f.to_vec(), v.to_vec()]).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn node_bytes_match_redis() {
    // DUMP from redis-server 7.0.15 after `XADD s 1-1 a 1`, `XADD s 1-2 a 2`,
    // `XADD s 2-0 b x`: type 19, the payload, then RDB version and CRC.
    let dump = unhex(concat!(
        "13011000000000000000010000000000000001c3323711370000001600030100010101816102000102",
        "200a400c00046009000120050004600f02dfff0220210762028178020601ff0302000101000003000a",
        "00ca0fe9cf90d2d69e"
    ));
    let loaded = rdb::read(&mut crate::persist::rdb::read::RdbReader::new(&dump[1..]), dump[0]).unwrap();
    let mut s = Stream::new();
    add(&mut s, 1, 1, &[b"a", b"1"]);
    add(&mut s, 1, 2, &[b"a", b"2"]);
    add(&mut s, 2, 0, &[b"b", b"x"]);
    let ours: Vec<_> = s.nodes().map(|(k, d)| (k, d.to_vec())).collect();
    let theirs: Vec<_> = loaded.nodes().map(|(k, d)| (k, d.to_vec())).collect();
    assert_eq!(ours, theirs);
    assert_eq!((loaded.len(), loaded.last_id, loaded.first_id), (3, StreamId::new(2, 0), StreamId::new(1, 1)));
    assert_eq!(loaded.entries_added, 3);
    let m = node::master(&ours[0].1);
    assert_eq!((m.count, m.deleted, m.nfields), (3, 0, 1));
    let got: Vec<_> = s.range(StreamId::MIN, StreamId::MAX, false).map(|e| (e.id, values(&e))).collect();
    assert_eq!(
        got,
        vec![
            (StreamId::new(1, 1), vec![b"a".to_vec(), b"1".to_vec()]),
            (StreamId::new(1, 2), vec![b"a".to_vec(), b"2".to_vec()]),
            (StreamId::new(2, 0), vec![b"b".to_vec(), b"x".to_vec()]),
        ]
    );
}

#[test]
fn auto_ids_and_errors() {
    let mut s = Stream::new();
    let lim = Limits::default();
    assert_eq!(s.append(&[b"f", b"v"], None, 100, lim), Ok(StreamId::new(100, 0)));
    assert_eq!(s.append(&[b"f", b"v"], None, 100, lim), Ok(StreamId::new(100, 1)));
    // The clock going back keeps the last ms.
    assert_eq!(s.append(&[b"f", b"v"], None, 50, lim), Ok(StreamId::new(100, 2)));
    let auto_seq = |ms| Some(Parsed { id: StreamId::new(ms, 0), seq_given: false });
    assert_eq!(s.append(&[b"f", b"v"], auto_seq(100), 0, lim), Ok(StreamId::new(100, 3)));
    assert_eq!(s.append(&[b"f", b"v"], auto_seq(200), 0, lim), Ok(StreamId::new(200, 0)));
    assert_eq!(s.append(&[b"f", b"v"], auto_seq(150), 0, lim), Err(AppendError::NotGreater));
    assert_eq!(s.append(&[b"f", b"v"], at(200, 0), 0, lim), Err(AppendError::NotGreater));
    add(&mut s, 300, u64::MAX, &[b"f", b"v"]);
    assert_eq!(s.append(&[b"f", b"v"], auto_seq(300), 0, lim), Err(AppendError::SeqExhausted));
    assert_eq!(s.len(), 6);
    assert_eq!(s.entries_added, 6);
    assert_eq!(s.first_id, StreamId::new(100, 0));
}

#[test]
fn nodes_split_by_entries_and_bytes() {
    let mut s = Stream::new();
    let lim = Limits { max_bytes: 4096, max_entries: 3 };
    for i in 1..=7 {
        s.append(&[b"f", b"v"], at(i, 0), 0, lim).unwrap();
    }
    assert_eq!(s.node_count(), 3);
    let keys: Vec<_> = s.nodes().map(|(k, _)| k.ms).collect();
    assert_eq!(keys, vec![1, 4, 7]);
    let mut s = Stream::new();
    let lim = Limits { max_bytes: 60, max_entries: 0 };
    let big = [b'x'; 20];
    for i in 1..=6 {
        s.append(&[b"f", &big], at(i, 0), 0, lim).unwrap();
    }
    assert!(s.node_count() > 1);
    assert!(s.nodes().all(|(_, d)| node::validate(d)));
    assert_eq!(s.range(StreamId::MIN, StreamId::MAX, false).count(), 6);
}

#[test]
fn ranges_both_ways_with_mixed_fields() {
    let mut s = Stream::new();
    let lim = Limits { max_bytes: 4096, max_entries: 4 };
    for i in 1..=20u64 {
        let v = i.to_string();
        let pairs: Vec<&[u8]> =
            if i % 3 == 0 { vec![b"x", v.as_bytes(), b"y", b"z"] } else { vec![b"item", v.as_bytes()] };
        s.append(&pairs, at(i, i), 0, lim).unwrap();
    }
    let fwd = ids(s.range(StreamId::new(5, 0), StreamId::new(9, 9), false).map(|e| e.id));
    assert_eq!(fwd, vec![(5, 5), (6, 6), (7, 7), (8, 8), (9, 9)]);
    let rev = ids(s.range(StreamId::new(5, 6), StreamId::new(9, 8), true).map(|e| e.id));
    assert_eq!(rev, vec![(8, 8), (7, 7), (6, 6)]);
    let e = s.get(StreamId::new(6, 6)).unwrap();
    assert_eq!(values(&e), vec![b"x".to_vec(), b"6".to_vec(), b"y".to_vec(), b"z".to_vec()]);
    assert!(s.get(StreamId::new(6, 5)).is_none());
    assert_eq!(s.last_valid_id(), Some(StreamId::new(20, 20)));
}

#[test]
fn delete_tombstones_and_drops_empty_nodes() {
    let mut s = Stream::new();
    let lim = Limits { max_bytes: 4096, max_entries: 2 };
    for i in 1..=5 {
        s.append(&[b"f", b"v"], at(i, 0), 0, lim).unwrap();
    }
    assert_eq!(s.node_count(), 3);
    assert!(s.delete(StreamId::new(2, 0)));
    assert!(!s.delete(StreamId::new(2, 0)));
    assert!(!s.delete(StreamId::new(9, 0)));
    assert_eq!(s.node_count(), 3);
    assert!(s.delete(StreamId::new(1, 0)));
    assert_eq!(s.node_count(), 2, "a node goes with its last live entry");
    assert!(s.delete(StreamId::new(5, 0)));
    assert_eq!(s.last_valid_id(), Some(StreamId::new(4, 0)));
    assert_eq!(ids(s.range(StreamId::MIN, StreamId::MAX, true).map(|e| e.id)), vec![(4, 0), (3, 0)]);
    assert_eq!(s.len(), 2);
    // Tombstones are still edges when asked for.
    let mut s = Stream::new();
    for i in 1..=3 {
        add(&mut s, i, 0, &[b"f", b"v"]);
    }
    s.delete(StreamId::new(1, 0));
    assert_eq!(s.edge_id(true, false), StreamId::new(1, 0));
    assert_eq!(s.edge_id(true, true), StreamId::new(2, 0));
}

#[test]
fn trim_exact_and_approximate() {
    let build = |n: u64, per_node: i64| {
        let mut s = Stream::new();
        for i in 1..=n {
            s.append(&[b"f", b"v"], at(i, 0), 0, Limits { max_bytes: 4096, max_entries: per_node }).unwrap();
        }
        s
    };
    let maxlen = |n, approx, limit| Trim { strategy: TrimStrategy::MaxLen(n), approx, limit };
    let mut s = build(1000, 100);
    assert_eq!(s.trim(&maxlen(666, false, 0)), 334);
    assert_eq!(s.len(), 666);
    assert_eq!(s.first_id, StreamId::new(335, 0));
    assert_eq!(s.trim(&maxlen(444, true, 10000)), 166);
    assert_eq!(s.len(), 500);
    let mut s = build(100, 10);
    assert_eq!(s.trim(&maxlen(55, true, 30)), 30);
    assert_eq!(s.len(), 70);
    let minid = |id, approx| Trim { strategy: TrimStrategy::MinId(StreamId::new(id, 0)), approx, limit: 0 };
    let mut s = build(5, 100);
    assert_eq!(s.trim(&minid(3, false)), 2);
    assert_eq!(ids(s.range(StreamId::MIN, StreamId::MAX, false).map(|e| e.id)), vec![(3, 0), (4, 0), (5, 0)]);
    let mut s = build(100, 10);
    assert_eq!(s.trim(&minid(55, true)), 50);
}

#[test]
fn lag_and_read_counters() {
    let mut s = Stream::new();
    for i in 1..=5 {
        add(&mut s, i, 0, &[b"data", b"x"]);
    }
    s.create_group(b"g", StreamId::MIN, INVALID_ENTRIES_READ);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), Some(5));
    let slot = s.group_mut(b"g").unwrap().create_consumer(b"c", 0).unwrap();
    let (n, _) = s.deliver_to_group(b"g", slot, StreamId::MIN, 1, false, 7, |_, _| {});
    assert_eq!(n, 1);
    let g = s.group(b"g").unwrap();
    assert_eq!((g.entries_read, g.last_id), (1, StreamId::new(1, 0)));
    assert_eq!(s.group_lag(g), Some(4));
    // A tombstone ahead of the group makes the lag unknown until read past it.
    s.delete(StreamId::new(3, 0));
    s.note_deleted(StreamId::new(3, 0), false);
    assert_eq!(s.group_lag(s.group(b"g").unwrap()), None);
    let (n, _) = s.deliver_to_group(b"g", slot, StreamId::new(1, 1), 0, false, 8, |_, _| {});
    assert_eq!(n, 3);
    let g = s.group(b"g").unwrap();
    assert_eq!((g.entries_read, s.group_lag(g)), (5, Some(0)));
    assert_eq!(g.pel.len(), 4);
    // History: the consumer's pending entries, counted as delivered again.
    let mut seen = Vec::new();
    s.read_history(b"g", slot, StreamId::MIN, 0, 9, |id, e| seen.push((id.ms, e.is_some())));
    assert_eq!(seen, vec![(1, true), (2, true), (4, true), (5, true)]);
    assert_eq!(s.group(b"g").unwrap().pel[&StreamId::new(1, 0)].delivery_count, 2);
}

#[test]
fn rdb_round_trip_keeps_everything() {
    use crate::persist::rdb::read::RdbReader;
    use crate::persist::rdb::write::RdbWriter;
    let mut s = Stream::new();
    for i in 1..=250u64 {
        let v = i.to_string();
        s.append(&[b"k", v.as_bytes()], at(i, 0), 0, Limits::default()).unwrap();
    }
    s.delete(StreamId::new(7, 0));
    s.note_deleted(StreamId::new(7, 0), false);
    s.create_group(b"g1", StreamId::MIN, 0);
    let a = s.group_mut(b"g1").unwrap().create_consumer(b"alice", 42).unwrap();
    s.group_mut(b"g1").unwrap().create_consumer(b"bob", 43).unwrap();
    s.deliver_to_group(b"g1", a, StreamId::MIN, 3, false, 1000, |_, _| {});
    let mut w = RdbWriter::new(Vec::new(), true);
    rdb::write(&mut w, &s).unwrap();
    let bytes = w.into_inner();
    let back = rdb::read(&mut RdbReader::new(&bytes), rdb::TYPE).unwrap();
    assert_eq!(back.len(), s.len());
    assert_eq!(back.node_count(), s.node_count());
    assert_eq!(
        (back.last_id, back.first_id, back.max_deleted_entry_id),
        (s.last_id, s.first_id, s.max_deleted_entry_id)
    );
    assert_eq!(back.entries_added, 250);
    let g = back.group(b"g1").unwrap();
    assert_eq!(g.pel.len(), 3);
    assert_eq!(g.consumer_count(), 2);
    let alice = g.consumer(g.find(b"alice").unwrap());
    assert_eq!((alice.seen_time, alice.pel.len()), (42, 3));
    // Truncations are errors, not panics.
    for cut in 0..bytes.len() {
        assert!(rdb::read(&mut RdbReader::new(&bytes[..cut]), rdb::TYPE).is_err());
    }
}

#[test]
fn radix_node_counts() {
    let mut s = Stream::new();
    assert_eq!(s.radix_tree_nodes(), 1);
    add(&mut s, 1, 0, &[b"f", b"v"]);
    assert_eq!(s.radix_tree_nodes(), 2);
}

#[test]
fn loads_pre_7_streams_like_redis() {
    // The payload of the Tcl suite's "Loading from legacy (Redis <= v6.2.x, rdb_ver < 10)
    // persistence" test: a v5 DUMP (type 15) of x after XADD 1-0..6-0, XDEL 3-0, groups g1
    // and g2 at 0, XREADGROUP GROUP g1 c11 COUNT 4, XTRIM MAXLEN = 2.
    let dump = unhex(concat!(
        "0f011000000000000000010000000000000000c3404a4057165700000023000201040101018464617461050001030100",
        "20010381610204200a0001400a0062600a0002400a0063600a4022018164200a4039200a0065600a0005400a0066200a",
        "00ff02060002026731050004000000000000000100000000000000003ef783437a010000010000000000000002000000",
        "00000000003ef783437a01000001000000000000000400000000000000003ef783437a01000001000000000000000500",
        "000000000000003ef783437a0100000101036331313ef783437a01000004000000000000000100000000000000000000",
        "000000000002000000000000000000000000000000040000000000000000000000000000000500000000000000000267",
        "320000000009003d52ef6867521dfa",
    ));
    let s = rdb::read(&mut crate::persist::rdb::read::RdbReader::new(&dump[1..]), dump[0]).unwrap();
    assert_eq!((s.len(), s.entries_added, s.max_deleted_entry_id), (2, 2, StreamId::MIN));
    assert_eq!(s.first_id, StreamId::new(5, 0));
    let g1 = s.group(b"g1").unwrap();
    assert_eq!((g1.entries_read, s.group_lag(g1)), (1, Some(1)));
    let g2 = s.group(b"g2").unwrap();
    assert_eq!((g2.entries_read, s.group_lag(g2)), (0, Some(2)));
    assert_eq!(g1.pel.len(), 4);
    assert_eq!(g1.consumer(g1.find(b"c11").unwrap()).pel.len(), 4);
}
