//! The snapshot must equal the dataset at its start, whatever happens while it runs.

use std::time::Duration;

use super::*;
use crate::config::Config;
use crate::keyspace::{Lookup, Value};
use crate::persist::rdb::dataset::{parse, save, CollectSink, SaveOptions};
use crate::util::rand::Rng;

fn collect(image: &[u8]) -> CollectSink {
    let mut sink = CollectSink::default();
    parse(image, &mut sink, true, 0).expect("valid image");
    sink
}

fn populate(srv: &mut Server, rng: &mut Rng, n: usize) {
    for i in 0..n {
        let db = i % 3;
        let key = format!("key:{i}");
        let value = format!("value-{}-{}", i, "x".repeat((rng.next_u64() % 40) as usize));
        let (d, fx) = (&mut srv.dbs[db], &mut srv.fx);
        d.set(fx, key.as_bytes(), Value::Str(value.as_bytes()), false);
        if i % 7 == 0 {
            d.set_expire(key.as_bytes(), fx.now_ms + 1_000_000 + i as i64);
        }
    }
}

/// One random change through the keyspace's public paths.
fn mutate(srv: &mut Server, rng: &mut Rng, round: usize) {
    let db = (rng.next_u64() % 3) as usize;
    let key = format!("key:{}", rng.next_u64() % 6000);
    let k = key.as_bytes();
    let (d, fx) = (&mut srv.dbs[db], &mut srv.fx);
    match rng.next_u64() % 10 {
        0..=2 => d.set(fx, k, Value::Str(format!("new-{round}").as_bytes()), false),
        3 => {
            d.delete(fx, k);
        }
        4 => d.set_expire(k, fx.now_ms + 5_000_000),
        5 => {
            d.persist(k);
        }
        6 => {
            if let Some(e) = d.lookup(fx, k, Lookup::WRITE) {
                if let Some(raw) = e.raw_string_mut() {
                    raw.extend_from_slice(b"+appended");
                }
            }
        }
        7 => {
            if let Some(e) = d.remove_entry(k) {
                let to = format!("renamed:{round}");
                d.insert_entry(e.rekey(to.as_bytes()));
            }
        }
        8 => {
            let fresh = format!("fresh:{round}");
            d.add(fx, fresh.as_bytes(), Value::Str(b"created during the snapshot"));
        }
        _ => {
            if round % 500 == 0 {
                let (a, b) = srv.dbs.split_at_mut(1);
                a[0].swap_data(&mut b[0]);
            }
        }
    }
}

fn wait_outcome(srv: &mut Server) -> Outcome {
    for _ in 0..2000 {
        if srv.persistence.snapshot.as_ref().is_some_and(|j| j.finished()) {
            let mut job = srv.persistence.snapshot.take().expect("job");
            return job.take_outcome();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("snapshot never finished");
}

#[test]
fn snapshot_equals_the_dataset_at_its_start() {
    let dir = std::env::temp_dir().join(format!("spinel-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut srv = Server::new(Config::new());
    let mut rng = Rng::seeded();
    populate(&mut srv, &mut rng, 5000);
    let before = collect(&save(&srv, Vec::new(), SaveOptions::from_config(&srv)).unwrap());
    let path = dir.join("snap.rdb");
    start(&mut srv, Purpose::Rdb, Format::Rdb, path.clone(), None, None).unwrap();
    let mut round = 0;
    while srv.persistence.snapshot.as_ref().is_some_and(|j| !j.walked) {
        step(&mut srv, Duration::from_micros(5));
        for _ in 0..20 {
            round += 1;
            mutate(&mut srv, &mut rng, round);
        }
    }
    // Growth far past the table's fill while the snapshot holds it still.
    for i in 0..40_000 {
        let (d, fx) = (&mut srv.dbs[2], &mut srv.fx);
        d.set(fx, format!("bulk:{i}").as_bytes(), Value::Str(b"v"), false);
    }
    let outcome = wait_outcome(&mut srv);
    assert!(outcome.is_ok(), "{outcome:?}");
    let after = collect(&std::fs::read(&path).unwrap());
    assert_eq!(after.keys.len(), before.keys.len());
    assert!(after.keys == before.keys, "snapshot differs from the dataset at its start");
    assert!(round > 100, "the walk was not interleaved with writes ({round} rounds)");
    // No hold or mark is left behind: a new snapshot sees the current dataset.
    let now = collect(&save(&srv, Vec::new(), SaveOptions::from_config(&srv)).unwrap());
    start(&mut srv, Purpose::Rdb, Format::Rdb, path.clone(), None, None).unwrap();
    run_to_end(&mut srv);
    assert!(wait_outcome(&mut srv).is_ok());
    assert!(collect(&std::fs::read(&path).unwrap()).keys == now.keys);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn growth_past_the_hold_finishes_the_database_early() {
    let dir = std::env::temp_dir().join(format!("spinel-snap-grow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut srv = Server::new(Config::new());
    let mut rng = Rng::seeded();
    populate(&mut srv, &mut rng, 300);
    let before = collect(&save(&srv, Vec::new(), SaveOptions::from_config(&srv)).unwrap());
    let path = dir.join("grow.rdb");
    start(&mut srv, Purpose::Rdb, Format::Rdb, path.clone(), None, None).unwrap();
    for i in 0..20_000 {
        let (d, fx) = (&mut srv.dbs[i % 3], &mut srv.fx);
        d.set(fx, format!("grow:{i}").as_bytes(), Value::Str(b"v"), false);
    }
    assert!(srv.dbs.iter().all(|d| d.snapshot_origin().is_none_or(|_| true)));
    run_to_end(&mut srv);
    assert!(wait_outcome(&mut srv).is_ok());
    assert!(collect(&std::fs::read(&path).unwrap()).keys == before.keys);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn killing_a_snapshot_leaves_no_file_and_no_hold() {
    let dir = std::env::temp_dir().join(format!("spinel-snap-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut srv = Server::new(Config::new());
    let mut rng = Rng::seeded();
    populate(&mut srv, &mut rng, 3000);
    let path = dir.join("killed.rdb");
    start(&mut srv, Purpose::Rdb, Format::Rdb, path.clone(), None, None).unwrap();
    step(&mut srv, Duration::from_micros(1));
    kill(&mut srv);
    let outcome = wait_outcome(&mut srv);
    assert!(outcome.is_err());
    assert!(!path.exists());
    assert!(srv.dbs.iter().all(|d| d.snapshot_origin().is_none()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn drive_repeats_short_steps_when_idle_and_waits_for_a_tick_when_clients_ran() {
    let dir = std::env::temp_dir().join(format!("spinel-snap-drive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut srv = Server::new(Config::new());
    let mut rng = Rng::seeded();
    // Far more keys than a 250 µs step can walk, so every drive below leaves work to do.
    populate(&mut srv, &mut rng, 60_000);
    let path = dir.join("drive.rdb");
    start(&mut srv, Purpose::Rdb, Format::Rdb, path.clone(), None, None).unwrap();
    assert_eq!(drive(&mut srv), Progress::Again, "no command ran: an idle step, repeated at once");
    srv.stats.total_commands_processed += 1;
    assert_eq!(drive(&mut srv), Progress::More, "a command ran: the next step waits for a tick");
    assert_eq!(drive(&mut srv), Progress::Again);
    kill(&mut srv);
    assert!(wait_outcome(&mut srv).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
