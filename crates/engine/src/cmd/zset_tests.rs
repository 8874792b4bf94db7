//! In-process checks of the sorted-set family against what redis-server 7.0.15 does, where
//! a socket test cannot look: the keyspace events each command queues (the expected lists
//! were recorded from redis-server with `notify-keyspace-events KEA`).

use crate::cmd::table::Found;
use crate::config::Config;
use crate::reply::Reply;
use crate::server::Server;

fn run(srv: &mut Server, slot: usize, line: &str) -> Reply {
    let args: Vec<&[u8]> = line.split_whitespace().map(|a| a.as_bytes()).collect();
    srv.fx.now_ms = crate::util::time::now_ms();
    match srv.commands.lookup(&args) {
        Found::Command(cmd) => crate::dispatch::call(srv, slot, cmd, &args, false),
        _ => panic!("unknown command in {line}"),
    }
}

/// (command, keyevent events it fires as "event key" joined by ", "), from redis-server.
const EVENTS: &[(&str, &str)] = &[
    ("zadd z 1 a 2 b 3 c", "zadd z"),
    ("zadd z 1 a", ""),
    ("zadd z xx 5 nope", ""),
    ("zadd z ch 5 a", "zadd z"),
    ("zincrby z 1 a", "zincr z"),
    ("zadd z incr 1 b", "zincr z"),
    ("zadd z nx incr 1 b", ""),
    ("zrem z nope", ""),
    ("zrem z a", "zrem z"),
    ("zrem z b c", "zrem z, del z"),
    ("zadd z 1 a 2 b 3 c 4 d 5 e", "zadd z"),
    ("zremrangebyrank z 0 0", "zremrangebyrank z"),
    ("zremrangebyrank z 10 20", ""),
    ("zremrangebyscore z 2 2", "zremrangebyscore z"),
    ("zremrangebylex z - (d", "zremrangebylex z"),
    ("zremrangebylex z - +", "zremrangebylex z, del z"),
    ("zadd z 1 a 2 b 3 c", "zadd z"),
    ("zpopmin z", "zpopmin z"),
    ("zpopmax z 5", "zpopmax z, del z"),
    ("zadd z 1 a 2 b 3 c", "zadd z"),
    ("zmpop 1 z min count 2", "zpopmin z"),
    ("zmpop 1 z max count 2", "zpopmax z, del z"),
    ("zadd z 1 a 2 b 3 c", "zadd z"),
    ("bzpopmin z 0", "zpopmin z"),
    ("bzmpop 0 1 z max count 5", "zpopmax z, del z"),
    ("zadd z 1 a 2 b 3 c", "zadd z"),
    ("zadd y 1 a", "zadd y"),
    ("zunionstore u 2 z y", "zunionstore u"),
    ("zinterstore i 2 z y", "zinterstore i"),
    ("zdiffstore d 2 z y", "zdiffstore d"),
    ("zdiffstore d 2 z z", "del d"),
    ("zinterstore i 2 z nokey", "del i"),
    ("zunionstore nokey2 1 nokey", ""),
    ("zrangestore r z 0 1", "zrangestore r"),
    ("zrangestore r z 5 6", "del r"),
    ("zrangestore r z 5 6", ""),
    ("zrangestore r nokey 0 1", ""),
    ("set s x", "set s"),
    ("zrangestore s z 0 0", "zrangestore s"),
    ("zunionstore s 1 z", "zunionstore s"),
    ("copy z zc", "copy_to zc"),
    ("del zc", "del zc"),
];

#[test]
fn keyspace_events_match_redis() {
    let mut srv = Server::new(Config::new());
    let slot = srv.clients.add(0);
    srv.fx.notify_flags = crate::keyspace::notify::parse_flags(b"KEA").expect("valid flags");
    for (line, expected) in EVENTS {
        let reply = run(&mut srv, slot, line);
        assert!(!reply.is_error(), "{line}: {reply:?}");
        let events: Vec<String> = std::mem::take(&mut srv.fx.events)
            .iter()
            .filter(|e| e.class != crate::keyspace::notify::KEY_MISS)
            .map(|e| format!("{} {}", e.event, String::from_utf8_lossy(&e.key)))
            .collect();
        assert_eq!(events.join(", "), *expected, "{line}");
    }
}

#[test]
fn dirty_counts_changes_like_redis() {
    let mut srv = Server::new(Config::new());
    let slot = srv.clients.add(0);
    let dirty = |srv: &mut Server, line: &str| {
        let before = srv.fx.dirty;
        run(srv, slot, line);
        srv.fx.dirty - before
    };
    assert_eq!(dirty(&mut srv, "zadd z 1 a 2 b 3 c"), 3);
    assert_eq!(dirty(&mut srv, "zadd z ch 1 a 5 b 7 d"), 2);
    assert_eq!(dirty(&mut srv, "zrem z a nope"), 1);
    assert_eq!(dirty(&mut srv, "zpopmin z 2"), 2);
    assert_eq!(dirty(&mut srv, "zunionstore u 1 z"), 1);
    assert_eq!(dirty(&mut srv, "zremrangebyscore z -inf +inf"), 1);
}
