//! SORT and SORT_RO. Every expected reply below was recorded from redis-server 7.0.15 (raw
//! RESP bytes).

use crate::harness::*;
use crate::hash::Raw;

#[test]
fn sort_store_fires_sortstore_and_del() {
    let srv = server();
    let mut sub = Conn::open(&srv);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), ok());
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    c.cmd(&["RPUSH", "l", "2", "1"]);
    let mut expect = |event: &str, key: &str| {
        let channel = format!("__keyevent@0__:{event}");
        assert_eq!(sub.read(), array(vec![bulk("pmessage"), bulk("__keyevent@0__:*"), bulk(&channel), bulk(key)]));
    };
    expect("rpush", "l");
    assert_eq!(c.cmd(&["SORT", "l", "STORE", "dst"]), int(2));
    expect("sortstore", "dst");
    assert_eq!(c.cmd(&["SORT", "l", "LIMIT", "5", "5", "STORE", "dst"]), int(0));
    expect("del", "dst");
    // Nothing to delete: no event (the next one seen is the marker's).
    assert_eq!(c.cmd(&["SORT", "nokey", "STORE", "dst"]), int(0));
    c.cmd(&["SET", "marker", "1"]);
    expect("set", "marker");
}

#[test]
fn sort_lists_numeric_and_alpha() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("RPUSH l 3 1 2 10 -5 1.5", ":6\r\n"),
        ("SORT l", "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        ("SORT l DESC", "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\n1.5\r\n$1\r\n1\r\n$2\r\n-5\r\n"),
        ("SORT l ALPHA", "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SORT l ALPHA DESC LIMIT 1 2", "*2\r\n$1\r\n2\r\n$2\r\n10\r\n"),
        ("SORT l LIMIT 0 0", "*0\r\n"),
        ("SORT l LIMIT -5 3", "*3\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n"),
        ("SORT l LIMIT 2 -1", "*4\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        ("SORT l LIMIT 10 3", "*0\r\n"),
        ("SORT l LIMIT 5 100", "*1\r\n$2\r\n10\r\n"),
        ("SORT l LIMIT a b", "-ERR value is not an integer or out of range\r\n"),
        ("SORT l LIMIT 1", "-ERR syntax error\r\n"),
        ("SORT l foo", "-ERR syntax error\r\n"),
        ("RPUSH bad 1 x 2", ":3\r\n"),
        ("SORT bad", "-ERR One or more scores can't be converted into double\r\n"),
        ("SORT bad ALPHA", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\nx\r\n"),
        ("RPUSH e ", ":1\r\n"),
        ("SORT e", "*1\r\n$0\r\n\r\n"),
        ("RPUSH inf 5 -inf inf", ":3\r\n"),
        ("SORT inf", "*3\r\n$4\r\n-inf\r\n$1\r\n5\r\n$3\r\ninf\r\n"),
        ("SET str x", "+OK\r\n"),
        ("SORT str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("SORT nokey", "*0\r\n"),
    ]);
}

#[test]
fn sort_by_and_get_patterns() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("RPUSH l 3 1 2 10 -5 1.5", ":6\r\n"),
        ("MSET w_3 30 w_1 10 w_2 20 w_10 -1 w_-5 5 w_1.5 1.5", "+OK\r\n"),
        ("SORT l BY w_*", "*6\r\n$2\r\n10\r\n$3\r\n1.5\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SORT l BY w_* DESC", "*6\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n$2\r\n-5\r\n$3\r\n1.5\r\n$2\r\n10\r\n"),
        ("SORT l BY w_* LIMIT 1 2", "*2\r\n$3\r\n1.5\r\n$2\r\n-5\r\n"),
        ("SORT l BY w_* GET # GET w_* GET nokey_*", "*18\r\n$2\r\n10\r\n$2\r\n-1\r\n$-1\r\n$3\r\n1.5\r\n$3\r\n1.5\r\n$-1\r\n$2\r\n-5\r\n$1\r\n5\r\n$-1\r\n$1\r\n1\r\n$2\r\n10\r\n$-1\r\n$1\r\n2\r\n$2\r\n20\r\n$-1\r\n$1\r\n3\r\n$2\r\n30\r\n$-1\r\n"),
        ("SORT l BY nokey_* LIMIT 1 2", "*2\r\n$1\r\n1\r\n$3\r\n1.5\r\n"),
        ("SORT l BY nokey_* ALPHA", "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"),
        ("HSET h_3 f a", ":1\r\n"),
        ("HSET h_1 f c", ":1\r\n"),
        ("HSET h_2 f b", ":1\r\n"),
        ("SORT l BY h_*->f ALPHA", "*6\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"),
        ("SORT l BY h_*->f ALPHA DESC", "*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"),
        ("SORT l BY h_*->f", "-ERR One or more scores can't be converted into double\r\n"),
        ("SORT l GET h_*->f", "*6\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$1\r\nb\r\n$1\r\na\r\n$-1\r\n"),
        ("SORT l GET h_*-> GET h_*->g", "*12\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        ("SORT l GET nostar", "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        ("SORT l GET #", "*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        ("SORT l GET # GET #", "*12\r\n$2\r\n-5\r\n$2\r\n-5\r\n$1\r\n1\r\n$1\r\n1\r\n$3\r\n1.5\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n3\r\n$2\r\n10\r\n$2\r\n10\r\n"),
        ("SORT l BY str_* GET str_*", "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
        ("SORT l BY h_* GET h_*", "*6\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
    ]);
}

#[test]
fn sort_by_nosort_keeps_native_order() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("RPUSH l 3 1 2 10 -5 1.5", ":6\r\n"),
        ("SORT l BY nosort", "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"),
        ("SORT l BY nosort DESC", "*6\r\n$3\r\n1.5\r\n$2\r\n-5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
        ("SORT l BY nosort LIMIT 1 2", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        ("SORT l BY nosort DESC LIMIT 1 2", "*2\r\n$2\r\n-5\r\n$2\r\n10\r\n"),
        ("SORT l BY nosort DESC LIMIT 10 2", "*0\r\n"),
        ("SORT l BY nosort GET #", "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n-5\r\n$3\r\n1.5\r\n"),
        ("ZADD z 1 c 2 b 3 a 0 d", ":4\r\n"),
        ("SORT z ALPHA", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        ("SORT z", "-ERR One or more scores can't be converted into double\r\n"),
        ("SORT z BY nosort", "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
        ("SORT z BY nosort DESC", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        ("SORT z BY nosort LIMIT 1 2", "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"),
        ("SORT z BY nosort DESC LIMIT 1 2", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        ("SORT z BY nosort DESC LIMIT 1 10", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        ("SORT z BY nosort LIMIT 10 10", "*0\r\n"),
        ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
        ("SADD s 5 3 9 1", ":4\r\n"),
        ("SORT s", "*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$1\r\n9\r\n"),
        ("SORT s DESC LIMIT 1 2", "*2\r\n$1\r\n5\r\n$1\r\n3\r\n"),
        ("SORT s BY nosort", "*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$1\r\n9\r\n"),
        ("SADD s2 b a c", ":3\r\n"),
        ("SORT s2 ALPHA", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        ("SORT s2 BY nosort STORE dst", ":3\r\n"),
        ("LRANGE dst 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
    ]);
}

#[test]
fn sort_store_and_sort_ro() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("RPUSH l 3 1 2", ":3\r\n"),
        ("MSET w_3 30 w_1 10 w_2 20", "+OK\r\n"),
        ("SORT l BY w_* GET # GET w_* STORE dst", ":6\r\n"),
        ("LRANGE dst 0 -1", "*6\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n2\r\n$2\r\n20\r\n$1\r\n3\r\n$2\r\n30\r\n"),
        ("OBJECT ENCODING dst", "$9\r\nquicklist\r\n"),
        ("TYPE dst", "+list\r\n"),
        ("SORT l GET nokey_* STORE dst", ":3\r\n"),
        ("LRANGE dst 0 -1", "*3\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n"),
        ("SORT l BY nosort LIMIT 0 0 STORE dst", ":0\r\n"),
        ("EXISTS dst", ":0\r\n"),
        ("SORT nokey STORE dst", ":0\r\n"),
        ("SORT_RO l STORE dst", "-ERR syntax error\r\n"),
        ("SORT_RO l BY w_* GET #", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        ("SORT_RO l LIMIT 1 1", "*1\r\n$1\r\n2\r\n"),
    ]);
}

#[test]
fn sort_resp3_and_command_info() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.raw("HELLO 3 SETNAME x");
    r.expect(&[
        ("RPUSH l 1 2", ":2\r\n"),
        ("SORT l GET # GET nokey_*", "*4\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n_\r\n"),
        ("COMMAND INFO sort sort_ro", "*2\r\n*10\r\n$4\r\nsort\r\n:-2\r\n~3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n~6\r\n+@write\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n~0\r\n~3\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%4\r\n$5\r\nnotes\r\n$120\r\nFor the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n%4\r\n$5\r\nnotes\r\n$116\r\nFor the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n~0\r\n*10\r\n$7\r\nsort_ro\r\n:-2\r\n~2\r\n+readonly\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n~6\r\n+@read\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n~0\r\n~2\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%4\r\n$5\r\nnotes\r\n$120\r\nFor the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n~0\r\n"),
        ("COMMAND GETKEYS sort a STORE b", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
        ("COMMAND GETKEYSANDFLAGS sort a LIMIT 0 1 STORE b STORE c", "*2\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nc\r\n~2\r\n+OW\r\n+update\r\n"),
        ("COMMAND GETKEYSANDFLAGS sort a", "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"),
        ("COMMAND GETKEYSANDFLAGS sort_ro a BY x", "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"),
        ("COMMAND GETKEYSANDFLAGS sort a STORE", "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"),
        ("COMMAND DOCS sort sort_ro", "%2\r\n$4\r\nsort\r\n%5\r\n$7\r\nsummary\r\n$46\r\nSort the elements in a list, set or sorted set\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$7\r\ngeneric\r\n$10\r\ncomplexity\r\n$168\r\nO(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).\r\n$9\r\narguments\r\n*7\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n%5\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$14\r\nkey_spec_index\r\n:1\r\n$5\r\ntoken\r\n$2\r\nBY\r\n$5\r\nflags\r\n~1\r\n+optional\r\n%5\r\n$4\r\nname\r\n$12\r\noffset_count\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\ntoken\r\n$5\r\nLIMIT\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%2\r\n$4\r\nname\r\n$6\r\noffset\r\n$4\r\ntype\r\n$7\r\ninteger\r\n%2\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\ninteger\r\n%5\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$14\r\nkey_spec_index\r\n:1\r\n$5\r\ntoken\r\n$3\r\nGET\r\n$5\r\nflags\r\n~3\r\n+optional\r\n+multiple\r\n+multiple_token\r\n%4\r\n$4\r\nname\r\n$5\r\norder\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%3\r\n$4\r\nname\r\n$3\r\nasc\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$3\r\nASC\r\n%3\r\n$4\r\nname\r\n$4\r\ndesc\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$4\r\nDESC\r\n%4\r\n$4\r\nname\r\n$7\r\nsorting\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$5\r\nALPHA\r\n$5\r\nflags\r\n~1\r\n+optional\r\n%5\r\n$4\r\nname\r\n$11\r\ndestination\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:2\r\n$5\r\ntoken\r\n$5\r\nSTORE\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$7\r\nsort_ro\r\n%5\r\n$7\r\nsummary\r\n$74\r\nSort the elements in a list, set or sorted set. Read-only variant of SORT.\r\n$5\r\nsince\r\n$5\r\n7.0.0\r\n$5\r\ngroup\r\n$7\r\ngeneric\r\n$10\r\ncomplexity\r\n$168\r\nO(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).\r\n$9\r\narguments\r\n*6\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n%5\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$14\r\nkey_spec_index\r\n:1\r\n$5\r\ntoken\r\n$2\r\nBY\r\n$5\r\nflags\r\n~1\r\n+optional\r\n%5\r\n$4\r\nname\r\n$12\r\noffset_count\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\ntoken\r\n$5\r\nLIMIT\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%2\r\n$4\r\nname\r\n$6\r\noffset\r\n$4\r\ntype\r\n$7\r\ninteger\r\n%2\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\ninteger\r\n%5\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$14\r\nkey_spec_index\r\n:1\r\n$5\r\ntoken\r\n$3\r\nGET\r\n$5\r\nflags\r\n~3\r\n+optional\r\n+multiple\r\n+multiple_token\r\n%4\r\n$4\r\nname\r\n$5\r\norder\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%3\r\n$4\r\nname\r\n$3\r\nasc\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$3\r\nASC\r\n%3\r\n$4\r\nname\r\n$4\r\ndesc\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$4\r\nDESC\r\n%4\r\n$4\r\nname\r\n$7\r\nsorting\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$5\r\nALPHA\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"),
    ]);
}
#[test]
fn sort_by_with_limit_orders_ties_like_redis() {
    let srv = server();
    let mut r = Raw::open(&srv);
    r.expect(&[
        ("RPUSH l 9 8 7 6 5 4 3 2 1 0 19 18 17 16 15 14 13 12 11 10 29 28 27 26 25 24 23 22 21 20 39 38 37 36 35 34 33 32 31 30 49 48 47 46 45 44", ":46\r\n"),
        ("SORT l BY nokey_* ALPHA LIMIT 3 5", "*5\r\n$1\r\n6\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n3\r\n$1\r\n2\r\n"),
        ("SORT l BY nokey_* ALPHA LIMIT 40 10", "*6\r\n$2\r\n49\r\n$2\r\n48\r\n$2\r\n47\r\n$2\r\n46\r\n$2\r\n45\r\n$1\r\n9\r\n"),
        ("SORT l BY nokey_* ALPHA DESC LIMIT 0 7", "*7\r\n$2\r\n44\r\n$1\r\n8\r\n$1\r\n7\r\n$1\r\n6\r\n$1\r\n5\r\n$1\r\n4\r\n$1\r\n3\r\n"),
        ("MSET w_1 a w_2 a w_3 b w_4 a w_5 b w_6 a w_7 c w_8 a w_9 b w_10 a w_11 a", "+OK\r\n"),
        ("SORT l BY w_* ALPHA LIMIT 1 8", "*8\r\n$2\r\n35\r\n$2\r\n34\r\n$2\r\n33\r\n$2\r\n32\r\n$2\r\n31\r\n$2\r\n30\r\n$2\r\n49\r\n$2\r\n48\r\n"),
        ("SORT l BY w_* ALPHA DESC LIMIT 1 8", "*8\r\n$1\r\n9\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n6\r\n$2\r\n10\r\n$1\r\n4\r\n"),
        ("SORT l BY w_* ALPHA LIMIT 0 46 STORE dst", ":46\r\n"),
        ("LRANGE dst 0 -1", "*46\r\n$1\r\n0\r\n$2\r\n19\r\n$2\r\n18\r\n$2\r\n17\r\n$2\r\n16\r\n$2\r\n15\r\n$2\r\n14\r\n$2\r\n13\r\n$2\r\n12\r\n$2\r\n29\r\n$2\r\n28\r\n$2\r\n27\r\n$2\r\n26\r\n$2\r\n25\r\n$2\r\n24\r\n$2\r\n23\r\n$2\r\n22\r\n$2\r\n21\r\n$2\r\n20\r\n$2\r\n39\r\n$2\r\n38\r\n$2\r\n37\r\n$2\r\n36\r\n$2\r\n35\r\n$2\r\n34\r\n$2\r\n33\r\n$2\r\n32\r\n$2\r\n31\r\n$2\r\n30\r\n$2\r\n49\r\n$2\r\n48\r\n$2\r\n47\r\n$2\r\n46\r\n$2\r\n45\r\n$2\r\n44\r\n$1\r\n8\r\n$1\r\n6\r\n$1\r\n4\r\n$1\r\n2\r\n$1\r\n1\r\n$2\r\n11\r\n$2\r\n10\r\n$1\r\n9\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n7\r\n"),
    ]);
}
