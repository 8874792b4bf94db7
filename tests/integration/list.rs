//! List commands over raw RESP, blocking ones with several connections. Expected replies are
//! redis-server 7.0.15's. Blocking tests never sleep: they wait until the server reports the
//! client blocked (INFO blocked_clients), or for the reply itself.

use std::time::{Duration, Instant};

use crate::harness::*;

fn nil_array() -> Frame {
    Frame::NullArray
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

#[test]
fn push_pop_range_index_basics() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LPUSH", "l", "x", "y"]), int(5));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-100", "1"]), bulks(&["y", "x"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "1"]), bulks(&[]));
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), bulk("c"));
    assert_eq!(c.cmd(&["LINDEX", "l", "5"]), Frame::Null);
    assert_eq!(c.cmd(&["LLEN", "l"]), int(5));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    assert_eq!(c.cmd(&["LPOP", "l"]), bulk("y"));
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), bulks(&["c", "b"]));
    assert_eq!(c.cmd(&["LPUSHX", "nokey", "a"]), int(0));
    assert_eq!(c.cmd(&["RPUSHX", "l", "z"]), int(3));
    assert_eq!(c.cmd(&["LPOP", "l", "10"]), bulks(&["x", "a", "z"]));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    // Integers are kept as integers and read back as the same text.
    c.cmd(&["RPUSH", "n", "-9223372036854775808", "9223372036854775808", "01", "-0", "0"]);
    assert_eq!(
        c.cmd(&["LRANGE", "n", "0", "-1"]),
        bulks(&["-9223372036854775808", "9223372036854775808", "01", "-0", "0"])
    );
    assert_eq!(c.cmd(&["LPOS", "n", "0"]), int(4));
    assert_eq!(c.cmd(&["LREM", "n", "0", "-0"]), int(1));
}

#[test]
fn pop_null_shapes_in_resp2_and_resp3() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), bulks(&[]));
    assert_eq!(c.cmd(&["LPOP", "nokey"]), Frame::Null);
    assert_eq!(c.cmd(&["LPOP", "nokey", "0"]), nil_array());
    assert_eq!(c.cmd(&["RPOP", "nokey", "1"]), nil_array());
    assert_eq!(c.cmd(&["LMPOP", "1", "nokey", "LEFT"]), nil_array());
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["LPOP", "nokey"]), Frame::Null);
    assert_eq!(c.cmd(&["LPOP", "nokey", "1"]), Frame::Null);
    assert_eq!(c.raw(&["RPOP", "nokey", "0"]), b"_\r\n");
    assert_eq!(c.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Frame::Null);
    assert_eq!(error_text(&c.cmd(&["LPOP", "l", "1", "2"])), "ERR wrong number of arguments for 'lpop' command");
    assert_eq!(error_text(&c.cmd(&["LPOP", "l", "-1"])), "ERR value is out of range, must be positive");
    assert_eq!(error_text(&c.cmd(&["LPOP", "l", "x"])), "ERR value is out of range, must be positive");
}

#[test]
fn errors_match_redis() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["SET", "s", "v"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        &["LPUSH", "s", "x"][..],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "s", "0"],
        &["BLMOVE", "s", "l", "LEFT", "LEFT", "0"],
    ] {
        assert_eq!(error_text(&c.cmd(cmd)), wrongtype, "{cmd:?}");
    }
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bulks(&["a", "b"]));
    let cases: &[(&[&str], &str)] = &[
        (&["LSET", "nokey", "0", "x"], "ERR no such key"),
        (&["LSET", "l", "5", "x"], "ERR index out of range"),
        (&["LINSERT", "l", "middle", "a", "x"], "ERR syntax error"),
        (&["LINDEX", "l", "x"], "ERR value is not an integer or out of range"),
        (&["LPOS", "l", "a", "RANK", "0"], "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"),
        (&["LPOS", "l", "a", "COUNT", "-1"], "ERR COUNT can't be negative"),
        (&["LPOS", "l", "a", "COUNT", "x"], "ERR COUNT can't be negative"),
        (&["LPOS", "l", "a", "MAXLEN", "-1"], "ERR MAXLEN can't be negative"),
        (&["LPOS", "l", "a", "RANK"], "ERR syntax error"),
        (&["LMPOP", "0", "l", "LEFT"], "ERR numkeys should be greater than 0"),
        (&["LMPOP", "2", "l", "LEFT"], "ERR syntax error"),
        (&["LMPOP", "1", "l", "LEFT", "COUNT", "0"], "ERR count should be greater than 0"),
        (&["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"], "ERR syntax error"),
        (&["LMOVE", "l", "d", "UP", "LEFT"], "ERR syntax error"),
        (&["BLPOP", "l", "-1"], "ERR timeout is negative"),
        (&["BLPOP", "l", "inf"], "ERR timeout is negative"),
        (&["BLPOP", "l", "abc"], "ERR timeout is not a float or out of range"),
        (&["BLMPOP", "0", "1", "l", "MIDDLE"], "ERR syntax error"),
    ];
    for (cmd, text) in cases {
        assert_eq!(error_text(&c.cmd(cmd)), *text, "{cmd:?}");
    }
}

#[test]
fn lpos_rank_count_maxlen() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(c.cmd(&["LPOS", "l", "c"]), int(2));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1"]), int(7));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0"]), array(vec![int(2), int(6), int(7)]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]), array(vec![int(7), int(6)]));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7", "RANK", "2"]), array(vec![int(6)]));
    assert_eq!(c.cmd(&["LPOS", "l", "x"]), Frame::Null);
    assert_eq!(c.cmd(&["LPOS", "nokey", "x", "COUNT", "1"]), array(vec![]));
    // Redis negates RANK LONG_MIN into itself: every match qualifies and COUNT never stops.
    c.cmd(&["RPUSH", "m", "a", "b", "a", "c", "a"]);
    assert_eq!(c.cmd(&["LPOS", "m", "a", "RANK", "-9223372036854775808"]), int(4));
    assert_eq!(
        c.cmd(&["LPOS", "m", "a", "RANK", "-9223372036854775808", "COUNT", "1"]),
        array(vec![int(4), int(2), int(0)])
    );
}

#[test]
fn insert_set_trim_remove_move() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.cmd(&["RPUSH", "l", "a", "b", "c", "b"]);
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "b", "x"]), int(5));
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "nope", "x"]), int(-1));
    assert_eq!(c.cmd(&["LINSERT", "nokey", "after", "a", "x"]), int(0));
    assert_eq!(c.cmd(&["LSET", "l", "-1", "z"]), ok());
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bulks(&["a", "x", "b", "c", "z"]));
    assert_eq!(c.cmd(&["LREM", "l", "-1", "x"]), int(1));
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "-2"]), ok());
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bulks(&["b", "c"]));
    assert_eq!(c.cmd(&["LMOVE", "l", "d", "RIGHT", "LEFT"]), bulk("c"));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "d"]), bulk("b"));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["LRANGE", "d", "0", "-1"]), bulks(&["b", "c"]));
    assert_eq!(c.cmd(&["LMOVE", "d", "d", "LEFT", "RIGHT"]), bulk("b"));
    assert_eq!(c.cmd(&["LRANGE", "d", "0", "-1"]), bulks(&["c", "b"]));
    assert_eq!(c.cmd(&["LTRIM", "d", "5", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "d"]), int(0));
    c.cmd(&["RPUSH", "m", "1", "2", "3"]);
    assert_eq!(c.cmd(&["LMPOP", "2", "nokey", "m", "RIGHT", "COUNT", "2"]), array(vec![bulk("m"), bulks(&["3", "2"])]));
}

#[test]
fn big_lists_with_small_nodes_and_compression() {
    let srv = server_with("list-max-listpack-size 4\nlist-compress-depth 1");
    let mut c = Conn::open(&srv);
    for i in 0..500 {
        c.send_cmd(&["RPUSH", "l", &format!("value-{}", i % 7), &i.to_string()]);
    }
    for _ in 0..500 {
        c.read();
    }
    assert_eq!(c.cmd(&["LLEN", "l"]), int(1000));
    assert_eq!(c.cmd(&["LINDEX", "l", "501"]), bulk("250"));
    assert_eq!(c.cmd(&["LSET", "l", "501", &"x".repeat(10000)]), ok());
    assert_eq!(c.cmd(&["LINDEX", "l", "501"]), bulk(&"x".repeat(10000)));
    assert_eq!(c.cmd(&["LREM", "l", "0", "value-3"]), int(71));
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "251", "after"]), int(930));
    let Frame::Array(all) = c.cmd(&["LRANGE", "l", "0", "-1"]) else { panic!() };
    assert_eq!(all.len(), 930);
    assert_eq!((&all[467], &all[468]), (&bulk("251"), &bulk("after")));
    assert_eq!(c.cmd(&["LPOS", "l", "after"]), int(468));
    assert_eq!(c.cmd(&["LTRIM", "l", "100", "-100"]), ok());
    assert_eq!(c.cmd(&["LLEN", "l"]), int(731));
}

#[test]
fn copy_clones_the_list_and_memory_is_counted() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let many: Vec<String> = (0..2000).map(|i| format!("element-{i}")).collect();
    let mut args = vec!["RPUSH", "src"];
    args.extend(many.iter().map(|s| s.as_str()));
    c.cmd(&args);
    assert_eq!(c.cmd(&["COPY", "src", "dst"]), int(1));
    c.cmd(&["RPOP", "src"]);
    assert_eq!(c.cmd(&["LLEN", "dst"]), int(2000));
    assert_eq!(c.cmd(&["LINDEX", "dst", "-1"]), bulk("element-1999"));
    let Frame::Integer(usage) = c.cmd(&["MEMORY", "USAGE", "dst"]) else { panic!() };
    // About 15 bytes per element in listpacks of 8 KiB, like Redis.
    assert!(usage > 2000 * 12 && usage < 2000 * 20, "{usage}");
}

#[test]
fn blpop_is_served_by_a_later_push() {
    let srv = server();
    let (mut a, mut b) = (Conn::open(&srv), Conn::open(&srv));
    a.send_cmd(&["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["RPUSH", "k2", "v"]), int(1));
    assert_eq!(a.read(), bulks(&["k2", "v"]));
    assert_eq!(b.cmd(&["EXISTS", "k2"]), int(0));
    wait_blocked(&mut b, 0);
}

#[test]
fn several_clients_are_served_first_come_first_served() {
    let srv = server();
    let (mut a, mut b, mut c) = (Conn::open(&srv), Conn::open(&srv), Conn::open(&srv));
    a.send_cmd(&["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"]);
    wait_blocked(&mut c, 1);
    b.send_cmd(&["BRPOP", "k", "0"]);
    wait_blocked(&mut c, 2);
    assert_eq!(c.cmd(&["RPUSH", "k", "1", "2", "3", "4"]), int(4));
    assert_eq!(a.read(), array(vec![bulk("k"), bulks(&["1", "2"])]));
    assert_eq!(b.read(), bulks(&["k", "4"]));
    assert_eq!(c.cmd(&["LRANGE", "k", "0", "-1"]), bulks(&["3"]));
}

#[test]
fn blmove_feeds_a_client_blocked_on_its_destination() {
    let srv = server();
    let (mut a, mut b, mut c) = (Conn::open(&srv), Conn::open(&srv), Conn::open(&srv));
    a.send_cmd(&["BLPOP", "target", "0"]);
    wait_blocked(&mut c, 1);
    b.send_cmd(&["BLMOVE", "src", "target", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut c, 2);
    c.cmd(&["RPUSH", "src", "foo"]);
    assert_eq!(b.read(), bulk("foo"));
    assert_eq!(a.read(), bulks(&["target", "foo"]));
    assert_eq!(c.cmd(&["EXISTS", "src", "target"]), int(0));
}

#[test]
fn blocked_brpoplpush_to_a_wrong_type_fails_and_keeps_the_element() {
    let srv = server();
    let (mut a, mut c) = (Conn::open(&srv), Conn::open(&srv));
    c.cmd(&["SET", "dst", "x"]);
    a.send_cmd(&["BRPOPLPUSH", "src", "dst", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "src", "a", "b"]);
    assert_eq!(error_text(&a.read()), "WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(c.cmd(&["LRANGE", "src", "0", "-1"]), bulks(&["a", "b"]));
}

#[test]
fn timeouts_reply_null_arrays_even_for_blmove() {
    let srv = server();
    let mut a = Conn::open(&srv);
    assert_eq!(a.cmd(&["BLPOP", "k", "0.01"]), nil_array());
    assert_eq!(a.cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.01"]), nil_array());
    assert_eq!(a.cmd(&["BLMPOP", "0.01", "1", "k", "LEFT"]), nil_array());
    a.cmd(&["HELLO", "3"]);
    assert_eq!(a.cmd(&["BRPOPLPUSH", "k", "d", "0.01"]), Frame::Null);
}

#[test]
fn inside_multi_blocking_commands_answer_at_once() {
    let srv = server();
    let mut a = Conn::open(&srv);
    a.cmd(&["RPUSH", "k", "v"]);
    a.cmd(&["MULTI"]);
    for cmd in [
        &["BLPOP", "k", "0"][..],
        &["BLPOP", "k", "0"],
        &["BLMOVE", "k", "d", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "k", "LEFT"],
    ] {
        assert_eq!(a.cmd(cmd), simple("QUEUED"));
    }
    assert_eq!(a.cmd(&["EXEC"]), array(vec![bulks(&["k", "v"]), nil_array(), Frame::Null, nil_array()]));
}

#[test]
fn client_unblock_with_timeout_or_error() {
    let srv = server();
    let (mut a, mut c) = (Conn::open(&srv), Conn::open(&srv));
    let Frame::Integer(id) = a.cmd(&["CLIENT", "ID"]) else { panic!() };
    let id = id.to_string();
    a.send_cmd(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    let Frame::Bulk(list) = c.cmd(&["CLIENT", "LIST", "ID", &id]) else { panic!() };
    assert!(String::from_utf8_lossy(&list).contains("flags=b"));
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), int(1));
    assert_eq!(a.read(), nil_array());
    a.send_cmd(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), int(1));
    assert_eq!(error_text(&a.read()), "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), int(0));
    // Still usable afterwards.
    assert_eq!(a.cmd(&["RPUSH", "k", "x"]), int(1));
}

#[test]
fn a_key_deleted_or_retyped_while_waiting_does_not_serve() {
    let srv = server();
    let (mut a, mut c) = (Conn::open(&srv), Conn::open(&srv));
    a.send_cmd(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["MULTI"]);
    c.cmd(&["LPUSH", "k", "a"]);
    c.cmd(&["DEL", "k"]);
    c.cmd(&["SET", "k", "string"]);
    c.cmd(&["EXEC"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["DEL", "k"]);
    c.cmd(&["LPUSH", "k", "b"]);
    assert_eq!(a.read(), bulks(&["k", "b"]));
}

/// Blocking and multi-key pops reach replicas as the plain pops they amount to, the same
/// stream redis-server 7.0.15 sends for this script.
#[test]
fn blocking_and_multi_key_pops_replicate_as_plain_pops() {
    let srv = server();
    let mut replica = attach_replica(&srv);
    let mut c = Conn::open(&srv);
    let mut blocked = Conn::open(&srv);
    blocked.send_cmd(&["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "l", "a", "b", "c"]);
    assert_eq!(blocked.read(), bulks(&["l", "a"]));
    c.cmd(&["BLPOP", "l", "0"]);
    c.cmd(&["LMPOP", "1", "l", "RIGHT", "COUNT", "5"]);
    c.cmd(&["RPUSH", "src", "x", "y"]);
    c.cmd(&["BLMOVE", "src", "dst", "left", "RIGHT", "0"]);
    c.cmd(&["BRPOPLPUSH", "src", "dst", "0"]);
    c.cmd(&["RPUSH", "m", "1", "2", "3"]);
    c.cmd(&["BLMPOP", "0", "1", "m", "LEFT", "COUNT", "2"]);
    c.cmd(&["BRPOP", "m", "0"]);
    c.cmd(&["SET", "end", "1"]);
    let stream = String::from_utf8_lossy(&read_stream_until(&mut replica, b"end")).into_owned();
    let commands: Vec<String> = stream
        .split("*")
        .filter_map(|cmd| {
            let words: Vec<&str> = cmd.split("\r\n").skip(1).filter(|w| !w.starts_with('$') && !w.is_empty()).collect();
            (!words.is_empty()).then(|| words.join(" "))
        })
        .filter(|c| c != "PING" && !c.starts_with("SELECT"))
        .collect();
    assert_eq!(
        commands,
        [
            "RPUSH l a b c",
            "LPOP l",
            "LPOP l",
            "RPOP l 1",
            "RPUSH src x y",
            "LMOVE src dst left RIGHT",
            "RPOPLPUSH src dst",
            "RPUSH m 1 2 3",
            "LPOP m 2",
            "RPOP m",
            "SET end 1",
        ]
    );
}

/// A key that expired while a transaction ran (DEBUG SLEEP inside MULTI) is expired, not
/// served, when its blocked clients are looked at after EXEC: they stay blocked.
#[test]
fn regression_blocked_pop_is_not_served_from_a_key_expired_during_exec() {
    let srv = server();
    let mut replica = attach_replica(&srv);
    let mut c = Conn::open(&srv);
    let mut blocked = Conn::open(&srv);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    let Frame::Integer(id) = blocked.cmd(&["CLIENT", "ID"]) else { panic!("CLIENT ID") };
    blocked.send_cmd(&["BRPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    c.cmd(&["RPUSH", "k", "hello"]);
    c.cmd(&["PEXPIRE", "k", "100"]);
    c.cmd(&["DEBUG", "SLEEP", "0.2"]);
    let Frame::Array(replies) = c.cmd(&["EXEC"]) else { panic!("EXEC") };
    assert_eq!(replies.len(), 3);
    // The expiry is propagated right after the transaction, before anything else touches k.
    c.cmd(&["SET", "marker", "1"]);
    let stream = String::from_utf8_lossy(&read_stream_until(&mut replica, b"marker")).into_owned();
    let exec = stream.find("EXEC").expect("EXEC propagated");
    let del = stream.find("$3\r\nDEL\r\n$1\r\nk\r\n").expect("DEL k propagated before the marker");
    assert!(exec < del, "{stream:?}");
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id.to_string()]), int(1));
    assert_eq!(blocked.read(), Frame::NullArray);
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
}

/// Guards the wake-up path that defers a woken connection's write until the other woken
/// connections ran: pipelined pops against pipelined pushes serve each other in a cascade
/// inside the server, and every reply must still arrive, in order.
#[test]
fn pipelined_blpop_ping_pong_cascade_delivers_every_reply() {
    let srv = server();
    let (mut a, mut b) = (Conn::open(&srv), Conn::open(&srv));
    const ROUNDS: usize = 200;
    let mut ping = Vec::new();
    let mut pong = Vec::new();
    for i in 0..ROUNDS {
        let value = format!("v{i}");
        ping.extend(Frame::command([b"RPUSH".as_slice(), b"ping", value.as_bytes()]));
        ping.extend(Frame::command([b"BLPOP".as_slice(), b"pong", b"0"]));
        pong.extend(Frame::command([b"BLPOP".as_slice(), b"ping", b"0"]));
        pong.extend(Frame::command([b"RPUSH".as_slice(), b"pong", value.as_bytes()]));
    }
    b.send(&pong);
    a.send(&ping);
    for i in 0..ROUNDS {
        let value = format!("v{i}");
        assert_eq!(a.read(), int(1), "RPUSH ping #{i}");
        assert_eq!(a.read(), bulks(&["pong", &value]), "BLPOP pong #{i}");
        assert_eq!(b.read(), bulks(&["ping", &value]), "BLPOP ping #{i}");
        assert_eq!(b.read(), int(1), "RPUSH pong #{i}");
    }
    assert_eq!(a.cmd(&["EXISTS", "ping", "pong"]), int(0));
}

/// Requests pipelined behind a BLPOP run as soon as a push serves it, before the pushing
/// client's next command, as Redis's processUnblockedClients runs them before the next event
/// loop iteration (they are parked with the engine while the client waits).
#[test]
fn requests_parked_behind_a_blocked_pop_run_when_a_push_serves_it() {
    let srv = server();
    let (mut a, mut b) = (Conn::open(&srv), Conn::open(&srv));
    let mut batch = Frame::command([b"BLPOP".as_slice(), b"k", b"0"]);
    batch.extend(Frame::command([b"SET".as_slice(), b"after", b"1"]));
    batch.extend(Frame::command([b"BLPOP".as_slice(), b"k", b"0"]));
    batch.extend(Frame::command([b"INCR".as_slice(), b"after"]));
    a.send(&batch);
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["RPUSH", "k", "v1"]), int(1));
    // A ran SET and blocked again on the second BLPOP before B's next command.
    assert_eq!(b.cmd(&["GET", "after"]), bulk("1"));
    assert_eq!(a.read(), bulks(&["k", "v1"]));
    assert_eq!(a.read(), ok());
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["RPUSH", "k", "v2"]), int(1));
    assert_eq!(b.cmd(&["GET", "after"]), bulk("2"));
    assert_eq!(a.read(), bulks(&["k", "v2"]));
    assert_eq!(a.read(), int(2));
    assert_eq!(a.cmd(&["PING"]), simple("PONG"));
}

/// What a served client's connection must run itself stays in order behind the parked
/// requests the engine ran: a script, and a request still arriving when the push came.
#[test]
fn parked_requests_leave_scripts_and_partial_requests_to_the_connection() {
    let srv = server();
    let (mut a, mut b) = (Conn::open(&srv), Conn::open(&srv));
    let mut batch = Frame::command([b"BLPOP".as_slice(), b"k", b"0"]);
    batch.extend(Frame::command([b"INCR".as_slice(), b"n"]));
    batch.extend(Frame::command([b"EVAL".as_slice(), b"return redis.call('INCR', 'n')", b"0"]));
    batch.extend(Frame::command([b"INCR".as_slice(), b"n"]));
    batch.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$1\r\n");
    a.send(&batch);
    wait_blocked(&mut b, 1);
    assert_eq!(b.cmd(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(a.read(), bulks(&["k", "v"]));
    assert_eq!(a.read(), int(1));
    assert_eq!(a.read(), int(2));
    assert_eq!(a.read(), int(3));
    a.send(b"n\r\n");
    assert_eq!(a.read(), int(4));
    assert_eq!(b.cmd(&["GET", "n"]), bulk("4"));
}
