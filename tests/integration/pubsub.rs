//! Pub/Sub: exact confirmation and message frames in RESP2 and RESP3, the subscribed-mode
//! rules, PUBSUB introspection, keyspace notifications, and output buffer limits for
//! subscribers that stop reading.

use std::time::{Duration, Instant};

use crate::harness::*;

fn sub_frame(kind: &str, channel: Option<&str>, count: i64) -> Vec<u8> {
    let mut out = format!("*3\r\n${}\r\n{kind}\r\n", kind.len()).into_bytes();
    match channel {
        Some(c) => out.extend_from_slice(format!("${}\r\n{c}\r\n", c.len()).as_bytes()),
        None => out.extend_from_slice(b"$-1\r\n"),
    }
    out.extend_from_slice(format!(":{count}\r\n").as_bytes());
    out
}

#[test]
fn subscribe_confirmations_and_messages_are_exact_resp2() {
    let srv = server();
    let mut sub = Conn::open(&srv);
    let mut publisher = Conn::open(&srv);
    sub.send_cmd(&["SUBSCRIBE", "a", "b", "a"]);
    sub.expect_raw(&sub_frame("subscribe", Some("a"), 1));
    sub.expect_raw(&sub_frame("subscribe", Some("b"), 2));
    sub.expect_raw(&sub_frame("subscribe", Some("a"), 2));
    assert_eq!(publisher.cmd(&["PUBLISH", "a", "hello"]), int(1));
    assert_eq!(publisher.cmd(&["PUBLISH", "nobody", "x"]), int(0));
    sub.expect_raw(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n");
    sub.send_cmd(&["PSUBSCRIBE", "a*"]);
    sub.expect_raw(&sub_frame("psubscribe", Some("a*"), 3));
    assert_eq!(publisher.cmd(&["PUBLISH", "a", "x"]), int(2));
    sub.expect_raw(b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n");
    sub.expect_raw(b"*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$1\r\nx\r\n");
    sub.send_cmd(&["UNSUBSCRIBE", "b", "zzz"]);
    sub.expect_raw(&sub_frame("unsubscribe", Some("b"), 2));
    sub.expect_raw(&sub_frame("unsubscribe", Some("zzz"), 2));
    sub.send_cmd(&["PUNSUBSCRIBE"]);
    sub.expect_raw(&sub_frame("punsubscribe", Some("a*"), 1));
    sub.send_cmd(&["UNSUBSCRIBE"]);
    sub.expect_raw(&sub_frame("unsubscribe", Some("a"), 0));
    // Nothing left: still one reply, with a null channel.
    sub.send_cmd(&["UNSUBSCRIBE"]);
    sub.expect_raw(&sub_frame("unsubscribe", None, 0));
    sub.send_cmd(&["PUNSUBSCRIBE"]);
    sub.expect_raw(&sub_frame("punsubscribe", None, 0));
    assert_eq!(sub.cmd(&["GET", "k"]), Frame::Null);
}

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    let srv = server();
    let mut c = Conn::open(&srv);
    c.send_cmd(&["SUBSCRIBE", "ch"]);
    c.expect_raw(&sub_frame("subscribe", Some("ch"), 1));
    assert_eq!(
        error_text(&c.cmd(&["GET", "k"])),
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    assert_eq!(
        error_text(&c.cmd(&["CLIENT", "ID"])),
        "ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    );
    assert_eq!(c.cmd(&["PING"]), bulks(&["pong", ""]));
    assert_eq!(c.cmd(&["PING", "hi"]), bulks(&["pong", "hi"]));
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn resp3_pushes_share_the_connection_with_replies() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut other = Conn::open(&srv);
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
    c.send_cmd(&["SUBSCRIBE", "ch"]);
    c.expect_raw(b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // Publishing to itself: the message is pushed before the command's reply.
    c.send_cmd(&["PUBLISH", "ch", "me"]);
    c.expect_raw(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nme\r\n:1\r\n");
    assert_eq!(other.cmd(&["PUBLISH", "ch", "you"]), int(1));
    c.expect_raw(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nyou\r\n");
    c.send_cmd(&["UNSUBSCRIBE"]);
    c.expect_raw(b">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
    c.send_cmd(&["UNSUBSCRIBE"]);
    c.expect_raw(b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
}

#[test]
fn confirmations_are_sent_even_with_replies_off() {
    let srv = server();
    let mut c = Conn::open(&srv);
    let mut p = Conn::open(&srv);
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    c.send_cmd(&["SUBSCRIBE", "ch"]);
    c.expect_raw(&sub_frame("subscribe", Some("ch"), 1));
    assert_eq!(p.cmd(&["PUBLISH", "ch", "m"]), int(1));
    c.expect_raw(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    c.send_cmd(&["PING"]);
    c.send_cmd(&["UNSUBSCRIBE", "ch"]);
    c.expect_raw(&sub_frame("unsubscribe", Some("ch"), 0));
}

#[test]
fn shard_channels_and_introspection() {
    let srv = server();
    let mut a = Conn::open(&srv);
    let mut b = Conn::open(&srv);
    let mut q = Conn::open(&srv);
    a.send_cmd(&["SSUBSCRIBE", "s1", "s2"]);
    a.expect_raw(&sub_frame("ssubscribe", Some("s1"), 1));
    a.expect_raw(&sub_frame("ssubscribe", Some("s2"), 2));
    // Shard subscriptions are counted apart from channels and patterns.
    a.send_cmd(&["SUBSCRIBE", "c1"]);
    a.expect_raw(&sub_frame("subscribe", Some("c1"), 1));
    b.send_cmd(&["PSUBSCRIBE", "c*", "s*"]);
    b.expect_raw(&sub_frame("psubscribe", Some("c*"), 1));
    b.expect_raw(&sub_frame("psubscribe", Some("s*"), 2));
    // SPUBLISH ignores patterns.
    assert_eq!(q.cmd(&["SPUBLISH", "s1", "m"]), int(1));
    a.expect_raw(b"*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$1\r\nm\r\n");
    assert_eq!(
        q.cmd(&["PUBSUB", "NUMSUB", "c1", "s1", "none"]),
        array(vec![bulk("c1"), int(1), bulk("s1"), int(0), bulk("none"), int(0)])
    );
    assert_eq!(q.cmd(&["PUBSUB", "SHARDNUMSUB", "s1"]), array(vec![bulk("s1"), int(1)]));
    assert_eq!(q.raw(&["PUBSUB", "NUMPAT"]), b":2\r\n");
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS"]), bulks(&["c1"]));
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS", "x*"]), array(vec![]));
    let Frame::Array(mut shards) = q.cmd(&["PUBSUB", "SHARDCHANNELS"]) else { panic!() };
    shards.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(shards, vec![bulk("s1"), bulk("s2")]);
    assert_eq!(
        error_text(&q.cmd(&["PUBSUB", "CHANNELS", "a", "b"])),
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    );
    let Frame::Bulk(info) = q.cmd(&["INFO", "stats"]) else { panic!() };
    let info = String::from_utf8(info).unwrap();
    assert!(info.contains("\r\npubsub_channels:1\r\npubsub_patterns:2\r\npubsubshard_channels:2\r\n"), "{info}");
    let Frame::Bulk(list) = q.cmd(&["CLIENT", "LIST"]) else { panic!() };
    let list = String::from_utf8(list).unwrap();
    assert!(list.contains("flags=P db=0 sub=1 psub=0 ssub=2 "), "{list}");
    assert!(list.contains("flags=P db=0 sub=0 psub=2 ssub=0 "), "{list}");
    // Unsubscribing from all: one reply per channel (in no particular order), counts falling.
    a.send_cmd(&["SUNSUBSCRIBE"]);
    let (first, second) = (a.read(), a.read());
    let Frame::Array(f) = first else { panic!() };
    let Frame::Array(s) = second else { panic!() };
    assert_eq!((&f[0], &f[2], &s[0], &s[2]), (&bulk("sunsubscribe"), &int(1), &bulk("sunsubscribe"), &int(0)));
    assert_ne!(f[1], s[1]);
    assert_eq!(q.cmd(&["PUBSUB", "SHARDCHANNELS"]), array(vec![]));
    // Still subscribed to c1, so still in subscribed mode.
    assert_eq!(a.cmd(&["PING"]), bulks(&["pong", ""]));
}

#[test]
fn subscribe_inside_transactions() {
    let srv = server();
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SUBSCRIBE", "x"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["SSUBSCRIBE", "y"]), simple("QUEUED"));
    c.send_cmd(&["EXEC"]);
    c.expect_raw(
        b"*2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n",
    );
}

#[test]
fn keyspace_notifications_for_generic_and_string_commands() {
    let srv = server();
    let mut sub = Conn::open(&srv);
    let mut c = Conn::open(&srv);
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), ok());
    sub.send_cmd(&["PSUBSCRIBE", "__key*"]);
    sub.expect_raw(&sub_frame("psubscribe", Some("__key*"), 1));
    let mut expect = |channel: &str, payload: &str| {
        let frame = sub.read();
        assert_eq!(frame, array(vec![bulk("pmessage"), bulk("__key*"), bulk(channel), bulk(payload)]));
    };
    c.cmd(&["SET", "k", "v"]);
    expect("__keyspace@0__:k", "set");
    expect("__keyevent@0__:set", "k");
    c.cmd(&["EXPIRE", "k", "100"]);
    expect("__keyspace@0__:k", "expire");
    expect("__keyevent@0__:expire", "k");
    c.cmd(&["RENAME", "k", "k2"]);
    expect("__keyspace@0__:k", "rename_from");
    expect("__keyevent@0__:rename_from", "k");
    expect("__keyspace@0__:k2", "rename_to");
    expect("__keyevent@0__:rename_to", "k2");
    c.cmd(&["DEL", "k2"]);
    expect("__keyspace@0__:k2", "del");
    expect("__keyevent@0__:del", "k2");
    // 'n' (new keys) is not part of 'A'.
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "En"]), ok());
    c.cmd(&["SET", "fresh", "1"]);
    c.cmd(&["SET", "fresh", "2"]);
    c.cmd(&["SET", "other", "1"]);
    expect("__keyevent@0__:new", "fresh");
    expect("__keyevent@0__:new", "other");
    assert_eq!(c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]), ok());
    c.cmd(&["SET", "short", "1", "PX", "1"]);
    // Expired by the active cycle (nothing reads it).
    expect("__keyevent@0__:expired", "short");
}

/// Publishes until the subscriber is dropped; returns how many messages it took.
fn publish_until_dropped(publisher: &mut Conn, payload: &str, fast: &mut Conn) -> usize {
    let mut sent = 0;
    loop {
        let Frame::Integer(n) = publisher.cmd(&["PUBLISH", "ch", payload]) else { panic!() };
        sent += 1;
        // The reading subscriber keeps up: nothing slows the publisher down.
        assert_eq!(fast.read(), array(vec![bulk("message"), bulk("ch"), bulk(payload)]));
        if n == 1 {
            return sent;
        }
        assert_eq!(n, 2);
        assert!(sent < 5000, "slow subscriber never disconnected");
    }
}

#[test]
fn subscriber_that_stops_reading_hits_the_hard_limit() {
    let srv = server_with("client-output-buffer-limit pubsub 1mb 0 0");
    let mut slow = Conn::open(&srv);
    let mut fast = Conn::open(&srv);
    let mut publisher = Conn::open(&srv);
    slow.send_cmd(&["CLIENT", "SETNAME", "slow"]);
    assert_eq!(slow.read(), ok());
    for c in [&mut slow, &mut fast] {
        c.send_cmd(&["SUBSCRIBE", "ch"]);
        c.expect_raw(&sub_frame("subscribe", Some("ch"), 1));
    }
    let payload = "x".repeat(64 * 1024);
    let sent = publish_until_dropped(&mut publisher, &payload, &mut fast);
    // Kernel buffers absorb some, then 1 MB queued: more than 16 messages were needed.
    assert!(sent > 16, "{sent}");
    let Frame::Bulk(list) = publisher.cmd(&["CLIENT", "LIST"]) else { panic!() };
    assert!(!String::from_utf8_lossy(&list).contains("name=slow"));
    // The dropped subscriber sees its connection closed after what was already sent.
    let received = slow.read_to_close();
    assert!(received.len() < sent * payload.len());
}

#[test]
fn subscriber_over_the_soft_limit_is_dropped_after_the_delay() {
    let srv = server_with("client-output-buffer-limit pubsub 0 256kb 1");
    let mut slow = Conn::open(&srv);
    let mut fast = Conn::open(&srv);
    let mut publisher = Conn::open(&srv);
    assert_eq!(slow.cmd(&["CLIENT", "SETNAME", "slow"]), ok());
    for c in [&mut slow, &mut fast] {
        c.send_cmd(&["SUBSCRIBE", "ch"]);
        c.expect_raw(&sub_frame("subscribe", Some("ch"), 1));
    }
    let payload = "y".repeat(64 * 1024);
    // Fill until the server holds more than the soft limit for the slow client.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        publisher.cmd(&["PUBLISH", "ch", &payload]);
        fast.read();
        let Frame::Bulk(list) = publisher.cmd(&["CLIENT", "LIST"]) else { panic!() };
        let list = String::from_utf8_lossy(&list).into_owned();
        let Some(line) = list.lines().find(|l| l.contains("name=slow")) else { break };
        let omem: usize =
            line.split(' ').find_map(|f| f.strip_prefix("omem=")).and_then(|v| v.parse().ok()).unwrap_or(0);
        if omem > 300 * 1024 {
            break;
        }
        assert!(Instant::now() < deadline, "output never grew");
    }
    // No more traffic: the cron closes it once the soft limit has lasted over a second.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let Frame::Bulk(list) = publisher.cmd(&["CLIENT", "LIST"]) else { panic!() };
        if !String::from_utf8_lossy(&list).contains("name=slow") {
            break;
        }
        assert!(Instant::now() < deadline, "slow subscriber still connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(publisher.cmd(&["PUBLISH", "ch", "after"]), int(1));
}
