//! Generic keyspace commands and TTLs.

use crate::harness::*;

#[test]
fn del_exists_touch_type() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(c.cmd(&["EXISTS", "a", "a", "b", "x"]), int(3));
    assert_eq!(c.cmd(&["TOUCH", "a", "x"]), int(1));
    assert_eq!(c.cmd(&["DEL", "a", "x"]), int(1));
    assert_eq!(c.cmd(&["UNLINK", "b"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
}

#[test]
fn keys_and_scan_find_every_key() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for i in 0..1000 {
        c.send_cmd(&["SET", &format!("key:{i}"), "v"]);
    }
    for _ in 0..1000 {
        c.read();
    }
    let Frame::Array(keys) = c.cmd(&["KEYS", "key:1*"]) else { panic!() };
    assert_eq!(keys.len(), 111);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(reply) = c.cmd(&["SCAN", &cursor, "COUNT", "37"]) else { panic!() };
        let Frame::Bulk(next) = &reply[0] else { panic!() };
        let Frame::Array(batch) = &reply[1] else { panic!() };
        for k in batch {
            let Frame::Bulk(k) = k else { panic!() };
            seen.insert(k.clone());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(error_text(&c.cmd(&["SCAN", "abc"])), "ERR invalid cursor");
    assert_eq!(error_text(&c.cmd(&["SCAN", "0", "COUNT", "0"])), "ERR syntax error");
    let Frame::Array(r) = c.cmd(&["SCAN", "0", "TYPE", "hash", "COUNT", "2000"]) else { panic!() };
    assert_eq!(r[1], Frame::Array(vec![]));
}

#[test]
fn rename_move_copy_swapdb() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["PEXPIRE", "a", "100000"]);
    assert_eq!(c.cmd(&["RENAME", "a", "b"]), ok());
    assert_eq!(c.cmd(&["GET", "b"]), bulk("1"));
    assert!(matches!(c.cmd(&["PTTL", "b"]), Frame::Integer(t) if t > 0));
    assert_eq!(error_text(&c.cmd(&["RENAME", "nope", "x"])), "ERR no such key");
    c.cmd(&["SET", "c", "3"]);
    assert_eq!(c.cmd(&["RENAMENX", "b", "c"]), int(0));
    assert_eq!(c.cmd(&["COPY", "b", "d"]), int(1));
    assert_eq!(c.cmd(&["COPY", "b", "d"]), int(0));
    assert_eq!(c.cmd(&["COPY", "b", "d", "REPLACE"]), int(1));
    assert_eq!(c.cmd(&["COPY", "b", "b", "DB", "1"]), int(1));
    assert_eq!(c.cmd(&["MOVE", "c", "1"]), int(1));
    assert_eq!(error_text(&c.cmd(&["MOVE", "b", "0"])), "ERR source and destination objects are the same");
    assert_eq!(error_text(&c.cmd(&["MOVE", "b", "99"])), "ERR DB index is out of range");
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "c"]), bulk("3"));
    assert_eq!(error_text(&c.cmd(&["SWAPDB", "x", "1"])), "ERR invalid first DB index");
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "d"]), bulk("1"));
    assert_eq!(error_text(&c.cmd(&["SELECT", "16"])), "ERR DB index is out of range");
}

#[test]
fn expire_options_and_ttls() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "GT"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "LT"]), int(1));
    assert_eq!(c.cmd(&["TTL", "k"]), int(50));
    assert_eq!(
        error_text(&c.cmd(&["EXPIRE", "k", "50", "NX", "XX"])),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(error_text(&c.cmd(&["EXPIRE", "k", "50", "FOO"])), "ERR Unsupported option FOO");
    assert_eq!(c.cmd(&["PERSIST", "k"]), int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(-1));
    assert_eq!(c.cmd(&["EXPIREAT", "k", "4102444800"]), int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(4102444800));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(4102444800000));
    assert_eq!(c.cmd(&["PEXPIRE", "k", "-1"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["TTL", "k"]), int(-2));
    assert_eq!(
        error_text(&c.cmd(&["EXPIRE", "k", "9223372036854775807"])),
        "ERR invalid expire time in 'expire' command"
    );
}

#[test]
fn expired_keys_disappear_actively() {
    let srv = server_with("hz 100");
    let mut c = Conn::open(&srv);
    for i in 0..20 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "1"]);
    }
    c.cmd(&["SET", "keep", "v"]);
    // Wait on the server's own state, not a fixed time: the active cycle empties it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info = c.cmd(&["INFO", "keyspace"]);
        let Frame::Bulk(text) = info else { panic!() };
        if String::from_utf8_lossy(&text).contains("db0:keys=1,") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "keys not expired");
    }
    let Frame::Bulk(stats) = c.cmd(&["INFO", "stats"]) else { panic!() };
    assert!(String::from_utf8_lossy(&stats).contains("expired_keys:20"));
}

#[test]
fn randomkey_and_flush() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["RANDOMKEY"]), Frame::Null);
    c.cmd(&["SET", "only", "1"]);
    assert_eq!(c.cmd(&["RANDOMKEY"]), bulk("only"));
    assert_eq!(c.cmd(&["FLUSHDB", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    c.cmd(&["SET", "x", "1"]);
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(error_text(&c.cmd(&["FLUSHALL", "LATER"])), "ERR syntax error");
}

#[test]
fn object_subcommands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "n", "100"]);
    c.cmd(&["SET", "s", "a short string"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), bulk("embstr"));
    assert_eq!(c.cmd(&["OBJECT", "REFCOUNT", "n"]), int(2147483647));
    assert_eq!(c.cmd(&["OBJECT", "IDLETIME", "s"]), int(0));
    assert!(error_text(&c.cmd(&["OBJECT", "FREQ", "s"])).starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "missing"]), Frame::Null);
    let Frame::Array(help) = c.cmd(&["OBJECT", "HELP"]) else { panic!() };
    assert_eq!(help[0], simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
}

/// Redis's watchedKey.expired: a key already stale when WATCHed that is then deleted (lazy
/// expiry, DEL, FLUSHDB) is no change for EXEC; one that expires after the WATCH is.
#[test]
fn regression_watch_ignores_deletion_of_keys_stale_when_watched() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    for delete in [&["EXISTS", "x"][..], &["DEL", "x"], &["FLUSHDB"]] {
        c.cmd(&["SET", "x", "foo", "PX", "1"]);
        c.cmd(&["DEBUG", "SLEEP", "0.01"]);
        assert_eq!(c.cmd(&["WATCH", "x"]), ok());
        c.cmd(delete);
        assert_eq!(c.cmd(&["MULTI"]), ok());
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["EXEC"]), array(vec![Frame::Simple(b"PONG".to_vec())]), "after {delete:?}");
    }
    // Watched while alive, stale by EXEC: the transaction fails.
    c.cmd(&["SET", "x", "foo", "PX", "5"]);
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    c.cmd(&["DEBUG", "SLEEP", "0.01"]);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), Frame::NullArray);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
}

/// SCAN and RANDOMKEY touch arbitrary keys: the DELs of the keys they expire reach replicas
/// one by one, not wrapped in MULTI/EXEC.
#[test]
fn regression_scan_lazy_expiry_is_not_wrapped_in_multi() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    for scan in [&["SCAN", "0"][..], &["RANDOMKEY"]] {
        // Only stale keys, so RANDOMKEY expires both before giving up.
        c.cmd(&["FLUSHALL"]);
        c.cmd(&["SET", "foo1", "bar", "PX", "1"]);
        c.cmd(&["SET", "foo2", "bar", "PX", "1"]);
        c.cmd(&["DEBUG", "SLEEP", "0.01"]);
        let mut replica = attach_replica(&srv);
        c.cmd(scan);
        c.cmd(&["SET", "marker", "1"]);
        let stream = String::from_utf8_lossy(&read_stream_until(&mut replica, b"marker")).into_owned();
        c.cmd(&["DEL", "marker"]);
        assert_eq!(stream.matches("$3\r\nDEL\r\n").count(), 2, "{scan:?}: {stream:?}");
        assert!(!stream.contains("MULTI"), "{scan:?}: {stream:?}");
        // The read command itself is not propagated.
        assert!(!stream.contains(&format!("\r\n{}\r\n", scan[0])), "{scan:?}: {stream:?}");
    }
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
}
