//! maxmemory and eviction policies, against the real `spinel` binary.
//!
//! The in-process test server runs under the test binary's allocator, which does not count
//! allocations, and shares the process with every other test; the eviction contract needs the
//! binary's own used_memory. So these tests spawn `spinel` (on a free loopback port, without
//! the REST API) and wait for its "Ready to accept connections" line.
//!
//! Each policy gets a fresh budget (used_memory of the empty server + 1 MB), writes about 4 MB
//! of 1 KB values through it, and checks the policy's contract after every write: the write
//! succeeds (or fails with OOM where the policy says so) and used_memory stays at or under
//! maxmemory. `maxmemory-eviction-tenacity 100` lets every round finish within its command,
//! so the checks do not depend on timing.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::harness::{bulk, error_text, int, ok, Conn, Frame};

/// Slack for the INFO reply itself: it is built (and counted) after the command's eviction.
const INFO_SLACK: u64 = 32 * 1024;
const BUDGET: u64 = 1 << 20;
const VALUE_LEN: usize = 1000;

struct Spinel {
    child: Child,
    port: u16,
}

impl Spinel {
    fn spawn() -> Spinel {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_spinel"))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--http-port", "0", "--maxmemory-eviction-tenacity", "100", "--lfu-decay-time", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn spinel");
        let out = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(out).lines();
        loop {
            let line = lines.next().expect("spinel exited before it was ready").expect("read log");
            if line.contains("Ready to accept connections") {
                break;
            }
        }
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Spinel { child, port }
    }
}

impl Drop for Spinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn info_field(c: &mut Conn, section: &str, field: &str) -> u64 {
    let Frame::Bulk(text) = c.cmd(&["INFO", section]) else { panic!("INFO reply") };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().parse().expect("number")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

fn exists(c: &mut Conn, key: &str) -> bool {
    c.cmd(&["EXISTS", key]) == Frame::Integer(1)
}

/// Empties the server, selects `policy` and sets maxmemory to the empty server's usage plus
/// the budget; returns maxmemory.
fn prepare(c: &mut Conn, policy: &str) -> u64 {
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]), ok());
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    let max = info_field(c, "memory", "used_memory") + BUDGET;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &max.to_string()]), ok());
    max
}

fn assert_under(c: &mut Conn, max: u64, what: &str) {
    let used = info_field(c, "memory", "used_memory");
    assert!(used <= max + INFO_SLACK, "{what}: used_memory {used} > maxmemory {max}");
}

/// Writes `count` keys `prefix:i` (with TTL `ttl(i)` seconds if given), checking after each
/// write that it succeeded and memory is under the limit.
fn fill(c: &mut Conn, max: u64, prefix: &str, count: usize, ttl: Option<&dyn Fn(usize) -> u64>) {
    let value = "x".repeat(VALUE_LEN);
    for i in 0..count {
        let key = format!("{prefix}:{i}");
        let reply = match ttl {
            Some(f) => c.cmd(&["SET", &key, &value, "EX", &f(i).to_string()]),
            None => c.cmd(&["SET", &key, &value]),
        };
        assert_eq!(reply, ok(), "SET {key}");
        assert_under(c, max, &key);
    }
}

/// How many keys fill the budget about four times over.
const FILL: usize = 4 * (BUDGET as usize) / VALUE_LEN;

#[test]
fn allkeys_policies_evict_and_stay_under_maxmemory() {
    let srv = Spinel::spawn();
    let mut c = Conn::open_port(srv.port);
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let max = prepare(&mut c, policy);
        // Hot keys, read many times: under LFU their counters rise above new keys'.
        fill(&mut c, max, "hot", 20, None);
        for _ in 0..20 {
            for i in 0..20 {
                // GET touches the key (EXISTS does not, as in Redis).
                assert!(matches!(c.cmd(&["GET", &format!("hot:{i}")]), Frame::Bulk(_)));
            }
        }
        fill(&mut c, max, "k", FILL, None);
        // Memory hovers at the limit, so any command may evict one more key: stop evicting
        // before counting.
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        let Frame::Integer(dbsize) = c.cmd(&["DBSIZE"]) else { panic!("DBSIZE") };
        assert!(evicted > 0, "{policy}: nothing evicted");
        assert_eq!(dbsize as u64 + evicted, FILL as u64 + 20, "{policy}: keys lost or duplicated");
        if policy == "allkeys-lfu" {
            // With lfu-decay-time 0 the hot keys' counters never fall back to a new key's.
            for i in 0..20 {
                assert!(exists(&mut c, &format!("hot:{i}")), "allkeys-lfu evicted hot:{i}");
            }
        }
    }
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    let srv = Spinel::spawn();
    let mut c = Conn::open_port(srv.port);
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let max = prepare(&mut c, policy);
        // A quarter of the budget in keys without a TTL: they must all survive.
        let persistent = (BUDGET as usize / VALUE_LEN) / 4;
        fill(&mut c, max, "keep", persistent, None);
        // TTLs fall as keys are written: under volatile-ttl the newest go first.
        let ttl = |i: usize| 1_000_000 - i as u64;
        fill(&mut c, max, "ttl", FILL, Some(&ttl));
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        assert!(evicted > 0, "{policy}: nothing evicted");
        for i in 0..persistent {
            assert!(exists(&mut c, &format!("keep:{i}")), "{policy} evicted keep:{i}, which has no TTL");
        }
        let survivors: Vec<usize> = (0..FILL).filter(|i| exists(&mut c, &format!("ttl:{i}"))).collect();
        assert_eq!(survivors.len() as u64 + evicted, FILL as u64, "{policy}");
        if policy == "volatile-ttl" {
            // The survivors are mostly the longest TTLs (written first), where any other
            // policy keeps mostly the newest keys; the sampling makes it approximate (redis-server
            // keeps about twice as many from the first half as from the second).
            let early = survivors.iter().filter(|&&i| i < FILL / 2).count();
            let late = survivors.len() - early;
            assert!(early > late, "volatile-ttl kept {early} early (long TTL) vs {late} late (short TTL) keys");
        }
        // With no TTL keys left to evict, writes past the limit are refused.
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]), ok());
        for i in survivors {
            c.cmd(&["PERSIST", &format!("ttl:{i}")]);
        }
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]), ok());
        assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &(max - BUDGET / 2).to_string()]), ok());
        let reply = c.cmd(&["SET", "one-more", "v"]);
        assert_eq!(
            error_text(&reply),
            "OOM command not allowed when used memory > 'maxmemory'.",
            "{policy} without TTL keys"
        );
    }
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let srv = Spinel::spawn();
    let mut c = Conn::open_port(srv.port);
    prepare(&mut c, "noeviction");
    let value = "x".repeat(VALUE_LEN);
    let mut written = 0;
    let oom = loop {
        let reply = c.cmd(&["SET", &format!("k:{written}"), &value]);
        if reply != ok() {
            break reply;
        }
        written += 1;
        assert!(written <= FILL, "noeviction never refused a write");
    };
    assert_eq!(error_text(&oom), "OOM command not allowed when used memory > 'maxmemory'.");
    assert!(written > 0);
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    // Reads and deletions still run; deny-oom commands and queued ones do not.
    assert_eq!(c.cmd(&["GET", "k:0"]), Frame::Bulk(value.clone().into_bytes()));
    assert_eq!(error_text(&c.cmd(&["LPUSH", "l", "a"])), "OOM command not allowed when used memory > 'maxmemory'.");
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert!(error_text(&c.cmd(&["GET", "k:0"])).starts_with("OOM"));
    assert!(error_text(&c.cmd(&["EXEC"])).starts_with("EXECABORT"));
    let keys: Vec<String> = (0..written).map(|i| format!("k:{i}")).collect();
    let mut del = vec!["DEL"];
    del.extend(keys.iter().map(String::as_str));
    assert_eq!(c.cmd(&del), Frame::Integer(written as i64));
    assert_eq!(c.cmd(&["SET", "after", "v"]), ok());
    let errors = info_field(&mut c, "stats", "total_error_replies");
    assert!(errors >= 3, "{errors}");
}

#[test]
fn lowering_maxmemory_evicts_down_to_it_with_events() {
    let srv = Spinel::spawn();
    let mut c = Conn::open_port(srv.port);
    let max = prepare(&mut c, "allkeys-random");
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]), ok());
    let mut sub = Conn::open_port(srv.port);
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    fill(&mut c, max, "k", BUDGET as usize / VALUE_LEN / 2, None);
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
    let lower = max - BUDGET / 2;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &lower.to_string()]), ok());
    assert_under(&mut c, lower, "after CONFIG SET maxmemory");
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 0);
    // One `evicted` event per evicted key, naming keys that are gone.
    let mut seen = HashSet::new();
    for _ in 0..evicted {
        let Frame::Array(msg) = sub.read() else { panic!("pubsub message") };
        let Some(Frame::Bulk(key)) = msg.get(2) else { panic!("message payload") };
        seen.insert(String::from_utf8_lossy(key).into_owned());
    }
    assert_eq!(seen.len() as u64, evicted);
    for key in &seen {
        assert!(!exists(&mut c, key), "{key} was reported evicted but exists");
    }
}

#[test]
fn object_freq_and_idletime_follow_the_policy() {
    let srv = Spinel::spawn();
    let mut c = Conn::open_port(srv.port);
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // Idle time has a resolution of one second: the clock may tick in between.
    let Frame::Integer(idle) = c.cmd(&["OBJECT", "IDLETIME", "k"]) else { panic!("IDLETIME") };
    assert!(idle <= 1, "{idle}");
    assert!(error_text(&c.cmd(&["OBJECT", "FREQ", "k"])).starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]), ok());
    assert_eq!(c.cmd(&["SET", "f", "v"]), ok());
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "f"]), Frame::Integer(5));
    c.cmd(&["GET", "f"]);
    // The first access from the initial counter always counts.
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "f"]), Frame::Integer(6));
    assert!(error_text(&c.cmd(&["OBJECT", "IDLETIME", "f"])).starts_with("ERR An LFU maxmemory policy is selected"));
}

/// A key evicted before a command runs is invalidated before that command's reply, even for
/// the client running it (Redis defers only invalidations made while a command executes).
#[test]
fn tracking_invalidation_of_an_evicted_key_comes_before_the_reply() {
    let s = Spinel::spawn();
    let mut t = Conn::open_port(s.port);
    assert!(matches!(t.cmd(&["HELLO", "3"]), Frame::Map(_)));
    assert_eq!(t.cmd(&["CLIENT", "TRACKING", "on"]), ok());
    assert_eq!(t.cmd(&["CONFIG", "SET", "maxmemory-policy", "volatile-random"]), ok());
    let info = String::from_utf8_lossy(&t.raw(&["INFO", "memory"])).to_string();
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO");
    let limit = (used + 100 * 1024).to_string();
    assert_eq!(t.cmd(&["CONFIG", "SET", "maxmemory", &limit]), ok());
    assert_eq!(t.cmd(&["SETEX", "volatile-key", "10000", "x"]), ok());
    assert_eq!(t.cmd(&["GET", "volatile-key"]), bulk("x"));
    // 200 kB: over the limit, so the next command evicts the only volatile key first.
    assert_eq!(t.cmd(&["SETBIT", "big-key", "1600000", "0"]), int(0));
    t.send_cmd(&["GETBIT", "big-key", "0"]);
    t.expect_raw(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$12\r\nvolatile-key\r\n:0\r\n");
    assert_eq!(t.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
}
