//! Replication, replica side: a Spinel replica of a Spinel master (both in-process) and of a
//! real redis-server 7.0.15 master when one is installed. Waits poll the replica with a
//! deadline; nothing sleeps.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

/// Polls `cond` until it holds (fails the test after 20 s, naming `what`).
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

fn info_replication(c: &mut Conn) -> String {
    let Frame::Bulk(info) = c.cmd(&["INFO", "replication"]) else { panic!("INFO replication") };
    String::from_utf8_lossy(&info).into_owned()
}

/// Waits until the replica's link with its master is up.
fn wait_link_up(replica: &mut Conn) {
    wait_for("master_link_status:up", || info_replication(replica).contains("master_link_status:up\r\n"));
}

/// Waits until `GET key` on the replica answers `value`.
fn wait_value(replica: &mut Conn, key: &str, value: &str) {
    wait_for(&format!("{key}={value} on the replica"), || replica.cmd(&["GET", key]) == bulk(value));
}

#[test]
fn replicaof_replies_and_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", "x"]), err("ERR Invalid master port"));
    assert_eq!(c.cmd(&["SLAVEOF", "127.0.0.1", "70000"]), err("ERR Invalid master port"));
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1"]), err("ERR wrong number of arguments for 'replicaof' command"));
    // Nothing listens on port 1: the link stays down, the role is set.
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", "1"]), ok());
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", "1"]), simple("OK Already connected to specified master"));
    assert_eq!(c.cmd(&["CONFIG", "GET", "replicaof"]), bulks(&["replicaof", "127.0.0.1 1"]));
    let Frame::Array(role) = c.cmd(&["ROLE"]) else { panic!("ROLE") };
    assert_eq!(role[..3], [bulk("slave"), bulk("127.0.0.1"), int(1)]);
    assert_eq!(role[4], int(-1));
    let info = info_replication(&mut c);
    assert!(
        info.contains("\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:1\r\nmaster_link_status:down\r\n"),
        "{info}"
    );
    assert!(info.contains("slave_read_only:1\r\n"), "{info}");
    assert_eq!(c.cmd(&["SET", "k", "v"]), err("READONLY You can't write against a read only replica."));
    // Stale data is served by default; not once replica-serve-stale-data is off.
    assert_eq!(c.cmd(&["GET", "k"]), Frame::Null);
    c.cmd(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    assert_eq!(
        c.cmd(&["GET", "k"]),
        err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
    );
    assert!(matches!(c.cmd(&["INFO", "replication"]), Frame::Bulk(_)));
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "GET", "replicaof"]), bulks(&["replicaof", ""]));
}

#[test]
fn min_replicas_to_write_refuses_writes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(c.cmd(&["SET", "k", "v"]), err("NOREPLICAS Not enough good replicas to write."));
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "k", "v"]);
    let Frame::Error(e) = c.cmd(&["EXEC"]) else { panic!("EXEC") };
    assert!(e.starts_with(b"EXECABORT"), "{}", String::from_utf8_lossy(&e));
    assert_eq!(c.cmd(&["GET", "k"]), Frame::Null);
}

#[test]
fn spinel_replica_of_spinel_master() {
    let master = server();
    let replica = server();
    let mut m = Conn::open(&master);
    let mut r = Conn::open(&replica);
    m.cmd(&["SET", "before", "1"]);
    m.cmd(&["RPUSH", "list", "a", "b", "c"]);
    m.cmd(&["SELECT", "2"]);
    m.cmd(&["HSET", "h", "f", "v"]);
    m.cmd(&["SELECT", "0"]);
    r.cmd(&["SET", "stale", "gone after the sync"]);
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]), ok());
    wait_link_up(&mut r);
    // The snapshot replaced the replica's own data.
    assert_eq!(r.cmd(&["GET", "before"]), bulk("1"));
    assert_eq!(r.cmd(&["GET", "stale"]), Frame::Null);
    assert_eq!(r.cmd(&["LRANGE", "list", "0", "-1"]), bulks(&["a", "b", "c"]));
    // Later writes arrive through the stream, in their database.
    m.cmd(&["SET", "after", "2"]);
    m.cmd(&["SELECT", "2"]);
    m.cmd(&["HSET", "h", "g", "w"]);
    m.cmd(&["SELECT", "0"]);
    wait_value(&mut r, "after", "2");
    r.cmd(&["SELECT", "2"]);
    wait_for("HGET h g", || r.cmd(&["HGET", "h", "g"]) == bulk("w"));
    r.cmd(&["SELECT", "0"]);
    assert_eq!(r.cmd(&["SET", "x", "1"]), err("READONLY You can't write against a read only replica."));
    // Both sides report the link; the master sees the replica's ACKs.
    let Frame::Array(role) = r.cmd(&["ROLE"]) else { panic!("ROLE") };
    assert_eq!(role[3], bulk("connected"));
    let info = info_replication(&mut m);
    assert!(info.contains(&format!("slave0:ip=127.0.0.1,port={},state=online", replica.port)), "{info}");
    let Frame::Bulk(list) = r.cmd(&["CLIENT", "LIST"]) else { panic!("CLIENT LIST") };
    assert!(String::from_utf8_lossy(&list).contains("flags=M "));
    wait_for("the replica's ACK", || {
        let Frame::Array(role) = m.cmd(&["ROLE"]) else { return false };
        let Some(Frame::Array(replicas)) = role.get(2) else { return false };
        let Some(Frame::Array(first)) = replicas.first() else { return false };
        first.get(2) == role.get(1).map(|o| bulk(&frame_int(o).to_string())).as_ref()
    });
    // WAIT counts the replicas that acknowledged this client's last write.
    m.cmd(&["SET", "waited", "1"]);
    assert_eq!(m.cmd(&["WAIT", "1", "0"]), int(1));
    assert_eq!(m.cmd(&["WAIT", "2", "10"]), int(1));
    assert_eq!(m.cmd(&["WAIT", "x", "10"]), err("ERR value is not an integer or out of range"));
    assert_eq!(m.cmd(&["WAIT", "1", "-1"]), err("ERR timeout is negative"));
    assert_eq!(
        r.cmd(&["WAIT", "1", "0"]),
        err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
    );
    // Promotion keeps the data, takes a new replication ID and accepts writes.
    let old_id = field(&info_replication(&mut r), "master_replid");
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    let info = info_replication(&mut r);
    assert!(info.contains("\r\nrole:master\r\n"), "{info}");
    assert_ne!(field(&info, "master_replid"), old_id);
    assert_eq!(field(&info, "master_replid2"), old_id);
    assert_eq!(r.cmd(&["GET", "after"]), bulk("2"));
    assert_eq!(r.cmd(&["SET", "x", "1"]), ok());
    // The promoted server's writes do not flow back to the old master.
    assert_eq!(m.cmd(&["GET", "x"]), Frame::Null);
}

#[test]
fn replicaof_in_the_configuration_file() {
    let master = server();
    let mut m = Conn::open(&master);
    m.cmd(&["SET", "k", "v"]);
    let replica = server_with(&format!("replicaof 127.0.0.1 {}", master.port));
    let mut r = Conn::open(&replica);
    wait_link_up(&mut r);
    assert_eq!(r.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(r.cmd(&["CONFIG", "GET", "slaveof"]), bulks(&["slaveof", &format!("127.0.0.1 {}", master.port)]));
}

#[test]
fn replica_reconnects_after_the_link_drops() {
    let master = server();
    let replica = server();
    let mut m = Conn::open(&master);
    let mut r = Conn::open(&replica);
    m.cmd(&["SET", "k", "1"]);
    r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_link_up(&mut r);
    wait_value(&mut r, "k", "1");
    // The master drops its replica; the replica notices, reconnects and continues from its
    // offset (the backlog has what was written meanwhile): a partial resync.
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), int(1));
    m.cmd(&["SET", "k", "2"]);
    m.cmd(&["SET", "during", "down"]);
    wait_value(&mut r, "during", "down");
    assert_eq!(r.cmd(&["GET", "k"]), bulk("2"));
    wait_link_up(&mut r);
    m.cmd(&["INCR", "k"]);
    wait_value(&mut r, "k", "3");
    let stats = info_stats(&mut m);
    assert_eq!((field(&stats, "sync_full"), field(&stats, "sync_partial_ok")), ("1".into(), "1".into()));
    // With a backlog too small for what was missed, the replica gets a new snapshot.
    m.cmd(&["CONFIG", "SET", "repl-backlog-size", "1"]);
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), int(1));
    m.cmd(&["SET", "k", "after a full resync"]);
    wait_value(&mut r, "k", "after a full resync");
    let stats = info_stats(&mut m);
    assert_eq!(field(&stats, "sync_full"), "2");
    // The first PSYNC also failed: a new replica asks to continue its own history.
    assert_eq!(field(&stats, "sync_partial_err"), "2");
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), int(1));
    m.cmd(&["SET", "k", "master client killed"]);
    wait_value(&mut r, "k", "master client killed");
}

fn info_stats(c: &mut Conn) -> String {
    let Frame::Bulk(info) = c.cmd(&["INFO", "stats"]) else { panic!("INFO stats") };
    String::from_utf8_lossy(&info).into_owned()
}

#[test]
fn replica_of_replica_gets_the_stream() {
    let master = server();
    let middle = server();
    let leaf = server();
    let mut m = Conn::open(&master);
    let mut mid = Conn::open(&middle);
    let mut l = Conn::open(&leaf);
    m.cmd(&["SET", "a", "1"]);
    mid.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    wait_link_up(&mut mid);
    // The master's stream is now in database 3 (one SELECT, before the leaf attaches).
    m.cmd(&["SELECT", "3"]);
    m.cmd(&["SET", "in3", "1"]);
    mid.cmd(&["SELECT", "3"]);
    wait_value(&mut mid, "in3", "1");
    l.cmd(&["REPLICAOF", "127.0.0.1", &middle.port.to_string()]);
    wait_link_up(&mut l);
    wait_value(&mut l, "a", "1");
    // The leaf continues the proxied stream in database 3 (the RDB's repl-stream-db).
    m.cmd(&["SET", "b", "2"]);
    l.cmd(&["SELECT", "3"]);
    wait_value(&mut l, "b", "2");
    l.cmd(&["SELECT", "0"]);
    assert_eq!(l.cmd(&["GET", "b"]), Frame::Null);
    // The chain shares the master's replication ID.
    let id = field(&info_replication(&mut m), "master_replid");
    assert_eq!(field(&info_replication(&mut l), "master_replid"), id);
}

/// A field of an INFO section.
fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .to_string()
}

fn frame_int(f: &Frame) -> i64 {
    match f {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A redis-server process on a free port, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: crate::proc::TempDir,
}

impl RedisServer {
    /// Starts /usr/bin/redis-server if it is installed.
    fn start() -> Option<RedisServer> {
        let bin = std::path::Path::new("/usr/bin/redis-server");
        if !bin.exists() {
            eprintln!("skipped: /usr/bin/redis-server is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let dir = crate::proc::TempDir::new("redis-master");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"])
            .args(["--bind", "127.0.0.1", "--dir", &dir.path().display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::yield_now();
        }
        Some(RedisServer { child, port, _dir: dir })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn spinel_replica_of_redis_server_master() {
    let Some(redis) = RedisServer::start() else { return };
    let replica = server();
    let mut m = Conn::open_port(redis.port);
    let mut r = Conn::open(&replica);
    m.cmd(&["SET", "big", &"x".repeat(5000)]);
    m.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    m.cmd(&["SET", "ttl", "v", "EX", "1000"]);
    // Diskless (EOF-marked) payload first.
    r.cmd(&["REPLICAOF", "127.0.0.1", &redis.port.to_string()]);
    wait_link_up(&mut r);
    assert_eq!(r.cmd(&["STRLEN", "big"]), int(5000));
    assert_eq!(r.cmd(&["ZRANGE", "z", "0", "-1"]), bulks(&["a", "b"]));
    assert!(frame_int(&r.cmd(&["TTL", "ttl"])) > 900);
    m.cmd(&["INCR", "n"]);
    m.cmd(&["EVAL", "redis.call('incr','n') redis.call('set','s','t')", "0"]);
    wait_value(&mut r, "s", "t");
    assert_eq!(r.cmd(&["GET", "n"]), bulk("2"));
    // WAIT on the master counts our ACK (REPLCONF GETACK → ACK).
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), int(1));
    // Then a disk-based payload (`$<len>`).
    r.cmd(&["REPLICAOF", "NO", "ONE"]);
    m.cmd(&["CONFIG", "SET", "repl-diskless-sync", "no"]);
    m.cmd(&["SET", "disk", "based"]);
    r.cmd(&["REPLICAOF", "127.0.0.1", &redis.port.to_string()]);
    wait_link_up(&mut r);
    wait_value(&mut r, "disk", "based");
    m.cmd(&["DEL", "big"]);
    wait_for("DEL from the master", || r.cmd(&["EXISTS", "big"]) == int(0));
    // A dropped link continues with PSYNC from the master's backlog.
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), int(1));
    m.cmd(&["SET", "missed", "1"]);
    wait_value(&mut r, "missed", "1");
    wait_link_up(&mut r);
    assert_eq!(field(&info_stats(&mut m), "sync_partial_ok"), "1");
}
