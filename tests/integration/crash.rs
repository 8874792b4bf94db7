//! kill -9 at random moments: with `appendfsync always` every acknowledged write survives,
//! and a crash during BGSAVE or BGREWRITEAOF leaves the old files or the new ones, never a
//! mix (the server always restarts). Each test runs a few bounded rounds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::proc::{Frame, Launch, Proc, TempDir};

/// A small xorshift generator seeded from the clock (the moments of the kills vary).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Rng(t.as_nanos() as u64 | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Waits until writers have had `n` batches acknowledged (bounded: 30 s).
fn wait_progress(progress: &AtomicU64, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while progress.load(Ordering::Relaxed) < n {
        assert!(std::time::Instant::now() < deadline, "writes are not being acknowledged");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Writers pipelining `SET w:<round>:<t>:<i> <i>` and `INCR c:<t>` until the server dies;
/// returns, per writer, how many of each were acknowledged. `progress` counts acknowledged
/// batches (a kill is only meaningful once writes are flowing).
fn write_until_killed(
    p: &Proc,
    round: u32,
    writers: usize,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
) -> Vec<std::thread::JoinHandle<u64>> {
    (0..writers)
        .map(|t| {
            let mut c = p.client();
            let stop = stop.clone();
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut acked = 0u64;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let batch = 8;
                    for j in 0..batch {
                        let key = format!("w:{round}:{t}:{}", i + j);
                        c.send(&["SET", &key, &(i + j).to_string()]);
                        c.send(&["INCR", &format!("c:{t}")]);
                    }
                    for _ in 0..batch {
                        match (c.read(), c.read()) {
                            (Some(Frame::Simple(_)), Some(Frame::Integer(_))) => acked += 1,
                            _ => return acked,
                        }
                    }
                    i += batch;
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                acked
            })
        })
        .collect()
}

fn check_acknowledged(p: &Proc, round: u32, acked: &[u64], counters_before: &[i64]) {
    let mut c = p.client();
    for (t, &n) in acked.iter().enumerate() {
        for start in (0..n).step_by(500) {
            let keys: Vec<String> = (start..n.min(start + 500)).map(|i| format!("w:{round}:{t}:{i}")).collect();
            let mut args = vec!["MGET"];
            args.extend(keys.iter().map(String::as_str));
            let Frame::Array(values) = c.cmd(&args) else { panic!("MGET") };
            for (k, (key, v)) in keys.iter().zip(values).enumerate() {
                let i = start + k as u64;
                assert_eq!(
                    v,
                    Frame::Bulk(i.to_string().into_bytes()),
                    "acknowledged write {key} lost in round {round}"
                );
            }
        }
        let Frame::Bulk(v) = c.cmd(&["GET", &format!("c:{t}")]) else {
            assert_eq!(n, 0, "counter c:{t} lost");
            continue;
        };
        let v: i64 = String::from_utf8_lossy(&v).parse().unwrap_or(-1);
        assert!(v >= counters_before[t] + n as i64, "counter c:{t} = {v} < {} + {n}", counters_before[t]);
    }
}

fn counters(p: &Proc, writers: usize) -> Vec<i64> {
    let mut c = p.client();
    (0..writers)
        .map(|t| match c.cmd(&["GET", &format!("c:{t}")]) {
            Frame::Bulk(v) => String::from_utf8_lossy(&v).parse().unwrap_or(0),
            _ => 0,
        })
        .collect()
}

#[test]
fn kill_9_under_writes_keeps_every_acknowledged_write() {
    let root = TempDir::new("crash-aof");
    let conf = "appendonly yes\nappendfsync always\nsave \"\"\n";
    let mut rng = Rng::new();
    let writers = 4;
    for round in 0..4 {
        let mut p = Proc::start(root.path(), conf, Launch::Plain).expect("server starts after a crash");
        let before = counters(&p, writers);
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicU64::new(0));
        let threads = write_until_killed(&p, round, writers, stop.clone(), progress.clone());
        wait_progress(&progress, 4);
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        p.kill();
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap_or(0)).collect();
        assert!(acked.iter().sum::<u64>() > 0, "no write was acknowledged in round {round}");
        let p = Proc::start(root.path(), conf, Launch::Plain).expect("server restarts");
        check_acknowledged(&p, round, &acked, &before);
        drop(p);
    }
}

/// A dataset generation: `gen` = g and 2000 keys `g<g>:<i>`.
fn write_generation(c: &mut crate::proc::Client, g: u32) {
    for chunk in 0..20 {
        let mut args = vec!["MSET".to_string()];
        for i in chunk * 100..(chunk + 1) * 100 {
            args.push(format!("g{g}:{i}"));
            args.push(format!("value-{g}-{i}-{}", "x".repeat(40)));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&refs), Frame::Simple(b"OK".to_vec()));
    }
    assert_eq!(c.cmd(&["SET", "gen", &g.to_string()]), Frame::Simple(b"OK".to_vec()));
}

/// The generation the restarted server holds; it must be complete.
fn loaded_generation(p: &Proc) -> u32 {
    let mut c = p.client();
    let Frame::Bulk(g) = c.cmd(&["GET", "gen"]) else { panic!("no generation loaded") };
    let g: u32 = String::from_utf8_lossy(&g).parse().expect("generation");
    let Frame::Integer(n) = c.cmd(&["DBSIZE"]) else { panic!("DBSIZE") };
    assert_eq!(n, 2001, "a mixed or partial dataset was loaded (generation {g})");
    let Frame::Bulk(v) = c.cmd(&["GET", &format!("g{g}:1999")]) else { panic!("last key of generation {g} missing") };
    assert!(v.starts_with(format!("value-{g}-1999").as_bytes()));
    g
}

#[test]
fn kill_9_during_bgsave_leaves_the_old_or_the_new_file() {
    let root = TempDir::new("crash-bgsave");
    let conf = "save \"\"\nappendonly no\nrdb-key-save-delay 100\n";
    let mut rng = Rng::new();
    let mut p = Proc::start(root.path(), conf, Launch::Plain).unwrap();
    let mut c = p.client();
    write_generation(&mut c, 0);
    assert_eq!(c.cmd(&["SAVE"]), Frame::Simple(b"OK".to_vec()));
    let mut saved = 0;
    for round in 1..5u32 {
        let mut c = p.client();
        c.cmd(&["FLUSHALL"]);
        write_generation(&mut c, round);
        assert_eq!(c.cmd(&["BGSAVE"]), Frame::Simple(b"Background saving started".to_vec()));
        // The walk takes 2001 keys × 100 µs ≈ 0.2 s: kill before, during or after it.
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        p.kill();
        p = Proc::start(root.path(), conf, Launch::Plain).expect("server restarts after a crash during BGSAVE");
        let g = loaded_generation(&p);
        assert!(g == saved || g == round, "generation {g} is neither the old ({saved}) nor the new ({round})");
        saved = g;
    }
}

#[test]
fn kill_9_during_bgrewriteaof_loses_nothing() {
    let root = TempDir::new("crash-aofrw");
    let conf = "appendonly yes\nappendfsync always\nsave \"\"\nrdb-key-save-delay 200\n";
    let mut rng = Rng::new();
    let writers = 2;
    let mut before = vec![0i64; writers];
    let mut p = Proc::start(root.path(), conf, Launch::Plain).unwrap();
    let mut c = p.client();
    write_generation(&mut c, 0);
    for round in 0..4u32 {
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(AtomicU64::new(0));
        let threads = write_until_killed(&p, round, writers, stop.clone(), progress.clone());
        wait_progress(&progress, 2);
        let mut admin = p.client();
        let reply = admin.cmd(&["BGREWRITEAOF"]);
        assert!(matches!(reply, Frame::Simple(_)), "{reply:?}");
        std::thread::sleep(Duration::from_millis(rng.below(600)));
        p.kill();
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap_or(0)).collect();
        p = Proc::start(root.path(), conf, Launch::Plain).expect("server restarts after a crash during a rewrite");
        check_acknowledged(&p, round, &acked, &before);
        assert_eq!(loaded_generation_keys(&p), 2000, "base data lost in round {round}");
        before = counters(&p, writers);
    }
}

fn loaded_generation_keys(p: &Proc) -> usize {
    let mut c = p.client();
    (0..2000).filter(|i| matches!(c.cmd(&["EXISTS", &format!("g0:{i}")]), Frame::Integer(1))).count()
}
