//! SAVE/BGSAVE, save points, INFO persistence, DEBUG RELOAD, the AOF's behaviour on disk
//! (MULTI/EXEC written whole, torn tails, garbage, enabling at runtime, automatic rewrites),
//! DUMP/RESTORE errors and MIGRATE between two servers. Error texts are redis-server 7.0.15's.

use std::time::Duration;

use crate::harness::{bulk, err, int, ok, server, server_with, simple, Conn};
use crate::proc::{Frame, Launch, Proc, TempDir};

fn is_ok(f: &Frame) -> bool {
    *f == Frame::Simple(b"OK".to_vec())
}

/// A command with binary arguments.
fn cmdb(c: &mut Conn, args: &[&[u8]]) -> Frame {
    c.send(&Frame::command(args.iter().copied()));
    c.read()
}

#[test]
fn restore_errors_and_options() {
    let srv = server_with("enable-debug-command yes");
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "foo", "bar"]);
    let Frame::Bulk(p) = c.cmd(&["DUMP", "foo"]) else { panic!("DUMP") };
    let p = p.as_slice();
    assert_eq!(c.cmd(&["DUMP", "nokey"]), Frame::Null);
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"foo", b"0", p]), err("BUSYKEY Target key name already exists."));
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"foo", b"-1", p, b"REPLACE"]), err("ERR Invalid TTL value, must be >= 0"));
    assert_eq!(
        cmdb(&mut c, &[b"RESTORE", b"foo", b"x", p, b"REPLACE"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"foo", b"0", p, b"REPLACE", b"BOGUS"]), err("ERR syntax error"));
    assert_eq!(
        cmdb(&mut c, &[b"RESTORE", b"n", b"0", p, b"IDLETIME", b"-1"]),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        cmdb(&mut c, &[b"RESTORE", b"n", b"0", p, b"FREQ", b"256"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"n", b"0", p, b"IDLETIME", b"1", b"FREQ", b"1"]), err("ERR syntax error"));
    assert_eq!(c.cmd(&["RESTORE", "n", "0", "short"]), err("ERR DUMP payload version or checksum are wrong"));
    let mut bad = p.to_vec();
    bad[2] ^= 0x40;
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"n", b"0", &bad]), err("ERR DUMP payload version or checksum are wrong"));
    // A well-formed footer around garbage: the checksum passes, the value does not.
    assert_eq!(c.cmd(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]), ok());
    let garbage: &[u8] = b"\x0b\x05abcde\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"n", b"0", garbage]), err("ERR Bad data format"));
    assert_eq!(c.cmd(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]), ok());
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"copy", b"0", p]), ok());
    assert_eq!(c.cmd(&["GET", "copy"]), bulk("bar"));
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"gone", b"1000", p, b"ABSTTL"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "gone"]), int(0));
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"ttl", b"100000", p]), ok());
    let Frame::Integer(pttl) = c.cmd(&["PTTL", "ttl"]) else { panic!("PTTL") };
    assert!(pttl > 90_000 && pttl <= 100_000);
    assert_eq!(cmdb(&mut c, &[b"RESTORE", b"idle", b"0", p, b"IDLETIME", b"1000"]), ok());
    let Frame::Integer(idle) = c.cmd(&["OBJECT", "IDLETIME", "idle"]) else { panic!("IDLETIME") };
    assert!((1000..1010).contains(&idle));
}

#[test]
fn migrate_moves_copies_and_replaces_keys() {
    let (a, b) = (server(), server());
    let mut ca = Conn::open(&a);
    let mut cb = Conn::open(&b);
    let port = b.port.to_string();
    assert_eq!(ca.cmd(&["MIGRATE", "127.0.0.1", &port, "none", "0", "1000"]), simple("NOKEY"));
    ca.cmd(&["SET", "k1", "v1"]);
    ca.cmd(&["SET", "k2", "v2"]);
    ca.cmd(&["SET", "k3", "v3"]);
    ca.cmd(&["PEXPIRE", "k1", "100000"]);
    assert_eq!(ca.cmd(&["MIGRATE", "127.0.0.1", &port, "k1", "0", "1000"]), ok());
    assert_eq!(ca.cmd(&["EXISTS", "k1"]), int(0));
    assert_eq!(cb.cmd(&["GET", "k1"]), bulk("v1"));
    let Frame::Integer(ttl) = cb.cmd(&["PTTL", "k1"]) else { panic!("PTTL") };
    assert!(ttl > 0, "the TTL travelled");
    assert_eq!(ca.cmd(&["MIGRATE", "127.0.0.1", &port, "k2", "3", "1000", "COPY"]), ok());
    assert_eq!(ca.cmd(&["GET", "k2"]), bulk("v2"));
    cb.cmd(&["SELECT", "3"]);
    assert_eq!(cb.cmd(&["GET", "k2"]), bulk("v2"));
    cb.cmd(&["SELECT", "0"]);
    cb.cmd(&["SET", "k3", "old"]);
    assert_eq!(
        ca.cmd(&["MIGRATE", "127.0.0.1", &port, "k3", "0", "1000"]),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
    );
    assert_eq!(ca.cmd(&["GET", "k3"]), bulk("v3"));
    assert_eq!(ca.cmd(&["MIGRATE", "127.0.0.1", &port, "", "0", "1000", "REPLACE", "KEYS", "k3", "nope"]), ok());
    assert_eq!(cb.cmd(&["GET", "k3"]), bulk("v3"));
    let e = ca.cmd(&["MIGRATE", "127.0.0.1", &port, "key", "9", "5000", "KEYS", "a", "b"]);
    assert_eq!(e, err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"));
    ca.cmd(&["SET", "x", "y"]);
    assert_eq!(
        ca.cmd(&["MIGRATE", "127.0.0.1", "1", "x", "0", "200"]),
        err("IOERR error or timeout connecting to the client")
    );
}

fn start(root: &TempDir, conf: &str) -> Proc {
    Proc::start(root.path(), conf, Launch::Plain).unwrap_or_else(|| {
        panic!(
            "server did not start; log:\n{}",
            std::fs::read_to_string(root.path().join("spinel.log")).unwrap_or_default()
        )
    })
}

const BASE_CONF: &str = "enable-debug-command yes\n";

#[test]
fn saves_info_fields_shutdown_and_reload() {
    let root = TempDir::new("save");
    let conf = format!("{BASE_CONF}save \"3600 1 300 100 60 10000\"\nappendonly no\n");
    let mut p = start(&root, &conf);
    let mut c = p.client();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    assert_eq!(p.info("rdb_changes_since_last_save"), "100");
    assert_eq!(c.cmd(&["BGSAVE"]), Frame::Simple(b"Background saving started".to_vec()));
    p.wait_for("the BGSAVE", |p| p.info("rdb_bgsave_in_progress") == "0");
    assert_eq!(p.info("rdb_last_bgsave_status"), "ok");
    assert_eq!(p.info("rdb_changes_since_last_save"), "0");
    assert_eq!(c.cmd(&["BGSAVE", "X"]), Frame::Error(b"ERR syntax error".to_vec()));
    assert!(is_ok(&c.cmd(&["DEBUG", "RELOAD"])));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(100));
    assert!(is_ok(&c.cmd(&["SET", "last", "one"])));
    // FLUSHALL with save points saves the empty dataset: nothing left unsaved.
    assert!(is_ok(&c.cmd(&["FLUSHALL"])));
    assert_eq!(p.info("rdb_changes_since_last_save"), "0");
    assert!(is_ok(&c.cmd(&["SET", "after", "flush"])));
    // SHUTDOWN saves when save points exist.
    c.send(&["SHUTDOWN"]);
    assert_eq!(c.read(), None);
    assert_eq!(p.wait_exit(Duration::from_secs(10)), Some(0));
    let p = start(&root, &conf);
    let mut c = p.client();
    assert_eq!(c.cmd(&["GET", "after"]), Frame::Bulk(b"flush".to_vec()));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(1));
    assert_eq!(p.info("rdb_last_load_keys_loaded"), "1");
}

#[test]
fn aof_writes_transactions_whole_and_survives_restarts() {
    let root = TempDir::new("aof");
    let conf = format!("{BASE_CONF}appendonly yes\nappendfsync always\nsave \"\"\n");
    let p = start(&root, &conf);
    let mut c = p.client();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "a"]);
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["SET", "ttl", "x", "EX", "100"]);
    let incr = std::fs::read(p.file("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    let text = String::from_utf8_lossy(&incr);
    let multi = text.find("MULTI").expect("MULTI in the AOF");
    let exec = text.find("EXEC").expect("EXEC in the AOF");
    assert!(multi < text.find("INCR").unwrap() && text.find("$1\r\nb").unwrap() < exec);
    assert!(text.contains("PXAT"), "SET EX is written with an absolute time: {text}");
    drop(c);
    drop(p);
    let p = start(&root, &conf);
    let mut c = p.client();
    assert_eq!(c.cmd(&["MGET", "a", "b"]), Frame::Array(vec![Frame::Bulk(b"2".to_vec()), Frame::Bulk(b"2".to_vec())]));
    let Frame::Integer(ttl) = c.cmd(&["TTL", "ttl"]) else { panic!("TTL") };
    assert!(ttl > 90);
}

fn aof_file(root: &TempDir, name: &str) -> std::path::PathBuf {
    root.path().join("data/appendonlydir").join(name)
}

#[test]
fn aof_torn_tail_is_truncated_and_garbage_refuses_to_start() {
    let root = TempDir::new("aof-torn");
    let conf = format!("{BASE_CONF}appendonly yes\nappendfsync always\nsave \"\"\n");
    let p = start(&root, &conf);
    let mut c = p.client();
    c.cmd(&["SET", "kept", "1"]);
    drop(c);
    drop(p);
    let incr = aof_file(&root, "appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();
    // A torn last command.
    let mut torn = good.clone();
    torn.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1");
    std::fs::write(&incr, &torn).unwrap();
    let p = start(&root, &conf);
    assert_eq!(p.client().cmd(&["GET", "kept"]), Frame::Bulk(b"1".to_vec()));
    assert!(p.log().contains("!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!"));
    assert!(p.log().contains("AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"));
    drop(p);
    assert_eq!(std::fs::read(&incr).unwrap(), good, "the torn tail was cut off");
    // A MULTI without its EXEC at the end is dropped whole.
    let mut open_multi = good.clone();
    open_multi.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n");
    std::fs::write(&incr, &open_multi).unwrap();
    let p = start(&root, &conf);
    assert_eq!(p.client().cmd(&["EXISTS", "half"]), Frame::Integer(0));
    assert!(p.log().contains("Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof"));
    drop(p);
    // Torn, with aof-load-truncated no: refuses.
    std::fs::write(&incr, &torn).unwrap();
    let strict = format!("{conf}aof-load-truncated no\n");
    assert!(Proc::start(root.path(), &strict, Launch::Plain).is_none(), "started on a torn AOF");
    // Garbage in the middle: refuses whatever aof-load-truncated says.
    let mut garbage = good.clone();
    garbage.extend_from_slice(b"this is not a command\r\n*1\r\n$4\r\nPING\r\n");
    std::fs::write(&incr, &garbage).unwrap();
    assert!(Proc::start(root.path(), &conf, Launch::Plain).is_none(), "started on a corrupt AOF");
    let log = std::fs::read_to_string(root.path().join("spinel.log")).unwrap();
    assert!(log.contains("Bad file format reading the append only file appendonly.aof.1.incr.aof"));
}

#[test]
fn aof_enabled_at_runtime_and_rewritten_automatically() {
    let root = TempDir::new("aof-runtime");
    let conf = format!("{BASE_CONF}appendonly no\nsave \"\"\n");
    let p = start(&root, &conf);
    let mut c = p.client();
    for i in 0..50 {
        c.cmd(&["SET", &format!("k{i}"), "before"]);
    }
    assert!(is_ok(&c.cmd(&["CONFIG", "SET", "appendonly", "yes"])));
    p.wait_for("the AOF to switch on", |p| p.info("aof_rewrite_in_progress") == "0" && p.info("aof_rewrites") == "1");
    c.cmd(&["SET", "k0", "after"]);
    let manifest = std::fs::read_to_string(p.file("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(manifest, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
    // Automatic rewrite on growth.
    assert!(is_ok(&c.cmd(&["CONFIG", "SET", "auto-aof-rewrite-min-size", "1000"])));
    assert!(is_ok(&c.cmd(&["CONFIG", "SET", "auto-aof-rewrite-percentage", "100"])));
    for i in 0..200 {
        c.cmd(&["SET", &format!("grow{i}"), &"x".repeat(50)]);
    }
    p.wait_for("an automatic rewrite", |p| p.info("aof_rewrites").parse::<u32>().unwrap_or(0) >= 2);
    p.wait_for("the rewrite to end", |p| p.info("aof_rewrite_in_progress") == "0");
    assert!(p.log().contains("Starting automatic rewriting of AOF on"));
    assert!(is_ok(&c.cmd(&["DEBUG", "LOADAOF"])));
    assert_eq!(c.cmd(&["GET", "k0"]), Frame::Bulk(b"after".to_vec()));
    assert_eq!(c.cmd(&["DBSIZE"]), Frame::Integer(250));
    assert!(is_ok(&c.cmd(&["CONFIG", "SET", "appendonly", "no"])));
    assert_eq!(p.info("aof_enabled"), "0");
}

/// Nothing expires while the AOF replays (Redis's keyIsExpired while loading): a key given a
/// past TTL keeps receiving the commands that followed, and is gone once loading is over.
#[test]
fn aof_replay_does_not_expire_keys_midway() {
    let root = TempDir::new("aof-expire");
    let conf = format!("{BASE_CONF}appendonly yes\nappendfsync always\nsave \"\"\n");
    let p = start(&root, &conf);
    p.client().cmd(&["SET", "kept", "1"]);
    drop(p);
    let incr = aof_file(&root, "appendonly.aof.1.incr.aof");
    let mut aof = std::fs::read(&incr).unwrap();
    for cmd in [&["RPUSH", "list", "foo"][..], &["PEXPIREAT", "list", "1000"], &["RPUSH", "list", "bar"]] {
        aof.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for a in cmd {
            aof.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    std::fs::write(&incr, &aof).unwrap();
    let p = start(&root, &conf);
    let mut c = p.client();
    assert_eq!(c.cmd(&["GET", "kept"]), Frame::Bulk(b"1".to_vec()));
    // RPUSH bar went to the expired list (one key with a past TTL), not to a new one.
    assert_eq!(c.cmd(&["LLEN", "list"]), Frame::Integer(0));
    assert_eq!(c.cmd(&["EXISTS", "list"]), Frame::Integer(0));
}
