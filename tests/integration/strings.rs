//! String commands.

use crate::harness::*;

#[test]
fn set_options_and_get() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "w", "NX"]), Frame::Null);
    assert_eq!(c.cmd(&["SET", "k", "w", "XX", "GET"]), bulk("v"));
    assert_eq!(c.cmd(&["SET", "new", "x", "XX"]), Frame::Null);
    assert_eq!(error_text(&c.cmd(&["SET", "k", "v", "NX", "XX"])), "ERR syntax error");
    assert_eq!(error_text(&c.cmd(&["SET", "k", "v", "EX", "0"])), "ERR invalid expire time in 'set' command");
    assert_eq!(error_text(&c.cmd(&["SET", "k", "v", "EX", "x"])), "ERR value is not an integer or out of range");
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100000"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "v2", "KEEPTTL"]), ok());
    let Frame::Integer(ttl) = c.cmd(&["PTTL", "k"]) else { panic!() };
    assert!(ttl > 90000 && ttl <= 100000);
    assert_eq!(c.cmd(&["SET", "k", "v3"]), ok());
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(
        c.cmd(&["LPUSH_NOT_A_COMMAND"]),
        err("ERR unknown command 'LPUSH_NOT_A_COMMAND', with args beginning with: ")
    );
}

#[test]
fn counters_are_integers_with_redis_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["INCR", "n"]), int(1));
    assert_eq!(c.cmd(&["INCRBY", "n", "41"]), int(42));
    assert_eq!(c.cmd(&["DECRBY", "n", "2"]), int(40));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    c.cmd(&["SET", "big", "9223372036854775807"]);
    assert_eq!(error_text(&c.cmd(&["INCR", "big"])), "ERR increment or decrement would overflow");
    c.cmd(&["SET", "s", "abc"]);
    assert_eq!(error_text(&c.cmd(&["INCR", "s"])), "ERR value is not an integer or out of range");
    assert_eq!(error_text(&c.cmd(&["DECRBY", "n", "-9223372036854775808"])), "ERR decrement would overflow");
}

#[test]
fn incrbyfloat_uses_long_double_formatting() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "g", "5.0e3"]), bulk("5000"));
    assert_eq!(error_text(&c.cmd(&["INCRBYFLOAT", "f", "inf"])), "ERR increment would produce NaN or Infinity");
    assert_eq!(error_text(&c.cmd(&["INCRBYFLOAT", "f", "x"])), "ERR value is not a valid float");
}

#[test]
fn append_setrange_getrange_strlen() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["APPEND", "s", "Hello"]), int(5));
    assert_eq!(c.cmd(&["APPEND", "s", " World"]), int(11));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), bulk("raw"));
    assert_eq!(c.cmd(&["GETRANGE", "s", "0", "4"]), bulk("Hello"));
    assert_eq!(c.cmd(&["GETRANGE", "s", "-5", "-1"]), bulk("World"));
    assert_eq!(c.cmd(&["SETRANGE", "s", "6", "Redis"]), int(11));
    assert_eq!(c.cmd(&["GET", "s"]), bulk("Hello Redis"));
    assert_eq!(c.cmd(&["SETRANGE", "pad", "3", "x"]), int(4));
    assert_eq!(c.cmd(&["GET", "pad"]), Frame::Bulk(b"\0\0\0x".to_vec()));
    assert_eq!(c.cmd(&["SETRANGE", "none", "3", ""]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "none"]), int(0));
    assert_eq!(c.cmd(&["STRLEN", "s"]), int(11));
    c.cmd(&["SET", "i", "12345"]);
    assert_eq!(c.cmd(&["STRLEN", "i"]), int(5));
    assert_eq!(c.cmd(&["GETRANGE", "i", "1", "2"]), bulk("23"));
}

#[test]
fn multi_key_string_commands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(c.cmd(&["MGET", "a", "b", "nope"]), array(vec![bulk("1"), bulk("2"), Frame::Null]));
    assert_eq!(c.cmd(&["MSETNX", "a", "x", "c", "3"]), int(0));
    assert_eq!(c.cmd(&["MSETNX", "c", "3", "d", "4"]), int(1));
    assert_eq!(error_text(&c.cmd(&["MSET", "a", "1", "b"])), "ERR wrong number of arguments for 'mset' command");
    assert_eq!(c.cmd(&["GETDEL", "a"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "a"]), Frame::Null);
    assert_eq!(c.cmd(&["GETSET", "b", "new"]), bulk("2"));
}

#[test]
fn getex_sets_and_clears_ttls() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "100"]), bulk("v"));
    assert_eq!(c.cmd(&["TTL", "k"]), int(100));
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["GETEX", "k", "PXAT", "1"]), bulk("v"));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(error_text(&c.cmd(&["GETEX", "k", "EX", "1", "PERSIST"])), "ERR syntax error");
}

#[test]
fn lcs_variants() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["MSET", "key1", "ohmytext", "key2", "mynewtext"]);
    assert_eq!(c.cmd(&["LCS", "key1", "key2"]), bulk("mytext"));
    assert_eq!(c.cmd(&["LCS", "key1", "key2", "LEN"]), int(6));
    let idx = c.cmd(&["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
    assert_eq!(
        idx,
        array(vec![
            bulk("matches"),
            array(vec![array(vec![array(vec![int(4), int(7)]), array(vec![int(5), int(8)]), int(4)])]),
            bulk("len"),
            int(6)
        ])
    );
}

#[test]
fn wrong_type_errors() {
    let srv = server();
    let mut c = Conn::open(&srv);
    // No collection types yet are needed: a WRONGTYPE test uses them once they exist.
    c.cmd(&["SET", "s", "v"]);
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("string"));
    assert_eq!(c.cmd(&["TYPE", "none"]), simple("none"));
}
