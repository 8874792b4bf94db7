//! Stream commands over raw RESP: replies and errors as redis-server 7.0.15 sends them (the
//! RESP2 and RESP3 shapes of XREAD and XINFO included), consumer groups with their pending
//! lists, and blocking readers on several connections. Blocking tests never sleep: they wait
//! until the server reports the client blocked, or for the reply itself.

use std::time::{Duration, Instant};

use crate::harness::*;

fn entry(id: &str, fields: &[&str]) -> Frame {
    array(vec![bulk(id), bulks(fields)])
}

/// Waits until the server reports `n` blocked clients (fails after 10 s).
fn wait_blocked(c: &mut Conn, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("blocked_clients:{n}\r\n");
    loop {
        let Frame::Bulk(info) = c.cmd(&["INFO", "clients"]) else { panic!("INFO clients") };
        if String::from_utf8_lossy(&info).contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {want:?}");
        std::thread::yield_now();
    }
}

/// A map reply's value for `field` (RESP2 flat arrays and RESP3 maps alike).
fn field(reply: &Frame, name: &str) -> Frame {
    let pairs: Vec<(Frame, Frame)> = match reply {
        Frame::Map(p) => p.clone(),
        Frame::Array(items) => items.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect(),
        other => panic!("not a map: {other:?}"),
    };
    pairs.into_iter().find(|(k, _)| *k == bulk(name)).map(|(_, v)| v).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn add_range_delete_and_trim() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["XADD", "s", "1-1", "a", "1"]), bulk("1-1"));
    assert_eq!(c.cmd(&["XADD", "s", "1-*", "a", "2"]), bulk("1-2"));
    assert_eq!(c.cmd(&["XADD", "s", "2", "b", "x", "c", "y"]), bulk("2-0"));
    let Frame::Bulk(auto) = c.cmd(&["XADD", "s", "*", "d", "z"]) else { panic!("XADD *") };
    assert!(String::from_utf8_lossy(&auto).ends_with("-0"));
    assert_eq!(c.cmd(&["XLEN", "s"]), int(4));
    assert_eq!(c.cmd(&["XRANGE", "s", "-", "(2-0"]), array(vec![entry("1-1", &["a", "1"]), entry("1-2", &["a", "2"])]));
    assert_eq!(c.cmd(&["XREVRANGE", "s", "2", "-", "COUNT", "1"]), array(vec![entry("2-0", &["b", "x", "c", "y"])]));
    // An incomplete exclusive end keeps its maximal sequence: `(2` still includes 2-0.
    assert_eq!(c.cmd(&["XRANGE", "s", "(1-2", "(2"]), array(vec![entry("2-0", &["b", "x", "c", "y"])]));
    // COUNT 0 is a null array, a missing key an empty one.
    assert_eq!(c.cmd(&["XRANGE", "s", "-", "+", "COUNT", "0"]), Frame::NullArray);
    assert_eq!(c.cmd(&["XRANGE", "nokey", "-", "+", "COUNT", "0"]), array(vec![]));
    assert_eq!(c.cmd(&["XDEL", "s", "1-2", "9-9"]), int(1));
    assert_eq!(c.cmd(&["XTRIM", "s", "MAXLEN", "1"]), int(2));
    assert_eq!(c.cmd(&["XLEN", "s"]), int(1));
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("stream"));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), bulk("stream"));
    // An emptied stream stays, with its counters.
    c.cmd(&["XTRIM", "s", "MAXLEN", "0"]);
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(1));
    let info = c.cmd(&["XINFO", "STREAM", "s"]);
    assert_eq!(field(&info, "length"), int(0));
    assert_eq!(field(&info, "entries-added"), int(4));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("1-2"));
    assert_eq!(field(&info, "first-entry"), Frame::Null);
}

#[test]
fn id_and_option_errors_are_redis_texts() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["XADD", "s", "5-5", "f", "v"]);
    let cases: &[(&[&str], &str)] = &[
        (&["XADD", "s", "5-5", "f", "v"], "ERR The ID specified in XADD is equal or smaller than the target stream top item"),
        (&["XADD", "s", "0-0", "f", "v"], "ERR The ID specified in XADD must be greater than 0-0"),
        (&["XADD", "s", "x-1", "f", "v"], "ERR Invalid stream ID specified as stream command argument"),
        (&["XADD", "s", "*", "f"], "ERR wrong number of arguments for 'xadd' command"),
        (&["XADD", "s", "MAXLEN", "-1", "*", "f", "v"], "ERR The MAXLEN argument must be >= 0."),
        (&["XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "f", "v"], "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"),
        (&["XADD", "s", "MAXLEN", "1", "LIMIT", "1", "*", "f", "v"], "ERR syntax error, LIMIT cannot be used without the special ~ option"),
        (&["XTRIM", "s", "LIMIT", "1"], "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"),
        (&["XTRIM", "s", "FOO", "1"], "ERR syntax error"),
        (&["XRANGE", "s", "(-", "+"], "ERR Invalid stream ID specified as stream command argument"),
        (&["XRANGE", "s", "-", "(0-0"], "ERR invalid end ID for the interval"),
        (&["XREAD", "STREAMS", "s", "t", "0"], "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."),
        (&["XREAD", "STREAMS", "s", ">"], "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."),
        (&["XSETID", "s", "1-0"], "ERR The ID specified in XSETID is smaller than the target stream top item"),
        (&["XSETID", "nokey", "1-0"], "ERR no such key"),
        (&["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"], "ERR COUNT must be > 0"),
        (&["XGROUP", "CREATE", "nokey", "g", "$"], "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."),
        (&["XGROUP", "SETID", "s", "nogroup", "$"], "NOGROUP No such consumer group 'nogroup' for key name 's'"),
        (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], "NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option"),
        (&["XINFO", "HELP", "x"], "ERR wrong number of arguments for 'xinfo|help' command"),
    ];
    for (args, want) in cases {
        assert_eq!(error_text(&c.cmd(args)), *want, "{args:?}");
    }
    c.cmd(&["SET", "str", "x"]);
    assert!(error_text(&c.cmd(&["XADD", "str", "*", "f", "v"])).starts_with("WRONGTYPE"));
    c.cmd(&["XADD", "top", "18446744073709551615-18446744073709551615", "f", "v"]);
    assert_eq!(
        error_text(&c.cmd(&["XADD", "top", "*", "f", "v"])),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
}

#[test]
fn xread_shapes_in_resp2_and_resp3() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["XADD", "a", "1-0", "f", "v"]);
    c.cmd(&["XADD", "b", "1-0", "g", "w"]);
    assert_eq!(
        c.cmd(&["XREAD", "STREAMS", "a", "b", "0", "0"]),
        array(vec![
            array(vec![bulk("a"), array(vec![entry("1-0", &["f", "v"])])]),
            array(vec![bulk("b"), array(vec![entry("1-0", &["g", "w"])])]),
        ])
    );
    assert_eq!(c.cmd(&["XREAD", "STREAMS", "a", "$"]), Frame::NullArray);
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "1-0"]),
        Frame::Map(vec![(bulk("a"), array(vec![entry("1-0", &["f", "v"])]))])
    );
    assert_eq!(c.cmd(&["XREAD", "STREAMS", "a", "$"]), Frame::Null);
    let Frame::Map(info) = c.cmd(&["XINFO", "STREAM", "a"]) else { panic!("XINFO STREAM is a map in RESP3") };
    assert_eq!(info.len(), 10);
}

#[test]
fn consumer_group_pending_lists_stay_exact() {
    let srv = server();
    let mut c = Conn::open(&srv);
    for i in 1..=4 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "n", &i.to_string()]);
    }
    assert_eq!(c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]), ok());
    assert_eq!(
        error_text(&c.cmd(&["XGROUP", "CREATE", "s", "g", "0"])),
        "BUSYGROUP Consumer Group name already exists"
    );
    c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        array(vec![int(4), bulk("1-0"), bulk("4-0"), array(vec![bulks(&["alice", "2"]), bulks(&["bob", "2"])]),])
    );
    // History reads serve only the consumer's own pending entries.
    assert_eq!(
        c.cmd(&["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"]),
        array(vec![array(vec![bulk("s"), array(vec![entry("3-0", &["n", "3"]), entry("4-0", &["n", "4"])])])])
    );
    assert_eq!(c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID"]), bulks(&["1-0"]));
    assert_eq!(c.cmd(&["XACK", "s", "g", "1-0", "3-0", "9-0"]), int(2));
    assert_eq!(c.cmd(&["XDEL", "s", "4-0"]), int(1));
    // A deleted pending entry is dropped by XAUTOCLAIM and reported.
    assert_eq!(
        c.cmd(&["XAUTOCLAIM", "s", "g", "carol", "0", "0"]),
        array(vec![bulk("0-0"), array(vec![entry("2-0", &["n", "2"])]), bulks(&["4-0"])])
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        array(vec![int(1), bulk("2-0"), bulk("2-0"), array(vec![bulks(&["carol", "1"])])])
    );
    let groups = c.cmd(&["XINFO", "GROUPS", "s"]);
    let Frame::Array(groups) = groups else { panic!("XINFO GROUPS") };
    assert_eq!(field(&groups[0], "consumers"), int(3));
    assert_eq!(field(&groups[0], "pending"), int(1));
    assert_eq!(field(&groups[0], "entries-read"), int(4));
    assert_eq!(field(&groups[0], "lag"), int(0));
    assert_eq!(c.cmd(&["XGROUP", "DELCONSUMER", "s", "g", "carol"]), int(1));
    assert_eq!(c.cmd(&["XPENDING", "s", "g"]), array(vec![int(0), Frame::Null, Frame::Null, Frame::NullArray]));
    assert_eq!(c.cmd(&["XGROUP", "DESTROY", "s", "g"]), int(1));
}

#[test]
fn blocked_readers_wake_on_xadd_in_order() {
    let srv = server();
    let (mut c, mut r1, mut r2) = (Conn::open(&srv), Conn::open(&srv), Conn::open(&srv));
    c.cmd(&["XADD", "s", "1-0", "old", "x"]);
    r1.send_cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    r2.send_cmd(&["XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "other", "s", "$", "$"]);
    wait_blocked(&mut c, 2);
    c.cmd(&["MULTI"]);
    c.cmd(&["XADD", "s", "2-0", "new", "1"]);
    c.cmd(&["XADD", "s", "3-0", "new", "2"]);
    c.cmd(&["EXEC"]);
    assert_eq!(
        r1.read(),
        array(vec![array(vec![bulk("s"), array(vec![entry("2-0", &["new", "1"]), entry("3-0", &["new", "2"])])])])
    );
    assert_eq!(r2.read(), array(vec![array(vec![bulk("s"), array(vec![entry("2-0", &["new", "1"])])])]));
    // A timeout replies with a null array.
    assert_eq!(r1.cmd(&["XREAD", "BLOCK", "10", "STREAMS", "s", "$"]), Frame::NullArray);
}

#[test]
fn blocked_group_reader_gets_redis_errors_when_its_group_or_key_goes() {
    let srv = server();
    let (mut c, mut r) = (Conn::open(&srv), Conn::open(&srv));
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r.send_cmd(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(error_text(&r.read()), "NOGROUP the consumer group this client was blocked on no longer exists");
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    r.send_cmd(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["DEL", "s"]);
    assert_eq!(error_text(&r.read()), "UNBLOCKED the stream key no longer exists");
    // Served with data: the entry enters the consumer's pending list.
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r.send_cmd(&["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["XADD", "s", "7-0", "k", "v"]);
    assert_eq!(r.read(), array(vec![array(vec![bulk("s"), array(vec![entry("7-0", &["k", "v"])])])]));
    assert_eq!(field(&c.cmd(&["XINFO", "STREAM", "s"]), "length"), int(1));
    let Frame::Array(pending) = c.cmd(&["XPENDING", "s", "g", "-", "+", "10", "alice"]) else { panic!("XPENDING") };
    assert_eq!(pending.len(), 1);
}
