//! Hash commands. Raw replies and error texts below were checked against redis-server 7.0.15.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::*;

/// A connection that returns each reply's exact bytes, for reply-type checks.
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn open(srv: &TestServer) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Raw { stream, buf: Vec::new() }
    }

    /// Sends a command (arguments split on spaces) and returns its reply's bytes.
    pub fn raw(&mut self, line: &str) -> Vec<u8> {
        self.stream.write_all(&Frame::command(line.split(' ').map(str::as_bytes))).expect("write");
        loop {
            if let Some((_, used)) = Frame::decode(&self.buf).expect("valid RESP") {
                return self.buf.drain(..used).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Asserts the exact reply bytes of each command, in order.
    pub fn expect(&mut self, script: &[(&str, &str)]) {
        for (line, reply) in script {
            let got = self.raw(line);
            assert_eq!(String::from_utf8_lossy(&got), *reply, "reply to {line}");
        }
    }
}

/// The frame of a command whose arguments are split on spaces.
fn cmd(c: &mut Conn, line: &str) -> Frame {
    c.cmd(&line.split(' ').collect::<Vec<_>>())
}

fn bulk_set(f: &Frame) -> HashSet<Vec<u8>> {
    match f {
        Frame::Array(items) | Frame::Set(items) => items
            .iter()
            .map(|i| match i {
                Frame::Bulk(b) => b.clone(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn items(f: Frame) -> Vec<Frame> {
    match f {
        Frame::Array(items) | Frame::Set(items) => items,
        other => panic!("not an array: {other:?}"),
    }
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn hash_commands_reply_like_redis_in_resp2() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("HSET h a 1 b 2 c 3", ":3\r\n"),
        ("HSET h a 1", ":0\r\n"),
        ("HMSET h x 9", "+OK\r\n"),
        ("HSETNX h a 5", ":0\r\n"),
        ("HSETNX h z 5", ":1\r\n"),
        ("HGET h a", "$1\r\n1\r\n"),
        ("HGET h nope", "$-1\r\n"),
        ("HGET nokey a", "$-1\r\n"),
        ("HMGET h a nope", "*2\r\n$1\r\n1\r\n$-1\r\n"),
        ("HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n"),
        ("HLEN h", ":5\r\n"),
        ("HLEN nokey", ":0\r\n"),
        ("HSTRLEN h a", ":1\r\n"),
        ("HSTRLEN h nope", ":0\r\n"),
        ("HEXISTS h a", ":1\r\n"),
        ("HEXISTS h nope", ":0\r\n"),
        ("HEXISTS nokey a", ":0\r\n"),
        ("HKEYS h", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nx\r\n$1\r\nz\r\n"),
        ("HVALS h", "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n9\r\n$1\r\n5\r\n"),
        ("HDEL h x z nope", ":2\r\n"),
        ("HGETALL h", "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
        ("HGETALL nokey", "*0\r\n"),
        ("HKEYS nokey", "*0\r\n"),
        ("HSCAN h 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
        ("HSCAN h 0 MATCH b*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        ("HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ("HRANDFIELD nokey", "$-1\r\n"),
        ("HRANDFIELD nokey 3", "*0\r\n"),
        ("HRANDFIELD h 0", "*0\r\n"),
        ("HDEL h a b c", ":3\r\n"),
        ("EXISTS h", ":0\r\n"),
        ("HDEL nokey a", ":0\r\n"),
    ]);
}

#[test]
fn hash_errors_match_redis() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("SET str v", "+OK\r\n"),
        ("HSET str a 1", WRONGTYPE),
        ("HSETNX str a 1", WRONGTYPE),
        ("HMSET str a 1", WRONGTYPE),
        ("HGET str a", WRONGTYPE),
        ("HMGET str a", WRONGTYPE),
        ("HDEL str a", WRONGTYPE),
        ("HLEN str", WRONGTYPE),
        ("HSTRLEN str a", WRONGTYPE),
        ("HEXISTS str a", WRONGTYPE),
        ("HKEYS str", WRONGTYPE),
        ("HVALS str", WRONGTYPE),
        ("HGETALL str", WRONGTYPE),
        ("HINCRBY str a 1", WRONGTYPE),
        ("HINCRBYFLOAT str a 1", WRONGTYPE),
        ("HRANDFIELD str", WRONGTYPE),
        ("HRANDFIELD str 1", WRONGTYPE),
        ("HSCAN str 0", WRONGTYPE),
        ("HSET h a", "-ERR wrong number of arguments for 'hset' command\r\n"),
        ("HSET h a 1 b", "-ERR wrong number of arguments for 'hset' command\r\n"),
        ("HMSET h a 1 b", "-ERR wrong number of arguments for 'hmset' command\r\n"),
        ("HSET h a 1 s hello", ":2\r\n"),
        ("HINCRBY h a x", "-ERR value is not an integer or out of range\r\n"),
        ("HINCRBY h a 1.5", "-ERR value is not an integer or out of range\r\n"),
        ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
        ("HINCRBY h a 9223372036854775807", "-ERR increment or decrement would overflow\r\n"),
        ("HINCRBYFLOAT h a x", "-ERR value is not a valid float\r\n"),
        ("HINCRBYFLOAT h a inf", "-ERR value is NaN or Infinity\r\n"),
        ("HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"),
        ("HRANDFIELD h abc", "-ERR value is not an integer or out of range\r\n"),
        (
            "HRANDFIELD h -9223372036854775808",
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        ),
        ("HRANDFIELD h 4611686018427387904 WITHVALUES", "-ERR value is out of range\r\n"),
        ("HRANDFIELD h 1 foo", "-ERR syntax error\r\n"),
        ("HRANDFIELD h 1 WITHVALUES x", "-ERR syntax error\r\n"),
        ("HSCAN h abc", "-ERR invalid cursor\r\n"),
        ("HSCAN h 0 COUNT 0", "-ERR syntax error\r\n"),
        ("HSCAN h 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"),
        ("HSCAN h 0 TYPE string", "-ERR syntax error\r\n"),
        // Options are only parsed once the key is known to be a hash.
        ("HSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
    ]);
}

#[test]
fn hash_replies_in_resp3() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.raw("HELLO 3");
    r.expect(&[
        ("HSET h a 1 b 2", ":2\r\n"),
        ("HGETALL h", "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        ("HGETALL nokey", "%0\r\n"),
        ("HKEYS nokey", "*0\r\n"),
        ("HGET nokey a", "_\r\n"),
        ("HMGET h a zz", "*2\r\n$1\r\n1\r\n_\r\n"),
        ("HRANDFIELD nokey", "_\r\n"),
        ("HRANDFIELD nokey 2 WITHVALUES", "*0\r\n"),
        ("HRANDFIELD h 2 WITHVALUES", "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        ("HRANDFIELD h 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
        ("HINCRBYFLOAT h a 1.5", "$3\r\n2.5\r\n"),
        ("HSCAN h 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ]);
    // Negative counts nest pairs too.
    let reply = r.raw("HRANDFIELD h -3 WITHVALUES");
    assert!(reply.starts_with(b"*3\r\n*2\r\n$1\r\n"), "{}", String::from_utf8_lossy(&reply));
}

#[test]
fn encodings_follow_redis_thresholds() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd(&mut c, "HSET small a 1");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING small"), bulk("listpack"));
    // A long value converts, and a hash never converts back.
    cmd(&mut c, &format!("HSET small long {}", "x".repeat(65)));
    assert_eq!(cmd(&mut c, "OBJECT ENCODING small"), bulk("hashtable"));
    cmd(&mut c, "HDEL small long");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING small"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "HGET small a"), bulk("1"));
    // A long field converts too.
    cmd(&mut c, &format!("HSET f {} 1", "k".repeat(65)));
    assert_eq!(cmd(&mut c, "OBJECT ENCODING f"), bulk("hashtable"));
    // Entries: 512 fit, the 513th converts.
    for i in 0..512 {
        cmd(&mut c, &format!("HSET many f{i} {i}"));
    }
    assert_eq!(cmd(&mut c, "OBJECT ENCODING many"), bulk("listpack"));
    cmd(&mut c, "HSET many one-more 1");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING many"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "HLEN many"), int(513));
    // The thresholds are the configured ones (and their ziplist aliases).
    assert_eq!(cmd(&mut c, "CONFIG SET hash-max-ziplist-entries 2"), ok());
    cmd(&mut c, "HSET two a 1 b 2");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING two"), bulk("listpack"));
    cmd(&mut c, "HSET two c 3");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING two"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "CONFIG SET hash-max-listpack-entries 512"), ok());
    // HINCRBYFLOAT results and fields count against hash-max-listpack-value (Redis's test).
    assert_eq!(cmd(&mut c, "CONFIG SET hash-max-listpack-value 8"), ok());
    cmd(&mut c, "HSET s tmp 0");
    cmd(&mut c, "HSET b tmp 0");
    cmd(&mut c, "HINCRBYFLOAT s tmp 0.000005");
    cmd(&mut c, "HINCRBYFLOAT b tmp 0.0000005");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING s"), bulk("listpack"));
    assert_eq!(cmd(&mut c, "OBJECT ENCODING b"), bulk("hashtable"));
    cmd(&mut c, "HINCRBYFLOAT s2 abcdefgh 1");
    cmd(&mut c, "HINCRBYFLOAT b2 abcdefghi 1");
    assert_eq!(cmd(&mut c, "OBJECT ENCODING s2"), bulk("listpack"));
    assert_eq!(cmd(&mut c, "OBJECT ENCODING b2"), bulk("hashtable"));
}

#[test]
fn counters_follow_redis_number_rules() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(cmd(&mut c, "HINCRBY h n 5"), int(5));
    assert_eq!(cmd(&mut c, "HINCRBY h n -10"), int(-5));
    cmd(&mut c, "HSET h big 17179869184");
    assert_eq!(cmd(&mut c, "HINCRBY h big 17179869184"), int(34359738368));
    c.cmd(&["HSET", "h", "sp", " 11"]);
    assert_eq!(error_text(&cmd(&mut c, "HINCRBY h sp 1")), "ERR hash value is not an integer");
    cmd(&mut c, "HSET h lo -9223372036854775484");
    assert_eq!(cmd(&mut c, "HINCRBY h lo -1"), int(-9223372036854775485));
    assert_eq!(error_text(&cmd(&mut c, "HINCRBY h lo -10000")), "ERR increment or decrement would overflow");
    // Long double arithmetic and %.17Lf-style output, as INCRBYFLOAT.
    assert_eq!(cmd(&mut c, "HINCRBYFLOAT f x 1.23"), bulk("1.23"));
    assert_eq!(cmd(&mut c, "HINCRBYFLOAT f x 0.77"), bulk("2"));
    assert_eq!(cmd(&mut c, "HINCRBYFLOAT f x -0.1"), bulk("1.9"));
    assert_eq!(cmd(&mut c, "HINCRBYFLOAT f y 5.0e3"), bulk("5000"));
    assert_eq!(cmd(&mut c, "HINCRBYFLOAT f z 0x10"), bulk("16"));
    assert_eq!(cmd(&mut c, "HGET f y"), bulk("5000"));
    cmd(&mut c, "HINCRBYFLOAT f huge 1e4932");
    assert_eq!(error_text(&cmd(&mut c, "HINCRBYFLOAT f huge 1e4932")), "ERR increment would produce NaN or Infinity");
    c.cmd(&["HSET", "f", "nul", "1\x002"]);
    assert_eq!(error_text(&c.cmd(&["HINCRBYFLOAT", "f", "nul", "1"])), "ERR hash value is not a float");
    // A rejected increment creates nothing.
    assert_eq!(error_text(&cmd(&mut c, "HINCRBYFLOAT nokey f +inf")), "ERR value is NaN or Infinity");
    assert_eq!(cmd(&mut c, "EXISTS nokey"), int(0));
}

/// HRANDFIELD's four strategies, for both encodings: negative counts repeat, positive counts
/// are distinct, counts past the size return everything.
#[test]
fn hrandfield_counts_in_both_encodings() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for (key, long) in [("lp", false), ("ht", true)] {
        for i in 0..10 {
            let v = if long && i == 9 { "v".repeat(100) } else { format!("v{i}") };
            c.cmd(&["HSET", key, &format!("f{i}"), &v]);
        }
        let enc = if long { "hashtable" } else { "listpack" };
        assert_eq!(cmd(&mut c, &format!("OBJECT ENCODING {key}")), bulk(enc));
        let all: HashSet<Vec<u8>> = (0..10).map(|i| format!("f{i}").into_bytes()).collect();
        assert_eq!(items(cmd(&mut c, &format!("HRANDFIELD {key} -25"))).len(), 25);
        assert_eq!(items(cmd(&mut c, &format!("HRANDFIELD {key} -25 WITHVALUES"))).len(), 50);
        for size in [10, 20] {
            assert_eq!(bulk_set(&cmd(&mut c, &format!("HRANDFIELD {key} {size}"))), all);
            assert_eq!(items(cmd(&mut c, &format!("HRANDFIELD {key} {size} WITHVALUES"))).len(), 20);
        }
        for size in [8, 2] {
            let mut seen = HashSet::new();
            for _ in 0..200 {
                let got = items(cmd(&mut c, &format!("HRANDFIELD {key} {size}")));
                assert_eq!(got.len(), size);
                let distinct = bulk_set(&Frame::Array(got));
                assert_eq!(distinct.len(), size, "positive counts are distinct");
                assert!(distinct.is_subset(&all));
                seen.extend(distinct);
            }
            assert_eq!(seen, all, "every field comes up eventually");
        }
        // Values belong to their fields.
        let pairs = items(cmd(&mut c, &format!("HRANDFIELD {key} 3 WITHVALUES")));
        for pair in pairs.chunks(2) {
            let Frame::Bulk(f) = &pair[0] else { panic!("{pair:?}") };
            assert_eq!(c.cmd(&["HGET", key, std::str::from_utf8(f).unwrap()]), pair[1]);
        }
    }
}

/// HSCAN over a big hash returns every field that stays for the whole scan, even while the
/// hash grows and shrinks between calls.
#[test]
fn hscan_guarantee_across_resizes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for chunk in (0..2000).collect::<Vec<_>>().chunks(100) {
        let mut args = vec!["HSET".to_string(), "big".into()];
        for i in chunk {
            args.push(format!("stable{i}"));
            args.push(i.to_string());
        }
        c.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    assert_eq!(cmd(&mut c, "OBJECT ENCODING big"), bulk("hashtable"));
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let reply = items(cmd(&mut c, &format!("HSCAN big {cursor} COUNT 50")));
        let Frame::Bulk(next) = &reply[0] else { panic!() };
        let pairs = items(reply[1].clone());
        assert_eq!(pairs.len() % 2, 0);
        for p in pairs.chunks(2) {
            let Frame::Bulk(f) = &p[0] else { panic!() };
            seen.insert(f.clone());
        }
        step += 1;
        if step < 20 {
            for j in 0..200 {
                cmd(&mut c, &format!("HSET big tmp{step}_{j} x"));
            }
        } else if step < 40 {
            for j in 0..200 {
                cmd(&mut c, &format!("HDEL big tmp{}_{j}", step - 19));
            }
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..2000 {
        assert!(seen.contains(format!("stable{i}").as_bytes()), "HSCAN missed stable{i}");
    }
}

#[test]
fn copy_keeps_encoding_and_is_independent() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd(&mut c, "HSET small a 1 b 2");
    c.cmd(&["HSET", "big", "a", "1", "long", &"x".repeat(100)]);
    for key in ["small", "big"] {
        assert_eq!(cmd(&mut c, &format!("COPY {key} {key}2")), int(1));
        assert_eq!(cmd(&mut c, &format!("OBJECT ENCODING {key}2")), cmd(&mut c, &format!("OBJECT ENCODING {key}")));
        cmd(&mut c, &format!("HSET {key}2 a changed"));
        assert_eq!(cmd(&mut c, &format!("HGET {key} a")), bulk("1"));
        assert_eq!(cmd(&mut c, &format!("HGET {key}2 a")), bulk("changed"));
        assert_eq!(cmd(&mut c, &format!("HLEN {key}2")), cmd(&mut c, &format!("HLEN {key}")));
    }
    let Frame::Integer(usage) = cmd(&mut c, "MEMORY USAGE big") else { panic!() };
    assert!(usage > 100);
}
