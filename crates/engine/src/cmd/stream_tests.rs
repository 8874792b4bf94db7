//! In-process tests of the stream family: keyspace events, blocked readers served through
//! the engine (FIFO, `$` resolved at block time, -NOGROUP/-UNBLOCKED when the group or key
//! goes), what is propagated to replicas and the AOF, and AOF-rewrite commands replaying to
//! the same stream. Expected sequences were recorded from redis-server 7.0.15 (events with a
//! PSUBSCRIBE client, propagation from its AOF).

use spinel_resp::Frame;

use crate::cmd::test_support::{bulk, client, outbox, run, server};
use crate::server::Server;

fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// `[id, [field, value, …]]`.
fn entry(id: &str, fields: &[&str]) -> Frame {
    arr(vec![bulk(id), arr(fields.iter().map(|f| bulk(f)).collect())])
}

fn error(frames: &[Frame]) -> String {
    match frames {
        [Frame::Error(e)] => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected one error, got {other:?}"),
    }
}

/// A frame as text, for messages and for flattening commands.
fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn keyspace_events_match_redis() {
    let mut srv = server();
    let (sub, c) = (client(&mut srv), client(&mut srv));
    run(&mut srv, c, &["config", "set", "notify-keyspace-events", "KEA"]);
    crate::pubsub::subscribe(&mut srv, sub, crate::pubsub::Kind::Pattern, &[b"__keyevent@*"]);
    let script: &[&[&str]] = &[
        &["xadd", "s", "1-0", "f", "v"],
        &["xadd", "s", "MAXLEN", "1", "2-0", "f", "v"],
        &["xadd", "s", "MAXLEN", "5", "3-0", "f", "v"],
        &["xtrim", "s", "MAXLEN", "0"],
        &["xtrim", "s", "MAXLEN", "0"],
        &["xadd", "s", "4-0", "f", "v"],
        &["xdel", "s", "4-0", "9-0"],
        &["xdel", "s", "4-0"],
        &["xgroup", "create", "s", "g", "$"],
        &["xgroup", "create", "s2", "g", "$", "MKSTREAM"],
        &["xgroup", "createconsumer", "s", "g", "c"],
        &["xgroup", "createconsumer", "s", "g", "c"],
        &["xgroup", "setid", "s", "g", "0"],
        &["xadd", "s", "5-0", "f", "v"],
        &["xreadgroup", "group", "g", "d", "streams", "s", ">"],
        &["xreadgroup", "group", "g", "d", "streams", "s", ">"],
        &["xclaim", "s", "g", "e", "0", "5-0"],
        &["xautoclaim", "s", "g", "f", "0", "0"],
        &["xack", "s", "g", "5-0"],
        &["xgroup", "delconsumer", "s", "g", "c"],
        &["xgroup", "delconsumer", "s", "g", "zz"],
        &["xgroup", "destroy", "s", "g"],
        &["xgroup", "destroy", "s", "g"],
        &["xsetid", "s", "10-0"],
        &["xadd", "s", "NOMKSTREAM", "11-0", "f", "v"],
        &["xadd", "nos", "NOMKSTREAM", "11-0", "f", "v"],
        &["del", "s"],
    ];
    for cmd in script {
        run(&mut srv, c, cmd);
    }
    let events: Vec<String> = outbox(&mut srv, sub)
        .iter()
        .filter_map(|f| match f {
            Frame::Array(parts) if parts.len() == 4 => {
                Some(format!("{} {}", text(&parts[2]).trim_start_matches("__keyevent@0__:"), text(&parts[3])))
            }
            _ => None,
        })
        .collect();
    let expected = [
        "xadd s",
        "xadd s",
        "xtrim s",
        "xadd s",
        "xtrim s",
        "xadd s",
        "xdel s",
        "xgroup-create s",
        "xgroup-create s2",
        "xgroup-createconsumer s",
        "xgroup-setid s",
        "xadd s",
        "xgroup-createconsumer s",
        "xgroup-createconsumer s",
        "xgroup-createconsumer s",
        "xgroup-delconsumer s",
        "xgroup-destroy s",
        "xsetid s",
        "xadd s",
        "del s",
    ];
    assert_eq!(events, expected);
}

#[test]
fn blocked_readers_are_served_in_order_from_their_own_ids() {
    let mut srv = server();
    let (a, b, g1, g2, c) = (client(&mut srv), client(&mut srv), client(&mut srv), client(&mut srv), client(&mut srv));
    run(&mut srv, c, &["xadd", "s", "1-0", "old", "x"]);
    run(&mut srv, c, &["xgroup", "create", "s", "grp", "$"]);
    // `$` is the last ID when blocking, not when served.
    assert!(run(&mut srv, a, &["xread", "block", "0", "streams", "s", "other", "$", "$"]).is_empty());
    // Something to read already: no blocking.
    assert_eq!(
        run(&mut srv, b, &["xread", "block", "0", "count", "1", "streams", "s", "0-0"]),
        vec![arr(vec![arr(vec![bulk("s"), arr(vec![entry("1-0", &["old", "x"])])])])]
    );
    assert!(run(&mut srv, g1, &["xreadgroup", "group", "grp", "c1", "block", "0", "streams", "s", ">"]).is_empty());
    assert!(run(&mut srv, g2, &["xreadgroup", "group", "grp", "c2", "block", "0", "streams", "s", ">"]).is_empty());
    assert_eq!(srv.blocked_clients, 3);
    run(&mut srv, c, &["xadd", "s", "2-0", "new", "y"]);
    assert_eq!(outbox(&mut srv, a), vec![arr(vec![arr(vec![bulk("s"), arr(vec![entry("2-0", &["new", "y"])])])])]);
    // One new entry: the first group reader takes it, the second keeps waiting.
    assert_eq!(outbox(&mut srv, g1), vec![arr(vec![arr(vec![bulk("s"), arr(vec![entry("2-0", &["new", "y"])])])])]);
    assert!(outbox(&mut srv, g2).is_empty());
    assert_eq!(srv.blocked_clients, 1);
    run(&mut srv, c, &["xadd", "s", "3-0", "more", "z"]);
    assert_eq!(outbox(&mut srv, g2), vec![arr(vec![arr(vec![bulk("s"), arr(vec![entry("3-0", &["more", "z"])])])])]);
    let pending = run(&mut srv, c, &["xpending", "s", "grp"]);
    assert_eq!(
        text(&match &pending[0] {
            Frame::Array(p) => p[0].clone(),
            other => other.clone(),
        }),
        "2"
    );
}

#[test]
fn group_readers_learn_that_their_group_or_key_went_away() {
    let mut srv = server();
    let (r, c) = (client(&mut srv), client(&mut srv));
    let block = ["xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">"];
    let setup = |srv: &mut Server| {
        run(srv, c, &["del", "s"]);
        run(srv, c, &["xadd", "s", "666", "f", "v"]);
        run(srv, c, &["xgroup", "create", "s", "g", "$"]);
        assert!(run(srv, r, &block).is_empty());
    };
    setup(&mut srv);
    run(&mut srv, c, &["config", "resetstat"]);
    run(&mut srv, c, &["xgroup", "destroy", "s", "g"]);
    assert_eq!(error(&outbox(&mut srv, r)), "NOGROUP the consumer group this client was blocked on no longer exists");
    let Frame::Bulk(errors) = &run(&mut srv, c, &["info", "errorstats"])[0] else { panic!("no info") };
    assert!(String::from_utf8_lossy(errors).contains("errorstat_NOGROUP:count=1"));
    for change in [&["del", "s"][..], &["set", "s", "x"], &["flushall"]] {
        setup(&mut srv);
        run(&mut srv, c, change);
        assert_eq!(error(&outbox(&mut srv, r)), "UNBLOCKED the stream key no longer exists", "after {change:?}");
    }
    // XREAD readers are not woken by a deletion; the next entry serves them.
    run(&mut srv, c, &["del", "s"]);
    assert!(run(&mut srv, r, &["xread", "block", "0", "streams", "s", "$"]).is_empty());
    run(&mut srv, c, &["multi"]);
    run(&mut srv, c, &["xadd", "s", "1-0", "a", "b"]);
    run(&mut srv, c, &["del", "s"]);
    run(&mut srv, c, &["exec"]);
    assert!(outbox(&mut srv, r).is_empty());
    run(&mut srv, c, &["xadd", "s", "2-0", "c", "d"]);
    assert_eq!(outbox(&mut srv, r), vec![arr(vec![arr(vec![bulk("s"), arr(vec![entry("2-0", &["c", "d"])])])])]);
}

/// The replication stream as commands, with delivery times masked.
fn propagated(frames: Vec<Frame>) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Array(parts) => {
                let words: Vec<String> = parts.iter().map(text).collect();
                let mut line = Vec::new();
                let mut mask = false;
                for w in words {
                    line.push(if mask { "T".to_string() } else { w.clone() });
                    mask = w == "TIME";
                }
                Some(line.join(" "))
            }
            _ => None,
        })
        .filter(|l| l != "PING" && !l.starts_with("SELECT"))
        .collect()
}

#[test]
fn propagation_matches_redis_aof() {
    let mut srv = server();
    let (replica, c) = (client(&mut srv), client(&mut srv));
    crate::replication::attach_replica(&mut srv, replica, true);
    let script: &[&[&str]] = &[
        &["xadd", "s", "MAXLEN", "~", "5", "1-0", "f", "v"],
        &["xadd", "s", "2-*", "f", "v"],
        &["xgroup", "create", "s", "g", "0"],
        &["xreadgroup", "group", "g", "alice", "count", "1", "streams", "s", ">"],
        &["xreadgroup", "group", "g", "bob", "noack", "streams", "s", ">"],
        &["xadd", "s", "3-0", "f", "v"],
        &["xreadgroup", "group", "g", "alice", "streams", "s", "0"],
        &["xreadgroup", "group", "g", "carol", "streams", "s", ">"],
        &["xdel", "s", "1-0"],
        &["xclaim", "s", "g", "dave", "0", "1", "3-0", "JUSTID"],
        &["xautoclaim", "s", "g", "erin", "0", "0"],
        &["xclaim", "s", "g", "dave", "0", "3-0", "LASTID", "9-0"],
        &["xclaim", "s", "g", "dave", "0", "LASTID", "10-0"],
        &["xack", "s", "g", "3-0"],
        &["xtrim", "s", "MAXLEN", "~", "0"],
        &["xsetid", "s", "20-0"],
        &["xgroup", "createconsumer", "s", "g", "zed"],
        &["xgroup", "delconsumer", "s", "g", "zed"],
        &["xgroup", "setid", "s", "g", "1-0"],
        &["xgroup", "destroy", "s", "g"],
    ];
    for cmd in script {
        run(&mut srv, c, cmd);
    }
    let got = propagated(outbox(&mut srv, replica));
    let expected = [
        "xadd s MAXLEN = 1 1-0 f v",
        "xadd s 2-0 f v",
        "xgroup create s g 0",
        "XCLAIM s g alice 0 1-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 1-0",
        "MULTI",
        "XGROUP CREATECONSUMER s g bob",
        "XGROUP SETID s g 2-0 ENTRIESREAD 2",
        "EXEC",
        "xadd s 3-0 f v",
        "XCLAIM s g carol 0 3-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 3-0",
        "xdel s 1-0",
        "MULTI",
        "XCLAIM s g alice 0 1 TIME T RETRYCOUNT 2 FORCE JUSTID LASTID 3-0",
        "XCLAIM s g dave 0 3-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 3-0",
        "EXEC",
        "XCLAIM s g erin 0 3-0 TIME T RETRYCOUNT 2 FORCE JUSTID LASTID 3-0",
        "XCLAIM s g dave 0 3-0 TIME T RETRYCOUNT 3 FORCE JUSTID LASTID 9-0",
        "XGROUP SETID s g 10-0 ENTRIESREAD 3",
        "xack s g 3-0",
        "xtrim s MAXLEN = 0",
        "xsetid s 20-0",
        "xgroup createconsumer s g zed",
        "xgroup delconsumer s g zed",
        "xgroup setid s g 1-0",
        "xgroup destroy s g",
    ];
    assert_eq!(got, expected);
    // A blocked group reader served by an XADD propagates its XCLAIM right away.
    let reader = client(&mut srv);
    run(&mut srv, c, &["xgroup", "create", "s", "g2", "$"]);
    assert!(run(&mut srv, reader, &["xreadgroup", "group", "g2", "r", "block", "0", "streams", "s", ">"]).is_empty());
    run(&mut srv, c, &["xadd", "s", "30-0", "a", "b"]);
    let got = propagated(outbox(&mut srv, replica));
    assert_eq!(
        got,
        [
            "xgroup create s g2 $",
            "xadd s 30-0 a b",
            "XCLAIM s g2 r 0 30-0 TIME T RETRYCOUNT 1 FORCE JUSTID LASTID 30-0"
        ]
    );
}

#[test]
fn rewrite_commands_rebuild_the_same_stream() {
    let mut srv = server();
    let c = client(&mut srv);
    let setup: &[&[&str]] = &[
        &["xadd", "s", "1-0", "a", "1"],
        &["xadd", "s", "2-0", "a", "2", "b", "3"],
        &["xadd", "s", "3-0", "a", "3"],
        &["xadd", "s", "4-0", "x", "y"],
        &["xdel", "s", "2-0"],
        &["xgroup", "create", "s", "g1", "0"],
        &["xgroup", "create", "s", "g2", "$"],
        &["xreadgroup", "group", "g1", "alice", "count", "2", "streams", "s", ">"],
        &["xreadgroup", "group", "g1", "bob", "noack", "streams", "s", ">"],
        &["xgroup", "createconsumer", "s", "g2", "carol"],
        &["xadd", "e", "MAXLEN", "0", "5-0", "f", "v"],
    ];
    for cmd in setup {
        run(&mut srv, c, cmd);
    }
    let mut fresh = server();
    let fc = client(&mut fresh);
    for key in ["s", "e"] {
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let Some(entry) = srv.dbs[0].peek(key.as_bytes()) else { panic!("no {key}") };
        let Some(crate::types::Object::Stream(s)) = entry.as_object() else { panic!("not a stream") };
        crate::types::stream::rewrite::commands(key.as_bytes(), s, |argv| {
            cmds.push(argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect())
        });
        for cmd in &cmds {
            let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
            let reply = run(&mut fresh, fc, &args);
            assert!(!matches!(reply.first(), Some(Frame::Error(_))), "{cmd:?}: {reply:?}");
        }
        let full = |srv: &mut Server, slot| mask_seen_times(run(srv, slot, &["xinfo", "stream", key, "full"]));
        assert_eq!(run(&mut srv, c, &["xinfo", "groups", key]), run(&mut fresh, fc, &["xinfo", "groups", key]));
        assert_eq!(run(&mut srv, c, &["xrange", key, "-", "+"]), run(&mut fresh, fc, &["xrange", key, "-", "+"]));
        assert_eq!(full(&mut srv, c), full(&mut fresh, fc));
        assert_eq!(run(&mut srv, c, &["xinfo", "stream", key]), run(&mut fresh, fc, &["xinfo", "stream", key]));
    }
}

/// XINFO STREAM FULL with the consumers' seen times zeroed (an AOF rewrite does not keep
/// them, in Redis either).
fn mask_seen_times(frames: Vec<Frame>) -> Vec<Frame> {
    fn walk(f: Frame) -> Frame {
        match f {
            Frame::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut mask = false;
                for item in items {
                    let is_seen = matches!(&item, Frame::Bulk(b) if b == b"seen-time");
                    out.push(if mask { Frame::Integer(0) } else { walk(item) });
                    mask = is_seen;
                }
                Frame::Array(out)
            }
            other => other,
        }
    }
    frames.into_iter().map(walk).collect()
}
