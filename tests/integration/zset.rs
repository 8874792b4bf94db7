//! Sorted sets over a real socket: replies, reply types in RESP2 and RESP3, and error texts
//! as redis-server 7.0.15 gives them (each expectation was checked against redis-server).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::harness::*;

fn dbl(s: &str) -> Frame {
    Frame::Double(s.as_bytes().to_vec())
}

fn resp3(c: &mut Conn) {
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
}

/// Waits (with a deadline, no sleeping) until `n` clients are blocked.
fn wait_blocked(c: &mut Conn, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("blocked_clients:{n}\r\n");
    loop {
        let Frame::Bulk(info) = c.cmd(&["INFO", "clients"]) else { panic!("INFO is a bulk string") };
        if String::from_utf8_lossy(&info).contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "clients never blocked: {}", String::from_utf8_lossy(&info));
        std::thread::yield_now();
    }
}

fn members(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8(b).unwrap(),
                other => panic!("expected a bulk string, got {other:?}"),
            })
            .collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

#[test]
fn zadd_options_and_their_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["ZADD", "z", "10", "x", "20", "y", "30", "z"]), int(3));
    assert_eq!(c.cmd(&["ZADD", "z", "gt", "ch", "5", "foo", "11", "x", "21", "y", "29", "z"]), int(3));
    assert_eq!(c.cmd(&["ZADD", "z", "lt", "xx", "ch", "1", "foo", "12", "x", "1", "y"]), int(2));
    assert_eq!(c.cmd(&["ZADD", "z", "nx", "1", "x", "2", "new"]), int(1));
    assert_eq!(c.cmd(&["ZADD", "z", "xx", "1", "absent"]), int(0));
    assert_eq!(c.cmd(&["ZADD", "z", "incr", "1.5", "x"]), bulk("12.5"));
    assert_eq!(c.cmd(&["ZADD", "z", "lt", "incr", "1", "x"]), Frame::Null);
    assert_eq!(c.cmd(&["ZADD", "nokey", "xx", "incr", "1", "x"]), Frame::Null);
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    let cases: &[(&[&str], &str)] = &[
        (&["ZADD", "z", "nx", "xx", "1", "a"], "ERR XX and NX options at the same time are not compatible"),
        (&["ZADD", "z", "gt", "lt", "1", "a"], "ERR GT, LT, and/or NX options at the same time are not compatible"),
        (&["ZADD", "z", "nx", "gt", "1", "a"], "ERR GT, LT, and/or NX options at the same time are not compatible"),
        (&["ZADD", "z", "incr", "1", "a", "2", "b"], "ERR INCR option supports a single increment-element pair"),
        (&["ZADD", "z", "1", "a", "2"], "ERR syntax error"),
        (&["ZADD", "z", "xx"], "ERR wrong number of arguments for 'zadd' command"),
        (&["ZADD", "z", "xx", "ch"], "ERR syntax error"),
        (&["ZADD", "z", "nan", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "", "a"], "ERR value is not a valid float"),
        (&["ZADD", "z", "1", "a", "x2", "b"], "ERR value is not a valid float"),
        (&["ZINCRBY", "z", "1", "a", "2"], "ERR wrong number of arguments for 'zincrby' command"),
    ];
    for (args, text) in cases {
        assert_eq!(error_text(&c.cmd(args)), *text, "{args:?}");
    }
    // A failed variadic ZADD adds nothing.
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(5));
    c.cmd(&["ZADD", "inf", "+inf", "m"]);
    assert_eq!(error_text(&c.cmd(&["ZINCRBY", "inf", "-inf", "m"])), "ERR resulting score is not a number (NaN)");
    assert_eq!(c.cmd(&["ZSCORE", "inf", "m"]), bulk("inf"));
    c.cmd(&["SET", "s", "v"]);
    assert_eq!(
        error_text(&c.cmd(&["ZADD", "s", "1", "a"])),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // Scores are parsed before the type check.
    assert_eq!(error_text(&c.cmd(&["ZADD", "s", "x", "a"])), "ERR value is not a valid float");
}

#[test]
fn scores_are_doubles_in_both_protocols() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "1.1", "a", "-inf", "b", "1e17", "c", "-0", "d"]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("1.1000000000000001"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), bulk("-inf"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "c"]), bulk("1e+17"));
    // A listpack keeps -0 as 0, as Redis's does.
    assert_eq!(c.cmd(&["ZSCORE", "z", "d"]), bulk("0"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "nope"]), Frame::Null);
    assert_eq!(c.cmd(&["ZMSCORE", "z", "a", "nope"]), array(vec![bulk("1.1000000000000001"), Frame::Null]));
    assert_eq!(c.cmd(&["ZMSCORE", "nokey", "a"]), array(vec![Frame::Null]));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1", "a"]), bulk("2.1000000000000001"));
    resp3(&mut c);
    assert_eq!(c.raw(&["ZSCORE", "z", "a"]), b",2.1000000000000001\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), dbl("-inf"));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1", "new"]), dbl("1"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "nope"]), Frame::Null);
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        array(vec![array(vec![bulk("b"), dbl("-inf")]), array(vec![bulk("d"), dbl("0")])])
    );
    assert_eq!(c.cmd(&["ZRANK", "z", "nope"]), Frame::Null);
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "-inf", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "+inf", "g"]);
    assert_eq!(members(c.cmd(&["ZRANGE", "z", "-2", "-1"])), ["f", "g"]);
    assert_eq!(members(c.cmd(&["ZREVRANGE", "z", "0", "1"])), ["g", "f"]);
    assert_eq!(members(c.cmd(&["ZRANGE", "z", "(1", "3", "BYSCORE"])), ["c", "d"]);
    assert_eq!(members(c.cmd(&["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"])), ["d", "c"]);
    assert_eq!(members(c.cmd(&["ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "2", "3"])), ["d", "e", "f"]);
    assert_eq!(members(c.cmd(&["ZREVRANGEBYSCORE", "z", "10", "0", "LIMIT", "2", "3"])), ["d", "c", "b"]);
    // A negative offset skips everything, a negative count has no limit.
    assert_eq!(members(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"])), Vec::<String>::new());
    assert_eq!(members(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "5", "-1"])), ["f", "g"]);
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]),
        array(vec![bulk("c"), bulk("2"), bulk("d"), bulk("3")])
    );
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(1", "(+inf"]), int(4));
    let cases: &[(&[&str], &str)] = &[
        (
            &["ZRANGE", "z", "0", "-1", "LIMIT", "1", "2"],
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        (&["ZREVRANGE", "z", "0", "-1", "BYSCORE"], "ERR syntax error"),
        (&["ZRANGEBYSCORE", "z", "0", "-1", "REV"], "ERR syntax error"),
        (&["ZRANGE", "z", "a", "1"], "ERR value is not an integer or out of range"),
        (&["ZRANGEBYSCORE", "z", "str", "1"], "ERR min or max is not a float"),
        (&["ZRANGEBYSCORE", "z", "1", "NaN"], "ERR min or max is not a float"),
        (&["ZCOUNT", "z", "1", "x"], "ERR min or max is not a float"),
        (&["ZRANGEBYLEX", "z", "foo", "[bar"], "ERR min or max not valid string range item"),
        (&["ZLEXCOUNT", "z", "+x", "[bar"], "ERR min or max not valid string range item"),
        (&["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"], "ERR syntax error"),
    ];
    for (args, text) in cases {
        assert_eq!(error_text(&c.cmd(args)), *text, "{args:?}");
    }
    c.cmd(&["DEL", "z"]);
    c.cmd(&["ZADD", "l", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant"]);
    assert_eq!(members(c.cmd(&["ZRANGEBYLEX", "l", "-", "[cool"])), ["alpha", "bar", "cool"]);
    assert_eq!(members(c.cmd(&["ZREVRANGEBYLEX", "l", "(down", "(alpha"])), ["cool", "bar"]);
    assert_eq!(members(c.cmd(&["ZRANGE", "l", "[b", "+", "BYLEX", "LIMIT", "1", "2"])), ["cool", "down"]);
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "-", "+"]), int(5));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "+", "-"]), int(0));
    assert_eq!(c.cmd(&["ZRANGE", "nokey", "0", "-1"]), array(vec![]));
}

#[test]
fn removals_delete_emptied_keys() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
    assert_eq!(c.cmd(&["ZREM", "z", "a", "nope"]), int(1));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "0"]), int(1));
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "(3", "+inf"]), int(2));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "5", "10"]), int(0));
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "-", "+"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_eq!(error_text(&c.cmd(&["ZREMRANGEBYRANK", "z", "a", "1"])), "ERR value is not an integer or out of range");
    assert_eq!(c.cmd(&["ZREM", "nokey", "a"]), int(0));
}

#[test]
fn encodings_follow_the_listpack_thresholds() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "1", "a"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    assert_eq!(c.cmd(&["TYPE", "z"]), simple("zset"));
    let long = "x".repeat(65);
    c.cmd(&["ZADD", "z", "2", &long]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // Removing members never converts back.
    c.cmd(&["ZREM", "z", &long]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // A stored result is sized by the result.
    c.cmd(&["ZUNIONSTORE", "u", "1", "z"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "u"]), bulk("listpack"));
    c.cmd(&["CONFIG", "SET", "zset-max-ziplist-entries", "1"]);
    c.cmd(&["ZADD", "two", "1", "a", "2", "b"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "two"]), bulk("skiplist"));
    assert_eq!(c.cmd(&["ZRANGESTORE", "r1", "two", "0", "0"]), int(1));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "r1"]), bulk("listpack"));
    assert_eq!(c.cmd(&["ZRANGESTORE", "r2", "two", "0", "1"]), int(2));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "r2"]), bulk("skiplist"));
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    c.cmd(&["ZADD", "zero", "1", "a"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "zero"]), bulk("skiplist"));
    assert_eq!(c.cmd(&["ZRANGESTORE", "r3", "zero", "0", "-1"]), int(1));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "r3"]), bulk("skiplist"));
}

/// A skiplist-encoded set answers ranks, ranges and removals like a sorted model.
#[test]
fn big_sets_agree_with_a_model() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let member = format!("m{}", next() % 700);
        let score = (next() % 100) as i64;
        if next() % 5 == 0 {
            let removed = c.cmd(&["ZREM", "z", &member]);
            assert_eq!(removed, int(i64::from(model.remove(&member).is_some())));
        } else {
            c.send_cmd(&["ZADD", "z", &score.to_string(), &member]);
            c.read();
            model.insert(member, score);
        }
    }
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let mut sorted: Vec<(i64, String)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
    sorted.sort();
    let all: Vec<String> = sorted.iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(members(c.cmd(&["ZRANGE", "z", "0", "-1"])), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(members(c.cmd(&["ZREVRANGE", "z", "0", "-1"])), rev);
    for i in (0..sorted.len()).step_by(37) {
        assert_eq!(c.cmd(&["ZRANK", "z", &sorted[i].1]), int(i as i64));
        assert_eq!(c.cmd(&["ZREVRANK", "z", &sorted[i].1]), int((sorted.len() - 1 - i) as i64));
        assert_eq!(members(c.cmd(&["ZRANGE", "z", &i.to_string(), &i.to_string()])), [sorted[i].1.clone()]);
    }
    let in_range: Vec<String> = sorted.iter().filter(|(s, _)| *s > 20 && *s <= 40).map(|(_, m)| m.clone()).collect();
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(20", "40"]), int(in_range.len() as i64));
    assert_eq!(members(c.cmd(&["ZRANGEBYSCORE", "z", "(20", "40"])), in_range);
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "10", "19"]), int(10));
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(sorted.len() as i64 - 10));
    let mut expected = all.clone();
    expected.drain(10..20);
    assert_eq!(members(c.cmd(&["ZRANGE", "z", "0", "-1"])), expected);
}

#[test]
fn pops_reply_shapes_in_resp2_and_resp3() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), array(vec![bulk("a"), bulk("1")]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z", "2"]), array(vec![bulk("d"), bulk("4"), bulk("c"), bulk("3")]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "0"]), array(vec![]));
    assert_eq!(c.cmd(&["ZPOPMIN", "nokey"]), array(vec![]));
    assert_eq!(
        c.cmd(&["ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "5"]),
        array(vec![bulk("z"), array(vec![array(vec![bulk("b"), bulk("2")])])])
    );
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_eq!(c.cmd(&["ZMPOP", "1", "z", "MIN"]), Frame::NullArray);
    let cases: &[(&[&str], &str)] = &[
        (&["ZPOPMIN", "z", "-1"], "ERR value is out of range, must be positive"),
        (&["ZPOPMIN", "z", "x"], "ERR value is out of range, must be positive"),
        (&["ZPOPMIN", "z", "1", "2"], "ERR syntax error"),
        (&["ZMPOP", "0", "z", "MIN"], "ERR numkeys should be greater than 0"),
        (&["ZMPOP", "a", "z", "MIN"], "ERR numkeys should be greater than 0"),
        (&["ZMPOP", "1", "z", "MIDDLE"], "ERR syntax error"),
        (&["ZMPOP", "2", "z", "MIN"], "ERR syntax error"),
        (&["ZMPOP", "1", "z", "MIN", "COUNT", "0"], "ERR count should be greater than 0"),
        (&["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"], "ERR syntax error"),
        (&["BZMPOP", "x", "1", "z", "MIN"], "ERR timeout is not a float or out of range"),
        (&["BZPOPMIN", "z", "-1"], "ERR timeout is negative"),
    ];
    for (args, text) in cases {
        assert_eq!(error_text(&c.cmd(args)), *text, "{args:?}");
    }
    resp3(&mut c);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), array(vec![bulk("a"), dbl("1")]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "1"]), array(vec![array(vec![bulk("b"), dbl("2")])]));
    assert_eq!(c.cmd(&["BZPOPMAX", "z", "0"]), array(vec![bulk("z"), bulk("c"), dbl("3")]));
    assert_eq!(c.cmd(&["ZMPOP", "1", "z", "MIN"]), Frame::Null);
}

#[test]
fn blocking_pops_serve_waiters_in_order() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut w1 = Conn::open(&srv);
    let mut w2 = Conn::open(&srv);
    w1.send_cmd(&["BZPOPMIN", "k", "0"]);
    wait_blocked(&mut c, 1);
    w2.send_cmd(&["BZMPOP", "0", "1", "k", "MAX", "COUNT", "5"]);
    wait_blocked(&mut c, 2);
    assert_eq!(c.cmd(&["ZADD", "k", "1", "x", "2", "y", "3", "z"]), int(3));
    assert_eq!(w1.read(), array(vec![bulk("k"), bulk("x"), bulk("1")]));
    assert_eq!(
        w2.read(),
        array(vec![bulk("k"), array(vec![array(vec![bulk("z"), bulk("3")]), array(vec![bulk("y"), bulk("2")])])])
    );
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    // The pop comes from the key that became ready first, not the first key listed.
    w1.send_cmd(&["BZPOPMIN", "k1", "k2", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["MULTI"]);
    c.cmd(&["ZADD", "k2", "1", "two"]);
    c.cmd(&["ZADD", "k1", "1", "one"]);
    c.cmd(&["EXEC"]);
    assert_eq!(w1.read(), array(vec![bulk("k2"), bulk("two"), bulk("1")]));
    // A key that is emptied again within the transaction serves no one.
    w1.send_cmd(&["BZPOPMIN", "t", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["MULTI"]);
    c.cmd(&["ZADD", "t", "1", "a"]);
    c.cmd(&["DEL", "t"]);
    c.cmd(&["SET", "t", "x"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["DEL", "t"]);
    c.cmd(&["ZADD", "t", "2", "b"]);
    assert_eq!(w1.read(), array(vec![bulk("t"), bulk("b"), bulk("2")]));
}

#[test]
fn blocking_pops_time_out_or_do_not_block() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["BZPOPMIN", "nokey", "0.01"]), Frame::NullArray);
    assert_eq!(c.cmd(&["BZMPOP", "0.01", "1", "nokey", "MIN"]), Frame::NullArray);
    c.cmd(&["MULTI"]);
    c.cmd(&["BZPOPMAX", "nokey", "0"]);
    assert_eq!(c.cmd(&["EXEC"]), array(vec![Frame::NullArray]));
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(
        error_text(&c.cmd(&["BZPOPMIN", "nokey", "s", "0"])),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    resp3(&mut c);
    assert_eq!(c.cmd(&["BZPOPMIN", "nokey", "0.01"]), Frame::Null);
}

#[test]
fn union_intersection_and_difference() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "a", "1", "a", "2", "b", "3", "c"]);
    c.cmd(&["ZADD", "b", "1", "b", "2", "c", "3", "d"]);
    assert_eq!(c.cmd(&["ZUNIONSTORE", "u", "2", "a", "b"]), int(4));
    assert_eq!(members(c.cmd(&["ZRANGE", "u", "0", "-1", "WITHSCORES"])), ["a", "1", "b", "3", "d", "3", "c", "5"]);
    assert_eq!(
        members(c.cmd(&["ZUNION", "2", "a", "b", "WEIGHTS", "2", "3", "WITHSCORES"])),
        ["a", "2", "b", "7", "d", "9", "c", "12"]
    );
    assert_eq!(members(c.cmd(&["ZINTER", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"])), ["b", "1", "c", "2"]);
    assert_eq!(members(c.cmd(&["ZINTER", "2", "a", "b", "AGGREGATE", "MAX"])), ["b", "c"]);
    assert_eq!(c.cmd(&["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
    assert_eq!(members(c.cmd(&["ZDIFF", "2", "a", "b", "WITHSCORES"])), ["a", "1"]);
    assert_eq!(c.cmd(&["ZDIFFSTORE", "u", "2", "a", "a"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "u"]), int(0));
    // +inf plus -inf sums to 0; 0 * inf weighs 0.
    c.cmd(&["ZADD", "pi", "+inf", "k"]);
    c.cmd(&["ZADD", "ni", "-inf", "k"]);
    assert_eq!(members(c.cmd(&["ZUNION", "2", "pi", "ni", "WITHSCORES"])), ["k", "0"]);
    assert_eq!(members(c.cmd(&["ZUNION", "1", "ni", "WEIGHTS", "0", "WITHSCORES"])), ["k", "0"]);
    let cases: &[(&[&str], &str)] = &[
        (&["ZUNION", "0", "a"], "ERR at least 1 input key is needed for 'zunion' command"),
        (&["ZINTERSTORE", "d", "0", "a"], "ERR at least 1 input key is needed for 'zinterstore' command"),
        (&["ZUNION", "3", "a", "b"], "ERR syntax error"),
        (&["ZUNION", "x", "a"], "ERR value is not an integer or out of range"),
        (&["ZUNION", "2", "a", "b", "WEIGHTS", "1", "nan"], "ERR weight value is not a float"),
        (&["ZUNION", "2", "a", "b", "AGGREGATE", "AVG"], "ERR syntax error"),
        (&["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"], "ERR syntax error"),
        (&["ZDIFF", "1", "a", "WEIGHTS", "1"], "ERR syntax error"),
        (&["ZINTERCARD", "1", "a", "LIMIT", "-1"], "ERR LIMIT can't be negative"),
        (&["ZINTERCARD", "1", "a", "WITHSCORES"], "ERR syntax error"),
    ];
    for (args, text) in cases {
        assert_eq!(error_text(&c.cmd(args)), *text, "{args:?}");
    }
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(
        error_text(&c.cmd(&["ZUNION", "2", "a", "s", "bogus"])),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    resp3(&mut c);
    assert_eq!(
        c.cmd(&["ZINTER", "2", "a", "b", "WITHSCORES"]),
        array(vec![array(vec![bulk("b"), dbl("3")]), array(vec![bulk("c"), dbl("5")])])
    );
}

#[test]
fn zscan_returns_every_member_once() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "small", "0.1", "a", "1e17", "b"]);
    // A listpack comes back whole, with scores written as Redis's listpack holds them.
    assert_eq!(
        c.cmd(&["ZSCAN", "small", "0", "COUNT", "1"]),
        array(vec![bulk("0"), bulks(&["a", "0.10000000000000001", "b", "100000000000000000"])])
    );
    assert_eq!(c.cmd(&["ZSCAN", "nokey", "0"]), array(vec![bulk("0"), array(vec![])]));
    for i in 0..500 {
        c.send_cmd(&["ZADD", "big", &i.to_string(), &format!("m{i}")]);
    }
    for _ in 0..500 {
        c.read();
    }
    let mut seen = BTreeMap::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(reply) = c.cmd(&["ZSCAN", "big", &cursor, "MATCH", "m1*", "COUNT", "20"]) else { panic!() };
        let Frame::Bulk(next) = &reply[0] else { panic!() };
        let pairs = members(reply[1].clone());
        for p in pairs.chunks(2) {
            assert_eq!(p[0], format!("m{}", p[1]));
            *seen.entry(p[0].clone()).or_insert(0) += 1;
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 111);
    assert_eq!(error_text(&c.cmd(&["ZSCAN", "big", "x"])), "ERR invalid cursor");
    assert_eq!(error_text(&c.cmd(&["ZSCAN", "big", "0", "TYPE", "zset"])), "ERR syntax error");
}

#[test]
fn zrandmember_counts() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert!(matches!(c.cmd(&["ZRANDMEMBER", "z"]), Frame::Bulk(_)));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey"]), Frame::Null);
    assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey", "3"]), array(vec![]));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "0"]), array(vec![]));
    let mut all = members(c.cmd(&["ZRANDMEMBER", "z", "10"]));
    all.sort();
    assert_eq!(all, ["a", "b", "c"]);
    let two = members(c.cmd(&["ZRANDMEMBER", "z", "2"]));
    assert!(two.len() == 2 && two[0] != two[1]);
    assert_eq!(members(c.cmd(&["ZRANDMEMBER", "z", "-7"])).len(), 7);
    let with = members(c.cmd(&["ZRANDMEMBER", "z", "-4", "WITHSCORES"]));
    for p in with.chunks(2) {
        let expected = match p[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(p[1], expected);
    }
    let cases: &[(&[&str], &str)] = &[
        (
            &["ZRANDMEMBER", "z", "-9223372036854775808"],
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ),
        (&["ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"], "ERR value is out of range"),
        (&["ZRANDMEMBER", "z", "1", "WITHSCORE"], "ERR syntax error"),
        (&["ZRANDMEMBER", "z", "x"], "ERR value is not an integer or out of range"),
    ];
    for (args, text) in cases {
        assert_eq!(error_text(&c.cmd(args)), *text, "{args:?}");
    }
    resp3(&mut c);
    let Frame::Array(pairs) = c.cmd(&["ZRANDMEMBER", "z", "2", "WITHSCORES"]) else { panic!() };
    assert!(pairs.iter().all(|p| matches!(p, Frame::Array(x) if matches!(x[1], Frame::Double(_)))));
}

#[test]
fn copy_and_rename_keep_the_set() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(c.cmd(&["COPY", "z", "z2"]), int(1));
    c.cmd(&["ZADD", "z", "4", "d"]);
    assert_eq!(members(c.cmd(&["ZRANGE", "z2", "0", "-1"])), ["a", "b", "c"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z2"]), bulk("skiplist"));
    assert_eq!(c.cmd(&["RENAME", "z2", "z3"]), ok());
    assert_eq!(c.cmd(&["ZSCORE", "z3", "c"]), bulk("3"));
    assert!(matches!(c.cmd(&["MEMORY", "USAGE", "z3"]), Frame::Integer(n) if n > 0));
}
