//! Quicklist tests: every operation checked against a plain `VecDeque` model under many
//! fills and compress depths, plus the node bounds Redis documents.

use std::collections::VecDeque;

use super::*;
use crate::util::rand::Rng;

fn model_check(ql: &QuickList, model: &VecDeque<Vec<u8>>) {
    assert_eq!(ql.len(), model.len());
    let got = ql.to_vecs();
    assert_eq!(got.len(), model.len());
    for (i, (a, b)) in got.iter().zip(model.iter()).enumerate() {
        assert_eq!(a, b, "element {i}");
    }
    // Reverse scan agrees too.
    let mut back = Vec::new();
    if !model.is_empty() {
        ql.scan(model.len() - 1, true, |e| {
            back.push(e.to_vec());
            true
        });
    }
    back.reverse();
    assert_eq!(back, got);
    // Node invariants: counts add up, listpacks are valid, nothing empty, the ends are raw.
    let mut total = 0;
    for (i, node) in ql.nodes.iter().enumerate() {
        assert!(node.count > 0, "empty node {i}");
        total += node.count as usize;
        if !node.is_plain() {
            assert_eq!(listpack::validate(&node.raw()), Some(node.count as usize));
        }
        let d = ql.compress as usize;
        if i < d || i + d >= ql.nodes.len() {
            assert!(!node.is_compressed(), "end node {i} compressed");
        }
    }
    assert_eq!(total, ql.len());
}

fn random_value(rng: &mut Rng) -> Vec<u8> {
    match rng.next_u64() % 6 {
        0 => (rng.next_u64() % 200).to_string().into_bytes(),
        1 => (rng.next_u64() as i64).to_string().into_bytes(),
        2 => vec![b'a' + (rng.next_u64() % 3) as u8; (rng.next_u64() % 10) as usize],
        3 => vec![b'x'; 50 + (rng.next_u64() % 600) as usize],
        4 => vec![b'y'; 4000 + (rng.next_u64() % 6000) as usize],
        _ => format!("v{}", rng.next_u64() % 20).into_bytes(),
    }
}

fn run_model(fill: i64, depth: i64, ops: usize, seed: u64) {
    let mut rng = Rng::from_seed(seed);
    let mut ql = QuickList::new(fill, depth);
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    for step in 0..ops {
        let op = rng.next_u64() % 10;
        let len = model.len();
        match op {
            0 | 1 => {
                let v = random_value(&mut rng);
                ql.push(Where::Tail, &v);
                model.push_back(v);
            }
            2 => {
                let v = random_value(&mut rng);
                ql.push(Where::Head, &v);
                model.push_front(v);
            }
            3 => assert_eq!(ql.pop(Where::Head), model.pop_front(), "step {step}"),
            4 => assert_eq!(ql.pop(Where::Tail), model.pop_back(), "step {step}"),
            5 if len > 0 => {
                let i = (rng.next_u64() % len as u64) as usize;
                let v = random_value(&mut rng);
                assert!(ql.replace(i as i64, &v));
                model[i] = v;
            }
            6 if len > 0 => {
                let i = (rng.next_u64() % len as u64) as usize;
                let pivot = model[i].clone();
                let first = model.iter().position(|x| *x == pivot).unwrap();
                let v = random_value(&mut rng);
                let after = rng.next_u64() % 2 == 0;
                assert!(ql.insert_by_pivot(&pivot, after, &v));
                model.insert(if after { first + 1 } else { first }, v);
            }
            7 if len > 0 => {
                let start = (rng.next_u64() % len as u64) as usize;
                let n = (rng.next_u64() % 40) as usize;
                ql.del_range(start, n);
                let end = (start + n).min(len);
                model.drain(start..end);
            }
            8 if len > 0 => {
                let i = (rng.next_u64() % len as u64) as usize;
                let needle = model[i].clone();
                let limit = (rng.next_u64() % 3) as usize;
                let from_tail = rng.next_u64() % 2 == 0;
                let removed = ql.remove_matching(&needle, limit, from_tail);
                let mut gone = 0;
                if from_tail {
                    let mut j = model.len();
                    while j > 0 && (limit == 0 || gone < limit) {
                        j -= 1;
                        if model[j] == needle {
                            model.remove(j);
                            gone += 1;
                        }
                    }
                } else {
                    let mut j = 0;
                    while j < model.len() && (limit == 0 || gone < limit) {
                        if model[j] == needle {
                            model.remove(j);
                            gone += 1;
                        } else {
                            j += 1;
                        }
                    }
                }
                assert_eq!(removed, gone, "step {step}");
            }
            _ => {
                if len > 0 {
                    let i = (rng.next_u64() % len as u64) as i64;
                    assert_eq!(ql.with_index(i, |e| e.to_vec()).as_ref(), Some(&model[i as usize]));
                    assert_eq!(ql.with_index(i - len as i64, |e| e.to_vec()).as_ref(), Some(&model[i as usize]));
                }
                assert!(ql.with_index(len as i64, |_| ()).is_none());
            }
        }
        if step % 37 == 0 {
            model_check(&ql, &model);
        }
    }
    model_check(&ql, &model);
    let copy = ql.clone();
    model_check(&copy, &model);
}

#[test]
fn matches_model_across_fills_and_depths() {
    let mut seed = 1;
    for fill in [-5, -2, -1, 1, 2, 4, 16, 128] {
        for depth in [0, 1, 2] {
            run_model(fill, depth, 1500, seed);
            seed += 1;
        }
    }
}

#[test]
fn matches_model_with_plain_nodes() {
    // Elements of 600 bytes and more get plain nodes.
    TEST_THRESHOLD.with(|t| t.set(Some(600)));
    let mut seed = 100;
    for fill in [-2, 3] {
        for depth in [0, 1] {
            run_model(fill, depth, 1500, seed);
            seed += 1;
        }
    }
    TEST_THRESHOLD.with(|t| t.set(Some(1)));
    run_model(-2, 1, 800, 7);
    TEST_THRESHOLD.with(|t| t.set(None));
}

#[test]
fn node_bounds_follow_fill() {
    // -2: nodes of at most 8 KiB.
    let mut ql = QuickList::new(-2, 0);
    for i in 0..10000 {
        ql.push(Where::Tail, format!("element:{i}").as_bytes());
    }
    assert!(ql.nodes.iter().all(|n| n.sz() <= 8192));
    assert!(ql.node_count() < 20, "nodes are filled: {}", ql.node_count());
    // Positive fill: entry counts.
    let mut ql = QuickList::new(5, 0);
    for i in 0..23 {
        ql.push(Where::Tail, i.to_string().as_bytes());
    }
    assert_eq!(ql.nodes.iter().map(|n| n.count).collect::<Vec<_>>(), vec![5, 5, 5, 5, 3]);
    // Out-of-range settings are clamped like Redis's.
    let ql = QuickList::new(-100, 1 << 20);
    assert_eq!((ql.fill, ql.compress), (-5, 65535));
}

#[test]
fn interior_nodes_get_compressed_and_read_back() {
    let mut ql = QuickList::new(-1, 1);
    let mut model = VecDeque::new();
    for i in 0..5000 {
        let v = format!("compressible-value-{}", i % 10).into_bytes();
        ql.push(Where::Tail, &v);
        model.push_back(v);
    }
    assert!(ql.nodes.iter().filter(|n| n.is_compressed()).count() > 2);
    model_check(&ql, &model);
    assert!(ql.replace(2500, b"changed"));
    model[2500] = b"changed".to_vec();
    ql.del_range(0, 4000);
    model.drain(0..4000);
    model_check(&ql, &model);
}

#[test]
fn packed_threshold_makes_plain_nodes() {
    assert!(!set_packed_threshold(1 << 33));
    TEST_THRESHOLD.with(|t| t.set(Some(1000)));
    let mut ql = QuickList::new(-2, 0);
    ql.push(Where::Tail, b"a");
    ql.push(Where::Tail, &[b'z'; 2000]);
    ql.push(Where::Tail, b"b");
    assert_eq!(ql.nodes.iter().map(|n| n.is_plain()).collect::<Vec<_>>(), vec![false, true, false]);
    // LSET across kinds: plain -> packed and packed -> plain.
    assert!(ql.replace(1, b"small"));
    assert!(ql.replace(0, &[b'q'; 1500]));
    assert_eq!(ql.to_vecs(), vec![vec![b'q'; 1500], b"small".to_vec(), b"b".to_vec()]);
    assert!(ql.nodes[0].is_plain());
    TEST_THRESHOLD.with(|t| t.set(None));
}
