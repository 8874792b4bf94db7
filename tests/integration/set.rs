//! Set commands. Raw replies and error texts below were checked against redis-server 7.0.15.

use std::collections::HashSet;

use crate::harness::*;
use crate::hash::Raw;

fn cmd(c: &mut Conn, line: &str) -> Frame {
    c.cmd(&line.split(' ').collect::<Vec<_>>())
}

fn members(f: Frame) -> HashSet<String> {
    match f {
        Frame::Array(items) | Frame::Set(items) => items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8(b).unwrap(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn set_of(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn len(f: Frame) -> usize {
    match f {
        Frame::Array(items) | Frame::Set(items) => items.len(),
        other => panic!("not an array: {other:?}"),
    }
}

fn encoding(c: &mut Conn, key: &str) -> Frame {
    cmd(c, &format!("OBJECT ENCODING {key}"))
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn set_commands_reply_like_redis_in_resp2() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("SADD i 3 1 2 -5", ":4\r\n"),
        ("SADD i 1", ":0\r\n"),
        ("SMEMBERS i", "*4\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SISMEMBER i 3", ":1\r\n"),
        ("SISMEMBER i 03", ":0\r\n"),
        ("SISMEMBER nokey 3", ":0\r\n"),
        ("SMISMEMBER i 3 4", "*2\r\n:1\r\n:0\r\n"),
        ("SMISMEMBER nokey a", "*1\r\n:0\r\n"),
        ("SCARD i", ":4\r\n"),
        ("SCARD nokey", ":0\r\n"),
        ("SREM i 9", ":0\r\n"),
        ("SREM i -5 1 9", ":2\r\n"),
        ("SINTER i", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SMEMBERS nokey", "*0\r\n"),
        ("SINTER nokey", "*0\r\n"),
        ("SUNION nokey", "*0\r\n"),
        ("SDIFF nokey", "*0\r\n"),
        ("SPOP nokey", "$-1\r\n"),
        ("SPOP nokey 3", "*0\r\n"),
        ("SPOP i 0", "*0\r\n"),
        ("SRANDMEMBER nokey", "$-1\r\n"),
        ("SRANDMEMBER nokey 3", "*0\r\n"),
        ("SRANDMEMBER i 0", "*0\r\n"),
        ("SSCAN i 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SSCAN i 0 MATCH 3", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n"),
        ("SSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ("SINTERCARD 1 i", ":2\r\n"),
        ("SINTERCARD 1 nokey", ":0\r\n"),
        ("SREM i 2 3", ":2\r\n"),
        ("EXISTS i", ":0\r\n"),
        ("SREM nokey a", ":0\r\n"),
    ]);
}

#[test]
fn set_errors_match_redis() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("SET str v", "+OK\r\n"),
        ("SADD s a", ":1\r\n"),
        ("SADD str a", WRONGTYPE),
        ("SREM str a", WRONGTYPE),
        ("SISMEMBER str a", WRONGTYPE),
        ("SMISMEMBER str a", WRONGTYPE),
        ("SCARD str", WRONGTYPE),
        ("SMEMBERS str", WRONGTYPE),
        ("SPOP str", WRONGTYPE),
        ("SPOP str 1", WRONGTYPE),
        ("SRANDMEMBER str", WRONGTYPE),
        ("SRANDMEMBER str 1", WRONGTYPE),
        ("SMOVE str s a", WRONGTYPE),
        ("SMOVE s str a", WRONGTYPE),
        ("SMOVE nokey str a", ":0\r\n"),
        ("SINTER nokey str", WRONGTYPE),
        ("SUNION nokey str", WRONGTYPE),
        ("SDIFF nokey str", WRONGTYPE),
        ("SINTERCARD 2 nokey str", WRONGTYPE),
        ("SINTERSTORE d str", WRONGTYPE),
        ("SUNIONSTORE d str", WRONGTYPE),
        ("SDIFFSTORE d nokey str", WRONGTYPE),
        ("SSCAN str 0", WRONGTYPE),
        ("SPOP s abc", "-ERR value is out of range, must be positive\r\n"),
        ("SPOP s -1", "-ERR value is out of range, must be positive\r\n"),
        ("SPOP nokey abc", "-ERR value is out of range, must be positive\r\n"),
        ("SPOP s 1 2", "-ERR syntax error\r\n"),
        ("SRANDMEMBER s abc", "-ERR value is not an integer or out of range\r\n"),
        (
            "SRANDMEMBER s -9223372036854775808",
            "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
        ),
        ("SRANDMEMBER s 1 2", "-ERR syntax error\r\n"),
        ("SINTERCARD 0 s", "-ERR numkeys should be greater than 0\r\n"),
        ("SINTERCARD abc s", "-ERR numkeys should be greater than 0\r\n"),
        ("SINTERCARD 9223372036854775808 s", "-ERR numkeys should be greater than 0\r\n"),
        ("SINTERCARD 2 s", "-ERR Number of keys can't be greater than number of args\r\n"),
        ("SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
        ("SINTERCARD 1 s LIMIT abc", "-ERR LIMIT can't be negative\r\n"),
        ("SINTERCARD 1 s LIMIT", "-ERR syntax error\r\n"),
        ("SINTERCARD 1 s foo", "-ERR syntax error\r\n"),
        ("SINTERCARD", "-ERR wrong number of arguments for 'sintercard' command\r\n"),
        ("SMISMEMBER s", "-ERR wrong number of arguments for 'smismember' command\r\n"),
        ("SSCAN s abc", "-ERR invalid cursor\r\n"),
        ("SSCAN s 0 COUNT 0", "-ERR syntax error\r\n"),
        ("SSCAN s 0 TYPE set", "-ERR syntax error\r\n"),
    ]);
}

#[test]
fn set_replies_in_resp3() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.raw("HELLO 3");
    r.expect(&[
        ("SADD s 1 2 3", ":3\r\n"),
        ("SADD t x", ":1\r\n"),
        ("SMEMBERS s", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SMEMBERS nokey", "~0\r\n"),
        ("SINTER s", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SUNION s nokey", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SDIFF s t", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SINTER s nokey", "~0\r\n"),
        ("SPOP nokey 2", "~0\r\n"),
        ("SPOP s 0", "~0\r\n"),
        ("SPOP t 1", "~1\r\n$1\r\nx\r\n"),
        ("SPOP nokey", "_\r\n"),
        ("SRANDMEMBER nokey", "_\r\n"),
        ("SRANDMEMBER nokey 3", "*0\r\n"),
        ("SRANDMEMBER s 3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SMISMEMBER s 1 9", "*2\r\n:1\r\n:0\r\n"),
        ("SINTERCARD 1 s", ":3\r\n"),
        ("SSCAN s 0", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
    ]);
}

#[test]
fn encodings_follow_redis_thresholds() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd(&mut c, "SADD i 1 2 3");
    assert_eq!(encoding(&mut c, "i"), bulk("intset"));
    cmd(&mut c, "SADD i a");
    assert_eq!(encoding(&mut c, "i"), bulk("hashtable"));
    cmd(&mut c, "SREM i a");
    assert_eq!(encoding(&mut c, "i"), bulk("hashtable"), "never converts back");
    // Non-canonical and out-of-range integers are strings.
    for m in ["01", "+1", "-0", "213244124402402314402033402", " 1"] {
        c.cmd(&["DEL", "n"]);
        c.cmd(&["SADD", "n", m]);
        assert_eq!(encoding(&mut c, "n"), bulk("hashtable"), "{m}");
        assert_eq!(c.cmd(&["SISMEMBER", "n", m]), int(1));
    }
    cmd(&mut c, "SADD w -9223372036854775808 9223372036854775807");
    assert_eq!(encoding(&mut c, "w"), bulk("intset"));
    assert_eq!(members(cmd(&mut c, "SMEMBERS w")), set_of(&["-9223372036854775808", "9223372036854775807"]));
    for i in 0..512 {
        cmd(&mut c, &format!("SADD many {i}"));
    }
    assert_eq!(encoding(&mut c, "many"), bulk("intset"));
    cmd(&mut c, "SADD many 512");
    assert_eq!(encoding(&mut c, "many"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "CONFIG SET set-max-intset-entries 2"), ok());
    cmd(&mut c, "SADD two 1 2");
    assert_eq!(encoding(&mut c, "two"), bulk("intset"));
    cmd(&mut c, "SADD two 3");
    assert_eq!(encoding(&mut c, "two"), bulk("hashtable"));
}

#[test]
fn spop_and_srandmember_counts() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for (key, extra) in [("ht", " z"), ("is", "")] {
        let all: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
        cmd(&mut c, &format!("SADD {key} {}{extra}", all.join(" ")));
        let size = if extra.is_empty() { 20 } else { 21 };
        assert_eq!(len(cmd(&mut c, &format!("SRANDMEMBER {key} -100"))), 100);
        assert_eq!(len(cmd(&mut c, &format!("SRANDMEMBER {key} 100"))), size);
        for count in [1, 3, 18] {
            for _ in 0..50 {
                let got = cmd(&mut c, &format!("SRANDMEMBER {key} {count}"));
                let n = len(got.clone());
                assert_eq!(n, count);
                assert_eq!(members(got).len(), count, "distinct");
            }
        }
        assert_eq!(cmd(&mut c, &format!("SCARD {key}")), int(size as i64));
        // Both SPOP strategies (few members leave / most members leave), then the rest.
        let a = members(cmd(&mut c, &format!("SPOP {key} 2")));
        let b = members(cmd(&mut c, &format!("SPOP {key} 17")));
        let rest = members(cmd(&mut c, &format!("SPOP {key} 100")));
        assert_eq!(a.len() + b.len() + rest.len(), size);
        let mut union: HashSet<String> = a.union(&b).cloned().collect();
        union.extend(rest);
        assert_eq!(union.len(), size);
        assert_eq!(cmd(&mut c, &format!("EXISTS {key}")), int(0));
    }
    // The remainder of a big SPOP is rebuilt like Redis does: all integers make an intset.
    let mut tries = 0;
    loop {
        cmd(&mut c, "DEL m");
        cmd(&mut c, "SADD m a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19");
        let popped = members(cmd(&mut c, "SPOP m 18"));
        tries += 1;
        if popped.contains("a") {
            assert_eq!(encoding(&mut c, "m"), bulk("intset"));
            break;
        }
        assert!(tries < 200, "'a' should be popped sometimes");
    }
}

#[test]
fn smove_semantics_and_encodings() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let setup = |c: &mut Conn| {
        cmd(c, "DEL m1 m2 m3");
        cmd(c, "SADD m1 1 a b");
        cmd(c, "SADD m2 2 3 4");
    };
    setup(&mut c);
    assert_eq!(cmd(&mut c, "SMOVE m1 m2 a"), int(1));
    assert_eq!(encoding(&mut c, "m2"), bulk("hashtable"));
    setup(&mut c);
    assert_eq!(cmd(&mut c, "SMOVE m1 m2 1"), int(1));
    assert_eq!(encoding(&mut c, "m2"), bulk("intset"));
    assert_eq!(members(cmd(&mut c, "SMEMBERS m2")), set_of(&["1", "2", "3", "4"]));
    setup(&mut c);
    assert_eq!(cmd(&mut c, "SMOVE m1 m2 zz"), int(0));
    assert_eq!(cmd(&mut c, "SMOVE m1 m1 a"), int(1));
    assert_eq!(cmd(&mut c, "SMOVE m1 m1 zz"), int(0));
    assert_eq!(cmd(&mut c, "SMOVE m2 m3 2"), int(1));
    assert_eq!(encoding(&mut c, "m3"), bulk("intset"));
    assert_eq!(cmd(&mut c, "SMOVE m1 m3 a"), int(1));
    cmd(&mut c, "SMOVE m1 m3 b");
    assert_eq!(cmd(&mut c, "SMOVE m1 m3 1"), int(1));
    assert_eq!(cmd(&mut c, "EXISTS m1"), int(0), "emptied source is deleted");
    assert_eq!(members(cmd(&mut c, "SMEMBERS m3")), set_of(&["1", "2", "a", "b"]));
}

/// Redis's "SMOVE only notify dstset when the addition is successful": a WATCH on the
/// destination survives a move that adds nothing.
#[test]
fn smove_touches_destination_only_when_added() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut other = Conn::open(&srv);
    cmd(&mut c, "SADD src a b");
    cmd(&mut c, "SADD dst a");
    assert_eq!(cmd(&mut c, "WATCH dst"), ok());
    assert_eq!(cmd(&mut c, "MULTI"), ok());
    cmd(&mut c, "SADD dst c");
    assert_eq!(cmd(&mut other, "SMOVE src dst a"), int(1));
    assert_eq!(cmd(&mut c, "EXEC"), array(vec![int(1)]));
    assert_eq!(cmd(&mut c, "SCARD dst"), int(2));
}

#[test]
fn algebra_and_store_commands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd(&mut c, "SADD a 1 2 3 4 5");
    cmd(&mut c, "SADD b 3 4 5 6 7");
    cmd(&mut c, "SADD c 5 x y");
    assert_eq!(members(cmd(&mut c, "SINTER a b")), set_of(&["3", "4", "5"]));
    assert_eq!(members(cmd(&mut c, "SINTER a b c")), set_of(&["5"]));
    assert_eq!(members(cmd(&mut c, "SINTER a a a")), members(cmd(&mut c, "SMEMBERS a")));
    assert_eq!(members(cmd(&mut c, "SUNION a nokey b")).len(), 7);
    assert_eq!(members(cmd(&mut c, "SDIFF a b")), set_of(&["1", "2"]));
    assert_eq!(members(cmd(&mut c, "SDIFF a b c")), set_of(&["1", "2"]));
    assert_eq!(len(cmd(&mut c, "SDIFF a a")), 0);
    assert_eq!(len(cmd(&mut c, "SDIFF nokey a")), 0);
    assert_eq!(members(cmd(&mut c, "SDIFF b a nokey")), set_of(&["6", "7"]));
    assert_eq!(cmd(&mut c, "SINTERCARD 2 a b"), int(3));
    assert_eq!(cmd(&mut c, "SINTERCARD 2 a b LIMIT 2"), int(2));
    assert_eq!(cmd(&mut c, "SINTERCARD 2 a b LIMIT 0"), int(3));
    assert_eq!(cmd(&mut c, "SINTERCARD 3 a b nokey"), int(0));
    // STORE results are built from an intset, as Redis builds them.
    assert_eq!(cmd(&mut c, "SINTERSTORE d a b"), int(3));
    assert_eq!(encoding(&mut c, "d"), bulk("intset"));
    assert_eq!(cmd(&mut c, "SUNIONSTORE d a c"), int(7));
    assert_eq!(encoding(&mut c, "d"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "SDIFFSTORE d c a"), int(2));
    assert_eq!(encoding(&mut c, "d"), bulk("hashtable"));
    assert_eq!(cmd(&mut c, "SINTERSTORE d c a"), int(1));
    assert_eq!(encoding(&mut c, "d"), bulk("intset"));
    // An empty result deletes the destination, whatever it held.
    cmd(&mut c, "SET d str");
    assert_eq!(cmd(&mut c, "SINTERSTORE d a nokey"), int(0));
    assert_eq!(cmd(&mut c, "EXISTS d"), int(0));
    cmd(&mut c, "SET d str");
    assert_eq!(cmd(&mut c, "SDIFFSTORE d a a"), int(0));
    assert_eq!(cmd(&mut c, "EXISTS d"), int(0));
    cmd(&mut c, "SET d str");
    assert_eq!(cmd(&mut c, "SUNIONSTORE d a"), int(5));
    assert_eq!(cmd(&mut c, "TYPE d"), simple("set"));
    // The STORE forms drop a destination's TTL.
    cmd(&mut c, "EXPIRE d 100");
    cmd(&mut c, "SUNIONSTORE d b");
    assert_eq!(cmd(&mut c, "TTL d"), int(-1));
}

/// SSCAN over a big set returns every member that stays for the whole scan, even while the
/// set grows and shrinks between calls.
#[test]
fn sscan_guarantee_across_resizes() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for chunk in (0..3000).collect::<Vec<_>>().chunks(250) {
        let mut args = vec!["SADD".to_string(), "big".into()];
        args.extend(chunk.iter().map(|i| format!("member:{i}")));
        c.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let Frame::Array(reply) = cmd(&mut c, &format!("SSCAN big {cursor} COUNT 40")) else { panic!() };
        let Frame::Bulk(next) = &reply[0] else { panic!() };
        seen.extend(members(reply[1].clone()));
        step += 1;
        if step < 25 {
            let mut args = vec!["SADD".to_string(), "big".into()];
            args.extend((0..200).map(|j| format!("tmp{step}_{j}")));
            c.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
        } else if step < 50 {
            let mut args = vec!["SREM".to_string(), "big".into()];
            args.extend((0..200).map(|j| format!("tmp{}_{j}", step - 24)));
            c.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..3000 {
        assert!(seen.contains(&format!("member:{i}")), "SSCAN missed member:{i}");
    }
    // MATCH filters members, integers of an intset included.
    cmd(&mut c, "SADD ints 1 10 100 2");
    let Frame::Array(reply) = cmd(&mut c, "SSCAN ints 0 MATCH 1*") else { panic!() };
    assert_eq!(members(reply[1].clone()), set_of(&["1", "10", "100"]));
}

#[test]
fn copy_keeps_encoding_and_is_independent() {
    let srv = server();
    let mut c = Conn::open(&srv);
    cmd(&mut c, "SADD small 1 2 3");
    cmd(&mut c, "SADD big a b c a-much-longer-member-than-seven-bytes");
    for key in ["small", "big"] {
        assert_eq!(cmd(&mut c, &format!("COPY {key} {key}2")), int(1));
        assert_eq!(encoding(&mut c, &format!("{key}2")), encoding(&mut c, key));
        cmd(&mut c, &format!("SADD {key}2 extra"));
        assert_eq!(cmd(&mut c, &format!("SISMEMBER {key} extra")), int(0));
        assert_eq!(
            members(cmd(&mut c, &format!("SDIFF {key}2 {key}"))),
            set_of(&["extra"]),
            "the copy holds the same members plus its own"
        );
    }
}

/// SPOP reaches replicas as the SREMs of what it popped (a DEL when it took the whole set),
/// never as SPOP: a replica would pick other members at random.
#[test]
fn spop_is_replicated_as_srem_of_the_popped_members() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["SADD", "s", "a", "b", "c", "d", "e"]), int(5));
    let mut replica = attach_replica(&srv);
    let Frame::Bulk(one) = c.cmd(&["SPOP", "s"]) else { panic!("SPOP reply") };
    let Frame::Array(two) = c.cmd(&["SPOP", "s", "2"]) else { panic!("SPOP count reply") };
    assert_eq!(two.len(), 2);
    c.cmd(&["SPOP", "s", "10"]);
    c.cmd(&["SET", "marker", "1"]);
    let stream = String::from_utf8_lossy(&read_stream_until(&mut replica, b"marker")).into_owned();
    assert!(!stream.to_ascii_lowercase().contains("spop"), "{stream:?}");
    let one = String::from_utf8_lossy(&one).into_owned();
    assert!(stream.contains(&format!("*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\n{one}\r\n")), "{stream:?}");
    assert_eq!(stream.matches("$4\r\nSREM\r\n").count(), 3, "{stream:?}");
    assert!(stream.contains("*2\r\n$3\r\nDEL\r\n$1\r\ns\r\n"), "{stream:?}");
}
