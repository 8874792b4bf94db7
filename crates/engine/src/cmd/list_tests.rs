//! In-process tests of the list family: keyspace events (there is no PSUBSCRIBE command yet,
//! so a subscriber is registered directly), blocked clients served through the engine, and
//! the stats Redis keeps for them. Expected sequences were recorded from redis-server 7.0.15.

use spinel_resp::Frame;

use crate::cmd::test_support::{bulk, client, outbox, run, server};

fn bulks(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

/// (event, key) of each keyevent message in `frames`.
fn keyevents(frames: &[Frame]) -> Vec<(String, String)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Array(parts) if parts.len() == 4 => match (&parts[2], &parts[3]) {
                (Frame::Bulk(chan), Frame::Bulk(key)) => {
                    let chan = String::from_utf8_lossy(chan).into_owned();
                    let event = chan.strip_prefix("__keyevent@0__:")?.to_string();
                    Some((event, String::from_utf8_lossy(key).into_owned()))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn keyspace_events_match_redis() {
    let mut srv = server();
    let (blocked, sub, c) = (client(&mut srv), client(&mut srv), client(&mut srv));
    run(&mut srv, c, &["config", "set", "notify-keyspace-events", "KEA"]);
    let sub_id = srv.clients[sub].id;
    let _ = sub_id;
    crate::pubsub::subscribe(&mut srv, sub, crate::pubsub::Kind::Pattern, &[b"__keyevent@*"]);
    assert!(run(&mut srv, blocked, &["blmove", "src", "dst", "left", "right", "0"]).is_empty());
    let script: &[&[&str]] = &[
        &["rpush", "src", "a"],
        &["rpush", "src", "b", "c"],
        &["blpop", "src", "0"],
        &["lpop", "src"],
        &["rpush", "x", "1", "2", "3"],
        &["ltrim", "x", "1", "1"],
        &["lset", "x", "0", "z"],
        &["linsert", "x", "before", "z", "y"],
        &["lrem", "x", "0", "y"],
        &["lrem", "x", "0", "z"],
        &["rpush", "x", "1", "2"],
        &["lmove", "x", "x", "left", "right"],
        &["lmove", "x", "y", "left", "right"],
        &["lmove", "x", "y", "left", "left"],
        &["lpop", "y", "5"],
        &["rpush", "x", "1"],
        &["lmpop", "1", "x", "left", "count", "3"],
        &["rpush", "x", "1"],
        &["ltrim", "x", "5", "6"],
        &["rpushx", "x", "a"],
        &["lpushx", "nx", "a"],
        &["rpush", "x", "1"],
        &["rpoplpush", "x", "q"],
        &["brpoplpush", "q", "x", "0"],
        &["lrem", "x", "0", "nomatch"],
        &["ltrim", "x", "0", "-1"],
    ];
    for cmd in script {
        run(&mut srv, c, cmd);
    }
    let got = keyevents(&outbox(&mut srv, sub));
    let expected = [
        ("rpush", "src"),
        ("rpush", "dst"),
        ("lpop", "src"),
        ("del", "src"),
        ("rpush", "src"),
        ("lpop", "src"),
        ("lpop", "src"),
        ("del", "src"),
        ("rpush", "x"),
        ("ltrim", "x"),
        ("lset", "x"),
        ("linsert", "x"),
        ("lrem", "x"),
        ("lrem", "x"),
        ("del", "x"),
        ("rpush", "x"),
        ("rpush", "x"),
        ("lpop", "x"),
        ("rpush", "y"),
        ("lpop", "x"),
        ("lpush", "y"),
        ("lpop", "x"),
        ("del", "x"),
        ("lpop", "y"),
        ("del", "y"),
        ("rpush", "x"),
        ("lpop", "x"),
        ("del", "x"),
        ("rpush", "x"),
        ("ltrim", "x"),
        ("del", "x"),
        ("rpush", "x"),
        ("lpush", "q"),
        ("rpop", "x"),
        ("del", "x"),
        ("lpush", "x"),
        ("rpop", "q"),
        ("del", "q"),
        ("ltrim", "x"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(e, k)| (e.to_string(), k.to_string())).collect();
    assert_eq!(got, expected);
    assert_eq!(outbox(&mut srv, blocked), vec![bulk("a")]);
}

#[test]
fn blocked_client_is_served_from_the_key_that_got_data() {
    let mut srv = server();
    let (a, c) = (client(&mut srv), client(&mut srv));
    assert!(run(&mut srv, a, &["blpop", "k1", "k2", "0"]).is_empty());
    assert_eq!(srv.blocked_clients, 1);
    run(&mut srv, c, &["multi"]);
    run(&mut srv, c, &["lpush", "k2", "x"]);
    run(&mut srv, c, &["lpush", "k1", "y"]);
    run(&mut srv, c, &["exec"]);
    assert_eq!(outbox(&mut srv, a), vec![bulks(&["k2", "x"])]);
    assert_eq!(srv.blocked_clients, 0);
    assert_eq!(run(&mut srv, c, &["lrange", "k1", "0", "-1"]), vec![bulks(&["y"])]);
}

#[test]
fn served_and_unblocked_calls_are_counted_like_redis() {
    let mut srv = server();
    let (a, c) = (client(&mut srv), client(&mut srv));
    run(&mut srv, a, &["blpop", "k", "0"]);
    run(&mut srv, c, &["rpush", "k", "v"]);
    assert_eq!(outbox(&mut srv, a), vec![bulks(&["k", "v"])]);
    run(&mut srv, a, &["blpop", "k", "0"]);
    let id = srv.clients[a].id.to_string();
    assert_eq!(run(&mut srv, c, &["client", "unblock", &id, "error"]), vec![Frame::Integer(1)]);
    assert_eq!(outbox(&mut srv, a), vec![Frame::Error(b"UNBLOCKED client unblocked via CLIENT UNBLOCK".to_vec())]);
    let Frame::Bulk(info) = &run(&mut srv, c, &["info", "commandstats"])[0] else { panic!("no info") };
    let info = String::from_utf8_lossy(info);
    assert!(info.contains("cmdstat_blpop:calls=2,"), "{info}");
    assert!(info.contains("rejected_calls=0,failed_calls=1"), "{info}");
    let Frame::Bulk(errors) = &run(&mut srv, c, &["info", "errorstats"])[0] else { panic!("no info") };
    assert!(String::from_utf8_lossy(errors).contains("errorstat_UNBLOCKED:count=1"));
}

#[test]
fn one_push_serves_several_clients_in_order() {
    let mut srv = server();
    let (a, b, c) = (client(&mut srv), client(&mut srv), client(&mut srv));
    run(&mut srv, a, &["blpop", "k", "0"]);
    run(&mut srv, b, &["brpop", "k", "0"]);
    assert_eq!(run(&mut srv, c, &["rpush", "k", "1", "2", "3"]), vec![Frame::Integer(3)]);
    assert_eq!(outbox(&mut srv, a), vec![bulks(&["k", "1"])]);
    assert_eq!(outbox(&mut srv, b), vec![bulks(&["k", "3"])]);
    assert_eq!(run(&mut srv, c, &["lrange", "k", "0", "-1"]), vec![bulks(&["2"])]);
}
